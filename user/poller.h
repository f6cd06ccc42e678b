/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Poll and expire: scans the flow cache and has the kernel close the flows
 * whose timeout has passed (nfx_close), which hands them to the export ring.
 * The collector never deletes or writes an entry itself: see enum
 * flow_state in flow.h for why.
 */
#ifndef NFXDP_POLLER_H
#define NFXDP_POLLER_H

#include <stdbool.h>
#include <stdint.h>

#include "flow.h"

struct meter;
struct ring_buffer;
struct due;

struct poller_policy {
	uint64_t idle_ms;   /* 0: never */
	uint64_t active_ms; /* 0: never */
	bool natural;
	uint64_t linger_ms; /* natural: quiet time after the teardown */
};

struct poller_stats {
	uint64_t scans;
	uint64_t active_flows;	 /* entries seen by the last scan */
	uint64_t closed[5];	 /* by enum flow_expiry, closed on the collector's request */
	uint64_t close_busy;	 /* requests retried: writers inside or ring full */
	uint64_t last_scan_us;	 /* duration of the last scan */
};

struct poller {
	struct meter *m;
	struct ring_buffer *rb;
	struct poller_policy policy;
	struct poller_stats st;
	int flows_fd;
	int close_fd;
	struct flow_key *keys; /* batch lookup buffers */
	struct flow_entry *vals;
	uint32_t buf_n;
	uint32_t qlen; /* requests in close_queue */
	struct due *due; /* flows a scan found due, sorted before closing */
	size_t n_due;
	size_t cap_due;
};

int poller_init(struct poller *p, struct meter *m, struct ring_buffer *rb,
		const struct poller_policy *policy);
void poller_free(struct poller *p);
/* Closes every flow whose timeout has passed at meter time @now_ns. */
int poller_scan(struct poller *p, uint64_t now_ns);
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

#endif /* NFXDP_POLLER_H */
