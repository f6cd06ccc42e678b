#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# The benchmarks' live-frames generator (bench/livegen.c): N frames over K
# flows, redirected into a veth as xdp_frames, reach nfxdp's XDP program on
# its peer, and nfxdp's records hold exactly those flows and frames: IPv4
# and IPv6, UDP, TCP and a mix, round robin and heavy-tailed, flows
# numbered past the first source address. A veth peer with no program takes
# nothing: livegen says so.
SUITE=e2e-livegen
. "$(dirname "$0")/lib.sh"
need_root
LIVEGEN=$B/livegen
need_tools "$LIVEGEN"

make_pair && pair_up noipv6 || { fail "namespaces"; exit 1; }

# gen NAME LIVEGEN_ARGS...: nfxdp on vb, livegen's frames into va, nfxdp
# stopped (every flow flushed to $T/NAME.csv); livegen's line in $T/NAME.out.
gen() {
	local name=$1
	shift
	IFACES="vb@$NS_B" start_nfxdp "$T/$name.log" --output "$T/$name.csv" --format csv ||
		{ fail "$name: nfxdp starts"; return 1; }
	taskset -c 0 "$LIVEGEN" --iface "va@$NS_A" "$@" >"$T/$name.out" 2>"$T/$name.err" ||
		{ fail "$name: livegen exits 0"; cat "$T/$name.err" >&2; }
	kill -TERM "$NFXDP_PID"
	wait "$NFXDP_PID"
}

# count CSV COL=VAL...: flows and frames of the records with those values.
count() {
	local f=$1 w=()
	shift
	for a; do w+=(--where "$a"); done
	echo "$($FLOWS "$f" "${w[@]}" --count) flows $($FLOWS "$f" "${w[@]}" --sum bidirectional_packets) frames"
}

gen udp4 --flows 1000 --frames 5000
check "UDP/IPv4, round robin: livegen's line" "$(cat "$T/udp4.out" | cut -d' ' -f1-4)" "sent 5000 refused 0"
check "UDP/IPv4: every flow, 5 frames each, in the records" \
	"$(count "$T/udp4.csv" ip_version=4 protocol=17 bidirectional_packets=5)" "1000 flows 5000 frames"
check "UDP/IPv4: 60-byte frames" "$($FLOWS "$T/udp4.csv" --sum bidirectional_bytes)" 300000
check "UDP/IPv4: flow 999 is blast's flow 999" \
	"$($FLOWS "$T/udp4.csv" --where src_port=2023 --get src_ip,dst_ip,dst_port)" "198.18.0.1 198.19.255.254 9"

# Flows 64000 .. 64999 cross from the first source address to the second.
gen tcp6 --proto tcp --ipv6 100 --flows 1000 --frames 3000 --first 64000 --size 100
check "TCP/IPv6, --first: every flow, 3 frames each, in the records" \
	"$(count "$T/tcp6.csv" ip_version=6 protocol=6 bidirectional_packets=3)" "1000 flows 3000 frames"
check "TCP/IPv6: flow 64512 is the second address's first port" \
	"$($FLOWS "$T/tcp6.csv" --where src_port=1024 --get src_ip,dst_ip)" "fd00::c612:2 fd00::c613:fffe"
check "TCP/IPv6: --size 100" "$($FLOWS "$T/tcp6.csv" --sum bidirectional_bytes)" 300000

# --proto mix: odd flows TCP; --ipv6 50: flow n IPv6 when (n / 2) % 100 < 50.
gen mix --proto mix --ipv6 50 --flows 400 --frames 4000
for c in "4 17" "4 6" "6 17" "6 6"; do
	set -- $c
	check "mix: IPv$1 protocol $2" "$(count "$T/mix.csv" ip_version="$1" protocol="$2")" \
		"100 flows 1000 frames"
done
check "mix: IPv6 UDP frames are 62 bytes, IPv6 TCP 74" \
	"$($FLOWS "$T/mix.csv" --where ip_version=6 --sum bidirectional_bytes)" $((1000 * 62 + 1000 * 74))

# Zipf(1) over 1000 flows: flow k about 1 / (k + 1) as often as flow 0.
gen heavy --dist heavy --flows 1000 --frames 20000
check "heavy: every frame in the records" "$($FLOWS "$T/heavy.csv" --sum bidirectional_packets)" 20000
check "heavy: flows 0, 1, 3 in the ratios 1 : 1/2 : 1/4, within 10 %" "$(python3 - "$T/heavy.csv" <<'PY'
import csv, sys
p = {int(r["src_port"]) - 1024: int(r["bidirectional_packets"]) for r in csv.DictReader(open(sys.argv[1]))}
ok = max(p) <= 999 and abs(p[1] / p[0] - 0.5) < 0.05 and abs(p[3] / p[0] - 0.25) < 0.025
print("yes" if ok else f"no: {p[0]} {p[1]} {p[3]}, flows up to {max(p)}")
PY
)" yes

gen paced --flows 100 --frames 2000 --pps 100000
check "--pps: every frame in the records" "$(count "$T/paced.csv")" "100 flows 2000 frames"

# Nothing attached to vb: veth drops what it is sent, livegen says so.
in_b ip link set dev vb xdp off 2>/dev/null
"$LIVEGEN" --iface "va@$NS_A" --frames 100 >"$T/none.out" 2>"$T/none.err"
check "no XDP program on the peer: exit 1, nothing sent" "$? $(cut -d' ' -f1-4 "$T/none.out")" \
	"1 sent 0 refused 100"
check "no XDP program on the peer: said" "$(grep -c 'vanished on their way to the peer of va' "$T/none.err")" 1
"$LIVEGEN" --iface "va@$NS_A" --proto sctp >/dev/null 2>"$T/bad.err"
check "bad option: exit 2, said" "$? $(grep -c "unknown --proto 'sctp'" "$T/bad.err")" "2 1"
"$LIVEGEN" --iface "nosuch@$NS_A" >/dev/null 2>"$T/nodev.err"
check "no such interface: exit 1, said" "$? $(grep -c "Couldn't find interface nosuch" "$T/nodev.err")" "1 1"
exit $FAILED
