// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * recbench: the collector's record path without a kernel. N synthetic
 * closed flows go through the code nfxdp runs on each one (record_build(),
 * batch_next(), batch_pack(), then a sink: the ZeroMQ exporter or the file
 * exporter), so that path can be timed and profiled alone; a counting
 * consumer takes the ZeroMQ side (bench/sections/45-records.sh).
 *
 *   recbench build N [FEAT]        records built and packed, not sent: ns per flow of each
 *   recbench file N PATH [FEAT]    a pb file, as nfxdp --output PATH --format pb writes it
 *   recbench pub N ENDPOINT [FEAT] published on ENDPOINT once a subscriber joined
 *   recbench count ENDPOINT N      a SUB that counts flows (batch_peek(), no decoding)
 *
 * FEAT: "plain" (default), "stat" (--statistical), "splt" (--statistical
 * --splt 16). RECBENCH_PBC=1 in the environment packs with protobuf-c's
 * nfxdp__flow_batch__pack(), as nfxdp did before pb_encode(). pub prints
 * "flows seconds cpu_seconds peak_rss_kb" (the ZeroMQ queue is nfxdp's,
 * zmq_hwm_for()); count prints "flows batches lost first_ns last_ns".
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include <zmq.h>

#include "common/clock.h"
#include "export/file.h"
#include "export/zmq.h"
#include "record/batch.h"
#include "record/record.h"

#define BATCH_FLOWS 256 /* nfxdp's --batch-flows default */

static struct record_features feat_of(const char *s)
{
	struct record_features f = { 0 };

	if (s && (!strcmp(s, "stat") || !strcmp(s, "splt")))
		f.statistical = true;
	if (s && !strcmp(s, "splt"))
		f.splt = 16;
	return f;
}

static void fill_stats(struct flow_statistics *st, uint64_t i)
{
	for (int d = 0; d < 2; d++) {
		struct flow_dir_stats *s = &st->dir[d];

		s->ps_min = 60 + i % 40;
		s->ps_max = 1514 - i % 100;
		s->ps_sumsq = (uint64_t)s->ps_max * s->ps_max * (3 + i % 5);
		s->piat_sum_ms = 10 + i % 1000;
		s->piat_sumsq_ms = s->piat_sum_ms * s->piat_sum_ms;
		s->piat_min_ms = i % 3;
		s->piat_max_ms = 5 + i % 500;
		for (int k = 0; k < FLAG_COUNT; k++)
			s->flag_packets[k] = (i + k) % 4;
	}
	st->piat_sum_ms = 20 + i % 2000;
	st->piat_sumsq_ms = st->piat_sum_ms * st->piat_sum_ms;
	st->piat_min_ms = 1;
	st->piat_max_ms = 900;
}

/* Flow @i: IPv4 mostly, one in five IPv6, TCP and UDP, a few packets each way. */
static void fill_event(struct flow_event *ev, uint64_t i, const struct record_features *feat)
{
	struct flow_entry *e = &ev->entry;
	uint64_t t0 = 1700000000000000000ULL + i * 1000;

	memset(ev, 0, sizeof(*ev) - sizeof(ev->entry) + flow_entry_size(feat->statistical, feat->splt));
	ev->reason = i % 5;
	e->key.ip_version = i % 5 == 4 ? 6 : 4;
	e->key.protocol = i & 1 ? 17 : 6;
	if (e->key.ip_version == 4) {
		uint32_t lo = htonl(0x0a000000 | (uint32_t)i), hi = htonl(0xc0a80001 + i % 200);

		memcpy(e->key.addr_lo, &lo, 4);
		memcpy(e->key.addr_hi, &hi, 4);
	} else {
		e->key.addr_lo[0] = 0x20;
		e->key.addr_lo[1] = 0x01;
		memcpy(e->key.addr_lo + 8, &i, sizeof(i));
		e->key.addr_hi[0] = 0xfe;
		e->key.addr_hi[1] = 0x80;
		e->key.addr_hi[15] = i & 0xff;
	}
	e->key.port_lo = htons(1024 + i % 60000);
	e->key.port_hi = htons(i % 3 ? 443 : 53);
	for (int k = 0; k < 6; k++) {
		e->src_mac[k] = 0x02 + k;
		e->dst_mac[k] = (uint8_t)(i >> (k * 8));
	}
	for (int d = 0; d < 2; d++) {
		struct flow_dir_counters *c = &e->dir[d];

		c->packets = 1 + (i + d) % 7;
		c->bytes = c->packets * (60 + i % 1400);
		c->first_seen_ns = t0 + d * 1500;
		c->last_seen_ns = c->first_seen_ns + (i % 100000) * 1000;
		c->tcp_flags = e->key.protocol == 6 ? 0x1b : 0;
	}
	if (feat->statistical)
		fill_stats((void *)((char *)e + flow_stats_offset()), i);
	if (feat->splt) {
		struct flow_splt *sp = (void *)((char *)e + flow_splt_offset(feat->statistical));

		sp->base_ns = t0;
		sp->claimed = 1 + i % 20;
		for (uint32_t k = 0; k < SPLT_MAX; k++)
			sp->slot[k] = (struct splt_slot){ .offset_us = k * 37, .size = 60 + k, .dir = k & 1 };
	}
}

struct gen {
	struct batch b;
	struct record_features feat;
	struct flow_event *ev;
	uint64_t i, n;
	uint64_t build_ns, pack_ns;
	bool pbc; /* pack with protobuf-c, as batch_pack() did before pb_encode() */
	size_t pbc_cap;
};

static int gen_init(struct gen *g, uint64_t n, const char *feat)
{
	memset(g, 0, sizeof(*g));
	g->pbc = getenv("RECBENCH_PBC") != NULL;
	g->feat = feat_of(feat);
	g->n = n;
	g->ev = calloc(1, sizeof(struct flow_event) + sizeof(struct flow_entry_max));
	if (!g->ev || batch_init(&g->b, BATCH_FLOWS, "recbench", "synthetic", stream_id_new()))
		return -1;
	g->b.msg.statistical = g->feat.statistical;
	g->b.msg.splt = g->feat.splt;
	return 0;
}

static const uint8_t *pack_pbc(struct gen *g, size_t *len)
{
	size_t need = nfxdp__flow_batch__get_packed_size(&g->b.msg);

	if (need > g->b.out.cap && !(g->b.out.p = realloc(g->b.out.p, g->b.out.cap = need)))
		return NULL;
	*len = nfxdp__flow_batch__pack(&g->b.msg, g->b.out.p);
	return g->b.out.p;
}

/* The next batch of records, packed; NULL when all N are out. */
static const uint8_t *gen_next(struct gen *g, size_t *len, bool timed)
{
	uint64_t t0 = timed ? clock_ns(CLOCK_MONOTONIC) : 0, t1;
	const uint8_t *p;

	if (g->b.msg.n_flows)
		batch_clear(&g->b);
	while (g->i < g->n) {
		struct flow_rec *r = batch_next(&g->b, 0);

		if (!r)
			break;
		fill_event(g->ev, g->i, &g->feat);
		record_build(r, g->ev, g->i, 0, &g->feat, NULL);
		r->msg.sampling_rate = 1;
		g->i++;
	}
	if (!g->b.msg.n_flows)
		return NULL;
	t1 = timed ? clock_ns(CLOCK_MONOTONIC) : 0;
	p = g->pbc ? pack_pbc(g, len) : batch_pack(&g->b, len);
	if (timed) {
		g->build_ns += t1 - t0;
		g->pack_ns += clock_ns(CLOCK_MONOTONIC) - t1;
	}
	return p;
}

static double cpu_seconds(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_utime.tv_sec + ru.ru_stime.tv_sec +
	       (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

/* VmHWM: the process's peak resident memory. */
static long peak_rss_kb(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_maxrss;
}

static int run_build(uint64_t n, const char *feat)
{
	struct gen g;
	size_t len, bytes = 0;
	const uint8_t *p;

	if (gen_init(&g, n, feat))
		return 1;
	while ((p = gen_next(&g, &len, true)))
		bytes += len;
	printf("build_ns_per_flow %.1f pack_ns_per_flow %.1f bytes_per_flow %.1f\n",
	       (double)g.build_ns / n, (double)g.pack_ns / n, (double)bytes / n);
	return 0;
}

static int send_all(struct gen *g, struct exporter *x)
{
	struct batch_view v = { .msg = &g->b.msg };
	int failed = 0;

	while ((v.packed = gen_next(g, &v.len, false)))
		failed += x->ops->send(x, &v) != 0;
	return failed;
}

static int run_file(uint64_t n, const char *path, const char *feat)
{
	struct file_opts o = { .path = path, .format = FORMAT_PB };
	struct exporter *x;
	struct gen g;
	int err = 0;

	if (gen_init(&g, n, feat))
		return 1;
	o.feat = g.feat;
	x = file_exporter_new(&o, &err);
	if (!x)
		return 1;
	err = send_all(&g, x);
	return x->ops->close(x, 0) || err ? 1 : 0;
}

static int run_pub(uint64_t n, const char *endpoint, const char *feat)
{
	/* The queue nfxdp gives a subscriber: its memory bound; a slow consumer loses batches. */
	struct zmq_opts o = { .endpoint = endpoint };
	struct exporter *x;
	double t0, c0;
	struct gen g;
	int err = 0, failed;

	if (gen_init(&g, n, feat))
		return 1;
	o.hwm = zmq_hwm_for(BATCH_FLOWS, g.feat.statistical, g.feat.splt);
	x = zmq_exporter_new(&o, &err);
	if (!x)
		return 1;
	for (int i = 0; i < 10000 && !((struct zmq_exporter *)x)->subscribers; i++) {
		x->ops->service(x);
		zmq_poll(NULL, 0, 1);
	}
	if (!((struct zmq_exporter *)x)->subscribers) {
		fprintf(stderr, "recbench: no subscriber on %s in 10 s\n", endpoint);
		x->ops->close(x, 0);
		return 1;
	}
	t0 = clock_secs(CLOCK_MONOTONIC);
	c0 = cpu_seconds();
	failed = send_all(&g, x);
	/* Published means out of the socket: the close waits for the queue. */
	err = x->ops->close(x, 30000);
	printf("%" PRIu64 " %.4f %.4f %ld\n", n, clock_secs(CLOCK_MONOTONIC) - t0,
	       cpu_seconds() - c0, peak_rss_kb());
	return failed || err ? 1 : 0;
}

static int run_count(const char *endpoint, uint64_t n)
{
	void *ctx = zmq_ctx_new(), *sock = zmq_socket(ctx, ZMQ_SUB);
	uint64_t flows = 0, batches = 0, lost = 0, next = 0, first = 0, last = 0;
	int rcvtimeo = 3000, hwm = 0;
	zmq_msg_t topic, body;

	zmq_setsockopt(sock, ZMQ_RCVHWM, &hwm, sizeof(hwm));
	zmq_setsockopt(sock, ZMQ_SUBSCRIBE, ZMQ_TOPIC_FLOWS, strlen(ZMQ_TOPIC_FLOWS));
	zmq_setsockopt(sock, ZMQ_RCVTIMEO, &rcvtimeo, sizeof(rcvtimeo));
	if (zmq_connect(sock, endpoint)) {
		fprintf(stderr, "recbench: Couldn't connect to %s: %s\n", endpoint, zmq_strerror(errno));
		return 1;
	}
	zmq_msg_init(&topic);
	zmq_msg_init(&body);
	while (flows < n && zmq_msg_recv(&topic, sock, 0) >= 0 && zmq_msg_recv(&body, sock, 0) >= 0) {
		struct batch_head h;

		if (batch_peek(zmq_msg_data(&body), zmq_msg_size(&body), &h))
			continue;
		if (batches && h.sequence != next)
			lost += h.sequence - next;
		next = h.sequence + 1;
		last = clock_ns(CLOCK_REALTIME);
		if (!batches++)
			first = last;
		flows += h.flows;
	}
	printf("%" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 "\n", flows, batches,
	       lost, first, last);
	zmq_msg_close(&topic);
	zmq_msg_close(&body);
	zmq_close(sock);
	zmq_ctx_term(ctx);
	return flows == n ? 0 : 3;
}

int main(int argc, char **argv)
{
	uint64_t n = argc > 2 ? strtoull(argv[2], NULL, 10) : 0;

	if (argc >= 3 && !strcmp(argv[1], "build"))
		return run_build(n, argc > 3 ? argv[3] : NULL);
	if (argc >= 4 && !strcmp(argv[1], "file"))
		return run_file(n, argv[3], argc > 4 ? argv[4] : NULL);
	if (argc >= 4 && !strcmp(argv[1], "pub"))
		return run_pub(n, argv[3], argc > 4 ? argv[4] : NULL);
	if (argc >= 4 && !strcmp(argv[1], "count"))
		return run_count(argv[2], strtoull(argv[3], NULL, 10));
	fprintf(stderr, "usage: recbench build N [FEAT] | file N PATH [FEAT] | pub N ENDPOINT [FEAT] |"
			" count ENDPOINT N (FEAT: plain, stat, splt)\n");
	return 2;
}
