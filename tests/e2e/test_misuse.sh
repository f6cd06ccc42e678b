#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Misuse gets a clear message and a non-zero exit, never a crash: unknown
# interface, bad options, a busy endpoint, an interface already metered, a
# driver without native XDP (and the generic fallback), no privileges.
SUITE=e2e-misuse
. "$(dirname "$0")/lib.sh"
need_root
setup_pair noipv6 || { fail "namespaces"; exit 1; }

# expect NAME STATUS PATTERN CMD...: exit status and a line of stderr.
expect() {
	local name=$1 want=$2 pattern=$3
	shift 3
	"$@" >"$T/out" 2>"$T/err" </dev/null
	local got=$?
	if [ "$got" = "$want" ] && grep -q -- "$pattern" "$T/err"; then
		pass "$name"
	else
		fail "$name"
		echo "  status $got (want $want); stderr:" >&2
		sed 's/^/    /' "$T/err" >&2
	fi
}

expect "unknown interface" 1 "Couldn't find interface 'nosuch0'" "$NFXDP" --iface nosuch0 --no-zmq
expect "unknown namespace" 1 "Couldn't open network namespace 'nosuchns'" \
	"$NFXDP" --iface eth0@nosuchns --no-zmq
expect "bad option value" 2 "is not a number of seconds" "$NFXDP" --iface va --idle-timeout soon
expect "no input" 2 "give either --iface IFACE or --pcap FILE" "$NFXDP"
"$NFXDP" --help >"$T/out" 2>&1
check "help exits 0" $? 0
grep -q -- "--xdp-mode MODE" "$T/out" && pass "help lists the options" || fail "help lists the options"
expect "bad endpoint" 1 "Couldn't bind ZeroMQ endpoint nonsense" \
	"$NFXDP" --iface "va@$NS_A" --zmq nonsense

IFACES="va@$NS_A" start_nfxdp "$T/first.log" || { fail "first nfxdp"; exit 1; }
expect "ipc endpoint in use" 1 "Address already in use" "$NFXDP" --iface "vb@$NS_B" --zmq "$ENDPOINT"
port=$((20000 + $$ % 20000))
"$NFXDP" --iface "vb@$NS_B" --zmq "tcp://127.0.0.1:$port" >"$T/tcp.log" 2>&1 &
PIDS+=($!)
sleep 0.5
expect "tcp endpoint in use" 1 "Address already in use" \
	"$NFXDP" --iface "lo@$NS_B" --xdp-mode generic --zmq "tcp://127.0.0.1:$port"
kill -INT $!
expect "interface already metered" 1 "another XDP program is attached" \
	"$NFXDP" --iface "va@$NS_A" --zmq "ipc://$T/second.sock"
kill -0 "$NFXDP_PID" 2>/dev/null && pass "the first nfxdp is unharmed" || fail "the first nfxdp is unharmed"
start_cat "$T/flows.csv"
stop_nfxdp
check "the first nfxdp exits cleanly" "$NFXDP_STATUS" 0

# Loopback has no native XDP.
expect "no native XDP: names the fallback" 1 "use --xdp-mode generic" \
	"$NFXDP" --iface "lo@$NS_A" --no-zmq
IFACES="lo@$NS_A" start_nfxdp "$T/generic.log" --xdp-mode generic &&
	grep -q "generic mode" "$T/generic.log" && pass "generic mode attaches" || fail "generic mode attaches"
start_cat "$T/generic.csv"
stop_nfxdp

if command -v setpriv >/dev/null; then
	expect "no privileges" 1 "CAP_BPF" setpriv --reuid=65534 --regid=65534 --clear-groups \
		--inh-caps=-all "$NFXDP" --iface "va@$NS_A" --no-zmq
else
	fail "setpriv (util-linux) is missing"
fi
exit $FAILED
