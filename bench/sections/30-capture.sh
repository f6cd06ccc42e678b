#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Capture files: packets/s of nfxdp --pcap and of each peer's offline mode
# over the same files, with the CPU time of all their processes and the flow
# counts each produced. Writes a Markdown section to stdout.
set -u
. "$(dirname "$0")/../lib.sh"

D=$WORK/capture
PORT=$((30000 + $$ % 10000))
PREFIX_FRAMES=${BENCH_PREFIX_FRAMES:-1000000}
BLAST=$(bench_tool blast) || { log "capture: cannot build bench/blast.c"; exit 1; }
COL=
cleanup() {
	[ -n "$COL" ] && kill -KILL "$COL" 2>/dev/null
	wait 2>/dev/null
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# A NetFlow collector for fprobe, which only exports NetFlow.
NFDIR=
start_collector() {
	# Runs in a subshell each time: a port and a directory of its own from the clock.
	PORT=$((30000 + 10#$(date +%N) % 20000))
	NFDIR=$D/nfcapd-$(date +%s%N)
	mkdir -p "$NFDIR"
	nfcapd -B 134217728 -b 127.0.0.1 -p "$PORT" -w "$NFDIR" -t 3600 >"$D/collector.log" 2>&1 &
	COL=$!
	sleep 0.3
}
stop_collector() {
	local i
	[ -n "$COL" ] || return 0
	kill -TERM "$COL"
	for i in $(seq 100); do
		kill -0 "$COL" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$COL" 2>/dev/null
	wait "$COL" 2>/dev/null
	COL=
}
# nfdump_counts DIR: "flows packets" of the nfcapd files in DIR.
nfdump_counts() {
	nfdump -R "$1" -N 2>/dev/null | awk '/^Summary:/ {
		for (i = 1; i <= NF; i++) { if ($i == "flows:") f = $(i + 1); if ($i == "packets:") p = $(i + 1) }
		gsub(",", "", f); gsub(",", "", p); print f + 0, p + 0 }'
}

# Each tool: cmd_TOOL FILE prints the command line of one run (cpu_run runs
# it); counts_TOOL prints "flows frames" found in what it produced.
# The kernel's meter (BPF_PROG_TEST_RUN), as this section describes it; the
# user-space meter, the default for files, has a section of its own.
# Each run writes a new file, as the peers below do: truncating the last one's
# costs a synchronous discard on a file system mounted with discard.
cmd_nfxdp() { rm -f "$D/nfxdp.pb"; echo "$B/nfxdp --pcap $1 --meter kernel --output $D/nfxdp.pb --format pb"; }
# nfx_stat NAME: the last value of NAME in nfxdp's counters (stderr of the last run).
nfx_stat() { grep -o " $1=[0-9]*" "$WORK/last.err" | tail -1 | cut -d= -f2; }
counts_nfxdp() { echo "$(nfx_stat flows_exported) $(nfx_stat frames_metered)"; }
# With --dpi (nDPI on each flow's first 20 packets, as NFStream's default) as a
# user runs it: the meter in user space (the default for files), in batches, the
# frames kept whole beside the slots for the copy into the DPI ring.
cmd_nfxdp_dpi() { rm -f "$D/nfxdp-dpi.pb"; echo "$B/nfxdp --pcap $1 --dpi 20 --output $D/nfxdp-dpi.pb --format pb"; }
counts_nfxdp_dpi() { counts_nfxdp; }
# -m: room for every flow (its default of 8192 force-expires flows).
cmd_softflowd() { echo "softflowd -6 -m 2000000 -r $1"; }
counts_softflowd() {
	cat "$WORK/last.out" "$WORK/last.err" | awk '/^Flows exported:/ { f = $3 } /^Packets processed:/ { p = $3 }
		END { print f + 0, p + 0 }'
}
cmd_nfpcapd() { rm -rf "$D/nfpcapd"; mkdir -p "$D/nfpcapd"; echo "nfpcapd -r $1 -w $D/nfpcapd"; }
counts_nfpcapd() { nfdump_counts "$D/nfpcapd"; }
cmd_argus() { rm -f "$D/argus.out"; echo "argus -r $1 -w $D/argus.out"; }
counts_argus() { racount -r "$D/argus.out" 2>/dev/null | awk '$1 == "sum" { print $2, $3 }'; }
cmd_ndpi() { rm -f "$D/ndpi.csv"; echo "ndpiReader -i $1 -v 2 -C $D/ndpi.csv"; }
counts_ndpi() {
	awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) { if ($i == "c_to_s_pkts") a = i; if ($i == "s_to_c_pkts") b = i }; next }
		{ p += $a + $b; n++ } END { print n + 0, p + 0 }' "$D/ndpi.csv" 2>/dev/null
}
# The print plugin rewrites its file at every purge of its cache unless told
# to append: a configuration file, as the command line cannot say it.
cmd_pmacctd() {
	rm -f "$D/pmacct.csv"
	printf '%s\n' "pcap_savefile: $1" "plugins: print" \
		"aggregate: src_host,dst_host,src_port,dst_port,proto" "print_output: csv" \
		"print_output_file: $D/pmacct.csv" "print_output_file_append: true" >"$D/pmacctd.conf"
	echo "pmacctd -f $D/pmacctd.conf"
}
counts_pmacctd() {
	awk -F, '$1 == "SRC_IP" { for (i = 1; i <= NF; i++) if ($i == "PACKETS") c = i; next }
		{ p += $c; n++ } END { print n + 0, p + 0 }' "$D/pmacct.csv" 2>/dev/null
}
cmd_fprobe() { echo "fprobe -l 2 -q 1000000 -i - 127.0.0.1:$PORT"; }
counts_fprobe() { stop_collector; nfdump_counts "$NFDIR"; rm -rf "$NFDIR"; }
cmd_tshark() { echo "tshark -r $1 -q -z conv,ip"; }
counts_tshark() { awk '$2 == "<->" { p += $10; n++ } END { print n + 0, p + 0 }' "$WORK/last.out"; }

label() {
	case $1 in
	nfxdp) echo '`nfxdp --pcap F --meter kernel --output F.pb --format pb`' ;;
	nfxdp_dpi) echo '`nfxdp --pcap F --dpi 20 --output F.pb --format pb`' ;;
	softflowd) echo '`softflowd -6 -m 2000000 -r F`' ;;
	nfpcapd) echo '`nfpcapd -r F -w DIR`' ;;
	argus) echo '`argus -r F -w F.argus` (records)' ;;
	ndpi) echo '`ndpiReader -i F -v 2 -C F.csv`' ;;
	pmacctd) echo '`pmacctd` print plugin, CSV (5-tuple)' ;;
	fprobe) echo '`fprobe -i - < F` to nfcapd' ;;
	tshark) echo '`tshark -r F -q -z conv,ip` (IP pairs)' ;;
	esac
}

# UDP datagrams dropped for want of receive buffer (NetFlow to nfcapd).
udp_rcvbuf_errors() { awk '$1 == "Udp:" && $6 ~ /^[0-9]+$/ { print $6 }' /proc/net/snmp; }

# once TOOL FILE: "wall cpu flows frames" of one run.
once() {
	local t=$1 f=$2 g r
	g=$(cg_new)
	if [ "$t" = fprobe ]; then
		start_collector
		u0=$(udp_rcvbuf_errors)
		r=$(cpu_run "$g" sh -c "$(cmd_fprobe "$f") <$f")
		sleep 0.5
		echo "$(basename "$f") $(($(udp_rcvbuf_errors) - u0))" >>"$D/fprobe-udp-drops"
	else
		r=$(cpu_run "$g" $("cmd_$t" "$f"))
	fi
	cg_del "$g"
	echo "$r $("counts_$t")"
}

# bests FILE RUNS TOOLS...: "TOOL wall cpu flows frames" for each tool, its
# run with the least wall time. Round by round, each tool in turn: this
# machine's speed drifts between minutes, and one tool's runs all in one
# stretch of it would carry that stretch into its figures.
bests() {
	local file=$1 runs=$2 i t r
	shift 2
	local -A b
	for i in $(seq "$runs"); do
		for t in "$@"; do
			log "capture: $t on $(basename "$file"), round $i of $runs"
			r=$(once "$t" "$file")
			if [ -z "${b[$t]:-}" ] || awk -v a="${r%% *}" -v b="${b[$t]%% *}" 'BEGIN { exit !(a < b) }'; then
				b[$t]=$r
			fi
		done
	done
	for t in "$@"; do
		echo "$t ${b[$t]}"
	done
}

# table FILE RUNS TOOLS...: one table; NFX_WALL/NFX_CPU for the summary.
table() {
	local file=$1 runs=$2 t r wall cpu flows packets best_peer="" best_rate=0
	shift 2
	packets=$(frames "$file")
	echo "| tool | command | wall s | CPU s | M frames/s | M frames per CPU s | flows | frames in flows | nfxdp faster by (wall) | (CPU) |"
	echo "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
	local -A W C F P
	while read -r t r; do
		set -- $r
		W[$t]=$1 C[$t]=$2 F[$t]=${3:-?} P[$t]=${4:-?}
	done < <(bests "$file" "$runs" "$@")
	for t in nfxdp nfxdp_dpi softflowd nfpcapd argus fprobe ndpi pmacctd tshark; do
		[ -n "${W[$t]:-}" ] || continue
		echo "| $(tool_name "$t") | $(label "$t") | ${W[$t]} | ${C[$t]} | $(rate "$packets" "${W[$t]}") |" \
			"$(rate "$packets" "${C[$t]}") | ${F[$t]} |" \
			"$(awk -v p="${P[$t]}" -v n="$packets" 'BEGIN { printf "%.1f%%", (n ? 100 * p / n : 0) }') |" \
			"$( [ "$t" = nfxdp ] && echo "-" || echo "$(ratio "${W[$t]}" "${W[nfxdp]}")x") |" \
			"$( [ "$t" = nfxdp ] && echo "-" || echo "$(ratio "${C[$t]}" "${C[nfxdp]}")x") |"
		if [ "$t" != nfxdp ] && [ "$t" != nfxdp_dpi ] && awk -v a="${W[$t]}" -v b="${best_rate:-0}" 'BEGIN { exit !(b == 0 || a < b) }'; then
			best_rate=${W[$t]}
			best_peer=$t
		fi
	done
	echo
	if [ -n "$best_peer" ]; then
		local pn pb
		pn=$(awk -v p="${P[nfxdp]}" -v n="$packets" 'BEGIN { printf "%.1f", (n ? 100 * p / n : 0) }')
		pb=$(awk -v p="${P[$best_peer]}" -v n="$packets" 'BEGIN { printf "%.1f", (n ? 100 * p / n : 0) }')
		echo "nfxdp: **$(ratio "$best_rate" "${W[nfxdp]}")x** the speed of the fastest peer ($best_peer) by wall time,"
		echo "$(ratio "${C[$best_peer]}" "${C[nfxdp]}")x by CPU time; frames in flows: nfxdp $pn%, $best_peer $pb%."
		if awk -v a="${W[nfxdp]}" -v b="$best_rate" 'BEGIN { exit !(a >= b) }'; then
			echo "**nfxdp is slower than $best_peer on this file.**"
			if awk -v a="$pb" -v b="$pn" 'BEGIN { exit !(a < b - 1) }'; then
				echo "$best_peer gets there by leaving $(awk -v a="$pb" 'BEGIN { printf "%.1f", 100 - a }')% of the frames out of its flows."
			fi
		fi
	fi
	if [ -n "${W[nfxdp_dpi]:-}" ] && [ -n "${W[ndpi]:-}" ]; then
		echo
		echo "With application detection: \`nfxdp --dpi 20\` $(rate "$packets" "${W[nfxdp_dpi]}") M frames/s, ndpiReader"
		echo "$(rate "$packets" "${W[ndpi]}") M frames/s: nfxdp **$(ratio "${W[ndpi]}" "${W[nfxdp_dpi]}")x** ndpiReader's speed by wall time,"
		echo "$(ratio "${C[ndpi]}" "${C[nfxdp_dpi]}")x by CPU time ($(ratio "${W[nfxdp_dpi]}" "${W[nfxdp]}")x the wall time of nfxdp without \`--dpi\`)."
		if awk -v a="${W[nfxdp_dpi]}" -v b="${W[ndpi]}" 'BEGIN { exit !(a >= b) }'; then
			echo "**nfxdp with \`--dpi\` is slower than ndpiReader on this file.**"
		fi
	fi
}
tool_name() {
	case $1 in
	nfxdp_dpi) echo "nfxdp --dpi 20" ;;
	*) echo "$1" ;;
	esac
}

rm -rf "$D"
mkdir -p "$D"
log "capture files: preparing"
ref=$(ref_capture) || exit 1
gen=$(gen_capture) || exit 1
mid=$(gen_capture 2000000 50000) || exit 1
prefix=$D/prefix.pcap
# The first frames of the generated capture, for the slowest peers.
tcpdump -r "$gen" -c "$PREFIX_FRAMES" -w "$prefix" 2>/dev/null
tiny=$D/one-frame.pcap
"$BLAST" --pcap "$tiny" --flows 1 --rounds 1 >/dev/null

echo "## Capture files"
echo
echo "Each tool's offline mode over the same file, in rounds: each round runs every tool once,"
echo "in turn, and each tool's best round is shown."
echo "**wall s**: elapsed time; **CPU s**: user + system time of all its processes"
echo "(cgroup; nfxdp reads the file on one thread while the kernel meters on another,"
echo "so its CPU time can exceed its wall time); **flows**: what each produced. They"
echo "split and count flows differently: nfpcapd, fprobe and argus make one record per"
echo "direction (argus also one per 5 s status interval of long flows), softflowd splits"
echo "at TCP teardown, tshark counts IP address pairs, pmacctd aggregates by 5-tuple;"
echo "nfxdp and ndpiReader make one bidirectional flow per 5-tuple (nfxdp also splits at"
echo "TCP teardown). fprobe reads the file from stdin and exports NetFlow v5 over UDP to"
echo "nfcapd on loopback, whose flows are counted. **frames in flows**: the frames"
echo "counted into the flows each produced, against the frames of the file (frames"
echo "that are not IP, and some fragments, are in no tool's flows). nfxdp runs with"
echo "its kernel meter here (\`--meter kernel\`; the user-space meter, the default for"
echo "files, is measured in its own section below); **nfxdp --dpi 20** adds nDPI on"
echo "each flow's first 20 packets (NFStream's default) with the default meter for"
echo "files, the one in user space (batches, as without \`--dpi\`; the kernel's meter"
echo "would go frame by frame, see the application detection table below), next to"
echo "ndpiReader, the same nDPI 4.2 library, dissecting each flow until its detection"
echo "completes."
echo
echo "### The NFStream reference captures, concatenated"
echo
echo "$(du -mL "$ref" | cut -f1) MB, $(frames "$ref") frames (Ethernet captures of \`shared/reference/nfstream/pcaps\`), best of $RUNS runs."
echo
table "$ref" "$RUNS" nfxdp nfxdp_dpi softflowd nfpcapd argus fprobe ndpi pmacctd tshark >"$D/ref.md"
cat "$D/ref.md"
TSHARK_RATE=$(awk -F'|' '$2 ~ /tshark/ { gsub(/ /, "", $6); print $6 }' "$D/ref.md")
echo
"$B/nfxdp" --pcap "$ref" --no-zmq --output /dev/null --format csv 2>"$D/ref-nfxdp.log" >/dev/null
frag=$(grep -o ' ignored_fragment=[0-9]*' "$D/ref-nfxdp.log" | tail -1 | cut -d= -f2)
nonip=$(grep -o ' ignored_non_ip=[0-9]*' "$D/ref-nfxdp.log" | tail -1 | cut -d= -f2)
echo "Frames in flows: nfxdp leaves out the IP fragments after the first (${frag:-0} here: they carry"
echo "no ports), as NFStream, nfpcapd and ndpiReader do, and frames that are not IP (${nonip:-0});"
echo "softflowd, argus, pmacctd and tshark count fragments into their flows."
echo
log "capture: fixed costs"
while read -r t w _; do
	case $t in
	nfxdp) nfx_tiny=$w ;;
	softflowd) sfd_tiny=$w ;;
	esac
done < <(bests "$tiny" 5 nfxdp softflowd)
nfx_ref=$(awk -F'|' '$2 == " nfxdp " { gsub(/ /, "", $4); print $4 }' "$D/ref.md")
sfd_ref=$(awk -F'|' '$2 ~ /^ softflowd / { gsub(/ /, "", $4); print $4 }' "$D/ref.md")
ms() { awk -v a="$1" -v b="${2:-0}" 'BEGIN { printf "%.0f", (a - b) * 1000 }'; }
echo "**Fixed cost per run**, measured on a one-frame capture (best of 5): nfxdp"
echo "$(ms "${nfx_tiny%% *}") ms, softflowd $(ms "${sfd_tiny%% *}") ms. nfxdp loads and verifies its BPF programs and"
echo "creates its maps (the flow cache, the export ring, the replay slots) before the"
echo "first frame. Less the fixed costs, the reference frames themselves took nfxdp"
echo "$(ms "$nfx_ref" "${nfx_tiny%% *}") ms and softflowd $(ms "$sfd_ref" "${sfd_tiny%% *}") ms."
if awk -v a="$nfx_ref" -v b="$sfd_ref" 'BEGIN { exit !(a > b) }'; then
	if awk -v a="$nfx_ref" -v b="${nfx_tiny%% *}" -v c="$sfd_ref" -v d="${sfd_tiny%% *}" 'BEGIN { exit !(a - b <= c - d) }'; then
		echo "**nfxdp is slower than softflowd on this small file because of that fixed"
		echo "startup cost** (BPF load and verification, map creation), not its per-frame work."
	else
		echo "**nfxdp is slower than softflowd on this small file**, by its fixed startup"
		echo "cost (BPF load and verification, map creation) and on the frames as well."
	fi
fi
echo "pmacctd sleeps about 2 s at start and at exit with a capture file, and fprobe"
echo "and argus spend most of their wall time on this file waiting, not computing:"
echo "compare their CPU time."
echo
echo "### A generated capture: $(frames "$mid") frames, 50000 flows"
echo
echo "\`nfxdp-gencap --packets 2000000 --flows 50000\`: $(du -mL "$mid" | cut -f1) MB, made as the larger one"
echo "below; best of $RUNS runs. pmacctd and tshark are too slow for it within this"
echo "benchmark's time budget (they run on a prefix of the larger capture below)."
echo
table "$mid" "$RUNS" nfxdp nfxdp_dpi softflowd nfpcapd argus fprobe ndpi
echo
echo "### A generated capture: $(frames "$gen") frames, $GEN_FLOWS flows"
echo
echo "\`nfxdp-gencap --packets $GEN_PACKETS --flows $GEN_FLOWS\`: $(du -mL "$gen" | cut -f1) MB; 70% TCP with"
echo "handshakes and teardowns (at least 8 frames each, hence more frames than asked),"
echo "UDP, ICMP, 20% IPv6, heavy-tailed flow sizes, 60 s of capture time. One run each."
echo "ndpiReader, pmacctd and tshark are too slow for it within this benchmark's time"
echo "budget (below: they run on its first $PREFIX_FRAMES frames instead)."
echo
table "$gen" 1 nfxdp softflowd nfpcapd argus fprobe
echo
drops=$(awk -v f="$(basename "$gen")" '$1 == f { print $2 }' "$D/fprobe-udp-drops" 2>/dev/null | tail -1)
if [ "${drops:-}" = 0 ]; then
	echo "No NetFlow datagram of fprobe's was dropped on its way to nfcapd (UDP receive"
	echo "buffer errors in \`/proc/net/snmp\` did not move): the frames it left out were"
	echo "dropped inside fprobe."
elif [ -n "${drops:-}" ]; then
	echo "$drops UDP datagrams (up to 30 flow records each) were dropped on their way from"
	echo "fprobe to nfcapd during its run (UDP receive buffer errors, \`/proc/net/snmp\`):"
	echo "part or all of what fprobe left out is lost in that export, not in fprobe."
fi
echo
echo "### The first $PREFIX_FRAMES frames of the generated capture"
echo
echo "$(du -mL "$prefix" | cut -f1) MB, $(frames "$prefix") frames: the slow peers next to nfxdp and the others, one run each."
echo "tshark is left out: at its reference-set rate (${TSHARK_RATE:-?} M frames/s, above) this file"
echo "alone would take $(awk -v r="${TSHARK_RATE:-0}" -v n="$PREFIX_FRAMES" 'BEGIN { printf "%.0f", (r > 0 ? n / r / 1e6 : 0) }') s, and its conversation table slows further as conversations"
echo "accumulate."
echo
table "$prefix" 1 nfxdp nfxdp_dpi softflowd nfpcapd argus fprobe ndpi pmacctd
rm -f "$prefix"
declare -A DPI_CPU

# --- --dpi: the collector's CPU per dissected flow ----------------------------
# statz NAME: nfx_stat NAME, 0 when absent.
statz() {
	local v
	v=$(nfx_stat "$1")
	echo "${v:-0}"
}
# dpi_once FILE OPTS...: "wall cpu dpi_flows dpi_packets_fed flows dpi_ring_full
# dpi_flows_full" of one run of nfxdp --pcap FILE OPTS.
dpi_once() {
	local f=$1 g r
	shift
	g=$(cg_new)
	r=$(cpu_run "$g" "$B/nfxdp" --pcap "$f" "$@" --output "$D/dpi-cpu.pb" --format pb)
	cg_del "$g"
	echo "$r $(statz dpi_flows) $(statz dpi_packets_fed) $(statz flows_exported) $(statz dpi_ring_full) $(statz dpi_flows_full)"
}
# dpi_runs FILE: three lines, dpi_once's for batch, kernel --dpi 20 and
# --dpi 20, each the run of RUNS with the least CPU; in rounds, as bests().
dpi_runs() {
	local f=$1 i c r
	local -A b
	local -A opts=([batch]="" [kernel]="--meter kernel --dpi 20" [dpi]="--dpi 20")
	for i in $(seq "$RUNS"); do
		for c in batch kernel dpi; do
			r=$(dpi_once "$f" ${opts[$c]})
			if [ -z "${b[$c]:-}" ] || awk -v a="$(echo "$r" | cut -d' ' -f2)" -v b="$(echo "${b[$c]}" | cut -d' ' -f2)" 'BEGIN { exit !(a < b) }'; then
				b[$c]=$r
			fi
		done
	done
	printf '%s\n' "${b[batch]}" "${b[kernel]}" "${b[dpi]}"
}
echo
echo "### Application detection: the collector's CPU per dissected flow"
echo
echo "\`nfxdp --pcap F --output F.pb --format pb\` three ways, best of $RUNS rounds by CPU time"
echo "(user + system, all threads, the kernel's metering included): **batch**, the"
echo "default meter for files (user space, frame headers in batches); **\`--dpi 20\`**,"
echo "the same with nDPI on each flow's first 20 packets (the frames kept whole beside"
echo "the batch's slots, the payload copied into the DPI ring); **kernel \`--dpi 20\`**,"
echo "\`--meter kernel --dpi 20\`, which replays frame by frame (one \`BPF_PROG_TEST_RUN\`"
echo "each: the kernel's batch entry point sees frame headers only). **DPI CPU s**,"
echo "\`--dpi 20\` less batch, is what application detection costs: the copies into the"
echo "DPI ring and the collector's reading of it, nDPI's dissection and its per-flow"
echo "state. **flows dissected** and **packets to nDPI**: \`dpi_flows\` and"
echo "\`dpi_packets_fed\` from nfxdp's counters."
echo
echo "| capture | frames | flows | batch CPU s | \`--dpi 20\` CPU s | \`--dpi 20\` wall s | kernel \`--dpi 20\` CPU s | flows dissected | packets to nDPI | DPI CPU s | us per dissected flow | us per packet to nDPI | ring full | flows not dissected |"
echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
for f in "$ref" "$mid"; do
	log "capture: --dpi CPU on $(basename "$f")"
	{ read -r a; read -r kd; read -r dp; } < <(dpi_runs "$f")
	set -- $dp
	dwall=$1 dcpu=$2 dflows=$3 dpk=$4 flows=$5 rfull=$6 ffull=$7
	acpu=$(echo "$a" | cut -d' ' -f2)
	kcpu=$(echo "$kd" | cut -d' ' -f2)
	extra=$(awk -v a="$dcpu" -v b="$acpu" 'BEGIN { printf "%.3f", a - b }')
	echo "| $(basename "$f") | $(frames "$f") | $flows | $acpu | $dcpu | $dwall | $kcpu | $dflows | $dpk | $extra |" \
		"$(awk -v e="$extra" -v n="$dflows" 'BEGIN { printf "%.1f", (n ? e * 1e6 / n : 0) }') |" \
		"$(awk -v e="$extra" -v n="$dpk" 'BEGIN { printf "%.2f", (n ? e * 1e6 / n : 0) }') | $rfull | $ffull |"
	DPI_CPU[$(basename "$f")]="$acpu $dcpu $kcpu"
done
echo
r=(${DPI_CPU[$(basename "$mid")]})
echo "On $(basename "$mid"), \`--dpi 20\` takes $(ratio "${r[1]}" "${r[0]}")x the CPU of the batch replay"
echo "without it; the kernel's meter, frame by frame, $(ratio "${r[2]}" "${r[0]}")x."
echo
echo "Where \`nfxdp --pcap F --dpi 20\` spends its time on $(basename "$mid")"
echo "(\`perf record -e cpu-clock\`, every thread, kernel included): by shared object,"
echo "then the top symbols."
echo
echo '```'
perf record -q -e cpu-clock -o "$D/perf.data" -- "$B/nfxdp" --pcap "$mid" --dpi 20 \
	--output "$D/dpi-cpu.pb" --format pb >/dev/null 2>&1
perf report -i "$D/perf.data" --stdio --sort dso 2>/dev/null | grep -v '^#' | grep -v '^$' | head -8
echo
perf report -i "$D/perf.data" --stdio --sort symbol 2>/dev/null | grep -v '^#' | grep -v '^$' | head -20
echo '```'
rm -f "$D/perf.data" "$D/dpi-cpu.pb"
