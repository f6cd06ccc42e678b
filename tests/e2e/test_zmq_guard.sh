#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# The ZeroMQ sink against what its peers (or their absence) can do to it:
#  * a short-lived nfxdp (--pcap, --detach) holds its batches for a first
#    subscriber (--zmq-wait, 2 s by default) instead of publishing them to
#    nobody; a live one does the same without blocking its loop, /healthz
#    or SIGTERM, and the hold is bounded (a high-water mark of batches);
#  * a rogue peer sending 100,000 subscriptions to random topics is cut
#    off: nfxdp's memory stays bounded, its loop keeps time (/healthz
#    answers 200 throughout), a subscriber on another address loses nothing;
#  * --zmq-curve on /dev/zero or a huge file is refused at once.
SUITE=e2e-zmq-guard
. "$(dirname "$0")/lib.sh"
need_root
PY3=/usr/bin/python3
ROGUE="$PY3 $TOP/tests/tools/zmq_rogue.py"
$PY3 -c 'import zmq' 2>/dev/null || { fail "python3-zmq is installed (scripts/deps.sh)"; exit 1; }

logged() { grep -q -- "$2" "$1"; }
healthz() { curl -s -o /dev/null -w '%{http_code}' --max-time 1 "http://127.0.0.1:$MPORT/healthz"; }
# stat_now NAME: a counter of nfxdp's stats, now (SIGUSR1).
stat_now() {
	local n
	n=$(grep -c 'stats (SIGUSR1)' "$LOG")
	kill -USR1 "$NFXDP_PID"
	poll_until 5 test "$(grep -c 'stats (SIGUSR1)' "$LOG")" -gt "$n"
	stat "$LOG" "$1"
}
# settled NAME: the counter once two looks 0.3 s apart agree.
settled() {
	local a b
	b=$(stat_now "$1")
	for _ in $(seq 30); do
		sleep 0.3
		a=$b
		b=$(stat_now "$1")
		[ "$a" = "$b" ] && break
	done
	echo "$b"
}
kb() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"; }

A=(--smac 02:00:00:00:aa:01 --dmac 02:00:00:00:aa:02 --src 198.18.0.1 --dst 198.18.0.2)
send() { in_a "$INJECT" --iface va "${A[@]}" --proto udp --dport 53 "$@"; }

# --- short-lived runs wait for a subscriber --------------------------------------
"$B/nfxdp-gencap" -o "$T/cap.pcap" --packets 2000 --flows 200 --duration 2 --seed 3 \
	>/dev/null 2>&1 || fail "nfxdp-gencap"
"$NFXDP" --pcap "$T/cap.pcap" --no-zmq --output "$T/want.csv" 2>/dev/null
want=$($FLOWS "$T/want.csv" --count)
"$NFXDP" --pcap "$T/cap.pcap" --zmq "$ENDPOINT" -v 2>"$T/pcap.log" &
RPID=$!
PIDS+=("$RPID")
poll_until 10 logged "$T/pcap.log" "publishing flows on $ENDPOINT" || fail "--pcap --zmq binds"
"$CAT" "$ENDPOINT" --format csv >"$T/late.csv" 2>"$T/late.err" &
CAT_PID=$!
PIDS+=("$CAT_PID")
wait "$RPID"
check "--pcap --zmq, a subscriber joining after the start: exit status" "$?" 0
poll_until 5 test "$($FLOWS "$T/late.csv" --count 2>/dev/null)" = "$want"
kill -TERM "$CAT_PID"
wait "$CAT_PID"
check "--pcap --zmq, by default: the late subscriber gets every flow, none unheard" \
	"$($FLOWS "$T/late.csv" --count) $(stat "$T/pcap.log" zmq_batches_unheard)" "$want 0"

start=$(date +%s%N)
"$NFXDP" --pcap "$T/cap.pcap" --zmq "$ENDPOINT" 2>"$T/nobody.log"
status=$?
ms=$((($(date +%s%N) - start) / 1000000))
check "--pcap --zmq, nobody subscribes: exit 0, the wait bounded (2 s default) and stated" \
	"$status $([ "$ms" -ge 2000 ] && [ "$ms" -lt 6000 ] && echo bounded) $(grep -c 'no subscriber on .* in time: publishing the 1 batch(es) held' "$T/nobody.log")" \
	"0 bounded 1"
check "--pcap --zmq --zmq-wait 0: no wait" \
	"$("$NFXDP" --pcap "$T/cap.pcap" --zmq "$ENDPOINT" --zmq-wait 0 2>&1 | grep -c 'no subscriber')" 0

setup_pair noipv6 || { fail "namespaces"; exit 1; }
export IFACES=vb@$NS_B
mkdir "$T/bpffs" && mount -t bpf bpf "$T/bpffs" && CLEANUP+=("umount '$T/bpffs'")
PIN=(--persist --pin-dir "$T/bpffs")
start_nfxdp "$T/p1.log" "${PIN[@]}" --idle-timeout 600 || fail "nfxdp --persist starts"
send --sport 1000 --count 6
kill -TERM "$NFXDP_PID"
wait "$NFXDP_PID"
"$NFXDP" --detach "$IFACES" --pin-dir "$T/bpffs" --zmq "$ENDPOINT" -v >"$T/detach.log" 2>&1 &
DPID=$!
PIDS+=("$DPID")
poll_until 10 logged "$T/detach.log" "publishing flows on" || fail "--detach binds"
"$CAT" "$ENDPOINT" --format csv >"$T/detach.csv" 2>/dev/null &
CAT_PID=$!
PIDS+=("$CAT_PID")
wait "$DPID"
check "--detach, a subscriber joining after the start: exit status" "$?" 0
poll_until 5 test -s "$T/detach.csv"
kill -TERM "$CAT_PID"
wait "$CAT_PID"
check "--detach, by default: the subscriber gets the flow left in the cache" \
	"$($FLOWS "$T/detach.csv" --get src_port,bidirectional_packets,expiration_id | tr '\n' ' ')$(stat "$T/detach.log" zmq_batches_unheard)" \
	"1000 6 4 0"

# --- live: the wait holds batches, never the loop ---------------------------------
MPORT=$(free_port)
start_nfxdp "$T/live.log" --zmq-wait 30 --idle-timeout 0.2 --poll-ms 100 --batch-ms 50 \
	--metrics "127.0.0.1:$MPORT" --output "$T/live.csv" || fail "nfxdp --zmq-wait 30 starts"
send --sport 2000 --flows 3 --count 3
poll_until 10 test "$($FLOWS "$T/live.csv" --count 2>/dev/null)" = 3
kill -USR1 "$NFXDP_PID"
poll_until 5 logged "$T/live.log" 'stats (SIGUSR1)'
check "--zmq-wait 30, no subscriber: the batch is held, the file sink has it already" \
	"$(stat "$T/live.log" zmq_batches_held) $($FLOWS "$T/live.csv" --count)" "1 3"
check "--zmq-wait 30, holding: /healthz answers 200 (the loop runs)" "$(healthz)" 200
start=$(date +%s%N)
kill -TERM "$NFXDP_PID"
wait "$NFXDP_PID"
status=$?
ms=$((($(date +%s%N) - start) / 1000000))
check "--zmq-wait 30, SIGTERM while holding: exit 0 within 2 s, the held batch published" \
	"$status $([ "$ms" -lt 2000 ] && echo prompt) $(stat "$T/live.log" zmq_batches_unheard)" \
	"0 prompt 1"

# The hold is bounded: a high-water mark of batches (1000 of one flow each).
start_nfxdp "$T/bound.log" --zmq-wait 60 --idle-timeout 0.2 --poll-ms 100 --batch-flows 1 \
	--batch-ms 10 || fail "nfxdp --zmq-wait 60 --batch-flows 1 starts"
send --sport 10000 --flows 1200 --count 1200 --rate 20000
poll_until 20 logged "$T/bound.log" 'a high-water mark of batches held: publishing the 1000 batch'
check "--zmq-wait 60: at a high-water mark of held batches (1000) they go out, the wait ends" \
	"$(grep -c 'a high-water mark of batches held: publishing the 1000 batch(es)' "$T/bound.log")" 1
kill -TERM "$NFXDP_PID"
wait "$NFXDP_PID"
check "--zmq-wait 60: every batch published (unheard), none held at exit" \
	"$(stat "$T/bound.log" zmq_batches_unheard) $(stat "$T/bound.log" zmq_batches_held)" "1200 0"

# --- a rogue peer ------------------------------------------------------------------
ZPORT=$(free_port)
MPORT=$(free_port)
ZEP=tcp://127.0.0.1:$ZPORT
LOG=$T/rogue.log
# The later --zmq wins over start_nfxdp's ipc endpoint: the rogue needs tcp.
start_nfxdp "$T/rogue.log" --zmq "$ZEP" --zmq-wait 0 --idle-timeout 0.2 --poll-ms 200 \
	--batch-ms 50 --metrics "127.0.0.1:$MPORT" || fail "nfxdp for the rogue starts"
"$CAT" "$ZEP" --format csv >"$T/legit.csv" 2>"$T/legit.err" &
CAT_PID=$!
PIDS+=("$CAT_PID")
poll_until 5 test "$(healthz)" = 200
send --sport 3000 --count 2
poll_until 10 test -s "$T/legit.csv"
warm=$(kb "$NFXDP_PID" VmRSS)
# Each rogue connects from an address of its own: 127.0.0.2 sends 100,000
# random topics of 32 to 62 bytes (left alone: about 80 MB more, and the loop
# inside libzmq for seconds), 127.0.0.3 topics longer than a message may be.
$ROGUE 127.0.0.1 "$ZPORT" 100000 --source 127.0.0.2 --min-len 32 --max-len 62 --seconds 10 \
	>"$T/rogue.out" 2>&1 &
ROGUE_PID=$!
PIDS+=("$ROGUE_PID")
bad=0 probes=0
while kill -0 "$ROGUE_PID" 2>/dev/null; do
	[ "$(healthz)" = 200 ] || bad=$((bad + 1))
	probes=$((probes + 1))
	sleep 0.2
done
wait "$ROGUE_PID"
refused=$(settled zmq_subscriptions_refused)
$ROGUE 127.0.0.1 "$ZPORT" 2000 --source 127.0.0.3 --min-len 600 --max-len 1000 --seconds 5 \
	>"$T/rogue2.out" 2>&1
refused2=$(settled zmq_subscriptions_refused)
send --sport 4000 --count 3
poll_until 10 test "$($FLOWS "$T/legit.csv" --where src_port=4000 --count 2>/dev/null)" = 1
peak=$(kb "$NFXDP_PID" VmRSS)
kill -TERM "$NFXDP_PID"
wait "$NFXDP_PID"
kill -TERM "$CAT_PID"
wait "$CAT_PID"
echo "# rogues: $(cat "$T/rogue.out"), $(cat "$T/rogue2.out"); RSS warm ${warm} kB, after ${peak} kB; /healthz failed $bad of $probes probes"
check "rogue, 100000 random topics: cut off (zmq_peers_disconnected)" \
	"$([ "$(stat "$T/rogue.log" zmq_peers_disconnected)" -ge 1 ] && echo cut)" cut
check "rogue: says it sent more than a subscriber does" \
	"$(grep -c 'A ZeroMQ peer 127.0.0.2 sent more than a subscriber does' "$T/rogue.log" | awk '{ print ($1 > 0) }')" 1
# How many get in before the cut is loopback's buffers' business (autotuned
# up to tcp_rmem's maximum: 76566 of 100000 in one CI run): the bounds that
# hold whatever they take are the budget that makes a rogue, and one count
# per subscription the rogue wrote (it never writes one twice).
sent=$(grep -o 'sent=[0-9]*' "$T/rogue.out" | cut -d= -f2)
check "rogue: its subscriptions counted as refused, more than the budget, at most one each" \
	"$([ "$refused" -gt 256 ] && [ "$refused" -le "${sent:-0}" ] && echo counted ||
		echo "$refused of ${sent:-?} sent")" counted
check "rogue, topics of 600-1000 bytes: each costs it the connection, none taken in" \
	"$([ "$(grep -o 'cut=[0-9]*' "$T/rogue2.out" | cut -d= -f2)" -ge 1 ] && echo cut) $refused2" \
	"cut $refused"
check "rogues: nfxdp's resident set within 32 MB of its warm size" \
	"$([ $((peak - warm)) -lt 32768 ] && echo bounded || echo "grew $((peak - warm)) kB")" bounded
check "rogues: /healthz answered 200 to every probe (poll-ms 200: no stall past 600 ms)" \
	"$bad/$probes" "0/$probes"
check "rogues: the subscriber on 127.0.0.1 kept its connection and every flow" \
	"$($FLOWS "$T/legit.csv" --get src_port,bidirectional_packets | sort | tr '\n' ' ')$(grep -c 'gap\|restart' "$T/legit.err")" \
	"3000 2 4000 3 0"

# --- --zmq-curve on something that is not a key file ---------------------------------
truncate -s 1G "$T/huge"
for f in /dev/zero "$T/huge"; do
	start=$(date +%s%N)
	timeout 20 "$NFXDP" --pcap "$T/cap.pcap" --zmq "$ENDPOINT" --zmq-curve "$f" >"$T/curve.out" 2>&1
	status=$?
	ms=$((($(date +%s%N) - start) / 1000000))
	check "--zmq-curve $f: refused within 5 s, with a message" \
		"$status $([ "$ms" -lt 5000 ] && echo prompt) $(grep -c "Couldn't read CURVE key file $f: not a regular file\|$f holds no secret CURVE key" "$T/curve.out")" \
		"1 prompt 1"
done

exit $FAILED
