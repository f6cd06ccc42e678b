# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Shared by the benchmark sections: where things are, timing, fragments.

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
B=${BUILD:-$TOP/build}
WORK=${BENCH_WORK:-$B/bench}
RUNS=${BENCH_RUNS:-3}
mkdir -p "$WORK"

log() { echo "bench: $*" >&2; }

# wall CMD...: best wall time in seconds of RUNS runs (stdout/stderr to $WORK/last.*).
wall() {
	local best="" t0 t1 s i
	for i in $(seq "$RUNS"); do
		t0=$(date +%s%N)
		"$@" >"$WORK/last.out" 2>"$WORK/last.err"
		t1=$(date +%s%N)
		s=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.4f", (b - a) / 1e9 }')
		if [ -z "$best" ] || awk -v a="$s" -v b="$best" 'BEGIN { exit !(a < b) }'; then
			best=$s
		fi
	done
	echo "$best"
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
