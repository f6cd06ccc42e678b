#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Where the flows of `nfxdp --pcap` go with no sink named (standard output,
# CSV), and the end of the stream: the message after the last batch, with
# the final counters, on ZeroMQ (the stats message marked end_of_stream)
# and in a pb file (a batch with end_of_stream set), from a capture's end
# and from a live collector stopped; nfxdp-cat --until-end stops on it, and
# says when a file has none.
SUITE=e2e-stream_end
. "$(dirname "$0")/lib.sh"
need_root
need_ref
PY3=${PYTHON:-/usr/bin/python3}
export PYTHONPATH=$TOP/python NFXDP_PB_DIR=$B/python

CAPS=("$REF/pcaps/443-chrome.pcap" "$REF/pcaps/dhcp.pcap" "$REF/pcaps/google_ssl.pcap")

# --- no sink named: CSV on standard output ------------------------------------
"$NFXDP" --pcap "${CAPS[@]}" >"$T/default.csv" 2>"$T/default.err"
check "--pcap, no sink: exit status 0" "$?" 0
"$NFXDP" --pcap "${CAPS[@]}" --output - --format csv >"$T/asked.csv" 2>/dev/null
check "--pcap, no sink: standard output is --output - --format csv, byte for byte ($(csv_rows "$T/asked.csv") flows)" \
	"$(cmp -s "$T/default.csv" "$T/asked.csv" && echo same) $(csv_rows "$T/default.csv")" \
	"same $(stat "$T/default.err" flows_exported)"
check "--pcap, no sink: nothing published (no ZeroMQ counters in the stats)" \
	"$(grep -c 'zmq_' "$T/default.err")" 0
"$NFXDP" --pcap "${CAPS[@]}" --format jsonl >"$T/default.jsonl" 2>/dev/null
check "--pcap --format jsonl, no sink: JSON lines on standard output" \
	"$(grep -c '^{"id":' "$T/default.jsonl")" "$(csv_rows "$T/asked.csv")"
"$NFXDP" --pcap "${CAPS[@]}" --no-zmq >"$T/none.out" 2>"$T/none.err"
check "--pcap --no-zmq: no export at all, as asked (metered all the same)" \
	"$? $(wc -c <"$T/none.out") $(stat "$T/none.err" flows_exported)" \
	"0 0 $(csv_rows "$T/asked.csv")"

# --- the end on ZeroMQ, from a capture ------------------------------------------
# nfxdp-cat --until-end exits by itself after the last flow (the --timeout is
# a bound: reaching it fails the check with status 3).
"$CAT" "$ENDPOINT" --until-end --format csv --timeout 30 >"$T/zmq.csv" 2>"$T/zmq.err" &
cat_pid=$!
PIDS+=("$cat_pid")
"$NFXDP" --pcap "${CAPS[@]}" --zmq "$ENDPOINT" --zmq-wait 10 --batch-flows 2 -v 2>"$T/zmq.log" >"$T/zmq.out"
check "--pcap --zmq: exit status 0, nothing on standard output" "$? $(wc -c <"$T/zmq.out")" "0 0"
wait "$cat_pid"
check "nfxdp-cat --until-end: exits 0 at the end of the stream, before its --timeout" "$?" 0
batches=$(stat "$T/zmq.log" batches_sent)
check "nfxdp-cat --until-end: every flow ($(csv_rows "$T/zmq.csv")), in $batches batches, the end said with nfxdp's counts" \
	"$(cmp -s "$T/zmq.csv" "$T/asked.csv" && echo same) $(grep -c '^nfxdp-cat: end of stream [0-9a-f]*: '"$batches batch(es), $(csv_rows "$T/asked.csv") flow(s) exported$" "$T/zmq.err") $(grep -c 'gap' "$T/zmq.err")" \
	"same 1 0"
[ "$batches" -gt 1 ] || fail "several batches ($batches)"

# A subscriber to every topic sees the end message itself, last.
"$PY3" - "$ENDPOINT" >"$T/stats.out" 2>"$T/stats.err" <<'EOF' &
import json, sys, zmq
s = zmq.Context().socket(zmq.SUB)
s.connect(sys.argv[1])
s.setsockopt(zmq.SUBSCRIBE, b"")
s.setsockopt(zmq.RCVTIMEO, 30000)
topics = []
while True:
    topic, body = s.recv_multipart()
    topics.append(topic.decode())
    if topic == b"stats" and json.loads(body)["end_of_stream"]:
        st = json.loads(body)
        break
print(",".join(dict.fromkeys(topics)), topics[-1], st["flows_exported"], st["batches_sent"],
      st["frames_seen"])
EOF
py_pid=$!
PIDS+=("$py_pid")
"$NFXDP" --pcap "${CAPS[@]}" --zmq "$ENDPOINT" --zmq-wait 10 --stats 3600 --batch-flows 2 -v \
	2>"$T/stats.log" >/dev/null
wait "$py_pid"
check "ZeroMQ: the end is the stats message marked end_of_stream, after every batch, with the final counters" \
	"$(cat "$T/stats.out")" \
	"flows,stats stats $(stat "$T/stats.log" flows_exported) $(stat "$T/stats.log" batches_sent) $(stat "$T/stats.log" frames_seen)"

# --- the end in a pb file ---------------------------------------------------------
"$NFXDP" --pcap "${CAPS[@]}" --output "$T/flows.pb" --format pb --batch-flows 2 2>"$T/pb.log"
"$CAT" --input "$T/flows.pb" --until-end --format csv >"$T/pb.csv" 2>"$T/pb.err"
check "pb file: nfxdp-cat --until-end reads it to its end (status 0), every flow" \
	"$? $(cmp -s "$T/pb.csv" "$T/asked.csv" && echo same) $(grep -c '^nfxdp-cat: end of stream' "$T/pb.err")" \
	"0 same 1"
"$PY3" - "$T/flows.pb" "$T/cut.pb" >"$T/pb.out" <<'EOF'
import sys
from nfxdp import decode_batch, iter_pb_file
packed = list(iter_pb_file(sys.argv[1]))
batches = [decode_batch(p) for p in packed]
end = batches[-1]
c = {x.name: x.value for x in end.counters}
print(sum(b.end_of_stream for b in batches), len(end.flows), end.sequence, len(batches) - 1,
      end.stream_id == batches[0].stream_id, c["flows_exported"], c["batches_sent"])
# The same file without its end: what a killed nfxdp leaves.
with open(sys.argv[1], "rb") as f:
    whole = f.read()
with open(sys.argv[2], "wb") as f:
    n, head = len(packed[-1]), 1  # the end batch and its varint length
    while n >= 128:
        n, head = n >> 7, head + 1
    f.write(whole[:len(whole) - len(packed[-1]) - head])
EOF
n=$(stat "$T/pb.log" batches_sent)
check "pb file: the last batch, alone, ends the stream: no flows, sequence = batches before it, same stream, final counters" \
	"$(cat "$T/pb.out")" "1 0 $n $n True $(csv_rows "$T/asked.csv") $n"
"$CAT" --input "$T/cut.pb" --until-end --format csv >"$T/cut.csv" 2>"$T/cut.err"
check "pb file without its end: nfxdp-cat --until-end says so, status 3, after every flow in it" \
	"$? $(grep -c 'ends without the end of its stream' "$T/cut.err") $(cmp -s "$T/cut.csv" "$T/asked.csv" && echo same)" \
	"3 1 same"
"$CAT" --input "$T/cut.pb" --format csv >/dev/null 2>&1
check "pb file without its end: without --until-end, status 0 as before" "$?" 0

# CSV and JSON lines files have no place for it: nothing but flows.
"$NFXDP" --pcap "${CAPS[@]}" --output "$T/flows.csv" 2>/dev/null
check "CSV file: flows only, as before" "$(cmp -s "$T/flows.csv" "$T/asked.csv" && echo same)" same

# --- nfxdp-cat --until-end with no end coming -------------------------------------
"$CAT" "ipc://$T/nobody.sock" --until-end --timeout 0.5 >/dev/null 2>&1
check "nfxdp-cat --until-end: --timeout before the end is status 3" "$?" 3

# --- the end from a live collector stopped ------------------------------------------
setup_pair noipv6 || { fail "namespaces"; exit $FAILED; }
start_nfxdp "$T/live.log" --poll-ms 100 --batch-ms 100 || { fail "nfxdp starts"; exit 1; }
start_cat "$T/live.csv" --until-end --timeout 30
in_a "$INJECT" --iface va --smac 02:00:00:00:aa:01 --dmac 02:00:00:00:aa:02 \
	--src 198.18.0.1 --dst 198.18.0.2 --proto udp --sport 1000 --dport 2000 --count 3
wait_for 10 xdp_frames_at_least "$NS_B" vb 3
kill -TERM "$NFXDP_PID"
wait "$NFXDP_PID"
wait "$CAT_PID"
check "live, SIGTERM: nfxdp-cat --until-end exits 0 on the end, with the flushed flow" \
	"$? $(csv_rows "$T/live.csv") $($FLOWS "$T/live.csv" --get bidirectional_packets,expiration_id)" \
	"0 1 3 4"

exit $FAILED
