#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# The built-in demo: two network namespaces joined by a veth pair, nfxdp
# attached to ONE end, the server's, as on a host's eth0: XDP meters what it
# receives, TC egress what it sends, so every flow is whole. Real TCP, UDP and ICMP traffic
# over IPv4 and IPv6 between them (ping, iperf3, curl against a local web
# server), and the flows as they arrive over ZeroMQ through nfxdp-cat.
# Cleans up after itself, also when interrupted.
set -u
cd "$(dirname "$0")/.."
B=${BUILD:-build}

if [ "$(id -u)" -ne 0 ]; then
	echo "demo: needs root (network namespaces, XDP): run 'sudo make demo'" >&2
	exit 1
fi

NS_A=nfxdp-demo-client
NS_B=nfxdp-demo-server
T=$(mktemp -d /tmp/nfxdp-demo.XXXXXX)
ENDPOINT=ipc://$T/flows.sock
PIDS=()

cleanup() {
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
	ip netns del "$NS_A" 2>/dev/null
	ip netns del "$NS_B" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
trap 'echo; echo "demo: interrupted, cleaning up"; exit 130' INT TERM

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "Two namespaces joined by a veth pair"
ip netns del "$NS_A" 2>/dev/null
ip netns del "$NS_B" 2>/dev/null
ip netns add "$NS_A" && ip netns add "$NS_B" || exit 1
ip link add va netns "$NS_A" type veth peer name vb netns "$NS_B" || exit 1
for ns in "$NS_A" "$NS_B"; do
	dev=va; [ "$ns" = "$NS_B" ] && dev=vb
	ip netns exec "$ns" sysctl -qw "net.ipv6.conf.$dev.accept_dad=0"
	ip -n "$ns" link set lo up
	ip -n "$ns" link set "$dev" up
done
ip -n "$NS_A" addr add 198.18.0.1/24 dev va
ip -n "$NS_B" addr add 198.18.0.2/24 dev vb
ip -n "$NS_A" addr add fd00::1/64 dev va nodad
ip -n "$NS_B" addr add fd00::2/64 dev vb nodad
echo "client: $NS_A va 198.18.0.1 fd00::1    server: $NS_B vb 198.18.0.2 fd00::2"

step "nfxdp on the server's end only (XDP: what it receives, TC egress: what it sends), flows on $ENDPOINT"
"$B/nfxdp-cat" "$ENDPOINT" --format brief &
PIDS+=($!)
"$B/nfxdp" --iface "vb@$NS_B" --xdp-mode native --zmq "$ENDPOINT" \
	--idle-timeout 3 --natural-linger 0.5 --batch-ms 200 --max-flows 65536 -v &
NFXDP_PID=$!
PIDS+=($NFXDP_PID)
sleep 1
kill -0 "$NFXDP_PID" 2>/dev/null || { echo "demo: nfxdp did not start" >&2; exit 1; }

step "Traffic: ping, ping -6, iperf3 (TCP and UDP over IPv6), curl"
ip netns exec "$NS_B" iperf3 -s -D -I "$T/iperf3.pid" --logfile "$T/iperf3.log"
ip netns exec "$NS_B" python3 -m http.server 8000 --bind 198.18.0.2 -d "$T" >/dev/null 2>&1 &
PIDS+=($!)
sleep 1
ip netns exec "$NS_A" ping -c 3 -i 0.2 198.18.0.2 | tail -2
ip netns exec "$NS_A" ping -6 -c 3 -i 0.2 fd00::2 | tail -2
ip netns exec "$NS_A" iperf3 -c 198.18.0.2 -t 2 | grep -E 'sender|receiver'
ip netns exec "$NS_A" iperf3 -c fd00::2 -u -b 20M -t 1 | grep -E 'sender|receiver'
ip netns exec "$NS_A" curl -s -o /dev/null -w 'curl: HTTP %{http_code}, %{size_download} bytes\n' \
	http://198.18.0.2:8000/

step "Flows as they expire (idle 3 s; TCP ends naturally after FIN/FIN)"
sleep 5
kill "$(cat "$T/iperf3.pid" 2>/dev/null)" 2>/dev/null

step "Stopping nfxdp: it detaches, flushes what is left, prints its counters"
kill -TERM "$NFXDP_PID" 2>/dev/null # gone already if a Ctrl-C reached it
wait "$NFXDP_PID"
sleep 0.5
echo
echo "demo: done (expiration: idle 0, active 1, natural 2, emergency 3, flush 4, overflow 5)"
