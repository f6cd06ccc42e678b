#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Capture files, kernel meter against user-space meter: nfxdp --pcap with
# --meter kernel (BPF_PROG_TEST_RUN) and --meter user (the same source
# compiled for the host), CSV output, against softflowd, on the reference
# captures concatenated (startup included) and on a capture another
# generator than nfxdp-gencap made (bench/blast.c). Where user space is
# under 3x softflowd, perf (cpu-clock) says where its time goes. Writes a
# Markdown section to stdout.
set -u
. "$(dirname "$0")/../lib.sh"

D=$WORK/usermode
mkdir -p "$D"
BLAST=$(bench_tool blast) || { log "usermode: cannot build bench/blast.c"; exit 1; }
ref=$(ref_capture) || exit 1
blasted=$D/blast-50k.pcap
[ -s "$blasted" ] || "$BLAST" --pcap "$blasted" --flows 50000 --rounds 40 >/dev/null || exit 1

kernel() { "$B/nfxdp" --pcap "$1" --meter kernel --output "$D/k.csv" --format csv; }
user() { "$B/nfxdp" --pcap "$1" --meter user --output "$D/u.csv" --format csv; }
# Each run writes a new file: truncating the last round's costs a synchronous
# discard on this machine's file system (mounted with discard), 2 ms for the
# reference captures' CSV, which is no part of metering them.
pre_kernel() { rm -f "$D/k.csv"; }
pre_user() { rm -f "$D/u.csv"; }
pre_startup() { rm -f "$D/e.csv"; }
sfd() { softflowd -6 -m 2000000 -r "$1"; }
# The floor under a run: start-up (an empty capture) and reading the file from the page cache.
empty=$D/empty.pcap
head -c 24 "$ref" >"$empty"
startup() { "$B/nfxdp" --pcap "$empty" --meter user --output "$D/e.csv" --format csv; }
cat_file() { cat "$1" >/dev/null; }
cat_empty() { cat "$empty" >/dev/null; }
# Rounds: a run takes 0.03 to 2 s; the machine's speed drifts more than that between runs.
ROUNDS=$((RUNS > 9 ? RUNS : 9))

echo "## Capture files: the kernel's meter and the user-space meter"
echo
echo "\`nfxdp --pcap F --output F.csv --format csv\` with \`--meter kernel\` (the XDP"
echo "program through \`BPF_PROG_TEST_RUN\`) and \`--meter user\` (the same source compiled"
echo "for user space, the default for files), against \`softflowd -6 -m 2000000 -r F\`;"
echo "wall time, best of $ROUNDS rounds, each running the three in turn, startup included;"
echo "nfxdp writes a new file in each run (the last round's is removed beforehand, untimed)."
echo
echo "| capture | frames | kernel M frames/s | user M frames/s | softflowd M frames/s | user / kernel | user / softflowd |"
echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"
slow=()
for f in "$ref" "$blasted"; do
	n=$(frames "$f")
	log "usermode: $(basename "$f")"
	read -r k u s < <(ARG=$f walls "$ROUNDS" kernel user sfd)
	cmp -s "$D/k.csv" "$D/u.csv" || log "usermode: $(basename "$f"): kernel and user records differ"
	r=$(ratio "$s" "$u")
	echo "| $(basename "$f") | $n | $(rate "$n" "$k") | $(rate "$n" "$u") | $(rate "$n" "$s") |" \
		"$(ratio "$k" "$u")x | **${r}x** |"
	awk -v r="$r" 'BEGIN { exit !(r < 3) }' && slow+=("$f|$n|$u|$s")
done
echo
echo "The records of both meters are the same, byte for byte (\`tests/e2e/test_usermode.sh\`)."
echo "\`ref\` is the NFStream reference captures concatenated; \`blast-50k\` is bench/blast.c's"
echo "50,000 flows x 40 rounds, not made by nfxdp-gencap."
for row in "${slow[@]}"; do
	IFS='|' read -r f n u s <<<"$row"
	read -r st cf ce < <(ARG=$f walls "$ROUNDS" startup cat_file cat_empty)
	echo
	awk -v n="$n" -v u="$u" -v s="$s" -v st="$st" -v cf="$cf" -v ce="$ce" -v f="$(basename "$f")" 'BEGIN {
		rd = cf - ce; left = s / 3 - st - rd
		printf "The floor on %s: 3x softflowd'"'"'s speed is %.1f ms of wall time. nfxdp'"'"'s start-up\n", f, s / 3 * 1000
		printf "alone (an empty capture) takes %.1f ms and reading the file from the page cache %.1f ms\n", st * 1000, rd * 1000
		printf "(\x60cat\x60: %.1f ms, less %.1f ms for an empty file), ", cf * 1000, ce * 1000
		if (left > 0)
			printf "which leaves %.1f ms to meter %d frames and write their records: %.0f ns a frame.\n", left * 1000, n, left / n * 1e9
		else
			printf "which leaves nothing to meter %d frames with.\n", n
		printf "nfxdp takes %.0f ns a frame beyond that floor; softflowd %.0f ns a frame in all.\n", (u - st - rd) / n * 1e9, s / n * 1e9
	}'
	echo
	echo "Under 3x softflowd on $(basename "$f"): where \`--meter user\` spends its time"
	echo "(\`perf record -e cpu-clock\`, top symbols):"
	echo
	echo '```'
	rm -f "$D/u.csv"
	perf record -q -e cpu-clock -o "$D/perf.data" -- "$B/nfxdp" --pcap "$f" --meter user \
		--output "$D/u.csv" --format csv 2>/dev/null
	perf report -i "$D/perf.data" --stdio --sort symbol 2>/dev/null | grep -v '^#' | grep -v '^$' |
		head -15 >"$D/perf.top"
	cat "$D/perf.top"
	echo '```'
	grep -q pvm_irq_enable "$D/perf.top" || continue
	echo
	echo "(\`pvm_irq_enable\`, where this virtual machine's kernel takes interrupts back,"
	echo "collects the time of page faults, system calls and thread wake-ups.)"
done
