// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The packet parser and meter: every input is one frame, run through the
 * XDP program nfx_meter by BPF_PROG_TEST_RUN with its timestamp and length
 * in data_meta, as frame-by-frame capture replay does. The meter is loaded
 * once (two instances: defaults, and a second with --snaplen, a --filter,
 * tunnel decoding off, payload accounting, --statistical and --splt), and
 * the flow cache is emptied before each input.
 *
 * Each frame runs three times: twice through nfx_meter, then once through
 * nfx_replay (the batch replay program: the frame's header bytes in a
 * replay slot, as nfxdp --pcap writes them).
 *
 * Invariants, any breach of which aborts (libFuzzer saves the frame):
 *  - frames_seen rises by exactly 1 and exactly one outcome counter (metered,
 *    sampled or filtered out, ignored by reason, lost) by exactly 1;
 *  - a metered frame leaves exactly one entry, LIVE with no writer, holding
 *    its own key, the packet counted once (src2dst, at its timestamp, its
 *    length in bytes with link accounting); the key is canonical (lo <= hi,
 *    IPv4 zero-padded, ports 0 for portless protocols, vlan < 4096, a
 *    known tunnel id); a frame not metered leaves none and creates none;
 *  - the same frame again, by either program, ends in the same counter and
 *    counts into the same entry (one packet more), or, when it ends the
 *    flow by natural expiry on arrival, closes it (one event) and opens a
 *    new one;
 *  - the outcome and the key depend on the frame's bytes only: before each
 *    run the bytes past the frame (the per-CPU scratch buffer, the replay
 *    slot) hold a different pattern, so a parser that reads past the
 *    frame's captured bytes into what an earlier frame left there gives
 *    different results;
 *  - for plain Ethernet + IPv4/IPv6 (extension headers included, no
 *    IP-in-IP, no UDP tunnel ports), the outcome and key equal those of a
 *    userspace reference parser written from the rules in bpf/parse.h;
 *  - with the --filter (a pcap-filter expression, spliced into the meter as
 *    eBPF), a frame is filtered out exactly when libpcap's own interpreter
 *    rejects its first 100 bytes (the --snaplen).
 *
 * Needs root and BPF: without them it exits with FUZZ_EXIT_SKIP.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <sched.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "meter/counters.h"
#include "select/pcap_ebpf.h"
#include "select/pcap_filter.h"
#include "fuzz.h"
#include "harness.h"
#include "common/log.h"
#include "meter.skel.h"

#define ULL(x) ((unsigned long long)(x))
#define FRAME_MAX 4096
#define ETH_MIN 14 /* BPF_PROG_TEST_RUN takes no less for XDP: replay pads the same way */

struct inst {
	const char *name;
	struct harness h;
	int flows_fd;
	struct replay_slot *slots; /* replay_slots, mapped */
	bool reference; /* defaults: compare with ref_parse() */
	bool filtered;	/* with the --filter: compare with libpcap's verdict */
	bool tunnels;
	bool link_bytes;
};

static struct inst inst[2] = {
	{ .name = "defaults", .reference = true, .tunnels = true, .link_bytes = true },
	{ .name = "snaplen 100, filter, no tunnels, payload accounting, statistical, splt 8",
	  .filtered = true },
};
#define FILTER_SNAPLEN 100
static const char filter_expr[] = "not (udp and port 53) and not vlan 7 and not net 10.0.0.0/8 "
				  "and not tcp[tcpflags] & tcp-rst != 0 and not less 40";
static struct pcap_filter filter;
static struct pcap_ebpf filter_ebpf;

/*
 * libFuzzer sees coverage of userspace code only, not of the BPF program.
 * What the program did, as far as the harness can tell, goes into extra
 * counters libFuzzer treats as coverage: the outcome, the key's kind, the
 * entry's flags, expiry on arrival.
 */
enum {
	F_OUTCOME = 0,			   /* + enum nfx_counter */
	F_TUNNEL = F_OUTCOME + NFX_COUNTER_MAX, /* + tunnel id */
	F_VLAN = F_TUNNEL + 4,
	F_V6 = F_VLAN + 2,
	F_PROTO = F_V6 + 2,		   /* tcp, udp, sctp, icmp, icmp6, other */
	F_PORTS = F_PROTO + 6,
	F_EXPIRED = F_PORTS + 2,
	F_TRUNCATED = F_EXPIRED + 2,
	F_FLAGS = F_TRUNCATED + 2,	   /* + FLOW_F_* bits */
	F_REF = F_FLAGS + 16,		   /* the reference had an opinion */
	F_MAX = F_REF + 2,
};
__attribute__((section("__libfuzzer_extra_counters"), used)) static uint8_t bpf_cov[2][F_MAX];

static void cover(int inst_i, int feature)
{
	if (feature >= 0 && feature < F_MAX && bpf_cov[inst_i][feature] < 255)
		bpf_cov[inst_i][feature]++;
}

static int proto_class(uint8_t p)
{
	switch (p) {
	case 6:
		return 0;
	case 17:
		return 1;
	case 132:
		return 2;
	case 1:
		return 3;
	case 58:
		return 4;
	default:
		return 5;
	}
}

static uint8_t poison[3][PARSE_WINDOW + PARSE_SLACK];
static uint64_t clock_ns = 1000 * 1000000000ULL;

static const char *counter_name(int c)
{
	return c >= 0 && c < NFX_COUNTER_MAX ? counter_names[c] : "none";
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct meter_opts o;
	char err[4096];
	cpu_set_t cpus;
	int cpu;

	log_set_level(LOG_QUIET);
	log_route_libbpf();
	if (geteuid() != 0) {
		fprintf(stderr, "fuzz_packet: SKIP: loading the meter needs root and BPF\n");
		exit(FUZZ_EXIT_SKIP);
	}
	/*
	 * One CPU: the scratch buffer the patterns fill is per CPU, and
	 * BPF_PROG_TEST_RUN runs on the caller's.
	 */
	cpu = sched_getcpu();
	CPU_ZERO(&cpus);
	CPU_SET(cpu < 0 ? 0 : cpu, &cpus);
	sched_setaffinity(0, sizeof(cpus), &cpus);

	if (pcap_filter_compile(&filter, filter_expr, PCAP_FILTER_ETHERNET, err, sizeof(err)) ||
	    pcap_ebpf_translate(&filter, PARSE_WINDOW, &filter_ebpf, err, sizeof(err))) {
		fprintf(stderr, "fuzz_packet: %s\n", err);
		exit(1);
	}
	for (int i = 0; i < 2; i++) {
		int r;

		harness_default_opts(&o);
		o.programs = LOAD_METER | LOAD_REPLAY;
		o.ring_bytes = 1 << 20;
		if (i == 1) {
			o.snaplen = FILTER_SNAPLEN;
			o.filter = &filter_ebpf;
			o.decode_tunnels = false;
			o.accounting = ACCOUNT_PAYLOAD;
			o.statistical = true;
			o.splt = 8;
		}
		r = harness_open(&inst[i].h, &o);
		if (r) {
			fprintf(stderr, "fuzz_packet: SKIP: couldn't load the meter (%s): %s\n",
				inst[i].name, strerror(-r));
			exit(FUZZ_EXIT_SKIP);
		}
		inst[i].flows_fd = bpf_map__fd(inst[i].h.m.skel->maps.flows);
		inst[i].slots = mmap(NULL, (size_t)REPLAY_SLOTS * sizeof(struct replay_slot),
				     PROT_READ | PROT_WRITE, MAP_SHARED,
				     bpf_map__fd(inst[i].h.m.skel->maps.replay_slots), 0);
		if (inst[i].slots == MAP_FAILED) {
			fprintf(stderr, "fuzz_packet: couldn't map the replay slots: %s\n",
				strerror(errno));
			exit(1);
		}
	}
	/*
	 * Three different patterns: all ones, all zeros (what a flag or a
	 * length read past the frame sees differ most), and a mix. The first
	 * two are run as non-IP frames (ethertype 0x88b5/0x88b6, local
	 * experimental) to fill the scratch buffer, the third fills the
	 * replay slot.
	 */
	for (int i = 0; i < PARSE_WINDOW + PARSE_SLACK; i++) {
		poison[0][i] = 0xff;
		poison[1][i] = 0;
		poison[2][i] = (i * 101 + 7) & 0xff;
	}
	poison[0][12] = poison[1][12] = 0x88;
	poison[0][13] = 0xb5;
	poison[1][13] = 0xb6;
	return 0;
}

/* Runs @frame through nfx_meter; returns the counters' changes in @d. */
static void run(struct inst *in, const uint8_t *frame, size_t len, uint64_t ts,
		uint64_t d[NFX_COUNTER_MAX])
{
	static uint8_t buf[sizeof(struct nfx_meta) + FRAME_MAX];
	struct nfx_meta meta = {
		.ts_ns = ts,
		.wire_len = len,
		.frame_len = len,
		.magic = NFX_META_MAGIC,
	};
	struct xdp_md ctx = { .data = sizeof(meta), .data_end = sizeof(meta) + len };
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = buf, .data_size_in = sizeof(meta) + len,
		    .ctx_in = &ctx, .ctx_size_in = sizeof(ctx), .repeat = 1);
	uint64_t before[NFX_COUNTER_MAX], after[NFX_COUNTER_MAX];
	int err;

	memcpy(buf, &meta, sizeof(meta));
	memcpy(buf + sizeof(meta), frame, len);
	harness_counters(&in->h, before);
	err = bpf_prog_test_run_opts(in->h.meter_fd, &opts);
	FUZZ_CHECK(!err, "[%s] BPF_PROG_TEST_RUN: %s", in->name, strerror(errno));
	FUZZ_CHECK(opts.retval == XDP_PASS, "[%s] verdict %u", in->name, opts.retval);
	harness_counters(&in->h, after);
	for (int i = 0; i < NFX_COUNTER_MAX; i++)
		d[i] = after[i] - before[i];
}

/* Runs @frame through nfx_replay from replay slot 0, as capture replay does. */
static void run_replay(struct inst *in, const uint8_t *frame, size_t len, uint64_t ts,
		       uint64_t d[NFX_COUNTER_MAX])
{
	static uint8_t pkt[64];
	struct replay_slot *sl = &in->slots[0];
	struct meter_bpf *skel = in->h.m.skel;
	size_t kept = len < PARSE_WINDOW ? len : PARSE_WINDOW;
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = pkt, .data_size_in = sizeof(pkt),
		    .repeat = 1);
	uint64_t before[NFX_COUNTER_MAX], after[NFX_COUNTER_MAX];
	int err;

	memcpy(sl->frame.b, poison[2], sizeof(sl->frame.b));
	memcpy(sl->frame.b, frame, kept);
	sl->f = (struct replay_frame){
		.ts_ns = ts, .wire_len = len, .frame_len = len, .caplen = len, .kept = kept,
	};
	skel->bss->replay_first = 0;
	skel->bss->replay_count = 1;
	harness_counters(&in->h, before);
	err = bpf_prog_test_run_opts(in->h.replay_fd, &opts);
	FUZZ_CHECK(!err, "[%s] BPF_PROG_TEST_RUN of nfx_replay: %s", in->name, strerror(errno));
	FUZZ_CHECK(opts.retval == XDP_PASS && skel->bss->replay_done == 1,
		   "[%s] nfx_replay: verdict %u, %u frames done", in->name, opts.retval,
		   skel->bss->replay_done);
	harness_counters(&in->h, after);
	for (int i = 0; i < NFX_COUNTER_MAX; i++)
		d[i] = after[i] - before[i];
}

/* The one outcome counter that rose, by one; aborts unless exactly that happened. */
static int outcome(const struct inst *in, const uint64_t d[NFX_COUNTER_MAX])
{
	int which = -1;

	FUZZ_CHECK(d[NFX_FRAMES_SEEN] == 1, "[%s] frames_seen rose by %llu", in->name,
		   ULL(d[NFX_FRAMES_SEEN]));
	for (int i = NFX_OUTCOME_FIRST; i <= NFX_OUTCOME_LAST; i++) {
		if (!d[i])
			continue;
		FUZZ_CHECK(d[i] == 1, "[%s] %s rose by %llu", in->name, counter_names[i],
			   ULL(d[i]));
		FUZZ_CHECK(which < 0, "[%s] both %s and %s rose", in->name, counter_names[which],
			   counter_names[i]);
		which = i;
	}
	FUZZ_CHECK(which >= 0, "[%s] a frame seen ended in no outcome counter", in->name);
	return which;
}

/* The cache's entries: up to @max keys into @keys; returns how many there are. */
static int entries(const struct inst *in, struct flow_key *keys, int max)
{
	struct flow_key k, next;
	int n = 0;

	if (bpf_map_get_next_key(in->flows_fd, NULL, &next))
		return 0;
	do {
		if (n < max)
			keys[n] = next;
		n++;
		k = next;
	} while (n < 1000 && !bpf_map_get_next_key(in->flows_fd, &k, &next));
	return n;
}

/*
 * Empties the cache between inputs. The entries are deleted here, not closed
 * by the meter, so the meter's count of them (flows_live, which admits new
 * flows up to --max-flows) is set back to 0 too: otherwise it only grows, and
 * after --max-flows inputs every new flow leaves as an overflow record.
 */
static void clear(struct inst *in)
{
	struct flow_key k;
	__u32 zero = 0;
	__u64 none = 0;

	for (int i = 0; i < 10000 && !bpf_map_get_next_key(in->flows_fd, NULL, &k); i++)
		bpf_map_delete_elem(in->flows_fd, &k);
	bpf_map_update_elem(bpf_map__fd(in->h.m.skel->maps.flows_live), &zero, &none, BPF_ANY);
	harness_drain(&in->h);
	in->h.n_events = 0;
}

static bool all_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

static void check_key(const struct inst *in, const struct flow_key *k)
{
	int c = memcmp(k->addr_lo, k->addr_hi, 16);

	FUZZ_CHECK(k->ip_version == 4 || k->ip_version == 6, "[%s] key ip_version %u", in->name,
		   k->ip_version);
	if (k->ip_version == 4)
		FUZZ_CHECK(all_zero(k->addr_lo + 4, 12) && all_zero(k->addr_hi + 4, 12),
			   "[%s] IPv4 key not zero-padded", in->name);
	FUZZ_CHECK(c < 0 || (c == 0 && ntohs(k->port_lo) <= ntohs(k->port_hi)),
		   "[%s] key endpoints out of order", in->name);
	if (k->protocol != 6 && k->protocol != 17 && k->protocol != 132)
		FUZZ_CHECK(!k->port_lo && !k->port_hi, "[%s] ports on protocol %u", in->name,
			   k->protocol);
	FUZZ_CHECK(k->vlan_id <= 4095, "[%s] vlan id %u", in->name, k->vlan_id);
	FUZZ_CHECK(k->tunnel_id <= TUNNEL_TZSP && (in->tunnels || !k->tunnel_id),
		   "[%s] tunnel id %u", in->name, k->tunnel_id);
}

/* The one entry the frame left; its key in @k. */
static void the_entry(const struct inst *in, struct flow_key *k, struct flow_entry *e)
{
	int n = entries(in, k, 1);

	FUZZ_CHECK(n == 1, "[%s] a metered frame left %d entries", in->name, n);
	FUZZ_CHECK(!harness_lookup((struct harness *)&in->h, k, e), "[%s] lookup", in->name);
	FUZZ_CHECK(!memcmp(&e->key, k, sizeof(*k)), "[%s] the entry holds another key", in->name);
	/* The bits between state and writers (a generation, say) are the meter's business. */
	FUZZ_CHECK(e->ctl >> FLOW_STATE_SHIFT == FLOW_LIVE && !(e->ctl & FLOW_WRITERS_MASK),
		   "[%s] entry ctl %#llx: not LIVE without writers", in->name, ULL(e->ctl));
	check_key(in, k);
}

/* ---- userspace reference: plain Ethernet, IPv4/IPv6, transport ---- */

#define NO_OPINION -1

static uint16_t be16(const uint8_t *p)
{
	return p[0] << 8 | p[1];
}

static int is_ipv6_ext(uint8_t n)
{
	return n == 0 || n == 43 || n == 44 || n == 60 || n == 135;
}

/* What the window lacks: past the window, or cut off (parse.h's cursor_miss()). */
static int miss(uint32_t need_end, uint32_t caplen, int truncated)
{
	return need_end <= caplen ? NFX_IGNORE_HEADERS_TOO_LONG : truncated;
}

/*
 * The counter the meter (default configuration) must end @f in and, when
 * metered, its key; NO_OPINION for frames this reference does not cover
 * (LLC/SNAP, VLAN, MPLS, PPPoE, IP-in-IP, UDP tunnel ports).
 */
static int ref_parse(const uint8_t *f, uint32_t len, struct flow_key *k, uint8_t *tcp_flags)
{
	uint32_t win = len < PARSE_WINDOW ? len : PARSE_WINDOW, off = 14, ip_len, l4_off, l4_len;
	uint16_t type;
	uint8_t proto;
	int c, swap;

	memset(k, 0, sizeof(*k));
	*tcp_flags = 0;
	if (len < 28)
		return NFX_IGNORE_TOO_SHORT;
	type = be16(f + 12);
	if (type == 0x8903) {
		/* Cisco FabricPath: a 16-byte outer header, then the original frame. */
		if (30 > win)
			return miss(30, len, NFX_IGNORE_MALFORMED_L2);
		f += 16;
		len -= 16;
		win -= 16;
		type = be16(f + 12);
	}
	if (type < 0x0600 || type == 0x8100 || type == 0x88a8 || type == 0x9100 ||
	    type == 0x8847 || type == 0x8848 || type == 0x8864)
		return NO_OPINION;
	if (type == 0x0800) {
		uint32_t hlen;

		if (off + 20 > win)
			return miss(off + 20, len, NFX_IGNORE_MALFORMED_IPV4);
		hlen = (f[off] & 15) * 4;
		ip_len = be16(f + off + 2);
		if ((f[off] >> 4) != 4 || hlen < 20 || ip_len < hlen)
			return NFX_IGNORE_MALFORMED_IPV4;
		if (be16(f + off + 6) & 0x1fff)
			return NFX_IGNORE_FRAGMENT;
		proto = f[off + 9];
		memcpy(k->addr_lo, f + off + 12, 4);
		memcpy(k->addr_hi, f + off + 16, 4);
		k->ip_version = 4;
		l4_off = hlen;
		off += hlen;
	} else if (type == 0x86dd) {
		uint32_t start;

		if (off + 40 > win)
			return miss(off + 40, len, NFX_IGNORE_MALFORMED_IPV6);
		ip_len = be16(f + off + 4);
		if ((f[off] >> 4) != 6 || off + 40 + ip_len > len)
			return NFX_IGNORE_MALFORMED_IPV6;
		memcpy(k->addr_lo, f + off + 8, 16);
		memcpy(k->addr_hi, f + off + 24, 16);
		k->ip_version = 6;
		proto = f[off + 6];
		off += 40;
		start = off;
		for (int i = 0; i < 8 && is_ipv6_ext(proto); i++) {
			uint32_t at = off;

			if (off + 4 > win)
				return miss(off + 4, len, NFX_IGNORE_MALFORMED_IPV6);
			if (proto == 44) {
				if (be16(f + at + 2) & 0xfff8)
					return NFX_IGNORE_FRAGMENT;
				off += 8;
			} else {
				off += (f[at + 1] + 1) * 8;
			}
			proto = f[at];
		}
		if (is_ipv6_ext(proto))
			return NFX_IGNORE_HEADERS_TOO_LONG;
		l4_off = off - start;
	} else {
		return NFX_IGNORE_NON_IP;
	}
	if (proto == 4 || proto == 41)
		return NO_OPINION;
	k->protocol = proto;
	l4_len = ip_len > l4_off ? ip_len - l4_off : 0;
	if ((proto == 6 && l4_len >= 20) || ((proto == 17 || proto == 132) && l4_len >= 8)) {
		uint32_t need = proto == 6 ? 20 : 8;
		uint16_t sp, dp;

		if (off + need > win)
			return miss(off + need, len, NFX_IGNORE_MALFORMED_L4);
		sp = be16(f + off);
		dp = be16(f + off + 2);
		if (proto == 17 && (sp == PORT_GTP_U || dp == PORT_GTP_U || sp == PORT_TZSP ||
				    dp == PORT_TZSP || sp == PORT_CAPWAP_DATA ||
				    dp == PORT_CAPWAP_DATA))
			return NO_OPINION;
		k->port_lo = htons(sp);
		k->port_hi = htons(dp);
		if (proto == 6)
			*tcp_flags = f[off + 13];
	}
	/* Endpoints in order: addresses as big-endian numbers, then ports. */
	c = memcmp(k->addr_lo, k->addr_hi, 16);
	swap = c > 0 || (c == 0 && ntohs(k->port_lo) > ntohs(k->port_hi));
	if (swap) {
		uint8_t t[16];
		uint16_t p = k->port_lo;

		memcpy(t, k->addr_lo, 16);
		memcpy(k->addr_lo, k->addr_hi, 16);
		memcpy(k->addr_hi, t, 16);
		k->port_lo = k->port_hi;
		k->port_hi = p;
	}
	return NFX_FRAMES_METERED;
}

static void print_key(const char *what, const struct flow_key *k)
{
	char a[INET6_ADDRSTRLEN], b[INET6_ADDRSTRLEN];
	int af = k->ip_version == 6 ? AF_INET6 : AF_INET;

	inet_ntop(af, k->addr_lo, a, sizeof(a));
	inet_ntop(af, k->addr_hi, b, sizeof(b));
	fprintf(stderr, "%s: %s port %u <-> %s port %u, proto %u, v%u, vlan %u, tunnel %u\n",
		what, a, ntohs(k->port_lo), b, ntohs(k->port_hi), k->protocol, k->ip_version,
		k->vlan_id, k->tunnel_id);
}

/* ---- one frame ---- */

/*
 * The same frame once more, by @prog: the same outcome, the same entry with
 * one packet more (@e holds the entry before, and gets it after), or, on
 * natural expiry on arrival, the old entry exported and a new one opened.
 */
static void again(struct inst *in, const char *prog, size_t len, int o1,
		  const struct flow_key *k1, struct flow_entry *e, const uint64_t *d, uint64_t t)
{
	uint64_t before = e->dir[0].packets, bytes = e->dir[0].bytes;
	const struct flow_event *ev;
	struct flow_key k;
	int o = outcome(in, d), n;

	FUZZ_CHECK(o == o1, "[%s] %s: the same frame ended in %s, then in %s", in->name, prog,
		   counter_name(o1), counter_name(o));
	if (o1 != NFX_FRAMES_METERED) {
		FUZZ_CHECK(!entries(in, &k, 1), "[%s] %s: entries after %s", in->name, prog,
			   counter_name(o));
		return;
	}
	the_entry(in, &k, e);
	if (memcmp(k1, &k, sizeof(k))) {
		print_key("first run", k1);
		print_key(prog, &k);
	}
	FUZZ_CHECK(!memcmp(k1, &k, sizeof(k)), "[%s] %s: the same frame metered under another key",
		   in->name, prog);
	cover(in - inst, F_EXPIRED + !!d[NFX_EXPIRED_ON_ARRIVAL]);
	if (d[NFX_EXPIRED_ON_ARRIVAL]) {
		n = harness_drain(&in->h);
		FUZZ_CHECK(d[NFX_EXPIRED_ON_ARRIVAL] == 1 && d[NFX_FLOWS_CREATED] == 1 && n == 1,
			   "[%s] %s: expired on arrival %llu, created %llu, events %d", in->name,
			   prog, ULL(d[NFX_EXPIRED_ON_ARRIVAL]), ULL(d[NFX_FLOWS_CREATED]), n);
		ev = &in->h.events[in->h.n_events - 1];
		FUZZ_CHECK(ev->reason == EXPIRY_NATURAL && ev->entry.dir[0].packets == before,
			   "[%s] %s: closed on arrival: reason %u, %llu packets", in->name, prog,
			   ev->reason, ULL(ev->entry.dir[0].packets));
		FUZZ_CHECK(e->dir[0].packets == 1 && e->dir[1].packets == 0,
			   "[%s] %s: reopened flow: packets %llu/%llu", in->name, prog,
			   ULL(e->dir[0].packets), ULL(e->dir[1].packets));
		return;
	}
	FUZZ_CHECK(!d[NFX_FLOWS_CREATED], "[%s] %s: the same frame created a flow", in->name, prog);
	FUZZ_CHECK(e->dir[0].packets == before + 1 && e->dir[1].packets == 0,
		   "[%s] %s: packets %llu/%llu, had %llu", in->name, prog, ULL(e->dir[0].packets),
		   ULL(e->dir[1].packets), ULL(before));
	FUZZ_CHECK(e->dir[0].last_seen_ns == t && e->dir[0].first_seen_ns <= t,
		   "[%s] %s: seen %llu..%llu, sent at %llu", in->name, prog,
		   ULL(e->dir[0].first_seen_ns), ULL(e->dir[0].last_seen_ns), ULL(t));
	if (in->link_bytes)
		FUZZ_CHECK(e->dir[0].bytes == bytes + len,
			   "[%s] %s: %llu bytes, had %llu, frame %zu", in->name, prog,
			   ULL(e->dir[0].bytes), ULL(bytes), len);
}

/* The first run of a frame, into an empty cache. */
static void first(struct inst *in, const uint8_t *frame, size_t len, int o1, int ref,
		  const struct flow_key *want, uint8_t want_flags, const uint64_t *d,
		  struct flow_key *k, struct flow_entry *e, uint64_t t)
{
	int n, i = in - inst;

	if (o1 != NFX_FRAMES_METERED) {
		n = entries(in, k, 1);
		FUZZ_CHECK(!n, "[%s] a frame that ended in %s left %d entries", in->name,
			   counter_name(o1), n);
		FUZZ_CHECK(!d[NFX_FLOWS_CREATED], "[%s] %s but a flow was created", in->name,
			   counter_name(o1));
		return;
	}
	the_entry(in, k, e);
	cover(i, F_TUNNEL + k->tunnel_id);
	cover(i, F_VLAN + !!k->vlan_id);
	cover(i, F_V6 + (k->ip_version == 6));
	cover(i, F_PROTO + proto_class(k->protocol));
	cover(i, F_PORTS + !!(k->port_lo | k->port_hi));
	cover(i, F_FLAGS + (e->flags & 15));
	FUZZ_CHECK(d[NFX_FLOWS_CREATED] == 1, "[%s] metered into an empty cache: %llu created",
		   in->name, ULL(d[NFX_FLOWS_CREATED]));
	FUZZ_CHECK(e->dir[DIR_SRC2DST].packets == 1 && e->dir[DIR_DST2SRC].packets == 0,
		   "[%s] packets %llu/%llu after one frame", in->name, ULL(e->dir[0].packets),
		   ULL(e->dir[1].packets));
	FUZZ_CHECK(e->dir[0].first_seen_ns == t && e->dir[0].last_seen_ns == t,
		   "[%s] seen at %llu..%llu, sent at %llu", in->name, ULL(e->dir[0].first_seen_ns),
		   ULL(e->dir[0].last_seen_ns), ULL(t));
	if (in->link_bytes)
		FUZZ_CHECK(e->dir[0].bytes == len, "[%s] %llu bytes for a %zu-byte frame", in->name,
			   ULL(e->dir[0].bytes), len);
	if (ref != NFX_FRAMES_METERED)
		return;
	if (memcmp(k, want, sizeof(*want))) {
		print_key("meter", k);
		print_key("reference", want);
	}
	FUZZ_CHECK(!memcmp(k, want, sizeof(*want)),
		   "[%s] the meter's key differs from the reference's", in->name);
	FUZZ_CHECK(e->dir[0].tcp_flags == want_flags, "[%s] tcp flags %#x, want %#x", in->name,
		   e->dir[0].tcp_flags, want_flags);
	/* Behind a FabricPath header, the original frame's. */
	if (be16(frame + 12) == 0x8903)
		frame += 16;
	FUZZ_CHECK(!memcmp(e->src_mac, frame + 6, 6) && !memcmp(e->dst_mac, frame, 6),
		   "[%s] MAC addresses", in->name);
}

static void one_instance(struct inst *in, const uint8_t *frame, size_t len)
{
	uint64_t d1[NFX_COUNTER_MAX], d2[NFX_COUNTER_MAX], d3[NFX_COUNTER_MAX];
	uint64_t t1 = clock_ns += 1000, t2 = clock_ns += 1000, t3 = clock_ns += 1000;
	struct flow_key k1, want;
	struct flow_entry e1;
	uint8_t want_flags = 0;
	int o1, ref = NO_OPINION;

	clear(in);
	run(in, poison[0], sizeof(poison[0]), t1, d1);
	run(in, frame, len, t1, d1);
	o1 = outcome(in, d1);
	cover(in - inst, F_OUTCOME + o1);
	cover(in - inst, F_TRUNCATED + !!d1[NFX_TRUNCATED]);
	if (in->reference) {
		ref = ref_parse(frame, len, &want, &want_flags);
		cover(in - inst, F_REF + (ref != NO_OPINION));
		FUZZ_CHECK(ref == NO_OPINION || ref == o1,
			   "[%s] ended in %s, the reference says %s", in->name, counter_name(o1),
			   counter_name(ref));
	}
	if (in->filtered) {
		bool keep = pcap_filter_match(&filter, frame,
					      len < FILTER_SNAPLEN ? len : FILTER_SNAPLEN, len);

		FUZZ_CHECK((o1 == NFX_FILTERED_OUT) == !keep,
			   "[%s] ended in %s, libpcap %s the frame", in->name, counter_name(o1),
			   keep ? "keeps" : "rejects");
	}
	first(in, frame, len, o1, ref, &want, want_flags, d1, &k1, &e1, t1);

	/* Again, after other patterns past the frame, by nfx_meter then nfx_replay. */
	run(in, poison[1], sizeof(poison[1]), t2, d2);
	run(in, frame, len, t2, d2);
	again(in, "nfx_meter", len, o1, &k1, &e1, d2, t2);
	run_replay(in, frame, len, t3, d3);
	again(in, "nfx_replay", len, o1, &k1, &e1, d3, t3);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t frame[FRAME_MAX];
	size_t len = size;

	if (size > FRAME_MAX)
		return 0;
	memcpy(frame, data, size);
	if (len < ETH_MIN) {
		memset(frame + len, 0, ETH_MIN - len);
		len = ETH_MIN;
	}
	for (int i = 0; i < 2; i++)
		one_instance(&inst[i], frame, len);
	return 0;
}
