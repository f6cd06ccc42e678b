#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# --filter, the pcap-filter language, against libpcap itself. Every
# expression of filter_exprs.txt, on every reference capture and on a
# crafted one (tests/tools/mkfiltercap: VLAN, MPLS, PPPoE, fragments, ...):
# - in the kernel, frame for frame: each frame's verdict in capture replay
#   against pcap_offline_filter() on the frame as captured
#   (tests/tools/filterdiff);
# - through nfxdp --pcap: the frames it meters (frames_seen minus
#   frames_filtered_out) are as many as libpcap passes (tests/tools/pcapcount),
#   on the crafted and small reference captures (the kernel's filter) and on
#   those of other link types (libpcap in user space, or its refusal: exit
#   status 2); for some, on every capture, the very flows nfxdp gives for the
#   frames libpcap passed;
# - live: the crafted frames and the small reference captures replayed by
#   tcpreplay on a veth, nfxdp attached natively (the device-bound meter);
# - the first 256 bytes only, as tcpdump -s 256; malformed expressions:
#   libpcap's message, exit status 2, nothing attached; --persist: the
#   filter goes on with no collector.
SUITE=e2e-pcap-filter
. "$(dirname "$0")/lib.sh"
need_root
need_ref

EXPRS=$TOP/tests/e2e/filter_exprs.txt
PCAPCOUNT=$B/tests/pcapcount
mapfile -t exprs < <(grep -v '^#' "$EXPRS" | grep .)
"$B/tests/mkfiltercap" "$T/crafted.pcap" >/dev/null || fail "mkfiltercap"
"$B/tests/mkfiltercap" --whole "$T/crafted-whole.pcap" >/dev/null || fail "mkfiltercap --whole"
ETH=("$T/crafted.pcap")
OTHER=()
SMALL=("$T/crafted-whole.pcap")
while read -r name link frames _ truncated maxlen _; do
	if [ "$link" = 1 ]; then
		ETH+=("$REF/pcaps/$name")
		[ "$truncated" = 0 ] && [ "$maxlen" -le 65000 ] && [ "$frames" -le 300 ] &&
			SMALL+=("$REF/pcaps/$name")
	else
		OTHER+=("$REF/pcaps/$name")
	fi
done < <("$B/tests/pcapinfo" "$REF"/pcaps/*)

# passed EXPR FILE...: the frames libpcap passes in all the files; "refused"
# when it refuses the expression for one of them.
passed() {
	"$PCAPCOUNT" "$@" 2>/dev/null |
		awk '$4 == "refused" { r = 1 } { n += $4 } END { print r ? "refused" : n + 0 }'
}
# metered LOG: the frames nfxdp let through its filter.
metered() {
	echo $(($(stat "$1" frames_seen) - $(stat "$1" frames_filtered_out)))
}

# --- in the kernel, frame for frame ------------------------------------------
"$B/tests/filterdiff" "$EXPRS" "${ETH[@]}" >"$T/diff.txt" 2>"$T/diff.err" ||
	head -5 "$T/diff.err" >&2
while IFS=$'\t' read -r verdict expr counts; do
	read -r caps frames by_pcap by_meter differ first <<<"$counts"
	check "kernel, frame for frame: '$expr' ($by_pcap of $frames frames)" \
		"$verdict $caps $by_meter $differ" "ok ${#ETH[@]} $by_pcap 0"
	[ "$verdict" = ok ] || echo "  $counts" >&2
done <"$T/diff.txt"
check "kernel: every expression ran" "$(wc -l <"$T/diff.txt")" "${#exprs[@]}"

# --- nfxdp --pcap -------------------------------------------------------------
# Each expression on the crafted capture, the small reference captures and
# those of other link types, in one run (the kernel filters the Ethernet
# frames, libpcap the others); apart when libpcap refuses it for another
# link type (nfxdp must too: exit status 2).
MIXED=("${SMALL[@]}" "${OTHER[@]}")
frames() { "$PCAPCOUNT" "" "$@" | awk '{ n += $3 } END { print n }'; }
declare -A FRAMES=([${#SMALL[@]}]=$(frames "${SMALL[@]}") [${#MIXED[@]}]=$(frames "${MIXED[@]}"))
for e in "${exprs[@]}"; do
	if [ "$(passed "$e" "${OTHER[@]}")" = refused ]; then
		"$NFXDP" --pcap "${OTHER[@]}" --filter "$e" --output /dev/null 2>"$T/other.log"
		check "nfxdp --pcap, other link types: '$e' refused as libpcap does" \
			"$? $(grep -c "^nfxdp: Couldn't compile --filter '.*' for link type" "$T/other.log")" \
			"2 1"
		files=("${SMALL[@]}")
	else
		files=("${MIXED[@]}")
	fi
	"$NFXDP" --pcap "${files[@]}" --filter "$e" --output /dev/null 2>"$T/run.log"
	check "nfxdp --pcap: '$e' on ${#files[@]} captures" \
		"$? $(stat "$T/run.log" frames_seen) $(metered "$T/run.log")" \
		"0 ${FRAMES[${#files[@]}]} $(passed "$e" "${files[@]}")"
done

# The very flows: nfxdp on every Ethernet capture with the filter, and on the
# frames libpcap passed (no expiry: the frames of a key in one record).
COLS=src_ip,src_port,dst_ip,dst_port,protocol,vlan_id,tunnel_id,bidirectional_packets
COLS=$COLS,bidirectional_bytes
NOEXP=(--idle-timeout 0 --active-timeout 0 --natural-expiry off)
for e in 'tcp port 443' 'vlan' 'ip[6:2] & 0x1fff = 0' 'not (tcp or udp)' 'less 64' \
	'src net 192.168.0.0/16 and not icmp'; do
	"$NFXDP" --pcap "${ETH[@]}" --filter "$e" "${NOEXP[@]}" --output "$T/ours.csv" 2>/dev/null
	"$PCAPCOUNT" -w "$T/theirs.pcap" "$e" "${ETH[@]}" >/dev/null
	"$NFXDP" --pcap "$T/theirs.pcap" "${NOEXP[@]}" --output "$T/theirs.csv" 2>/dev/null
	$FLOWS "$T/ours.csv" --get "$COLS" | sort >"$T/ours"
	$FLOWS "$T/theirs.csv" --get "$COLS" | sort >"$T/theirs"
	check "nfxdp --pcap: '$e' gives the flows of the frames libpcap passes ($(wc -l <"$T/ours") flows)" \
		"$(cmp -s "$T/ours" "$T/theirs" && echo same)" same
done

# The first 256 bytes (the parse window) only, as tcpdump -s 256.
e='ip[300:2] >= 0'
"$NFXDP" --pcap "${ETH[@]}" --filter "$e" --output /dev/null --format csv 2>"$T/win.log"
whole=$(passed "$e" "${ETH[@]}")
check "the filter reads the first 256 bytes: '$e' passes none, as with tcpdump -s 256 (all $whole frames otherwise)" \
	"$(metered "$T/win.log") $("$PCAPCOUNT" -s 256 "$e" "${ETH[@]}" | awk '{ n += $4 } END { print n }')" "0 0"

# --- malformed expressions: libpcap's message, exit status 2 -----------------
for e in 'tcp prot 443' 'port 99999' 'tcp and udp' 'ip broadcast' '(tcp' 'vlan 5000' \
	'tcp[100:3] = 1' 'host 1.2.3.4/8'; do
	"$NFXDP" --pcap "$REF/pcaps/dhcp.pcap" --filter "$e" --output /dev/null 2>"$T/bad.log"
	rc=$?
	why=$("$PCAPCOUNT" "$e" "$REF/pcaps/dhcp.pcap" 2>&1 >/dev/null | sed 's/^pcapcount: [^:]*: //')
	check "malformed: '$e': exit status 2, libpcap's message ($why)" \
		"$rc $(grep -cF "nfxdp: Couldn't compile --filter '$e': $why" "$T/bad.log")" "2 1"
done
check "malformed: the caret under the token libpcap names" \
	"$(grep -A2 "'port 99999'" <("$NFXDP" --pcap x --filter 'port 99999' 2>&1) | tail -2 | tr -s ' ')" \
	"$(printf ' port 99999\n ^')"
"$NFXDP" --pcap "$REF/pcaps/dhcp.pcap" --filter 'ip6 protochain 6' --output /dev/null 2>"$T/bad.log"
check "a loop (protochain) is refused: exit status 2" \
	"$? $(grep -c "Couldn't translate --filter 'ip6 protochain 6' for the kernel: .* jumps backwards" "$T/bad.log")" \
	"2 1"

# --- live, on a veth ------------------------------------------------------------
MTU=65000 setup_pair noipv6 || { fail "namespaces"; exit 1; }
xdp_attached() { ip -n "$NS_B" link show vb | grep -c 'prog/xdp'; }
rx() { ip netns exec "$NS_B" cat /sys/class/net/vb/statistics/rx_packets; }
# wait_rx N: until vb has received N more frames than at the last mark.
wait_rx() {
	local i
	for i in $(seq 200); do
		[ "$(rx)" -ge $((RX_MARK + $1)) ] && return 0
		sleep 0.02
	done
	return 1
}
"$NFXDP" --iface "vb@$NS_B" --filter 'tcp prot 443' --output /dev/null 2>"$T/bad.log"
check "malformed, live: exit status 2, nothing attached" "$? $(xdp_attached)" "2 0"

"$PCAPCOUNT" -w "$T/live.pcap" "" "${SMALL[@]}" >/dev/null
live_frames=$(passed "" "$T/live.pcap")
for e in "${exprs[@]}"; do
	IFACES="vb@$NS_B" start_nfxdp "$T/live.log" --filter "$e" --max-flows 65536 \
		--output /dev/null --format csv || { fail "live: '$e': nfxdp starts"; continue; }
	RX_MARK=$(rx)
	in_a tcpreplay -q -i va --topspeed "$T/live.pcap" >"$T/tcpreplay.log" 2>&1 ||
		cat "$T/tcpreplay.log" >&2
	wait_rx "$live_frames" || echo "  vb received $(($(rx) - RX_MARK)) of $live_frames" >&2
	kill -TERM "$NFXDP_PID"
	wait "$NFXDP_PID"
	check "live: '$e'" "$(stat "$T/live.log" frames_seen) $(metered "$T/live.log")" \
		"$live_frames $(passed "$e" "$T/live.pcap")"
done

# --- --persist: the filter is in the pinned program, it goes on with no collector
mkdir "$T/bpffs" && mount -t bpf bpf "$T/bpffs" || { fail "mount bpffs"; exit 1; }
CLEANUP+=("umount '$T/bpffs'")
send() { in_a "$INJECT" --iface va --smac 02:00:00:00:aa:01 --dmac 02:00:00:00:aa:02 \
	--src 198.18.0.1 --dst 198.18.0.2 "$@"; }
IFACES="vb@$NS_B" start_nfxdp "$T/p1.log" --persist --pin-dir "$T/bpffs" \
	--filter 'udp port 53' --output /dev/null || fail "--persist: nfxdp starts"
kill -KILL "$NFXDP_PID"
wait "$NFXDP_PID" 2>/dev/null
RX_MARK=$(rx)
send --proto tcp --sport 1000 --dport 443 --count 3
send --proto udp --sport 1000 --dport 53 --count 2
wait_rx 5
IFACES="vb@$NS_B" start_nfxdp "$T/p2.log" --persist --pin-dir "$T/bpffs" \
	--filter 'udp port 53' --output /dev/null || fail "--persist: nfxdp restarts"
kill -TERM "$NFXDP_PID"
wait "$NFXDP_PID"
check "--persist: killed, the meter went on filtering: 2 of 5 frames metered" \
	"$(stat "$T/p2.log" frames_seen) $(stat "$T/p2.log" frames_metered)" "5 2"
"$NFXDP" --detach "vb@$NS_B" --pin-dir "$T/bpffs" --output /dev/null 2>/dev/null
check "--persist: --detach ends it" "$(xdp_attached)" 0
exit $FAILED
