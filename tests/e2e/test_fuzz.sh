#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# A short fuzzing run of every libFuzzer target (tests/fuzz/): the capture
# reader, nfxdp-cat's message and file decoding, the --filter and
# --flow-filter compilers, the XDP packet parser and meter. For each: the
# seeds and regression inputs replay without a crash (one PASS line), then
# FUZZ_TEST_SECONDS (10) of fuzzing end without a crash or a broken
# invariant (one PASS line with the executions). `make fuzz` runs longer.
#
# Needs clang's libFuzzer (Debian: libclang-rt-14-dev): without it this
# suite says SKIP, except under CI=1 where that is a failure.
SUITE=e2e-fuzz
cd "$(dirname "$0")/../.." || exit 1
B=${BUILD:-build}
FUZZ_CC=${FUZZ_CC:-clang}
seconds=${FUZZ_TEST_SECONDS:-10}

unavailable() {
	if [ -n "${CI:-}" ]; then
		echo "FAIL $SUITE: $1 (CI must fuzz: install libclang-rt-14-dev)"
		exit 1
	fi
	echo "SKIP $SUITE: $1 (install libclang-rt-14-dev to fuzz)"
	exit 0
}

probe=$(mktemp -d)
trap 'rm -rf "$probe"' EXIT
printf '%s\n' '#include <stddef.h>' '#include <stdint.h>' \
	'int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) { return 0; }' > "$probe/p.c"
command -v "$FUZZ_CC" > /dev/null || unavailable "$FUZZ_CC is not installed"
"$FUZZ_CC" -fsanitize=fuzzer,address "$probe/p.c" -o "$probe/p" 2> "$probe/err" ||
	unavailable "$FUZZ_CC cannot link libFuzzer: $(head -1 "$probe/err")"

# The Makefile may include tests/fuzz/fuzz.mk already: the file guards itself.
if ! make --no-print-directory -f Makefile -f tests/fuzz/fuzz.mk -j2 BUILD="$B" fuzz-build \
	> "$probe/build" 2>&1; then
	tail -20 "$probe/build" >&2
	echo "FAIL $SUITE: building the fuzz targets"
	exit 1
fi
FUZZ_DIR=$B/fuzz tests/fuzz/run.sh --seconds "$seconds"
