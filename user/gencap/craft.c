// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "gencap/craft.h"

struct writer {
	uint8_t *buf;
	size_t cap;
	size_t len;
	bool overflow;
};

static uint8_t *put(struct writer *w, size_t n)
{
	uint8_t *p;

	if (w->len + n > w->cap) {
		w->overflow = true;
		return NULL;
	}
	p = w->buf + w->len;
	memset(p, 0, n);
	w->len += n;
	return p;
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v;
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, v >> 16);
	put16(p + 2, v);
}

void pkt_spec_reverse(struct pkt_spec *s)
{
	const char *a = s->src;
	uint16_t p = s->sport;
	uint8_t m[6];

	s->src = s->dst;
	s->dst = a;
	s->sport = s->dport;
	s->dport = p;
	memcpy(m, s->smac, 6);
	memcpy(s->smac, s->dmac, 6);
	memcpy(s->dmac, m, 6);
}

int pkt_parse_mac(const char *s, uint8_t mac[6])
{
	unsigned int b[6];

	if (sscanf(s, "%x:%x:%x:%x:%x:%x", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5]) != 6)
		return -1;
	for (int i = 0; i < 6; i++)
		mac[i] = b[i];
	return 0;
}

static size_t l4_header_len(const struct pkt_spec *s)
{
	switch (s->proto) {
	case 6:
		return (s->tcp_doff ? s->tcp_doff : 5) * 4;
	case 17:
	case 1:
	case 58:
		return 8;
	case 132:
		return 12;
	default:
		return 0;
	}
}

/* Transport header and payload. */
static void put_l4(struct writer *w, const struct pkt_spec *s)
{
	size_t hl = l4_header_len(s);
	uint8_t *p = put(w, hl);

	if (p && (s->proto == 6 || s->proto == 17 || s->proto == 132)) {
		put16(p, s->sport);
		put16(p + 2, s->dport);
	}
	if (p && s->proto == 6) {
		put32(p + 4, s->tcp_seq);
		put32(p + 8, s->tcp_ack);
		p[12] = (s->tcp_doff ? s->tcp_doff : 5) << 4;
		p[13] = s->tcp_flags;
		put16(p + 14, 65535);
	}
	if (p && s->proto == 17)
		put16(p + 4, hl + s->payload);
	if (p && (s->proto == 1 || s->proto == 58))
		p[0] = s->proto == 1 ? 8 : 128; /* echo request */
	p = put(w, s->payload);
	for (size_t i = 0; p && i < s->payload; i++)
		p[i] = s->payload_data ? s->payload_data[i] : 'a' + i % 26;
}

static size_t ipv6_ext_len(const struct pkt_spec *s)
{
	return (size_t)s->n_ext * 8;
}

/* An IP header of @version carrying @inner_len bytes of protocol @proto. */
static int put_ip(struct writer *w, const struct pkt_spec *s, int version, const char *src,
		  const char *dst, uint8_t proto, size_t inner_len, bool innermost)
{
	uint8_t *p;

	if (version == 4) {
		size_t hl = (s->ipv4_ihl && innermost ? s->ipv4_ihl : 5) * 4;
		uint16_t frag = innermost ? (s->frag_offset & 0x1fff) | (s->more_frags ? 0x2000 : 0) : 0;

		p = put(w, hl < 20 ? 20 : hl);
		if (!p)
			return -1;
		p[0] = ((innermost && s->version ? s->version : 4) << 4) | ((hl / 4) & 0xf);
		put16(p + 2, hl + inner_len + (innermost ? s->len_delta : 0));
		put16(p + 6, frag);
		p[8] = 64;
		p[9] = proto;
		if (inet_pton(AF_INET, src, p + 12) != 1 || inet_pton(AF_INET, dst, p + 16) != 1)
			return -1;
		for (size_t i = 20; i < hl; i++)
			p[i] = 1; /* NOP options */
		return 0;
	}
	p = put(w, 40);
	if (!p)
		return -1;
	p[0] = (innermost && s->version ? s->version : 6) << 4;
	put16(p + 4, inner_len + (innermost ? ipv6_ext_len(s) + s->len_delta : 0));
	p[6] = innermost && s->n_ext ? s->ipv6_ext[0] : proto;
	p[7] = 64;
	if (inet_pton(AF_INET6, src, p + 8) != 1 || inet_pton(AF_INET6, dst, p + 24) != 1)
		return -1;
	for (int i = 0; innermost && i < s->n_ext; i++) {
		uint8_t *e = put(w, 8);

		if (!e)
			return -1;
		e[0] = i + 1 < s->n_ext ? s->ipv6_ext[i + 1] : proto;
		if (s->ipv6_ext[i] == 44) {
			put16(e + 2, (s->frag_offset << 3) | (s->more_frags ? 1 : 0));
			put32(e + 4, 0x1234);
		}
	}
	return 0;
}

/* Cisco FabricPath: outer switch addresses, ethertype 0x8903, FTag 1 and TTL 32. */
static void put_fabricpath(struct writer *w)
{
	static const uint8_t hdr[16] = { 0x0a, 0, 0, 0, 0, 0x01, 0x0a, 0, 0, 0, 0, 0x02,
					 0x89, 0x03, 0x00, 0x60 };
	uint8_t *p = put(w, sizeof(hdr));

	if (p)
		memcpy(p, hdr, sizeof(hdr));
}

static void put_link(struct writer *w, const struct pkt_spec *s, uint16_t ethertype)
{
	uint8_t *p;

	if (s->fabricpath)
		put_fabricpath(w);
	p = put(w, 14);

	if (!p)
		return;
	memcpy(p, s->dmac, 6);
	memcpy(p + 6, s->smac, 6);
	if (s->llc_snap) {
		put16(p + 12, 0); /* length, fixed below */
		p = put(w, 8);
		if (!p)
			return;
		p[0] = 0xaa;
		p[1] = 0xaa;
		p[2] = 0x03;
		put16(p + 6, s->n_vlans ? s->vlan_tpid[0] : ethertype);
	} else {
		put16(p + 12, s->n_vlans ? s->vlan_tpid[0] : s->mpls_labels ? 0x8847 :
							 s->pppoe ? 0x8864 : ethertype);
	}
	for (int i = 0; i < s->n_vlans; i++) {
		p = put(w, 4);
		if (!p)
			return;
		put16(p, s->vlan_id[i]);
		put16(p + 2, i + 1 < s->n_vlans ? s->vlan_tpid[i + 1] :
			     s->mpls_labels ? 0x8847 : s->pppoe ? 0x8864 : ethertype);
	}
	for (int i = 0; i < s->mpls_labels; i++) {
		p = put(w, 4);
		if (!p)
			return;
		put32(p, (100 + i) << 12 | (i + 1 == s->mpls_labels ? 0x100 : 0) | 64);
	}
	if (s->pppoe) {
		p = put(w, 8);
		if (!p)
			return;
		p[0] = 0x11;
		put16(p + 2, 1);
		put16(p + 6, ethertype == 0x86dd ? 0x0057 : 0x0021);
	}
}

size_t pkt_build(const struct pkt_spec *s, uint8_t *buf, size_t cap)
{
	struct writer w = { .buf = buf, .cap = cap };
	int inner_v = s->ip_version;
	int first_v = s->outer_version ? s->outer_version : inner_v;
	uint16_t et = s->ethertype ? s->ethertype : first_v == 6 ? 0x86dd : 0x0800;
	size_t l4 = l4_header_len(s) + s->payload;
	size_t inner_hdr = inner_v == 6 ? 40 + ipv6_ext_len(s) : (s->ipv4_ihl ? s->ipv4_ihl : 5) * 4;
	size_t link = s->fabricpath ? 16 : 0; /* where the Ethernet header starts */

	put_link(&w, s, et);
	if (s->llc_snap && !w.overflow)
		put16(buf + link + 12, w.len - link - 14 + (inner_v ? inner_hdr + l4 : 0) +
					(s->outer_version ? (s->outer_version == 6 ? 40 : 20) : 0));
	if (s->outer_version &&
	    put_ip(&w, s, s->outer_version, s->outer_src, s->outer_dst, inner_v == 6 ? 41 : 4,
		   inner_hdr + l4, false))
		return 0;
	if (inner_v && put_ip(&w, s, inner_v, s->src, s->dst, s->proto, l4, true))
		return 0;
	if (inner_v) {
		put_l4(&w, s);
	} else {
		uint8_t *p = put(&w, s->payload); /* a non-IP frame's body */

		for (size_t i = 0; p && i < s->payload; i++)
			p[i] = i;
	}
	if (w.overflow || s->truncate >= w.len)
		return 0;
	return w.len - s->truncate;
}
