// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The XDP meter through BPF_PROG_TEST_RUN on crafted frames: parsing,
 * keys, direction, counters, flags, ignored reasons, timestamps from
 * data_meta, expiry on arrival, the closer and the entry life cycle.
 * --filter and --hash-slice: tests/bpf/test_filter.c.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <sys/mman.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "common/clock.h"
#include "meter/counters.h"
#include "harness.h"
#include "collector/expiry.h"
#include "common/log.h"
#include "meter.skel.h"
#include "test.h"

#define SEC_NS 1000000000ULL
#define MS 1000000ULL
#define MS_NS 1000000ULL

#define MACS .smac = { 2, 0, 0, 0, 0, 1 }, .dmac = { 2, 0, 0, 0, 0, 2 }
#define V4 MACS, .ip_version = 4, .src = "198.18.0.1", .dst = "198.18.0.2"
#define V6 MACS, .ip_version = 6, .src = "fd00::1", .dst = "fd00::2"
#define TCP(sp, dp) .proto = 6, .sport = sp, .dport = dp
#define UDP(sp, dp) .proto = 17, .sport = sp, .dport = dp

/* A frame, the counter it must end in and, when metered, its flow. */
struct parse_case {
	const char *name;
	struct pkt_spec spec;
	int want;
	int key_version; /* 0: the spec's */
	const char *key_src, *key_dst;
	uint16_t sport, dport, vlan;
	uint8_t proto;
};

static const struct parse_case parse_cases[] = {
	{ "ipv4 tcp", { V4, TCP(40000, 80), .tcp_flags = 0x02 }, NFX_FRAMES_METERED,
	  .sport = 40000, .dport = 80, .proto = 6 },
	{ "ipv4 udp", { V4, UDP(5353, 53), .payload = 30 }, NFX_FRAMES_METERED,
	  .sport = 5353, .dport = 53, .proto = 17 },
	{ "ipv4 icmp: ports 0", { V4, .proto = 1, .payload = 56 }, NFX_FRAMES_METERED,
	  .proto = 1 },
	{ "ipv4 sctp: ports kept", { V4, .proto = 132, .sport = 3868, .dport = 3869 },
	  NFX_FRAMES_METERED, .sport = 3868, .dport = 3869, .proto = 132 },
	{ "ipv4 gre: ports 0", { V4, .proto = 47, .payload = 20 }, NFX_FRAMES_METERED,
	  .proto = 47 },
	{ "ipv6 tcp", { V6, TCP(40001, 443) }, NFX_FRAMES_METERED, .sport = 40001,
	  .dport = 443, .proto = 6 },
	{ "ipv6 udp", { V6, UDP(40002, 53), .payload = 10 }, NFX_FRAMES_METERED,
	  .sport = 40002, .dport = 53, .proto = 17 },
	{ "ipv6 icmpv6: ports 0", { V6, .proto = 58, .payload = 56 }, NFX_FRAMES_METERED,
	  .proto = 58 },
	{ "802.1q", { V4, UDP(1, 2), .n_vlans = 1, .vlan_tpid = { 0x8100 }, .vlan_id = { 10 } },
	  NFX_FRAMES_METERED, .sport = 1, .dport = 2, .vlan = 10, .proto = 17 },
	{ "802.1ad + 802.1q: innermost id",
	  { V4, UDP(1, 2), .n_vlans = 2, .vlan_tpid = { 0x88a8, 0x8100 },
	    .vlan_id = { 100, 200 } },
	  NFX_FRAMES_METERED, .sport = 1, .dport = 2, .vlan = 200, .proto = 17 },
	{ "three 802.1q tags, priority bits ignored",
	  { V6, UDP(1, 2), .n_vlans = 3, .vlan_tpid = { 0x8100, 0x8100, 0x8100 },
	    .vlan_id = { 1, 2, 0xe003 } },
	  NFX_FRAMES_METERED, .sport = 1, .dport = 2, .vlan = 3, .proto = 17 },
	{ "mpls stack of 3", { V4, TCP(1, 2), .mpls_labels = 3 }, NFX_FRAMES_METERED, .sport = 1,
	  .dport = 2, .proto = 6 },
	{ "mpls then ipv6", { V6, TCP(1, 2), .mpls_labels = 1 }, NFX_FRAMES_METERED, .sport = 1,
	  .dport = 2, .proto = 6 },
	{ "pppoe ipv4", { V4, UDP(7, 8), .pppoe = true }, NFX_FRAMES_METERED, .sport = 7,
	  .dport = 8, .proto = 17 },
	{ "pppoe ipv6", { V6, UDP(7, 8), .pppoe = true }, NFX_FRAMES_METERED, .sport = 7,
	  .dport = 8, .proto = 17 },
	{ "llc/snap ipv4", { V4, UDP(9, 10), .llc_snap = true }, NFX_FRAMES_METERED, .sport = 9,
	  .dport = 10, .proto = 17 },
	{ "ipv4 options (ihl 15)", { V4, TCP(11, 12), .ipv4_ihl = 15 }, NFX_FRAMES_METERED,
	  .sport = 11, .dport = 12, .proto = 6 },
	{ "ipv4 first fragment: metered", { V4, UDP(13, 14), .more_frags = true, .payload = 64 },
	  NFX_FRAMES_METERED, .sport = 13, .dport = 14, .proto = 17 },
	{ "ipv4 later fragment: ignored", { V4, UDP(13, 14), .frag_offset = 9, .payload = 64 },
	  NFX_IGNORE_FRAGMENT },
	{ "ipv6 hop-by-hop, routing, destination options",
	  { V6, TCP(15, 16), .ipv6_ext = { 0, 43, 60 }, .n_ext = 3 }, NFX_FRAMES_METERED,
	  .sport = 15, .dport = 16, .proto = 6 },
	{ "ipv6 mobility header in the chain", { V6, UDP(15, 16), .ipv6_ext = { 135 }, .n_ext = 1 },
	  NFX_FRAMES_METERED, .sport = 15, .dport = 16, .proto = 17 },
	{ "ipv6 first fragment: metered",
	  { V6, UDP(17, 18), .ipv6_ext = { 44 }, .n_ext = 1, .more_frags = true },
	  NFX_FRAMES_METERED, .sport = 17, .dport = 18, .proto = 17 },
	{ "ipv6 later fragment: ignored",
	  { V6, UDP(17, 18), .ipv6_ext = { 0, 44 }, .n_ext = 2, .frag_offset = 100 },
	  NFX_IGNORE_FRAGMENT },
	{ "4in4: inner flow",
	  { V4, TCP(19, 20), .outer_version = 4, .outer_src = "198.19.0.1",
	    .outer_dst = "198.19.0.2" },
	  NFX_FRAMES_METERED, .sport = 19, .dport = 20, .proto = 6 },
	{ "6in4: inner flow",
	  { V6, TCP(21, 22), .outer_version = 4, .outer_src = "198.19.0.1",
	    .outer_dst = "198.19.0.2" },
	  NFX_FRAMES_METERED, .sport = 21, .dport = 22, .proto = 6 },
	{ "4in6: inner flow",
	  { V4, UDP(23, 24), .outer_version = 6, .outer_src = "fd00::a", .outer_dst = "fd00::b" },
	  NFX_FRAMES_METERED, .sport = 23, .dport = 24, .proto = 17 },
	{ "6in6: inner flow",
	  { V6, UDP(25, 26), .outer_version = 6, .outer_src = "fd00::a", .outer_dst = "fd00::b" },
	  NFX_FRAMES_METERED, .sport = 25, .dport = 26, .proto = 17 },
	{ "tcp shorter than its header: ports 0",
	  { V4, TCP(27, 28), .len_delta = -10, .truncate = 10 }, NFX_FRAMES_METERED,
	  .proto = 6 },
	{ "arp: not ip", { MACS, .ethertype = 0x0806, .ip_version = 0, .payload = 28 },
	  NFX_IGNORE_NON_IP },
	{ "lldp: not ip", { MACS, .ethertype = 0x88cc, .ip_version = 0, .payload = 40 },
	  NFX_IGNORE_NON_IP },
	{ "27 bytes: too short", { V4, UDP(1, 2), .truncate = 15 }, NFX_IGNORE_TOO_SHORT },
	{ "ipv4 ihl 4", { V4, TCP(1, 2), .ipv4_ihl = 4 }, NFX_IGNORE_MALFORMED_IPV4 },
	{ "ipv4 version 5", { V4, TCP(1, 2), .version = 5 }, NFX_IGNORE_MALFORMED_IPV4 },
	{ "ipv4 total length < header", { V4, TCP(1, 2), .len_delta = -21 },
	  NFX_IGNORE_MALFORMED_IPV4 },
	{ "ipv4 total length past the frame: metered from the header",
	  { V4, TCP(1, 3), .len_delta = 100 }, NFX_FRAMES_METERED, .sport = 1, .dport = 3,
	  .proto = 6 },
	{ "ipv4 header cut short", { V4, TCP(1, 2), .truncate = 24 },
	  NFX_IGNORE_MALFORMED_IPV4 },
	{ "ipv6 payload length past the frame", { V6, UDP(1, 2), .len_delta = 8 },
	  NFX_IGNORE_MALFORMED_IPV6 },
	{ "ipv6 header cut short", { V6, UDP(1, 2), .truncate = 30 },
	  NFX_IGNORE_MALFORMED_IPV6 },
	{ "ipv6 version 4 in 86dd", { V6, UDP(1, 2), .version = 4 }, NFX_IGNORE_MALFORMED_IPV6 },
	{ "ipv6 four destination-options headers",
	  { V6, UDP(1, 2), .ipv6_ext = { 60, 60, 60, 60 }, .n_ext = 4, .payload = 0 },
	  NFX_FRAMES_METERED, .sport = 1, .dport = 2, .proto = 17 },
	{ "vlan tag cut short", { MACS, .ethertype = 0x8100, .ip_version = 0, .payload = 0 },
	  NFX_IGNORE_TOO_SHORT },
	{ "fabricpath: the original frame's flow and macs",
	  { V4, UDP(29, 30), .fabricpath = true, .payload = 20 }, NFX_FRAMES_METERED,
	  .sport = 29, .dport = 30, .proto = 17 },
	{ "fabricpath, 802.1q and llc/snap inside",
	  { V6, TCP(31, 32), .fabricpath = true, .llc_snap = true, .n_vlans = 1,
	    .vlan_tpid = { 0x8100 }, .vlan_id = { 77 } },
	  NFX_FRAMES_METERED, .sport = 31, .dport = 32, .vlan = 77, .proto = 6 },
	{ "fabricpath with no whole frame behind it",
	  { MACS, .ethertype = 0x8903, .ip_version = 0, .payload = 14 }, NFX_IGNORE_MALFORMED_L2 },
};

static int frame_of(const struct pkt_spec *s, uint8_t *buf)
{
	return pkt_build(s, buf, PKT_MAX);
}

/*
 * Loads the meter for the tests of @what (@o NULL: defaults). When it does
 * not load, a FAIL line "WHAT: load the meter" says so and the tests that
 * need it do not run. Returns whether it loaded.
 */
static bool load(struct harness *h, const struct meter_opts *o, const char *what)
{
	char name[160];
	int err = harness_open(h, o);

	if (!err)
		return true;
	snprintf(name, sizeof(name), "%s: load the meter", what);
	TEST(name) ASSERT_EQ(err, 0, "harness_open");
	return false;
}

static void expected_key(const struct parse_case *c, struct flow_key *k, int *from_hi)
{
	int v = c->spec.ip_version;

	test_key(k, v, c->spec.src, c->sport, c->spec.dst, c->dport, c->proto, c->vlan, from_hi);
}

static void test_parse_table(void)
{
	struct harness h;

	if (!load(&h, NULL, "parse"))
		return;
	for (size_t i = 0; i < sizeof(parse_cases) / sizeof(parse_cases[0]); i++) {
		const struct parse_case *c = &parse_cases[i];
		struct flow_entry before = { 0 }, after = { 0 };
		uint8_t frame[PKT_MAX];
		struct flow_key k;
		char name[128];
		int len, from_hi = 0, got;

		snprintf(name, sizeof(name), "parse: %s", c->name);
		TEST(name)
		{
			len = frame_of(&c->spec, frame);
			if (!ASSERT_TRUE(len > 0, "frame built"))
				continue;
			if (c->want == NFX_FRAMES_METERED) {
				expected_key(c, &k, &from_hi);
				harness_lookup(&h, &k, &before);
			}
			got = harness_run(&h, frame, len, 0, (i + 1) * SEC_NS);
			ASSERT_EQ(got, c->want, "counter the frame ends in");
			if (c->want != NFX_FRAMES_METERED)
				continue;
			if (!ASSERT_EQ(harness_lookup(&h, &k, &after), 0, "entry under expected key"))
				continue;
			ASSERT_EQ(after.dir[0].packets + after.dir[1].packets,
				  before.dir[0].packets + before.dir[1].packets + 1, "packets");
			ASSERT_EQ(after.dir[0].bytes + after.dir[1].bytes,
				  before.dir[0].bytes + before.dir[1].bytes + len, "bytes = frame");
			ASSERT_EQ(!!(after.flags & FLOW_F_SRC_IS_HI), from_hi, "src is the sender");
			ASSERT_TRUE(!memcmp(after.src_mac, c->spec.smac, 6), "src mac");
			ASSERT_TRUE(!memcmp(after.dst_mac, c->spec.dmac, 6), "dst mac");
		}
	}
	TEST("parse: frames seen = metered + ignored + lost")
	{
		uint64_t c[NFX_COUNTER_MAX], sum = 0;

		harness_counters(&h, c);
		for (int i = NFX_OUTCOME_FIRST; i <= NFX_OUTCOME_LAST; i++)
			sum += c[i];
		ASSERT_EQ(c[NFX_FRAMES_SEEN], sizeof(parse_cases) / sizeof(parse_cases[0]), "seen");
		ASSERT_EQ(sum, c[NFX_FRAMES_SEEN], "sum of outcomes");
	}
	harness_close(&h);
}

/* Frames past the parse window or the extension-header bound. */
static void test_parse_limits(void)
{
	struct harness h;
	uint8_t frame[PKT_MAX];
	struct pkt_spec s = { V6, UDP(1, 2), .ipv6_ext = { 0 }, .n_ext = 1 };
	int len;

	if (!load(&h, NULL, "parse: limits"))
		return;
	TEST("parse: headers past the parse window")
	{
		len = frame_of(&s, frame);
		/* Hop-by-hop of 31 * 8 bytes pushes UDP past PARSE_WINDOW. */
		frame[14 + 40 + 1] = 30;
		memmove(frame + 14 + 40 + 248, frame + 14 + 40 + 8, len - 14 - 40 - 8);
		len += 240;
		frame[14 + 4] = (248 + 8) >> 8;
		frame[14 + 5] = (248 + 8) & 0xff;
		ASSERT_EQ(harness_run(&h, frame, len, 0, SEC_NS), NFX_IGNORE_HEADERS_TOO_LONG,
			  "ignored");
	}
	TEST("parse: more than 8 extension headers")
	{
		struct pkt_spec t = s;

		t.n_ext = 4;
		memset(t.ipv6_ext, 60, sizeof(t.ipv6_ext));
		len = frame_of(&t, frame);
		/* Nine destination-options headers: the chain bound is 8. */
		{
			uint8_t big[PKT_MAX];
			int hdr = 14 + 40, rest = len - hdr - 32;

			memcpy(big, frame, hdr);
			for (int i = 0; i < 9; i++) {
				memset(big + hdr + i * 8, 0, 8);
				big[hdr + i * 8] = i < 8 ? 60 : 17;
			}
			memcpy(big + hdr + 72, frame + hdr + 32, rest);
			big[14 + 6] = 60;
			big[14 + 4] = 0;
			big[14 + 5] = 72 + rest;
			ASSERT_EQ(harness_run(&h, big, hdr + 72 + rest, 0, SEC_NS),
				  NFX_IGNORE_HEADERS_TOO_LONG, "ignored");
		}
	}
	harness_close(&h);
}

/* Both directions share an entry; src is the first packet's sender. */
static void test_direction(void)
{
	struct harness h;

	if (!load(&h, NULL, "direction"))
		return;
	for (int first_from_hi = 0; first_from_hi < 2; first_from_hi++) {
		struct pkt_spec fwd = { V4, UDP(5000, 6000), .payload = 10 }, rev;
		uint64_t t = first_from_hi * 100 * SEC_NS; /* the replay clock only moves on */
		struct flow_entry e;
		struct flow_key k;
		int from_hi;

		if (first_from_hi) {
			fwd.src = "198.18.0.9";
			fwd.dst = "198.18.0.3";
		}
		rev = fwd;
		pkt_spec_reverse(&rev);
		TEST(first_from_hi ? "direction: first packet from the hi endpoint" :
				     "direction: first packet from the lo endpoint")
		{
			test_key(&k, 4, fwd.src, 5000, fwd.dst, 6000, 17, 0, &from_hi);
			ASSERT_EQ(from_hi, first_from_hi, "test precondition");
			ASSERT_EQ(harness_run_spec(&h, &fwd, t + 10 * SEC_NS), NFX_FRAMES_METERED,
				  "1st");
			ASSERT_EQ(harness_run_spec(&h, &rev, t + 11 * SEC_NS + 500),
				  NFX_FRAMES_METERED, "2nd");
			ASSERT_EQ(harness_run_spec(&h, &fwd, t + 12 * SEC_NS), NFX_FRAMES_METERED,
				  "3rd");
			ASSERT_EQ(harness_lookup(&h, &k, &e), 0, "one entry for both directions");
			ASSERT_EQ(!!(e.flags & FLOW_F_SRC_IS_HI), first_from_hi, "src side");
			ASSERT_EQ(e.dir[DIR_SRC2DST].packets, 2, "src2dst packets");
			ASSERT_EQ(e.dir[DIR_DST2SRC].packets, 1, "dst2src packets");
			ASSERT_EQ(e.dir[DIR_SRC2DST].bytes, 2 * (14 + 20 + 8 + 10), "src2dst bytes");
			ASSERT_EQ(e.dir[DIR_DST2SRC].bytes, 14 + 20 + 8 + 10, "dst2src bytes");
			ASSERT_EQ(e.dir[DIR_SRC2DST].first_seen_ns, t + 10 * SEC_NS, "src2dst first");
			ASSERT_EQ(e.dir[DIR_SRC2DST].last_seen_ns, t + 12 * SEC_NS, "src2dst last");
			ASSERT_EQ(e.dir[DIR_DST2SRC].first_seen_ns, t + 11 * SEC_NS + 500,
				  "dst2src first");
			ASSERT_EQ(e.dir[DIR_DST2SRC].last_seen_ns, t + 11 * SEC_NS + 500,
				  "dst2src last");
			ASSERT_TRUE(!memcmp(e.src_mac, fwd.smac, 6) && !memcmp(e.dst_mac, fwd.dmac, 6),
				    "macs of the first packet");
			ASSERT_EQ(harness_flow_count(&h), first_from_hi + 1, "entries");
		}
	}
	harness_close(&h);
}

static void test_tcp_flags(void)
{
	struct harness h;
	struct pkt_spec c2s = { V4, TCP(33000, 22) }, s2c;
	struct flow_entry e;
	struct flow_key k;
	static const uint8_t seq[][2] = {
		{ 0, 0x02 }, { 1, 0x12 }, { 0, 0x10 }, { 0, 0x18 }, { 1, 0x10 }, { 0, 0x11 },
	};

	if (!load(&h, NULL, "tcp flags"))
		return;
	s2c = c2s;
	pkt_spec_reverse(&s2c);
	TEST("tcp flags: OR per direction, FIN from one side does not end the flow")
	{
		for (size_t i = 0; i < sizeof(seq) / sizeof(seq[0]); i++) {
			struct pkt_spec *s = seq[i][0] ? &s2c : &c2s;

			s->tcp_flags = seq[i][1];
			ASSERT_EQ(harness_run_spec(&h, s, (i + 1) * MS_NS), NFX_FRAMES_METERED, "frame");
		}
		test_key(&k, 4, c2s.src, 33000, c2s.dst, 22, 6, 0, NULL);
		ASSERT_EQ(harness_lookup(&h, &k, &e), 0, "entry");
		ASSERT_EQ(e.dir[DIR_SRC2DST].tcp_flags, 0x02 | 0x10 | 0x08 | 0x01, "src2dst flags");
		ASSERT_EQ(e.dir[DIR_DST2SRC].tcp_flags, 0x12, "dst2src flags");
		ASSERT_TRUE(!FLOW_F_ENDED(e.flags), "one FIN: not ended");
	}
	TEST("tcp flags: FIN both ways ends the flow")
	{
		s2c.tcp_flags = 0x11;
		harness_run_spec(&h, &s2c, 10 * MS_NS);
		harness_lookup(&h, &k, &e);
		ASSERT_TRUE(FLOW_F_ENDED(e.flags), "ended");
		ASSERT_TRUE(!(e.flags & FLOW_F_RST), "no rst");
	}
	TEST("tcp flags: RST ends the flow")
	{
		struct pkt_spec r = { V4, TCP(33001, 22), .tcp_flags = 0x04 };

		harness_run_spec(&h, &r, 11 * MS_NS);
		test_key(&k, 4, r.src, 33001, r.dst, 22, 6, 0, NULL);
		harness_lookup(&h, &k, &e);
		ASSERT_TRUE(FLOW_F_ENDED(e.flags) && (e.flags & FLOW_F_RST), "rst ends");
	}
	harness_close(&h);
}

/* Timestamps: data_meta gives the time; older ones are raised (replay clock). */
static void test_timestamps(void)
{
	struct harness h;
	struct pkt_spec s = { V4, UDP(1111, 2222) };
	struct flow_entry e;
	struct flow_key k;

	if (!load(&h, NULL, "time"))
		return;
	test_key(&k, 4, s.src, 1111, s.dst, 2222, 17, 0, NULL);
	TEST("time: data_meta timestamp and wire length")
	{
		uint8_t frame[PKT_MAX];
		int len = frame_of(&s, frame);

		ASSERT_EQ(harness_run(&h, frame, len, 1500, 123456789), NFX_FRAMES_METERED, "run");
		harness_lookup(&h, &k, &e);
		ASSERT_EQ(e.dir[0].first_seen_ns, 123456789, "first seen");
		ASSERT_EQ(e.dir[0].bytes, 1500, "bytes from the original length");
	}
	TEST("time: an older timestamp is raised to the latest")
	{
		harness_run_spec(&h, &s, 100 * SEC_NS);
		harness_run_spec(&h, &s, 50 * SEC_NS);
		harness_lookup(&h, &k, &e);
		ASSERT_EQ(e.dir[0].last_seen_ns, 100 * SEC_NS, "last seen not moved back");
		ASSERT_EQ(e.dir[0].packets, 3, "packets");
	}
	harness_close(&h);
	if (!load(&h, NULL, "time: live"))
		return;
	TEST("time: live frames take the kernel's boot-time clock")
	{
		uint8_t frame[PKT_MAX];
		int len = frame_of(&s, frame);
		uint64_t t0 = clock_ns(CLOCK_BOOTTIME), t1;

		ASSERT_EQ(harness_run_live(&h, frame, len), NFX_FRAMES_METERED, "run");
		t1 = clock_ns(CLOCK_BOOTTIME);
		harness_lookup(&h, &k, &e);
		ASSERT_TRUE(e.dir[0].first_seen_ns >= t0 && e.dir[0].first_seen_ns <= t1,
			    "within the call");
	}
	harness_close(&h);
}

static void test_accounting(void)
{
	static const struct {
		int mode;
		const char *name;
		uint64_t tcp4, udp6;
	} modes[] = {
		/* TCP/IPv4 with 100 bytes of data; UDP/IPv6 with 50 (NFStream's rules). */
		{ ACCOUNT_LINK, "link", 14 + 20 + 20 + 100, 14 + 40 + 8 + 50 },
		{ ACCOUNT_IP, "ip", 20 + 20 + 100, 8 + 50 },
		{ ACCOUNT_TRANSPORT, "transport", 20 + 100, 8 + 50 },
		{ ACCOUNT_PAYLOAD, "payload", 100, 50 },
	};

	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		struct pkt_spec t = { V4, TCP(1, 2), .payload = 100 }, u = { V6, UDP(3, 4), .payload = 50 };
		struct meter_opts o;
		struct harness h;
		struct flow_entry e;
		struct flow_key k;
		char name[64];

		harness_default_opts(&o);
		o.accounting = modes[i].mode;
		snprintf(name, sizeof(name), "accounting: %s", modes[i].name);
		if (!load(&h, &o, name))
			continue;
		TEST(name)
		{
			harness_run_spec(&h, &t, SEC_NS);
			harness_run_spec(&h, &u, SEC_NS);
			test_key(&k, 4, t.src, 1, t.dst, 2, 6, 0, NULL);
			harness_lookup(&h, &k, &e);
			ASSERT_EQ(e.dir[0].bytes, modes[i].tcp4, "tcp/ipv4");
			test_key(&k, 6, u.src, 3, u.dst, 4, 17, 0, NULL);
			harness_lookup(&h, &k, &e);
			ASSERT_EQ(e.dir[0].bytes, modes[i].udp6, "udp/ipv6");
		}
		harness_close(&h);
	}
}

/* Expiry on packet arrival, NFStream's rules in ms: idle, then active. */
static void test_expiry_on_arrival(void)
{
	struct meter_opts o;
	struct harness h;
	struct pkt_spec s = { V4, UDP(7000, 7001) };
	struct flow_entry e;
	struct flow_key k;

	harness_default_opts(&o);
	o.idle_timeout_ms = 10000;
	o.active_timeout_ms = 25000;
	if (!load(&h, &o, "expiry"))
		return;
	test_key(&k, 4, s.src, 7000, s.dst, 7001, 17, 0, NULL);
	TEST("expiry: idle gap just under the timeout keeps the flow")
	{
		harness_run_spec(&h, &s, 1000 * MS_NS + 999999);
		harness_run_spec(&h, &s, 11000 * MS_NS + 999998 - MS_NS);
		ASSERT_EQ(harness_drain(&h), 0, "nothing closed");
	}
	TEST("expiry: idle gap of exactly the timeout (in ms) closes it")
	{
		harness_run_spec(&h, &s, 20999 * MS_NS);
		ASSERT_EQ(harness_drain(&h), 1, "one closed");
		ASSERT_EQ(h.events[0].reason, EXPIRY_IDLE, "reason idle");
		ASSERT_EQ(h.events[0].entry.dir[0].packets, 2, "old flow without the new packet");
		harness_lookup(&h, &k, &e);
		ASSERT_EQ(e.dir[0].packets, 1, "new flow holds the packet");
		ASSERT_EQ(e.dir[0].first_seen_ns, 20999 * MS_NS, "new flow first seen");
	}
	TEST("expiry: active timeout")
	{
		/* The flow opened at 20.999s: 25s..45s stay in it, 50s is past 45.999s. */
		for (int t = 25; t <= 50; t += 5)
			harness_run_spec(&h, &s, t * SEC_NS);
		ASSERT_EQ(harness_drain(&h), 1, "one closed");
		ASSERT_EQ(h.events[1].reason, EXPIRY_ACTIVE, "reason active");
		ASSERT_EQ(h.events[1].entry.dir[0].packets, 6, "20.999s..45s");
		harness_lookup(&h, &k, &e);
		ASSERT_EQ(e.dir[0].packets, 1, "50s opens a new flow");
	}
	TEST("expiry: a SYN after FIN both ways starts a new flow (natural)")
	{
		struct pkt_spec a = { V4, TCP(9000, 80), .tcp_flags = 0x02 }, b;

		b = a;
		pkt_spec_reverse(&b);
		harness_run_spec(&h, &a, 50 * SEC_NS);
		b.tcp_flags = 0x12;
		harness_run_spec(&h, &b, 50 * SEC_NS + 1);
		a.tcp_flags = 0x11;
		harness_run_spec(&h, &a, 50 * SEC_NS + 2);
		b.tcp_flags = 0x11;
		harness_run_spec(&h, &b, 50 * SEC_NS + 3);
		a.tcp_flags = 0x10;
		harness_run_spec(&h, &a, 50 * SEC_NS + 4);
		ASSERT_EQ(harness_drain(&h), 0, "final ACK stays in the flow");
		a.tcp_flags = 0x02;
		harness_run_spec(&h, &a, 51 * SEC_NS);
		ASSERT_EQ(harness_drain(&h), 1, "closed by the SYN");
		ASSERT_EQ(h.events[2].reason, EXPIRY_NATURAL, "natural");
		ASSERT_EQ(h.events[2].entry.dir[0].packets + h.events[2].entry.dir[1].packets, 5,
			  "five packets");
	}
	harness_close(&h);
}

/* Writes a request into close_queue and runs nfx_close over @n of them. */
static void run_close(struct harness *h, int n)
{
	unsigned char pkt[64] = { 0 };
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = pkt, .data_size_in = sizeof(pkt));

	h->m.skel->bss->close_queue_len = n;
	bpf_prog_test_run_opts(bpf_program__fd(h->m.skel->progs.nfx_close), &opts);
}

static void test_closer(void)
{
	struct harness h;
	struct close_req *q;
	struct flow_key k[3], unknown;
	struct flow_entry e;

	if (!load(&h, NULL, "closer"))
		return;
	q = h.m.skel->bss->close_queue;
	for (int i = 0; i < 3; i++) {
		struct pkt_spec s = { V4, UDP(100 + i, 200) };

		harness_run_spec(&h, &s, (i + 1) * SEC_NS);
		test_key(&k[i], 4, s.src, 100 + i, s.dst, 200, 17, 0, NULL);
	}
	test_key(&unknown, 4, "198.18.9.9", 1, "198.18.9.8", 2, 17, 0, NULL);
	TEST("closer: closes what is still idle, keeps what is not, reports unknown keys")
	{
		for (int i = 0; i < 3; i++) {
			q[i].key = k[i];
			q[i].reason = EXPIRY_IDLE;
			q[i].threshold_ns = 2 * SEC_NS; /* idle if last seen <= 2s */
		}
		q[3].key = unknown;
		q[3].reason = EXPIRY_IDLE;
		run_close(&h, 4);
		ASSERT_EQ(q[0].status, 0, "flow 1 closed");
		ASSERT_EQ(q[1].status, 0, "flow 2 closed");
		ASSERT_EQ(q[2].status, -EAGAIN, "flow 3 seen at 3s stays");
		ASSERT_EQ(q[3].status, -ENOENT, "unknown key");
		ASSERT_EQ(harness_drain(&h), 2, "two exported");
		ASSERT_EQ(h.events[0].reason, EXPIRY_IDLE, "reason");
		ASSERT_EQ(harness_flow_count(&h), 1, "one left");
		ASSERT_EQ(harness_lookup(&h, &k[2], &e), 0, "flow 3 still there");
		ASSERT_EQ(e.ctl & ~FLOW_GEN_MASK, FLOW_CTL(FLOW_LIVE), "flow 3 LIVE again, no writer");
	}
	TEST("closer: a flow with a writer inside is not closed")
	{
		int fd = bpf_map__fd(h.m.skel->maps.flows);

		e.ctl = FLOW_CTL(FLOW_LIVE) + 1;
		bpf_map_update_elem(fd, &k[2], &e, BPF_EXIST);
		q[0].key = k[2];
		q[0].reason = EXPIRY_FLUSH;
		run_close(&h, 1);
		ASSERT_EQ(q[0].status, -EBUSY, "busy");
		ASSERT_EQ(harness_flow_count(&h), 1, "kept");
		e.ctl = FLOW_CTL(FLOW_LIVE);
		bpf_map_update_elem(fd, &k[2], &e, BPF_EXIST);
		run_close(&h, 1);
		ASSERT_EQ(q[0].status, 0, "closed once the writer left");
		ASSERT_EQ(harness_drain(&h), 1, "exported");
		ASSERT_EQ(h.events[2].reason, EXPIRY_FLUSH, "flush");
		ASSERT_EQ(h.events[2].entry.dir[0].packets, 1, "its packet");
	}
	harness_close(&h);
}

/*
 * A writer must never count into an entry that is not LIVE or that belongs
 * to another flow (an LRU element recycled under it): the frame is lost
 * and counted as such instead.
 */
static void test_entry_states(void)
{
	static const struct {
		const char *name;
		uint64_t ctl;
		bool other_key;
	} states[] = {
		{ "entry: a DEAD entry is never written", FLOW_CTL(FLOW_DEAD), false },
		{ "entry: a NEW entry is never written", FLOW_CTL(FLOW_NEW), false },
		{ "entry: a recycled entry of another flow is never written", FLOW_CTL(FLOW_LIVE),
		  true },
	};

	for (size_t i = 0; i < sizeof(states) / sizeof(states[0]); i++) {
		struct harness h;
		struct pkt_spec s = { V4, UDP(4000, 4001) };
		struct flow_entry e, after;
		struct flow_key k;
		int fd;

		if (!load(&h, NULL, states[i].name))
			continue;
		fd = bpf_map__fd(h.m.skel->maps.flows);
		test_key(&k, 4, s.src, 4000, s.dst, 4001, 17, 0, NULL);
		harness_run_spec(&h, &s, SEC_NS);
		harness_lookup(&h, &k, &e);
		e.ctl = states[i].ctl;
		if (states[i].other_key)
			e.key.port_lo = htons(1);
		bpf_map_update_elem(fd, &k, &e, BPF_EXIST);
		TEST(states[i].name)
		{
			ASSERT_EQ(harness_run_spec(&h, &s, 2 * SEC_NS), NFX_LOST_BUSY, "lost, counted");
			harness_lookup(&h, &k, &after);
			ASSERT_TRUE(!memcmp(&after, &e, sizeof(e)), "entry unchanged");
		}
		harness_close(&h);
	}
}

/* An outer UDP frame to @port whose payload is @hdr then the inner frame (less Ethernet). */
static int tunnel_frame(uint8_t *out, uint16_t port, const uint8_t *hdr, size_t hlen,
			const struct pkt_spec *inner, bool keep_inner_eth)
{
	uint8_t in[PKT_MAX], payload[PKT_MAX];
	int ilen = frame_of(inner, in), skip = keep_inner_eth ? 0 : 14;
	struct pkt_spec outer = { V4, UDP(50000, port) };

	outer.src = "198.19.1.1";
	outer.dst = "198.19.1.2";
	memcpy(payload, hdr, hlen);
	memcpy(payload + hlen, in + skip, ilen - skip);
	outer.payload = hlen + ilen - skip;
	outer.payload_data = payload;
	return frame_of(&outer, out);
}

static void test_tunnels(void)
{
	static const uint8_t gtp[] = { 0x30, 0xff, 0, 40, 0, 0, 0, 1 };
	static const uint8_t gtp_ext[] = { 0x34, 0xff, 0, 48, 0, 0, 0, 1, 0, 0, 0, 0x85,
					   1, 0, 9, 0 }; /* one 4-byte extension, then none */
	static const uint8_t gtp_echo[] = { 0x32, 0x01, 0, 4, 0, 0, 0, 0, 0, 1, 0, 0 };
	static const uint8_t tzsp[] = { 1, 0, 0, 1, 1 };
	uint8_t capwap[8 + 24 + 8] = { 0x00, 0x10, 0, 0, 0, 0, 0, 0, 0x08, 0x01 }; /* HLEN 8, data ToDS */
	const struct pkt_spec inner = { V4, TCP(12345, 443), .payload = 20 };
	const struct pkt_spec inner6 = { V6, UDP(5353, 5353), .payload = 8 };
	uint8_t frame[PKT_MAX];
	struct flow_entry e;
	struct flow_key k;
	struct harness h;
	int len;

	/* CAPWAP: 802.11 addresses 2 and 3, then LLC/SNAP for IPv4. */
	memcpy(capwap + 8 + 10, "\x02\x11\x11\x11\x11\x11", 6);
	memcpy(capwap + 8 + 16, "\x02\x22\x22\x22\x22\x22", 6);
	memcpy(capwap + 8 + 24, "\xaa\xaa\x03\x00\x00\x00\x08\x00", 8);
	if (!load(&h, NULL, "tunnel"))
		return;
	TEST("tunnel: gtp-u carries the inner flow, tunnel id 1")
	{
		len = tunnel_frame(frame, PORT_GTP_U, gtp, sizeof(gtp), &inner, false);
		ASSERT_EQ(harness_run(&h, frame, len, 0, SEC_NS), NFX_FRAMES_METERED, "metered");
		test_key(&k, 4, inner.src, 12345, inner.dst, 443, 6, 0, NULL);
		k.tunnel_id = 1;
		ASSERT_EQ(harness_lookup(&h, &k, &e), 0, "inner key with tunnel id");
		ASSERT_EQ(e.dir[0].bytes, len, "link bytes are the outer frame's");
	}
	TEST("tunnel: gtp-u with an extension header, ipv6 inside")
	{
		len = tunnel_frame(frame, PORT_GTP_U, gtp_ext, sizeof(gtp_ext), &inner6, false);
		ASSERT_EQ(harness_run(&h, frame, len, 0, SEC_NS), NFX_FRAMES_METERED, "metered");
		test_key(&k, 6, inner6.src, 5353, inner6.dst, 5353, 17, 0, NULL);
		k.tunnel_id = 1;
		ASSERT_EQ(harness_lookup(&h, &k, &e), 0, "inner key");
	}
	TEST("tunnel: a gtp message that is not a T-PDU is the outer flow")
	{
		len = tunnel_frame(frame, PORT_GTP_U, gtp_echo, sizeof(gtp_echo), &inner, false);
		ASSERT_EQ(harness_run(&h, frame, len, 0, SEC_NS), NFX_FRAMES_METERED, "metered");
		test_key(&k, 4, "198.19.1.1", 50000, "198.19.1.2", PORT_GTP_U, 17, 0, NULL);
		ASSERT_EQ(harness_lookup(&h, &k, &e), 0, "outer key, tunnel id 0");
	}
	TEST("tunnel: capwap data, 802.11 addresses as macs, tunnel id 2")
	{
		len = tunnel_frame(frame, PORT_CAPWAP_DATA, capwap, sizeof(capwap), &inner, false);
		ASSERT_EQ(harness_run(&h, frame, len, 0, 2 * SEC_NS), NFX_FRAMES_METERED, "metered");
		test_key(&k, 4, inner.src, 12345, inner.dst, 443, 6, 0, NULL);
		k.tunnel_id = 2;
		ASSERT_EQ(harness_lookup(&h, &k, &e), 0, "inner key");
		ASSERT_TRUE(!memcmp(e.src_mac, "\x02\x11\x11\x11\x11\x11", 6), "src mac: address 2");
	}
	TEST("tunnel: capwap carrying an 802.11 management frame: not ip")
	{
		uint8_t mgmt[sizeof(capwap)];

		memcpy(mgmt, capwap, sizeof(mgmt));
		mgmt[8] = 0x40; /* probe request: no LLC/SNAP header */
		memset(mgmt + 8 + 24, 0, 8);
		len = tunnel_frame(frame, PORT_CAPWAP_DATA, mgmt, sizeof(mgmt), &inner, false);
		ASSERT_EQ(harness_run(&h, frame, len, 0, 2 * SEC_NS), NFX_IGNORE_NON_IP, "ignored");
	}
	TEST("tunnel: tzsp carries an Ethernet frame, tunnel id 3")
	{
		struct pkt_spec tagged = inner;

		tagged.n_vlans = 1;
		tagged.vlan_tpid[0] = 0x8100;
		tagged.vlan_id[0] = 77;
		len = tunnel_frame(frame, PORT_TZSP, tzsp, sizeof(tzsp), &tagged, true);
		ASSERT_EQ(harness_run(&h, frame, len, 0, 3 * SEC_NS), NFX_FRAMES_METERED, "metered");
		test_key(&k, 4, inner.src, 12345, inner.dst, 443, 6, 77, NULL);
		k.tunnel_id = 3;
		ASSERT_EQ(harness_lookup(&h, &k, &e), 0, "inner key with inner vlan");
	}
	harness_close(&h);
	{
		struct meter_opts o;

		harness_default_opts(&o);
		o.decode_tunnels = false;
		if (!load(&h, &o, "tunnel: decoding off"))
			return;
	}
	TEST("tunnel: with decoding off, gtp-u is the outer udp flow")
	{
		len = tunnel_frame(frame, PORT_GTP_U, gtp, sizeof(gtp), &inner, false);
		ASSERT_EQ(harness_run(&h, frame, len, 0, SEC_NS), NFX_FRAMES_METERED, "metered");
		test_key(&k, 4, "198.19.1.1", 50000, "198.19.1.2", PORT_GTP_U, 17, 0, NULL);
		ASSERT_EQ(harness_lookup(&h, &k, &e), 0, "outer key");
	}
	harness_close(&h);
}

struct writer_arg {
	struct harness *h;
	int cpu;
	int rounds;	/* test runs */
	int repeat;	/* frames per test run */
	uint8_t *buf;	/* nfx_meta + frame */
	size_t len;
	int err;
};

/* Meters one frame rounds * repeat times on one CPU, as XDP would. */
static void *writer(void *p)
{
	struct writer_arg *a = p;
	struct xdp_md ctx = { .data = sizeof(struct nfx_meta), .data_end = a->len };
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = a->buf, .data_size_in = a->len,
		    .ctx_in = &ctx, .ctx_size_in = sizeof(ctx), .repeat = a->repeat);
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(a->cpu, &set);
	pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
	for (int i = 0; i < a->rounds && !a->err; i++)
		a->err = bpf_prog_test_run_opts(a->h->meter_fd, &opts);
	return NULL;
}

static size_t meta_frame(uint8_t *buf, const struct pkt_spec *s, uint64_t ts)
{
	struct nfx_meta meta = { .ts_ns = ts, .magic = NFX_META_MAGIC };
	size_t len = pkt_build(s, buf + sizeof(meta), PKT_MAX);

	meta.wire_len = meta.frame_len = len;
	memcpy(buf, &meta, sizeof(meta));
	return sizeof(meta) + len;
}

static int ncpus(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	return n > 1 ? 2 : 1;
}

/* Two CPUs hammer one flow: not one count lost, with every feature on. */
static void test_concurrent_writers(void)
{
	struct pkt_spec s = { V4, TCP(31000, 31001), .payload = 18, .tcp_flags = 0x18 };
	struct writer_arg a[2];
	pthread_t t[2];
	uint8_t buf[PKT_MAX + 64];
	struct flow_entry_max full;
	struct flow_entry e;
	struct flow_key k;
	struct harness h;
	struct meter_opts o;
	size_t len = meta_frame(buf, &s, SEC_NS);
	const int rounds = 20, repeat = 10000, n = ncpus();
	const uint64_t total = (uint64_t)n * rounds * repeat, size = len - sizeof(struct nfx_meta);

	harness_default_opts(&o);
	o.statistical = true;
	o.splt = 8;
	if (!load(&h, &o, "concurrency: writers"))
		return;
	test_key(&k, 4, s.src, 31000, s.dst, 31001, 6, 0, NULL);
	TEST("concurrency: two CPUs meter one flow, every count kept")
	{
		for (int i = 0; i < n; i++) {
			a[i] = (struct writer_arg){ &h, i, rounds, repeat, buf, len, 0 };
			pthread_create(&t[i], NULL, writer, &a[i]);
		}
		for (int i = 0; i < n; i++) {
			pthread_join(t[i], NULL);
			ASSERT_EQ(a[i].err, 0, "test run");
		}
		ASSERT_EQ(n, 2, "this machine has two CPUs to race");
		harness_lookup(&h, &k, &e);
		ASSERT_EQ(e.dir[0].packets, total, "packets");
		ASSERT_EQ(e.dir[0].bytes, total * size, "bytes");
		ASSERT_EQ(e.ctl & ~FLOW_GEN_MASK, FLOW_CTL(FLOW_LIVE), "no writer left inside");
		harness_lookup_full(&h, &k, &full);
		ASSERT_EQ(full.st.dir[0].ps_sumsq, total * size * size, "sum of squares");
		ASSERT_EQ(full.st.dir[0].ps_min, size, "min");
		ASSERT_EQ(full.st.dir[0].ps_max, size, "max");
		ASSERT_EQ(full.st.dir[0].flag_packets[FLAG_ACK], total, "ack packets");
		ASSERT_EQ(full.st.dir[0].flag_packets[FLAG_PSH], total, "psh packets");
		ASSERT_EQ(full.st.piat_sum_ms, 0, "gaps (one timestamp)");
		ASSERT_EQ(full.st.piat_min_ms, 0, "gap min");
		ASSERT_TRUE(full.sp.claimed >= 8, "slots all taken");
		for (int i = 0; i < 8; i++)
			ASSERT_EQ(full.sp.slot[i].size, size, "slot size");
	}
	harness_close(&h);
}

struct closer_arg {
	struct harness *h;
	struct flow_key key;
	volatile int stop;
	int closes;
};

/* Closes the flow over and over while the writers run. */
static void *closer(void *p)
{
	struct closer_arg *c = p;
	struct close_req *q = c->h->m.skel->bss->close_queue;

	while (!c->stop) {
		q[0].key = c->key;
		q[0].reason = EXPIRY_FLUSH;
		run_close(c->h, 1);
		if (q[0].status == 0)
			c->closes++;
		ring_buffer__consume(c->h->rb);
	}
	return NULL;
}

/*
 * The race the protocol exists for: packets arrive while the collector
 * removes their flow's entry. Every frame is in exactly one exported
 * record or in the entry left at the end, or counted lost.
 */
static void test_close_race(void)
{
	struct pkt_spec s = { V4, UDP(32000, 32001) };
	struct writer_arg a[2];
	struct closer_arg c = { 0 };
	pthread_t t[2], ct;
	uint8_t buf[PKT_MAX + 64];
	struct flow_entry e;
	struct harness h;
	uint64_t cnt[NFX_COUNTER_MAX], exported = 0, left = 0;
	size_t len = meta_frame(buf, &s, SEC_NS);
	const int rounds = 200, repeat = 500, n = ncpus();

	if (!load(&h, NULL, "concurrency: close race"))
		return;
	c.h = &h;
	test_key(&c.key, 4, s.src, 32000, s.dst, 32001, 17, 0, NULL);
	TEST("concurrency: closing a flow while two CPUs write to it loses nothing")
	{
		pthread_create(&ct, NULL, closer, &c);
		for (int i = 0; i < n; i++) {
			a[i] = (struct writer_arg){ &h, i, rounds, repeat, buf, len, 0 };
			pthread_create(&t[i], NULL, writer, &a[i]);
		}
		for (int i = 0; i < n; i++)
			pthread_join(t[i], NULL);
		c.stop = 1;
		pthread_join(ct, NULL);
		ring_buffer__consume(h.rb);
		for (int i = 0; i < h.n_events; i++)
			exported += h.events[i].entry.dir[0].packets + h.events[i].entry.dir[1].packets;
		if (!harness_lookup(&h, &c.key, &e))
			left = e.dir[0].packets + e.dir[1].packets;
		harness_counters(&h, cnt);
		ASSERT_TRUE(c.closes > 10, "the closer won many times");
		ASSERT_EQ(h.n_events, c.closes, "one record per close");
		ASSERT_EQ(exported + left + cnt[NFX_LOST_BUSY], (long long)n * rounds * repeat,
			  "every frame exported, still in the cache, or counted lost");
		ASSERT_EQ(cnt[NFX_FRAMES_METERED], exported + left, "metered = exported + in cache");
		ASSERT_EQ(cnt[NFX_LOST_BUSY], 0, "none lost");
		printf("# close race: %d closes, %llu frames exported, %llu left in the cache\n",
		       c.closes, (unsigned long long)exported, (unsigned long long)left);
	}
	harness_close(&h);
}

/* ---- overflow: a full cache exports new flows' packets instead of evicting ---- */

#define OVF_LIMIT 64

static uint64_t flows_live(struct harness *h)
{
	uint64_t v = 0;
	uint32_t k = 0;

	bpf_map_lookup_elem(bpf_map__fd(h->m.skel->maps.flows_live), &k, &v);
	return v;
}

/* One UDP frame of flow @sport -> 53 at @ts through nfx_meter: the counter it ended in. */
static int ovf_frame(struct harness *h, uint16_t sport, uint64_t ts)
{
	struct pkt_spec s = { V4, UDP(sport, 53), .payload = 10 };

	return harness_run_spec(h, &s, ts);
}

/* Loads a meter of OVF_LIMIT flows (overflow export @on, export ring @ring bytes, 0: default). */
static bool ovf_load(struct harness *h, bool on, uint32_t ring, const char *what)
{
	struct meter_opts o;

	harness_default_opts(&o);
	o.max_flows = OVF_LIMIT;
	o.overflow_export = on;
	if (ring)
		o.ring_bytes = ring;
	return load(h, &o, what);
}

static void test_overflow(void)
{
	uint64_t cnt[NFX_COUNTER_MAX];
	struct flow_entry e;
	struct flow_key k;
	struct harness h;
	int metered = 0;

	if (!ovf_load(&h, true, 0, "overflow"))
		return;
	for (int i = 0; i < OVF_LIMIT; i++)
		metered += ovf_frame(&h, 10000 + i, SEC_NS) == NFX_FRAMES_METERED;
	TEST("overflow: the cache fills to --max-flows, the kernel counts its entries")
	{
		harness_counters(&h, cnt);
		ASSERT_EQ(metered, OVF_LIMIT, "metered");
		ASSERT_EQ(cnt[NFX_FLOWS_CREATED], OVF_LIMIT, "created");
		ASSERT_EQ(flows_live(&h), OVF_LIMIT, "flows_live");
		ASSERT_EQ(harness_flow_count(&h), OVF_LIMIT, "entries");
		ASSERT_EQ(harness_drain(&h), 0, "nothing exported yet");
	}
	TEST("overflow: past it, each new flow's packet is a one-packet record (reason 5)")
	{
		struct pkt_spec s = { V4, UDP(20000, 53), .payload = 10 };
		uint8_t frame[PKT_MAX];
		int len = frame_of(&s, frame), ok = 0;

		for (int i = 0; i < 10; i++)
			ok += ovf_frame(&h, 20000 + i, 2 * SEC_NS + i) == NFX_FRAMES_METERED;
		harness_counters(&h, cnt);
		ASSERT_EQ(ok, 10, "metered");
		ASSERT_EQ(cnt[NFX_OVERFLOW_EXPORTED], 10, "overflow_exported");
		ASSERT_EQ(cnt[NFX_FLOWS_CREATED], OVF_LIMIT, "no entry created");
		ASSERT_EQ(cnt[NFX_LOST_OVERFLOW_RING_FULL], 0, "none lost");
		ASSERT_EQ(harness_flow_count(&h), OVF_LIMIT, "entries: still the limit");
		ASSERT_EQ(flows_live(&h), OVF_LIMIT, "flows_live");
		ASSERT_EQ(harness_drain(&h), 10, "ten records");
		test_key(&k, 4, s.src, 20000, s.dst, 53, 17, 0, NULL);
		ASSERT_EQ(h.events[0].reason, EXPIRY_OVERFLOW, "reason overflow");
		ASSERT_TRUE(!memcmp(&h.events[0].entry.key, &k, sizeof(k)), "its key");
		ASSERT_EQ(h.events[0].entry.dir[0].packets, 1, "one packet");
		ASSERT_EQ(h.events[0].entry.dir[0].bytes, len, "its bytes");
		ASSERT_EQ(h.events[0].entry.dir[0].first_seen_ns, 2 * SEC_NS, "first seen");
		ASSERT_EQ(h.events[0].entry.dir[0].last_seen_ns, 2 * SEC_NS, "last seen");
		ASSERT_EQ(h.events[0].entry.dir[1].packets, 0, "no reply");
		ASSERT_EQ(h.events[9].entry.dir[0].first_seen_ns, 2 * SEC_NS + 9, "tenth's time");
	}
	TEST("overflow: a flow in the cache still counts into its entry")
	{
		struct pkt_spec s = { V4, UDP(10000, 53), .payload = 10 };

		ASSERT_EQ(ovf_frame(&h, 10000, 3 * SEC_NS), NFX_FRAMES_METERED, "metered");
		test_key(&k, 4, s.src, 10000, s.dst, 53, 17, 0, NULL);
		ASSERT_EQ(harness_lookup(&h, &k, &e), 0, "entry");
		ASSERT_EQ(e.dir[0].packets, 2, "two packets");
		ASSERT_EQ(harness_drain(&h), 0, "no record");
	}
	TEST("overflow: a closed flow makes room for one new entry")
	{
		struct close_req *q = h.m.skel->bss->close_queue;

		q[0].key = k;
		q[0].reason = EXPIRY_FLUSH;
		run_close(&h, 1);
		ASSERT_EQ(q[0].status, 0, "closed");
		ASSERT_EQ(flows_live(&h), OVF_LIMIT - 1, "flows_live down");
		ASSERT_EQ(ovf_frame(&h, 30000, 4 * SEC_NS), NFX_FRAMES_METERED, "new flow");
		ASSERT_EQ(ovf_frame(&h, 30001, 4 * SEC_NS), NFX_FRAMES_METERED, "and another");
		harness_counters(&h, cnt);
		ASSERT_EQ(cnt[NFX_FLOWS_CREATED], OVF_LIMIT + 1, "the first has an entry");
		ASSERT_EQ(cnt[NFX_OVERFLOW_EXPORTED], 11, "the second overflows");
		ASSERT_EQ(flows_live(&h), OVF_LIMIT, "flows_live");
		ASSERT_EQ(harness_drain(&h), 2, "the close and the overflow");
		ASSERT_EQ(h.events[10].reason, EXPIRY_FLUSH, "flushed");
		ASSERT_EQ(h.events[11].reason, EXPIRY_OVERFLOW, "overflow");
	}
	TEST("overflow: at TC egress too, the record says which hook saw it")
	{
		struct pkt_spec s = { V4, UDP(30002, 53), .payload = 10 };
		uint8_t frame[PKT_MAX];
		int len = frame_of(&s, frame);

		ASSERT_EQ(harness_run_egress(&h, frame, len, 0, 0), NFX_FRAMES_METERED, "metered");
		ASSERT_EQ(harness_drain(&h), 1, "one record");
		ASSERT_EQ(h.events[12].reason, EXPIRY_OVERFLOW, "overflow");
		ASSERT_TRUE(h.events[12].entry.flags & FLOW_F_HOOK_EGRESS, "egress hook");
		ASSERT_TRUE(h.events[12].entry.dir[0].obs & FLOW_OBS_EGRESS, "egress obs");
	}
	TEST("overflow: frames seen = metered + ignored + lost still")
	{
		uint64_t out = 0;

		harness_counters(&h, cnt);
		for (int i = NFX_OUTCOME_FIRST; i <= NFX_OUTCOME_LAST; i++)
			out += cnt[i];
		ASSERT_EQ(out, cnt[NFX_FRAMES_SEEN], "outcomes");
	}
	harness_close(&h);
}

/* The export ring full as well: the packet is lost, counted by its reason. */
static void test_overflow_ring_full(void)
{
	uint64_t cnt[NFX_COUNTER_MAX], in_records = 0;
	const int extra = 200;
	struct harness h;

	if (!ovf_load(&h, true, 4096, "overflow: ring full"))
		return;
	for (int i = 0; i < OVF_LIMIT + extra; i++)
		ovf_frame(&h, 10000 + i, SEC_NS);
	TEST("overflow: export ring full, lost_overflow_ring_full counts each packet")
	{
		harness_counters(&h, cnt);
		harness_drain(&h);
		for (int i = 0; i < h.n_events; i++)
			in_records += h.events[i].entry.dir[0].packets;
		ASSERT_EQ(cnt[NFX_FLOWS_CREATED], OVF_LIMIT, "created");
		ASSERT_TRUE(cnt[NFX_OVERFLOW_EXPORTED] > 0, "some exported");
		ASSERT_TRUE(cnt[NFX_LOST_OVERFLOW_RING_FULL] > 0, "some lost");
		ASSERT_EQ(cnt[NFX_OVERFLOW_EXPORTED] + cnt[NFX_LOST_OVERFLOW_RING_FULL], extra,
			  "each overflow packet exported or lost");
		ASSERT_EQ(in_records, cnt[NFX_OVERFLOW_EXPORTED], "records hold the exported ones");
		ASSERT_EQ(cnt[NFX_FRAMES_METERED] + cnt[NFX_LOST_OVERFLOW_RING_FULL],
			  cnt[NFX_FRAMES_SEEN], "seen = metered + lost");
		printf("# ring of 4 kB: %llu overflow records, %llu lost\n",
		       (unsigned long long)cnt[NFX_OVERFLOW_EXPORTED],
		       (unsigned long long)cnt[NFX_LOST_OVERFLOW_RING_FULL]);
	}
	TEST("overflow: once the ring is drained, overflow records flow again")
	{
		ASSERT_EQ(ovf_frame(&h, 40000, 2 * SEC_NS), NFX_FRAMES_METERED, "metered");
		ASSERT_EQ(harness_drain(&h), 1, "exported");
		ASSERT_EQ(h.events[h.n_events - 1].reason, EXPIRY_OVERFLOW, "overflow");
	}
	harness_close(&h);
}

/* --dpi: an overflow packet reaches no nDPI; its record says detection was cut. */
static void test_overflow_dpi(void)
{
	struct meter_opts o;
	struct harness h;

	harness_default_opts(&o);
	o.max_flows = OVF_LIMIT;
	o.dpi = 20;
	if (!load(&h, &o, "overflow: --dpi"))
		return;
	for (int i = 0; i <= OVF_LIMIT; i++)
		ovf_frame(&h, 10000 + i, SEC_NS);
	TEST("overflow: with --dpi the record says application_dpi_cut")
	{
		ASSERT_EQ(harness_drain(&h), 1, "one overflow record");
		ASSERT_EQ(h.events[0].reason, EXPIRY_OVERFLOW, "overflow");
		ASSERT_TRUE(h.events[0].entry.flags & FLOW_F_DPI_CUT, "dpi cut");
	}
	harness_close(&h);
}

/* --overflow-export off: the LRU decides, as before (a map of exactly --max-flows). */
static void test_overflow_off(void)
{
	uint64_t cnt[NFX_COUNTER_MAX];
	struct harness h;

	if (!ovf_load(&h, false, 0, "overflow off"))
		return;
	for (int i = 0; i < 4 * OVF_LIMIT; i++)
		ovf_frame(&h, 10000 + i, SEC_NS);
	TEST("overflow off: every new flow inserted, the LRU evicts, no overflow record")
	{
		harness_counters(&h, cnt);
		ASSERT_EQ(cnt[NFX_FLOWS_CREATED], 4 * OVF_LIMIT, "created");
		ASSERT_EQ(cnt[NFX_OVERFLOW_EXPORTED], 0, "none exported");
		ASSERT_EQ(harness_drain(&h), 0, "no record");
		ASSERT_TRUE(harness_flow_count(&h) <= OVF_LIMIT, "the map holds --max-flows");
		ASSERT_EQ(bpf_map__max_entries(h.m.skel->maps.flows), OVF_LIMIT, "map size");
	}
	harness_close(&h);
}

struct flood_arg {
	struct harness *h;
	int cpu;
	uint16_t first; /* source ports first .. first + flows */
	int flows, rounds;
	int err;
};

/*
 * Round robin over @flows new flows, @rounds frames each, on one CPU (test
 * runs of its own: harness_run() reads the counters, which the other CPU moves).
 */
static void *flooder(void *p)
{
	struct flood_arg *a = p;
	uint8_t buf[PKT_MAX + 64];
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(a->cpu, &set);
	pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
	for (int r = 0; r < a->rounds; r++) {
		for (int i = 0; i < a->flows && !a->err; i++) {
			struct pkt_spec s = { V4, UDP(a->first + i, 53), .payload = 10 };
			size_t len = meta_frame(buf, &s, SEC_NS + r);
			struct xdp_md ctx = { .data = sizeof(struct nfx_meta), .data_end = len };
			LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = buf, .data_size_in = len,
				    .ctx_in = &ctx, .ctx_size_in = sizeof(ctx));

			a->err = bpf_prog_test_run_opts(a->h->meter_fd, &opts);
		}
	}
	return NULL;
}

/* Packets in the cache's entries. */
static uint64_t packets_in_cache(struct harness *h)
{
	int fd = bpf_map__fd(h->m.skel->maps.flows);
	struct flow_key k, next;
	struct flow_entry e;
	void *prev = NULL;
	uint64_t n = 0;

	while (!bpf_map_get_next_key(fd, prev, &next)) {
		if (!harness_lookup(h, &next, &e))
			n += e.dir[0].packets + e.dir[1].packets;
		k = next;
		prev = &k;
	}
	return n;
}

/*
 * Two CPUs flood a cache of 1024 with 8x that many new flows: the LRU never
 * evicts (the map's room past the limit holds its free lists), so every
 * frame is in an entry, in an overflow record, or counted lost.
 */
static void test_overflow_flood(void)
{
	const int flows = 4096, rounds = 3, n = ncpus();
	uint64_t cnt[NFX_COUNTER_MAX], in_records = 0, in_cache;
	struct flood_arg a[2];
	struct meter_opts o;
	struct harness h;
	pthread_t t[2];

	harness_default_opts(&o);
	o.max_flows = 1024;
	if (!load(&h, &o, "overflow: flood"))
		return;
	TEST("overflow: two CPUs, 8x --max-flows new flows: every frame counted once")
	{
		for (int i = 0; i < n; i++) {
			a[i] = (struct flood_arg){ &h, i, 1024 + i * flows, flows, rounds, 0 };
			pthread_create(&t[i], NULL, flooder, &a[i]);
		}
		for (int i = 0; i < n; i++) {
			pthread_join(t[i], NULL);
			ASSERT_EQ(a[i].err, 0, "test runs");
		}
		harness_drain(&h);
		for (int i = 0; i < h.n_events; i++)
			in_records += h.events[i].entry.dir[0].packets;
		in_cache = packets_in_cache(&h);
		harness_counters(&h, cnt);
		ASSERT_EQ(n, 2, "this machine has two CPUs to race");
		ASSERT_EQ(cnt[NFX_FRAMES_SEEN], (uint64_t)n * flows * rounds, "frames");
		ASSERT_EQ(cnt[NFX_FLOWS_CREATED], 1024, "created: the limit, no more");
		ASSERT_EQ(harness_flow_count(&h), 1024, "entries: none evicted");
		ASSERT_EQ(flows_live(&h), 1024, "flows_live");
		ASSERT_EQ(h.n_events, cnt[NFX_OVERFLOW_EXPORTED], "one record per overflow");
		ASSERT_EQ(in_records + in_cache + cnt[NFX_LOST_OVERFLOW_RING_FULL] +
			  cnt[NFX_LOST_BUSY] + cnt[NFX_LOST_INSERT_FAILED], cnt[NFX_FRAMES_SEEN],
			  "records + cache + lost = frames");
		ASSERT_EQ(cnt[NFX_LOST_OVERFLOW_RING_FULL], 0, "the ring held them all");
		printf("# flood: %llu frames, %llu in the cache, %llu in overflow records\n",
		       (unsigned long long)cnt[NFX_FRAMES_SEEN], (unsigned long long)in_cache,
		       (unsigned long long)in_records);
	}
	harness_close(&h);
}

/* --statistical and --splt: sums, squares, minima, maxima, gaps, flags, slots. */
/* The expiry module's drain hook: the harness reads the ring itself. */
static void drain_harness(void *ctx)
{
	harness_drain(ctx);
}

#define SLICED_FLOWS 3000

/*
 * A live collector reads a big cache's pass in slices (poller_scan with
 * policy.spread): the pass ends once, having seen every flow, and every
 * flow due is closed exactly once, though the cache shrinks under the
 * cursor while it goes.
 */
static void test_sliced_pass(void)
{
	struct poller_policy pol = { .idle_ms = 10000, .spread = true };
	struct poller p;
	struct harness h;
	int calls = 0, metered = 0;

	if (!load(&h, NULL, "sliced pass"))
		return;
	for (int i = 0; i < SLICED_FLOWS; i++)
		metered += ovf_frame(&h, 10000 + i, SEC_NS) == NFX_FRAMES_METERED;
	TEST("sliced pass: four slices close every due flow once, one pass counted")
	{
		ASSERT_EQ(metered, SLICED_FLOWS, "metered");
		ASSERT_EQ(poller_init(&p, &h.m, &pol, drain_harness, &h), 0, "poller_init");
		/*
		 * As after a slow pass of this many flows: four slices of at
		 * least 751 entries, read in batches of 256 (three a slice).
		 */
		p.buf_n = 256;
		p.st.slices = 4;
		p.st.active_flows = SLICED_FLOWS;
		do {
			ASSERT_EQ(poller_scan(&p, 20 * SEC_NS), 0, "poller_scan");
			ASSERT_EQ(p.st.scans, poller_pass_start(&p) ? 1 : 0, "passes counted at the end");
			calls++;
		} while (!poller_pass_start(&p) && calls < 100);
		harness_drain(&h);
		ASSERT_EQ(calls, 4, "slices");
		ASSERT_EQ(p.st.active_flows, SLICED_FLOWS, "the pass saw every flow");
		ASSERT_EQ(p.st.closed[EXPIRY_IDLE], SLICED_FLOWS, "closed as idle");
		ASSERT_EQ(h.n_events, SLICED_FLOWS, "one record each");
		ASSERT_EQ(harness_flow_count(&h), 0, "cache empty");
		ASSERT_EQ(p.st.slices, 1, "a fast pass: the next is whole");
		poller_free(&p);
	}
	harness_close(&h);
}

static void note_to_poller(void *ctx, const struct flow_note *n)
{
	poller_note(ctx, &n->key, n->last_seen_ns);
}

/* One TCP frame of the flow 198.18.0.1:@sport -> .2:80 (@reply: the other way). */
static int wheel_tcp(struct harness *h, uint16_t sport, uint8_t flags, bool reply, uint64_t ts)
{
	struct pkt_spec s = { V4, TCP(sport, 80), .tcp_flags = flags };

	if (reply)
		pkt_spec_reverse(&s);
	return harness_run_spec(h, &s, ts);
}

#define WHEEL_FLOWS 100

/*
 * nfx_scan reports, reading entries in place, the flows that may be due by
 * until_ms (idle: last seen + timeout, ms rule), with their times and flags.
 */
static void test_scan_report(void)
{
	struct scan_ctl c = { .until_ms = 10500, .idle_ms = 10000, .natural = 1, .linger_ms = 1000 };
	const struct scan_slot *out;
	struct meter_opts o;
	struct harness h;
	int found[3] = { 0 };

	harness_default_opts(&o);
	o.wheel = true;
	if (!load(&h, &o, "scan report"))
		return;
	TEST("nfx_scan: reports what may be due by until_ms, in place")
	{
		/* Due 10.5 s, 10.500999 s (same ms), 11 s; an ended flow due 4.2 s. */
		ASSERT_EQ(ovf_frame(&h, 1, SEC_NS / 2), NFX_FRAMES_METERED, "flow 1");
		ASSERT_EQ(ovf_frame(&h, 2, SEC_NS / 2 + 999999), NFX_FRAMES_METERED, "flow 2");
		ASSERT_EQ(ovf_frame(&h, 3, SEC_NS), NFX_FRAMES_METERED, "flow 3");
		ASSERT_EQ(wheel_tcp(&h, 4, 0x04, false, 3200 * MS), NFX_FRAMES_METERED, "rst");
		ASSERT_EQ(meter_run_scan(&h.m, &c, &out), 0, "nfx_scan runs");
		ASSERT_EQ(c.seen, 4, "entries seen");
		ASSERT_EQ(c.n, 3, "reported");
		ASSERT_EQ(c.dropped, 0, "none left out");
		for (uint32_t i = 0; i < c.n && i < 3; i++) {
			uint16_t sport = ntohs(out[i].key.port_lo) == 53 ? ntohs(out[i].key.port_hi)
								      : ntohs(out[i].key.port_lo);

			if (sport == 1 && out[i].last_seen_ns == SEC_NS / 2)
				found[0]++;
			if (sport == 2 && out[i].first_seen_ns == SEC_NS / 2 + 999999)
				found[1]++;
			if (sport == 4 && FLOW_F_ENDED(out[i].flags) && !(out[i].flags & SCAN_NOT_LIVE))
				found[2]++;
		}
		ASSERT_TRUE(found[0] == 1 && found[1] == 1 && found[2] == 1,
			    "flows 1, 2 and the ended one, with their times and flags");
	}
	harness_close(&h);
}

/*
 * The expiry wheel (live): a pass every idle timeout holds the flows it
 * finds until they may be due; between passes only those are looked at,
 * and a flow that ends is announced by the kernel (flow_note). Every flow
 * closes once, when a pass every poll would have closed it.
 */
static void test_wheel(void)
{
	struct poller_policy pol = { .idle_ms = 10000, .natural = true, .linger_ms = 1000,
				     .wheel = true, .notes = true, .poll_ms = 1000 };
	struct meter_opts o;
	struct poller p;
	struct harness h;
	int metered = 0;

	harness_default_opts(&o);
	o.wheel = true;
	if (!load(&h, &o, "wheel"))
		return;
	for (int i = 0; i < WHEEL_FLOWS; i++)
		metered += ovf_frame(&h, 20000 + i, SEC_NS / 2) == NFX_FRAMES_METERED;
	TEST("wheel: passes every idle timeout, peeks between, notes for ended flows")
	{
		ASSERT_EQ(metered, WHEEL_FLOWS, "metered");
		ASSERT_EQ(poller_init(&p, &h.m, &pol, drain_harness, &h), 0, "poller_init");
		h.on_note = note_to_poller;
		h.note_ctx = &p;
		/* 2 s: the first scan is a pass; the next must start by 2 + 10 - 1 s. */
		ASSERT_EQ(poller_scan(&p, 2 * SEC_NS), 0, "scan at 2 s");
		ASSERT_EQ(p.st.scans, 1, "a pass");
		ASSERT_TRUE(poller_pass_done(&p), "pass done");
		ASSERT_TRUE(p.policy.wheel && h.m.scan_out, "by nfx_scan");
		ASSERT_EQ(p.st.wheel_size, WHEEL_FLOWS, "every flow held");
		/* A UDP flow starts; half the flows stay busy; a TCP flow starts and ends. */
		metered += ovf_frame(&h, 30000, 3 * SEC_NS) == NFX_FRAMES_METERED;
		for (int i = 0; i < WHEEL_FLOWS / 2; i++)
			metered += ovf_frame(&h, 20000 + i, 5 * SEC_NS) == NFX_FRAMES_METERED;
		metered += wheel_tcp(&h, 41000, 0x02, false, 6 * SEC_NS) == NFX_FRAMES_METERED;
		metered += wheel_tcp(&h, 41000, 0x11, false, 6 * SEC_NS + 100 * MS) ==
			   NFX_FRAMES_METERED;
		metered += wheel_tcp(&h, 41000, 0x11, true, 6 * SEC_NS + 200 * MS) ==
			   NFX_FRAMES_METERED;
		ASSERT_EQ(metered, WHEEL_FLOWS + WHEEL_FLOWS / 2 + 4, "metered, all");
		harness_drain(&h);
		ASSERT_EQ(p.st.notes, 1, "one note: the packet that ended the TCP flow");
		/* 7.3 s: the ended flow is due (6.2 + 1 s linger), and only it is looked at. */
		ASSERT_EQ(poller_scan(&p, 7300 * MS), 0, "scan at 7.3 s");
		harness_drain(&h);
		ASSERT_EQ(p.st.scans, 1, "no pass");
		ASSERT_EQ(p.st.wheel_checks, 1, "one flow looked at");
		ASSERT_EQ(p.st.closed[EXPIRY_NATURAL], 1, "closed, natural");
		ASSERT_EQ(h.n_events, 1, "its record");
		/* 10.6 s: the flows of 0.5 s are due; the busy half is held again. */
		ASSERT_EQ(poller_scan(&p, 10600 * MS), 0, "scan at 10.6 s");
		harness_drain(&h);
		ASSERT_EQ(p.st.scans, 1, "still no pass");
		ASSERT_EQ(p.st.wheel_checks, 1 + WHEEL_FLOWS, "the flows of 0.5 s looked at");
		ASSERT_EQ(p.st.closed[EXPIRY_IDLE], WHEEL_FLOWS / 2, "the quiet half closed");
		ASSERT_EQ(p.st.wheel_size, WHEEL_FLOWS / 2, "the busy half held");
		/* 11 s: a pass, which finds the UDP flow of 3 s. */
		ASSERT_EQ(poller_scan(&p, 11 * SEC_NS), 0, "scan at 11 s");
		ASSERT_EQ(p.st.scans, 2, "a pass");
		ASSERT_EQ(p.st.active_flows, WHEEL_FLOWS / 2 + 1, "it saw the flow of 3 s");
		ASSERT_EQ(poller_scan(&p, 13 * SEC_NS), 0, "scan at 13 s");
		ASSERT_EQ(poller_scan(&p, 15 * SEC_NS), 0, "scan at 15 s");
		harness_drain(&h);
		ASSERT_EQ(p.st.scans, 2, "no third pass");
		ASSERT_EQ(p.st.closed[EXPIRY_IDLE], WHEEL_FLOWS + 1, "every UDP flow closed, idle");
		ASSERT_EQ(h.n_events, WHEEL_FLOWS + 2, "one record a flow");
		ASSERT_EQ(harness_flow_count(&h), 0, "cache empty");
		ASSERT_EQ(p.st.wheel_size, 0, "wheel empty");
		poller_free(&p);
	}
	harness_close(&h);
}

/*
 * A wheel asked of a meter without nfx_scan (loaded without opts.wheel):
 * the pass reads the cache whole, every due flow closes once, and later
 * scans are whole passes.
 */
static void test_wheel_fallback(void)
{
	struct poller_policy pol = { .idle_ms = 10000, .wheel = true, .poll_ms = 1000 };
	struct poller p;
	struct harness h;
	int metered = 0;

	if (!load(&h, NULL, "wheel fallback"))
		return;
	for (int i = 0; i < WHEEL_FLOWS; i++)
		metered += ovf_frame(&h, 20000 + i, SEC_NS / 2) == NFX_FRAMES_METERED;
	TEST("wheel: a meter without nfx_scan: whole passes, every due flow closed once")
	{
		ASSERT_EQ(metered, WHEEL_FLOWS, "metered");
		ASSERT_EQ(poller_init(&p, &h.m, &pol, drain_harness, &h), 0, "poller_init");
		ASSERT_EQ(poller_scan(&p, 2 * SEC_NS), 0, "scan at 2 s");
		ASSERT_TRUE(!p.policy.wheel, "the wheel is off");
		ASSERT_EQ(p.st.active_flows, WHEEL_FLOWS, "a whole pass saw them");
		ASSERT_EQ(poller_scan(&p, 11 * SEC_NS), 0, "scan at 11 s");
		harness_drain(&h);
		ASSERT_EQ(p.st.scans, 2, "two whole passes");
		ASSERT_EQ(p.st.closed[EXPIRY_IDLE], WHEEL_FLOWS, "closed, idle");
		ASSERT_EQ(h.n_events, WHEEL_FLOWS, "one record a flow");
		ASSERT_EQ(harness_flow_count(&h), 0, "cache empty");
		poller_free(&p);
	}
	harness_close(&h);
}

static void test_features(void)
{
	struct meter_opts o;
	struct harness h;
	struct flow_entry_max e;
	struct flow_key k;
	/* (direction, payload, ms, tcp flags): a client and a server. */
	static const struct {
		int rev;
		uint16_t payload;
		uint32_t ms;
		uint8_t flags;
	} seq[] = {
		{ 0, 0, 1000, 0x02 }, { 1, 0, 1010, 0x12 }, { 0, 0, 1011, 0x10 },
		{ 0, 100, 1020, 0x18 }, { 1, 1400, 1050, 0x10 }, { 0, 0, 1051, 0x11 },
	};
	uint64_t ps[2][6] = { { 0 } }, n[2] = { 0 };

	harness_default_opts(&o);
	o.statistical = true;
	o.splt = 4;
	if (!load(&h, &o, "features: --statistical --splt 4"))
		return;
	for (size_t i = 0; i < sizeof(seq) / sizeof(seq[0]); i++) {
		struct pkt_spec s = { V4, TCP(44000, 443), .tcp_flags = seq[i].flags,
				      .payload = seq[i].payload };

		if (seq[i].rev)
			pkt_spec_reverse(&s);
		harness_run_spec(&h, &s, seq[i].ms * MS_NS + 123);
		ps[seq[i].rev][n[seq[i].rev]++] = 14 + 20 + 20 + seq[i].payload;
	}
	test_key(&k, 4, "198.18.0.1", 44000, "198.18.0.2", 443, 6, 0, NULL);
	harness_lookup_full(&h, &k, &e);
	TEST("features: packet sizes per direction")
	{
		ASSERT_EQ(e.st.dir[0].ps_min, 54, "src2dst min");
		ASSERT_EQ(e.st.dir[0].ps_max, 154, "src2dst max");
		ASSERT_EQ(e.st.dir[0].ps_sumsq, 3 * 54 * 54 + 154 * 154, "src2dst sum of squares");
		ASSERT_EQ(e.st.dir[1].ps_min, 54, "dst2src min");
		ASSERT_EQ(e.st.dir[1].ps_max, 1454, "dst2src max");
		ASSERT_EQ(e.st.dir[1].ps_sumsq, 54 * 54 + 1454 * 1454, "dst2src sum of squares");
	}
	TEST("features: gaps in ms, per direction and both")
	{
		/* src2dst at 1000, 1011, 1020, 1051; dst2src at 1010, 1050. */
		ASSERT_EQ(e.st.dir[0].piat_sum_ms, 51, "src2dst sum");
		ASSERT_EQ(e.st.dir[0].piat_sumsq_ms, 11 * 11 + 9 * 9 + 31 * 31, "src2dst squares");
		ASSERT_EQ(e.st.dir[0].piat_min_ms, 9, "src2dst min");
		ASSERT_EQ(e.st.dir[0].piat_max_ms, 31, "src2dst max");
		ASSERT_EQ(e.st.dir[1].piat_sum_ms, 40, "dst2src sum");
		ASSERT_EQ(e.st.dir[1].piat_min_ms, 40, "dst2src min");
		ASSERT_EQ(e.st.piat_sum_ms, 51, "bidirectional sum");
		ASSERT_EQ(e.st.piat_sumsq_ms, 100 + 1 + 81 + 900 + 1, "bidirectional squares");
		ASSERT_EQ(e.st.piat_min_ms, 1, "bidirectional min");
		ASSERT_EQ(e.st.piat_max_ms, 30, "bidirectional max");
	}
	TEST("features: TCP flag counters per direction")
	{
		ASSERT_EQ(e.st.dir[0].flag_packets[FLAG_SYN], 1, "src2dst syn");
		ASSERT_EQ(e.st.dir[0].flag_packets[FLAG_ACK], 3, "src2dst ack");
		ASSERT_EQ(e.st.dir[0].flag_packets[FLAG_PSH], 1, "src2dst psh");
		ASSERT_EQ(e.st.dir[0].flag_packets[FLAG_FIN], 1, "src2dst fin");
		ASSERT_EQ(e.st.dir[1].flag_packets[FLAG_SYN], 1, "dst2src syn");
		ASSERT_EQ(e.st.dir[1].flag_packets[FLAG_ACK], 2, "dst2src ack");
		ASSERT_EQ(e.st.dir[1].flag_packets[FLAG_RST], 0, "dst2src rst");
	}
	TEST("features: the first N packets in slots, later ones not")
	{
		ASSERT_EQ(e.sp.claimed, 4, "slots taken");
		ASSERT_EQ(e.sp.base_ns, 1000 * MS_NS + 123, "base");
		for (int i = 0; i < 4; i++) {
			ASSERT_EQ(e.sp.slot[i].dir, seq[i].rev, "direction");
			ASSERT_EQ(e.sp.slot[i].offset_us, (seq[i].ms - 1000) * 1000, "offset");
			ASSERT_EQ(e.sp.slot[i].size, 14 + 20 + 20 + seq[i].payload, "size");
		}
		ASSERT_EQ(e.sp.slot[4].size, 0, "slot past N untouched");
	}
	TEST("features: the closed flow's event carries every part")
	{
		struct close_req *q = h.m.skel->bss->close_queue;

		q[0].key = k;
		q[0].reason = EXPIRY_FLUSH;
		run_close(&h, 1);
		ASSERT_EQ(harness_drain(&h), 1, "exported");
		ASSERT_TRUE(!memcmp(&h.event_entries[0].st, &e.st, sizeof(e.st)), "statistics");
		ASSERT_TRUE(!memcmp(&h.event_entries[0].sp, &e.sp, sizeof(e.sp)), "slots");
	}
	harness_close(&h);
	(void)ps;
}

/* --sample: systematic exactly 1 in N, random within statistical bounds. */
static void test_sampling(void)
{
	struct pkt_spec s = { V4, UDP(9999, 53) };
	uint8_t buf[PKT_MAX + 64];
	size_t len = meta_frame(buf, &s, SEC_NS);
	struct xdp_md ctx = { .data = sizeof(struct nfx_meta), .data_end = len };
	uint64_t c[NFX_COUNTER_MAX];

	for (int systematic = 1; systematic >= 0; systematic--) {
		LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = buf, .data_size_in = len,
			    .ctx_in = &ctx, .ctx_size_in = sizeof(ctx), .repeat = 1000000);
		struct meter_opts o;
		struct harness h;
		cpu_set_t set;

		harness_default_opts(&o);
		o.sample_n = 100;
		o.sample_systematic = systematic;
		if (!load(&h, &o, systematic ? "sampling: systematic" : "sampling: random"))
			continue;
		/* One CPU: the systematic count is per CPU. */
		CPU_ZERO(&set);
		CPU_SET(0, &set);
		sched_setaffinity(0, sizeof(set), &set);
		bpf_prog_test_run_opts(h.meter_fd, &opts);
		CPU_ZERO(&set);
		CPU_SET(0, &set);
		if (ncpus() > 1)
			CPU_SET(1, &set);
		sched_setaffinity(0, sizeof(set), &set);
		harness_counters(&h, c);
		TEST(systematic ? "sampling: systematic 1 in 100 of 10^6 frames, exactly" :
				  "sampling: random 1 in 100 of 10^6 frames, within 5 sigma")
		{
			ASSERT_EQ(c[NFX_FRAMES_SEEN], 1000000, "seen");
			ASSERT_EQ(c[NFX_FRAMES_METERED] + c[NFX_SAMPLED_OUT], 1000000, "all accounted");
			if (systematic)
				ASSERT_EQ(c[NFX_FRAMES_METERED], 10000, "metered");
			else /* binomial: mean 10000, sigma 99.5 */
				ASSERT_TRUE(c[NFX_FRAMES_METERED] > 10000 - 500 &&
						    c[NFX_FRAMES_METERED] < 10000 + 500,
					    "metered within 5 sigma");
		}
		harness_close(&h);
	}
}

/*
 * The benchmarks' stop points (enum meter_stop): a frame stopped there is
 * counted once, in frames_filtered_out, and changes no flow; the stages
 * after the lookup stop only a frame whose flow is there, so the first
 * frame still creates it.
 */
static void test_stop_at(void)
{
	static const char *const names[] = {
		[STOP_NEVER] = "never",		  [STOP_AFTER_ENTRY] = "after the entry",
		[STOP_BEFORE_PARSE] = "before parsing", [STOP_BEFORE_LOOKUP] = "before the lookup",
		[STOP_AFTER_LOOKUP] = "after the lookup", [STOP_AFTER_LINES] = "after the entry's lines",
	};
	struct pkt_spec s = { V4, UDP(4444, 53) };
	uint8_t buf[PKT_MAX + 64];
	size_t len = meta_frame(buf, &s, SEC_NS);
	struct xdp_md ctx = { .data = sizeof(struct nfx_meta), .data_end = len };

	for (int stop = STOP_NEVER; stop <= STOP_AFTER_LINES; stop++) {
		LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = buf, .data_size_in = len,
			    .ctx_in = &ctx, .ctx_size_in = sizeof(ctx), .repeat = 1);
		/* Frames metered of two: the stages after the lookup let the first through. */
		uint64_t metered = stop == STOP_NEVER ? 2 : stop >= STOP_AFTER_LOOKUP ? 1 : 0;
		uint64_t c[NFX_COUNTER_MAX];
		struct meter_opts o;
		struct harness h;
		char name[96];

		snprintf(name, sizeof(name), "stop at: %s, two frames of one flow", names[stop]);
		harness_default_opts(&o);
		o.stop_at = stop;
		if (!load(&h, &o, name))
			continue;
		bpf_prog_test_run_opts(h.meter_fd, &opts);
		bpf_prog_test_run_opts(h.meter_fd, &opts);
		harness_counters(&h, c);
		TEST(name)
		{
			ASSERT_EQ(c[NFX_FRAMES_SEEN], 2, "seen");
			ASSERT_EQ(c[NFX_FRAMES_METERED], metered, "metered");
			ASSERT_EQ(c[NFX_FILTERED_OUT], 2 - metered, "stopped: filtered out");
			ASSERT_EQ(c[NFX_FLOWS_CREATED], metered ? 1 : 0, "flows created");
			ASSERT_EQ(packets_in_cache(&h), metered, "packets in the cache");
		}
		harness_close(&h);
	}
}

/* --snaplen: headers past it are not read, and that is counted. */
static void test_snaplen(void)
{
	struct meter_opts o;
	struct harness h;
	uint64_t c[NFX_COUNTER_MAX];

	harness_default_opts(&o);
	o.snaplen = 54;
	if (!load(&h, &o, "snaplen"))
		return;
	TEST("snaplen: 54 bytes meter TCP/IPv4, not TCP/IPv6; cut frames counted")
	{
		struct pkt_spec t4 = { V4, TCP(1, 2), .payload = 100 }, t6 = { V6, TCP(1, 2) };

		ASSERT_EQ(harness_run_spec(&h, &t4, SEC_NS), NFX_FRAMES_METERED, "tcp/ipv4 fits");
		ASSERT_EQ(harness_run_spec(&h, &t6, SEC_NS), NFX_IGNORE_HEADERS_TOO_LONG,
			  "tcp/ipv6 does not");
		harness_counters(&h, c);
		ASSERT_EQ(c[NFX_TRUNCATED], 2, "both cut");
	}
	harness_close(&h);
}

/* One frame built by meta_frame() through nfx_meter with REPLAY_F_* @flags. */
static int run_flagged(struct harness *h, uint8_t *buf, size_t len, uint32_t flags)
{
	struct nfx_meta *meta = (void *)buf;
	struct xdp_md ctx = { .data = sizeof(*meta), .data_end = len };
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = buf, .data_size_in = len, .ctx_in = &ctx,
		    .ctx_size_in = sizeof(ctx), .repeat = 1);

	meta->flags = flags;
	return bpf_prog_test_run_opts(h->meter_fd, &opts);
}

/*
 * Time that jumps (NFX_TIME_JUMP_NS): a frame replay restamped, and one
 * more than an hour behind the clock, are counted in time_restamped, the
 * latter raised to the clock; 59 minutes behind is raised, not counted.
 * Through nfx_meter (frame mode) and nfx_replay (batch mode) alike.
 */
static void test_time_jumps(void)
{
	static const struct {
		uint64_t ts;
		uint32_t flags;
	} frames[] = {
		{ 10000 * SEC_NS, 0 },
		{ 10001 * SEC_NS, 0 },
		{ 10001 * SEC_NS, REPLAY_F_RESTAMPED }, /* its own time was 4102444800 s */
		{ 10002 * SEC_NS, 0 },
		{ 10002 * SEC_NS - NFX_TIME_JUMP_NS - 1, 0 },
		{ 10002 * SEC_NS - 59 * 60 * SEC_NS, 0 },
		{ 10003 * SEC_NS, 0 },
	};
	const int n = sizeof(frames) / sizeof(frames[0]);
	struct pkt_spec s = { V4, UDP(4444, 53) };
	uint8_t buf[PKT_MAX + 64];
	size_t len = meta_frame(buf, &s, 0);
	uint64_t cnt[NFX_COUNTER_MAX];
	struct flow_entry e;
	struct flow_key k;
	struct harness h;

	test_key(&k, 4, s.src, 4444, s.dst, 53, 17, 0, NULL);
	harness_open(&h, NULL);
	TEST("time: restamped and hour-behind frames counted, raised (nfx_meter)")
	{
		for (int i = 0; i < n; i++) {
			((struct nfx_meta *)buf)->ts_ns = frames[i].ts;
			ASSERT_EQ(run_flagged(&h, buf, len, frames[i].flags), 0, "test run");
		}
		harness_counters(&h, cnt);
		ASSERT_EQ(cnt[NFX_TIME_RESTAMPED], 2, "time_restamped");
		ASSERT_EQ(cnt[NFX_FRAMES_METERED], n, "metered");
		harness_lookup(&h, &k, &e);
		ASSERT_EQ(e.dir[0].packets, n, "one flow");
		ASSERT_EQ(e.dir[0].first_seen_ns, 10000 * SEC_NS, "first seen");
		ASSERT_EQ(e.dir[0].last_seen_ns, 10003 * SEC_NS, "last seen");
	}
	harness_close(&h);
	harness_open(&h, NULL);
	TEST("time: restamped and hour-behind frames counted, raised (nfx_replay)")
	{
		int fd = bpf_map__fd(h.m.skel->maps.replay_slots);
		struct replay_slot *slots = mmap(NULL, REPLAY_SLOTS * sizeof(*slots),
						 PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		unsigned char pkt[64] = { 0 };
		LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = pkt, .data_size_in = sizeof(pkt));

		if (!ASSERT_TRUE(slots != MAP_FAILED, "slots mapped"))
			break;
		for (int i = 0; i < n; i++) {
			struct replay_slot *sl = &slots[i];

			memset(sl, 0, sizeof(*sl));
			sl->f.ts_ns = frames[i].ts;
			sl->f.flags = frames[i].flags;
			sl->f.wire_len = sl->f.frame_len = sl->f.caplen = sl->f.kept =
				len - sizeof(struct nfx_meta);
			memcpy(sl->frame.b, buf + sizeof(struct nfx_meta), sl->f.kept);
		}
		h.m.skel->bss->replay_count = n;
		ASSERT_EQ(bpf_prog_test_run_opts(h.replay_fd, &opts), 0, "test run");
		harness_counters(&h, cnt);
		ASSERT_EQ(cnt[NFX_TIME_RESTAMPED], 2, "time_restamped");
		harness_lookup(&h, &k, &e);
		ASSERT_EQ(e.dir[0].packets, n, "one flow");
		ASSERT_EQ(e.dir[0].last_seen_ns, 10003 * SEC_NS, "last seen");
		munmap(slots, REPLAY_SLOTS * sizeof(*slots));
	}
	harness_close(&h);
}

/* nfx_replay over the slots gives the same flows as nfx_meter frame by frame. */
static void test_replay_batch(void)
{
	struct harness a, b;
	struct replay_slot *slots;
	int n = 0, fd;

	if (!load(&a, NULL, "replay: frame by frame"))
		return;
	if (!load(&b, NULL, "replay: batch")) {
		harness_close(&a);
		return;
	}
	fd = bpf_map__fd(b.m.skel->maps.replay_slots);
	slots = mmap(NULL, REPLAY_SLOTS * sizeof(*slots), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	for (int i = 0; i < 200 && slots != MAP_FAILED; i++) {
		struct pkt_spec s = { V4, UDP(1000 + i % 17, 53), .payload = i % 300 };
		struct replay_slot *sl = &slots[n++];
		uint8_t frame[PKT_MAX];
		int len;

		if (i % 5 == 0)
			s.ip_version = 6, s.src = "fd00::1", s.dst = "fd00::2";
		if (i % 3 == 1)
			pkt_spec_reverse(&s);
		len = frame_of(&s, frame);
		harness_run(&a, frame, len, len + 4, i * MS_NS);
		memset(sl, 0, sizeof(*sl));
		sl->f.ts_ns = i * MS_NS;
		sl->f.wire_len = len + 4;
		sl->f.frame_len = len + 4;
		sl->f.caplen = len;
		sl->f.kept = len < PARSE_WINDOW ? len : PARSE_WINDOW;
		memcpy(sl->frame.b, frame, sl->f.kept);
	}
	TEST("replay: a batch of slots meters like frame-by-frame")
	{
		unsigned char pkt[64] = { 0 };
		LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = pkt, .data_size_in = sizeof(pkt));
		uint64_t ca[NFX_COUNTER_MAX], cb[NFX_COUNTER_MAX];
		struct flow_key k, next;
		void *prev = NULL;
		int afd = bpf_map__fd(a.m.skel->maps.flows), flows = 0;

		ASSERT_TRUE(slots != MAP_FAILED, "slots mapped");
		b.m.skel->bss->replay_count = n;
		ASSERT_EQ(bpf_prog_test_run_opts(b.replay_fd, &opts), 0, "test run");
		ASSERT_EQ(b.m.skel->bss->replay_done, n, "frames done");
		harness_counters(&a, ca);
		harness_counters(&b, cb);
		for (int i = 0; i < NFX_COUNTER_MAX; i++)
			ASSERT_EQ(cb[i], ca[i], counter_names[i]);
		while (!bpf_map_get_next_key(afd, prev, &next)) {
			struct flow_entry ea, eb;

			harness_lookup(&a, &next, &ea);
			if (ASSERT_EQ(harness_lookup(&b, &next, &eb), 0, "same keys")) {
				ea.ctl = eb.ctl = 0;
				ASSERT_TRUE(!memcmp(&ea, &eb, sizeof(ea)), "same entry");
			}
			k = next;
			prev = &k;
			flows++;
		}
		ASSERT_EQ(flows, 34, "flows");
		ASSERT_EQ(harness_flow_count(&b), flows, "no extra flows");
	}
	if (slots != MAP_FAILED)
		munmap(slots, REPLAY_SLOTS * sizeof(*slots));
	harness_close(&a);
	harness_close(&b);
}

/* A frame of @s, reversed (the other endpoint sends it). */
static size_t build_reply(const struct pkt_spec *s, uint8_t *frame)
{
	struct pkt_spec r = *s;

	pkt_spec_reverse(&r);
	return pkt_build(&r, frame, PKT_MAX);
}

/* TC egress and XDP meet in one entry, each direction saying where it was seen. */
static void test_egress_meets_xdp(void)
{
	struct pkt_spec t = { V4, TCP(1000, 80), .payload = 10 };
	uint8_t frame[PKT_MAX];
	uint64_t in[NFX_COUNTER_MAX], out[NFX_COUNTER_MAX];
	struct flow_entry e;
	struct flow_key k;
	struct harness h;
	size_t len;

	if (harness_open(&h, NULL)) {
		TEST("egress: load the meter with its egress program") ASSERT_TRUE(false, "open");
		return;
	}
	TEST("egress: the host's packet (TC) and the reply (XDP) are one flow, src = the host")
	{
		len = pkt_build(&t, frame, sizeof(frame));
		ASSERT_EQ(harness_run_egress(&h, frame, len, 0, 0), NFX_FRAMES_METERED, "egress");
		len = build_reply(&t, frame);
		ASSERT_EQ(harness_run_live(&h, frame, len), NFX_FRAMES_METERED, "ingress");
		ASSERT_EQ(harness_flow_count(&h), 1, "one entry");
		test_key(&k, 4, t.src, 1000, t.dst, 80, 6, 0, NULL);
		ASSERT_EQ(harness_lookup(&h, &k, &e), 0, "found");
		ASSERT_EQ(!!(e.flags & FLOW_F_SRC_IS_HI), 0, "src: the sender of the first (egress) packet");
		ASSERT_EQ(e.dir[DIR_SRC2DST].packets + e.dir[DIR_DST2SRC].packets, 2, "packets");
		ASSERT_TRUE(e.dir[DIR_SRC2DST].obs & FLOW_OBS_EGRESS, "src2dst seen at egress");
		ASSERT_TRUE(!(e.dir[DIR_DST2SRC].obs & FLOW_OBS_EGRESS) && e.dir[DIR_DST2SRC].obs,
			    "dst2src seen at ingress, with its interface");
		ASSERT_EQ(e.flags & (FLOW_F_HOOK_INGRESS | FLOW_F_HOOK_EGRESS),
			  FLOW_F_HOOK_INGRESS | FLOW_F_HOOK_EGRESS, "both hooks");
	}
	TEST("egress: each hook counts in its own slot, the totals are both")
	{
		harness_counters_hook(&h, HOOK_INGRESS, in);
		harness_counters_hook(&h, HOOK_EGRESS, out);
		ASSERT_EQ(in[NFX_FRAMES_METERED], 1, "ingress");
		ASSERT_EQ(out[NFX_FRAMES_METERED], 1, "egress");
		harness_counters(&h, in);
		ASSERT_EQ(in[NFX_FRAMES_METERED], 2, "total");
	}
	harness_close(&h);
}

/* One hook's program run rounds * repeat times on @cpu over one frame (no data_meta: live). */
struct hook_writer {
	int prog_fd, cpu, rounds, repeat, err;
	const uint8_t *frame;
	size_t len;
};

static void *hook_writer(void *p)
{
	struct hook_writer *w = p;
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = w->frame, .data_size_in = w->len,
		    .repeat = w->repeat);
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(w->cpu, &set);
	pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
	for (int i = 0; i < w->rounds && !w->err; i++)
		w->err = bpf_prog_test_run_opts(w->prog_fd, &opts);
	return NULL;
}

/*
 * Exactly once with both hooks: XDP on one CPU meters a flow's replies while
 * TC egress on the other meters its requests, into the one entry; every
 * packet of each direction counted once, in that direction, by its hook.
 */
static void test_egress_races_xdp(void)
{
	struct pkt_spec t = { V4, TCP(1200, 80), .payload = 10, .tcp_flags = 0x10 };
	uint8_t out_frame[PKT_MAX], in_frame[PKT_MAX];
	const int rounds = 20, repeat = 10000;
	const uint64_t each = (uint64_t)rounds * repeat;
	uint64_t c_in[NFX_COUNTER_MAX], c_out[NFX_COUNTER_MAX];
	struct hook_writer w[2];
	struct flow_entry e;
	struct flow_key k;
	struct harness h;
	pthread_t th[2];
	size_t out_len, in_len;
	int d_out;

	if (!load(&h, NULL, "egress: XDP and TC race"))
		return;
	out_len = pkt_build(&t, out_frame, sizeof(out_frame));
	in_len = build_reply(&t, in_frame);
	w[0] = (struct hook_writer){ h.meter_fd, 0, rounds, repeat, 0, in_frame, in_len };
	w[1] = (struct hook_writer){ h.egress_fd, ncpus() > 1, rounds, repeat, 0, out_frame,
				     out_len };
	TEST("egress: XDP (replies) and TC (requests) on two CPUs, one entry, every packet once")
	{
		for (int i = 0; i < 2; i++)
			pthread_create(&th[i], NULL, hook_writer, &w[i]);
		for (int i = 0; i < 2; i++) {
			pthread_join(th[i], NULL);
			ASSERT_EQ(w[i].err, 0, "test run");
		}
		ASSERT_EQ(ncpus(), 2, "this machine has two CPUs to race");
		ASSERT_EQ(harness_flow_count(&h), 1, "one entry");
		test_key(&k, 4, t.src, 1200, t.dst, 80, 6, 0, NULL);
		ASSERT_EQ(harness_lookup(&h, &k, &e), 0, "found");
		/* Which packet came first is the race's: src is its sender. */
		d_out = (e.dir[DIR_SRC2DST].obs & FLOW_OBS_EGRESS) ? DIR_SRC2DST : DIR_DST2SRC;
		ASSERT_EQ(e.dir[d_out].packets, each, "requests, counted at egress");
		ASSERT_EQ(e.dir[!d_out].packets, each, "replies, counted at ingress");
		ASSERT_EQ(e.dir[d_out].bytes, each * out_len, "request bytes");
		ASSERT_EQ(e.dir[!d_out].bytes, each * in_len, "reply bytes");
		ASSERT_TRUE(!(e.dir[!d_out].obs & FLOW_OBS_EGRESS), "replies seen at ingress");
		ASSERT_EQ(e.flags & (FLOW_F_HOOK_INGRESS | FLOW_F_HOOK_EGRESS),
			  FLOW_F_HOOK_INGRESS | FLOW_F_HOOK_EGRESS, "both hooks");
		ASSERT_EQ(e.ctl & ~FLOW_GEN_MASK, FLOW_CTL(FLOW_LIVE), "no writer left inside");
		harness_counters_hook(&h, HOOK_INGRESS, c_in);
		harness_counters_hook(&h, HOOK_EGRESS, c_out);
		ASSERT_EQ(c_in[NFX_FRAMES_METERED], each, "ingress counter");
		ASSERT_EQ(c_out[NFX_FRAMES_METERED], each, "egress counter");
	}
	harness_close(&h);
}

/* --sample and --snaplen at egress: as at XDP, in the egress hook's counters. */
static void test_egress_options(void)
{
	struct pkt_spec u = { V4, UDP(1300, 53), .payload = 100 };
	uint8_t frame[PKT_MAX];
	uint64_t c[NFX_COUNTER_MAX];
	struct meter_opts o;
	struct harness h;
	cpu_set_t set, old;
	size_t len = pkt_build(&u, frame, sizeof(frame));
	int metered = 0;

	harness_default_opts(&o);
	o.sample_n = 10;
	o.sample_systematic = true;
	o.snaplen = 64;
	if (!load(&h, &o, "egress: options"))
		return;
	/* One CPU: the systematic count is per CPU. */
	sched_getaffinity(0, sizeof(old), &old);
	CPU_ZERO(&set);
	CPU_SET(0, &set);
	sched_setaffinity(0, sizeof(set), &set);
	TEST("egress: --sample 10 (systematic) meters exactly 10 of 100; --snaplen 64 counts cut frames")
	{
		for (int i = 0; i < 100; i++)
			metered += harness_run_egress(&h, frame, len, 0, 0) == NFX_FRAMES_METERED;
		ASSERT_EQ(metered, 10, "metered");
		harness_counters_hook(&h, HOOK_EGRESS, c);
		ASSERT_EQ(c[NFX_FRAMES_SEEN], 100, "seen");
		ASSERT_EQ(c[NFX_SAMPLED_OUT], 90, "sampled out");
		ASSERT_EQ(c[NFX_TRUNCATED], 10, "truncated: the metered ones, longer than 64 bytes");
		ASSERT_TRUE(len > 64, "the frame is longer than the snaplen");
	}
	sched_setaffinity(0, sizeof(old), &old);
	harness_close(&h);
}

/*
 * A GSO packet at TC egress counts as its segments: TCP/IPv4, 3500 bytes of
 * payload in 4 segments of 1000 (the last 500), 54 bytes of headers each.
 */
static void test_egress_gso(void)
{
	static const struct {
		int mode;
		const char *name;
		uint32_t hdr; /* of each segment, as the mode counts it */
	} modes[] = {
		{ ACCOUNT_LINK, "link", 14 + 20 + 20 },
		{ ACCOUNT_IP, "ip", 20 + 20 },
		{ ACCOUNT_TRANSPORT, "transport", 20 },
		{ ACCOUNT_PAYLOAD, "payload", 0 },
	};
	struct pkt_spec t = { V4, TCP(1000, 80), .payload = 3500, .tcp_flags = 0x18 };

	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		uint64_t full = modes[i].hdr + 1000, last = modes[i].hdr + 500;
		struct flow_entry_max x;
		uint8_t frame[PKT_MAX];
		struct meter_opts o;
		struct flow_key k;
		struct harness h;
		char name[96];
		size_t len;

		harness_default_opts(&o);
		o.accounting = modes[i].mode;
		o.statistical = true;
		o.splt = 8;
		snprintf(name, sizeof(name), "egress GSO, %s: 4 segments, headers repeated",
			 modes[i].name);
		TEST(name)
		{
			if (!ASSERT_EQ(harness_open(&h, &o), 0, "open"))
				continue;
			len = pkt_build(&t, frame, sizeof(frame));
			/* Twice: the entry's creation, then an update. */
			ASSERT_EQ(harness_run_egress(&h, frame, len, 4, 1000), NFX_FRAMES_METERED, "1st");
			ASSERT_EQ(harness_run_egress(&h, frame, len, 4, 1000), NFX_FRAMES_METERED, "2nd");
			test_key(&k, 4, t.src, 1000, t.dst, 80, 6, 0, NULL);
			ASSERT_EQ(harness_lookup_full(&h, &k, &x), 0, "found");
			ASSERT_EQ(x.e.dir[0].packets, 8, "packets: the segments");
			ASSERT_EQ(x.e.dir[0].bytes, 2 * (3 * full + last), "bytes");
			ASSERT_EQ(x.st.dir[0].ps_min, last, "smallest segment: the last");
			ASSERT_EQ(x.st.dir[0].ps_max, full, "largest: a full one");
			ASSERT_EQ(x.st.dir[0].ps_sumsq, 2 * (3 * full * full + last * last), "sizes²");
			ASSERT_EQ(x.st.dir[0].piat_min_ms, 0, "segments 0 ms apart");
			ASSERT_EQ(x.st.dir[0].flag_packets[FLAG_ACK], 8, "ACK on every segment");
			ASSERT_EQ(x.st.dir[0].flag_packets[FLAG_PSH], 2, "PSH on the last ones");
			/* --splt without --statistical sits where .st is: read it by offset. */
			ASSERT_EQ(x.sp.claimed, 8, "slots claimed");
			ASSERT_EQ(x.sp.slot[2].size, full, "slot 2: full");
			ASSERT_EQ(x.sp.slot[3].size, last, "slot 3: the last segment");
			ASSERT_EQ(x.sp.slot[7].size, last, "slot 7: the 2nd packet's last");
			harness_close(&h);
		}
	}
}

int main(int argc, char **argv)
{
	test_suite = "bpf";
	log_set_level(LOG_WARN);
	log_route_libbpf();
	test_parse_table();
	test_parse_limits();
	test_direction();
	test_tcp_flags();
	test_timestamps();
	test_time_jumps();
	test_accounting();
	test_expiry_on_arrival();
	test_closer();
	test_entry_states();
	test_tunnels();
	test_features();
	test_sampling();
	test_stop_at();
	test_snaplen();
	test_concurrent_writers();
	test_close_race();
	test_overflow();
	test_sliced_pass();
	test_scan_report();
	test_wheel();
	test_wheel_fallback();
	test_overflow_ring_full();
	test_overflow_off();
	test_overflow_dpi();
	test_overflow_flood();
	test_replay_batch();
	test_egress_meets_xdp();
	test_egress_races_xdp();
	test_egress_options();
	test_egress_gso();
	return test_summary();
}
