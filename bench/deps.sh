#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# The peers the benchmarks compare nfxdp with, and the tools they use.
set -euo pipefail
pkgs=(softflowd nfdump argus-server argus-client libndpi-bin pmacct fprobe tshark tcpdump
	wireshark-common linux-perf gnuplot-nox iperf3)
missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "bench: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections
apt-get update -q
apt-get install -y -q --no-install-recommends "${missing[@]}"
# The packages' own daemons would compete for the CPU being measured.
for s in softflowd nfdump argus-server pmacct pmacctd fprobe; do
	systemctl stop "$s" 2>/dev/null || true
done
