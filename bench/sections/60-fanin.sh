#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Fan-in, on loopback: records per second one nfxdp agent exports over
# ZeroMQ to a consumer that only counts; the same through a forwarder
# (pyzmq's zmq.proxy and libzmq's zmq_proxy in C), with the agent and with a
# publisher that replays batches as fast as the forwarder takes them; IPFIX
# into nfdump's nfcapd and pmacct's nfacctd. The figures docs/scaling.md
# quotes. Writes a Markdown section to stdout.
set -u
. "$(dirname "$0")/../lib.sh"

ONE_FLOWS=${BENCH_FANIN_FLOWS:-500000} # flows of the one-frame-per-flow capture
BLAST_S=${BENCH_FANIN_BLAST_S:-4}     # seconds of each forwarder saturation run
BLAST=$(bench_tool blast) || { log "fanin: cannot build bench/blast.c"; exit 1; }
T=$(mktemp -d "$WORK/fanin.XXXXXX") || exit 1

PIDS=()
INT_PIDS=() # nfacctd ends on SIGINT only
CGS=()
cleanup() {
	local p g
	for p in "${INT_PIDS[@]}"; do kill -INT "$p" 2>/dev/null; done
	for p in "${PIDS[@]}"; do kill -KILL "$p" 2>/dev/null; done
	wait 2>/dev/null
	for g in "${CGS[@]}"; do cg_del "$g"; done
	[ -n "${BENCH_KEEP:-}" ] && log "fanin: kept $T" || rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# pyzmq: the python3 in PATH may be another one (pyenv) than the system's.
PYZ=
for p in python3 /usr/bin/python3; do
	"$p" -c 'import zmq' 2>/dev/null && { PYZ=$p; break; }
done

# --- tools ------------------------------------------------------------------

# One small C program, three modes:
#   count ENDPOINT IDLE_MS FIRST_MS: a SUB that counts batches and flows (top
#     level of each FlowBatch only) and the batches lost (sequence gaps), until
#     IDLE_MS pass without one; prints "batches flows lost bytes first_ns last_ns bad"
#   proxy UP DOWN: XSUB connected to UP, XPUB bound on DOWN, zmq_proxy()
#   blast ENDPOINT FILE SECONDS: XPUB (no drop: waits at its high-water mark)
#     that waits for a subscriber, then sends the batches of FILE (nfxdp
#     --format pb) round and round for SECONDS, each with a new sequence
#     number; prints "batches flows bytes send_ns done_ns"
cat >"$T/fanin.c" <<'EOF'
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zmq.h>

static uint64_t now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_REALTIME, &t);
	return t.tv_sec * 1000000000ULL + t.tv_nsec;
}

static const uint8_t *varint(const uint8_t *p, const uint8_t *e, uint64_t *v)
{
	uint64_t r = 0;

	for (int s = 0; p < e && s < 64; s += 7) {
		uint8_t b = *p++;

		r |= (uint64_t)(b & 0x7f) << s;
		if (!(b & 0x80)) {
			*v = r;
			return p;
		}
	}
	return NULL;
}

static size_t put_varint(uint8_t *p, uint64_t v)
{
	size_t n = 0;

	while (v >= 0x80) {
		p[n++] = (uint8_t)v | 0x80;
		v >>= 7;
	}
	p[n++] = (uint8_t)v;
	return n;
}

/* FlowBatch: stream_id (4), sequence (5, the last one wins), flows (16). */
static int scan(const uint8_t *p, size_t len, uint64_t *sid, uint64_t *seq, uint64_t *flows)
{
	const uint8_t *e = p + len;
	uint64_t key, v;

	*sid = *seq = *flows = 0;
	while (p < e) {
		if (!(p = varint(p, e, &key)))
			return -1;
		switch (key & 7) {
		case 0:
			if (!(p = varint(p, e, &v)))
				return -1;
			if (key >> 3 == 4)
				*sid = v;
			else if (key >> 3 == 5)
				*seq = v;
			break;
		case 1:
			if (e - p < 8)
				return -1;
			p += 8;
			break;
		case 5:
			if (e - p < 4)
				return -1;
			p += 4;
			break;
		case 2:
			if (!(p = varint(p, e, &v)) || v > (uint64_t)(e - p))
				return -1;
			if (key >> 3 == 16)
				(*flows)++;
			p += v;
			break;
		default:
			return -1;
		}
	}
	return 0;
}

static int count(const char *ep, int idle_ms, int first_ms)
{
	void *ctx = zmq_ctx_new(), *s = zmq_socket(ctx, ZMQ_SUB);
	uint64_t batches = 0, flows = 0, lost = 0, bytes = 0, first = 0, last = 0, bad = 0;
	uint64_t sid = 0, next = 0, id, q, f;
	int zero = 0;

	zmq_setsockopt(s, ZMQ_SUBSCRIBE, "flows", 5);
	zmq_setsockopt(s, ZMQ_RCVTIMEO, &first_ms, sizeof(first_ms));
	zmq_setsockopt(s, ZMQ_LINGER, &zero, sizeof(zero));
	if (zmq_connect(s, ep)) {
		fprintf(stderr, "count: %s: %s\n", ep, zmq_strerror(errno));
		return 1;
	}
	for (;;) {
		zmq_msg_t m;

		zmq_msg_init(&m);
		if (zmq_msg_recv(&m, s, 0) < 0) {
			zmq_msg_close(&m);
			if (errno == EINTR)
				continue;
			break;
		}
		if (!zmq_msg_more(&m)) { /* the topic frame comes first */
			zmq_msg_close(&m);
			continue;
		}
		zmq_msg_close(&m);
		zmq_msg_init(&m);
		if (zmq_msg_recv(&m, s, 0) < 0) {
			zmq_msg_close(&m);
			break;
		}
		last = now_ns();
		if (!first) {
			first = last;
			zmq_setsockopt(s, ZMQ_RCVTIMEO, &idle_ms, sizeof(idle_ms));
		}
		batches++;
		bytes += zmq_msg_size(&m);
		if (scan(zmq_msg_data(&m), zmq_msg_size(&m), &id, &q, &f)) {
			bad++;
		} else {
			flows += f;
			if (batches == 1 || id != sid) /* a stream's first: all before it lost */
				lost += q;
			else if (q > next)
				lost += q - next;
			sid = id;
			next = q + 1;
		}
		zmq_msg_close(&m);
	}
	printf("%" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 "\n",
	       batches, flows, lost, bytes, first, last, bad);
	zmq_close(s);
	zmq_ctx_term(ctx);
	return 0;
}

static int proxy(const char *up, const char *down)
{
	void *ctx = zmq_ctx_new();
	void *xsub = zmq_socket(ctx, ZMQ_XSUB), *xpub = zmq_socket(ctx, ZMQ_XPUB);

	if (zmq_connect(xsub, up) || zmq_bind(xpub, down)) {
		fprintf(stderr, "proxy: %s\n", zmq_strerror(errno));
		return 1;
	}
	zmq_proxy(xsub, xpub, NULL);
	return 0;
}

static int send_all(void *s, const void *buf, size_t len, int flags)
{
	const struct timespec pause = { 0, 20000 };

	while (zmq_send(s, buf, len, flags | ZMQ_DONTWAIT) < 0) {
		if (errno != EAGAIN && errno != EINTR)
			return -1;
		nanosleep(&pause, NULL);
	}
	return 0;
}

static int blast(const char *ep, const char *path, double seconds)
{
	FILE *f = fopen(path, "rb");
	uint8_t *data = NULL, *msg, sub[256];
	size_t size = 0, cap = 0, n = 0, max = 0, *off, *len;
	uint64_t *nflows, seq = 0, flows = 0, bytes = 0, t0, t1, v, id, q;
	int one = 1, timeout = 15000, linger = 10000, r;
	void *ctx, *s;

	if (!f) {
		perror(path);
		return 1;
	}
	for (;;) {
		if (size == cap && !(data = realloc(data, cap = cap ? cap * 2 : 1 << 20)))
			return 1;
		r = fread(data + size, 1, cap - size, f);
		if (r <= 0)
			break;
		size += r;
	}
	fclose(f);
	off = calloc(size / 2 + 1, sizeof(*off));
	len = calloc(size / 2 + 1, sizeof(*len));
	nflows = calloc(size / 2 + 1, sizeof(*nflows));
	for (const uint8_t *p = data, *e = data + size; p < e; p += v, n++) {
		if (!(p = varint(p, e, &v)) || v > (uint64_t)(e - p) ||
		    scan(p, v, &id, &q, &nflows[n])) {
			fprintf(stderr, "blast: %s: not length-delimited flow batches\n", path);
			return 1;
		}
		off[n] = p - data;
		len[n] = v;
		if (v > max)
			max = v;
	}
	if (!n) {
		fprintf(stderr, "blast: %s: no batches\n", path);
		return 1;
	}
	msg = malloc(max + 11);
	ctx = zmq_ctx_new();
	s = zmq_socket(ctx, ZMQ_XPUB);
	zmq_setsockopt(s, ZMQ_XPUB_NODROP, &one, sizeof(one));
	zmq_setsockopt(s, ZMQ_RCVTIMEO, &timeout, sizeof(timeout));
	if (zmq_bind(s, ep)) {
		fprintf(stderr, "blast: %s: %s\n", ep, zmq_strerror(errno));
		return 1;
	}
	do { /* a subscription to "flows" */
		r = zmq_recv(s, sub, sizeof(sub), 0);
		if (r < 0) {
			fprintf(stderr, "blast: no subscriber\n");
			return 1;
		}
	} while (!(r > 1 && sub[0] == 1));
	t0 = now_ns();
	for (size_t i = 0;; i = (i + 1) % n) {
		size_t l = len[i];

		if (!(seq & 15) && now_ns() - t0 >= seconds * 1e9)
			break;
		memcpy(msg, data + off[i], l);
		msg[l++] = 5 << 3; /* sequence again: the last one counts */
		l += put_varint(msg + l, seq);
		if (send_all(s, "flows", 5, ZMQ_SNDMORE) || send_all(s, msg, l, 0))
			return 1;
		seq++;
		flows += nflows[i];
		bytes += l;
	}
	t1 = now_ns();
	zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof(linger));
	zmq_close(s);
	zmq_ctx_term(ctx); /* until the queued batches are out */
	printf("%" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 "\n", seq, flows, bytes,
	       t1 - t0, now_ns() - t0);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 5 && !strcmp(argv[1], "count"))
		return count(argv[2], atoi(argv[3]), atoi(argv[4]));
	if (argc == 4 && !strcmp(argv[1], "proxy"))
		return proxy(argv[2], argv[3]);
	if (argc == 5 && !strcmp(argv[1], "blast"))
		return blast(argv[2], argv[3], atof(argv[4]));
	fprintf(stderr, "usage: fanin count EP IDLE_MS FIRST_MS | proxy UP DOWN | blast EP FILE S\n");
	return 2;
}
EOF
TOOL=$WORK/fanin
if ! cmp -s "$T/fanin.c" "$WORK/fanin.c" || [ ! -x "$TOOL" ]; then
	${CC:-cc} -O2 -Wall -o "$TOOL" "$T/fanin.c" -lzmq || { log "fanin: cannot build the C tool"; exit 1; }
	cp "$T/fanin.c" "$WORK/fanin.c"
fi

# The forwarder of docs/scaling.md, as it stands there.
PYPROXY='import sys, zmq
ctx = zmq.Context()
xsub = ctx.socket(zmq.XSUB)
xsub.connect(sys.argv[1])
xpub = ctx.socket(zmq.XPUB)
xpub.bind(sys.argv[2])
zmq.proxy(xsub, xpub)'

# --- helpers ----------------------------------------------------------------

# free_port udp|tcp: a loopback port nothing listens on now.
free_port() {
	python3 -c 'import socket,sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM if sys.argv[1] == "udp" else socket.SOCK_STREAM)
s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])' "${1:-tcp}"
}

now() { date +%s%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", (b - a) / 1e9 }'; }
# per A SECONDS: A / SECONDS, rounded.
per() { awk -v a="$1" -v s="$2" 'BEGIN { printf "%.0f", (s > 0 ? a / s : 0) }'; }
cpu_s() { awk -v n="$1" 'BEGIN { printf "%.2f", n / 1e9 }'; }
# pct CPU_NS WALL_NS: CPU time as a share of one CPU over the wall time.
pct() { awk -v c="$1" -v w="$2" 'BEGIN { printf "%.0f%%", (w > 0 ? 100 * c / w : 0) }'; }

# last_stat LOG NAME: the last value nfxdp printed for NAME (0 when not printed).
last_stat() {
	local v
	v=$(grep -o "[ ,]$2=[0-9]*" "$1" | tail -1 | cut -d= -f2)
	echo "${v:-0}"
}

# newcg VAR: a new cgroup in VAR, removed at exit if not before.
newcg() {
	local g
	g=$(cg_new) || return 1
	CGS+=("$g")
	printf -v "$1" %s "$g"
}

# per_cpu N CPU_NS: N per second of CPU time.
per_cpu() { awk -v a="$1" -v c="$2" 'BEGIN { printf "%.0f", (c > 0 ? a / (c / 1e9) : 0) }'; }

# wait_for FILE PATTERN: until a daemon says it is ready (10 s at most).
wait_for() {
	local i
	for i in $(seq 100); do
		grep -q "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

# stop PID [SIGNAL]: ends a process this section started, and reaps it.
stop() {
	kill "-${2:-TERM}" "$1" 2>/dev/null
	wait "$1" 2>/dev/null
}

udp_rcvbuf_errors() { awk '$1 == "Udp:" && $2 ~ /^[0-9]/ { print $6 }' /proc/net/snmp; }

# --- captures ---------------------------------------------------------------

MIXED=$(gen_capture 2000000 50000) || exit 1
ONE=$WORK/fanin-$ONE_FLOWS.pcap
if [ ! -s "$ONE" ]; then
	log "fanin: writing $ONE"
	"$BLAST" --pcap "$ONE" --flows "$ONE_FLOWS" --rounds 1 >/dev/null || { rm -f "$ONE"; exit 1; }
fi
MIXED_FRAMES=$(frames "$MIXED")
ONE_FRAMES=$(frames "$ONE")

# --- runs -------------------------------------------------------------------

# forwarder VIA IN: the forwarder (py or c) from IN to a new endpoint, in a
# cgroup of its own; sets FWD_EP, FWD_CG and FWD_PID.
forwarder() {
	FWD_EP=tcp://127.0.0.1:$(free_port)
	newcg FWD_CG || return 1
	if [ "$1" = py ]; then
		(cg_exec "$FWD_CG" "$PYZ" -c "$PYPROXY" "$2" "$FWD_EP") 2>"$T/proxy.err" &
	else
		(cg_exec "$FWD_CG" "$TOOL" proxy "$2" "$FWD_EP") 2>"$T/proxy.err" &
	fi
	FWD_PID=$!
	PIDS+=("$FWD_PID")
}

# consumer_path VIA IDLE_MS: the counting consumer (done after IDLE_MS with
# nothing new), behind a forwarder unless VIA is none; sets EP (where to
# publish), GC and GP (their cgroups; GP empty without a forwarder), PP and CPID.
consumer_path() {
	local ep_c
	EP=tcp://127.0.0.1:$(free_port)
	ep_c=$EP GP= PP=
	newcg GC || return 1
	if [ "$1" != none ]; then
		forwarder "$1" "$EP" || return 1
		ep_c=$FWD_EP GP=$FWD_CG PP=$FWD_PID
	fi
	(cg_exec "$GC" "$TOOL" count "$ep_c" "$2" 30000) >"$T/count.out" 2>"$T/count.err" &
	CPID=$!
	PIDS+=("$CPID")
}

# agent CAPTURE VIA: nfxdp --pcap CAPTURE publishing to the counter, directly
# (VIA none) or through a forwarder (py, c). Prints "exported batches_sent
# batches flows lost first_ns last_ns agent_wall_ns agent_cpu_ns
# counter_cpu_ns forwarder_cpu_ns bad".
agent() {
	local cap=$1 via=$2 ep gn gc gp pp cpid t0 t1 out
	newcg gn && consumer_path "$via" 2000 || return 1
	ep=$EP gc=$GC gp=$GP pp=$PP cpid=$CPID
	sleep 0.3
	t0=$(now)
	(cg_exec "$gn" "$B/nfxdp" --pcap "$cap" --zmq "$ep" --zmq-wait 5 --stats 3600) >"$T/nfxdp.log" 2>&1
	t1=$(now)
	wait "$cpid"
	[ -n "$pp" ] && stop "$pp"
	out=$(cat "$T/count.out")
	set -- ${out:-0 0 0 0 0 0 0}
	RES="$(last_stat "$T/nfxdp.log" flows_exported) $(last_stat "$T/nfxdp.log" batches_sent) $1 $2 $3 $5 $6"
	RES="$RES $((t1 - t0)) $(cg_ns "$gn") $(cg_ns "$gc") $([ -n "$gp" ] && cg_ns "$gp" || echo 0) $7"
	cg_del "$gn"; cg_del "$gc"; [ -n "$gp" ] && cg_del "$gp"
	return 0
}

# bare CAPTURE: nfxdp --pcap CAPTURE --no-zmq (records made, sent nowhere).
# Sets RES to "exported wall_ns cpu_ns".
bare() {
	local cap=$1 gn t0 t1
	newcg gn || return 1
	t0=$(now)
	(cg_exec "$gn" "$B/nfxdp" --pcap "$cap" --no-zmq --stats 3600) >"$T/nfxdp.log" 2>&1
	t1=$(now)
	RES="$(last_stat "$T/nfxdp.log" flows_exported) $((t1 - t0)) $(cg_ns "$gn")"
	cg_del "$gn"
	return 0
}

# saturate VIA: the C publisher replays the agent's batches for BLAST_S
# seconds, as fast as the next hop takes them, to the counter, directly or
# through a forwarder. Prints "sent sent_flows sent_bytes send_ns batches
# flows lost first_ns last_ns blaster_cpu_ns counter_cpu_ns forwarder_cpu_ns".
saturate() {
	local via=$1 ep gb gc gp pp cpid out cnt
	newcg gb && consumer_path "$via" 1500 || return 1
	ep=$EP gc=$GC gp=$GP pp=$PP cpid=$CPID
	out=$( (cg_exec "$gb" "$TOOL" blast "$ep" "$T/batches.pb" "$BLAST_S") 2>"$T/blast.err")
	wait "$cpid"
	[ -n "$pp" ] && stop "$pp"
	cnt=$(cat "$T/count.out")
	set -- ${out:-0 0 0 0 0} ${cnt:-0 0 0 0 0 0 0}
	RES="$1 $2 $3 $4 $6 $7 $8 ${10} ${11} $(cg_ns "$gb") $(cg_ns "$gc") $([ -n "$gp" ] && cg_ns "$gp" || echo 0)"
	cg_del "$gb"; cg_del "$gc"; [ -n "$gp" ] && cg_del "$gp"
	return 0
}

# nfcapd CAPTURE: nfxdp --pcap CAPTURE --ipfix udp://... into nfcapd. Prints
# "sent dropped stored agent_wall_ns agent_cpu_ns collector_cpu_ns
# rcvbuf_errors seq_errors settle_ns".
nfcapd_run() {
	local cap=$1 dir=$T/nfcapd port gn gk pid t0 t1 t2 e0 e1 stored
	rm -rf "$dir" && mkdir -p "$dir"
	port=$(free_port udp)
	newcg gn && newcg gk || return 1
	(cg_exec "$gk" nfcapd -w "$dir" -p "$port" -b 127.0.0.1 -B 134217728 -t 3600) >"$T/nfcapd.log" 2>&1 &
	pid=$!
	PIDS+=("$pid")
	wait_for "$T/nfcapd.log" Startup || { log "fanin: nfcapd does not start: $(tail -3 "$T/nfcapd.log")"; return 1; }
	e0=$(udp_rcvbuf_errors)
	t0=$(now)
	(cg_exec "$gn" "$B/nfxdp" --pcap "$cap" --no-zmq --ipfix "udp://127.0.0.1:$port" --stats 3600) \
		>"$T/nfxdp.log" 2>&1
	t1=$(now)
	cg_settle "$gk"
	t2=$(now)
	e1=$(udp_rcvbuf_errors)
	stop "$pid"
	stored=$(nfdump -R "$dir" -I 2>>"$T/nfcapd.log" | awk '$1 == "Flows:" { print $2; exit }')
	RES="$(last_stat "$T/nfxdp.log" ipfix_records_sent) $(last_stat "$T/nfxdp.log" ipfix_records_dropped)"
	RES="$RES ${stored:-0} $((t1 - t0)) $(cg_ns "$gn") $(cg_ns "$gk") $((e1 - e0))"
	RES="$RES $(grep -o 'Sequence [Ee]rrors: [0-9]*' "$T/nfcapd.log" | tail -1 | awk '{ print $3 + 0 }') $((t2 - t1))"
	cg_del "$gn"; cg_del "$gk"
	return 0
}

# nfacctd CAPTURE: the same into pmacct's nfacctd (print plugin, CSV, one
# row per flow: flow_id is in the key). Same figures as nfcapd_run. Its
# socket buffer and the pipe from its core process to the plugin must be
# large, or it loses records in the burst (pmacct's defaults lost 2 to 11%
# of them here).
nfacctd_run() {
	local cap=$1 dir=$T/nfacctd port gn gk pid t0 t1 t2 e0 e1 stored i
	rm -rf "$dir" && mkdir -p "$dir"
	port=$(free_port udp)
	newcg gn && newcg gk || return 1
	echo "name=flow_id field_type=148 len=8 semantics=u_int" >"$dir/prim.lst"
	cat >"$dir/nfacctd.conf" <<-EOF
		daemonize: false
		nfacctd_ip: 127.0.0.1
		nfacctd_port: $port
		nfacctd_pipe_size: 134217728
		aggregate_primitives: $dir/prim.lst
		plugins: print
		plugin_pipe_size: 134217728
		plugin_buffer_size: 65536
		aggregate: flow_id, src_host, dst_host, src_port, dst_port, proto
		print_output: csv
		print_output_file: $dir/flows.csv
		print_refresh_time: 3600
		print_output_file_append: true
		pidfile: $dir/pid
	EOF
	(cg_exec "$gk" nfacctd -f "$dir/nfacctd.conf") >"$T/nfacctd.log" 2>&1 &
	pid=$!
	PIDS+=("$pid")
	INT_PIDS+=("$pid")
	wait_for "$T/nfacctd.log" "waiting for NetFlow/IPFIX data" ||
		{ log "fanin: nfacctd does not start: $(tail -3 "$T/nfacctd.log")"; return 1; }
	e0=$(udp_rcvbuf_errors)
	t0=$(now)
	(cg_exec "$gn" "$B/nfxdp" --pcap "$cap" --no-zmq --ipfix "udp://127.0.0.1:$port" --stats 3600) \
		>"$T/nfxdp.log" 2>&1
	t1=$(now)
	cg_settle "$gk"
	t2=$(now)
	e1=$(udp_rcvbuf_errors)
	stop "$pid" INT # purges its cache to the file
	# A full cache (print_cache_entries) is written out early: appended, with its header.
	stored=$(grep -vc '^SRC_IP,' "$dir/flows.csv" 2>/dev/null)
	RES="$(last_stat "$T/nfxdp.log" ipfix_records_sent) $(last_stat "$T/nfxdp.log" ipfix_records_dropped)"
	RES="$RES $stored $((t1 - t0)) $(cg_ns "$gn") $(cg_ns "$gk") $((e1 - e0)) - $((t2 - t1))"
	cg_del "$gn"; cg_del "$gk"
	return 0
}

# --- the section --------------------------------------------------------------

echo "## Fan-in: one agent, forwarders and IPFIX collectors"
echo
echo "On loopback, the flow records of one nfxdp agent reading a capture"
echo "(\`nfxdp --pcap F\`, default options: \`--batch-flows 256\`) to a consumer"
echo "that only counts batches, flows and the batches lost (gaps in \`sequence\`): a"
echo "small C SUB socket written by this section, so that the consumer is not the"
echo "limit. Two captures: **mixed**, \`nfxdp-gencap --packets 2000000 --flows 50000\`"
echo "($MIXED_FRAMES frames, 60 s of capture time), and **one"
echo "frame per flow**, $ONE_FLOWS UDP flows of one frame each (\`bench/blast.c --pcap\`):"
echo "reading and metering cost little there, and the records are nearly all the"
echo "work. CPU times are each process's own (cgroups), over its whole run; this"
echo "machine has $(nproc) CPUs for all of them."
echo

# a. one agent, one consumer
log "fanin: agent -> counter, mixed capture"
RES=; agent "$MIXED" none; A_MIX=$RES
log "fanin: $A_MIX"
log "fanin: agent -> counter, one frame per flow"
RES=; agent "$ONE" none; A_ONE=$RES
log "fanin: $A_ONE"
log "fanin: agent, no export, one frame per flow"
RES=; bare "$ONE"; A_BARE=$RES
log "fanin: $A_BARE"

echo "### One agent, one consumer (ZeroMQ)"
echo
echo "\`nfxdp --pcap F --zmq tcp://127.0.0.1:P --zmq-wait 5\` to the counter."
echo "**agent flows/s**: flows exported / the agent's wall time (start to exit,"
echo "reading and metering included); **consumer flows/s**: flows received / (last"
echo "batch - first batch at the consumer)."
echo
echo "| capture | frames | flows exported | flows received | batches lost | agent wall s | agent flows/s | consumer flows/s | nfxdp CPU s | consumer CPU s |"
echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
for c in mixed one; do
	if [ $c = mixed ]; then set -- $A_MIX; name=mixed; fr=$MIXED_FRAMES; else set -- $A_ONE; name="one frame per flow"; fr=$ONE_FRAMES; fi
	[ $# -ge 12 ] || { echo "| $name | $fr | (run failed) | | | | | | | |"; continue; }
	w=$(secs 0 "$8")
	span=$(secs "$6" "$7")
	echo "| $name | $fr | $1 | $4 | $5 | $w | $(per "$1" "$w") | $(per "$4" "$span") | $(cpu_s "$9") | $(cpu_s "${10}") |"
done
set -- $A_BARE
[ $# -ge 3 ] && echo "| one frame per flow, no export (\`--no-zmq\`) | $ONE_FRAMES | $1 | - | - | $(secs 0 "$2") | $(per "$1" "$(secs 0 "$2")") | - | $(cpu_s "$3") | - |"
echo
set -- $A_ONE
if [ $# -ge 12 ]; then
	ONE_RATE=$(per "$1" "$(secs 0 "$8")")
	ONE_CONS=$(per "$4" "$(secs "$6" "$7")")
	BARE_W=$(echo "$A_BARE" | awk '{ printf "%.3f", $2 / 1e9 }')
	echo "On the one-frame capture nfxdp used $(pct "$9" "$8") of a CPU from start to exit (its"
	echo "reader thread, the kernel metering the frames on its behalf, then closing the"
	echo "flows, packing and sending the records), the consumer $(pct "${10}" "$8"): **the agent"
	echo "is the limit**, at about $ONE_RATE records/s from start to exit. Publishing is a"
	echo "small part of that: without any export the same run takes $BARE_W s instead of"
	echo "$(secs 0 "$8") s. At the end of the capture the agent flushes its whole cache, and"
	echo "that burst reaches the consumer at $ONE_CONS records/s. On the mixed capture the"
	set -- $A_MIX
	echo "frames are the work ($(rate "$MIXED_FRAMES" "$(secs 0 "$8")") M frames/s from the page cache) and the"
	echo "records follow at $(per "$1" "$(secs 0 "$8")")/s: an agent exports what it meters, far below"
	echo "what its export can carry."
	if [ "$5" != 0 ] || [ "$(echo "$A_ONE" | awk '{ print $5 }')" != 0 ]; then
		echo "**Batches were lost** (the column above): the consumer's share of the agent's"
		echo "send queue filled."
	fi
fi
echo

# b. through a forwarder
if [ -z "$PYZ" ]; then
	log "fanin: no python3 with pyzmq: zmq.proxy is skipped"
fi
log "fanin: batches for the replaying publisher"
"$B/nfxdp" --pcap "$MIXED" --no-zmq --format pb --output "$T/batches.pb" >"$T/pb.log" 2>&1
declare -A F S
for via in py c; do
	[ "$via" = py ] && [ -z "$PYZ" ] && continue
	log "fanin: agent -> $via forwarder -> counter"
	RES=; agent "$ONE" "$via"; F[$via]=$RES
	log "fanin: ${F[$via]}"
done
for via in none py c; do
	[ "$via" = py ] && [ -z "$PYZ" ] && continue
	log "fanin: publisher -> $via -> counter, $BLAST_S s"
	RES=; saturate "$via"; S[$via]=$RES
	log "fanin: ${S[$via]}"
done

echo "### Through a forwarder"
echo
echo "The forwarder of docs/scaling.md between the agent and the consumer: XSUB"
echo "connected to the agent, XPUB bound for consumers, \`zmq.proxy(xsub, xpub)\`"
echo "(python3-zmq $("$PYZ" -c 'import zmq; print(zmq.__version__)' 2>/dev/null || echo '-'), libzmq"
echo "$(awk '/define ZMQ_VERSION_(MAJOR|MINOR|PATCH)/ { v = v (v == "" ? "" : ".") $3 } END { print v }' /usr/include/zmq.h)), and its C equivalent \`zmq_proxy(xsub, xpub, NULL)\`,"
echo "default socket options (high-water marks of 1000 messages). First the agent"
echo "on the one-frame capture through each; then, to find what a forwarder itself"
echo "can move, a C publisher replays the agent's batches (its \`--format pb\` output of"
echo "the mixed capture, each batch sent with a new sequence number) for $BLAST_S s as"
echo "fast as the next hop takes them (\`ZMQ_XPUB_NODROP\`: it waits at its high-water"
echo "mark instead of dropping), to the counter directly (no forwarder, for"
echo "reference) and through each forwarder. **batches/s** and **flows/s**: what"
echo "reached the consumer / (last - first arrival); **per forwarder CPU s**: batches"
echo "through the forwarder per second of its CPU time, what one fully busy core"
echo "would move."
echo
echo "| source | forwarder | batches received | of sent | lost | batches/s | flows/s | MB/s | forwarder CPU s | batches per forwarder CPU s | source CPU s | consumer CPU s |"
echo "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
fname() { case $1 in none) echo "none (direct)" ;; py) echo "\`zmq.proxy\` (Python)" ;; c) echo "\`zmq_proxy\` (C)" ;; esac; }
set -- $A_ONE
[ $# -ge 12 ] && echo "| agent, one frame per flow | none (direct) | $3 | $2 | $5 | $(per "$3" "$(secs "$6" "$7")") | $(per "$4" "$(secs "$6" "$7")") | - | - | - | $(cpu_s "$9") | $(cpu_s "${10}") |"
for via in py c; do
	[ -n "${F[$via]:-}" ] || continue
	set -- ${F[$via]}
	[ $# -ge 12 ] || continue
	echo "| agent, one frame per flow | $(fname $via) | $3 | $2 | $5 | $(per "$3" "$(secs "$6" "$7")") | $(per "$4" "$(secs "$6" "$7")") | - | $(cpu_s "${11}") | $(per_cpu "$3" "${11}") | $(cpu_s "$9") | $(cpu_s "${10}") |"
done
declare -A SAT_BPS SAT_FPS SAT_PER SAT_LOST
for via in none py c; do
	[ -n "${S[$via]:-}" ] || continue
	set -- ${S[$via]}
	[ $# -ge 12 ] || continue
	span=$(secs "$8" "$9")
	SAT_BPS[$via]=$(per "$5" "$span")
	SAT_FPS[$via]=$(per "$6" "$span")
	SAT_LOST[$via]=$7
	if [ "$via" = none ]; then fc="-" fp="-"; else fc=$(cpu_s "${12}"); fp=$(per_cpu "$1" "${12}"); SAT_PER[$via]=$fp; fi
	echo "| replaying publisher | $(fname $via) | $5 | $1 | $7 | ${SAT_BPS[$via]} | ${SAT_FPS[$via]} | $(per "$(awk -v b="$3" -v n="$1" -v r="$5" 'BEGIN { print (n ? b / n * r / 1048576 : 0) }')" "$span") | $fc | $fp | $(cpu_s "${10}") | $(cpu_s "${11}") |"
done
echo
if [ -n "${S[c]:-}" ]; then
	set -- ${S[c]}
	BATCH_FLOWS=$(awk -v f="$2" -v n="$1" 'BEGIN { printf "%.0f", (n ? f / n : 0) }')
	BATCH_KB=$(awk -v b="$3" -v n="$1" 'BEGIN { printf "%.0f", (n ? b / n / 1024 : 0) }')
	SAT_W=$(secs 0 "$4")
	ALL_CPU=$(awk -v a="${10}" -v b="${11}" -v c="${12}" -v w="$4" -v n="$(nproc)" 'BEGIN { printf "%.0f%%", 100 * (a + b + c) / w / n }')
	echo "The replayed batches hold $BATCH_FLOWS flows on average ($BATCH_KB KB)."
	AGENT_BPS=$(echo "$A_ONE" | awk '{ printf "%.0f", ($8 > 0 ? $2 / ($8 / 1e9) : 0) }')
	if [ -n "${F[c]:-}" ]; then
		set -- ${F[c]}
		if awk -v f="${11}" -v a="$9" 'BEGIN { exit !(f < a / 4) }'; then
			echo "With the agent as the source a forwarder is far from busy ($(cpu_s "${11}") CPU s in C against"
			echo "the agent's $(cpu_s "$9") s) and the consumer gets every batch, as fast as the agent"
			echo "sends them: at most $AGENT_BPS batches/s from start to exit, its fastest case"
			echo "(one-frame flows)."
		else
			echo "With the agent as the source the forwarder used $(cpu_s "${11}") CPU s against the agent's"
			echo "$(cpu_s "$9") s; the agent sent $AGENT_BPS batches/s from start to exit."
		fi
	fi
	echo "Replayed as fast as it goes, $(fname c) moved ${SAT_BPS[c]} batches/s (${SAT_FPS[c]} flows/s)"
	[ -n "${SAT_BPS[py]:-}" ] && echo "and $(fname py) ${SAT_BPS[py]} batches/s (${SAT_FPS[py]} flows/s)"
	echo "to the consumer. There the three processes (publisher, forwarder, consumer, each"
	echo "with a libzmq I/O thread) share $(nproc) CPUs and keep them busy (the C run: $ALL_CPU of"
	echo "both over its $SAT_W s): **CPU is the limit**, and the forwarder gets part of it. Per"
	echo "second of its own CPU time a forwarder moves about ${SAT_PER[c]} batches (C)$( [ -n "${SAT_PER[py]:-}" ] && echo " and ${SAT_PER[py]} (Python)"),"
	echo "so a forwarder with a core to itself carries on the order of ${SAT_PER[c]} batches/s, $(awk -v p="${SAT_PER[c]}" -v f="$BATCH_FLOWS" 'BEGIN { printf "%.1f", p * f / 1e6 }') M"
	echo "flows/s of full batches: about $(awk -v p="${SAT_PER[c]}" -v a="$AGENT_BPS" 'BEGIN { printf "%.0f", (a ? p / a : 0) }') agents exporting as fast as the one above, or"
	echo "about $(awk -v p="${SAT_PER[c]}" -v f="$BATCH_FLOWS" 'BEGIN { printf "%.0f", p * f / 10000 }') agents exporting 10,000 flows/s each. pyzmq's \`zmq.proxy\` is libzmq's \`zmq_proxy\` called from"
	echo "Python (the loop runs in C, without the interpreter), so the two are the same"
	echo "forwarder and their differences here are noise. Its work per batch is libzmq's:"
	echo "read from one TCP socket and written to another by its I/O thread, handed to"
	echo "and from the proxy loop; the batch is never decoded."
	lost=0
	for via in none py c; do lost=$((lost + ${SAT_LOST[$via]:-0})); done
	if [ "$lost" != 0 ]; then
		echo "**The consumer lost batches** in the replayed runs through a forwarder (column"
		echo "\"lost\"), short of CPU next to the other two: a forwarder's XPUB drops what a"
		echo "consumer cannot take past its high-water mark (it does not slow the source"
		echo "down), and the consumer sees the loss as gaps in \`sequence\`. Directly, the"
		echo "replaying publisher waits instead (\`ZMQ_XPUB_NODROP\`); nfxdp itself drops, like"
		echo "the forwarder."
	else
		echo "The consumer lost no batch in the replayed runs."
	fi
fi
echo

# c. IPFIX into nfcapd and nfacctd
log "fanin: nfxdp --ipfix -> nfcapd"
RES=; nfcapd_run "$ONE"; I_CAPD=$RES
log "fanin: $I_CAPD"
I_ACCT=
if command -v nfacctd >/dev/null; then
	log "fanin: nfxdp --ipfix -> nfacctd"
	RES=; nfacctd_run "$ONE"; I_ACCT=$RES
	log "fanin: $I_ACCT"
fi

echo "### IPFIX into nfcapd and nfacctd"
echo
echo "\`nfxdp --pcap F --no-zmq --ipfix udp://127.0.0.1:P\` (UDP, as tests/e2e/test_ipfix.sh"
echo "uses both collectors; 1400-byte messages) on the one-frame capture, into"
echo "nfdump's \`nfcapd -B 134217728\` ($(nfcapd -V 2>&1 | grep -o '[0-9][0-9.]*' | head -1)) and into pmacct's nfacctd"
echo "($(nfacctd -V 2>&1 | head -1 | grep -o '[0-9][0-9.]*[^ ]*' | head -1); print plugin writing CSV, one row per flow, \`nfacctd_pipe_size\` and"
echo "\`plugin_pipe_size\` 128 MiB), each started by this section. **stored**: \`nfdump -R"
echo "DIR -I\` flows, or nfacctd's CSV rows once it exits; **busy after**: how long the"
echo "collector kept using CPU once the agent had exited (0.5 s resolution);"
echo "**records/s**: stored / (agent wall time + busy after);"
echo "**per collector CPU s**: records stored per second of the collector's CPU"
echo "time, what one fully busy collector core would store; **receive-buffer drops**:"
echo "\`RcvbufErrors\` of \`/proc/net/snmp\` during the run. The kernel caps a socket's"
echo "buffer at \`net.core.rmem_max\` ($(sysctl -n net.core.rmem_max) bytes here) whatever"
echo "the collector asks."
echo
echo "| collector | records exported | stored | lost | agent wall s | collector busy after s | records/s | collector CPU s | records per collector CPU s | nfxdp CPU s | receive-buffer drops |"
echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
for k in nfcapd nfacctd; do
	if [ $k = nfcapd ]; then r=$I_CAPD; else r=$I_ACCT; fi
	[ -n "$r" ] || { echo "| $k | (not run) | | | | | | | | | |"; continue; }
	set -- $r
	[ $# -ge 9 ] || { echo "| $k | (run failed) | | | | | | | | | |"; continue; }
	w=$(secs 0 "$4")
	busy=$(awk -v n="$9" 'BEGIN { b = n / 1e9 - 0.5; printf "%.1f", (b < 0 ? 0 : b) }')
	echo "| $k | $1 | $3 | $(($1 - $3)) | $w | $busy | $(per "$3" "$(awk -v w="$w" -v b="$busy" 'BEGIN { print w + b }')") | $(cpu_s "$6") | $(per_cpu "$3" "$6") | $(cpu_s "$5") | $7 |"
done
echo
set -- $I_CAPD
if [ $# -ge 9 ]; then
	echo "nfcapd used $(pct "$6" "$4") of a CPU while the agent ran, nfxdp $(pct "$5" "$4"):"
	if [ "$3" -ge "$1" ] && [ "$(per_cpu "$3" "$6")" -gt "$(per "$1" "$(secs 0 "$4")")" ]; then
		echo "nfcapd stored every record as fast as the agent sent them, so **the agent is"
		echo "the limit**: encoding IPFIX and one \`send()\` per message cost it more than"
		echo "publishing on ZeroMQ ($(secs 0 "$4") s here against $(echo "$A_ONE" | awk '{ printf "%.3f", $8 / 1e9 }') s for the same capture). nfcapd"
		echo "itself would store on the order of $(per_cpu "$3" "$6") records per second of CPU."
	elif [ "$3" -ge "$1" ]; then
		echo "nfcapd stored every record, working at the limit of what it can take."
	else
		echo "it stored $3 of $1 records: datagrams were dropped when its socket"
		echo "buffer filled (the receive-buffer drops), the agent sending faster than nfcapd"
		echo "decodes and writes."
	fi
fi
if [ -n "$I_ACCT" ]; then
	set -- $I_ACCT
	if [ $# -ge 9 ]; then
		echo "nfacctd is two processes: a core that decodes IPFIX and a print plugin that"
		echo "aggregates records into its cache and writes the CSV (here whenever its"
		echo "cache of \`print_cache_entries\` buckets fills, and at exit). Together they used"
		echo "$(cpu_s "$6") CPU s for $3 records, $(per_cpu "$3" "$6") records per CPU second, and kept"
		echo "working $(awk -v n="$9" 'BEGIN { b = n / 1e9 - 0.5; printf "%.1f", (b < 0 ? 0 : b) }') s after the agent had exited:"
		r=$(awk -v c="$(per_cpu "$3" "$6")" -v a="$(per "$1" "$(secs 0 "$4")")" 'BEGIN { printf "%.2f", (a ? c / a : 0) }')
		if awk -v r="$r" 'BEGIN { exit !(r < 1) }'; then
			echo "**nfacctd is the limit**, slower than the agent sends."
		elif awk -v r="$r" 'BEGIN { exit !(r < 2) }'; then
			echo "the agent is the limit, but nfacctd is close behind: it needed $(pct "$6" "$4") of a CPU"
			echo "to keep up with it (its rate per CPU second is ${r}x the agent's)."
		else
			echo "the agent is the limit."
		fi
		if [ "$3" -lt "$1" ]; then
			echo "It lost $(($1 - $3)) of $1 records (receive-buffer drops, or its core-to-plugin"
			echo "pipe)."
		else
			echo "With 128 MiB of socket buffer and plugin pipe it lost none of the burst,"
			echo "holding it until it caught up."
		fi
	fi
fi
echo
