#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# The long variants of "nothing lost, nothing broken" (make soak): rounds of
# the exactly-once scenarios with five times the traffic, until SOAK_SECONDS
# have passed, then the slow-consumer suite with consumers stuck for
# SOAK_STUCK seconds. Every round checks exact sums, as the fast suites do.
# Ends with "N passed, N failed"; the "# figures" lines are the figures for
# BENCHMARKS/RELIABILITY.md.
#   SOAK_SECONDS=1800 tests/soak/run.sh
set -u
cd "$(dirname "$0")/../.."
SOAK_SECONDS=${SOAK_SECONDS:-300}
SOAK_STUCK=${SOAK_STUCK:-30}
log=$(mktemp)
trap 'rm -f "$log"' EXIT

if [ "$(id -u)" -ne 0 ]; then
	if [ -n "${CI:-}" ]; then
		echo "FAIL soak: needs root, and CI runs as root" | tee -a "$log"
	else
		echo "SKIP soak: needs root and BPF (run: sudo make soak)" >&2
		exit 0
	fi
fi

# run NAME CMD...: a run that dies without a result line still fails.
run() {
	local name=$1 before status
	shift
	echo "== $name"
	before=$(grep -c '^FAIL ' "$log")
	"$@" 2>&1 | tee -a "$log"
	status=${PIPESTATUS[0]}
	if [ "$status" -ne 0 ] && [ "$(grep -c '^FAIL ' "$log")" = "$before" ]; then
		echo "FAIL $name: exited with status $status" | tee -a "$log"
	fi
}

start=$SECONDS
round=0
while [ "$round" -eq 0 ] || [ $((SECONDS - start)) -lt "$SOAK_SECONDS" ]; do
	round=$((round + 1))
	run "soak-exactly-once-$round" env SUITE="soak-exactly-once-$round" EO_SECONDS=20 \
		EO_PRESSURE_FLOWS=100000 EO_SCENARIOS="plain features pressure pressure-shared" \
		bash tests/e2e/test_exactly_once.sh
done
run soak-consumers env SUITE=soak-consumers CONS_SECONDS="$SOAK_STUCK" \
	bash tests/e2e/test_consumers.sh

passed=$(grep -c '^PASS ' "$log")
failed=$(grep -c '^FAIL ' "$log")
echo
echo "# soak: $round exactly-once rounds in $((SECONDS - start)) s"
grep -E '^# (figures|memory|subscribers)' "$log"
if [ "$failed" -gt 0 ]; then
	echo
	echo "Failed:"
	grep '^FAIL ' "$log"
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
