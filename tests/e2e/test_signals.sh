#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# The signals a daemon is commonly sent never kill nfxdp with flows in its
# cache: SIGHUP sends the open batch and reopens the output file (logrotate
# renames it, a new one starts at the path), SIGUSR1 prints the stats,
# SIGUSR2 is ignored. Live, with a flow in the cache throughout, and while
# a capture is read from a FIFO.
SUITE=e2e-signals
. "$(dirname "$0")/lib.sh"
need_root

has_flow() { [ -s "$1" ] && [ "$($FLOWS "$1" --where "src_port=$2" --count)" -gt 0 ]; }
# matching FILE PATTERN: lines of FILE with PATTERN.
matching() { grep -c -- "$2" "$1"; }
at_least() { [ "$(matching "$1" "$2")" -ge "$3" ]; }

A=(--smac 02:00:00:00:aa:01 --dmac 02:00:00:00:aa:02 --src 198.18.0.1 --dst 198.18.0.2)
send() { in_a "$INJECT" --iface va "${A[@]}" --proto udp --dport 53 "$@"; }

setup_pair noipv6 || { fail "namespaces"; exit 1; }
export IFACES=vb@$NS_B

# --- SIGHUP: the file renamed away, a new one at the path ----------------------
start_nfxdp "$T/hup.log" --output "$T/f.csv" --idle-timeout 0.5 --poll-ms 100 \
	--batch-ms 100 || { fail "nfxdp starts"; exit 1; }
send --sport 1000 --count 3
poll_until 10 has_flow "$T/f.csv" 1000 || fail "the first flow reaches the file"
mv "$T/f.csv" "$T/f.csv.1"
kill -HUP "$NFXDP_PID"
poll_until 10 at_least "$T/hup.log" 'SIGHUP: batch sent, 1 output file(s) reopened' 1
check "SIGHUP: says the file was reopened, nfxdp goes on" \
	"$(matching "$T/hup.log" 'SIGHUP: batch sent, 1 output file(s) reopened') $(kill -0 "$NFXDP_PID" 2>/dev/null && echo alive)" \
	"1 alive"
send --sport 2000 --count 4
poll_until 10 has_flow "$T/f.csv" 2000 || fail "the second flow reaches the new file"
kill -TERM "$NFXDP_PID"
wait "$NFXDP_PID"
check "SIGHUP: exit status after SIGTERM" "$?" 0
check "SIGHUP: the renamed file keeps the flow written before" \
	"$($FLOWS "$T/f.csv.1" --get src_port,bidirectional_packets | tr '\n' ' ')" "1000 3 "
check "SIGHUP: the new file has its own header and the flow written after" \
	"$(head -c 3 "$T/f.csv") $($FLOWS "$T/f.csv" --get src_port,bidirectional_packets | tr '\n' ' ')" \
	"id, 2000 4 "
check "SIGHUP: counted" "$(stat "$T/hup.log" file_reopens)" 1

# --- a flow in the cache through SIGUSR1, SIGUSR2 and SIGHUP ------------------
start_nfxdp "$T/live.log" --output "$T/g.csv" --idle-timeout 600 --poll-ms 100 ||
	{ fail "nfxdp starts (long idle timeout)"; exit 1; }
send --sport 3000 --count 5
in_cache() { kill -USR1 "$NFXDP_PID"; poll_until 2 grep -q 'stats (SIGUSR1).* frames_metered=5' "$T/live.log"; }
poll_until 10 in_cache
check "SIGUSR1: the stats, now, with the flow's 5 frames" \
	"$(grep -c 'stats (SIGUSR1).* frames_metered=5' "$T/live.log" | awk '{ print ($1 > 0) }')" 1
usr1=$(matching "$T/live.log" 'stats (SIGUSR1)')
kill -USR2 "$NFXDP_PID"
kill -USR1 "$NFXDP_PID"
poll_until 10 at_least "$T/live.log" 'stats (SIGUSR1)' $((usr1 + 1))
check "SIGUSR2: ignored (SIGUSR1 after it is still answered)" \
	"$(matching "$T/live.log" 'stats (SIGUSR1)') $(kill -0 "$NFXDP_PID" 2>/dev/null && echo alive)" \
	"$((usr1 + 1)) alive"
kill -HUP "$NFXDP_PID"
poll_until 10 at_least "$T/live.log" 'output file(s) reopened' 1
check "SIGHUP with nothing batched: the file reopened in place" \
	"$(matching "$T/live.log" 'SIGHUP: batch sent, 1 output file(s) reopened')" 1
kill -TERM "$NFXDP_PID"
wait "$NFXDP_PID"
check "after SIGUSR1, SIGUSR2 and SIGHUP: exit status 0 on SIGTERM" "$?" 0
check "the flow in the cache is exported at the end, whole" \
	"$($FLOWS "$T/g.csv" --get src_port,bidirectional_packets,expiration_id | tr '\n' ' ')" \
	"3000 5 4 "
check "one header in the file reopened in place" "$(grep -c '^id,' "$T/g.csv")" 1

# --- a capture read from a FIFO --------------------------------------------------
"$B/nfxdp-gencap" -o "$T/cap.pcap" --packets 3000 --flows 300 --duration 5 --seed 7 \
	>/dev/null 2>&1 || fail "nfxdp-gencap"
"$NFXDP" --pcap "$T/cap.pcap" --no-zmq --output "$T/whole.csv" 2>"$T/whole.log"
want=$($FLOWS "$T/whole.csv" --sum bidirectional_packets)
mkfifo "$T/fifo"
"$NFXDP" --pcap "$T/fifo" --no-zmq --output "$T/fifo.csv" -v 2>"$T/fifo.log" &
RPID=$!
PIDS+=("$RPID")
exec 3>"$T/fifo"
size=$(stat -c %s "$T/cap.pcap")
head -c $((size / 2)) "$T/cap.pcap" >&3
for sig in HUP USR1 USR2; do
	kill -"$sig" "$RPID"
done
tail -c +$((size / 2 + 1)) "$T/cap.pcap" >&3
exec 3>&-
wait "$RPID"
check "capture from a FIFO, SIGHUP, SIGUSR1, SIGUSR2 midway: exit status" "$?" 0
check "capture from a FIFO: every packet in a record" \
	"$($FLOWS "$T/fifo.csv" --sum bidirectional_packets)" "$want"
check "capture from a FIFO: SIGUSR1 answered" "$(matching "$T/fifo.log" 'stats (SIGUSR1)')" 1

exit $FAILED
