# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Shared by the benchmark sections: where things are, timing, fragments.

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
B=${BUILD:-$TOP/build}
WORK=${BENCH_WORK:-$B/bench}
RUNS=${BENCH_RUNS:-3}
mkdir -p "$WORK"

# Decimal points, as awk reads them (EPOCHREALTIME follows the locale).
export LC_NUMERIC=C

log() { echo "bench: $*" >&2; }

# wall CMD...: best wall time in seconds of RUNS runs (stdout/stderr to $WORK/last.*).
# The clock is bash's own: a date(1) process each side added its start-up
# (3 ms on the benchmarks' machine) to every run.
wall() {
	local best="" t0 t1 s i
	for i in $(seq "$RUNS"); do
		t0=$EPOCHREALTIME
		"$@" >"$WORK/last.out" 2>"$WORK/last.err"
		t1=$EPOCHREALTIME
		s=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.4f", b - a }')
		if [ -z "$best" ] || awk -v a="$s" -v b="$best" 'BEGIN { exit !(a < b) }'; then
			best=$s
		fi
	done
	echo "$best"
}

# min_s A B: the lesser of two times in seconds (B empty: A).
min_s() { awk -v a="$1" -v b="$2" 'BEGIN { print (b == "" || a + 0 < b + 0) ? a : b }'; }

# walls ROUNDS CMD1 CMD2 ... (each a function of one word taking $ARG): the
# best wall time of each, as "t1 t2 ...", run in turn ROUNDS times. Each
# round runs every command once, so a machine that slows down for a while
# (a virtual machine's neighbours) slows them all, not the ones that ran then.
# A function pre_CMD, if defined, runs untimed before each run of CMD.
walls() {
	local rounds=$1 i j t
	shift
	local best=()
	for i in $(seq "$rounds"); do
		j=0
		for c in "$@"; do
			! declare -F "pre_$c" >/dev/null || "pre_$c" "$ARG"
			t=$(RUNS=1 wall "$c" "$ARG")
			best[j]=$(min_s "$t" "${best[j]:-}")
			j=$((j + 1))
		done
	done
	echo "${best[*]}"
}

# rate PACKETS SECONDS: millions of packets per second.
rate() { awk -v p="$1" -v s="$2" 'BEGIN { printf "%.2f", (s > 0 ? p / s / 1e6 : 0) }'; }

# ratio A B: A / B with two decimals.
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }

# Reference data (NFStream's captures and results).
nfstream_ref() {
	local d
	for d in "${NFSTREAM_REF:-}" "$TOP/../shared/reference/nfstream" /work/shared/reference/nfstream; do
		[ -n "$d" ] && [ -d "$d/pcaps" ] && { echo "$d"; return 0; }
	done
	return 1
}

machine() {
	echo "- machine: $(nproc) CPUs ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'))," \
		"$(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo) RAM"
	echo "- kernel: $(uname -r); $(clang --version | head -1); $(bpftool version 2>/dev/null | head -1)"
	echo "- nfxdp commit: $(git -C "$TOP" rev-parse --short HEAD 2>/dev/null)$(git -C "$TOP" diff --quiet 2>/dev/null || echo ' (with local changes)'), $(date -u +%Y-%m-%d)"
}

# --- CPU accounting -------------------------------------------------------

# A cgroup for the CPU time of a tool and every process it starts, exited
# ones included (cgroup v1 cpuacct, else v2's cpu.stat).
CG_ROOT=
if [ -f /sys/fs/cgroup/cpuacct/cpuacct.usage ]; then
	CG_ROOT=/sys/fs/cgroup/cpuacct
elif [ -f /sys/fs/cgroup/cgroup.controllers ]; then
	CG_ROOT=/sys/fs/cgroup
elif [ -f /sys/fs/cgroup/unified/cgroup.controllers ]; then
	CG_ROOT=/sys/fs/cgroup/unified
fi

# cg_new: creates a group, prints its path (a new name each call, even from
# a subshell).
cg_new() {
	local g
	g=$CG_ROOT/nfxbench-$$-$BASHPID-$(date +%s%N)
	mkdir "$g" && echo "$g"
}

# cg_exec GROUP CMD...: runs CMD inside GROUP (exec: same process).
cg_exec() {
	local g=$1
	shift
	echo $BASHPID >"$g/cgroup.procs" && exec "$@"
}

# cg_ns GROUP: CPU nanoseconds used in GROUP so far.
cg_ns() {
	if [ -f "$1/cpuacct.usage" ]; then
		cat "$1/cpuacct.usage"
	else
		awk '$1 == "usage_usec" { printf "%.0f\n", $2 * 1000 }' "$1/cpu.stat"
	fi
}

# cg_del GROUP: removes it once empty (processes left are moved out first).
cg_del() {
	local p
	[ -d "$1" ] || return 0
	for p in $(cat "$1/cgroup.procs" 2>/dev/null); do
		echo "$p" >"$CG_ROOT/cgroup.procs" 2>/dev/null
	done
	rmdir "$1" 2>/dev/null
}

# cg_wait_empty GROUP: waits until no process is left in GROUP, at most 30 s.
cg_wait_empty() {
	local i pid
	# Builtins only until it is empty: polled every 0.1 s, with a process
	# each for seq and cat, it added 40 to 60 ms to every run measured.
	for ((i = 0; i < 6000; i++)); do
		read -r pid <"$1/cgroup.procs" 2>/dev/null || return 0
		sleep 0.005
	done
}

# cg_settle GROUP: waits until GROUP stops using CPU (under 2% of a CPU for
# half a second), at most 60 s.
cg_settle() {
	local a b i
	a=$(cg_ns "$1")
	for i in $(seq 120); do
		sleep 0.5
		b=$(cg_ns "$1")
		[ $((b - a)) -lt 10000000 ] && return 0
		a=$b
	done
	return 1
}

# softirq_ns: nanoseconds all CPUs spent in softirq context (tick sampled).
softirq_ns() {
	awk -v hz="$(getconf CLK_TCK)" '$1 == "cpu" { printf "%.0f\n", $8 * 1e9 / hz }' /proc/stat
}

# cpu_run GROUP CMD...: runs CMD in GROUP; prints "wall_s cpu_s".
cpu_run() {
	local g=$1 t0 t1 c0 c1
	shift
	c0=$(cg_ns "$g")
	t0=$EPOCHREALTIME # bash's clock: see wall()
	(cg_exec "$g" "$@") >"$WORK/last.out" 2>"$WORK/last.err"
	cg_wait_empty "$g" # a tool's helpers (pmacctd's plugins) may outlive its main process
	t1=$EPOCHREALTIME
	c1=$(cg_ns "$g")
	awk -v a="$t0" -v b="$t1" -v c="$c0" -v d="$c1" \
		'BEGIN { printf "%.4f %.4f\n", b - a, (d - c) / 1e9 }'
}

# --- tools ----------------------------------------------------------------

# bench_tool NAME: bench/NAME.c compiled into $WORK/NAME (when newer).
bench_tool() {
	local src=$TOP/bench/$1.c bin=$WORK/$1
	if [ ! -x "$bin" ] || [ "$src" -nt "$bin" ]; then
		${CC:-cc} -O2 -Wall -Wextra -o "$bin" "$src" || return 1
	fi
	echo "$bin"
}

# --- namespaces -----------------------------------------------------------

# pair_up: sender netns $NS_S (veth $IF_S) and receiver netns $NS_R (veth
# $IF_R, MAC $MAC_R), no addresses and no IPv6, so nothing but the
# benchmark's frames crosses and nothing answers them. pair_down removes them.
NS_S=nfxb-s-$$
NS_R=nfxb-r-$$
IF_S=nfxs0
IF_R=nfxr0
pair_up() {
	local ns
	pair_down
	for ns in "$NS_S" "$NS_R"; do
		ip netns add "$ns" || return 1
		ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
			net.ipv6.conf.default.disable_ipv6=1
		ip -n "$ns" link set lo up
	done
	ip link add "$IF_S" netns "$NS_S" type veth peer name "$IF_R" netns "$NS_R" || return 1
	ip -n "$NS_S" link set "$IF_S" up
	ip -n "$NS_R" link set "$IF_R" up
	MAC_R=$(ip -n "$NS_R" -br link show "$IF_R" | awk '{print $3}')
	IFX_R=$(ip -n "$NS_R" -o link show "$IF_R" | cut -d: -f1)
}
pair_down() {
	ip netns del "$NS_S" 2>/dev/null
	ip netns del "$NS_R" 2>/dev/null
	return 0
}

# capture_ready: true once a packet socket is bound to $IF_R (libpcap opened it).
capture_ready() {
	ip netns exec "$NS_R" awk -v ifx="$IFX_R" 'NR > 1 && $5 == ifx { found = 1 } END { exit !found }' \
		/proc/net/packet
}

# rx_packets: frames $IF_R received, as the veth counts them.
rx_packets() {
	ip netns exec "$NS_R" cat "/sys/class/net/$IF_R/statistics/rx_packets"
}

# blast ARGS...: the sender, pinned to CPU 0, in $NS_S towards $MAC_R.
blast() {
	ip netns exec "$NS_S" taskset -c 0 "$BLAST" --iface "$IF_S" --dmac "$MAC_R" "$@"
}

# --- captures -------------------------------------------------------------

# ref_capture: the NFStream reference captures with an Ethernet link type,
# concatenated (made once).
ref_capture() {
	local out=$WORK/reference.pcap ref f files=()
	if [ ! -s "$out" ]; then
		ref=$(nfstream_ref) || { log "NFStream reference captures not found"; return 1; }
		for f in "$ref"/pcaps/*; do
			[ "$("$B/tests/pcapinfo" "$f" | awk '{print $2}')" = 1 ] && files+=("$f")
		done
		mergecap -a -F pcap -w "$out" "${files[@]}" || return 1
	fi
	echo "$out"
}

# gen_capture: the large generated capture (made once, kept in $WORK).
GEN_PACKETS=${BENCH_GEN_PACKETS:-10000000}
GEN_FLOWS=${BENCH_GEN_FLOWS:-1000000}
gen_capture() {
	local packets=${1:-$GEN_PACKETS} flows=${2:-$GEN_FLOWS}
	local out=$WORK/generated-$packets-$flows.pcap
	if [ ! -s "$out" ]; then
		log "generating $out"
		"$B/nfxdp-gencap" -o "$out" --packets "$packets" --flows "$flows" >&2 ||
			{ rm -f "$out"; return 1; }
	fi
	echo "$out"
}

# frames FILE: frames in a capture.
frames() { "$B/tests/pcapinfo" "$1" | awk '{print $3}'; }

# minus A B: A - B, rounded.
minus() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.0f", a - b }'; }
