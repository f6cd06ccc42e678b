// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * filterdiff: --filter in the kernel against libpcap, frame for frame.
 * Each expression is compiled and translated as nfxdp does it and spliced
 * into the meter (meter_load()); the frames of each Ethernet capture go
 * through the capture replay program (nfx_replay, in replay slots as nfxdp
 * --pcap writes them), and the meter's verdict on each (the outcome it
 * leaves in the slot: frames_filtered_out or another counter) is compared
 * with pcap_offline_filter() on the frame as captured (read by nfxdp's own
 * capture reader).
 *
 *   filterdiff EXPRS_FILE PCAP...
 *
 * EXPRS_FILE holds one expression a line. One line per expression:
 *   ok|DIFF <tab> EXPR <tab> captures frames passed_by_libpcap passed_by_meter differ [first]
 * Exit status 1 when a frame differs or anything fails.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capture/capture.h"
#include "common/log.h"
#include "flow.h"
#include "meter/meter.h"
#include "select/pcap_ebpf.h"
#include "select/pcap_filter.h"

#define MAX_EXPRS 256

struct tally {
	unsigned long captures, frames, by_pcap, by_meter, differ;
	char first[512];
};

/* A frame into a replay slot, as nfxdp --pcap writes an Ethernet one. */
static void to_slot(struct replay_slot *sl, const struct capture_frame *cf)
{
	uint32_t kept = cf->caplen < PARSE_WINDOW ? cf->caplen : PARSE_WINDOW;

	memset(&sl->f, 0, sizeof(sl->f));
	sl->f.ts_ns = cf->ts_ns;
	sl->f.caplen = cf->caplen;
	sl->f.wire_len = sl->f.frame_len = cf->len;
	sl->f.kept = kept;
	memcpy(sl->frame.b, cf->data, kept);
}

/* The frames in slots [0, n) through the meter, each verdict against @want. */
static int run_batch(struct meter *m, struct replay_slot *slots, const uint8_t *want,
		     uint32_t n, unsigned long first, const char *name, struct tally *t)
{
	if (meter_run_replay(m, 0, n))
		return -1;
	for (uint32_t i = 0; i < n; i++) {
		int got = slots[i].f.outcome != NFX_FILTERED_OUT;

		t->frames++;
		t->by_pcap += want[i];
		t->by_meter += got;
		if (got != want[i] && !t->differ++)
			snprintf(t->first, sizeof(t->first), "%s frame %lu: libpcap %s, meter %s",
				 name, first + i + 1, want[i] ? "keeps" : "drops",
				 got ? "keeps" : "drops");
	}
	return 0;
}

static int one_capture(struct meter *m, struct replay_slot *slots, const struct pcap_filter *f,
		       const char *path, struct tally *t)
{
	static uint8_t want[REPLAY_SLOTS];
	const char *name = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
	struct capture_frame cf;
	struct capture c;
	unsigned long done = 0;
	uint32_t n = 0;
	int r;

	if (capture_open(&c, path))
		return -1;
	if (c.dlt != PCAP_FILTER_ETHERNET) {
		capture_close(&c);
		return 0; /* nfxdp filters other link types with libpcap itself */
	}
	t->captures++;
	while ((r = capture_next(&c, &cf)) == 1) {
		want[n] = pcap_filter_match(f, cf.data, cf.caplen, cf.len);
		to_slot(&slots[n++], &cf);
		if (n < REPLAY_SLOTS)
			continue;
		if (run_batch(m, slots, want, n, done, name, t))
			r = -1;
		done += n;
		n = 0;
	}
	if (!r && n && run_batch(m, slots, want, n, done, name, t))
		r = -1;
	capture_close(&c);
	return r;
}

static int one_expr(const char *expr, char **paths, int n_paths)
{
	static struct pcap_filter f;
	static struct pcap_ebpf e;
	struct tally t = { 0 };
	struct meter_opts o;
	struct replay_slot *slots;
	struct meter m;
	char err[4096];
	int bad = 0;

	if (pcap_filter_compile(&f, expr, PCAP_FILTER_ETHERNET, err, sizeof(err)) ||
	    pcap_ebpf_translate(&f, PARSE_WINDOW, &e, err, sizeof(err))) {
		printf("DIFF\t%s\t%s\n", expr, err);
		pcap_filter_free(&f);
		return 1;
	}
	meter_opts_default(&o);
	meter_opts_for_replay(&o, false);
	/* Only the verdicts count: no expiry, a cache that may evict. */
	o.idle_timeout_ms = o.active_timeout_ms = 0;
	o.natural_expiry = false;
	o.max_flows = 1 << 17;
	o.grow_on_demand = true;
	o.filter = &e;
	if (meter_load(&m, &o)) {
		printf("DIFF\t%s\tthe meter does not load with it\n", expr);
		bad = 1;
		goto out;
	}
	slots = meter_replay_slots(&m);
	for (int i = 0; slots && i < n_paths && !bad; i++)
		bad = one_capture(&m, slots, &f, paths[i], &t) ? 1 : 0;
	bad |= !slots;
	printf("%s\t%s\t%lu %lu %lu %lu %lu%s%s\n", bad || t.differ ? "DIFF" : "ok", expr,
	       t.captures, t.frames, t.by_pcap, t.by_meter, t.differ, t.differ ? " " : "",
	       t.first);
	meter_destroy(&m);
out:
	pcap_ebpf_free(&e);
	pcap_filter_free(&f);
	fflush(stdout);
	return bad || t.differ;
}

int main(int argc, char **argv)
{
	char line[4096];
	int bad = 0;
	FILE *in;

	if (argc < 3) {
		fprintf(stderr, "usage: filterdiff EXPRS_FILE PCAP...\n");
		return 1;
	}
	in = fopen(argv[1], "r");
	if (!in) {
		fprintf(stderr, "filterdiff: %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	log_set_level(LOG_WARN);
	log_route_libbpf();
	while (fgets(line, sizeof(line), in)) {
		line[strcspn(line, "\n")] = '\0';
		if (!line[0] || line[0] == '#')
			continue;
		bad |= one_expr(line, argv + 2, argc - 2);
	}
	fclose(in);
	return bad;
}
