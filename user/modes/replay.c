// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "capture/capture.h"
#include "capture/linktype.h"
#include "common/clock.h"
#include "common/log.h"
#include "flow.h"
#include "modes/replay.h"
#include "modes/setup.h"
#include "select/pcap_filter.h"

/*
 * The longest frame a record may claim: Linux hands a capture frames of up
 * to 512 KiB aggregated by segmentation offload (BIG TCP); 1 MiB leaves room.
 */
#define REPLAY_MAX_WIRE_LEN (1U << 20)

/* Frame mode: nfx_meta and the largest frame a test run takes (linear part and frags). */
#define FRAME_BUF (64 * 1024)

/*
 * Pipelined replay: a reader thread fills one half of the slots while the
 * kernel meters the other, so reading and metering use both CPUs. Halves go
 * to the meter strictly in turn, so frames are metered in capture order.
 */
#define HALF (REPLAY_SLOTS / 2)

/* Link types of the captures --filter is compiled for besides Ethernet. */
#define MAX_LINKTYPES 16

struct pipeline {
	pthread_t reader;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	uint32_t count[2]; /* frames in a half, 0 while it is being filled */
	bool done;	   /* the reader has handed over its last half */
	int err;	   /* the reader's */
};

struct replay {
	struct meter m;
	struct collector c;
	const struct nfx_config *cfg;
	struct capture *caps; /* every file, opened before metering starts */
	/*
	 * --filter for each capture that is not Ethernet: libpcap runs it on
	 * the frame as captured (the kernel's runs on Ethernet frames).
	 */
	const struct pcap_filter **prefilter;
	struct pcap_filter linktype_filter[MAX_LINKTYPES];
	int n_linktype_filters;
	bool bad_filter; /* --filter refused for a capture's link type: exit status 2 */
	bool user;	 /* metered in user space (--meter): --filter on every frame here */
	struct replay_slot *slots; /* the meter's replay slots, memory-mapped */
	uint8_t *payload;	   /* --dpi in user space: whole frames beside the slots */
	uint64_t dpi_bytes;	   /* ... and the most the batch being filled puts in the DPI ring */
	uint32_t first;		   /* slot the reader fills from: 0, or HALF when pipelined */
	uint32_t frames;	   /* in slots from first, not yet metered */
	uint32_t capacity;	   /* REPLAY_SLOTS, or HALF when pipelined */
	uint32_t room;		   /* frames the batch being filled may hold */
	bool held;		   /* the last frame read waits for the next one's time */
	size_t held_len;	   /* frame mode: its bytes in buf */
	bool have_prev;
	uint64_t prev_ts;	   /* the time the frame before it was metered at */
	struct pipeline *pl;	   /* NULL: one thread reads and meters */
	uint8_t *buf;		   /* frame mode */
	uint64_t next_scan_ns;
	uint64_t scan_every_ns;
	bool damaged; /* a capture ended early, or frames or flows were lost */
	uint64_t len_clamped; /* records whose original length could not be */
	/* progress */
	bool progress;
	uint64_t packets;
	uint64_t bytes_total;
	uint64_t bytes_done; /* of the files already read */
	uint64_t started_ms;
	uint64_t shown_ms;
};

static void show_progress(struct replay *r, const struct capture *cap, bool last)
{
	uint64_t now = clock_ms(CLOCK_MONOTONIC), at = r->bytes_done;
	double secs;

	if (!r->progress || (!last && now - r->shown_ms < 250))
		return;
	r->shown_ms = now;
	if (cap)
		at += capture_position(cap);
	secs = (now - r->started_ms) / 1000.0;
	fprintf(stderr, "\rnfxdp: %" PRIu64 " packets, %.0f%% of %.1f MB, %.2f M packets/s  ",
		r->packets, r->bytes_total ? 100.0 * at / r->bytes_total : 100.0,
		r->bytes_total / 1e6, secs > 0 ? r->packets / secs / 1e6 : 0.0);
	if (last)
		fputc('\n', stderr);
}

/*
 * What follows every call into the meter: closed flows out, a scan when
 * capture time has passed the next one. Batches end at a frame that may
 * start a scan (see add_frame()), so both replay modes scan after the same
 * frames and export in the same order.
 */
static void after_frames(struct replay *r)
{
	uint64_t now = meter_replay_clock(&r->m);

	collector_drain(&r->c);
	if (r->next_scan_ns && now >= r->next_scan_ns) {
		collector_scan(&r->c, now);
		r->next_scan_ns = now + r->scan_every_ns;
	}
	if (r->scan_every_ns)
		collector_pressure(&r->c, now);
	collector_service(&r->c, clock_ms(CLOCK_MONOTONIC));
	mode_handle_signals(&r->c);
}

/* True when the frame at @ts may start a scan. */
static bool scan_due(struct replay *r, uint64_t ts)
{
	if (!r->scan_every_ns)
		return false;
	if (!r->next_scan_ns)
		r->next_scan_ns = ts + r->scan_every_ns;
	return ts >= r->next_scan_ns;
}

/* Meters slots [first, first + count) through nfx_replay. */
static int meter_slots(struct replay *r, uint32_t first, uint32_t count)
{
	int err = meter_run_replay(&r->m, first, count);

	if (!err)
		after_frames(r);
	return err;
}

/* Hands the reader's filled half to the meter thread and waits for the other one. */
static int hand_over(struct replay *r)
{
	struct pipeline *pl = r->pl;
	int h = r->first / HALF, err;

	pthread_mutex_lock(&pl->lock);
	pl->count[h] = r->frames;
	pthread_cond_broadcast(&pl->cond);
	while (pl->count[!h] && !pl->err)
		pthread_cond_wait(&pl->cond, &pl->lock);
	err = pl->err;
	pthread_mutex_unlock(&pl->lock);
	r->first = !h * HALF;
	r->frames = 0;
	r->dpi_bytes = 0;
	return err;
}

/* The frames read so far go to the meter. */
static int run_batch(struct replay *r)
{
	int err;

	if (!r->frames)
		return 0;
	if (r->pl)
		return hand_over(r);
	err = meter_slots(r, r->first, r->frames);
	r->frames = 0;
	r->dpi_bytes = 0;
	return err;
}

/*
 * The original length a record claims, unless no frame can have it: less
 * than the bytes captured of it, or more than any link nfxdp meters carries
 * (frames aggregated by segmentation offload included). Then the captured
 * length, counted in capture_len_clamped (PARITY.md).
 */
static uint32_t wire_len(struct replay *r, const struct capture_frame *cf)
{
	if (cf->len >= cf->caplen && cf->len <= REPLAY_MAX_WIRE_LEN)
		return cf->len;
	__atomic_fetch_add(&r->len_clamped, 1, __ATOMIC_RELAXED); /* the stats read it */
	return cf->caplen;
}

/*
 * The frame as the meter sees it: Ethernet (other link headers replaced),
 * at most @cap bytes in @out. Fills the lengths of @f; returns the bytes
 * written.
 */
static size_t frame_for_meter(struct replay *r, int dlt, const struct capture_frame *cf,
			      uint8_t *out, size_t cap, struct replay_frame *f)
{
	size_t written = 0;
	long eth_caplen = linktype_to_ethernet(dlt, cf->data, cf->caplen, out, cap, &written);

	f->wire_len = wire_len(r, cf);
	if (eth_caplen < 0 || cf->caplen < MIN_FRAME_LEN) {
		/* Shorter than its own link header, or than NFStream's minimum: too short. */
		f->caplen = f->frame_len = cf->caplen < MIN_FRAME_LEN ? cf->caplen : 0;
		/* The kernel's --filter still reads an Ethernet one, as captured. */
		if (dlt != PCAP_FILTER_ETHERNET)
			return 0;
		written = cf->caplen < cap ? cf->caplen : cap;
		memcpy(out, cf->data, written);
		return written;
	}
	f->caplen = eth_caplen;
	f->frame_len = eth_caplen + (f->wire_len - cf->caplen);
	return written;
}

/* Batch mode: the frame's header bytes into the next slot. */
/*
 * Frames the next batch may hold: when the cache can fill, no more than can
 * be inserted below the hard watermark, so emergency expiry between batches
 * keeps the LRU from evicting anything.
 */
static uint32_t batch_room(struct replay *r)
{
	uint64_t room;

	if (!r->scan_every_ns)
		return r->capacity;
	room = collector_room(&r->c);
	return room < r->capacity ? room : r->capacity;
}

/*
 * --filter's verdict on a frame (enum prefilter): of a capture that is not
 * Ethernet, on the frame as captured; in user space, of an Ethernet one
 * too, on what the kernel's filter reads of it: its first bytes up to the
 * parse window (--snaplen), its length on the wire.
 */
static uint8_t prefilter(const struct replay *r, const struct pcap_filter *pf,
			 const struct capture_frame *cf, uint32_t wire_len)
{
	uint32_t window = r->cfg->snaplen && r->cfg->snaplen < PARSE_WINDOW ? r->cfg->snaplen :
									    PARSE_WINDOW;
	bool keep;

	if (!pf)
		return PREFILTER_NONE;
	if (pf->dlt == PCAP_FILTER_ETHERNET)
		keep = pcap_filter_match(pf, cf->data, cf->caplen < window ? cf->caplen : window,
					 wire_len);
	else
		keep = pcap_filter_match(pf, cf->data, cf->caplen, cf->len);
	return keep ? PREFILTER_KEEP : PREFILTER_DROP;
}

static bool far_apart(uint64_t a, uint64_t b)
{
	return (a > b ? a - b : b - a) > NFX_TIME_JUMP_NS;
}

/*
 * Time that jumps (PARITY.md, NFX_TIME_JUMP_NS): a frame far from both its
 * neighbours while they are close to each other is a lone frame whose
 * clock went wrong, not time passing (captures merged, a quiet link): it
 * takes its predecessor's time, flagged for the meter to count. A frame is
 * settled once the next one is read (@has_next false: it was the last).
 */
static void settle_time(struct replay *r, uint64_t *ts, uint32_t *flags, uint64_t next,
			bool has_next)
{
	if (r->have_prev && has_next && far_apart(*ts, r->prev_ts) && far_apart(next, *ts) &&
	    !far_apart(next, r->prev_ts)) {
		*ts = r->prev_ts;
		*flags |= REPLAY_F_RESTAMPED;
	}
	r->prev_ts = *ts;
	r->have_prev = true;
}

/* The DPI ring's largest record: its header, the event's, a frame's payload kept. */
#define DPI_RECORD_MAX (16 + DPI_EVENT_HDR_LEN + REPLAY_PAYLOAD)

/*
 * --dpi in batch replay: the batch ends before its packets could overflow
 * the DPI ring, which the collector drains between batches (a ring smaller
 * than one record: a batch a frame, as frame by frame).
 */
static bool dpi_ring_filled(const struct replay *r)
{
	return r->payload && r->dpi_bytes + DPI_RECORD_MAX > r->cfg->dpi_ring;
}

/* Batch mode: the frame added last settled, and its batch run when it ends there. */
static int settle_slot(struct replay *r, uint64_t next, bool has_next)
{
	struct replay_frame *f;
	uint32_t flags;
	uint64_t ts;

	if (!r->held)
		return 0;
	r->held = false;
	f = &r->slots[r->first + r->frames - 1].f;
	ts = f->ts_ns;
	flags = f->flags;
	settle_time(r, &ts, &flags, next, has_next);
	f->ts_ns = ts;
	f->flags = flags;
	if (r->frames >= r->room || scan_due(r, ts) || dpi_ring_filled(r))
		return run_batch(r);
	return 0;
}

/*
 * --dpi in user space: the frame, up to REPLAY_PAYLOAD bytes (--snaplen's
 * when fewer, the parse window at least), beside slot @i, its first
 * PARSE_WINDOW bytes in the slot. Returns those.
 */
static size_t slot_payload(struct replay *r, uint32_t i, int dlt, const struct capture_frame *cf)
{
	uint32_t snap = r->cfg->snaplen, cap = REPLAY_PAYLOAD;
	struct replay_slot *sl = &r->slots[i];
	uint8_t *p = r->payload + (size_t)i * REPLAY_PAYLOAD;
	size_t n;

	if (snap && snap < cap)
		cap = snap > PARSE_WINDOW ? snap : PARSE_WINDOW;
	n = frame_for_meter(r, dlt, cf, p, cap, &sl->f);
	r->dpi_bytes += 16 + DPI_EVENT_HDR_LEN + n;
	n = n < PARSE_WINDOW ? n : PARSE_WINDOW;
	memcpy(sl->frame.b, p, n);
	return n;
}

/* Batch mode: the frame's header bytes into the next slot, held until the next is read. */
static int add_frame(struct replay *r, int dlt, const struct pcap_filter *pf,
		     const struct capture_frame *cf)
{
	struct replay_slot *sl;
	uint32_t i;
	int err = settle_slot(r, cf->ts_ns, true);

	if (err)
		return err;
	i = r->first + r->frames++;
	sl = &r->slots[i];
	if (r->frames == 1)
		r->room = batch_room(r);
	sl->f.ts_ns = cf->ts_ns;
	sl->f.flags = 0;
	if (r->payload)
		sl->f.kept = slot_payload(r, i, dlt, cf);
	else
		sl->f.kept = frame_for_meter(r, dlt, cf, sl->frame.b, PARSE_WINDOW, &sl->f);
	sl->f.prefilter = prefilter(r, pf, cf, sl->f.wire_len);
	r->held = true;
	return 0;
}

/* Frame mode: the frame held in the buffer settled, then through nfx_meter. */
static int settle_frame(struct replay *r, uint64_t next, bool has_next)
{
	struct nfx_meta *meta = (void *)r->buf;
	uint64_t ts = meta->ts_ns;
	uint32_t flags = meta->flags;
	int err;

	if (!r->held)
		return 0;
	r->held = false;
	settle_time(r, &ts, &flags, next, has_next);
	meta->ts_ns = ts;
	meta->flags = flags;
	scan_due(r, ts);
	err = meter_run_frame(&r->m, r->buf, sizeof(*meta), sizeof(*meta) + r->held_len);
	if (!err)
		after_frames(r);
	return err;
}

/* Frame mode: the whole frame, time and lengths in data_meta, held until the next is read. */
static int run_frame(struct replay *r, int dlt, const struct pcap_filter *pf,
		     const struct capture_frame *cf)
{
	struct nfx_meta *meta = (void *)r->buf;
	struct replay_frame f = { 0 };
	int err = settle_frame(r, cf->ts_ns, true);
	size_t n;

	if (err)
		return err;
	n = frame_for_meter(r, dlt, cf, r->buf + sizeof(*meta), FRAME_BUF - sizeof(*meta), &f);
	/* A test buffer holds at least an Ethernet header; still too short to meter. */
	if (n < 14) {
		memset(r->buf + sizeof(*meta) + n, 0, 14 - n);
		n = 14;
	}
	memset(meta, 0, sizeof(*meta));
	meta->ts_ns = cf->ts_ns;
	meta->wire_len = f.wire_len;
	meta->frame_len = f.frame_len;
	meta->magic = NFX_META_MAGIC;
	meta->prefilter = prefilter(r, pf, cf, f.wire_len);
	r->held_len = n;
	r->held = true;
	return 0;
}

static int replay_file(struct replay *r, int i)
{
	struct capture *cap = &r->caps[i];
	const struct pcap_filter *pf = r->prefilter[i];
	struct capture_frame cf;
	int ret = 0, got;

	while ((got = capture_next(cap, &cf)) == 1 && !mode_stop) {
		r->packets++;
		ret = r->cfg->replay_frames ? run_frame(r, cap->dlt, pf, &cf) :
					      add_frame(r, cap->dlt, pf, &cf);
		if (ret)
			break;
		if (r->progress && !(r->packets & 0xfff))
			show_progress(r, cap, false);
	}
	/* What was read is metered and flushed; the exit status says the rest is not. */
	if (got < 0)
		r->damaged = true;
	r->bytes_done += cap->size ? cap->size : capture_position(cap);
	capture_close(cap);
	return ret;
}

/* Every capture, frame by frame, into the meter; then what is left in the slots. */
static int read_captures(struct replay *r)
{
	int err = 0;

	for (int i = 0; !err && i < r->cfg->n_pcaps && !mode_stop; i++)
		err = replay_file(r, i);
	if (!err && r->cfg->replay_frames)
		err = settle_frame(r, 0, false);
	else if (!err)
		err = settle_slot(r, 0, false);
	if (!err && !r->cfg->replay_frames)
		err = run_batch(r);
	return err;
}

static void *reader_main(void *arg)
{
	struct replay *r = arg;
	struct pipeline *pl = r->pl;
	int err = read_captures(r);

	pthread_mutex_lock(&pl->lock);
	pl->done = true;
	if (err && !pl->err)
		pl->err = err;
	pthread_cond_broadcast(&pl->cond);
	pthread_mutex_unlock(&pl->lock);
	return NULL;
}

/* The meter's side of the pipeline: each half in turn, as the reader fills it. */
static int replay_pipelined(struct replay *r)
{
	struct pipeline pl = { .lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER };
	int err = 0;

	r->pl = &pl;
	r->capacity = HALF;
	if (pthread_create(&pl.reader, NULL, reader_main, r)) {
		r->pl = NULL;
		r->capacity = REPLAY_SLOTS;
		return read_captures(r);
	}
	for (int h = 0;; h = !h) {
		uint32_t n;

		pthread_mutex_lock(&pl.lock);
		while (!pl.count[h] && !pl.done && !pl.err)
			pthread_cond_wait(&pl.cond, &pl.lock);
		n = pl.err ? 0 : pl.count[h];
		pthread_mutex_unlock(&pl.lock);
		if (!n)
			break;
		err = meter_slots(r, h * HALF, n);
		pthread_mutex_lock(&pl.lock);
		pl.count[h] = 0;
		if (err)
			pl.err = err;
		pthread_cond_broadcast(&pl.cond);
		pthread_mutex_unlock(&pl.lock);
		if (err)
			break;
	}
	pthread_join(pl.reader, NULL);
	r->pl = NULL;
	return err ? err : pl.err;
}

/*
 * --filter compiled for a capture of link type @dlt other than Ethernet
 * (once per link type); NULL after libpcap's message when it refuses.
 */
static const struct pcap_filter *linktype_filter(struct replay *r, int dlt, const char *path)
{
	char err[4096];
	struct pcap_filter *pf;

	for (int i = 0; i < r->n_linktype_filters; i++)
		if (r->linktype_filter[i].dlt == dlt)
			return &r->linktype_filter[i];
	if (r->n_linktype_filters == MAX_LINKTYPES)
		return NULL;
	pf = &r->linktype_filter[r->n_linktype_filters];
	if (pcap_filter_compile(pf, r->cfg->filter->expr, dlt, err, sizeof(err))) {
		pr_warn("%s\n(%s is of link type %s)\n", err, path, pcap_filter_dlt_name(dlt));
		r->bad_filter = true;
		return NULL;
	}
	r->n_linktype_filters++;
	return pf;
}

/* Opens every file first: a bad one stops the run before anything is metered. */
static int open_captures(struct replay *r, const struct nfx_config *cfg)
{
	r->caps = calloc(cfg->n_pcaps, sizeof(*r->caps));
	r->prefilter = calloc(cfg->n_pcaps, sizeof(*r->prefilter));
	if (!r->caps || !r->prefilter)
		return -ENOMEM;
	for (int i = 0; i < cfg->n_pcaps; i++) {
		struct capture *c = &r->caps[i];
		int err = capture_open(c, cfg->pcaps[i]);

		if (err)
			return err;
		if (!linktype_supported(c->dlt)) {
			pr_warn("Couldn't meter %s: link type %d is not supported (supported: %s)\n",
				cfg->pcaps[i], c->dlt, linktype_supported_names());
			return -EOPNOTSUPP;
		}
		if (cfg->filter && c->dlt == PCAP_FILTER_ETHERNET && r->user) {
			r->prefilter[i] = cfg->filter;
		} else if (cfg->filter && c->dlt != PCAP_FILTER_ETHERNET) {
			r->prefilter[i] = linktype_filter(r, c->dlt, cfg->pcaps[i]);
			if (!r->prefilter[i])
				return -EINVAL;
		}
	}
	return 0;
}

static void close_captures(struct replay *r, const struct nfx_config *cfg)
{
	for (int i = 0; r->caps && i < cfg->n_pcaps; i++)
		capture_close(&r->caps[i]);
	free(r->caps);
	r->caps = NULL;
	free(r->prefilter);
	r->prefilter = NULL;
	for (int i = 0; i < r->n_linktype_filters; i++)
		pcap_filter_free(&r->linktype_filter[i]);
	r->n_linktype_filters = 0;
}

static void total_size(struct replay *r)
{
	struct stat st;

	for (int i = 0; i < r->cfg->n_pcaps; i++)
		if (!stat(r->cfg->pcaps[i], &st))
			r->bytes_total += st.st_size;
}

static void sources(const struct nfx_config *cfg, char *buf, size_t len)
{
	buf[0] = '\0';
	for (int i = 0; i < cfg->n_pcaps; i++) {
		const char *name = strrchr(cfg->pcaps[i], '/');

		snprintf(buf + strlen(buf), len - strlen(buf), "%s%s", i ? "," : "",
			 name ? name + 1 : cfg->pcaps[i]);
	}
}

static int replay_setup(struct replay *r)
{
	r->slots = meter_replay_slots(&r->m);
	r->buf = malloc(FRAME_BUF);
	if (!r->slots || !r->buf)
		return -ENOMEM;
	if (!r->cfg->dpi || r->cfg->replay_frames)
		return 0;
	/* The command line sends the kernel's --dpi frame by frame: user space has the frames. */
	r->payload = meter_replay_payload(&r->m);
	return r->payload ? 0 : -EOPNOTSUPP;
}

/*
 * The flow cache never needs more entries than the captures can hold
 * frames: a smaller one is allocated, and scanned, faster. A FIFO or a pipe
 * has no size to tell: --max-flows entries, scanned as live.
 */
static uint32_t cache_size(const struct replay *r, const struct nfx_config *cfg, bool *may_fill)
{
	uint64_t frames = 0;

	for (int i = 0; i < cfg->n_pcaps; i++)
		frames += capture_frames_bound(&r->caps[i], (uint64_t)cfg->max_flows + 1);
	if (frames < 1024)
		frames = 1024;
	*may_fill = frames > cfg->max_flows;
	return *may_fill ? cfg->max_flows : frames;
}

/* The kernel refused to load the meter: what an unprivileged user can do instead. */
static void refused_hint(const struct nfx_config *cfg)
{
	/* --meter kernel --dpi goes frame by frame without being asked to. */
	if (cfg->replay_frames && cfg->meter_where != METER_KERNEL)
		pr_warn("--replay-mode frame runs the kernel's meter: it needs root or CAP_BPF; "
			"--replay-mode batch meters files in user space without privileges\n");
	else
		pr_warn("--meter user (the default for files) meters capture files without "
			"privileges, --dpi included\n");
}

/* The meter sized for the captures, and the collector on capture time. */
static int open_meter(struct replay *r, const char *source, bool *may_fill)
{
	const struct nfx_config *cfg = r->cfg;
	struct mode_facts facts = {
		.source = source,
		.capture_time = true,
		.counters = { { "capture_len_clamped", &r->len_clamped } },
	};
	struct collector_opts co;
	struct meter_opts mo;
	int err;

	mode_meter_opts(&mo, cfg);
	meter_opts_for_replay(&mo, cfg->replay_frames);
	mo.user = r->user;
	mo.max_flows = cache_size(r, cfg, may_fill);
	/*
	 * When the cache holds every frame it never fills: a hash map that
	 * allocates entries as flows come, not an LRU map allocating all at load.
	 */
	mo.grow_on_demand = !*may_fill;
	if (*may_fill)
		pr_info("flow cache: %u entries (--max-flows)\n", mo.max_flows);
	else
		pr_info("flow cache: %u entries (the captures hold at most that many frames)\n",
			mo.max_flows);
	err = meter_load(&r->m, &mo);
	if ((err == -EPERM || err == -EACCES) && !mo.user)
		refused_hint(cfg);
	if (err)
		return err;
	mode_collector_opts(&co, cfg);
	co.expiry.capacity = mo.max_flows;
	err = collector_open(&r->c, &r->m, &co, &facts);
	if (!err)
		err = mode_open_sinks(&r->c, cfg, false);
	if (!err)
		err = mode_open_sinks(&r->c, cfg, true);
	return err ? err : replay_setup(r);
}

/*
 * A packet closes its expired flow itself, so scans only make room: once
 * per idle timeout of capture time when the cache could fill, never when it
 * holds every frame (a last scan at the end of the capture gives idle flows
 * their expiration id).
 */
static uint64_t scan_interval_ns(const struct nfx_config *cfg, bool may_fill)
{
	if (!may_fill)
		return 0;
	return (cfg->idle_timeout_ms > cfg->poll_ms ? cfg->idle_timeout_ms : cfg->poll_ms) *
	       NS_PER_MS;
}

static int replay_capture(struct replay *r)
{
	int err;

	r->progress = isatty(STDERR_FILENO);
	r->started_ms = clock_ms(CLOCK_MONOTONIC);
	total_size(r);
	/*
	 * Reading and metering run on two threads for the kernel's meter,
	 * unless periodic scans must fall between the same frames as in frame
	 * mode (see after_frames()). Not for the user-space meter: its frames
	 * would cross from one CPU's caches to the other's, and the hand-overs
	 * wake threads, for less than the reading costs it. Measured on the
	 * benchmarks' machine, 11 interleaved runs each: reference captures
	 * 20 ms alone against 26 (best), 2 M frames over 50 K flows 256 ms
	 * against 275 (best; 263 against 376 on average), 550 K frames over 80 K
	 * flows the same.
	 */
	r->capacity = REPLAY_SLOTS;
	if (!r->cfg->replay_frames && !r->scan_every_ns && !r->user)
		err = replay_pipelined(r);
	else
		err = read_captures(r);
	show_progress(r, NULL, true);
	/* End of capture: idle flows expire, every other flow is flushed. */
	if (!err)
		err = collector_flush(&r->c, meter_replay_clock(&r->m));
	else
		collector_flush(&r->c, meter_replay_clock(&r->m));
	collector_settle(&r->c, &mode_stop);
	collector_end(&r->c, "end of capture");
	return err;
}

/* Frames metered at another time than their own: said (PARITY.md). */
static void report_time(struct replay *r)
{
	uint64_t cnt[NFX_COUNTER_MAX];

	if (meter_counters(&r->m, cnt) || !cnt[NFX_TIME_RESTAMPED])
		return;
	pr_warn("%" PRIu64 " frames were metered at another time than their own: alone more "
		"than an hour away from the frames around them, or more than an hour behind the "
		"capture's time (time_restamped)\n", cnt[NFX_TIME_RESTAMPED]);
}

/* Frames the meter could not count, flows the full cache lost: said, and true. */
static bool report_losses(struct replay *r)
{
	uint64_t cnt[NFX_COUNTER_MAX], frames, flows;

	if (meter_counters(&r->m, cnt))
		return false;
	frames = cnt[NFX_LOST_INSERT_FAILED] + cnt[NFX_LOST_BUSY];
	flows = collector_flows_evicted(&r->c);
	if (frames)
		pr_warn("%" PRIu64 " frames were not metered: the flow cache refused them "
			"(lost_insert_failed, lost_busy)\n", frames);
	if (flows)
		pr_warn("%" PRIu64 " flows were evicted from the full flow cache before they "
			"could be exported (flows_evicted_estimated): raise --max-flows\n", flows);
	return frames || flows;
}

/*
 * --meter: in the kernel or in user space. auto: user space, which meters
 * a capture faster (no system call per batch, no program to load; with
 * --dpi, in batches where the kernel's goes frame by frame: see
 * BENCHMARKS.md) and needs no privileges; the kernel for --replay-mode
 * frame, which runs the XDP program itself.
 */
static bool use_user_meter(const struct nfx_config *cfg)
{
	if (cfg->meter_where == METER_AUTO)
		return !cfg->replay_frames;
	return cfg->meter_where == METER_USER;
}

int replay_run(const struct nfx_config *cfg)
{
	static struct replay r;
	char source[4096];
	bool may_fill = false;
	int err;

	memset(&r, 0, sizeof(r));
	r.cfg = cfg;
	r.user = use_user_meter(cfg);
	mode_install_signals(); /* before a FIFO's open, which waits for its writer */
	err = open_captures(&r, cfg);
	if (!err) {
		sources(cfg, source, sizeof(source));
		err = open_meter(&r, source, &may_fill);
	}
	if (!err) {
		r.scan_every_ns = scan_interval_ns(cfg, may_fill);
		err = replay_capture(&r);
		report_time(&r);
		if (report_losses(&r))
			r.damaged = true;
	}
	if (r.c.m)
		err = collector_close(&r.c) || err;
	if (meter_loaded(&r.m))
		meter_destroy(&r.m);
	close_captures(&r, cfg);
	free(r.buf);
	if (r.bad_filter)
		return 2;
	return err || r.damaged ? 1 : 0;
}
