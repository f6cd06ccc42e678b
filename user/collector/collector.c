// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "collector/collector.h"
#include "meter/counters.h"
#include "select/flow_filter.h"
#include "common/log.h"
#include "meter/hwmeter.h"
#include "meter/pindir.h"
#include "ops/privs.h"
#include "meter.skel.h"

volatile sig_atomic_t collector_stop;

static const char *const exported_names[5] = {
	"flows_exported_idle", "flows_exported_active", "flows_exported_natural",
	"flows_exported_emergency", "flows_exported_flush",
};

uint64_t clock_ns(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

uint64_t clock_ms(clockid_t clk)
{
	return clock_ns(clk) / 1000000;
}

void collector_send(struct collector *c)
{
	const uint8_t *buf;
	size_t len = 0;

	if (!c->batch.msg.n_flows)
		goto done;
	/* This process's first batch: a resumed stream's sequence is not 0. */
	if (c->zmq_on && !c->sent_any && c->cfg->zmq_wait_ms &&
	    !zmq_exporter_wait(&c->zmq, c->cfg->zmq_wait_ms))
		pr_warn("no subscriber on %s after %.1f s: sending anyway\n", c->cfg->zmq_endpoint,
			c->cfg->zmq_wait_ms / 1000.0);
	buf = batch_pack(&c->batch, &len);
	if (!buf) {
		pr_warn("Couldn't pack a batch of %zu flows: out of memory\n", c->batch.msg.n_flows);
	} else {
		if (c->zmq_on)
			zmq_exporter_send(&c->zmq, buf, len);
		if (c->file_on)
			file_exporter_write(&c->file, &c->batch.msg, buf, len);
		if (c->ipfix_on)
			ipfix_exporter_send(&c->ipfix, &c->batch.msg);
		if (c->mqtt_on)
			mqtt_exporter_send(&c->mqtt, buf, len);
	}
	batch_clear(&c->batch);
	c->sent_any = true;
done:
	/* Sent, then committed, then noted: a crash in between repeats nothing. */
	event_ring_commit(&c->ring);
	if (c->cfg->persist)
		collector_state_save(c, false);
}

static uint64_t closed_total(const struct collector *c)
{
	uint64_t closed = 0;

	for (int i = 0; i < 5; i++)
		closed += c->expired[i];
	return closed;
}

/*
 * Flows in the cache: what the last scan saw, plus flows created since, minus
 * flows closed since. An entry the LRU evicted since that scan still counts
 * (on the safe side) until the next scan finds it gone; counting it for ever
 * would make every later loop scan the whole cache.
 */
uint64_t collector_cache_entries(struct collector *c, uint64_t *created)
{
	struct cache_watch *w = &c->watch;
	uint64_t cnt[NFX_COUNTER_MAX], closed = closed_total(c), est;

	counters_read(bpf_map__fd(c->meter.skel->maps.counters), cnt);
	if (created)
		*created = cnt[NFX_FLOWS_CREATED];
	est = w->seen + (cnt[NFX_FLOWS_CREATED] - w->created);
	return est > closed - w->closed ? est - (closed - w->closed) : 0;
}

/* Before a scan: the base of the estimate above once the scan has counted. */
static void watch_before_scan(struct collector *c, uint64_t *created, uint64_t *closed)
{
	event_ring_consume(&c->ring); /* closes already done are counted, not seen */
	collector_cache_entries(c, created);
	*closed = closed_total(c);
}

static void watch_after_scan(struct collector *c, uint64_t created, uint64_t closed)
{
	c->watch.seen = c->poller.st.active_flows;
	c->watch.created = created;
	c->watch.closed = closed;
}

void collector_scan(struct collector *c, uint64_t now_ns)
{
	uint64_t created, closed;

	watch_before_scan(c, &created, &closed);
	poller_scan(&c->poller, now_ns);
	watch_after_scan(c, created, closed);
}

/*
 * Flows expected to arrive while a pressure scan runs (live only: a replay
 * meters nothing meanwhile). The rate follows a rise at once and decays by
 * half per check, so a flood's onset is never averaged away.
 */
static uint64_t watch_incoming(struct collector *c, uint64_t created, bool live)
{
	struct cache_watch *w = &c->watch;
	uint64_t now = clock_ns(CLOCK_MONOTONIC), scan_us;
	double inst;

	if (!live)
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

static void pressure(struct collector *c, uint64_t now_ns, bool live)
{
	struct cache_watch *w = &c->watch;
	uint64_t created, closed;

	event_ring_consume(&c->ring); /* as before a scan: closes done are counted */
	closed = closed_total(c);
	w->entries = collector_cache_entries(c, &created);
	w->incoming = watch_incoming(c, created, live);
	if (poller_pressure(&c->poller, now_ns, w->entries, w->incoming) > 0) {
		watch_after_scan(c, created, closed);
		w->entries = collector_cache_entries(c, NULL);
	}
}

void collector_pressure(struct collector *c, uint64_t now_ns)
{
	pressure(c, now_ns, false);
}

/*
 * How long the loop may sleep before the cache, filling at the rate seen,
 * could reach the point where a pressure pass must start: half that, so a
 * flood is caught in time; at most 100 ms.
 */
static int pressure_wait_ms(const struct collector *c)
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

void collector_tick(struct collector *c, uint64_t now_ms)
{
	if (c->zmq_on)
		zmq_exporter_service(&c->zmq);
	if (c->ipfix_on)
		ipfix_exporter_service(&c->ipfix);
	if (c->mqtt_on)
		mqtt_exporter_service(&c->mqtt);
	if (c->batch.msg.n_flows == c->batch.cap ||
	    (c->batch.msg.n_flows && now_ms - c->batch.opened_ms >= c->cfg->batch_ms))
		collector_send(c);
}

/* Ring buffer callback: one closed flow. */
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
	return c->cfg->flow_sample_n > 1 && flow_key_hash(&ev->entry.key) % c->cfg->flow_sample_n;
}

/* Ring buffer callback: one closed flow. */
static int on_flow_event(void *ctx, void *data, size_t size)
{
	struct collector *c = ctx;
	const struct flow_event *ev = data;
	uint64_t now = clock_ms(CLOCK_MONOTONIC);
	uint32_t rate = c->cfg->sample_n > 1 ? c->cfg->sample_n : 1;
	struct flow_rec *r;

	if (size < sizeof(*ev) - sizeof(ev->entry) + c->meter.entry_size)
		return 0;
	/*
	 * A full batch goes before this record is counted: with --persist the
	 * send commits the ring up to, not including, this record.
	 */
	if (c->batch.msg.n_flows == c->batch.cap)
		collector_send(c);
	if (ev->reason < 5)
		c->expired[ev->reason]++;
	if (flow_sampled_out(c, ev)) {
		c->flows_sampled_out++;
		return 0;
	}
	r = batch_next(&c->batch, now);
	record_build(r, ev, c->next_id, c->clock_offset_ns, &c->feat);
	r->msg.sampling_rate = rate;
	if (c->cfg->n_pcaps)
		r->msg.timestamp_source = TIMESTAMP_CAPTURE;
	if (c->cfg->scale_sampled && rate > 1)
		scale_counts(&r->msg, rate);
	if (c->cfg->flow_filter && !flowfilter_match(c->cfg->flow_filter, &r->msg)) {
		batch_unput(&c->batch);
		c->flows_filtered_out++;
		return 0;
	}
	c->next_id++;
	if (ev->reason < 5)
		c->exported[ev->reason]++;
	return 0;
}

void collector_state_save(struct collector *c, bool stopping)
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
	__u32 zero = 0;

	memcpy(s.expired, c->expired, sizeof(s.expired));
	memcpy(s.exported, c->exported, sizeof(s.exported));
	if (bpf_map_update_elem(bpf_map__fd(c->meter.skel->maps.collector_state), &zero, &s, 0) &&
	    !warned) {
		warned = true;
		pr_warn("Couldn't save the stream position for a restart: %s\n", strerror(errno));
	}
}

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
 * id to use, 0 for a new one, or -1 when another collector holds the pins.
 */
static int collector_state_resume(struct collector *c, uint64_t *stream_id)
{
	struct collector_state s = {};
	__u32 zero = 0;

	*stream_id = 0;
	if (bpf_map_lookup_elem(bpf_map__fd(c->meter.skel->maps.collector_state), &zero, &s) ||
	    s.magic != COLLECTOR_STATE_MAGIC)
		return 0;
	if (collector_alive(s.pid)) {
		pr_warn("nfxdp (pid %" PRIu64 ") is already running on the pins in %s\n", (uint64_t)s.pid,
			c->meter.pin_dir);
		return -1;
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
		" continues at sequence %" PRIu64 "\n", c->meter.pin_dir,
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

int collector_open(struct collector *c, const struct nfx_config *cfg, const char *source)
{
	int err = collector_open_meter(c, cfg, source);

	return err ? err : collector_open_network(c);
}

static int open_ipfix(struct collector *c, const struct nfx_config *cfg)
{
	struct ipfix_opts o;
	const char *host_port;
	bool tcp;
	int err;

	ipfix_opts_default(&o);
	o.domain_id = cfg->ipfix_domain;
	o.template_refresh_s = cfg->ipfix_template_s;
	o.max_msg = cfg->ipfix_msg_size;
	o.statistical = cfg->statistical;
	host_port = ipfix_target(cfg->ipfix, &tcp);
	err = ipfix_exporter_open(&c->ipfix, host_port, tcp, &o);
	c->ipfix_on = !err;
	return err;
}

static int open_mqtt(struct collector *c, const struct nfx_config *cfg)
{
	struct mqtt_opts o;
	int err;

	mqtt_opts_default(&o);
	o.topic = cfg->mqtt_topic;
	o.qos = cfg->mqtt_qos;
	o.client_id = cfg->mqtt_client_id;
	o.username = cfg->mqtt_user;
	o.ca_file = cfg->mqtt_ca;
	o.cert_file = cfg->mqtt_cert;
	o.key_file = cfg->mqtt_key;
	o.max_pending = cfg->mqtt_queue;
	if (cfg->mqtt_password_file) {
		c->mqtt_password = mqtt_password_file(cfg->mqtt_password_file);
		if (!c->mqtt_password)
			return -EINVAL;
		o.password = c->mqtt_password;
	}
	err = mqtt_exporter_open(&c->mqtt, cfg->mqtt, &o);
	c->mqtt_on = !err;
	return err;
}

int collector_open_network(struct collector *c)
{
	const struct nfx_config *cfg = c->cfg;
	int err;

	if (cfg->zmq_endpoint) {
		err = zmq_exporter_open(&c->zmq, cfg->zmq_endpoint, cfg->compress, cfg->zmq_curve,
					zmq_hwm_for(cfg->batch_flows, cfg->statistical, cfg->splt));
		if (err)
			return err;
		c->zmq_on = true;
	}
	if (cfg->ipfix) {
		err = open_ipfix(c, cfg);
		if (err)
			return err;
	}
	if (cfg->mqtt) {
		err = open_mqtt(c, cfg);
		if (err)
			return err;
	}
	if (cfg->metrics_addr && cfg->n_ifaces) {
		err = metrics_open(&c->metrics, cfg->metrics_addr);
		if (err)
			return err;
		c->metrics_on = true;
	}
	return 0;
}

int collector_open_meter(struct collector *c, const struct nfx_config *cfg, const char *source)
{
	struct meter_opts mo;
	struct poller_policy policy = {
		.idle_ms = cfg->idle_timeout_ms,
		.active_ms = cfg->active_timeout_ms,
		.natural = cfg->natural_expiry,
		.linger_ms = cfg->natural_linger_ms,
		.capacity = cfg->max_flows,
	};
	char agent[256], pins[4096];
	uint64_t stream_id = 0;
	int err;

	memset(c, 0, sizeof(*c));
	c->cfg = cfg;
	c->feat.statistical = cfg->statistical;
	c->feat.splt = cfg->splt;
	c->ring.epoll_fd = -1;
	meter_opts_from_config(&mo, cfg);
	if (cfg->persist || cfg->detach) {
		err = pindir_prepare(cfg, !cfg->detach, pins, sizeof(pins));
		if (err)
			return err;
		mo.pin_dir = pins;
	}
	err = meter_load(&c->meter, &mo);
	if (err)
		return err;
	err = event_ring_open(&c->ring, bpf_map__fd(c->meter.skel->maps.flow_events),
			      cfg->persist, on_flow_event, c);
	if (err)
		return err;
	err = poller_init(&c->poller, &c->meter, &c->ring, &policy);
	if (err)
		return err;
	agent_name(agent, sizeof(agent));
	if (batch_init(&c->batch, cfg->batch_flows, agent, source, 0))
		return -ENOMEM;
	if (c->meter.resumed && collector_state_resume(c, &stream_id))
		return -EBUSY;
	c->batch.msg.stream_id = stream_id ? stream_id : stream_id_new();
	if (c->meter.pin_dir[0])
		collector_state_save(c, false);
	c->batch.msg.statistical = cfg->statistical;
	c->batch.msg.splt = cfg->splt;
	if (cfg->output) {
		err = file_exporter_open(&c->file, cfg->output, cfg->format, cfg->compress,
					 cfg->persist || cfg->detach,
					 &c->feat);
		if (err)
			return err;
		err = file_exporter_rotate_at(&c->file, cfg->output_rotate);
		if (err) {
			file_exporter_close(&c->file);
			return err;
		}
		c->file_on = true;
	}
	return 0;
}

/*
 * Flows the kernel's LRU evicted, which nothing exported: created, minus
 * closed, minus what the last scan found in the cache (exact once flushed).
 */
static uint64_t evicted_estimate(struct collector *c, const uint64_t *cnt)
{
	uint64_t closed = 0, gone;

	for (int i = 0; i < 5; i++)
		closed += c->expired[i];
	gone = cnt[NFX_FLOWS_CREATED] > closed ? cnt[NFX_FLOWS_CREATED] - closed : 0;
	return gone > c->poller.st.active_flows ? gone - c->poller.st.active_flows : 0;
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

	counters_read(bpf_map__fd(c->meter.skel->maps.counters), cnt);
	for (int i = 0; i < NFX_COUNTER_MAX; i++)
		ITEM(counter_names[i], cnt[i]);
	for (int i = 0; i < 5; i++)
		total += c->exported[i];
	ITEM("flows_active", c->poller.st.active_flows);
	ITEM("flows_exported", total);
	for (int i = 0; i < 5; i++)
		ITEM(exported_names[i], c->exported[i]);
	ITEM("flows_sampled_out", c->flows_sampled_out);
	ITEM("flows_filtered_out", c->flows_filtered_out);
	ITEM("flows_evicted_estimated", evicted_estimate(c, cnt));
	ITEM("cache_capacity", c->poller.policy.capacity);
	ITEM("cache_entries", collector_cache_entries(c, NULL));
	ITEM("idle_timeout_in_use_ms", c->poller.st.idle_ms);
	ITEM("emergency_runs", c->poller.st.emergency_runs);
	ITEM("scans", c->poller.st.scans);
	ITEM("last_scan_us", c->poller.st.last_scan_us);
	ITEM("batches_sent", c->batch.msg.sequence);
	ITEM("zmq_batches_dropped", c->zmq.batches_dropped);
	ITEM("zmq_subscribers", c->zmq.subscribers);
	ITEM("zmq_batches_unheard", c->zmq.batches_unheard);
	ITEM("file_batches_dropped", c->file.batches_dropped);
	ITEM("file_rotations", c->file.rotations);
	if (c->ipfix_on) {
		ITEM("ipfix_records_sent", c->ipfix.records_sent);
		ITEM("ipfix_records_dropped", c->ipfix.records_dropped);
	}
	if (c->mqtt_on) {
		ITEM("mqtt_batches_acked", c->mqtt.batches_acked);
		ITEM("mqtt_batches_dropped", c->mqtt.batches_dropped);
		ITEM("mqtt_batches_waiting", c->mqtt.in_flight + c->mqtt.held_n);
	}
#undef ITEM
	return n;
}

void collector_print_stats(struct collector *c, const char *when)
{
	struct stat_item items[STATS_MAX];
	int n, line = 0;

	if (!c->meter.skel)
		return;
	n = collector_stats(c, items, STATS_MAX);
	fprintf(stderr, "nfxdp: stats (%s):", when);
	for (int i = 0; i < n; i++) {
		/* Zero counters of frames say nothing; a new line per group. */
		if (i < NFX_COUNTER_MAX && !items[i].value && i > NFX_FRAMES_METERED)
			continue;
		if (i == NFX_COUNTER_MAX || !strcmp(items[i].name, "cache_capacity"))
			fprintf(stderr, "\nnfxdp:  %s", ++line ? "" : "");
		fprintf(stderr, " %s=%" PRIu64, items[i].name, items[i].value);
	}
	fputc('\n', stderr);
}

/* The stats as one JSON object, on the ZeroMQ topic "stats". */
static void publish_stats(struct collector *c)
{
	struct stat_item items[STATS_MAX];
	char buf[8192];
	size_t used;
	int n;

	if (!c->zmq_on)
		return;
	n = collector_stats(c, items, STATS_MAX);
	used = snprintf(buf, sizeof(buf), "{\"agent\":\"%s\",\"stream_id\":%" PRIu64
					  ",\"time_ns\":%" PRIu64,
			c->batch.msg.agent, c->batch.msg.stream_id, clock_ns(CLOCK_REALTIME));
	for (int i = 0; i < n && used < sizeof(buf); i++)
		used += snprintf(buf + used, sizeof(buf) - used, ",\"%s\":%" PRIu64, items[i].name,
				 items[i].value);
	if (used < sizeof(buf) - 1) {
		buf[used++] = '}';
		zmq_exporter_send_topic(&c->zmq, ZMQ_TOPIC_STATS, buf, used);
	}
}

void collector_report(struct collector *c, const char *when)
{
	collector_print_stats(c, when);
	publish_stats(c);
}

void collector_close(struct collector *c)
{
	if (c->metrics_on)
		metrics_close(&c->metrics);
	c->metrics_on = false;
	if (c->zmq_on)
		zmq_exporter_close(&c->zmq, 2000);
	if (c->file_on)
		file_exporter_close(&c->file);
	if (c->ipfix_on)
		ipfix_exporter_close(&c->ipfix, 2000);
	if (c->mqtt_on)
		mqtt_exporter_close(&c->mqtt, 2000);
	c->ipfix_on = c->mqtt_on = false;
	free(c->mqtt_password);
	c->mqtt_password = NULL;
	batch_free(&c->batch);
	poller_free(&c->poller);
	event_ring_close(&c->ring);
	if (c->meter.skel)
		meter_destroy(&c->meter);
}

static void on_signal(int sig)
{
	collector_stop = 1;
}

void collector_install_signals(void)
{
	struct sigaction sa = { .sa_handler = on_signal };

	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

/* The meter's clock (boot time) to Unix time, read now. */
static int64_t live_clock_offset(void)
{
	return (int64_t)clock_ns(CLOCK_REALTIME) - (int64_t)clock_ns(CLOCK_BOOTTIME);
}

/* Refreshes what /metrics and /healthz serve; @poll_s: the scan just done. */
static void publish_metrics(struct collector *c, double poll_s)
{
	struct metrics_snapshot *s = &c->snap;
	struct bpf_map *flows = c->meter.skel->maps.flows;

	counters_read(bpf_map__fd(c->meter.skel->maps.counters), s->counters);
	s->flows_active = s->map_entries = c->poller.st.active_flows;
	s->map_capacity = bpf_map__max_entries(flows);
	memcpy(s->flows_closed, c->expired, sizeof(s->flows_closed));
	memcpy(s->flows_exported, c->exported, sizeof(s->flows_exported));
	s->exporter_on[METRICS_EXPORTER_ZMQ] = c->zmq_on;
	s->batches_sent[METRICS_EXPORTER_ZMQ] = c->zmq.batches_sent;
	s->batches_dropped[METRICS_EXPORTER_ZMQ] = c->zmq.batches_dropped;
	s->exporter_on[METRICS_EXPORTER_FILE] = c->file_on;
	s->batches_sent[METRICS_EXPORTER_FILE] = c->file.batches_written;
	s->batches_dropped[METRICS_EXPORTER_FILE] = c->file.batches_dropped;
	s->n_ifaces = 0;
	for (int i = 0; i < c->cfg->n_ifaces && i < METRICS_MAX_IFACES; i++, s->n_ifaces++)
		snprintf(s->ifaces[i], sizeof(s->ifaces[i]), "%s", c->cfg->ifaces[i]);
	s->attached = true; /* the loop runs only once every interface is attached */
	s->poll_interval_ms = c->cfg->poll_ms;
	metrics_observe_poll(s, poll_s);
	metrics_estimate_evicted(s);
	metrics_publish(&c->metrics, s);
}

static void live_loop(struct collector *c)
{
	const struct nfx_config *cfg = c->cfg;
	uint64_t next_scan = clock_ms(CLOCK_MONOTONIC) + cfg->poll_ms;
	int err;
	uint64_t next_stats = cfg->stats_interval_s ?
				      clock_ms(CLOCK_MONOTONIC) + cfg->stats_interval_s * 1000 : 0;

	collector_scan(c, clock_ns(CLOCK_BOOTTIME)); /* a resumed cache is not empty */
	while (!collector_stop) {
		uint64_t now = clock_ms(CLOCK_MONOTONIC);
		int timeout = next_scan > now ? (int)(next_scan - now) : 0;
		int wait = pressure_wait_ms(c);

		/* Batch age and signals at least every 100 ms, cache pressure as it needs. */
		if (timeout > wait)
			timeout = wait;
		c->clock_offset_ns = live_clock_offset();
		err = event_ring_poll(&c->ring, timeout);
		if (err < 0)
			pr_warn("Couldn't poll the export ring: %s\n", strerror(-err));
		now = clock_ms(CLOCK_MONOTONIC);
		if (now >= next_scan) {
			uint64_t t0 = clock_ns(CLOCK_MONOTONIC);

			collector_scan(c, clock_ns(CLOCK_BOOTTIME));
			for (int i = 0; i < c->meter.n_att; i++)
				hwmeter_sync_clock(&c->meter.att[i]);
			if (!meter_check_links(&c->meter)) {
				pr_warn("no interface left to meter: exporting every flow and "
					"exiting\n");
				c->all_gone = true;
				break;
			}
			if (c->metrics_on)
				publish_metrics(c, (clock_ns(CLOCK_MONOTONIC) - t0) / 1e9);
			next_scan = now + cfg->poll_ms;
		}
		pressure(c, clock_ns(CLOCK_BOOTTIME), true);
		collector_tick(c, now);
		if (next_stats && now >= next_stats) {
			collector_report(c, "periodic");
			next_stats = now + cfg->stats_interval_s * 1000;
		}
	}
}

/* Detach first, so nothing is metered after the flush; then unpin. */
/* A sink that lost batches did not do its job: the exit status says so. */
static int sink_failures(struct collector *c)
{
	if (!c->file_on || !c->file.batches_dropped)
		return 0;
	pr_warn("%" PRIu64 " batch(es) of flows could not be written to %s\n",
		c->file.batches_dropped, c->file.path);
	return 1;
}

static int collector_end(struct collector *c)
{
	int err;

	meter_detach_all(&c->meter);
	c->clock_offset_ns = live_clock_offset();
	err = poller_flush(&c->poller, 0);
	event_ring_consume(&c->ring);
	collector_send(c);
	collector_report(c, "exit");
	if (c->meter.pin_dir[0]) {
		meter_unpin(&c->meter);
		pr_info("detached; every flow exported and the pins removed\n");
	}
	err = sink_failures(c) || err;
	collector_close(c);
	return err ? 1 : 0;
}

/* --persist: export what is closed, leave the meter running for the next nfxdp. */
static int collector_leave(struct collector *c)
{
	int err;

	c->clock_offset_ns = live_clock_offset();
	/* A last scan: what is due goes now, and the stats count what stays. */
	poller_scan(&c->poller, clock_ns(CLOCK_BOOTTIME));
	event_ring_consume(&c->ring);
	collector_send(c);
	collector_state_save(c, true);
	collector_report(c, "exit");
	pr_info("left metering %s with the flow cache pinned in %s: start nfxdp again with the "
		"same interfaces to resume, or end it with nfxdp --detach\n",
		c->batch.msg.interface, c->meter.pin_dir);
	meter_release_all(&c->meter);
	err = sink_failures(c);
	collector_close(c);
	return err;
}

int collector_run_live(const struct nfx_config *cfg)
{
	struct collector c;
	char source[1024] = "";
	int err;

	for (int i = 0; i < cfg->n_ifaces; i++)
		snprintf(source + strlen(source), sizeof(source) - strlen(source), "%s%s",
			 i ? "," : "", cfg->ifaces[i]);
	collector_install_signals();
	err = collector_open_meter(&c, cfg, source);
	c.meter.resume_only = cfg->detach;
	c.meter.nic_metadata = cfg->nic_metadata;
	for (int i = 0; !err && i < cfg->n_ifaces; i++) {
		err = meter_attach(&c.meter, cfg->ifaces[i], cfg->xdp_mode);
		/* An interface gone: its flows are in the pinned cache all the same. */
		if (cfg->detach)
			err = 0;
	}
	/*
	 * Attached, nfxdp needs no capability: everything left goes through
	 * fds it holds. Sockets open after the drop, so that the threads of
	 * libzmq and of the HTTP server never hold one.
	 */
	if (!err)
		err = privs_drop();
	if (!err)
		err = collector_open_network(&c);
	if (err) {
		meter_abandon(&c.meter);
		collector_close(&c);
		return 1;
	}
	if (cfg->detach)
		return collector_end(&c);
	pr_info("metering %s; idle %.3fs, active %.3fs, natural expiry %s\n", source,
		cfg->idle_timeout_ms / 1000.0, cfg->active_timeout_ms / 1000.0,
		cfg->natural_expiry ? "on" : "off");
	live_loop(&c);
	if (c.all_gone) {
		collector_end(&c);
		return 1;
	}
	return cfg->persist ? collector_leave(&c) : collector_end(&c);
}
