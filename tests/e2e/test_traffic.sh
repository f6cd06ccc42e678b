#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Real traffic (ping, iperf3, curl over IPv4 and IPv6) between two
# namespaces: every frame the veths carried is seen once, and every metered
# frame and byte is in exactly one exported record.
SUITE=e2e-traffic
. "$(dirname "$0")/lib.sh"
need_root

# Attach before the links come up: the kernel's own IPv6 chatter at link-up
# (MLD reports) is then metered too, and the veths' counters start at zero.
make_pair || { fail "namespaces"; exit 1; }

txp() { echo $(($(tx_packets "$NS_A" va) + $(tx_packets "$NS_B" vb))); }
# veth counts bytes without the Ethernet header: add it back per frame.
txb() {
	echo $(($(in_a cat /sys/class/net/va/statistics/tx_bytes) +
		$(in_b cat /sys/class/net/vb/statistics/tx_bytes) + 14 * $(txp)))
}

start_nfxdp "$T/nfxdp.log" --idle-timeout 2 --natural-linger 0.5 --poll-ms 100 --batch-ms 100 ||
	{ fail "nfxdp starts"; exit 1; }
start_cat "$T/flows.csv"
pair_up || fail "links up"

in_b iperf3 -s -D -I "$T/iperf3.pid" --logfile "$T/iperf3.log"
# Not through in_b: $! of a backgrounded function is a subshell, and killing
# it would leave the server running.
ip netns exec "$NS_B" python3 -m http.server 8000 --bind 198.18.0.2 -d "$T" >/dev/null 2>&1 &
PIDS+=($!)
wait_for 10 listening "$NS_B" tcp 5201 || fail "iperf3 -s listens"
wait_for 10 listening "$NS_B" tcp 8000 || fail "http.server listens"

in_a ping -c 3 -i 0.2 -q 198.18.0.2 >/dev/null || fail "ping"
in_a ping -6 -c 3 -i 0.2 -q fd00::2 >/dev/null || fail "ping -6"
in_a iperf3 -c 198.18.0.2 -n 2M --cport 45000 >/dev/null || fail "iperf3 tcp"
in_a iperf3 -c fd00::2 -u -b 20M -n 1M -l 1000 --cport 45001 >/dev/null || fail "iperf3 udp over ipv6"
in_a curl -s -o /dev/null --local-port 45002 http://198.18.0.2:8000/ || fail "curl"

# curl's and iperf3's TCP connections end naturally (FIN both ways, then the
# 0.5 s linger): their records come before nfxdp flushes the rest.
wait_for 10 has_flow "$T/flows.csv" src_port=45002 protocol=6
wait_for 10 has_flow "$T/flows.csv" src_port=45000 protocol=6
iperf3_pid=$(cat "$T/iperf3.pid")
kill "$iperf3_pid" 2>/dev/null
wait_for 10 exited "$iperf3_pid"
p1=$(txp)
b1=$(txb)
p0=0
b0=0
stop_nfxdp

seen=$(stat "$T/nfxdp.log" frames_seen)
metered=$(stat "$T/nfxdp.log" frames_metered)
check "every frame the veths carried was seen once" "$seen" $((p1 - p0))
check "every frame seen was metered" "$metered" "$seen"
check "packets in records = frames metered" "$($FLOWS "$T/flows.csv" --sum bidirectional_packets)" "$metered"
check "bytes in records = bytes the veths carried" "$($FLOWS "$T/flows.csv" --sum bidirectional_bytes)" \
	$((b1 - b0))
check "ping: 3 requests, 3 replies, 98-byte frames" \
	"$($FLOWS "$T/flows.csv" --where protocol=1 --get src_ip,dst_ip,src2dst_packets,dst2src_packets,bidirectional_bytes)" \
	"198.18.0.1 198.18.0.2 3 3 588"
check "ping -6: 118-byte frames" \
	"$($FLOWS "$T/flows.csv" --where protocol=58 --where src_ip=fd00::1 --where dst_ip=fd00::2 --get src2dst_packets,dst2src_packets,bidirectional_bytes)" \
	"3 3 708"
check "curl: client is src, ended naturally" \
	"$($FLOWS "$T/flows.csv" --where src_port=45002 --get src_ip,dst_ip,dst_port,expiration_id)" \
	"198.18.0.1 198.18.0.2 8000 2"
# iperf3's own packet counts vary from run to run (the server may reset the
# data connection before the client's last bytes, end-of-test messages):
# these check each flow is whole; the sums above check the exact counts.
tcp=$($FLOWS "$T/flows.csv" --where src_port=45000 --get src2dst_bytes,expiration_id)
check "iperf3 tcp: one flow, megabytes client to server, ended naturally" \
	"$(echo "$tcp" | awk 'NR == 1 && $1 > 1000000 && $2 == 2 {n++} END {print n == NR ? "ok" : "no"}')" ok
udp=$($FLOWS "$T/flows.csv" --where src_port=45001 --where protocol=17 --get ip_version,src2dst_bytes)
check "iperf3 udp over ipv6: one flow, 1049 datagrams of 1000 bytes and more" \
	"$(echo "$udp" | awk 'NR == 1 && $1 == 6 && $2 >= 1049 * 1062 {n++} END {print n == NR ? "ok" : "no"}')" ok
exit $FAILED
