# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Shared by the end-to-end tests: two network namespaces joined by a veth
# pair, nfxdp attached to both ends' XDP (each sees the frames the other sends),
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

# --- waiting on conditions ----------------------------------------------------

now_us() { echo "${EPOCHREALTIME//[!0-9]/}"; }

# poll_until TIMEOUT_S CMD...: runs CMD every 50 ms until it succeeds;
# returns 1, quietly, when TIMEOUT_S seconds pass first (for a caller that
# says itself what did not come).
poll_until() {
	local timeout=$1 deadline
	shift
	deadline=$(($(now_us) + $(awk -v t="$timeout" 'BEGIN { printf "%d", t * 1000000 }')))
	until "$@"; do
		[ "$(now_us)" -lt "$deadline" ] || return 1
		sleep 0.05 # the polling period
	done
}

# wait_for TIMEOUT_S CMD...: poll_until, and when TIMEOUT_S seconds pass
# first, a FAIL line says what never came true.
wait_for() {
	poll_until "$@" && return 0
	fail "still not true after $1 s: ${*:2}"
	return 1
}

# Conditions for wait_for.
# exited PID: the process is gone.
exited() { ! kill -0 "$1" 2>/dev/null; }
# has_line FILE REGEX: FILE has a line matching REGEX (grep -E).
has_line() { grep -Eq -- "$2" "$1" 2>/dev/null; }
# lines FILE: its lines (0 when it does not exist yet).
lines() { if [ -f "$1" ]; then wc -l <"$1"; else echo 0; fi; }
# lines_at_least FILE N
lines_at_least() { [ "$(lines "$1")" -ge "$2" ]; }
# csv_rows FILE: the rows of a CSV of flows, its header not counted.
csv_rows() { local n; n=$(lines "$1"); echo $((n > 0 ? n - 1 : 0)); }
# rows_at_least FILE N
rows_at_least() { [ "$(csv_rows "$1")" -ge "$2" ]; }
# stat_at_least LOG NAME N: nfxdp's last stats line (--stats S) has NAME >= N.
stat_at_least() { local v; v=$(stat "$1" "$2"); [ "${v:-0}" -ge "$3" ]; }
# has_flow CSV COL=VAL...: a row of the CSV of flows has all these values.
has_flow() {
	local f=$1 a w=()
	shift
	for a; do w+=(--where "$a"); done
	[ "$($FLOWS "$f" "${w[@]}" --count 2>/dev/null || echo 0)" -gt 0 ]
}
# listening NS PROTO PORT: a socket listens (tcp) or is bound (udp) there.
listening() {
	local o=-Hltn
	[ "$2" = udp ] && o=-Hlun
	[ -n "$(ip netns exec "$1" ss $o "sport = :$3")" ]
}
# free_port udp|tcp: a loopback port nothing listens on now.
free_port() {
	python3 -c 'import socket,sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM if sys.argv[1] == "udp" else socket.SOCK_STREAM)
s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])' "$1"
}
# wait_log FILE PATTERN: until a daemon says it is ready (5 s at most); its
# log on stderr when it never does.
wait_log() {
	wait_for 5 has_line "$1" "$2" && return 0
	cat "$1" >&2
	return 1
}
# subscribers LOG: flow subscribers nfxdp last reported (-v), 0 before any.
subscribers() {
	grep -o '^nfxdp: [0-9]* flow subscriber(s)' "$1" 2>/dev/null | awk '{ n = $2 } END { print n + 0 }'
}
# subscribers_above LOG N
subscribers_above() { [ "$(subscribers "$1")" -gt "$2" ]; }

# start_nfxdp LOG [options...]: attached to both ends (or $IFACES); waits
# until it meters.
start_nfxdp() {
	local log=$1
	shift
	local ifaces=${IFACES:-"va@$NS_A:ingress,vb@$NS_B:ingress"}
	# Both ends of the pair: each frame once, where it is received (egress
	# too would count it again where it is sent).
	"$NFXDP" --iface "$ifaces" --zmq "$ENDPOINT" -v "$@" >"$log" 2>&1 &
	NFXDP_PID=$!
	NFXDP_LOG=$log
	PIDS+=("$NFXDP_PID")
	if wait_for 10 metering_or_exited "$log" "$NFXDP_PID" && has_line "$log" '^nfxdp: metering'; then
		return 0
	fi
	echo "nfxdp did not start:" >&2
	cat "$log" >&2
	return 1
}
metering_or_exited() { has_line "$1" '^nfxdp: metering' || exited "$2"; }

# start_cat OUT [options...]: subscribes (CSV) to the nfxdp of start_nfxdp
# before anything is exported: returns once nfxdp counts it.
start_cat() {
	local out=$1 before
	shift
	before=$(subscribers "$NFXDP_LOG")
	"$CAT" "$ENDPOINT" --format csv "$@" >"$out" &
	CAT_PID=$!
	CAT_OUT=$out
	PIDS+=("$CAT_PID")
	wait_for 10 subscribers_above "$NFXDP_LOG" "$before"
}

# stop_nfxdp: SIGTERM (detach, flush), then once nfxdp-cat has every flow
# nfxdp exported (its exit stats: flows_exported), stops nfxdp-cat.
stop_nfxdp() {
	local n
	kill -TERM "$NFXDP_PID" 2>/dev/null
	wait "$NFXDP_PID"
	NFXDP_STATUS=$?
	n=$(stat "$NFXDP_LOG" flows_exported)
	[ -z "$n" ] || wait_for 10 rows_at_least "$CAT_OUT" "$n"
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

# xdp_frames NS DEV: frames the XDP program on veth DEV has run on (veth
# counts them once a batch has been through the program: by then the meter
# has them).
xdp_frames() {
	ip netns exec "$1" ethtool -S "$2" | awk '/rx_queue_[0-9]+_xdp_packets:/ { n += $2 } END { print n + 0 }'
}
# xdp_frames_at_least NS DEV N
xdp_frames_at_least() { [ "$(xdp_frames "$1" "$2")" -ge "$3" ]; }

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

# need_tools TOOL...: tools (or files) a suite needs. make deps installs
# them (scripts/deps.sh), so in CI a missing one fails the suite; elsewhere
# it skips it.
need_tools() {
	local t
	for t in "$@"; do
		[ -e "$t" ] || command -v "$t" >/dev/null && continue
		if [ -n "${CI:-}" ]; then
			fail "$t not found (make deps installs it)"
			exit 1
		fi
		echo "SKIP $SUITE: $t not found (make deps installs it)"
		exit 0
	done
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
