#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# MQTT export against a real mosquitto broker on loopback. Reference
# captures go through nfxdp --pcap into a CSV and a pb file; the pb file's
# batches go through the MQTT exporter (tests/tools/mqtt_send), and a
# mosquitto_sub subscriber must receive every batch byte for byte, in order,
# decoding (python/nfxdp) to exactly nfxdp's flows. Then: TLS with a client
# certificate and a password; a refused password; no broker at all; the
# bound on unacknowledged batches; a broker that comes up late.
SUITE=e2e-mqtt
. "$(dirname "$0")/lib.sh"
need_root
need_ref

SEND=$B/tests/mqtt_send
PY3=${PYTHON:-/usr/bin/python3}
export PYTHONPATH=$TOP/python NFXDP_PB_DIR=$B/python
TOPIC=nfxdp/test/flows

need_tools "$SEND" "$NFXDP_PB_DIR/flow_pb2.py" mosquitto mosquitto_sub mosquitto_passwd openssl \
	"$PY3"

# --- helpers -------------------------------------------------------------------


# counter LINE NAME: NAME=value from mqtt_send's summary line.
counter() {
	echo "$1" | grep -o "\b$2=[0-9-]*" | cut -d= -f2
}

meter() {
	"$NFXDP" --pcap "$1" --natural-expiry off --no-zmq "${@:2}" 2>>"$T/nfxdp.err"
}

# batches FILE: how many batches a pb file holds.
batches() {
	"$PY3" -c 'import sys, nfxdp; print(sum(1 for _ in nfxdp.iter_pb_file(sys.argv[1])))' "$1"
}

# start_broker CONF: mosquitto in the foreground, logging to CONF.log; waits
# until it runs (again, when restarted).
start_broker() {
	RUNS=$(($(grep -c "mosquitto version .* running" "$1.log" 2>/dev/null) + 1))
	BROKER_LOG=$1.log
	mosquitto -c "$1" >>"$BROKER_LOG" 2>&1 &
	BROKER_PID=$!
	PIDS+=("$BROKER_PID")
	wait_for 5 broker_runs && return 0
	cat "$BROKER_LOG" >&2
	return 1
}
broker_runs() { [ "$(grep -c "mosquitto version .* running" "$BROKER_LOG" 2>/dev/null)" = "$RUNS" ]; }

stop_broker() {
	kill -TERM "$BROKER_PID" 2>/dev/null
	wait "$BROKER_PID" 2>/dev/null
}

# subscribe OUT COUNT ID ARGS...: mosquitto_sub printing each payload in
# hex, exiting after COUNT messages (20 s at most); returns once the broker
# has its subscription.
subscribe() {
	local out=$1 count=$2 id=$3
	shift 3
	mosquitto_sub -h 127.0.0.1 -t "$TOPIC" -q 1 -C "$count" -W 20 -F %x -i "$id" "$@" \
		>"$out" 2>>"$T/sub.err" &
	SUB_PID=$!
	PIDS+=("$SUB_PID")
	wait_for 5 has_line "$BROKER_LOG" "Received SUBSCRIBE from $id"
}

# The payloads received against the file's batches, and their flows against the CSV.
cat >"$T/check.py" <<'EOF'
import csv, sys
import nfxdp

hexfile, pbfile, csvfile = sys.argv[1:4]
sent = list(nfxdp.iter_pb_file(pbfile))
got = [bytes.fromhex(line.strip()) for line in open(hexfile) if line.strip()]
rows = {int(r["id"]): r for r in csv.DictReader(open(csvfile, newline=""))}
flows = matched = counted = 0
for payload in got:
    for f in nfxdp.decode_batch(payload).flows:
        flows += 1
        r = rows.get(f.id)
        if r is None:
            continue
        cols = [c for c in r if c in f.DESCRIPTOR.fields_by_name]
        if all(nfxdp.parse_value(c, r[c]) == nfxdp.flow_to_dict(f, [c])[c] for c in cols):
            matched += 1
        counts = ("src2dst_packets", "src2dst_bytes", "dst2src_packets", "dst2src_bytes")
        counted += all(int(r[c]) == getattr(f, c) for c in counts)
print(f"messages={len(got)} sent={len(sent)} in_order={int(got == sent)} "
      f"flows={flows} csv_flows={len(rows)} counts_match={counted} all_fields_match={matched}")
EOF

# expect_delivery NAME PB CSV OUT SENT: the subscriber got every batch and flow.
expect_delivery() {
	local name=$1 pb=$2 csv=$3 out=$4 sent=$5 n f got
	n=$(batches "$pb")
	f=$($FLOWS "$csv" --count)
	got=$("$PY3" "$T/check.py" "$out" "$pb" "$csv")
	check "$name: exporter queued $n batches, broker acknowledged all, none dropped" \
		"$(counter "$sent" batches_queued) $(counter "$sent" batches_acked) $(counter "$sent" batches_dropped)" \
		"$n $n 0"
	check "$name: subscriber got the $n batches byte for byte, in order" \
		"$(counter "$got" messages) $(counter "$got" in_order)" "$n 1"
	check "$name: the $f flows, packets and bytes both ways as nfxdp's CSV" \
		"$(counter "$got" flows) $(counter "$got" counts_match)" "$f $f"
	check "$name: every field of every flow as nfxdp's CSV" "$(counter "$got" all_fields_match)" "$f"
}

# --- plain MQTT: reference captures -----------------------------------------------
PORT=$(free_port)
cat >"$T/plain.conf" <<EOF
user root
persistence false
log_type all
listener $PORT 127.0.0.1
allow_anonymous true
EOF
start_broker "$T/plain.conf" || { fail "mosquitto starts"; exit 1; }

for name in 1kxun.pcap skype.pcap mdns.pcap; do
	[ -f "$REF/pcaps/$name" ] || continue
	meter "$REF/pcaps/$name" --format csv --output "$T/$name.csv"
	# Small batches: many messages, so order and completeness mean something.
	meter "$REF/pcaps/$name" --format pb --output "$T/$name.pb" --batch-flows 16
	subscribe "$T/$name.sub" "$(batches "$T/$name.pb")" "sub-$name" -p "$PORT" ||
		{ fail "$name: subscriber starts"; continue; }
	# The topic comes from the URL's path.
	sent=$("$SEND" "$T/$name.pb" "mqtt://127.0.0.1:$PORT/$TOPIC" 2>>"$T/send.err")
	wait "$SUB_PID"
	expect_delivery "$name" "$T/$name.pb" "$T/$name.csv" "$T/$name.sub" "$sent"
done
CAP=1kxun.pcap

# nfxdp itself, once it has --mqtt: the same flows reach the subscriber.
if "$NFXDP" --help 2>&1 | grep -q -- '--mqtt '; then
	n=$(batches "$T/$CAP.pb")
	subscribe "$T/direct.sub" "$n" sub-direct -p "$PORT" || fail "direct: subscriber starts"
	meter "$REF/pcaps/$CAP" --batch-flows 16 --mqtt "mqtt://127.0.0.1:$PORT/$TOPIC"
	wait "$SUB_PID"
	got=$("$PY3" "$T/check.py" "$T/direct.sub" "$T/$CAP.pb" "$T/$CAP.csv")
	f=$($FLOWS "$T/$CAP.csv" --count)
	check "nfxdp --pcap $CAP --mqtt: $n batches, every field of the $f flows as its CSV" \
		"$(counter "$got" messages) $(counter "$got" flows) $(counter "$got" all_fields_match)" \
		"$n $f $f"
else
	echo "# nfxdp has no --mqtt option yet: the exporter is tested through mqtt_send only"
fi

# No broker on the port: nothing is fatal, every batch is counted dropped,
# and --max-pending bounds what waits for the broker.
n=$(batches "$T/$CAP.pb")
sent=$("$SEND" --wait-ms 0 --linger-ms 300 "$T/$CAP.pb" "mqtt://127.0.0.1:$(free_port)" 2>>"$T/send.err")
check "no broker: exit 0, every batch dropped, none acknowledged" \
	"$? $(counter "$sent" batches_dropped) $(counter "$sent" batches_acked)" "0 $n 0"
sent=$("$SEND" --wait-ms 0 --linger-ms 300 --max-pending 2 "$T/$CAP.pb" \
	"mqtt://127.0.0.1:$(free_port)" 2>>"$T/send.err")
check "no broker, --max-pending 2: 2 batches queued, the rest dropped at once" \
	"$(counter "$sent" batches_queued) $(counter "$sent" batches_dropped)" "2 $n"
stop_broker

# --- TLS: a client certificate and a password --------------------------------------
mkdir -p "$T/tls" && cd "$T/tls" || exit 1
key() { openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$1.key" "${@:2}"; }
{
	key ca -x509 -days 2 -subj "/CN=nfxdp test CA" -out ca.crt &&
		key server -subj "/CN=127.0.0.1" -out server.csr &&
		openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 \
			-extfile <(echo "subjectAltName=IP:127.0.0.1") -out server.crt &&
		key agent -subj "/CN=nfxdp-agent" -out agent.csr &&
		openssl x509 -req -in agent.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 \
			-out agent.crt &&
		mosquitto_passwd -c -b passwd agent s3cret &&
		echo s3cret >agent.pass && echo wrong >wrong.pass
} >"$T/tls.log" 2>&1 || { fail "TLS certificates"; cat "$T/tls.log" >&2; exit 1; }
cd "$TOP" || exit 1

TPORT=$(free_port)
cat >"$T/tls.conf" <<EOF
user root
persistence false
log_type all
per_listener_settings true
listener $TPORT 127.0.0.1
cafile $T/tls/ca.crt
certfile $T/tls/server.crt
keyfile $T/tls/server.key
require_certificate true
allow_anonymous false
password_file $T/tls/passwd
EOF
start_broker "$T/tls.conf" || { fail "mosquitto starts with TLS"; exit 1; }
CRED=(--cafile "$T/tls/ca.crt" --cert "$T/tls/agent.crt" --key "$T/tls/agent.key" -u agent -P s3cret)
subscribe "$T/tls.sub" "$n" sub-tls -p "$TPORT" "${CRED[@]}" || fail "TLS subscriber starts"
sent=$("$SEND" --topic "$TOPIC" --ca "$T/tls/ca.crt" --cert "$T/tls/agent.crt" \
	--key "$T/tls/agent.key" --user agent --password-file "$T/tls/agent.pass" "$T/$CAP.pb" \
	"mqtts://127.0.0.1:$TPORT" 2>>"$T/send.err")
wait "$SUB_PID"
expect_delivery "mqtts with client certificate and password" "$T/$CAP.pb" "$T/$CAP.csv" \
	"$T/tls.sub" "$sent"

sent=$("$SEND" --topic "$TOPIC" --ca "$T/tls/ca.crt" --cert "$T/tls/agent.crt" \
	--key "$T/tls/agent.key" --user agent --password-file "$T/tls/wrong.pass" --wait-ms 1500 --linger-ms 300 \
	"$T/$CAP.pb" "mqtts://127.0.0.1:$TPORT" 2>"$T/refused.err")
check "mqtts, wrong password: refused, not fatal, every batch dropped" \
	"$? $(counter "$sent" connects) $(counter "$sent" batches_dropped)" "0 0 $n"
check "mqtts, wrong password: says why" \
	"$(grep -c "Couldn't connect to MQTT broker mqtts://127.0.0.1:$TPORT: Connection Refused: not authorised" "$T/refused.err" | head -1)" 1
out=$("$SEND" --ca "$T/missing.crt" "$T/$CAP.pb" "mqtts://127.0.0.1:$TPORT" 2>&1)
check "mqtts, CA file missing: fails at start, says so" \
	"$? $(echo "$out" | grep -c "Couldn't set up TLS for MQTT broker")" "1 1"
stop_broker

# --- the broker comes up late --------------------------------------------------------
# A persistent subscriber session (QoS 1) keeps what the broker takes while
# the subscriber is away: the broker starts, the subscriber subscribes and
# leaves, the broker stops. The exporter starts with the broker down, queues,
# and delivers once the broker is back; then the subscriber collects.
LPORT=$(free_port)
mkdir -p "$T/late"
cat >"$T/late.conf" <<EOF
user root
persistence true
persistence_location $T/late/
log_type all
listener $LPORT 127.0.0.1
allow_anonymous true
EOF
start_broker "$T/late.conf" || { fail "mosquitto starts (late)"; exit 1; }
mosquitto_sub -h 127.0.0.1 -p "$LPORT" -t "$TOPIC" -q 1 -c -i sub-late -E 2>>"$T/sub.err"
stop_broker
"$SEND" --topic "$TOPIC" --wait-ms 0 --linger-ms 20000 "$T/$CAP.pb" "mqtt://127.0.0.1:$LPORT" \
	>"$T/late.sent" 2>>"$T/send.err" &
late_pid=$!
PIDS+=("$late_pid")
# The exporter found the broker down (its batches wait); then the broker comes.
wait_for 10 has_line "$T/send.err" "Couldn't connect to MQTT broker mqtt://127.0.0.1:$LPORT"
start_broker "$T/late.conf" || { fail "mosquitto restarts (late)"; exit 1; }
wait "$late_pid"
subscribe "$T/late.sub" "$n" sub-late -p "$LPORT" -c || fail "late subscriber starts"
wait "$SUB_PID"
expect_delivery "broker up late: batches wait for it" "$T/$CAP.pb" "$T/$CAP.csv" "$T/late.sub" \
	"$(cat "$T/late.sent")"
stop_broker

# --- the broker dies mid-stream ----------------------------------------------------
# Frozen (acknowledgements stop), killed, restarted: the exporter reconnects
# and libmosquitto sends again what was not acknowledged (QoS 1 is at least
# once: a consumer drops repeats by stream_id and sequence).
RPORT=$(free_port)
printf 'user root\npersistence false\nlog_type all\nlistener %s 127.0.0.1\nallow_anonymous true\n' \
	"$RPORT" >"$T/restart.conf"
start_broker "$T/restart.conf" || { fail "mosquitto starts (restart)"; exit 1; }
"$SEND" --topic "$TOPIC" --pace-ms 100 --linger-ms 20000 "$T/$CAP.pb" "mqtt://127.0.0.1:$RPORT" \
	>"$T/restart.sent" 2>>"$T/send.err" &
restart_pid=$!
PIDS+=("$restart_pid")
# publishes LOG N: the broker received N publishes or more.
publishes() { [ "$(grep -c 'Received PUBLISH from' "$1")" -ge "$2" ]; }
# unread PORT: a connection to the broker holds bytes it has not read.
unread() { [ -n "$(ss -Htn state established "( sport = :$1 )" | awk '$1 > 0')" ]; }
wait_for 10 publishes "$BROKER_LOG" 3 # mid-stream
kill -STOP "$BROKER_PID"
wait_for 10 unread "$RPORT" # frozen: a publish waits, unacknowledged
{ kill -KILL "$BROKER_PID" && wait "$BROKER_PID"; } 2>/dev/null # no "Killed" from bash
start_broker "$T/restart.conf" || { fail "mosquitto restarts"; exit 1; }
wait "$restart_pid"
sent=$(cat "$T/restart.sent")
check "broker killed mid-stream: reconnected, every batch acknowledged, none dropped" \
	"$(counter "$sent" connects) $(counter "$sent" batches_acked) $(counter "$sent" batches_dropped)" \
	"2 $n 0"
stop_broker

exit $FAILED
