#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Real captures replayed onto the wire (tcpreplay into a veth, native XDP on
# the peer) give, through ZeroMQ and nfxdp-cat, the flows NFStream produced
# from the same files: same number, same (packets, bytes) multiset. Taken:
# every Ethernet capture, not truncated, shorter than the 120 s idle timeout
# (on the wire, replayed at top speed, timeouts cannot play a part).
SUITE=e2e-replay-nfstream
. "$(dirname "$0")/lib.sh"
need_root
need_ref

MTU=65000 setup_pair noipv6 || { fail "namespaces"; exit 1; }
matched=0
total=0
flows_ok=0
flows_all=0
for f in "$REF"/pcaps/*; do
	read -r name link frames duration truncated _ < <("$B/tests/pcapinfo" "$f")
	[ "$link" = 1 ] && [ "$truncated" = 0 ] &&
		awk -v d="$duration" 'BEGIN { exit !(d < 120) }' || continue
	total=$((total + 1))
	IFACES="vb@$NS_B" start_nfxdp "$T/nfxdp.log" --natural-expiry off --max-flows 65536 \
		--batch-ms 50 || { fail "$name: nfxdp starts"; continue; }
	start_cat "$T/flows.csv"
	in_a tcpreplay -q -i va --topspeed "$f" >"$T/tcpreplay.log" 2>&1 ||
		{ fail "$name: tcpreplay"; cat "$T/tcpreplay.log" >&2; }
	stop_nfxdp
	$FLOWS "$T/flows.csv" --pairs bidirectional_packets,bidirectional_bytes >"$T/ours"
	$FLOWS "$REF/results/$name.csv" --pairs bidirectional_packets,bidirectional_bytes >"$T/theirs"
	n=$(wc -l <"$T/theirs")
	flows_all=$((flows_all + n))
	seen=$(stat "$T/nfxdp.log" frames_seen)
	if [ "$seen" = "$frames" ] && cmp -s "$T/ours" "$T/theirs"; then
		pass "$name: $n flows as NFStream"
		matched=$((matched + 1))
		flows_ok=$((flows_ok + n))
	else
		fail "$name: frames seen $seen of $frames; flows $(wc -l <"$T/ours"), NFStream $n"
		diff "$T/ours" "$T/theirs" | head -6 >&2
	fi
done
echo "# replayed on the wire: captures matched $matched/$total, flows matched $flows_ok/$flows_all"
[ "$total" -gt 0 ] || fail "no capture selected"
exit $FAILED
