#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Reliable delivery through a spool: nfxdp appends batches to a file
# (--output F --format pb), nfxdp-cat --follow --cursor reads it as it
# grows. The consumer is stopped and started again twice while flows are
# exported: across its runs every record arrives exactly once.
SUITE=e2e-spool
. "$(dirname "$0")/lib.sh"
need_root

setup_pair noipv6 || { fail "namespaces"; exit 1; }
export IFACES=vb@$NS_B
SPOOL=$T/spool.pb
CURSOR=$T/cursor

start_nfxdp "$T/nfxdp.log" --output "$SPOOL" --format pb --no-zmq --idle-timeout 0.3 \
	--poll-ms 50 --batch-ms 50 --batch-flows 8 || { fail "nfxdp starts"; exit 1; }
# consume N: one run of the consumer, its records in $T/run-N.csv.
consume() {
	"$CAT" --input "$SPOOL" --follow --cursor "$CURSOR" --format csv "${@:2}" >"$T/run-$1.csv" &
	CONSUMER=$!
	PIDS+=("$CONSUMER")
}
in_a "$INJECT" --iface va --smac 02:00:00:00:aa:01 --dmac 02:00:00:00:aa:02 --src 198.18.0.1 \
	--dst 198.18.0.2 --proto udp --sport 10000 --dport 53 --flows 400 --count 4000 --rate 1000 &
SENDER=$!
PIDS+=("$SENDER")
consume 1
sleep 0.7
kill -TERM "$CONSUMER"
wait "$CONSUMER"
check "consumer 1: stops cleanly" "$?" 0
sleep 0.5 # batches pile up in the spool meanwhile
consume 2
sleep 0.6
kill -TERM "$CONSUMER"
wait "$CONSUMER"
wait "$SENDER"
sleep 0.6
kill -TERM "$NFXDP_PID"
wait "$NFXDP_PID"
check "nfxdp exit status" "$?" 0
consume 3 --timeout 1.5
wait "$CONSUMER"
check "consumer 3: reads to the end, then its timeout" "$?" 0

for i in 1 2 3; do
	check "consumer $i received records" "$([ "$($FLOWS "$T/run-$i.csv" --count)" -gt 0 ] && echo yes)" yes
done
total=$(for i in 1 2 3; do $FLOWS "$T/run-$i.csv" --count; done | awk '{ n += $1 } END { print n }')
check "every record of the spool once across the three runs" "$total" \
	"$("$CAT" --input "$SPOOL" --format csv | tail -n +2 | wc -l)"
check "packets per flow: 10 for each of the 400" \
	"$(for i in 1 2 3; do $FLOWS "$T/run-$i.csv" --get src_port,bidirectional_packets; done |
		awk '{ n[$1] += $2 } END { for (p in n) if (n[p] == 10) k++; print k }')" 400
check "no gap seen by the resumed consumers" "$(grep -c gap "$T"/run-*.csv 2>/dev/null | awk -F: '{ n += $2 } END { print n + 0 }')" 0
check "the cursor is at the end of the spool" "$(cat "$CURSOR")" "$(command stat -c %s "$SPOOL")"
exit $FAILED
