// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
/* libpcap's classic-BPF struct bpf_insn would clash with the kernel's. */
#define PCAP_DONT_INCLUDE_PCAP_BPF_H
#include <pcap/pcap.h>

#include "collector.h"
#include "flow.h"
#include "linktype.h"
#include "log.h"
#include "meter.skel.h"
#include "replay.h"

/*
 * A batch fits in one BPF_PROG_TEST_RUN buffer: the linear part of an XDP
 * test buffer and up to 16 page fragments.
 */
#define BATCH_BYTES (60 * 1024)
#define RECORD_MAX (sizeof(struct replay_frame) + PARSE_WINDOW + 8)
#define MIN_FRAME_LEN 28

struct replay {
	struct collector c;
	const struct nfx_config *cfg;
	int replay_fd;
	int meter_fd;
	uint8_t *buf;
	size_t used;
	uint32_t frames;
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

static void show_progress(struct replay *r, pcap_t *p, bool last)
{
	uint64_t now = clock_ms(CLOCK_MONOTONIC), at = r->bytes_done;
	FILE *f = p ? pcap_file(p) : NULL;
	double secs;

	if (!r->progress || (!last && now - r->shown_ms < 250))
		return;
	r->shown_ms = now;
	if (f) {
		long pos = ftell(f);

		if (pos > 0)
			at += pos;
	}
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

/* The frame's capture time; true when it may start a scan. */
static bool frame_time(struct replay *r, const struct pcap_pkthdr *h, __u64 *ts)
{
	*ts = (uint64_t)h->ts.tv_sec * 1000000000ULL + h->ts.tv_usec; /* nanosecond pcap */
	if (!r->next_scan_ns)
		r->next_scan_ns = *ts + r->scan_every_ns;
	return *ts >= r->next_scan_ns;
}

static int run_batch(struct replay *r)
{
	struct replay_batch *b = (void *)r->buf;
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = r->buf, .data_size_in = r->used,
		    .repeat = 1);
	int err;

	if (!r->frames)
		return 0;
	b->frames = r->frames;
	b->_pad = 0;
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
	r->used = sizeof(struct replay_batch);
	after_frames(r);
	return 0;
}

/*
 * The frame as the meter sees it: Ethernet (other link headers replaced),
 * at most @cap bytes in @out. Fills the lengths of @f.
 */
static size_t frame_for_meter(int dlt, const struct pcap_pkthdr *h, const u_char *data,
			      uint8_t *out, size_t cap, struct replay_frame *f)
{
	size_t written = 0;
	long eth_caplen = linktype_to_ethernet(dlt, data, h->caplen, out, cap, &written);

	f->wire_len = h->len;
	if (eth_caplen < 0 || h->caplen < MIN_FRAME_LEN) {
		/* Shorter than its own link header, or than NFStream's minimum: too short. */
		f->caplen = f->frame_len = h->caplen < MIN_FRAME_LEN ? h->caplen : 0;
		out[0] = 0;
		return 1;
	}
	f->caplen = eth_caplen;
	f->frame_len = eth_caplen + (h->len - h->caplen);
	return written;
}

static int add_frame(struct replay *r, int dlt, const struct pcap_pkthdr *h, const u_char *data)
{
	struct replay_frame *f;
	size_t kept;
	bool scan;
	int err;

	if (r->used + RECORD_MAX > BATCH_BYTES) {
		err = run_batch(r);
		if (err)
			return err;
	}
	f = (void *)(r->buf + r->used);
	memset(f, 0, sizeof(*f));
	scan = frame_time(r, h, &f->ts_ns);
	kept = frame_for_meter(dlt, h, data, (uint8_t *)(f + 1), PARSE_WINDOW, f);
	f->kept = kept;
	r->used += sizeof(*f) + ((kept + 7) & ~7UL);
	r->frames++;
	return scan ? run_batch(r) : 0;
}

/* Frame mode: the whole frame through nfx_meter, time and lengths in data_meta. */
static int run_frame(struct replay *r, int dlt, const struct pcap_pkthdr *h, const u_char *data)
{
	struct nfx_meta *meta = (void *)r->buf;
	struct replay_frame f = { 0 };
	struct xdp_md ctx = { .data = sizeof(*meta) };
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = r->buf, .ctx_in = &ctx,
		    .ctx_size_in = sizeof(ctx), .repeat = 1);
	size_t cap = BATCH_BYTES - sizeof(*meta), n;

	n = frame_for_meter(dlt, h, data, r->buf + sizeof(*meta), cap, &f);
	/* A test buffer holds at least an Ethernet header; still too short to meter. */
	if (n < 14) {
		memset(r->buf + sizeof(*meta) + n, 0, 14 - n);
		n = 14;
	}
	memset(meta, 0, sizeof(*meta));
	frame_time(r, h, &meta->ts_ns);
	meta->wire_len = f.wire_len;
	meta->frame_len = f.frame_len;
	meta->magic = NFX_META_MAGIC;
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

static int replay_file(struct replay *r, const char *path)
{
	char err[PCAP_ERRBUF_SIZE];
	struct pcap_pkthdr *h;
	const u_char *data;
	struct stat st;
	pcap_t *p;
	int dlt, rc, ret = 0;

	p = pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_NANO, err);
	if (!p) {
		pr_warn("Couldn't open capture %s: %s\n", path, err);
		return -EINVAL;
	}
	dlt = pcap_datalink(p);
	if (!linktype_supported(dlt)) {
		const char *name = pcap_datalink_val_to_name(dlt);

		pr_warn("Couldn't meter %s: link type %s (%d) is not supported (supported: %s)\n",
			path, name ? name : "unknown", dlt, linktype_supported_names());
		pcap_close(p);
		return -EOPNOTSUPP;
	}
	while ((rc = pcap_next_ex(p, &h, &data)) == 1) {
		r->packets++;
		ret = r->cfg->replay_frames ? run_frame(r, dlt, h, data) : add_frame(r, dlt, h, data);
		if (ret)
			break;
		if (collector_stop)
			break;
		show_progress(r, p, false);
	}
	if (rc == PCAP_ERROR)
		pr_warn("%s: %s (the frames before it are metered)\n", path, pcap_geterr(p));
	if (!stat(path, &st))
		r->bytes_done += st.st_size;
	pcap_close(p);
	return ret;
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

int replay_run(const struct nfx_config *cfg)
{
	struct replay r = { .cfg = cfg };
	char source[4096];
	int err;

	sources(cfg, source, sizeof(source));
	collector_install_signals();
	err = collector_open(&r.c, cfg, source);
	if (err) {
		collector_close(&r.c);
		return 1;
	}
	r.c.clock_offset_ns = 0; /* capture time is Unix time already */
	r.replay_fd = bpf_program__fd(r.c.meter.skel->progs.nfx_replay);
	r.meter_fd = bpf_program__fd(r.c.meter.skel->progs.nfx_meter);
	r.buf = malloc(BATCH_BYTES);
	r.used = sizeof(struct replay_batch);
	/* Scans only export idle flows early: rarely, in capture time. */
	r.scan_every_ns = (cfg->idle_timeout_ms / 4 > cfg->poll_ms ? cfg->idle_timeout_ms / 4 :
								     cfg->poll_ms) * 1000000ULL;
	r.progress = isatty(STDERR_FILENO);
	r.started_ms = clock_ms(CLOCK_MONOTONIC);
	total_size(&r);

	for (int i = 0; !err && i < cfg->n_pcaps && !collector_stop; i++)
		err = replay_file(&r, cfg->pcaps[i]);
	if (!err)
		err = run_batch(&r);
	show_progress(&r, NULL, true);

	/* End of capture: every flow left is exported (flush). */
	if (!err)
		err = poller_flush(&r.c.poller);
	ring_buffer__consume(r.c.rb);
	collector_send(&r.c);
	collector_print_stats(&r.c, "end of capture");
	collector_close(&r.c);
	free(r.buf);
	return err ? 1 : 0;
}
