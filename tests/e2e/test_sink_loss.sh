#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# A sink that lost batches or records makes nfxdp's exit status 1 and says
# so; the same sink that lost nothing, 0. Each sink in --pcap mode (a short
# run: what is lost is lost at the end), and live: a file on a full disk
# (plain and gzip'd), IPFIX over TCP to a port that refuses, MQTT and MQTT
# over TLS to a port that refuses (which used to print nothing at all).
SUITE=e2e-sink-loss
. "$(dirname "$0")/lib.sh"
need_root
PY3=/usr/bin/python3
command -v mosquitto >/dev/null || { fail "mosquitto is installed (scripts/deps.sh)"; exit 1; }


"$B/nfxdp-gencap" -o "$T/cap.pcap" --packets 2000 --flows 100 --duration 2 --seed 5 \
	>/dev/null 2>&1 || fail "nfxdp-gencap"
run() { "$NFXDP" --pcap "$T/cap.pcap" --no-zmq "$@" >"$T/out" 2>"$T/err"; }
said() { grep -c -- "$1" "$T/err"; }

# --- file --------------------------------------------------------------------------
run --output "$T/ok.csv"
check "file: written whole, exit 0" "$? $($FLOWS "$T/ok.csv" --count)" "0 100"
mkdir "$T/full" && mount -t tmpfs -o size=16k tmpfs "$T/full" && CLEANUP+=("umount '$T/full'")
dd if=/dev/zero of="$T/full/filler" bs=1k count=64 2>/dev/null
run --output "$T/full/f.csv"
check "file on a full disk: exit 1, says so twice (the failure, the loss at the end)" \
	"$? $(said "Couldn't write flows to $T/full/f.csv: No space left on device") $(said "1 batch(es) of flows could not be written to $T/full/f.csv")" \
	"1 1 1"
run --output "$T/full/f.csv.gz" --compress
check "gzip'd file on a full disk (lost at its end): exit 1, says so" \
	"$? $(said "Couldn't finish writing $T/full/f.csv.gz: No space left on device")" "1 1"

# --- IPFIX over TCP -------------------------------------------------------------------
cat >"$T/collector.py" <<'EOF'
import socket, sys
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(1)
open(sys.argv[1], "w").write(f"{s.getsockname()[1]}\n")
c, _ = s.accept()
n = 0
while True:
    d = c.recv(65536)
    if not d:
        break
    n += len(d)
print(f"bytes={n}")
EOF
$PY3 "$T/collector.py" "$T/port" >"$T/collector.out" &
COLLECTOR=$!
PIDS+=("$COLLECTOR")
for _ in $(seq 50); do [ -s "$T/port" ] && break; sleep 0.1; done
run --ipfix "tcp://127.0.0.1:$(cat "$T/port")"
status=$?
wait "$COLLECTOR"
check "IPFIX over TCP, a collector: exit 0, it received messages" \
	"$status $(grep -o 'bytes=[0-9]*' "$T/collector.out" | cut -d= -f2 | awk '{ print ($1 > 1000) }')" "0 1"
port=$(free_port)
run --ipfix "tcp://127.0.0.1:$port"
check "IPFIX over TCP refused: exit 1, says so, and what was lost" \
	"$? $(said "Couldn't send IPFIX to 127.0.0.1:$port over TCP: Connection refused") $(said "100 flow record(s) could not be sent to IPFIX collector 127.0.0.1:$port")" \
	"1 1 1"

# --- MQTT and MQTT over TLS -----------------------------------------------------------
MPORT=$(free_port)
printf 'user root\npersistence false\nlistener %s 127.0.0.1\nallow_anonymous true\n' "$MPORT" \
	>"$T/mosquitto.conf"
mosquitto -c "$T/mosquitto.conf" >"$T/mosquitto.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 50); do grep -q 'running' "$T/mosquitto.log" && break; sleep 0.1; done
run --mqtt "mqtt://127.0.0.1:$MPORT/t"
check "MQTT, a broker: exit 0, nothing said lost" "$? $(said 'not delivered')" "0 0"
for scheme in mqtt mqtts; do
	port=$(free_port)
	run --mqtt "$scheme://127.0.0.1:$port/t"
	check "$scheme refused: exit 1, says so, and what was lost" \
		"$? $(said "Couldn't connect to MQTT broker $scheme://127.0.0.1:$port/t: Connection refused") $(said "1 batch(es) of flows were not delivered to MQTT broker $scheme://127.0.0.1:$port/t")" \
		"1 1 1"
done

# --- live: the same at SIGTERM ---------------------------------------------------------
setup_pair noipv6 || { fail "namespaces"; exit 1; }
port=$(free_port)
IFACES=vb@$NS_B start_nfxdp "$T/live.log" --no-zmq --ipfix "tcp://127.0.0.1:$port" \
	--mqtt "mqtts://127.0.0.1:$port/t" || fail "nfxdp starts live"
in_a "$INJECT" --iface va --smac 02:00:00:00:aa:01 --dmac 02:00:00:00:aa:02 --src 198.18.0.1 \
	--dst 198.18.0.2 --proto udp --sport 1000 --dport 53 --count 3
for _ in $(seq 50); do grep -q "Couldn't connect to MQTT broker" "$T/live.log" && break; sleep 0.1; done
kill -TERM "$NFXDP_PID"
wait "$NFXDP_PID"
check "live, IPFIX and mqtts refused: exit 1 after SIGTERM" "$?" 1
check "live: both say what they lost" \
	"$(grep -c "1 flow record(s) could not be sent to IPFIX collector 127.0.0.1:$port" "$T/live.log") $(grep -c "1 batch(es) of flows were not delivered to MQTT broker mqtts://127.0.0.1:$port/t" "$T/live.log")" \
	"1 1"
check "live: mqtts said it was refused while running" \
	"$(grep -c "Couldn't connect to MQTT broker mqtts://127.0.0.1:$port/t: Connection refused" "$T/live.log")" 1

exit $FAILED
