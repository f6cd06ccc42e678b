// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Tags every frame leaving an interface with a VLAN tag held out of band
 * (skb->vlan_tci), as a NIC with VLAN offload would hand it to XDP:
 *
 *   vlan_push [-v] --iface IF --vid N [--proto 8021q|8021ad]
 *
 * Attaches vlan_push.bpf.c at tc egress (clsact), prints "attached" on
 * stdout, and stays until SIGINT/SIGTERM; then detaches, removes the clsact
 * qdisc if it created it, and prints "pushed=N failed=M". Whether the tag
 * reaches the wire out of band depends on IF's tx-vlan offload (a veth keeps
 * it out of band unless `ethtool -K IF txvlan off`).
 */
#include <errno.h>
#include <net/if.h>
#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "common/log.h"
#include "vlan_push.skel.h"

#define VLAN_VID_MAX 4094

struct vlan_push_opts {
	const char *iface;
	int ifindex;
	int vid;
	__u16 proto;
};

static int usage(void)
{
	fprintf(stderr, "usage: vlan_push [-v] --iface IF --vid N [--proto 8021q|8021ad]\n");
	return 2;
}

static int parse_proto(const char *s, __u16 *proto)
{
	if (!strcmp(s, "8021q"))
		*proto = ETH_P_8021Q;
	else if (!strcmp(s, "8021ad"))
		*proto = ETH_P_8021AD;
	else
		return -EINVAL;
	return 0;
}

static int parse_args(int argc, char **argv, struct vlan_push_opts *o)
{
	char *end;

	o->vid = -1;
	o->proto = ETH_P_8021Q;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-v")) {
			log_set_level(LOG_DEBUG);
		} else if (i + 1 < argc && !strcmp(argv[i], "--iface")) {
			o->iface = argv[++i];
		} else if (i + 1 < argc && !strcmp(argv[i], "--vid")) {
			o->vid = strtol(argv[++i], &end, 0);
			if (*end || o->vid < 0 || o->vid > VLAN_VID_MAX)
				return -EINVAL;
		} else if (i + 1 < argc && !strcmp(argv[i], "--proto")) {
			if (parse_proto(argv[++i], &o->proto))
				return -EINVAL;
		} else {
			return -EINVAL;
		}
	}
	if (!o->iface || o->vid < 0)
		return -EINVAL;
	return 0;
}

static void print_counters(struct vlan_push_bpf *skel)
{
	/* VLAN_PUSHED, VLAN_PUSH_FAILED in vlan_push.bpf.c */
	__u64 n[2] = { 0, 0 };
	int fd = bpf_map__fd(skel->maps.counters);

	for (__u32 i = 0; i < 2; i++)
		bpf_map_lookup_elem(fd, &i, &n[i]);
	printf("pushed=%llu failed=%llu\n", (unsigned long long)n[0], (unsigned long long)n[1]);
}

/* Removes the clsact qdisc, with everything attached to it. */
static void remove_qdisc(struct bpf_tc_hook *hook)
{
	int err;

	/* Both points: one alone only flushes that side's filters. */
	hook->attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS;
	err = bpf_tc_hook_destroy(hook);
	if (err)
		pr_warn("Couldn't remove the clsact qdisc: %s\n", strerror(-err));
}

/* Takes our filter away, and the qdisc if we made it. */
static void detach(const char *iface, struct bpf_tc_hook *hook, struct bpf_tc_opts *opts,
		   bool own_hook)
{
	int err;

	/* bpf_tc_detach wants only handle and priority set. */
	opts->prog_fd = opts->prog_id = opts->flags = 0;
	err = bpf_tc_detach(hook, opts);
	if (err)
		pr_warn("Couldn't detach from %s egress: %s\n", iface, strerror(-err));
	if (own_hook)
		remove_qdisc(hook);
}

/* Creates clsact on @hook's interface unless there is one, attaches @prog_fd. */
static int attach(const char *iface, int prog_fd, struct bpf_tc_hook *hook,
		  struct bpf_tc_opts *opts, bool *own_hook)
{
	int err;

	err = bpf_tc_hook_create(hook);
	*own_hook = err != -EEXIST; /* someone else's clsact stays when we go */
	if (err && *own_hook) {
		pr_warn("Failed to create the clsact qdisc on %s: %s\n", iface, strerror(-err));
		return err;
	}
	opts->prog_fd = prog_fd;
	err = bpf_tc_attach(hook, opts);
	if (err) {
		pr_warn("Failed to attach to %s egress: %s\n", iface, strerror(-err));
		if (*own_hook)
			remove_qdisc(hook);
	}
	return err;
}

static void term_signals(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGINT);
	sigaddset(set, SIGTERM);
}

int main(int argc, char **argv)
{
	DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .attach_point = BPF_TC_EGRESS);
	DECLARE_LIBBPF_OPTS(bpf_tc_opts, opts);
	struct vlan_push_bpf *skel = NULL;
	struct vlan_push_opts o = { 0 };
	bool own_hook;
	sigset_t set;
	int err, sig;

	log_set_prog("vlan_push");
	log_route_libbpf();
	if (parse_args(argc, argv, &o))
		return usage();
	o.ifindex = if_nametoindex(o.iface);
	if (!o.ifindex) {
		pr_warn("Couldn't find interface %s: %s\n", o.iface, strerror(errno));
		return 1;
	}
	/* Blocked until sigwait(): a signal before it stays pending, not fatal. */
	term_signals(&set);
	sigprocmask(SIG_BLOCK, &set, NULL);

	skel = vlan_push_bpf__open();
	if (!skel) {
		pr_warn("Failed to open BPF skeleton: %s\n", strerror(errno));
		return 1;
	}
	skel->rodata->vlan_tci = o.vid;
	skel->rodata->vlan_proto = htons(o.proto);
	err = vlan_push_bpf__load(skel);
	if (err) {
		pr_warn("Failed to load BPF skeleton: %s\n", strerror(-err));
		goto cleanup;
	}

	hook.ifindex = o.ifindex;
	err = attach(o.iface, bpf_program__fd(skel->progs.vlan_push), &hook, &opts, &own_hook);
	if (err)
		goto cleanup;
	printf("attached iface=%s vid=%d proto=0x%04x\n", o.iface, o.vid, o.proto);
	fflush(stdout);

	sigwait(&set, &sig);
	detach(o.iface, &hook, &opts, own_hook);
	print_counters(skel);
cleanup:
	vlan_push_bpf__destroy(skel);
	return err ? 1 : 0;
}
