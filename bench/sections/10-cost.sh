#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Cost per packet of the meter (BPF_PROG_TEST_RUN), next to a bare
# XDP_PASS program measured in the same run, for each feature setting and
# with 1, 10 K and 1 M flows already in the cache.
set -u
. "$(dirname "$0")/../lib.sh"
REF=$(nfstream_ref) || exit 1
mix=$WORK/reference.pcap
[ -s "$mix" ] || mergecap -a -F pcap -w "$mix" $(for f in "$REF"/pcaps/*; do
	[ "$("$B/tests/pcapinfo" "$f" | awk '{print $2}')" = 1 ] && echo "$f"; done) || exit 1

val() { awk -v k="$1" '$1 == k { print $2 }' "$WORK/progcost.out"; }

echo "## Cost per packet of the meter"
echo
echo "\`BPF_PROG_TEST_RUN\` in repeat mode (best of 7): **live** is the attached program"
echo "(\`nfx_meter\`) on one 60-byte UDP frame of one flow, 10^6 times; **mix** is the"
echo "same metering code over the frames of the reference captures (79 K frames,"
echo "2 K flows, sizes 60 to 1514 bytes) with K other flows already in the cache."
echo "Bare is an XDP program that only returns XDP_PASS, measured in the same run."
echo
echo "| features | flows in cache | entry bytes | bare ns | live ns | live - bare | live / bare | mix ns |"
echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
for setting in "off|" "--statistical|--statistical" "--splt 20|--splt 20" "both|--statistical --splt 20"; do
	name=${setting%%|*}
	args=${setting#*|}
	for k in 1 10000 1000000; do
		[ "$name" != off ] && [ "$k" != 1 ] && continue
		log "cost: $name, $k flows"
		"$B/progcost" $args --flows "$k" --capture "$mix" >"$WORK/progcost.out" 2>&1 || continue
		bare=$(val bare_ns)
		live=$(val live_ns)
		echo "| $name | $k | $(val entry_bytes) | $bare | $live | $((live - bare)) |" \
			"$(ratio "$live" "$bare")x | $(val mix_ns) |"
	done
done
echo
echo "The entry sizes are what one flow takes in the kernel's cache (the map adds"
echo "its own overhead per element, about 50 bytes for the hash and LRU links)."
