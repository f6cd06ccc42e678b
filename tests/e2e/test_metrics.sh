#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# The health and metrics endpoint (user/metrics.c) through its test driver
# tests/tools/metrics_demo, which publishes known snapshots the way the
# collector does after each poll: exact values, the Prometheus text format
# checked by prometheus_client's own parser, /healthz before, during and
# after publishing, loopback by default, busy port and bad address messages.
# Everything listens and connects inside a private network namespace.
SUITE=e2e-metrics
. "$(dirname "$0")/lib.sh"
need_root

DEMO=$B/tests/metrics_demo
PY=${PYTHON:-/usr/bin/python3} # Debian's python3-prometheus-client lives there

if [ ! -x "$DEMO" ]; then
	make -s -C "$TOP" -f Makefile -f deploy/deploy.mk BUILD="$B" "$DEMO" >&2 ||
		{ fail "metrics_demo builds"; exit 1; }
fi
"$PY" -c 'import prometheus_client.parser' 2>/dev/null ||
	{ fail "python3-prometheus-client is installed (apt-get install python3-prometheus-client)"; exit 1; }

ip netns add "$NS_A" && ip -n "$NS_A" link set lo up || { fail "namespace"; exit 1; }

# demo LOG ARGS...: the driver in the namespace, in the background.
demo() {
	local log=$1
	shift
	# ip netns exec replaces itself with the driver: $! is the driver.
	ip netns exec "$NS_A" "$DEMO" "$@" >"$log.out" 2>"$log.err" &
	DEMO_PID=$!
	PIDS+=("$DEMO_PID")
}

# get PATH [curl options]: prints "CODE BODY" (body on one line).
get() {
	local path=$1
	shift
	local code
	code=$(in_a curl -s --max-time 3 -o "$T/body" -w '%{http_code}' "$@" "http://127.0.0.1:9101$path")
	echo "$code $(tr '\n' ' ' <"$T/body" | sed 's/ $//')"
}

stop_demo() {
	kill "$DEMO_PID" 2>/dev/null
	wait "$DEMO_PID" 2>/dev/null
}

# --- before, during and after publishing -----------------------------------------
demo "$T/main" 127.0.0.1:9101 --poll-ms 500 --polls 5 --wait-ms 1500
wait_for 10 has_line "$T/main.err" "^metrics_demo: metrics on" || { fail "driver starts"; cat "$T/main.err" >&2; exit 1; }
check "healthz before the first poll" "$(get /healthz)" "503 the collector has not polled yet"
wait_for 10 has_line "$T/main.out" "published 5" || fail "driver publishes 5 snapshots"
check "healthz while polling" "$(get /healthz)" "200 ok"
in_a curl -s --max-time 3 -D "$T/headers" -o "$T/metrics.txt" http://127.0.0.1:9101/metrics
check "metrics content type" "$(grep -i '^content-type:' "$T/headers" | tr -d '\r')" \
	"Content-Type: text/plain; version=0.0.4; charset=utf-8"

# A client that connects and never sends (until the suite ends) must not
# hold up anyone else.
ip netns exec "$NS_A" bash -c 'exec 3<>/dev/tcp/127.0.0.1/9101; exec sleep infinity' &
PIDS+=($!)
stalled() { [ -n "$(in_a ss -Htn state established 'dport = :9101')" ]; }
wait_for 10 stalled
# (Other requests than healthz: it goes stale 1.5 s after the 5th poll.)
check "a stalled client does not block others" "$(get /metrics | cut -d' ' -f1)" 200

check "unknown path" "$(get /nope | cut -d' ' -f1)" 404
check "POST refused" "$(get /metrics -X POST | cut -d' ' -f1)" 405
check "HEAD answered" "$(get /metrics -I | cut -d' ' -f1)" 200

# --- the text format, parsed by prometheus_client, and exact values ---------------
"$DEMO" --print-counters >"$T/counters.txt"
"$PY" - "$T/metrics.txt" "$T/counters.txt" >"$T/checks.txt" 2>&1 <<'EOF'
import re
import sys
from prometheus_client.parser import text_string_to_metric_families

text = open(sys.argv[1]).read()
counters = dict(l.split() for l in open(sys.argv[2]))
out = []

def check(name, got, want):
    out.append("%s\t%s\t%s" % (name, got, want))

try:
    families = list(text_string_to_metric_families(text))
    check("prometheus_client parses the text", "ok", "ok")
except Exception as e:  # the parser's complaint is the test's message
    check("prometheus_client parses the text", repr(e), "ok")
    families = []

samples = {}
for f in families:
    for s in f.samples:
        key = s.name + "".join(",%s=%s" % kv for kv in sorted(s.labels.items()))
        samples[key] = s.value

helps = re.findall(r"^# HELP (\S+) ", text, re.M)
types = dict(re.findall(r"^# TYPE (\S+) (\S+)$", text, re.M))
check("every family has HELP and TYPE", sorted(helps) == sorted(types), True)
check("every name starts with nfxdp_",
      [n for n in types if not n.startswith("nfxdp_")], [])
check("counters end in _total",
      [n for n, t in types.items() if t == "counter" and not n.endswith("_total")], [])
names = {l.split("{")[0].split(" ")[0] for l in text.splitlines() if l and l[0] != "#"}
fams = set(types)
hist = {n + sfx for n, t in types.items() if t == "histogram" for sfx in ("_bucket", "_sum", "_count")}
check("every sample belongs to a family", sorted(names - fams - hist), [])

def v(key):
    x = samples.get(key)
    return "missing" if x is None else ("%g" % x)

# Every meter counter, under its own name or as a reason label.
for name, want in counters.items():
    if name.startswith("ignored_"):
        key = "nfxdp_frames_ignored_total,reason=" + name
    elif name.startswith("lost_"):
        key = "nfxdp_frames_lost_total,reason=" + name
    else:
        key = "nfxdp_%s_total" % name
    check("counter " + name, v(key), want)

for i, r in enumerate(["idle", "active", "natural", "emergency", "flush", "overflow"]):
    check("closed " + r, v("nfxdp_flows_closed_total,expiration_id=%d,reason=%s" % (i, r)), i + 2)
    check("exported " + r, v("nfxdp_flows_exported_total,expiration_id=%d,reason=%s" % (i, r)), i + 1)
check("evicted estimate", v("nfxdp_flows_evicted_estimated_total"),
      int(counters["flows_created"]) - 20 - 6)
check("flows active", v("nfxdp_flows_active"), 6)
check("flow map entries", v("nfxdp_flow_map_entries"), 6)
check("flow map capacity", v("nfxdp_flow_map_capacity"), 1024)
check("zmq batches", v("nfxdp_export_batches_sent_total,exporter=zmq") + " " +
      v("nfxdp_export_batches_dropped_total,exporter=zmq"), "9 2")
check("file batches", v("nfxdp_export_batches_sent_total,exporter=file") + " " +
      v("nfxdp_export_batches_dropped_total,exporter=file"), "4 0")
check("zmq records", v("nfxdp_export_records_sent_total,exporter=zmq") + " " +
      v("nfxdp_export_records_dropped_total,exporter=zmq"), "2304 512")
check("file records", v("nfxdp_export_records_sent_total,exporter=file") + " " +
      v("nfxdp_export_records_dropped_total,exporter=file"), "1024 0")
want_buckets = "0 1 1 1 2 2 2 3 3 3 4 4 4 5 5"
les = ["0.0001", "0.00025", "0.0005", "0.001", "0.0025", "0.005", "0.01", "0.025", "0.05",
       "0.1", "0.25", "0.5", "1", "2.5", "+Inf"]
check("poll histogram buckets",
      " ".join(v("nfxdp_poll_duration_seconds_bucket,le=" + le) for le in les), want_buckets)
check("poll histogram sum and count", v("nfxdp_poll_duration_seconds_sum") + " " +
      v("nfxdp_poll_duration_seconds_count"), "2.2222 5")
check("histogram type", types.get("nfxdp_poll_duration_seconds"), "histogram")
check("interfaces", v("nfxdp_interface_attached,interface=va,netns=nsA") + " " +
      v("nfxdp_interface_attached,interface=eth0,netns="), "1 1")
check("poll interval", v("nfxdp_poll_interval_seconds"), "0.5")
check("healthy gauge", v("nfxdp_healthy"), 1)
print("\n".join(out))
EOF
while IFS=$'\t' read -r name got want; do
	check "$name" "$got" "$want"
done <"$T/checks.txt"
[ -s "$T/checks.txt" ] || { fail "metrics checks ran"; cat "$T/checks.txt" >&2; }

# --- stale: no poll for 3 intervals (1.5 s) after the last one ----------------------
stale() { [ "$(get /healthz | cut -d' ' -f1)" = 503 ]; }
wait_for 10 stale
got=$(get /healthz)
check "healthz after polling stops" "${got%% *} ${got#* the collector last polled * ago }" \
	"503 (limit 1.5 s: 3 poll intervals)"
check "healthy gauge goes to 0" "$(in_a curl -s http://127.0.0.1:9101/metrics | grep '^nfxdp_healthy ')" \
	"nfxdp_healthy 0"

# --- misuse: busy port, bad address -------------------------------------------------
in_a "$DEMO" 127.0.0.1:9101 --polls 1 >/dev/null 2>"$T/busy.err"
check "busy port: exit status" "$?" 1
check "busy port: message" "$(cat "$T/busy.err")" \
	"metrics_demo: Couldn't listen for metrics on 127.0.0.1:9101: Address already in use (another program has that port; pick another with --metrics ADDR:PORT)"
stop_demo
in_a "$DEMO" metrics.example:9101 --polls 1 >/dev/null 2>"$T/bad.err"
check "bad address: exit status" "$?" 1
check "bad address: message" "$(cat "$T/bad.err")" \
	"metrics_demo: Couldn't use 'metrics.example:9101' as the metrics address: 'metrics.example' is not a numeric IPv4 or IPv6 address"
in_a "$DEMO" 127.0.0.1:70000 --polls 1 >/dev/null 2>"$T/port.err"
check "bad port: message" "$(cat "$T/port.err")" \
	"metrics_demo: Couldn't use '127.0.0.1:70000' as the metrics address: port '70000' is not 1..65535"

# --- a bare port listens on loopback only --------------------------------------------
demo "$T/bare" 9101 --polls 1
wait_for 10 has_line "$T/bare.err" "^metrics_demo: metrics on" || fail "driver starts on a bare port"
check "bare port binds loopback" "$(in_a ss -Hltn 'sport = :9101' | awk '{print $4}')" "127.0.0.1:9101"
stop_demo

# --- not attached ----------------------------------------------------------------------
demo "$T/detached" 127.0.0.1:9101 --polls 0 --poll-ms 100 --detached
wait_for 10 has_line "$T/detached.out" "published 1" || fail "driver publishes (detached)"
check "healthz when not attached" "$(get /healthz)" "503 not attached to any interface"
stop_demo

exit $FAILED
