#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Cache pressure: three times --max-flows concurrent flows arrive; emergency
# expiry exports the least recently seen ones early, so every packet is in
# a record and the kernel's LRU evicts nothing. Live (veth) and replay.
# Then floods past what that absorbs: with overflow export every frame in a
# record or counted lost, exactly; without, evictions counted, and the
# collector quiet again once the flood is over.
SUITE=e2e-pressure
. "$(dirname "$0")/lib.sh"
need_root

CAP=4096
N_FLOWS=$((3 * CAP))

# Replay: a capture of 3x the cache in concurrent flows.
"$B/nfxdp-gencap" -o "$T/many.pcap" --packets 60000 --flows $N_FLOWS --duration 5 2>/dev/null
frames=$("$B/tests/pcapinfo" "$T/many.pcap" | awk '{print $3}')
"$NFXDP" --pcap "$T/many.pcap" --max-flows $CAP --output "$T/replay.csv" 2>"$T/replay.log"
check "replay: every packet in a record" "$($FLOWS "$T/replay.csv" --sum bidirectional_packets)" "$frames"
check "replay: emergency expiry happened" "$([ "$($FLOWS "$T/replay.csv" --where expiration_id=3 --count)" -gt 0 ] && echo yes)" yes
check "replay: nothing evicted or lost" "$(stat "$T/replay.log" flows_evicted_estimated) $(stat "$T/replay.log" lost_insert_failed)" "0 "

# Live: 12288 one-packet UDP flows at 4000 frames/s into a cache of 4096.
setup_pair noipv6 || { fail "namespaces"; exit 1; }
start_nfxdp "$T/live.log" --max-flows $CAP --poll-ms 50 --idle-timeout 60 --batch-ms 100 --stats 1 ||
	{ fail "nfxdp starts"; exit 1; }
start_cat "$T/live.csv"
in_a "$INJECT" --iface va --smac 02:00:00:00:aa:01 --dmac 02:00:00:00:aa:02 \
	--src 198.18.0.1 --dst 198.18.0.2 --proto udp --sport 10000 --dport 53 \
	--flows $N_FLOWS --count $N_FLOWS --rate 4000
wait_for 10 stat_at_least "$T/live.log" frames_seen $N_FLOWS
stop_nfxdp
check "live: every packet in a record" "$($FLOWS "$T/live.csv" --sum bidirectional_packets)" $N_FLOWS
check "live: every flow exported once" "$($FLOWS "$T/live.csv" --count)" $N_FLOWS
check "live: emergency expiry exported flows early" \
	"$([ "$($FLOWS "$T/live.csv" --where expiration_id=3 --count)" -gt 0 ] && echo yes)" yes
check "live: nothing evicted" "$(stat "$T/live.log" flows_evicted_estimated)" 0
grep -o 'emergency_runs=[0-9]*' "$T/live.log" | tail -1 | sed 's/^/# /'

# Overflow export (the default): 10x --max-flows new flows as fast as one
# core sends (bench/blast.c: 3 frames per flow, round robin, so every flow
# is open at once). The kernel's LRU never evicts: a new flow the full cache
# has no room for leaves at once as a one-packet record (expiration_id 5),
# so every frame the veth took is in a record or counted lost by its
# reason, exactly; with an export ring large enough for the flood, none is
# lost.
BLAST=$T/blast
${CC:-cc} -O2 -o "$BLAST" "$TOP/bench/blast.c" || fail "build bench/blast.c"
# statz LOG NAME: a counter, 0 when the stats line left it out (zero).
statz() { local v; v=$(stat "$1" "$2"); echo "${v:-0}"; }
# overflow_run NAME [nfxdp options]: one flood into vb; checks the sum.
overflow_run() {
	local name=$1 log=$T/$1.log csv=$T/$1.csv sent refused in_records lost
	shift
	IFACES="vb@$NS_B:ingress" start_nfxdp "$log" --max-flows $CAP --idle-timeout 60 \
		--stats 1 --zmq-wait 0 --output "$csv" --format csv "$@" ||
		{ fail "$name: nfxdp starts"; return 1; }
	set -- $(in_a taskset -c 0 "$BLAST" --iface va --flows $((10 * CAP)) --rounds 3)
	sent=$2 refused=$4
	echo "# $name: blast sent $sent frames ($refused refused by the veth) in $6 s"
	wait_for 20 stat_at_least "$log" frames_seen "$sent"
	kill -TERM "$NFXDP_PID"
	wait "$NFXDP_PID"
	in_records=$($FLOWS "$csv" --sum bidirectional_packets)
	lost=$(($(statz "$log" lost_overflow_ring_full) + $(statz "$log" lost_busy) +
		$(statz "$log" lost_insert_failed)))
	check "$name: the meter saw every frame the veth took" "$(statz "$log" frames_seen)" "$sent"
	check "$name: packets in records + lost = frames sent" "$((in_records + lost))" "$sent"
	check "$name: the LRU evicted nothing" "$(statz "$log" flows_evicted_estimated)" 0
	check "$name: one record (expiration_id 5) per overflow packet" \
		"$($FLOWS "$csv" --where expiration_id=5 --count)" "$(statz "$log" overflow_exported)"
	check "$name: overflow records happened" \
		"$([ "$(statz "$log" overflow_exported)" -gt 0 ] && echo yes)" yes
	echo "# $name: $in_records in records ($(statz "$log" overflow_exported) alone, overflow)," \
		"lost_overflow_ring_full=$(statz "$log" lost_overflow_ring_full)" \
		"lost_busy=$(statz "$log" lost_busy) lost_insert_failed=$(statz "$log" lost_insert_failed)"
	OVERFLOW_LOST=$lost
}
overflow_run "overflow, 64M ring" --export-ring 64M
check "overflow, 64M ring: a ring that holds the flood loses nothing" "$OVERFLOW_LOST" 0
overflow_run "overflow, default ring"

# --overflow-export off: a flood far past what emergency expiry absorbs:
# the kernel's LRU evicts, and that is counted. Then the cache is quiet
# again, and so must be the collector: flows the LRU evicted are not taken
# for entries still there (which would make every turn of its loop scan the
# whole cache).
start_nfxdp "$T/flood.log" --max-flows 1024 --poll-ms 1000 --idle-timeout 60 --stats 1 \
	--overflow-export off || { fail "nfxdp starts"; exit 1; }
in_a "$INJECT" --iface va --smac 02:00:00:00:aa:01 --dmac 02:00:00:00:aa:02 \
	--src 198.18.0.1 --dst 198.18.0.2 --proto udp --sport 20000 --dport 53 \
	--flows $N_FLOWS --count $N_FLOWS
# settled LOG: the flood is metered, and a stats period (1 s) went by
# without an emergency run.
settled() {
	stat_at_least "$1" frames_seen $N_FLOWS &&
		[ "$(grep -o ' emergency_runs=[0-9]*' "$1" | tail -2 | uniq | wc -l)" = 1 ] &&
		[ "$(grep -c ' emergency_runs=' "$1")" -ge 2 ]
}
wait_for 20 settled "$T/flood.log"
s0=$(stat "$T/flood.log" scans)
sleep 4 # the scans of 4 s: a rate, so a time is what is measured
s1=$(stat "$T/flood.log" scans)
stop_nfxdp
check "flood: the LRU's evictions are counted" \
	"$([ "$(stat "$T/flood.log" flows_evicted_estimated)" -gt 0 ] && echo yes)" yes
check "flood: then quiet, the collector scans only every --poll-ms (at most 5 in 4 s)" \
	"$([ $((s1 - s0)) -le 5 ] && echo yes || echo "no: $((s1 - s0)) scans")" yes
exit $FAILED
