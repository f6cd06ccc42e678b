// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Attaching the meter to interfaces: XDP for what arrives, TC egress for
 * what the host sends (a tcx link where the kernel has them, a clsact
 * filter otherwise), in the interface's network namespace, pinned with
 * --persist and taken over again by the next collector.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/if_link.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "common/log.h"
#include "meter/hwmeter.h"
#include "meter/meter.h"
#include "meter/pindir.h"
#include "meter.skel.h"

/* Linux 6.6's tcx, which Debian's libbpf 1.1 and uapi headers predate. */
#define NFX_BPF_TCX_EGRESS 47
#define NFX_BPF_LINK_TYPE_TCX 11
/* The clsact filter's identity, so the next nfxdp replaces or removes it. */
#define CLSACT_HANDLE 0x6e66
#define CLSACT_PRIORITY 0x6e66

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

void meter_leave_ns(int old)
{
	if (old < 0)
		return;
	if (setns(old, CLONE_NEWNET))
		pr_warn("Couldn't return to the original network namespace: %s\n", strerror(errno));
	close(old);
}

int meter_enter_iface_ns(const char *iface, char *ifname, size_t len, int *old)
{
	char *at;

	snprintf(ifname, len, "%s", iface);
	*old = -1;
	at = strchr(ifname, '@');
	if (!at)
		return 0;
	*at = '\0';
	return netns_enter(at + 1, old);
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

/* Where the link of hook @prefix ("link_": XDP, "egress_") to @iface is pinned. */
static void link_pin_path(const struct meter *m, const char *prefix, const char *iface,
			  char *path, size_t len)
{
	size_t n = (size_t)snprintf(path, len, "%s/%s", m->pin_dir, prefix);

	pindir_name(iface, path + n, len - n);
}

static const char *hook_prefix(bool egress)
{
	return egress ? "egress_" : "link_";
}

/*
 * A link a --persist collector left: switch it to the program just loaded
 * (whose settings may differ), atomically, so not a packet goes unmetered.
 * Returns 1 when resumed, 0 when there is nothing (usable) to resume.
 */
static int resume_link(struct attachment *a, struct hook_link *h, const char *path,
		       __u32 type, int prog_fd)
{
	struct bpf_link_info info = {};
	__u32 len = sizeof(info);
	int fd = bpf_obj_get(path), err;

	if (fd < 0)
		return 0;
	/* xdp.ifindex and tcx.ifindex are at the same place of the union. */
	if (bpf_obj_get_info_by_fd(fd, &info, &len) || info.type != type ||
	    info.xdp.ifindex != (__u32)a->ifindex) {
		pr_warn("The link pinned at %s no longer holds %s (the interface went away?): "
			"attaching anew\n", path, a->name);
		close(fd);
		unlink(path);
		return 0;
	}
	if (bpf_link_update(fd, prog_fd, NULL)) {
		err = -errno;
		pr_warn("Couldn't switch the link pinned at %s to this nfxdp's program: %s\n", path,
			strerror(-err));
		close(fd);
		return err;
	}
	h->fd = fd;
	h->resumed = true;
	return 1;
}

static int pin_link(int fd, const char *path)
{
	int err;

	if (!bpf_obj_pin(fd, path))
		return 0;
	err = -errno;
	pr_warn("Couldn't pin the link at %s: %s\n", path, strerror(-err));
	return err;
}

/* The XDP side of @a: a pinned link taken over, or a new one. 0 or -errno. */
static int attach_xdp(struct meter *m, struct attachment *a, enum xdp_mode mode)
{
	LIBBPF_OPTS(bpf_link_create_opts, opts);
	int err;

	/* Device-bound programs attach in native mode only. */
	if (mode == XDP_MODE_NATIVE && !m->resume_only) {
		err = hwmeter_prepare(m, a);
		if (err)
			return err;
	}
	if (m->pin_dir[0]) {
		char pin[4300];

		link_pin_path(m, hook_prefix(false), a->name, pin, sizeof(pin));
		err = resume_link(a, &a->xdp, pin, BPF_LINK_TYPE_XDP, hwmeter_prog_fd(m, a));
		if (err)
			return err < 0 ? err : 0;
	}
	if (m->resume_only)
		return 0;
	opts.flags = mode == XDP_MODE_NATIVE ? XDP_FLAGS_DRV_MODE : XDP_FLAGS_SKB_MODE;
	a->xdp.fd = bpf_link_create(hwmeter_prog_fd(m, a), a->ifindex, BPF_XDP, &opts);
	if (a->xdp.fd < 0) {
		err = -errno;
		explain_attach_error(a->name, err, mode);
		return err;
	}
	return 0;
}

static bool clsact_forced(void)
{
	const char *v = getenv("NFXDP_EGRESS_CLSACT");

	return v && *v && strcmp(v, "0");
}

/* Kernels before 6.6: a filter of a clsact qdisc (made if missing) on egress. */
static int attach_clsact(struct meter *m, struct attachment *a, int prog_fd)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = a->ifindex, .attach_point = BPF_TC_EGRESS);
	LIBBPF_OPTS(bpf_tc_opts, tc, .handle = CLSACT_HANDLE, .priority = CLSACT_PRIORITY,
		    .prog_fd = prog_fd, .flags = BPF_TC_F_REPLACE);
	int err = bpf_tc_hook_create(&hook);

	if (err && err != -EEXIST) {
		pr_warn("Couldn't add a clsact qdisc to %s: %s\n", a->name, strerror(-err));
		return err;
	}
	err = bpf_tc_attach(&hook, &tc);
	if (err) {
		pr_warn("Couldn't attach to %s's egress: %s\n", a->name, strerror(-err));
		return err;
	}
	a->egress.clsact = true;
	return 0;
}

/* --detach: a clsact filter a --persist nfxdp left (no link to pin there) is ours. */
static int clsact_find(struct attachment *a)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = a->ifindex, .attach_point = BPF_TC_EGRESS);
	LIBBPF_OPTS(bpf_tc_opts, tc, .handle = CLSACT_HANDLE, .priority = CLSACT_PRIORITY);

	a->egress.clsact = !bpf_tc_query(&hook, &tc);
	return 0;
}

/* Removes @a's clsact filter (in @a's namespace, which the caller entered). */
static void detach_clsact(struct attachment *a)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = a->ifindex, .attach_point = BPF_TC_EGRESS);
	LIBBPF_OPTS(bpf_tc_opts, tc, .handle = CLSACT_HANDLE, .priority = CLSACT_PRIORITY);
	int err = bpf_tc_detach(&hook, &tc);

	if (err && err != -ENOENT)
		pr_warn("Couldn't detach from %s's egress: %s\n", a->name, strerror(-err));
	a->egress.clsact = false;
}

/*
 * The egress side of @a: a pinned tcx link taken over, a new tcx link, or,
 * where the kernel has no tcx, a clsact filter (which stays with the
 * qdisc, pinned or not, until detached). 0 or -errno.
 */
static int attach_egress(struct meter *m, struct attachment *a)
{
	int prog_fd = bpf_program__fd(m->skel->progs.nfx_egress), err;

	if (m->pin_dir[0]) {
		char pin[4300];

		link_pin_path(m, hook_prefix(true), a->name, pin, sizeof(pin));
		err = resume_link(a, &a->egress, pin, NFX_BPF_LINK_TYPE_TCX, prog_fd);
		if (err)
			return err < 0 ? err : 0;
	}
	if (m->resume_only)
		return clsact_find(a);
	if (!clsact_forced()) {
		a->egress.fd = bpf_link_create(prog_fd, a->ifindex, NFX_BPF_TCX_EGRESS, NULL);
		if (a->egress.fd >= 0)
			return 0;
		err = -errno;
		if (err != -EINVAL && err != -EOPNOTSUPP) {
			pr_warn("Couldn't attach to %s's egress: %s\n", a->name, strerror(-err));
			return err;
		}
		pr_info("no tcx in this kernel: a clsact filter meters %s's egress\n", a->name);
	}
	return attach_clsact(m, a, prog_fd);
}

/* Lets go of one hook's link (detached only if not pinned). */
static void hook_close(struct hook_link *h)
{
	if (h->fd >= 0)
		close(h->fd);
	h->fd = -1;
}

/* Lets go of an attachment: its links and its device-bound meter. */
static void attachment_close(struct attachment *a)
{
	hook_close(&a->xdp);
	hook_close(&a->egress);
	if (a->hw)
		hwmeter_destroy(a);
}

/* Pins @a's new links, from our own namespace: bpffs refuses pins made in another one. */
static int pin_links(struct meter *m, struct attachment *a)
{
	struct hook_link *hooks[] = { &a->xdp, &a->egress };
	char pin[4300];

	for (int i = 0; m->pin_dir[0] && i < 2; i++) {
		int err;

		if (hooks[i]->fd < 0 || hooks[i]->resumed)
			continue;
		link_pin_path(m, hook_prefix(i), a->name, pin, sizeof(pin));
		err = pin_link(hooks[i]->fd, pin);
		if (err)
			return err;
	}
	return 0;
}

static void say_attached(const struct attachment *a, enum xdp_mode mode)
{
	const char *egress = a->egress.resumed ? "egress resumed" :
			     a->egress.clsact	   ? "egress: clsact filter" :
			     a->egress.fd >= 0	   ? "egress: tcx" : "";
	const char *xdp = a->xdp.resumed     ? "XDP resumed" :
			  a->xdp.fd < 0	     ? "" :
			  mode == XDP_MODE_NATIVE ? "XDP native mode" : "XDP generic mode";

	if (a->xdp.resumed || a->egress.resumed)
		pr_info("resumed on %s (ifindex %d): the pinned links now run this program\n",
			a->name, a->ifindex);
	pr_info("attached to %s (ifindex %d, %s%s%s)\n", a->name, a->ifindex, xdp,
		xdp[0] && egress[0] ? ", " : "", egress);
}

/* Both hooks as @dirs asks, in @a's namespace (entered). 0 or -errno. */
static int attach_hooks(struct meter *m, struct attachment *a, enum xdp_mode mode,
			unsigned int dirs)
{
	int err = 0;

	if (dirs & METER_DIR_INGRESS)
		err = attach_xdp(m, a, mode);
	if (!err && (dirs & METER_DIR_EGRESS))
		err = attach_egress(m, a);
	if (err && a->egress.clsact)
		detach_clsact(a);
	return err;
}

int meter_attach(struct meter *m, const char *iface, enum xdp_mode mode, unsigned int dirs)
{
	struct attachment *a;
	char name[IFNAMSIZ + 64];
	int old_ns, err;

	if (m->n_att == METER_MAX_IFACES)
		return -E2BIG;
	a = &m->att[m->n_att];
	memset(a, 0, sizeof(*a));
	a->xdp.fd = a->egress.fd = -1;
	a->phc_index = -1;
	a->dirs = dirs;
	snprintf(a->name, sizeof(a->name), "%s", iface);
	err = meter_enter_iface_ns(iface, name, sizeof(name), &old_ns);
	if (err)
		return err;
	a->ifindex = if_nametoindex(name);
	if (!a->ifindex) {
		err = -errno;
		pr_warn("Couldn't find interface '%s'%s%s: %s\n", name,
			strchr(iface, '@') ? " in namespace " : "",
			strchr(iface, '@') ? strchr(iface, '@') + 1 : "", strerror(-err));
	}
	if (!err)
		err = attach_hooks(m, a, mode, dirs);
	meter_leave_ns(old_ns);
	if (!err && m->resume_only && a->xdp.fd < 0 && a->egress.fd < 0 && !a->egress.clsact) {
		pr_info("nothing was attached to %s\n", iface);
		err = -ENOENT;
	}
	if (!err)
		err = pin_links(m, a);
	if (err) {
		attachment_close(a);
		return m->resume_only && err == -ENOENT ? 0 : err;
	}
	m->n_att++;
	say_attached(a, mode);
	return 0;
}

/* Detaches @a's hooks, in its namespace for a clsact filter, and removes its pins. */
static void detach_one(struct meter *m, struct attachment *a)
{
	struct hook_link *hooks[] = { &a->xdp, &a->egress };
	char name[IFNAMSIZ + 64], pin[4300];
	int old_ns;

	for (int i = 0; i < 2; i++) {
		if (hooks[i]->fd >= 0 && bpf_link_detach(hooks[i]->fd))
			pr_warn("Couldn't detach from %s: %s\n", a->name, strerror(errno));
		if (m->pin_dir[0]) {
			link_pin_path(m, hook_prefix(i), a->name, pin, sizeof(pin));
			if (unlink(pin) && errno != ENOENT)
				pr_warn("Couldn't remove %s: %s\n", pin, strerror(errno));
		}
	}
	if (a->egress.clsact && !meter_enter_iface_ns(a->name, name, sizeof(name), &old_ns)) {
		detach_clsact(a);
		meter_leave_ns(old_ns);
	}
	attachment_close(a);
}

void meter_detach_all(struct meter *m)
{
	for (int i = 0; i < m->n_att; i++)
		detach_one(m, &m->att[i]);
	m->n_att = 0;
}

/* A link whose interface went away is defunct: its ifindex reads 0. */
static bool link_defunct(int fd)
{
	struct bpf_link_info info = {};
	__u32 len = sizeof(info);

	return fd >= 0 && !bpf_obj_get_info_by_fd(fd, &info, &len) && !info.xdp.ifindex;
}

int meter_check_links(struct meter *m)
{
	int kept = 0;

	for (int i = 0; i < m->n_att; i++) {
		struct attachment *a = &m->att[i];

		if (!link_defunct(a->xdp.fd) && !link_defunct(a->egress.fd)) {
			m->att[kept++] = *a;
			continue;
		}
		pr_warn("%s went away: no longer metered (its flows stay in the cache until they "
			"expire)\n", a->name);
		a->egress.clsact = false; /* gone with the interface */
		detach_one(m, a);
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

void meter_abandon(struct meter *m)
{
	int kept = 0;

	for (int i = 0; i < m->n_att; i++) {
		struct attachment *a = &m->att[i];

		if (a->xdp.resumed || a->egress.resumed)
			attachment_close(a);
		else
			m->att[kept++] = *a;
	}
	m->n_att = kept;
	meter_detach_all(m);
}
