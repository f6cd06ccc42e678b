#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# NIC metadata (--nic-metadata): veth implements the XDP RX metadata
# kfuncs, so nfxdp binds a meter to it and reads the VLAN tag the "NIC"
# took out of the frame (vlan_push gives the sender's frames an
# out-of-band tag, as VLAN offload does). veth has no hardware clock: its
# receive timestamp is 0, so records say the kernel's clock stamped them.
# With --nic-metadata off, nfxdp warns that the tags are lost, and says how
# to keep them; capture replay says its times are the capture's.
SUITE=e2e-nicmeta
. "$(dirname "$0")/lib.sh"
need_root

VLAN_PUSH=$B/tests/vlan_push
A=(--smac 02:00:00:00:aa:01 --dmac 02:00:00:00:aa:02)
send_a() { in_a "$INJECT" --iface va "${A[@]}" --src 198.18.0.1 --dst 198.18.0.2 --proto udp "$@"; }
COLS=vlan_id,src_port,bidirectional_packets,timestamp_source

setup_pair noipv6 || { fail "namespaces"; exit 1; }
export IFACES=vb@$NS_B
ip netns exec "$NS_A" "$VLAN_PUSH" --iface va --vid 100 >"$T/vlan_push.log" 2>&1 &
PIDS+=($!)
wait_for 5 has_line "$T/vlan_push.log" attached
check "out-of-band VLAN tags on va's frames" "$(grep -c 'attached iface=va vid=100' "$T/vlan_push.log")" 1

# --- on: a device-bound meter reads the stripped tag ------------------------------
start_nfxdp "$T/on.log" --idle-timeout 1 --poll-ms 100 --batch-ms 100 ||
	{ fail "nfxdp starts"; exit 1; }
start_cat "$T/on.csv"
check "says what the driver offers" \
	"$(grep -c "vb@$NS_B: NIC metadata from the veth driver: receive timestamps, stripped VLAN tags" "$T/on.log")" 1
check "no warning about stripped tags" "$(grep -c 'strips VLAN tags' "$T/on.log")" 0
send_a --sport 1000 --dport 53 --count 3
send_a --sport 1001 --dport 53 --count 2 --vlan 200 # in-band inner tag: it wins, as without offload
wait_for 10 rows_at_least "$T/on.csv" 2 # both flows idle out (1 s)
stop_nfxdp
check "the NIC's tag is the flow's vlan_id; veth's clock is the kernel's" \
	"$($FLOWS "$T/on.csv" --where src_port=1000 --get "$COLS")" "100 1000 3 0"
check "an in-band tag inside the NIC's one: the inner id, as NFStream" \
	"$($FLOWS "$T/on.csv" --where src_port=1001 --get "$COLS")" "200 1001 2 0"

# --- off: the tag is lost, and nfxdp says so ------------------------------------
start_nfxdp "$T/off.log" --nic-metadata off --idle-timeout 1 --poll-ms 100 --batch-ms 100 ||
	{ fail "nfxdp --nic-metadata off starts"; exit 1; }
start_cat "$T/off.csv"
check "warns, with the ethtool command" \
	"$(grep -c "vb@$NS_B strips VLAN tags in hardware and --nic-metadata is off: flows lose their vlan_id. Turn stripping off with: ethtool -K vb rxvlan off" "$T/off.log")" 1
send_a --sport 1002 --dport 53 --count 4
wait_for 10 rows_at_least "$T/off.csv" 1
stop_nfxdp
check "without NIC metadata the stripped tag is not seen" \
	"$($FLOWS "$T/off.csv" --where src_port=1002 --get "$COLS")" "0 1002 4 0"

# --- generic mode: no device-bound program, plain meter -------------------------
start_nfxdp "$T/generic.log" --xdp-mode generic --idle-timeout 1 --poll-ms 100 --batch-ms 100 ||
	{ fail "nfxdp generic starts"; exit 1; }
start_cat "$T/generic.csv"
check "generic mode: no NIC metadata" "$(grep -c 'NIC metadata' "$T/generic.log")" 0
send_a --sport 1003 --dport 53 --count 1
wait_for 10 rows_at_least "$T/generic.csv" 1
stop_nfxdp
check "generic mode: metered" "$($FLOWS "$T/generic.csv" --where src_port=1003 --get "$COLS")" "0 1003 1 0"

# --- capture replay: the capture's clock ------------------------------------------
if REF=$(nfstream_ref); then
	"$NFXDP" --pcap "$REF/pcaps/google_ssl.pcap" --output "$T/replay.csv" >/dev/null 2>&1
	check "capture replay: timestamp_source 3" \
		"$($FLOWS "$T/replay.csv" --get timestamp_source | sort -u)" 3
else
	fail "NFStream reference captures not found"
fi
exit $FAILED
