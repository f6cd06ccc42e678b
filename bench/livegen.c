// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * livegen: sends frames into a veth as xdp_frames, as fast as one core can
 * (or paced), for the benchmarks and the tests. Its XDP program
 * (livegen.bpf.c) runs by BPF_PROG_TEST_RUN with BPF_F_TEST_XDP_LIVE_FRAMES,
 * writes frame i of the sequence into its page and redirects it into IF;
 * the peer of IF receives it in its XDP program as from a NIC driver (the
 * peer needs one attached: veth drops frames redirected to a peer without).
 * The receiving side runs in NAPI on the sending CPU: pin the sender
 * (taskset -c 0 livegen ...) and the send rate is the receive rate.
 *
 *   livegen (--iface IF[@NETNS] | --ifindex N) [--flows K] [--frames N]
 *           [--size BYTES] [--proto udp|tcp|mix] [--ipv6 PERCENT]
 *           [--dist rr|heavy] [--first N] [--pps N] [--dmac M] [--smac M]
 *
 *   --iface IF@NETNS  IF in the namespace NETNS (under /var/run/netns);
 *                     --ifindex N: an interface of the caller's namespace
 *   --flows K         flows first .. first + K - 1 (1000)
 *   --frames N        frames in all (1000000)
 *   --size BYTES      frame size without the FCS (60, 60..1514); a frame is
 *                     never shorter than its headers (IPv6 TCP: 74)
 *   --proto P         udp (default), tcp (ACK set, nothing else), or mix:
 *                     odd flows TCP, even flows UDP
 *   --ipv6 PERCENT    flow n is IPv6 when (n / 2) % 100 < PERCENT (0)
 *   --dist D          rr: frame i goes to flow first + i % K, so every flow
 *                     is open at once, N / K frames each (default); heavy:
 *                     Zipf(1) over the K flows (flow k about 1 / (k + 1)),
 *                     the same sequence every run
 *   --first N         number the flows from N (0)
 *   --pps N           at most N frames a second, in bursts of a tenth of a
 *                     second's frames (a live-frames run has a fixed cost
 *                     of tens of ms in wall time here, so 1 ms bursts
 *                     reached 1 K frames/s whatever N was)
 *   --dmac, --smac    Ethernet addresses (02:00:00:00:b1:02, 02:00:00:00:b1:01)
 *
 * Flow n is bench/blast.c's flow n (livegen.h): IPv4 198.18.0.1 + n / 64512,
 * port 1024 + n % 64512, to 198.19.255.254 port 9; IPv6 the same addresses
 * in fd00::/96. Up to 8 million flows stay in 198.18.0.0/15.
 *
 * Prints "sent N refused N seconds S cpu C" on stdout, blast's line and
 * one more field: refused frames are those the veth would not take (its
 * ring to the peer full, no XDP program on the peer), sent + refused = N;
 * S is the wall time of the sending, C the sending thread's CPU time
 * meanwhile, which includes the receiving side's NAPI (run in the thread's
 * context on this kernel, see CPU_CLOCK): on a shared machine the rate a
 * core of its own would reach is N / C. Exit status 0; 1 on an
 * error, or when frames vanished before the veth counted them (no XDP
 * program on the peer: said on stderr); 2 on bad options.
 */
#include <errno.h>
#include <getopt.h>
#include <ifaddrs.h>
#include <linux/if_link.h>
#include <net/if.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "common/log.h"
#include "gencap/craft.h"
#include "meter/meter.h"
#include "livegen.h"
#include "livegen.skel.h"

#define FRAME_MAX 1514
#define RUN_MAX (1U << 30)     /* frames per BPF_PROG_TEST_RUN, unpaced */
#define SETTLE_MS 1000	       /* for the peer to take the last frames */
/*
 * This thread's CPU time. Without CONFIG_IRQ_TIME_ACCOUNTING (Debian's
 * default) it includes the softirqs run in its context: the receiving
 * veth's NAPI, which runs when a batch of frames has been redirected.
 */
#define CPU_CLOCK CLOCK_THREAD_CPUTIME_ID

struct opts {
	const char *iface;
	int ifindex;
	uint64_t flows, frames, first, pps;
	unsigned int size, ipv6_pct;
	enum livegen_proto proto;
	bool heavy;
	uint8_t smac[6], dmac[6];
};

/* What the sending veth counted: frames its peer took, and those it dropped. */
struct tx_count {
	uint32_t packets, dropped;
};

static uint64_t now_ns_of(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static uint64_t now_ns(void)
{
	return now_ns_of(CLOCK_MONOTONIC);
}

static void usage(void)
{
	fprintf(stderr,
"Usage: livegen (--iface IF[@NETNS] | --ifindex N) [--flows K] [--frames N]\n"
"               [--size BYTES] [--proto udp|tcp|mix] [--ipv6 PERCENT]\n"
"               [--dist rr|heavy] [--first N] [--pps N] [--dmac M] [--smac M]\n"
"  N frames (1000000) over K flows (1000) as xdp_frames into IF, whose veth\n"
"  peer needs an XDP program; see bench/livegen.c's header\n");
}

static int parse_enum(const char *s, const char *const names[], int n)
{
	for (int i = 0; i < n; i++)
		if (!strcmp(s, names[i]))
			return i;
	return -1;
}

static int parse(struct opts *o, int argc, char **argv)
{
	static const struct option lo[] = {
		{ "iface", required_argument, NULL, 'i' }, { "ifindex", required_argument, NULL, 'x' },
		{ "flows", required_argument, NULL, 'k' }, { "frames", required_argument, NULL, 'n' },
		{ "size", required_argument, NULL, 's' },  { "proto", required_argument, NULL, 'P' },
		{ "ipv6", required_argument, NULL, '6' },  { "dist", required_argument, NULL, 'D' },
		{ "first", required_argument, NULL, 'f' }, { "pps", required_argument, NULL, 'p' },
		{ "dmac", required_argument, NULL, 'd' },  { "smac", required_argument, NULL, 'm' },
		{ NULL, 0, NULL, 0 },
	};
	static const char *const protos[] = { "udp", "tcp", "mix" }, *const dists[] = { "rr", "heavy" };
	int c, v;

	*o = (struct opts){ .flows = 1000, .frames = 1000000, .size = 60,
			    .smac = { 2, 0, 0, 0, 0xb1, 1 }, .dmac = { 2, 0, 0, 0, 0xb1, 2 } };
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 'i': o->iface = optarg; break;
		case 'x': o->ifindex = atoi(optarg); break;
		case 'k': o->flows = strtoull(optarg, NULL, 0); break;
		case 'n': o->frames = strtoull(optarg, NULL, 0); break;
		case 's': o->size = atoi(optarg); break;
		case '6': o->ipv6_pct = atoi(optarg); break;
		case 'f': o->first = strtoull(optarg, NULL, 0); break;
		case 'p': o->pps = strtoull(optarg, NULL, 0); break;
		case 'P':
		case 'D':
			v = c == 'P' ? parse_enum(optarg, protos, 3) : parse_enum(optarg, dists, 2);
			if (v < 0) {
				fprintf(stderr, "livegen: unknown --%s '%s'\n", c == 'P' ? "proto" : "dist",
					optarg);
				return -1;
			}
			if (c == 'P')
				o->proto = v;
			else
				o->heavy = v;
			break;
		case 'd':
		case 'm':
			if (pkt_parse_mac(optarg, c == 'd' ? o->dmac : o->smac)) {
				fprintf(stderr, "livegen: bad MAC address '%s'\n", optarg);
				return -1;
			}
			break;
		default: usage(); return -1;
		}
	}
	if (!o->iface == !o->ifindex || optind < argc || !o->flows || o->flows > UINT32_MAX ||
	    o->size < 60 || o->size > FRAME_MAX || o->ipv6_pct > 100 ||
	    (o->first + o->flows) / LIVEGEN_PORTS > 130000) {
		usage();
		return -1;
	}
	return 0;
}

/*
 * --dist heavy: bucket b of LIVEGEN_BUCKETS, each as likely, holds the flows
 * whose Zipf(1) cumulative probability H(k + 1) / H(K) passes b / BUCKETS
 * within it: flow k comes about 1 / (k + 1) as often as flow 0.
 */
static void zipf_table(volatile uint32_t *lo, uint64_t flows)
{
	double total = 0, sum = 0;
	uint64_t k = 0;

	for (uint64_t i = 1; i <= flows; i++)
		total += 1.0 / i;
	for (int b = 0; b < LIVEGEN_BUCKETS; b++) {
		while (k < flows - 1 && (sum + 1.0 / (k + 1)) / total <= (double)b / LIVEGEN_BUCKETS)
			sum += 1.0 / (++k);
		lo[b] = k;
	}
	lo[LIVEGEN_BUCKETS] = flows;
}

/* The largest frame any flow can have: the template's size. */
static unsigned int largest_frame(const struct opts *o)
{
	unsigned int l3 = o->ipv6_pct ? 40 : 20, l4 = o->proto == LIVEGEN_UDP ? 8 : 20;

	return o->size > 14 + l3 + l4 ? o->size : 14 + l3 + l4;
}

/* The counters of the sending veth (in the namespace entered), 0 or -errno. */
static int tx_count(const char *ifname, struct tx_count *c)
{
	struct ifaddrs *all, *a;
	int err = -ENODEV;

	if (getifaddrs(&all))
		return -errno;
	for (a = all; a; a = a->ifa_next) {
		if (!a->ifa_addr || a->ifa_addr->sa_family != AF_PACKET || !a->ifa_data ||
		    strcmp(a->ifa_name, ifname))
			continue;
		c->packets = ((struct rtnl_link_stats *)a->ifa_data)->tx_packets;
		c->dropped = ((struct rtnl_link_stats *)a->ifa_data)->tx_dropped;
		err = 0;
		break;
	}
	freeifaddrs(all);
	return err;
}

static int open_gen(struct livegen_bpf **skel, const struct opts *o, int ifindex)
{
	struct livegen_bpf *s = livegen_bpf__open();
	int err;

	if (!s) {
		err = -errno;
		pr_warn("Couldn't open the generator: %s\n", strerror(-err));
		return err;
	}
	s->rodata->ifindex = ifindex;
	s->rodata->flows = o->flows;
	s->rodata->first = o->first;
	s->rodata->size = o->size;
	s->rodata->tmpl_size = largest_frame(o);
	s->rodata->ipv6_pct = o->ipv6_pct;
	s->rodata->proto = o->proto;
	s->rodata->heavy = o->heavy;
	memcpy((void *)s->rodata->smac, o->smac, 6);
	memcpy((void *)s->rodata->dmac, o->dmac, 6);
	if (o->heavy)
		zipf_table(s->rodata->zipf_lo, o->flows);
	err = livegen_bpf__load(s);
	if (err) {
		pr_warn("Couldn't load the generator: %s\n", strerror(-err));
		livegen_bpf__destroy(s);
		return err;
	}
	*skel = s;
	return 0;
}

/* Runs the generator on @n frames; 0 or -errno (-EINTR: a signal, some made). */
static int run(struct livegen_bpf *s, const struct opts *o, uint32_t n)
{
	static uint8_t tmpl[FRAME_MAX];
	LIBBPF_OPTS(bpf_test_run_opts, t, .data_in = tmpl, .data_size_in = largest_frame(o),
		    .repeat = n, .flags = BPF_F_TEST_XDP_LIVE_FRAMES);

	if (bpf_prog_test_run_opts(bpf_program__fd(s->progs.livegen), &t))
		return -errno;
	return 0;
}

/*
 * Sends every frame, paced by --pps; *secs gets the time it took, *cpu the
 * CPU time of this thread meanwhile. 0 or -errno.
 */
static int send_all(struct livegen_bpf *s, const struct opts *o, double *secs, double *cpu)
{
	uint64_t batch = o->pps ? o->pps / 10 : RUN_MAX, t0 = now_ns(), c0 = now_ns_of(CPU_CLOCK), due;
	uint64_t made;
	struct timespec ts;
	int err;

	if (batch < 64)
		batch = 64;
	while ((made = s->bss->made) < o->frames) {
		err = run(s, o, o->frames - made < batch ? o->frames - made : batch);
		if (err && err != -EINTR) {
			pr_warn("Couldn't run the generator: %s\n", strerror(-err));
			return err;
		}
		if (!o->pps)
			continue;
		due = t0 + s->bss->made * 1000000000ULL / o->pps;
		ts.tv_sec = due / 1000000000ULL;
		ts.tv_nsec = due % 1000000000ULL;
		clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
	}
	*secs = (now_ns() - t0) / 1e9;
	*cpu = (now_ns_of(CPU_CLOCK) - c0) / 1e9;
	return 0;
}

/*
 * Frames the veth would not take: those it counted as dropped, and those
 * its peer had not received SETTLE_MS later (dropped before any count).
 */
static uint64_t refused(const char *ifname, const struct tx_count *before, uint64_t frames,
			bool *vanished)
{
	struct tx_count c = *before;
	uint32_t took = 0, dropped = 0;

	for (int ms = 0; ms < SETTLE_MS && took + (uint64_t)dropped < frames; ms++) {
		if (ms)
			usleep(1000);
		if (tx_count(ifname, &c))
			break;
		took = c.packets - before->packets;
		dropped = c.dropped - before->dropped;
	}
	*vanished = took + (uint64_t)dropped < frames;
	if (!*vanished)
		return dropped;
	pr_warn("%llu frames vanished on their way to the peer of %s (no XDP program on it?)\n",
		(unsigned long long)(frames - took - dropped), ifname);
	return frames - took;
}

int main(int argc, char **argv)
{
	char ifname[IF_NAMESIZE + 64];
	struct livegen_bpf *skel = NULL;
	struct tx_count before;
	int ifindex, old_ns = -1, err;
	uint64_t lost;
	struct opts o;
	bool vanished;
	double secs, cpu;

	if (parse(&o, argc, argv))
		return 2;
	log_set_prog("livegen");
	log_route_libbpf();
	if (o.iface) {
		/* Stay there: the generator's redirect finds IF in the caller's namespace. */
		if (meter_enter_iface_ns(o.iface, ifname, sizeof(ifname), &old_ns))
			return 1;
		ifindex = if_nametoindex(ifname);
	} else {
		ifindex = if_indextoname(o.ifindex, ifname) ? o.ifindex : 0;
	}
	if (!ifindex) {
		pr_warn("Couldn't find interface %s: %s\n", o.iface ? o.iface : "(--ifindex)",
			strerror(errno));
		err = -ENODEV;
		goto out;
	}
	err = open_gen(&skel, &o, ifindex);
	if (err)
		goto out;
	err = tx_count(ifname, &before);
	if (err) {
		pr_warn("Couldn't read the counters of %s: %s\n", ifname, strerror(-err));
		goto out;
	}
	err = send_all(skel, &o, &secs, &cpu);
	if (err)
		goto out;
	lost = refused(ifname, &before, o.frames, &vanished);
	printf("sent %llu refused %llu seconds %.3f cpu %.3f\n", (unsigned long long)(o.frames - lost),
	       (unsigned long long)lost, secs, cpu);
	err = vanished ? -EIO : 0;
out:
	livegen_bpf__destroy(skel);
	meter_leave_ns(old_ns);
	return err ? 1 : 0;
}
