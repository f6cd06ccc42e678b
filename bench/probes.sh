# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# The libpcap-based peers (and nfxdp, and the baselines) as the live
# sections run them on the receiving veth $IF_R of $NS_R, sourced after
# lib.sh by bench/sections/20-live.sh and 16-nicprobes.sh. The caller sets
# D (a scratch directory), G (the cgroup a tool runs in), PORT (NetFlow
# export port, bumped per collector); these set PID (the tool) and COL
# (nfcapd, for the NetFlow exporters).
#
in_r() { ip netns exec "$NS_R" "$@"; }

# A NetFlow collector (nfcapd) for the peers that only export NetFlow.
start_collector() {
	PORT=$((PORT + 1))
	# A directory of its own each time: nfcapd refuses one another nfcapd had.
	NFDIR=$D/nfcapd-$$-$PORT
	mkdir -p "$NFDIR"
	ip netns exec "$NS_R" nfcapd -B 134217728 -b 127.0.0.1 -p "$PORT" -w "$NFDIR" -t 3600 >"$D/collector.log" 2>&1 &
	COL=$!
	sleep 0.3
}

# start_TOOL: starts the tool in the cgroup $G, in the background; sets PID.
# stop_TOOL: makes it export everything and exit.
# count_TOOL: "frames flows" found in what it exported.
start_nfxdp() {
	(cg_exec "$G" "$B/nfxdp" --iface "$IF_R@$NS_R" --xdp-mode "${1:-native}" --no-zmq \
		--output "$D/flows.csv" --format csv -v) >"$D/tool.log" 2>&1 &
	PID=$!
}
stop_nfxdp() { kill -TERM "$PID"; }
start_nfxdp_generic() { start_nfxdp generic; }
stop_nfxdp_generic() { stop_nfxdp; }
count_nfxdp_generic() { count_nfxdp; }
count_nfxdp() {
	awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "bidirectional_packets") c = i; next }
		{ p += $c; n++ } END { print p + 0, n + 0 }' "$D/flows.csv"
}

nfdump_count() {
	nfdump -R "$NFDIR" -N 2>/dev/null | awk '/^Summary:/ {
		for (i = 1; i <= NF; i++) { if ($i == "flows:") f = $(i + 1); if ($i == "packets:") p = $(i + 1) }
		gsub(",", "", f); gsub(",", "", p); print p + 0, f + 0 }'
}

start_softflowd() {
	start_collector
	# The control socket is safe here: only -r with -c deletes it and blocks.
	(cg_exec "$G" ip netns exec "$NS_R" softflowd -d -i "$IF_R" -n "127.0.0.1:$PORT" -v 9 \
		-m 1000000 -c "$D/softflowd.ctl") >"$D/tool.log" 2>&1 &
	PID=$!
}
# SIGTERM makes softflowd 1.1.0 exit without exporting: shutdown does export.
stop_softflowd() { softflowctl -c "$D/softflowd.ctl" shutdown >/dev/null 2>&1 || kill -TERM "$PID"; }
count_softflowd() { nfdump_count; }

start_fprobe() {
	start_collector
	# -q: a large pending queue, or fprobe drops at this rate.
	(cg_exec "$G" ip netns exec "$NS_R" fprobe -l 2 -q 1000000 -i "$IF_R" -d 3600 -e 3600 \
		"127.0.0.1:$PORT") >"$D/tool.log" 2>&1 &
	PID=$!
}
stop_fprobe() { kill -TERM "$PID"; }
count_fprobe() { nfdump_count; }

start_nfpcapd() {
	NFDIR=$D/nfpcapd-$$
	mkdir -p "$NFDIR"
	(cg_exec "$G" ip netns exec "$NS_R" nfpcapd -i "$IF_R" -w "$NFDIR") >"$D/tool.log" 2>&1 &
	PID=$!
}
stop_nfpcapd() { kill -TERM "$PID"; }
count_nfpcapd() { nfdump_count; }

start_pmacctd() {
	(cg_exec "$G" ip netns exec "$NS_R" pmacctd -i "$IF_R" -P print -O csv -o "$D/pmacct.csv" \
		-r 3600 -c src_host,dst_host,src_port,dst_port,proto) >"$D/tool.log" 2>&1 &
	PID=$!
}
stop_pmacctd() { kill -INT "$PID"; }
count_pmacctd() {
	awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "PACKETS") c = i; next }
		{ p += $c; n++ } END { print p + 0, n + 0 }' "$D/pmacct.csv" 2>/dev/null
}

start_argus() {
	(cg_exec "$G" ip netns exec "$NS_R" argus -i "$IF_R" -w "$D/argus.out") >"$D/tool.log" 2>&1 &
	PID=$!
}
stop_argus() { kill -TERM "$PID"; }
count_argus() {
	ra -r "$D/argus.out" -n -s pkts - not man 2>/dev/null |
		awk '$1 ~ /^[0-9]+$/ { p += $1; n++ } END { print p + 0, n + 0 }'
}

start_ndpi() {
	(cg_exec "$G" ip netns exec "$NS_R" ndpiReader -i "$IF_R" -v 2 -C "$D/ndpi.csv") \
		>"$D/tool.log" 2>&1 &
	PID=$!
}
stop_ndpi() { kill -INT "$PID"; }
count_ndpi() {
	awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) { if ($i == "c_to_s_pkts") a = i; if ($i == "s_to_c_pkts") b = i }; next }
		{ p += $a + $b; n++ } END { print p + 0, n + 0 }' "$D/ndpi.csv" 2>/dev/null
}

start_tshark() {
	(cg_exec "$G" ip netns exec "$NS_R" tshark -i "$IF_R" -q -z conv,udp) >"$D/tool.log" 2>&1 &
	PID=$!
}
stop_tshark() { kill -INT "$PID"; }
count_tshark() {
	awk '$2 == "<->" { p += $10; n++ } END { print p + 0, n + 0 }' "$D/tool.log"
}

# An XDP program that only returns XDP_PASS, attached natively like nfxdp's:
# what the veth's XDP receive path costs before any metering.
start_xdp_pass() {
	local src=$WORK/xdp_pass.bpf.c
	printf '%s\n' 'struct xdp_md;' \
		'__attribute__((section("xdp"), used)) int xdp_pass(struct xdp_md *ctx) { return 2; /* XDP_PASS */ }' \
		'char _license[] __attribute__((section("license"), used)) = "GPL";' >"$src"
	clang -O2 -g -target bpf -c "$src" -o "$WORK/xdp_pass.bpf.o" &&
		ip -n "$NS_R" link set dev "$IF_R" xdpdrv obj "$WORK/xdp_pass.bpf.o" sec xdp
	PID=
}
stop_xdp_pass() { :; }
count_xdp_pass() {
	ip -n "$NS_R" link set dev "$IF_R" xdpdrv off
	echo "- -"
}

start_none() { PID=; }
stop_none() { :; }
count_none() { echo "- -"; }

ready() {
	local i
	for i in $(seq 100); do
		case $1 in
		none) return 0 ;;
		xdp_pass) ip -n "$NS_R" link show dev "$IF_R" | grep -q 'prog/xdp' && return 0 || return 1 ;;
		nfxdp*) grep -q '^nfxdp: metering' "$D/tool.log" && return 0 ;;
		*) capture_ready && return 0 ;;
		esac
		kill -0 "$PID" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}


# stop_tool TOOL: stop_TOOL, then up to 60 s for $PID to exit (killed past
# that); STOP_NOTE says so for the row. Not in a subshell: wait must reap it.
stop_tool() {
	local i
	STOP_NOTE=
	[ -n "$PID" ] || return 0
	"stop_$1"
	for i in $(seq 600); do
		kill -0 "$PID" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$PID" 2>/dev/null; then
		STOP_NOTE="killed: no exit 60 s after the stop signal; "
		kill -KILL "$PID"
	fi
	wait "$PID" 2>/dev/null
}

# stop_collector: nfcapd ($COL), once what the tool sent has arrived, with
# SIGTERM (a background job of a script ignores SIGINT, and nfcapd keeps that).
stop_collector() {
	local i
	[ -n "$COL" ] || return 0
	sleep 0.5
	kill -TERM "$COL"
	for i in $(seq 100); do
		kill -0 "$COL" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$COL" 2>/dev/null
	wait "$COL" 2>/dev/null
	COL=
}
