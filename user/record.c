// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <stdio.h>
#include <string.h>

#include "record.h"

void record_endpoints(const struct flow_entry *e, const __u8 **src, const __u8 **dst,
		      uint16_t *sport, uint16_t *dport)
{
	const struct flow_key *k = &e->key;

	if (e->flags & FLOW_F_SRC_IS_HI) {
		*src = k->addr_hi;
		*dst = k->addr_lo;
		*sport = ntohs(k->port_hi);
		*dport = ntohs(k->port_lo);
	} else {
		*src = k->addr_lo;
		*dst = k->addr_hi;
		*sport = ntohs(k->port_lo);
		*dport = ntohs(k->port_hi);
	}
}

static void format_mac(char *out, const __u8 *mac)
{
	static const char hex[] = "0123456789abcdef";

	for (int i = 0; i < 6; i++) {
		out[i * 3] = hex[mac[i] >> 4];
		out[i * 3 + 1] = hex[mac[i] & 15];
		out[i * 3 + 2] = i < 5 ? ':' : '\0';
	}
}

/* Dotted quad without printf (inet_ntop formats with sprintf). */
static void format_ipv4(char *out, const __u8 *a)
{
	for (int i = 0; i < 4; i++) {
		unsigned v = a[i];

		if (v >= 100)
			*out++ = '0' + v / 100;
		if (v >= 10)
			*out++ = '0' + v / 10 % 10;
		*out++ = '0' + v % 10;
		*out++ = i < 3 ? '.' : '\0';
	}
}

static void format_ip(char *out, size_t len, int version, const __u8 *a)
{
	if (version == 6)
		inet_ntop(AF_INET6, a, out, len);
	else
		format_ipv4(out, a);
}

static uint64_t wall_ns(uint64_t ts, int64_t offset)
{
	return ts ? ts + offset : 0;
}

/* NFStream's first/last/duration fields of one scope, in ms and ns. */
static void set_times(uint64_t first_ns, uint64_t last_ns, uint64_t *first_ms, uint64_t *last_ms,
		      uint64_t *duration_ms)
{
	*first_ms = first_ns / 1000000;
	*last_ms = last_ns / 1000000;
	*duration_ms = *last_ms - *first_ms;
}

void record_build(struct flow_rec *r, const struct flow_event *ev, uint64_t id,
		  int64_t clock_offset_ns)
{
	const struct flow_entry *e = &ev->entry;
	const struct flow_dir_counters *s2d = &e->dir[DIR_SRC2DST], *d2s = &e->dir[DIR_DST2SRC];
	Nfxdp__Flow *f = &r->msg;
	const __u8 *src, *dst;
	uint16_t sport, dport;
	uint64_t first, last;

	nfxdp__flow__init(f);
	f->id = id;
	f->expiration_id = ev->reason;
	record_endpoints(e, &src, &dst, &sport, &dport);
	format_ip(r->src_ip, sizeof(r->src_ip), e->key.ip_version, src);
	format_ip(r->dst_ip, sizeof(r->dst_ip), e->key.ip_version, dst);
	format_mac(r->src_mac, e->src_mac);
	format_mac(r->dst_mac, e->dst_mac);
	f->src_ip = r->src_ip;
	f->dst_ip = r->dst_ip;
	f->src_mac = r->src_mac;
	f->dst_mac = r->dst_mac;
	f->src_port = sport;
	f->dst_port = dport;
	f->protocol = e->key.protocol;
	f->ip_version = e->key.ip_version;
	f->vlan_id = e->key.vlan_id;
	f->tunnel_id = e->key.tunnel_id;

	f->src2dst_first_seen_ns = wall_ns(s2d->first_seen_ns, clock_offset_ns);
	f->src2dst_last_seen_ns = wall_ns(s2d->last_seen_ns, clock_offset_ns);
	f->dst2src_first_seen_ns = wall_ns(d2s->first_seen_ns, clock_offset_ns);
	f->dst2src_last_seen_ns = wall_ns(d2s->last_seen_ns, clock_offset_ns);
	first = f->src2dst_first_seen_ns;
	if (f->dst2src_first_seen_ns && f->dst2src_first_seen_ns < first)
		first = f->dst2src_first_seen_ns;
	last = f->src2dst_last_seen_ns > f->dst2src_last_seen_ns ? f->src2dst_last_seen_ns :
								    f->dst2src_last_seen_ns;
	f->bidirectional_first_seen_ns = first;
	f->bidirectional_last_seen_ns = last;

	set_times(first, last, &f->bidirectional_first_seen_ms, &f->bidirectional_last_seen_ms,
		  &f->bidirectional_duration_ms);
	set_times(f->src2dst_first_seen_ns, f->src2dst_last_seen_ns, &f->src2dst_first_seen_ms,
		  &f->src2dst_last_seen_ms, &f->src2dst_duration_ms);
	set_times(f->dst2src_first_seen_ns, f->dst2src_last_seen_ns, &f->dst2src_first_seen_ms,
		  &f->dst2src_last_seen_ms, &f->dst2src_duration_ms);

	f->src2dst_packets = s2d->packets;
	f->src2dst_bytes = s2d->bytes;
	f->dst2src_packets = d2s->packets;
	f->dst2src_bytes = d2s->bytes;
	f->bidirectional_packets = s2d->packets + d2s->packets;
	f->bidirectional_bytes = s2d->bytes + d2s->bytes;
	f->src2dst_tcp_flags = s2d->tcp_flags;
	f->dst2src_tcp_flags = d2s->tcp_flags;
}
