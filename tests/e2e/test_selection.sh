#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Selection on real captures: --hash-slice K/N partitions the flows, --filter
# and its negation split them, --flow-sample keeps every record of a flow
# together, --flow-filter keeps what it says, --sample is recorded.
SUITE=e2e-selection
. "$(dirname "$0")/lib.sh"
need_root
need_ref

KEY=src_ip,src_port,dst_ip,dst_port,protocol,vlan_id,tunnel_id
keys() { $FLOWS "$1" --get "$KEY" | awk '{ if ($1 > $3 || ($1 == $3 && $2 > $4)) print $3, $4, $1, $2, $5, $6, $7; else print }' | sort; }

for name in skype.pcap 1kxun.pcap; do
	f=$REF/pcaps/$name
	"$NFXDP" --pcap "$f" --output "$T/all.csv" 2>/dev/null
	keys "$T/all.csv" | sort -u >"$T/all.keys"
	: >"$T/slices.keys"
	for k in 0 1 2 3; do
		"$NFXDP" --pcap "$f" --hash-slice "$k/4" --output "$T/s$k.csv" 2>/dev/null
		keys "$T/s$k.csv" | sort -u >>"$T/slices.keys"
	done
	check "$name: --hash-slice K/4 slices hold every flow once" \
		"$(sort "$T/slices.keys" | uniq -d | wc -l) $(sort -u "$T/slices.keys" | cmp -s - "$T/all.keys" && echo same)" \
		"0 same"
	"$NFXDP" --pcap "$f" --filter tcp --output "$T/tcp.csv" 2>/dev/null
	"$NFXDP" --pcap "$f" --filter "not tcp" --output "$T/other.csv" 2>/dev/null
	check "$name: 'tcp' and 'not tcp' split the packets" \
		"$(($($FLOWS "$T/tcp.csv" --sum bidirectional_packets) + $($FLOWS "$T/other.csv" --sum bidirectional_packets)))" \
		"$($FLOWS "$T/all.csv" --sum bidirectional_packets)"
done

# Flows split by the active timeout: every record of a flow kept or dropped together.
f=$REF/pcaps/skype.pcap
"$NFXDP" --pcap "$f" --active-timeout 5 --output "$T/act.csv" 2>/dev/null
"$NFXDP" --pcap "$f" --active-timeout 5 --flow-sample 3 --output "$T/act3.csv" 2>/dev/null
kept=$(keys "$T/act3.csv" | sort -u)
check "--flow-sample 3: a flow's records all kept or all dropped" \
	"$(keys "$T/act.csv" | grep -cxF -f <(echo "$kept"))" "$($FLOWS "$T/act3.csv" --count)"
check "--flow-sample 3: about a third of the flows" \
	"$(awk -v a="$($FLOWS "$T/act3.csv" --count)" -v b="$($FLOWS "$T/act.csv" --count)" 'BEGIN { print (a > b / 6 && a < b / 1.5) ? "yes" : "no: " a " of " b }')" yes
"$NFXDP" --pcap "$f" --output "$T/all.csv" 2>/dev/null
"$NFXDP" --pcap "$f" --flow-filter 'bidirectional_packets >= 10 and protocol == 17' --output "$T/ff.csv" 2>/dev/null
check "--flow-filter keeps exactly the matching flows" "$($FLOWS "$T/ff.csv" --count)" \
	"$(python3 -c 'import csv,sys; print(sum(1 for r in csv.DictReader(open(sys.argv[1])) if int(r["bidirectional_packets"]) >= 10 and r["protocol"] == "17"))' "$T/all.csv")"
"$NFXDP" --pcap "$f" --sample 4 --sample-mode systematic --output "$T/s4.csv" 2>"$T/s4.err"
check "--sample 4: every record carries sampling_rate 4" "$($FLOWS "$T/s4.csv" --get sampling_rate | sort -u)" 4
"$NFXDP" --pcap "$f" --sample 4 --sample-mode systematic --scale-sampled --output "$T/s4x.csv" 2>/dev/null
check "--scale-sampled: counts times 4, marked" \
	"$($FLOWS "$T/s4x.csv" --sum bidirectional_packets) $($FLOWS "$T/s4x.csv" --get sampling_scaled | sort -u)" \
	"$((4 * $($FLOWS "$T/s4.csv" --sum bidirectional_packets))) true"
exit $FAILED
