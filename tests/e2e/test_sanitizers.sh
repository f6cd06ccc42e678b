#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# The programs and tests built with AddressSanitizer and
# UndefinedBehaviorSanitizer (make asan: $BUILD/asan), then run on the
# suites that drive the capture reader, the replay, the collector, the
# records and nfxdp-cat hardest: the unit and BPF tests, the parity suite
# (every reference capture, batch and frame replay), the capture corners
# and nfxdp-cat against a rogue peer. Every sanitizer report goes to a log
# file, so a report in a process whose exit status a suite ignores still
# fails this suite ("no sanitizer report"). Leaks are checked in every
# program; the unit tests drop the configurations they parse by design, so
# there only memory errors and undefined behaviour count.
#
# The nested suites' result lines keep their names after this suite's:
# "PASS e2e-sanitizers e2e-parity: ...".
SUITE=e2e-sanitizers
. "$(dirname "$0")/lib.sh"
need_root
ASAN_BUILD=$B/asan
LOGS=$T/sanitizer
mkdir -p "$LOGS"

if ! make --no-print-directory -C "$TOP" -j2 BUILD="$B" asan >"$T/build.log" 2>&1; then
	tail -20 "$T/build.log" >&2
	fail "make asan builds"
	exit 1
fi
pass "make asan builds $ASAN_BUILD"

export ASAN_OPTIONS=log_path=$LOGS/asan:detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=log_path=$LOGS/ubsan:print_stacktrace=1:halt_on_error=1
export NFXDP_SANITIZED=1 # test_cat: no address-space cap, no RSS bounds

# nested NAME CMD...: a suite on the sanitized build, its lines renamed.
nested() {
	local name=$1 status
	shift
	"$@" 2>&1 | sed -u -e "s/^\(PASS\|FAIL\) /\1 $SUITE /"
	status=${PIPESTATUS[0]}
	[ "$status" = 0 ] || fail "$name exits 0 on the sanitized build (status $status)"
}

ASAN_OPTIONS=$ASAN_OPTIONS:detect_leaks=0 nested unit "$ASAN_BUILD/tests/test_unit"
nested bpf "$ASAN_BUILD/tests/test_meter"
for s in parity capture cat; do
	BUILD=$ASAN_BUILD nested "e2e-$s" bash "$TOP/tests/e2e/test_$s.sh"
done

reports=$(ls "$LOGS")
check "no sanitizer report" "$reports" ""
for f in $reports; do
	echo "  $f:" >&2
	head -40 "$LOGS/$f" | sed 's/^/    /' >&2
done
exit $FAILED
