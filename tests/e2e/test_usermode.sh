#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# The user-space meter (--meter user: bpf/meter.bpf.c compiled a second
# time, for the host) against the kernel's (--meter kernel: the same source
# as BPF, run by BPF_PROG_TEST_RUN):
# - differential: every reference capture, in each metering configuration
#   below, gives byte-identical CSV both ways (every column: nothing differs
#   legitimately, since capture time is the clock of both);
# - the whole set as one capture through a cache that may fill (periodic
#   scans, the LRU map) gives identical records too; through one too small
#   (--max-flows 512) user space expires flows early and loses none (the
#   kernel's LRU, with per-CPU free lists, evicts before it is full there:
#   not comparable);
# - as nobody (setpriv): nfxdp --pcap meters (auto picks user space), the
#   same records as root's; --meter kernel fails saying why; and Python's
#   NFStreamer(source=PCAP).to_pandas() gives NFStream's flows, packets and
#   bytes;
# - --dpi 20 as nobody (user space, in batches, the whole frames kept beside
#   the slots) against root's --meter kernel (frame by frame through the XDP
#   program): every reference capture, byte-identical CSV, so the same
#   application columns on every flow;
# - what user space cannot do is refused, saying so;
# - a capture file metered to CSV loads none of the optional libraries
#   (ZeroMQ, libpcap, Mosquitto, libmicrohttpd, nDPI: common/lazylib.h).
SUITE=e2e-usermode
. "$(dirname "$0")/lib.sh"
need_root
need_ref
need_tools setpriv

run() {
	"$NFXDP" --format csv --output - "$@" 2>>"$T/stderr"
}

# The kernel's systematic sampling counts frames per CPU: one CPU for it.
krun() {
	taskset -c 0 "$NFXDP" --format csv --output - "$@" 2>>"$T/stderr"
}

# The configurations: what test_parity, test_features and test_selection use.
CONFIGS=(
	"--natural-expiry off"
	"--statistical --splt 10 --accounting ip"
	"--accounting transport --idle-timeout 5 --active-timeout 20"
	"--accounting payload --decode-tunnels off"
	"--filter tcp --sample 3 --sample-mode systematic"
	"--filter 'udp or icmp or icmp6' --snaplen 64 --hash-slice 1/2"
)

for cfg in "${CONFIGS[@]}"; do
	same=0
	total=0
	rows=0
	differ=()
	for f in "$REF"/pcaps/*; do
		total=$((total + 1))
		# The configuration's words are options, a filter quoted.
		eval "krun --pcap \"\$f\" --meter kernel $cfg" >"$T/k.csv"
		k=$?
		eval "run --pcap \"\$f\" --meter user $cfg" >"$T/u.csv"
		u=$?
		if [ "$k" = "$u" ] && cmp -s "$T/k.csv" "$T/u.csv"; then
			same=$((same + 1))
			rows=$((rows + $(csv_rows "$T/u.csv")))
		else
			differ+=("$(basename "$f") (exit $k/$u)")
		fi
	done
	check "$cfg: every reference capture, the same CSV from user space as from the kernel ($rows flows)" \
		"$same of $total; differ: ${differ[*]}" "$total of $total; differ: "
done

ALL=("$REF"/pcaps/*)
run --pcap "${ALL[@]}" --meter kernel --max-flows 4096 --idle-timeout 30 >"$T/k.csv"
"$NFXDP" --pcap "${ALL[@]}" --meter user --max-flows 4096 --idle-timeout 30 2>"$T/u.err" >"$T/u.csv"
check "all ${#ALL[@]} captures as one, --max-flows 4096 (an LRU cache, scanned): the same $(csv_rows "$T/u.csv") records both ways" \
	"$(cmp "$T/k.csv" "$T/u.csv" 2>&1 && echo same) $(grep -c 'scans=[1-9]' "$T/u.err")" "same 1"
packets() { awk -F, 'NR > 1 { n += $16 } END { print n + 0 }' "$1"; }
"$NFXDP" --pcap "${ALL[@]}" --meter user --max-flows 512 --idle-timeout 30 2>"$T/small.err" >"$T/small.csv"
check "--max-flows 512 in user space: emergency expiry, no flow evicted, every packet of the 4096 run in a record" \
	"$(grep -c 'emergency_runs=[1-9]' "$T/small.err") $(grep -o 'flows_evicted_estimated=[0-9]*' "$T/small.err") $(packets "$T/small.csv")" \
	"1 flows_evicted_estimated=0 $(packets "$T/u.csv")"

# A cache past umeter.c's PREFETCH_MIN_BYTES (4 MB; 192 bytes an entry): user space meters
# a group of frames at a time, fetching the next groups' flows ahead.
"$B/nfxdp-gencap" -o "$T/big.pcap" --packets 160000 --flows 80000 --duration 20 --seed 3 \
	>/dev/null 2>&1 || fail "nfxdp-gencap"
run --pcap "$T/big.pcap" --meter kernel >"$T/bk.csv"
run --pcap "$T/big.pcap" --meter user >"$T/bu.csv"
check "80,000 flows (user space fetching ahead): the same records as the kernel's" \
	"$(csv_rows "$T/bu.csv") $(cmp "$T/bk.csv" "$T/bu.csv" 2>&1 && echo same)" "80000 same"
rm -f "$T/big.pcap"

# --- without privileges ----------------------------------------------------------------
nobody() { setpriv --reuid=nobody --regid=nogroup --clear-groups --inh-caps=-all "$@"; }
mkdir -p "$T/nobody" && chmod 0777 "$T/nobody" && chmod 0755 "$T"
G=$REF/pcaps/google_ssl.pcap
run --pcap "$G" "$REF/pcaps/1kxun.pcap" --meter kernel >"$T/root.csv"
nobody "$NFXDP" --pcap "$G" "$REF/pcaps/1kxun.pcap" >"$T/nobody/out.csv" 2>"$T/nobody/err"
check "as nobody: nfxdp --pcap exits 0, CSV on stdout, the kernel meter's records as root" \
	"$? $(cmp -s "$T/root.csv" "$T/nobody/out.csv" && echo same)" "0 same"
nobody "$NFXDP" --pcap "$G" --meter kernel >/dev/null 2>"$T/nobody/kerr"
check "as nobody, --meter kernel: exit 1, saying why and what to do" \
	"$? $(grep -c "Operation not permitted (run as root, or with CAP_BPF" "$T/nobody/kerr")" "1 1"
same=0
total=0
apps=0
differ=()
for f in "$REF"/pcaps/*; do
	total=$((total + 1))
	run --pcap "$f" --dpi 20 --meter kernel >"$T/k.csv"
	k=$?
	nobody "$NFXDP" --pcap "$f" --dpi 20 >"$T/nobody/u.csv" 2>/dev/null
	u=$?
	if [ "$k" = "$u" ] && cmp -s "$T/k.csv" "$T/nobody/u.csv"; then
		same=$((same + 1))
		apps=$((apps + $(csv_rows "$T/k.csv") - $($FLOWS "$T/k.csv" --where application_name=Unknown --count)))
	else
		differ+=("$(basename "$f") (exit $k/$u)")
	fi
done
check "as nobody, --dpi 20 (user space): every reference capture, the kernel meter's CSV as root, application columns included ($apps flows with an application)" \
	"$same of $total; differ: ${differ[*]}" "$total of $total; differ: "
PY3=${PYTHON:-/usr/bin/python3}
CHK="$PY3 $TOP/tests/e2e/nfstreamer_checks.py"
for c in google_ssl.pcap 443-chrome.pcap gtp-u.pcap 6in6tunnel.pcap skype.pcap; do
	m=$(($(lines "$REF/results/$c.csv") - 1))
	check "as nobody: NFStreamer(source=$c).to_pandas(): NFStream's $m flows, packets and bytes per flow" \
		"$(cd "$T/nobody" && nobody env HOME="$T/nobody" PYTHONPATH="$TOP/python" NFXDP="$NFXDP" \
			PYTHONDONTWRITEBYTECODE=1 $CHK nfstream_results "$REF/pcaps/$c" "$REF/results/$c.csv" 2>&1)" \
		"$m $m True"
done

# --- what user space does not do -------------------------------------------------------
"$NFXDP" --iface lo --meter user >/dev/null 2>"$T/err"
check "--meter user --iface: refused (exit 2), naming --meter kernel" \
	"$? $(grep -c 'an interface is metered by the kernel' "$T/err")" "2 1"
"$NFXDP" --pcap "$G" --meter user --replay-mode frame >/dev/null 2>"$T/err"
check "--meter user --replay-mode frame: refused (exit 2)" \
	"$? $(grep -c 'needs --meter kernel' "$T/err")" "2 1"
run --pcap "$G" --replay-mode frame >"$T/frame.csv"
run --pcap "$G" >"$T/auto.csv"
check "--replay-mode frame alone: the kernel meter, frame by frame, the same records as auto's" \
	"$(cmp -s "$T/frame.csv" "$T/auto.csv" && echo same)" same

# --- start-up: the optional libraries are loaded when used, not at start ----------------
# LD_DEBUG=files names every library the loader initialises (common/lazylib.h).
optional_libs() {
	LD_DEBUG=files "$NFXDP" "$@" 2>&1 >/dev/null |
		grep -Ec 'calling init: .*/lib(zmq|pcap|mosquitto|microhttpd|ndpi)\.so'
}
check "--pcap, CSV: none of libzmq, libpcap, libmosquitto, libmicrohttpd, libndpi loaded" \
	"$(optional_libs --pcap "$G" --format csv --output /dev/null)" 0
check "--pcap --filter tcp: libpcap alone loaded, to compile the filter" \
	"$(optional_libs --pcap "$G" --filter tcp --format csv --output /dev/null)" 1

exit $FAILED
