#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Capture files against NFStream: every reference capture metered with
# nfxdp --pcap gives the flows NFStream produced (same count, same multiset
# of packets and bytes), unless PARITY.md lists it with a reason and the
# exact flow counts (then nfxdp's flows must be among NFStream's). Then the
# same capture through the XDP program frame by frame (--replay-mode frame)
# gives byte-identical records. Then NFStream's own golden values.
SUITE=e2e-parity
. "$(dirname "$0")/lib.sh"
need_root
need_ref

# excuse NAME: "N / M" when PARITY.md lists capture NAME as giving N flows
# where NFStream gives M; "none" when it gives no numbers; nothing when it
# does not list it.
excuse() {
	awk -F'|' -v c="$1" '$2 == " " c " " {
		if ($3 ~ /^ [0-9]+ \/ [0-9]+ $/) {
			split($3, n, "/")
			printf "%d / %d\n", n[1], n[2]
		} else {
			print "none"
		}
	}' "$TOP/PARITY.md"
}

run() {
	"$NFXDP" --pcap "$@" --natural-expiry off --idle-timeout 120 --active-timeout 1800 \
		--accounting link --format csv --output - 2>>"$T/stderr"
}

matched=0
total=0
flows_ok=0
flows_all=0
same=0
for f in "$REF"/pcaps/*; do
	name=$(basename "$f")
	total=$((total + 1))
	run "$f" >"$T/batch.csv"
	run "$f" --replay-mode frame >"$T/frame.csv"
	$FLOWS "$T/batch.csv" --pairs bidirectional_packets,bidirectional_bytes >"$T/ours"
	$FLOWS "$REF/results/$name.csv" --pairs bidirectional_packets,bidirectional_bytes >"$T/theirs"
	n=$(wc -l <"$T/theirs")
	flows_all=$((flows_all + n))
	why=$(excuse "$name")
	if cmp -s "$T/ours" "$T/theirs"; then
		matched=$((matched + 1))
		flows_ok=$((flows_ok + n))
		check "$name: $n flows as NFStream (and PARITY.md does not say otherwise)" \
			"${why:-not listed}" "not listed"
	elif [ -n "$why" ]; then
		# Exactly the counts PARITY.md gives, and each flow of nfxdp's one
		# of NFStream's: the difference is only the flows NFStream has more.
		check "$name: differs exactly as PARITY.md states (flows nfxdp / NFStream; nfxdp's among NFStream's)" \
			"$(wc -l <"$T/ours") / $n; not NFStream's: $(sort "$T/ours" |
				comm -23 - <(sort "$T/theirs") | tr '\n' ',')" \
			"$why; not NFStream's: "
	else
		fail "$name: $(wc -l <"$T/ours") flows, NFStream $n, and PARITY.md gives no reason"
		diff "$T/ours" "$T/theirs" | head -6 >&2
	fi
	if cmp -s "$T/batch.csv" "$T/frame.csv"; then
		same=$((same + 1))
	else
		fail "$name: frame-by-frame replay gives other records than batch replay"
		diff "$T/batch.csv" "$T/frame.csv" | head -4 >&2
	fi
done
echo "# parity: captures matched $matched/$total, flows matched $flows_ok/$flows_all"
check "batch and frame-by-frame replay give identical records on every capture" "$same" "$total"

# NFStream's golden values (README of the reference data).
cols=bidirectional_packets,bidirectional_bytes
mapfile -t parts < <(ls "$REF"/pcaps/one_flow_[0-9]*.pcap 2>/dev/null |
	sed 's/.*one_flow_\([0-9]*\).*/\1 &/' | sort -n | cut -d' ' -f2)
if [ ${#parts[@]} -gt 1 ]; then
	want_p=0
	want_b=0
	for p in "${parts[@]}"; do
		read -r a b < <($FLOWS "$REF/results/$(basename "$p").csv" --get $cols)
		want_p=$((want_p + a))
		want_b=$((want_b + b))
	done
	check "${#parts[@]} one_flow_N files read as one capture: one flow" \
		"$(run "${parts[@]}" | $FLOWS /dev/stdin --get $cols)" "$want_p $want_b"
fi
if [ -f "$REF/pcaps/one_flow_1.pcap" ]; then
	check "one_flow_1..4 as one capture: 19 packets, 5745 bytes" \
		"$(run "$REF"/pcaps/one_flow_{1,2,3,4}.pcap | $FLOWS /dev/stdin --get $cols)" "19 5745"
fi
check "one_flow.pcap: 19 packets, 5745 bytes" \
	"$(run "$REF/pcaps/one_flow.pcap" | $FLOWS /dev/stdin --get $cols)" "19 5745"
run "$REF/pcaps/gtp-u.pcap" >"$T/gtp.csv"
check "gtp-u.pcap: every flow carries tunnel_id 1" \
	"$($FLOWS "$T/gtp.csv" --get tunnel_id | sort -u | tr '\n' ' ')" "1 "
check "gtp-u.pcap: as many flows as NFStream" "$($FLOWS "$T/gtp.csv" --count)" \
	"$($FLOWS "$REF/results/gtp-u.pcap.csv" --count)"
check "skype.pcap: 294 flows" "$(run "$REF/pcaps/skype.pcap" | $FLOWS /dev/stdin --count)" 294
exit $FAILED
