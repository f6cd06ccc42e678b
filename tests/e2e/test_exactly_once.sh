#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Exactly once: two senders pinned to CPU 0 and CPU 1 send known frames over
# thousands of flows, a thousand of them shared (the same flow entry updated
# from both CPUs at once), while the collector expires flows every few ms
# (idle, active, natural, expiry on arrival, flush at the end). Per flow key
# and direction, the exported records add up to exactly what was sent.
#
# The veth pair has two queues and the senders bypass the qdisc, so each
# CPU's frames are metered on that CPU (checked from the per-CPU counters).
# Ticker flows send one frame every idle timeout, so a frame and the
# collector's expiry of its flow meet again and again.
#
# Scenarios: plain; --statistical --splt 8 (per-record consistency of the
# features too); both hooks: CPU 0's frames metered by TC egress as B sends
# them, CPU 1's by XDP as B receives them, into the same entries; cache pressure (--max-flows far below the flows: what is
# not exported is counted, lost_*, and with --overflow-export off
# flows_evicted_estimated), with one-frame flows (exact) and with shared
# flows of several frames.
#
# tests/soak/run.sh runs this with EO_SECONDS and friends raised.
SUITE=${SUITE:-e2e-exactly-once}
. "$(dirname "$0")/lib.sh"
need_root

SEND=$B/tests/flowsend
EO_SECONDS=${EO_SECONDS:-4}	 # traffic per scenario, seconds
EO_RATE=${EO_RATE:-30000}	 # frames/s of each bulk sender
EO_FLOWS=${EO_FLOWS:-3000}	 # flows of each bulk sender ...
EO_SHARED=${EO_SHARED:-1000}	 # ... of which this many are the other's too
EO_TICKERS=${EO_TICKERS:-200}	 # flows sending one frame per idle timeout, per CPU
EO_PRESSURE_FLOWS=${EO_PRESSURE_FLOWS:-20000} # one-frame flows per sender, cache pressure
EO_PRESSURE_CAP=${EO_PRESSURE_CAP:-2048}
EO_SCENARIOS=${EO_SCENARIOS:-"plain features both-hooks pressure pressure-shared"}
IDLE_MS=500
ACTIVE_MS=1000

if [ ! -x "$SEND" ]; then
	fail "build/tests/flowsend missing: make tests (tests/soak/soak.mk)"
	exit 1
fi
if [ "$(nproc)" -lt 2 ]; then
	fail "needs two CPUs, has $(nproc)"
	exit 1
fi

# The pair with two queues each way, so that each sender's CPU is the
# metering CPU. No IPv6 on the links: the kernel sends nothing of its own
# (IPv6 frames are still crafted and metered).
make_mq_pair() {
	ip netns add "$NS_A" && ip netns add "$NS_B" || return 1
	ip link add va numtxqueues 2 numrxqueues 2 netns "$NS_A" type veth \
		peer name vb numtxqueues 2 numrxqueues 2 netns "$NS_B" || return 1
	pair_up noipv6
}

# counters_map PID: the id of that nfxdp's per-CPU counters map.
counters_map() {
	local fd id
	for fd in /proc/"$1"/fdinfo/*; do
		id=$(awk '/^map_id:/ { print $2 }' "$fd" 2>/dev/null)
		[ -n "$id" ] || continue
		bpftool map show id "$id" 2>/dev/null | grep -q ' name counters ' && echo "$id" && return
	done
}

# percpu_frames MAP_ID: frames_seen of CPU 0 and CPU 1, both hooks (the
# first counter of each CPU's value in bpftool's BTF-formatted dump: a key
# per hook, a value per CPU).
percpu_frames() {
	bpftool map dump id "$1" 2>/dev/null | grep -o '"c": \[[0-9]*' | grep -o '[0-9]*$' |
		awk -v n="$(nproc)" '{ i = (NR - 1) % n; if (i < 2) c[i] += $1 } END { print c[0] + 0, c[1] + 0 }'
}

# lines_as_many A B: A has as many lines as B, or more.
lines_as_many() { [ "$(lines "$1")" -ge "$(lines "$2")" ]; }

# frames_are MAP_ID TOTAL: the meter's CPUs saw TOTAL frames in all.
frames_are() { [ "$(percpu_frames "$1" | awk '{ print $1 + $2 }')" = "$2" ]; }

# settle_frames MAP_ID TOTAL: waits (10 s at most) until the meter has
# seen TOTAL frames, so none is still queued on the veth when nfxdp
# detaches. (Not in $(...): a FAIL line must reach the suite's output.)
settle_frames() {
	wait_for 10 frames_are "$1" "$2"
}

# start_sub DIR: nfxdp-cat (CSV) on the stream, its gap reports in
# DIR/cat.err; returns once nfxdp counts it.
start_sub() {
	local before
	before=$(subscribers "$NFXDP_LOG")
	"$CAT" "$ENDPOINT" --format csv >"$1/zmq.csv" 2>"$1/cat.err" &
	CAT_PID=$!
	PIDS+=("$CAT_PID")
	wait_for 10 subscribers_above "$NFXDP_LOG" "$before"
}

# stop_int DIR: SIGINT (detach, flush), then nfxdp-cat gets until it has
# printed as many lines as the file sink holds (20 s at most).
stop_int() {
	kill -INT "$NFXDP_PID" 2>/dev/null
	wait "$NFXDP_PID"
	NFXDP_STATUS=$?
	wait_for 20 lines_as_many "$1/zmq.csv" "$1/flows.csv"
	kill -TERM "$CAT_PID" 2>/dev/null
	wait "$CAT_PID" 2>/dev/null
}

# Adds up sender reports and records per flow key and direction; prints
# name=value lines. --statistical, --splt N: also checks each record's
# features against its own counts.
cat >"$T/eocheck.py" <<'EOF'
import argparse, collections, csv, ipaddress, json, sys

ap = argparse.ArgumentParser()
ap.add_argument("records")
ap.add_argument("reports", nargs="+")
ap.add_argument("--splt", type=int, default=0)
ap.add_argument("--statistical", action="store_true")
a = ap.parse_args()

def ep(ip, port):
    return (ipaddress.ip_address(ip), int(port))

def canon(proto, x, y):
    return (int(proto),) + ((x, y) if x <= y else (y, x))

# sent[key][endpoint that sent] = [packets, bytes]
sent = collections.defaultdict(lambda: collections.defaultdict(lambda: [0, 0]))
for path in a.reports:
    for line in open(path):
        v, proto, sip, sport, dip, dport, fp, fb, rp, rb = line.split()
        s, d = ep(sip, sport), ep(dip, dport)
        k = canon(proto, s, d)
        for who, p, b in ((s, fp, fb), (d, rp, rb)):
            sent[k][who][0] += int(p)
            sent[k][who][1] += int(b)

got = collections.defaultdict(lambda: collections.defaultdict(lambda: [0, 0]))
records = bad_splt = bad_stats = odd = 0
with open(a.records, newline="") as f:
    for r in csv.DictReader(f):
        records += 1
        if r["vlan_id"] != "0" or r["tunnel_id"] != "0":
            odd += 1
        s, d = ep(r["src_ip"], r["src_port"]), ep(r["dst_ip"], r["dst_port"])
        k = canon(r["protocol"], s, d)
        for who, p, b in ((s, "src2dst_packets", "src2dst_bytes"),
                          (d, "dst2src_packets", "dst2src_bytes")):
            got[k][who][0] += int(r[p])
            got[k][who][1] += int(r[b])
        n = int(r["bidirectional_packets"])
        if a.splt:
            ps = json.loads(r["splt_ps"])
            dirs = json.loads(r["splt_direction"])
            filled = [x for x in ps if x != -1]
            ok = len(ps) == a.splt and len(filled) == min(n, a.splt)
            if ok and n <= a.splt:
                ok = (sum(filled) == int(r["bidirectional_bytes"])
                      and dirs.count(0) == int(r["src2dst_packets"])
                      and dirs.count(1) == int(r["dst2src_packets"]))
            bad_splt += not ok
        if a.statistical:
            ok = int(r["bidirectional_min_ps"]) <= int(r["bidirectional_max_ps"])
            for d_ in ("bidirectional", "src2dst", "dst2src"):
                pk, by = int(r[d_ + "_packets"]), int(r[d_ + "_bytes"])
                if pk:
                    ok = ok and round(float(r[d_ + "_mean_ps"]) * pk) == by
            ok = ok and (int(r["bidirectional_syn_packets"]) ==
                         int(r["src2dst_syn_packets"]) + int(r["dst2src_syn_packets"]))
            bad_stats += not ok

mismatched = over = missing = 0
examples = []
for k in sent:
    for who in set(sent[k]) | set(got.get(k, {})):
        s_, g_ = sent[k][who], got[k][who] if k in got else [0, 0]
        if s_ != g_:
            mismatched += 1
            if len(examples) < 5:
                examples.append(f"  {k[0]} {k[1][0]}:{k[1][1]} <-> {k[2][0]}:{k[2][1]}"
                                f" from {who[0]}:{who[1]}: sent {s_}, exported {g_}")
        if g_[0] > s_[0] or g_[1] > s_[1]:
            over += 1
    if k not in got:
        missing += 1
unexpected = len(set(got) - set(sent))
for e in examples:
    print(e, file=sys.stderr)

tot = lambda m, i: sum(v[i] for d in m.values() for v in d.values())
print(f"keys_sent={len(sent)}")
print(f"keys_exported={len(got)}")
print(f"keys_unexpected={unexpected}")
print(f"keys_missing={missing}")
print(f"directions_mismatched={mismatched}")
print(f"directions_over={over}")
print(f"packets_sent={tot(sent, 0)}")
print(f"bytes_sent={tot(sent, 1)}")
print(f"packets_exported={tot(got, 0)}")
print(f"bytes_exported={tot(got, 1)}")
print(f"records={records}")
print(f"records_odd_key={odd}")
print(f"records_bad_splt={bad_splt}")
print(f"records_bad_stats={bad_stats}")
EOF

# statz LOG NAME: a counter of nfxdp's exit stats; 0 when it is not printed
# (zero frame counters are left out).
statz() {
	local v
	v=$(stat "$1" "$2")
	echo "${v:-0}"
}

# val FILE NAME: a name=value of the checker's output.
val() {
	sed -n "s/^$2=//p" "$1"
}

# reasons CSV: records per expiration id, "idle active natural emergency flush overflow".
reasons() {
	python3 -c '
import csv, sys
n = [0] * 6
for r in csv.DictReader(open(sys.argv[1], newline="")):
    n[int(r["expiration_id"])] += 1
print(*n)' "$1"
}

# wait_senders PID...: waits for every sender; SENDER_STATUS 1 if one failed.
wait_senders() {
	local p
	PIDS+=("$@")
	SENDER_STATUS=0
	for p in "$@"; do
		wait "$p" || SENDER_STATUS=1
	done
}

# run_senders DIR: the bulk senders on CPU 0 and 1 and a ticker group on
# each, all at once; their reports in DIR/*.rep. With EO_CPU0_EGRESS set,
# CPU 0's senders send from B through vb's qdisc layer (its TC egress hook
# meters them, on CPU 0) while CPU 1's arrive at vb's XDP: both hooks
# update the shared flows at once.
run_senders() {
	local d=$1 per_flow ticks pids=()
	local common=(--iface va --tcp-every 2 --reverse-every 3 --v6-every 5 --rst-every 24)
	local cpu0=(ip netns exec "$NS_A" "$SEND" "${common[@]}")

	[ -n "${EO_CPU0_EGRESS:-}" ] &&
		cpu0=(ip netns exec "$NS_B" "$SEND" "${common[@]:2}" --iface vb --qdisc)
	per_flow=$((EO_RATE * EO_SECONDS / EO_FLOWS))
	ticks=$((EO_SECONDS * 1000 / IDLE_MS + 1))
	taskset -c 0 "${cpu0[@]}" --first 0 --flows "$EO_FLOWS" \
		--per-flow "$per_flow" --rate "$EO_RATE" --report "$d/bulk0.rep" 2>>"$d/send.log" &
	pids+=($!)
	taskset -c 1 ip netns exec "$NS_A" "$SEND" "${common[@]}" --first $((EO_FLOWS - EO_SHARED)) \
		--flows "$EO_FLOWS" --per-flow "$per_flow" --rate "$EO_RATE" \
		--report "$d/bulk1.rep" 2>>"$d/send.log" &
	pids+=($!)
	# One frame of each ticker flow every IDLE_MS: rate = flows / idle.
	taskset -c 0 "${cpu0[@]}" --first 200000 \
		--flows "$EO_TICKERS" --per-flow "$ticks" --rate $((EO_TICKERS * 1000 / IDLE_MS)) \
		--report "$d/tick0.rep" 2>>"$d/send.log" &
	pids+=($!)
	taskset -c 1 ip netns exec "$NS_A" "$SEND" "${common[@]}" --first 300000 \
		--flows "$EO_TICKERS" --per-flow "$ticks" --rate $((EO_TICKERS * 1000 / IDLE_MS)) \
		--report "$d/tick1.rep" 2>>"$d/send.log" &
	pids+=($!)
	wait_senders "${pids[@]}"
}

# frames_in REPORTS...: frames the reports say were sent.
frames_in() {
	cat "$@" | awk '{ n += $7 + $9 } END { print n + 0 }'
}

# scenario NAME [nfxdp options...]: traffic from both CPUs, then the sums.
scenario() {
	local name=$1
	shift
	local d=$T/$name idle active
	mkdir -p "$d"
	idle=$(printf '%d.%03d' $((IDLE_MS / 1000)) $((IDLE_MS % 1000)))
	active=$(printf '%d.%03d' $((ACTIVE_MS / 1000)) $((ACTIVE_MS % 1000)))
	start_nfxdp "$d/nfxdp.log" --idle-timeout "$idle" --active-timeout "$active" \
		--natural-linger 0.2 --poll-ms 10 --batch-ms 100 --max-flows 65536 \
		--output "$d/flows.csv" --stats 1 "$@" ||
		{ fail "$name: nfxdp starts"; return 1; }
	start_sub "$d"
	local map cpus
	map=$(counters_map "$NFXDP_PID")
	run_senders "$d"
	settle_frames "$map" "$(frames_in "$d"/*.rep)"
	cpus=$(percpu_frames "$map")
	# A last burst, so that flows are still open at the flush.
	taskset -c 0 ip netns exec "$NS_A" "$SEND" --iface va --tcp-every 2 --first 400000 \
		--flows 100 --per-flow 2 --report "$d/last.rep" 2>>"$d/send.log"
	settle_frames "$map" "$(frames_in "$d"/*.rep)"
	stop_int "$d"
	python3 "$T/eocheck.py" "$d/flows.csv" "$d"/*.rep "${EO_CHECK_ARGS[@]}" >"$d/check.txt" \
		2>"$d/check.err"

	check "$name: senders ran" "$SENDER_STATUS $NFXDP_STATUS" "0 0"
	check "$name: frames metered on CPU 0 and CPU 1 = frames each CPU sent" "$cpus" \
		"$(frames_in "$d/bulk0.rep" "$d/tick0.rep") $(frames_in "$d/bulk1.rep" "$d/tick1.rep")"
	check "$name: frames seen = frames sent" "$(statz "$d/nfxdp.log" frames_seen)" \
		"$(val "$d/check.txt" packets_sent)"
	[ -n "${EO_CPU0_EGRESS:-}" ] &&
		check "$name: TC egress metered CPU 0's frames, XDP the rest" \
			"$(statz "$d/nfxdp.log" egress_frames_metered) $(statz "$d/nfxdp.log" ingress_frames_metered)" \
			"$(frames_in "$d/bulk0.rep" "$d/tick0.rep") $(($(frames_in "$d"/*.rep) - $(frames_in "$d/bulk0.rep" "$d/tick0.rep")))"
	check "$name: every key sent is exported, no other" \
		"$(val "$d/check.txt" keys_exported) $(val "$d/check.txt" keys_unexpected)" \
		"$(val "$d/check.txt" keys_sent) 0"
	check "$name: no record with a VLAN or tunnel id" "$(val "$d/check.txt" records_odd_key)" 0
	check "$name: packets and bytes per key and direction = sent" \
		"$(val "$d/check.txt" directions_mismatched)" 0
	[ -s "$d/check.err" ] && sed 's/^/# /' "$d/check.err"
	check "$name: packets exported = sent" "$(val "$d/check.txt" packets_exported)" \
		"$(val "$d/check.txt" packets_sent)"
	check "$name: bytes exported = sent" "$(val "$d/check.txt" bytes_exported)" \
		"$(val "$d/check.txt" bytes_sent)"
	check "$name: records = flows created = flows exported" \
		"$(val "$d/check.txt" records) $(statz "$d/nfxdp.log" flows_exported)" \
		"$(statz "$d/nfxdp.log" flows_created) $(statz "$d/nfxdp.log" flows_created)"
	local lost
	lost="$(statz "$d/nfxdp.log" lost_insert_failed) $(statz "$d/nfxdp.log" lost_busy)"
	lost+=" $(statz "$d/nfxdp.log" flows_evicted_estimated)"
	lost+=" $(grep -c 'could not be flushed' "$d/nfxdp.log")"
	check "$name: nothing lost, evicted or left unflushed" "$lost" "0 0 0 0"
	check "$name: the ZeroMQ stream carried the same records, no gap" \
		"$(md5sum <"$d/zmq.csv") $(grep -c gap "$d/cat.err")" "$(md5sum <"$d/flows.csv") 0"
	local r
	read -r -a r <<<"$(reasons "$d/flows.csv")"
	# Flush is not asserted: a stall of half a second before SIGINT would idle
	# the last burst out first. Its count is in the figures.
	check "$name: idle, active, natural and on-arrival expiry all happened" \
		"$([ "${r[0]}" -gt 0 ] && [ "${r[1]}" -gt 0 ] && [ "${r[2]}" -gt 0 ] &&
			[ "$(statz "$d/nfxdp.log" expired_on_arrival)" -gt 0 ] && echo yes)" yes
	[ -n "${EO_CHECK_ARGS[*]}" ] &&
		check "$name: features consistent in every record (splt, sizes, flags)" \
			"$(val "$d/check.txt" records_bad_splt) $(val "$d/check.txt" records_bad_stats)" \
			"0 0"
	figures "$name" "$d" "${r[*]}"
}

# figures NAME DIR REASONS: one line for the reliability report.
figures() {
	echo "# figures $1: sent=$(val "$2/check.txt" packets_sent)" \
		"exported=$(val "$2/check.txt" packets_exported)" \
		"bytes_sent=$(val "$2/check.txt" bytes_sent) bytes_exported=$(val "$2/check.txt" bytes_exported)" \
		"keys=$(val "$2/check.txt" keys_sent) records=$(val "$2/check.txt" records)" \
		"by_reason(idle,active,natural,emergency,flush,overflow)=${3// /,}" \
		"expired_on_arrival=$(statz "$2/nfxdp.log" expired_on_arrival)" \
		"expiry_deferred=$(statz "$2/nfxdp.log" expiry_deferred)" \
		"lost_busy=$(statz "$2/nfxdp.log" lost_busy) lost_insert_failed=$(statz "$2/nfxdp.log" lost_insert_failed)" \
		"lost_overflow_ring_full=$(statz "$2/nfxdp.log" lost_overflow_ring_full)" \
		"evicted=$(statz "$2/nfxdp.log" flows_evicted_estimated)" \
		"emergency_runs=$(statz "$2/nfxdp.log" emergency_runs) scans=$(statz "$2/nfxdp.log" scans)"
	grep -h '^flowsend:' "$2/send.log" | sed 's/^/#   /'
}

# pressure: one-frame flows from both CPUs as fast as they go into a cache
# far too small. Each flow holds one frame, so every frame not exported is a
# counted one: lost_insert_failed + lost_busy + lost_overflow_ring_full +
# flows_evicted_estimated (0 with overflow export, the default: a flow the
# full cache has no room for is a one-packet record, expiration_id 5).
pressure() {
	local d=$T/pressure pids=()
	mkdir -p "$d"
	start_nfxdp "$d/nfxdp.log" --idle-timeout 60 --poll-ms 10 --batch-ms 100 \
		--max-flows "$EO_PRESSURE_CAP" --output "$d/flows.csv" ||
		{ fail "pressure: nfxdp starts"; return 1; }
	start_sub "$d"
	local map cpus
	map=$(counters_map "$NFXDP_PID")
	taskset -c 0 ip netns exec "$NS_A" "$SEND" --iface va --first 0 --flows "$EO_PRESSURE_FLOWS" \
		--per-flow 1 --report "$d/p0.rep" 2>>"$d/send.log" &
	pids+=($!)
	taskset -c 1 ip netns exec "$NS_A" "$SEND" --iface va --first "$EO_PRESSURE_FLOWS" \
		--flows "$EO_PRESSURE_FLOWS" --per-flow 1 --v6-every 5 --report "$d/p1.rep" 2>>"$d/send.log" &
	pids+=($!)
	wait_senders "${pids[@]}"
	settle_frames "$map" "$(frames_in "$d"/*.rep)"
	cpus=$(percpu_frames "$map")
	stop_int "$d"
	python3 "$T/eocheck.py" "$d/flows.csv" "$d"/*.rep >"$d/check.txt" 2>/dev/null

	local lost_i lost_b lost_o evicted counted
	lost_i=$(statz "$d/nfxdp.log" lost_insert_failed)
	lost_b=$(statz "$d/nfxdp.log" lost_busy)
	lost_o=$(statz "$d/nfxdp.log" lost_overflow_ring_full)
	evicted=$(statz "$d/nfxdp.log" flows_evicted_estimated)
	counted=$((${lost_i:-0} + ${lost_b:-0} + ${lost_o:-0} + ${evicted:-0}))
	check "pressure: senders ran" "$SENDER_STATUS $NFXDP_STATUS" "0 0"
	check "pressure: frames metered on CPU 0 and CPU 1 = frames each CPU sent" "$cpus" \
		"$(frames_in "$d/p0.rep") $(frames_in "$d/p1.rep")"
	check "pressure: frames seen = frames sent" "$(statz "$d/nfxdp.log" frames_seen)" \
		"$(val "$d/check.txt" packets_sent)"
	check "pressure: no key exported more than sent, no other key" \
		"$(val "$d/check.txt" directions_over) $(val "$d/check.txt" keys_unexpected)" "0 0"
	check "pressure: packets exported + counted lost = sent" \
		"$(($(val "$d/check.txt" packets_exported) + counted))" "$(val "$d/check.txt" packets_sent)"
	check "pressure: flows not exported = counted lost" "$(val "$d/check.txt" keys_missing)" "$counted"
	check "pressure: overflow export: the LRU evicted nothing" "$evicted" 0
	check "pressure: records = flows exported" "$(val "$d/check.txt" records)" \
		"$(statz "$d/nfxdp.log" flows_exported)"
	check "pressure: nothing left unflushed" "$(grep -c 'could not be flushed' "$d/nfxdp.log")" 0
	check "pressure: the ZeroMQ stream carried the same records, no gap" \
		"$(md5sum <"$d/zmq.csv") $(grep -c gap "$d/cat.err")" "$(md5sum <"$d/flows.csv") 0"
	figures pressure "$d" "$(reasons "$d/flows.csv")"
}

# pressure_shared: flows of several frames, half of them sent from both
# CPUs, into a cache far too small. A flow the kernel's LRU evicts takes
# its frames with it, so the frames not exported (nor counted lost) are at
# least as many as the flows evicted, and none when nothing was evicted; no
# key and direction may be exported with more than was sent (a writer still
# inside an evicted entry must not count into the flow that entry is
# recycled for). With overflow export (the default) nothing is evicted: a
# flow's frames may leave in several records (overflow ones, expiration_id
# 5), and every frame is in one of them or counted lost.
pressure_shared() {
	local d=$T/pressure-shared pids=() flows=$((EO_PRESSURE_CAP * 2))
	local common=(--iface va --flows "$flows" --per-flow 8 --tcp-every 2 --reverse-every 3 --v6-every 5)
	mkdir -p "$d"
	start_nfxdp "$d/nfxdp.log" --idle-timeout 60 --poll-ms 10 --batch-ms 100 \
		--max-flows "$EO_PRESSURE_CAP" --output "$d/flows.csv" ||
		{ fail "pressure-shared: nfxdp starts"; return 1; }
	start_sub "$d"
	local map cpus
	map=$(counters_map "$NFXDP_PID")
	taskset -c 0 ip netns exec "$NS_A" "$SEND" "${common[@]}" --first 0 \
		--report "$d/p0.rep" 2>>"$d/send.log" &
	pids+=($!)
	taskset -c 1 ip netns exec "$NS_A" "$SEND" "${common[@]}" --first $((flows / 2)) \
		--report "$d/p1.rep" 2>>"$d/send.log" &
	pids+=($!)
	wait_senders "${pids[@]}"
	settle_frames "$map" "$(frames_in "$d"/*.rep)"
	cpus=$(percpu_frames "$map")
	stop_int "$d"
	python3 "$T/eocheck.py" "$d/flows.csv" "$d"/*.rep >"$d/check.txt" 2>/dev/null

	local evicted gone
	evicted=$(statz "$d/nfxdp.log" flows_evicted_estimated)
	gone=$(($(val "$d/check.txt" packets_sent) - $(val "$d/check.txt" packets_exported) -
		$(statz "$d/nfxdp.log" lost_insert_failed) - $(statz "$d/nfxdp.log" lost_busy) -
		$(statz "$d/nfxdp.log" lost_overflow_ring_full)))
	check "pressure-shared: senders ran" "$SENDER_STATUS $NFXDP_STATUS" "0 0"
	check "pressure-shared: frames metered on CPU 0 and CPU 1 = frames each CPU sent" "$cpus" \
		"$(frames_in "$d/p0.rep") $(frames_in "$d/p1.rep")"
	check "pressure-shared: frames seen = frames sent" "$(statz "$d/nfxdp.log" frames_seen)" \
		"$(val "$d/check.txt" packets_sent)"
	check "pressure-shared: no key and direction exported with more than sent, no other key" \
		"$(val "$d/check.txt" directions_over) $(val "$d/check.txt" keys_unexpected)" "0 0"
	check "pressure-shared: frames not exported >= flows evicted, none if none evicted" \
		"$([ "$gone" -ge "$evicted" ] && { [ "$evicted" -gt 0 ] || [ "$gone" -eq 0 ]; } && echo yes)" yes
	check "pressure-shared: overflow export: nothing evicted, every frame exported or counted" \
		"$evicted $gone" "0 0"
	check "pressure-shared: records = flows exported" "$(val "$d/check.txt" records)" \
		"$(statz "$d/nfxdp.log" flows_exported)"
	check "pressure-shared: nothing left unflushed" "$(grep -c 'could not be flushed' "$d/nfxdp.log")" 0
	check "pressure-shared: the ZeroMQ stream carried the same records, no gap" \
		"$(md5sum <"$d/zmq.csv") $(grep -c gap "$d/cat.err")" "$(md5sum <"$d/flows.csv") 0"
	figures pressure-shared "$d" "$(reasons "$d/flows.csv")"
	echo "#   frames in evicted flows: $gone"
}

make_mq_pair || { fail "namespaces"; exit 1; }
for sc in $EO_SCENARIOS; do
	case $sc in
	plain)
		EO_CHECK_ARGS=()
		scenario plain
		;;
	features)
		EO_CHECK_ARGS=(--statistical --splt 8)
		scenario features --statistical --splt 8
		;;
	both-hooks)
		EO_CHECK_ARGS=(--statistical --splt 8)
		EO_CPU0_EGRESS=1 IFACES="vb@$NS_B:both" scenario both-hooks --statistical --splt 8
		;;
	pressure)
		pressure
		;;
	pressure-shared)
		pressure_shared
		;;
	esac
done
exit $FAILED
