#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# --persist where the pins could not outlive nfxdp: `ip netns exec` runs it
# in a mount namespace of its own, without the host's /sys/fs/bpf, which
# ends with nfxdp. A bpffs mounted there (by nfxdp, or by a wrapper) takes
# the pins and the XDP link with it: refused with a message saying what to
# do. The host's bpffs mounted where the namespace sees it works: the meter
# outlives nfxdp, a second nfxdp resumes it, --detach ends it.
SUITE=e2e-persist-netns
. "$(dirname "$0")/lib.sh"
need_root

A=(--smac 02:00:00:00:aa:01 --dmac 02:00:00:00:aa:02 --src 198.18.0.1 --dst 198.18.0.2)
send() { in_a "$INJECT" --iface va "${A[@]}" --proto udp --dport 53 "$@"; }
xdp_attached() { ip -n "$NS_B" link show vb | grep -c 'prog/xdp'; }

# run_in_b LOG CMD...: nfxdp inside `ip netns exec` in the background; once
# it meters (or exits) it gets SIGTERM; sets STATUS.
run_in_b() {
	local log=$1
	shift
	ip netns exec "$NS_B" "$@" >"$log" 2>&1 &
	local pid=$!
	PIDS+=("$pid")
	for _ in $(seq 100); do
		grep -q '^nfxdp: metering' "$log" && break
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -TERM "$pid" 2>/dev/null
	wait "$pid"
	STATUS=$?
}

setup_pair noipv6 || { fail "namespaces"; exit 1; }
REFUSED="Couldn't keep the pins in /sys/fs/bpf/nfxdp beyond this process: nfxdp runs in a mount namespace of its own"

# --- refused: nothing would outlive nfxdp --------------------------------------
run_in_b "$T/plain.log" "$NFXDP" --iface vb --persist --no-zmq -v
check "ip netns exec nfxdp --persist: refused, exit status 1" "$STATUS" 1
check "ip netns exec nfxdp --persist: says why and what to do" \
	"$(grep -c "$REFUSED (.*), and no bpffs is mounted there.*Run nfxdp from the host with --iface IFACE@NETNS, or mount the host's bpffs where this namespace sees it" "$T/plain.log")" 1
check "ip netns exec nfxdp --persist: nothing attached, nothing claims to be pinned" \
	"$(xdp_attached) $(grep -c 'left metering' "$T/plain.log")" "0 0"

# A wrapper that mounts a bpffs of its own in the namespace: the same end.
run_in_b "$T/wrapped.log" sh -c "mount -t bpf bpf /sys/fs/bpf && exec '$NFXDP' --iface vb --persist --no-zmq -v"
check "a bpffs mounted inside the namespace: refused, exit status 1" "$STATUS" 1
check "a bpffs mounted inside the namespace: says it is the namespace's only" \
	"$(grep -c "$REFUSED (.*), and the bpffs there is mounted in this namespace only" "$T/wrapped.log")" 1

# Without --persist nothing needs to outlive it: metering as usual.
run_in_b "$T/nopersist.log" "$NFXDP" --iface vb --no-zmq -v
check "ip netns exec nfxdp without --persist: meters, exits 0" \
	"$STATUS $(grep -c '^nfxdp: metering vb' "$T/nopersist.log")" "0 1"

# --- the host's bpffs, mounted before: the meter outlives nfxdp ---------------
mkdir "$T/bpffs" && mount -t bpf bpf "$T/bpffs" || { fail "mount bpffs"; exit 1; }
CLEANUP+=("umount '$T/bpffs'")
PIN=(--pin-dir "$T/bpffs")
run_in_b "$T/host1.log" "$NFXDP" --iface vb --persist "${PIN[@]}" --no-zmq -v \
	--output "$T/flows.csv" --idle-timeout 600
check "host bpffs seen in the namespace: exit 0, left metering" \
	"$STATUS $(grep -c 'left metering vb with the flow cache pinned' "$T/host1.log")" "0 1"
check "host bpffs: the pins are there after nfxdp, seen from the host" \
	"$(cd "$T/bpffs/vb" 2>/dev/null && ls | tr '\n' ' ')" "collector_state counters egress_vb flow_events flows flows_live link_vb "
check "host bpffs: XDP still attached" "$(xdp_attached)" 1
send --sport 7000 --count 5 # metered with no nfxdp running
ip netns exec "$NS_B" "$NFXDP" --detach vb "${PIN[@]}" --no-zmq --output "$T/flows.csv" \
	>"$T/detach.log" 2>&1
check "host bpffs: --detach from the namespace, exit status" "$?" 0
check "host bpffs: the flow metered meanwhile exported whole" \
	"$($FLOWS "$T/flows.csv" --get src_port,bidirectional_packets,expiration_id | tr '\n' ' ')" \
	"7000 5 4 "
check "host bpffs: detached and unpinned" \
	"$(xdp_attached) $(ls "$T/bpffs" | grep -vc '\.debug$')" "0 0"

exit $FAILED
