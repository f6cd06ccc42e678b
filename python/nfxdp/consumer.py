# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
"""A consumer of nfxdp's ZeroMQ stream.

Each message is two frames: the topic ``b"flows"``, then a packed FlowBatch;
or, from an agent run with --compress, ``b"flowsz"`` and the batch
zlib-compressed. (The agent's counters go on the topic ``b"stats"``, as JSON.)
Batches carry the agent's name, a random ``stream_id`` per collector start
and a ``sequence`` number per batch: a gap means batches were lost (a slow
subscriber's are dropped by the agent, never waited for), a new stream_id
means the agent restarted.
"""
import collections
import logging
import time
import zlib

from . import schema

DecodeError = schema.need("google.protobuf.message").DecodeError

DEFAULT_ENDPOINT = "tcp://127.0.0.1:5556"
# A subscription matches topics by prefix: b"flows" takes both of these.
TOPIC = b"flows"
DECODERS = {b"flows": bytes, b"flowsz": zlib.decompress}

log = logging.getLogger("nfxdp")


StreamEvent = collections.namedtuple("StreamEvent", "kind agent stream_id expected sequence lost")
StreamEvent.__doc__ = """kind: "join" (first batch of a stream seen), "gap" (lost batches),
"restart" (new stream_id for an agent), "reorder" (a sequence number already passed)."""


SEQ_SPACE = 1 << 64  # batch sequence numbers are uint64


class StreamTracker:
    """Follows each agent's sequence numbers: gaps, restarts, counts."""

    def __init__(self):
        self.next_seq = {}  # stream_id -> sequence expected next
        self.stream_of = {}  # (agent, interface) -> its current stream_id
        self.batches = self.flows = 0
        self.gaps = self.lost_batches = self.restarts = self.reordered = 0

    def update(self, batch):
        """Takes one batch; returns the events it shows, in order."""
        events = []
        source = (batch.agent, batch.interface)
        sid, seq = batch.stream_id, batch.sequence
        old = self.stream_of.get(source)
        if old is not None and old != sid:
            self.restarts += 1
            events.append(StreamEvent("restart", batch.agent, sid, None, seq, 0))
        self.stream_of[source] = sid
        expected = self.next_seq.get(sid)
        # Sequences wrap at 2^64: RFC 1982 serial numbers, the distance read as signed.
        ahead = (seq - expected) % SEQ_SPACE if expected is not None else 0
        if expected is None:
            events.append(StreamEvent("join", batch.agent, sid, None, seq, 0))
        elif 0 < ahead < SEQ_SPACE // 2:
            self.gaps += 1
            self.lost_batches += ahead
            events.append(StreamEvent("gap", batch.agent, sid, expected, seq, ahead))
        elif ahead:
            self.reordered += 1
            events.append(StreamEvent("reorder", batch.agent, sid, expected, seq, 0))
        self.next_seq[sid] = expected if ahead >= SEQ_SPACE // 2 else (seq + 1) % SEQ_SPACE
        self.batches += 1
        self.flows += len(batch.flows)
        return events

    def stats(self):
        return {"batches": self.batches, "flows": self.flows, "gaps": self.gaps,
                "lost_batches": self.lost_batches, "restarts": self.restarts,
                "reordered": self.reordered, "streams": len(self.next_seq)}


class Streamer:
    """nfxdp's stream, the way NFStream's NFStreamer reads an interface.

    ``Streamer("tcp://127.0.0.1:5556").to_pandas()`` gives a DataFrame with
    NFStream's column names. ``source`` may also be a list of endpoints:
    one socket then reads several agents (or forwarders), fair-queued.
    The socket subscribes at construction, so flows exported from then on
    are received. (NFStreamer takes NFStream's parameters; this class is
    the subscriber alone.)
    """

    def __init__(self, source=DEFAULT_ENDPOINT, topic=TOPIC, max_nflows=0, on_event=None,
                 context=None, rcvhwm=10000):
        zmq = schema.need("zmq")
        self._zmq = zmq
        self.source = source
        self.max_nflows = max_nflows
        self.on_event = on_event
        self.tracker = StreamTracker()
        self.bad_messages = 0
        self._ctx = context or zmq.Context.instance()
        self._sock = self._ctx.socket(zmq.SUB)
        self._sock.setsockopt(zmq.RCVHWM, rcvhwm)
        self._sock.setsockopt(zmq.LINGER, 0)
        for endpoint in [source] if isinstance(source, str) else source:
            self._sock.connect(endpoint)
        self._sock.setsockopt(zmq.SUBSCRIBE, topic)
        self._topic = topic

    def close(self):
        self._sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    @property
    def stats(self):
        """Batches and flows received, gaps, batches lost, restarts."""
        return dict(self.tracker.stats(), bad_messages=self.bad_messages)

    def _event(self, ev):
        if ev.kind == "gap":
            log.warning("agent %s: %d batch(es) lost (sequence %d, expected %d)", ev.agent,
                        ev.lost, ev.sequence, ev.expected)
        elif ev.kind == "restart":
            log.warning("agent %s restarted (stream %x)", ev.agent, ev.stream_id)
        if self.on_event:
            self.on_event(ev)

    def _receive(self, wait_ms):
        """One decoded batch, or None when nothing came within wait_ms."""
        if not self._sock.poll(wait_ms):
            return None
        frames = self._sock.recv_multipart(self._zmq.NOBLOCK)
        if len(frames) != 2 or frames[0] not in DECODERS:
            self.bad_messages += 1
            return None
        try:
            return schema.decode_batch(DECODERS[frames[0]](frames[1]))
        except (DecodeError, zlib.error):
            self.bad_messages += 1
            return None

    def batches(self, max_batches=None, timeout=None, idle_timeout=None):
        """FlowBatch messages as they come.

        Stops after max_batches, after timeout seconds in all, or after
        idle_timeout seconds without a batch; None: never.
        """
        start = last = time.monotonic()
        n = 0
        while max_batches is None or n < max_batches:
            now = time.monotonic()
            left = [t for t in (timeout and start + timeout - now,
                                idle_timeout and last + idle_timeout - now) if t is not None]
            if left and min(left) <= 0:
                return
            wait_ms = int(min(left) * 1000) + 1 if left else 1000
            batch = self._receive(min(wait_ms, 1000))
            if batch is None:
                continue
            last = time.monotonic()
            for ev in self.tracker.update(batch):
                self._event(ev)
            n += 1
            yield batch

    def iter_flows(self, max_flows=None, timeout=None, idle_timeout=None):
        """Flow messages (attributes named like NFStream's: flow.src_ip, ...)."""
        limit = max_flows or self.max_nflows or None
        n = 0
        for batch in self.batches(timeout=timeout, idle_timeout=idle_timeout):
            for flow in batch.flows:
                yield flow
                n += 1
                if limit and n >= limit:
                    return

    def __iter__(self):
        return self.iter_flows()

    def rows(self, max_flows=None, timeout=None, idle_timeout=None):
        """Flows as dicts of the columns their batch carries, and those columns."""
        limit = max_flows or self.max_nflows or None
        rows, shown = [], set()
        try:
            for batch in self.batches(timeout=timeout, idle_timeout=idle_timeout):
                cols = schema.columns_for(batch)
                shown.update(cols)
                for flow in batch.flows:
                    if limit and len(rows) >= limit:
                        break
                    rows.append(schema.flow_to_dict(flow, cols))
                if limit and len(rows) >= limit:
                    break
        except KeyboardInterrupt:
            pass  # like NFStream on a live interface: what came so far
        order = [f.name for f in schema.flow_fields() if f.name in shown]
        return rows, order or schema.columns_for(statistical=False, splt=False)

    def to_pandas(self, max_flows=None, timeout=None, idle_timeout=None):
        """A DataFrame of the flows, NFStream's column names in its order."""
        pd = schema.need("pandas")
        rows, columns = self.rows(max_flows, timeout, idle_timeout)
        return pd.DataFrame(rows, columns=columns)

