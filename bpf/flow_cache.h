/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Flow cache operations (kernel only): enter, account, create and close
 * entries of the flows map with atomics only (no spin lock is allowed in
 * LRU hash values). Include after the maps: it uses flows, flows_live and
 * flow_events.
 * The protocol is described at enum flow_state in flow.h.
 *
 * What every packet runs is inlined into the hooks (meter.bpf.c:
 * meter_frame(), flow_meter_fast()); what only a new, closing or contended
 * flow runs (flow_meter()'s retry loop, flow_create(), flow_freeze(),
 * flow_overflow()) stays a global function, verified once. A BPF-to-BPF
 * call cost 6.8 ns on the benchmarks' AMD machine, whose kernel mitigates
 * SRSO (the JIT sends every return through the return thunk). Inlining
 * flow_enter(), flow_account(), parse_ip() and parse_l4() took the
 * reference mix from 135 to 103 ns a frame; calling flow_meter(),
 * parse_ethernet() and parse_udp_tunnel() only for the frames that need
 * them took it to 84 ns, and the verifier's work for the meter from 58 K
 * to 34 K instructions (BENCHMARKS.md, "Cost per packet").
 */
#ifndef NFXDP_FLOW_CACHE_H
#define NFXDP_FLOW_CACHE_H

#include "flow.h"
#include "parse.h"

#ifndef EEXIST
#define EEXIST 17
#endif
#ifndef ENOENT
#define ENOENT 2
#endif
#ifndef EAGAIN
#define EAGAIN 11
#endif
#ifndef EBUSY
#define EBUSY 16
#endif
#ifndef ENOSPC
#define ENOSPC 28
#endif
#ifndef EINVAL
#define EINVAL 22
#endif
#ifndef ESTALE
#define ESTALE 116
#endif

#define CAS_RETRIES 16	  /* min/max updates: one loser per competing CPU */
#define ENTER_RETRIES 8	  /* writers entering one entry at once */
#define SETTLE_SPINS 1024 /* lookups while an entry is NEW or DEAD (nanoseconds) */
#define METER_ROUNDS 8	  /* lookup, create or close, lookup again; more when a closer keeps racing */

/*
 * Capture replay meters one frame at a time on one CPU and closes flows
 * between batches: with cfg_single_writer set at load, plain loads and
 * stores do what the atomics do, for less. Live metering keeps the atomics.
 */
static __always_inline void add_u64(__u64 *p, __u64 v)
{
	if (cfg_single_writer)
		*p += v;
	else
		__sync_fetch_and_add(p, v);
}

/* As or_u32(), returning what *p held. */
static __always_inline __u32 fetch_or_u32(__u32 *p, __u32 v)
{
	__u32 was;

	if (!cfg_single_writer)
		return __sync_fetch_and_or(p, v);
	was = *p;
	*p = was | v;
	return was;
}

/*
 * cfg_expiry_notes: tells the collector through the export ring that the
 * packet @p ended its flow (flow.h, struct flow_note). Returns 0, or
 * -ENOSPC when the ring is full (the caller counts it).
 */
static __always_inline int flow_note_ended(const struct pkt *p)
{
	struct flow_note *n = bpf_ringbuf_reserve(&flow_events, sizeof(*n), 0);

	if (!n)
		return -ENOSPC;
	n->reason = FLOW_NOTE_ENDED;
	n->_pad = 0;
	n->key = p->key;
	n->_pad2 = 0;
	n->last_seen_ns = p->ts;
	bpf_ringbuf_submit(n, 0);
	return 0;
}

static __always_inline void or_u32(__u32 *p, __u32 v)
{
	if (cfg_single_writer)
		*p |= v;
	else
		__sync_fetch_and_or(p, v);
}

/* Compare-and-swap: returns what *p held. */
static __always_inline __u64 cas_u64(__u64 *p, __u64 old, __u64 new)
{
	__u64 cur;

	if (!cfg_single_writer)
		return __sync_val_compare_and_swap(p, old, new);
	cur = *p;
	if (cur == old)
		*p = new;
	return cur;
}

static __always_inline int key_equal(const struct flow_key *a, const struct flow_key *b)
{
	const __u32 *x = (const __u32 *)a, *y = (const __u32 *)b;
	__u32 diff = 0;

#pragma unroll
	for (int i = 0; i < sizeof(*a) / 4; i++)
		diff |= x[i] ^ y[i];
	return diff == 0;
}

/* Raises *p to v; returns the value it replaced (>= v when nothing changed). */
static __always_inline __u64 atomic_max_u64(__u64 *p, __u64 v)
{
	__u64 cur = *(volatile __u64 *)p;

	for (int i = 0; i < CAS_RETRIES && cur < v; i++) {
		__u64 seen = cas_u64(p, cur, v);

		if (seen == cur)
			break;
		cur = seen;
	}
	return cur;
}

/* Lowers *p to v, treating 0 as unset. */
static __always_inline void atomic_min_set_u64(__u64 *p, __u64 v)
{
	__u64 cur = *(volatile __u64 *)p;

	for (int i = 0; i < CAS_RETRIES && (cur == 0 || v < cur); i++) {
		__u64 seen = cas_u64(p, cur, v);

		if (seen == cur)
			break;
		cur = seen;
	}
}

/*
 * Stops being a writer of @e, if it is still the entry of generation @gen.
 * With the overflow path on (cfg_flows_limit), nothing evicts an entry and
 * nobody closes one while another writer is inside it (flow_freeze()), so
 * the entry cannot have been deleted and recycled since flow_enter(): one
 * atomic subtraction leaves it. (A pinned LRU map of an older version, which
 * could evict, is not reused: its type differs, meter/meter.c.) Without
 * it the LRU may recycle the element under the writer: the compare-and-swap
 * leaves only the generation it entered.
 */
static __always_inline void flow_leave(struct flow_entry *e, __u64 gen)
{
	if (cfg_flows_limit) {
		add_u64(&e->ctl, -1ULL);
		return;
	}
	for (int i = 0; i < CAS_RETRIES; i++) {
		__u64 c = *(volatile __u64 *)&e->ctl;

		if ((c & FLOW_GEN_MASK) != gen || !(c & FLOW_WRITERS_MASK))
			return;
		if (cas_u64(&e->ctl, c, c - 1) == c)
			return;
	}
}

/*
 * Becomes a writer of a LIVE entry; *gen gets its generation, for
 * flow_leave(). Returns 0 inside, -EAGAIN when the entry is not LIVE (being
 * inserted or closed), -ESTALE when the element was recycled for another
 * flow between the lookup and now.
 */
static __always_inline int flow_enter(struct flow_entry *e, const struct flow_key *key,
				      __u64 *gen)
{
	if (!e || !key || !gen)
		return -EAGAIN;
	for (int i = 0; i < ENTER_RETRIES; i++) {
		__u64 c = *(volatile __u64 *)&e->ctl;

		if (flow_ctl_state(c) != FLOW_LIVE)
			return -EAGAIN;
		if (cas_u64(&e->ctl, c, c + 1) != c)
			continue;
		*gen = c & FLOW_GEN_MASK;
		if (!key_equal(&e->key, key)) {
			flow_leave(e, *gen);
			return -ESTALE;
		}
		return 0;
	}
	return -EAGAIN;
}

/* Waits (briefly: a close or an insert takes nanoseconds) until @key is LIVE or gone. */
static long settle_one(__u32 i, const struct flow_key *key)
{
	struct flow_entry *e = bpf_map_lookup_elem(&flows, key);

	return !e || flow_ctl_state(*(volatile __u64 *)&e->ctl) == FLOW_LIVE;
}

static __always_inline void flow_settle(const struct flow_key *key)
{
	struct flow_key k = *key; /* bpf_loop's context must be on the stack */

	bpf_loop(SETTLE_SPINS, settle_one, &k, 0);
}

/* Where the optional parts of an entry are, for this configuration. */
static __always_inline struct flow_statistics *entry_stats(void *e)
{
	return e + flow_stats_offset();
}

static __always_inline struct flow_splt *entry_splt(void *e)
{
	return e + flow_splt_offset(cfg_statistical);
}

static __always_inline __u32 entry_size(void)
{
	return flow_entry_size(cfg_statistical, cfg_splt);
}

/* NFStream's millisecond clock, plus one so that 0 can mean "no packet yet". */
static __always_inline __u64 ms_mark(__u64 ts)
{
	return ts / 1000000 + 1;
}

/*
 * Counts the flags of one TCP packet; a GSO packet's @segs segments carry
 * ACK, ECE and URG each, CWR in the first only, PSH and FIN in the last
 * only (how TCP segmentation offload splits them), SYN and RST once.
 */
static __always_inline void count_flags(struct flow_dir_stats *ds, __u8 f, __u32 segs)
{
	if (f & TCP_FLAG_SYN)
		add_u64(&ds->flag_packets[FLAG_SYN], 1);
	if (f & 0x80)
		add_u64(&ds->flag_packets[FLAG_CWR], 1);
	if (f & 0x40)
		add_u64(&ds->flag_packets[FLAG_ECE], segs);
	if (f & 0x20)
		add_u64(&ds->flag_packets[FLAG_URG], segs);
	if (f & TCP_FLAG_ACK)
		add_u64(&ds->flag_packets[FLAG_ACK], segs);
	if (f & 0x08)
		add_u64(&ds->flag_packets[FLAG_PSH], 1);
	if (f & TCP_FLAG_RST)
		add_u64(&ds->flag_packets[FLAG_RST], 1);
	if (f & TCP_FLAG_FIN)
		add_u64(&ds->flag_packets[FLAG_FIN], 1);
}

/* The entry flags a packet sets: TCP teardown, its clock, the hook that saw it. */
static __always_inline __u32 packet_flags(const struct pkt *p)
{
	__u32 f = p->entry_flags;

	if (p->key.protocol != IPPROTO_TCP)
		return f;
	if (p->tcp_flags & TCP_FLAG_FIN)
		f |= p->from_hi ? FLOW_F_FIN_HI : FLOW_F_FIN_LO;
	if (p->tcp_flags & TCP_FLAG_RST)
		f |= FLOW_F_RST;
	return f;
}

/* The packet's direction in the flow: 0 when its sender sent the first packet. */
static __always_inline __u32 flow_dir_of(const struct flow_entry *e, const struct pkt *p)
{
	return (p->from_hi ^ !!(e->flags & FLOW_F_SRC_IS_HI)) & 1;
}

/* The sizes of a packet's segments: @segs - 1 of seg_bytes, and the rest. */
static __always_inline __u32 last_seg_bytes(const struct pkt *p)
{
	return p->segs > 1 ? p->bytes - (p->segs - 1) * p->seg_bytes : p->bytes;
}

/* Counts the packet, direction @d, into an entry the caller is a writer of. */
static __always_inline int flow_account(struct flow_entry *e, const struct pkt *p, __u32 d)
{
	struct flow_dir_counters *dc;
	__u64 ts;
	__u32 tf;

	if (!e || !p)
		return 0;
	dc = &e->dir[d & 1];
	tf = packet_flags(p);
	ts = p->ts;

	/* The direction's first packet says where it was seen (benign race: same values). */
	if (!dc->first_seen_ns) {
		dc->obs = p->obs;
		e->tos[d & 1] = p->tos;
	}
	add_u64(&dc->packets, p->segs);
	add_u64(&dc->bytes, p->bytes);
	/*
	 * A plain store, not a compare-and-swap maximum: one locked instruction
	 * fewer on every packet (one flow, BPF_PROG_TEST_RUN: 102 -> 97 ns).
	 * Counts do not depend on it, and the closer reads it only after every
	 * writer has left (flow_freeze()). What two writers of one direction
	 * inside at once can do is leave the earlier of their two times: the
	 * time a packet was read, not a later one, by at most the nanoseconds
	 * between their clock reads.
	 */
	if (ts > dc->last_seen_ns)
		*(volatile __u64 *)&dc->last_seen_ns = ts;
	if (dc->first_seen_ns == 0 || ts < dc->first_seen_ns)
		atomic_min_set_u64(&dc->first_seen_ns, ts);
	if (p->tcp_flags & ~dc->tcp_flags)
		or_u32(&dc->tcp_flags, p->tcp_flags);
	if (tf & ~e->flags) {
		__u32 was = fetch_or_u32(&e->flags, tf);

		/* One packet ends the flow: the one whose flag completes FLOW_F_ENDED. */
		if (cfg_expiry_notes && !FLOW_F_ENDED(was) && FLOW_F_ENDED(was | tf))
			return flow_note_ended(p);
	}
	return 0;
}

static __always_inline __u32 cas_u32(__u32 *p, __u32 old, __u32 new)
{
	__u32 cur;

	if (!cfg_single_writer)
		return __sync_val_compare_and_swap(p, old, new);
	cur = *p;
	if (cur == old)
		*p = new;
	return cur;
}

static __always_inline void atomic_min_u32(__u32 *p, __u32 v)
{
	__u32 cur = *(volatile __u32 *)p;

	for (int i = 0; i < CAS_RETRIES && v < cur; i++) {
		__u32 seen = cas_u32(p, cur, v);

		if (seen == cur)
			break;
		cur = seen;
	}
}

static __always_inline void atomic_max_u32(__u32 *p, __u32 v)
{
	__u32 cur = *(volatile __u32 *)p;

	for (int i = 0; i < CAS_RETRIES && v > cur; i++) {
		__u32 seen = cas_u32(p, cur, v);

		if (seen == cur)
			break;
		cur = seen;
	}
}

/*
 * One gap between packets, into a min/max/sum/sum of squares. A gap of 0 ms
 * (packets of a busy flow within one millisecond: most of them) adds nothing
 * to the sums, so it costs no atomic add.
 */
static __always_inline void add_gap(__u64 *sum, __u64 *sumsq, __u32 *min, __u32 *max, __u64 gap)
{
	__u32 g = gap > 0xffffffffULL ? 0xffffffffU : gap;

	if (gap) {
		add_u64(sum, gap);
		add_u64(sumsq, gap * gap);
	}
	if (g < *min)
		atomic_min_u32(min, g);
	if (g > *max)
		atomic_max_u32(max, g);
}

/* The gap since the previous mark in *last, which the packet's mark replaces; -1 if none. */
static __always_inline __s64 gap_since(__u64 *last, __u64 mark)
{
	__u64 prev = atomic_max_u64(last, mark);

	if (!prev)
		return -1;
	return mark > prev ? mark - prev : 0; /* time never runs backwards */
}

/*
 * The gaps of one packet: since the previous one, then, for a GSO packet,
 * segs - 1 of 0 ms between its segments (sent together: an estimate).
 */
static __always_inline void add_gaps(__u64 *last, __u64 mark, __u32 segs, __u64 *sum,
				     __u64 *sumsq, __u32 *min, __u32 *max)
{
	__s64 gap = gap_since(last, mark);

	if (gap >= 0)
		add_gap(sum, sumsq, min, max, gap);
	if (segs > 1 && *min)
		atomic_min_u32(min, 0);
}

/* Sizes of one packet's segments: sum of squares, least and largest. */
static __always_inline void seg_sizes(const struct pkt *p, __u64 *sumsq, __u32 *min, __u32 *max)
{
	__u64 full = p->seg_bytes, last = last_seg_bytes(p);

	*sumsq = last * last + (p->segs > 1 ? (p->segs - 1) * full * full : 0);
	*min = p->segs > 1 && full < last ? full : last;
	*max = p->segs > 1 && full > last ? full : last;
}

/* --statistical: sizes, gaps and flags of a packet in direction @d. */
static __always_inline int flow_account_stats(struct flow_statistics *st, const struct pkt *p,
					      __u32 d)
{
	struct flow_dir_stats *ds;
	__u32 lo, hi;
	__u64 mark, sq;

	if (!st || !p)
		return 0;
	ds = &st->dir[d & 1];
	mark = ms_mark(p->ts);
	seg_sizes(p, &sq, &lo, &hi);
	add_u64(&ds->ps_sumsq, sq);
	if (lo < ds->ps_min)
		atomic_min_u32(&ds->ps_min, lo);
	if (hi > ds->ps_max)
		atomic_max_u32(&ds->ps_max, hi);
	add_gaps(&ds->last_ms, mark, p->segs, &ds->piat_sum_ms, &ds->piat_sumsq_ms,
		 &ds->piat_min_ms, &ds->piat_max_ms);
	add_gaps(&st->last_ms, mark, p->segs, &st->piat_sum_ms, &st->piat_sumsq_ms,
		 &st->piat_min_ms, &st->piat_max_ms);
	if (p->key.protocol == IPPROTO_TCP && p->tcp_flags)
		count_flags(ds, p->tcp_flags, p->segs);
	return 0;
}

/* One SPLT slot: direction, size, offset from the flow's first packet. */
static __always_inline void splt_put(struct flow_splt *sp, __u32 i, __u32 d, __u64 ts,
				     __u32 size)
{
	__u64 off = ts > sp->base_ns ? (ts - sp->base_ns) / 1000 : 0;

	if (i >= SPLT_MAX)
		return;
	barrier_var(i); /* the check bounds the register the address is made from */
	sp->slot[i].offset_us = off > 0xffffffffULL ? 0xffffffffU : off;
	sp->slot[i].size = size > 0xffff ? 0xffff : size;
	sp->slot[i].dir = d;
}

/* --splt: the packet (each segment of a GSO packet) takes the next slots while there are. */
static __always_inline int flow_account_splt(struct flow_splt *sp, const struct pkt *p, __u32 d)
{
	__u32 i, n;

	if (!sp || !p || *(volatile __u32 *)&sp->claimed >= cfg_splt)
		return 0;
	n = p->segs < cfg_splt ? p->segs : cfg_splt;
	i = cfg_single_writer ? (sp->claimed += n) - n : __sync_fetch_and_add(&sp->claimed, n);
	for (__u32 k = 0; k < SPLT_MAX && k < n && i + k < cfg_splt; k++)
		splt_put(sp, i + k, d, p->ts, k + 1 == p->segs ? last_seg_bytes(p) : p->seg_bytes);
	return 0;
}

/* The optional parts of a new entry, holding its first packet. */
static __always_inline void init_features(struct flow_entry_max *init, const struct pkt *p)
{
	struct flow_statistics *st = entry_stats(init);
	struct flow_splt *sp = entry_splt(init);
	struct flow_dir_stats *ds = &st->dir[DIR_SRC2DST];

	if (cfg_statistical) {
		__builtin_memset(st, 0, sizeof(*st));
		seg_sizes(p, &ds->ps_sumsq, &ds->ps_min, &ds->ps_max);
		ds->last_ms = st->last_ms = ms_mark(p->ts);
		ds->piat_min_ms = st->piat_min_ms = p->segs > 1 ? 0 : ~0U;
		st->dir[DIR_DST2SRC].ps_min = ~0U;
		st->dir[DIR_DST2SRC].piat_min_ms = ~0U;
		if (p->key.protocol == IPPROTO_TCP)
			count_flags(ds, p->tcp_flags, p->segs);
	}
	if (cfg_splt) {
		__builtin_memset(sp, 0, sizeof(*sp));
		sp->base_ns = p->ts;
		sp->claimed = p->segs < cfg_splt ? p->segs : cfg_splt;
		for (__u32 k = 0; k < SPLT_MAX && k < sp->claimed; k++)
			splt_put(sp, k, DIR_SRC2DST, p->ts,
				 k + 1 == p->segs ? last_seg_bytes(p) : p->seg_bytes);
	}
}

/*
 * Overflow export (--overflow-export on, cfg_flows_limit set): no eviction
 * decides which counts are kept. Why every packet then ends exactly once in
 * a record or in a lost_* counter:
 *
 * 1. flows_live counts the entries: flow_admit() adds one before an insert
 *    (and flow_unadmit() takes it back when the insert does not happen),
 *    flow_close() takes one off with the delete. Entries leave the map only
 *    through flow_close() (the collector never deletes; it asks nfx_close),
 *    and flow_freeze() lets one closer per entry through, so the count
 *    never falls below the entries there are.
 * 2. flow_admit() refuses an insert that would take the count past
 *    cfg_flows_limit (--max-flows): at most that many entries exist.
 * 3. The map is then a plain preallocated hash (not an LRU hash) of
 *    cfg_flows_limit elements and one more, for the buckets it doubles
 *    (the collector sets its type and size, meter/meter.c): it never
 *    evicts (recycles) a live entry. With 1 and 2
 *    an insert finds a free element (a delete frees its own before
 *    flow_unadmit()); one that fails all the same (-E2BIG, or a lock the
 *    kernel could not take) has its packet go the way of 4. (It used to be an
 *    LRU hash with room past the limit for the LRU's per-CPU free lists:
 *    twice the buckets for a power-of-two --max-flows, a reference bit
 *    checked on every lookup, and lists under locks on every insert and
 *    delete.) An entry is therefore closed only by
 *    flow_close(), which freezes it (no writer inside), copies it into the
 *    export ring and deletes it: each count it took from a packet leaves
 *    in exactly one record.
 * 4. A packet that finds no entry and is refused (cache full) or whose
 *    insert fails is exported at once as a one-packet record, reason
 *    EXPIRY_OVERFLOW (flow_overflow()), or, export ring full, counted in
 *    lost_overflow_ring_full. Every other frame ends as before: in an entry
 *    it entered as a writer (flow_enter()), or in lost_busy.
 * tests/bpf/test_meter.c (overflow) and tests/e2e/test_pressure.sh check
 * the sum: packets in records + lost = frames metered or lost, exactly.
 */
static __always_inline __u64 *flows_live_count(void)
{
	__u32 k = 0;

	return bpf_map_lookup_elem(&flows_live, &k);
}

/* Takes a place for a new entry; 0 when the cache is at cfg_flows_limit. */
static __always_inline int flow_admit(void)
{
	__u64 *live = flows_live_count(), n;

	if (!live)
		return 1;
	if (cfg_flows_limit && *(volatile __u64 *)live >= cfg_flows_limit)
		return 0;
	if (cfg_single_writer)
		n = ++*live;
	else
		n = __sync_fetch_and_add(live, 1) + 1;
	if (!cfg_flows_limit || n <= cfg_flows_limit)
		return 1;
	add_u64(live, -1ULL); /* another CPU took the last place first */
	return 0;
}

/* Gives back a place flow_admit() took, or an entry's once it is deleted. */
static __always_inline void flow_unadmit(void)
{
	__u64 *live = flows_live_count();

	if (live)
		add_u64(live, -1ULL);
}

/* A flow entry holding the packet alone, in state @ctl (optional parts included). */
static __always_inline void flow_init(const struct pkt *p, struct flow_entry_max *max, __u64 ctl)
{
	struct flow_entry *init = &max->e;

	__builtin_memset(init, 0, sizeof(*init));
	init->ctl = ctl;
	init->key = p->key;
	init->flags = (p->from_hi ? FLOW_F_SRC_IS_HI : 0) | packet_flags(p);
	__builtin_memcpy(init->src_mac, p->smac, 6);
	__builtin_memcpy(init->dst_mac, p->dmac, 6);
	init->tos[DIR_SRC2DST] = p->tos;
	init->icmp = p->icmp;
	init->dpi_packets = cfg_dpi ? 1 : 0; /* --dpi: the first packet's claim */
	init->dir[DIR_SRC2DST].packets = p->segs;
	init->dir[DIR_SRC2DST].bytes = p->bytes;
	init->dir[DIR_SRC2DST].first_seen_ns = p->ts;
	init->dir[DIR_SRC2DST].last_seen_ns = p->ts;
	init->dir[DIR_SRC2DST].tcp_flags = p->tcp_flags;
	init->dir[DIR_SRC2DST].obs = p->obs;
	init_features(max, p);
}

/*
 * Inserts a new entry holding the packet, NEW until linked, then publishes
 * it LIVE. Returns 0, -EEXIST when another CPU inserted the key first, or
 * the map's error. The caller has admitted it (flow_admit()).
 */
__noinline int flow_create(const struct pkt *p, struct flow_entry_max *max)
{
	struct flow_entry *e;
	__u64 gen;
	int err;

	if (!p || !max)
		return -EINVAL;
	gen = ((__u64)bpf_get_prandom_u32() << 32) & FLOW_GEN_MASK;
	flow_init(p, max, FLOW_CTL(FLOW_NEW) | gen);
	err = bpf_map_update_elem(&flows, &p->key, max, BPF_NOEXIST);
	if (err)
		return err;
	e = bpf_map_lookup_elem(&flows, &p->key);
	if (e)
		cas_u64(&e->ctl, FLOW_CTL(FLOW_NEW) | gen, FLOW_CTL(FLOW_LIVE) | gen);
	return 0;
}

/* Does the entry (frozen: DEAD) still meet the condition it is closed for? */
static __always_inline int close_condition_holds(const struct flow_entry *e, __u32 reason,
						 __u64 threshold_ns)
{
	switch (reason) {
	case EXPIRY_IDLE:
		return flow_last_seen(e) <= threshold_ns;
	case EXPIRY_ACTIVE:
		return flow_first_seen(e) <= threshold_ns;
	case EXPIRY_NATURAL:
		return FLOW_F_ENDED(e->flags) && flow_last_seen(e) <= threshold_ns;
	default:
		return 1;
	}
}

/*
 * Freezes an entry for closing: takes it from LIVE with no writer (the
 * collector: @gen FLOW_GEN_ANY) or with one, the packet inside that found
 * its flow expired (@gen: the generation it entered), to DEAD, so nobody can
 * change it, and checks the condition again once frozen, so a packet that
 * arrived after the collector's scan keeps the flow alive. Returns 0
 * (frozen), -EBUSY (other writers inside, or another generation), -EAGAIN
 * (condition no longer holds) or -ESTALE (element recycled for another
 * flow).
 */
__noinline int flow_freeze(struct flow_entry *e, const struct flow_key *key, __u32 reason,
			   __u64 threshold_ns, __u64 gen)
{
	__u64 writers = gen != FLOW_GEN_ANY, c, g;

	if (!e || !key)
		return -EAGAIN;
	c = *(volatile __u64 *)&e->ctl;
	g = c & FLOW_GEN_MASK;
	if (flow_ctl_state(c) != FLOW_LIVE || (c & FLOW_WRITERS_MASK) != writers || (writers && g != gen))
		return -EBUSY;
	if (cas_u64(&e->ctl, c, FLOW_CTL(FLOW_DEAD) | g) != c)
		return -EBUSY;
	if (!writers && (!key_equal(&e->key, key) || !close_condition_holds(e, reason, threshold_ns))) {
		int err = key_equal(&e->key, key) ? -EAGAIN : -ESTALE;

		cas_u64(&e->ctl, FLOW_CTL(FLOW_DEAD) | g, FLOW_CTL(FLOW_LIVE) | g);
		return err;
	}
	return 0;
}

/* The event's reason and a copy of @e, optional parts included. */
static __always_inline void event_fill(struct flow_event *ev, __u32 reason,
				       const struct flow_entry *e)
{
	ev->reason = reason;
	ev->_pad = 0;
	ev->entry = *e;
	if (cfg_statistical)
		*entry_stats(&ev->entry) = *entry_stats((void *)e);
	if (cfg_splt)
		*entry_splt(&ev->entry) = *entry_splt((void *)e);
}

/*
 * A packet the cache has no room for (see flow_admit()): its one-packet
 * flow goes through the export ring at once, reason EXPIRY_OVERFLOW, built
 * in @max (scratch). Returns 0, or -ENOSPC when the ring is full.
 */
__noinline int flow_overflow(const struct pkt *p, struct flow_entry_max *max)
{
	struct flow_event *ev;

	if (!p || !max)
		return -EINVAL;
	ev = bpf_ringbuf_reserve(&flow_events, sizeof(*ev) + entry_size() - sizeof(ev->entry), 0);
	if (!ev)
		return -ENOSPC;
	flow_init(p, max, FLOW_CTL(FLOW_DEAD));
	if (cfg_dpi) /* no entry, so no packet of it goes to nDPI: its record says so */
		max->e.flags |= FLOW_F_DPI_CUT;
	event_fill(ev, EXPIRY_OVERFLOW, &max->e);
	bpf_ringbuf_submit(ev, 0);
	return 0;
}

/*
 * Closes an entry: freezes it, exports a copy (optional parts included)
 * through flow_events and deletes it. The ring space is taken first, so a
 * frozen entry always leaves. Returns 0, -ENOSPC (export ring full) or
 * flow_freeze()'s error. @e must point into the flows map.
 */
static __always_inline int flow_close(struct flow_entry *e, const struct flow_key *key,
				      __u32 reason, __u64 threshold_ns, __u64 gen)
{
	struct flow_event *ev;
	int err;

	ev = bpf_ringbuf_reserve(&flow_events, sizeof(*ev) + entry_size() - sizeof(*e), 0);
	if (!ev)
		return -ENOSPC;
	err = flow_freeze(e, key, reason, threshold_ns, gen);
	if (err) {
		bpf_ringbuf_discard(ev, 0);
		return err;
	}
	event_fill(ev, reason, e);
	bpf_map_delete_elem(&flows, key);
	/* Even when the delete fails (the LRU took the element): the entry was counted once. */
	flow_unadmit();
	bpf_ringbuf_submit(ev, 0);
	return 0;
}

#endif /* NFXDP_FLOW_CACHE_H */
