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
umask 022 # the files' modes are checked

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

# --- A --cursor that cannot be trusted ---------------------------------------
# Refused with a message and nothing printed: starting over from offset 0
# would print every batch again (duplicates downstream).
$FEED seq "$T/three.pb" 0 1 2
# follow_cursor NAME CURSOR: nfxdp-cat --follow on three.pb, output NAME.csv/.err.
follow_cursor() {
	"$CAT" --input "$T/three.pb" --follow --cursor "$2" --format csv --timeout 1 \
		>"$T/$1.csv" 2>"$T/$1.err"
}
printf 'garbage\n' >"$T/garbage.cursor"
follow_cursor garbage "$T/garbage.cursor"
check "corrupted cursor: exit 1, nothing printed" "$? $(wc -c <"$T/garbage.csv")" "1 0"
check "corrupted cursor: says it is not a cursor" \
	"$(grep -c "garbage.cursor is not a cursor nfxdp-cat wrote" "$T/garbage.err")" 1
check "corrupted cursor: left as it was" "$(cat "$T/garbage.cursor")" garbage
printf '12 34 56\n' >"$T/extra.cursor"
follow_cursor extra "$T/extra.cursor"
check "cursor with a third number: exit 1" "$? $(wc -c <"$T/extra.csv")" "1 0"
mkdir "$T/dir.cursor"
follow_cursor dir "$T/dir.cursor"
check "cursor that is a directory: exit 1, nothing printed" "$? $(wc -c <"$T/dir.csv")" "1 0"
check "cursor that is a directory: says why" "$(grep -c "Couldn't read the cursor" "$T/dir.err")" 1
follow_cursor nodir "$T/nosuchdir/c"
check "cursor that cannot be written: exit 1, nothing printed" "$? $(wc -c <"$T/nodir.csv")" "1 0"
check "cursor that cannot be written: says why" \
	"$(grep -c "Couldn't save the cursor $T/nosuchdir/c: No such file or directory: not following" "$T/nodir.err")" 1
follow_cursor fresh "$T/fresh.cursor"
check "no cursor yet: exit 0, the three batches printed" "$? $($FLOWS "$T/fresh.csv" --count)" "0 3"
check "no cursor yet: written, 0640" "$(command stat -c %a "$T/fresh.cursor")" 640
follow_cursor again "$T/fresh.cursor"
check "the cursor kept: nothing printed again" "$? $(wc -c <"$T/again.csv")" "0 0"

# A cursor that can no longer be saved while following (its directory
# removed): nfxdp-cat stops there, exit 1, and says where.
$FEED seq "$T/live.pb" 0
$FEED seq "$T/next.pb" 1
mkdir "$T/cdir"
"$CAT" --input "$T/live.pb" --follow --cursor "$T/cdir/c" --format csv --timeout 20 \
	>"$T/live.csv" 2>"$T/live.err" &
LIVE=$!
PIDS+=("$LIVE")
for _ in $(seq 100); do
	[ "$(cut -d' ' -f1 "$T/cdir/c" 2>/dev/null)" = "$(command stat -c %s "$T/live.pb")" ] && break
	sleep 0.05
done
rm -r "$T/cdir"
cat "$T/next.pb" >>"$T/live.pb"
wait "$LIVE"
check "cursor lost while following: exit 1 after the batch it could not record" \
	"$? $($FLOWS "$T/live.csv" --count)" "1 2"
check "cursor lost while following: says where it stopped" \
	"$(grep -c "Couldn't save the cursor $T/cdir/c: No such file or directory: stopping, at offset $(command stat -c %s "$T/live.pb")" "$T/live.err")" 1

# --- Sequence numbers wrap at 2^64 --------------------------------------------
# 2^64-2, 2^64-1, 0, 1 is one stream with nothing lost (a file starting at
# 2^64-2 was reported as 18446744073709551614 batches lost); 2^64-1 then 1
# lost one batch; 2^64-1 after 0 is a repeat, not a gap.
M2=18446744073709551614
M1=18446744073709551615
$FEED seq "$T/wrap.pb" $M2 $M1 0 1
"$CAT" --input "$T/wrap.pb" --format csv >"$T/wrap.csv" 2>"$T/wrap.err"
check "wrap: exit 0, four flows" "$? $($FLOWS "$T/wrap.csv" --count)" "0 4"
check "wrap: no gap, no repeat" "$(cat "$T/wrap.err")" ""
$FEED seq "$T/wrapgap.pb" $M1 1
"$CAT" --input "$T/wrapgap.pb" --format csv >/dev/null 2>"$T/wrapgap.err"
check "wrap: one batch lost across it" "$(cat "$T/wrapgap.err")" \
	"nfxdp-cat: gap: 1 batch(es) lost before sequence 1"
$FEED seq "$T/wraprep.pb" 0 $M1
"$CAT" --input "$T/wraprep.pb" --format csv >/dev/null 2>"$T/wraprep.err"
check "wrap: the sequence before 0 is a repeat" "$(cat "$T/wraprep.err")" \
	"nfxdp-cat: repeated: sequence $M1 again (expected 1)"

# The Python consumer follows sequences the same way.
check "wrap: the Python consumer agrees" "$(PYTHONPATH=$TOP/python $PY3 - <<'EOF'
import collections
from nfxdp.consumer import StreamTracker
B = collections.namedtuple("B", "agent interface stream_id sequence flows")
t = StreamTracker()
for q in (2**64 - 2, 2**64 - 1, 0, 1, 3, 2**64 - 1):
    t.update(B("a", "i", 7, q, []))
s = t.stats()
print(s["gaps"], s["lost_batches"], s["reordered"])
EOF
)" "1 1 1"

# --- --format pb: batches passed through, not decoded ------------------------
# The same framing as nfxdp's pb files, so a file read with --format pb comes
# out byte for byte, a gzip'd one inflated; from a stream, the batch after a
# refused deflate bomb; --count stops after the batch that reaches N flows.
"$CAT" --input "$T/wrap.pb" --format pb >"$T/pass.pb" 2>"$T/pass.err"
check "pb: exit 0, the file byte for byte, no gap said" \
	"$? $(cmp -s "$T/pass.pb" "$T/wrap.pb" && echo same) $(cat "$T/pass.err")" "0 same "
gzip -c "$T/wrap.pb" >"$T/wrap.pb.gz"
"$CAT" --input "$T/wrap.pb.gz" --format pb | cmp -s - "$T/wrap.pb"
check "pb: a gzip'd file comes out inflated" $? 0
"$CAT" --input "$T/wrap.pb" --format pb --count 2 >"$T/pass2.pb"
check "pb: --count 2 stops after the second batch (one flow each), read back" \
	"$("$CAT" --input "$T/pass2.pb" --format csv | $FLOWS /dev/stdin --get id | tr '\n' ' ')" "0 1 "
"$CAT" --input "$T/spool.pb" --follow --format pb --timeout 1 >"$T/passf.pb" 2>/dev/null
check "pb: --follow passes a 100 MiB spool through byte for byte" \
	"$(cmp -s "$T/passf.pb" "$T/spool.pb" && echo same)" same
printf '\003abc' >"$T/notpb.pb"
"$CAT" --input "$T/notpb.pb" --format pb >"$T/notpb.out" 2>"$T/notpb.err"
check "pb: bytes that are not a batch: exit 1, said, nothing written" \
	"$? $(grep -c 'a batch of 3 bytes does not decode' "$T/notpb.err") $(wc -c <"$T/notpb.out")" "1 1 0"
script -qec "$CAT --input $T/wrap.pb --format pb" /dev/null >"$T/tty.out" 2>&1
check "pb: refused on a terminal" \
	"$? $(grep -c 'not a terminal' "$T/tty.out")" "2 1"
$FEED bomb "ipc://$T/pbomb.sock" &
PIDS+=($!)
"$CAT" "ipc://$T/pbomb.sock" --format pb --count 1 --timeout 20 >"$T/pbomb.pb" 2>"$T/pbomb.err"
check "pb: from a stream, the batch after a deflate bomb, read back" \
	"$? $("$CAT" --input "$T/pbomb.pb" --format csv | $FLOWS /dev/stdin --get id)" "0 1"

# --- Control characters, file modes ------------------------------------------
# Strings from a stream may hold anything: CSV and brief lines escape what a
# terminal or a line reader would act on (JSON escapes it already).
$FEED ctrl "$T/ctrl.pb"
"$CAT" --input "$T/ctrl.pb" --format csv >"$T/ctrl.csv"
check "control characters: CSV, one row, escaped" \
	"$($FLOWS "$T/ctrl.csv" --get src_ip,dst_ip,dst_mac)" \
	"198.18.7.1\\x1b[2J\\x07 Â\\xc2\\x9b31m a\\x0d\\x0ab\\x7f"
"$CAT" --input "$T/ctrl.pb" --format brief >"$T/ctrl.txt"
check "control characters: brief, one line, no control byte" \
	"$(wc -l <"$T/ctrl.txt") $(LC_ALL=C grep -c '[[:cntrl:]]' <(tr -d '\n' <"$T/ctrl.txt"))" "1 0"
check "control characters: brief shows them escaped" \
	"$(grep -c '198.18.7.1\\x1b\[2J\\x07:1000 ' "$T/ctrl.txt")" 1
# nfxdp's own files: 0640 whatever the umask lets through (here 022).
printf '1700000000 198.18.8.1 198.18.8.2 1 2\n' | $PY3 "$TOP/tests/e2e/mkpcap.py" "$T/one.pcap"
if [ "$(id -u)" = 0 ]; then
	"$NFXDP" --pcap "$T/one.pcap" --output "$T/out.csv" --format csv 2>/dev/null
	"$NFXDP" --pcap "$T/one.pcap" --output "$T/out.pb.gz" --format pb --compress 2>/dev/null
	check "nfxdp --output files are created 0640" \
		"$(command stat -c %a "$T/out.csv" "$T/out.pb.gz" | tr '\n' ' ')" "640 640 "
	"$NFXDP" --pcap "$T/one.pcap" --output "$T/end.pb" --format pb 2>/dev/null
	"$CAT" --input "$T/end.pb" --format pb --until-end >"$T/end.out.pb" 2>"$T/end.err"
	check "pb: --until-end, the end-of-stream batch passed through and said" \
		"$? $(cmp -s "$T/end.out.pb" "$T/end.pb" && echo same) $(grep -c 'end of stream' "$T/end.err")" \
		"0 same 1"
fi

exit $FAILED
