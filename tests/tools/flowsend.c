// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * flowsend: sends a known number of frames over many flows with AF_PACKET
 * and reports, per flow and direction, exactly what the interface took. The
 * exactly-once tests add up the exported records per flow key and compare.
 *
 *   flowsend --iface IF --flows N [--first I] (--per-flow K | --count C)
 *            [--rate PPS] [--report FILE] [frame options]
 *
 * Flow i (first <= i < first + N) is src:(sport + i % 50000) ->
 * dst:(dport + i / 50000). Frame j goes to flow first + j % N: every flow is
 * open at once, each gets its frames evenly spread over the run (at
 * --rate PPS, a flow sees one frame every N / PPS seconds). Two senders
 * given overlapping index ranges update the same flows concurrently.
 *
 * Per flow, by index:
 *   --tcp-every K      index % K == 0: TCP (SYN first, RST every --rst-every
 *                      frames, SYN again after it), else UDP
 *   --reverse-every K  index % K == 1: every other frame goes the other way
 *   --v6-every K       index % K == 2: IPv6 (--src6/--dst6), else IPv4
 * Frame k of flow i carries (7 i + 13 k) % (--payload-max + 1) payload bytes.
 *
 * Only frames the socket accepted are counted; one it refuses (a full queue
 * on the way to the peer: ENOBUFS) is sent again after a short wait. The
 * report has one line per flow:
 *   ip_version protocol src_ip src_port dst_ip dst_port fwd_packets fwd_bytes
 *   rev_packets rev_bytes
 * where src is the flow's forward sender; a summary goes to stderr.
 *
 * Frames go from MAC addresses nobody owns: the peer meters them with XDP
 * and its stack drops them, so no reply adds frames.
 */
#include <errno.h>
#include <getopt.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "gencap/craft.h"

#define PORTS 50000
#define BATCH 32
#define FRAME_CAP 512 /* largest frame: headers and --payload-max <= 400 */
#define TCP_FIN 0x01
#define TCP_SYN 0x02
#define TCP_RST 0x04
#define TCP_PSH 0x08
#define TCP_ACK 0x10

struct opts {
	const char *iface;
	const char *report;
	const char *src, *dst, *src6, *dst6;
	struct pkt_spec base;
	uint16_t sport, dport;
	uint64_t first, flows, count, per_flow, rate;
	uint64_t tcp_every, reverse_every, v6_every, rst_every;
	uint32_t payload_max;
	bool qdisc; /* through the qdisc layer, so TC egress meters the frames */
};

struct flow_tally {
	uint64_t packets[2]; /* forward, reverse */
	uint64_t bytes[2];
};

static void usage(void)
{
	fprintf(stderr,
"Usage: flowsend --iface IF --flows N [--first I] (--per-flow K | --count C)\n"
"       [--rate PPS] [--report FILE] [--smac M] [--dmac M]\n"
"       [--src A --dst B] [--src6 A --dst6 B] [--sport P] [--dport P]\n"
"       [--tcp-every K] [--rst-every K] [--reverse-every K] [--v6-every K]\n"
"       [--payload-max N] [--qdisc]\n");
}

static int parse_u64(const char *name, const char *s, uint64_t *v)
{
	char *end;

	errno = 0;
	*v = strtoull(s, &end, 10);
	if (errno || *end || end == s || s[0] == '-') {
		fprintf(stderr, "flowsend: --%s: '%s' is not a whole number\n", name, s);
		return -1;
	}
	return 0;
}

static int parse_args(struct opts *o, int argc, char **argv)
{
	static const struct option lo[] = {
		{ "iface", required_argument, NULL, 'i' },
		{ "report", required_argument, NULL, 'o' },
		{ "smac", required_argument, NULL, 'm' },
		{ "dmac", required_argument, NULL, 'M' },
		{ "src", required_argument, NULL, 's' },
		{ "dst", required_argument, NULL, 'd' },
		{ "src6", required_argument, NULL, 'S' },
		{ "dst6", required_argument, NULL, 'D' },
		{ "sport", required_argument, NULL, 'p' },
		{ "dport", required_argument, NULL, 'P' },
		{ "first", required_argument, NULL, 'f' },
		{ "flows", required_argument, NULL, 'n' },
		{ "count", required_argument, NULL, 'c' },
		{ "per-flow", required_argument, NULL, 'k' },
		{ "rate", required_argument, NULL, 'r' },
		{ "tcp-every", required_argument, NULL, 't' },
		{ "rst-every", required_argument, NULL, 'R' },
		{ "reverse-every", required_argument, NULL, 'v' },
		{ "v6-every", required_argument, NULL, '6' },
		{ "payload-max", required_argument, NULL, 'l' },
		{ "qdisc", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	uint64_t v;
	int c, err = 0;

	memset(o, 0, sizeof(*o));
	o->src = "198.18.0.1";
	o->dst = "198.18.0.2";
	o->src6 = "fd00::1";
	o->dst6 = "fd00::2";
	o->sport = 10000;
	o->dport = 20000;
	o->flows = 1;
	o->payload_max = 64;
	o->rst_every = 16;
	pkt_parse_mac("02:00:00:00:aa:01", o->base.smac);
	pkt_parse_mac("02:00:00:00:aa:02", o->base.dmac);
	while (!err && (c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (c) {
		case 'i': o->iface = optarg; break;
		case 'o': o->report = optarg; break;
		case 'm': err = pkt_parse_mac(optarg, o->base.smac); break;
		case 'M': err = pkt_parse_mac(optarg, o->base.dmac); break;
		case 's': o->src = optarg; break;
		case 'd': o->dst = optarg; break;
		case 'S': o->src6 = optarg; break;
		case 'D': o->dst6 = optarg; break;
		case 'p':
		case 'P':
			err = parse_u64(c == 'p' ? "sport" : "dport", optarg, &v);
			if (!err && v > 65535)
				err = -1;
			if (c == 'p')
				o->sport = v;
			else
				o->dport = v;
			break;
		case 'f': err = parse_u64("first", optarg, &o->first); break;
		case 'n': err = parse_u64("flows", optarg, &o->flows); break;
		case 'c': err = parse_u64("count", optarg, &o->count); break;
		case 'k': err = parse_u64("per-flow", optarg, &o->per_flow); break;
		case 'r': err = parse_u64("rate", optarg, &o->rate); break;
		case 't': err = parse_u64("tcp-every", optarg, &o->tcp_every); break;
		case 'R': err = parse_u64("rst-every", optarg, &o->rst_every); break;
		case 'v': err = parse_u64("reverse-every", optarg, &o->reverse_every); break;
		case '6': err = parse_u64("v6-every", optarg, &o->v6_every); break;
		case 'q':
			o->qdisc = true;
			break;
		case 'l':
			err = parse_u64("payload-max", optarg, &v);
			if (!err && v > 400)
				err = -1;
			o->payload_max = v;
			break;
		default:
			err = -1;
		}
	}
	if (err || !o->iface || !o->flows || optind < argc || (!o->count == !o->per_flow)) {
		usage();
		return -1;
	}
	if (o->per_flow)
		o->count = o->per_flow * o->flows;
	/* Ports must not wrap into another flow's key. */
	if ((o->first + o->flows - 1) / PORTS + o->dport > 65535 ||
	    o->sport + (o->flows + o->first > PORTS ? PORTS : o->flows + o->first) - 1 > 65535) {
		fprintf(stderr, "flowsend: --sport/--dport too high for that many flows\n");
		return -1;
	}
	return 0;
}

static int is_every(uint64_t every, uint64_t idx, uint64_t residue)
{
	return every && idx % every == residue % every;
}

/* Frame k of flow idx into @spec; returns whether it goes the reverse way. */
static int frame_spec(const struct opts *o, uint64_t idx, uint64_t k, struct pkt_spec *s)
{
	int tcp = is_every(o->tcp_every, idx, 0);
	int rev = is_every(o->reverse_every, idx, 1) && (k & 1);
	int v6 = is_every(o->v6_every, idx, 2);
	uint16_t sport = o->sport + idx % PORTS, dport = o->dport + idx / PORTS;

	*s = o->base;
	s->ip_version = v6 ? 6 : 4;
	s->src = v6 ? o->src6 : o->src;
	s->dst = v6 ? o->dst6 : o->dst;
	s->sport = sport;
	s->dport = dport;
	s->proto = tcp ? 6 : 17;
	s->payload = (7 * idx + 13 * k) % (o->payload_max + 1);
	if (rev) {
		const char *t = s->src;

		s->src = s->dst;
		s->dst = t;
		s->sport = dport;
		s->dport = sport;
	}
	if (tcp) {
		int restart = k == 0 || (o->rst_every && k % o->rst_every == 0);

		if (restart)
			s->tcp_flags = rev ? TCP_SYN | TCP_ACK : TCP_SYN;
		else if (o->rst_every && k % o->rst_every == o->rst_every - 1)
			s->tcp_flags = TCP_RST;
		else
			s->tcp_flags = TCP_ACK | (s->payload ? TCP_PSH : 0);
		s->tcp_seq = k;
	}
	return rev;
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static void sleep_until(uint64_t ns)
{
	struct timespec ts = { ns / 1000000000ULL, ns % 1000000000ULL };

	clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
}

static int write_report(const struct opts *o, const struct flow_tally *t)
{
	FILE *f = strcmp(o->report, "-") ? fopen(o->report, "w") : stdout;

	if (!f) {
		fprintf(stderr, "flowsend: Couldn't create %s: %s\n", o->report, strerror(errno));
		return -1;
	}
	for (uint64_t n = 0; n < o->flows; n++) {
		struct pkt_spec s;

		frame_spec(o, o->first + n, 0, &s);
		fprintf(f, "%d %u %s %u %s %u %llu %llu %llu %llu\n", s.ip_version, s.proto, s.src,
			s.sport, s.dst, s.dport, (unsigned long long)t[n].packets[0],
			(unsigned long long)t[n].bytes[0], (unsigned long long)t[n].packets[1],
			(unsigned long long)t[n].bytes[1]);
	}
	if (f != stdout && fclose(f)) {
		fprintf(stderr, "flowsend: Couldn't write %s: %s\n", o->report, strerror(errno));
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static uint8_t frames[BATCH][FRAME_CAP];
	struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_halen = 6 };
	struct mmsghdr msgs[BATCH];
	struct iovec iov[BATCH];
	uint64_t owner[BATCH], rev[BATCH], start, j = 0, refused = 0, bytes = 0;
	struct flow_tally *tally;
	struct opts o;
	int fd, one = 1;

	if (parse_args(&o, argc, argv))
		return 2;
	tally = calloc(o.flows, sizeof(*tally));
	fd = socket(AF_PACKET, SOCK_RAW, 0);
	if (!tally || fd < 0) {
		perror("flowsend: socket(AF_PACKET)");
		return 1;
	}
	sll.sll_ifindex = if_nametoindex(o.iface);
	if (!sll.sll_ifindex) {
		fprintf(stderr, "flowsend: no interface %s\n", o.iface);
		return 1;
	}
	memcpy(sll.sll_addr, o.base.dmac, 6);
	/*
	 * Straight to the driver: the transmit queue is then the sending CPU's
	 * (modulo the queues there are), so two senders on two CPUs feed two
	 * receive queues of a multiqueue veth, metered on both CPUs at once.
	 * --qdisc: through the qdisc layer instead, where TC egress programs
	 * run, on the sending CPU.
	 */
	if (!o.qdisc)
		setsockopt(fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof(one));

	start = mono_ns();
	while (j < o.count) {
		unsigned int n = 0, done = 0;

		/* Frames due now, at most a batch (one at a time when paced slowly). */
		if (o.rate) {
			uint64_t due = start + (uint64_t)((double)j * 1e9 / o.rate);
			uint64_t now = mono_ns();

			if (now < due)
				sleep_until(due);
		}
		while (n < BATCH && j + n < o.count) {
			uint64_t idx = (j + n) % o.flows, k = (j + n) / o.flows;
			struct pkt_spec s;
			size_t len;

			rev[n] = frame_spec(&o, o.first + idx, k, &s);
			len = pkt_build(&s, frames[n], FRAME_CAP);
			if (!len) {
				fprintf(stderr, "flowsend: cannot build frame %llu\n",
					(unsigned long long)(j + n));
				return 1;
			}
			owner[n] = idx;
			iov[n] = (struct iovec){ frames[n], len };
			msgs[n] = (struct mmsghdr){ .msg_hdr = {
				.msg_name = &sll, .msg_namelen = sizeof(sll),
				.msg_iov = &iov[n], .msg_iovlen = 1 } };
			n++;
			if (o.rate && (j + n) * 1e9 / o.rate > mono_ns() - start)
				break; /* the next one is not due yet */
		}
		while (done < n) {
			int r = sendmmsg(fd, msgs + done, n - done, 0);

			if (r < 0) {
				if (errno != ENOBUFS && errno != EAGAIN && errno != EINTR) {
					perror("flowsend: sendmmsg");
					return 1;
				}
				/* Let the receiving side drain its queue. */
				refused++;
				if (refused % 16)
					sched_yield();
				else
					usleep(100);
				continue;
			}
			for (int i = 0; i < r; i++) {
				struct flow_tally *t = &tally[owner[done + i]];

				t->packets[rev[done + i]]++;
				t->bytes[rev[done + i]] += iov[done + i].iov_len;
				bytes += iov[done + i].iov_len;
			}
			done += r;
		}
		j += n;
	}
	fprintf(stderr, "flowsend: sent %llu frames (%llu bytes) over %llu flows in %.3f s; "
			"refused %llu times, each sent again\n",
		(unsigned long long)j, (unsigned long long)bytes, (unsigned long long)o.flows,
		(mono_ns() - start) / 1e9, (unsigned long long)refused);
	close(fd);
	if (o.report && write_report(&o, tally))
		return 1;
	free(tally);
	return 0;
}
