// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * tc egress: gives every frame leaving the interface a VLAN tag the way a
 * stack with VLAN offload does, out of band in skb->vlan_tci, not in the
 * payload. The device's own TX VLAN offload decides whether it stays out of
 * band (a veth peer sees it as a stripped tag) or is written into the frame.
 * Stands in for act_vlan and 8021q, which our test kernels lack.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

/* linux/pkt_cls.h: a #define, so not in vmlinux.h. */
#define TC_ACT_OK 0

enum vlan_push_counter {
	VLAN_PUSHED,
	VLAN_PUSH_FAILED,
	VLAN_COUNTERS,
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, VLAN_COUNTERS);
	__type(key, __u32);
	__type(value, __u64);
} counters SEC(".maps");

/* Set by the loader: the TCI (VID, PCP 0) and the TPID, network order. */
const volatile __u16 vlan_tci;
const volatile __be16 vlan_proto;

static void count(__u32 which)
{
	__u64 *n = bpf_map_lookup_elem(&counters, &which);

	if (n)
		__sync_fetch_and_add(n, 1);
}

SEC("tc")
int vlan_push(struct __sk_buff *skb)
{
	/* A frame that has a tag already gets a second, outer one (QinQ). */
	if (bpf_skb_vlan_push(skb, vlan_proto, vlan_tci))
		count(VLAN_PUSH_FAILED);
	else
		count(VLAN_PUSHED);
	return TC_ACT_OK;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
