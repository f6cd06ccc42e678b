#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Runs every test suite (unit, BPF, end to end) and ends with the line
# "N passed, N failed". Exit status 0 only when nothing failed.
#   tests/run.sh [SUITE_PATTERN]   e.g. tests/run.sh e2e
set -u
cd "$(dirname "$0")/.."
B=${BUILD:-build}
filter=${1:-}
log=$(mktemp)
trap 'rm -f "$log"' EXIT

# run_suite NAME CMD...: a suite that dies without a result line still fails.
run_suite() {
	local name=$1
	shift
	[ -n "$filter" ] && [[ "$name" != *$filter* ]] && return
	echo "== $name"
	local before status
	before=$(grep -c '^FAIL ' "$log")
	"$@" 2>&1 | tee -a "$log"
	status=${PIPESTATUS[0]}
	if [ "$status" -ne 0 ] && [ "$(grep -c '^FAIL ' "$log")" = "$before" ]; then
		echo "FAIL $name: exited with status $status" | tee -a "$log"
	fi
}

needs_root() {
	if [ "$(id -u)" -eq 0 ]; then
		return 0
	fi
	if [ -n "${CI:-}" ]; then
		echo "FAIL $1: needs root, and CI runs as root" | tee -a "$log"
	else
		echo "SKIP $1: needs root and BPF (run: sudo make check)" >&2
	fi
	return 1
}

run_suite layout python3 scripts/check-layout.py
run_suite unit "$B/tests/test_unit"
run_suite unit-filter "$B/tests/test_pcap_filter"
needs_root bpf && run_suite bpf "$B/tests/test_meter"
needs_root bpf-filter && run_suite bpf-filter "$B/tests/test_filter"
for t in tests/e2e/test_*.sh; do
	name=e2e-$(basename "$t" .sh | sed 's/^test_//')
	needs_root "$name" && run_suite "$name" bash "$t"
done

passed=$(grep -c '^PASS ' "$log")
failed=$(grep -c '^FAIL ' "$log")
if [ "$failed" -gt 0 ]; then
	echo
	echo "Failed:"
	grep '^FAIL ' "$log"
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
