#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# What IPFIX records mean, against real collectors and an independent
# decoder:
#  * bytes go in the element that says what was counted: layer2OctetDeltaCount
#    (352) for --accounting link (frames), octetDeltaCount (1) for ip,
#    transportOctetDeltaCount (401) for payload, nfxdp's own for transport;
#    octetDeltaCount never carries frame bytes;
#  * a biflow's flowStart/flowEnd are the biflow's (RFC 5103): nfdump and
#    nfacctd show a DNS query and its answer as lasting the 23 ms between
#    them, not 0;
#  * --ipfix-biflow off: a record per direction, so a collector that drops
#    reverse elements (pmacct's print plugin, default primitives) still
#    counts both directions.
SUITE=e2e-ipfix-semantics
. "$(dirname "$0")/lib.sh"
need_root
need_ref
SEND=$B/tests/ipfix_send
for t in "$SEND" nfcapd nfdump nfacctd; do
	command -v "$t" >/dev/null || { fail "$t is installed (scripts/deps.sh)"; exit 1; }
done

meter() { "$NFXDP" --pcap "$1" --natural-expiry off --no-zmq "${@:2}" 2>>"$T/nfxdp.err"; }

# UDP messages in (decoded by tests/e2e/ipfixdec.py), each data record's
# elements compared with nfxdp's CSV by flowId.
cat >"$T/decode.py" <<'EOF'
import csv, sys
from ipfixdec import NFX, REV, udp_records, uint
mode, port_file, csv_path = sys.argv[1:4]
BYTES = {"link": (0, 352), "ip": (0, 1), "transport": (NFX, 1022), "payload": (0, 401)}
RBYTES = {"link": (REV, 352), "ip": (REV, 1), "transport": (NFX, 1027), "payload": (REV, 401)}
ALL = set(BYTES.values()) | set(RBYTES.values())
recs = udp_records(port_file)
rows = {int(r["id"]): r for r in csv.DictReader(open(csv_path, newline=""))}
ok = 0
for r in recs:
    row = rows.get(uint(r, 0, 148))
    present = {k for k in r if k in ALL}
    if row and present == {BYTES[mode], RBYTES[mode]} and \
       uint(r, *BYTES[mode]) == int(row["src2dst_bytes"]) and \
       uint(r, *RBYTES[mode]) == int(row["dst2src_bytes"]):
        ok += 1
print(f"records={len(recs)} bytes_ok={ok} flows={len(rows)}")
EOF

# --- bytes in the element that says what was counted ------------------------------
CAP=$REF/pcaps/1kxun.pcap
for mode in link ip transport payload; do
	meter "$CAP" --accounting "$mode" --format csv --output "$T/$mode.csv"
	meter "$CAP" --accounting "$mode" --format pb --output "$T/$mode.pb"
	rm -f "$T/port"
	PYTHONPATH="$TOP/tests/e2e" python3 "$T/decode.py" "$mode" "$T/port" "$T/$mode.csv" >"$T/decode.out" &
	dec=$!
	PIDS+=("$dec")
	wait_for 5 test -s "$T/port"
	"$SEND" --accounting "$mode" "$T/$mode.pb" "127.0.0.1:$(cat "$T/port")" >/dev/null \
		2>"$T/send.err"
	wait "$dec"
	n=$($FLOWS "$T/$mode.csv" --count)
	check "--accounting $mode: each record's bytes, both ways, in that mode's element and no other" \
		"$(cat "$T/decode.out")" "records=$n bytes_ok=$n flows=$n"
done
check "--accounting link: says octetDeltaCount is left out, and what to do" \
	"$("$SEND" --accounting link --linger-ms 0 "$T/link.pb" "127.0.0.1:$(free_port udp)" 2>&1 >/dev/null |
		grep -c 'layer2OctetDeltaCount (352), and octetDeltaCount (IP bytes) is left out.*--accounting ip gives them IP bytes')" 1
check "frame and IP bytes differ on this capture (the elements tell them apart)" \
	"$([ "$($FLOWS "$T/link.csv" --sum bidirectional_bytes)" -gt "$($FLOWS "$T/ip.csv" --sum bidirectional_bytes)" ] && echo yes)" yes

# --- a biflow's times: nfdump and nfacctd show its duration ---------------------------
DNS=$REF/pcaps/dns_long_domainname.pcap
meter "$DNS" --accounting ip --format csv --output "$T/dns.csv"
check "the DNS capture: a query and its answer 23 ms later, one packet each way" \
	"$($FLOWS "$T/dns.csv" --get src2dst_packets,dst2src_packets,src2dst_duration_ms,bidirectional_duration_ms)" \
	"1 1 0 23"
port=$(free_port udp)
mkdir "$T/nfcapd"
nfcapd -w "$T/nfcapd" -p "$port" -b 127.0.0.1 -t 3600 >"$T/nfcapd.log" 2>&1 &
pid=$!
PIDS+=("$pid")
wait_log "$T/nfcapd.log" Startup || fail "nfcapd starts"
meter "$DNS" --accounting ip --ipfix "udp://127.0.0.1:$port"
sleep 0.3 # nfcapd has the datagram; SIGTERM makes it write its file
kill -TERM "$pid"
wait "$pid"
TZ=UTC nfdump -R "$T/nfcapd" -o json >"$T/dns.json" 2>>"$T/nfcapd.log"
check "nfdump: the DNS biflow lasts 23 ms (first and last packet either way), 1 packet each way" \
	"$(python3 -c 'import datetime, json, sys
ms = lambda s: datetime.datetime.strptime(s, "%Y-%m-%dT%H:%M:%S.%f").timestamp() * 1000
for j in json.load(open(sys.argv[1])):
    print(round(ms(j["last"]) - ms(j["first"])), j["in_packets"], j["out_packets"])' "$T/dns.json")" \
	"23 1 1"

# nfacctd: flowStart/End as its timestamp_start/end; the uniflow records
# (--ipfix-biflow off) through the print plugin's default primitives.
nfacctd_run() {
	local name=$1 port dir=$T/nfacctd.$1
	shift
	port=$(free_port udp)
	mkdir -p "$dir"
	cat >"$dir/nfacctd.conf" <<-EOF
		daemonize: false
		nfacctd_ip: 127.0.0.1
		nfacctd_port: $port
		plugins: print
		aggregate: src_host, dst_host, src_port, dst_port, proto, timestamp_start, timestamp_end
		print_output: csv
		print_output_file: $dir/flows.csv
		print_refresh_time: 60
		print_num_protos: true
		timestamps_since_epoch: true
	EOF
	nfacctd -f "$dir/nfacctd.conf" >"$dir.log" 2>&1 &
	local pid=$!
	PIDS+=("$pid")
	wait_log "$dir.log" "waiting for NetFlow/IPFIX data" || fail "$name: nfacctd starts"
	"$@" --ipfix "udp://127.0.0.1:$port"
	sleep 0.5
	kill -INT "$pid" # nfacctd writes its cache on SIGINT
	wait "$pid"
}
# NAME CSV: "src dst sport dport packets bytes start_ms end_ms", sorted, from
# nfacctd's file or as nfxdp's CSV says the collector should have it.
cat >"$T/rows.py" <<'EOF'
import csv, ipaddress, sys
kind, path = sys.argv[1:3]
ip = lambda s: str(ipaddress.ip_address(s))
ms = lambda s: int(s.split(".")[0]) * 1000 + int((s.split(".")[1] + "000")[:3])
out = []
for r in csv.DictReader(open(path, newline="")):
    if kind == "nfacctd":
        out.append((ip(r["SRC_IP"]), ip(r["DST_IP"]), r["SRC_PORT"], r["DST_PORT"], r["PACKETS"],
                    r["BYTES"], ms(r["TIMESTAMP_START"]), ms(r["TIMESTAMP_END"])))
        continue
    fwd = (ip(r["src_ip"]), ip(r["dst_ip"]), r["src_port"], r["dst_port"])
    rev = (fwd[1], fwd[0], fwd[3], fwd[2])
    if kind == "biflow":
        out.append(fwd + (r["src2dst_packets"], r["src2dst_bytes"],
                          int(r["bidirectional_first_seen_ms"]), int(r["bidirectional_last_seen_ms"])))
        continue
    for end, d in ((fwd, "src2dst"), (rev, "dst2src")):
        if int(r[d + "_packets"]):
            out.append(end + (r[d + "_packets"], r[d + "_bytes"],
                              int(r[d + "_first_seen_ms"]), int(r[d + "_last_seen_ms"])))
for t in sorted(out):
    print(*t)
EOF
rows() { python3 "$T/rows.py" "$@"; }

nfacctd_run dns meter "$DNS" --accounting ip
check "nfacctd: the DNS biflow's timestamps are the biflow's (23 ms apart)" \
	"$(rows nfacctd "$T/nfacctd.dns/flows.csv")" "$(rows biflow "$T/dns.csv")"

meter "$CAP" --accounting ip --format csv --output "$T/ip.csv"
nfacctd_run biflow meter "$CAP" --accounting ip
nfacctd_run uniflow meter "$CAP" --accounting ip --ipfix-biflow off
check "biflow records, nfacctd's default primitives: forward counts only (reverse elements dropped)" \
	"$(rows nfacctd "$T/nfacctd.biflow/flows.csv" | awk '{ p += $5 } END { print p }')" \
	"$($FLOWS "$T/ip.csv" --sum src2dst_packets)"
check "--ipfix-biflow off: every direction a record of its own, its counts and times" \
	"$(rows nfacctd "$T/nfacctd.uniflow/flows.csv" | md5sum)" "$(rows uniflow "$T/ip.csv" | md5sum)"
check "--ipfix-biflow off: nfacctd counts every packet both ways" \
	"$(rows nfacctd "$T/nfacctd.uniflow/flows.csv" | awk '{ p += $5 } END { print p }')" \
	"$($FLOWS "$T/ip.csv" --sum bidirectional_packets)"

exit $FAILED
