#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Least privilege and the stream's exposure: once attached, no thread of
# nfxdp holds a capability, and it still expires, exports and detaches;
# the default endpoints listen on loopback only; --zmq-curve encrypts the
# stream and only a subscriber with the publisher's public key reads it.
SUITE=e2e-security
. "$(dirname "$0")/lib.sh"
need_root

A=(--smac 02:00:00:00:aa:01 --dmac 02:00:00:00:aa:02)
send_a() { in_a "$INJECT" --iface va "${A[@]}" --src 198.18.0.1 --dst 198.18.0.2 "$@"; }
xdp_attached() { ip -n "$NS_B" link show vb | grep -c 'prog/xdp'; }

setup_pair noipv6 || { fail "namespaces"; exit 1; }
export IFACES=vb@$NS_B

# --- capabilities -----------------------------------------------------------------
start_nfxdp "$T/caps.log" --idle-timeout 1 --poll-ms 100 --batch-ms 100 \
	--metrics "127.0.0.1:$(free_port tcp)" || { fail "nfxdp starts"; exit 1; }
start_cat "$T/caps.csv"
sets=$(cat /proc/"$NFXDP_PID"/task/*/status | grep -E '^Cap(Eff|Prm|Inh|Bnd|Amb)' |
	awk '{ print $2 }' | sort -u | tr '\n' ' ')
threads=$(ls /proc/"$NFXDP_PID"/task | wc -l)
check "several threads (ZeroMQ, HTTP) run: $threads" "$([ "$threads" -ge 3 ] && echo yes)" yes
check "no capability left in any thread, any set" "$sets" "0000000000000000 "
check "no_new_privs in every thread" \
	"$(grep -h '^NoNewPrivs' /proc/"$NFXDP_PID"/task/*/status | sort -u | awk '{ print $2 }')" 1
send_a --proto udp --sport 1000 --dport 53 --count 3
# Idle expiry (1 s) goes through the closer (BPF_PROG_TEST_RUN) without privileges.
wait_for 10 has_flow "$T/caps.csv" src_port=1000
n=$(xdp_frames "$NS_B" vb)
send_a --proto udp --sport 1001 --dport 53 --count 2
# Metered, to be flushed at exit (well before its 1 s idle timeout).
wait_for 10 xdp_frames_at_least "$NS_B" vb $((n + 2))
stop_nfxdp
check "exit status" "$NFXDP_STATUS" 0
check "idle expiry without capabilities" \
	"$($FLOWS "$T/caps.csv" --where src_port=1000 --get expiration_id,bidirectional_packets)" "0 3"
check "flush at exit without capabilities" \
	"$($FLOWS "$T/caps.csv" --where src_port=1001 --get expiration_id,bidirectional_packets)" "4 2"
check "detached at exit without capabilities" "$(xdp_attached)" 0

# --- loopback by default ------------------------------------------------------------
# Inside the namespace: its own loopback, so the fixed default port is free.
ip netns exec "$NS_B" "$NFXDP" --iface vb --metrics 9101 -v >"$T/lo.log" 2>&1 &
LO_PID=$!
PIDS+=("$LO_PID")
wait_for 10 has_line "$T/lo.log" '^nfxdp: metering'
check "default ZeroMQ endpoint and a bare metrics port: loopback only" \
	"$(in_b ss -Hltn | awk '{ print $4 }' | sort | tr '\n' ' ')" "127.0.0.1:5556 127.0.0.1:9101 "
kill -TERM "$LO_PID"
wait "$LO_PID"

# --- CURVE ----------------------------------------------------------------------------
"$NFXDP" --curve-keygen "$T/server.key" >/dev/null
"$NFXDP" --curve-keygen "$T/other.key" >/dev/null
check "keygen: secret key file mode" "$(command stat -c %a "$T/server.key")" 600
"$NFXDP" --curve-keygen "$T/server.key" >/dev/null 2>"$T/keygen.err"
check "keygen never overwrites a key" "$(grep -c "Couldn't write $T/server.key: File exists" "$T/keygen.err")" 1
ENDPOINT=tcp://127.0.0.1:$(free_port tcp)
start_nfxdp "$T/curve.log" --zmq-curve "$T/server.key" --idle-timeout 1 --poll-ms 100 \
	--batch-ms 100 || { fail "nfxdp --zmq-curve starts"; exit 1; }
check "says the stream is encrypted" "$(grep -c "publishing flows on $ENDPOINT (CURVE)" "$T/curve.log")" 1
"$CAT" "$ENDPOINT" --format csv --curve-server-key "$T/server.key.pub" --count 1 --timeout 10 \
	>"$T/curve.csv" &
GOOD=$!
"$CAT" "$ENDPOINT" --format csv --count 1 --timeout 4 >"$T/plain.csv" &
PLAIN=$!
"$CAT" "$ENDPOINT" --format csv --curve-server-key "$T/other.key.pub" --count 1 --timeout 4 >"$T/wrong.csv" &
WRONG=$!
# The subscriber with the key is counted; the two others, started with it,
# had as long to connect (they never subscribe: their handshake fails).
wait_for 10 subscribers_above "$T/curve.log" 0
send_a --proto udp --sport 2000 --dport 53 --count 4
wait "$GOOD"
check "subscriber with the public key: exit status" "$?" 0
check "subscriber with the public key: the flow" \
	"$($FLOWS "$T/curve.csv" --get src_port,bidirectional_packets)" "2000 4"
wait "$PLAIN"
check "plaintext subscriber: nothing (timeout status)" "$?" 3
check "plaintext subscriber: no record" "$(wc -c <"$T/plain.csv")" 0
wait "$WRONG"
check "subscriber with another key: nothing (timeout status)" "$?" 3
check "subscriber with another key: no record" "$(wc -c <"$T/wrong.csv")" 0
kill -TERM "$NFXDP_PID"
wait "$NFXDP_PID"
"$NFXDP" --iface "$IFACES" --zmq-curve "$T/nonexistent" >"$T/nokey.log" 2>&1
check "missing key file: exit status" "$?" 1
check "missing key file: message" \
	"$(grep -c "Couldn't read CURVE key file $T/nonexistent: No such file or directory" "$T/nokey.log")" 1
check "missing key file: detached again" "$(xdp_attached)" 0
exit $FAILED
