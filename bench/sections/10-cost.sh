#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Cost per packet of the meter (BPF_PROG_TEST_RUN), next to a bare
# XDP_PASS program measured in the same run, for each feature setting, with
# 1, 10 K and 1 M flows already in the cache, over one frame and over two
# traffic mixes. Writes a Markdown section to stdout.
set -u
. "$(dirname "$0")/../lib.sh"

ref=$(ref_capture) || exit 1
gen=$(gen_capture) || exit 1
ref_frames=$(frames "$ref")
gen_frames=$(frames "$gen")
FILTER='not port 22 and not net 203.0.113.0/24'

val() { awk -v k="$1" '$1 == k { print $2 }' "$WORK/progcost.out"; }
# cols NS BARE: "ns | ns - bare | ns / bare"
cols() {
	if [ -z "$1" ] || [ "$1" = 0 ] || [ "$1" = 0.0 ]; then
		echo "- | - | -"
	else
		echo "$(printf '%.0f' "$1") | $(minus "$1" "$2") | $(ratio "$1" "$2")x"
	fi
}

echo "## Cost per packet of the meter"
echo
echo "\`BPF_PROG_TEST_RUN\` (\`build/progcost\`, source \`bench/progcost.c\`). **Bare** is an"
echo "XDP program that only returns XDP_PASS, run in the same process just before"
echo "the meter: a 60-byte frame, 300 K times, best of 5. Then the meter:"
echo
echo "- **one flow**: the attached program (\`nfx_meter\`) on that same frame, 300 K"
echo "  times, best of 5: every run updates one hot flow entry;"
echo "- **reference mix**: every frame of the NFStream reference captures (Ethernet"
echo "  ones, concatenated: $ref_frames frames, about 2 K flows, 60 to 1514 bytes),"
echo "  each metered once in capture order through the replay entry point (1024"
echo "  frames a run), best of 3 passes;"
echo "- **1M-flow mix**: the same over a generated capture (\`nfxdp-gencap --packets"
echo "  $GEN_PACKETS --flows $GEN_FLOWS\`: $gen_frames frames; 70% TCP with handshakes and"
echo "  teardowns, UDP, ICMP, 20% IPv6), one pass: one frame in $((gen_frames / GEN_FLOWS)) creates a flow, and"
echo "  the cache ends holding $GEN_FLOWS flows. Measured once per setting, with 1 flow"
echo "  preloaded: the mix brings its own."
echo
echo "**flows in cache** are flows metered into the cache before measuring (one UDP"
echo "frame each), as on a busy link. **- bare** and **/ bare** compare with the bare"
echo "program's figure of the same row. A mix frame runs in a loop inside one program"
echo "run (no per-frame test-run overhead) and goes through header copy, parsing, the"
echo "cache lookup or insert and the counter updates. Filter in use:"
echo "\`--filter '$FILTER'\` (a port test and a prefix-trie lookup"
echo "that every frame of both mixes passes)."
echo
echo "| setting | flows in cache | entry bytes | bare ns | one flow ns | - bare | / bare | reference mix ns | - bare | / bare | 1M-flow mix ns | - bare | / bare |"
echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
# name|progcost options
settings=(
	"features off|"
	"--statistical|--statistical"
	"--splt 20|--splt 20"
	"--sample 10|--sample 10"
	"--filter (passes all)|--filter:$FILTER"
	"frame sampled out|--sample 1000000000"
	"frame filtered out|--filter:vlan 4094"
)
declare -A MIX
for setting in "${settings[@]}"; do
	name=${setting%%|*}
	opts=${setting#*|}
	args=()
	case $opts in
	--filter:*) args=(--filter "${opts#--filter:}") ;;
	?*) read -ra args <<<"$opts" ;;
	esac
	for k in 1 10000 1000000; do
		case $name in frame*) [ "$k" = 1 ] || continue ;; esac
		caps=(--capture "$ref")
		# The generated mix once per setting, where it fills the cache itself.
		case $k/$name in
		1/frame*) ;;
		1/*) caps+=(--capture "$gen" --max-flows $((GEN_FLOWS * 5 / 4))) ;;
		esac
		log "cost: $name, $k flows"
		if ! "$B/progcost" "${args[@]}" --flows "$k" "${caps[@]}" >"$WORK/progcost.out" 2>&1; then
			log "cost: progcost failed: $(tail -1 "$WORK/progcost.out")"
			echo "| $name | $k | failed: $(tail -1 "$WORK/progcost.out") |"
			continue
		fi
		bare=$(val bare_ns)
		echo "| $name | $k | $(val entry_bytes) | $bare | $(cols "$(val live_ns)" "$bare") |" \
			"$(cols "$(val mix0_ns)" "$bare") | $(cols "$(val mix1_ns)" "$bare") |"
		MIX["$name/$k"]=$(val mix0_ns)
		[ "$k" = 1 ] && MIX["$name/gen"]=$(val mix1_ns)
	done
done
echo
off=${MIX["features off/1"]:-0}
echo "Relative to features off (1 flow in cache), reference mix:" \
	"--statistical $(ratio "${MIX["--statistical/1"]:-0}" "$off")x," \
	"--splt 20 $(ratio "${MIX["--splt 20/1"]:-0}" "$off")x," \
	"--sample 10 $(ratio "${MIX["--sample 10/1"]:-0}" "$off")x," \
	"the filter $(ratio "${MIX["--filter (passes all)/1"]:-0}" "$off")x;" \
	"a frame sampled out costs $(ratio "${MIX["frame sampled out/1"]:-0}" "$off")x a metered one," \
	"a frame filtered out $(ratio "${MIX["frame filtered out/1"]:-0}" "$off")x." \
	"1 M flows already in the cache: $(ratio "${MIX["features off/1000000"]:-0}" "$off")x;" \
	"the 1M-flow mix: $(ratio "${MIX["features off/gen"]:-0}" "$off")x the reference mix."
echo
echo "A sampled-out frame skips everything but the sampling test (a random number"
echo "and a counter); a filtered-out frame is copied and parsed, then dropped by the"
echo "filter before any cache lookup. The 1M-flow mix costs more per frame than the"
echo "reference mix because one frame in $((gen_frames / GEN_FLOWS)) inserts a new entry (an LRU allocation"
echo "and a compare-and-swap publication) and its million entries do not fit in the"
echo "CPU caches. Entry bytes are what one flow takes in the kernel's cache;"
echo "the map adds its own overhead per element (hash and LRU links)."
