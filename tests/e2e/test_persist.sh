#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# --persist: the XDP link and the flow cache stay pinned when nfxdp stops
# (SIGTERM) or dies (SIGKILL); the next nfxdp resumes them, continuing the
# stream; --detach exports what is left and removes every pin. Per flow
# key, the packets in the records add up to the packets sent, exactly.
SUITE=e2e-persist
. "$(dirname "$0")/lib.sh"
need_root

A=(--smac 02:00:00:00:aa:01 --dmac 02:00:00:00:aa:02)
send_a() { in_a "$INJECT" --iface va "${A[@]}" --src 198.18.0.1 --dst 198.18.0.2 "$@"; }

setup_pair noipv6 || { fail "namespaces"; exit 1; }
# A private bpffs, so the host's /sys/fs/bpf is left alone.
mkdir "$T/bpffs" && mount -t bpf bpf "$T/bpffs" || { fail "mount bpffs"; exit 1; }
CLEANUP+=("umount '$T/bpffs'")
IF=vb@$NS_B
PIN=(--pin-dir "$T/bpffs")
DIR=$T/bpffs/$IF
export IFACES=$IF

# Sum of packets per source port over every record: "port packets" lines.
per_port() {
	$FLOWS "$1" --get src_port,bidirectional_packets |
		awk '{ n[$1] += $2 } END { for (p in n) print p, n[p] }' | sort -n
}
xdp_attached() { ip -n "$NS_B" link show vb | grep -c 'prog/xdp'; }

# --- SIGTERM leaves the meter running; a restart resumes; --detach ends -------
start_nfxdp "$T/run1.log" --persist "${PIN[@]}" --idle-timeout 1 --poll-ms 100 \
	--batch-ms 100 || { fail "nfxdp --persist starts"; exit 1; }
"$CAT" "$ENDPOINT" --format csv >"$T/a.csv" 2>"$T/cat.err" &
CAT_PID=$!
PIDS+=("$CAT_PID")
wait_for 10 subscribers_above "$T/run1.log" 0
send_a --proto udp --sport 1000 --dport 53 --count 5
send_a --proto udp --sport 1100 --dport 53 --count 2 # expires in this run: batch 0
wait_for 10 rows_at_least "$T/a.csv" 2 # both idle out (1 s)
kill -TERM "$NFXDP_PID"
wait "$NFXDP_PID"
check "SIGTERM with --persist: exit status" "$?" 0
check "SIGTERM with --persist: says how to resume" \
	"$(grep -c 'left metering .* pinned in' "$T/run1.log")" 1
check "pins left: maps and links (XDP, tc egress)" "$(cd "$DIR" 2>/dev/null && ls | tr '\n' ' ')" \
	"collector_state counters egress_$IF flow_events flows flows_live link_$IF "
check "XDP still attached with no collector" "$(xdp_attached)" 1

# Metered while no collector runs.
send_a --proto udp --sport 1000 --dport 53 --count 3
send_a --proto udp --sport 1001 --dport 53 --count 4

start_nfxdp "$T/run2.log" --persist "${PIN[@]}" --idle-timeout 1 --poll-ms 100 \
	--batch-ms 100 || { fail "nfxdp --persist restarts"; exit 1; }
check "restart: resumes after a clean stop, at the next sequence number" \
	"$(grep -o 'after a clean stop: stream [0-9]* continues at sequence [0-9]*$' "$T/run2.log" |
		awk '{ print $NF }')" "$(stat "$T/run1.log" batches_sent)"
check "restart: takes over the pinned link" "$(grep -c "resumed on $IF" "$T/run2.log")" 1
wait_for 10 subscribers_above "$T/run2.log" 0 # nfxdp-cat connected again
send_a --proto udp --sport 1000 --dport 53 --count 2
send_a --proto udp --sport 1200 --dport 53 --count 1 # expires in this run
# 1000 (metered across the stop), 1001 and 1200 idle out (1 s).
wait_for 10 rows_at_least "$T/a.csv" 5
wait_for 10 has_flow "$T/a.csv" src_port=1200
# A second collector on the same pins is refused; the first goes on.
"$NFXDP" --iface "$IF" --persist "${PIN[@]}" --no-zmq >"$T/second.log" 2>&1
check "second nfxdp on the same pins: exit status" "$?" 1
check "second nfxdp on the same pins: message" \
	"$(grep -c "nfxdp (pid $NFXDP_PID) is already running on the pins in $DIR" "$T/second.log")" 1
# Without --persist, the interface is taken: the message says how to free it.
"$NFXDP" --iface "$IF" --no-zmq >"$T/plain.log" 2>&1
check "plain nfxdp on a persistent meter: exit status" "$?" 1
check "plain nfxdp on a persistent meter: message" \
	"$(grep -c "a --persist nfxdp ends with 'nfxdp --detach $IF'" "$T/plain.log")" 1
kill -TERM "$NFXDP_PID"
wait "$NFXDP_PID"

"$NFXDP" --detach "$IF" "${PIN[@]}" --zmq "$ENDPOINT" --zmq-wait 2 -v >"$T/detach.log" 2>&1
check "--detach: exit status" "$?" 0
wait_for 10 rows_at_least "$T/a.csv" "$(stat "$T/detach.log" flows_exported)"
kill -TERM "$CAT_PID"
wait "$CAT_PID"
check "--detach: XDP detached" "$(xdp_attached)" 0
check "--detach: pins removed" "$(ls "$T/bpffs" | grep -vc '\.debug$')" 0
check "packets per flow across a stop and a restart" "$(per_port "$T/a.csv" | tr '\n' ' ')" \
	"1000 10 1001 4 1100 2 1200 1 "
check "exported flows counted across collectors" "$(stat "$T/detach.log" flows_exported)" \
	"$($FLOWS "$T/a.csv" --count)"
check "counters carry over: frames metered" "$(stat "$T/detach.log" frames_metered)" 17
check "one stream: no restart seen by nfxdp-cat" "$(grep -c 'stream restarted' "$T/cat.err")" 0
check "one stream: no gap seen by nfxdp-cat" "$(grep -c 'gap' "$T/cat.err")" 0

# --- SIGKILL under traffic: nothing lost, nothing twice -------------------------
RUN=(--persist "${PIN[@]}" --no-zmq --output "$T/k.pb" --format pb --idle-timeout 0.5
	--active-timeout 1 --poll-ms 50 --batch-ms 50 --batch-flows 16)
kills=0
size() { command stat -c %s "$1" 2>/dev/null || echo 0; }
bigger() { [ "$(size "$1")" -gt "$2" ]; }
for i in 1 2 3 4; do
	before=$(size "$T/k.pb")
	start_nfxdp "$T/k$i.log" "${RUN[@]}" || { fail "nfxdp restarts after SIGKILL"; break; }
	if [ $i = 1 ]; then
		send_a --proto udp --sport 3000 --dport 53 --flows 200 --count 60000 --rate 15000 &
		SENDER=$!
		PIDS+=("$SENDER")
	fi
	# Killed once this run has written to the file: while it exports.
	wait_for 10 bigger "$T/k.pb" "$before"
	kill -KILL "$NFXDP_PID"
	wait "$NFXDP_PID" 2>/dev/null
	kills=$((kills + 1))
done
wait "$SENDER"
check "SIGKILL: killed while metering" "$kills" 4
check "SIGKILL: the restarts resumed after a crash" \
	"$(grep -l 'after a crash' "$T"/k[234].log | wc -l)" 3
"$NFXDP" --detach "$IF" "${RUN[@]:1}" -v >"$T/kdetach.log" 2>&1
check "SIGKILL: --detach exit status" "$?" 0
check "SIGKILL: frames metered in all" "$(stat "$T/kdetach.log" frames_metered)" 60000
"$CAT" --input "$T/k.pb" --format csv >"$T/k.csv" 2>"$T/k.err"
check "SIGKILL: packets in records" "$($FLOWS "$T/k.csv" --sum bidirectional_packets)" 60000
check "SIGKILL: 300 packets for each of the 200 flows" \
	"$(per_port "$T/k.csv" | awk '$2 == 300' | wc -l)" 200
check "SIGKILL: no batch lost or repeated" "$(grep -c 'gap\|restarted\|repeated' "$T/k.err")" 0

# --- misuse ---------------------------------------------------------------------
"$NFXDP" --detach "$IF" "${PIN[@]}" --no-zmq >"$T/none.log" 2>&1
check "--detach with nothing pinned: exit status" "$?" 1
check "--detach with nothing pinned: message" \
	"$(grep -c "No --persist nfxdp to end there: nothing is pinned at $DIR" "$T/none.log")" 1
start_nfxdp "$T/m1.log" --persist "${PIN[@]}" --no-zmq || fail "nfxdp --persist starts"
kill -TERM "$NFXDP_PID"
wait "$NFXDP_PID"
"$NFXDP" --iface "$IF" --persist "${PIN[@]}" --no-zmq --statistical >"$T/m2.log" 2>&1
check "resume with other features: exit status" "$?" 1
check "resume with other features: message" \
	"$(grep -c "Couldn't reuse the flow cache pinned in $DIR" "$T/m2.log")" 1
check "resume with other features: still attached" "$(xdp_attached)" 1
"$NFXDP" --detach "$IF" "${PIN[@]}" --no-zmq >/dev/null 2>&1
check "then --detach: XDP detached" "$(xdp_attached)" 0
"$NFXDP" --pcap /dev/null --persist --no-zmq >"$T/m3.log" 2>&1
check "--persist with --pcap: refused" \
	"$(grep -c -- '--persist and --detach are for live interfaces' "$T/m3.log")" 1
"$NFXDP" --iface "$IF" --persist --output "$T/x.gz" --compress >"$T/m4.log" 2>&1
check "--persist with a compressed file: refused" \
	"$(grep -c 'a crash would leave it truncated' "$T/m4.log")" 1
exit $FAILED
