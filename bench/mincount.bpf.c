// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * mincount: the least a flow meter does per packet, the baseline of the
 * live benchmark (bench/sections/15-nicpath.sh): parse Ethernet, IPv4 or
 * IPv6, TCP or UDP; make a symmetric key (nfxdp's struct flow_key, so the
 * hash costs what nfxdp's costs); one lookup, or an insert, in an LRU hash
 * as large as nfxdp's cache; two atomic adds and a clock read. Anything
 * else passes uncounted. And xdp_pass, the program that does nothing, for
 * what the path costs without a meter. Loaded by bench/mincount.c.
 */
#include "vmlinux.h"
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "flow.h"

#define ETH_P_IP 0x0800
#define ETH_P_IPV6 0x86DD
#define IPPROTO_TCP 6
#define IPPROTO_UDP 17

struct mc_value {
	__u64 packets;
	__u64 bytes;
	__u64 last_ns;
};

/* max_entries set by the loader (--max-flows) */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, NFX_DEFAULT_MAX_FLOWS);
	__type(key, struct flow_key);
	__type(value, struct mc_value);
} counts SEC(".maps");

/* -1, 0 or 1 as address @a (@words 32-bit words, network order) is below, equal to or above @b. */
static __always_inline int addr_cmp(const __u32 *a, const __u32 *b, int words)
{
	for (int i = 0; i < words; i++)
		if (a[i] != b[i])
			return bpf_ntohl(a[i]) < bpf_ntohl(b[i]) ? -1 : 1;
	return 0;
}

/*
 * The key of both directions: the addresses at @src and @dst (@words
 * 32-bit words) and the ports, the lower end first.
 */
static __always_inline void make_key(struct flow_key *k, const __u32 *src, const __u32 *dst,
				     int words, __be16 sport, __be16 dport)
{
	int c = addr_cmp(src, dst, words);
	bool swap = c > 0 || (c == 0 && bpf_ntohs(sport) > bpf_ntohs(dport));
	const __u32 *lo = swap ? dst : src, *hi = swap ? src : dst;

	for (int i = 0; i < words; i++) {
		((__u32 *)k->addr_lo)[i] = lo[i];
		((__u32 *)k->addr_hi)[i] = hi[i];
	}
	k->port_lo = swap ? dport : sport;
	k->port_hi = swap ? sport : dport;
}

/* The ports after an IP header at @l4 (-1: not TCP or UDP, or cut short). */
static __always_inline int ports(void *l4, void *end, __u8 proto, __be16 *sport, __be16 *dport)
{
	struct udphdr *uh = l4; /* TCP's ports are in the same place */

	if ((proto != IPPROTO_TCP && proto != IPPROTO_UDP) || (void *)(uh + 1) > end)
		return -1;
	*sport = uh->source;
	*dport = uh->dest;
	return 0;
}

/* The flow key of the frame at @data: 0, or -1 for a frame not counted. */
static __always_inline int parse(void *data, void *end, struct flow_key *k)
{
	struct ethhdr *eth = data;
	__be16 sport, dport;

	if ((void *)(eth + 1) > end)
		return -1;
	if (eth->h_proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *ip = (void *)(eth + 1);

		if ((void *)(ip + 1) > end || ip->ihl < 5 ||
		    ports((void *)ip + ip->ihl * 4, end, ip->protocol, &sport, &dport))
			return -1;
		make_key(k, &ip->saddr, &ip->daddr, 1, sport, dport);
		k->protocol = ip->protocol;
		k->ip_version = 4;
		return 0;
	}
	if (eth->h_proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = (void *)(eth + 1);

		if ((void *)(ip6 + 1) > end || ports(ip6 + 1, end, ip6->nexthdr, &sport, &dport))
			return -1;
		make_key(k, ip6->saddr.in6_u.u6_addr32, ip6->daddr.in6_u.u6_addr32, 4, sport,
			 dport);
		k->protocol = ip6->nexthdr;
		k->ip_version = 6;
		return 0;
	}
	return -1;
}

/* Where it stops (enum meter_stop, as nfxdp's meter; set at load): a stage's cost. */
const volatile __u8 stop_at = STOP_NEVER;

SEC("xdp")
int mincount(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	struct flow_key k = {};
	struct mc_value *v;
	__u64 now;

	if (parse(data, end, &k))
		return XDP_PASS;
	now = bpf_ktime_get_ns();
	if (stop_at == STOP_BEFORE_LOOKUP)
		return XDP_PASS;
	v = bpf_map_lookup_elem(&counts, &k);
	if (v && stop_at == STOP_AFTER_LOOKUP)
		return XDP_PASS;
	if (!v) {
		struct mc_value fresh = { .packets = 1, .bytes = end - data, .last_ns = now };

		/* BPF_NOEXIST: a packet of the same flow on another CPU may have inserted it */
		if (!bpf_map_update_elem(&counts, &k, &fresh, BPF_NOEXIST))
			return XDP_PASS;
		v = bpf_map_lookup_elem(&counts, &k);
		if (!v)
			return XDP_PASS;
	}
	__sync_fetch_and_add(&v->packets, 1);
	__sync_fetch_and_add(&v->bytes, end - data);
	v->last_ns = now;
	return XDP_PASS;
}

/* What the path costs with an XDP program and no meter. */
SEC("xdp")
int xdp_pass(struct xdp_md *ctx)
{
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
