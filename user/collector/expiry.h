/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Poll and expire: scans the flow cache and has the kernel close the flows
 * whose timeout has passed (nfx_close), which hands them to the export ring.
 * The collector never deletes or writes an entry itself: see enum
 * flow_state in flow.h for why.
 */
#ifndef NFXDP_COLLECTOR_EXPIRY_H
#define NFXDP_COLLECTOR_EXPIRY_H

#include <stdbool.h>
#include <stdint.h>

#include "flow.h"
#include "collector/wheel.h"

struct meter;
struct due;

/*
 * Takes the flows the kernel closed out of the export ring (the collector's
 * collector_drain()): called while closing, to make room in the ring.
 */
typedef void (*expiry_drain_fn)(void *ctx);

struct poller_policy {
	uint64_t idle_ms;   /* 0: never */
	uint64_t active_ms; /* 0: never */
	bool natural;
	uint64_t linger_ms; /* natural: quiet time after the teardown */
	uint32_t capacity;  /* entries of the flow cache */
	/*
	 * --overflow-export: the kernel inserts at most @capacity entries, into
	 * a map with room for the LRU's lists past it; off, the LRU may evict
	 * below @capacity (see LRU_LOCAL_FREE in meter/meter.h).
	 */
	bool overflow_export;
	/*
	 * Live: a cache whose full pass takes longer than SLICE_TARGET_US is
	 * read in slices, one per poller_interval_ms(), a whole pass per
	 * --poll-ms, so a flow waits about --poll-ms for its turn and not
	 * --poll-ms plus a long pass. Off (replays): every scan is a full pass.
	 */
	bool spread;
	/*
	 * Live: the expiry wheel. A pass in the kernel (nfx_scan, reading
	 * entries in place) reports each flow with the time it may next be
	 * due; the wheel holds them, and between passes only those whose time
	 * has come are looked at (nfx_close's CLOSE_PEEK), to be closed or
	 * held again. A flow created since the last pass cannot be due by a
	 * timeout before that pass's start plus the shortest timeout, so a
	 * pass every idle (or active) timeout, started early enough to be over
	 * in time, finds it; one that ends sooner (natural expiry) is
	 * announced by the kernel (@notes, struct flow_note). Off, or a meter
	 * without nfx_scan: every scan is a pass over the whole cache.
	 */
	bool wheel;
	bool notes;	  /* the meter sends flow_note; off, a pass every --natural-linger */
	uint64_t poll_ms; /* --poll-ms: how late a pass may start */
};

/*
 * A slice's target duration, and the most slices a pass is cut into (the
 * poll timer's resolution is a millisecond).
 */
#define SLICE_TARGET_US 40000
#define SLICES_MAX 64

/*
 * Resource pressure (percent of the cache's capacity). At or above
 * PRESSURE_HIGH each scan halves the idle timeout used (down to 1/16 of the
 * configured one, and not below one second); below PRESSURE_LOW each scan
 * doubles it back. At PRESSURE_HARD the least recently seen flows are closed
 * as emergency expiry (expiration_id 3) down to PRESSURE_HIGH, before the
 * kernel's LRU would evict anything.
 */
#define PRESSURE_LOW 50
#define PRESSURE_HIGH 75
#define PRESSURE_HARD 90


struct poller_stats {
	uint64_t scans;
	uint64_t idle_ms;	 /* idle timeout in use: the configured one, or less under pressure */
	uint64_t emergency_runs; /* times the hard watermark was reached */
	uint64_t active_flows;	 /* entries seen by the last full pass */
	uint64_t closed[EXPIRY_COUNT];	 /* by enum flow_expiry, closed on the collector's request */
	uint64_t close_busy;	 /* requests retried: writers inside or ring full */
	uint64_t last_scan_us;	 /* duration of the last full pass (its slices added up) */
	uint64_t slices;	 /* slices a pass is read in now (1: whole passes) */
	uint64_t wheel_checks;	 /* flows taken from the wheel when their time came */
	uint64_t wheel_size;	 /* flows the wheel holds */
	uint64_t notes;		 /* flow_note records taken */
};


struct poller {
	struct meter *m;
	expiry_drain_fn drain;
	void *drain_ctx;
	struct poller_policy policy;
	struct poller_stats st;
	struct flow_key *keys; /* batch lookup buffers (common/bigarray.h) */
	struct flow_entry *vals;
	size_t keys_bytes, vals_bytes;
	uint32_t buf_n;
	uint32_t qlen; /* requests in close_queue */
	struct due *due; /* flows a scan found due, sorted before closing */
	size_t n_due;
	size_t due_bytes; /* mapped for it (common/bigarray.h) */
	uint64_t cursor;     /* meter_flows_batch() token where the next slice starts; 0: a new pass */
	uint64_t pass_seen;  /* entries and time of the slices of the pass under way */
	uint64_t pass_us;
	bool pass_done;	     /* the last poller_scan() ended a pass */
	struct wheel wheel;  /* policy.wheel: the flows held until they may be due */
	struct flow_key *recheck; /* flows a close left: settle() looks at them */
	size_t n_recheck, cap_recheck;
	bool wheel_stale;	  /* the next scan must be a pass (lost notes, shorter idle, no memory) */
	uint64_t next_pass_ms;	  /* meter time the next pass must start by */
	uint64_t notes_lost_seen; /* the notes_lost counter when last looked at */
};

int poller_init(struct poller *p, struct meter *m, const struct poller_policy *policy,
		expiry_drain_fn drain, void *drain_ctx);
void poller_free(struct poller *p);
/*
 * Closes every flow whose timeout has passed at meter time @now_ns: in the
 * next slice of the cache when passes are sliced (policy.spread), else in
 * all of it.
 */
int poller_scan(struct poller *p, uint64_t now_ns);
/* The same over the whole cache, now: ends a sliced pass under way. */
int poller_scan_all(struct poller *p, uint64_t now_ns);
/*
 * True between passes: the next poller_scan() starts one, or (policy.wheel)
 * looks at the flows the wheel says may be due.
 */
bool poller_pass_start(const struct poller *p);
/* True when the last poller_scan() ended a pass: st.active_flows is new. */
bool poller_pass_done(const struct poller *p);
/* flow_note: the flow of @key ended at meter time @last_seen_ns. */
void poller_note(struct poller *p, const struct flow_key *key, uint64_t last_seen_ns);
/* How long to wait between poller_scan() calls for a pass every @poll_ms. */
uint64_t poller_interval_ms(const struct poller *p, uint64_t poll_ms);
/*
 * The cache holds about @entries flows (an estimate between scans) and
 * @incoming more may arrive while a pass runs: scans, with emergency expiry,
 * when together they reach the hard watermark. Returns 1 when it scanned.
 */
int poller_pressure(struct poller *p, uint64_t now_ns, uint64_t entries, uint64_t incoming);
/* Entries at which emergency expiry starts, and down to which it closes flows. */
uint64_t poller_hard_limit(const struct poller *p);
uint64_t poller_high_limit(const struct poller *p);
/*
 * Closes every flow until the cache is empty: as expired when its timeout
 * has passed at meter time @now_ns (0: never), else as flushed.
 */
int poller_flush(struct poller *p, uint64_t now_ns);
/*
 * Why the collector should close @e at meter time @now_ns, with the
 * threshold the kernel re-checks; -1 when it stays.
 */
int poller_due(const struct poller_policy *policy, const struct flow_entry *e, uint64_t now_ns,
	       uint64_t *threshold_ns);

#endif /* NFXDP_COLLECTOR_EXPIRY_H */
