#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Regenerates tests/fuzz/seeds/ (make fuzz-seeds): frames and capture files
# from the NFStream reference captures ($NFSTREAM_REF) and crafted cases,
# nfxdp-cat inputs from nfxdp --pcap runs (root: the meter is loaded), and
# the filter expressions of nfxdp --help and the tests. The seeds are
# committed; regenerate them when the parsers, the schema or the languages
# change. Regressions (tests/fuzz/regressions/) are kept by hand.
set -euo pipefail
cd "$(dirname "$0")/../.."
B=${BUILD:-build}
FUZZ_DIR=${FUZZ_DIR:-$B/fuzz}
NFXDP=${NFXDP:-$B/nfxdp}
MKSEEDS=$FUZZ_DIR/mkseeds
S=tests/fuzz/seeds

ref=
for d in "${NFSTREAM_REF:-}" ../shared/reference/nfstream /work/shared/reference/nfstream; do
	if [ -n "$d" ] && [ -d "$d/pcaps" ]; then
		ref=$d/pcaps
		break
	fi
done
if [ -z "$ref" ]; then
	echo "mkseeds: NFStream reference captures not found (set NFSTREAM_REF)" >&2
	exit 1
fi
if [ "$(id -u)" -ne 0 ]; then
	echo "mkseeds: needs root: the nfxdp-cat seeds come from nfxdp --pcap runs" >&2
	exit 1
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

rm -rf "$S"
mkdir -p "$S"

# Frames: every reference capture (the mkseeds packet command keeps two of
# each header shape), crafted cases first.
mapfile -t caps < <(find "$ref" -maxdepth 1 -name '*.pcap*' | LC_ALL=C sort)
"$MKSEEDS" packet "$S/packet" "${caps[@]}"

# Capture files: crafted ones, and reference captures of every format and
# link type present (small ones whole, the first 4 KB of the others).
mapfile -t kinds < <(for f in "${caps[@]}"; do
	# the first capture of each magic number and link type
	key=$(od -An -tx1 -N4 "$f" | tr -d ' ')$(od -An -tx1 -j20 -N4 "$f" | tr -d ' ')
	echo "$key $f"
done | sort -u -k1,1 | awk '{ print $2 }')
"$MKSEEDS" capture "$S/capture" "$ref/dhcp.pcap" "$ref/dhcp.pcapng" \
	"$ref/dhcp_little_endian.pcapng" "$ref/6in6tunnel.pcap" "$ref/gtp-u.pcap" \
	"$ref/capwap.pcap" "$ref/z3950.pcapng" "${kinds[@]}"

# nfxdp-cat: batches of small captures, plain and with every optional field.
pbs=()
for c in dhcp.pcap 6in6tunnel.pcap gtp-u.pcap dns_long_domainname.pcap; do
	"$NFXDP" --pcap "$ref/$c" --output "$tmp/$c.pb" --format pb --batch-flows 3 2>/dev/null
	pbs+=("$tmp/$c.pb")
done
"$NFXDP" --pcap "$ref/quic.pcap" --output "$tmp/quic-stats-splt.pb" --format pb \
	--batch-flows 2 --statistical --splt 8 2>/dev/null
pbs+=("$tmp/quic-stats-splt.pb")
"$MKSEEDS" catmsg "$S/catmsg" "${pbs[@]}"

# Filter expressions: nfxdp --help, the tests, and the corners of pcap-filter.
mkdir -p "$S/filter" "$S/flowfilter"
n=0
while IFS= read -r e; do
	[ -n "$e" ] || continue
	n=$((n + 1))
	printf '%s' "$e" > "$S/filter/expr-$n"
done <<'EOF'
tcp port 443 and not net 198.18.0.0/24
tcp
not tcp
udp dst port 53
src port 5353
portrange 1000-2000
src portrange 1000-2000
src net 198.18.0.0/31
dst net fd00::2/127
host 198.18.0.2
src host 1.2.3.4
ether host 02:00:00:00:00:01
ether broadcast
ether proto 0x88cc
arp
ip6 and tcp
ip proto 47
proto \gre
icmp[icmptype] = icmp-echo
icmp6 and ip6[40] = 128
tcp[tcpflags] & (tcp-syn|tcp-ack) = tcp-syn
ip[6:2] & 0x1fff = 0
ip[2:2] - ((ip[0] & 0xf) << 2) - ((tcp[12] & 0xf0) >> 2) > 0
len > 100 and len <= 1500
less 64
greater 1000
vlan 100 and udp
vlan and vlan 200
mpls 42 and ip
pppoes and ip
udp[8:4] = 0x12345678
ether[0] & 1 != 0
ip[0] % 16 * 4 / 2 ^ 3 = 7
tcp or udp
! (tcp || port 2) && ip
(tcp and port 2) or (udp and port 3)
not not not icmp
((((tcp))))
ip6 protochain 6
port 65536
tcp prot 443
host 1.2.3.4/8
tcp and
(tcp
tcp)
EOF
n=0
while IFS= read -r e; do
	[ -n "$e" ] || continue
	n=$((n + 1))
	printf '%s' "$e" > "$S/flowfilter/expr-$n"
done <<'EOF'
bidirectional_packets >= 3 and protocol == 6
bidirectional_packets >= 10 and protocol == 17
bidirectional_packets >= 3 and not expiration_id == 4
(protocol == 6 or protocol == 17) and src2dst_bytes > 1000
ip_version != 4 || vlan_id > 0 && ! tunnel_id == 0
bidirectional_mean_ps < 1e3 and sampling_scaled == 1
src2dst_tcp_flags >= 0x12 or bidirectional_duration_ms <= -1.5
src_ip == 1
splt_ps > 0
protocol = 6
protocol == abc
EOF
"$MKSEEDS" flowfilter-dict tests/fuzz/flowfilter.dict
for d in "$S"/*; do
	echo "mkseeds: $(find "$d" -type f | wc -l) seeds, $(du -sk --apparent-size "$d" | cut -f1) KB in $d"
done
