#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# IPFIX export against real collectors. Reference captures go through
# nfxdp --pcap into a CSV and a pb file; the pb file goes through the IPFIX
# exporter (tests/tools/ipfix_send) to nfdump's nfcapd and pmacct's nfacctd
# on loopback, and every flow they store must be nfxdp's: addresses, ports,
# packets and bytes in both directions, the biflow's times (RFC 5103),
# flags, MACs, VLAN; for
# nfacctd also the flow id, end reason, reverse times and flags and nfxdp's
# enterprise elements. Then an independent decoder (Python, below) checks
# what collectors do not show: template refresh over UDP, sequence numbers,
# the observation domain, TCP with templates once per connection, and a
# reconnect after the collector drops the connection.
SUITE=e2e-ipfix
. "$(dirname "$0")/lib.sh"
need_root
need_ref

SEND=$B/tests/ipfix_send
CAPTURES=(skype.pcap 1kxun.pcap mdns.pcap 6in4tunnel.pcap 4in4tunnel.pcap gtp-u.pcap capwap.pcap)

need_tools "$SEND" nfcapd nfdump nfacctd python3

# --- helpers -------------------------------------------------------------------


# drained PORT: the UDP socket on PORT has read every datagram sent to it.
drained() { [ -n "$(ss -Huln "sport = :$1" | awk '$2 == 0')" ]; }

# stop PID [SIGNAL]: the collector flushes what it holds and exits; reap it.
stop() {
	kill "-${2:-TERM}" "$1" 2>/dev/null
	wait "$1" 2>/dev/null
}

# nfacctd ends on SIGINT only (pmacct's docs/SIGNALS): lib.sh's cleanup
# sends SIGTERM and waits, so any nfacctd still running gets SIGINT first.
NFACCTD_PIDS=()
trap 'for p in "${NFACCTD_PIDS[@]}"; do kill -INT "$p" 2>/dev/null; done; cleanup' EXIT

# counter LINE NAME: NAME=value from ipfix_send's summary line.
counter() {
	echo "$1" | grep -o "\b$2=[0-9-]*" | cut -d= -f2
}

# IP bytes: octetDeltaCount is what collectors show, and it holds IP bytes
# only (test_ipfix_semantics.sh checks the other --accounting modes).
meter() {
	"$NFXDP" --pcap "$1" --natural-expiry off --no-zmq --accounting ip "${@:2}" 2>>"$T/nfxdp.err"
}

cat >"$T/ipfix.py" <<'EOF'
# Compares what collectors stored with nfxdp's CSV, and decodes IPFIX itself
# (UDP datagrams or a TCP stream) to check the message layer.
import csv, datetime, ipaddress, json, os, re, select, socket, struct, sys, time
from ipfixdec import NFX, REV, parse_message
PROTO = os.environ["NFXDP_PROTO"]
END_REASON = {0: 1, 1: 2, 2: 3, 3: 5, 4: 4}

def ip(s):
    return str(ipaddress.ip_address(s))

def expected(path):
    return {int(r["id"]): r for r in csv.DictReader(open(path, newline=""))}

def flags(s):
    return sum(128 >> i for i, c in enumerate(s) if c != ".")

def utc_ms(s):
    d = datetime.datetime.strptime(s, "%Y-%m-%dT%H:%M:%S.%f")
    return int(d.replace(tzinfo=datetime.timezone.utc).timestamp() * 1000 + 0.5)

def epoch_ms(s):
    sec, _, frac = s.partition(".")
    return int(sec) * 1000 + int((frac + "000")[:3])

def nfx_key(r):
    return (ip(r["src_ip"]), ip(r["dst_ip"]), int(r["src_port"]), int(r["dst_port"]),
            int(r["protocol"]), int(r["src2dst_packets"]), int(r["src2dst_bytes"]),
            int(r["dst2src_packets"]), int(r["dst2src_bytes"]),
            int(r["bidirectional_first_seen_ms"]), int(r["bidirectional_last_seen_ms"]),
            int(r["src2dst_tcp_flags"]), r["src_mac"], r["dst_mac"], int(r["vlan_id"]))

def report(name, got, want):
    """Prints matched/expected; the first differences on stderr."""
    want_left = list(want)
    matched = 0
    extra = []
    for g in got:
        if g in want_left:
            want_left.remove(g)
            matched += 1
        else:
            extra.append(g)
    for g in extra[:3]:
        print(f"  {name} stored, nfxdp has no such flow: {g}", file=sys.stderr)
    for w in want_left[:3]:
        print(f"  {name} lacks nfxdp's flow: {w}", file=sys.stderr)
    print(f"{matched}/{len(want)} {len(got)}")

def cmp_nfdump(csv_path, json_path):
    want = [nfx_key(r) for r in expected(csv_path).values()]
    got = []
    for j in json.load(open(json_path)):
        src = j.get("src4_addr") or j.get("src6_addr")
        dst = j.get("dst4_addr") or j.get("dst6_addr")
        got.append((ip(src), ip(dst), j.get("src_port", 0), j.get("dst_port", 0), j["proto"],
                    j["in_packets"], j["in_bytes"], j["out_packets"], j["out_bytes"],
                    utc_ms(j["first"]), utc_ms(j["last"]), flags(j.get("tcp_flags", "")),
                    j["in_src_mac"], j["in_dst_mac"], j["src_vlan"]))
    report("nfdump", got, want)

def pm_key(r):
    return (int(r["flow_id"]), ip(r["SRC_IP"]), ip(r["DST_IP"]), int(r["SRC_PORT"]),
            int(r["DST_PORT"]), int(r["PROTOCOL"]), int(r["ipver"]), int(r["VLAN"]),
            r["SRC_MAC"], r["DST_MAC"], epoch_ms(r["TIMESTAMP_START"]),
            epoch_ms(r["TIMESTAMP_END"]), int(r["TCP_FLAGS"]), int(r["PACKETS"]),
            int(r["BYTES"]), int(r["rev_start"]), int(r["rev_end"]), int(r["rev_flags"]),
            int(r["rev_pkts"]), int(r["rev_bytes"]), int(r["end_reason"]),
            int(r["nfx_tunnel"]), int(r["nfx_expiry"]), int(r["SAMPLING_RATE"]))

def full_key(r):
    n = lambda c: int(r[c])
    return (n("id"), ip(r["src_ip"]), ip(r["dst_ip"]), n("src_port"), n("dst_port"),
            n("protocol"), n("ip_version"), n("vlan_id"), r["src_mac"], r["dst_mac"],
            n("bidirectional_first_seen_ms"), n("bidirectional_last_seen_ms"), n("src2dst_tcp_flags"),
            n("src2dst_packets"), n("src2dst_bytes"), n("dst2src_first_seen_ms"),
            n("dst2src_last_seen_ms"), n("dst2src_tcp_flags"), n("dst2src_packets"),
            n("dst2src_bytes"), END_REASON[n("expiration_id")], n("tunnel_id"),
            n("expiration_id"), 1 if r["sampling_scaled"] == "true" else n("sampling_rate"))

def cmp_pmacct(csv_path, pm_path):
    want = [full_key(r) for r in expected(csv_path).values()]
    got = [pm_key(r) for r in csv.DictReader(open(pm_path, newline=""))]
    report("nfacctd", got, want)

# --- IPFIX messages: tests/e2e/ipfixdec.py ------------------------------------

def rec_key(rec):
    u = lambda pen, ie: int.from_bytes(rec[(pen, ie)], "big")
    mac = lambda ie: ":".join(f"{b:02x}" for b in rec[(0, ie)])
    v6 = (0, 27) in rec
    src = ipaddress.ip_address(rec[(0, 27 if v6 else 8)])
    dst = ipaddress.ip_address(rec[(0, 28 if v6 else 12)])
    return (u(0, 148), str(src), str(dst), u(0, 7), u(0, 11), u(0, 4), u(0, 60), u(0, 58),
            mac(56), mac(80), u(0, 152), u(0, 153), u(0, 6), u(0, 2), u(0, 1),
            u(REV, 152), u(REV, 153), u(REV, 6), u(REV, 2), u(REV, 1), u(0, 136),
            u(NFX, 1012), u(NFX, 1002), u(0, 34))

def receive(sock, tcp, close_after, idle):
    """Messages as (connection number, bytes) until idle seconds pass without data."""
    msgs, conn, n = [], None, 0
    buf, conns, deadline = b"", 0, time.time() + 30
    while time.time() < deadline:
        watch = [conn] if conn else [sock]
        if not select.select(watch, [], [], idle)[0]:
            if msgs:
                break
            continue
        if not tcp:
            msgs.append((0, sock.recv(65535)))
            continue
        if conn is None:
            conn, _ = sock.accept()
            conns += 1
            buf = b""
            continue
        data = conn.recv(65536)
        if not data:
            conn.close()
            conn = None
            continue
        buf += data
        while len(buf) >= 4 and len(buf) >= struct.unpack_from("!H", buf, 2)[0]:
            mlen = struct.unpack_from("!H", buf, 2)[0]
            msgs.append((conns, buf[:mlen]))
            buf = buf[mlen:]
            if conns == 1 and close_after and len(msgs) == close_after:
                conn.close()  # the collector goes away: the exporter must reconnect
                conn = None
                break
    return msgs

def collect(proto, port_file, csv_path, close_after, refresh_msgs):
    tcp = proto == "tcp"
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM if tcp else socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
    sock.bind(("127.0.0.1", 0))
    if tcp:
        sock.listen(4)
    with open(port_file, "w") as f:
        f.write(f"{sock.getsockname()[1]}\n")
    msgs = receive(sock, tcp, int(close_after), 1.5)
    summarize(msgs, csv_path, int(refresh_msgs), tcp)

def stat_fields():
    """The --statistical fields of flow.proto (30..77): {element id: (type, name)}."""
    proto = open(PROTO).read()
    out = {}
    for typ, name, num in re.findall(r"^\s*(uint32|uint64|double) (\w+) = (\d+);", proto, re.M):
        if 30 <= int(num) <= 77:
            out[1000 + int(num)] = (typ, name)
    return out

def stat_mismatches(rec, row, fields):
    """Statistical elements of a record that differ from the CSV row (all when absent)."""
    bad = 0
    for ie, (typ, name) in fields.items():
        raw = rec.get((NFX, ie))
        if raw is None or len(raw) != (4 if typ == "uint32" else 8):
            bad += 1
            continue
        want = float(row[name])
        got = struct.unpack("!d", raw)[0] if typ == "double" else int.from_bytes(raw, "big")
        bad += abs(got - want) > 1e-9 * max(1.0, abs(want))
    return bad

def summarize(msgs, csv_path, refresh_msgs, tcp):
    templates, last_conn, seq, bad_seq, bad_tpl, ok_len = {}, None, 0, 0, 0, True
    recs, raw_recs, per_conn, domains = [], [], {}, set()
    since = 0
    for i, (conn, raw) in enumerate(msgs):
        if conn != last_conn:
            templates, seq, since, last_conn = {}, 0, 0, conn
        m = parse_message(raw, templates)
        ok_len &= m["len_ok"] and m["version"] == 10 and not m.get("unknown_set")
        domains.add(m["domain"])
        bad_seq += m["seq"] != seq
        seq += len(m["records"])
        # Templates: first message of a session; over UDP also every refresh_msgs.
        want_tpl = since == 0 or (not tcp and refresh_msgs and since >= refresh_msgs)
        bad_tpl += bool(m["templates"]) != want_tpl
        since = 1 if m["templates"] else since + 1
        recs += [rec_key(r) for r in m["records"]]
        raw_recs += m["records"]
        per_conn[conn] = per_conn.get(conn, 0) + len(m["records"])
    rows = expected(csv_path)
    want = [full_key(r) for r in rows.values()]
    matched = sum(1 for r in recs if r in want)
    fields = stat_fields()
    with_stats = [r for r in raw_recs if (NFX, 1030) in r]
    stat_ok = sum(1 for r in with_stats
                  if stat_mismatches(r, rows[int.from_bytes(r[(0, 148)], "big")], fields) == 0)
    print(f"messages={len(msgs)} records={len(recs)} matched={matched} "
          f"format_ok={int(ok_len)} seq_errors={bad_seq} template_errors={bad_tpl} "
          f"domains={','.join(map(str, sorted(domains)))} "
          f"connections={len(per_conn)} last_conn_records={per_conn.get(last_conn, 0)} "
          f"stat_records={len(with_stats)} stat_matched={stat_ok} stat_fields={len(fields)}")

if __name__ == "__main__":
    cmd = sys.argv[1]
    if cmd == "nfdump":
        cmp_nfdump(*sys.argv[2:])
    elif cmd == "pmacct":
        cmp_pmacct(*sys.argv[2:])
    else:
        collect(*sys.argv[1:])
EOF
PY="env PYTHONPATH=$TOP/tests/e2e python3 $T/ipfix.py"
export NFXDP_PROTO=$TOP/proto/flow.proto

cat >"$T/prim.lst" <<'EOF'
name=flow_id field_type=148 len=8 semantics=u_int
name=ipver field_type=60 len=1 semantics=u_int
name=end_reason field_type=136 len=1 semantics=u_int
name=rev_start field_type=29305:152 len=8 semantics=u_int
name=rev_end field_type=29305:153 len=8 semantics=u_int
name=rev_flags field_type=29305:6 len=1 semantics=u_int
name=rev_pkts field_type=29305:2 len=8 semantics=u_int
name=rev_bytes field_type=29305:1 len=8 semantics=u_int
name=nfx_tunnel field_type=32473:1012 len=1 semantics=u_int
name=nfx_expiry field_type=32473:1002 len=1 semantics=u_int
EOF

# nfcapd CAPTURE: nfxdp's flows through nfcapd, read back with nfdump.
via_nfcapd() {
	local name=$1 dir=$T/nfcapd.$1 port pid out
	mkdir -p "$dir"
	port=$(free_port udp)
	nfcapd -w "$dir" -p "$port" -b 127.0.0.1 -t 3600 >"$dir.log" 2>&1 &
	pid=$!
	PIDS+=("$pid")
	wait_log "$dir.log" "Startup" || { fail "$name: nfcapd starts"; return; }
	out=$("$SEND" --accounting ip "$T/$name.pb" "127.0.0.1:$port" 2>>"$T/send.err")
	wait_for 10 drained "$port"
	stop "$pid"
	check "$name: exporter sent every flow to nfcapd" \
		"$(counter "$out" records_sent) $(counter "$out" records_dropped)" "$N 0"
	check "$name: nfcapd saw no sequence errors" \
		"$(grep -o 'Sequence Errors: [0-9]*' "$dir.log" | tail -1)" "Sequence Errors: 0"
	TZ=UTC nfdump -R "$dir" -o json >"$dir.json" 2>>"$dir.log"
	check "$name: nfdump has nfxdp's $N flows (packets, bytes both ways, times, flags, MACs, VLAN)" \
		"$($PY nfdump "$T/$name.csv" "$dir.json")" "$N/$N $N"
}

# nfacctd CAPTURE: nfxdp's flows through pmacct's nfacctd (print plugin).
via_nfacctd() {
	local name=$1 dir=$T/nfacctd.$1 port pid out
	mkdir -p "$dir"
	port=$(free_port udp)
	cat >"$dir/nfacctd.conf" <<-EOF
		daemonize: false
		nfacctd_ip: 127.0.0.1
		nfacctd_port: $port
		aggregate_primitives: $T/prim.lst
		plugins: print
		aggregate: src_host, dst_host, src_port, dst_port, proto, tcpflags, src_mac, dst_mac, vlan, timestamp_start, timestamp_end, flow_id, ipver, end_reason, rev_start, rev_end, rev_flags, rev_pkts, rev_bytes, nfx_tunnel, nfx_expiry, sampling_rate
		print_output: csv
		print_output_file: $dir/flows.csv
		print_refresh_time: 60
		print_num_protos: true
		timestamps_since_epoch: true
		pidfile: $dir/pid
	EOF
	nfacctd -f "$dir/nfacctd.conf" >"$dir.log" 2>&1 &
	pid=$!
	PIDS+=("$pid")
	NFACCTD_PIDS+=("$pid")
	wait_log "$dir.log" "waiting for NetFlow/IPFIX data" || { fail "$name: nfacctd starts"; return; }
	out=$("$SEND" --accounting ip "$T/$name.pb" "127.0.0.1:$port" 2>>"$T/send.err")
	wait_for 10 drained "$port"
	# nfacctd's core then hands the records to its print plugin, and shows no
	# sign of it (tried: a 1 s print_refresh_time never wrote them before
	# SIGINT; the plugin's "cache entries" line comes before; a memory
	# plugin beside it had them, the print plugin still wrote nothing at
	# SIGINT): a time is all there is to wait on. 0.5 s was seen too short
	# with make check loading both cores.
	sleep 1
	stop "$pid" INT # purges its cache to the file
	check "$name: exporter sent every flow to nfacctd" \
		"$(counter "$out" records_sent) $(counter "$out" records_dropped)" "$N 0"
	check "$name: nfacctd has nfxdp's $N flows (every element, enterprise ones included)" \
		"$($PY pmacct "$T/$name.csv" "$dir/flows.csv" 2>&1 | tail -1)" "$N/$N $N"
}

# --- reference captures through nfcapd and nfacctd ------------------------------
for name in "${CAPTURES[@]}"; do
	[ -f "$REF/pcaps/$name" ] || continue
	meter "$REF/pcaps/$name" --format csv --output "$T/$name.csv"
	meter "$REF/pcaps/$name" --format pb --output "$T/$name.pb"
	N=$($FLOWS "$T/$name.csv" --count)
	via_nfcapd "$name"
	via_nfacctd "$name"
done

# --- the message layer, decoded independently ------------------------------------
# Small batches make many messages: templates must come back every 5 of them.
CAP=1kxun.pcap
meter "$REF/pcaps/$CAP" --format pb --output "$T/small.pb" --batch-flows 10
N=$($FLOWS "$T/$CAP.csv" --count)

# collect udp|tcp CLOSE_AFTER REFRESH -- ipfix_send options...
collect() {
	local proto=$1 close_after=$2 refresh=$3
	shift 4
	rm -f "$T/port"
	$PY "$proto" "$T/port" "${WANT:-$T/$CAP.csv}" "$close_after" "$refresh" >"$T/collect.out" &
	local pid=$!
	PIDS+=("$pid")
	wait_for 5 test -s "$T/port"
	local scheme=
	[ "$proto" = tcp ] && [[ " $* " != *" --tcp "* ]] && scheme=tcp://
	"$SEND" --accounting ip "$@" "$T/small.pb" "${scheme}127.0.0.1:$(cat "$T/port")" >"$T/sent" 2>>"$T/send.err"
	wait "$pid"
	cat "$T/collect.out"
}

got=$(collect udp 0 5 -- --refresh-msgs 5 --refresh-s 3600 --domain 7)
check "udp: every record decodes to nfxdp's flow" \
	"$(counter "$got" records) $(counter "$got" matched)" "$N $N"
check "udp: messages well formed (version 10, lengths, known sets)" "$(counter "$got" format_ok)" 1
check "udp: sequence numbers count data records" "$(counter "$got" seq_errors)" 0
check "udp: templates first and again every 5 messages" "$(counter "$got" template_errors)" 0
check "udp: observation domain as configured" "$(echo "$got" | grep -o 'domains=[0-9,]*')" "domains=7"

got=$(collect tcp 0 0 -- --linger-ms 2000) # tcp:// from the target
SENT=$(cat "$T/sent")
check "tcp: every record decodes to nfxdp's flow" \
	"$(counter "$got" records) $(counter "$got" matched)" "$N $N"
check "tcp: messages framed by their length field" "$(counter "$got" format_ok)" 1
check "tcp: sequence numbers count data records" "$(counter "$got" seq_errors)" 0
check "tcp: templates once, at the start of the connection" "$(counter "$got" template_errors)" 0
check "tcp: exporter counts every record sent" \
	"$(counter "$SENT" records_sent) $(counter "$SENT" records_dropped) $(counter "$SENT" connects)" \
	"$N 0 1"

# The collector hangs up after 2 messages: the exporter counts what it lost,
# connects again, and starts the new session with templates and sequence 0.
got=$(collect tcp 2 0 -- --tcp --pace-ms 150 --reconnect-ms 100)
SENT=$(cat "$T/sent")
check "tcp reconnect: a second connection" "$(counter "$got" connections) $(counter "$SENT" connects)" "2 2"
check "tcp reconnect: templates and sequence numbers start again" \
	"$(counter "$got" seq_errors) $(counter "$got" template_errors)" "0 0"
received=$(counter "$got" records)
check "tcp reconnect: records received + dropped = flows exported" \
	"$((received + $(counter "$SENT" records_dropped)))" "$N"
check "tcp reconnect: exporter's sent count is what arrived" "$(counter "$SENT" records_sent)" "$received"

# No collector at all: nothing blocks, nothing is fatal, every record is counted.
port=$(free_port tcp)
start=$(date +%s%N)
out=$("$SEND" --accounting ip --tcp --linger-ms 0 "$T/small.pb" "127.0.0.1:$port" 2>>"$T/send.err")
status=$?
ms=$((($(date +%s%N) - start) / 1000000))
check "tcp, no collector: exit 0, every record counted dropped" \
	"$status $(counter "$out" records_sent) $(counter "$out" records_dropped)" "0 0 $N"
check "tcp, no collector: the sender is not held up (under 3 s)" "$([ "$ms" -lt 3000 ] && echo yes)" yes
out=$("$SEND" --accounting ip --linger-ms 0 "$T/small.pb" "127.0.0.1:$(free_port udp)" 2>>"$T/send.err")
check "udp, no collector: exit 0, sends counted as failures, not fatal" "$?" 0

# Sampling travels with every record: samplingInterval (34) is --sample's N,
# or 1 once --scale-sampled has scaled the counts up (a collector that
# renormalizes would otherwise scale them twice). The flows expected are
# those of the same run, read back from its pb file; checked by the decoder
# above and by nfacctd (its sampling_rate primitive).
i=0
for opts in "--sample 3" "--sample 3 --scale-sampled"; do
	i=$((i + 1))
	name=sampled$i
	meter "$REF/pcaps/$CAP" --format pb --output "$T/$name.pb" --batch-flows 10 $opts
	WANT=$T/$name.csv
	"$CAT" --input "$T/$name.pb" --format csv >"$WANT" 2>>"$T/cat.err"
	N=$($FLOWS "$WANT" --count)
	want=$(python3 -c 'import csv, sys
r = list(csv.DictReader(open(sys.argv[1])))
print(len(r), sorted({(x["sampling_rate"], x["sampling_scaled"]) for x in r}))' "$WANT")
	cp "$T/$name.pb" "$T/small.pb"
	got=$(collect udp 0 0 -- --refresh-s 3600)
	check "$opts: every record decodes to its flow, samplingInterval included" \
		"$(counter "$got" records) $(counter "$got" matched) | $want" \
		"$N $N | $N [('3', '$([[ $opts == *scale* ]] && echo true || echo false)')]"
	via_nfacctd "$name"
done
WANT=

# --statistical: the 48 features as nfxdp elements 1030..1077 (templates 258
# and 259), each equal to the flow's CSV value (float64 ones to 1e-9).
meter "$REF/pcaps/$CAP" --format pb --output "$T/small.pb" --batch-flows 10 --statistical
WANT=$T/stat.csv
"$CAT" --input "$T/small.pb" --format csv >"$WANT" 2>>"$T/cat.err"
N=$($FLOWS "$WANT" --count)
for proto in udp tcp; do
	got=$(collect "$proto" 0 0 -- --statistical --refresh-s 3600)
	check "--statistical over $proto: every record decodes to its flow, with its 48 features" \
		"$(counter "$got" records) $(counter "$got" matched) $(counter "$got" stat_records) $(counter "$got" stat_matched) $(counter "$got" stat_fields) $(counter "$got" format_ok)" \
		"$N $N $N $N 48 1"
done
WANT=

# --- nfxdp itself, once it has --ipfix ------------------------------------------------
if "$NFXDP" --help 2>&1 | grep -q -- '--ipfix '; then
	for name in 1kxun.pcap mdns.pcap; do
		[ -f "$REF/pcaps/$name" ] || continue
		dir=$T/direct.$name
		mkdir -p "$dir"
		port=$(free_port udp)
		nfcapd -w "$dir" -p "$port" -b 127.0.0.1 -t 3600 >"$dir.log" 2>&1 &
		pid=$!
		PIDS+=("$pid")
		wait_log "$dir.log" "Startup" || { fail "$name: nfcapd starts (direct)"; continue; }
		meter "$REF/pcaps/$name" --ipfix "udp://127.0.0.1:$port" --ipfix-domain 3
		wait_for 10 drained "$port"
		stop "$pid"
		TZ=UTC nfdump -R "$dir" -o json >"$dir.json" 2>>"$dir.log"
		N=$($FLOWS "$T/$name.csv" --count)
		check "nfxdp --pcap $name --ipfix: nfdump has its $N flows" \
			"$($PY nfdump "$T/$name.csv" "$dir.json")" "$N/$N $N"
	done
else
	echo "# nfxdp has no --ipfix option yet: the exporter is tested through ipfix_send only"
fi

exit $FAILED
