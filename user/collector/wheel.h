/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The expiry wheel's store: flows held until the time they may next be
 * due, soonest first. What a pass holds is sorted once (a radix sort on the
 * due time) and taken in order; what is held after it (a flow that had
 * packets since, a note) goes into a binary min-heap; the sooner of the two
 * heads comes out first. A flow is held by reference: a slot of the last
 * nfx_scan report (16 bytes a flow, the key stays in the mapped report) or
 * a key of its own. collector/expiry.c decides what to hold and when.
 */
#ifndef NFXDP_COLLECTOR_WHEEL_H
#define NFXDP_COLLECTOR_WHEEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "flow.h"

#define WHEEL_NEVER UINT64_MAX
#define WHEEL_OWN_KEY (1U << 31) /* in a ref: an index into own[], not the report */

struct wheel_ref {
	uint64_t due_ms;
	uint32_t ref; /* a report slot, or WHEEL_OWN_KEY | an own key */
	uint32_t _pad;
};

struct wheel {
	struct wheel_ref *run; /* what the pass held, sorted by wheel_order(); taken from run_at */
	size_t run_n, run_at, run_cap;
	struct wheel_ref *heap; /* held since */
	size_t heap_n, heap_cap;
	size_t n;     /* held in all */
	bool ordered; /* false while a pass fills it: wheel_order() sorts */
	struct flow_key *own;
	size_t n_own, cap_own;
	const struct scan_slot *report; /* the pass's report, valid until the next pass */
	uint32_t n_report;
};

/* Empties the wheel for a pass whose report is @report[0..@n). */
void wheel_reset(struct wheel *w, const struct scan_slot *report, uint32_t n);
/* The pass is over: what it held is ordered from now on. */
void wheel_order(struct wheel *w);
/* Holds @ref until @due_ms (WHEEL_NEVER: nothing to hold it for). 0 or -ENOMEM. */
int wheel_hold(struct wheel *w, uint32_t ref, uint64_t due_ms);
/* Holds the flow of @key, not in the report, until @due_ms. */
int wheel_hold_key(struct wheel *w, const struct flow_key *key, uint64_t due_ms);
/* Takes the soonest flow due at @now_ms into *@ref; false when none is. */
bool wheel_pop_due(struct wheel *w, uint64_t now_ms, uint32_t *ref);
const struct flow_key *wheel_key(const struct wheel *w, uint32_t ref);
void wheel_free(struct wheel *w);

#endif /* NFXDP_COLLECTOR_WHEEL_H */
