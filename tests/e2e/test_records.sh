#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Known frames in, exact records out: packets and bytes per direction and
# the expiration id of idle, natural, active and flush expiry, through XDP
# on veth, the collector, ZeroMQ and nfxdp-cat.
SUITE=e2e-records
. "$(dirname "$0")/lib.sh"
need_root

A=(--smac 02:00:00:00:aa:01 --dmac 02:00:00:00:aa:02)
B=(--smac 02:00:00:00:aa:02 --dmac 02:00:00:00:aa:01)
send_a() { in_a "$INJECT" --iface va "${A[@]}" "$@"; }
send_b() { in_b "$INJECT" --iface vb "${B[@]}" "$@"; }

# Exported columns of the one flow matching WHERE..., or "missing".
row() {
	local cols=$1
	shift
	local args=()
	for w in "$@"; do args+=(--where "$w"); done
	local out
	out=$($FLOWS "$T/flows.csv" "${args[@]}" --get "$cols")
	[ "$(echo "$out" | grep -c .)" = 1 ] && echo "$out" || echo "missing or duplicated: $out"
}

COLS=expiration_id,src_ip,dst_ip,protocol,src2dst_packets,src2dst_bytes,dst2src_packets,dst2src_bytes

setup_pair noipv6 || { fail "namespaces"; exit 1; }

# --- idle, natural, VLAN, IPv6, flush, ignored frames -------------------------
start_nfxdp "$T/nfxdp.log" --idle-timeout 1 --natural-linger 0.5 --poll-ms 100 --batch-ms 100 ||
	{ fail "nfxdp starts"; exit 1; }
start_cat "$T/flows.csv"

U4=(--src 198.18.0.1 --dst 198.18.0.2 --proto udp --sport 1000 --dport 2000)
send_a "${U4[@]}" --payload 100 --count 5
send_b --src 198.18.0.2 --dst 198.18.0.1 --proto udp --sport 2000 --dport 1000 --payload 50 --count 3

T4=(--src 198.18.0.1 --dst 198.18.0.2 --proto tcp --sport 40000 --dport 80)
T4R=(--src 198.18.0.2 --dst 198.18.0.1 --proto tcp --sport 80 --dport 40000)
send_a "${T4[@]}" --flags S
send_b "${T4R[@]}" --flags SA
send_a "${T4[@]}" --flags A
send_a "${T4[@]}" --flags PA --payload 100
send_b "${T4R[@]}" --flags A
send_a "${T4[@]}" --flags FA
send_b "${T4R[@]}" --flags FA
send_a "${T4[@]}" --flags A

send_a --src 198.18.0.1 --dst 198.18.0.2 --proto udp --sport 3000 --dport 4000 --vlan 100 --vlan 200 --count 2
send_a --src fd00::1 --dst fd00::2 --proto udp --sport 5000 --dport 6000 --payload 10 --count 4

send_a "${U4[@]}" --sport 9 --ihl 4 --count 2                # IPv4 header length 16 bytes
send_a --ethertype 88cc --payload 40 --count 3               # LLDP: not IP
send_a "${U4[@]}" --sport 9 --frag-offset 10                 # a later fragment

# The four flows end: three idle (1 s), TCP naturally (0.5 s after its last ACK).
wait_for 10 rows_at_least "$T/flows.csv" 4
n=$(xdp_frames "$NS_B" vb)
send_a --src 198.18.0.1 --dst 198.18.0.2 --proto udp --sport 7000 --dport 8000
# Metered, then flushed at exit (well before its 1 s idle timeout).
wait_for 10 xdp_frames_at_least "$NS_B" vb $((n + 1))
stop_nfxdp

check "exit status after SIGTERM" "$NFXDP_STATUS" 0
check "records exported" "$($FLOWS "$T/flows.csv" --count)" 5
check "udp both ways, idle" "$(row $COLS src_port=1000)" "0 198.18.0.1 198.18.0.2 17 5 710 3 276"
check "tcp teardown with final ACK, natural" "$(row $COLS src_port=40000)" \
	"2 198.18.0.1 198.18.0.2 6 5 370 3 162"
check "tcp flags per direction" "$(row src2dst_tcp_flags,dst2src_tcp_flags src_port=40000)" "27 19"
check "stacked vlan: innermost id" "$(row vlan_id,bidirectional_packets,bidirectional_bytes src_port=3000)" \
	"200 2 100"
check "ipv6 udp" "$(row ip_version,src_ip,dst_ip,bidirectional_packets,bidirectional_bytes src_port=5000)" \
	"6 fd00::1 fd00::2 4 288"
check "flush at exit" "$(row expiration_id,bidirectional_packets,bidirectional_bytes src_port=7000)" "4 1 42"
check "macs of the first packet" "$(row src_mac,dst_mac src_port=1000)" "02:00:00:00:aa:01 02:00:00:00:aa:02"
check "ids in export order" "$($FLOWS "$T/flows.csv" --get id | tr '\n' ' ')" "0 1 2 3 4 "
check "frames seen" "$(stat "$T/nfxdp.log" frames_seen)" 29
check "frames metered" "$(stat "$T/nfxdp.log" frames_metered)" 23
check "ignored: malformed ipv4" "$(stat "$T/nfxdp.log" ignored_malformed_ipv4)" 2
check "ignored: not ip" "$(stat "$T/nfxdp.log" ignored_non_ip)" 3
check "ignored: fragment" "$(stat "$T/nfxdp.log" ignored_fragment)" 1
check "packets in records = frames metered" "$($FLOWS "$T/flows.csv" --sum bidirectional_packets)" 23

# --- active timeout -------------------------------------------------------------
start_nfxdp "$T/active.log" --idle-timeout 10 --active-timeout 2 --poll-ms 50 --batch-ms 50 ||
	{ fail "nfxdp starts (active)"; exit 1; }
start_cat "$T/flows.csv"
# 0.0s .. 3.5s: 0, 0.5, 1.0, 1.5 in the first flow; 2.0 .. 3.5 in the second.
send_a "${U4[@]}" --count 8 --interval-ms 500
stop_nfxdp
check "active timeout splits the flow" \
	"$($FLOWS "$T/flows.csv" --get expiration_id,bidirectional_packets | tr '\n' ' ')" "1 4 4 4 "

exit $FAILED
