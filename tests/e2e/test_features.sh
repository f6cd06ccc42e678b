#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# --statistical and --splt against NFStream's golden values for
# google_ssl.pcap (accounting by IP length), and SPLT of its first packets
# against what tcpdump shows of them; both replay modes agree.
SUITE=e2e-features
. "$(dirname "$0")/lib.sh"
need_root
need_ref

f=$REF/pcaps/google_ssl.pcap
opts=(--pcap "$f" --accounting ip --statistical --splt 10 --natural-expiry off --format jsonl --output -)
"$NFXDP" "${opts[@]}" >"$T/batch.jsonl" 2>/dev/null
"$NFXDP" "${opts[@]}" --replay-mode frame >"$T/frame.jsonl" 2>/dev/null
check "batch and frame-by-frame replay agree" "$(md5sum <"$T/batch.jsonl")" "$(md5sum <"$T/frame.jsonl")"

# field=value pairs, floats to 0.001
golden() {
	python3 - "$T/batch.jsonl" "$@" <<'PY'
import json, sys
r = json.loads(open(sys.argv[1]).readline())
bad = []
for kv in sys.argv[2:]:
    k, v = kv.split("=")
    got = r.get(k)
    ok = abs(got - float(v)) <= 0.001 if "." in v else got == int(v)
    if not ok:
        bad.append(f"{k}={got} (want {v})")
print(" ".join(bad) if bad else "ok")
PY
}

check "counts and duration" "$(golden bidirectional_packets=28 bidirectional_bytes=8696 \
	src2dst_packets=16 src2dst_bytes=1288 dst2src_packets=12 dst2src_bytes=7408 \
	bidirectional_duration_ms=6670)" ok
check "packet sizes" "$(golden bidirectional_min_ps=40 bidirectional_mean_ps=310.571 \
	bidirectional_stddev_ps=500.546 bidirectional_max_ps=1470)" ok
check "inter-arrival times" "$(golden bidirectional_min_piat_ms=0 bidirectional_mean_piat_ms=247.037 \
	bidirectional_stddev_piat_ms=324.045 bidirectional_max_piat_ms=995)" ok
check "TCP flag counters" "$(golden bidirectional_syn_packets=2 bidirectional_ack_packets=27 \
	bidirectional_psh_packets=8 bidirectional_fin_packets=2 bidirectional_rst_packets=0)" ok

# tcpdump -tt -v of the first 10 packets: client 394.683939 (IP length 44),
# server .717671 (44), client .851093 (40), client .995795 (166), server
# 395.030206 (40), server .096760 (344), client .420093 (40), server .420117
# (1470), client 396.415004 (40), server .415026 (1470).
splt() {
	python3 -c 'import json,sys; r=json.loads(open(sys.argv[1]).readline()); print(r[sys.argv[2]])' \
		"$T/batch.jsonl" "$1"
}
check "splt_direction" "$(splt splt_direction)" "[0, 1, 0, 0, 1, 1, 0, 1, 0, 1]"
check "splt_ps: IP lengths" "$(splt splt_ps)" "[44, 44, 40, 166, 40, 344, 40, 1470, 40, 1470]"
check "splt_piat_ms: gaps of the truncated ms timestamps" "$(splt splt_piat_ms)" \
	"[0, 34, 134, 144, 35, 66, 324, 0, 995, 0]"
check "splt_piat_us: the same gaps in microseconds" "$(splt splt_piat_us)" \
	"[0, 33732, 133422, 144702, 34411, 66554, 323333, 24, 994887, 22]"
"$NFXDP" --pcap "$REF/pcaps/one_flow_1_5.pcap" --splt 8 --format csv --output - 2>/dev/null >"$T/short.csv"
check "splt past the flow's packets: -1" \
	"$($FLOWS "$T/short.csv" --get splt_ps | grep -o ', -1, -1, -1\]$')" ", -1, -1, -1]"
check "csv without the features has none of their columns" \
	"$("$NFXDP" --pcap "$f" --output - 2>/dev/null | head -1 | grep -c 'min_ps\|splt')" 0
exit $FAILED
