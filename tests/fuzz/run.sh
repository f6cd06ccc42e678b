#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Runs the libFuzzer targets built by `make fuzz-build` (build/fuzz/fuzz_*):
# for each, every seed (tests/fuzz/seeds/TARGET) and regression input
# (tests/fuzz/regressions/TARGET) once, then fuzzing for a bounded time from
# the seeds and the corpus kept in build/fuzz/corpus/TARGET. Prints one
# result line per step and the executions of each target:
#
#   PASS fuzz-capture: 43 seeds and regressions replay without a crash
#   PASS fuzz-capture: 301234 executions in 60 s (5020/s), 0 crashes, corpus 212
#
# A crash (or an invariant a harness checks) is a FAIL naming the input
# libFuzzer saved (build/fuzz/artifacts/TARGET/crash-*): reproduce with
#   build/fuzz/fuzz_TARGET build/fuzz/artifacts/TARGET/crash-...
#
#   tests/fuzz/run.sh [--seconds N] [TARGET...]   (default 60 s; all targets)
# Exit status 0 only when nothing failed. fuzz_packet needs root and BPF:
# without root it is skipped (SKIP), except under CI=1 where it fails.
set -u
cd "$(dirname "$0")/../.." || exit 1
B=${BUILD:-build}
FUZZ_DIR=${FUZZ_DIR:-$B/fuzz}
seconds=60
while [ $# -gt 0 ]; do
	case $1 in
	--seconds)
		seconds=$2
		shift 2
		;;
	*)
		break
		;;
	esac
done
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(packet capture catmsg filter flowfilter)

# Per target: libFuzzer flags.
flags_of() {
	case $1 in
	packet) echo "-max_len=1600" ;;
	capture | catmsg) echo "-max_len=65536" ;;
	filter) echo "-max_len=1024 -dict=tests/fuzz/filter.dict" ;;
	flowfilter) echo "-max_len=1024 -dict=tests/fuzz/flowfilter.dict" ;;
	esac
}

failed=0
summary=()

fail() {
	echo "FAIL $1"
	failed=$((failed + 1))
}

# skip_or_fail TARGET REASON: a skip outside CI, a failure in CI (root and BPF there).
skip_or_fail() {
	if [ -n "${CI:-}" ]; then
		fail "fuzz-$1: $2, and CI runs as root with BPF"
	else
		echo "SKIP fuzz-$1: $2"
	fi
	summary+=("$(printf '%-11s skipped: %s' "$1" "$2")")
}

# The first crash report line and the saved input of a libFuzzer log.
crash_of() {
	local what file
	what=$(grep -m1 -E 'ERROR: (AddressSanitizer|UndefinedBehaviorSanitizer|LeakSanitizer|libFuzzer)|runtime error:|invariant broken' "$1" |
		sed -E 's/^==[0-9]+==//; s/ \(pc 0x[0-9a-f]+ .*//; s/ at pc 0x[0-9a-f]+ .*//')
	file=$(grep -m1 -o "Test unit written to [^ ]*" "$1" | sed 's/Test unit written to //')
	# Replaying files, libFuzzer names each before running it.
	[ -n "$file" ] || file=$(sed -n 's/^Running: //p' "$1" | tail -1)
	echo "${what:-exit status $2}${file:+ (input: $file)}"
}

for t in "${targets[@]}"; do
	bin=$FUZZ_DIR/fuzz_$t
	seeds=tests/fuzz/seeds/$t
	regress=tests/fuzz/regressions/$t
	corpus=$FUZZ_DIR/corpus/$t
	art=$FUZZ_DIR/artifacts/$t
	log=$FUZZ_DIR/logs/$t.log
	if [ ! -x "$bin" ]; then
		fail "fuzz-$t: $bin is not built (make fuzz-build)"
		continue
	fi
	if [ "$t" = packet ] && [ "$(id -u)" -ne 0 ]; then
		skip_or_fail "$t" "loading the meter needs root and BPF"
		continue
	fi
	mkdir -p "$corpus" "$art" "$(dirname "$log")"
	# shellcheck disable=SC2207
	flags=($(flags_of "$t") -timeout=10 -rss_limit_mb=2048 -close_fd_mask=1
	       -error_exitcode=77 -timeout_exitcode=77 -artifact_prefix="$art/")

	# Every seed and regression input, once each, as they are.
	inputs=()
	for d in "$seeds" "$regress"; do
		[ -d "$d" ] && while IFS= read -r f; do inputs+=("$f"); done \
			< <(find "$d" -type f ! -name '*.md' | LC_ALL=C sort)
	done
	if [ ${#inputs[@]} -eq 0 ]; then
		fail "fuzz-$t: no seeds in $seeds"
		continue
	fi
	"$bin" "${flags[@]}" "${inputs[@]}" > "$log" 2>&1
	status=$?
	# The harness cannot run here (fuzz.h: FUZZ_EXIT_SKIP), and says why.
	if [ $status -eq 78 ] && grep -q ': SKIP: ' "$log"; then
		skip_or_fail "$t" "$(grep -m1 ': SKIP: ' "$log" | sed 's/.*: SKIP: //')"
		continue
	fi
	if [ $status -ne 0 ]; then
		fail "fuzz-$t: a seed or regression input crashes: $(crash_of "$log" $status)"
		summary+=("$(printf '%-11s replay of %d inputs: CRASH' "$t" ${#inputs[@]})")
		continue
	fi
	echo "PASS fuzz-$t: ${#inputs[@]} seeds and regressions replay without a crash"

	# Fuzzing, new inputs kept in the corpus directory (the first one).
	dirs=("$corpus" "$seeds")
	[ -d "$regress" ] && dirs+=("$regress")
	start=$(date +%s)
	"$bin" "${flags[@]}" -max_total_time="$seconds" -print_final_stats=1 "${dirs[@]}" \
		> "$log" 2>&1
	status=$?
	took=$(($(date +%s) - start))
	[ $took -gt 0 ] || took=1
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
	execs=${execs:-$(grep -o '^#[0-9]*' "$log" | tail -1 | tr -d '#')}
	execs=${execs:-0}
	size=$(find "$corpus" -type f | wc -l)
	if [ $status -ne 0 ]; then
		fail "fuzz-$t: crash after $execs executions in $took s: $(crash_of "$log" $status)"
		summary+=("$(printf '%-11s %10s executions %4s s %8s/s  corpus %5s  crashes 1' \
			"$t" "$execs" "$took" $((execs / took)) "$size")")
		continue
	fi
	echo "PASS fuzz-$t: $execs executions in $took s ($((execs / took))/s), 0 crashes, corpus $size"
	summary+=("$(printf '%-11s %10s executions %4s s %8s/s  corpus %5s  crashes 0' \
		"$t" "$execs" "$took" $((execs / took)) "$size")")
done

echo
echo "fuzz summary (logs in $FUZZ_DIR/logs):"
printf '  %s\n' "${summary[@]}"
[ $failed -eq 0 ]
