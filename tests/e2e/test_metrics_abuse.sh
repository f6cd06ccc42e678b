#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# /healthz stays answerable while the HTTP server is abused: clients that
# send a request a header line at a time (each line resets an inactivity
# timeout) used to hold every one of its 32 connections, and a liveness
# probe would then restart a healthy meter. Slow clients by the dozen, and
# clients that connect and send nothing, while a probe asks every 0.5 s.
SUITE=e2e-metrics-abuse
. "$(dirname "$0")/lib.sh"
need_root
PY3=/usr/bin/python3

probe() { curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://127.0.0.1:$MPORT$1"; }

# slow.py PORT N SECONDS MODE: N clients for SECONDS; MODE "dribble" sends a
# request one header line every 0.5 s (never ending it), "silent" sends
# nothing. Each reconnects when the server closes it. Prints
# "clients=N connections=N closed_by_server=N".
cat >"$T/slow.py" <<'EOF'
import socket, sys, time
port, n, seconds, mode = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
end = time.time() + seconds
socks, connections, closed = {}, 0, 0

def opened():
    global connections
    s = socket.create_connection(("127.0.0.1", port))
    s.setblocking(False)
    if mode == "dribble":
        s.send(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
    connections += 1
    return s

for i in range(n):
    socks[i] = opened()
while time.time() < end:
    for i, s in list(socks.items()):
        try:
            if s.recv(4096) == b"":
                raise ConnectionResetError
        except BlockingIOError:
            pass
        except OSError:
            closed += 1
            s.close()
            socks[i] = opened()
            continue
        if mode == "dribble":
            try:
                s.send(b"X-Slow: %d\r\n" % int(time.time() * 1000))
            except OSError:
                pass
    time.sleep(0.5)
print(f"clients={n} connections={connections} closed_by_server={closed}", flush=True)
EOF

setup_pair noipv6 || { fail "namespaces"; exit 1; }
MPORT=$(free_port)
IFACES=vb@$NS_B start_nfxdp "$T/nfxdp.log" --poll-ms 100 --metrics "127.0.0.1:$MPORT" ||
	{ fail "nfxdp starts"; exit 1; }
for _ in $(seq 50); do [ "$(probe /healthz)" = 200 ] && break; sleep 0.1; done
check "healthy before the abuse" "$(probe /healthz)" 200

for mode in dribble silent; do
	$PY3 "$T/slow.py" "$MPORT" 64 12 "$mode" >"$T/$mode.out" 2>&1 &
	SLOW=$!
	PIDS+=("$SLOW")
	sleep 1 # the clients are connected
	bad=0 probes=0
	while kill -0 "$SLOW" 2>/dev/null; do
		code=$(probe /healthz)
		[ "$code" = 200 ] || bad=$((bad + 1))
		probes=$((probes + 1))
		sleep 0.5
	done
	wait "$SLOW"
	echo "# $mode: $(cat "$T/$mode.out"); /healthz failed $bad of $probes probes"
	check "64 $mode clients: /healthz answered 200 to every probe" "$bad/$probes" "0/$probes"
	check "64 $mode clients: the server closed theirs (they are cut, then come back)" \
		"$(grep -o 'closed_by_server=[0-9]*' "$T/$mode.out" | cut -d= -f2 | awk '{ print ($1 >= 64) }')" 1
done
check "/metrics answered after the abuse, counting the connections it closed" \
	"$(curl -s --max-time 2 "http://127.0.0.1:$MPORT/metrics" | awk '$1 == "nfxdp_http_connections_closed_total" { print ($2 >= 128) }')" 1
kill -TERM "$NFXDP_PID"
wait "$NFXDP_PID"
check "nfxdp exits 0" "$?" 0

exit $FAILED
