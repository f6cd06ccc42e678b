# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Shared by the end-to-end tests: two network namespaces joined by a veth
# pair, nfxdp attached to both ends (each sees the frames the other sends),
# nfxdp-cat on an ipc endpoint, one cleanup path, and PASS/FAIL lines.
#
# Addresses: 198.18.0.0/15 (benchmarking) and fd00::/8 only.

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
B=${BUILD:-$TOP/build}
NFXDP=$B/nfxdp
CAT=$B/nfxdp-cat
INJECT=$B/tests/inject
FLOWS="python3 $TOP/tests/e2e/flows.py"
SUITE=${SUITE:-e2e}

T=$(mktemp -d /tmp/nfxdp-e2e.XXXXXX)
NS_A=nfxt-a-$$
NS_B=nfxt-b-$$
ENDPOINT=ipc://$T/flows.sock
PIDS=()
CLEANUP=() # commands run at exit, before $T goes
FAILED=0

pass() { echo "PASS $SUITE: $*"; }
fail() { echo "FAIL $SUITE: $*"; FAILED=1; }

# check NAME GOT WANT
check() {
	if [ "$2" = "$3" ]; then
		pass "$1"
	else
		fail "$1"
		echo "  got:  $2" >&2
		echo "  want: $3" >&2
	fi
}

cleanup() {
	local p
	for p in "${PIDS[@]}"; do
		kill "$p" 2>/dev/null
	done
	for p in "${PIDS[@]}"; do
		wait "$p" 2>/dev/null
	done
	ip netns del "$NS_A" 2>/dev/null
	ip netns del "$NS_B" 2>/dev/null
	for p in "${CLEANUP[@]}"; do
		eval "$p"
	done
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# make_pair: the namespaces and the veth pair, links down (nothing sent yet).
make_pair() {
	ip netns add "$NS_A" && ip netns add "$NS_B" || return 1
	ip link add va netns "$NS_A" type veth peer name vb netns "$NS_B" || return 1
}

# pair_up [noipv6]: nsA(va 198.18.0.1, fd00::1) <-> nsB(vb 198.18.0.2, fd00::2)
pair_up() {
	local ns dev
	for ns in "$NS_A" "$NS_B"; do
		dev=va; [ "$ns" = "$NS_B" ] && dev=vb
		# No duplicate address detection or router solicitations: the veth
		# exists already, so its own settings count, not just the defaults.
		ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.accept_dad=0 \
			net.ipv6.conf.default.accept_dad=0 net.ipv6.conf.all.router_solicitations=0 \
			net.ipv6.conf.default.router_solicitations=0 \
			"net.ipv6.conf.$dev.accept_dad=0" "net.ipv6.conf.$dev.router_solicitations=0"
		if [ "${1:-}" = noipv6 ]; then
			ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
				net.ipv6.conf.default.disable_ipv6=1
		fi
		ip -n "$ns" link set lo up
		ip -n "$ns" link set "$dev" mtu "${MTU:-1500}" up
	done
	ip -n "$NS_A" addr add 198.18.0.1/24 dev va
	ip -n "$NS_B" addr add 198.18.0.2/24 dev vb
	if [ "${1:-}" != noipv6 ]; then
		ip -n "$NS_A" addr add fd00::1/64 dev va nodad
		ip -n "$NS_B" addr add fd00::2/64 dev vb nodad
	fi
	# Static neighbours: no ARP or neighbour discovery in the counts.
	local ma mb
	ma=$(ip -n "$NS_A" -br link show va | awk '{print $3}')
	mb=$(ip -n "$NS_B" -br link show vb | awk '{print $3}')
	ip -n "$NS_A" neigh add 198.18.0.2 lladdr "$mb" dev va nud permanent
	ip -n "$NS_B" neigh add 198.18.0.1 lladdr "$ma" dev vb nud permanent
	if [ "${1:-}" != noipv6 ]; then
		ip -n "$NS_A" neigh add fd00::2 lladdr "$mb" dev va nud permanent
		ip -n "$NS_B" neigh add fd00::1 lladdr "$ma" dev vb nud permanent
	fi
}

# setup_pair [noipv6]: both steps.
setup_pair() {
	make_pair && pair_up "$@"
}

# start_nfxdp LOG [options...]: attached to both ends (or $IFACES); waits
# until it meters.
start_nfxdp() {
	local log=$1
	shift
	local ifaces=${IFACES:-"va@$NS_A,vb@$NS_B"}
	"$NFXDP" --iface "$ifaces" --zmq "$ENDPOINT" -v "$@" >"$log" 2>&1 &
	NFXDP_PID=$!
	PIDS+=("$NFXDP_PID")
	local i
	for i in $(seq 100); do
		grep -q '^nfxdp: metering' "$log" && return 0
		kill -0 "$NFXDP_PID" 2>/dev/null || break
		sleep 0.1
	done
	echo "nfxdp did not start:" >&2
	cat "$log" >&2
	return 1
}

# start_cat OUT [options...]: subscribes (CSV) before anything is exported.
start_cat() {
	local out=$1
	shift
	"$CAT" "$ENDPOINT" --format csv "$@" >"$out" &
	CAT_PID=$!
	PIDS+=("$CAT_PID")
	sleep 0.3
}

# stop_nfxdp: SIGTERM (detach, flush), then give nfxdp-cat the last batch.
stop_nfxdp() {
	kill -TERM "$NFXDP_PID" 2>/dev/null
	wait "$NFXDP_PID"
	NFXDP_STATUS=$?
	sleep 0.3
	kill -TERM "$CAT_PID" 2>/dev/null
	wait "$CAT_PID" 2>/dev/null
}

# stat LOG NAME: a counter from nfxdp's exit stats line.
stat() {
	grep -o " $2=[0-9]*" "$1" | tail -1 | cut -d= -f2
}

# in_a / in_b CMD...: run in a namespace.
in_a() { ip netns exec "$NS_A" "$@"; }
in_b() { ip netns exec "$NS_B" "$@"; }

# tx_packets NS DEV
tx_packets() {
	ip netns exec "$1" cat "/sys/class/net/$2/statistics/tx_packets"
}

need_root() {
	if [ "$(id -u)" -ne 0 ]; then
		if [ -n "${CI:-}" ]; then
			fail "$SUITE needs root (CI runs as root)"
			exit 1
		fi
		echo "SKIP $SUITE: needs root and BPF; run 'sudo make check'"
		exit 0
	fi
}

# The NFStream reference data (captures and NFStream's results): $NFSTREAM_REF,
# or ../shared/reference/nfstream beside the checkout, or /work/shared/....
nfstream_ref() {
	local d
	for d in "${NFSTREAM_REF:-}" "$TOP/../shared/reference/nfstream" /work/shared/reference/nfstream; do
		if [ -n "$d" ] && [ -d "$d/pcaps" ] && [ -d "$d/results" ]; then
			echo "$d"
			return 0
		fi
	done
	return 1
}

need_ref() {
	REF=$(nfstream_ref) && return 0
	if [ -n "${CI:-}" ]; then
		fail "$SUITE: NFStream reference data not found (set NFSTREAM_REF)"
		exit 1
	fi
	echo "SKIP $SUITE: NFStream reference data not found (set NFSTREAM_REF)"
	exit 0
}
