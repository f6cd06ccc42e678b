// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <arpa/inet.h>
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "meter/counters.h"
#include "harness.h"
#include "meter.skel.h"

void harness_default_opts(struct meter_opts *o)
{
	/* nfxdp's defaults, a small cache, both metering programs. */
	meter_opts_default(o);
	o->max_flows = 4096;
	o->programs = LOAD_METER | LOAD_REPLAY | LOAD_EGRESS;
}

static int on_event(void *ctx, void *data, size_t size)
{
	struct harness *h = ctx;

	size_t entry = size - offsetof(struct flow_event, entry);

	if (size == sizeof(struct flow_note)) {
		if (h->on_note)
			h->on_note(h->note_ctx, data);
		return 0;
	}
	if (h->n_events < HARNESS_MAX_EVENTS && size >= sizeof(struct flow_event)) {
		if (h->event_entries && entry <= sizeof(struct flow_entry_max))
			memcpy(&h->event_entries[h->n_events],
			       (const char *)data + offsetof(struct flow_event, entry), entry);
		memcpy(&h->events[h->n_events++], data, sizeof(struct flow_event));
	}
	return 0;
}

int harness_open(struct harness *h, const struct meter_opts *o)
{
	struct meter_opts def;
	int err;

	memset(h, 0, sizeof(*h));
	if (!o) {
		harness_default_opts(&def);
		o = &def;
	}
	err = meter_load(&h->m, o);
	if (err)
		return err;
	h->events = calloc(HARNESS_MAX_EVENTS, sizeof(*h->events));
	if (o->statistical || o->splt)
		h->event_entries = calloc(HARNESS_MAX_EVENTS, sizeof(*h->event_entries));
	h->rb = ring_buffer__new(bpf_map__fd(h->m.skel->maps.flow_events), on_event, h, NULL);
	if (!h->rb || !h->events) {
		harness_close(h);
		return -ENOMEM;
	}
	h->meter_fd = bpf_program__fd(h->m.skel->progs.nfx_meter);
	h->replay_fd = bpf_program__fd(h->m.skel->progs.nfx_replay);
	h->egress_fd = bpf_program__fd(h->m.skel->progs.nfx_egress);
	return 0;
}

void harness_close(struct harness *h)
{
	ring_buffer__free(h->rb);
	free(h->events);
	free(h->event_entries);
	if (h->m.skel)
		meter_destroy(&h->m);
	memset(h, 0, sizeof(*h));
}

void harness_counters(struct harness *h, uint64_t out[NFX_COUNTER_MAX])
{
	counters_read(bpf_map__fd(h->m.skel->maps.counters), out);
}

static int is_terminal(int c)
{
	return c >= NFX_OUTCOME_FIRST && c <= NFX_OUTCOME_LAST;
}

/* The one terminal counter that moved between @a and @b, or -1. */
static int moved(const uint64_t *a, const uint64_t *b)
{
	int which = -1;

	for (int i = 0; i < NFX_COUNTER_MAX; i++) {
		if (!is_terminal(i) || a[i] == b[i])
			continue;
		if (which >= 0 || b[i] - a[i] != 1)
			return -1;
		which = i;
	}
	return which;
}

static int run(struct harness *h, const uint8_t *frame, size_t len, const struct nfx_meta *meta)
{
	uint8_t buf[sizeof(struct nfx_meta) + 16384];
	struct xdp_md ctx = { 0 };
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = buf, .repeat = 1);
	uint64_t before[NFX_COUNTER_MAX], after[NFX_COUNTER_MAX];
	size_t off = meta ? sizeof(*meta) : 0;

	if (len + off > sizeof(buf))
		return -1;
	if (meta)
		memcpy(buf, meta, sizeof(*meta));
	memcpy(buf + off, frame, len);
	opts.data_size_in = len + off;
	if (meta) {
		ctx.data = off;
		ctx.data_end = len + off;
		opts.ctx_in = &ctx;
		opts.ctx_size_in = sizeof(ctx);
	}
	harness_counters(h, before);
	if (bpf_prog_test_run_opts(h->meter_fd, &opts) || opts.retval != XDP_PASS)
		return -1;
	harness_counters(h, after);
	if (after[NFX_FRAMES_SEEN] != before[NFX_FRAMES_SEEN] + 1)
		return -1;
	return moved(before, after);
}

int harness_run(struct harness *h, const uint8_t *frame, size_t len, uint32_t wire_len,
		uint64_t ts_ns)
{
	struct nfx_meta meta = {
		.ts_ns = ts_ns,
		.wire_len = wire_len ? wire_len : len,
		.frame_len = wire_len ? wire_len : len,
		.magic = NFX_META_MAGIC,
	};

	return run(h, frame, len, &meta);
}

int harness_run_live(struct harness *h, const uint8_t *frame, size_t len)
{
	return run(h, frame, len, NULL);
}

int harness_run_egress(struct harness *h, const uint8_t *frame, size_t len, uint32_t gso_segs,
		       uint32_t gso_size)
{
	struct __sk_buff ctx = { .gso_segs = gso_segs, .gso_size = gso_size };
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = frame, .data_size_in = len,
		    .ctx_in = &ctx, .ctx_size_in = sizeof(ctx), .repeat = 1);
	uint64_t before[NFX_COUNTER_MAX], after[NFX_COUNTER_MAX];

	harness_counters(h, before);
	/* -1: tcx's TCX_NEXT and tc's TC_ACT_UNSPEC, what comes after decides. */
	if (bpf_prog_test_run_opts(h->egress_fd, &opts) || (int)opts.retval != -1)
		return -1;
	harness_counters(h, after);
	if (after[NFX_FRAMES_SEEN] != before[NFX_FRAMES_SEEN] + 1)
		return -1;
	return moved(before, after);
}

void harness_counters_hook(struct harness *h, int hook, uint64_t out[NFX_COUNTER_MAX])
{
	counters_read_hook(bpf_map__fd(h->m.skel->maps.counters), hook, out);
}

int harness_run_spec(struct harness *h, const struct pkt_spec *s, uint64_t ts_ns)
{
	uint8_t frame[PKT_MAX];
	size_t len = pkt_build(s, frame, sizeof(frame));

	if (!len)
		return -2;
	return harness_run(h, frame, len, 0, ts_ns);
}

int harness_drain(struct harness *h)
{
	int before = h->n_events;

	ring_buffer__consume(h->rb);
	return h->n_events - before;
}

int harness_lookup(struct harness *h, const struct flow_key *k, struct flow_entry *e)
{
	struct flow_entry_max full;

	if (bpf_map_lookup_elem(bpf_map__fd(h->m.skel->maps.flows), k, &full))
		return -errno;
	*e = full.e;
	return 0;
}

int harness_lookup_full(struct harness *h, const struct flow_key *k, struct flow_entry_max *e)
{
	memset(e, 0, sizeof(*e));
	if (bpf_map_lookup_elem(bpf_map__fd(h->m.skel->maps.flows), k, e))
		return -errno;
	return 0;
}

int harness_flow_count(struct harness *h)
{
	struct flow_key k, next;
	int fd = bpf_map__fd(h->m.skel->maps.flows), n = 0;
	void *prev = NULL;

	while (!bpf_map_get_next_key(fd, prev, &next)) {
		n++;
		k = next;
		prev = &k;
	}
	return n;
}

int test_key(struct flow_key *k, int version, const char *a, uint16_t pa, const char *b,
	     uint16_t pb, uint8_t proto, uint16_t vlan, int *from_hi)
{
	uint8_t x[16] = { 0 }, y[16] = { 0 };
	int af = version == 6 ? AF_INET6 : AF_INET, c;

	if (inet_pton(af, a, x) != 1 || inet_pton(af, b, y) != 1)
		return -1;
	c = memcmp(x, y, 16);
	if (!c)
		c = pa < pb ? -1 : pa > pb;
	memset(k, 0, sizeof(*k));
	memcpy(k->addr_lo, c > 0 ? y : x, 16);
	memcpy(k->addr_hi, c > 0 ? x : y, 16);
	k->port_lo = htons(c > 0 ? pb : pa);
	k->port_hi = htons(c > 0 ? pa : pb);
	k->protocol = proto;
	k->ip_version = version;
	k->vlan_id = vlan;
	if (from_hi)
		*from_hi = c > 0;
	return 0;
}
