#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# deploy/nfxdp.service and deploy/nfxdp.env: installed by `make
# install-deploy` into a scratch root, checked by `systemd-analyze verify`
# (including its man: links, against the built man pages) and `systemd-analyze
# security`; then nfxdp runs the way the unit runs it (an unprivileged user,
# no new privileges, only the unit's capabilities, ambient) and meters frames
# on a veth between two namespaces.
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
	lib/systemd/system/nfxdp.service etc/nfxdp/nfxdp.env; do
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
	"EnvironmentFile=/opt/nfxdp/etc/nfxdp/nfxdp.env ExecStart=/opt/nfxdp/bin/nfxdp \$NFXDP_OPTS "

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
for kv in NoNewPrivileges=yes DynamicUser=yes ProtectSystem=strict ProtectHome=yes PrivateTmp=yes \
	PrivateDevices=yes ProtectKernelTunables=yes ProtectKernelModules=yes ProtectKernelLogs=yes \
	ProtectControlGroups=yes ProtectClock=yes ProtectHostname=yes RestrictNamespaces=yes \
	RestrictRealtime=yes RestrictSUIDSGID=yes LockPersonality=yes MemoryDenyWriteExecute=yes \
	SystemCallArchitectures=native; do
	check "hardening: $kv" "$(key "${kv%%=*}")" "${kv#*=}"
done
check "options come from the env file" "$(key ExecStart)" "/usr/local/bin/nfxdp \$NFXDP_OPTS"
check "env file sets NFXDP_OPTS" \
	"$(set -a; . "$TOP/deploy/nfxdp.env"; echo "$NFXDP_OPTS")" "--iface eth0 --metrics 127.0.0.1:9101"
systemd-analyze security --offline=true "$T/unit/nfxdp.service" >"$T/security" 2>&1
level=$(sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p' "$T/security")
check "systemd-analyze security: exposure at most 2.5 (got $level)" \
	"$(awk -v l="${level:-99}" 'BEGIN { print (l <= 2.5) ? "ok" : "too exposed" }')" ok

# --- nfxdp the way the unit runs it -------------------------------------------------
# Same user model as DynamicUser= (an unprivileged uid), NoNewPrivileges=,
# and the unit's three capabilities as the only bounding and ambient ones.
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

exit $FAILED
