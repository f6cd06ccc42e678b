#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Capture files in their corners, with exact counts: a file truncated while
# nfxdp reads it, a capture from a FIFO and from a pipe on stdin, records
# that claim an impossible original length, time that jumps, FabricPath.
# Crafted with tests/e2e/mkpcap.py.
SUITE=e2e-capture
. "$(dirname "$0")/lib.sh"
need_root
MKPCAP="python3 $TOP/tests/e2e/mkpcap.py"

# run OUT.csv [nfxdp options...]: nfxdp --pcap as the tests use it, stderr in OUT.err.
run() {
	local out=$1
	shift
	"$NFXDP" --natural-expiry off --accounting link --format csv --output - "$@" \
		>"$out" 2>"${out%.csv}.err"
}

# counter ERR NAME: a counter of nfxdp's last stats line (0 is not printed).
counter() {
	local v
	v=$(stat "$1" "$2")
	echo "${v:-0}"
}

# --- A file truncated while it is read -------------------------------------
# 3,000 frames of one key, 2 s apart under --idle-timeout 1: each closes the
# flow before it, so records flow out while the capture is read; then 30,000
# frames of a second key, 1 ms apart (one flow), 1,058 bytes a record. The
# records go to a FIFO nobody reads: once its pipe is full, nfxdp waits on
# it, a few frames into the file; the file is cut to 16 MiB; then the FIFO
# is read. nfxdp must meter every whole record of the first 16 MiB, flush,
# say the file shrank, and exit 1 (a memory-mapped reader took SIGBUS).
{
	awk 'BEGIN { for (i = 0; i < 3000; i++) printf "%d 198.18.1.1 198.18.1.2 1000 53\n", 1700000000 + 2 * i }'
	awk 'BEGIN { for (i = 0; i < 30000; i++) printf "%.3f 198.18.2.1 198.18.2.2 2000 80 payload=1000\n", 1700010000 + i / 1000 }'
} | $MKPCAP "$T/cut.pcap"
CUT=$((16 << 20))
mkfifo "$T/cut.fifo"
/usr/bin/python3 - "$T/cut.fifo" "$T/cut.csv" "$T/cut.full" "$T/cut.go" <<'EOF' &
import fcntl, os, struct, sys, termios, time
fifo, out, full, go = sys.argv[1:]
fd = os.open(fifo, os.O_RDONLY)
try:
    fcntl.fcntl(fd, 1031, 4096)  # F_SETPIPE_SZ: fills sooner
except OSError:
    pass
size = fcntl.fcntl(fd, 1032)  # F_GETPIPE_SZ
while struct.unpack("i", fcntl.ioctl(fd, termios.FIONREAD, b"\0" * 4))[0] < size:
    time.sleep(0.01)
open(full, "w").close()
while not os.path.exists(go):
    time.sleep(0.01)
with open(out, "wb") as f:
    while True:
        b = os.read(fd, 1 << 16)
        if not b:
            break
        f.write(b)
EOF
READER=$!
PIDS+=("$READER")
"$NFXDP" --pcap "$T/cut.pcap" --idle-timeout 1 --natural-expiry off --format csv \
	--output "$T/cut.fifo" 2>"$T/cut.err" &
CUTTER=$!
PIDS+=("$CUTTER")
for _ in $(seq 300); do
	[ -e "$T/cut.full" ] && break
	sleep 0.1
done
# How far nfxdp has read the capture when it is cut (its descriptor's offset).
pos=
for fd in /proc/$CUTTER/fd/*; do
	[ "$(readlink "$fd")" = "$T/cut.pcap" ] && pos=$(awk '/^pos:/ { print $2 }' "/proc/$CUTTER/fdinfo/${fd##*/}")
done
truncate -s "$CUT" "$T/cut.pcap"
touch "$T/cut.go"
wait "$CUTTER"
status=$?
wait "$READER"
check "truncated: the output stalled before nfxdp read past the cut" \
	"$([ -e "$T/cut.full" ] && [ "${pos:-$CUT}" -lt "$CUT" ] && echo yes)" yes
check "truncated: exit status 1, no crash" "$status" 1
check "truncated: says the file shrank" "$(grep -c 'shrank while it was read' "$T/cut.err")" 1
check "truncated: 3,000 one-packet records of the first key" \
	"$($FLOWS "$T/cut.csv" --where src_port=1000 --where bidirectional_packets=1 --count)" 3000
# Every whole record before the cut: the file header, 3,000 of 76 bytes, then 1,058.
check "truncated: every frame before the cut in one flow of the second key" \
	"$($FLOWS "$T/cut.csv" --where src_port=2000 --get bidirectional_packets)" \
	$(((CUT - 24 - 3000 * 76) / 1058))

# --- From a FIFO, from a pipe on stdin ---------------------------------------
# No size to size the flow cache from: it gets --max-flows entries and scans
# as live. 60,000 frames, 5 for each of 12,000 flows (1,024 entries and
# 49,726 frames lost, exit 0, when a FIFO counted as an empty file).
awk 'BEGIN { for (i = 0; i < 60000; i++) { f = int(i / 5); printf "%.4f 198.18.%d.%d 198.18.9.9 %d 53\n", 1700000000 + i / 10000, int(f / 250) % 250, f % 250, 1000 + f } }' >"$T/many.txt"
$MKPCAP "$T/many.pcap" <"$T/many.txt"
$MKPCAP "$T/many.pcapng" --pcapng <"$T/many.txt"
mkfifo "$T/many.fifo"
cat "$T/many.pcap" >"$T/many.fifo" &
run "$T/fifo.csv" --pcap "$T/many.fifo" --max-flows 16384
check "FIFO: exit status 0" $? 0
check "FIFO: 12,000 flows of 5 packets" \
	"$($FLOWS "$T/fifo.csv" --where bidirectional_packets=5 --count)" 12000
check "FIFO: every frame metered, none lost" \
	"$(counter "$T/fifo.err" frames_metered) $(counter "$T/fifo.err" lost_insert_failed)" "60000 0"
# pcapng through libpcap, into a cache a third of the flows: emergency expiry.
cat "$T/many.pcapng" | run "$T/stdin.csv" --pcap - --max-flows 4096
check "stdin, pcapng, 3x --max-flows: exit status 0" $? 0
check "stdin: every frame in a record" "$($FLOWS "$T/stdin.csv" --sum bidirectional_packets)" 60000
check "stdin: nothing lost or evicted" \
	"$(counter "$T/stdin.err" lost_insert_failed) $(counter "$T/stdin.err" flows_evicted_estimated)" "0 0"
check "stdin: the cache filled (emergency expiry ran)" \
	"$([ "$(counter "$T/stdin.err" flows_exported_emergency)" -gt 0 ] && echo yes)" yes

# --- Records that claim an impossible original length ------------------------
# Below the bytes captured, or above 1 MiB (more than Linux hands a capture,
# offload aggregates included): counted at the captured length, and counted
# in capture_len_clamped. A frame cut by a snapshot length keeps its length.
$MKPCAP "$T/len.pcap" <<'EOF'
1700000000.0 198.18.3.1 198.18.3.2 1 53
1700000000.1 198.18.3.1 198.18.3.2 1 53
1700000000.2 198.18.3.1 198.18.3.2 1 53
1700000000.3 198.18.3.1 198.18.3.2 2 53 len=4026531840
1700000000.4 198.18.3.1 198.18.3.2 3 53 len=30
1700000000.5 198.18.3.1 198.18.3.2 4 53 payload=1458 caplen=60
1700000000.6 198.18.3.1 198.18.3.2 5 53 caplen=60 len=1048576
EOF
for mode in batch frame; do
	run "$T/len-$mode.csv" --pcap "$T/len.pcap" --replay-mode $mode
	check "impossible lengths ($mode): exit status 0" $? 0
	check "impossible lengths ($mode): bytes per flow" \
		"$($FLOWS "$T/len-$mode.csv" --get src_port,bidirectional_packets,bidirectional_bytes | sort -n | tr '\n' ' ')" \
		"1 3 180 2 1 60 3 1 60 4 1 1500 5 1 1048576 "
	check "impossible lengths ($mode): 2 counted as clamped" \
		"$(counter "$T/len-$mode.err" capture_len_clamped)" 2
done

# --- Time that jumps ----------------------------------------------------------
# PARITY.md: a lone frame more than an hour from both its neighbours (which
# are close to each other) is metered at its predecessor's time; a frame
# more than an hour behind the capture's clock is raised to it, as any older
# frame (NFStream). Both counted in time_restamped. Key A: 10 frames 1 s
# apart in 2023, the 5th stamped in 2100: one flow of 10 packets over 9 s
# (the 2100 frame used to close the flow and move every later frame to 2100).
# Key B: 2 frames 200 s apart, then idle: the 120 s idle timeout still splits
# it. Key C: a frame, 3 frames 10 h earlier, a frame: one flow, 3 counted.
# Key D: a capture merged from two days, 30 h apart: followed, not counted.
for i in $(seq 0 9); do
	t=$((1700000000 + i))
	[ "$i" = 4 ] && t=4102444800
	echo "$t 198.18.4.1 198.18.4.2 1 53"
done >"$T/time.txt"
cat >>"$T/time.txt" <<'EOF'
1700000010 198.18.4.1 198.18.4.2 2 53
1700000210 198.18.4.1 198.18.4.2 2 53
1700000300 198.18.4.1 198.18.4.2 3 53
1699964300 198.18.4.1 198.18.4.2 3 53
1699964301 198.18.4.1 198.18.4.2 3 53
1699964302 198.18.4.1 198.18.4.2 3 53
1700000301 198.18.4.1 198.18.4.2 3 53
1700108000 198.18.4.1 198.18.4.2 4 53
1700108001 198.18.4.1 198.18.4.2 4 53
EOF
$MKPCAP "$T/time.pcap" <"$T/time.txt"
for mode in batch frame; do
	run "$T/time-$mode.csv" --pcap "$T/time.pcap" --replay-mode $mode
	check "time ($mode): exit status 0" $? 0
	check "time ($mode): packets, duration and first seen per flow" \
		"$($FLOWS "$T/time-$mode.csv" --get src_port,bidirectional_packets,bidirectional_duration_ms,bidirectional_first_seen_ms | sort -n | tr '\n' ' ')" \
		"1 10 9000 1700000000000 2 1 0 1700000010000 2 1 0 1700000210000 3 5 1000 1700000300000 4 2 1000 1700108000000 "
	check "time ($mode): 4 frames counted as restamped" "$(counter "$T/time-$mode.err" time_restamped)" 4
	check "time ($mode): said at the end" \
		"$(grep -c '^nfxdp: 4 frames were metered at another time than their own' "$T/time-$mode.err")" 1
done

# --- Cisco FabricPath ----------------------------------------------------------
# The original frame behind the 16-byte outer header is metered: its
# addresses, ports and MACs; link accounting counts the whole frame.
$MKPCAP "$T/fp.pcap" <<'EOF'
1700000000.0 198.18.5.1 198.18.5.2 5000 53 fabricpath=1
1700000000.1 198.18.5.2 198.18.5.1 53 5000 fabricpath=1 payload=100
1700000000.2 198.18.5.1 198.18.5.2 5000 53 fabricpath=1 vlan=42
EOF
run "$T/fp.csv" --pcap "$T/fp.pcap"
check "fabricpath: exit status 0" $? 0
check "fabricpath: the inner flows, macs, packets and bytes" \
	"$($FLOWS "$T/fp.csv" --get vlan_id,src_ip,src_port,dst_ip,dst_port,src_mac,dst_mac,src2dst_packets,src2dst_bytes,dst2src_packets,dst2src_bytes | sort | tr '\n' ' ')" \
	"0 198.18.5.1 5000 198.18.5.2 53 02:00:00:00:0a:01 02:00:00:00:0a:02 1 76 1 158 42 198.18.5.1 5000 198.18.5.2 53 02:00:00:00:0a:01 02:00:00:00:0a:02 1 80 0 0 "

exit $FAILED
