// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * progcost: nanoseconds per packet of the XDP meter, measured by
 * BPF_PROG_TEST_RUN, next to a bare XDP_PASS program in the same run.
 *
 *   progcost [--statistical] [--splt N] [--dpi N] [--sample N] [--filter EXPR]
 *            [--dpi-costs] [--flows K] [--max-flows N] [--single-writer]
 *            [--stop-at STAGE] [--capture FILE]...
 *
 * Prints "name value" lines:
 *   bare_ns       XDP_PASS, one 60-byte frame, repeat mode
 *   live_ns       nfx_meter (the attached program), one flow, repeat mode
 *   egress_bare_ns, egress_ns   the same for the TC egress hook: a program
 *                 that only returns, then nfx_egress (another flow)
 *   mixI_ns       the meter over the frames of the I-th --capture (from 0),
 *                 K other flows in the cache: each frame metered once, as on
 *                 a link (flows are created, not only updated); the best of
 *                 MIX_PASSES (15) passes for a file of up to 1 M frames, else one pass
 *   mixI_frames   frames metered in it
 *   entry_bytes   one flow entry with these features
 * and with --filter (a pcap-filter expression), on the first of a few
 * 60-byte frames (TCP, UDP, ICMP, other addresses) that it keeps and the
 * first that it drops, one flow, repeat mode:
 *   keep_ns       nfx_meter with the filter, on the frame it keeps
 *   keep_bare_ns  nfx_meter without a filter, on that frame (same run)
 *   drop_ns       nfx_meter with the filter, on the frame it drops
 *
 * With --sample N, sampled-out frames cost what the sampling test costs: a
 * huge N (--sample 1000000000) measures a frame that is sampled out. With
 * --filter, a filter no frame passes ('vlan 4094') measures a frame that is
 * copied and filtered out (live_ns), before any parsing. With --dpi N,
 * live_ns is, but for the flow's first N of its 300 K runs, a packet past
 * the first N: what --dpi costs there is its one comparison (nothing reads
 * the DPI ring; its first N packets fit in it).
 *
 * For the breakdown of a mix (bench/sections/10-cost.sh): --single-writer
 * loads the meter as capture replay does, plain loads and stores where live
 * metering has atomics (what one writer per entry would cost); --stop-at
 * stops each frame after that stage (enum meter_stop, mincount's names; a
 * frame whose flow is not there yet is metered, which creates it). The mixes
 * go through the replay entry point, which has the last three stops only
 * (lookup, found, lines); entry and parse stop nfx_meter only (nfx_egress
 * has no such stops: its live figure is then the whole program's).
 */
#include <errno.h>
#include <getopt.h>
#include <linux/bpf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "capture/capture.h"
#include "gencap/craft.h"
#include "select/pcap_ebpf.h"
#include "select/pcap_filter.h"
#include "flow.h"
#include "capture/linktype.h"
#include "meter/event_ring.h"
#include "meter/meter.h"
#include "common/log.h"
#include "meter.skel.h"

#define RUNS 5	       /* best of: this machine is shared and noisy */
#define REPEAT 300000  /* runs of one frame per measurement */
#define MIX_PASSES 15  /* best of, for a small capture */
#define MIX_SMALL 1000000
#define MAX_CAPTURES 4

/*
 * --dpi: what reads the DPI ring here, counting its events. Emptied after
 * every run, outside the time a run measures.
 */
struct dpi_reader {
	struct event_ring ring;
	bool open;
	uint64_t events;
};

static int dpi_count_event(void *ctx, void *data, size_t size)
{
	(void)data;
	(void)size;
	((struct dpi_reader *)ctx)->events++;
	return 0;
}

static int dpi_reader_open(struct dpi_reader *r, const struct meter *m)
{
	r->events = 0;
	r->open = !meter_dpi_open(m, &r->ring, dpi_count_event, r);
	return r->open ? 0 : -1;
}

static void dpi_reader_drain(struct dpi_reader *r)
{
	if (r && r->open)
		event_ring_consume(&r->ring);
}

static void dpi_reader_close(struct dpi_reader *r)
{
	if (r->open)
		event_ring_close(&r->ring);
	r->open = false;
}

/* The main meter's reader, with --dpi. */
static struct dpi_reader dpi_main;

/* Best of RUNS runs of @repeat; @r, if any, is emptied after each. */
static unsigned run_best_drain(int fd, void *data, size_t len, unsigned repeat,
			       struct dpi_reader *r)
{
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = data, .data_size_in = len, .repeat = repeat);
	unsigned best = ~0U;

	for (int i = 0; i < RUNS; i++) {
		int err = bpf_prog_test_run_opts(fd, &o);

		dpi_reader_drain(r);
		if (err)
			return 0;
		if (o.duration < best)
			best = o.duration;
	}
	return best;
}

static unsigned run_best(int fd, void *data, size_t len, unsigned repeat)
{
	return run_best_drain(fd, data, len, repeat, NULL);
}

/* One run of @fd over the replay slots: its duration in *ns. */
static int run_once(int fd, unsigned *ns)
{
	unsigned char pkt[64] = { 0 };
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = pkt, .data_size_in = sizeof(pkt), .repeat = 1);

	int err = bpf_prog_test_run_opts(fd, &o);

	dpi_reader_drain(&dpi_main);
	if (err)
		return -1;
	*ns = o.duration;
	return 0;
}

/* A program that only returns @ret: XDP_PASS, or TC's "next" (-1). */
static int bare_prog(enum bpf_prog_type type, int ret)
{
	const struct bpf_insn pass[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = ret },
		{ .code = BPF_JMP | BPF_EXIT },
	};

	return bpf_prog_load(type, "bare", "GPL", pass, 2, NULL);
}

static size_t udp_frame(uint8_t *buf, uint32_t n, uint16_t payload)
{
	char src[32], dst[32];
	struct pkt_spec s = {
		.smac = { 2, 0, 0, 0, 0, 1 },
		.dmac = { 2, 0, 0, 0, 0, 2 },
		.ip_version = 4,
		.proto = 17,
		.sport = 1024 + n % 60000,
		.dport = 53,
		.payload = payload,
	};

	snprintf(src, sizeof(src), "198.18.%u.%u", (n / 60000) >> 8 & 0xff, (n / 60000) & 0xff);
	snprintf(dst, sizeof(dst), "198.19.%u.%u", (n >> 8) & 0xff, n & 0xff);
	s.src = src;
	s.dst = dst;
	return pkt_build(&s, buf, PKT_MAX);
}

/* --filter: frames of a few kinds, the first the filter keeps and the first it drops. */
#define KIND(s, d, p, sp, dp)                                                                  \
	{ .smac = { 2, 0, 0, 0, 0, 1 }, .dmac = { 2, 0, 0, 0, 0, 2 }, .ip_version = 4,          \
	  .src = s, .dst = d, .proto = p, .sport = sp, .dport = dp, .tcp_flags = 0x10,        \
	  .payload = p == 6 ? 6 : 18 }
static const struct pkt_spec kinds[] = {
	KIND("192.168.1.10", "172.16.5.9", 6, 40000, 443),
	KIND("10.0.0.1", "10.0.0.2", 17, 40000, 53),
	KIND("198.51.100.1", "203.0.113.9", 17, 1024, 9999),
	KIND("10.1.2.3", "192.168.1.10", 1, 0, 0),
	KIND("203.0.113.5", "198.51.100.7", 6, 22, 50000),
};

static size_t kind_frame(const struct pcap_filter *f, bool keep, uint8_t *buf)
{
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		size_t len = pkt_build(&kinds[i], buf, PKT_MAX);

		if (len && pcap_filter_match(f, buf, len, len) == keep)
			return len;
	}
	return 0;
}

/*
 * --filter on a frame it keeps and one it drops, and the kept one through
 * the meter loaded without the filter: measured in turns, three times, the
 * best of each kept, so that the two figures a difference is taken from see
 * the same load on the machine.
 */
static void filter_costs(struct meter *m, const struct meter_opts *o,
			 const struct pcap_filter *f)
{
	uint8_t keep[PKT_MAX], drop[PKT_MAX];
	size_t kl = kind_frame(f, true, keep), dl = kind_frame(f, false, drop);
	unsigned best[3] = { ~0U, ~0U, ~0U };
	struct meter_opts plain = *o;
	struct meter m0;
	int fd = bpf_program__fd(m->skel->progs.nfx_meter);

	plain.filter = NULL;
	if (meter_load(&m0, &plain))
		return;
	for (int i = 0; i < 3; i++) {
		unsigned ns[3] = {
			kl ? run_best(fd, keep, kl, REPEAT) : 0,
			kl ? run_best(bpf_program__fd(m0.skel->progs.nfx_meter), keep, kl, REPEAT) : 0,
			dl ? run_best(fd, drop, dl, REPEAT) : 0,
		};

		for (int j = 0; j < 3; j++)
			if (ns[j] && ns[j] < best[j])
				best[j] = ns[j];
	}
	if (kl)
		printf("keep_ns %u\nkeep_bare_ns %u\n", best[0], best[1]);
	if (dl)
		printf("drop_ns %u\n", best[2]);
	fflush(stdout);
	meter_destroy(&m0);
}

/*
 * --dpi-costs: each hook on a 60-byte and a 1514-byte frame: the bare
 * program, the meter without --dpi, @m (--dpi N) past the flow's first N,
 * and a meter whose N no run reaches (every packet copied into the ring).
 */
static void dpi_costs(struct meter *m, const struct meter_opts *o)
{
	static const uint16_t payload[2] = { 18, 1472 }; /* 60- and 1514-byte frames */
	static const char *const hook[2] = { "xdp", "tc" };
	struct meter_opts plain = *o, inside = *o;
	struct meter m0, mi;
	struct dpi_reader ri;
	unsigned best[2][2][4];
	uint64_t want = 0;
	int bare[2];

	plain.dpi = 0;
	inside.dpi = DPI_DONE - 1;
	if (meter_load(&m0, &plain))
		return;
	if (meter_load(&mi, &inside)) {
		meter_destroy(&m0);
		return;
	}
	if (dpi_reader_open(&ri, &mi)) {
		meter_destroy(&mi);
		meter_destroy(&m0);
		return;
	}
	bare[0] = bare_prog(BPF_PROG_TYPE_XDP, XDP_PASS);
	bare[1] = bare_prog(BPF_PROG_TYPE_SCHED_CLS, -1);
	memset(best, 0xff, sizeof(best));
	for (int turn = 0; turn < 3; turn++) {
		for (int h = 0; h < 2; h++) {
			for (int z = 0; z < 2; z++) {
				uint8_t frame[PKT_MAX];
				/* A flow of its own for each hook and size. */
				size_t len = udp_frame(frame, 4000010 + h * 2 + z, payload[z]);
				int fd[3] = {
					bpf_program__fd(h ? m0.skel->progs.nfx_egress
							  : m0.skel->progs.nfx_meter),
					bpf_program__fd(h ? m->skel->progs.nfx_egress
							  : m->skel->progs.nfx_meter),
					bpf_program__fd(h ? mi.skel->progs.nfx_egress
							  : mi.skel->progs.nfx_meter),
				};
				/* A run fits in the ring: 9/10 of it, whole events. */
				unsigned ev = (DPI_EVENT_HDR_LEN + (len - 14) + 7) / 8 * 8 + 8;
				unsigned in_repeat = inside.dpi_ring_bytes / 10 * 9 / ev;
				unsigned ns[4];

				if (in_repeat > REPEAT)
					in_repeat = REPEAT;
				/* The first N of @m's flow claimed before it is timed. */
				run_best_drain(fd[1], frame, len, o->dpi + 1, &dpi_main);
				ns[0] = run_best(bare[h], frame, len, REPEAT);
				ns[1] = run_best(fd[0], frame, len, REPEAT);
				ns[2] = run_best_drain(fd[1], frame, len, REPEAT, &dpi_main);
				ns[3] = run_best_drain(fd[2], frame, len, in_repeat, &ri);
				want += (uint64_t)RUNS * in_repeat;
				for (int k = 0; k < 4; k++)
					if (ns[k] && ns[k] < best[h][z][k])
						best[h][z][k] = ns[k];
			}
		}
	}
	for (int h = 0; h < 2; h++)
		for (int z = 0; z < 2; z++) {
			static const char *const what[4] = { "bare", "off", "past", "in" };
			unsigned size = z ? 1514 : 60;

			for (int k = 0; k < 4; k++)
				if (best[h][z][k] != ~0U)
					printf("dpi_%s_%u_%s_ns %u\n", hook[h], size, what[k],
					       best[h][z][k]);
		}
	printf("dpi_in_lost %llu\n",
	       (unsigned long long)(want > ri.events ? want - ri.events : 0));
	fflush(stdout);
	close(bare[0]);
	close(bare[1]);
	dpi_reader_close(&ri);
	meter_destroy(&mi);
	meter_destroy(&m0);
}

static void slot_frame(struct replay_slot *sl, const uint8_t *frame, size_t len, uint64_t ts)
{
	memset(&sl->f, 0, sizeof(sl->f));
	sl->f.ts_ns = ts;
	sl->f.wire_len = sl->f.frame_len = sl->f.caplen = len;
	sl->f.kept = len < PARSE_WINDOW ? len : PARSE_WINDOW;
	memcpy(sl->frame.b, frame, sl->f.kept);
}

static int run_slots(struct meter *m, uint32_t n, unsigned *ns)
{
	m->skel->bss->replay_first = 0;
	m->skel->bss->replay_count = n;
	return run_once(bpf_program__fd(m->skel->progs.nfx_replay), ns);
}

/* K flows in the cache before measuring, as a busy link would have them. */
static void preload(struct meter *m, struct replay_slot *slots, uint32_t k)
{
	uint8_t frame[PKT_MAX];
	unsigned ns;

	for (uint32_t done = 0; done < k;) {
		uint32_t n = k - done < REPLAY_SLOTS ? k - done : REPLAY_SLOTS;

		for (uint32_t i = 0; i < n; i++)
			slot_frame(&slots[i], frame, udp_frame(frame, done + i, 100), 1000000000ULL);
		run_slots(m, n, &ns);
		done += n;
	}
}

/*
 * One pass over @path, each frame metered once (repeat 1), REPLAY_SLOTS
 * frames per run: total ns in *ns, frames returned.
 */
static uint64_t capture_pass(struct meter *m, struct replay_slot *slots, const char *path,
			     double *ns)
{
	struct capture cap;
	struct capture_frame cf;
	uint64_t frames = 0;
	uint32_t n = 0;
	unsigned d;

	*ns = 0;
	if (capture_open(&cap, path))
		return 0;
	for (;;) {
		int more = capture_next(&cap, &cf) == 1;

		if (more) {
			struct replay_slot *sl = &slots[n++];
			size_t w = 0;
			long c = linktype_to_ethernet(cap.dlt, cf.data, cf.caplen, sl->frame.b,
						      PARSE_WINDOW, &w);

			memset(&sl->f, 0, sizeof(sl->f));
			sl->f.ts_ns = cf.ts_ns;
			sl->f.wire_len = cf.len;
			sl->f.caplen = c < 0 ? 0 : c;
			sl->f.frame_len = c < 0 ? 0 : c + (cf.len - cf.caplen);
			sl->f.kept = w;
		}
		if (n == REPLAY_SLOTS || (!more && n)) {
			m->skel->bss->replay_first = 0;
			m->skel->bss->replay_count = n;
			if (!run_once(bpf_program__fd(m->skel->progs.nfx_replay), &d)) {
				*ns += d;
				frames += n;
			}
			n = 0;
		}
		if (!more)
			break;
	}
	capture_close(&cap);
	return frames;
}

/* ns per frame over @path: the best of MIX_PASSES passes when it is small. */
static double capture_mix(struct meter *m, struct replay_slot *slots, const char *path,
			  uint64_t *frames)
{
	double best = 0, ns;

	for (int pass = 0; pass < MIX_PASSES; pass++) {
		uint64_t n = capture_pass(m, slots, path, &ns);

		if (!n)
			return 0;
		*frames = n;
		if (!best || ns / n < best)
			best = ns / n;
		if (n > MIX_SMALL)
			break;
	}
	return best;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "statistical", no_argument, NULL, 's' }, { "splt", required_argument, NULL, 'p' },
		{ "flows", required_argument, NULL, 'k' }, { "capture", required_argument, NULL, 'c' },
		{ "sample", required_argument, NULL, 'n' }, { "filter", required_argument, NULL, 'f' },
		{ "max-flows", required_argument, NULL, 'm' }, { "dpi", required_argument, NULL, 'd' },
		{ "dpi-costs", no_argument, NULL, 'D' },
		{ "single-writer", no_argument, NULL, 'w' }, { "stop-at", required_argument, NULL, 'S' },
		{ NULL, 0, NULL, 0 },
	};
	struct meter_opts o;
	static struct pcap_filter filter;
	static struct pcap_ebpf filter_ebpf;
	const char *captures[MAX_CAPTURES];
	int n_captures = 0;
	uint32_t flows = 0, max_flows = 0;
	uint8_t frame[PKT_MAX];
	struct replay_slot *slots;
	struct meter m;
	char err[4096];
	size_t len;
	bool want_dpi_costs = false;
	int c, bare;

	meter_opts_default(&o);
	o.programs = LOAD_METER | LOAD_REPLAY | LOAD_EGRESS;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 's': o.statistical = true; break;
		case 'p': o.splt = atoi(optarg); break;
		case 'k': flows = atoi(optarg); break;
		case 'm': max_flows = atoi(optarg); break;
		case 'n': o.sample_n = strtoul(optarg, NULL, 10); break;
		case 'd': o.dpi = atoi(optarg); break;
		case 'D': want_dpi_costs = true; break;
		case 'w': o.single_writer = true; break;
		case 'S':
			c = meter_stop_of(optarg);
			if (c < 0) {
				fprintf(stderr, "progcost: --stop-at: no stage '%s'\n", optarg);
				return 2;
			}
			o.stop_at = c;
			break;
		case 'c':
			if (n_captures == MAX_CAPTURES) {
				fprintf(stderr, "progcost: at most %d captures\n", MAX_CAPTURES);
				return 2;
			}
			captures[n_captures++] = optarg;
			break;
		case 'f':
			if (pcap_filter_compile(&filter, optarg, PCAP_FILTER_ETHERNET, err,
						sizeof(err)) ||
			    pcap_ebpf_translate(&filter, PARSE_WINDOW, &filter_ebpf, err, sizeof(err))) {
				fprintf(stderr, "progcost: %s\n", err);
				return 2;
			}
			o.filter = &filter_ebpf;
			break;
		default: return 2;
		}
	}
	log_set_level(LOG_WARN);
	log_route_libbpf();
	/*
	 * The live program's configuration: an LRU cache with room for the
	 * preload and, with --max-flows, for the flows the captures bring.
	 */
	o.max_flows = flows * 2 > 65536 ? flows * 2 : 65536;
	if (max_flows > o.max_flows)
		o.max_flows = max_flows;
	if (meter_load(&m, &o))
		return 1;
	slots = mmap(NULL, REPLAY_SLOTS * sizeof(*slots), PROT_READ | PROT_WRITE, MAP_SHARED,
		     bpf_map__fd(m.skel->maps.replay_slots), 0);
	if (slots == MAP_FAILED)
		return 1;
	if (o.dpi && dpi_reader_open(&dpi_main, &m)) {
		fprintf(stderr, "progcost: cannot read the DPI ring\n");
		return 1;
	}
	bare = bare_prog(BPF_PROG_TYPE_XDP, XDP_PASS);
	len = udp_frame(frame, 4000000, 18); /* 60 bytes */
	printf("bare_ns %u\n", run_best(bare, frame, len, REPEAT));
	printf("live_ns %u\n", run_best_drain(bpf_program__fd(m.skel->progs.nfx_meter), frame, len,
						 REPEAT, &dpi_main));
	close(bare);
	/* The egress hook the same way: its own flow (another frame), one hot entry. */
	bare = bare_prog(BPF_PROG_TYPE_SCHED_CLS, -1);
	len = udp_frame(frame, 4000001, 18);
	printf("egress_bare_ns %u\n", run_best(bare, frame, len, REPEAT));
	printf("egress_ns %u\n", run_best_drain(bpf_program__fd(m.skel->progs.nfx_egress), frame,
						 len, REPEAT, &dpi_main));
	fflush(stdout);
	if (o.filter)
		filter_costs(&m, &o, &filter);
	if (o.dpi && want_dpi_costs)
		dpi_costs(&m, &o);
	preload(&m, slots, flows);
	for (int i = 0; i < n_captures; i++) {
		uint64_t frames = 0;
		double ns = capture_mix(&m, slots, captures[i], &frames);

		printf("mix%d_ns %.1f\nmix%d_frames %llu\n", i, ns, i, (unsigned long long)frames);
		fflush(stdout);
	}
	printf("entry_bytes %zu\n", (size_t)flow_entry_size(o.statistical, o.splt));
	if (o.dpi)
		printf("dpi_events %llu\n", (unsigned long long)dpi_main.events);
	dpi_reader_close(&dpi_main);
	meter_destroy(&m);
	close(bare);
	return 0;
}
