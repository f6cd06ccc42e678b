#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# The Python consumer (python/nfxdp) on a live agent: nfxdp meters a veth
# pair between two namespaces and publishes on ZeroMQ; an NFStream-style
# notebook line, NFStreamer(source=ENDPOINT).to_pandas(...), must give a
# DataFrame whose rows are exactly the flows injected (packets and bytes
# per direction), with nfxdp-cat's column names. Then: iter_flows() across
# an agent restart (a new stream_id) to one with --compress, and gap
# detection on made-up batches.
SUITE=e2e-python
. "$(dirname "$0")/lib.sh"
need_root

PY3=${PYTHON:-/usr/bin/python3}
export PYTHONPATH=$TOP/python NFXDP_PB_DIR=$B/python

need_tools "$PY3" "$NFXDP_PB_DIR/flow_pb2.py"
if ! "$PY3" -c 'import zmq, google.protobuf, pandas' 2>/dev/null; then
	need_tools python3-zmq-protobuf-pandas # not a command: skips or fails as above
fi

A=(--smac 02:00:00:00:aa:01 --dmac 02:00:00:00:aa:02)
B_=(--smac 02:00:00:00:aa:02 --dmac 02:00:00:00:aa:01)
send_a() { in_a "$INJECT" --iface va "${A[@]}" "$@"; }
send_b() { in_b "$INJECT" --iface vb "${B_[@]}" "$@"; }

# The notebook: one line differs from NFStream's (the import).
cat >"$T/notebook.py" <<'EOF'
import json, sys
from nfxdp import NFStreamer

endpoint, n, timeout, out, info = sys.argv[1:6]
events = []
streamer = NFStreamer(source=endpoint, statistical_analysis=False,
                      on_event=lambda e: events.append(e.kind))
df = streamer.to_pandas(max_flows=int(n), timeout=float(timeout))
df.to_csv(out, index=False)
with open(info, "w") as f:
    json.dump(dict(streamer.stats, events=events, columns=list(df.columns),
                   packets_dtype=str(df["bidirectional_packets"].dtype)), f)
EOF

# get INFO KEY: a value from the notebook's JSON summary.
get() {
	"$PY3" -c 'import json, sys; v = json.load(open(sys.argv[1]))[sys.argv[2]]
print(",".join(map(str, v)) if isinstance(v, list) else v)' "$1" "$2"
}

# Columns of the one flow matching WHERE..., or a complaint.
row() {
	local cols=$1
	shift
	local args=()
	for w in "$@"; do args+=(--where "$w"); done
	local out
	out=$($FLOWS "$T/df.csv" "${args[@]}" --get "$cols")
	[ "$(echo "$out" | grep -c .)" = 1 ] && echo "$out" || echo "missing or duplicated: $out"
}

setup_pair noipv6 || { fail "namespaces"; exit 1; }

# --- to_pandas() on a live stream ------------------------------------------------
# Two flows a batch: several batches, so sequence numbers are followed.
start_nfxdp "$T/nfxdp.log" --idle-timeout 1 --natural-linger 0.5 --poll-ms 100 --batch-ms 100 \
	--batch-flows 2 || { fail "nfxdp starts"; exit 1; }
start_cat "$T/cat.csv"
"$PY3" "$T/notebook.py" "$ENDPOINT" 5 30 "$T/df.csv" "$T/info.json" 2>"$T/notebook.err" &
NB_PID=$!
PIDS+=("$NB_PID")
# pandas takes a moment to import; the socket subscribes after: the second subscriber.
wait_for 30 subscribers_above "$T/nfxdp.log" 1

U4=(--src 198.18.0.1 --dst 198.18.0.2 --proto udp --sport 1000 --dport 2000)
send_a "${U4[@]}" --payload 100 --count 5
send_b --src 198.18.0.2 --dst 198.18.0.1 --proto udp --sport 2000 --dport 1000 --payload 50 --count 3
T4=(--src 198.18.0.1 --dst 198.18.0.2 --proto tcp --sport 40000 --dport 80)
T4R=(--src 198.18.0.2 --dst 198.18.0.1 --proto tcp --sport 80 --dport 40000)
send_a "${T4[@]}" --flags S
send_b "${T4R[@]}" --flags SA
send_a "${T4[@]}" --flags A
send_a "${T4[@]}" --flags PA --payload 100
send_b "${T4R[@]}" --flags A
send_a "${T4[@]}" --flags FA
send_b "${T4R[@]}" --flags FA
send_a "${T4[@]}" --flags A
send_a --src 198.18.0.1 --dst 198.18.0.2 --proto udp --sport 3000 --dport 4000 --vlan 100 --vlan 200 --count 2
send_a --src fd00::1 --dst fd00::2 --proto udp --sport 5000 --dport 6000 --payload 10 --count 4
# The four flows end: three idle (1 s), TCP naturally (0.5 s after its last ACK).
wait_for 10 rows_at_least "$T/cat.csv" 4
n=$(xdp_frames "$NS_B" vb)
send_a --src 198.18.0.1 --dst 198.18.0.2 --proto udp --sport 7000 --dport 8000
# Metered, then flushed at exit (well before its 1 s idle timeout).
wait_for 10 xdp_frames_at_least "$NS_B" vb $((n + 1))
stop_nfxdp
wait "$NB_PID"
check "notebook exits 0 once it has its 5 flows" "$?" 0
[ -s "$T/notebook.err" ] && sed 's/^/  notebook: /' "$T/notebook.err" >&2

COLS=expiration_id,src_ip,dst_ip,protocol,src2dst_packets,src2dst_bytes,dst2src_packets,dst2src_bytes
check "DataFrame: 5 rows" "$($FLOWS "$T/df.csv" --count)" 5
check "DataFrame: udp both ways, idle" "$(row $COLS src_port=1000)" "0 198.18.0.1 198.18.0.2 17 5 710 3 276"
check "DataFrame: tcp, natural" "$(row $COLS src_port=40000)" "2 198.18.0.1 198.18.0.2 6 5 370 3 162"
check "DataFrame: tcp flags per direction" "$(row src2dst_tcp_flags,dst2src_tcp_flags src_port=40000)" "27 19"
check "DataFrame: stacked vlan, innermost id" \
	"$(row vlan_id,bidirectional_packets,bidirectional_bytes src_port=3000)" "200 2 100"
check "DataFrame: ipv6" \
	"$(row ip_version,src_ip,dst_ip,bidirectional_packets,bidirectional_bytes src_port=5000)" \
	"6 fd00::1 fd00::2 4 288"
check "DataFrame: flush at exit" "$(row expiration_id,bidirectional_packets,bidirectional_bytes src_port=7000)" \
	"4 1 42"
check "DataFrame: MACs of the first packet" "$(row src_mac,dst_mac src_port=1000)" \
	"02:00:00:00:aa:01 02:00:00:00:aa:02"
check "DataFrame: packets = frames metered" "$($FLOWS "$T/df.csv" --sum bidirectional_packets)" \
	"$(stat "$T/nfxdp.log" frames_metered)"
check "DataFrame: the same rows as nfxdp-cat (ids and packets)" \
	"$($FLOWS "$T/df.csv" --pairs id,bidirectional_packets)" "$($FLOWS "$T/cat.csv" --pairs id,bidirectional_packets)"
check "DataFrame: nfxdp-cat's columns (NFStream's names), in its order" \
	"$(get "$T/info.json" columns)" "$(head -1 "$T/cat.csv")"
check "DataFrame: counters are integers (int64, as NFStream's)" \
	"$(get "$T/info.json" packets_dtype)" "int64"
check "stream: every batch nfxdp sent, no gap, no restart" \
	"$(get "$T/info.json" batches) $(get "$T/info.json" gaps) $(get "$T/info.json" lost_batches) $(get "$T/info.json" restarts)" \
	"$(stat "$T/nfxdp.log" batches_sent) 0 0 0"

# --- iter_flows() across an agent restart ------------------------------------------
cat >"$T/follow.py" <<'EOF'
import json, sys
import nfxdp

events = []
s = nfxdp.Streamer(sys.argv[1], on_event=lambda e: events.append(e.kind))
flows = [f"{f.src_port}:{f.bidirectional_packets}" for f in s.iter_flows(max_flows=2, timeout=30)]
json.dump(dict(s.stats, flows=flows, events=events), open(sys.argv[2], "w"))
EOF
"$PY3" "$T/follow.py" "$ENDPOINT" "$T/follow.json" 2>"$T/follow.err" &
FOLLOW_PID=$!
PIDS+=("$FOLLOW_PID")
# The second agent deflates its batches (topic "flowsz").
for run in 1 2; do
	compress=()
	[ "$run" = 2 ] && compress=(--compress)
	start_nfxdp "$T/run$run.log" --poll-ms 100 --batch-ms 100 "${compress[@]}" ||
		{ fail "nfxdp starts ($run)"; exit 1; }
	# The subscriber connects (again) to the new socket.
	wait_for 30 subscribers_above "$T/run$run.log" 0
	n=$(xdp_frames "$NS_B" vb)
	send_a "${U4[@]}" --sport "$((1100 + run))" --count "$run"
	wait_for 10 xdp_frames_at_least "$NS_B" vb $((n + run)) # metered, then flushed
	kill -TERM "$NFXDP_PID"
	wait "$NFXDP_PID"
done
wait "$FOLLOW_PID"
check "iter_flows: both agents' flows (the second's deflated), attributes named like NFStream's" \
	"$(get "$T/follow.json" flows)" "1101:1,1102:2"
check "iter_flows: the restart is seen (a new stream_id), not taken for a gap" \
	"$(get "$T/follow.json" events) $(get "$T/follow.json" restarts) $(get "$T/follow.json" gaps)" \
	"join,restart,join 1 0"

# --- fan-in: one Streamer, two agents -----------------------------------------------
# Two capture replays publish on their own endpoints; one consumer connects
# to both (a list of endpoints) and follows both streams.
REF=$(nfstream_ref) && [ -f "$REF/pcaps/mdns.pcap" ] && [ -f "$REF/pcaps/dhcp.pcap" ] && {
	"$PY3" - "ipc://$T/one.sock" "ipc://$T/two.sock" >"$T/fanin.out" 2>"$T/fanin.err" <<-'EOF' &
		import sys, nfxdp
		s = nfxdp.Streamer(sys.argv[1:])
		df = s.to_pandas(idle_timeout=3, timeout=30)
		print(len(df), s.stats["streams"], s.stats["gaps"])
	EOF
	fanin_pid=$!
	PIDS+=("$fanin_pid")
	n=0
	for cap in one:mdns.pcap two:dhcp.pcap; do
		"$NFXDP" --pcap "$REF/pcaps/${cap#*:}" --natural-expiry off --zmq "ipc://$T/${cap%%:*}.sock" \
			--zmq-wait 10 --output "$T/${cap%%:*}.csv" 2>>"$T/fanin.err"
		n=$((n + $($FLOWS "$T/${cap%%:*}.csv" --count)))
	done
	wait "$fanin_pid"
	check "fan-in: one Streamer on two agents' endpoints gets both streams' flows" \
		"$(cat "$T/fanin.out")" "$n 2 0"
}

# --- gap detection, on made-up batches ---------------------------------------------
got=$("$PY3" - <<'EOF'
import nfxdp
t = nfxdp.StreamTracker()
B = nfxdp.pb2().FlowBatch
kinds = []
for sid, seq in [(7, 0), (7, 1), (7, 4), (7, 5), (7, 5), (9, 0), (9, 1)]:
    kinds += [e.kind + (f"{e.lost}" if e.kind == "gap" else "") for e in
              t.update(B(agent="a", interface="i", stream_id=sid, sequence=seq))]
s = t.stats()
print(" ".join(kinds), s["gaps"], s["lost_batches"], s["restarts"], s["reordered"])
EOF
)
check "gaps: 2 batches lost between 1 and 4, a repeat, a restart" "$got" \
	"join gap2 reorder restart join 1 2 1 1"

exit $FAILED
