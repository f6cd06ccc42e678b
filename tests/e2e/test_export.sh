#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Every sink gives the same records: CSV, JSON lines, length-delimited
# protobuf (read back by nfxdp-cat --input), each gzip'd with --compress,
# and ZeroMQ with deflated batches, for capture replay.
SUITE=e2e-export
. "$(dirname "$0")/lib.sh"
need_root
need_ref

for name in skype.pcap gtp-u.pcap 6in4tunnel.pcap; do
	f=$REF/pcaps/$name
	"$NFXDP" --pcap "$f" --output "$T/a.csv" 2>/dev/null
	"$NFXDP" --pcap "$f" --output "$T/b.csv.gz" --compress 2>/dev/null
	check "$name: gzip'd CSV" "$(zcat "$T/b.csv.gz" | md5sum)" "$(md5sum <"$T/a.csv")"
	"$NFXDP" --pcap "$f" --output "$T/c.pb" --format pb 2>/dev/null
	check "$name: protobuf file read back" "$("$CAT" --input "$T/c.pb" --format csv | md5sum)" \
		"$(md5sum <"$T/a.csv")"
	"$NFXDP" --pcap "$f" --output "$T/d.pb.gz" --format pb --compress 2>/dev/null
	check "$name: gzip'd protobuf file read back" \
		"$("$CAT" --input "$T/d.pb.gz" --format csv | md5sum)" "$(md5sum <"$T/a.csv")"
	"$NFXDP" --pcap "$f" --output "$T/e.jsonl" --format jsonl 2>/dev/null
	check "$name: JSON lines, one per flow" "$(python3 -c '
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
print(len(rows), sum(r["bidirectional_packets"] for r in rows))' "$T/e.jsonl")" \
		"$($FLOWS "$T/a.csv" --count) $($FLOWS "$T/a.csv" --sum bidirectional_packets)"
	"$CAT" "$ENDPOINT" --format csv >"$T/z.csv" &
	cat_pid=$!
	PIDS+=($cat_pid)
	"$NFXDP" --pcap "$f" --zmq "$ENDPOINT" --zmq-wait 5 --compress --batch-flows 16 2>/dev/null
	wait_for 10 rows_at_least "$T/z.csv" "$(csv_rows "$T/a.csv")"
	kill "$cat_pid" 2>/dev/null
	wait "$cat_pid" 2>/dev/null
	check "$name: deflated ZeroMQ batches" "$(md5sum <"$T/z.csv")" "$(md5sum <"$T/a.csv")"
done

# The stats message: one JSON object on the topic "stats".
f=$REF/pcaps/skype.pcap
"$CAT" "$ENDPOINT" --stats --format csv >/dev/null 2>"$T/stats.json" &
cat_pid=$!
PIDS+=($cat_pid)
"$NFXDP" --pcap "$f" --zmq "$ENDPOINT" --zmq-wait 5 2>/dev/null
wait_for 10 lines_at_least "$T/stats.json" 1
kill "$cat_pid" 2>/dev/null
wait "$cat_pid" 2>/dev/null
check "stats message: frames seen, flows exported, evicted" "$(python3 -c '
import json, sys
s = json.loads(open(sys.argv[1]).readline())
print(s["frames_seen"], s["flows_exported"], s["flows_evicted_estimated"], s["cache_entries"])' "$T/stats.json")" \
	"$("$B/tests/pcapinfo" "$f" | awk '{print $3}') 294 0 0"
exit $FAILED
