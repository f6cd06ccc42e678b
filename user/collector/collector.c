// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "collector/collector.h"
#include "common/clock.h"
#include "common/log.h"
#include "meter/counters.h"
#include "select/flow_filter.h"

void collector_opts_default(struct collector_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->expiry.idle_ms = NFX_DEFAULT_IDLE_TIMEOUT_MS;
	o->expiry.active_ms = NFX_DEFAULT_ACTIVE_TIMEOUT_MS;
	o->expiry.natural = true;
	o->expiry.linger_ms = 1000;
	o->expiry.capacity = NFX_DEFAULT_MAX_FLOWS;
	o->expiry.overflow_export = true;
	o->batch_flows = 256;
	o->batch_ms = 1000;
	o->dpi_flows = NFX_DEFAULT_DPI_FLOWS;
}

/* Entries closed: overflow records never had one, so they do not count. */
static uint64_t closed_total(const struct collector *c)
{
	uint64_t closed = 0;

	for (int i = 0; i < EXPIRY_COUNT; i++)
		if (i != EXPIRY_OVERFLOW)
			closed += c->expired[i];
	return closed;
}

/* ---- records and batches ------------------------------------------------ */

/* --persist: where the stream stands and the totals, for the next collector. */
static void state_save(struct collector *c, bool stopping)
{
	struct collector_state s = {
		.magic = COLLECTOR_STATE_MAGIC,
		.stream_id = c->batch.msg.stream_id,
		.next_sequence = c->batch.msg.sequence,
		.next_flow_id = c->next_id,
		.flows_sampled_out = c->flows_sampled_out,
		.flows_filtered_out = c->flows_filtered_out,
		.pid = stopping ? 0 : (uint64_t)getpid(),
		.clean_exit = stopping,
		.resumes = c->resumes,
	};
	static bool warned;
	int err;

	memcpy(s.expired, c->expired, sizeof(s.expired));
	memcpy(s.exported, c->exported, sizeof(s.exported));
	err = meter_state_save(c->m, &s);
	if (err && !warned) {
		warned = true;
		pr_warn("Couldn't save the stream position for a restart: %s\n", strerror(-err));
	}
}

void collector_send(struct collector *c)
{
	struct batch_view b = { .msg = &c->batch.msg };

	if (c->batch.msg.n_flows) {
		bool pack = false;

		/* A batch no sink sends as protobuf is never packed. */
		for (int i = 0; i < c->n_ex; i++)
			pack |= exporter_needs_packed(c->ex[i]);
		c->batch.msg.sent_time_ns = clock_ns(CLOCK_REALTIME);
		if (pack && !(b.packed = batch_pack(&c->batch, &b.len)))
			pr_warn("Couldn't pack a batch of %zu flows: out of memory\n",
				c->batch.msg.n_flows);
		else
			for (int i = 0; i < c->n_ex; i++)
				c->ex[i]->ops->send(c->ex[i], &b);
		batch_clear(&c->batch);
	}
	/* Sent, then committed, then noted: a crash in between repeats nothing. */
	event_ring_commit(&c->ring);
	if (c->o.persist)
		state_save(c, false);
}

void collector_reopen(struct collector *c)
{
	int reopened = 0;

	collector_send(c);
	for (int i = 0; i < c->n_ex; i++) {
		struct exporter *x = c->ex[i];

		if (x->ops->reopen && !x->ops->reopen(x))
			reopened++;
	}
	pr_info("SIGHUP: batch sent, %d output file(s) reopened\n", reopened);
}

/* --scale-sampled: estimates of the link's counts from the sampled ones. */
static void scale_counts(Nfxdp__Flow *f, uint32_t n)
{
	uint64_t *counts[] = {
		&f->bidirectional_packets, &f->bidirectional_bytes, &f->src2dst_packets,
		&f->src2dst_bytes, &f->dst2src_packets, &f->dst2src_bytes,
		&f->bidirectional_syn_packets, &f->bidirectional_cwr_packets,
		&f->bidirectional_ece_packets, &f->bidirectional_urg_packets,
		&f->bidirectional_ack_packets, &f->bidirectional_psh_packets,
		&f->bidirectional_rst_packets, &f->bidirectional_fin_packets,
		&f->src2dst_syn_packets, &f->src2dst_cwr_packets, &f->src2dst_ece_packets,
		&f->src2dst_urg_packets, &f->src2dst_ack_packets, &f->src2dst_psh_packets,
		&f->src2dst_rst_packets, &f->src2dst_fin_packets, &f->dst2src_syn_packets,
		&f->dst2src_cwr_packets, &f->dst2src_ece_packets, &f->dst2src_urg_packets,
		&f->dst2src_ack_packets, &f->dst2src_psh_packets, &f->dst2src_rst_packets,
		&f->dst2src_fin_packets,
	};

	for (size_t i = 0; i < sizeof(counts) / sizeof(counts[0]); i++)
		*counts[i] *= n;
	f->sampling_scaled = true;
}

/*
 * --flow-sample picks flows by key hash, so a flow is kept or dropped
 * whole: both directions, and every record of it (idle and active expiry).
 */
static bool flow_sampled_out(const struct collector *c, const struct flow_event *ev)
{
	return c->o.flow_sample_n > 1 && flow_key_hash(&ev->entry.key) % c->o.flow_sample_n;
}

/*
 * Export ring callback: one closed flow into the batch. Returns 1 once the
 * batch is full, which stops the ring's reader: collector_drain() sends it,
 * so a batch leaves from one place, never from inside the callback.
 */
static int on_flow_event(void *ctx, void *data, size_t size)
{
	struct collector *c = ctx;
	const struct flow_event *ev = data;
	struct record_app app;
	struct flow_rec *r;

	if (size == sizeof(struct flow_note) && ev->reason == FLOW_NOTE_ENDED) {
		const struct flow_note *n = data;

		poller_note(&c->poller, &n->key, n->last_seen_ns);
		return 0;
	}
	if (size < sizeof(*ev) - sizeof(ev->entry) + c->m->entry_size)
		return 0;
	if (ev->reason < EXPIRY_COUNT)
		c->expired[ev->reason]++;
	if (c->dpi)
		dpi_take(c->dpi, ev, &app); /* its nDPI state goes, exported or not */
	if (flow_sampled_out(c, ev)) {
		c->flows_sampled_out++;
		return 0;
	}
	/* The clock only for a batch's first record: it dates the batch (--batch-ms). */
	r = batch_next(&c->batch, c->batch.msg.n_flows ? 0 : clock_ms(CLOCK_MONOTONIC));
	record_build(r, ev, c->next_id, c->facts.capture_time ? 0 : c->clock_offset_ns, &c->feat,
		     &c->ifaces);
	if (c->dpi)
		record_set_app(r, &app);
	r->msg.sampling_rate = c->sampling_rate;
	if (c->facts.capture_time)
		r->msg.timestamp_source = TIMESTAMP_CAPTURE;
	if (c->o.scale_sampled && c->sampling_rate > 1)
		scale_counts(&r->msg, c->sampling_rate);
	if (c->o.flow_filter && !flowfilter_match(c->o.flow_filter, &r->msg)) {
		batch_unput(&c->batch);
		c->flows_filtered_out++;
		return 0;
	}
	c->next_id++;
	if (ev->reason < EXPIRY_COUNT)
		c->exported[ev->reason]++;
	return c->batch.msg.n_flows == c->batch.cap;
}

/*
 * Reads what the ring holds now (and the rest of a batch past it), not
 * what keeps coming: overflow records can come faster than they are read,
 * and the loop must still get to its scans, pressure passes and signals.
 * Once nothing is metered any more (detached, end of capture) it reads
 * everything.
 */
int collector_drain(struct collector *c)
{
	unsigned long end = event_ring_produced(&c->ring);

	if (!c->facts.capture_time)
		c->clock_offset_ns = clock_meter_to_unix();
	/* A flow's packets reach nDPI before its record is built. */
	if (c->dpi && dpi_drain(c->dpi))
		pr_warn("Couldn't read the DPI ring\n");
	for (;;) {
		int n = event_ring_consume(&c->ring);

		if (n < 0)
			return n;
		if (c->batch.msg.n_flows < c->batch.cap)
			return 0;
		collector_send(c);
		if (c->ring.read_pos >= end)
			return 0;
	}
}

/* The expiry module's hook: closing makes the kernel fill the ring. */
static void drain_for_expiry(void *ctx)
{
	collector_drain(ctx);
}

int collector_wait(struct collector *c, int timeout_ms)
{
	int err = event_ring_wait(&c->ring, timeout_ms);

	if (err < 0)
		pr_warn("Couldn't poll the export ring: %s\n", strerror(-err));
	return collector_drain(c);
}

void collector_service(struct collector *c, uint64_t now_ms)
{
	for (int i = 0; i < c->n_ex; i++)
		if (c->ex[i]->ops->service)
			c->ex[i]->ops->service(c->ex[i]);
	if (c->batch.msg.n_flows && now_ms - c->batch.opened_ms >= c->o.batch_ms)
		collector_send(c);
}

/* ---- the cache: expiry, pressure, estimates ----------------------------- */

/*
 * Flows in the cache: what the last scan saw, plus flows created since, minus
 * flows closed since. An entry the LRU evicted since that scan still counts
 * (on the safe side) until the next scan finds it gone; counting it for ever
 * would make every later loop scan the whole cache.
 */
static uint64_t cache_entries(struct collector *c, uint64_t *created)
{
	struct cache_watch *w = &c->watch;
	uint64_t cnt[NFX_COUNTER_MAX], closed = closed_total(c), est;

	meter_counters(c->m, cnt);
	if (created)
		*created = cnt[NFX_FLOWS_CREATED];
	est = w->seen + (cnt[NFX_FLOWS_CREATED] - w->created);
	return est > closed - w->closed ? est - (closed - w->closed) : 0;
}

/*
 * Flows the kernel's LRU evicted, which nothing exported, as of the last
 * pass: created before it, minus closed before it, minus what it found in
 * the cache (flows created during the pass it may have seen too: on the
 * low side). Exact once the cache is flushed.
 */
static uint64_t evicted_estimate(const struct collector *c)
{
	const struct cache_watch *w = &c->watch;
	uint64_t gone = w->closed + w->seen;

	return w->created > gone ? w->created - gone : 0;
}

/* Before a scan: the base of the estimate above once the scan has counted. */
static void watch_before_scan(struct collector *c, uint64_t *created, uint64_t *closed)
{
	collector_drain(c); /* closes already done are counted, not seen */
	cache_entries(c, created);
	*closed = closed_total(c);
}

static void watch_after_scan(struct collector *c, uint64_t created, uint64_t closed)
{
	c->watch.seen = c->poller.st.active_flows;
	c->watch.created = created;
	c->watch.closed = closed;
}

/* The names records give the interfaces: the meter's attachments, as given. */
static void name_interfaces(struct collector *c)
{
	c->ifaces.n = 0;
	for (int i = 0; i < c->m->n_att; i++)
		iface_names_add(&c->ifaces, c->m->att[i].ifindex, c->m->att[i].name);
}

void collector_scan(struct collector *c, uint64_t now_ns)
{
	uint64_t created, closed;

	name_interfaces(c);
	watch_before_scan(c, &created, &closed);
	/*
	 * A sliced pass counts the cache from its first slice on: the
	 * estimate's base is taken then (flows created during the pass that
	 * a later slice saw count twice: on the safe side).
	 */
	if (poller_pass_start(&c->poller)) {
		c->watch.pass_created = created;
		c->watch.pass_closed = closed;
	}
	poller_scan(&c->poller, now_ns);
	if (poller_pass_done(&c->poller))
		watch_after_scan(c, c->watch.pass_created, c->watch.pass_closed);
}

/*
 * Flows expected to arrive while a pressure scan runs (live only: a replay
 * meters nothing meanwhile). The rate follows a rise at once and decays by
 * half per check, so a flood's onset is never averaged away.
 */
static uint64_t watch_incoming(struct collector *c, uint64_t created)
{
	struct cache_watch *w = &c->watch;
	uint64_t now = clock_ns(CLOCK_MONOTONIC), scan_us;
	double inst;

	if (!c->facts.live)
		return 0;
	if (w->rate_ns && now > w->rate_ns) {
		inst = (double)(created - w->rate_created) / (now - w->rate_ns);
		w->rate_per_ns = inst > w->rate_per_ns / 2 ? inst : w->rate_per_ns / 2;
	}
	w->rate_ns = now;
	w->rate_created = created;
	/* A pressure pass is a scan, then another one with sorting and closing. */
	scan_us = 2 * c->poller.st.last_scan_us + 1000;
	return (uint64_t)(w->rate_per_ns * scan_us * 1000);
}

void collector_pressure(struct collector *c, uint64_t now_ns)
{
	struct cache_watch *w = &c->watch;
	uint64_t created, closed;

	collector_drain(c); /* as before a scan: closes done are counted */
	closed = closed_total(c);
	w->entries = cache_entries(c, &created);
	w->incoming = watch_incoming(c, created);
	if (poller_pressure(&c->poller, now_ns, w->entries, w->incoming) > 0) {
		watch_after_scan(c, created, closed);
		w->entries = cache_entries(c, NULL);
	}
}

/*
 * How long the loop may sleep before the cache, filling at the rate seen,
 * could reach the point where a pressure pass must start: half that, so a
 * flood is caught in time; at most 100 ms.
 */
int collector_pressure_wait_ms(const struct collector *c)
{
	const struct cache_watch *w = &c->watch;
	uint64_t hard = poller_hard_limit(&c->poller), used = w->entries + w->incoming;
	double ms;

	if (!c->poller.policy.capacity || w->rate_per_ns <= 0)
		return 100;
	if (used >= hard)
		return 1;
	ms = (hard - used) / (w->rate_per_ns * 1e6) / 2;
	return ms < 1 ? 1 : ms > 100 ? 100 : (int)ms;
}

uint64_t collector_room(struct collector *c)
{
	uint64_t hard = poller_hard_limit(&c->poller), used = cache_entries(c, NULL);

	return used + 16 < hard ? hard - used : 16;
}

int collector_flush(struct collector *c, uint64_t now_ns)
{
	uint64_t created;
	int err = poller_flush(&c->poller, now_ns);

	collector_drain(c);
	collector_send(c);
	/* The cache is empty (or what stayed busy is not counted): the estimates' base. */
	cache_entries(c, &created);
	watch_after_scan(c, created, closed_total(c));
	return err;
}

void collector_leave(struct collector *c)
{
	/* A last scan: what is due goes now, and the stats count what stays. */
	poller_scan_all(&c->poller, c->facts.capture_time ? meter_replay_clock(c->m) : clock_meter_ns());
	collector_drain(c);
	collector_send(c);
	state_save(c, true);
}

/* ---- opening and closing ------------------------------------------------ */

/* True when @pid is a live nfxdp other than us. */
static bool collector_alive(uint64_t pid)
{
	char path[64], comm[32] = "";
	FILE *f;

	if (!pid || pid == (uint64_t)getpid())
		return false;
	snprintf(path, sizeof(path), "/proc/%" PRIu64 "/comm", pid);
	f = fopen(path, "r");
	if (!f)
		return false;
	if (!fgets(comm, sizeof(comm), f))
		comm[0] = '\0';
	fclose(f);
	return !strncmp(comm, "nfxdp", 5);
}

/*
 * A restart on pinned maps: continue the previous collector's stream
 * (same stream id, next sequence number) and totals. Returns the stream
 * id to use (0: a new one), or -EBUSY when another collector holds the pins.
 */
static int state_resume(struct collector *c, uint64_t *stream_id)
{
	struct collector_state s = {};

	*stream_id = 0;
	if (meter_state_load(c->m, &s))
		return 0;
	if (collector_alive(s.pid)) {
		pr_warn("nfxdp (pid %" PRIu64 ") is already running on the pins in %s\n",
			(uint64_t)s.pid, c->m->pin_dir);
		return -EBUSY;
	}
	*stream_id = s.stream_id;
	c->batch.msg.sequence = s.next_sequence;
	c->next_id = s.next_flow_id;
	memcpy(c->expired, s.expired, sizeof(s.expired));
	memcpy(c->exported, s.exported, sizeof(s.exported));
	c->flows_sampled_out = s.flows_sampled_out;
	c->flows_filtered_out = s.flows_filtered_out;
	c->resumes = s.resumes + 1;
	pr_info("resuming the flow cache pinned in %s after %s: stream %" PRIu64
		" continues at sequence %" PRIu64 "\n", c->m->pin_dir,
		s.clean_exit ? "a clean stop" : "a crash (the last collector did not stop)",
		(uint64_t)s.stream_id, (uint64_t)s.next_sequence);
	return 0;
}

static void agent_name(char *buf, size_t len)
{
	if (gethostname(buf, len))
		snprintf(buf, len, "unknown");
	buf[len - 1] = '\0';
}

int collector_open(struct collector *c, struct meter *m, const struct collector_opts *o,
		   const struct mode_facts *facts)
{
	char agent[256];
	uint64_t stream_id = 0;
	int err;

	memset(c, 0, sizeof(*c));
	if (!o->batch_flows) {
		pr_warn("Couldn't collect: batches of 0 flows\n");
		return -EINVAL;
	}
	c->o = *o;
	c->facts = *facts;
	c->m = m;
	c->ring.epoll_fd = -1;
	c->feat.statistical = m->opts.statistical;
	c->feat.splt = m->opts.splt;
	c->feat.dpi = m->opts.dpi;
	c->sampling_rate = m->opts.sample_n > 1 ? m->opts.sample_n : 1;
	err = meter_events_open(m, &c->ring, o->persist, on_flow_event, c);
	if (err)
		return err;
	err = poller_init(&c->poller, m, &o->expiry, drain_for_expiry, c);
	if (err)
		return err;
	agent_name(agent, sizeof(agent));
	if (batch_init(&c->batch, o->batch_flows, agent, facts->source, 0))
		return -ENOMEM;
	if (m->resumed) {
		err = state_resume(c, &stream_id);
		if (err)
			return err;
	}
	c->batch.msg.stream_id = stream_id ? stream_id : stream_id_new();
	c->batch.msg.statistical = m->opts.statistical;
	c->batch.msg.splt = m->opts.splt;
	c->batch.msg.dpi = m->opts.dpi;
	if (m->opts.dpi) {
		/*
		 * Live, scans close every flow by its active timeout; a capture
		 * keeps an idle flow until its end, where it is flushed.
		 */
		c->dpi = dpi_open(m, m->opts.dpi, o->dpi_flows,
				  facts->live ? o->expiry.active_ms : 0, &err);
		if (!c->dpi)
			return err;
	}
	if (m->pin_dir[0])
		state_save(c, false);
	return 0;
}

/* True while a sink holds batches back for a taker that may still come (@give_up: no more). */
static bool holding(struct collector *c, bool give_up)
{
	bool any = false;

	for (int i = 0; i < c->n_ex; i++) {
		struct exporter *x = c->ex[i];

		if (x->ops->service)
			x->ops->service(x);
		if (x->ops->settle)
			any |= x->ops->settle(x, give_up);
	}
	return any;
}

void collector_settle(struct collector *c, const volatile sig_atomic_t *stop)
{
	struct timespec tick = { 0, 20 * 1000000L };

	while (!*stop && holding(c, false))
		nanosleep(&tick, NULL); /* a signal cuts it short */
	holding(c, true);
}

int collector_add_exporter(struct collector *c, struct exporter *x)
{
	if (c->n_ex == COLLECTOR_MAX_EXPORTERS)
		return -E2BIG;
	c->ex[c->n_ex++] = x;
	return 0;
}

int collector_close(struct collector *c)
{
	for (int i = 0; i < c->n_ex; i++) {
		struct exporter *x = c->ex[i];

		c->lost |= exporter_lost_any(x);
		c->lost |= x->ops->close(x, 2000) < 0;
	}
	c->n_ex = 0;
	batch_free(&c->batch);
	poller_free(&c->poller);
	event_ring_close(&c->ring);
	dpi_close(c->dpi);
	c->dpi = NULL;
	return c->lost ? 1 : 0;
}

/* ---- stats and metrics -------------------------------------------------- */

/* "flows_exported_idle", ...: built once, for the stats' names. */
static const char *exported_name(int reason)
{
	static char names[EXPIRY_COUNT][40];

	if (!names[reason][0])
		snprintf(names[reason], sizeof(names[reason]), "flows_exported_%s",
			 flow_expiry_name(reason));
	return names[reason];
}

int collector_stats(struct collector *c, struct stat_item *items, int max)
{
	uint64_t cnt[NFX_COUNTER_MAX], total = 0;
	int n = 0;

#define ITEM(nm, v)                                                                            \
	do {                                                                                   \
		if (n < max)                                                                   \
			items[n++] = (struct stat_item){ nm, v };                              \
	} while (0)

	meter_counters(c->m, cnt);
	for (int i = 0; i < NFX_COUNTER_MAX; i++)
		ITEM(counter_names[i], cnt[i]);
	for (int i = 0; i < EXPIRY_COUNT; i++)
		total += c->exported[i];
	ITEM("flows_active", c->poller.st.active_flows);
	ITEM("flows_exported", total);
	for (int i = 0; i < EXPIRY_COUNT; i++)
		ITEM(exported_name(i), c->exported[i]);
	ITEM("flows_sampled_out", c->flows_sampled_out);
	ITEM("flows_filtered_out", c->flows_filtered_out);
	ITEM("flows_evicted_estimated", evicted_estimate(c));
	ITEM("cache_capacity", c->poller.policy.capacity);
	ITEM("cache_entries", cache_entries(c, NULL));
	ITEM("idle_timeout_in_use_ms", c->poller.st.idle_ms);
	ITEM("emergency_runs", c->poller.st.emergency_runs);
	ITEM("scans", c->poller.st.scans);
	ITEM("last_scan_us", c->poller.st.last_scan_us);
	ITEM("scan_slices", c->poller.st.slices);
	ITEM("wheel_flows", c->poller.st.wheel_size);
	ITEM("wheel_checks", c->poller.st.wheel_checks);
	ITEM("flow_notes", c->poller.st.notes);
	ITEM("batches_sent", c->batch.msg.sequence);
	if (c->dpi) {
		struct dpi_counts dc;

		dpi_counts(c->dpi, &dc);
		ITEM("dpi_flows", dc.flows);
		ITEM("dpi_flows_full", dc.flows_full);
		ITEM("dpi_flows_in_dissection", dc.in_dissection);
		ITEM("dpi_packets_fed", dc.packets);
		ITEM("dpi_flows_stale", dc.stale);
	}
	meter_counters_hook(c->m, HOOK_INGRESS, cnt);
	ITEM("ingress_frames_seen", cnt[NFX_FRAMES_SEEN]);
	ITEM("ingress_frames_metered", cnt[NFX_FRAMES_METERED]);
	meter_counters_hook(c->m, HOOK_EGRESS, cnt);
	ITEM("egress_frames_seen", cnt[NFX_FRAMES_SEEN]);
	ITEM("egress_frames_metered", cnt[NFX_FRAMES_METERED]);
	for (int i = 0; i < MODE_COUNTERS_MAX; i++)
		if (c->facts.counters[i].name)
			ITEM(c->facts.counters[i].name, *c->facts.counters[i].value);
#undef ITEM
	for (int i = 0; i < c->n_ex && n < max; i++)
		n += c->ex[i]->ops->own_stats(c->ex[i], items + n, max - n);
	return n;
}

/*
 * The stats, built in memory and written at once: stderr is unbuffered, and
 * a write per item (some fifty) cost a capture file's run as many system
 * calls and let other threads' lines fall between them.
 */
static void print_stats(struct collector *c, const char *when)
{
	struct stat_item items[STATS_MAX];
	int n = collector_stats(c, items, STATS_MAX);
	size_t len = 0;
	char *text = NULL;
	FILE *f = open_memstream(&text, &len);

	if (!f)
		f = stderr; /* no memory: item by item, as it comes */
	fprintf(f, "nfxdp: stats (%s):", when);
	for (int i = 0; i < n; i++) {
		/* Zero counters of frames say nothing; a new line per group. */
		if (i < NFX_COUNTER_MAX && !items[i].value && i > NFX_FRAMES_METERED)
			continue;
		if (i == NFX_COUNTER_MAX || !strcmp(items[i].name, "cache_capacity"))
			fprintf(f, "\nnfxdp:  "); /* continuation lines: "nfxdp:   name=" */
		fprintf(f, " %s=%" PRIu64, items[i].name, items[i].value);
	}
	fputc('\n', f);
	if (f == stderr)
		return;
	fclose(f);
	fwrite(text, 1, len, stderr);
	free(text);
}

/* The stats (@n @items) as one JSON object in @buf; its length, 0 when it does not fit. */
static size_t stats_json(struct collector *c, const struct stat_item *items, int n, bool end,
			 char *buf, size_t len)
{
	size_t used;

	used = snprintf(buf, len, "{\"agent\":\"%s\",\"stream_id\":%" PRIu64 ",\"time_ns\":%" PRIu64
			",\"end_of_stream\":%s", c->batch.msg.agent, c->batch.msg.stream_id,
			clock_ns(CLOCK_REALTIME), end ? "true" : "false");
	for (int i = 0; i < n && used < len; i++)
		used += snprintf(buf + used, len - used, ",\"%s\":%" PRIu64, items[i].name,
				 items[i].value);
	if (used >= len - 1)
		return 0;
	buf[used++] = '}';
	return used;
}

/* The stats as one JSON object, on the sinks' side channel ("stats" on ZeroMQ). */
static void publish_stats(struct collector *c)
{
	struct stat_item items[STATS_MAX];
	char buf[8192];
	int n = collector_stats(c, items, STATS_MAX);
	size_t used = stats_json(c, items, n, false, buf, sizeof(buf));

	for (int i = 0; used && i < c->n_ex; i++)
		if (c->ex[i]->ops->side)
			c->ex[i]->ops->side(c->ex[i], "stats", buf, used);
}

void collector_report(struct collector *c, const char *when)
{
	print_stats(c, when);
	publish_stats(c);
}

/*
 * The end-of-stream batch: the stream's header, no flows, the final
 * counters, and as sequence the number of batches before it.
 */
static uint8_t *end_batch(struct collector *c, const struct stat_item *items, int n,
			  size_t *len)
{
	Nfxdp__Counter counters[STATS_MAX], *ptrs[STATS_MAX];
	Nfxdp__FlowBatch end = c->batch.msg;
	uint8_t *buf;

	for (int i = 0; i < n; i++) {
		nfxdp__counter__init(&counters[i]);
		counters[i].name = (char *)items[i].name;
		counters[i].value = items[i].value;
		ptrs[i] = &counters[i];
	}
	end.n_flows = 0;
	end.flows = NULL;
	end.end_of_stream = true;
	end.n_counters = n;
	end.counters = ptrs;
	end.sent_time_ns = clock_ns(CLOCK_REALTIME);
	buf = malloc(nfxdp__flow_batch__get_packed_size(&end));
	if (buf)
		*len = nfxdp__flow_batch__pack(&end, buf);
	return buf;
}

void collector_end(struct collector *c, const char *when)
{
	struct stat_item items[STATS_MAX];
	char json[8192];
	struct batch_view b = { 0 };
	int n;
	size_t used;

	collector_send(c);
	print_stats(c, when);
	n = collector_stats(c, items, STATS_MAX);
	used = stats_json(c, items, n, true, json, sizeof(json));
	b.packed = end_batch(c, items, n, &b.len);
	if (!b.packed || !used) {
		pr_warn("Couldn't make the end-of-stream message: out of memory\n");
		c->lost = true;
		return;
	}
	for (int i = 0; i < c->n_ex; i++)
		if (c->ex[i]->ops->end && c->ex[i]->ops->end(c->ex[i], &b, json, used))
			c->lost = true;
	free((void *)b.packed);
}

uint64_t collector_flows_evicted(struct collector *c)
{
	return evicted_estimate(c);
}

void collector_metrics(struct collector *c, struct metrics_snapshot *s)
{
	uint64_t cnt[NFX_COUNTER_MAX];

	for (int h = 0; h < HOOK_COUNT; h++) {
		meter_counters_hook(c->m, h, cnt);
		s->hook_seen[h] = cnt[NFX_FRAMES_SEEN];
		s->hook_metered[h] = cnt[NFX_FRAMES_METERED];
	}
	meter_counters(c->m, s->counters);
	/* Passes come once per idle timeout with the expiry wheel: the estimate is now's. */
	s->flows_active = s->map_entries = cache_entries(c, NULL);
	s->map_capacity = meter_capacity(c->m);
	memcpy(s->flows_closed, c->expired, sizeof(s->flows_closed));
	memcpy(s->flows_exported, c->exported, sizeof(s->flows_exported));
	/* A Prometheus counter never goes down: the estimate's highest value. */
	if (evicted_estimate(c) > c->watch.evicted)
		c->watch.evicted = evicted_estimate(c);
	s->flows_evicted = c->watch.evicted;
	if (c->dpi) {
		struct dpi_counts dc;

		dpi_counts(c->dpi, &dc);
		s->dpi_flows = dc.flows;
		s->dpi_flows_full = dc.flows_full;
		s->dpi_in_dissection = dc.in_dissection;
	}
	s->n_exporters = 0;
	for (int i = 0; i < c->n_ex && i < METRICS_MAX_EXPORTERS; i++) {
		struct metrics_exporter *me = &s->exporters[s->n_exporters++];
		struct exporter_stats st = { 0 };

		c->ex[i]->ops->stats(c->ex[i], &st);
		snprintf(me->name, sizeof(me->name), "%s", c->ex[i]->ops->name);
		me->batches_sent = st.batches_sent;
		me->batches_dropped = st.batches_dropped;
		me->records_sent = st.records_sent;
		me->records_dropped = st.records_dropped;
	}
}
