// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "capture.h"
#include "collector.h"
#include "flow.h"
#include "linktype.h"
#include "log.h"
#include "meter.skel.h"
#include "replay.h"

#define MIN_FRAME_LEN 28
/* Frame mode: nfx_meta and the largest frame a test run takes (linear part and frags). */
#define FRAME_BUF (64 * 1024)

struct replay {
	struct collector c;
	const struct nfx_config *cfg;
	struct capture *caps; /* every file, opened before metering starts */
	int replay_fd;
	int meter_fd;
	struct replay_slot *slots; /* replay_slots, memory-mapped */
	uint32_t frames;	   /* in slots, not yet metered */
	uint8_t *buf;		   /* frame mode */
	uint64_t next_scan_ns;
	uint64_t scan_every_ns;
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
	uint64_t now = r->c.meter.skel->bss->replay_clock;

	ring_buffer__consume(r->c.rb);
	if (r->next_scan_ns && now >= r->next_scan_ns) {
		poller_scan(&r->c.poller, now);
		r->next_scan_ns = now + r->scan_every_ns;
	}
	collector_tick(&r->c, clock_ms(CLOCK_MONOTONIC));
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

static int run_batch(struct replay *r)
{
	unsigned char pkt[64] = { 0 };
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = pkt, .data_size_in = sizeof(pkt),
		    .repeat = 1);
	int err;

	if (!r->frames)
		return 0;
	r->c.meter.skel->bss->replay_count = r->frames;
	if (bpf_prog_test_run_opts(r->replay_fd, &opts)) {
		err = -errno;
		pr_warn("Couldn't run the meter on a batch of %u frames: %s\n", r->frames,
			strerror(-err));
		return err;
	}
	if (r->c.meter.skel->bss->replay_done != r->frames) {
		pr_warn("The meter stopped at frame %u of a batch of %u\n",
			r->c.meter.skel->bss->replay_done, r->frames);
		return -EINVAL;
	}
	r->frames = 0;
	after_frames(r);
	return 0;
}

/*
 * The frame as the meter sees it: Ethernet (other link headers replaced),
 * at most @cap bytes in @out. Fills the lengths of @f; returns the bytes
 * written.
 */
static size_t frame_for_meter(int dlt, const struct capture_frame *cf, uint8_t *out, size_t cap,
			      struct replay_frame *f)
{
	size_t written = 0;
	long eth_caplen = linktype_to_ethernet(dlt, cf->data, cf->caplen, out, cap, &written);

	f->wire_len = cf->len;
	if (eth_caplen < 0 || cf->caplen < MIN_FRAME_LEN) {
		/* Shorter than its own link header, or than NFStream's minimum: too short. */
		f->caplen = f->frame_len = cf->caplen < MIN_FRAME_LEN ? cf->caplen : 0;
		return 0;
	}
	f->caplen = eth_caplen;
	f->frame_len = eth_caplen + (cf->len - cf->caplen);
	return written;
}

/* Batch mode: the frame's header bytes into the next slot. */
static int add_frame(struct replay *r, int dlt, const struct capture_frame *cf)
{
	struct replay_slot *sl = &r->slots[r->frames++];

	sl->f.ts_ns = cf->ts_ns;
	sl->f.kept = frame_for_meter(dlt, cf, sl->frame.b, PARSE_WINDOW, &sl->f);
	if (r->frames == REPLAY_SLOTS || scan_due(r, cf->ts_ns))
		return run_batch(r);
	return 0;
}

/* Frame mode: the whole frame through nfx_meter, time and lengths in data_meta. */
static int run_frame(struct replay *r, int dlt, const struct capture_frame *cf)
{
	struct nfx_meta *meta = (void *)r->buf;
	struct replay_frame f = { 0 };
	struct xdp_md ctx = { .data = sizeof(*meta) };
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = r->buf, .ctx_in = &ctx,
		    .ctx_size_in = sizeof(ctx), .repeat = 1);
	size_t n;

	n = frame_for_meter(dlt, cf, r->buf + sizeof(*meta), FRAME_BUF - sizeof(*meta), &f);
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
	scan_due(r, cf->ts_ns);
	ctx.data_end = sizeof(*meta) + n;
	opts.data_size_in = ctx.data_end;
	if (bpf_prog_test_run_opts(r->meter_fd, &opts)) {
		int err = -errno;

		pr_warn("Couldn't run the meter on a frame: %s\n", strerror(-err));
		return err;
	}
	after_frames(r);
	return 0;
}

static int replay_file(struct replay *r, struct capture *cap)
{
	struct capture_frame cf;
	int ret = 0;

	while (capture_next(cap, &cf) == 1 && !collector_stop) {
		r->packets++;
		ret = r->cfg->replay_frames ? run_frame(r, cap->dlt, &cf) : add_frame(r, cap->dlt, &cf);
		if (ret)
			break;
		if (r->progress && !(r->packets & 0xfff))
			show_progress(r, cap, false);
	}
	r->bytes_done += cap->size ? cap->size : capture_position(cap);
	capture_close(cap);
	return ret;
}

/* Opens every file first: a bad one stops the run before anything is metered. */
static int open_captures(struct replay *r, const struct nfx_config *cfg)
{
	r->caps = calloc(cfg->n_pcaps, sizeof(*r->caps));
	if (!r->caps)
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
	}
	return 0;
}

static void close_captures(struct replay *r, const struct nfx_config *cfg)
{
	for (int i = 0; r->caps && i < cfg->n_pcaps; i++)
		capture_close(&r->caps[i]);
	free(r->caps);
	r->caps = NULL;
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
	size_t size = (size_t)REPLAY_SLOTS * sizeof(struct replay_slot);
	void *m;

	r->replay_fd = bpf_program__fd(r->c.meter.skel->progs.nfx_replay);
	r->meter_fd = bpf_program__fd(r->c.meter.skel->progs.nfx_meter);
	m = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED,
		 bpf_map__fd(r->c.meter.skel->maps.replay_slots), 0);
	if (m == MAP_FAILED) {
		int err = -errno;

		pr_warn("Couldn't map the replay slots: %s\n", strerror(-err));
		return err;
	}
	r->slots = m;
	r->buf = malloc(FRAME_BUF);
	return r->buf ? 0 : -ENOMEM;
}

/*
 * The flow cache never needs more entries than the captures can hold
 * frames: a smaller one is allocated, and scanned, faster.
 */
static uint32_t cache_size(const struct replay *r, const struct nfx_config *cfg, bool *may_fill)
{
	uint64_t frames = 0;

	for (int i = 0; i < cfg->n_pcaps; i++)
		frames += capture_frames_bound(&r->caps[i], cfg->max_flows);
	if (frames < 1024)
		frames = 1024;
	*may_fill = frames > cfg->max_flows;
	return *may_fill ? cfg->max_flows : frames;
}

int replay_run(const struct nfx_config *user_cfg)
{
	struct nfx_config sized = *user_cfg;
	const struct nfx_config *cfg = &sized;
	struct replay r = { .cfg = cfg };
	char source[4096];
	bool may_fill;
	int err;

	err = open_captures(&r, user_cfg);
	if (err) {
		close_captures(&r, user_cfg);
		return 1;
	}
	sized.max_flows = cache_size(&r, user_cfg, &may_fill);
	pr_info("flow cache: %u entries (the captures hold at most that many frames)\n",
		sized.max_flows);
	sources(cfg, source, sizeof(source));
	collector_install_signals();
	err = collector_open(&r.c, cfg, source);
	if (!err)
		err = replay_setup(&r);
	if (err) {
		collector_close(&r.c);
		close_captures(&r, cfg);
		return 1;
	}
	r.c.clock_offset_ns = 0; /* capture time is Unix time already */
	/*
	 * A packet closes its expired flow itself, so scans only make room:
	 * once per idle timeout of capture time when the cache could fill,
	 * never when it holds every frame (a last scan at the end of the
	 * capture gives idle flows their expiration id).
	 */
	if (may_fill)
		r.scan_every_ns = (cfg->idle_timeout_ms > cfg->poll_ms ? cfg->idle_timeout_ms :
									 cfg->poll_ms) *
				  1000000ULL;
	r.progress = isatty(STDERR_FILENO);
	r.started_ms = clock_ms(CLOCK_MONOTONIC);
	total_size(&r);

	for (int i = 0; !err && i < cfg->n_pcaps && !collector_stop; i++)
		err = replay_file(&r, &r.caps[i]);
	if (!err)
		err = run_batch(&r);
	show_progress(&r, NULL, true);

	/* End of capture: idle flows expire, every other flow is flushed. */
	if (!err)
		err = poller_flush(&r.c.poller, r.c.meter.skel->bss->replay_clock);
	ring_buffer__consume(r.c.rb);
	collector_send(&r.c);
	collector_print_stats(&r.c, "end of capture");
	munmap(r.slots, (size_t)REPLAY_SLOTS * sizeof(struct replay_slot));
	collector_close(&r.c);
	close_captures(&r, cfg);
	free(r.buf);
	return err ? 1 : 0;
}
