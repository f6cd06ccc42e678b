#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Slow or absent consumers of the ZeroMQ stream: none at all, nfxdp-cat
# stopped with SIGSTOP (then resumed) beside a healthy subscriber, a
# subscriber that sleeps per batch beside a healthy one, one that
# disconnects and connects again, nfxdp-cat stopped on an idle stream (the
# heartbeat), one killed while stopped and another started. In every case:
#  - the collector's loop keeps running (its periodic stats keep coming with
#    more scans, and the flows sent meanwhile are all exported on idle
#    timeout while the consumer is stuck);
#  - its memory stays within what the high-water marks allow (VmHWM against
#    a bound: per stuck subscriber, the high-water mark nfxdp derives from
#    its 16 MiB budget, zmq_hwm_for() in user/export_zmq.c, times the batch
#    size);
#  - a subscriber that cannot keep up loses batches alone: a healthy one
#    beside it receives every batch, without a gap; the one that lost
#    finds its loss as gaps in the batch sequence (received + lost = every
#    batch from its first), and nfxdp refuses nothing (zmq_batches_dropped
#    stays 0: it counts only what ZeroMQ refused for everyone);
#  - a stopped subscriber answers no heartbeat and is disconnected, which
#    frees what it held; resumed, it connects again by itself. That is
#    checked on an idle stream: under traffic the PING waits behind the
#    batches that fill the socket buffer, and whether it goes out before
#    the buffer is full is a matter of timing, so the loaded cases do not
#    count on it (the high-water mark bounds the memory either way; the
#    "# subscribers" line says whether it happened);
#  - a killed subscriber is no longer counted (zmq_subscribers).
# With no subscriber, every batch is counted in zmq_batches_unheard. Last,
# zmq_subscribers counts subscribers to flows, not their topics.
#
# The flows are one-frame UDP flows at a steady rate, exported in batches
# of BATCH_FLOWS: a few seconds of a stuck consumer is many times the
# high-water mark (an unbounded queue would outgrow the bound within two
# seconds), and longer than the heartbeat timeout.
SUITE=${SUITE:-e2e-consumers}
. "$(dirname "$0")/lib.sh"
need_root

SEND=$B/tests/flowsend
ZSUB=$B/tests/zsub
RATE=${CONS_RATE:-10000}		 # new flows per second
SECONDS_STUCK=${CONS_SECONDS:-5}	 # traffic while a consumer is stuck
BATCH_FLOWS=4
# The bound on what the collector may hold per stuck subscriber: its
# high-water mark (HWM batches), each batch at most BATCH_BYTES encoded
# (nfxdp's estimate, or the largest a subscriber measured if larger), plus
# two ZeroMQ frames and their allocations per batch; plus slack for
# allocator arenas. Measured from the resident set once warm (the queue of
# a stuck subscriber here is about 0.7 MB; without a high-water mark it
# grows by 2.5 MB a second).
MSG_OVERHEAD=512
SLACK_KB=2048

# zmq_hwm_for BATCH_FLOWS STATISTICAL SPLT: as user/export_zmq.c does it.
ZMQ_BUDGET=$((16 << 20))
zmq_hwm_for() {
	local flow=$((200 + 160 * $2 + 3 * $3)) hwm
	hwm=$((ZMQ_BUDGET / (flow * $1)))
	[ "$hwm" -lt 16 ] && hwm=16
	[ "$hwm" -gt 1000 ] && hwm=1000
	echo "$hwm"
}
HWM=$(zmq_hwm_for "$BATCH_FLOWS" 0 0)
BATCH_BYTES=$((200 * BATCH_FLOWS))

for tool in "$SEND" "$ZSUB"; do
	if [ ! -x "$tool" ]; then
		fail "$tool missing: make tests (tests/soak/soak.mk)"
		exit 1
	fi
done

setup_pair noipv6 || { fail "namespaces"; exit 1; }

# start DIR [options]: nfxdp with fast expiry, periodic stats, a file sink.
start() {
	local d=$1
	shift
	mkdir -p "$d"
	start_nfxdp "$d/nfxdp.log" --idle-timeout 0.5 --poll-ms 10 --batch-ms 50 \
		--max-flows 131072 --batch-flows "$BATCH_FLOWS" --stats 1 --output "$d/flows.csv" "$@"
}

# send FIRST N: N one-frame flows at RATE, numbered from FIRST (dst_port
# 20000 + FIRST / 50000).
SENT=0
send() {
	in_a "$SEND" --iface va --first "$1" --flows "$2" --per-flow 1 --rate "$RATE" 2>/dev/null
	SENT=$((SENT + $2))
}

# reports LOG: nfxdp's periodic stats, one report a line.
reports() {
	awk '/stats \(periodic\)/ { if (l) print l; l = $0; next }
	     /^nfxdp:   / && l { l = l $0 }
	     END { if (l) print l }' "$1"
}

# nreports LOG: how many periodic reports so far.
nreports() {
	reports "$1" | wc -l
}

# field NAME: the value of NAME in each line of stdin.
field() {
	grep -oE "(^| )$1=[0-9]+" | cut -d= -f2
}

# wait_report LOG AFTER COND [MORE]: waits (20 s at most) for a periodic
# report past the AFTER-th for which the awk condition COND holds on its
# fields (exported, dropped, subscribers, unheard, batches), then for MORE
# (1) reports after it; 0 if they came.
wait_report() {
	local more=${4:-1}
	poll_until 20 report_found "$1" "$2" "$3" || return 1
	poll_until $((3 * more + 1)) reports_at_least "$1" $(($2 + FOUND + more))
}
# report_found LOG AFTER COND: a report past the AFTER-th meets COND; its
# number (counted from AFTER) in FOUND.
report_found() {
	FOUND=$(reports "$1" | tail -n +$(($2 + 1)) | awk -v FS='[ =]+' '
		{ for (i = 1; i < NF; i++) v[$i] = $(i + 1)
		  exported = v["flows_exported_idle"]; dropped = v["zmq_batches_dropped"]
		  subscribers = v["zmq_subscribers"]; unheard = v["zmq_batches_unheard"]
		  batches = v["batches_sent"] }
		'"$3"' { print NR; exit }')
	[ -n "$FOUND" ]
}
# reports_at_least LOG N
reports_at_least() { [ "$(nreports "$1")" -ge "$2" ]; }

# wait_or_fail NAME WHAT LOG AFTER COND [MORE]: wait_report (MORE: 0), a
# FAIL (with the reports it waited on) when it does not come.
wait_or_fail() {
	if wait_report "$3" "$4" "$5" "${6:-0}"; then
		return 0
	fi
	fail "$1: $2"
	reports "$3" | tail -n +$(($4 + 1)) | sed 's/^/# /' | cut -c1-400 >&2
	return 1
}

# accounted ZSUB_LINE: batches zsub received plus those it found missing,
# and the sequence number it started at.
accounted() {
	echo "$(($(echo "$1" | field batches) + $(echo "$1" | field lost))) $(echo "$1" | field first_seq)"
}

# whole ZSUB_LINE: batches, lost, gaps, first_seq (a healthy subscriber's
# is "SENT 0 0 0").
whole() {
	echo "$(echo "$1" | field batches) $(echo "$1" | field lost) $(echo "$1" | field gaps)" \
		"$(echo "$1" | field first_seq)"
}

# increasing: "yes" when the numbers on stdin (at least two) strictly increase.
increasing() {
	awk 'NR > 1 && $1 <= p { bad = 1 } { p = $1 }
	     END { print (NR >= 2 && !bad) ? "yes" : "no" }'
}

# hwm_kb PID: the process's peak resident set.
hwm_kb() {
	awk '/^VmHWM:/ { print $2 }' "/proc/$1/status"
}

# warm_kb PID: its resident set now, from which its peak starts again (the
# peak of start-up, freed since, would hide what a queue takes).
warm_kb() {
	echo 5 >"/proc/$1/clear_refs"
	hwm_kb "$1"
}

# bound_kb WARM_KB STUCK BATCH_BYTES: what the collector may reach once warm
# with STUCK subscribers holding a full queue each.
bound_kb() {
	echo $(($1 + $2 * HWM * ($3 + MSG_OVERHEAD) / 1024 + SLACK_KB))
}

# cat_lost ERR: batches nfxdp-cat said it lost in all (0 when it said nothing).
cat_lost() {
	local n
	n=$(sed -n 's/^nfxdp-cat: \([0-9]*\) batch(es) lost in all$/\1/p' "$1")
	echo "${n:-0}"
}

# stuck_checks NAME DIR REPORTS_BEFORE [COND WHAT]: the collector while a
# consumer is stuck: a report past REPORTS_BEFORE where the flows SENT so far
# are all exported on idle and COND (WHAT, in words) holds, then the loop's
# progress.
stuck_checks() {
	local name=$1 d=$2 n0=$3 cond=${4:-1} what="a periodic report with every flow exported while stuck$5"
	wait_or_fail "$name" "$what" "$d/nfxdp.log" "$n0" "exported == $SENT && $cond" 1 ||
		return 1
	pass "$name: $what"
	check "$name: periodic reports kept coming, scans increasing" \
		"$(reports "$d/nfxdp.log" | tail -n +$((n0 + 1)) | field scans | increasing)" yes
}

# memory_check NAME WARM_KB STUCK [MEASURED_BYTES]: VmHWM within the bound.
memory_check() {
	local name=$1 warm=$2 stuck=$3 bytes=$BATCH_BYTES peak bound
	[ "${4:-0}" -gt "$bytes" ] && bytes=$4
	peak=$(hwm_kb "$NFXDP_PID")
	bound=$(bound_kb "$warm" "$stuck" "$bytes")
	check "$name: memory within $stuck high-water mark(s) of $HWM batches" \
		"$([ "$peak" -le "$bound" ] && echo yes) (VmHWM $peak kB, bound $bound kB)" \
		"yes (VmHWM $peak kB, bound $bound kB)"
	MEM_FIGURES+="$name: warm=${warm}kB peak=${peak}kB bound=${bound}kB"
	MEM_FIGURES+=" (batch ${bytes} B, measured ${4:-none}); "
}

# zsub_line PID OUT: zsub's status line now (SIGUSR1: it prints it).
zsub_line() {
	local n
	n=$(lines "$2")
	kill -USR1 "$1"
	poll_until 2 lines_at_least "$2" $((n + 1))
	tail -1 "$2"
}

# drained PID OUT: waits (60 s at most) until zsub takes no more batches.
drained() {
	local a b i
	b=$(zsub_line "$1" "$2" | field batches)
	for i in $(seq 120); do
		# "No more" is no batch in 0.5 s: a time is the condition.
		sleep 0.5
		a=$b
		b=$(zsub_line "$1" "$2" | field batches)
		[ "$a" = "$b" ] && return 0
	done
	return 1
}

# subscribers_min LOG AFTER: the fewest subscribers a report past AFTER saw.
subscribers_min() {
	reports "$1" | tail -n +$(($2 + 1)) | field zmq_subscribers | sort -n | head -1
}

# stop_all PID...: nfxdp (SIGINT: flush), then once every consumer has the
# last batch (nfxdp-cat: the last flow exported, id flows_exported - 1;
# zsub: received + lost = batches_sent), stops them.
stop_all() {
	kill -INT "$NFXDP_PID" 2>/dev/null
	wait "$NFXDP_PID"
	NFXDP_STATUS=$?
	local p n b
	n=$(stat "$NFXDP_LOG" flows_exported)
	b=$(stat "$NFXDP_LOG" batches_sent)
	for p in "$@"; do
		case ${KIND_OF[$p]} in
		cat) wait_for 10 has_flow "${OUT_OF[$p]}" "id=$((n - 1))" ;;
		zsub) wait_for 10 zsub_has_all "$p" "${OUT_OF[$p]}" "$b" ;;
		esac
	done
	for p in "$@"; do
		kill -TERM "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
}
# zsub_has_all PID OUT BATCHES: zsub received or found missing BATCHES.
zsub_has_all() { [ "$(accounted "$(zsub_line "$1" "$2")" | cut -d' ' -f1)" = "$3" ]; }

# exit_checks NAME DIR: after the stop, from the exit stats and the file.
exit_checks() {
	check "$1: exit status" "$NFXDP_STATUS" 0
	check "$1: the file sink has every flow" "$($FLOWS "$2/flows.csv" --count)" "$SENT"
	check "$1: nothing refused by ZeroMQ (zmq_batches_dropped)" \
		"$(stat "$2/nfxdp.log" zmq_batches_dropped)" 0
}

# zsub_start OUT [options]: a zsub in the background, its pid in ZSUB_PID.
zsub_start() {
	local out=$1
	shift
	"$ZSUB" "$ENDPOINT" "$@" >"$out" 2>"${out%.out}.err" &
	ZSUB_PID=$!
	PIDS+=("$ZSUB_PID")
	KIND_OF[$ZSUB_PID]=zsub
	OUT_OF[$ZSUB_PID]=$out
}

# cat_start OUT: nfxdp-cat (CSV) in the background, its pid in CAT_PID.
cat_start() {
	"$CAT" "$ENDPOINT" --format csv >"$1" 2>"${1%.csv}.err" &
	CAT_PID=$!
	PIDS+=("$CAT_PID")
	KIND_OF[$CAT_PID]=cat
	OUT_OF[$CAT_PID]=$1
}
declare -A KIND_OF OUT_OF # a consumer's kind and output, by pid

MEM_FIGURES=
FIGURES=
SUBS_FIGURES=
TIMES=
T0=$SECONDS
T_CASE=$SECONDS

# timed NAME: the seconds since the last case ended, for the "# time" line.
timed() {
	TIMES+="$1 $((SECONDS - T_CASE)) s, "
	T_CASE=$SECONDS
}

# stall DIR [PID]: half a second of flows, all exported (then the resident
# set is warm), then PID stopped (none: nobody) while SECONDS_STUCK seconds
# of flows are sent. Sets warm and n0 (the periodic reports so far).
stall() {
	send 0 $((RATE / 2))
	wait_report "$1/nfxdp.log" 0 "exported == $SENT" 0 || true
	warm=$(warm_kb "$NFXDP_PID")
	n0=$(nreports "$1/nfxdp.log")
	[ -n "${2:-}" ] && kill -STOP "$2"
	send 100000 $((RATE * SECONDS_STUCK))
}

# --- no subscriber -------------------------------------------------------------
d=$T/none
SENT=0
start "$d" || { fail "none: nfxdp starts"; exit 1; }
stall "$d"
stuck_checks none "$d" "$n0" "subscribers == 0" ", no subscriber" &&
	memory_check none "$warm" 0
stop_all
exit_checks none "$d"
batches=$(stat "$d/nfxdp.log" batches_sent)
check "none: every batch unheard, no subscriber (unheard, subscribers)" \
	"$(stat "$d/nfxdp.log" zmq_batches_unheard) $(stat "$d/nfxdp.log" zmq_subscribers)" \
	"$batches 0"
FIGURES+="none: batches=$batches unheard=$(stat "$d/nfxdp.log" zmq_batches_unheard); "
timed none

# --- nfxdp-cat stopped, then resumed; a healthy subscriber beside it -----------
d=$T/stopped
SENT=0
start "$d" || { fail "stopped: nfxdp starts"; exit 1; }
cat_start "$d/cat.csv"
cat_pid=$CAT_PID
zsub_start "$d/zsub.out"
zsub_pid=$ZSUB_PID
wait_or_fail stopped "both subscribed" "$d/nfxdp.log" 0 "subscribers == 2"
stall "$d" "$cat_pid"
stuck_checks stopped "$d" "$n0" &&
	memory_check stopped "$warm" 1 "$(zsub_line "$zsub_pid" "$d/zsub.out" | field max_bytes)"
SUBS_FIGURES+="stopped: $(subscribers_min "$d/nfxdp.log" "$n0") of 2 while stopped, "
n1=$(nreports "$d/nfxdp.log")
kill -CONT "$cat_pid"
# Resumed, it takes what it held; had the heartbeat disconnected it, it
# finds the connection closed and connects again by itself. Then a last
# round, after the hole.
wait_or_fail stopped "nfxdp-cat subscribed once resumed" "$d/nfxdp.log" "$n1" "subscribers == 2"
send 5050000 10
wait_report "$d/nfxdp.log" "$n1" "exported == $SENT" 0 || true
stop_all "$cat_pid" "$zsub_pid"
exit_checks stopped "$d"
batches=$(stat "$d/nfxdp.log" batches_sent)
zs=$(tail -1 "$d/zsub.out")
check "stopped: the healthy subscriber got every batch, no gap (batches lost gaps first)" \
	"$(whole "$zs")" "$batches 0 0 0"
check "stopped: nfxdp-cat reports the gap" \
	"$(grep -q '^nfxdp-cat: gap: [0-9]* batch(es) lost before sequence [0-9]*$' "$d/cat.err" &&
		echo yes)" yes
check "stopped: nfxdp-cat lost batches in all" "$([ "$(cat_lost "$d/cat.err")" -gt 0 ] && echo yes)" yes
check "stopped: nfxdp-cat got every flow sent once it was back" \
	"$($FLOWS "$d/cat.csv" --where dst_port=20101 --count)" 10
FIGURES+="stopped: batches=$batches healthy: $(whole "$zs" | awk '{ print "received=" $1 " lost=" $2 }')"
FIGURES+=" stopped cat: flows=$($FLOWS "$d/cat.csv" --count) lost=$(cat_lost "$d/cat.err"); "
timed stopped

# --- a subscriber that sleeps after each batch, a healthy one beside it ---------
d=$T/slow
SENT=0
start "$d" || { fail "slow: nfxdp starts"; exit 1; }
zsub_start "$d/slow.out" --slow-ms 1 --slow-batches $((RATE * 2 / BATCH_FLOWS))
slow_pid=$ZSUB_PID
zsub_start "$d/zsub.out"
zsub_pid=$ZSUB_PID
wait_or_fail slow "both subscribed" "$d/nfxdp.log" 0 "subscribers == 2"
stall "$d"
stuck_checks slow "$d" "$n0" &&
	memory_check slow "$warm" 1 "$(zsub_line "$zsub_pid" "$d/zsub.out" | field max_bytes)"
drained "$slow_pid" "$d/slow.out"
n1=$(nreports "$d/nfxdp.log")
SUBS_FIGURES+="slow: $(subscribers_min "$d/nfxdp.log" "$n0") of 2 while slow, "
# Both there (had a heartbeat dropped the slow one, it is back), then a last
# round: the batch after any gap, so the slow one sees every gap.
wait_or_fail slow "both subscribed once drained" "$d/nfxdp.log" "$n1" "subscribers == 2"
send 5050000 10
wait_report "$d/nfxdp.log" "$n1" "exported == $SENT" 0 || true
stop_all "$slow_pid" "$zsub_pid"
exit_checks slow "$d"
batches=$(stat "$d/nfxdp.log" batches_sent)
zs=$(tail -1 "$d/zsub.out")
ss=$(tail -1 "$d/slow.out")
check "slow: it lost batches" "$([ "$(echo "$ss" | field lost)" -gt 0 ] && echo yes)" yes
check "slow: it saw the gaps: received + lost = every batch from the first" \
	"$(accounted "$ss")" "$batches 0"
check "slow: the healthy subscriber got every batch, no gap (batches lost gaps first)" \
	"$(whole "$zs")" "$batches 0 0 0"
FIGURES+="slow: batches=$batches healthy: $(whole "$zs" | awk '{ print "received=" $1 " lost=" $2 }')"
FIGURES+=" slow: received=$(echo "$ss" | field batches) lost=$(echo "$ss" | field lost)"
FIGURES+=" gaps=$(echo "$ss" | field gaps); "
timed slow

# --- a subscriber that disconnects and connects again --------------------------
d=$T/reconnect
SENT=0
start "$d" || { fail "reconnect: nfxdp starts"; exit 1; }
zsub_start "$d/zsub.out" --reconnect-after $((RATE / BATCH_FLOWS)) --pause-ms 1500
zsub_pid=$ZSUB_PID
wait_or_fail reconnect "subscribed" "$d/nfxdp.log" 0 "subscribers == 1"
send 0 $((RATE * SECONDS_STUCK))
n1=$(nreports "$d/nfxdp.log")
# Back (it was away 1.5 s of the traffic), then a last round: the batch after
# the hole.
wait_or_fail reconnect "subscribed again" "$d/nfxdp.log" "$n1" "subscribers == 1"
send 5050000 10
wait_report "$d/nfxdp.log" "$n1" "exported == $SENT" 0 || true
stop_all "$zsub_pid"
exit_checks reconnect "$d"
batches=$(stat "$d/nfxdp.log" batches_sent)
zs=$(tail -1 "$d/zsub.out")
check "reconnect: it found the hole its absence left" \
	"$(grep -q '^zsub: gap: ' "$d/zsub.err" && echo yes)" yes
check "reconnect: received + lost = every batch from the first" "$(accounted "$zs")" \
	"$batches 0"
check "reconnect: subscribed again at the end" "$(stat "$d/nfxdp.log" zmq_subscribers)" 1
check "reconnect: batches published while it was away were unheard" \
	"$([ "$(stat "$d/nfxdp.log" zmq_batches_unheard)" -gt 0 ] && echo yes)" yes
FIGURES+="reconnect: batches=$batches unheard=$(stat "$d/nfxdp.log" zmq_batches_unheard)"
FIGURES+=" consumer: received=$(echo "$zs" | field batches) lost=$(echo "$zs" | field lost); "
timed reconnect

# --- the heartbeat: nfxdp-cat stopped on an idle stream, then resumed -------------
d=$T/heartbeat
SENT=0
start "$d" || { fail "heartbeat: nfxdp starts"; exit 1; }
cat_start "$d/cat.csv"
cat_pid=$CAT_PID
wait_or_fail heartbeat "subscribed" "$d/nfxdp.log" 0 "subscribers == 1"
send 0 $((RATE / 10))
wait_report "$d/nfxdp.log" 0 "exported == $SENT" 0 || true
n0=$(nreports "$d/nfxdp.log")
kill -STOP "$cat_pid"
wait_or_fail heartbeat "a stopped nfxdp-cat is disconnected (no answer to PING for 3 s)" \
	"$d/nfxdp.log" "$n0" "subscribers == 0" &&
	pass "heartbeat: a stopped nfxdp-cat is disconnected (no answer to PING for 3 s)"
n1=$(nreports "$d/nfxdp.log")
kill -CONT "$cat_pid"
wait_or_fail heartbeat "resumed, it connects again by itself" "$d/nfxdp.log" "$n1" \
	"subscribers == 1" && pass "heartbeat: resumed, it connects again by itself"
send 5050000 10
wait_report "$d/nfxdp.log" "$n1" "exported == $SENT" 0 || true
stop_all "$cat_pid"
exit_checks heartbeat "$d"
check "heartbeat: nfxdp-cat got every flow, no batch published while it was away" \
	"$($FLOWS "$d/cat.csv" --count) $(cat_lost "$d/cat.err") $(stat "$d/nfxdp.log" zmq_batches_unheard)" \
	"$SENT 0 0"
FIGURES+="heartbeat: batches=$(stat "$d/nfxdp.log" batches_sent) cat: flows=$($FLOWS "$d/cat.csv" --count)"
FIGURES+=" lost=$(cat_lost "$d/cat.err"); "
timed heartbeat

# --- nfxdp-cat killed while stopped, another one started -------------------------
d=$T/killed
SENT=0
start "$d" || { fail "killed: nfxdp starts"; exit 1; }
cat_start "$d/cat1.csv"
cat_pid=$CAT_PID
wait_or_fail killed "subscribed" "$d/nfxdp.log" 0 "subscribers == 1"
stall "$d" "$cat_pid"
stuck_checks killed "$d" "$n0" && memory_check killed "$warm" 1
SUBS_FIGURES+="killed: $(subscribers_min "$d/nfxdp.log" "$n0") of 1 while stopped"
kill -KILL "$cat_pid"
{ wait "$cat_pid"; } 2>/dev/null # no "Killed" job notice
n1=$(nreports "$d/nfxdp.log")
wait_or_fail killed "the dead nfxdp-cat is no longer counted" "$d/nfxdp.log" "$n1" \
	"subscribers == 0" && pass "killed: the dead nfxdp-cat is no longer counted"
n1=$(nreports "$d/nfxdp.log")
cat_start "$d/cat2.csv"
cat_pid=$CAT_PID
wait_or_fail killed "the new nfxdp-cat subscribed" "$d/nfxdp.log" "$n1" "subscribers == 1"
send 6000000 $((RATE / 2))
wait_report "$d/nfxdp.log" "$n1" "exported == $SENT" 0 || true
stop_all "$cat_pid"
exit_checks killed "$d"
check "killed: the new nfxdp-cat got every flow sent after it started" \
	"$($FLOWS "$d/cat2.csv" --where dst_port=20120 --count)" $((RATE / 2))
check "killed: the new nfxdp-cat saw no gap" "$(cat_lost "$d/cat2.err")" 0
check "killed: one subscriber at the end" "$(stat "$d/nfxdp.log" zmq_subscribers)" 1
FIGURES+="killed: batches=$(stat "$d/nfxdp.log" batches_sent)"
FIGURES+=" unheard=$(stat "$d/nfxdp.log" zmq_batches_unheard)"
FIGURES+=" new cat: flows=$($FLOWS "$d/cat2.csv" --count) lost=$(cat_lost "$d/cat2.err"); "
timed killed

# --- one subscriber, two topics ---------------------------------------------------
# nfxdp-cat --stats subscribes to "flows" and "stats": one subscriber, and
# none once it has gone.
d=$T/topics
start "$d" || { fail "topics: nfxdp starts"; exit 1; }
"$CAT" "$ENDPOINT" --stats --format csv >/dev/null 2>"$d/cat.err" &
cat_pid=$!
PIDS+=("$cat_pid")
wait_report "$d/nfxdp.log" 0 "subscribers > 0" 0 || true
check "topics: nfxdp-cat --stats counts as one subscriber" \
	"$(reports "$d/nfxdp.log" | tail -1 | field zmq_subscribers)" 1
kill -TERM "$cat_pid"
wait "$cat_pid" 2>/dev/null
n1=$(nreports "$d/nfxdp.log")
wait_report "$d/nfxdp.log" "$n1" "subscribers != 1" 0 || true
check "topics: none once it has gone" \
	"$(reports "$d/nfxdp.log" | tail -1 | field zmq_subscribers)" 0
stop_all
timed topics

echo "# memory: hwm=$HWM batches; $MEM_FIGURES"
echo "# subscribers, fewest seen (fewer: the heartbeat disconnected the stuck one): $SUBS_FIGURES"
echo "# figures: $FIGURES"
echo "# time: $((SECONDS - T0)) s (${TIMES%, })"
exit $FAILED
