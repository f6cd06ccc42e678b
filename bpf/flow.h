/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Flow cache layouts shared by the XDP meter (bpf/) and the collector (user/).
 * Everything the two sides exchange is defined here and only here.
 */
#ifndef NFXDP_FLOW_H
#define NFXDP_FLOW_H

#ifndef __bpf__
#include <linux/types.h>
#define FLOW_INLINE static inline
#else
#define FLOW_INLINE static __always_inline
#endif

/* NFStream ignores frames of fewer captured bytes than this. */
#define MIN_FRAME_LEN 28

/* NFStream's timeouts; the flow cache's size. */
#define NFX_DEFAULT_IDLE_TIMEOUT_MS 120000
#define NFX_DEFAULT_ACTIVE_TIMEOUT_MS 1800000
#define NFX_DEFAULT_MAX_FLOWS (1U << 20)

/* Header bytes of each frame the parser may look at (copied per frame). */
#define PARSE_WINDOW 256

/*
 * Replay and tests hand the program the capture timestamp and the frame's
 * original length in front of the frame, in XDP data_meta.
 */
#define NFX_META_MAGIC 0x6e667864 /* "nfxd" */
struct nfx_meta {
	__u64 ts_ns;	 /* flow clock, ns */
	__u32 wire_len;	 /* original frame length on the wire: what link accounting counts */
	__u32 frame_len; /* the whole frame as handed in: other link headers become Ethernet */
	__u32 magic;
	__u32 flags;	 /* REPLAY_F_* */
	__u32 prefilter; /* enum prefilter */
};

/*
 * --filter on a replayed frame: the kernel's filter reads Ethernet frames;
 * a capture of another link type is filtered in user space, on the frame as
 * captured, and the verdict travels with the frame (so that the kernel
 * counts it where it counts its own).
 */
enum prefilter {
	PREFILTER_NONE = 0, /* the kernel's filter decides */
	PREFILTER_KEEP = 1,
	PREFILTER_DROP = 2,
};

/*
 * Capture time that jumps (PARITY.md): a frame more than NFX_TIME_JUMP_NS
 * from both its neighbours, which are within it of each other, is metered
 * at its predecessor's time (replay sets REPLAY_F_RESTAMPED); one more than
 * NFX_TIME_JUMP_NS behind the meter's clock is raised to it, as any older
 * frame. Both are counted in time_restamped.
 */
#define NFX_TIME_JUMP_NS (3600ULL * 1000000000ULL)
#define REPLAY_F_RESTAMPED (1U << 0)

/* Byte accounting (--accounting), NFStream's accounting_mode 0..3. */
enum accounting {
	ACCOUNT_LINK = 0,      /* the frame's original length */
	ACCOUNT_IP = 1,	       /* IPv4 total length; IPv6 payload length */
	ACCOUNT_TRANSPORT = 2, /* transport header and payload */
	ACCOUNT_PAYLOAD = 3,   /* transport payload */
};

/* What is known of a replayed frame besides its header bytes. */
struct replay_frame {
	__u64 ts_ns;
	__u32 wire_len;	 /* original length on the wire: what link accounting counts */
	__u32 frame_len; /* length of the whole frame as parsed (link header as Ethernet) */
	__u32 caplen;	 /* bytes of it captured */
	__u16 kept;	 /* bytes of it in the slot: min(caplen, PARSE_WINDOW) */
	__u16 flags;	 /* REPLAY_F_* */
	__u8 prefilter;	 /* enum prefilter */
	__u8 outcome;	 /* written by the meter: the counter the frame ended in */
};

/*
 * The first PARSE_WINDOW bytes of a frame, and slack: a header read at an
 * offset below PARSE_WINDOW ends inside the buffer as far as the verifier
 * can tell (see cursor_ptr() in parse.h).
 */
#define PARSE_SLACK 64
struct frame_buf {
	__u8 b[PARSE_WINDOW + PARSE_SLACK];
};

/*
 * Capture replay: the collector writes frames into replay_slots (a
 * memory-mapped array), then runs nfx_replay over them.
 */
#define REPLAY_SLOTS 1024
struct replay_slot {
	struct replay_frame f;
	struct frame_buf frame;
};

/* flow_key.tunnel_id: the UDP tunnel a flow was found in (NFStream's values). */
enum tunnel_id {
	TUNNEL_NONE = 0,
	TUNNEL_GTP = 1,	   /* GTP-U, UDP port 2152 */
	TUNNEL_CAPWAP = 2, /* CAPWAP data, UDP port 5247 */
	TUNNEL_TZSP = 3,   /* TZSP, UDP port 37008 */
};
#define PORT_GTP_U 2152
#define PORT_CAPWAP_DATA 5247
#define PORT_TZSP 37008

/*
 * Direction-agnostic flow key: the endpoint whose (address, port) compares
 * lower is "lo". IPv4 addresses occupy the first 4 bytes, the rest is zero.
 */
struct flow_key {
	__u8 addr_lo[16];
	__u8 addr_hi[16];
	__be16 port_lo;
	__be16 port_hi;
	__u16 vlan_id;
	__u8 protocol;
	__u8 ip_version;
	__u32 tunnel_id;
};

/*
 * Entry life cycle, in the top two bits of flow_entry.ctl; the low 32 bits
 * count the writers inside the entry, and the 30 bits between hold the
 * entry's generation, random per insert: a writer leaves (and a packet
 * closes) only the entry it entered, not one the kernel's LRU evicted and
 * recycled for another flow in the meantime. Writers enter only a LIVE entry (by
 * compare-and-swap), so the collector can take a LIVE entry with no writer
 * to DEAD, copy it and delete it without losing a concurrent increment.
 * Inserts start NEW and are published LIVE once linked: an LRU element is
 * recycled as soon as it is deleted, and a writer still holding a pointer to
 * it must not enter it while it is being rewritten for another flow.
 */
enum flow_state {
	FLOW_NEW = 0,
	FLOW_LIVE = 1,
	FLOW_DEAD = 2,
};
#define FLOW_STATE_SHIFT 62
#define FLOW_CTL(state) ((__u64)(state) << FLOW_STATE_SHIFT)
#define FLOW_WRITERS_MASK 0xffffffffULL
#define FLOW_GEN_MASK 0x3fffffff00000000ULL
#define FLOW_GEN_ANY (~0ULL) /* flow_freeze(): whatever the generation */

/* flow_entry.flags */
#define FLOW_F_SRC_IS_HI (1U << 0) /* the first packet came from the hi endpoint */
#define FLOW_F_FIN_LO (1U << 1)	   /* FIN sent by the lo endpoint */
#define FLOW_F_FIN_HI (1U << 2)	   /* FIN sent by the hi endpoint */
#define FLOW_F_RST (1U << 3)	   /* RST sent by either */
#define FLOW_F_TS_HW (1U << 4)	   /* a packet stamped by the NIC */
#define FLOW_F_TS_KERNEL (1U << 5) /* a packet stamped with the kernel clock (NIC metadata on) */
#define FLOW_F_HOOK_INGRESS (1U << 6) /* a packet seen at XDP: received */
#define FLOW_F_HOOK_EGRESS (1U << 7)  /* a packet seen at TC egress: sent by the host */
#define FLOW_F_DPI_CUT (1U << 8) /* --dpi: a packet of the first N did not fit in the DPI ring */
#define FLOW_F_ENDED(f) (((f) & FLOW_F_RST) || (((f) & FLOW_F_FIN_LO) && ((f) & FLOW_F_FIN_HI)))

/* Index into flow_entry.dir[]: relative to the flow's first packet. */
enum flow_dir {
	DIR_SRC2DST = 0,
	DIR_DST2SRC = 1,
};

/*
 * Where a packet was observed: the interface's index, and the egress bit
 * when the TC egress hook saw it leave; 0 for a capture file's packet.
 */
#define FLOW_OBS_EGRESS (1U << 31)
#define FLOW_OBS_IFINDEX(obs) ((obs) & ~FLOW_OBS_EGRESS)

/*
 * Benchmarks only (bench/mincount.c --nfxdp, bench/sections/15-nicpath.sh):
 * the stage after which the meter stops and passes the frame unmetered
 * (counted in frames_filtered_out), so that a run measures what the stages
 * up to it cost. The collector always loads STOP_NEVER, which the verifier
 * removes with every test of it (cfg_stop_at is frozen .rodata).
 */
enum meter_stop {
	STOP_NEVER = 0,
	STOP_AFTER_ENTRY,   /* per-CPU state found, the frame counted, the sampling test */
	STOP_BEFORE_PARSE,  /* + the clock, the header copy, the filter */
	STOP_BEFORE_LOOKUP, /* + parsing and the flow key */
	STOP_AFTER_LOOKUP,  /* + the cache lookup (of a flow already there) */
	STOP_AFTER_LINES,   /* + the loads of the entry's later cache lines */
};

/* The hooks a program runs at: its slot in the counters and scratch maps. */
enum meter_hook {
	HOOK_INGRESS = 0, /* XDP, and capture replay */
	HOOK_EGRESS = 1,  /* TC egress */
	HOOK_COUNT,
};

/*
 * Per-direction counters. Updated with atomic adds, OR and compare-and-swap
 * min/max. 64-bit counts cannot overflow at any realistic rate (2^64 bytes
 * is 4 years at 100 Tb/s).
 */
struct flow_dir_counters {
	__u64 packets;
	__u64 bytes;
	__u64 first_seen_ns; /* 0 until the direction's first packet */
	__u64 last_seen_ns;
	__u32 tcp_flags; /* OR of the TCP flag bytes seen */
	__u32 obs;	 /* where the direction's first packet was observed: FLOW_OBS_* */
};

/* Value of the flow cache (flows map). */
struct flow_entry {
	__u64 ctl;	     /* state and writer count, see enum flow_state */
	struct flow_key key; /* identity, checked after entering a recycled element */
	__u32 flags;	     /* FLOW_F_* */
	__u8 src_mac[6];     /* of the flow's first packet */
	__u8 dst_mac[6];
	__u8 tos[2];	     /* IPv4 ToS, IPv6 traffic class of each direction's first packet */
	__u16 icmp;	     /* ICMP type << 8 | code of the flow's first packet */
	__u32 dpi_packets;   /* --dpi: packets handed to DPI (claimed), DPI_DONE once no more are wanted */
	struct flow_dir_counters dir[2]; /* enum flow_dir */
};

/*
 * --dpi N: the first N packets of each flow (both directions, every hook)
 * go to the collector's nDPI through a ring of their own (dpi_events), from
 * their (innermost) IP header, at most DPI_SNAP bytes and no more than
 * --snaplen allows. A packet claims its place with an atomic add on
 * flow_entry.dpi_packets; once N are claimed, or the collector has set
 * DPI_DONE (nDPI needs no more), a packet costs that one comparison. The
 * meter never waits: a full ring is counted (dpi_ring_full) and the flow
 * marked FLOW_F_DPI_CUT.
 */
#define DPI_MAX_PACKETS 255
#define NFX_DEFAULT_DPI_RING (16U << 20)  /* ~10,000 full-size (1500-byte) packets */
#define NFX_DEFAULT_DPI_FLOWS (1U << 16)  /* nDPI state: ~1 kB a flow */
#define DPI_SNAP 32768		/* bytes from the IP header: a power of 2, in ip_len's 16 bits */
#define DPI_DONE (1U << 31)	/* in dpi_packets: far above N, and adds cannot wrap it */
#define DPI_DONE_BATCH 1024	/* flows nfx_dpi_done marks per run */
/*
 * User-space batch replay with --dpi: bytes of each frame kept beside its
 * slot for the copy, which starts at an IP header inside the parse window.
 */
#define REPLAY_PAYLOAD (PARSE_WINDOW + DPI_SNAP)

struct dpi_event {
	struct flow_key key;
	__u64 ts_ns;	/* meter clock */
	__u32 gen;	/* the entry's generation (FLOW_GEN_MASK >> 32): which flow of the key */
	__u16 len;	/* bytes in ip[] */
	__u8 dir;	/* enum flow_dir */
	__u8 index;	/* the packet's place among the flow's first N, from 0 */
	__u8 ip[DPI_SNAP];
};
#define DPI_EVENT_HDR_LEN ((__u32)__builtin_offsetof(struct dpi_event, ip))

/* nfx_dpi_done input: flows whose detection is over. */
struct dpi_done_req {
	struct flow_key key;
	__u32 gen;
};

/*
 * --statistical: what NFStream's statistical_analysis derives, kept as
 * counts, sums, sums of squares, minima and maxima that atomics can update;
 * the collector derives means and sample standard deviations. Sizes follow
 * the accounting mode (a size is the bytes the packet adds). Why nothing
 * overflows at realistic scales:
 * - ps_sumsq: a size is at most 65535, its square under 2^32; 2^32 packets
 *   of that size in one flow (281 TB) would be needed, and at 100 Gb/s an
 *   active timeout of 1800 s lets a flow carry 3.4e8 of them;
 * - piat sums, in ms: the sum of a flow's gaps is its duration (days at
 *   most: 2^27 ms) and the sum of their squares is below its square (2^54);
 * - flag counts: 64 bits, as packet counts.
 * Gaps are whole milliseconds between NFStream's truncated timestamps, so
 * the statistics match its own to the last digit.
 */
enum tcp_flag_index {
	FLAG_SYN, FLAG_CWR, FLAG_ECE, FLAG_URG, FLAG_ACK, FLAG_PSH, FLAG_RST, FLAG_FIN,
	FLAG_COUNT,
};

struct flow_dir_stats {
	__u64 ps_sumsq;
	__u32 ps_min; /* UINT32_MAX until the direction's first packet */
	__u32 ps_max;
	__u64 last_ms; /* the direction's last packet, NFStream's ms clock */
	__u64 piat_sum_ms;
	__u64 piat_sumsq_ms;
	__u32 piat_min_ms; /* UINT32_MAX until the direction's second packet */
	__u32 piat_max_ms;
	__u64 flag_packets[FLAG_COUNT]; /* enum tcp_flag_index */
};

struct flow_statistics {
	struct flow_dir_stats dir[2]; /* enum flow_dir */
	__u64 last_ms;		      /* the flow's last packet, either direction */
	__u64 piat_sum_ms;	      /* bidirectional gaps */
	__u64 piat_sumsq_ms;
	__u32 piat_min_ms;
	__u32 piat_max_ms;
};

/*
 * --splt N: direction, size and arrival of the flow's first N packets. A
 * packet claims its slot with an atomic index. N is at most SPLT_MAX: every
 * entry of the cache carries the slots (8 bytes each) whether its flow
 * grows that long or not.
 */
#define SPLT_MAX 32
struct splt_slot {
	__u32 offset_us; /* after the flow's first packet, saturated at 2^32-1 */
	__u16 size;
	__u8 dir; /* enum flow_dir */
	__u8 _pad;
};

struct flow_splt {
	__u64 base_ns; /* the first packet's time: offsets count from it */
	__u32 claimed; /* slots taken; may run past N */
	__u32 _pad;
	struct splt_slot slot[SPLT_MAX];
};


/*
 * A flow's entry in the cache is a struct flow_entry followed, when
 * enabled, by a struct flow_statistics and then a struct flow_splt; flow events
 * carry the entry in the same layout. The largest:
 */
struct flow_entry_max {
	struct flow_entry e;
	struct flow_statistics st;
	struct flow_splt sp;
};

/* Where the optional parts start, and the size of an entry, per configuration. */
FLOW_INLINE __u32 flow_stats_offset(void)
{
	return sizeof(struct flow_entry);
}

FLOW_INLINE __u32 flow_splt_offset(int statistical)
{
	return sizeof(struct flow_entry) + (statistical ? sizeof(struct flow_statistics) : 0);
}

FLOW_INLINE __u32 flow_entry_size(int statistical, __u32 splt)
{
	return flow_splt_offset(statistical) + (splt ? sizeof(struct flow_splt) : 0);
}

FLOW_INLINE __u64 flow_ctl_state(__u64 ctl)
{
	return ctl >> FLOW_STATE_SHIFT;
}

/* The flow's first and last packet, either direction (0: a direction without one). */
FLOW_INLINE __u64 flow_first_seen(const struct flow_entry *e)
{
	__u64 a = e->dir[0].first_seen_ns, b = e->dir[1].first_seen_ns;

	if (!b || (a && a < b))
		return a;
	return b;
}

FLOW_INLINE __u64 flow_last_seen(const struct flow_entry *e)
{
	__u64 a = e->dir[0].last_seen_ns, b = e->dir[1].last_seen_ns;

	return a > b ? a : b;
}

/*
 * A hash of a flow key that is the same in the kernel and in the collector
 * and does not depend on a map's random seed: --hash-slice and flow
 * sampling pick the same flows in every process, both directions together.
 */
FLOW_INLINE __u32 flow_key_hash(const struct flow_key *k)
{
	const __u32 *w = (const __u32 *)k;
	__u32 h = 0x811c9dc5;

	for (unsigned i = 0; i < sizeof(*k) / 4; i++) {
		h ^= w[i];
		h *= 0x01000193;
		h ^= h >> 15;
	}
	h *= 0x2c1b3c6d;
	return h ^ (h >> 12);
}

/*
 * Expiration reasons: the record's expiration_id (0 idle ... 5 overflow),
 * with the names stats and metrics give them. OVERFLOW is a packet the
 * cache had no room for, exported at once as a one-packet record (see
 * flow_overflow() in flow_cache.h); NFStream-compatible outputs call it
 * NFStream's 3 (emergency).
 */
#define FLOW_EXPIRY_REASONS(X)                                                                 \
	X(IDLE, "idle")                                                                        \
	X(ACTIVE, "active")                                                                    \
	X(NATURAL, "natural")                                                                  \
	X(EMERGENCY, "emergency")                                                              \
	X(FLUSH, "flush")                                                                      \
	X(OVERFLOW, "overflow")

#define FLOW_EXPIRY_ENUM(id, name) EXPIRY_##id,
enum flow_expiry {
	FLOW_EXPIRY_REASONS(FLOW_EXPIRY_ENUM)
	EXPIRY_COUNT,
};
#undef FLOW_EXPIRY_ENUM

#ifndef __bpf__
/* The reason's name in stats and metrics; "?" for one this version does not know. */
static inline const char *flow_expiry_name(__u32 reason)
{
#define FLOW_EXPIRY_CASE(id, name)                                                             \
	case EXPIRY_##id:                                                                      \
		return name;
	switch (reason) {
		FLOW_EXPIRY_REASONS(FLOW_EXPIRY_CASE)
	default:
		return "?";
	}
#undef FLOW_EXPIRY_CASE
}
#endif

/*
 * What the program sends through the export ring buffer for each closed
 * flow: the reason, then the entry with its optional parts.
 */
struct flow_event {
	__u32 reason; /* enum flow_expiry */
	__u32 _pad;
	struct flow_entry entry;
};

/*
 * The other thing the export ring carries, told apart by its size and
 * reason: with cfg_expiry_notes, the packet that ends a TCP flow (FIN both
 * ways, or RST: FLOW_F_ENDED) says so, so the collector's expiry wheel
 * knows when natural expiry is due without reading the whole cache.
 * A note the ring has no room for is counted (notes_lost) and the
 * collector reads the whole cache instead.
 */
#define FLOW_NOTE_ENDED 0x100U
struct flow_note {
	__u32 reason; /* FLOW_NOTE_ENDED */
	__u32 _pad;
	struct flow_key key;
	__u32 _pad2;
	__u64 last_seen_ns; /* the ending packet's time */
};

/* One request to the nfx_close program; the collector fills close_queue[]. */
struct close_req {
	struct flow_key key;
	__u32 reason;	     /* enum flow_expiry, or CLOSE_PEEK */
	__u64 threshold_ns;  /* idle: last seen <= it; active: first seen <= it */
	__s32 status;	     /* out: 0 closed (peeked), or -ENOENT, -EBUSY, -EAGAIN, -ENOSPC */
	__u32 flags;	     /* out, CLOSE_PEEK: the entry's flags */
	__u64 first_seen_ns; /* out, CLOSE_PEEK: flow_first_seen(), flow_last_seen() */
	__u64 last_seen_ns;
	__u64 state;	     /* out, CLOSE_PEEK: flow_ctl_state() */
};
/*
 * The soonest meter time (ms) at which a timeout may close a flow of these
 * times and flags (idle and active 0: off; linger: natural expiry on), the
 * collector's millisecond rule: ~0 when none can. The collector's expiry
 * wheel and nfx_scan decide with it alike.
 */
#define FLOW_NEVER (~0ULL)
FLOW_INLINE __u64 flow_due_at_ms(__u64 first_ns, __u64 last_ns, __u32 flags, __u64 idle_ms,
				 __u64 active_ms, int natural, __u64 linger_ms)
{
	__u64 at = FLOW_NEVER, t;

	if (idle_ms) {
		t = last_ns / 1000000 + idle_ms;
		at = t < at ? t : at;
	}
	if (active_ms) {
		t = first_ns / 1000000 + active_ms;
		at = t < at ? t : at;
	}
	if (natural && FLOW_F_ENDED(flags)) {
		t = last_ns / 1000000 + linger_ms;
		at = t < at ? t : at;
	}
	return at;
}

/*
 * nfx_scan: one pass over the flow cache in the kernel, reading each entry
 * in place. It reports in scan_out[] (one slot per entry of the flows map)
 * the flows that may be due by scan_ctl.until_ms, and those not LIVE
 * (being created or closed): 64 bytes each instead of the whole entry a
 * batched lookup copies. Should more than scan_ctl.max qualify, it counts
 * the ones left out and the soonest time one may be due: what it got
 * covers the time until then.
 */
struct scan_slot {
	struct flow_key key;
	__u32 flags; /* the entry's, and SCAN_NOT_LIVE */
	__u64 first_seen_ns;
	__u64 last_seen_ns;
};
#define SCAN_NOT_LIVE (1U << 31) /* being created or closed: to look at again soon */

struct scan_ctl {
	__u64 until_ms;	 /* in: report flows that may be due by then */
	__u64 idle_ms;	 /* in: the timeouts, as for flow_due_at_ms() */
	__u64 active_ms;
	__u64 linger_ms;
	__u32 natural;
	__u32 max;	       /* in: slots of scan_out to fill */
	__u32 n;	       /* out: slots filled */
	__u32 dropped;	       /* out: flows to report that did not fit */
	__u64 seen;	       /* out: entries visited */
	__u64 min_dropped_ms;  /* out: the soonest of those (FLOW_NEVER: none) */
};

/*
 * A request that closes nothing: it reports the entry's times, flags and
 * state, so the collector's expiry wheel can tell when the flow may be due.
 */
#define CLOSE_PEEK 0xffffU
#define CLOSE_BATCH 1024

/*
 * What a --persist collector leaves for the next one, in a pinned map the
 * programs never touch: where the record stream stands and the collector's
 * totals, so a restart continues them instead of starting over.
 */
#define COLLECTOR_STATE_MAGIC 0x6e66786470737431ULL /* "nfxdpst1" */
struct collector_state {
	__u64 magic;
	__u64 stream_id;
	__u64 next_sequence;	/* of the next batch */
	__u64 next_flow_id;
	__u64 expired[EXPIRY_COUNT]; /* by enum flow_expiry */
	__u64 exported[EXPIRY_COUNT];
	__u64 flows_sampled_out;
	__u64 flows_filtered_out;
	__u64 pid;		/* the collector using the pins, 0 once it stopped */
	__u64 clean_exit;	/* 1: the last collector stopped on a signal */
	__u64 resumes;
};

/*
 * Per-CPU counters, as (enum suffix, name shown in stats). Every frame the
 * meter sees ends in exactly one of METERED, IGNORE_* or LOST_*, so
 * frames_seen = metered + ignored + lost.
 */
#define NFX_COUNTERS(X)                                                                        \
	X(FRAMES_SEEN, "frames_seen")                                                          \
	X(FRAMES_METERED, "frames_metered")                                                    \
	X(SAMPLED_OUT, "frames_sampled_out")		    /* --sample */                     \
	X(FILTERED_OUT, "frames_filtered_out")	    /* --filter, --hash-slice */       \
	X(IGNORE_NON_IP, "ignored_non_ip")		    /* ARP, LLDP, ... */               \
	X(IGNORE_FRAGMENT, "ignored_fragment")		    /* IP fragment but the first */    \
	X(IGNORE_TOO_SHORT, "ignored_too_short")	    /* < link header + 28 bytes */     \
	X(IGNORE_MALFORMED_L2, "ignored_malformed_l2")	    /* truncated VLAN/MPLS/PPPoE/LLC */ \
	X(IGNORE_MALFORMED_IPV4, "ignored_malformed_ipv4") /* bad version, IHL, length */      \
	X(IGNORE_MALFORMED_IPV6, "ignored_malformed_ipv6") /* truncated header or chain */     \
	X(IGNORE_MALFORMED_L4, "ignored_malformed_l4")	    /* transport header truncated */   \
	X(IGNORE_HEADERS_TOO_LONG, "ignored_headers_too_long") /* past PARSE_WINDOW */         \
	X(LOST_INSERT_FAILED, "lost_insert_failed")	    /* flow map refused an entry */    \
	X(LOST_OVERFLOW_RING_FULL, "lost_overflow_ring_full") /* cache full, export ring too */ \
	X(LOST_BUSY, "lost_busy")			    /* entry kept being closed */      \
	X(FLOWS_CREATED, "flows_created")                                                      \
	X(OVERFLOW_EXPORTED, "overflow_exported")	    /* metered as a one-packet record */ \
	X(EXPIRED_ON_ARRIVAL, "expired_on_arrival")	    /* closed by a later packet */     \
	X(EXPIRY_DEFERRED, "expiry_deferred")		    /* export ring full */             \
	X(TRUNCATED, "truncated_by_snaplen")		    /* --snaplen cut the headers */    \
	X(TIME_RESTAMPED, "time_restamped")		    /* see NFX_TIME_JUMP_NS */ \
	X(DPI_PACKETS, "dpi_packets")			    /* --dpi: handed to the DPI ring */ \
	X(DPI_RING_FULL, "dpi_ring_full")		    /* --dpi: not handed, ring full */ \
	X(NOTES_LOST, "notes_lost")			    /* flow_note: export ring full */

#define NFX_COUNTER_ENUM(id, name) NFX_##id,
enum nfx_counter {
	NFX_COUNTERS(NFX_COUNTER_ENUM)
	NFX_COUNTER_MAX,
};
#undef NFX_COUNTER_ENUM

/* The counters a frame ends in: exactly one of them per frame seen. */
#define NFX_OUTCOME_FIRST NFX_FRAMES_METERED
#define NFX_OUTCOME_LAST NFX_LOST_BUSY

struct nfx_counters {
	__u64 c[NFX_COUNTER_MAX];
};

#endif /* NFXDP_FLOW_H */
