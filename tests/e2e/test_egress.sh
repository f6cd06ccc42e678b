#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# What a host sends, metered at TC egress beside XDP on the same flow cache:
# nfxdp on ONE end of the veth (vb in namespace B, as on a host's eth0),
# traffic started by B. Each flow must be one record, src = B, with the
# packets and bytes per direction that a capture on the other end (va, in
# A) holds, in every accounting mode; with segmentation offload on, the
# packets are the segments TCP sent (the kernel's own OutSegs and
# RetransSegs: a veth hands the far end the unsegmented packet) and the
# bytes follow the rule in README ("What a host sends"). Then a clsact
# filter instead of tcx, --direction, and both ends metered by two
# collectors, each seeing every flow once. The IPFIX records (to nfdump's
# nfcapd) say which interface and hook saw each direction.
SUITE=e2e-egress
. "$(dirname "$0")/lib.sh"
need_root
need_tools tcpdump iperf3 nfcapd nfdump
PCAPSUM="python3 $TOP/tests/e2e/pcapsum.py"
A_IP=198.18.0.1
B_IP=198.18.0.2

setup_pair noipv6 || { fail "namespaces"; exit 1; }

# offloads on|off: segmentation offload of both ends (GRO off on the far end).
offloads() {
	in_b ethtool -K vb tso "$1" gso "$1" >/dev/null 2>&1
	in_a ethtool -K va tso "$1" gso "$1" gro off >/dev/null 2>&1
}

# poll SECONDS CMD...: until CMD succeeds; 1 when the time is up.
poll() {
	local end=$((SECONDS + $1))
	shift
	until "$@"; do
		[ "$SECONDS" -ge "$end" ] && return 1
		sleep 0.05
	done
}

# capture NAME: tcpdump on va (the far end), until stop_capture.
capture() {
	CAPTURE=$T/$1.pcap
	# Not through in_a: $! must be tcpdump itself, which SIGINT makes write its end.
	ip netns exec "$NS_A" tcpdump -i va -s 256 -U -w "$T/$1.pcap" 2>"$T/$1.tcpdump" &
	TCPDUMP_PID=$!
	PIDS+=("$TCPDUMP_PID")
	poll 10 grep -q "listening on" "$T/$1.tcpdump"
}

# stop_capture: once tcpdump has written a marker frame that A sends last
# (ethertype 0x88b5, local experimental: not IP, so nothing meters it).
stop_capture() {
	in_a "$INJECT" --iface va --ethertype 88b5 --count 1 >/dev/null
	poll 20 marked || echo "# tcpdump did not write the marker frame" >&2
	kill -INT "$TCPDUMP_PID" 2>/dev/null
	wait "$TCPDUMP_PID" 2>/dev/null
}

marked() {
	[ "$(tcpdump -r "$CAPTURE" ether proto 0x88b5 2>/dev/null | wc -l)" -gt 0 ]
}

# meter NAME [options]: nfxdp on vb only, flows to $T/NAME.csv.
meter() {
	local name=$1
	shift
	IFACES="vb@$NS_B" start_nfxdp "$T/$name.log" --output "$T/$name.csv" "$@"
}

stop_meter() {
	kill -TERM "$NFXDP_PID" 2>/dev/null
	wait "$NFXDP_PID"
	NFXDP_STATUS=$?
}

# tcp_out NS: segments TCP sent from namespace NS, retransmissions included.
tcp_out() {
	ip netns exec "$1" awk '/^Tcp:/ && ++n == 2 { print $12 + $13 }' /proc/net/snmp
}

# traffic: from B, a ping, a TCP upload and a UDP exchange (iperf3: each
# also has a TCP control connection).
traffic() {
	in_b ping -c 4 -i 0.05 "$A_IP" >/dev/null
	in_a iperf3 -s -1 -D -p 5201 -I "$T/iperf.pid" >/dev/null
	poll 10 in_a ss -ltn "sport = :5201" | grep -q LISTEN
	in_b iperf3 -c "$A_IP" -p 5201 -n "${TCP_BYTES:-300K}" >/dev/null
	in_a iperf3 -s -1 -D -p 5202 -I "$T/iperf.pid" >/dev/null
	poll 10 in_a ss -ltn "sport = :5202" | grep -q LISTEN
	in_b iperf3 -c "$A_IP" -p 5202 -u -n 20K -l 1000 >/dev/null
}

# ours CSV MODE: per flow and sender, as pcapsum prints it (frames, then
# the bytes of MODE in the link column's place).
ours() {
	python3 - "$1" <<'EOF'
import csv, sys
for r in csv.DictReader(open(sys.argv[1])):
    for d, (a, b) in (("src2dst", ("src", "dst")), ("dst2src", ("dst", "src"))):
        if int(r[d + "_packets"]):
            print(r["protocol"], r[a + "_ip"], r[a + "_port"], r[b + "_ip"], r[b + "_port"],
                  r[d + "_packets"], r[d + "_bytes"])
EOF
}

# theirs PCAP MODE: the capture's frames and bytes in MODE, same lines.
theirs() {
	local col
	case $2 in link) col=7 ;; ip) col=8 ;; transport) col=9 ;; payload) col=10 ;; esac
	$PCAPSUM "$1" | awk -v c="$col" '{ print $1, $2, $3, $4, $5, $6, $c }'
}

# gso_expected NAME MODE: per flow and sender, ours' packets and the bytes the
# rule gives: the captured (unsegmented) packets' bytes, plus, for each
# further segment, the headers it repeats (as MODE counts them).
gso_expected() {
	python3 - "$2" <(ours "$1.csv") <($PCAPSUM "$1.pcap") <<'EOF'
import sys
mode = ["link", "ip", "transport", "payload"].index(sys.argv[1])
ours = {tuple(l.split()[:5]): int(l.split()[5]) for l in open(sys.argv[2])}
for l in open(sys.argv[3]):
    f = l.split()
    key, frames, cap = tuple(f[:5]), int(f[5]), int(f[6 + mode])
    hdr = int(f[10 + mode]) if mode < 3 else 0
    pkts = ours.get(key, 0)
    print(*key, pkts, cap + (pkts - frames) * hdr)
EOF
}

# --- offloads off: frame for frame, every accounting mode ---------------------------
# (The stack still hands TC egress GSO packets and segments them after it, in
# software: what reaches va is segments, and so must the counts be.)
# The link run's flows also go to nfdump's nfcapd as IPFIX.
NFCAPD_PORT=$(free_port udp)
mkdir "$T/nfcapd"
nfcapd -w "$T/nfcapd" -p "$NFCAPD_PORT" -b 127.0.0.1 -t 3600 >"$T/nfcapd.log" 2>&1 &
NFCAPD_PID=$!
PIDS+=("$NFCAPD_PID")
wait_for 10 has_line "$T/nfcapd.log" Startup

offloads off
for mode in link ip transport payload; do
	capture "off-$mode" || { fail "$mode: tcpdump starts"; continue; }
	ipfix=()
	[ "$mode" = link ] && ipfix=(--ipfix "127.0.0.1:$NFCAPD_PORT")
	meter "off-$mode" --accounting "$mode" "${ipfix[@]}" || { fail "$mode: nfxdp starts"; continue; }
	traffic
	stop_meter
	stop_capture
	check "offloads off, $mode: every flow, packets and bytes per direction as captured" \
		"$(ours "$T/off-$mode.csv" | sort)" "$(theirs "$T/off-$mode.pcap" "$mode" | sort)"
	check "offloads off, $mode: B started every flow (src = B)" \
		"$($FLOWS "$T/off-$mode.csv" --get src_ip | sort -u)" "$B_IP"
done
csv=$T/off-link.csv
check "a ping: one flow, 4 requests sent (egress) and 4 replies received (ingress)" \
	"$($FLOWS "$csv" --where protocol=1 --get src2dst_packets,dst2src_packets,src2dst_hook,dst2src_hook,hooks)" \
	"4 4 2 1 3"
check "a ping: icmp_type 8 (echo request), the interface named as given" \
	"$($FLOWS "$csv" --where protocol=1 --get icmp_type,icmp_code,src2dst_ifname,dst2src_ifname)" \
	"8 0 vb@$NS_B vb@$NS_B"
# IPFIX: the interface of each direction's first packet in ingressInterface
# (10) when B received it, egressInterface (14) when B sent it, and
# flowDirection (61); nfdump shows the forward direction's (B's requests).
udp_drained() { [ -n "$(ss -Huln "sport = :$1" | awk '$2 == 0')" ]; }
wait_for 10 udp_drained "$NFCAPD_PORT"
kill -TERM "$NFCAPD_PID"
wait "$NFCAPD_PID"
VB_INDEX=$(ip -n "$NS_B" -o link show vb | cut -d: -f1)
check "IPFIX: the ping's requests left by vb (egressInterface $VB_INDEX, flowDirection egress)" \
	"$(nfdump -R "$T/nfcapd" -q -o 'fmt:%in %out %dir' 'proto icmp' 2>&1 | tr -s ' ' | sed 's/^ //')" \
	"0 $VB_INDEX E"
check "stats count frames per hook" \
	"$(($(stat "$T/off-link.log" ingress_frames_seen) + $(stat "$T/off-link.log" egress_frames_seen)))" \
	"$(stat "$T/off-link.log" frames_seen)"

# --- offloads on: a GSO packet counts as the segments it leaves as -----------------
offloads on
for mode in link ip transport payload; do
	capture "on-$mode" || { fail "$mode: tcpdump starts"; continue; }
	meter "on-$mode" --accounting "$mode" --statistical || { fail "$mode: nfxdp starts"; continue; }
	out_b=$(tcp_out "$NS_B")
	out_a=$(tcp_out "$NS_A")
	TCP_BYTES=4M traffic
	stop_meter
	stop_capture
	sent_b=$(($(tcp_out "$NS_B") - out_b))
	sent_a=$(($(tcp_out "$NS_A") - out_a))
	check "offloads on, $mode: TCP packets B to A = segments B's TCP sent" \
		"$(ours "$T/on-$mode.csv" | awk -v b="$B_IP" '$1 == 6 && $2 == b { n += $6 } END { print n }')" \
		"$sent_b"
	check "offloads on, $mode: TCP packets A to B = segments A's TCP sent" \
		"$(ours "$T/on-$mode.csv" | awk -v a="$A_IP" '$1 == 6 && $2 == a { n += $6 } END { print n }')" \
		"$sent_a"
	check "offloads on, $mode: bytes per direction = captured + headers of the extra segments" \
		"$(ours "$T/on-$mode.csv" | sort)" "$(gso_expected "$T/on-$mode" "$mode" | sort)"
done
check "offloads on: TCP segmentation was in use (fewer frames captured than sent)" \
	"$([ "$($PCAPSUM "$T/on-link.pcap" | awk '$1 == 6 { n += $6 } END { print n + 0 }')" -lt \
		"$(ours "$T/on-link.csv" | awk '$1 == 6 { n += $6 } END { print n + 0 }')" ] && echo yes)" yes
offloads off

# --- a clsact filter where tcx is missing (forced) ----------------------------------
capture clsact || fail "clsact: tcpdump starts"
NFXDP_EGRESS_CLSACT=1 meter clsact || fail "clsact: nfxdp starts"
check "clsact: egress by a clsact filter" "$(grep -c 'egress: clsact filter' "$T/clsact.log")" 1
traffic
stop_meter
stop_capture
check "clsact: the same flows as captured" \
	"$(ours "$T/clsact.csv" | sort)" "$(theirs "$T/clsact.pcap" link | sort)"
check "clsact: the filter is gone after exit" \
	"$(in_b tc filter show dev vb egress | grep -c nfx_egress)" 0

# --- --direction ingress: half flows, as before egress was metered ------------------
meter ingress --direction ingress || fail "ingress only: nfxdp starts"
in_b ping -c 3 -i 0.05 "$A_IP" >/dev/null
stop_meter
check "--direction ingress: the ping is seen as A's replies only (src = A)" \
	"$($FLOWS "$T/ingress.csv" --where protocol=1 --get src_ip,src2dst_packets,dst2src_packets,hooks)" \
	"$A_IP 3 0 1"
check "--direction ingress: nothing at egress" "$(stat "$T/ingress.log" egress_frames_seen)" 0

# --- both ends, two collectors: each sees every flow once ---------------------------
capture two || fail "two collectors: tcpdump starts"
IFACES="va@$NS_A" start_nfxdp "$T/two-a.log" --output "$T/two-a.csv" --zmq "ipc://$T/a.sock"
PID_A=$NFXDP_PID
meter two-b --zmq "ipc://$T/b.sock"
traffic
in_a ping -c 3 -i 0.05 "$B_IP" >/dev/null
stop_meter
kill -TERM "$PID_A"
wait "$PID_A"
stop_capture
check "two collectors: A's records = the capture" \
	"$(ours "$T/two-a.csv" | sort)" "$(theirs "$T/two.pcap" link | sort)"
check "two collectors: B's records = the capture" \
	"$(ours "$T/two-b.csv" | sort)" "$(theirs "$T/two.pcap" link | sort)"
check "two collectors: A's ping is A's (src = A) in both" \
	"$($FLOWS "$T/two-a.csv" --where protocol=1 --get src_ip | sort | tr '\n' ' ')" \
	"$($FLOWS "$T/two-b.csv" --where protocol=1 --get src_ip | sort | tr '\n' ' ')"
exit $FAILED
