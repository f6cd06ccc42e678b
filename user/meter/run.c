// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * What the collector and capture replay do with a loaded meter besides
 * attaching it: run its programs with BPF_PROG_TEST_RUN (nfx_close over the
 * close queue, nfx_replay over the replay slots, nfx_meter on one frame),
 * read its counters, keep the collector's state in its pinned map. A meter
 * loaded in user space (meter/umeter.h) does the same in this process.
 */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "common/log.h"
#include "meter/counters.h"
#include "meter/event_ring.h"
#include "meter/meter.h"
#include "meter/umeter.h"
#include "meter.skel.h"

bool meter_loaded(const struct meter *m)
{
	return m->skel || m->user;
}

int meter_flows_batch(const struct meter *m, uint64_t *token, struct flow_key *keys, void *vals,
		      uint32_t *count)
{
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	__u64 next = *token;
	__u32 n = *count;
	int err;

	if (m->user)
		return umeter_flows_batch(token, keys, vals, count);
	/* The kernel's token is opaque: 0 stands for "from the start". */
	err = bpf_map_lookup_batch(bpf_map__fd(m->skel->maps.flows), *token ? token : NULL,
				   &next, keys, vals, &n, &opts);
	err = err ? -errno : 0;
	*count = err && err != -ENOENT ? 0 : n;
	/* A token the kernel left 0 is still not the start: mark it. */
	*token = next ? next : ~0ULL;
	return err;
}

int meter_events_open(const struct meter *m, struct event_ring *r, bool hold,
		      int (*fn)(void *ctx, void *data, size_t size), void *ctx)
{
	struct umeter_ring u;

	if (!m->user)
		return event_ring_open(r, bpf_map__fd(m->skel->maps.flow_events), hold, fn, ctx);
	umeter_ring(&u);
	return event_ring_open_mem(r, u.consumer_pos, u.producer_pos, u.data, u.size, hold, fn,
				   ctx);
}

uint32_t meter_capacity(const struct meter *m)
{
	if (m->user)
		return umeter_capacity();
	return m->opts.max_flows; /* the map holds more: room for the LRU's lists */
}

int meter_counters(const struct meter *m, uint64_t out[NFX_COUNTER_MAX])
{
	if (m->user) {
		memset(out, 0, sizeof(uint64_t) * NFX_COUNTER_MAX);
		for (__u32 hook = 0; hook < HOOK_COUNT; hook++)
			umeter_counters(hook, out);
		return 0;
	}
	return counters_read(bpf_map__fd(m->skel->maps.counters), out);
}

int meter_counters_hook(const struct meter *m, enum meter_hook hook,
			uint64_t out[NFX_COUNTER_MAX])
{
	if (m->user) {
		memset(out, 0, sizeof(uint64_t) * NFX_COUNTER_MAX);
		umeter_counters(hook, out);
		return 0;
	}
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
	if (m->user)
		return umeter_close_queue();
	return m->skel->bss->close_queue;
}

int meter_run_close(struct meter *m, uint32_t n)
{
	if (m->user) {
		umeter_run_close(n);
		return 0;
	}
	m->skel->bss->close_queue_len = n;
	return run_once(bpf_program__fd(m->skel->progs.nfx_close), "the flow closer");
}

int meter_dpi_open(const struct meter *m, struct event_ring *r,
		   int (*fn)(void *ctx, void *data, size_t size), void *ctx)
{
	struct umeter_ring u;

	if (!m->user)
		return event_ring_open(r, bpf_map__fd(m->skel->maps.dpi_events), false, fn, ctx);
	umeter_dpi_ring(&u);
	return event_ring_open_mem(r, u.consumer_pos, u.producer_pos, u.data, u.size, false, fn,
				   ctx);
}

struct dpi_done_req *meter_dpi_done_queue(struct meter *m)
{
	if (m->user)
		return umeter_dpi_done_queue();
	return m->skel->bss->dpi_done_queue;
}

int meter_run_dpi_done(struct meter *m, uint32_t n)
{
	if (m->user) {
		umeter_run_dpi_done(n);
		return 0;
	}
	m->skel->bss->dpi_done_len = n;
	return run_once(bpf_program__fd(m->skel->progs.nfx_dpi_done), "the DPI marker");
}

/*
 * Maps the report's first @n slots. The kernel maps the whole range at once
 * (all of it resident), so only what the pass filled is: the report is
 * kernel memory, and a mapping of all of it would count every slot again.
 */
static int map_report(struct meter *m, uint32_t n)
{
	size_t page = sysconf(_SC_PAGESIZE), len = (n ? n : 1) * sizeof(struct scan_slot);
	void *p;

	len = (len + page - 1) / page * page;

	if (m->scan_out && m->scan_len == len)
		return 0;
	if (m->scan_out)
		munmap(m->scan_out, m->scan_len);
	m->scan_out = NULL;
	p = mmap(NULL, len, PROT_READ, MAP_SHARED, bpf_map__fd(m->skel->maps.scan_out), 0);
	if (p == MAP_FAILED) {
		pr_warn("Couldn't map the scan report: %s\n", strerror(errno));
		return -errno;
	}
	m->scan_out = p;
	m->scan_len = len;
	return 0;
}

int meter_run_scan(struct meter *m, struct scan_ctl *ctl, const struct scan_slot **out)
{
	LIBBPF_OPTS(bpf_test_run_opts, opts);
	int err;

	if (m->user || !m->opts.wheel)
		return -EOPNOTSUPP;
	ctl->max = meter_map_entries(&m->opts);
	m->skel->bss->scan_ctl = *ctl;
	if (bpf_prog_test_run_opts(bpf_program__fd(m->skel->progs.nfx_scan), &opts)) {
		err = -errno;
		pr_warn("Couldn't run the cache scan: %s\n", strerror(-err));
		return err;
	}
	*ctl = m->skel->bss->scan_ctl;
	err = map_report(m, ctl->n);
	*out = m->scan_out;
	return err;
}

struct replay_slot *meter_replay_slots(struct meter *m)
{
	size_t size = (size_t)REPLAY_SLOTS * sizeof(struct replay_slot);
	void *p;

	if (m->replay_slots)
		return m->replay_slots;
	if (m->user)
		return m->replay_slots = umeter_replay_slots();
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED,
		 bpf_map__fd(m->skel->maps.replay_slots), 0);
	if (p == MAP_FAILED) {
		pr_warn("Couldn't map the replay slots: %s\n", strerror(errno));
		return NULL;
	}
	m->replay_slots = p;
	return p;
}

uint8_t *meter_replay_payload(struct meter *m)
{
	return m->user ? umeter_replay_payload() : NULL;
}

int meter_run_replay(struct meter *m, uint32_t first, uint32_t count)
{
	uint32_t done;
	int err;

	if (m->user) {
		done = umeter_run_replay(first, count);
		if (done == count)
			return 0;
		pr_warn("The meter stopped at frame %u of a batch of %u\n", done, count);
		return -EINVAL;
	}
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

	if (m->user) {
		pr_warn("Couldn't run the meter on a frame: --replay-mode frame runs the XDP "
			"program itself, which needs the kernel's meter (--meter kernel)\n");
		return -EOPNOTSUPP;
	}
	if (!bpf_prog_test_run_opts(bpf_program__fd(m->skel->progs.nfx_meter), &opts))
		return 0;
	err = -errno;
	pr_warn("Couldn't run the meter on a frame: %s\n", strerror(-err));
	return err;
}

uint64_t meter_replay_clock(const struct meter *m)
{
	if (m->user)
		return umeter_replay_clock();
	return m->skel->bss->replay_clock;
}

int meter_state_load(const struct meter *m, struct collector_state *s)
{
	__u32 zero = 0;

	if (m->user)
		return -ENOENT; /* nothing outlives a meter in user space */
	if (bpf_map_lookup_elem(bpf_map__fd(m->skel->maps.collector_state), &zero, s))
		return -errno;
	return s->magic == COLLECTOR_STATE_MAGIC ? 0 : -ENOENT;
}

int meter_state_save(const struct meter *m, const struct collector_state *s)
{
	__u32 zero = 0;

	if (m->user)
		return -EOPNOTSUPP;
	if (bpf_map_update_elem(bpf_map__fd(m->skel->maps.collector_state), &zero, s, 0))
		return -errno;
	return 0;
}
