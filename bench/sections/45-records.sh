#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Records without a kernel: how fast the collector builds, packs and
# publishes flow records, and how fast nfxdp-cat passes or prints them.
# bench/recbench.c drives the collector's own record path (record_build,
# batch_pack, the ZeroMQ and file exporters) on synthetic closed flows; the
# nfxdp-cat of BENCH_RECORDS_BASE (default 07a1ae3, before the fast paths)
# is built apart for the before/after ratios. Writes a Markdown section.
set -u
. "$(dirname "$0")/../lib.sh"

N=${BENCH_RECORDS_FLOWS:-1000000}
BASE=${BENCH_RECORDS_BASE:-07a1ae3}
D=$WORK/records
RB=$B/recbench
PORT=$((41000 + $$ % 20000))
[ -x "$RB" ] || { log "records: $RB is missing (make bench builds it)"; exit 1; }
rm -rf "$D" && mkdir -p "$D"

# The nfxdp-cat of $BASE, built in $D (empty when it cannot be).
base_cat() {
	local src=$D/base-src bld=$D/base-build
	mkdir -p "$src"
	git -C "$TOP" archive "$BASE" 2>/dev/null | tar -x -C "$src" &&
		make -C "$src" -j2 BUILD="$bld" "$bld/nfxdp-cat" >"$D/base-build.log" 2>&1 &&
		echo "$bld/nfxdp-cat"
}

# min_pair BEST NEW: "seconds cpu_seconds rest..." with the smaller of each
# time (a shared machine's load lengthens runs; the least is the tool's own),
# the rest from the faster run.
min_pair() {
	[ -z "$1" ] && { echo "$2"; return; }
	awk -v a="$1" -v b="$2" 'BEGIN { n = split(a, x); split(b, y); f = y[1] < x[1]
		printf "%s %s", (f ? y[1] : x[1]), (y[2] < x[2] ? y[2] : x[2])
		for (i = 3; i <= n; i++) printf " %s", (f ? y[i] : x[i]); print "" }'
}

# pub FEAT PBC CPUS: the best of RUNS of N records published by recbench on
# the CPUs before ':' to a counting consumer on those after it; prints
# "seconds cpu_seconds peak_rss_kb received lost_batches" (PBC=1: packed by
# protobuf-c, as before pb_encode()).
pub() {
	local feat=$1 pbc=$2 cpus=$3 best="" line got i cpid
	for i in $(seq "$RUNS"); do
		PORT=$((PORT + 1))
		taskset -c "${cpus#*:}" "$RB" count "tcp://127.0.0.1:$PORT" "$N" >"$D/count.out" 2>"$D/count.err" &
		cpid=$!
		line=$(env ${pbc:+RECBENCH_PBC=1} taskset -c "${cpus%%:*}" "$RB" pub "$N" \
			"tcp://127.0.0.1:$PORT" "$feat" 2>"$D/pub.err")
		wait "$cpid"
		got=$(awk '{ print $1, $3 }' "$D/count.out")
		set -- $line
		[ $# -ge 4 ] || { log "records: pub $feat failed: $(head -1 "$D/pub.err")"; continue; }
		best=$(min_pair "$best" "$2 $3 $4 ${got:-0 0}")
	done
	echo "${best:-0 0 0 0 0}"
}

# catrun BIN FEAT FMT: the best of RUNS of BIN --input (N records of FEAT)
# --format FMT into a pipe read on the other CPU; prints "seconds cpu_seconds".
catrun() {
	local bin=$1 feat=$2 fmt=$3 best="" t i
	for i in $(seq "$RUNS"); do
		/usr/bin/time -f "%e %U %S" -o "$D/time" taskset -c 0 "$bin" --input "$D/in-$feat.pb" \
			--format "$fmt" 2>/dev/null | taskset -c 1 cat >/dev/null
		best=$(min_pair "$best" "$(awk 'END { printf "%s %.2f", $1, $2 + $3 }' "$D/time")")
	done
	echo "$best"
}

rate_k() { awk -v n="$1" -v s="$2" 'BEGIN { printf "%.0f", (s > 0 ? n / s / 1000 : 0) }'; }

# top_symbols PERFDATA: the symbols over 3 % of the samples, "name NN%".
top_symbols() {
	perf report -i "$1" --no-children --sort sym --stdio 2>/dev/null |
		awk '$1 ~ /%$/ && $1 + 0 >= 3 { sub(/^\[.\] /, "", $0); printf "%s`%s` %s", sep, $NF, $1; sep = ", " }'
}

LOAD0=$(cut -d' ' -f1 /proc/loadavg)
log "records: building the nfxdp-cat of $BASE"
OLD=$(base_cat) || OLD=
[ -n "$OLD" ] || log "records: no nfxdp-cat of $BASE (see $D/base-build.log): no before column"
for feat in plain splt; do
	"$RB" file "$N" "$D/in-$feat.pb" "$feat" || { log "records: recbench file failed"; exit 1; }
done

declare -A P C
for feat in plain splt; do
	log "records: publishing $N $feat records"
	P[$feat]=$(pub "$feat" "" 0:1)
	P[$feat-pbc]=$(pub "$feat" 1 0:1)
done
P[two]=$(pub plain "" 0,1:0,1)
for feat in plain splt; do
	for fmt in pb jsonl csv; do
		log "records: nfxdp-cat --format $fmt, $feat records"
		C[$feat-$fmt]=$(catrun "$B/nfxdp-cat" "$feat" "$fmt")
		[ -n "$OLD" ] && [ "$fmt" != pb ] && C[$feat-$fmt-old]=$(catrun "$OLD" "$feat" "$fmt")
	done
done
PROF_PUB=
PROF_CAT=
PROF_JSON=
if command -v perf >/dev/null; then
	PORT=$((PORT + 1))
	taskset -c 1 "$RB" count "tcp://127.0.0.1:$PORT" "$N" >/dev/null 2>&1 &
	taskset -c 0 perf record -q -e cpu-clock -o "$D/pub.perf" "$RB" pub "$N" "tcp://127.0.0.1:$PORT" \
		>/dev/null 2>&1
	wait
	PROF_PUB=$(top_symbols "$D/pub.perf")
	perf record -q -e cpu-clock -o "$D/cat.perf" "$B/nfxdp-cat" --input "$D/in-plain.pb" \
		--format csv >/dev/null 2>&1
	PROF_CAT=$(top_symbols "$D/cat.perf")
	perf record -q -e cpu-clock -o "$D/cat-json.perf" "$B/nfxdp-cat" --input "$D/in-plain.pb" \
		--format jsonl >/dev/null 2>&1
	PROF_JSON=$(top_symbols "$D/cat-json.perf")
fi

echo "## Records: building, packing, publishing and printing them"
echo
echo "Without a kernel: \`bench/recbench.c\` makes $N closed flows (one IPv4 or IPv6 flow"
echo "each, a few packets each way; **plain**: nfxdp's default fields, about"
echo "$(("$(command stat -c %s "$D/in-plain.pb")" / N)) bytes a record packed; **splt**: \`--statistical --splt 16\`, about"
echo "$(("$(command stat -c %s "$D/in-splt.pb")" / N)) bytes) and sends them through the collector's own code:"
echo "\`record_build()\`, \`batch_next()\`, \`batch_pack()\` in batches of 256 (\`--batch-flows\`),"
echo "then the ZeroMQ exporter on tcp loopback with nfxdp's queue bound (\`zmq_hwm_for()\`)."
echo "The **publisher** is pinned to CPU 0 with its ZeroMQ I/O thread (one core), a"
echo "consumer that only counts (\`recbench count\`: no decoding) to CPU 1; **flows/s** is"
echo "N / (first batch packed to the last out of the socket), **per CPU s** N / the"
echo "publisher's CPU time (both threads): what one core sustains when no one else"
echo "runs on it (this machine is shared: load average $LOAD0 when the section"
echo "started, $(cut -d' ' -f1 /proc/loadavg) at its end). **before**: the same"
echo "with \`batch_pack()\` replaced by protobuf-c's \`nfxdp__flow_batch__pack()\` (what it"
echo "called before \`pb_encode()\`). Best of $RUNS runs."
echo
echo "| records | flows/s | flows per CPU s | flows received | batches lost | peak RSS MB | before: flows/s | per CPU s | after / before (CPU) |"
echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
for feat in plain splt; do
	set -- ${P[$feat]}
	s=$1 cpu=$2 rss=$3 got=$4 lost=$5
	set -- ${P[$feat-pbc]}
	echo "| $feat | $(rate_k "$N" "$s") K | $(rate_k "$N" "$cpu") K | $got of $N | $lost | $(awk -v r="$rss" 'BEGIN { printf "%.1f", r / 1024 }') |" \
		"$(rate_k "$N" "$1") K | $(rate_k "$N" "$2") K | $(ratio "$2" "$cpu") |"
done
set -- ${P[two]}
echo "| plain, publisher and consumer free on both CPUs | $(rate_k "$N" "$1") K | $(rate_k "$N" "$2") K | $4 of $N | $5 | $(awk -v r="$3" 'BEGIN { printf "%.1f", r / 1024 }') | | | |"
echo
echo "nfxdp-cat reading a file of those records (\`recbench file\`: nfxdp's file sink,"
echo "\`--format pb\`), pinned to CPU 0, writing into a pipe that \`cat\` on CPU 1 reads:"
echo "**pb** passes the batches through undecoded, **jsonl** and **csv** decode them and"
echo "print every field. **before**: nfxdp-cat built from $BASE (protobuf-c's allocator, a"
echo "printf per field), the same input; its output is the same bytes."
echo
echo "| records | format | flows/s | flows per CPU s | before: flows/s | per CPU s | after / before (CPU) |"
echo "| --- | --- | ---: | ---: | ---: | ---: | ---: |"
for feat in plain splt; do
	for fmt in pb jsonl csv; do
		set -- ${C[$feat-$fmt]}
		new_s=$1 new_cpu=$2
		if [ -n "${C[$feat-$fmt-old]:-}" ]; then
			set -- ${C[$feat-$fmt-old]}
			before="$(rate_k "$N" "$1") K | $(rate_k "$N" "$2") K | $(ratio "$2" "$new_cpu")"
		else
			before="- | - | -"
		fi
		echo "| $feat | $fmt | $(rate_k "$N" "$new_s") K | $(rate_k "$N" "$new_cpu") K | $before |"
	done
done
echo
# Goals of issue 16, plain records: per CPU second, and by the clock.
goal() {
	local what=$1 wall=$2 cpu=$3 want=$4 v
	v=$(awk -v n="$N" -v c="$cpu" -v w="$want" 'BEGIN { g = (c > 0 ? n / c : 0)
		printf "%.0f K flows per CPU s, goal %.0f K: ", g / 1000, w / 1000
		if (g >= w) printf "**met**"; else printf "**missed by %.0f %%**", (1 - g / w) * 100 }')
	echo "- $what: $v ($(rate_k "$N" "$wall") K flows/s by the clock)"
}
set -- ${P[plain]}
goal "collector, records built, packed and published on one core" "$1" "$2" 1000000
for fmt in pb jsonl csv; do
	set -- ${C[plain-$fmt]}
	want=500000
	[ "$fmt" = pb ] && want=1000000
	goal "nfxdp-cat --format $fmt" "$1" "$2" "$want"
done
echo
if [ -n "$PROF_PUB" ]; then
	echo "Where the time goes (\`perf record -e cpu-clock\`, plain records, symbols over 3 %):"
	echo "the publisher, one core: $PROF_PUB; nfxdp-cat \`--format csv\`: $PROF_CAT;"
	echo "nfxdp-cat \`--format jsonl\`: $PROF_JSON (both into /dev/null: no pipe)."
	echo
fi
