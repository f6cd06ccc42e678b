#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Installs the Debian packages that building, testing and the demo need.
# Idempotent: packages already installed are left alone, and apt-get update
# runs only when something is missing.
set -euo pipefail

# Build: BPF toolchain, libraries and code generators.
build=(make gcc clang llvm pkg-config libbpf-dev bpftool libelf-dev zlib1g-dev
	protobuf-c-compiler libprotobuf-c-dev libzmq3-dev libpcap-dev libmicrohttpd-dev
	libmosquitto-dev libclang-rt-14-dev libndpi-dev)
# Tests and demo: namespaces, traffic, capture replay.
run=(iproute2 iputils-ping iperf3 curl python3 tcpreplay tcpdump ethtool procps
	python3-prometheus-client python3-yaml help2man groff-base man-db systemd
	nfdump pmacct mosquitto mosquitto-clients protobuf-compiler python3-protobuf
	python3-zmq python3-pandas openssl
	libndpi-bin # ndpiReader: the DPI suite's reference
	python3-venv python3-pip python3-setuptools python3-wheel # pip install ./python, offline
	podman runc debootstrap) # the container suite (deploy/container-test.sh)

want=("${build[@]}" "${run[@]}")
if [ "${1:-}" = "--build-only" ]; then
	want=("${build[@]}")
fi

missing=()
for p in "${want[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
		missing+=("$p")
	fi
done

if [ ${#missing[@]} -eq 0 ]; then
	echo "deps: all ${#want[@]} packages present"
	exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
	echo "deps: missing packages: ${missing[*]}" >&2
	echo "deps: run as root (or: sudo make deps)" >&2
	exit 1
fi

echo "deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends "${missing[@]}"
