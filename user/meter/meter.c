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
	/* Live, a burst of closes on packet arrival waits for the collector. */
	o->programs = LOAD_METER;
	o->ring_bytes = 8 << 20;
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
	static struct bpf_map *maps[4];

	maps[0] = skel->maps.flows;
	maps[1] = skel->maps.flow_events;
	maps[2] = skel->maps.counters;
	maps[3] = skel->maps.collector_state;
	*n = 4;
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
			"--max-flows, --statistical or --splt settings, or by another nfxdp "
			"version? end it with nfxdp --detach IFACE first)\n", o->pin_dir,
			strerror(-err));
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
	err = bpf_map__set_max_entries(skel->maps.flows, o->max_flows);
	if (!err)
		err = bpf_map__set_value_size(skel->maps.flows,
					      flow_entry_size(o->statistical, o->splt));
	if (!err && o->grow_on_demand) {
		err = bpf_map__set_type(skel->maps.flows, BPF_MAP_TYPE_HASH);
		if (!err)
			err = bpf_map__set_map_flags(skel->maps.flows, BPF_F_NO_PREALLOC);
	}
	if (!err && o->ring_bytes)
		err = bpf_map__set_max_entries(skel->maps.flow_events, o->ring_bytes);
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

/* Enters the network namespace named @ns; *old gets the fd to come back with. */
static int netns_enter(const char *ns, int *old)
{
	char path[256];
	int fd, err;

	snprintf(path, sizeof(path), "/var/run/netns/%s", ns);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		err = -errno;
		pr_warn("Couldn't open network namespace '%s' (%s): %s\n", ns, path, strerror(-err));
		return err;
	}
	*old = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (*old < 0 || setns(fd, CLONE_NEWNET)) {
		err = -errno;
		pr_warn("Couldn't enter network namespace '%s': %s\n", ns, strerror(-err));
		close(fd);
		if (*old >= 0)
			close(*old);
		return err;
	}
	close(fd);
	return 0;
}

static void netns_leave(int old)
{
	if (setns(old, CLONE_NEWNET))
		pr_warn("Couldn't return to the original network namespace: %s\n", strerror(errno));
	close(old);
}

static void explain_attach_error(const char *iface, int err, enum xdp_mode mode)
{
	const char *how = mode == XDP_MODE_NATIVE ? "native" : "generic";

	switch (-err) {
	case EOPNOTSUPP:
		pr_warn("Couldn't attach to %s in %s mode: the driver does not support XDP; "
			"use --xdp-mode generic\n", iface, how);
		break;
	case EBUSY:
	case EEXIST:
		pr_warn("Couldn't attach to %s: another XDP program is attached (nfxdp already "
			"running there? a --persist nfxdp ends with 'nfxdp --detach %s'; anything "
			"else with 'ip link set dev %s xdp off')\n", iface, iface, iface);
		break;
	case EPERM:
	case EACCES:
		pr_warn("Couldn't attach to %s: %s (run as root, or with CAP_NET_ADMIN and "
			"CAP_BPF)\n", iface, strerror(-err));
		break;
	case ERANGE:
	case EINVAL:
		pr_warn("Couldn't attach to %s in %s mode: %s (the MTU may be too large for XDP "
			"on this driver: lower it, or use --xdp-mode generic)\n", iface, how,
			strerror(-err));
		break;
	default:
		pr_warn("Couldn't attach to %s in %s mode: %s\n", iface, how, strerror(-err));
	}
}

/* Where the link to @iface (as given, maybe IFACE@NETNS) is pinned. */
static void link_pin_path(const struct meter *m, const char *iface, char *path, size_t len)
{
	size_t n = (size_t)snprintf(path, len, "%s/link_", m->pin_dir);

	pindir_name(iface, path + n, len - n);
}

/*
 * A link a --persist collector left: switch it to the program just loaded
 * (whose settings may differ), atomically, so not a packet goes unmetered.
 * Returns 1 when resumed, 0 when there is nothing (usable) to resume.
 */
static int resume_link(struct meter *m, struct attachment *a, const char *path)
{
	struct bpf_link_info info = {};
	__u32 len = sizeof(info);
	int fd = bpf_obj_get(path), err;

	if (fd < 0)
		return 0;
	if (bpf_obj_get_info_by_fd(fd, &info, &len) || info.type != BPF_LINK_TYPE_XDP ||
	    info.xdp.ifindex != (__u32)a->ifindex) {
		pr_warn("The link pinned at %s no longer holds %s (the interface went away?): "
			"attaching anew\n", path, a->name);
		close(fd);
		unlink(path);
		return 0;
	}
	if (bpf_link_update(fd, hwmeter_prog_fd(m, a), NULL)) {
		err = -errno;
		pr_warn("Couldn't switch the link pinned at %s to this nfxdp's program: %s\n", path,
			strerror(-err));
		close(fd);
		return err;
	}
	a->link_fd = fd;
	a->resumed = true;
	return 1;
}

static int pin_link(int fd, const char *path)
{
	int err;

	if (!bpf_obj_pin(fd, path))
		return 0;
	err = -errno;
	pr_warn("Couldn't pin the XDP link at %s: %s\n", path, strerror(-err));
	return err;
}

/* Lets go of an attachment: its link fd and its device-bound meter. */
static void attachment_close(struct attachment *a)
{
	close(a->link_fd);
	a->link_fd = -1;
	if (a->hw)
		hwmeter_destroy(a);
}

int meter_attach(struct meter *m, const char *iface, enum xdp_mode mode)
{
	char pin[4300] = "";
	int link_fd = -1;
	LIBBPF_OPTS(bpf_link_create_opts, opts);
	struct attachment *a;
	char name[IFNAMSIZ + 64], *at;
	int old_ns = -1, err;

	if (m->n_att == METER_MAX_IFACES)
		return -E2BIG;
	a = &m->att[m->n_att];
	snprintf(name, sizeof(name), "%s", iface);
	at = strchr(name, '@');
	if (at) {
		*at = '\0';
		err = netns_enter(at + 1, &old_ns);
		if (err)
			return err;
	}
	a->ifindex = if_nametoindex(name);
	if (!a->ifindex) {
		err = -errno;
		pr_warn("Couldn't find interface '%s'%s%s: %s\n", name, at ? " in namespace " : "",
			at ? at + 1 : "", strerror(-err));
		goto out;
	}
	snprintf(a->name, sizeof(a->name), "%s", iface);
	a->resumed = false;
	a->hw = NULL;
	a->phc_index = -1;
	a->meta_vlan = false;
	/* Device-bound programs attach in native mode only. */
	if (mode == XDP_MODE_NATIVE && !m->resume_only) {
		err = hwmeter_prepare(m, a);
		if (err)
			goto out;
	}
	if (m->pin_dir[0]) {
		link_pin_path(m, iface, pin, sizeof(pin));
		err = resume_link(m, a, pin);
		if (err < 0)
			goto out;
		if (!err && m->resume_only) {
			pr_info("nothing was attached to %s\n", iface);
			goto out;
		}
		if (err) {
			m->n_att++;
			pr_info("resumed on %s (ifindex %d): the pinned link now runs this program\n",
				iface, a->ifindex);
			err = 0;
			goto out;
		}
	}
	opts.flags = mode == XDP_MODE_NATIVE ? XDP_FLAGS_DRV_MODE : XDP_FLAGS_SKB_MODE;
	link_fd = bpf_link_create(hwmeter_prog_fd(m, a), a->ifindex, BPF_XDP,
				  &opts);
	if (link_fd < 0) {
		err = -errno;
		explain_attach_error(iface, err, mode);
		goto out;
	}
	a->link_fd = link_fd;
	m->n_att++;
	pr_info("attached to %s (ifindex %d, %s mode)\n", iface, a->ifindex,
		mode == XDP_MODE_NATIVE ? "native" : "generic");
	err = 0;
out:
	if (old_ns >= 0)
		netns_leave(old_ns);
	/* Not attached: its device-bound meter goes. */
	if (err && a->hw)
		hwmeter_destroy(a);
	/* From our own namespace: bpffs refuses pins made from another one. */
	if (!err && pin[0] && !a->resumed && link_fd >= 0) {
		err = pin_link(link_fd, pin);
		if (err) {
			m->n_att--;
			attachment_close(a);
		}
	}
	return err;
}

void meter_detach_all(struct meter *m)
{
	for (int i = 0; i < m->n_att; i++) {
		struct attachment *a = &m->att[i];

		if (bpf_link_detach(a->link_fd))
			pr_warn("Couldn't detach from %s: %s\n", a->name, strerror(errno));
		attachment_close(a);
		if (m->pin_dir[0]) {
			char pin[4300];

			link_pin_path(m, a->name, pin, sizeof(pin));
			if (unlink(pin) && errno != ENOENT)
				pr_warn("Couldn't remove %s: %s\n", pin, strerror(errno));
		}
	}
	m->n_att = 0;
}

int meter_check_links(struct meter *m)
{
	int kept = 0;

	for (int i = 0; i < m->n_att; i++) {
		struct attachment *a = &m->att[i];
		struct bpf_link_info info = {};
		__u32 len = sizeof(info);

		if (bpf_obj_get_info_by_fd(a->link_fd, &info, &len) || info.xdp.ifindex) {
			m->att[kept++] = *a;
			continue;
		}
		pr_warn("%s went away: no longer metered (its flows stay in the cache until they "
			"expire)\n", a->name);
		if (m->pin_dir[0]) {
			char pin[4300];

			link_pin_path(m, a->name, pin, sizeof(pin));
			unlink(pin);
		}
		attachment_close(a);
	}
	m->n_att = kept;
	return kept;
}

void meter_release_all(struct meter *m)
{
	for (int i = 0; i < m->n_att; i++)
		attachment_close(&m->att[i]);
	m->n_att = 0;
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
		if (strncmp(e->d_name, "link_", 5))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if (unlink(path))
			pr_warn("Couldn't remove %s: %s\n", path, strerror(errno));
	}
	closedir(d);
}

void meter_abandon(struct meter *m)
{
	int kept = 0;

	for (int i = 0; i < m->n_att; i++) {
		if (m->att[i].resumed)
			attachment_close(&m->att[i]);
		else
			m->att[kept++] = m->att[i];
	}
	m->n_att = kept;
	meter_detach_all(m);
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
	if (m->replay_slots)
		munmap(m->replay_slots, (size_t)REPLAY_SLOTS * sizeof(struct replay_slot));
	m->replay_slots = NULL;
	meter_detach_all(m);
	meter_bpf__destroy(m->skel);
	m->skel = NULL;
}
