#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# make bench: installs the peers, runs every benchmark section and rewrites
# BENCHMARKS.md. Figures are ratios measured side by side in one run.
set -u
cd "$(dirname "$0")/.."
. bench/lib.sh
[ "$(id -u)" -eq 0 ] || { echo "bench: needs root (BPF, namespaces): sudo make bench" >&2; exit 1; }
bench/deps.sh || exit 1
out=$WORK/BENCHMARKS.md
t0=$(date +%s)
{
	echo "# Benchmarks"
	echo
	echo "Written by \`make bench\` ($(basename "$0")); rerun it to refresh every figure."
	echo "Each figure compares tools or settings measured one after another in the same"
	echo "run on the same machine, so the ratios carry over better than the absolute"
	echo "numbers (this machine is a shared 2-CPU virtual machine)."
	echo
	machine
	times=()
	for section in ${BENCH_SECTIONS:-bench/sections/*.sh}; do
		s0=$(date +%s)
		log "section $(basename "$section")"
		echo
		bash "$section" || echo "(section $(basename "$section") failed: see the log)"
		times+=("$(basename "$section" .sh) $(($(date +%s) - s0)) s")
		log "section $(basename "$section"): $(($(date +%s) - s0)) s"
	done
	echo
	echo "---"
	echo
	echo "\`make bench\` took $(( ($(date +%s) - t0 + 30) / 60 )) min on this machine ($(IFS=,; echo "${times[*]}" | sed 's/,/, /g'))."
} >"$out.tmp" && mv "$out.tmp" "$out" && cp "$out" BENCHMARKS.md
echo "bench: wrote BENCHMARKS.md in $(($(date +%s) - t0)) s" >&2
