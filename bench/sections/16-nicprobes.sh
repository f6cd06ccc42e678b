#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# nfxdp against the libpcap probes on the NIC-like path (issue 15): frames
# from bench/livegen arrive on the receiving veth as xdp_frames, as from a
# NIC driver; a probe gets them through an XDP_PASS program (what a NIC
# with XDP would run) and the stack's packet tap, nfxdp through its own XDP
# program. The whole CPU each spends per frame: the receiving side (in
# livegen's thread, which runs the veth's NAPI, and ksoftirqd) plus the
# tool's processes. Unpaced and paced. Writes a Markdown section to stdout.
set -u
. "$(dirname "$0")/../lib.sh"

FLOWS=${BENCH_NICPROBES_FLOWS:-10000}
FRAMES=${BENCH_NICPROBES_FRAMES:-2000000}
PPS=${BENCH_NICPROBES_PPS:-250000}
PACED_FRAMES=${BENCH_NICPROBES_PACED_FRAMES:-1000000}
RUNS_NP=${BENCH_NICPROBES_RUNS:-2}
TOOLS=${BENCH_NICPROBES_TOOLS:-xdp_pass nfxdp softflowd nfpcapd pmacctd argus fprobe}
D=$WORK/nicprobes
PORT=$((20000 + $$ % 20000))
LIVEGEN=$B/livegen
[ -x "$LIVEGEN" ] || { log "nicprobes: $LIVEGEN missing (make bench builds it)"; exit 1; }

G=
PID=
COL=
cleanup() {
	[ -n "$PID" ] && kill -KILL "$PID" 2>/dev/null
	[ -n "$COL" ] && kill -KILL "$COL" 2>/dev/null
	wait 2>/dev/null
	[ -n "$G" ] && cg_del "$G"
	pair_down
}
trap cleanup EXIT
trap 'exit 130' INT TERM
pair_up || { log "nicprobes: cannot create the namespaces"; exit 1; }
. "$(dirname "$0")/../probes.sh"

# gen ARGS...: livegen, pinned to CPU 0, into $IF_S; prints its line.
gen() { taskset -c 0 "$LIVEGEN" --iface "$IF_S@$NS_S" --dmac "$MAC_R" "$@"; }

# ksoftirqd_ns: CPU nanoseconds of every ksoftirqd so far (softirqs the
# receiving side left to them are not in livegen's thread time).
ksoftirqd_ns() {
	local p t=0 hz
	hz=$(getconf CLK_TCK)
	for p in $(pgrep '^ksoftirqd/'); do
		t=$((t + $(awk '{ print $14 + $15 }' "/proc/$p/stat")))
	done
	echo $((t * 1000000000 / hz))
}

is_peer() { case $1 in xdp_pass | nfxdp) return 1 ;; esac; }

# measure TOOL FRAMES [livegen options]: one row; sets ROW_NS (whole ns per
# frame) and ROW_PCT (frames in flows, % of offered).
measure() {
	local t=$1 n=$2 c0 c1 k0 k1 sent refused secs gcpu counts frames flows status=""
	shift 2
	rm -rf "$D"
	mkdir -p "$D"
	G=$(cg_new)
	# A probe needs a program on the veth: without one, veth drops xdp_frames.
	is_peer "$t" && start_xdp_pass
	"start_$t"
	if ! ready "$t"; then
		log "nicprobes: $t did not start: $(tail -2 "$D/tool.log" 2>/dev/null | tr '\n' ' ')"
		echo "| $t | did not start: $(tail -1 "$D/tool.log" 2>/dev/null) | | | | | | | | |"
		[ -n "$PID" ] && kill -KILL "$PID" 2>/dev/null
		is_peer "$t" && count_xdp_pass >/dev/null
		ROW_NS= ROW_PCT=
		cleanup_run
		return
	fi
	sleep 0.5
	c0=$(cg_ns "$G")
	k0=$(ksoftirqd_ns)
	set -- $(gen --flows "$FLOWS" --frames "$n" "$@")
	sent=$2 refused=$4 secs=$6 gcpu=$8
	cg_settle "$G" || status="still busy after 60 s; "
	k1=$(ksoftirqd_ns)
	stop_tool "$t"
	status="$status$STOP_NOTE"
	c1=$(cg_ns "$G")
	stop_collector
	counts=$("count_$t")
	is_peer "$t" && count_xdp_pass >/dev/null
	frames=${counts% *}
	flows=${counts#* }
	[ "$refused" != 0 ] && status="${status}$refused frames refused by the veth; "
	ROW_NS=$(awk -v g="$gcpu" -v c=$((c1 - c0)) -v k=$((k1 - k0)) -v n="$n" \
		'BEGIN { printf "%.0f", (g * 1e9 + c + k) / n }')
	ROW_PCT=$(awk -v f="$frames" -v n="$n" 'BEGIN { printf "%.2f", f == "-" ? 0 : 100 * f / n }')
	echo "| $t | $n | $(rate "$sent" "$secs") | $frames | $([ "$frames" = - ] && echo - || echo "$ROW_PCT%") | $flows |" \
		"$(awk -v g="$gcpu" -v n="$n" 'BEGIN { printf "%.0f", g * 1e9 / n }') |" \
		"$(awk -v k=$((k1 - k0)) -v n="$n" 'BEGIN { printf "%.0f", k / n }') |" \
		"$(awk -v c=$((c1 - c0)) -v n="$n" 'BEGIN { printf "%.0f", c / n }') | **$ROW_NS** | ${status%; } |"
	log "nicprobes: $t: $sent sent, $frames frames in $flows flows, $ROW_NS ns/frame"
	cleanup_run
}
cleanup_run() {
	PID=
	cg_del "$G"
	G=
}

# table TITLE FRAMES [livegen options]: every tool, best (least CPU) of
# RUNS_NP rounds; sets NS[tool], PCTS[tool] and BEST (cheapest probe).
table() {
	local title=$1 n=$2 t round row ns
	shift 2
	unset NS PCTS ROWS
	declare -gA NS PCTS ROWS
	for round in $(seq "$RUNS_NP"); do
		for t in $TOOLS; do
			log "nicprobes: $title: $t (round $round)"
			row=$(measure "$t" "$n" "$@")
			ns=$(echo "$row" | awk -F'|' '{ gsub(/[* ]/, "", $11); print $11 }')
			if [ -z "${ROWS[$t]:-}" ] || { [ -n "$ns" ] && { [ -z "${NS[$t]:-}" ] || [ "$ns" -lt "${NS[$t]}" ]; }; }; then
				ROWS[$t]=$row
				NS[$t]=$ns
				PCTS[$t]=$(echo "$row" | awk -F'|' '{ gsub(/[% ]/, "", $6); print $6 }')
			fi
		done
	done
	echo "| tool | frames offered | send rate M/s | frames in flows | of offered | flows | receiving side ns | ksoftirqd ns | tool ns | whole ns per frame | note |"
	echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |"
	for t in $TOOLS; do
		echo "${ROWS[$t]}" | sed -e 's/^| xdp_pass |/| XDP_PASS program only |/' \
			-e 's/^| nfxdp |/| nfxdp (native XDP) |/' -e 's/^| \([a-z]*\) |/| \1 (libpcap, behind XDP_PASS) |/'
	done
	BEST=
	for t in $TOOLS; do
		is_peer "$t" && [ -n "${NS[$t]:-}" ] || continue
		{ [ -z "$BEST" ] || [ "${NS[$t]}" -lt "${NS[$BEST]}" ]; } && BEST=$t
	done
	echo
	if [ -n "$BEST" ] && [ -n "${NS[nfxdp]:-}" ]; then
		echo "nfxdp's whole CPU per frame **$(ratio "${NS[nfxdp]}" "${NS[$BEST]}")x** the cheapest probe's ($BEST);"
		echo "over the XDP_PASS row (the path both share): nfxdp +$((NS[nfxdp] - NS[xdp_pass])) ns,"
		echo "$BEST +$((NS[$BEST] - NS[xdp_pass])) ns ($(ratio $((NS[nfxdp] - NS[xdp_pass])) $((NS[$BEST] - NS[xdp_pass])))x)."
		echo "Frames in flows: nfxdp ${PCTS[nfxdp]}%, $BEST ${PCTS[$BEST]}%."
	fi
}

echo "### Against the libpcap probes on the NIC-like path"
echo
echo "The path of the table above: \`bench/livegen\` on CPU 0 redirects $FLOWS UDP flows"
echo "round robin (60-byte frames) into a veth as xdp_frames, and the receiving veth runs"
echo "its XDP program on them in NAPI, as a NIC driver would. nfxdp meters them in its"
echo "XDP program (\`--iface\`, defaults, records to CSV); each libpcap probe runs on the"
echo "same interface behind an XDP program that only returns XDP_PASS (what a NIC with"
echo "XDP attached would run for it): the frame becomes an skb and the packet tap copies"
echo "it into the probe's ring. nfxdp's program passes the frame on too, so the stack's"
echo "share is the same in every row. Best (least CPU) of $RUNS_NP rounds through all tools."
echo
echo "- **receiving side**: livegen's thread CPU time per frame offered, which holds the"
echo "  veth's NAPI (the XDP program, the skb, the packet tap, the IP stack's drop) and"
echo "  livegen's own making of the frame; **ksoftirqd**: softirq work left to ksoftirqd"
echo "  (both CPUs); **tool**: the CPU time of the tool's processes (cgroup), to its exit"
echo "  after the final export; **whole** = the three together."
echo "- Peers' settings as in the skb-path table below."
echo
echo "**As fast as one core sends** ($FRAMES frames):"
echo
table unpaced "$FRAMES"
UNP_NFX=${NS[nfxdp]:-} UNP_BEST=$BEST UNP_BEST_NS=${NS[$BEST]:-}
echo
echo "**Paced at $PPS frames/s** ($PACED_FRAMES frames), where a probe can keep up:"
echo
table paced "$PACED_FRAMES" --pps "$PPS"
echo
if [ -n "${NS[nfxdp]:-}" ] && [ -n "$BEST" ]; then
	r=$(ratio "${NS[nfxdp]}" "${NS[$BEST]}")
	if awk -v r="$r" 'BEGIN { exit !(r <= 0.5) }'; then
		verdict="**met**"
	else
		verdict="**missed**: $(awk -v r="$r" 'BEGIN { printf "%.0f", (r / 0.5 - 1) * 100 }') % over"
	fi
	echo "- goal (issue 15): nfxdp's whole CPU per frame at most half the cheapest probe's, at"
	echo "  100 % of frames in flows; paced: ${r}x ($BEST), $verdict; nfxdp ${PCTS[nfxdp]}%"
	echo "  of frames in flows, $BEST ${PCTS[$BEST]}%. Unpaced: $(ratio "${UNP_NFX:-0}" "${UNP_BEST_NS:-0}")x ($UNP_BEST)."
	echo "  Both figures hold the path every row shares (the XDP_PASS row, ${NS[xdp_pass]:-?} ns paced):"
	echo "  half the cheapest probe's whole would leave nfxdp $(( ${NS[$BEST]:-0} / 2 - ${NS[xdp_pass]:-0} )) ns over that path"
	echo "  where $BEST adds $(( ${NS[$BEST]:-0} - ${NS[xdp_pass]:-0} )); the added cost is the figure the meter can move."
fi
