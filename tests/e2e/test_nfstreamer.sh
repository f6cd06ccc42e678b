#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# python/nfxdp's NFStreamer on capture files and an interface, the way an
# NFStream notebook uses it: NFStreamer(source=PCAP).to_pandas() runs nfxdp
# and reads its records through a pipe, to the end of its stream. Checked:
# - the DataFrame is nfxdp's CSV value for value, and NFStream's results
#   (flows, packets and bytes per flow); NFStream's google_ssl golden values
#   with statistical_analysis=True;
# - to_csv() is nfxdp's CSV byte for byte; flows_per_file, rotate_files;
# - columns_to_anonymize: digests, not the clear values, one per value within
#   a run, other ones in the next run;
# - every NFStream parameter: its effect, or its refusal naming it;
# - missing modules and a missing schema module: messages naming the fix;
# - pip install of python/ into a venv (--system-site-packages, offline).
# It runs as root (the interface part needs it); tests/e2e/test_usermode.sh
# runs NFStreamer on capture files as nobody.
SUITE=e2e-nfstreamer
. "$(dirname "$0")/lib.sh"
need_root
need_ref

PY3=${PYTHON:-/usr/bin/python3}
export PYTHONPATH=$TOP/python NFXDP
unset NFXDP_PB_DIR
CHK="$PY3 $TOP/tests/e2e/nfstreamer_checks.py"
P=$REF/pcaps
if ! "$PY3" -c 'import zmq, google.protobuf, pandas' 2>/dev/null; then
	fail "$PY3 cannot import zmq, google.protobuf and pandas (scripts/deps.sh installs them)"
	exit 1
fi
[ -f "$TOP/python/nfxdp/flow_pb2.py" ] || { fail "python/nfxdp/flow_pb2.py: run make python"; exit 1; }

# nfxdp's own CSV, with NFStream's metering (no natural expiry), as NFStreamer runs it.
nfxdp_csv() {
	local out=$1
	shift
	"$NFXDP" --natural-expiry off "$@" --output "$out" --format csv 2>/dev/null
}

# --- to_pandas(): nfxdp's records, NFStream's flows -------------------------------
for c in google_ssl.pcap 443-chrome.pcap dhcp.pcap gtp-u.pcap 6in6tunnel.pcap 1kxun.pcap skype.pcap; do
	nfxdp_csv "$T/$c.csv" --pcap "$P/$c"
	n=$(csv_rows "$T/$c.csv")
	check "to_pandas($c): nfxdp --pcap's $n flows, its columns, every value" \
		"$($CHK same_as_csv "$P/$c" "$T/$c.csv")" "$n True True"
	m=$(($(lines "$REF/results/$c.csv") - 1))
	check "to_pandas($c): NFStream's $m flows, packets and bytes per flow" \
		"$($CHK nfstream_results "$P/$c" "$REF/results/$c.csv")" "$m $m True"
done
check "to_pandas(google_ssl, statistical_analysis=True, accounting_mode=1): NFStream's golden values" \
	"$($CHK golden_ssl "$P/google_ssl.pcap")" \
	"1 28 8696 16 1288 12 7408 6670 40 310.571 500.546 1470 0 247.037 324.045 995 2 27 8 2"
mapfile -t parts < <(ls "$P"/one_flow_[0-9]*.pcap | sed 's/.*one_flow_\([0-9]*\).*/\1 &/' | sort -n | cut -d' ' -f2)
nfxdp_csv "$T/parts.csv" --pcap "${parts[@]}"
check "source=[${#parts[@]} files of one flow]: one capture (one flow, as nfxdp --pcap of them all)" \
	"$(SRC="${parts[*]}" $CHK run '" ".join(map(str, NFStreamer(source=SRC.split()).to_pandas()[["bidirectional_packets", "bidirectional_bytes"]].values.tolist()))')" \
	"[$($FLOWS "$T/parts.csv" --get bidirectional_packets,bidirectional_bytes | sed 's/ /, /')]"
[ "$(csv_rows "$T/parts.csv")" = 1 ] || fail "one_flow_*: $(csv_rows "$T/parts.csv") flows"

# --- to_csv() ----------------------------------------------------------------------
CAPS=("$P/google_ssl.pcap" "$P/443-chrome.pcap" "$P/1kxun.pcap")
nfxdp_csv "$T/want.csv" --pcap "${CAPS[@]}" --statistical --splt 10
n=$(csv_rows "$T/want.csv")
check "to_csv(): returns the $n flows it wrote" "$($CHK to_csv "$T/got.csv" "${CAPS[@]}")" "$n"
check "to_csv(): nfxdp's CSV byte for byte (statistical doubles, splt lists)" \
	"$(cmp "$T/got.csv" "$T/want.csv" 2>&1 && echo same)" same
nfxdp_csv "$T/plain.csv" --pcap "${CAPS[@]}"
check "to_csv(flows_per_file=50): files PATH.N.csv of 50 flows, each with its header" \
	"$($CHK chunks "$T/chunk.csv" 50 0 "${CAPS[@]}")" \
	"$n chunk.0.csv:50 chunk.1.csv:50 chunk.2.csv:$((n - 100))"
cat "$T"/chunk.[0-9].csv | awk 'NR == 1 || !/^id,/' >"$T/joined.csv"
check "to_csv(flows_per_file=50): the chunks joined are the whole CSV" \
	"$(cmp -s "$T/joined.csv" "$T/plain.csv" && echo same)" same
# Four chunks of 40 (the last one shorter) into two files: chunks 2 and 3 stay.
[ "$n" -gt 120 ] && [ "$n" -le 160 ] || fail "rotate_files: $n flows, not 121..160"
check "to_csv(flows_per_file=40, rotate_files=2): two files, holding the last two chunks" \
	"$($CHK chunks "$T/rot.csv" 40 2 "${CAPS[@]}")" "$n rot.0.csv:40 rot.1.csv:$((n - 120))"
check "to_csv(): path defaults to SOURCE.csv" \
	"$(cp "$P/dhcp.pcap" "$T/d.pcap" && SRC=$T/d.pcap $CHK run 'NFStreamer(source=SRC).to_csv()') $(csv_rows "$T/d.pcap.csv")" \
	"2 2"

# --- columns_to_anonymize ------------------------------------------------------------
check "to_pandas(columns_to_anonymize=[src_ip, dst_ip, src_mac]): digests (128 hex), not the clear values, one per value in a run, new ones the next run, other columns untouched" \
	"$($CHK anonymized "$P/1kxun.pcap")" "$(($(lines "$T/1kxun.pcap.csv") - 1)) True {128} True True True"
check "to_csv(columns_to_anonymize=[src_ip]): digests in the file" \
	"$($CHK anonymized_csv "$T/anon.csv" "$P/1kxun.pcap")" "$(csv_rows "$T/1kxun.pcap.csv") {128} True"
check "columns_to_anonymize=[no_such]: refused, rather than left in clear" \
	"$(SRC=$P/dhcp.pcap $CHK refused 'NFStreamer(source=SRC).to_pandas(columns_to_anonymize=["src_ipp"])')" \
	"ValueError: columns_to_anonymize: no such column: src_ipp"

# --- every NFStream parameter: its effect, or its refusal ---------------------------------
r() { SRC=$1 $CHK run "$2"; }
q() { SRC=$1 $CHK refused "$2"; }
G=$P/gtp-u.pcap
check "decode_tunnels=True (default): the GTP-U flows inside, tunnel_id 1" \
	"$(r "$G" 'sorted(set(NFStreamer(source=SRC).to_pandas().tunnel_id))')" "[1]"
check "decode_tunnels=False: the outer UDP flow, tunnel_id 0, port 2152" \
	"$(r "$G" 'sorted(set(zip(*[NFStreamer(source=SRC, decode_tunnels=False).to_pandas()[c] for c in ("tunnel_id", "dst_port")])))')" \
	"[(0, 2152)]"
check "bpf_filter='udp': only UDP flows (nfxdp --filter)" \
	"$(r "$P/1kxun.pcap" 'sorted(set(NFStreamer(source=SRC, bpf_filter="udp").to_pandas().protocol))')" "[17]"
got=$(q "$P/dhcp.pcap" 'NFStreamer(source=SRC, bpf_filter="tcp prot 443").to_pandas()')
check "bpf_filter: libpcap's refusal, naming the parameter ($got)" \
	"$(grep -c "^ValueError: bpf_filter='tcp prot 443': nfxdp: Couldn't compile --filter 'tcp prot 443': .*syntax error" <<<"$got")" 1
snap() { r "$P/1kxun.pcap" "(lambda s: (s.to_pandas() is None, s.stats['truncated_by_snaplen'], s.stats['frames_seen']))(NFStreamer(source=SRC, snapshot_length=$1))"; }
check "snapshot_length=34: every frame cut before its transport header, no flow (nfxdp --snaplen 34)" \
	"$(snap 34)" "(True, 1439, 1439)"
check "snapshot_length=1536 (default), 256: nothing cut (nfxdp reads 256 bytes of a frame at most)" \
	"$(snap 1536) $(snap 256)" "(False, 0, 1439) (False, 0, 1439)"
check "snapshot_length=20: refused (nfxdp needs 34 bytes)" \
	"$(q "$P/dhcp.pcap" 'NFStreamer(source=SRC, snapshot_length=20)')" \
	"ValueError: snapshot_length=20: nfxdp reads at least 34 bytes of a frame (Ethernet and IPv4 headers), or it could parse none"
k=$(csv_rows "$T/skype.pcap.csv")
nfxdp_csv "$T/idle1.csv" --pcap "$P/skype.pcap" --idle-timeout 1
check "idle_timeout=1: more flows than with 120 s, as nfxdp --idle-timeout 1" \
	"$(r "$P/skype.pcap" 'len(NFStreamer(source=SRC, idle_timeout=1).to_pandas())')" "$(csv_rows "$T/idle1.csv")"
[ "$(csv_rows "$T/idle1.csv")" -gt "$k" ] || fail "idle_timeout=1 splits flows ($(csv_rows "$T/idle1.csv") vs $k)"
nfxdp_csv "$T/active1.csv" --pcap "$P/google_ssl.pcap" --active-timeout 1
check "active_timeout=1: flows end as active (expiration_id 1), as nfxdp --active-timeout 1" \
	"$(r "$P/google_ssl.pcap" '" ".join(map(str, NFStreamer(source=SRC, active_timeout=1).to_pandas().expiration_id))')" \
	"$($FLOWS "$T/active1.csv" --get expiration_id | tr '\n' ' ' | sed 's/ $//')"
$FLOWS "$T/active1.csv" --get expiration_id | grep -q '^1$' || fail "active_timeout=1: no flow ended as active"
check "idle_timeout=0: refused (NFStream's 0 is not nfxdp's)" \
	"$(q "$P/dhcp.pcap" 'NFStreamer(source=SRC, idle_timeout=0)' | cut -d: -f1-2)" "ValueError: idle_timeout=0"
acc=()
for a in transport payload; do
	nfxdp_csv "$T/acc-$a.csv" --pcap "$P/google_ssl.pcap" --accounting $a
	acc+=("$($FLOWS "$T/acc-$a.csv" --get bidirectional_bytes)")
done
check "accounting_mode=0..3: link (NFStream's 9108), IP (NFStream's 8696), transport, payload bytes (nfxdp --accounting)" \
	"$(r "$P/google_ssl.pcap" '" ".join(str(NFStreamer(source=SRC, accounting_mode=m).to_pandas().bidirectional_bytes[0]) for m in range(4))')" \
	"9108 8696 ${acc[*]}"
check "accounting_mode=4: refused" "$(q "$P/dhcp.pcap" 'NFStreamer(source=SRC, accounting_mode=4)')" \
	"ValueError: Please specify a valid accounting_mode parameter (possible values: 0, 1, 2, 3)."
nfxdp_csv "$T/feat.csv" --pcap "$P/1kxun.pcap" --statistical --splt 5
check "statistical_analysis=True, splt_analysis=5: NFStream's feature columns, as nfxdp --statistical --splt 5, value for value" \
	"$($CHK same_as_csv "$P/1kxun.pcap" "$T/feat.csv" statistical_analysis=True splt_analysis=5)" \
	"$(csv_rows "$T/feat.csv") True True"
check "statistical_analysis=False (default): none of them" \
	"$(r "$P/dhcp.pcap" '[c for c in NFStreamer(source=SRC).to_pandas().columns if "mean_ps" in c or "splt" in c]')" "[]"
check "splt_analysis=33: refused (32 at most)" "$(q "$P/dhcp.pcap" 'NFStreamer(source=SRC, splt_analysis=33)')" \
	"ValueError: splt_analysis=33: nfxdp keeps the first 32 packets of a flow at most"
check "max_nflows=3: three flows, then nfxdp is stopped" \
	"$(r "$P/skype.pcap" 'len(NFStreamer(source=SRC, max_nflows=3).to_pandas())')" 3
check "iteration: Flow objects with NFStream's attribute names, all $(csv_rows "$T/1kxun.pcap.csv") flows, ending with the capture" \
	"$(r "$P/1kxun.pcap" '"\n".join(f"{f.id} {f.src_ip} {f.dst_port} {f.bidirectional_packets}" for f in NFStreamer(source=SRC))' | md5sum)" \
	"$($FLOWS "$T/1kxun.pcap.csv" --get id,src_ip,dst_port,bidirectional_packets | md5sum)"
check "promiscuous_mode=False on a file: the same flows (no effect, as in NFStream)" \
	"$(r "$P/dhcp.pcap" 'NFStreamer(source=SRC, promiscuous_mode=False).to_pandas().equals(NFStreamer(source=SRC).to_pandas())')" \
	True
check "n_dissections=0 (default here): no application columns; 20: nDPI's, as NFStream's" \
	"$(r "$P/dhcp.pcap" '"application_name" in NFStreamer(source=SRC, n_dissections=0).to_pandas().columns') $(r "$P/dhcp.pcap" '" ".join(NFStreamer(source=SRC, n_dissections=20).to_pandas().application_name)')" \
	"False DHCP DHCP"
for p in 'udps=[object()]' n_meters=2 performance_report=1 system_visibility_mode=1 \
	socket_buffer_size=65536; do
	got=$(q "$P/dhcp.pcap" "NFStreamer(source=SRC, $p)")
	check "$p: refused, naming it ($got)" "$(grep -c "^ValueError: ${p%%=*}=" <<<"$got")" 1
done
check "system_visibility_poll_ms, n_meters=0, udps=None, socket_buffer_size=0, performance_report=0: NFStream's defaults, accepted" \
	"$(r "$P/dhcp.pcap" 'len(NFStreamer(source=SRC, system_visibility_poll_ms=50, n_meters=0, udps=None, socket_buffer_size=0, performance_report=0).to_pandas())')" 2
check "a source neither file nor interface: NFStream's message" \
	"$(q /nonexistent 'NFStreamer(source=SRC)' | cut -c1-60)" \
	"ValueError: Please specify a pcap file path or a valid netwo"
check "a ZeroMQ source with a metering parameter: refused, naming the agent's option" \
	"$($CHK refused 'NFStreamer(source="tcp://127.0.0.1:1", idle_timeout=5)' 2>&1)" \
	"ValueError: idle_timeout=5: a ZeroMQ source is metered by its agent: give nfxdp --idle-timeout there"
mkdir -p "$T/bin" && printf '#!/bin/sh\n' >"$T/bin/nfxdp" && chmod +x "$T/bin/nfxdp"
check "nfxdp found through \$NFXDP, then the checkout's build/, then PATH" \
	"$(NFXDP=/nonexistent $CHK refused 'nfxdp.find_nfxdp()' 2>&1)
$(NFXDP=$T/bin/nfxdp $CHK run 'nfxdp.find_nfxdp()')
$(env -u NFXDP PATH=$T/bin:/usr/bin:/bin $CHK run 'nfxdp.find_nfxdp()')" \
	"FileNotFoundError: NFXDP=/nonexistent: not an executable file
$T/bin/nfxdp
$([ -x "$TOP/build/nfxdp" ] && echo "$TOP/build/nfxdp" || echo "$T/bin/nfxdp")"

# An nfxdp that stops before the end of its stream: an error, not a short DataFrame.
printf '#!/bin/sh\necho "nfxdp: Couldn'"'"'t load BPF programs: Operation not permitted" >&2\nexit 1\n' >"$T/bin/failing"
printf '#!/bin/sh\nexit 0\n' >"$T/bin/silent"
chmod +x "$T/bin/failing" "$T/bin/silent"
for b in failing:1 silent:0; do
	got=$(NFXDP=$T/bin/${b%%:*} SRC=$P/dhcp.pcap $CHK run '(lambda: [0 for _ in NFStreamer(source=SRC)])()' 2>&1 | grep '^RuntimeError')
	check "an nfxdp that ends (status ${b#*:}) before its end of stream: RuntimeError" \
		"${got%%:*}: $(grep -c "nfxdp ended (exit status ${b#*:}) before the end of its stream" <<<"$got")" "RuntimeError: 1"
done

# --- what is missing, said ----------------------------------------------------------------
for m in zmq:python3-zmq google.protobuf:python3-protobuf pandas:python3-pandas; do
	got=$("$PY3" -c "
import sys
sys.modules['${m%%:*}'] = None
try:
    import nfxdp
    nfxdp.NFStreamer(source='tcp://127.0.0.1:1').to_pandas(timeout=0.01)
except ImportError as e:
    print(e)
" 2>&1)
	check "no ${m%%:*}: an ImportError naming Debian's ${m#*:}" \
		"$(grep -c "install Debian's ${m#*:} (apt install ${m#*:})" <<<"$got")" 1
done
mkdir -p "$T/nopb" && cp "$TOP"/python/nfxdp/{__init__,consumer,schema,streamer}.py "$T/nopb/" &&
	mkdir -p "$T/nopb/x" && mv "$T/nopb"/*.py "$T/nopb/x/" && mv "$T/nopb/x" "$T/nopb/nfxdp"
check "no flow_pb2.py: SchemaError saying to run make python" \
	"$(cd / && PYTHONPATH=$T/nopb "$PY3" -c 'import nfxdp
try:
    nfxdp.pb2()
except nfxdp.SchemaError as e:
    print("make python" in str(e))')" True

# --- the package: pip install ./python into a venv ------------------------------------------
# A copy, so the build leaves nothing in the checkout; offline, on Debian's
# setuptools and wheel; the venv sees Debian's zmq, protobuf and pandas.
cp -r "$TOP/python" "$T/pysrc"
"$PY3" -m venv --system-site-packages "$T/venv" &&
	"$T/venv/bin/pip" install -q --no-index --no-build-isolation "$T/pysrc" >"$T/pip.log" 2>&1
check "pip install ./python into a venv (--system-site-packages, offline): exit status 0" "$?" 0
check "the venv's nfxdp: installed (not the checkout's), with its schema module, runs nfxdp" \
	"$(cd / && env -u PYTHONPATH T="$T" PCAP="$P/1kxun.pcap" "$T/venv/bin/python" -c 'import os, nfxdp
print(nfxdp.__file__.startswith(os.environ["T"]), os.path.exists(os.path.join(os.path.dirname(nfxdp.__file__), "flow_pb2.py")), len(nfxdp.NFStreamer(source=os.environ["PCAP"]).to_pandas()))' 2>&1)" \
	"True True $(csv_rows "$T/1kxun.pcap.csv")"

# --- an interface ----------------------------------------------------------------------------
# NFStreamer(source="vb") in vb's namespace: promiscuous while it runs;
# Ctrl-C ends nfxdp's stream (every flow flushed) and to_pandas() returns.
setup_pair noipv6 || { fail "namespaces"; exit 1; }
# Not through in_b: a function put in the background is a subshell, which
# ignores SIGINT; ip netns exec execs, so $! is Python's pid.
ip netns exec "$NS_B" env T="$T" "$PY3" -c 'import os
from nfxdp import NFStreamer
df = NFStreamer(source="vb").to_pandas()
df.to_csv(os.environ["T"] + "/live.csv", index=False)' >"$T/live.out" 2>"$T/live.err" &
LIVE=$!
PIDS+=("$LIVE")
attached() { in_b ip link show vb | grep -q 'prog/xdp'; }
wait_for 10 attached
check "interface: promiscuous while NFStreamer runs (promiscuous_mode=True)" \
	"$(in_b ip -d link show vb | grep -o 'promiscuity [0-9]*')" "promiscuity 1"
in_a "$INJECT" --iface va --smac 02:00:00:00:aa:01 --dmac 02:00:00:00:aa:02 \
	--src 198.18.0.1 --dst 198.18.0.2 --proto udp --sport 1000 --dport 2000 --payload 100 --count 4
wait_for 10 xdp_frames_at_least "$NS_B" vb 4
kill -INT "$LIVE"
wait "$LIVE"
check "interface: Ctrl-C ends the stream; to_pandas() returns its flows" \
	"$? $($FLOWS "$T/live.csv" --get src_ip,dst_port,bidirectional_packets,expiration_id)" \
	"0 198.18.0.1 2000 4 4"
check "interface: promiscuous no more" \
	"$(in_b ip -d link show vb | grep -o 'promiscuity [0-9]*')" "promiscuity 0"

# A record of nfxdp's own reason 5 (overflow: the full cache had no room for
# the packet) reaches NFStream users as its 3 (emergency); replay never
# overflows, so the mapping is checked on rows.
check "expiration_id: nfxdp's 5 (overflow) is NFStream's 3, the others as they are" \
	"$($CHK run '[nfxdp.streamer._nfstream_expiration({"expiration_id": i})["expiration_id"] for i in range(6)]')" \
	"[0, 1, 2, 3, 4, 3]"
exit $FAILED
