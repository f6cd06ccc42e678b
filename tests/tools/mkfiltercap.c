// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * mkfiltercap: an Ethernet capture of crafted frames for --filter's tests,
 * with what the reference captures have few or none of: 802.1Q, 802.1ad and
 * stacked tags, MPLS stacks, PPPoE, LLC/SNAP, IPv4 options and fragments,
 * IPv6 extension headers and fragments, IP-in-IP, SCTP, GRE, ICMP and
 * ICMPv6 types, every TCP flag, broadcast and multicast MAC addresses, ARP,
 * sizes from 42 to 1514 bytes, and (unless --whole, for replaying on a link)
 * frames captured short of their length. The same frames every time.
 *
 *   mkfiltercap [--whole] FILE
 */
#include <pcap/pcap.h>
#include <stdio.h>
#include <string.h>

#include "gencap/craft.h"

#define SNAPLEN 65535

struct l2 {
	int n_vlans;
	uint16_t tpid[3], id[3];
	int mpls;
	bool pppoe, llc;
};

static const struct l2 l2s[] = {
	{ 0 },
	{ .n_vlans = 1, .tpid = { 0x8100 }, .id = { 100 } },
	{ .n_vlans = 1, .tpid = { 0x8100 }, .id = { 200 } },
	{ .n_vlans = 2, .tpid = { 0x88a8, 0x8100 }, .id = { 300, 100 } },
	{ .n_vlans = 3, .tpid = { 0x8100, 0x8100, 0x8100 }, .id = { 10, 20, 0xe030 } },
	{ .mpls = 1 },
	{ .mpls = 3 },
	{ .pppoe = true },
	{ .llc = true },
};

struct l34 {
	int version;
	uint8_t proto, flags, ihl;
	uint16_t sport, dport, payload, frag;
	bool more;
	uint8_t ext[3];
	int n_ext, outer;
};

static const struct l34 l34s[] = {
	{ 4, 6, 0x02, 0, 40000, 443 },
	{ 4, 6, 0x12, 0, 443, 40000 },
	{ 4, 6, 0x10, 0, 40000, 443, 300 },
	{ 4, 6, 0x18, 0, 40001, 80, 1400 },
	{ 4, 6, 0x11, 0, 40001, 80 },
	{ 4, 6, 0x04, 0, 22, 50000 },
	{ 4, 6, 0xc2, 0, 50000, 22 },
	{ 4, 6, 0x29, 0, 1023, 1024, 10 },
	{ 4, 17, 0, 0, 5353, 53, 40 },
	{ 4, 17, 0, 0, 53, 5353, 200 },
	{ 4, 17, 0, 0, 40002, 443, 1200 },
	{ 4, 17, 0, 0, 2152, 2152, 60 },
	{ 4, 17, 0, 0, 123, 123, 48 },
	{ 4, 1, 0, 0, 0, 0, 56 },
	{ 4, 132, 0, 0, 3868, 3869, 20 },
	{ 4, 47, 0, 0, 0, 0, 20 },
	{ 4, 2, 0, 0, 0, 0, 8 },
	{ 4, 17, 0, 15, 1000, 2000, 30 },
	{ 4, 17, 0, 0, 1000, 2000, 100, 0, true },
	{ 4, 17, 0, 0, 1000, 2000, 100, 185 },
	{ 4, 6, 0x02, 0, 40003, 8080, 0, 0, false, { 0 }, 0, 4 },
	{ 6, 6, 0x02, 0, 40004, 443 },
	{ 6, 6, 0x10, 0, 443, 40004, 500 },
	{ 6, 17, 0, 0, 40005, 53, 30 },
	{ 6, 58, 0, 0, 0, 0, 56 },
	{ 6, 132, 0, 0, 3868, 3869, 20 },
	{ 6, 6, 0x02, 0, 40006, 80, 0, 0, false, { 0, 43, 60 }, 3 },
	{ 6, 17, 0, 0, 40007, 53, 30, 0, true, { 44 }, 1 },
	{ 6, 17, 0, 0, 40007, 53, 30, 100, false, { 44 }, 1 },
	{ 6, 17, 0, 0, 40008, 4789, 80, 0, false, { 0 }, 0, 6 },
};

static const char *const v4[] = { "198.18.0.1", "198.18.0.2", "198.19.7.9", "10.1.2.3",
				   "192.168.1.20", "224.0.0.251", "255.255.255.255" };
static const char *const v6[] = { "fd00::1", "fd00::2", "fd00:1::7", "2001:db8::5",
				   "fe80::1", "ff02::fb" };
static const uint8_t macs[][6] = {
	{ 2, 0, 0, 0, 0, 1 }, { 2, 0, 0, 0, 0, 2 }, { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff },
	{ 0x01, 0x00, 0x5e, 0, 0, 0xfb }, { 0x33, 0x33, 0, 0, 0, 0xfb },
};

static void dump(pcap_dumper_t *d, const uint8_t *frame, size_t len, size_t caplen, long n)
{
	struct pcap_pkthdr h = { .caplen = caplen, .len = len };

	h.ts.tv_sec = 1700000000 + n / 1000;
	h.ts.tv_usec = (n % 1000) * 1000;
	pcap_dump((u_char *)d, &h, frame);
}

int main(int argc, char **argv)
{
	pcap_t *p = pcap_open_dead(DLT_EN10MB, SNAPLEN);
	bool whole = argc == 3 && !strcmp(argv[1], "--whole");
	const char *path = argv[argc - 1];
	uint8_t frame[PKT_MAX];
	pcap_dumper_t *d;
	long n = 0;

	if (argc != 2 && !whole) {
		fprintf(stderr, "usage: mkfiltercap [--whole] FILE\n");
		return 1;
	}
	d = pcap_dump_open(p, path);
	if (!d) {
		fprintf(stderr, "mkfiltercap: %s: %s\n", path, pcap_geterr(p));
		return 1;
	}
	for (size_t a = 0; a < sizeof(l2s) / sizeof(l2s[0]); a++) {
		for (size_t b = 0; b < sizeof(l34s) / sizeof(l34s[0]); b++) {
			const struct l2 *x = &l2s[a];
			const struct l34 *y = &l34s[b];
			const char *const *addr = y->version == 6 ? v6 : v4;
			size_t n_addr = y->version == 6 ? sizeof(v6) / sizeof(v6[0]) :
							  sizeof(v4) / sizeof(v4[0]);
			struct pkt_spec s = {
				.n_vlans = x->n_vlans, .mpls_labels = x->mpls, .pppoe = x->pppoe,
				.llc_snap = x->llc, .ip_version = y->version, .proto = y->proto,
				.sport = y->sport, .dport = y->dport, .tcp_flags = y->flags,
				.payload = y->payload, .ipv4_ihl = y->ihl, .frag_offset = y->frag,
				.more_frags = y->more, .n_ext = y->n_ext,
				.src = addr[(a + b) % n_addr], .dst = addr[(a * 3 + b + 1) % n_addr],
			};
			size_t len;

			memcpy(s.vlan_tpid, x->tpid, sizeof(x->tpid));
			memcpy(s.vlan_id, x->id, sizeof(x->id));
			memcpy(s.ipv6_ext, y->ext, sizeof(y->ext));
			memcpy(s.smac, macs[(a + 2 * b) % 2], 6);
			memcpy(s.dmac, macs[(a + b) % 5], 6);
			if (y->outer) {
				s.outer_version = y->outer;
				s.outer_src = y->outer == 6 ? "fd00::a" : "198.19.0.1";
				s.outer_dst = y->outer == 6 ? "fd00::b" : "198.19.0.2";
			}
			len = pkt_build(&s, frame, sizeof(frame));
			if (!len)
				continue;
			dump(d, frame, len, len, n++);
			if (whole)
				continue;
			/* The same, captured short: 34 bytes, then 64. */
			dump(d, frame, len, len < 34 ? len : 34, n++);
			if (len > 64)
				dump(d, frame, len, 64, n++);
		}
	}
	for (int i = 0; i < 4; i++) {
		struct pkt_spec arp = { .ethertype = 0x0806, .payload = 28 + 18 * i };
		size_t len;

		memcpy(arp.smac, macs[i % 2], 6);
		memcpy(arp.dmac, macs[2], 6);
		len = pkt_build(&arp, frame, sizeof(frame));
		dump(d, frame, len, len, n++);
	}
	pcap_dump_close(d);
	pcap_close(p);
	printf("mkfiltercap: %ld frames in %s\n", n, path);
	return 0;
}
