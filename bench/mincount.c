// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * mincount: attaches the baseline meter of the live benchmark
 * (mincount.bpf.c), or an XDP_PASS program, or nfxdp's meter without its
 * collector, natively to an interface, and exits: the attachment stays
 * until `mincount --detach` or `ip link set dev IF xdp off`.
 *
 *   mincount --iface IF[@NETNS] [--max-flows N] [--stop-at STAGE]
 *            [--pass | --nfxdp | --detach]
 *
 *   --max-flows N   entries of its LRU hash (1048576, as nfxdp's cache)
 *   --pass          attach the program that only returns XDP_PASS
 *   --nfxdp         attach nfxdp's meter (nfx_meter, its defaults, a cache
 *                   of N flows); nothing reads its records
 *   --stop-at STAGE the program stops there and passes the frame unmetered
 *                   (enum meter_stop): entry, parse, lookup, found, lines
 *                   (the last two and entry, parse: nfxdp's meter only).
 *                   What a stage costs is the difference from the one
 *                   before: the breakdown of 15-nicpath.sh, by ablation
 *   --detach        remove whatever XDP program is attached to IF
 *
 * Exit status 0, 1 on an error (said on stderr), 2 on bad options.
 */
#include <errno.h>
#include <getopt.h>
#include <linux/if_link.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "common/log.h"
#include "flow.h"
#include "meter/meter.h"
#include "meter.skel.h"
#include "mincount.skel.h"

struct opts {
	const char *iface;
	unsigned int max_flows;
	enum meter_stop stop_at;
	bool pass, nfxdp, detach;
};

static void usage(void)
{
	fprintf(stderr, "Usage: mincount --iface IF[@NETNS] [--max-flows N] [--stop-at STAGE]\n"
			"                [--pass | --nfxdp | --detach]\n"
			"  STAGE: entry, parse, lookup, found, lines\n");
}

static int parse(struct opts *o, int argc, char **argv)
{
	static const struct option lo[] = {
		{ "iface", required_argument, NULL, 'i' }, { "max-flows", required_argument, NULL, 'n' },
		{ "pass", no_argument, NULL, 'p' },	   { "detach", no_argument, NULL, 'd' },
		{ "nfxdp", no_argument, NULL, 'x' },	   { "stop-at", required_argument, NULL, 's' },
		{ NULL, 0, NULL, 0 },
	};
	int c, stop;

	*o = (struct opts){ .max_flows = NFX_DEFAULT_MAX_FLOWS };
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 'i': o->iface = optarg; break;
		case 'n': o->max_flows = strtoul(optarg, NULL, 0); break;
		case 'p': o->pass = true; break;
		case 'd': o->detach = true; break;
		case 'x': o->nfxdp = true; break;
		case 's':
			stop = meter_stop_of(optarg);
			if (stop < 0) {
				fprintf(stderr, "mincount: --stop-at: no stage '%s'\n", optarg);
				return -1;
			}
			o->stop_at = stop;
			break;
		default: usage(); return -1;
		}
	}
	if (!o->iface || optind < argc || !o->max_flows || o->pass + o->nfxdp + o->detach > 1 ||
	    (!o->nfxdp && o->stop_at && o->stop_at != STOP_BEFORE_LOOKUP &&
	     o->stop_at != STOP_AFTER_LOOKUP)) {
		usage();
		return -1;
	}
	return 0;
}

/* Loads the object and attaches the program @o asks for to @ifindex. 0 or -errno. */
static int attach(const struct opts *o, int ifindex)
{
	struct mincount_bpf *s = mincount_bpf__open();
	struct bpf_program *prog;
	int err;

	if (!s) {
		err = -errno;
		pr_warn("Couldn't open the counting meter: %s\n", strerror(-err));
		return err;
	}
	s->rodata->stop_at = o->stop_at;
	err = bpf_map__set_max_entries(s->maps.counts, o->max_flows);
	if (!err)
		err = mincount_bpf__load(s);
	if (err) {
		pr_warn("Couldn't load the counting meter: %s\n", strerror(-err));
		goto out;
	}
	prog = o->pass ? s->progs.xdp_pass : s->progs.mincount;
	err = bpf_xdp_attach(ifindex, bpf_program__fd(prog), XDP_FLAGS_DRV_MODE, NULL);
	if (err)
		pr_warn("Couldn't attach to %s: %s\n", o->iface, strerror(-err));
out:
	mincount_bpf__destroy(s);
	return err;
}

/*
 * nfxdp's meter as the collector loads it by default (--max-flows N), with
 * o->stop_at, attached to @ifindex; no collector. 0 or -errno.
 */
static int attach_nfxdp(const struct opts *o, int ifindex)
{
	struct meter_opts mo;
	struct meter m;
	int err;

	meter_opts_default(&mo);
	mo.max_flows = o->max_flows;
	mo.stop_at = o->stop_at;
	err = meter_load(&m, &mo);
	if (err) {
		pr_warn("Couldn't load nfxdp's meter: %s\n", strerror(-err));
		return err;
	}
	err = bpf_xdp_attach(ifindex, bpf_program__fd(m.skel->progs.nfx_meter),
			     XDP_FLAGS_DRV_MODE, NULL);
	if (err)
		pr_warn("Couldn't attach to %s: %s\n", o->iface, strerror(-err));
	meter_destroy(&m);
	return err;
}

int main(int argc, char **argv)
{
	char ifname[IF_NAMESIZE + 64];
	int ifindex, old_ns, err;
	struct opts o;

	if (parse(&o, argc, argv))
		return 2;
	log_set_prog("mincount");
	log_route_libbpf();
	if (meter_enter_iface_ns(o.iface, ifname, sizeof(ifname), &old_ns))
		return 1;
	ifindex = if_nametoindex(ifname);
	if (!ifindex) {
		err = -errno;
		pr_warn("Couldn't find interface %s: %s\n", o.iface, strerror(-err));
	} else if (o.detach) {
		err = bpf_xdp_detach(ifindex, XDP_FLAGS_DRV_MODE, NULL);
		if (err)
			pr_warn("Couldn't detach from %s: %s\n", o.iface, strerror(-err));
	} else if (o.nfxdp) {
		err = attach_nfxdp(&o, ifindex);
	} else {
		err = attach(&o, ifindex);
	}
	meter_leave_ns(old_ns);
	return err ? 1 : 0;
}
