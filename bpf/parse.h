/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Header parsers of the meter (kernel only). They read a copy of the frame's
 * first PARSE_WINDOW bytes, so the very same code serves a live frame and a
 * frame handed in by capture replay. Each parse_<header>() advances the
 * cursor and returns the next protocol, or a negative enum nfx_counter
 * naming why the frame is not metered.
 *
 * parse_ethernet() and parse_udp_tunnel() are global functions: the
 * verifier checks each once, however many times the meter calls it (again
 * for a tunnel's inner headers). The meter calls them only for the frames
 * that need them (parse_l2(), udp_tunnel()): a call costs a return through
 * the kernel's return thunk (flow_cache.h). parse_ip() and parse_l4(),
 * which every IP packet runs, are inlined, and the meter still loads
 * faster than with them out of line.
 */
#ifndef NFXDP_PARSE_H
#define NFXDP_PARSE_H

#include "flow.h"

#define VLAN_MAX_DEPTH 4
#define MPLS_MAX_DEPTH 8
#define IPV6_EXT_MAX_CHAIN 8
#define IP_TUNNEL_MAX_DEPTH 2
#define GTP_EXT_MAX_CHAIN 4

#define ETH_P_IP 0x0800
#define ETH_P_IPV6 0x86DD
#define ETH_P_8021Q 0x8100
#define ETH_P_8021AD 0x88A8
#define ETH_P_QINQ1 0x9100
#define ETH_P_MPLS_UC 0x8847
#define ETH_P_MPLS_MC 0x8848
#define ETH_P_PPP_SES 0x8864
#define ETH_P_FABRICPATH 0x8903
/* Cisco FabricPath: outer DA, SA, ethertype 0x8903, FTag and TTL; the original frame follows. */
#define FABRICPATH_HLEN 16
#define ETH_P_802_3_MIN 0x0600
/* parse_udp_tunnel(): an Ethernet frame follows (TZSP). */
#define TUNNEL_ETHERNET 0x6558

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
	__u8 from_hi;	  /* the sender is the key's hi endpoint */
	__u16 entry_flags; /* FLOW_F_TS_* and FLOW_F_HOOK_*: its clock, the hook that saw it */
	__u32 ip_len;	  /* IPv4 total length, IPv6 payload length */
	__u32 ip_l4_off;  /* transport header offset within what ip_len counts */
	__u32 l4_len;	  /* transport header and payload, from the IP lengths */
	__u32 l4_hdr_len; /* transport header length; 0 when not parsed */
	__u32 l3_off;	  /* the (innermost) IP header's offset in the frame */
	__u32 l4_off;	  /* the transport header's offset in the frame */
	__u32 obs;	  /* where it was observed: FLOW_OBS_* */
	__u8 tos;	  /* IPv4 ToS, IPv6 traffic class */
	__u8 _pad;
	__u16 icmp;	  /* ICMP type << 8 | code */
	/* What it counts for, set once parsed (see packet_amount()). */
	__u64 ts;	  /* when it was seen, meter clock */
	__u32 bytes;	  /* bytes counted, per --accounting, all its segments */
	__u32 segs;	  /* packets on the wire: 1, or a GSO packet's segments */
	__u32 seg_bytes;  /* GSO: the bytes of each segment but the last */
	__u32 _pad2;
};

/* Does the window hold @size bytes at the cursor (+@skip)? */
static __always_inline int cursor_has(const struct cursor *c, __u32 skip, __u32 size)
{
	return c->off + skip + size <= c->len;
}

/*
 * The bytes at the cursor (+@skip), once cursor_has() said they are there.
 * c->len <= PARSE_WINDOW, so the mask changes nothing: it bounds the very
 * register that is dereferenced, whatever clang does with the comparison.
 */
static __always_inline void *cursor_ptr(struct frame_buf *buf, const struct cursor *c, __u32 skip)
{
	_Static_assert((PARSE_WINDOW & (PARSE_WINDOW - 1)) == 0, "PARSE_WINDOW: a power of 2");
	return buf->b + ((c->off + skip) & (PARSE_WINDOW - 1));
}

/* Why @size bytes at the cursor are missing: cut off, or past the window. */
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

/* MPLS: skips the label stack; no protocol field follows, so guess from the IP version. */
static __always_inline int skip_mpls(struct frame_buf *buf, struct cursor *c)
{
#pragma unroll
	for (int i = 0; i < MPLS_MAX_DEPTH; i++) {
		__be32 *label;

		if (!cursor_has(c, 0, 4))
			return cursor_miss(c, 4, NFX_IGNORE_MALFORMED_L2);
		label = cursor_ptr(buf, c, 0);
		c->off += 4;
		if (bpf_ntohl(*label) & 0x100) /* bottom of stack */
			break;
	}
	if (!cursor_has(c, 0, 1))
		return cursor_miss(c, 1, NFX_IGNORE_MALFORMED_L2);
	return (*(__u8 *)cursor_ptr(buf, c, 0) >> 4) == 6 ? ETH_P_IPV6 : ETH_P_IP;
}

/*
 * ETH_HLEN as a variable: the verifier cannot know its value, so the
 * offsets after parse_l2()'s inline path are no better known than after
 * parse_ethernet()'s, and it checks the IP parsers once for both rather
 * than once for each (a constant 14 nearly doubled its work).
 */
__u32 eth_hlen = sizeof(struct ethhdr);

static __always_inline void eth_addresses(struct pkt *p, const struct ethhdr *eth)
{
	__builtin_memcpy(p->dmac, eth->h_dest, 6);
	__builtin_memcpy(p->smac, eth->h_source, 6);
}

/*
 * Ethernet, LLC/SNAP, stacked VLAN tags (innermost id kept), MPLS, PPPoE;
 * behind a Cisco FabricPath header, the original frame (its addresses kept).
 * Callers go through parse_l2() below.
 */
__noinline int parse_ethernet(struct frame_buf *buf, struct cursor *c, struct pkt *p)
{
	struct ethhdr *eth;
	__u16 proto;

	if (!buf || !c || !p)
		return -NFX_IGNORE_TOO_SHORT;
	if (!cursor_has(c, 0, sizeof(*eth)))
		return -NFX_IGNORE_TOO_SHORT;
	eth = cursor_ptr(buf, c, 0);
	if (eth->h_proto == bpf_htons(ETH_P_FABRICPATH)) {
		if (!cursor_has(c, FABRICPATH_HLEN, sizeof(*eth)))
			return cursor_miss(c, FABRICPATH_HLEN + sizeof(*eth),
					   NFX_IGNORE_MALFORMED_L2);
		c->off += FABRICPATH_HLEN;
		eth = cursor_ptr(buf, c, 0);
	}
	eth_addresses(p, eth);
	proto = bpf_ntohs(eth->h_proto);
	c->off += sizeof(*eth);

	if (proto < ETH_P_802_3_MIN) {
		struct llc_snap *llc;

		if (!cursor_has(c, 0, sizeof(*llc)))
			return -NFX_IGNORE_NON_IP;
		llc = cursor_ptr(buf, c, 0);
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
		if (!cursor_has(c, 0, sizeof(*vh)))
			return cursor_miss(c, sizeof(*vh), NFX_IGNORE_MALFORMED_L2);
		vh = cursor_ptr(buf, c, 0);
		p->key.vlan_id = bpf_ntohs(vh->tci) & 0x0fff;
		proto = bpf_ntohs(vh->encap_proto);
		c->off += sizeof(*vh);
	}

	if (proto == ETH_P_MPLS_UC || proto == ETH_P_MPLS_MC)
		return skip_mpls(buf, c);
	if (proto == ETH_P_PPP_SES) {
		struct pppoe_session *ph;

		if (!cursor_has(c, 0, sizeof(*ph)))
			return cursor_miss(c, sizeof(*ph), NFX_IGNORE_MALFORMED_L2);
		ph = cursor_ptr(buf, c, 0);
		c->off += sizeof(*ph);
		return bpf_ntohs(ph->ppp_proto) == 0x0057 ? ETH_P_IPV6 : ETH_P_IP;
	}
	return proto;
}

/*
 * The common frame, untagged Ethernet II carrying IPv4 or IPv6, in line;
 * any other through parse_ethernet(). A call costs a return through the
 * kernel's return thunk (flow_cache.h): most frames need none here.
 */
static __always_inline int parse_l2(struct frame_buf *buf, struct cursor *c, struct pkt *p)
{
	struct ethhdr *eth;

	if (!cursor_has(c, 0, sizeof(*eth)))
		return parse_ethernet(buf, c, p);
	eth = cursor_ptr(buf, c, 0);
	if (eth->h_proto != bpf_htons(ETH_P_IP) && eth->h_proto != bpf_htons(ETH_P_IPV6))
		return parse_ethernet(buf, c, p);
	eth_addresses(p, eth);
	c->off += eth_hlen;
	return bpf_ntohs(eth->h_proto);
}

static __always_inline void set_addr4(__u8 *dst, __be32 a)
{
	*(__be32 *)dst = a;
	*(__u32 *)(dst + 4) = 0;
	*(__u64 *)(dst + 8) = 0;
}

/*
 * IPv4 with options; only the first fragment carries the ports. A total
 * length past the end of the frame is metered from the header, as NFStream
 * does (captures of packets cut short in transit, or of segmentation offload).
 */
static __always_inline int parse_ipv4(struct frame_buf *buf, struct cursor *c, struct pkt *p,
				      __u32 wire_len)
{
	struct iphdr *iph;
	__u32 hlen, tot;

	if (!cursor_has(c, 0, sizeof(*iph)))
		return cursor_miss(c, sizeof(*iph), NFX_IGNORE_MALFORMED_IPV4);
	iph = cursor_ptr(buf, c, 0);
	hlen = iph->ihl * 4;
	tot = bpf_ntohs(iph->tot_len);
	if (iph->version != 4 || hlen < sizeof(*iph) || tot < hlen)
		return -NFX_IGNORE_MALFORMED_IPV4;
	if (bpf_ntohs(iph->frag_off) & 0x1fff)
		return -NFX_IGNORE_FRAGMENT;
	p->l3_off = c->off;
	p->tos = iph->tos;
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
	__be16 frag_off; /* fragment header only */
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
static __always_inline int parse_ipv6(struct frame_buf *buf, struct cursor *c, struct pkt *p,
				      __u32 wire_len)
{
	struct ipv6hdr *ip6;
	__u32 ext_start;
	__u8 next;

	if (!cursor_has(c, 0, sizeof(*ip6)))
		return cursor_miss(c, sizeof(*ip6), NFX_IGNORE_MALFORMED_IPV6);
	ip6 = cursor_ptr(buf, c, 0);
	p->ip_len = bpf_ntohs(ip6->payload_len);
	if (ip6->version != 6 || c->off + sizeof(*ip6) + p->ip_len > wire_len)
		return -NFX_IGNORE_MALFORMED_IPV6;
	__builtin_memcpy(p->key.addr_lo, &ip6->saddr, 16);
	__builtin_memcpy(p->key.addr_hi, &ip6->daddr, 16);
	p->key.ip_version = 6;
	p->l3_off = c->off;
	p->tos = ip6->priority << 4 | ip6->flow_lbl[0] >> 4;
	next = ip6->nexthdr;
	c->off += sizeof(*ip6);
	ext_start = c->off;

#pragma unroll
	for (int i = 0; i < IPV6_EXT_MAX_CHAIN; i++) {
		struct ipv6_ext *eh;

		if (!ipv6_is_ext(next))
			break;
		if (!cursor_has(c, 0, sizeof(*eh)))
			return cursor_miss(c, sizeof(*eh), NFX_IGNORE_MALFORMED_IPV6);
		eh = cursor_ptr(buf, c, 0);
		if (next == IPPROTO_FRAGMENT) {
			if (bpf_ntohs(eh->frag_off) & 0xfff8)
				return -NFX_IGNORE_FRAGMENT;
			c->off += 8;
		} else {
			c->off += (eh->hdrlen + 1) * 8;
		}
		next = eh->nexthdr;
	}
	if (ipv6_is_ext(next))
		return -NFX_IGNORE_HEADERS_TOO_LONG; /* a longer chain than IPV6_EXT_MAX_CHAIN */
	p->ip_l4_off = c->off - ext_start;
	return next;
}

/*
 * The IP header after the link layer, then any IP-in-IP (4in4, 6in4, 4in6,
 * 6in6): the innermost header names the flow. Returns the transport protocol.
 */
static __always_inline int parse_ip(struct frame_buf *buf, struct cursor *c, struct pkt *p,
				    int proto, __u32 wire_len)
{
	int next = -NFX_IGNORE_NON_IP;

	if (!buf || !c || !p)
		return next;
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
 * Ports and flags of the transport header; the cursor stays on it. As
 * NFStream does, TCP and UDP whose IP payload is too short for their header,
 * and every protocol but TCP, UDP and SCTP, are metered with ports 0.
 */
static __always_inline int parse_l4(struct frame_buf *buf, struct cursor *c, struct pkt *p,
				    int proto)
{
	__u32 l4_len;

	if (!buf || !c || !p)
		return -NFX_IGNORE_MALFORMED_L4;
	l4_len = p->ip_len > p->ip_l4_off ? p->ip_len - p->ip_l4_off : 0;
	p->key.protocol = proto;
	p->l4_len = l4_len;
	p->l4_off = c->off;
	p->key.port_lo = p->key.port_hi = 0;
	p->tcp_flags = 0;
	p->l4_hdr_len = 0;
	p->icmp = 0;
	if (proto == IPPROTO_TCP && l4_len >= sizeof(struct tcphdr)) {
		struct tcphdr *th;

		if (!cursor_has(c, 0, sizeof(*th)))
			return cursor_miss(c, sizeof(*th), NFX_IGNORE_MALFORMED_L4);
		th = cursor_ptr(buf, c, 0);
		p->key.port_lo = th->source;
		p->key.port_hi = th->dest;
		p->tcp_flags = ((__u8 *)th)[13];
		p->l4_hdr_len = th->doff * 4;
	} else if ((proto == IPPROTO_UDP || proto == IPPROTO_SCTP) && l4_len >= 8) {
		struct udphdr *uh;

		if (!cursor_has(c, 0, sizeof(*uh)))
			return cursor_miss(c, sizeof(*uh), NFX_IGNORE_MALFORMED_L4);
		uh = cursor_ptr(buf, c, 0);
		p->key.port_lo = uh->source;
		p->key.port_hi = uh->dest;
		p->l4_hdr_len = proto == IPPROTO_UDP ? 8 : 12;
	} else if (proto == IPPROTO_ICMP || proto == IPPROTO_ICMPV6) {
		p->l4_hdr_len = 8;
		if (cursor_has(c, 0, 2)) {
			__u8 *t = cursor_ptr(buf, c, 0);

			p->icmp = t[0] << 8 | t[1];
		}
	}
	return 0;
}

static __always_inline int udp_port_is(const struct pkt *p, __u16 port)
{
	return p->key.port_lo == bpf_htons(port) || p->key.port_hi == bpf_htons(port);
}

/* GTP-U: a T-PDU (version 1, type 0xff) carries an IP packet after its extension headers. */
static __always_inline int parse_gtp(struct frame_buf *buf, struct cursor *c, struct pkt *p)
{
	__u8 *g, flags, *b;
	__u32 skip = 16; /* UDP and the mandatory GTP header */

	if (!cursor_has(c, 0, skip + 1))
		return 0;
	g = cursor_ptr(buf, c, 8);
	flags = g[0];
	if ((flags >> 5) != 1 || g[1] != 0xff)
		return 0;
	if (flags & 0x07)
		skip += 4; /* sequence number, N-PDU number, next extension type */
	if (flags & 0x04) {
#pragma unroll
		for (int i = 0; i < GTP_EXT_MAX_CHAIN; i++) {
			__u32 ext;

			if (!cursor_has(c, skip, 1))
				return 0;
			ext = *(__u8 *)cursor_ptr(buf, c, skip) * 4;
			if (!ext || !cursor_has(c, skip + ext, 0))
				return 0;
			skip += ext;
			if (*(__u8 *)cursor_ptr(buf, c, skip - 1) == 0)
				break; /* no next extension */
		}
	}
	if (!cursor_has(c, skip, 1))
		return 0;
	b = cursor_ptr(buf, c, skip);
	if ((*b >> 4) != 4 && (*b >> 4) != 6)
		return -NFX_IGNORE_MALFORMED_L4; /* a T-PDU that is not IP */
	c->off += skip;
	p->key.tunnel_id = TUNNEL_GTP;
	return (*b >> 4) == 6 ? ETH_P_IPV6 : ETH_P_IP;
}

/* TZSP carrying Ethernet: version 1, type 0 (received), first tag padding or end. */
static __always_inline int parse_tzsp(struct frame_buf *buf, struct cursor *c, struct pkt *p)
{
	__u8 *t;
	__u32 skip = 12;

	if (!cursor_has(c, 0, 12))
		return cursor_miss(c, 12, NFX_IGNORE_MALFORMED_L4);
	p->key.tunnel_id = TUNNEL_TZSP; /* NFStream marks the outer flow too when the rest fails */
	t = cursor_ptr(buf, c, 8);
	if (t[0] != 1 || t[1] != 0 || t[2] != 0 || t[3] != 1)
		return 0;
	if (!cursor_has(c, skip, 1))
		return cursor_miss(c, skip + 1, NFX_IGNORE_MALFORMED_L4);
	if (t[4] > 1)
		return 0; /* options before the frame: not decoded */
	c->off += skip + 1;
	return TUNNEL_ETHERNET;
}

static __always_inline int is_llc_snap(const __u8 *f)
{
	return f[0] == 0xaa && f[1] == 0xaa && f[2] == 0x03;
}

/*
 * CAPWAP data: an 802.11 frame after the CAPWAP header, decoded when an
 * LLC/SNAP header for IPv4 or IPv6 follows its 24-byte header (26 for QoS
 * data). The frame control field is not trusted: Cisco access points send it
 * byte-swapped. Anything else (management frames, keep-alives, ARP) is not IP.
 */
static __always_inline int parse_capwap(struct frame_buf *buf, struct cursor *c, struct pkt *p)
{
	__u32 skip, hdr = 24;
	__u8 *w, *f;
	__u16 type;

	if (!cursor_has(c, 8, 2))
		return 0;
	w = cursor_ptr(buf, c, 8);
	if (w[0] & 0x0f)
		return 0;
	skip = 8 + ((w[1] & 0xf8) >> 1);
	if (!cursor_has(c, skip, 26 + 8))
		return 0;
	f = cursor_ptr(buf, c, skip + 24);
	if (!is_llc_snap(f)) {
		hdr = 26;
		f = cursor_ptr(buf, c, skip + 26);
		if (!is_llc_snap(f))
			return -NFX_IGNORE_NON_IP;
	}
	type = (f[6] << 8) | f[7];
	if (type != ETH_P_IP && type != ETH_P_IPV6)
		return -NFX_IGNORE_NON_IP;
	f = cursor_ptr(buf, c, skip);
	__builtin_memcpy(p->smac, f + 10, 6); /* 802.11 address 2: transmitter */
	__builtin_memcpy(p->dmac, f + 16, 6); /* address 3 */
	c->off += skip + hdr + 8;
	p->key.tunnel_id = TUNNEL_CAPWAP;
	return type;
}

/*
 * With tunnel decoding on, the UDP tunnels NFStream decodes: GTP-U,
 * TZSP, CAPWAP data. Returns the protocol of what the tunnel carries
 * (ETH_P_IP/ETH_P_IPV6, or TUNNEL_ETHERNET), 0 when the UDP flow is metered
 * as it is, or a negative reason. The cursor is on the UDP header.
 * Callers go through udp_tunnel() below.
 */
__noinline int parse_udp_tunnel(struct frame_buf *buf, struct cursor *c, struct pkt *p)
{
	int r = 0;

	if (!buf || !c || !p || p->key.protocol != IPPROTO_UDP || !p->l4_hdr_len)
		return 0;
	if (udp_port_is(p, PORT_GTP_U))
		r = parse_gtp(buf, c, p);
	if (!r && udp_port_is(p, PORT_TZSP))
		return parse_tzsp(buf, c, p);
	if (!r && udp_port_is(p, PORT_CAPWAP_DATA))
		r = parse_capwap(buf, c, p);
	return r;
}

/*
 * parse_udp_tunnel(), called only for a UDP packet to or from one of its
 * ports: every other packet would pay a call (a return through the
 * kernel's return thunk, flow_cache.h) to learn that it carries no tunnel.
 */
static __always_inline int udp_tunnel(struct frame_buf *buf, struct cursor *c, struct pkt *p)
{
	if (p->key.protocol != IPPROTO_UDP || !p->l4_hdr_len ||
	    !(udp_port_is(p, PORT_GTP_U) || udp_port_is(p, PORT_TZSP) ||
	      udp_port_is(p, PORT_CAPWAP_DATA)))
		return 0;
	return parse_udp_tunnel(buf, c, p);
}

#endif /* NFXDP_PARSE_H */
