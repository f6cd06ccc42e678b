#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# The container images, end to end, the way they are deployed:
#
#   deploy/container-test.sh [--build-only]     (make container-test)
#
# Makes the Debian 12 base image (deploy/rootfs.sh, no registry needed),
# builds the collector and consumer images from deploy/Containerfile, checks
# what is inside them without running them, then runs them: the collector in
# the network namespace of one end of a veth pair with only CAP_BPF,
# CAP_NET_ADMIN and CAP_PERFMON, a private bpffs, a read-only root, natively
# attached; the consumer (nfxdp-cat, no capabilities, no network) reading
# the stream over ipc:// in a volume both share. Known frames go in from
# the other namespace; the consumer must print exactly the expected flows.
# Prints PASS/FAIL lines; exit status 0 only when all passed.
#
# podman always runs with --runtime runc (crun rejects this kind of host's
# hybrid cgroup layout) and explicit nofile/nproc limits (podman's defaults
# would need CAP_SYS_RESOURCE to set).
SUITE=deploy
. "$(dirname "$0")/../tests/e2e/lib.sh"
need_root

BUILD_ONLY=0
[ "${1:-}" = --build-only ] && BUILD_ONLY=1

PODMAN=(podman --runtime runc)
LIMITS=(--ulimit nofile=1024:1024 --ulimit nproc=1024:1024)
BASE=${NFXDP_BASE_IMAGE:-localhost/nfxdp-base:bookworm}
IMG=${NFXDP_IMAGE:-localhost/nfxdp:latest}
IMG_CAT=${NFXDP_CAT_IMAGE:-localhost/nfxdp-cat:latest}
COLLECTOR=nfxdp-collector-$$
CONSUMER=nfxdp-consumer-$$
VOLUME=nfxdp-stream-$$
PY=${PYTHON:-/usr/bin/python3}
MOUNTED=()

deploy_cleanup() {
	local i
	"${PODMAN[@]}" rm -f -t 2 "$COLLECTOR" "$COLLECTOR-default" "$CONSUMER" >/dev/null 2>&1
	"${PODMAN[@]}" volume rm -f "$VOLUME" >/dev/null 2>&1
	for i in "${MOUNTED[@]}"; do
		"${PODMAN[@]}" image unmount "$i" >/dev/null 2>&1
	done
	umount "$T/bpffs" 2>/dev/null
	cleanup
}
trap deploy_cleanup EXIT

# --- prerequisites and images ---------------------------------------------------
for tool in podman runc debootstrap; do
	command -v "$tool" >/dev/null || { fail "$tool is installed (see deploy/deps.txt)"; exit 1; }
done

if "$TOP/deploy/rootfs.sh" "$BASE" >"$T/rootfs.log" 2>&1; then
	pass "base image $BASE ($(tail -1 "$T/rootfs.log" | sed 's/^rootfs: //'))"
else
	fail "base image $BASE (debootstrap, podman import)"
	cat "$T/rootfs.log" >&2
	exit 1
fi

# build TARGET IMAGE
build() {
	local start=$SECONDS
	# Host network for the build stage's apt: the mirror apt uses here.
	"${PODMAN[@]}" build "${LIMITS[@]}" --network host --build-arg BASE="$BASE" \
		--ignorefile "$TOP/deploy/containerignore" -f "$TOP/deploy/Containerfile" \
		--target "$1" -t "$2" "$TOP" >"$T/build-$1.log" 2>&1
	local status=$?
	check "image $2 builds (target $1, $((SECONDS - start)) s)" "$status" 0
	[ "$status" = 0 ] || { tail -30 "$T/build-$1.log" >&2; exit 1; }
}
build collector "$IMG"
build consumer "$IMG_CAT"

# --- what is inside, without running anything --------------------------------------
# inspect_image IMAGE PROGRAM
inspect_image() {
	local img=$1 prog=$2 mnt extra size
	check "$img: entrypoint" "$("${PODMAN[@]}" image inspect -f '{{json .Config.Entrypoint}}' "$img")" \
		"[\"/usr/bin/$prog\"]"
	mnt=$("${PODMAN[@]}" image mount "$img") || { fail "$img: image mounts"; return; }
	MOUNTED+=("$img")
	# Programs, the libraries they load, their copyright files, and the
	# two name files: no shell, no package manager, no build tree.
	extra=$(cd "$mnt" && find . -type f -o -type l | sed 's|^\./||' |
		grep -Ev '^(usr/bin/nfxdp(-cat)?|(usr/)?lib(64|/x86_64-linux-gnu|/aarch64-linux-gnu)?/[^/]+\.so[.0-9]*|usr/share/doc/[^/]+/copyright|etc/(passwd|group))$')
	check "$img: only programs, their libraries and copyright files" "$extra" ""
	check "$img: no shell" "$(ls "$mnt/bin/sh" "$mnt/usr/bin/sh" 2>/dev/null)" ""
	# The loader and every library resolve inside the image itself.
	check "$img: $prog runs from the image's own files" \
		"$(chroot "$mnt" "/usr/bin/$prog" --help 2>&1 | head -1 | cut -d' ' -f1-2)" "Usage: $prog"
	size=$(du -sm "$mnt" | cut -f1)
	check "$img: small (${size} MB, at most 40)" "$([ "$size" -le 40 ] && echo ok)" ok
	"${PODMAN[@]}" image unmount "$img" >/dev/null
}
inspect_image "$IMG" nfxdp
inspect_image "$IMG_CAT" nfxdp-cat
MOUNTED=()
check "$IMG: nfxdp --version" "$(chroot "$("${PODMAN[@]}" image mount "$IMG")" /usr/bin/nfxdp --version)" \
	"$("$NFXDP" --version)"
"${PODMAN[@]}" image unmount "$IMG" >/dev/null
[ "$BUILD_ONLY" = 1 ] && exit $FAILED

# --- can podman run containers here at all? -----------------------------------------
if ! "${PODMAN[@]}" run --rm "${LIMITS[@]}" --network none "$IMG_CAT" --help >"$T/run.log" 2>&1; then
	fail "podman runs a container (the image checks above did not need to)"
	cat "$T/run.log" >&2
	exit 1
fi
pass "podman runs a container"

# --- the collector, metering one end of a veth pair ---------------------------------
setup_pair noipv6 || { fail "namespaces"; exit 1; }
"$PY" "$TOP/deploy/seccomp-profile.py" >"$T/seccomp.json" || { fail "seccomp profile"; exit 1; }
# A bpffs of its own, so the test leaves the host's /sys/fs/bpf alone.
mkdir -p "$T/bpffs" && mount -t bpf bpf "$T/bpffs" || { fail "bpffs mounts"; exit 1; }
"${PODMAN[@]}" volume create "$VOLUME" >/dev/null || { fail "volume"; exit 1; }

METRICS=()
"$NFXDP" --help | grep -q -- '--metrics' && METRICS=(--metrics 127.0.0.1:9101)

BASE_OPTS=("${LIMITS[@]}" --network "ns:/var/run/netns/$NS_B" --cap-drop ALL
	--cap-add CAP_BPF,CAP_NET_ADMIN,CAP_PERFMON --security-opt no-new-privileges --read-only
	--mount "type=bind,src=$T/bpffs,dst=/sys/fs/bpf" -v "$VOLUME:/run/nfxdp")
COLLECTOR_OPTS=("${BASE_OPTS[@]}" --security-opt "seccomp=$T/seccomp.json")
"${PODMAN[@]}" run -d --name "$COLLECTOR" "${COLLECTOR_OPTS[@]}" "$IMG" \
	--iface vb --zmq ipc:///run/nfxdp/flows.sock --idle-timeout 1 --natural-linger 0.5 \
	--poll-ms 100 --batch-ms 100 "${METRICS[@]}" -v >/dev/null 2>"$T/run-collector.err"
for i in $(seq 100); do
	"${PODMAN[@]}" logs "$COLLECTOR" 2>&1 | grep -q '^nfxdp: metering' && break
	[ "$("${PODMAN[@]}" inspect -f '{{.State.Running}}' "$COLLECTOR" 2>/dev/null)" = true ] || break
	sleep 0.1
done
"${PODMAN[@]}" logs "$COLLECTOR" >"$T/collector.log" 2>&1
n=$(grep -c '^nfxdp: attached to vb .*native mode' "$T/collector.log")
check "collector attaches natively to vb in its namespace" "$n" 1
[ "$n" = 1 ] || { cat "$T/run-collector.err" "$T/collector.log" >&2; exit 1; }

# Its process, seen from the host: uid 0 of the container, started with
# exactly three capabilities (CAP_NET_ADMIN 12, CAP_PERFMON 38, CAP_BPF 39:
# the bounding set, which it cannot shrink without CAP_SETPCAP), holding
# none once attached, no way to gain more, a seccomp filter.
PID=$("${PODMAN[@]}" inspect -f '{{.State.Pid}}' "$COLLECTOR")
status_of() { awk -v k="$1:" '$1 == k { print $2 }' "/proc/$PID/status"; }
check "collector: no effective capability once attached" "$(status_of CapEff)" 0000000000000000
check "collector: no permitted capability once attached" "$(status_of CapPrm)" 0000000000000000
check "collector: bounding set" "$(status_of CapBnd)" 000000c000001000
check "collector: no new privileges" "$(status_of NoNewPrivs)" 1
check "collector: seccomp filter" "$(status_of Seccomp)" 2
check "collector: read-only root" "$("${PODMAN[@]}" inspect -f '{{.HostConfig.ReadonlyRootfs}}' "$COLLECTOR")" true
check "collector: in vb's namespace" "$(readlink "/proc/$PID/ns/net")" \
	"$(ip netns exec "$NS_B" readlink /proc/self/ns/net)"

# --- the consumer sidecar, on the shared volume ---------------------------------------
SOCK=$("${PODMAN[@]}" volume inspect -f '{{.Mountpoint}}' "$VOLUME")/flows.sock
check "ipc socket in the shared volume (mode 0755: the collector's umask)" \
	"$(command stat -c '%F %a %u' "$SOCK" 2>&1)" "socket 755 0"
"${PODMAN[@]}" run --rm --name "$CONSUMER" "${LIMITS[@]}" --network none --cap-drop ALL \
	--security-opt no-new-privileges --read-only -v "$VOLUME:/run/nfxdp" "$IMG_CAT" \
	ipc:///run/nfxdp/flows.sock --format csv --count 3 --timeout 30 \
	>"$T/flows.csv" 2>"$T/consumer.err" &
CAT_PID=$!
PIDS+=("$CAT_PID")
for i in $(seq 100); do
	[ "$("${PODMAN[@]}" inspect -f '{{.State.Running}}' "$CONSUMER" 2>/dev/null)" = true ] && break
	sleep 0.1
done
sleep 1 # the subscription reaches the collector before anything is exported

# --- known frames from the other namespace ---------------------------------------------
# Addressed to MACs nobody owns: vb's XDP meters them, vb's stack drops them.
A=(--smac 02:00:00:00:aa:01 --dmac 02:00:00:00:aa:02)
R=(--smac 02:00:00:00:aa:02 --dmac 02:00:00:00:aa:01)
send() { in_a "$INJECT" --iface va "$@"; }
U=(--src 198.18.0.1 --dst 198.18.0.2 --proto udp --sport 1000 --dport 2000)
UR=(--src 198.18.0.2 --dst 198.18.0.1 --proto udp --sport 2000 --dport 1000)
send "${A[@]}" "${U[@]}" --payload 100 --count 5
send "${R[@]}" "${UR[@]}" --payload 50 --count 3
TC=(--src 198.18.0.1 --dst 198.18.0.2 --proto tcp --sport 40000 --dport 80)
TS=(--src 198.18.0.2 --dst 198.18.0.1 --proto tcp --sport 80 --dport 40000)
send "${A[@]}" "${TC[@]}" --flags S
send "${R[@]}" "${TS[@]}" --flags SA
send "${A[@]}" "${TC[@]}" --flags A
send "${A[@]}" "${TC[@]}" --flags PA --payload 100
send "${R[@]}" "${TS[@]}" --flags A
send "${A[@]}" "${TC[@]}" --flags FA
send "${R[@]}" "${TS[@]}" --flags FA
send "${A[@]}" "${TC[@]}" --flags A
send "${A[@]}" --src fd00::1 --dst fd00::2 --proto udp --sport 5000 --dport 6000 --payload 10 --count 4

wait "$CAT_PID"
check "consumer got its 3 flows (exit status)" "$?" 0
COLS=expiration_id,src_ip,dst_ip,protocol,src2dst_packets,src2dst_bytes,dst2src_packets,dst2src_bytes
row() { $FLOWS "$T/flows.csv" --where "$1" --get $COLS; }
check "consumer: flows" "$($FLOWS "$T/flows.csv" --count 2>&1)" 3
check "consumer: udp both ways, idle" "$(row src_port=1000)" "0 198.18.0.1 198.18.0.2 17 5 710 3 276"
check "consumer: tcp teardown, natural" "$(row src_port=40000)" "2 198.18.0.1 198.18.0.2 6 5 370 3 162"
check "consumer: ipv6 udp, idle" "$(row src_port=5000)" "0 fd00::1 fd00::2 17 4 288 0 0"
check "consumer: packets in records = frames sent" "$($FLOWS "$T/flows.csv" --sum bidirectional_packets)" 20
check "consumer: no gaps reported" "$(cat "$T/consumer.err")" ""

# --- health and metrics, from inside the collector's namespace ---------------------------
if [ ${#METRICS[@]} -gt 0 ]; then
	check "collector: /healthz" "$(in_b curl -s --max-time 3 http://127.0.0.1:9101/healthz)" ok
	check "collector: frames metered in /metrics" \
		"$(in_b curl -s --max-time 3 http://127.0.0.1:9101/metrics | awk '$1 == "nfxdp_frames_metered_total" { print $2 }')" 20
else
	echo "SKIP $SUITE: metrics (nfxdp has no --metrics yet: see user/metrics.h)"
fi

# --- SIGTERM: detach, flush, exit 0 ------------------------------------------------------
"${PODMAN[@]}" stop -t 20 "$COLLECTOR" >/dev/null
check "collector: exit status after SIGTERM" "$("${PODMAN[@]}" inspect -f '{{.State.ExitCode}}' "$COLLECTOR")" 0
"${PODMAN[@]}" logs "$COLLECTOR" >"$T/collector.log" 2>&1
check "collector: frames seen" "$(stat "$T/collector.log" frames_seen)" 20
check "collector: frames metered" "$(stat "$T/collector.log" frames_metered)" 20
check "collector: detached from vb" "$(ip -n "$NS_B" -d link show vb | grep -c 'prog/xdp')" 0

# --- why the seccomp profile: the runtime's default denies bpf() to CAP_BPF alone ---------
timeout -s TERM 10 "${PODMAN[@]}" run --rm --name "$COLLECTOR-default" "${BASE_OPTS[@]}" "$IMG" \
	--iface vb --no-zmq >/dev/null 2>"$T/default-seccomp.err"
if grep -q "Couldn't load BPF programs: Operation not permitted" "$T/default-seccomp.err"; then
	echo "NOTE $SUITE: podman's default seccomp profile denies bpf() without CAP_SYS_ADMIN here;" \
		"deploy/seccomp-profile.py allows it for CAP_BPF"
else
	echo "NOTE $SUITE: podman's default seccomp profile lets CAP_BPF load programs here;" \
		"deploy/seccomp-profile.py is not needed on this host"
fi

exit $FAILED
