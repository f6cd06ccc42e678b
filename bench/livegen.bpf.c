// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * livegen: a frame generator for the benchmarks. Run by BPF_PROG_TEST_RUN
 * with BPF_F_TEST_XDP_LIVE_FRAMES and a large repeat, it turns its
 * template frame into the next frame of the sequence (livegen.h: flow n's
 * addresses and ports) and redirects it into a veth, whose peer then runs
 * its own XDP program on an xdp_frame, as a NIC driver would: no skb, no
 * copy. The loader is livegen.c.
 */
#include "vmlinux.h"
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "livegen.h"

#define ETH_P_IP 0x0800
#define ETH_P_IPV6 0x86DD
#define IPPROTO_TCP 6
#define IPPROTO_UDP 17

/* Set by the loader before loading. */
const volatile __u32 ifindex;		/* the veth to send into */
const volatile __u64 flows = 1;		/* flows first .. first + flows - 1 */
const volatile __u64 first;
const volatile __u32 size = 60;		/* frame bytes (without FCS), before the headers' minimum */
const volatile __u32 tmpl_size = 60;	/* the template's bytes: the largest frame */
const volatile __u32 ipv6_pct;
const volatile __u32 proto = LIVEGEN_UDP;
const volatile bool heavy;		/* Zipf(1) instead of round robin */
const volatile __u8 smac[6], dmac[6];
/* heavy: bucket b (each as likely) holds flows zipf_lo[b] .. zipf_lo[b + 1] - 1 */
const volatile __u32 zipf_lo[LIVEGEN_BUCKETS + 1];

/* Frames made so far: frame i's flow comes from i. Read by the loader. */
__u64 made;

/* splitmix64's finaliser: frame i's pseudo-random draw, the same every run. */
static __always_inline __u64 mix(__u64 x)
{
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

/* The flow number of frame @i. */
static __always_inline __u64 flow_of(__u64 i)
{
	__u64 h;
	__u32 b, lo, hi;

	if (!heavy)
		return first + i % flows;
	h = mix(i);
	b = (h >> 32) & (LIVEGEN_BUCKETS - 1);
	lo = zipf_lo[b];
	hi = zipf_lo[b + 1];
	return first + lo + (hi > lo ? (__u32)h % (hi - lo) : 0);
}

static __always_inline __u16 csum_fold(__u32 sum)
{
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return ~sum & 0xffff;
}

static __always_inline void put_ipv4(struct iphdr *ip, __u32 src, __u8 l4, __u16 len)
{
	__u32 sum = 0x4500 + len + (64 << 8 | l4) + (src >> 16) + (src & 0xffff) +
		    (LIVEGEN_DST4 >> 16) + (LIVEGEN_DST4 & 0xffff);

	*(__u16 *)ip = bpf_htons(0x4500);
	ip->tot_len = bpf_htons(len);
	ip->id = 0;
	ip->frag_off = 0;
	ip->ttl = 64;
	ip->protocol = l4;
	ip->check = bpf_htons(csum_fold(sum));
	ip->saddr = bpf_htonl(src);
	ip->daddr = bpf_htonl(LIVEGEN_DST4);
}

/* fd00::/96 + the IPv4 addresses */
static __always_inline void put_ipv6(struct ipv6hdr *ip6, __u32 src, __u8 l4, __u16 len)
{
	*(__u32 *)ip6 = bpf_htonl(0x60000000);
	ip6->payload_len = bpf_htons(len);
	ip6->nexthdr = l4;
	ip6->hop_limit = 64;
	ip6->saddr.in6_u.u6_addr32[0] = bpf_htonl(0xfd000000);
	ip6->saddr.in6_u.u6_addr32[1] = 0;
	ip6->saddr.in6_u.u6_addr32[2] = 0;
	ip6->saddr.in6_u.u6_addr32[3] = bpf_htonl(src);
	ip6->daddr.in6_u.u6_addr32[0] = bpf_htonl(0xfd000000);
	ip6->daddr.in6_u.u6_addr32[1] = 0;
	ip6->daddr.in6_u.u6_addr32[2] = 0;
	ip6->daddr.in6_u.u6_addr32[3] = bpf_htonl(LIVEGEN_DST4);
}

/* The TCP or UDP header at @l4: -1 when the frame is too short for it. */
static __always_inline int put_l4(void *l4, void *end, bool tcp, __u16 sport, __u16 len)
{
	if (tcp) {
		struct tcphdr *th = l4;

		if ((void *)(th + 1) > end)
			return -1;
		__builtin_memset(th, 0, sizeof(*th));
		th->source = bpf_htons(sport);
		th->dest = bpf_htons(LIVEGEN_DPORT);
		th->doff = 5;
		th->ack = 1; /* a flow in progress: nothing opens or closes it */
		th->window = bpf_htons(0xffff);
	} else {
		struct udphdr *uh = l4;

		if ((void *)(uh + 1) > end)
			return -1;
		uh->source = bpf_htons(sport);
		uh->dest = bpf_htons(LIVEGEN_DPORT);
		uh->len = bpf_htons(len);
		uh->check = 0;
	}
	return 0;
}

SEC("xdp")
int livegen(struct xdp_md *ctx)
{
	__u64 n = flow_of(made++);
	bool tcp = proto == LIVEGEN_TCP || (proto == LIVEGEN_MIX && (n & 1));
	bool v6 = (n / 2) % 100 < ipv6_pct;
	__u32 l3 = v6 ? sizeof(struct ipv6hdr) : sizeof(struct iphdr);
	__u8 l4_proto = tcp ? IPPROTO_TCP : IPPROTO_UDP;
	__u32 len = sizeof(struct ethhdr) + l3 + (tcp ? sizeof(struct tcphdr) : sizeof(struct udphdr));
	__u32 src = LIVEGEN_SRC4 + (__u32)(n / LIVEGEN_PORTS);
	__u16 sport = 1024 + n % LIVEGEN_PORTS;
	struct ethhdr *eth;
	void *data, *end, *l4;

	if (len < size)
		len = size;
	/* The page keeps what the last frame wrote: every header is written again. */
	if (len < tmpl_size && bpf_xdp_adjust_tail(ctx, (int)len - (int)tmpl_size))
		return XDP_ABORTED;
	data = (void *)(long)ctx->data;
	end = (void *)(long)ctx->data_end;
	eth = data;
	if ((void *)(eth + 1) > end)
		return XDP_ABORTED;
	for (int i = 0; i < 6; i++) { /* volatile reads: a memcpy would copy the compiler's zeros */
		eth->h_dest[i] = dmac[i];
		eth->h_source[i] = smac[i];
	}
	if (v6) {
		struct ipv6hdr *ip6 = (void *)(eth + 1);

		if ((void *)(ip6 + 1) > end)
			return XDP_ABORTED;
		eth->h_proto = bpf_htons(ETH_P_IPV6);
		put_ipv6(ip6, src, l4_proto, len - sizeof(*eth) - l3);
		l4 = ip6 + 1;
	} else {
		struct iphdr *ip = (void *)(eth + 1);

		if ((void *)(ip + 1) > end)
			return XDP_ABORTED;
		eth->h_proto = bpf_htons(ETH_P_IP);
		put_ipv4(ip, src, l4_proto, len - sizeof(*eth));
		l4 = ip + 1;
	}
	if (put_l4(l4, end, tcp, sport, len - sizeof(*eth) - l3))
		return XDP_ABORTED;
	return bpf_redirect(ifindex, 0);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
