// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Writes the fuzzers' seed corpora (tests/fuzz/mkseeds.sh runs it):
 *
 *   mkseeds packet DIR PCAP...    distinct frames of the captures, as the
 *                                 meter sees them (link headers turned into
 *                                 Ethernet), and crafted edge cases
 *   mkseeds capture DIR PCAP...   small capture files: pcap in both byte
 *                                 orders, micro- and nanosecond, every link
 *                                 type, pcapng, and damaged ones
 *   mkseeds catmsg DIR PB...      nfxdp-cat inputs from nfxdp --format pb
 *                                 files: each batch as a "flows" message, deflated
 *                                 as "flowsz", the files plain and gzip'd
 *   mkseeds flowfilter-dict FILE  a libFuzzer dictionary of Flow's field names
 *
 * Deterministic: the same captures give the same seeds.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <pcap/pcap.h>
#include <zlib.h>

#include "gencap/craft.h"
#include "flow.h"
#include "flow.pb-c.h"
#include "record/batch.h"
#include "capture/linktype.h"

#define FRAME_MAX 1600	   /* fuzz_packet's -max_len */
#define PER_SHAPE 2	   /* frames kept per header shape */
#define PACKET_SEEDS 360   /* frames from the captures, at most */

static const char *outdir;
static int written;

static void write_seed(const char *name, const void *data, size_t len)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", outdir, name);
	f = fopen(path, "wb");
	if (!f || (len && fwrite(data, 1, len, f) != len) || fclose(f)) {
		fprintf(stderr, "mkseeds: couldn't write %s: %s\n", path, strerror(errno));
		exit(1);
	}
	written++;
}

static uint16_t be16(const uint8_t *p)
{
	return p[0] << 8 | p[1];
}

static const char *base(const char *path)
{
	const char *s = strrchr(path, '/');

	return s ? s + 1 : path;
}

/* ---- packet: frames ---- */

/*
 * A coarse header shape, so the seeds cover many kinds of frames rather
 * than many frames of one kind: the link-layer types crossed, IP version,
 * transport protocol, tunnel port, a length class.
 */
static uint64_t shape(const uint8_t *f, size_t len)
{
	uint64_t h = 1469598103934665603ULL;
	size_t off = 12;
	uint16_t type = 0;
	uint8_t proto = 0;
	int v = 0;

#define MIX(x) (h = (h ^ (uint64_t)(x)) * 1099511628211ULL)
	MIX(len <= 60 ? 0 : len <= 128 ? 1 : len <= 256 ? 2 : len <= 600 ? 3 : 4);
	for (int i = 0; i < 6 && off + 2 <= len; i++) {
		type = be16(f + off);
		MIX(type);
		if (type == 0x8100 || type == 0x88a8 || type == 0x9100)
			off += 4;
		else if (type == 0x8864)
			off += 8;
		else
			break;
	}
	off += 2;
	if (type == 0x0800 && off + 20 <= len) {
		v = 4;
		proto = f[off + 9];
		off += (f[off] & 15) * 4;
	} else if (type == 0x86dd && off + 40 <= len) {
		v = 6;
		proto = f[off + 6];
		off += 40;
	}
	MIX(v);
	MIX(proto);
	if ((proto == 6 || proto == 17) && off + 4 <= len) {
		uint16_t a = be16(f + off), b = be16(f + off + 2);
		uint16_t lo = a < b ? a : b;

		/* Well-known ports and the tunnels' are part of the shape. */
		MIX(lo < 1024 || lo == 2152 || lo == 5247 || b == 2152 || b == 5247 || a == 37008 ||
		    b == 37008 ? lo : 0);
	}
#undef MIX
	return h;
}

struct shape_count {
	uint64_t h;
	int n;
};

static struct shape_count shapes[4096];
static int n_shapes;

static int shape_take(uint64_t h)
{
	for (int i = 0; i < n_shapes; i++)
		if (shapes[i].h == h)
			return shapes[i].n < PER_SHAPE ? ++shapes[i].n : 0;
	if (n_shapes == (int)(sizeof(shapes) / sizeof(shapes[0])))
		return 0;
	shapes[n_shapes++] = (struct shape_count){ h, 1 };
	return 1;
}

static void frames_of_capture(const char *path, int *taken)
{
	char err[PCAP_ERRBUF_SIZE], name[256];
	struct pcap_pkthdr *ph;
	const u_char *data;
	int dlt, n = 0, r;
	pcap_t *p = pcap_open_offline(path, err);

	if (!p) {
		fprintf(stderr, "mkseeds: %s\n", err);
		return;
	}
	dlt = pcap_datalink(p);
	while (*taken < PACKET_SEEDS && (r = pcap_next_ex(p, &ph, &data)) == 1) {
		uint8_t eth[FRAME_MAX];
		size_t len = 0;

		n++;
		if (!linktype_supported(dlt) ||
		    linktype_to_ethernet(dlt, data, ph->caplen, eth, sizeof(eth), &len) < 0)
			continue;
		if (!shape_take(shape(eth, len)))
			continue;
		snprintf(name, sizeof(name), "ref-%s-%d", base(path), n);
		write_seed(name, eth, len);
		(*taken)++;
	}
	pcap_close(p);
}

#define MACS .smac = { 2, 0, 0, 0, 0, 1 }, .dmac = { 2, 0, 0, 0, 0, 2 }
#define V4 MACS, .ip_version = 4, .src = "198.18.0.1", .dst = "198.18.0.2"
#define V6 MACS, .ip_version = 6, .src = "fd00::1", .dst = "fd00::2"
#define TCP(sp, dp) .proto = 6, .sport = sp, .dport = dp
#define UDP(sp, dp) .proto = 17, .sport = sp, .dport = dp

static const struct {
	const char *name;
	struct pkt_spec s;
	size_t cut_from, cut_to; /* also cut at each length in between (see cuts()) */
} crafted[] = {
	{ "v4-tcp-syn", { V4, TCP(40000, 80), .tcp_flags = 0x02 } },
	{ "v4-tcp-rst-syn", { V4, TCP(40000, 80), .tcp_flags = 0x06 } },
	{ "v4-tcp-fin", { V4, TCP(80, 40000), .tcp_flags = 0x11, .payload = 10 } },
	{ "v4-tcp-doff15", { V4, TCP(1, 2), .tcp_doff = 15 } },
	{ "v4-udp", { V4, UDP(5353, 53), .payload = 30 } },
	{ "v4-icmp", { V4, .proto = 1, .payload = 56 } },
	{ "v4-sctp", { V4, .proto = 132, .sport = 3868, .dport = 3869 } },
	{ "v4-gre", { V4, .proto = 47, .payload = 20 } },
	{ "v4-esp", { V4, .proto = 50, .payload = 40 } },
	{ "v6-tcp", { V6, TCP(40001, 443), .tcp_flags = 0x12 } },
	{ "v6-udp", { V6, UDP(40002, 53), .payload = 10 } },
	{ "v6-icmp6", { V6, .proto = 58, .payload = 56 } },
	{ "vlan", { V4, UDP(1, 2), .n_vlans = 1, .vlan_tpid = { 0x8100 }, .vlan_id = { 10 } } },
	{ "qinq", { V4, UDP(1, 2), .n_vlans = 2, .vlan_tpid = { 0x88a8, 0x8100 },
		    .vlan_id = { 100, 200 } } },
	{ "vlan4-v6", { V6, UDP(1, 2), .n_vlans = 4,
			.vlan_tpid = { 0x88a8, 0x9100, 0x8100, 0x8100 },
			.vlan_id = { 1, 2, 3, 4 } },
	  28, 32 },
	{ "vlan-7", { V4, UDP(1, 2), .n_vlans = 1, .vlan_tpid = { 0x8100 }, .vlan_id = { 7 } } },
	{ "fabricpath", { V4, UDP(1, 2), .fabricpath = true }, 28, 31 },
	{ "fabricpath-vlan-v6", { V6, TCP(1, 2), .fabricpath = true, .n_vlans = 1,
				  .vlan_tpid = { 0x8100 }, .vlan_id = { 9 } } },
	{ "mpls3", { V4, TCP(1, 2), .mpls_labels = 3 } },
	{ "mpls8-v6", { V6, TCP(1, 2), .mpls_labels = 8 }, 28, 48 },
	{ "vlan-mpls", { V4, UDP(1, 2), .n_vlans = 1, .vlan_tpid = { 0x8100 }, .vlan_id = { 5 },
			 .mpls_labels = 2 } },
	{ "pppoe-v4", { V4, UDP(7, 8), .pppoe = true }, 28, 42 },
	{ "pppoe-v6", { V6, UDP(7, 8), .pppoe = true } },
	{ "llc-snap", { V4, UDP(9, 10), .llc_snap = true } },
	{ "llc-snap-vlan", { V4, UDP(9, 10), .llc_snap = true, .n_vlans = 1,
			     .vlan_tpid = { 0x8100 }, .vlan_id = { 9 } }, 28, 48 },
	{ "v4-ihl15", { V4, TCP(11, 12), .ipv4_ihl = 15 }, 30, 96 },
	{ "v4-ihl4", { V4, TCP(1, 2), .ipv4_ihl = 4 } },
	{ "v4-version5", { V4, TCP(1, 2), .version = 5 } },
	{ "v4-totlen-short", { V4, TCP(1, 2), .len_delta = -21 } },
	{ "v4-totlen-long", { V4, TCP(1, 3), .len_delta = 100 } },
	{ "v4-tcp-short-l4", { V4, TCP(27, 28), .len_delta = -10, .truncate = 10 } },
	{ "v4-first-frag", { V4, UDP(13, 14), .more_frags = true, .payload = 64 } },
	{ "v4-later-frag", { V4, UDP(13, 14), .frag_offset = 9, .payload = 64 } },
	{ "v4-cut-header", { V4, TCP(1, 2), .truncate = 24 } },
	{ "v4-27-bytes", { V4, UDP(1, 2), .truncate = 15 } },
	{ "v6-ext-chain", { V6, TCP(15, 16), .ipv6_ext = { 0, 43, 60 }, .n_ext = 3 }, 52, 100 },
	{ "v6-mobility", { V6, UDP(15, 16), .ipv6_ext = { 135 }, .n_ext = 1 } },
	{ "v6-first-frag", { V6, UDP(17, 18), .ipv6_ext = { 44 }, .n_ext = 1,
			     .more_frags = true } },
	{ "v6-later-frag", { V6, UDP(17, 18), .ipv6_ext = { 0, 44 }, .n_ext = 2,
			     .frag_offset = 100 } },
	{ "v6-dstopts4", { V6, UDP(1, 2), .ipv6_ext = { 60, 60, 60, 60 }, .n_ext = 4 } },
	{ "v6-paylen-long", { V6, UDP(1, 2), .len_delta = 8 } },
	{ "v6-cut-header", { V6, UDP(1, 2), .truncate = 30 } },
	{ "v6-version4", { V6, UDP(1, 2), .version = 4 } },
	{ "4in4", { V4, TCP(19, 20), .outer_version = 4, .outer_src = "198.19.0.1",
		    .outer_dst = "198.19.0.2" } },
	{ "6in4", { V6, TCP(21, 22), .outer_version = 4, .outer_src = "198.19.0.1",
		    .outer_dst = "198.19.0.2" }, 32, 96 },
	{ "4in6", { V4, UDP(23, 24), .outer_version = 6, .outer_src = "fd00::a",
		    .outer_dst = "fd00::b" } },
	{ "6in6", { V6, UDP(25, 26), .outer_version = 6, .outer_src = "fd00::a",
		    .outer_dst = "fd00::b" } },
	{ "arp", { MACS, .ethertype = 0x0806, .ip_version = 0, .payload = 28 } },
	{ "lldp", { MACS, .ethertype = 0x88cc, .ip_version = 0, .payload = 40 } },
	{ "vlan-cut", { MACS, .ethertype = 0x8100, .ip_version = 0, .payload = 0 } },
	{ "udp-dns-53", { V4, UDP(40000, 53), .payload = 20 } },
	{ "net-10", { MACS, .ip_version = 4, .src = "10.1.2.3", .dst = "198.18.0.2", UDP(1, 2) } },
	/* Headers that end past the 256-byte window. */
	{ "v6-ext-past-window", { V6, TCP(1, 2), .ipv6_ext = { 0, 60, 60, 60 }, .n_ext = 4,
				  .n_vlans = 4, .vlan_tpid = { 0x8100, 0x8100, 0x8100, 0x8100 },
				  .vlan_id = { 1, 2, 3, 4 }, .mpls_labels = 8, .outer_version = 6,
				  .outer_src = "fd00::a", .outer_dst = "fd00::b",
				  .payload = 200 } },
};

/*
 * @f cut at every length from @from to @to (within 28..len): frames that end
 * inside a header, where a parser reading too far would read what an
 * earlier frame left. Random mutations rarely cut a frame at one exact byte.
 */
static void cuts(const char *name, const uint8_t *f, size_t len, size_t from, size_t to)
{
	char cut[160];

	for (size_t n = from < 28 ? 28 : from; n <= to && n < len; n++) {
		snprintf(cut, sizeof(cut), "%s-cut%zu", name, n);
		write_seed(cut, f, n);
	}
}

/*
 * UDP carrying @inner (an IP packet, or an Ethernet frame for TZSP) behind
 * @hdr; also cut inside the tunnel header and the start of what it carries.
 */
static void tunnel_seed(const char *name, uint16_t dport, const uint8_t *hdr, size_t hlen,
			const struct pkt_spec *inner, bool inner_eth)
{
	uint8_t in[PKT_MAX], payload[PKT_MAX], frame[PKT_MAX];
	size_t n = pkt_build(inner, in, sizeof(in)), skip = inner_eth ? 0 : 14;
	struct pkt_spec outer = { V4, UDP(40000, dport) };

	if (!n)
		return;
	memcpy(payload, hdr, hlen);
	memcpy(payload + hlen, in + skip, n - skip);
	outer.payload = hlen + n - skip;
	outer.payload_data = payload;
	n = pkt_build(&outer, frame, sizeof(frame));
	if (!n)
		return;
	write_seed(name, frame, n);
	/* Ethernet 14, IPv4 20, UDP 8: the tunnel header starts at 42. */
	cuts(name, frame, n, 42, 42 + hlen + 2);
}

static void crafted_frames(void)
{
	static const struct pkt_spec in4 = { V4, TCP(1000, 80), .tcp_flags = 0x18, .payload = 20 };
	static const struct pkt_spec in6 = { V6, UDP(1000, 53), .payload = 20 };
	/* GTP-U: version 1, PT, T-PDU, length, TEID; with E: seq, N-PDU, next type, extension. */
	static const uint8_t gtp[] = { 0x30, 0xff, 0x00, 0x40, 0, 0, 0, 1 };
	static const uint8_t gtp_ext[] = { 0x34, 0xff, 0x00, 0x48, 0, 0, 0, 1,
					   0, 0, 0, 0x85, 1, 0x10, 0x05, 0x00 };
	/* CAPWAP data: HLEN 2 words; 802.11 data header (24 bytes); LLC/SNAP for IPv4 or IPv6. */
	uint8_t capwap[8 + 24 + 8] = { 0x00, 0x10, 0x43, 0x20 };
	/* TZSP: version 1, received, Ethernet; then the end tag. */
	static const uint8_t tzsp[] = { 1, 0, 0, 1, 1 };
	struct pkt_spec eth = in4;

	for (size_t i = 0; i < sizeof(crafted) / sizeof(crafted[0]); i++) {
		uint8_t f[PKT_MAX];
		size_t n = pkt_build(&crafted[i].s, f, sizeof(f));
		char name[128];

		if (!n) {
			fprintf(stderr, "mkseeds: crafted frame %s does not build\n",
				crafted[i].name);
			exit(1);
		}
		snprintf(name, sizeof(name), "craft-%s", crafted[i].name);
		write_seed(name, f, n < FRAME_MAX ? n : FRAME_MAX);
		if (crafted[i].cut_to)
			cuts(name, f, n, crafted[i].cut_from, crafted[i].cut_to);
	}
	tunnel_seed("craft-gtp-v4", PORT_GTP_U, gtp, sizeof(gtp), &in4, false);
	tunnel_seed("craft-gtp-v6", PORT_GTP_U, gtp, sizeof(gtp), &in6, false);
	tunnel_seed("craft-gtp-ext", PORT_GTP_U, gtp_ext, sizeof(gtp_ext), &in4, false);
	capwap[8] = 0x08; /* 802.11 data */
	memcpy(capwap + 8 + 10, (uint8_t[]){ 2, 0, 0, 0, 0, 0x11 }, 6);
	memcpy(capwap + 8 + 16, (uint8_t[]){ 2, 0, 0, 0, 0, 0x22 }, 6);
	memcpy(capwap + 32, (uint8_t[]){ 0xaa, 0xaa, 0x03, 0, 0, 0, 0x08, 0x00 }, 8);
	tunnel_seed("craft-capwap-v4", PORT_CAPWAP_DATA, capwap, sizeof(capwap), &in4, false);
	capwap[38] = 0x86;
	capwap[39] = 0xdd;
	tunnel_seed("craft-capwap-v6", PORT_CAPWAP_DATA, capwap, sizeof(capwap), &in6, false);
	tunnel_seed("craft-tzsp-eth", PORT_TZSP, tzsp, sizeof(tzsp), &eth, true);
	eth.n_vlans = 1;
	eth.vlan_tpid[0] = 0x8100;
	eth.vlan_id[0] = 42;
	tunnel_seed("craft-tzsp-vlan", PORT_TZSP, tzsp, sizeof(tzsp), &eth, true);
}

static int cmd_packet(int argc, char **argv)
{
	int taken = 0;

	crafted_frames();
	for (int i = 0; i < argc; i++)
		frames_of_capture(argv[i], &taken);
	return 0;
}

/* ---- capture: files ---- */

struct cap_buf {
	uint8_t *b;
	size_t len, cap;
};

static void cb_put(struct cap_buf *c, const void *p, size_t n)
{
	if (c->len + n > c->cap) {
		c->cap = (c->len + n) * 2;
		c->b = realloc(c->b, c->cap);
		if (!c->b)
			exit(1);
	}
	memcpy(c->b + c->len, p, n);
	c->len += n;
}

static void cb_u32(struct cap_buf *c, uint32_t v, bool be)
{
	uint8_t b[4] = { v, v >> 8, v >> 16, v >> 24 };

	if (be) {
		uint8_t t[4] = { b[3], b[2], b[1], b[0] };

		cb_put(c, t, 4);
	} else {
		cb_put(c, b, 4);
	}
}

static void cb_u16(struct cap_buf *c, uint16_t v, bool be)
{
	uint8_t b[2] = { be ? v >> 8 : v, be ? v : v >> 8 };

	cb_put(c, b, 2);
}

struct frame {
	const uint8_t *data;
	uint32_t caplen, len;
};

/* A classic pcap file: byte order, timestamp resolution, link type, snaplen. */
static void classic_pcap(struct cap_buf *c, bool be, bool nano, uint32_t linktype, uint32_t snaplen,
		      const struct frame *f, int n)
{
	c->len = 0;
	cb_u32(c, nano ? 0xa1b23c4d : 0xa1b2c3d4, be);
	cb_u16(c, 2, be);
	cb_u16(c, 4, be);
	cb_u32(c, 0, be);
	cb_u32(c, 0, be);
	cb_u32(c, snaplen, be);
	cb_u32(c, linktype, be);
	for (int i = 0; i < n; i++) {
		cb_u32(c, 1700000000 + i, be);
		cb_u32(c, nano ? 123456789 : 123456, be);
		cb_u32(c, f[i].caplen, be);
		cb_u32(c, f[i].len, be);
		cb_put(c, f[i].data, f[i].caplen);
	}
}

static void pcapng_block(struct cap_buf *c, uint32_t type, const struct cap_buf *body, bool be)
{
	uint32_t len = 12 + ((body->len + 3) & ~3U);
	static const uint8_t pad[4];

	cb_u32(c, type, be);
	cb_u32(c, len, be);
	cb_put(c, body->b, body->len);
	cb_put(c, pad, (4 - body->len % 4) % 4);
	cb_u32(c, len, be);
}

/* A pcapng file: section header, one interface, enhanced packet blocks. */
static void ng_pcap(struct cap_buf *c, bool be, uint16_t linktype, const struct frame *f,
			int n)
{
	struct cap_buf body = { 0 };

	c->len = 0;
	cb_u32(&body, 0x1a2b3c4d, be);
	cb_u16(&body, 1, be);
	cb_u16(&body, 0, be);
	cb_u32(&body, 0xffffffff, be);
	cb_u32(&body, 0xffffffff, be);
	pcapng_block(c, 0x0a0d0d0a, &body, be);
	body.len = 0;
	cb_u16(&body, linktype, be);
	cb_u16(&body, 0, be);
	cb_u32(&body, 65535, be);
	/* if_tsresol: nanoseconds, then the end of options */
	cb_u16(&body, 9, be);
	cb_u16(&body, 1, be);
	cb_put(&body, (uint8_t[]){ 9, 0, 0, 0 }, 4);
	cb_u32(&body, 0, be);
	pcapng_block(c, 1, &body, be);
	for (int i = 0; i < n; i++) {
		body.len = 0;
		cb_u32(&body, 0, be);
		cb_u32(&body, 0x00060000, be);
		cb_u32(&body, 1000 * i, be);
		cb_u32(&body, f[i].caplen, be);
		cb_u32(&body, f[i].len, be);
		cb_put(&body, f[i].data, f[i].caplen);
		pcapng_block(c, 6, &body, be);
	}
	free(body.b);
}

static void copy_prefix(const char *path, size_t max, const char *name)
{
	uint8_t *b = malloc(max);
	FILE *f = fopen(path, "rb");
	size_t n;

	if (!b || !f) {
		fprintf(stderr, "mkseeds: couldn't read %s\n", path);
		exit(1);
	}
	n = fread(b, 1, max, f);
	fclose(f);
	write_seed(name, b, n);
	free(b);
}

static int cmd_capture(int argc, char **argv)
{
	static const struct pkt_spec specs[] = {
		{ V4, TCP(40000, 80), .tcp_flags = 0x02 },
		{ V6, UDP(40002, 53), .payload = 10 },
		{ V4, UDP(1, 2), .n_vlans = 1, .vlan_tpid = { 0x8100 }, .vlan_id = { 10 } },
	};
	uint8_t eth[3][PKT_MAX], raw[PKT_MAX + 16];
	struct frame f[3], rf[3];
	struct cap_buf c = { 0 };
	char name[256];

	for (int i = 0; i < 3; i++) {
		f[i].data = eth[i];
		f[i].caplen = f[i].len = pkt_build(&specs[i], eth[i], sizeof(eth[i]));
	}
	for (int be = 0; be < 2; be++)
		for (int nano = 0; nano < 2; nano++) {
			classic_pcap(&c, be, nano, 1, 65535, f, 3);
			snprintf(name, sizeof(name), "pcap-%s-%s.pcap", be ? "be" : "le",
				 nano ? "ns" : "us");
			write_seed(name, c.b, c.len);
		}
	/* Snaplen: huge, and frames cut by it (caplen < len). */
	classic_pcap(&c, false, false, 1, 0xffffffff, f, 3);
	write_seed("pcap-huge-snaplen.pcap", c.b, c.len);
	{
		struct frame cut[3] = { { eth[0], 40, f[0].len }, { eth[1], 60, f[1].len },
					{ eth[2], 0, f[2].len } };

		classic_pcap(&c, false, false, 1, 40, cut, 3);
		write_seed("pcap-snaplen-cut.pcap", c.b, c.len);
	}
	/* Damaged: ends inside a frame's header, ends inside a frame, bad magic, only a header. */
	classic_pcap(&c, false, false, 1, 65535, f, 3);
	write_seed("pcap-ends-in-header.pcap", c.b, c.len - f[2].caplen - 9);
	c.b[0] ^= 0x55;
	write_seed("pcap-bad-magic.pcap", c.b, c.len);
	write_seed("pcap-header-only.pcap",
		   (uint8_t[24]){ 0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, [16] = 0xff, 0xff, 0, 0, 1 },
		   24);
	write_seed("pcap-short-header.pcap", (uint8_t[]){ 0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0 }, 8);
	/* Modified pcap (Kuznetzov, 24-byte records): libpcap reads it. */
	classic_pcap(&c, false, false, 1, 65535, f, 1);
	memcpy(c.b, (uint8_t[]){ 0x34, 0xcd, 0xb2, 0xa1 }, 4);
	write_seed("pcap-modified-magic.pcap", c.b, c.len);
	/* Every link type nfxdp turns into Ethernet, and one it does not. */
	{
		static const struct {
			const char *name;
			uint32_t linktype;
			uint8_t hdr[16];
			size_t hlen;
		} lt[] = {
			{ "raw", 101, { 0 }, 0 },
			{ "raw12", 12, { 0 }, 0 },
			{ "ipv4", 228, { 0 }, 0 },
			{ "ipv6", 229, { 0 }, 0 },
			{ "null", 0, { 2, 0, 0, 0 }, 4 },
			{ "loop", 108, { 0, 0, 0, 2 }, 4 },
			{ "sll", 113, { 0, 0, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0, 8, 0 }, 16 },
			{ "ppp", 9, { 0xff, 0x03, 0x00, 0x21 }, 4 },
			{ "ppp-compressed", 9, { 0x00, 0x21 }, 2 },
			{ "ppp-serial", 50, { 0xff, 0x03, 0x00, 0x57 }, 4 },
			{ "c-hdlc", 104, { 0x0f, 0x00, 0x08, 0x00 }, 4 },
			{ "sll2-unsupported", 276, { 0 }, 0 },
		};

		for (size_t i = 0; i < sizeof(lt) / sizeof(lt[0]); i++) {
			uint8_t buf[3][PKT_MAX + 16];

			for (int k = 0; k < 3; k++) {
				memcpy(buf[k], lt[i].hdr, lt[i].hlen);
				memcpy(buf[k] + lt[i].hlen, eth[k] + 14, f[k].caplen - 14);
				rf[k].data = buf[k];
				rf[k].caplen = rf[k].len = lt[i].hlen + f[k].caplen - 14;
			}
			classic_pcap(&c, i & 1, false, lt[i].linktype, 65535, rf, 3);
			snprintf(name, sizeof(name), "pcap-linktype-%s.pcap", lt[i].name);
			write_seed(name, c.b, c.len);
		}
		/* A frame shorter than its link header. */
		memcpy(raw, lt[6].hdr, 8);
		rf[0].data = raw;
		rf[0].caplen = rf[0].len = 8;
		classic_pcap(&c, false, false, 113, 65535, rf, 1);
		write_seed("pcap-sll-short.pcap", c.b, c.len);
	}
	/* pcapng, both byte orders; cut short. */
	for (int be = 0; be < 2; be++) {
		ng_pcap(&c, be, 1, f, 3);
		snprintf(name, sizeof(name), "pcapng-%s.pcapng", be ? "be" : "le");
		write_seed(name, c.b, c.len);
	}
	write_seed("pcapng-cut.pcapng", c.b, c.len - 30);
	/* Reference captures: small ones whole, the start of the others. */
	for (int i = 0; i < argc; i++) {
		struct stat st;

		if (stat(argv[i], &st))
			continue;
		snprintf(name, sizeof(name), "ref-%s%s", st.st_size > 4096 ? "head-" : "",
			 base(argv[i]));
		copy_prefix(argv[i], 4096, name);
	}
	free(c.b);
	return 0;
}

/* ---- catmsg: nfxdp-cat inputs ---- */

enum {
	CAT_JSONL = 0, CAT_CSV = 1, CAT_BRIEF = 2, CAT_COUNT1 = 3, /* fuzz_catmsg's control byte */
	CAT_FILE = 4, CAT_ALONE = 8, CAT_FOLLOW = 16,
};

static void cat_message(const char *name, uint8_t ctl, const char *topic, const void *body,
			size_t len)
{
	size_t tlen = strlen(topic);
	uint8_t *b = malloc(2 + tlen + len);

	b[0] = ctl;
	b[1] = tlen;
	memcpy(b + 2, topic, tlen);
	memcpy(b + 2 + tlen, body, len);
	write_seed(name, b, 2 + tlen + len);
	free(b);
}

static void cat_file_seed(const char *name, uint8_t ctl, const void *body, size_t len)
{
	uint8_t *b = malloc(1 + len);

	b[0] = ctl;
	memcpy(b + 1, body, len);
	write_seed(name, b, 1 + len);
	free(b);
}

/* The gzip form of @in, as nfxdp --compress writes it. */
static void gzip_of(const uint8_t *in, size_t len, struct cap_buf *out)
{
	z_stream z = { 0 };
	uint8_t buf[16384];
	int r;

	out->len = 0;
	if (deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		exit(1);
	z.next_in = (uint8_t *)in;
	z.avail_in = len;
	do {
		z.next_out = buf;
		z.avail_out = sizeof(buf);
		r = deflate(&z, Z_FINISH);
		cb_put(out, buf, sizeof(buf) - z.avail_out);
	} while (r == Z_OK);
	deflateEnd(&z);
}

#define CAT_FILE_MAX 24576

static int cmd_catmsg(int argc, char **argv)
{
	static const char stats[] =
		"{\"agent\":\"host\",\"frames_seen\":10,\"frames_metered\":9,\"ignored_non_ip\":1}";
	Nfxdp__FlowBatch empty = NFXDP__FLOW_BATCH__INIT;
	uint8_t ebuf[64];
	struct cap_buf gz = { 0 };
	char name[256];

	for (int i = 0; i < argc; i++) {
		struct cap_buf file = { 0 };
		uint8_t chunk[65536];
		size_t n, off = 0;
		int k = 0;
		FILE *f = fopen(argv[i], "rb");

		if (!f) {
			fprintf(stderr, "mkseeds: couldn't read %s\n", argv[i]);
			exit(1);
		}
		while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
			cb_put(&file, chunk, n);
		fclose(f);
		/* Each batch as a message, in turn in each format; deflated as flowsz too. */
		while (off < file.len && k < 12) {
			uint64_t len;
			size_t used = varint_decode(file.b + off, file.len - off, &len);
			uLongf zlen;
			uint8_t *z;

			if (!used || len > file.len - off - used)
				break;
			snprintf(name, sizeof(name), "flows-%s-%d", base(argv[i]), k);
			cat_message(name, k % 4, "flows", file.b + off + used, len);
			zlen = compressBound(len);
			z = malloc(zlen);
			if (compress2(z, &zlen, file.b + off + used, len, Z_BEST_SPEED) == Z_OK) {
				snprintf(name, sizeof(name), "flowsz-%s-%d", base(argv[i]), k);
				cat_message(name, (k + 1) % 4, "flowsz", z, zlen);
			}
			free(z);
			off += used + len;
			k++;
		}
		/* The file itself (its start if large), plain and gzip'd. */
		n = file.len < CAT_FILE_MAX ? file.len : CAT_FILE_MAX;
		snprintf(name, sizeof(name), "file-%s", base(argv[i]));
		cat_file_seed(name, CAT_FILE | CAT_CSV, file.b, n);
		snprintf(name, sizeof(name), "follow-%s", base(argv[i]));
		cat_file_seed(name, CAT_FILE | CAT_FOLLOW | CAT_BRIEF, file.b, n);
		if (n > 40) {
			snprintf(name, sizeof(name), "follow-cut-%s", base(argv[i]));
			cat_file_seed(name, CAT_FILE | CAT_FOLLOW | CAT_JSONL, file.b, n - 7);
		}
		gzip_of(file.b, n, &gz);
		snprintf(name, sizeof(name), "file-gz-%s", base(argv[i]));
		cat_file_seed(name, CAT_FILE | CAT_JSONL, gz.b, gz.len);
		free(file.b);
	}
	cat_message("stats", CAT_JSONL, "stats", stats, sizeof(stats) - 1);
	cat_message("topic-alone", CAT_ALONE, "flows", "", 0);
	cat_message("other-topic", CAT_BRIEF, "flowsx", "\x08\x01", 2);
	empty.agent = "agent";
	empty.interface = "eth0";
	empty.sequence = 7;
	{
		size_t n = nfxdp__flow_batch__pack(&empty, ebuf);

		cat_message("empty-batch", CAT_CSV, "flows", ebuf, n);
	}
	free(gz.b);
	return 0;
}

static int cmd_flowfilter_dict(const char *path)
{
	const ProtobufCMessageDescriptor *d = &nfxdp__flow__descriptor;
	static const char *const words[] = { "and", "or", "not", "&&", "||", "!", "(", ")",
					     "==", "!=", "<", "<=", ">", ">=" };
	FILE *f = fopen(path, "w");

	if (!f)
		return 1;
	fprintf(f, "# --flow-filter: operators and Flow's field names (tests/fuzz/mkseeds.c)\n");
	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		fprintf(f, "\"%s\"\n", words[i]);
	for (unsigned i = 0; i < d->n_fields; i++)
		fprintf(f, "\"%s\"\n", d->fields[i].name);
	return fclose(f) ? 1 : 0;
}

int main(int argc, char **argv)
{
	if (argc >= 3 && !strcmp(argv[1], "flowfilter-dict"))
		return cmd_flowfilter_dict(argv[2]);
	if (argc < 3) {
		fprintf(stderr, "Usage: mkseeds packet|capture|catmsg DIR [FILE...]\n"
				"       mkseeds flowfilter-dict FILE\n");
		return 2;
	}
	outdir = argv[2];
	if (mkdir(outdir, 0755) && errno != EEXIST) {
		fprintf(stderr, "mkseeds: couldn't create %s: %s\n", outdir, strerror(errno));
		return 1;
	}
	if (!strcmp(argv[1], "packet"))
		cmd_packet(argc - 3, argv + 3);
	else if (!strcmp(argv[1], "capture"))
		cmd_capture(argc - 3, argv + 3);
	else if (!strcmp(argv[1], "catmsg"))
		cmd_catmsg(argc - 3, argv + 3);
	else
		return 2;
	printf("mkseeds: %d %s seeds in %s\n", written, argv[1], outdir);
	return 0;
}
