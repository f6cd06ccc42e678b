#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Application detection (--dpi N, nDPI 4.2). On every reference capture,
# each flow's application and category against ndpiReader's (the same
# library, run with at most N packets a flow), matched by 5-tuple, and
# application_name against NFStream's results (a newer nDPI): the exact
# figures measured here (PARITY.md lists the differences), and at least 97 %
# against ndpiReader. Then columns on known flows (TLS, DHCP, HTTP), the
# bounds on flows in dissection and on a capture's batches (the DPI ring),
# and live: an HTTP request over a veth metered
# at XDP (the request) and TC egress (the answer) on one interface, and a
# DPI ring too small for a burst (counted, the record says so).
SUITE=e2e-dpi
. "$(dirname "$0")/lib.sh"
need_root
need_tools ndpiReader curl
need_ref
P=$REF/pcaps

# row PCAP WHERE... -- COLUMNS: the columns of the flows of nfxdp --pcap PCAP --dpi 20 matching WHERE.
row() {
	local pcap=$1 w=()
	shift
	while [ "$1" != -- ]; do w+=(--where "$1"); shift; done
	"$NFXDP" --pcap "$P/$pcap" --dpi 20 >"$T/row.csv" 2>/dev/null
	$FLOWS "$T/row.csv" "${w[@]}" --get "$2"
}

# --- reference captures --------------------------------------------------------
python3 "$TOP/tests/e2e/dpi_compare.py" "$NFXDP" "$P" "$REF/results" 20 --list >"$T/cmp.txt" 2>&1 ||
	fail "dpi_compare.py ran"
read -r _ agree compared <<<"$(grep '^ndpireader ' "$T/cmp.txt" | head -1)"
check "ndpiReader 4.2 -T 20 -U 20: application and category equal, flows matched by 5-tuple" \
	"$agree of $compared" "2060 of 2061"
check "ndpiReader: at least 97 %" "$(awk -v a="${agree:-0}" -v c="${compared:-1}" 'BEGIN { print (a >= 0.97 * c ? "yes" : "no") }')" yes
check "NFStream's application_name (multisets per capture): nfxdp" \
	"$(grep '^nfstream ' "$T/cmp.txt" | cut -d' ' -f2-)" "1602 2205"
check "NFStream's application_name: ndpiReader with its defaults, the yardstick" \
	"$(grep '^ndpireader-nfstream ' "$T/cmp.txt" | cut -d' ' -f2-)" "1571 2205"
grep '^ndpireader .*nfxdp=' "$T/cmp.txt" | sed 's/^/# /' >&2

# --- columns of known flows ----------------------------------------------------
check "google_ssl: guessed from the address, as ndpiReader (no client hello in it)" \
	"$(row google_ssl.pcap -- application_name,application_category_name,application_is_guessed,application_confidence,application_dpi_cut)" \
	"TLS.Google Web 1 2 false"
check "dhcp: the client's option 55 fingerprint, detected by DPI (confidence 4)" \
	"$(row dhcp.pcap src_ip=0.0.0.0 -- application_name,application_category_name,application_confidence,client_fingerprint)" \
	"DHCP Network 4 1,3,6,42"
check "http_auth: Host, User-Agent and Content-Type" \
	"$(row http_auth.pcap src_port=54337 -- application_name,requested_server_name,content_type)" \
	"HTTP browserspy.dk text/html"
"$NFXDP" --pcap "$P/http_auth.pcap" --dpi 20 --format jsonl 2>/dev/null | grep -c '"user_agent":"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_8_5) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/30.0.1599.69 Safari/537.36"' >"$T/ua" || true
check "http_auth: the User-Agent, whole, in JSON" "$(cat "$T/ua")" 1
check "without --dpi: no application columns" \
	"$("$NFXDP" --pcap "$P/dhcp.pcap" 2>/dev/null | head -1 | grep -c application_name)" 0

# --- IPFIX: applicationName (96), applicationId (95), nfxdp's elements -------------
# Each record's application columns (variable-length elements, RFC 7011 7,
# decoded by tests/e2e/ipfixdec.py) against nfxdp's CSV, by flowId.
cat >"$T/ipfix.py" <<'PY'
import csv, sys
from ipfixdec import NFX, text, udp_records, uint
port_file, csv_path = sys.argv[1:3]
recs = udp_records(port_file)
rows = {int(r["id"]): r for r in csv.DictReader(open(csv_path, newline=""))}
ok = 0
for r in recs:
    row = rows.get(uint(r, 0, 148))
    if row and text(r, 0, 96) == row["application_name"] and \
       text(r, NFX, 1124) == row["application_category_name"] and \
       text(r, NFX, 1127) == row["requested_server_name"] and \
       text(r, NFX, 1130) == row["user_agent"] and text(r, NFX, 1131) == row["content_type"] and \
       uint(r, 0, 95) >> 32 == 6 and uint(r, NFX, 1125) == int(row["application_is_guessed"]):
        ok += 1
print(f"records={len(recs)} ok={ok} flows={len(rows)}")
PY
"$NFXDP" --pcap "$P/WebattackSQLinj.pcap" --dpi 20 >"$T/ipfix.csv" 2>/dev/null
PYTHONPATH="$TOP/tests/e2e" python3 "$T/ipfix.py" "$T/port" "$T/ipfix.csv" >"$T/ipfix.out" &
PIDS+=($!)
dec=$!
wait_for 5 test -s "$T/port"
"$NFXDP" --pcap "$P/WebattackSQLinj.pcap" --dpi 20 --ipfix "udp://127.0.0.1:$(cat "$T/port")" 2>/dev/null
wait "$dec"
n=$($FLOWS "$T/ipfix.csv" --count)
check "IPFIX: every record's application columns as in the CSV" "$(cat "$T/ipfix.out")" \
	"records=$n ok=$n flows=$n"

# --- bounds ----------------------------------------------------------------------
"$NFXDP" --pcap "$P/1kxun.pcap" --dpi 20 --dpi-flows 5 >"$T/bound.csv" 2>"$T/bound.log"
check "--dpi-flows 5 on 1kxun: flows dissected, and refused (dpi_flows_full)" \
	"$(stat "$T/bound.log" dpi_flows) $(stat "$T/bound.log" dpi_flows_full)" "34 95"
check "... each refused flow's record says so (application_dpi_cut)" \
	"$($FLOWS "$T/bound.csv" --where application_dpi_cut=true --count)" 95

# A capture's batches end before their packets could fill the DPI ring, which
# is drained between them: with 64 kB (one batch of 1kxun's 1024 frames would
# put some 500 packets into it) no packet misses it (the counter, printed when
# not 0, is absent), and the records are the default ring's.
"$NFXDP" --pcap "$P/1kxun.pcap" --dpi 20 --dpi-ring 64k >"$T/ring64.csv" 2>"$T/ring64.log"
"$NFXDP" --pcap "$P/1kxun.pcap" --dpi 20 >"$T/ring16m.csv" 2>/dev/null
full=$(stat "$T/ring64.log" dpi_ring_full)
check "--dpi-ring 64k on 1kxun: batches end before the ring fills (dpi_ring_full 0), the records of a 16 MB ring" \
	"${full:-0} $(cmp -s "$T/ring16m.csv" "$T/ring64.csv" && echo same)" "0 same"

# --- live: XDP and TC egress on one interface ---------------------------------
setup_pair noipv6 || { fail "namespaces"; exit 1; }
ip netns exec "$NS_B" python3 -m http.server 8000 --bind 198.18.0.2 -d "$T" >/dev/null 2>&1 &
PIDS+=($!)
wait_for 10 listening "$NS_B" tcp 8000 || fail "http.server listens"
head -c 4000000 /dev/urandom >"$T/big.bin"

IFACES="vb@$NS_B:both" start_nfxdp "$T/live.log" --dpi 20 || exit 1
start_cat "$T/live.csv" || exit 1
in_a curl -s -o /dev/null --local-port 45100 -A "nfxdp-test/1.0" -H "Host: www.nfxdp.test" \
	http://198.18.0.2:8000/ || fail "curl"
wait_for 10 has_flow "$T/live.csv" src_port=45100 protocol=6
stop_nfxdp
check "live HTTP: application, server name, user agent, content type" \
	"$($FLOWS "$T/live.csv" --where src_port=45100 --get application_name,application_category_name,requested_server_name,user_agent,content_type,application_dpi_cut)" \
	"HTTP Web www.nfxdp.test nfxdp-test/1.0 text/html false"
check "live HTTP: the request seen at XDP, the answer at TC egress (hooks 3)" \
	"$($FLOWS "$T/live.csv" --where src_port=45100 --get hooks)" 3

# A 16 kB ring holds 10 packets of 1500 bytes: a 4 MB answer's first 200 packets
# come faster than the collector, which waits on the export ring, reads it.
MPORT=$(free_port tcp)
IFACES="vb@$NS_B:both" start_nfxdp "$T/full.log" --dpi 200 --dpi-ring 16k \
	--metrics "127.0.0.1:$MPORT" || exit 1
start_cat "$T/full.csv" || exit 1
in_a curl -s -o /dev/null --local-port 45101 http://198.18.0.2:8000/big.bin || fail "curl big.bin"
wait_for 10 has_flow "$T/full.csv" src_port=45101 protocol=6
# /metrics: the ring's misses under their reason (refreshed every poll).
ring_full_metric() {
	curl -s "http://127.0.0.1:$MPORT/metrics" >"$T/metrics" &&
		awk '$1 == "nfxdp_dpi_cut_total{reason=\"ring_full\"}" && $2 > 0 { ok = 1 } END { exit !ok }' "$T/metrics"
}
wait_for 10 ring_full_metric && pass "/metrics: nfxdp_dpi_cut_total{reason=\"ring_full\"} > 0"
check "/metrics: flows_full counted apart, 0 here" \
	"$(grep -c '^nfxdp_dpi_cut_total{reason="flows_full"} 0$' "$T/metrics")" 1
stop_nfxdp
check "ring full: counted (dpi_ring_full > 0)" \
	"$(awk -v n="$(stat "$T/full.log" dpi_ring_full)" 'BEGIN { print (n > 0 ? "yes" : "no") }')" yes
check "ring full: the record says the detection was cut short" \
	"$($FLOWS "$T/full.csv" --where src_port=45101 --get application_name,application_dpi_cut)" "HTTP true"
exit $FAILED
