#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Runs every test suite (unit, BPF, end to end) and ends with the line
# "N passed, N failed, N skipped" (CI reads its start, "N passed, N failed").
# A suite reports one line per result: "PASS suite: what", "FAIL suite: what"
# or "SKIP suite: why"; a suite that reports none fails. Exit status 0 only
# when nothing failed.
#   tests/run.sh [SUITE_PATTERN]   e.g. tests/run.sh e2e
set -u
cd "$(dirname "$0")/.."
B=${BUILD:-build}
filter=${1:-}
suite_timeout=${SUITE_TIMEOUT:-1200}
log=$(mktemp)
trap 'rm -f "$log"' EXIT

# run_suite NAME CMD...: a suite that dies without a FAIL line, or that
# reports no result at all, still fails. A suite that hangs is stopped after
# SUITE_TIMEOUT seconds (TERM to its process group, so its cleanup traps
# run; KILL 30 s later) and fails, so one hang cannot eat CI's whole budget.
run_suite() {
	local name=$1
	shift
	[ -n "$filter" ] && [[ "$name" != *$filter* ]] && return
	echo "== $name"
	local before status out start=$SECONDS
	before=$(wc -l <"$log")
	timeout --kill-after=30 "$suite_timeout" "$@" 2>&1 | tee -a "$log"
	status=${PIPESTATUS[0]}
	out=$(tail -n +$((before + 1)) "$log")
	if [ "$status" -eq 124 ] || [ "$status" -eq 137 ]; then
		echo "FAIL $name: still running after $suite_timeout s, stopped" | tee -a "$log"
	elif [ "$status" -ne 0 ] && ! grep -q '^FAIL ' <<<"$out"; then
		echo "FAIL $name: exited with status $status" | tee -a "$log"
	elif ! grep -q '^\(PASS\|FAIL\|SKIP\) ' <<<"$out"; then
		echo "FAIL $name: printed no PASS, FAIL or SKIP line" | tee -a "$log"
	fi
	echo "-- $name: $((SECONDS - start)) s"
}

# needs_root NAME: whether suite NAME (when selected) can run; says SKIP or
# FAIL when it cannot.
needs_root() {
	[ -n "$filter" ] && [[ "$1" != *$filter* ]] && return 1
	if [ "$(id -u)" -eq 0 ]; then
		return 0
	fi
	if [ -n "${CI:-}" ]; then
		echo "FAIL $1: needs root, and CI runs as root" | tee -a "$log"
	else
		echo "SKIP $1: needs root and BPF (run: sudo make check)" | tee -a "$log"
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
skipped=$(grep -c '^SKIP ' "$log")
if [ "$failed" -gt 0 ]; then
	echo
	echo "Failed:"
	grep '^FAIL ' "$log"
fi
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
