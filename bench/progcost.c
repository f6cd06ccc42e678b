// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * progcost: nanoseconds per packet of the XDP meter, measured by
 * BPF_PROG_TEST_RUN, next to a bare XDP_PASS program in the same run.
 *
 *   progcost [--statistical] [--splt N] [--flows K] [--capture FILE]
 *            [--sample N] [--filter EXPR]
 *
 * Prints "name value" lines:
 *   bare_ns       XDP_PASS, one 64-byte frame, repeat mode
 *   live_ns       nfx_meter (the attached program), one flow, repeat mode
 *   mix_ns        the meter over FILE's frames, K other flows in the cache
 *   entry_bytes   one flow entry with these features
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

#include "capture.h"
#include "craft.h"
#include "flow.h"
#include "linktype.h"
#include "loader.h"
#include "log.h"
#include "meter.skel.h"

#define RUNS 7 /* best of: this machine is shared and noisy */

static unsigned run_best(int fd, void *data, size_t len, unsigned repeat)
{
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = data, .data_size_in = len, .repeat = repeat);
	unsigned best = ~0U;

	for (int i = 0; i < RUNS; i++) {
		if (bpf_prog_test_run_opts(fd, &o))
			return 0;
		if (o.duration < best)
			best = o.duration;
	}
	return best;
}

static int bare_prog(void)
{
	const struct bpf_insn pass[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = XDP_PASS },
		{ .code = BPF_JMP | BPF_EXIT },
	};

	return bpf_prog_load(BPF_PROG_TYPE_XDP, "bare", "GPL", pass, 2, NULL);
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

static void slot_frame(struct replay_slot *sl, const uint8_t *frame, size_t len, uint64_t ts)
{
	memset(&sl->f, 0, sizeof(sl->f));
	sl->f.ts_ns = ts;
	sl->f.wire_len = sl->f.frame_len = sl->f.caplen = len;
	sl->f.kept = len < PARSE_WINDOW ? len : PARSE_WINDOW;
	memcpy(sl->frame.b, frame, sl->f.kept);
}

static int run_slots(struct meter *m, uint32_t n, unsigned repeat, unsigned *ns)
{
	unsigned char pkt[64] = { 0 };

	m->skel->bss->replay_first = 0;
	m->skel->bss->replay_count = n;
	*ns = run_best(bpf_program__fd(m->skel->progs.nfx_replay), pkt, sizeof(pkt), repeat);
	return *ns ? 0 : -1;
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
		run_slots(m, n, 1, &ns);
		done += n;
	}
}

/* ns per frame over up to REPLAY_SLOTS frames of @path at a time. */
static double capture_mix(struct meter *m, struct replay_slot *slots, const char *path)
{
	struct capture cap;
	struct capture_frame cf;
	double total = 0;
	uint64_t frames = 0;
	uint32_t n = 0;
	unsigned ns;

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
			if (!run_slots(m, n, 10, &ns)) {
				total += (double)ns;
				frames += n;
			}
			n = 0;
		}
		if (!more)
			break;
	}
	capture_close(&cap);
	return frames ? total / frames : 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "statistical", no_argument, NULL, 's' }, { "splt", required_argument, NULL, 'p' },
		{ "flows", required_argument, NULL, 'k' }, { "capture", required_argument, NULL, 'c' },
		{ NULL, 0, NULL, 0 },
	};
	struct meter_opts o = { .idle_timeout_ms = 120000, .active_timeout_ms = 1800000,
				.natural_expiry = true, .decode_tunnels = true,
				.programs = LOAD_METER | LOAD_REPLAY, .ring_bytes = 8 << 20 };
	const char *capture = NULL;
	uint32_t flows = 0;
	uint8_t frame[PKT_MAX];
	struct replay_slot *slots;
	struct meter m;
	size_t len;
	int c, bare;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 's': o.statistical = true; break;
		case 'p': o.splt = atoi(optarg); break;
		case 'k': flows = atoi(optarg); break;
		case 'c': capture = optarg; break;
		default: return 2;
		}
	}
	log_set_level(LOG_WARN);
	log_route_libbpf();
	/* The live program's configuration: an LRU cache with room for the preload. */
	o.max_flows = flows * 2 > 65536 ? flows * 2 : 65536;
	if (meter_load(&m, &o))
		return 1;
	slots = mmap(NULL, REPLAY_SLOTS * sizeof(*slots), PROT_READ | PROT_WRITE, MAP_SHARED,
		     bpf_map__fd(m.skel->maps.replay_slots), 0);
	if (slots == MAP_FAILED)
		return 1;
	bare = bare_prog();
	len = udp_frame(frame, 4000000, 18); /* 60 bytes */
	printf("bare_ns %u\n", run_best(bare, frame, len, 1000000));
	printf("live_ns %u\n", run_best(bpf_program__fd(m.skel->progs.nfx_meter), frame, len, 1000000));
	preload(&m, slots, flows);
	if (capture)
		printf("mix_ns %.1f\n", capture_mix(&m, slots, capture));
	printf("entry_bytes %zu\n", meter_entry_size(o.statistical, o.splt));
	meter_destroy(&m);
	close(bare);
	return 0;
}
