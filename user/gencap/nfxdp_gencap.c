// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * nfxdp-gencap: writes a synthetic but realistic capture for benchmarks:
 * TCP connections with handshakes, request/response data, ACKs and
 * teardowns; UDP request/response and one-way streams; ICMP echo; IPv4 and
 * IPv6; heavy-tailed flow sizes; flows interleaved in time. Deterministic
 * for a given seed. Addresses from 198.18.0.0/15 and fd00::/8 only.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pcap/pcap.h>

#include "gencap/craft.h"

enum kind { KIND_TCP, KIND_UDP_RR, KIND_UDP_STREAM, KIND_ICMP };

struct gflow {
	uint64_t start_ns;
	uint32_t packets;
	uint8_t kind;
	uint8_t v6;
	uint16_t cport;
	uint16_t sport;
	uint32_t client;
	uint32_t server;
};

/* One packet of the capture: which flow, which of its packets, when. */
struct gpkt {
	uint64_t ts_ns;
	uint32_t flow;
	uint32_t idx;
};

struct opts {
	const char *out;
	uint64_t packets;
	uint32_t flows;
	uint64_t seed;
	double v6_share;
	double duration_s;
};

static uint64_t rng_state;

static uint64_t rnd(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545F4914F6CDD1DULL;
}

static double unif(void)
{
	return (rnd() >> 11) * (1.0 / 9007199254740992.0);
}

/* A stable per-(flow, packet) hash for payload sizes. */
static uint64_t mix(uint64_t a, uint64_t b)
{
	uint64_t x = a * 0x9E3779B97F4A7C15ULL ^ (b + 0x632BE59BD9B4E019ULL);

	x ^= x >> 31;
	x *= 0xD6E8FEB86659FD93ULL;
	return x ^ (x >> 32);
}

static void usage(void)
{
	fprintf(stderr,
"Usage: nfxdp-gencap -o FILE [--packets N] [--flows N] [--seed S] [--ipv6 SHARE]\n"
"                    [--duration S]\n"
"Writes a pcap of about N packets (2000000) in N flows (50000) over S seconds\n"
"(60), with SHARE of the flows over IPv6 (0.2).\n");
}

static int parse(struct opts *o, int argc, char **argv)
{
	static const struct option lo[] = {
		{ "output", required_argument, NULL, 'o' }, { "packets", required_argument, NULL, 'p' },
		{ "flows", required_argument, NULL, 'f' },  { "seed", required_argument, NULL, 's' },
		{ "ipv6", required_argument, NULL, '6' },   { "duration", required_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },	    { NULL, 0, NULL, 0 },
	};
	int c;

	*o = (struct opts){ NULL, 2000000, 50000, 1, 0.2, 60.0 };
	while ((c = getopt_long(argc, argv, "o:h", lo, NULL)) != -1) {
		switch (c) {
		case 'o': o->out = optarg; break;
		case 'p': o->packets = strtoull(optarg, NULL, 10); break;
		case 'f': o->flows = strtoul(optarg, NULL, 10); break;
		case 's': o->seed = strtoull(optarg, NULL, 10); break;
		case '6': o->v6_share = atof(optarg); break;
		case 'd': o->duration_s = atof(optarg); break;
		default:
			usage();
			return -1;
		}
	}
	if (!o->out || !o->flows || o->packets < (uint64_t)o->flows * 2) {
		usage();
		return -1;
	}
	return 0;
}

/* Flow sizes: heavy-tailed (Pareto), scaled to the packet budget. */
static void plan_flows(struct gflow *fl, const struct opts *o)
{
	double sum = 0, scale, *w = malloc(o->flows * sizeof(*w));
	uint64_t total = 0;

	for (uint32_t i = 0; i < o->flows; i++) {
		w[i] = pow(1.0 - unif(), -1.0 / 1.3); /* alpha 1.3 */
		sum += w[i];
	}
	scale = (double)o->packets / sum;
	for (uint32_t i = 0; i < o->flows; i++) {
		struct gflow *f = &fl[i];
		double k = unif();

		f->kind = k < 0.70 ? KIND_TCP : k < 0.85 ? KIND_UDP_RR : k < 0.95 ? KIND_UDP_STREAM :
										KIND_ICMP;
		f->packets = (uint32_t)(w[i] * scale);
		if (f->kind == KIND_TCP && f->packets < 8)
			f->packets = 8;
		if (f->packets < 2)
			f->packets = 2;
		if (f->packets > 200000)
			f->packets = 200000;
		f->v6 = unif() < o->v6_share;
		f->client = i;
		f->server = rnd() % 2000;
		f->cport = 1024 + (i % 60000);
		f->sport = f->kind == KIND_TCP ? (unif() < 0.8 ? 443 : 80) :
			   f->kind == KIND_UDP_RR ? 53 : f->kind == KIND_UDP_STREAM ? 5004 : 0;
		f->start_ns = (uint64_t)(unif() * o->duration_s * 0.9 * 1e9);
		total += f->packets;
	}
	free(w);
	fprintf(stderr, "nfxdp-gencap: %u flows, %" PRIu64 " packets planned\n", o->flows, total);
}

/* Packet @i of @f: direction (0 client to server), TCP flags, payload bytes. */
static void packet_of(const struct gflow *f, uint32_t flow, uint32_t i, int *dir, uint8_t *flags,
		      uint16_t *payload)
{
	uint64_t h = mix(flow, i);
	uint32_t n = f->packets;

	*flags = 0;
	*payload = 0;
	switch (f->kind) {
	case KIND_TCP:
		if (i == 0) {
			*dir = 0, *flags = 0x02;
		} else if (i == 1) {
			*dir = 1, *flags = 0x12;
		} else if (i == 2) {
			*dir = 0, *flags = 0x10;
		} else if (i >= n - 4) {
			static const uint8_t fin[4][2] = { { 0, 0x11 }, { 1, 0x10 }, { 1, 0x11 }, { 0, 0x10 } };

			*dir = fin[i - (n - 4)][0];
			*flags = fin[i - (n - 4)][1];
		} else if ((i - 3) % 6 == 0) {
			*dir = 0, *flags = 0x18, *payload = 100 + h % 500; /* a request */
		} else if ((i - 3) % 3 == 0) {
			*dir = 0, *flags = 0x10; /* an ACK every two segments */
		} else {
			*dir = 1, *flags = 0x10;
			*payload = h % 4 ? 1448 : 200 + h % 1000; /* response data */
		}
		break;
	case KIND_UDP_RR:
		*dir = i & 1;
		*payload = *dir ? 80 + h % 400 : 30 + h % 40;
		break;
	case KIND_UDP_STREAM:
		*dir = 0;
		*payload = 160 + h % 40;
		break;
	default:
		*dir = i & 1;
		*payload = 56;
	}
}

static void address(char *buf, size_t len, int v6, int server, uint32_t n)
{
	if (v6)
		snprintf(buf, len, "fd00:%x::%x:%x", server ? 2 : 1, n >> 16, n & 0xffff);
	else
		snprintf(buf, len, "198.%u.%u.%u", server ? 19 : 18, (n >> 8) & 0xff, n & 0xff);
}

static void frame(const struct gflow *f, uint32_t flow, uint32_t i, uint8_t *buf, size_t *len)
{
	char c[64], s[64];
	struct pkt_spec p = {
		.smac = { 0x02, 0, 0, 0, 0, 1 },
		.dmac = { 0x02, 0, 0, 0, 0, 2 },
		.ip_version = f->v6 ? 6 : 4,
	};
	uint8_t flags;
	uint16_t payload;
	int dir;

	packet_of(f, flow, i, &dir, &flags, &payload);
	address(c, sizeof(c), f->v6, 0, f->client);
	address(s, sizeof(s), f->v6, 1, f->server);
	p.src = dir ? s : c;
	p.dst = dir ? c : s;
	p.sport = dir ? f->sport : f->cport;
	p.dport = dir ? f->cport : f->sport;
	p.proto = f->kind == KIND_TCP ? 6 : f->kind == KIND_ICMP ? (f->v6 ? 58 : 1) : 17;
	p.tcp_flags = flags;
	p.tcp_seq = 1000 + i * 1448;
	p.tcp_ack = flags & 0x10 ? 5000 + i : 0;
	p.payload = payload;
	if (dir) {
		p.smac[5] = 2;
		p.dmac[5] = 1;
	}
	*len = pkt_build(&p, buf, PKT_MAX);
}

static int by_time(const void *a, const void *b)
{
	const struct gpkt *x = a, *y = b;

	if (x->ts_ns != y->ts_ns)
		return x->ts_ns < y->ts_ns ? -1 : 1;
	return x->flow != y->flow ? (x->flow < y->flow ? -1 : 1) : (x->idx < y->idx ? -1 : 1);
}

/* Packet times: a flow's packets a few ms apart, with a round trip between directions. */
static struct gpkt *schedule(const struct gflow *fl, const struct opts *o, uint64_t *n)
{
	uint64_t total = 0, k = 0;
	struct gpkt *ps;

	for (uint32_t i = 0; i < o->flows; i++)
		total += fl[i].packets;
	ps = malloc(total * sizeof(*ps));
	if (!ps)
		return NULL;
	for (uint32_t i = 0; i < o->flows; i++) {
		uint64_t t = fl[i].start_ns;
		double gap_ms = 0.2 + unif() * 20;

		for (uint32_t j = 0; j < fl[i].packets; j++) {
			ps[k++] = (struct gpkt){ t, i, j };
			t += (uint64_t)((0.01 + unif() * 2 * gap_ms) * 1e6);
		}
	}
	qsort(ps, total, sizeof(*ps), by_time);
	*n = total;
	return ps;
}

int main(int argc, char **argv)
{
	struct opts o;
	struct gflow *fl;
	struct gpkt *ps;
	uint64_t n, bytes = 0;
	uint8_t buf[PKT_MAX];
	pcap_dumper_t *d;
	pcap_t *dead;

	if (parse(&o, argc, argv))
		return 2;
	rng_state = o.seed * 0x9E3779B97F4A7C15ULL + 1;
	fl = calloc(o.flows, sizeof(*fl));
	if (!fl)
		return 1;
	plan_flows(fl, &o);
	ps = schedule(fl, &o, &n);
	if (!ps) {
		fprintf(stderr, "nfxdp-gencap: out of memory\n");
		return 1;
	}
	dead = pcap_open_dead_with_tstamp_precision(DLT_EN10MB, 65535, PCAP_TSTAMP_PRECISION_MICRO);
	d = pcap_dump_open(dead, o.out);
	if (!d) {
		fprintf(stderr, "nfxdp-gencap: Couldn't write %s: %s\n", o.out, pcap_geterr(dead));
		return 1;
	}
	for (uint64_t i = 0; i < n; i++) {
		uint64_t ts = 1700000000ULL * 1000000000ULL + ps[i].ts_ns;
		struct pcap_pkthdr h = { .ts = { ts / 1000000000ULL, (ts % 1000000000ULL) / 1000 } };
		size_t len;

		frame(&fl[ps[i].flow], ps[i].flow, ps[i].idx, buf, &len);
		h.caplen = h.len = len;
		pcap_dump((u_char *)d, &h, buf);
		bytes += len;
	}
	pcap_dump_close(d);
	pcap_close(dead);
	fprintf(stderr, "nfxdp-gencap: wrote %s: %" PRIu64 " packets, %" PRIu64 " bytes, %u flows\n",
		o.out, n, bytes, o.flows);
	free(ps);
	free(fl);
	return 0;
}
