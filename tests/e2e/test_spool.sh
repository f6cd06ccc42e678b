#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Reliable delivery through a spool: nfxdp appends batches to a file
# (--output F --format pb), nfxdp-cat --follow --cursor reads it as it
# grows. The consumer is stopped and started again twice while flows are
# exported: across its runs every record arrives exactly once.
SUITE=e2e-spool
. "$(dirname "$0")/lib.sh"
need_root

setup_pair noipv6 || { fail "namespaces"; exit 1; }
export IFACES=vb@$NS_B
SPOOL=$T/spool.pb
CURSOR=$T/cursor

start_nfxdp "$T/nfxdp.log" --output "$SPOOL" --format pb --no-zmq --idle-timeout 0.3 \
	--poll-ms 50 --batch-ms 50 --batch-flows 8 --stats 1 || { fail "nfxdp starts"; exit 1; }
# consume N: one run of the consumer, its records in $T/run-N.csv, its
# messages (gaps, repeats) in $T/run-N.err.
consume() {
	"$CAT" --input "$SPOOL" --follow --cursor "$CURSOR" --format csv "${@:2}" >"$T/run-$1.csv" \
		2>"$T/run-$1.err" &
	CONSUMER=$!
	PIDS+=("$CONSUMER")
}
# backlog_at_least FILE CURSOR BYTES: FILE holds BYTES past the cursor.
backlog_at_least() {
	local off
	read -r off _ 2>/dev/null <"$2" || return 1
	[ $(($(command stat -c %s "$1") - off)) -ge "$3" ]
}
in_a "$INJECT" --iface va --smac 02:00:00:00:aa:01 --dmac 02:00:00:00:aa:02 --src 198.18.0.1 \
	--dst 198.18.0.2 --proto udp --sport 10000 --dport 53 --flows 400 --count 4000 --rate 1000 &
SENDER=$!
PIDS+=("$SENDER")
consume 1
wait_for 10 rows_at_least "$T/run-1.csv" 400
kill -TERM "$CONSUMER"
wait "$CONSUMER"
check "consumer 1: stops cleanly" "$?" 0
# Batches pile up in the spool meanwhile: 64 KiB of them.
wait_for 10 backlog_at_least "$SPOOL" "$CURSOR" 65536
consume 2
wait_for 10 rows_at_least "$T/run-2.csv" 400
kill -TERM "$CONSUMER"
wait "$CONSUMER"
wait "$SENDER"
# Every frame metered (the stats every second say so): the flush at exit
# exports the flows still open.
wait_for 10 stat_at_least "$T/nfxdp.log" frames_metered 4000
kill -TERM "$NFXDP_PID"
wait "$NFXDP_PID"
check "nfxdp exit status" "$?" 0
consume 3 --timeout 1.5
wait "$CONSUMER"
check "consumer 3: reads to the end, then its timeout" "$?" 0

for i in 1 2 3; do
	check "consumer $i received records" "$([ "$($FLOWS "$T/run-$i.csv" --count)" -gt 0 ] && echo yes)" yes
done
total=$(for i in 1 2 3; do $FLOWS "$T/run-$i.csv" --count; done | awk '{ n += $1 } END { print n }')
check "every record of the spool once across the three runs" "$total" \
	"$("$CAT" --input "$SPOOL" --format csv | tail -n +2 | wc -l)"
check "packets per flow: 10 for each of the 400" \
	"$(for i in 1 2 3; do $FLOWS "$T/run-$i.csv" --get src_port,bidirectional_packets; done |
		awk '{ n[$1] += $2 } END { for (p in n) if (n[p] == 10) k++; print k }')" 400
for i in 1 2 3; do
	check "consumer $i: no gap, no repeat, no message at all" "$(cat "$T/run-$i.err")" ""
done
check "the cursor is at the end of the spool" "$(cat "$CURSOR")" "$(command stat -c '%s %i' "$SPOOL")"

# Rotation: with --output-rotate 128k nfxdp renames the spool ROT.1 once it
# holds 128 KiB and starts a new ROT (about once a second here, a dozen
# times in all: a window the waits below hit with both cores busy). Two
# consumers of it, each with its own cursor: R (rot-N) is stopped and
# started again three times, each time after exactly one rotation, so it
# resumes in ROT.1 and goes on into ROT: every record once. A (away-1, away-2) is gone for two rotations or more:
# it says so, starts at the beginning of ROT, and the gap shows.
ROT=$T/rot.pb
RCUR=$T/rot.cursor
ACUR=$T/away.cursor
ino() { command stat -c %i "$1" 2>/dev/null; }
cursor_ino() { awk '{ print $2 }' "$1"; }
# follow NAME CURSOR [options]: a consumer of ROT, records in NAME.csv, messages in NAME.err
follow() {
	"$CAT" --input "$ROT" --follow --cursor "$2" --format csv "${@:3}" >"$T/$1.csv" \
		2>"$T/$1.err" &
	CONSUMER=$!
	PIDS+=("$CONSUMER")
}
stop_consumer() {
	kill -TERM "$1"
	wait "$1"
}
# in_rot1 CURSOR: its file is ROT.1 (one rotation since it was ROT), and
# the new ROT is there (nfxdp renames ROT to ROT.1, then ROT.new to ROT: a
# nfxdp-cat started between the two finds no ROT and exits).
in_rot1() { [ "$(ino "$ROT.1")" = "$(cursor_ino "$1")" ] && [ -e "$ROT" ]; }
# read_in_rot CURSOR: it is past a batch of ROT (the file being written)
read_in_rot() {
	local off ino
	read -r off ino 2>/dev/null <"$1" && [ "$ino" = "$(ino "$ROT")" ] && [ "$off" -gt 0 ]
}
rm -f "$T/rot.sizes"
start_nfxdp "$T/rot.log" --output "$ROT" --format pb --no-zmq --idle-timeout 0.3 \
	--poll-ms 50 --batch-ms 50 --batch-flows 8 --output-rotate 128k --stats 1 ||
	{ fail "rotate: nfxdp starts"; exit 1; }
# A and R follow ROT from its first batch: started, and reading it, before
# any flow comes.
has_open() { ls -l "/proc/$1/fd" 2>/dev/null | grep -q -- "-> $2\$"; }
follow away-1 "$ACUR"
AWAY=$CONSUMER
follow rot-1 "$RCUR"
wait_for 10 has_open "$AWAY" "$ROT"
wait_for 10 has_open "$CONSUMER" "$ROT"
in_a "$INJECT" --iface va --smac 02:00:00:00:aa:01 --dmac 02:00:00:00:aa:02 --src 198.18.0.1 \
	--dst 198.18.0.2 --proto udp --sport 20000 --dport 53 --flows 400 --count 12000 --rate 1000 &
SENDER=$!
PIDS+=("$SENDER")
# What is on disk, every 20 ms while flows come: names and bytes.
(while kill -0 "$SENDER" 2>/dev/null; do
	ls "$T" | grep '^rot\.pb' | grep -vx 'rot\.pb\|rot\.pb\.1\|rot\.pb\.new'
	echo "bytes $(cat "$ROT" "$ROT.1" 2>/dev/null | wc -c)"
	sleep 0.02 # a sample every 20 ms: the period is what is wanted here
done >"$T/rot.sizes") &
PIDS+=($!)
wait_for 10 read_in_rot "$ACUR"
stop_consumer "$AWAY"
check "rotate: consumer A stops cleanly" "$?" 0
# Its file kept linked: its inode number cannot go to a newer file.
ln "$(find "$T" -maxdepth 1 -inum "$(cursor_ino "$ACUR")" -name 'rot.pb*' | head -1)" "$T/away-file"
# in_rot CURSOR: its file is ROT.
in_rot() { [ "$(cursor_ino "$1")" = "$(ino "$ROT")" ]; }
across=0
# Each run of R goes on into ROT, is stopped, and starts again once that
# file is ROT.1. Files last half a second: while R starts again, nfxdp is
# stopped (SIGSTOP; the XDP program meters on), so that no second rotation
# comes before R has opened its file (it would find it rotated away, as
# seen with both cores busy); once R has gone on into ROT, nfxdp goes on.
for i in 2 3 4; do
	wait_for 10 read_in_rot "$RCUR"
	stop_consumer "$CONSUMER"
	check "rotate: consumer R$((i - 1)) stops cleanly" "$?" 0
	wait_for 10 in_rot1 "$RCUR"
	kill -STOP "$NFXDP_PID"
	in_rot1 "$RCUR" && across=$((across + 1))
	follow "rot-$i" "$RCUR"
	wait_for 10 in_rot "$RCUR"
	kill -CONT "$NFXDP_PID"
done
check "rotate: R started again three times, each after exactly one rotation" "$across" 3
wait "$SENDER"
wait_for 10 stat_at_least "$T/rot.log" frames_metered 12000
kill -TERM "$NFXDP_PID"
wait "$NFXDP_PID"
check "rotate: nfxdp exit status" "$?" 0
stop_consumer "$CONSUMER"
check "rotate: consumer R4 stops cleanly" "$?" 0
# A, away for two rotations or more: neither ROT nor ROT.1 is its file. It
# comes back once nfxdp is done, so that ROT is still the file it starts in
# when it opens it (files last a fraction of a second here).
check "rotate: A's file rotated away (not ROT, not ROT.1)" \
	"$(c=$(cursor_ino "$ACUR"); [ "$(ino "$ROT")" != "$c" ] && [ "$(ino "$ROT.1")" != "$c" ] && echo yes)" yes
ln "$ROT" "$T/away-start"
follow away-2 "$ACUR" --timeout 1.5
wait "$CONSUMER"
check "rotate: A again reads to the end, then its timeout" "$?" 0
follow rot-5 "$RCUR" --timeout 1.5
wait "$CONSUMER"
check "rotate: R5 reads to the end, then its timeout" "$?" 0

rotations=$(stat "$T/rot.log" file_rotations)
check "rotate: nfxdp rotated several times (file_rotations >= 5)" \
	"$([ "${rotations:-0}" -ge 5 ] && echo yes)" yes
check "rotate: on disk only ROT and ROT.1, always" "$(grep -v '^bytes' "$T/rot.sizes" | sort -u)" ""
check "rotate: on disk never more than 2 x 128 KiB and a batch each" \
	"$(awk '$1 == "bytes" && $2 > m { m = $2 } END { print (m > 0 && m <= 2 * (131072 + 4096)) ? "yes" : m }' "$T/rot.sizes")" yes
check "rotate: ROT and ROT.1 at the end" "$(cd "$T" && ls -d rot.pb*)" "$(printf 'rot.pb\nrot.pb.1')"
check "rotate: every record once across R's five runs (flows_exported)" \
	"$(for i in 1 2 3 4 5; do $FLOWS "$T/rot-$i.csv" --count; done | awk '{ n += $1 } END { print n }')" \
	"$(stat "$T/rot.log" flows_exported)"
check "rotate: packets per flow: 30 for each of the 400" \
	"$(for i in 1 2 3 4 5; do $FLOWS "$T/rot-$i.csv" --get src_port,bidirectional_packets; done |
		awk '{ n[$1] += $2 } END { for (p in n) if (n[p] == 30) k++; print k }')" 400
check "rotate: R saw no gap, no repeat, nothing rotated away" "$(cat "$T"/rot-*.err)" ""
check "rotate: R's cursor is at the end of ROT" "$(cat "$RCUR")" "$(command stat -c '%s %i' "$ROT")"
check "rotate: A's first run: no message at all" "$(cat "$T/away-1.err")" ""
# The first batch of the ROT that A started on: the same gap, read plainly.
gap=$("$CAT" --input "$T/away-start" --format csv 2>&1 >/dev/null)
check "rotate: the gap is the batches before ROT's first, which A never saw" \
	"$(echo "$gap" | awk '/^nfxdp-cat: gap: [0-9]+ batch\(es\) lost before sequence [0-9]+ \(the first in the file\)$/ && $3 > 0 && $3 == $8 { print "yes" }')" yes
check "rotate: A says its file rotated away, then reports that gap, nothing else" \
	"$(cat "$T/away-2.err")" \
	"nfxdp-cat: $ROT: the file the cursor $ACUR is in was rotated away: batches between lost; starting at the beginning of $ROT
$gap"
check "rotate: A's cursor is at the end of ROT" "$(cat "$ACUR")" "$(command stat -c '%s %i' "$ROT")"
exit $FAILED
