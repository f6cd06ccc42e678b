#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Misuse gets a clear message and a non-zero exit, never a crash: unknown
# interface, bad options, a busy endpoint, an interface already metered, a
# driver without native XDP (and the generic fallback), no privileges, an
# interface that goes away while metered.
SUITE=e2e-misuse
. "$(dirname "$0")/lib.sh"
need_root
setup_pair noipv6 || { fail "namespaces"; exit 1; }

# expect NAME STATUS PATTERN CMD...: exit status and a line of stderr. A
# command that does not exit within 20 s is stopped (status 124).
expect() {
	local name=$1 want=$2 pattern=$3
	shift 3
	timeout 20 "$@" >"$T/out" 2>"$T/err" </dev/null
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
port=$(free_port tcp)
"$NFXDP" --iface "vb@$NS_B" --zmq "tcp://127.0.0.1:$port" -v >"$T/tcp.log" 2>&1 &
tcp_pid=$!
PIDS+=("$tcp_pid")
wait_for 10 has_line "$T/tcp.log" '^nfxdp: metering' || cat "$T/tcp.log" >&2
expect "tcp endpoint in use" 1 "Address already in use" \
	"$NFXDP" --iface "lo@$NS_B" --xdp-mode generic --zmq "tcp://127.0.0.1:$port"
kill -INT "$tcp_pid"
wait_for 10 exited "$tcp_pid"
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

# A full disk: batches dropped and counted, the file cut back to whole
# batches, writing resumes once there is room, and the exit status says so.
mkdir "$T/small" && mount -t tmpfs -o size=16k tmpfs "$T/small" && CLEANUP+=("umount '$T/small'")
dd if=/dev/zero of="$T/small/filler" bs=1k count=64 2>/dev/null
IFACES="vb@$NS_B" start_nfxdp "$T/full.log" --output "$T/small/f.pb" --format pb \
	--idle-timeout 0.3 --poll-ms 100 --batch-ms 100 --stats 1 || fail "nfxdp on a full disk starts"
send_flows() {
	in_a "$INJECT" --iface va --smac 02:00:00:00:aa:01 --dmac 02:00:00:00:aa:02 \
		--src 198.18.0.1 --dst 198.18.0.2 --proto udp --dport 53 "$@"
}
# The three flows idle out (0.3 s), their batch does not fit.
send_flows --sport 5000 --flows 3 --count 3
wait_for 10 has_line "$T/full.log" "Couldn't write flows"
wait_for 10 stat_at_least "$T/full.log" flows_exported 3
rm "$T/small/filler"
send_flows --sport 6000 --flows 2 --count 4
wait_for 10 has_line "$T/full.log" "Writing flows to .* again"
wait_for 10 stat_at_least "$T/full.log" flows_exported 5
kill -TERM "$NFXDP_PID"
wait "$NFXDP_PID"
check "full disk: exit status" "$?" 1
check "full disk: message" \
	"$(grep -c "Couldn't write flows to $T/small/f.pb: No space left on device" "$T/full.log")" 1
check "full disk: writing resumes" "$(grep -c "Writing flows to $T/small/f.pb again" "$T/full.log")" 1
"$CAT" --input "$T/small/f.pb" --format csv >"$T/full.csv" 2>"$T/full.err"
check "full disk: the file holds whole batches only" "$?" 0
check "full disk: flows written once there was room" \
	"$($FLOWS "$T/full.csv" --get src_port,bidirectional_packets | sort | tr '\n' ' ')" "6000 2 6001 2 "
check "full disk: nfxdp-cat sees the dropped batches as a gap" \
	"$(grep -o 'gap: [0-9]*' "$T/full.err" | awk '{ n += $2 } END { print n + 0 }')" \
	"$(stat "$T/full.log" file_batches_dropped)"

# The interface goes away: a message, every flow exported, status 1.
IFACES="vb@$NS_B" start_nfxdp "$T/gone.log" --poll-ms 100 || fail "nfxdp on vb starts"
start_cat "$T/gone.csv"
in_a "$INJECT" --iface va --smac 02:00:00:00:aa:01 --dmac 02:00:00:00:aa:02 --src 198.18.0.1 \
	--dst 198.18.0.2 --proto udp --sport 4242 --dport 53 --count 4
ip -n "$NS_A" link del va
wait_for 10 exited "$NFXDP_PID"
stop_nfxdp
check "interface gone: exit status" "$NFXDP_STATUS" 1
check "interface gone: message" "$(grep -c "vb@$NS_B went away: no longer metered" "$T/gone.log")" 1
check "interface gone: says it exits" "$(grep -c 'no interface left to meter' "$T/gone.log")" 1
check "interface gone: the flow metered before is exported" \
	"$($FLOWS "$T/gone.csv" --get src_port,bidirectional_packets,expiration_id)" "4242 4 4"
exit $FAILED
