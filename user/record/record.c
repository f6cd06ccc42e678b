// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "record/record.h"

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

/* Without NIC metadata no packet sets either flag: the kernel's clock. */
static uint32_t timestamp_source(uint32_t flags)
{
	if (!(flags & FLOW_F_TS_HW))
		return TIMESTAMP_KERNEL;
	return flags & FLOW_F_TS_KERNEL ? TIMESTAMP_MIXED : TIMESTAMP_NIC;
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

double record_stddev(uint64_t n, uint64_t sum, uint64_t sumsq)
{
	unsigned __int128 a, b;

	if (n < 2)
		return 0.0;
	/* n * sumsq - sum^2 >= 0 exactly; doubles would cancel catastrophically. */
	a = (unsigned __int128)n * sumsq;
	b = (unsigned __int128)sum * sum;
	if (a <= b)
		return 0.0;
	return sqrt((double)(a - b) / ((double)n * (double)(n - 1)));
}

/* Packet sizes of one scope: n packets of @sum bytes. */
static void set_ps(uint32_t *min, double *mean, double *stddev, uint32_t *max, uint64_t n,
		   uint64_t sum, uint64_t sumsq, uint32_t lo, uint32_t hi)
{
	if (!n)
		return;
	*min = lo;
	*max = hi;
	*mean = (double)sum / n;
	*stddev = record_stddev(n, sum, sumsq);
}

/* Inter-arrival times of one scope of n packets: n - 1 gaps. */
static void set_piat(uint64_t *min, double *mean, double *stddev, uint64_t *max, uint64_t n,
		     uint64_t sum, uint64_t sumsq, uint32_t lo, uint32_t hi)
{
	if (n < 2)
		return;
	*min = lo;
	*max = hi;
	*mean = (double)sum / (n - 1);
	*stddev = record_stddev(n - 1, sum, sumsq);
}

static uint32_t min_u32(uint32_t a, uint32_t b)
{
	return a < b ? a : b;
}

static uint32_t max_u32(uint32_t a, uint32_t b)
{
	return a > b ? a : b;
}

static void build_stats(Nfxdp__Flow *f, const struct flow_entry *e, const struct flow_statistics *st)
{
	const struct flow_dir_stats *s = st->dir, *d = &st->dir[1];
	const struct flow_dir_counters *c = e->dir;
	uint64_t *flags[3][FLAG_COUNT] = {
		{ &f->bidirectional_syn_packets, &f->bidirectional_cwr_packets,
		  &f->bidirectional_ece_packets, &f->bidirectional_urg_packets,
		  &f->bidirectional_ack_packets, &f->bidirectional_psh_packets,
		  &f->bidirectional_rst_packets, &f->bidirectional_fin_packets },
		{ &f->src2dst_syn_packets, &f->src2dst_cwr_packets, &f->src2dst_ece_packets,
		  &f->src2dst_urg_packets, &f->src2dst_ack_packets, &f->src2dst_psh_packets,
		  &f->src2dst_rst_packets, &f->src2dst_fin_packets },
		{ &f->dst2src_syn_packets, &f->dst2src_cwr_packets, &f->dst2src_ece_packets,
		  &f->dst2src_urg_packets, &f->dst2src_ack_packets, &f->dst2src_psh_packets,
		  &f->dst2src_rst_packets, &f->dst2src_fin_packets },
	};

	set_ps(&f->bidirectional_min_ps, &f->bidirectional_mean_ps, &f->bidirectional_stddev_ps,
	       &f->bidirectional_max_ps, c[0].packets + c[1].packets, c[0].bytes + c[1].bytes,
	       s->ps_sumsq + d->ps_sumsq, min_u32(s->ps_min, d->ps_min),
	       max_u32(s->ps_max, d->ps_max));
	set_ps(&f->src2dst_min_ps, &f->src2dst_mean_ps, &f->src2dst_stddev_ps, &f->src2dst_max_ps,
	       c[0].packets, c[0].bytes, s->ps_sumsq, s->ps_min, s->ps_max);
	set_ps(&f->dst2src_min_ps, &f->dst2src_mean_ps, &f->dst2src_stddev_ps, &f->dst2src_max_ps,
	       c[1].packets, c[1].bytes, d->ps_sumsq, d->ps_min, d->ps_max);
	set_piat(&f->bidirectional_min_piat_ms, &f->bidirectional_mean_piat_ms,
		 &f->bidirectional_stddev_piat_ms, &f->bidirectional_max_piat_ms,
		 c[0].packets + c[1].packets, st->piat_sum_ms, st->piat_sumsq_ms, st->piat_min_ms,
		 st->piat_max_ms);
	set_piat(&f->src2dst_min_piat_ms, &f->src2dst_mean_piat_ms, &f->src2dst_stddev_piat_ms,
		 &f->src2dst_max_piat_ms, c[0].packets, s->piat_sum_ms, s->piat_sumsq_ms,
		 s->piat_min_ms, s->piat_max_ms);
	set_piat(&f->dst2src_min_piat_ms, &f->dst2src_mean_piat_ms, &f->dst2src_stddev_piat_ms,
		 &f->dst2src_max_piat_ms, c[1].packets, d->piat_sum_ms, d->piat_sumsq_ms,
		 d->piat_min_ms, d->piat_max_ms);
	for (int i = 0; i < FLAG_COUNT; i++) {
		*flags[1][i] = s->flag_packets[i];
		*flags[2][i] = d->flag_packets[i];
		*flags[0][i] = s->flag_packets[i] + d->flag_packets[i];
	}
}

/* The first N packets; -1 past the flow's last, as NFStream pads. */
static void build_splt(struct flow_rec *r, const struct flow_splt *sp, uint32_t n)
{
	uint32_t have = sp->claimed < n ? sp->claimed : n;
	uint64_t prev_ms = sp->base_ns / 1000000, prev_us = 0;

	for (uint32_t i = 0; i < n; i++) {
		const struct splt_slot *s = &sp->slot[i];
		uint64_t at_ms = (sp->base_ns + (uint64_t)s->offset_us * 1000) / 1000000;

		if (i >= have) {
			r->splt_direction[i] = r->splt_ps[i] = -1;
			r->splt_piat_ms[i] = r->splt_piat_us[i] = -1;
			continue;
		}
		r->splt_direction[i] = s->dir;
		r->splt_ps[i] = s->size;
		r->splt_piat_ms[i] = at_ms > prev_ms ? at_ms - prev_ms : 0;
		r->splt_piat_us[i] = s->offset_us > prev_us ? s->offset_us - prev_us : 0;
		prev_ms = at_ms > prev_ms ? at_ms : prev_ms;
		prev_us = s->offset_us > prev_us ? s->offset_us : prev_us;
	}
	r->msg.n_splt_direction = r->msg.n_splt_ps = r->msg.n_splt_piat_ms = r->msg.n_splt_piat_us = n;
	r->msg.splt_direction = r->splt_direction;
	r->msg.splt_ps = r->splt_ps;
	r->msg.splt_piat_ms = r->splt_piat_ms;
	r->msg.splt_piat_us = r->splt_piat_us;
}

void iface_names_add(struct iface_names *t, uint32_t ifindex, const char *name)
{
	for (int i = 0; i < t->n; i++) {
		size_t n = strlen(t->e[i].name);

		if (t->e[i].ifindex == ifindex) {
			snprintf(t->e[i].name + n, sizeof(t->e[i].name) - n, "|%s", name);
			return;
		}
	}
	if (t->n == RECORD_MAX_IFACES)
		return;
	t->e[t->n].ifindex = ifindex;
	snprintf(t->e[t->n].name, sizeof(t->e[t->n].name), "%s", name);
	t->n++;
}

const char *iface_names_get(const struct iface_names *t, uint32_t ifindex)
{
	for (int i = 0; t && i < t->n; i++)
		if (t->e[i].ifindex == ifindex)
			return t->e[i].name;
	return "";
}

/* Where a direction's first packet was seen: index, name, hook. */
static void set_observed(struct flow_rec *r, const struct flow_dir_counters *dc, int d,
			 const struct iface_names *names, uint32_t *ifindex, char **ifname,
			 uint32_t *hook)
{
	const char *name;
	size_t n;

	*ifindex = FLOW_OBS_IFINDEX(dc->obs);
	/* Copied as snprintf("%s") would, without its cost on every record. */
	name = *ifindex ? iface_names_get(names, *ifindex) : "";
	n = strnlen(name, sizeof(r->ifname[d]) - 1);
	memcpy(r->ifname[d], name, n);
	r->ifname[d][n] = '\0';
	*ifname = r->ifname[d];
	*hook = !dc->obs		      ? RECORD_HOOK_NONE :
		dc->obs & FLOW_OBS_EGRESS ? RECORD_HOOK_EGRESS :
					    RECORD_HOOK_INGRESS;
}

/* Where the flow was observed, its ToS bytes and its ICMP type and code. */
static void build_observation(struct flow_rec *r, const struct flow_entry *e,
			      const struct iface_names *names)
{
	Nfxdp__Flow *f = &r->msg;

	set_observed(r, &e->dir[DIR_SRC2DST], DIR_SRC2DST, names, &f->src2dst_ifindex,
		     &f->src2dst_ifname, &f->src2dst_hook);
	set_observed(r, &e->dir[DIR_DST2SRC], DIR_DST2SRC, names, &f->dst2src_ifindex,
		     &f->dst2src_ifname, &f->dst2src_hook);
	f->hooks = (e->flags & FLOW_F_HOOK_INGRESS ? RECORD_HOOK_INGRESS : 0) |
		   (e->flags & FLOW_F_HOOK_EGRESS ? RECORD_HOOK_EGRESS : 0);
	f->src2dst_tos = e->tos[DIR_SRC2DST];
	f->dst2src_tos = e->dir[DIR_DST2SRC].packets ? e->tos[DIR_DST2SRC] : 0;
	if (e->key.protocol == IPPROTO_ICMP || e->key.protocol == IPPROTO_ICMPV6) {
		f->icmp_type = e->icmp >> 8;
		f->icmp_code = e->icmp & 0xff;
	}
}

void record_build(struct flow_rec *r, const struct flow_event *ev, uint64_t id,
		  int64_t clock_offset_ns, const struct record_features *feat,
		  const struct iface_names *names)
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
	f->timestamp_source = timestamp_source(e->flags);
	f->src2dst_tcp_flags = s2d->tcp_flags;
	f->dst2src_tcp_flags = d2s->tcp_flags;
	build_observation(r, e, names);
	if (feat && feat->statistical)
		build_stats(f, e, (const void *)((const char *)e + flow_stats_offset()));
	if (feat && feat->splt)
		build_splt(r, (const void *)((const char *)e + flow_splt_offset(feat->statistical)),
			   feat->splt <= SPLT_MAX ? feat->splt : SPLT_MAX);
}

void record_set_app(struct flow_rec *r, const struct record_app *app)
{
	Nfxdp__Flow *m = &r->msg;

	r->app = *app;
	m->application_name = r->app.name;
	m->application_category_name = r->app.category;
	m->application_is_guessed = app->guessed;
	m->application_confidence = app->confidence;
	m->requested_server_name = r->app.server_name;
	m->client_fingerprint = r->app.client_fp;
	m->server_fingerprint = r->app.server_fp;
	m->user_agent = r->app.user_agent;
	m->content_type = r->app.content_type;
	m->application_dpi_cut = app->cut;
	m->application_ndpi_id = app->ndpi_id;
}
