// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * What the collector and capture replay do with a loaded meter besides
 * attaching it: run its programs with BPF_PROG_TEST_RUN (nfx_close over the
 * close queue, nfx_replay over the replay slots, nfx_meter on one frame),
 * read its counters, keep the collector's state in its pinned map.
 */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "common/log.h"
#include "meter/counters.h"
#include "meter/meter.h"
#include "meter.skel.h"

int meter_flows_fd(const struct meter *m)
{
	return bpf_map__fd(m->skel->maps.flows);
}

int meter_events_fd(const struct meter *m)
{
	return bpf_map__fd(m->skel->maps.flow_events);
}

uint32_t meter_capacity(const struct meter *m)
{
	return bpf_map__max_entries(m->skel->maps.flows);
}

int meter_counters(const struct meter *m, uint64_t out[NFX_COUNTER_MAX])
{
	return counters_read(bpf_map__fd(m->skel->maps.counters), out);
}

int meter_counters_hook(const struct meter *m, enum meter_hook hook,
			uint64_t out[NFX_COUNTER_MAX])
{
	return counters_read_hook(bpf_map__fd(m->skel->maps.counters), hook, out);
}

/* Runs @prog once on a dummy frame: the programs that read their input from maps. */
static int run_once(int prog_fd, const char *what)
{
	unsigned char pkt[64] = { 0 };
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = pkt, .data_size_in = sizeof(pkt),
		    .repeat = 1);
	int err = 0;

	if (bpf_prog_test_run_opts(prog_fd, &opts)) {
		err = -errno;
		pr_warn("Couldn't run %s: %s\n", what, strerror(-err));
	}
	return err;
}

struct close_req *meter_close_queue(struct meter *m)
{
	return m->skel->bss->close_queue;
}

int meter_run_close(struct meter *m, uint32_t n)
{
	m->skel->bss->close_queue_len = n;
	return run_once(bpf_program__fd(m->skel->progs.nfx_close), "the flow closer");
}

int meter_dpi_fd(const struct meter *m)
{
	return bpf_map__fd(m->skel->maps.dpi_events);
}

struct dpi_done_req *meter_dpi_done_queue(struct meter *m)
{
	return m->skel->bss->dpi_done_queue;
}

int meter_run_dpi_done(struct meter *m, uint32_t n)
{
	m->skel->bss->dpi_done_len = n;
	return run_once(bpf_program__fd(m->skel->progs.nfx_dpi_done), "the DPI marker");
}

struct replay_slot *meter_replay_slots(struct meter *m)
{
	size_t size = (size_t)REPLAY_SLOTS * sizeof(struct replay_slot);
	void *p;

	if (m->replay_slots)
		return m->replay_slots;
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED,
		 bpf_map__fd(m->skel->maps.replay_slots), 0);
	if (p == MAP_FAILED) {
		pr_warn("Couldn't map the replay slots: %s\n", strerror(errno));
		return NULL;
	}
	m->replay_slots = p;
	return p;
}

int meter_run_replay(struct meter *m, uint32_t first, uint32_t count)
{
	int err;

	m->skel->bss->replay_first = first;
	m->skel->bss->replay_count = count;
	err = run_once(bpf_program__fd(m->skel->progs.nfx_replay), "the meter on a batch of frames");
	if (err)
		return err;
	if (m->skel->bss->replay_done != count) {
		pr_warn("The meter stopped at frame %u of a batch of %u\n", m->skel->bss->replay_done,
			count);
		return -EINVAL;
	}
	return 0;
}

int meter_run_frame(struct meter *m, void *buf, uint32_t meta_len, uint32_t len)
{
	struct xdp_md ctx = { .data = meta_len, .data_end = len };
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = buf, .data_size_in = len, .ctx_in = &ctx,
		    .ctx_size_in = sizeof(ctx), .repeat = 1);
	int err;

	if (!bpf_prog_test_run_opts(bpf_program__fd(m->skel->progs.nfx_meter), &opts))
		return 0;
	err = -errno;
	pr_warn("Couldn't run the meter on a frame: %s\n", strerror(-err));
	return err;
}

uint64_t meter_replay_clock(const struct meter *m)
{
	return m->skel->bss->replay_clock;
}

int meter_state_load(const struct meter *m, struct collector_state *s)
{
	__u32 zero = 0;

	if (bpf_map_lookup_elem(bpf_map__fd(m->skel->maps.collector_state), &zero, s))
		return -errno;
	return s->magic == COLLECTOR_STATE_MAGIC ? 0 : -ENOENT;
}

int meter_state_save(const struct meter *m, const struct collector_state *s)
{
	__u32 zero = 0;

	if (bpf_map_update_elem(bpf_map__fd(m->skel->maps.collector_state), &zero, s, 0))
		return -errno;
	return 0;
}
