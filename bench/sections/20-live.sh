#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Live capture: the same fixed burst of frames, sent as fast as one core can
# over a veth pair between two namespaces, metered in turn by nfxdp (native
# XDP on the receiving veth) and by each libpcap-based peer on the same
# veth. For each: frames offered, frames found in the exported flows, and
# CPU time on the receiving side per million frames. Writes a Markdown
# section to stdout.
set -u
. "$(dirname "$0")/../lib.sh"

FLOWS=${BENCH_LIVE_FLOWS:-10000}
ROUNDS=${BENCH_LIVE_ROUNDS:-100}
OFFER=$((FLOWS * ROUNDS))
RUNS_LIVE=${BENCH_LIVE_RUNS:-2}
D=$WORK/live
PORT=$((20000 + $$ % 20000)) # NetFlow export to nfcapd, inside the receiving netns

BLAST=$(bench_tool blast) || { log "live: cannot build bench/blast.c"; exit 1; }
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
pair_up || { log "live: cannot create the namespaces"; exit 1; }

. "$(dirname "$0")/../probes.sh"

# measure TOOL: one row of the table (and ROW_CPU, ROW_PCT for the summary).
measure() {
	local t=$1 s0 s1 c0 c1 out sent refused secs counts frames flows status=""
	rm -rf "$D"
	mkdir -p "$D"
	G=$(cg_new)
	"start_$t"
	if ! ready "$t"; then
		log "live: $t did not start: $(tail -2 "$D/tool.log" 2>/dev/null | tr '\n' ' ')"
		echo "| $t | did not start: $(tail -1 "$D/tool.log" 2>/dev/null) | | | | | |"
		[ -n "$PID" ] && kill -KILL "$PID" 2>/dev/null
		cleanup_run
		return
	fi
	sleep 0.5
	c0=$(cg_ns "$G")
	s0=$(softirq_ns)
	out=$(blast --flows "$FLOWS" --rounds "$ROUNDS")
	set -- $out
	sent=$2 refused=$4 secs=$6
	log "live: $t: sent; waiting for it to settle"
	cg_settle "$G" || status="still busy after 60 s; "
	sleep 0.5
	log "live: $t: stopping"
	s1=$(softirq_ns)
	stop_tool "$t"
	status="$status$STOP_NOTE"
	c1=$(cg_ns "$G")
	log "live: $t: stopped"
	stop_collector
	counts=$("count_$t")
	frames=${counts% *}
	flows=${counts#* }
	ROW_CPU=$(awk -v c=$((c1 - c0)) -v s=$((s1 - s0)) -v n="$OFFER" \
		'BEGIN { printf "%.2f", (c + s) / 1e9 / n * 1e6 }')
	ROW_PCT=$(awk -v f="$frames" -v n="$OFFER" 'BEGIN { printf "%.2f", f == "-" ? 0 : 100 * f / n }')
	echo "| $t | $((sent + refused)) | $(rate "$sent" "$secs") | $frames | $( [ "$frames" = - ] && echo - || echo "$ROW_PCT%") | $flows |" \
		"$(awk -v c=$((c1 - c0)) 'BEGIN { printf "%.2f", c / 1e9 }') | $(awk -v s=$((s1 - s0)) 'BEGIN { printf "%.2f", s / 1e9 }') |" \
		"**$ROW_CPU** | ${status%; } |"
	log "live: $t: $sent sent ($refused refused), $frames frames in $flows flows, cpu $ROW_CPU s/M"
	cleanup_run
}
cleanup_run() {
	PID=
	cg_del "$G"
	G=
}

echo "## Live capture on the skb path: fidelity and CPU"
echo
echo "Two network namespaces joined by a veth pair. \`bench/blast.c\` (AF_PACKET,"
echo "\`PACKET_QDISC_BYPASS\`, \`sendmmsg\`), pinned to CPU 0, sends the same"
echo "$OFFER frames (60-byte UDP over IPv4, $FLOWS concurrent flows, $ROUNDS frames each,"
echo "round robin) as fast as it can into the receiving veth, where each tool"
echo "meters in turn: nfxdp with native XDP (\`--iface IF@NETNS\`), the peers with"
echo "libpcap (AF_PACKET) on the same interface. Every tool is stopped the way that"
echo "makes it export what it holds, then its records are counted. Each row is the"
echo "better (less CPU) of $RUNS_LIVE rounds through all the tools (tshark: one round)."
echo "The frames reach the veth as skbs, which veth copies for native XDP: the"
echo "NIC-like path of the section above (xdp_frames, no copy) is nfxdp's main table."
echo
echo "- **frames in flows**: the sum of the packet counts of the records it exported;"
echo "- **tool CPU**: user + system time of all its processes (cgroup), from the first"
echo "  frame to its exit (the final export included);"
echo "- **softirq**: all CPUs' softirq time (\`/proc/stat\`) while the frames were"
echo "  received and processed: the veth's receive path, XDP, the packet taps and"
echo "  the IP stack, which drops the frames (the receiving veth has no address);"
echo "- **CPU s per M frames** = (tool CPU + softirq) / frames offered x 10^6."
echo
echo "On veth the receive side runs in softirq on the sending CPU, so a costlier"
echo "receive path slows the sender: the send rate is the receive rate. With native"
echo "XDP each frame runs nfx_meter and then, with XDP_PASS, goes on to the stack as"
echo "with no XDP; libpcap peers get a copy of each frame from the kernel's packet tap"
echo "(TPACKET ring) and read it in user space."
echo
echo "| tool | frames offered | send rate M/s | frames in flows | of offered | flows | tool CPU s | softirq s | CPU s per M frames | note |"
echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |"
TOOLS=${BENCH_LIVE_TOOLS:-none xdp_pass nfxdp nfxdp_generic softflowd nfpcapd pmacctd argus fprobe ndpi tshark}
declare -A ROW CPU PCT
# Rounds through every tool; each tool's row is the round where it used the
# least CPU (other work on the machine only ever adds). tshark, ten times
# costlier than the rest, runs once.
for round in $(seq "$RUNS_LIVE"); do
	for t in $TOOLS; do
		[ "$t" = tshark ] && [ "$round" -gt 1 ] && continue
		log "live: $t (round $round)"
		row=$(measure "$t")
		cpu=$(echo "$row" | awk -F'|' '{ gsub(/[* ]/, "", $10); print $10 }')
		if [ -z "${ROW[$t]:-}" ] || { [ -n "$cpu" ] && [ -z "${CPU[$t]:-}" ]; } ||
			{ [ -n "$cpu" ] && awk -v a="$cpu" -v b="${CPU[$t]}" 'BEGIN { exit !(a < b) }'; }; then
			ROW[$t]=$row
			CPU[$t]=$cpu
			PCT[$t]=$(echo "$row" | awk -F'|' '{ gsub(/[% ]/, "", $6); print $6 }')
		fi
	done
done
for t in $TOOLS; do
	echo "${ROW[$t]}" | sed -e 's/^| none |/| nothing attached (kernel only) |/' \
		-e 's/^| xdp_pass |/| XDP_PASS program only (native) |/' \
		-e 's/^| nfxdp |/| nfxdp (native XDP) |/' -e 's/^| nfxdp_generic |/| nfxdp --xdp-mode generic |/'
done
echo
best_peer=""
for t in softflowd nfpcapd pmacctd argus fprobe ndpi tshark; do
	[ -n "${CPU[$t]:-}" ] || continue
	if [ -z "$best_peer" ] || awk -v a="${CPU[$t]}" -v b="${CPU[$best_peer]}" 'BEGIN { exit !(a < b) }'; then
		best_peer=$t
	fi
done
if [ -n "$best_peer" ] && [ -n "${CPU[nfxdp]:-}" ]; then
	echo "CPU per frame: nfxdp **$(ratio "${CPU[nfxdp]}" "${CPU[$best_peer]}")x** the cheapest peer ($best_peer),"
	echo "$(ratio "${CPU[nfxdp]}" "${CPU[none]}")x the kernel alone. Frames in flows: nfxdp ${PCT[nfxdp]}%, $best_peer ${PCT[$best_peer]}%."
	behind=""
	for t in softflowd nfpcapd pmacctd argus fprobe ndpi tshark; do
		awk -v a="${PCT[$t]:-0}" -v b="${PCT[nfxdp]}" 'BEGIN { exit !(a > b) }' && behind="$behind $t"
	done
	if [ -z "$behind" ]; then
		echo "No peer put more of the frames in its flows than nfxdp."
	else
		echo "**These peers put more of the frames in their flows than nfxdp:**$behind."
	fi
	if awk -v a="${CPU[nfxdp]}" -v b="${CPU[$best_peer]}" 'BEGIN { exit !(a >= b) }'; then
		sub() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a - b }'; }
		echo
		echo "**nfxdp is not ahead on CPU per frame on this veth test.** Over the kernel alone,"
		echo "nfxdp adds $(sub "${CPU[nfxdp]}" "${CPU[none]}") s per M frames and $best_peer $(sub "${CPU[$best_peer]}" "${CPU[none]}"). Of nfxdp's,"
		echo "$(sub "${CPU[xdp_pass]:-0}" "${CPU[none]}") is native XDP on veth itself (the XDP_PASS row): with a program"
		echo "attached, veth copies every frame into a page with XDP headroom before running"
		echo "it (\`skb_pp_cow_data\` in a profile), a copy a NIC driver with native XDP does not"
		echo "make. The other $(sub "${CPU[nfxdp]}" "${CPU[xdp_pass]:-0}") is the meter's work on each frame in softirq (header"
		echo "copy and parsing, the flow-cache hash lookup, atomic counter updates) and the"
		echo "collector. With $FLOWS flows in strict round robin, every frame touches a different"
		echo "cache entry, so the lookup misses the CPU caches (\`lookup_nulls_elem_raw\` leads"
		echo "the meter's share of a profile); the libpcap peers only copy each frame into"
		echo "their ring in softirq and do their flow lookups in user space, on the other CPU."
	fi
fi
echo
echo "Peers' settings: softflowd \`-m 1000000\` (flow table large enough), exports"
echo "NetFlow v9 to nfcapd (\`-B 128M\` socket buffer) in the same namespace, and is"
echo "stopped with \`softflowctl shutdown\` (SIGTERM makes 1.1.0 exit without exporting);"
echo "fprobe \`-q 1000000\` (its default pending queue of 100 drops at this rate), NetFlow"
echo "v5 to nfcapd; pmacctd print plugin (CSV), stopped with SIGINT; ndpiReader \`-v 2\`"
echo "(its CSV leaves flows out otherwise); tshark \`-q -z conv,udp\` (its conversation"
echo "table; dumpcap captures into a temporary file that tshark reads). softflowd, fprobe"
echo "and pmacctd count IP-layer bytes where nfxdp counts frames; only packets are"
echo "compared here."
