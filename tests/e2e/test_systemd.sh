#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# deploy/nfxdp.service and deploy/nfxdp.env: installed by `make
# install-deploy` into a scratch root, checked by `systemd-analyze verify`
# (including its man: links, against the built man pages) and `systemd-analyze
# security`; then nfxdp runs the way the unit runs it (an unprivileged user,
# no new privileges, only the unit's capabilities, ambient, --persist on a
# pin directory of its own) and meters frames on a veth between two
# namespaces, killed as the OOM killer would and started again: crash-safe.
SUITE=e2e-systemd
. "$(dirname "$0")/lib.sh"
need_root

UNIT=$TOP/deploy/nfxdp.service
ROOT=$T/root
command -v systemd-analyze >/dev/null || { fail "systemd-analyze is installed"; exit 1; }

# key KEY: the unit's value(s) for KEY, one line.
key() {
	sed -n "s/^$1=//p" "$UNIT" | tr '\n' ' ' | sed 's/ $//'
}

# --- install-deploy into a scratch root ------------------------------------------
make -s -C "$TOP" -f Makefile -f deploy/deploy.mk BUILD="$B" install-deploy DESTDIR="$ROOT" \
	PREFIX=/usr/local >"$T/install.log" 2>&1
check "make install-deploy" "$?" 0
for f in bin/nfxdp bin/nfxdp-cat share/man/man8/nfxdp.8 share/man/man1/nfxdp-cat.1 \
	lib/systemd/system/nfxdp.service lib/sysusers.d/nfxdp.conf etc/nfxdp/nfxdp.env; do
	[ -e "$ROOT/usr/local/$f" ] && pass "installed $f" || fail "installed $f"
done
echo 'NFXDP_OPTS="--iface site-option"' >"$ROOT/usr/local/etc/nfxdp/nfxdp.env"
make -s -C "$TOP" -f Makefile -f deploy/deploy.mk BUILD="$B" install-deploy DESTDIR="$ROOT" \
	PREFIX=/usr/local >>"$T/install.log" 2>&1
check "a second install keeps the site's env file" \
	"$(cat "$ROOT/usr/local/etc/nfxdp/nfxdp.env")" 'NFXDP_OPTS="--iface site-option"'
make -s -C "$TOP" -f Makefile -f deploy/deploy.mk BUILD="$B" install-deploy DESTDIR="$T/opt" \
	PREFIX=/opt/nfxdp >>"$T/install.log" 2>&1
check "another PREFIX reaches the unit" \
	"$(grep -E '^(ExecStart|EnvironmentFile)=' "$T/opt/opt/nfxdp/lib/systemd/system/nfxdp.service" | tr '\n' ' ')" \
	"EnvironmentFile=/opt/nfxdp/etc/nfxdp/nfxdp.env ExecStart=/opt/nfxdp/bin/nfxdp --persist --pin-dir /run/nfxdp/bpffs \$NFXDP_OPTS "

# --- systemd-analyze verify -------------------------------------------------------
# verify checks that ExecStart is executable and that Documentation= man
# pages exist: point both at the scratch root.
mkdir -p "$T/unit"
sed "s|/usr/local/|$ROOT/usr/local/|g" "$ROOT/usr/local/lib/systemd/system/nfxdp.service" \
	>"$T/unit/nfxdp.service"
MANPATH=$ROOT/usr/local/share/man systemd-analyze verify "$T/unit/nfxdp.service" >"$T/verify" 2>&1
check "systemd-analyze verify: status" "$?" 0
check "systemd-analyze verify: no complaints" "$(cat "$T/verify")" ""

# --- hardening ---------------------------------------------------------------------
check "capability bounding set" "$(key CapabilityBoundingSet)" "CAP_BPF CAP_NET_ADMIN CAP_PERFMON"
check "ambient capabilities" "$(key AmbientCapabilities)" "CAP_BPF CAP_NET_ADMIN CAP_PERFMON"
for kv in NoNewPrivileges=yes User=nfxdp Group=nfxdp ProtectSystem=strict ProtectHome=yes PrivateTmp=yes \
	PrivateDevices=yes ProtectKernelTunables=yes ProtectKernelModules=yes ProtectKernelLogs=yes \
	ProtectControlGroups=yes ProtectClock=yes ProtectHostname=yes RestrictNamespaces=yes \
	RestrictRealtime=yes RestrictSUIDSGID=yes LockPersonality=yes MemoryDenyWriteExecute=yes \
	SystemCallArchitectures=native; do
	check "hardening: $kv" "$(key "${kv%%=*}")" "${kv#*=}"
done
check "options come from the env file, after --persist on the pin directory" "$(key ExecStart)" \
	"/usr/local/bin/nfxdp --persist --pin-dir /run/nfxdp/bpffs \$NFXDP_OPTS"
check "crash-safe: root makes the pin directory in the host's bpffs, the service user's" \
	"$(key ExecStartPre)" "+/usr/bin/install -d -m 0700 -o nfxdp -g nfxdp /sys/fs/bpf/nfxdp"
check "crash-safe: the service sees it at its --pin-dir" "$(key BindPaths)" \
	"/sys/fs/bpf/nfxdp:/run/nfxdp/bpffs"
check "the user: a fixed system user (sysusers.d)" \
	"$(grep -v '^#' "$ROOT/usr/local/lib/sysusers.d/nfxdp.conf")" \
	'u nfxdp - "nfxdp XDP flow meter" /var/lib/nfxdp /usr/sbin/nologin'
check "no DynamicUser (its uid may change between runs; the pins are the user's)" \
	"$(key DynamicUser)" ""
check "env file sets NFXDP_OPTS" \
	"$(set -a; . "$TOP/deploy/nfxdp.env"; echo "$NFXDP_OPTS")" "--iface eth0 --metrics 127.0.0.1:9101"
systemd-analyze security --offline=true "$T/unit/nfxdp.service" >"$T/security" 2>&1
level=$(sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p' "$T/security")
check "systemd-analyze security: exposure at most 2.5 (got $level)" \
	"$(awk -v l="${level:-99}" 'BEGIN { print (l <= 2.5) ? "ok" : "too exposed" }')" ok

# --- nfxdp the way the unit runs it -------------------------------------------------
# An unprivileged uid, NoNewPrivileges=, and the unit's three capabilities as
# the only bounding and ambient ones.
CAPS=$(key AmbientCapabilities | tr 'A-Z' 'a-z' | sed 's/cap_/+/g; s/ /,/g')
# as_unit CAPS: the setpriv command line for a uid with only CAPS.
as_unit() {
	echo setpriv --reuid 61000 --regid 61000 --clear-groups --no-new-privs \
		--inh-caps "-all,$1" --ambient-caps "$1" --bounding-set "-all,$1"
}
setup_pair noipv6 || { fail "namespaces"; exit 1; }
check "runs as an unprivileged uid" "$($(as_unit "$CAPS") id -u)" 61000
ip netns exec "$NS_B" $(as_unit "$CAPS") "$NFXDP" --iface vb --no-zmq --idle-timeout 60 \
	--poll-ms 100 --stats 1 -v >"$T/unit.log" 2>&1 &
NFXDP_PID=$!
PIDS+=("$NFXDP_PID")
wait_for 10 metering_or_exited "$T/unit.log" "$NFXDP_PID"
check "with the unit's capabilities only, it attaches" \
	"$(grep -c '^nfxdp: metering vb' "$T/unit.log")" 1
in_a "$INJECT" --iface va --smac 02:00:00:00:aa:01 --dmac 02:00:00:00:aa:02 \
	--src 198.18.0.1 --dst 198.18.0.2 --proto udp --sport 1000 --dport 2000 --count 4
wait_for 10 stat_at_least "$T/unit.log" frames_metered 4 # then flushed at exit
kill -TERM "$NFXDP_PID"
wait "$NFXDP_PID"
check "exit status after SIGTERM" "$?" 0
check "frames metered" "$(stat "$T/unit.log" frames_metered)" 4
check "flow flushed through the closer (BPF_PROG_TEST_RUN)" "$(stat "$T/unit.log" flows_exported_flush)" 1
# Each capability is needed: without any one of them nfxdp cannot load.
for c in ${CAPS//,/ }; do
	rest=$(echo "$CAPS" | tr ',' '\n' | grep -vx -- "$c" | paste -sd,)
	ip netns exec "$NS_B" $(as_unit "$rest") "$NFXDP" --iface vb --no-zmq >"$T/less.log" 2>&1
	check "without cap_${c#+} it fails" "$?" 1
done

# --- crash-safe: killed as the OOM killer would, started again ------------------------
# What ExecStartPre and BindPaths give the service, on a bpffs of the test's
# own (the host's /sys/fs/bpf is left alone): a pin directory the uid owns
# and reaches. The unit's options; SIGKILL; the unit starts it again.
BPF=/run/nfxdp-systemd-test-$$
mkdir -p "$BPF" && mount -t bpf bpf "$BPF" && CLEANUP+=("umount '$BPF'; rmdir '$BPF'")
install -d -m 0700 -o 61000 -g 61000 "$BPF/nfxdp"
# unit_run LOG: nfxdp as the unit runs it, --persist on that directory; waits until it meters.
unit_run() {
	ip netns exec "$NS_B" $(as_unit "$CAPS") "$NFXDP" --persist --pin-dir "$BPF/nfxdp" \
		--iface vb --no-zmq --idle-timeout 60 --poll-ms 100 -v >"$1" 2>&1 &
	NFXDP_PID=$!
	PIDS+=("$NFXDP_PID")
	for i in $(seq 100); do
		grep -q '^nfxdp: metering' "$1" && return 0
		kill -0 "$NFXDP_PID" 2>/dev/null || break
		sleep 0.1
	done
	return 1
}
send() {
	in_a "$INJECT" --iface va --smac 02:00:00:00:aa:01 --dmac 02:00:00:00:aa:02 \
		--src 198.18.0.1 --dst 198.18.0.2 --proto udp --sport 3000 --dport 2000 --count "$1"
}
unit_run "$T/p1.log" || fail "--persist as the unit: attaches"
send 4
kill -KILL "$NFXDP_PID"
wait "$NFXDP_PID" 2>/dev/null
check "OOM-killed: the meter goes on, pinned in the service user's directory" \
	"$(ip -n "$NS_B" link show vb | grep -c 'prog/xdp') $(command stat -c %u "$BPF/nfxdp/vb/flows")" "1 61000"
send 3
unit_run "$T/p2.log" || fail "--persist as the unit: starts again"
check "started again: resumes the pinned cache after the crash" \
	"$(grep -c 'resuming the flow cache pinned in .* after a crash' "$T/p2.log")" 1
kill -TERM "$NFXDP_PID"
wait "$NFXDP_PID"
check "stopped (SIGTERM): exit 0, the meter left pinned" \
	"$? $(grep -c 'left metering vb' "$T/p2.log")" "0 1"
ip netns exec "$NS_B" "$NFXDP" --detach vb --pin-dir "$BPF/nfxdp" --no-zmq \
	--output "$T/persist.csv" >"$T/detach.log" 2>&1
check "nfxdp --detach (root): the flow whole across the kill, 7 packets" \
	"$($FLOWS "$T/persist.csv" --get src_port,bidirectional_packets,expiration_id) $(stat "$T/detach.log" frames_metered)" \
	"3000 7 4 7"

exit $FAILED
