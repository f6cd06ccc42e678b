// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <linux/if_link.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "flow.h"
#include "meter/filter_splice.h"
#include "meter/meter.h"
#include "meter/hwmeter.h"
#include "meter/rodata.h"
#include "meter/pindir.h"
#include "meter/umeter.h"
#include "common/log.h"
#include "meter.skel.h"

void meter_opts_default(struct meter_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->idle_timeout_ms = NFX_DEFAULT_IDLE_TIMEOUT_MS;
	o->active_timeout_ms = NFX_DEFAULT_ACTIVE_TIMEOUT_MS;
	o->natural_expiry = true;
	o->accounting = ACCOUNT_LINK;
	o->decode_tunnels = true;
	o->max_flows = NFX_DEFAULT_MAX_FLOWS;
	o->overflow_export = true;
	/* Live, a burst of closes on packet arrival waits for the collector. */
	o->programs = LOAD_METER;
	o->ring_bytes = 8 << 20;
	o->dpi_ring_bytes = NFX_DEFAULT_DPI_RING;
}

static const char *const stop_names[] = {
	[STOP_AFTER_ENTRY] = "entry",	 [STOP_BEFORE_PARSE] = "parse",
	[STOP_BEFORE_LOOKUP] = "lookup", [STOP_AFTER_LOOKUP] = "found",
	[STOP_AFTER_LINES] = "lines",
};

int meter_stop_of(const char *name)
{
	for (int i = STOP_NEVER + 1; i < (int)(sizeof(stop_names) / sizeof(*stop_names)); i++)
		if (!strcmp(name, stop_names[i]))
			return i;
	return -1;
}

void meter_opts_for_replay(struct meter_opts *o, bool frame_by_frame)
{
	o->programs = frame_by_frame ? LOAD_METER : LOAD_REPLAY;
	/* Replay drains the ring after every batch: one batch of closes fits. */
	o->ring_bytes = 1 << 20;
	o->single_writer = true;
}

int meter_probe_kernel(void)
{
	static const struct {
		enum bpf_func_id id;
		const char *what;
	} helpers[] = {
		{ BPF_FUNC_xdp_load_bytes, "bpf_xdp_load_bytes (Linux 5.18)" },
		{ BPF_FUNC_loop, "bpf_loop (Linux 5.17)" },
		{ BPF_FUNC_ringbuf_reserve, "BPF ring buffers (Linux 5.8)" },
		{ BPF_FUNC_ktime_get_boot_ns, "bpf_ktime_get_boot_ns (Linux 5.8)" },
	};
	/* A two-instruction XDP program: XDP_PASS. */
	const struct bpf_insn pass[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = XDP_PASS },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	int err = 0, r, fd;

	fd = bpf_prog_load(BPF_PROG_TYPE_XDP, NULL, "GPL", pass, 2, NULL);
	r = fd >= 0 ? 1 : -errno;
	if (fd >= 0)
		close(fd);
	if (r == -EPERM || r == -EACCES) {
		pr_warn("Couldn't load BPF programs: %s (run as root, or with CAP_BPF, "
			"CAP_NET_ADMIN and CAP_PERFMON)\n", strerror(-r));
		return r;
	}
	if (r != 1) {
		pr_warn("Couldn't load an XDP program: this kernel lacks XDP (%s)\n",
			r < 0 ? strerror(-r) : "not supported");
		return -EOPNOTSUPP;
	}
	if (libbpf_probe_bpf_map_type(BPF_MAP_TYPE_LRU_HASH, NULL) != 1) {
		pr_warn("This kernel lacks LRU hash maps, which hold the flow cache\n");
		err = -EOPNOTSUPP;
	}
	for (size_t i = 0; i < sizeof(helpers) / sizeof(helpers[0]); i++) {
		if (libbpf_probe_bpf_helper(BPF_PROG_TYPE_XDP, helpers[i].id, NULL) != 1) {
			pr_warn("This kernel lacks %s, which the meter needs\n", helpers[i].what);
			err = -EOPNOTSUPP;
		}
	}
	return err;
}

int meter_bpf_permitted(void)
{
	const struct bpf_insn pass[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = XDP_PASS },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	int fd = bpf_prog_load(BPF_PROG_TYPE_XDP, NULL, "GPL", pass, 2, NULL);

	if (fd < 0)
		return -errno;
	close(fd);
	return 0;
}

/*
 * Entries of the flows map: --max-flows. With --overflow-export the
 * programs admit no more (flow_admit()) and the map is a plain hash, which
 * never evicts; without it, the kernel's LRU evicts at that size.
 *
 * The kernel gives a hash the power of two of buckets at or above its
 * entries: one entry more than a power-of-two --max-flows (the default)
 * doubles them, so a full cache has chains of half an entry on average,
 * not one. Each entry a lookup walks past is another cache miss: at 1 M
 * flows in a map of 2 M, the plain hash's lookup cost 40 to 100 ns more
 * with 2 M buckets than the LRU hash with its 4 M (15-nicpath's profile).
 * The price: 16 bytes a bucket (16 MB at the default 1 M flows), and a
 * bucket array that few flows spread over more pages. Measured again on the
 * NIC-like path (15-nicpath.sh, rounds interleaved, 2026-12-04): 1 M flows
 * in a cache of 2 M cost 485-499 ns a frame with 4 M buckets against
 * 504-529 with 2 M (--max-flows 2097151), 4 rounds each; 10 K flows in a
 * cache of 1 M added 158 ns with 2 M buckets against 144 with 1 M. Only a
 * cache sized to the flows in use would have both.
 */
uint32_t meter_map_entries(const struct meter_opts *o)
{
	uint64_t n = o->max_flows;

	if (o->overflow_export && !o->grow_on_demand && !o->user)
		n++;
	return n > UINT32_MAX ? UINT32_MAX : n;
}

/*
 * The flows map's type: an LRU hash only when it is to evict (--overflow-
 * export off). A plain preallocated hash (--overflow-export on) needs no
 * room past --max-flows for the LRU's per-CPU free lists, which made the
 * map, and with a power of two its buckets, twice as large; and a lookup
 * skips the LRU's reference bit, an insert and a delete its lists. A
 * replay that may grow the cache on demand allocates entries as it goes.
 */
static int set_flows_type(struct bpf_map *flows, const struct meter_opts *o)
{
	int err;

	if (o->grow_on_demand) {
		err = bpf_map__set_type(flows, BPF_MAP_TYPE_HASH);
		return err ? err : bpf_map__set_map_flags(flows, BPF_F_NO_PREALLOC);
	}
	if (o->overflow_export)
		return bpf_map__set_type(flows, BPF_MAP_TYPE_HASH);
	return 0;
}

/* The same program compiled for this process (meter/umeter.h): capture replay only. */
static int meter_load_user(struct meter *m, const struct meter_opts *o)
{
	int err;

	if (o->pin_dir || (o->programs & (LOAD_METER | LOAD_EGRESS))) {
		pr_warn("Couldn't load the meter in user space: it meters capture files, in "
			"batches (no --persist, no --replay-mode frame, no interfaces)\n");
		return -EOPNOTSUPP;
	}
	err = umeter_load(o);
	if (err) {
		pr_warn("Couldn't set up the meter in user space: %s (--max-flows too large "
			"for the memory available?)\n", strerror(-err));
		return err;
	}
	m->user = true;
	m->opts = *o;
	m->entry_size = flow_entry_size(o->statistical, o->splt);
	return 0;
}

static const char *load_hint(int err)
{
	switch (-err) {
	case EPERM:
	case EACCES:
		return " (run as root, or with CAP_BPF, CAP_NET_ADMIN and CAP_PERFMON)";
	case ENOMEM:
		return " (--max-flows too large for the memory available?)";
	default:
		return " (run with -v -v for the verifier's log)";
	}
}

/* The maps a restarted collector needs; the others are rebuilt from options. */
static struct bpf_map **pinned_maps(struct meter_bpf *skel, int *n)
{
	static struct bpf_map *maps[5];

	maps[0] = skel->maps.flows;
	maps[1] = skel->maps.flow_events;
	maps[2] = skel->maps.counters;
	maps[3] = skel->maps.collector_state;
	maps[4] = skel->maps.flows_live;
	*n = 5;
	return maps;
}

/* Pins the maps under @dir at load, or reuses the ones pinned there. */
static int set_pin_paths(struct meter_bpf *skel, const char *dir, bool *found)
{
	struct bpf_map **maps;
	char path[4200];
	int n, err;

	maps = pinned_maps(skel, &n);
	for (int i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, bpf_map__name(maps[i]));
		if (!access(path, F_OK))
			*found = true;
		err = bpf_map__set_pin_path(maps[i], path);
		if (err)
			return err;
	}
	return 0;
}

static void explain_load_error(const struct meter_opts *o, bool found, int err)
{
	/* The probes say what is missing; otherwise report what failed. */
	if (meter_probe_kernel())
		return;
	if (found)
		pr_warn("Couldn't reuse the flow cache pinned in %s: %s (was it made with other "
			"--max-flows, --overflow-export, --statistical or --splt settings, or by another nfxdp "
			"version? end it first with nfxdp --detach IFACE and the settings it was started "
			"with, by the nfxdp that started it)\n", o->pin_dir, strerror(-err));
	else
		pr_warn("Couldn't load the meter into the kernel: %s%s\n", strerror(-err),
			load_hint(err));
}

int meter_load(struct meter *m, const struct meter_opts *o)
{
	bool found = false;
	struct meter_bpf *skel;
	int err;

	memset(m, 0, sizeof(*m));
	if (o->user)
		return meter_load_user(m, o);
	err = filter_splice_init();
	if (err)
		return err;
	skel = meter_bpf__open();
	if (!skel) {
		err = -errno;
		pr_warn("Couldn't open the meter object: %s\n", strerror(-err));
		return err;
	}
	METER_SET_RODATA(skel->rodata, o);
	bpf_program__set_autoload(skel->progs.nfx_meter, o->programs & LOAD_METER);
	bpf_program__set_autoload(skel->progs.nfx_replay, o->programs & LOAD_REPLAY);
	bpf_program__set_autoload(skel->progs.nfx_egress, o->programs & LOAD_EGRESS);
	bpf_program__set_autoload(skel->progs.nfx_scan, o->wheel);
	err = bpf_map__set_max_entries(skel->maps.flows, meter_map_entries(o));
	if (!err)
		err = bpf_map__set_value_size(skel->maps.flows,
					      flow_entry_size(o->statistical, o->splt));
	if (!err)
		err = set_flows_type(skel->maps.flows, o);
	if (!err && o->wheel)
		err = bpf_map__set_max_entries(skel->maps.scan_out, meter_map_entries(o));
	if (!err && o->ring_bytes)
		err = bpf_map__set_max_entries(skel->maps.flow_events, o->ring_bytes);
	/* Without --dpi its ring stays one page, its buffers one. */
	if (!err)
		err = bpf_map__set_max_entries(skel->maps.dpi_events,
					       o->dpi ? o->dpi_ring_bytes : 4096);
	if (!err)
		err = bpf_map__set_max_entries(skel->maps.dpi_scratch,
					       o->dpi ? libbpf_num_possible_cpus() * HOOK_COUNT : 1);
	if (err) {
		pr_warn("Couldn't size the flow cache to %u entries: %s\n", o->max_flows,
			strerror(-err));
		goto fail;
	}
	if (o->pin_dir && set_pin_paths(skel, o->pin_dir, &found)) {
		err = -ENAMETOOLONG;
		pr_warn("Couldn't pin maps in %s: path too long\n", o->pin_dir);
		goto fail;
	}
	filter_splice_set(o->filter, bpf_object__btf(skel->obj));
	err = meter_bpf__load(skel);
	if (filter_splice_set(NULL, NULL) == 0 && o->filter && !err) {
		pr_warn("Couldn't put --filter into the meter: its programs have no %s()\n",
			FILTER_SPLICE_FUNC);
		err = -ENOENT;
		goto fail;
	}
	if (err) {
		explain_load_error(o, found, err);
		goto fail;
	}
	m->skel = skel;
	m->opts = *o;
	m->resumed = found;
	if (o->pin_dir)
		snprintf(m->pin_dir, sizeof(m->pin_dir), "%s", o->pin_dir);
	m->entry_size = flow_entry_size(o->statistical, o->splt);
	return 0;
fail:
	meter_bpf__destroy(skel);
	m->skel = NULL;
	return err;
}

/* Links of interfaces that went away: defunct, only their pins are left. */
static void remove_stale_links(const char *dir)
{
	char path[4400];
	struct dirent *e;
	DIR *d = opendir(dir);

	if (!d)
		return;
	while ((e = readdir(d))) {
		if (strncmp(e->d_name, "link_", 5) && strncmp(e->d_name, "egress_", 7))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if (unlink(path))
			pr_warn("Couldn't remove %s: %s\n", path, strerror(errno));
	}
	closedir(d);
}

void meter_unpin(struct meter *m)
{
	struct bpf_map **maps;
	int n;

	if (!m->pin_dir[0] || !m->skel)
		return;
	maps = pinned_maps(m->skel, &n);
	for (int i = 0; i < n; i++)
		if (bpf_map__unpin(maps[i], NULL))
			pr_warn("Couldn't unpin map %s: %s\n", bpf_map__name(maps[i]),
				strerror(errno));
	remove_stale_links(m->pin_dir);
	if (rmdir(m->pin_dir) && errno != ENOENT)
		pr_warn("Couldn't remove %s: %s (something else is pinned there)\n", m->pin_dir,
			strerror(errno));
	m->pin_dir[0] = '\0';
}

void meter_destroy(struct meter *m)
{
	if (m->user) {
		umeter_destroy();
		m->user = false;
		m->replay_slots = NULL;
		return;
	}
	if (m->replay_slots)
		munmap(m->replay_slots, (size_t)REPLAY_SLOTS * sizeof(struct replay_slot));
	m->replay_slots = NULL;
	if (m->scan_out)
		munmap(m->scan_out, m->scan_len);
	m->scan_out = NULL;
	meter_detach_all(m);
	meter_bpf__destroy(m->skel);
	m->skel = NULL;
}
