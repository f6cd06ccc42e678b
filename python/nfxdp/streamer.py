# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
"""NFStreamer: NFStream's streamer, metered by nfxdp.

    from nfxdp import NFStreamer        # was: from nfstream import NFStreamer
    df = NFStreamer(source="trace.pcap").to_pandas()

For a capture file, a list of them (one capture) or an interface name,
NFStreamer runs nfxdp itself (``nfxdp --pcap FILE... | --iface IFACE
--output - --format pb``) and reads its records through a pipe: no race
with a PUB/SUB socket, and the iteration ends where nfxdp's stream ends
(its end-of-stream batch, docs/stream.md). A ZeroMQ endpoint (``tcp://``,
``ipc://``) subscribes to a running agent instead, as before.

NFStream's parameters keep NFStream's meaning, each turned into nfxdp's
option, or are refused with a ValueError naming the parameter: nothing is
silently ignored.
"""
import hashlib
import os
import secrets
import shutil
import signal
import socket
import struct
import subprocess
import tempfile
import threading
import warnings

from . import schema
from .consumer import DEFAULT_ENDPOINT, Streamer

# What ZeroMQ connects to: such a source is an agent to subscribe to.
ENDPOINT_SCHEMES = ("tcp://", "ipc://", "inproc://", "pgm://", "epgm://", "ws://", "wss://")
ACCOUNTING = ("link", "ip", "transport", "payload")  # NFStream's accounting_mode 0..3
SPLT_MAX = 32  # nfxdp --splt N: N <= 32
SNAPLEN_MIN = 34  # Ethernet and IPv4 headers: less parses nothing
PARSE_WINDOW = 256  # nfxdp reads at most this much of a frame: a larger snaplen changes nothing
# nfxdp's expiration_id 5 (overflow: a packet the full cache had no room for, exported
# alone) has no NFStream equivalent but its 3 (emergency), which NFStreamer reports.
EXPIRATION_OVERFLOW = 5
EXPIRATION_EMERGENCY = 3

# linux/if_packet.h: a packet socket's membership keeps an interface
# promiscuous while the socket is open (libpcap's way), undone by the kernel
# when it closes, however the process ends.
SOL_PACKET = 263
PACKET_ADD_MEMBERSHIP = 1
PACKET_MR_PROMISC = 1


class NFXDPWarning(UserWarning):
    """What nfxdp said on stderr besides its counters."""


def find_nfxdp():
    """The nfxdp binary: $NFXDP, then the build/ of this package's checkout, then PATH."""
    env = os.environ.get("NFXDP")
    if env:
        if not (os.path.isfile(env) and os.access(env, os.X_OK)):
            raise FileNotFoundError(f"NFXDP={env}: not an executable file")
        return env
    built = os.path.join(schema._TOP, "build", "nfxdp")
    if os.path.isfile(built) and os.access(built, os.X_OK):
        return built
    found = shutil.which("nfxdp")
    if found:
        return found
    raise FileNotFoundError("nfxdp not found: set NFXDP=/path/to/nfxdp, run 'make' in the "
                            "checkout this package comes from, or put nfxdp on PATH")


def _nfstream_expiration(row):
    """A record's row with NFStream's expiration_id (see EXPIRATION_OVERFLOW)."""
    if row.get("expiration_id") == EXPIRATION_OVERFLOW:
        row["expiration_id"] = EXPIRATION_EMERGENCY
    return row


def _whole(name, value, lo, hi=None, what=""):
    """An int parameter in [lo, hi], as NFStream checks it."""
    if isinstance(value, bool) or not isinstance(value, int) or value < lo or \
            (hi is not None and value > hi):
        bound = f"{lo}..{hi}" if hi is not None else f">= {lo}"
        raise ValueError(f"Please specify a valid {name} parameter ({what or bound}).")
    return value


def _flag(name, value):
    if not isinstance(value, bool):
        raise ValueError(f"Please specify a valid {name} parameter (possible values: True, False).")
    return value


def _refuse(name, value, why):
    raise ValueError(f"{name}={value!r}: {why}")


def _is_endpoint(source):
    items = source if isinstance(source, (list, tuple)) else [source]
    return bool(items) and all(isinstance(s, str) and s.startswith(ENDPOINT_SCHEMES)
                               for s in items)


def _interface_exists(name):
    return "/" not in name and os.path.exists(os.path.join("/sys/class/net", name))


def read_batches(f):
    """The FlowBatch messages of a pb stream (varint length, message) read from @f."""
    while True:
        length = shift = 0
        while True:
            b = f.read(1)
            if not b:
                if shift:
                    raise EOFError("nfxdp's stream ends in the middle of a batch length")
                return
            length |= (b[0] & 0x7F) << shift
            shift += 7
            if not b[0] & 0x80:
                break
        data = f.read(length)
        if len(data) < length:
            raise EOFError("nfxdp's stream ends in the middle of a batch")
        yield schema.decode_batch(data)


# ---- nfxdp's CSV, cell for cell (user/record/format.c) --------------------------------

def _escaped(text):
    """Control characters, C1 and backslashes as \\xHH and \\\\, as nfxdp writes strings."""
    raw = text.encode("utf-8", "surrogateescape")
    if not any(b < 0x20 or b == 0x7F or b == 0x5C or b == 0xC2 for b in raw):
        return text
    out, i = [], 0
    while i < len(raw):
        b = raw[i]
        if b == 0x5C:
            out.append("\\\\")
        elif b < 0x20 or b == 0x7F:
            out.append(f"\\x{b:02x}")
        elif b == 0xC2 and i + 1 < len(raw) and 0x80 <= raw[i + 1] <= 0x9F:
            out.append(f"\\x{b:02x}\\x{raw[i + 1]:02x}")
            i += 1
        else:
            j = i + 1
            while j < len(raw) and (raw[j] & 0xC0) == 0x80:
                j += 1
            out.append(raw[i:j].decode("utf-8", "surrogateescape"))
            i = j - 1
        i += 1
    return "".join(out)


def _scalar_text(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        t = "%.15g" % value
        return t if float(t) == value else "%.17g" % value
    if isinstance(value, int):
        return str(value)
    return _escaped(value)


def cell_text(value):
    """A value as a CSV cell of nfxdp's: lists as [a, b], quoted when it holds , or "."""
    if isinstance(value, list):
        text = "[" + ", ".join(_scalar_text(v) for v in value) + "]"
    else:
        text = _scalar_text(value)
    if "," in text or '"' in text:
        return '"' + text.replace('"', '""') + '"'
    return text


class Anonymizer:
    """NFStream's: each value of the columns, as text, hashed with BLAKE2b (64-byte
    digest, hex) keyed by 64 random bytes drawn for this run. Equal values give equal
    digests within a run, and different ones in the next run."""

    def __init__(self, columns, known):
        unknown = [c for c in columns if c not in known]
        if unknown:
            # NFStream warns and leaves such a column in clear; a typo must not leak it.
            raise ValueError(f"columns_to_anonymize: no such column: {', '.join(unknown)}")
        self.columns = set(columns)
        self._key = secrets.token_bytes(64)

    def __call__(self, row):
        for c in self.columns.intersection(row):
            if row[c] is not None:
                row[c] = hashlib.blake2b(str(row[c]).encode(), digest_size=64,
                                         key=self._key).hexdigest()
        return row


class NFStreamer:
    """NFStream's NFStreamer with nfxdp metering (see the module's text).

    Parameters as NFStream's, defaults as NFStream's but n_dissections: 0 (off)
    here, as nfxdp's --dpi (it costs collector CPU per flow and makes capture
    replay go frame by frame); n_dissections=20 is NFStream's default and
    gives its application columns (nDPI 4.2). nfxdp's own: ``on_event`` (a ZeroMQ
    source's gaps and restarts), ``nfxdp_options`` (more of nfxdp's command
    line, e.g. ``["--max-flows", "4096"]``). The flows come out with
    ``expiration_id`` 4 where the capture's end flushed them (NFStream: 0), and 3
    (emergency) where nfxdp's records say 5 (overflow: a packet the full cache had no
    room for, exported alone).
    """

    def __init__(self, source=None, decode_tunnels=True, bpf_filter=None,
                 promiscuous_mode=True, snapshot_length=1536, socket_buffer_size=0,
                 idle_timeout=120, active_timeout=1800, accounting_mode=0, udps=None,
                 n_dissections=0, statistical_analysis=False, splt_analysis=0, n_meters=0,
                 max_nflows=0, performance_report=0, system_visibility_mode=0,
                 system_visibility_poll_ms=100, system_visibility_extension_port=28314,
                 on_event=None, nfxdp_options=(), **stream_options):
        self.decode_tunnels = _flag("decode_tunnels", decode_tunnels)
        if bpf_filter is not None and not isinstance(bpf_filter, str):
            raise ValueError("Please specify a valid bpf_filter format.")
        self.bpf_filter = bpf_filter
        self.promiscuous_mode = _flag("promiscuous_mode", promiscuous_mode)
        self.snapshot_length = _whole("snapshot_length", snapshot_length, 1,
                                      what="positive integer")
        if snapshot_length < SNAPLEN_MIN:
            _refuse("snapshot_length", snapshot_length, f"nfxdp reads at least {SNAPLEN_MIN} "
                    "bytes of a frame (Ethernet and IPv4 headers), or it could parse none")
        _whole("socket_buffer_size", socket_buffer_size, 0, 2**31 - 1)
        if socket_buffer_size:
            _refuse("socket_buffer_size", socket_buffer_size, "nfxdp meters in the kernel "
                    "(XDP), through no capture socket: there is no buffer to size")
        self.idle_timeout = _whole("idle_timeout", idle_timeout, 0,
                                   what="positive integer in seconds")
        self.active_timeout = _whole("active_timeout", active_timeout, 0,
                                     what="positive integer in seconds")
        for name, value in (("idle_timeout", idle_timeout), ("active_timeout", active_timeout)):
            if value == 0:
                _refuse(name, 0, "in NFStream a flow then ends at its next packet; nfxdp has "
                        "no such timeout (its 0 means never)")
        self.accounting_mode = _whole("accounting_mode", accounting_mode, 0, 3,
                                      what="possible values: 0, 1, 2, 3")
        if udps not in (None, (), []):
            _refuse("udps", udps, "NFStream's plugins (NFPlugin) run Python on every packet; "
                    "nfxdp meters in the kernel and has no plugin interface")
        self.n_dissections = _whole("n_dissections", n_dissections, 0, 255)
        self.statistical_analysis = _flag("statistical_analysis", statistical_analysis)
        self.splt_analysis = _whole("splt_analysis", splt_analysis, 0, 65535)
        if splt_analysis > SPLT_MAX:
            _refuse("splt_analysis", splt_analysis,
                    f"nfxdp keeps the first {SPLT_MAX} packets of a flow at most")
        _whole("n_meters", n_meters, 0, what=">=1 or 0 for auto scaling")
        if n_meters:
            _refuse("n_meters", n_meters, "nfxdp meters on every CPU in the kernel, in one "
                    "flow cache: there are no meter processes to count (leave it 0)")
        self.max_nflows = _whole("max_nflows", max_nflows, 0)
        _whole("performance_report", performance_report, 0)
        if performance_report:
            _refuse("performance_report", performance_report, "not in nfxdp's Python side: "
                    "nfxdp's counters are in .stats at the end, and nfxdp_options=['--stats', "
                    "'S'] prints them every S seconds on stderr")
        _whole("system_visibility_mode", system_visibility_mode, 0, 1)
        if system_visibility_mode:
            _refuse("system_visibility_mode", system_visibility_mode,
                    "nfxdp does not match flows to processes")
        _whole("system_visibility_poll_ms", system_visibility_poll_ms, 0)
        _whole("system_visibility_extension_port", system_visibility_extension_port, 0, 65535)
        self.nfxdp_options = list(nfxdp_options)
        self._end = None
        self._log = ""
        self._sub = None
        self._set_source(source, on_event, stream_options)

    # ---- the source -------------------------------------------------------------------

    def _set_source(self, source, on_event, stream_options):
        if source is not None and _is_endpoint(source):
            self._mode = "endpoint"
            self._check_endpoint_options()
            self._sub = Streamer(source, max_nflows=self.max_nflows, on_event=on_event,
                                 **stream_options)
            self.source = source
            return
        if stream_options or on_event:
            raise TypeError("on_event and " + ", ".join(stream_options) + " are for a ZeroMQ "
                            "source (tcp://, ipc://) only")
        if isinstance(source, list):
            if not source:
                raise ValueError("Please provide a non-empty list of sources.")
            files = []
            for i, s in enumerate(source):
                try:
                    path = os.fspath(s)
                except TypeError:
                    path = None
                if not isinstance(path, str) or not os.path.isfile(path):
                    raise ValueError(f"Invalid pcap file path at index: {i}.")
                files.append(path)
            self._mode, self.source = "files", files
            return
        try:
            value = os.fspath(source)
        except TypeError:
            value = None
        if isinstance(value, str) and os.path.isfile(value):
            self._mode, self.source = "files", value
        elif isinstance(value, str) and _interface_exists(value):
            self._mode, self.source = "interface", value
        else:
            raise ValueError("Please specify a pcap file path or a valid network interface "
                             "name as source (or a ZeroMQ endpoint, e.g. "
                             f"{DEFAULT_ENDPOINT}).")

    def _check_endpoint_options(self):
        """A ZeroMQ source was metered by its agent: metering options cannot apply."""
        agent = {"decode_tunnels": (True, "--decode-tunnels"), "bpf_filter": (None, "--filter"),
                 "snapshot_length": (1536, "--snaplen"), "idle_timeout": (120, "--idle-timeout"),
                 "active_timeout": (1800, "--active-timeout"),
                 "accounting_mode": (0, "--accounting"),
                 "statistical_analysis": (False, "--statistical"),
                 "splt_analysis": (0, "--splt"), "n_dissections": (0, "--dpi")}
        for name, (default, option) in agent.items():
            if getattr(self, name) != default:
                _refuse(name, getattr(self, name), "a ZeroMQ source is metered by its agent: "
                        f"give nfxdp {option} there")
        if self.nfxdp_options:
            _refuse("nfxdp_options", self.nfxdp_options, "a ZeroMQ source's agent has its own")

    def _command(self):
        files = self.source if isinstance(self.source, list) else [self.source]
        cmd = [find_nfxdp()]
        cmd += ["--pcap", *files] if self._mode == "files" else ["--iface", self.source]
        cmd += ["--natural-expiry", "off",  # NFStream has none: FIN and RST only count
                "--decode-tunnels", "on" if self.decode_tunnels else "off",
                "--idle-timeout", str(self.idle_timeout),
                "--active-timeout", str(self.active_timeout),
                "--accounting", ACCOUNTING[self.accounting_mode]]
        if self.snapshot_length < PARSE_WINDOW:
            cmd += ["--snaplen", str(self.snapshot_length)]
        if self.bpf_filter is not None:
            cmd += ["--filter", self.bpf_filter]
        if self.statistical_analysis:
            cmd.append("--statistical")
        if self.splt_analysis:
            cmd += ["--splt", str(self.splt_analysis)]
        if self.n_dissections:
            cmd += ["--dpi", str(self.n_dissections)]
        return cmd + self.nfxdp_options + ["--output", "-", "--format", "pb"]

    # ---- running nfxdp ------------------------------------------------------------------

    def _promiscuous(self):
        """A packet socket holding the interface promiscuous (NFStream's default), or None."""
        if self._mode != "interface" or not self.promiscuous_mode:
            return None
        s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, 0)  # protocol 0: receives nothing
        try:
            mreq = struct.pack("iHH8s", socket.if_nametoindex(self.source), PACKET_MR_PROMISC,
                               0, b"")
            s.setsockopt(SOL_PACKET, PACKET_ADD_MEMBERSHIP, mreq)
        except OSError as e:
            s.close()
            raise OSError(e.errno, f"promiscuous_mode=True: Couldn't make {self.source} "
                          f"promiscuous: {e.strerror}") from e
        return s

    def _batches(self):
        """nfxdp's batches, until its end-of-stream batch; its counters in .stats."""
        err = tempfile.TemporaryFile()
        promisc = self._promiscuous()
        proc = subprocess.Popen(self._command(), stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=err)
        old = self._on_interrupt(proc)
        ended = False
        try:
            for batch in read_batches(proc.stdout):
                if batch.end_of_stream:
                    self._end = {c.name: c.value for c in batch.counters}
                    ended = True
                    break
                yield batch
        finally:
            if not ended and proc.poll() is None:
                proc.terminate()  # stopped early: nfxdp detaches and exits
            proc.stdout.close()
            rc = proc.wait()
            if old is not None:
                signal.signal(signal.SIGINT, old)
            if promisc:
                promisc.close()
            err.seek(0)
            self._log = err.read().decode("utf-8", "replace")
            err.close()
        self._check_exit(rc, ended)

    def _on_interrupt(self, proc):
        """Live: Ctrl-C ends nfxdp's stream (it flushes every flow), not the reading."""
        if self._mode != "interface" or threading.current_thread() is not threading.main_thread():
            return None
        return signal.signal(signal.SIGINT, lambda sig, frame: proc.send_signal(signal.SIGTERM))

    def _said(self):
        """nfxdp's messages on stderr, its stats lines left out."""
        lines, in_stats = [], False
        for line in self._log.splitlines():
            in_stats = line.startswith("nfxdp: stats (") or (in_stats and
                                                           line.startswith("nfxdp:   "))
            if not in_stats and line.strip():
                lines.append(line)
        return lines

    def _check_exit(self, rc, ended):
        said = self._said()
        if rc == 2:  # refused its options: which NFStream parameter, when it says
            text = "\n".join(said)
            if "--filter" in text and self.bpf_filter is not None:
                raise ValueError(f"bpf_filter={self.bpf_filter!r}: {text}")
            raise ValueError(f"nfxdp refused its options ({' '.join(self._command()[1:])}):\n"
                             + text)
        if not ended:
            raise RuntimeError(f"nfxdp ended (exit status {rc}) before the end of its stream: "
                               "flows may be missing\n" + "\n".join(said))
        for line in said:
            warnings.warn(line, NFXDPWarning, stacklevel=4)

    @property
    def stats(self):
        """A run's final counters (nfxdp's end of stream: frames_seen, flows_exported, ...);
        a ZeroMQ source's batches, flows, gaps and restarts."""
        if self._sub is not None:
            return self._sub.stats
        return dict(self._end or {})

    # ---- NFStream's interface -----------------------------------------------------------

    def _flow_batches(self):
        """(batch, flows to take) pairs, up to max_nflows flows."""
        source = self._sub.batches() if self._sub is not None else self._batches()
        try:
            yield from self._limited(((b, list(b.flows)) for b in source), None,
                                     interruptible=False)
        finally:
            source.close()

    def __iter__(self):
        """Flow messages (attributes named like NFStream's: flow.src_ip, ...)."""
        for _, flows in self._flow_batches():
            for flow in flows:
                if flow.expiration_id == EXPIRATION_OVERFLOW:
                    flow.expiration_id = EXPIRATION_EMERGENCY
                yield flow

    def _rows(self, columns_to_anonymize, batches):
        """(columns, rows as dicts) of the flows, anonymized as asked."""
        known = [f.name for f in schema.flow_fields()]
        anon = Anonymizer(columns_to_anonymize, known) if columns_to_anonymize else None
        columns, rows = None, []
        for batch, flows in batches:
            columns = columns or schema.columns_for(batch)
            for flow in flows:
                row = _nfstream_expiration(schema.flow_to_dict(flow, columns))
                rows.append(anon(row) if anon else row)
        return columns, rows

    def to_pandas(self, columns_to_anonymize=(), max_flows=None, timeout=None,
                  idle_timeout=None):
        """A DataFrame of the flows, NFStream's column names in its order; None without any
        flow (as NFStream). max_flows, timeout, idle_timeout: a ZeroMQ source's bounds."""
        pd = schema.need("pandas")
        if self._sub is not None:
            batches = ((b, list(b.flows)) for b in self._sub.batches(
                timeout=timeout, idle_timeout=idle_timeout))
            columns, rows = self._rows(columns_to_anonymize, self._limited(batches, max_flows))
        else:
            if (max_flows, timeout, idle_timeout) != (None, None, None):
                raise TypeError("max_flows, timeout and idle_timeout bound a ZeroMQ source; "
                                "use max_nflows=N")
            columns, rows = self._rows(columns_to_anonymize, self._flow_batches())
        if self._sub is not None:
            columns = columns or schema.columns_for(statistical=False, splt=False)
            return pd.DataFrame(rows, columns=columns)
        return pd.DataFrame(rows, columns=columns) if rows else None

    def _limited(self, batches, max_flows, interruptible=True):
        """The batches' flows up to max_flows (else max_nflows); interruptible: Ctrl-C ends
        them with what came so far, like NFStream on a live interface."""
        left = max_flows or self.max_nflows or None
        try:
            for batch, flows in batches:
                if left is not None:
                    flows = flows[:left]
                    left -= len(flows)
                yield batch, flows
                if left == 0:
                    return
        except KeyboardInterrupt:
            if not interruptible:
                raise

    def to_csv(self, path=None, columns_to_anonymize=(), flows_per_file=0, rotate_files=0):
        """The flows as nfxdp's CSV (the same bytes as ``nfxdp --output F --format csv``,
        but expiration_id 5, overflow, written as NFStream's 3);
        returns how many. path: SOURCE.csv by default (the first file of a list);
        flows_per_file N: files PATH.0.csv, PATH.1.csv, ... (the index before .csv) of N
        flows each; rotate_files R: R files at most, the oldest overwritten."""
        _whole("flows_per_file", flows_per_file, 0, what=">= 0")
        _whole("rotate_files", rotate_files, 0, what=">= 0")
        if path is None:
            first = self.source[0] if isinstance(self.source, list) else self.source
            if self._sub is not None:
                raise ValueError("to_csv() of a ZeroMQ source needs a path")
            path = str(first) + ".csv"
        known = [f.name for f in schema.flow_fields()]
        anon = Anonymizer(columns_to_anonymize, known) if columns_to_anonymize else None
        writer = _CsvFiles(path, flows_per_file, rotate_files)
        batches = self._flow_batches() if self._sub is None else \
            self._limited(((b, list(b.flows)) for b in self._sub.batches()), None)
        total = 0
        try:
            for batch, flows in batches:
                columns = schema.columns_for(batch)
                for flow in flows:
                    row = _nfstream_expiration(schema.flow_to_dict(flow, columns))
                    writer.write(columns, anon(row) if anon else row)
                    total += 1
        finally:
            writer.close()
        return total

    def close(self):
        if self._sub is not None:
            self._sub.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class _CsvFiles:
    """NFStream's to_csv files: one, or chunks of N flows, each with its header."""

    def __init__(self, path, per_file, rotate):
        self.path, self.per_file, self.rotate = path, per_file, rotate
        self.f, self.index, self.in_file = None, -1, 0

    def _name(self):
        i = self.index % self.rotate if self.rotate else self.index
        if not self.per_file:
            return self.path
        if self.path.endswith(".csv"):
            return f"{self.path[:-4]}.{i}.csv"
        return f"{self.path}.{i}"

    def write(self, columns, row):
        if self.f is None or (self.per_file and self.in_file == self.per_file):
            self.close()
            self.index += 1
            self.in_file = 0
            self.f = open(self._name(), "w", encoding="utf-8", newline="")
            self.f.write(",".join(columns) + "\n")
        self.f.write(",".join(cell_text(row[c]) for c in columns) + "\n")
        self.in_file += 1

    def close(self):
        if self.f is not None:
            self.f.close()
            self.f = None
