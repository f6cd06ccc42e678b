/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Header parsers of the meter (kernel only). They read a copy of the frame's
 * first PARSE_WINDOW bytes, so the very same code serves a live frame and a
 * frame handed in by capture replay. Each parse_<header>() advances the
 * cursor and returns the next protocol, or a negative enum nfx_counter
 * naming why the frame is not metered.
 */
#ifndef NFXDP_PARSE_H
#define NFXDP_PARSE_H

#include "flow.h"

#define VLAN_MAX_DEPTH 4
#define MPLS_MAX_DEPTH 8
#define IPV6_EXT_MAX_CHAIN 8
#define IP_TUNNEL_MAX_DEPTH 2
/* NFStream ignores frames of fewer captured bytes than this. */
#define MIN_FRAME_LEN 28

#define ETH_P_IP 0x0800
#define ETH_P_IPV6 0x86DD
#define ETH_P_8021Q 0x8100
#define ETH_P_8021AD 0x88A8
#define ETH_P_QINQ1 0x9100
#define ETH_P_MPLS_UC 0x8847
#define ETH_P_MPLS_MC 0x8848
#define ETH_P_PPP_SES 0x8864
#define ETH_P_802_3_MIN 0x0600

#define IPPROTO_HOPOPTS 0
#define IPPROTO_ROUTING 43
#define IPPROTO_FRAGMENT 44
#define IPPROTO_DSTOPTS 60
#define IPPROTO_MH 135
#define IPPROTO_ICMPV6 58

#define TCP_FLAG_FIN 0x01
#define TCP_FLAG_SYN 0x02
#define TCP_FLAG_RST 0x04
#define TCP_FLAG_ACK 0x10

/* Bytes of a frame the parser may read, and where it is. */
struct cursor {
	__u32 off;    /* next header */
	__u32 len;    /* bytes of the frame in the window: min(caplen, PARSE_WINDOW) */
	__u32 caplen; /* bytes of the frame captured (the whole frame when live) */
};

/* What the parsers learn about one packet. */
struct pkt {
	struct flow_key key; /* addr_lo/port_lo = sender until flow_key_order() */
	__u8 smac[6];
	__u8 dmac[6];
	__u8 tcp_flags;
	__u8 from_hi; /* the sender is the key's hi endpoint */
	__u16 l2_len; /* link header length: too-short check */
	__u32 ip_len;	  /* IPv4 total length, IPv6 payload length */
	__u32 ip_l4_off;  /* transport header offset within what ip_len counts */
	__u32 l4_len;	  /* transport header and payload, from the IP lengths */
	__u32 l4_hdr_len; /* transport header length; 0 when not parsed */
};

/*
 * Pointer to @size bytes at @off in @buf, or NULL when the frame ends
 * before. The first test is the bound the verifier needs; it also means
 * the header lies past PARSE_WINDOW (see cursor_miss()).
 */
static __always_inline void *window_at(__u8 *buf, const struct cursor *c, __u32 off, __u32 size)
{
	if (off > PARSE_WINDOW - size)
		return NULL;
	if (off + size > c->len)
		return NULL;
	return buf + off;
}

#define CURSOR_PEEK(buf, c, type) ((type *)window_at(buf, c, (c)->off, sizeof(type)))

/* Why a header of @size bytes at the cursor is not there: truncated or past the window. */
static __always_inline int cursor_miss(const struct cursor *c, __u32 size, int truncated)
{
	if (c->off + size <= c->caplen)
		return -NFX_IGNORE_HEADERS_TOO_LONG;
	return -truncated;
}

struct vlan_tag {
	__be16 tci;
	__be16 encap_proto;
};

struct mpls_entry {
	__be32 entry;
};

struct pppoe_session {
	__u8 ver_type;
	__u8 code;
	__be16 session;
	__be16 length;
	__be16 ppp_proto;
};

struct llc_snap {
	__u8 dsap;
	__u8 ssap;
	__u8 ctrl;
	__u8 oui[3];
	__be16 type;
};

static __always_inline int is_vlan(__u16 proto)
{
	return proto == ETH_P_8021Q || proto == ETH_P_8021AD || proto == ETH_P_QINQ1;
}

/* Ethernet, LLC/SNAP, stacked VLAN tags (innermost id kept), MPLS, PPPoE. */
static __always_inline int parse_ethernet(__u8 *buf, struct cursor *c, struct pkt *p)
{
	struct ethhdr *eth = CURSOR_PEEK(buf, c, struct ethhdr);
	__u16 proto;

	if (!eth)
		return -NFX_IGNORE_TOO_SHORT;
	__builtin_memcpy(p->dmac, eth->h_dest, 6);
	__builtin_memcpy(p->smac, eth->h_source, 6);
	proto = bpf_ntohs(eth->h_proto);
	c->off += sizeof(*eth);

	if (proto < ETH_P_802_3_MIN) {
		struct llc_snap *llc = CURSOR_PEEK(buf, c, struct llc_snap);

		if (!llc)
			return -NFX_IGNORE_NON_IP;
		if (llc->dsap != 0xaa || llc->ssap != 0xaa || llc->ctrl != 0x03)
			return -NFX_IGNORE_NON_IP;
		proto = bpf_ntohs(llc->type);
		c->off += sizeof(*llc);
	}

#pragma unroll
	for (int i = 0; i < VLAN_MAX_DEPTH; i++) {
		struct vlan_tag *vh;

		if (!is_vlan(proto))
			break;
		vh = CURSOR_PEEK(buf, c, struct vlan_tag);
		if (!vh)
			return cursor_miss(c, sizeof(*vh), NFX_IGNORE_MALFORMED_L2);
		p->key.vlan_id = bpf_ntohs(vh->tci) & 0x0fff;
		proto = bpf_ntohs(vh->encap_proto);
		c->off += sizeof(*vh);
	}

	if (proto == ETH_P_MPLS_UC || proto == ETH_P_MPLS_MC) {
		__u8 *first;

#pragma unroll
		for (int i = 0; i < MPLS_MAX_DEPTH; i++) {
			struct mpls_entry *m = CURSOR_PEEK(buf, c, struct mpls_entry);

			if (!m)
				return cursor_miss(c, sizeof(*m), NFX_IGNORE_MALFORMED_L2);
			c->off += sizeof(*m);
			if (bpf_ntohl(m->entry) & 0x100) /* bottom of stack */
				break;
		}
		/* No protocol field after MPLS: guess from the IP version nibble. */
		first = window_at(buf, c, c->off, 1);
		if (!first)
			return cursor_miss(c, 1, NFX_IGNORE_MALFORMED_L2);
		proto = (*first >> 4) == 6 ? ETH_P_IPV6 : ETH_P_IP;
	} else if (proto == ETH_P_PPP_SES) {
		struct pppoe_session *ph = CURSOR_PEEK(buf, c, struct pppoe_session);

		if (!ph)
			return cursor_miss(c, sizeof(*ph), NFX_IGNORE_MALFORMED_L2);
		c->off += sizeof(*ph);
		proto = bpf_ntohs(ph->ppp_proto) == 0x0057 ? ETH_P_IPV6 : ETH_P_IP;
	}
	p->l2_len = c->off;
	return proto;
}

static __always_inline void set_addr4(__u8 *dst, __be32 a)
{
	*(__be32 *)dst = a;
	*(__u32 *)(dst + 4) = 0;
	*(__u64 *)(dst + 8) = 0;
}

static __always_inline void set_addr6(__u8 *dst, const struct in6_addr *a)
{
	__builtin_memcpy(dst, a, 16);
}

/* IPv4 with options; only the first fragment carries the ports. */
static __always_inline int parse_ipv4(__u8 *buf, struct cursor *c, struct pkt *p, __u32 wire_len)
{
	struct iphdr *iph = CURSOR_PEEK(buf, c, struct iphdr);
	__u32 hlen, tot;

	if (!iph)
		return cursor_miss(c, sizeof(*iph), NFX_IGNORE_MALFORMED_IPV4);
	hlen = iph->ihl * 4;
	tot = bpf_ntohs(iph->tot_len);
	if (iph->version != 4 || hlen < sizeof(*iph) || tot < hlen)
		return -NFX_IGNORE_MALFORMED_IPV4;
	if (c->off + tot > wire_len)
		return -NFX_IGNORE_MALFORMED_IPV4;
	if (bpf_ntohs(iph->frag_off) & 0x1fff)
		return -NFX_IGNORE_FRAGMENT;
	set_addr4(p->key.addr_lo, iph->saddr);
	set_addr4(p->key.addr_hi, iph->daddr);
	p->key.ip_version = 4;
	p->ip_len = tot;
	p->ip_l4_off = hlen;
	c->off += hlen;
	return iph->protocol;
}

struct ipv6_ext {
	__u8 nexthdr;
	__u8 hdrlen;
};

struct ipv6_frag {
	__u8 nexthdr;
	__u8 reserved;
	__be16 frag_off;
	__be32 id;
};

static __always_inline int ipv6_is_ext(__u8 next)
{
	return next == IPPROTO_HOPOPTS || next == IPPROTO_ROUTING || next == IPPROTO_DSTOPTS ||
	       next == IPPROTO_FRAGMENT || next == IPPROTO_MH;
}

/*
 * IPv6 and its extension headers (hop-by-hop, routing, fragment, destination
 * options, mobility), up to IPV6_EXT_MAX_CHAIN of them. AH and ESP end the
 * chain: like IPv4, the flow is then AH or ESP with ports 0.
 */
static __always_inline int parse_ipv6(__u8 *buf, struct cursor *c, struct pkt *p, __u32 wire_len)
{
	struct ipv6hdr *ip6 = CURSOR_PEEK(buf, c, struct ipv6hdr);
	__u32 start = c->off;
	__u8 next;

	if (!ip6)
		return cursor_miss(c, sizeof(*ip6), NFX_IGNORE_MALFORMED_IPV6);
	if (ip6->version != 6)
		return -NFX_IGNORE_MALFORMED_IPV6;
	p->ip_len = bpf_ntohs(ip6->payload_len);
	if (c->off + sizeof(*ip6) + p->ip_len > wire_len)
		return -NFX_IGNORE_MALFORMED_IPV6;
	set_addr6(p->key.addr_lo, &ip6->saddr);
	set_addr6(p->key.addr_hi, &ip6->daddr);
	p->key.ip_version = 6;
	next = ip6->nexthdr;
	c->off += sizeof(*ip6);

#pragma unroll
	for (int i = 0; i < IPV6_EXT_MAX_CHAIN; i++) {
		struct ipv6_ext *oh;

		if (!ipv6_is_ext(next))
			break;
		oh = CURSOR_PEEK(buf, c, struct ipv6_ext);
		if (!oh)
			return cursor_miss(c, sizeof(*oh), NFX_IGNORE_MALFORMED_IPV6);
		if (next == IPPROTO_FRAGMENT) {
			struct ipv6_frag *fh = CURSOR_PEEK(buf, c, struct ipv6_frag);

			if (!fh)
				return cursor_miss(c, sizeof(*fh), NFX_IGNORE_MALFORMED_IPV6);
			if (bpf_ntohs(fh->frag_off) & 0xfff8)
				return -NFX_IGNORE_FRAGMENT;
			c->off += sizeof(*fh);
		} else {
			c->off += (oh->hdrlen + 1) * 8;
		}
		next = oh->nexthdr;
	}
	if (ipv6_is_ext(next))
		return -NFX_IGNORE_HEADERS_TOO_LONG; /* longer chain than IPV6_EXT_MAX_CHAIN */
	p->ip_l4_off = c->off - start - sizeof(*ip6);
	return next;
}

/*
 * The IP header after the link layer, then any IP-in-IP (4in4, 6in4, 4in6,
 * 6in6): the innermost header names the flow. Returns the transport protocol.
 */
static __always_inline int parse_ip(__u8 *buf, struct cursor *c, struct pkt *p, int proto,
				    __u32 wire_len)
{
	int next = -NFX_IGNORE_NON_IP;

#pragma unroll
	for (int i = 0; i < IP_TUNNEL_MAX_DEPTH; i++) {
		if (proto == ETH_P_IP)
			next = parse_ipv4(buf, c, p, wire_len);
		else if (proto == ETH_P_IPV6)
			next = parse_ipv6(buf, c, p, wire_len);
		else
			return next;
		if (next == IPPROTO_IPIP)
			proto = ETH_P_IP;
		else if (next == IPPROTO_IPV6)
			proto = ETH_P_IPV6;
		else
			return next;
	}
	return next;
}

/*
 * Ports and flags of the transport header. As NFStream does, TCP and UDP
 * whose IP payload is too short for their header, and every protocol but
 * TCP, UDP and SCTP, are metered with ports 0.
 */
static __always_inline int parse_l4(__u8 *buf, struct cursor *c, struct pkt *p, __u8 proto)
{
	__u32 l4_len = p->ip_len > p->ip_l4_off ? p->ip_len - p->ip_l4_off : 0;

	p->key.protocol = proto;
	p->l4_len = l4_len;
	if (proto == IPPROTO_TCP && l4_len >= sizeof(struct tcphdr)) {
		struct tcphdr *th = CURSOR_PEEK(buf, c, struct tcphdr);

		if (!th)
			return cursor_miss(c, sizeof(*th), NFX_IGNORE_MALFORMED_L4);
		p->key.port_lo = th->source;
		p->key.port_hi = th->dest;
		p->tcp_flags = ((__u8 *)th)[13];
		p->l4_hdr_len = th->doff * 4;
	} else if ((proto == IPPROTO_UDP || proto == IPPROTO_SCTP) && l4_len >= 8) {
		struct udphdr *uh = CURSOR_PEEK(buf, c, struct udphdr);

		if (!uh)
			return cursor_miss(c, sizeof(*uh), NFX_IGNORE_MALFORMED_L4);
		p->key.port_lo = uh->source;
		p->key.port_hi = uh->dest;
		p->l4_hdr_len = proto == IPPROTO_UDP ? 8 : 12;
	} else if (proto == IPPROTO_ICMP || proto == IPPROTO_ICMPV6) {
		p->l4_hdr_len = 8;
	}
	return 0;
}

#endif /* NFXDP_PARSE_H */
