// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * nfxdp meter: counts every frame into a bidirectional flow entry.
 *
 * nfx_meter   attached to an interface (XDP): what it receives; or run on
 *             single frames by BPF_PROG_TEST_RUN with a struct nfx_meta in
 *             data_meta;
 * nfx_egress  attached to an interface's TC egress hook: what the host sends;
 * nfx_replay  capture replay: many frames per BPF_PROG_TEST_RUN call;
 * nfx_close   run by the collector to close the flows it queued;
 * nfx_dpi_done run by the collector on the flows nDPI needs no more of (--dpi).
 *
 * In user space (bpf/usermode.h) only nfx_replay, nfx_close and nfx_dpi_done
 * are compiled: capture files, --dpi included.
 *
 * All share meter_frame()/flow_close(): a capture file, a received frame and
 * a sent one go through the same code and the same flow cache, so both
 * directions of a flow meet in one entry whichever hook saw them. Metering
 * never changes forwarding: XDP_PASS, and TC's "next".
 */
/*
 * Header layouts on the wire never change: no CO-RE relocations, so loading
 * does not have to read the kernel's BTF (tens of milliseconds).
 */
#ifdef NFX_USERSPACE
#include "usermode.h" /* the second compilation: user space (user/meter/umeter.c) */
#else
#define BPF_NO_PRESERVE_ACCESS_INDEX
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
/* Set by the collector before load; frozen, so the verifier prunes what they turn off. */
#define NFX_CONFIG const volatile
#endif

#include "flow.h"

/*
 * The flow cache; max_entries is set from --max-flows at load time, and the
 * type too: a plain hash with --overflow-export on (see flow_admit()).
 */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, NFX_DEFAULT_MAX_FLOWS);
	__type(key, struct flow_key);
	__type(value, struct flow_entry);
} flows SEC(".maps");

/*
 * Entries in the flow cache, kept by the programs: one more per insert,
 * one less per delete (flow_create(), flow_close()). With the overflow
 * path on, no insert takes it past cfg_flows_limit (see flow_admit()).
 * Pinned with the cache, so a restart keeps counting from where it stood.
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} flows_live SEC(".maps");

/* Closed flows on their way to the collector. */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 8 << 20);
} flow_events SEC(".maps");

/* --dpi: the first packets of each flow on their way to nDPI (size set at load). */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 16 << 20);
} dpi_events SEC(".maps");

/* Per CPU and per hook (enum meter_hook): totals are the sum of both. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, HOOK_COUNT);
	__type(key, __u32);
	__type(value, struct nfx_counters);
} counters SEC(".maps");

#include "parse.h"

/*
 * Per-CPU work area: the frame being metered (its header bytes and what is
 * known of it) and a new entry being built. One per hook: XDP runs in
 * softirq and TC egress with softirqs off, so they never share one on a CPU.
 */
#define HW_VLAN_VALID 0x8000

struct scratch {
	struct frame_buf frame;
	__u32 sample_tick; /* --sample-mode systematic: frames since the last kept one */
	__u64 rng;	   /* --sample-mode random: sample_draw()'s state, 0: not seeded */
	__u64 ts;	 /* when it was seen, meter clock */
	__u32 caplen;	 /* bytes of it there are (less when a capture cut it short) */
	__u32 frame_len; /* its whole length */
	__u32 wire_len;	 /* what link accounting counts: the original frame's length */
	__u16 entry_flags; /* FLOW_F_TS_* (NIC metadata on), FLOW_F_HOOK_* */
	__u16 hw_vlan;	 /* HW_VLAN_VALID | VLAN id the NIC took off the frame */
	__u32 obs;	 /* where it is observed: FLOW_OBS_* */
	__u32 gso_segs;	 /* TC egress: a GSO packet's segments (0 or 1: one packet) */
	__u32 gso_size;	 /* ... and their payload bytes, the last one's excepted */
	struct pkt pkt;
	struct flow_entry_max init;
	/* --dpi: set when the packet is one of its flow's first N (flow_meter_fast()). */
	__u8 dpi_want;
	__u8 dpi_dir;	/* enum flow_dir */
	__u8 dpi_index;
	__u32 dpi_gen;	/* the entry's generation, FLOW_GEN_MASK >> 32 */
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, HOOK_COUNT);
	__type(key, __u32);
	__type(value, struct scratch);
} scratch_map SEC(".maps");

/*
 * --dpi: the event being built, one per CPU and hook (cpu * HOOK_COUNT +
 * hook; max_entries set at load): an array, as a per-CPU map's values stop
 * at 32 kB.
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, HOOK_COUNT);
	__type(key, __u32);
	__type(value, struct dpi_event);
} dpi_scratch SEC(".maps");

/* nfx_scan's report (flow.h): a slot per entry of flows for a live collector, else 1, set at load. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, struct scan_slot);
} scan_out SEC(".maps");

/* Configuration, set by the collector before load. 0 disables a timeout. */
NFX_CONFIG __u64 cfg_idle_timeout_ms = NFX_DEFAULT_IDLE_TIMEOUT_MS;
NFX_CONFIG __u64 cfg_active_timeout_ms = NFX_DEFAULT_ACTIVE_TIMEOUT_MS;
NFX_CONFIG __u8 cfg_natural_expiry = 1;
NFX_CONFIG __u8 cfg_expiry_notes = 0;   /* live: flow_note when a flow ends (flow.h) */
NFX_CONFIG __u8 cfg_accounting = ACCOUNT_LINK;
NFX_CONFIG __u8 cfg_decode_tunnels = 1; /* GTP-U, CAPWAP, TZSP (IP-in-IP always) */
NFX_CONFIG __u8 cfg_single_writer = 0;  /* capture replay: see add_u64() */
NFX_CONFIG __u8 cfg_statistical = 0;    /* --statistical: struct flow_statistics */
NFX_CONFIG __u32 cfg_splt = 0;	    /* --splt N: struct flow_splt, N <= SPLT_MAX */
NFX_CONFIG __u32 cfg_sample_n = 0;	    /* --sample N: 1 in N frames, 0 or 1: all */
NFX_CONFIG __u8 cfg_sample_systematic = 0; /* every N-th frame (per CPU), else random */
NFX_CONFIG __u32 cfg_snaplen = 0;	    /* --snaplen: header bytes any stage may read */
NFX_CONFIG __u8 cfg_pcap_filter = 0;    /* --filter: pcap_filter() is replaced */
NFX_CONFIG __u32 cfg_hash_n = 0;	    /* --hash-slice K/N: N, 0: off */
NFX_CONFIG __u32 cfg_hash_k = 0;	    /* ... and K */
NFX_CONFIG __u32 cfg_dpi = 0;	    /* --dpi N: first N packets to nDPI, 0: off */
/* --overflow-export on: entries the cache may hold (--max-flows), 0: off (the LRU evicts). */
NFX_CONFIG __u32 cfg_flows_limit = 0;
#ifdef NFX_USERSPACE
#define cfg_stop_at STOP_NEVER /* a constant: no test of it left in the user-space meter */
#else
NFX_CONFIG __u8 cfg_stop_at = STOP_NEVER; /* benchmarks only: enum meter_stop */
#endif

/*
 * Capture time as the meter sees it: the latest timestamp of a metered
 * frame. A replayed frame stamped earlier is raised to it, as NFStream does
 * (time never runs backwards; replay has already put a lone frame far off
 * in time back in line). Replay is single-threaded: plain updates.
 */
__u64 replay_clock;
__u32 replay_first; /* nfx_replay: meters replay_slots[replay_first..+replay_count) */
__u32 replay_count;
__u32 replay_done;  /* nfx_replay: frames of the last batch metered */

/* Frames to replay: the collector writes them into this memory-mapped array. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, REPLAY_SLOTS);
	__type(key, __u32);
	__type(value, struct replay_slot);
} replay_slots SEC(".maps");

/* Userspace only: see struct collector_state. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct collector_state);
} collector_state SEC(".maps");

/* nfx_close input, written by the collector through the skeleton. */
struct close_req close_queue[CLOSE_BATCH];
__u32 close_queue_len;

/* nfx_dpi_done input, likewise. */
struct dpi_done_req dpi_done_queue[DPI_DONE_BATCH];
__u32 dpi_done_len;

#include "flow_cache.h"

/* Orders the endpoints so both directions of a flow share one key. */
static __always_inline void flow_key_order(struct pkt *p)
{
	struct flow_key *k = &p->key;
	__u64 *a = (__u64 *)k->addr_lo, *b = (__u64 *)k->addr_hi;
	int swap;

	if (a[0] != b[0])
		swap = bpf_be64_to_cpu(a[0]) > bpf_be64_to_cpu(b[0]);
	else if (a[1] != b[1])
		swap = bpf_be64_to_cpu(a[1]) > bpf_be64_to_cpu(b[1]);
	else
		swap = bpf_ntohs(k->port_lo) > bpf_ntohs(k->port_hi);
	if (swap) {
		__u64 t0 = a[0], t1 = a[1];
		__be16 tp = k->port_lo;

		a[0] = b[0];
		a[1] = b[1];
		b[0] = t0;
		b[1] = t1;
		k->port_lo = k->port_hi;
		k->port_hi = tp;
	}
	p->from_hi = swap;
}

/* Bytes counted for the packet, per --accounting (NFStream's accounting_mode). */
static __always_inline __u32 packet_bytes(const struct pkt *p, __u32 wire_len)
{
	switch (cfg_accounting) {
	case ACCOUNT_IP:
		return p->ip_len;
	case ACCOUNT_TRANSPORT:
		return p->l4_hdr_len ? p->l4_len : 0;
	case ACCOUNT_PAYLOAD:
		return p->l4_hdr_len && p->l4_len > p->l4_hdr_len ? p->l4_len - p->l4_hdr_len : 0;
	default:
		return wire_len;
	}
}

/*
 * A GSO packet (TC egress) leaves as @segs segments, each with a copy of
 * every header up to the transport payload and @size bytes of payload, the
 * last one the rest. Its bytes per --accounting are those of every segment,
 * from the packet's length (its IP and transport length fields do not hold
 * the segments' values).
 */
static __always_inline void gso_amount(struct pkt *p, __u32 len, __u32 segs, __u32 size)
{
	__u32 hdr = p->l4_off + p->l4_hdr_len, from;

	switch (cfg_accounting) {
	case ACCOUNT_IP:
		/* NFStream's IPv6 length leaves out the fixed header. */
		from = p->l3_off + (p->key.ip_version == 6 ? 40 : 0);
		break;
	case ACCOUNT_TRANSPORT:
		from = p->l4_off;
		break;
	case ACCOUNT_PAYLOAD:
		from = hdr;
		break;
	default:
		from = 0;
	}
	if (!p->l4_hdr_len || hdr > len || from > hdr)
		return; /* no transport header to segment by: one packet */
	p->segs = segs;
	p->seg_bytes = hdr - from + size;
	p->bytes = len - from + (segs - 1) * (hdr - from);
}

/* What the parsed packet counts for: when, where, packets and bytes. */
static __always_inline void packet_amount(struct scratch *s, struct pkt *p)
{
	p->ts = s->ts;
	p->obs = s->obs;
	p->segs = 1;
	p->seg_bytes = 0;
	p->bytes = packet_bytes(p, s->wire_len);
	if (s->gso_segs > 1)
		gso_amount(p, s->frame_len, s->gso_segs, s->gso_size);
}

static __always_inline __u64 ns_to_ms(__u64 ns)
{
	return ns / 1000000;
}

/*
 * Why the packet closes the entry it found before being counted, or -1.
 * NFStream's rules, in its millisecond clock: idle first, then active.
 * With natural expiry a SYN reopening an ended TCP flow starts a new one.
 */
/*
 * NFStream's rule in its ms clock: now_ms >= then_ms + timeout_ms. Whole ms
 * differ from the ns difference by less than one, so the division is only
 * needed within a millisecond of the timeout.
 */
static __noinline int timed_out_ms(__u64 now, __u64 then, __u64 timeout_ms)
{
	return ns_to_ms(now) >= ns_to_ms(then) + timeout_ms;
}

static __always_inline int timed_out(__u64 now, __u64 then, __u64 timeout_ms)
{
	__u64 d = now > then ? now - then : 0;

	if (d + 1000000 <= timeout_ms * 1000000)
		return 0;
	if (d >= timeout_ms * 1000000)
		return 1;
	/* Out of line: clang would otherwise divide on every packet. */
	return timed_out_ms(now, then, timeout_ms);
}

static __always_inline int expiry_on_arrival(const struct flow_entry *e, const struct pkt *p,
					     __u64 ts)
{
	if (cfg_idle_timeout_ms && timed_out(ts, flow_last_seen(e), cfg_idle_timeout_ms))
		return EXPIRY_IDLE;
	if (cfg_active_timeout_ms && timed_out(ts, flow_first_seen(e), cfg_active_timeout_ms))
		return EXPIRY_ACTIVE;
	if (cfg_natural_expiry && FLOW_F_ENDED(e->flags) &&
	    (p->tcp_flags & (TCP_FLAG_SYN | TCP_FLAG_ACK)) == TCP_FLAG_SYN)
		return EXPIRY_NATURAL;
	return -1;
}

/*
 * --dpi: claims the packet's place among the first N of its flow (@gen:
 * the entry's generation, @d: its direction). Past N, or once the collector
 * set DPI_DONE, the first comparison is all it costs.
 */
static __always_inline void dpi_claim(struct scratch *s, struct flow_entry *e, __u64 gen,
				      __u32 d)
{
	__u32 i;

	if (e->dpi_packets >= cfg_dpi)
		return;
	if (cfg_single_writer)
		i = e->dpi_packets++;
	else
		i = __sync_fetch_and_add(&e->dpi_packets, 1);
	if (i >= cfg_dpi)
		return;
	s->dpi_want = 1;
	s->dpi_index = i;
	s->dpi_dir = d;
	s->dpi_gen = gen >> 32;
}

/*
 * The cache has no room for the packet's new flow: a one-packet record
 * now (metered), or lost, counted, when the export ring is full too.
 */
static __always_inline int flow_overflow_outcome(const struct pkt *p, struct flow_entry_max *max,
						 struct nfx_counters *cnt)
{
	if (flow_overflow(p, max))
		return NFX_LOST_OVERFLOW_RING_FULL;
	cnt->c[NFX_OVERFLOW_EXPORTED]++;
	return NFX_FRAMES_METERED;
}

/*
 * The packet's part once it holds entry @e (flow_enter() gave @gen): its
 * direction's counters and the features in use, then it leaves the entry.
 */
static __always_inline int flow_count(struct scratch *s, struct nfx_counters *cnt,
				      struct flow_entry *e, __u64 gen)
{
	struct pkt *p = &s->pkt;
	__u32 d = flow_dir_of(e, p);

	if (flow_account(e, p, d) == -ENOSPC)
		cnt->c[NFX_NOTES_LOST]++;
	if (cfg_statistical)
		flow_account_stats(entry_stats(e), p, d);
	if (cfg_splt)
		flow_account_splt(entry_splt(e), p, d);
	if (cfg_dpi)
		dpi_claim(s, e, gen, d);
	flow_leave(e, gen);
	return NFX_FRAMES_METERED;
}

/*
 * Counts the packet into its flow, creating the entry or replacing an
 * expired one (see flow_admit() for a cache at its limit): whatever
 * flow_meter_fast() left, from its lookup (@missed: it found no entry) on.
 * Returns the counter the frame ends in. Out of line: its retry loop is
 * most of what the verifier checks in the meter, and it checks it once.
 */
__noinline int flow_meter(struct scratch *s, struct nfx_counters *cnt, int missed)
{
	struct pkt *p;

	if (!s || !cnt)
		return NFX_LOST_BUSY;
	p = &s->pkt;

	for (int round = 0; round < METER_ROUNDS; round++) {
		struct flow_entry *e = NULL;
		__u64 gen = 0;
		int reason, err;

		if (round || !missed)
			e = bpf_map_lookup_elem(&flows, &p->key);
		if (!e) {
			if (!flow_admit())
				return flow_overflow_outcome(p, &s->init, cnt);
			err = flow_create(p, &s->init);
			if (err)
				flow_unadmit();
			if (!err) {
				cnt->c[NFX_FLOWS_CREATED]++;
				if (cfg_expiry_notes && FLOW_F_ENDED(s->init.e.flags) &&
				    flow_note_ended(p))
					cnt->c[NFX_NOTES_LOST]++;
				if (cfg_dpi) {
					/* flow_create() counted it: dpi_packets = 1. */
					s->dpi_want = 1;
					s->dpi_index = 0;
					s->dpi_dir = DIR_SRC2DST;
					s->dpi_gen = (s->init.e.ctl & FLOW_GEN_MASK) >> 32;
				}
				return NFX_FRAMES_METERED;
			}
			if (err == -EEXIST)
				continue;
			if (cfg_flows_limit) /* no room after all: not lost either */
				return flow_overflow_outcome(p, &s->init, cnt);
			return NFX_LOST_INSERT_FAILED;
		}
		if (flow_enter(e, &p->key, &gen)) {
			flow_settle(&p->key);
			continue;
		}
		reason = expiry_on_arrival(e, p, p->ts);
		if (reason >= 0) {
			err = flow_close(e, &p->key, reason, 0, gen);
			if (!err) {
				cnt->c[NFX_EXPIRED_ON_ARRIVAL]++;
				continue;
			}
			cnt->c[NFX_EXPIRY_DEFERRED]++;
		}
		return flow_count(s, cnt, e, gen);
	}
	return NFX_LOST_BUSY;
}

/*
 * What nearly every packet is: one of a flow already in the cache, which
 * it enters at once and which does not expire on its arrival. That is
 * counted here, in line (a call costs a return through the kernel's return
 * thunk, flow_cache.h); any other packet goes on in flow_meter(), which
 * starts over from the lookup: what was done here is undone or harmless
 * (flow_enter()'s entry is left before the call).
 */
static __always_inline int flow_meter_fast(struct scratch *s, struct nfx_counters *cnt)
{
	struct pkt *p = &s->pkt;
	struct flow_entry *e;
	__u64 gen = 0;

	if (cfg_dpi)
		s->dpi_want = 0;
	if (cfg_stop_at == STOP_BEFORE_LOOKUP)
		return NFX_FILTERED_OUT;
	e = bpf_map_lookup_elem(&flows, &p->key);
	if (!e)
		return flow_meter(s, cnt, 1);
	if (cfg_stop_at == STOP_AFTER_LOOKUP)
		return NFX_FILTERED_OUT;
	/*
	 * Loads of the entry's later cache lines (the key's end, the flags,
	 * both directions' counters: 160 bytes from the first), before the
	 * compare-and-swap: a locked instruction lets no later load start
	 * before it completes, so without them their misses would follow
	 * its own instead of overlapping it.
	 */
	(void)*(volatile __u32 *)&e->flags;
	(void)*(volatile __u64 *)&e->dir[DIR_DST2SRC].last_seen_ns;
	if (cfg_stop_at == STOP_AFTER_LINES)
		return NFX_FILTERED_OUT;
	if (flow_enter(e, &p->key, &gen))
		return flow_meter(s, cnt, 0);
	if (expiry_on_arrival(e, p, p->ts) >= 0) {
		flow_leave(e, gen);
		return flow_meter(s, cnt, 0);
	}
	return flow_count(s, cnt, e, gen);
}

/* Header bytes any stage may read: PARSE_WINDOW, or less with --snaplen. */
static __always_inline __u32 read_window(void)
{
	return cfg_snaplen && cfg_snaplen < PARSE_WINDOW ? cfg_snaplen : PARSE_WINDOW;
}

/*
 * --sample N, random: a number in [0, N), 0 with probability 1/N (to
 * within N/2^32). From a per-CPU xorshift64* generator the kernel's seeds,
 * and a multiply for the range: bpf_get_prandom_u32() and a division on
 * every frame cost a helper call and a divide, more than the goal for a
 * frame sampled out (5 ns over bare, BENCHMARKS.md).
 */
static __always_inline __u32 sample_draw(struct scratch *s)
{
	__u64 x = s->rng;

	if (!x)
		x = (__u64)bpf_get_prandom_u32() << 32 | bpf_get_prandom_u32() | 1;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	s->rng = x;
	return ((x * 0x2545F4914F6CDD1DULL) >> 32) * (__u64)cfg_sample_n >> 32;
}

/* --sample, before any parsing cost: true when the frame is not metered. */
static __always_inline int sampled_out(struct scratch *s)
{
	if (cfg_sample_n <= 1)
		return 0;
	if (cfg_sample_systematic) {
		if (++s->sample_tick < cfg_sample_n)
			return 1;
		s->sample_tick = 0;
		return 0;
	}
	return sample_draw(s) != 0;
}

/*
 * --filter: the collector loads the programs with this function's body
 * replaced by the pcap-filter expression translated to eBPF (see
 * meter/filter_splice.c); nonzero keeps the frame. The first @len bytes of
 * @buf are the frame's (len <= PARSE_WINDOW), @wire_len its length on the
 * wire (pcap's "len"). Global, so the verifier checks whatever body it has
 * against these argument types alone, and out of line, so there is one body
 * to replace. The stub keeps every frame; the asm makes it use its
 * arguments, or clang leaves them unset in the callers (the verifier then
 * refuses the call), and the volatile keeps clang from folding its answer
 * into them.
 */
__noinline int pcap_filter(const struct frame_buf *buf, __u32 len, __u32 wire_len)
{
	volatile int keep = 1;

	asm volatile("" : : "r"(buf), "r"(len), "r"(wire_len));
	return keep;
}

/*
 * --filter, on the frame's first @n bytes before any parsing: the pcap
 * filter, or the verdict user space took on a captured frame of another
 * link type (enum prefilter). True when the frame is not metered.
 */
static __always_inline int filtered_out(const struct frame_buf *buf, __u32 n, __u32 wire_len,
					__u32 prefilter)
{
	if (!cfg_pcap_filter)
		return 0;
	if (prefilter != PREFILTER_NONE)
		return prefilter == PREFILTER_DROP;
	return !pcap_filter(buf, n, wire_len);
}

/* The IP header(s) and the transport header; negative reason or 0. */
static __always_inline int parse_network(struct frame_buf *buf, struct cursor *c, struct pkt *p,
					 int proto, __u32 frame_len)
{
	int l4 = parse_ip(buf, c, p, proto, frame_len);

	if (l4 < 0)
		return l4;
	return parse_l4(buf, c, p, l4);
}

/*
 * Parses @frame (the header bytes of the frame s describes) and meters it.
 * Returns the counter it ends in. In line in the live hooks, where a call
 * would cost a return through the kernel's return thunk (flow_cache.h) on
 * every frame; replay calls it through meter_replayed().
 */
static __always_inline int meter_frame(struct scratch *s, struct frame_buf *frame,
				       struct nfx_counters *cnt)
{
	struct cursor c = { 0 };
	__u32 frame_len;
	struct pkt *p;
	int proto, r;

	if (!s || !frame || !cnt)
		return NFX_LOST_BUSY;
	c.caplen = s->caplen;
	c.len = c.caplen < read_window() ? c.caplen : read_window();
	frame_len = s->frame_len;
	p = &s->pkt;
	__builtin_memset(p, 0, sizeof(*p));
	if (c.caplen < MIN_FRAME_LEN)
		return NFX_IGNORE_TOO_SHORT;
	proto = parse_l2(frame, &c, p);
	if (proto < 0)
		return -proto;
	/* The NIC's tag is the outer one: in-band tags, inner, win as without it. */
	if ((s->hw_vlan & HW_VLAN_VALID) && !p->key.vlan_id)
		p->key.vlan_id = s->hw_vlan & 0x0fff;
	p->entry_flags = s->entry_flags;
	r = parse_network(frame, &c, p, proto, frame_len);
	if (r < 0)
		return -r;
	if (cfg_decode_tunnels) {
		proto = udp_tunnel(frame, &c, p);
		if (proto == TUNNEL_ETHERNET)
			proto = parse_l2(frame, &c, p);
		if (proto < 0)
			return -proto;
		if (proto > 0) {
			r = parse_network(frame, &c, p, proto, frame_len);
			if (r < 0)
				return -r;
		}
	}
	flow_key_order(p);
	/* --hash-slice: on the ordered key, so both directions fall alike. */
	if (cfg_hash_n && flow_key_hash(&p->key) % cfg_hash_n != cfg_hash_k)
		return NFX_FILTERED_OUT;
	packet_amount(s, p);
	return flow_meter_fast(s, cnt);
}

/*
 * meter_frame() for nfx_replay: out of line, as in line in bpf_loop()'s
 * callback it made the verifier's work for nfx_replay four times larger.
 */
__noinline int meter_replayed(struct scratch *s, struct frame_buf *frame, struct nfx_counters *cnt)
{
	return meter_frame(s, frame, cnt);
}

static __always_inline void count(struct nfx_counters *cnt, int r)
{
	if (r >= 0 && r < NFX_COUNTER_MAX)
		cnt->c[r]++;
}

/* A hook's slot of a per-CPU map (enum meter_hook). */
static __always_inline void *percpu(void *map, __u32 hook)
{
	return bpf_map_lookup_elem(map, &hook);
}

/*
 * Capture time of a replayed frame: never before the last metered one;
 * counted when replay restamped it or it is more than an hour behind (see
 * NFX_TIME_JUMP_NS).
 */
static __always_inline __u64 replay_time(__u64 ts, __u32 flags, struct nfx_counters *cnt)
{
	if ((flags & REPLAY_F_RESTAMPED) ||
	    (ts < replay_clock && replay_clock - ts > NFX_TIME_JUMP_NS))
		cnt->c[NFX_TIME_RESTAMPED]++;
	return ts < replay_clock ? replay_clock : ts;
}

static __always_inline void replay_advance(int r, __u64 ts)
{
	if (r == NFX_FRAMES_METERED)
		replay_clock = ts;
}

/* Bytes of the frame to copy for parsing, counting truncation by --snaplen. */
static __always_inline __u32 copy_len(struct nfx_counters *cnt, __u32 caplen)
{
	if (caplen > read_window() && cfg_snaplen)
		cnt->c[NFX_TRUNCATED]++;
	return caplen < read_window() ? caplen : read_window();
}

/* --dpi: the ring was full: the flow's record says its detection was cut short. */
static __noinline void dpi_mark_cut(struct scratch *s)
{
	struct flow_entry *e;
	__u64 gen;

	if (!s)
		return;
	e = bpf_map_lookup_elem(&flows, &s->pkt.key);
	if (!e || flow_enter(e, &s->pkt.key, &gen))
		return;
	if ((gen >> 32) == s->dpi_gen)
		or_u32(&e->flags, FLOW_F_DPI_CUT);
	flow_leave(e, gen);
}

/*
 * Bytes of a claimed packet to hand to nDPI: from its IP header to the end
 * of what there is, at most DPI_SNAP and within --snaplen; 0: none.
 */
static __always_inline __u32 dpi_len(const struct scratch *s)
{
	__u32 end = s->caplen, off = s->pkt.l3_off;

	if (cfg_snaplen && cfg_snaplen < end)
		end = cfg_snaplen;
	if (off >= end)
		return 0;
	return end - off < DPI_SNAP ? end - off : DPI_SNAP;
}

/*
 * The event's header; its ip[] holds @len bytes. Into the ring, or counted.
 * @ring_flags: BPF_RB_NO_WAKEUP when the collector drains the ring itself
 * after each call (capture replay): a wakeup per packet cost as much as
 * metering it.
 */
static __always_inline void dpi_submit(struct scratch *s, struct dpi_event *ev, __u32 len,
				       struct nfx_counters *cnt, __u64 ring_flags)
{
	ev->key = s->pkt.key;
	ev->ts_ns = s->ts;
	ev->gen = s->dpi_gen;
	ev->len = len;
	ev->dir = s->dpi_dir;
	ev->index = s->dpi_index;
	if (bpf_ringbuf_output(&dpi_events, ev, DPI_EVENT_HDR_LEN + (len & (2 * DPI_SNAP - 1)),
			       ring_flags)) {
		cnt->c[NFX_DPI_RING_FULL]++;
		dpi_mark_cut(s);
		return;
	}
	cnt->c[NFX_DPI_PACKETS]++;
}

/* The CPU's DPI event buffer for @hook. */
static __always_inline struct dpi_event *dpi_buffer(__u32 hook)
{
	__u32 i = bpf_get_smp_processor_id() * HOOK_COUNT + hook;

	return bpf_map_lookup_elem(&dpi_scratch, &i);
}

#ifndef EFAULT
#define EFAULT 14
#endif

/* Where a claimed packet's bytes are copied from (enum values fold in dpi_emit()). */
enum dpi_source {
	DPI_FROM_XDP,	/* @ctx: the xdp_md */
	DPI_FROM_SKB,	/* @ctx: the __sk_buff (TC egress) */
	DPI_FROM_SLOT,	/* @ctx: the replay slot's index (user space) */
};

/*
 * @len bytes of the frame from @off into @to. In user space, batch replay
 * only: the slot holds the frame's first PARSE_WINDOW bytes and umeter.c
 * keeps the rest beside it (replay_load_bytes()). The kernel's batch entry
 * point has no way to the payload: its --dpi replays frame by frame.
 */
static __always_inline long dpi_load(void *ctx, enum dpi_source src, __u32 off, void *to,
				     __u32 len)
{
#ifdef NFX_USERSPACE
	return src == DPI_FROM_SLOT ? replay_load_bytes(*(__u32 *)ctx, off, to, len) : -EFAULT;
#else
	if (src == DPI_FROM_XDP)
		return bpf_xdp_load_bytes(ctx, off, to, len);
	if (src == DPI_FROM_SKB)
		return bpf_skb_load_bytes(ctx, off, to, len);
	return -EFAULT;
#endif
}

/*
 * --dpi: the claimed packet's bytes into the ring (@ring_flags: see
 * dpi_submit()); one hook's buffer per CPU, as XDP and TC never share one.
 */
static __always_inline void dpi_emit(void *ctx, enum dpi_source src, struct scratch *s,
				     struct nfx_counters *cnt, __u64 ring_flags)
{
	struct dpi_event *ev;
	__u32 len;

	if (!s->dpi_want)
		return;
	ev = dpi_buffer(src == DPI_FROM_SKB ? HOOK_EGRESS : HOOK_INGRESS);
	len = dpi_len(s);
	barrier_var(len); /* the bound checked on the register the helper gets */
	if (!ev || len < 1 || len > DPI_SNAP || dpi_load(ctx, src, s->pkt.l3_off, ev->ip, len))
		return;
	dpi_submit(s, ev, len, cnt, ring_flags);
}

#ifndef NFX_USERSPACE /* the entry points that need a kernel context */
#define HEAD_CHUNK 32

/*
 * The frame's first @n bytes into @dst, read in place from the linear
 * part [@data, @data_end) in 32-byte chunks, the last one overlapping the
 * one before it: a few loads and stores, where bpf_xdp_load_bytes() or
 * bpf_skb_load_bytes() cost a helper call (27 ns for 60 bytes on the
 * benchmarks' machine; calls pay the kernel's return thunk, flow_cache.h).
 * Returns 0, or -1 when it copied nothing usable: n < 32, or bytes past
 * the linear part (a multi-buffer frame, a paged skb); the hook calls the
 * helper then.
 */
static __always_inline int copy_head(void *data, void *data_end, struct frame_buf *dst, __u32 n)
{
	_Static_assert(PARSE_WINDOW % HEAD_CHUNK == 0, "whole chunks");
	if (n < HEAD_CHUNK || n > PARSE_WINDOW)
		return -1;
#pragma unroll
	for (__u32 i = 0; i < PARSE_WINDOW / HEAD_CHUNK; i++) {
		__u32 off = i * HEAD_CHUNK + HEAD_CHUNK <= n ? i * HEAD_CHUNK : n - HEAD_CHUNK;
		__u64 *from, *to;

		off &= PARSE_WINDOW - 1; /* no-op: bounds the register for the verifier */
		from = data + off;
		if ((void *)(from + HEAD_CHUNK / 8) > data_end)
			return -1;
		to = (__u64 *)(dst->b + off);
		to[0] = from[0];
		to[1] = from[1];
		to[2] = from[2];
		to[3] = from[3];
		if (off + HEAD_CHUNK >= n)
			return 0;
	}
	return 0;
}

#ifdef NFX_HW_METADATA
/*
 * NIC metadata, in the device-bound build (meter_hw.bpf.c): the kfuncs
 * become the driver's own code at load. The collector keeps the offset
 * from the NIC's clock to boot time here, from the interface's PTP clock.
 */
extern int bpf_xdp_metadata_rx_timestamp(const struct xdp_md *ctx, __u64 *timestamp) __ksym;
extern int bpf_xdp_metadata_rx_vlan_tag(const struct xdp_md *ctx, __be16 *vlan_proto,
					__u16 *vlan_tci) __ksym;

__s64 hw_clock_offset_ns; /* NIC clock minus boot time */
__u32 hw_clock_known;	  /* 0: the NIC's time cannot be converted: not used */

static __always_inline __u64 rx_time(struct xdp_md *ctx, struct scratch *s)
{
	__be16 proto;
	__u16 tci;
	__u64 hw;

	s->hw_vlan = bpf_xdp_metadata_rx_vlan_tag(ctx, &proto, &tci) ? 0 : HW_VLAN_VALID | tci;
	/* 0 is what drivers without a stamp for this frame (veth) report. */
	if (hw_clock_known && !bpf_xdp_metadata_rx_timestamp(ctx, &hw) && hw) {
		s->entry_flags = FLOW_F_HOOK_INGRESS | FLOW_F_TS_HW;
		return hw - hw_clock_offset_ns;
	}
	s->entry_flags = FLOW_F_HOOK_INGRESS | FLOW_F_TS_KERNEL;
	return bpf_ktime_get_boot_ns();
}
#else
static __always_inline __u64 rx_time(struct xdp_md *ctx, struct scratch *s)
{
	s->entry_flags = FLOW_F_HOOK_INGRESS;
	s->hw_vlan = 0;
	return bpf_ktime_get_boot_ns();
}
#endif

SEC("xdp.frags")
int nfx_meter(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	struct nfx_meta *meta = (void *)(long)ctx->data_meta;
	struct nfx_counters *cnt = percpu(&counters, HOOK_INGRESS);
	struct scratch *s = percpu(&scratch_map, HOOK_INGRESS);
	__u32 caplen, n, prefilter = PREFILTER_NONE;
	int replayed, r;

	if (!cnt || !s)
		return XDP_PASS;
	cnt->c[NFX_FRAMES_SEEN]++;
	if (sampled_out(s)) {
		cnt->c[NFX_SAMPLED_OUT]++;
		return XDP_PASS;
	}
	if (cfg_stop_at == STOP_AFTER_ENTRY) {
		cnt->c[NFX_FILTERED_OUT]++;
		return XDP_PASS;
	}
	caplen = bpf_xdp_get_buff_len(ctx);
	replayed = (void *)(meta + 1) <= data && meta->magic == NFX_META_MAGIC;
	s->caplen = caplen;
	s->gso_segs = 0;
	if (replayed) {
		s->ts = replay_time(meta->ts_ns, meta->flags, cnt);
		s->wire_len = meta->wire_len;
		s->frame_len = meta->frame_len;
		s->entry_flags = 0;
		s->hw_vlan = 0;
		s->obs = 0;
		prefilter = meta->prefilter;
	} else {
		s->ts = rx_time(ctx, s);
		s->wire_len = s->frame_len = caplen;
		s->obs = ctx->ingress_ifindex;
	}
	n = copy_len(cnt, caplen);
	barrier_var(n); /* keep the bound check on the register the helper gets */
	if (n < 1 || n > PARSE_WINDOW ||
	    (copy_head(data, (void *)(long)ctx->data_end, &s->frame, n) &&
	     bpf_xdp_load_bytes(ctx, 0, &s->frame, n))) {
		cnt->c[NFX_IGNORE_TOO_SHORT]++;
		return XDP_PASS;
	}
	if (filtered_out(&s->frame, n, s->wire_len, prefilter) ||
	    cfg_stop_at == STOP_BEFORE_PARSE) {
		cnt->c[NFX_FILTERED_OUT]++;
		return XDP_PASS;
	}
	r = meter_frame(s, &s->frame, cnt);
	if (replayed)
		replay_advance(r, s->ts);
	count(cnt, r);
	if (cfg_dpi && r == NFX_FRAMES_METERED)
		dpi_emit(ctx, DPI_FROM_XDP, s, cnt, replayed ? BPF_RB_NO_WAKEUP : 0);
	return XDP_PASS;
}

/*
 * What the host sends, at the TC egress hook (tcx, or a clsact filter on
 * older kernels): the frame as it leaves, Ethernet header included. A GSO
 * packet is counted as the segments it leaves as. Returns "next" (tcx's
 * TCX_NEXT, tc's TC_ACT_UNSPEC): whatever else runs there decides.
 */
#define TC_NEXT (-1)

SEC("tc")
int nfx_egress(struct __sk_buff *skb)
{
	struct nfx_counters *cnt = percpu(&counters, HOOK_EGRESS);
	struct scratch *s = percpu(&scratch_map, HOOK_EGRESS);
	__u32 n;
	int r;

	if (!cnt || !s)
		return TC_NEXT;
	cnt->c[NFX_FRAMES_SEEN]++;
	if (sampled_out(s)) {
		cnt->c[NFX_SAMPLED_OUT]++;
		return TC_NEXT;
	}
	s->ts = bpf_ktime_get_boot_ns();
	s->caplen = s->wire_len = s->frame_len = skb->len;
	s->entry_flags = FLOW_F_HOOK_EGRESS;
	s->hw_vlan = skb->vlan_present ? HW_VLAN_VALID | (skb->vlan_tci & 0x0fff) : 0;
	s->obs = skb->ifindex | FLOW_OBS_EGRESS;
	s->gso_segs = skb->gso_segs;
	s->gso_size = skb->gso_size;
	n = copy_len(cnt, skb->len);
	barrier_var(n);
	if (n < 1 || n > PARSE_WINDOW ||
	    (copy_head((void *)(long)skb->data, (void *)(long)skb->data_end, &s->frame, n) &&
	     bpf_skb_load_bytes(skb, 0, &s->frame, n))) {
		cnt->c[NFX_IGNORE_TOO_SHORT]++;
		return TC_NEXT;
	}
	if (filtered_out(&s->frame, n, s->wire_len, PREFILTER_NONE)) {
		cnt->c[NFX_FILTERED_OUT]++;
		return TC_NEXT;
	}
	r = meter_frame(s, &s->frame, cnt);
	count(cnt, r);
	if (cfg_dpi && r == NFX_FRAMES_METERED)
		dpi_emit(skb, DPI_FROM_SKB, s, cnt, 0);
	return TC_NEXT;
}

#endif /* !NFX_USERSPACE */

struct replay_walk {
	struct nfx_counters *cnt;
	struct scratch *s;
};


static long replay_one(__u32 i, struct replay_walk *w)
{
	__u32 slot = replay_first + i;
	struct replay_slot *sl = bpf_map_lookup_elem(&replay_slots, &slot);
	struct scratch *s = w->s;
	int r;

	if (!sl)
		return 1;
	s->ts = replay_time(sl->f.ts_ns, sl->f.flags, w->cnt);
	s->caplen = sl->f.caplen; /* its first min(caplen, PARSE_WINDOW) bytes are in the slot */
	s->frame_len = sl->f.frame_len;
	s->wire_len = sl->f.wire_len;
	s->entry_flags = 0;
	s->hw_vlan = 0;
	s->obs = 0;
	s->gso_segs = 0;
	w->cnt->c[NFX_FRAMES_SEEN]++;
	if (sampled_out(s))
		r = NFX_SAMPLED_OUT;
	else if (filtered_out(&sl->frame, copy_len(w->cnt, s->caplen), s->wire_len,
			      sl->f.prefilter))
		r = NFX_FILTERED_OUT;
	else
		r = meter_replayed(s, &sl->frame, w->cnt);
	replay_advance(r, s->ts);
	count(w->cnt, r);
	/* The kernel's --dpi replays frame by frame: dpi_load() has no payload here. */
	if (cfg_dpi && r == NFX_FRAMES_METERED)
		dpi_emit(&slot, DPI_FROM_SLOT, s, w->cnt, BPF_RB_NO_WAKEUP);
	/* Each frame's outcome, for a caller that wants more than the totals. */
	sl->f.outcome = r;
	return 0;
}

/*
 * Capture replay: meters replay_slots[replay_first..+replay_count), frames
 * the collector wrote into the memory-mapped array: no copy on the way in.
 * replay_done tells how many were metered (all, unless a slot was bad).
 */
SEC("xdp")
int nfx_replay(struct xdp_md *ctx)
{
	struct replay_walk w = {
		.cnt = percpu(&counters, HOOK_INGRESS),
		.s = percpu(&scratch_map, HOOK_INGRESS),
	};
	__u32 n = replay_count;
	long done;

	replay_done = 0;
	if (!w.cnt || !w.s)
		return XDP_ABORTED;
	done = bpf_loop(n < REPLAY_SLOTS ? n : REPLAY_SLOTS, replay_one, &w, 0);
	replay_done = done < 0 ? 0 : done;
	return XDP_PASS;
}

static long close_one(__u32 i, void *unused)
{
	struct close_req *r;
	struct flow_entry *e;
	int err = -EBUSY;

	if (i >= CLOSE_BATCH)
		return 1;
	r = &close_queue[i];
	e = bpf_map_lookup_elem(&flows, &r->key);
	if (!e) {
		r->status = -ENOENT;
		return 0;
	}
	if (r->reason == CLOSE_PEEK) {
		/* Unlocked reads: the close that may follow checks again, frozen. */
		r->state = flow_ctl_state(*(volatile __u64 *)&e->ctl);
		r->flags = e->flags;
		r->first_seen_ns = flow_first_seen(e);
		r->last_seen_ns = flow_last_seen(e);
		r->status = 0;
		return 0;
	}
	for (int t = 0; t < ENTER_RETRIES && err == -EBUSY; t++)
		err = flow_close(e, &r->key, r->reason, r->threshold_ns, FLOW_GEN_ANY);
	r->status = err;
	return 0;
}

/* nfx_scan's input and totals (flow.h). */
struct scan_ctl scan_ctl;

#ifndef NFX_USERSPACE /* the user-space meter's collector reads its cache whole */
static long scan_one(struct bpf_map *map, struct flow_key *key, struct flow_entry *e,
		     struct scan_ctl *c)
{
	__u64 state = flow_ctl_state(*(volatile __u64 *)&e->ctl), first, last, at = 0;
	struct scan_slot *slot;
	__u32 flags = e->flags & ~SCAN_NOT_LIVE;

	c->seen++;
	first = flow_first_seen(e);
	last = flow_last_seen(e);
	if (state != FLOW_LIVE) {
		flags |= SCAN_NOT_LIVE;
	} else {
		at = flow_due_at_ms(first, last, flags, c->idle_ms, c->active_ms, c->natural,
				    c->linger_ms);
		if (at > c->until_ms)
			return 0;
	}
	slot = c->n < c->max ? bpf_map_lookup_elem(&scan_out, &c->n) : NULL;
	if (!slot) {
		c->dropped++;
		if (at < c->min_dropped_ms)
			c->min_dropped_ms = at;
		return 0;
	}
	slot->key = *key;
	slot->flags = flags;
	slot->first_seen_ns = first;
	slot->last_seen_ns = last;
	c->n++;
	return 0;
}

/*
 * One pass over the flow cache, reading each entry in place (no copy of it
 * goes to user space): what scan_ctl asks for lands in scan_out. A syscall
 * program, so the pass, long in a big cache, runs preemptible and with
 * softirqs on, as the collector's own code would.
 */
SEC("syscall")
int nfx_scan(void *ctx)
{
	struct scan_ctl c = scan_ctl;

	c.n = 0;
	c.dropped = 0;
	c.seen = 0;
	c.min_dropped_ms = FLOW_NEVER;
	bpf_for_each_map_elem(&flows, scan_one, &c, 0);
	scan_ctl = c;
	return 0;
}
#endif

/* Closes the flows in close_queue[0..close_queue_len), each status set. */
SEC("xdp")
int nfx_close(struct xdp_md *ctx)
{
	__u32 n = close_queue_len;

	bpf_loop(n < CLOSE_BATCH ? n : CLOSE_BATCH, close_one, NULL, 0);
	return XDP_PASS;
}

static long dpi_done_one(__u32 i, void *unused)
{
	struct dpi_done_req *r;
	struct flow_entry *e;
	__u64 gen;

	if (i >= DPI_DONE_BATCH)
		return 1;
	r = &dpi_done_queue[i];
	e = bpf_map_lookup_elem(&flows, &r->key);
	if (!e || flow_enter(e, &r->key, &gen))
		return 0; /* closed, or being closed: nothing more will be claimed */
	/* A racing claim may add one to it after: still far above any N. */
	if ((gen >> 32) == r->gen)
		e->dpi_packets = DPI_DONE;
	flow_leave(e, gen);
	return 0;
}

/* --dpi: the flows of dpi_done_queue[0..dpi_done_len) claim no more packets. */
SEC("xdp")
int nfx_dpi_done(struct xdp_md *ctx)
{
	__u32 n = dpi_done_len;

	bpf_loop(n < DPI_DONE_BATCH ? n : DPI_DONE_BATCH, dpi_done_one, NULL, 0);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
