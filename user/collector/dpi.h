/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * --dpi N: application detection with nDPI, NFStream's way. The kernel
 * hands each flow's first N packets over through its DPI ring; this module
 * keeps nDPI's state per flow only while the flow is in dissection (at most
 * --dpi-flows of them), feeds it the packets in the order they came, stops
 * when nDPI has what it wants or N packets were fed, asks nDPI for its
 * guess when it detected nothing (ndpi_detection_giveup), and has the
 * kernel send no more of that flow. The collector takes the result when the
 * flow's record is built.
 */
#ifndef NFXDP_COLLECTOR_DPI_H
#define NFXDP_COLLECTOR_DPI_H

#include <stdint.h>

#include "flow.h"
#include "meter/meter.h"
#include "record/record.h"

struct dpi;

/* Counts, in the stats and /metrics. */
struct dpi_counts {
	uint64_t flows;	      /* flows dissected */
	uint64_t flows_full;  /* new flows not dissected: --dpi-flows in dissection already */
	uint64_t packets;     /* packets fed to nDPI */
	uint64_t in_dissection; /* now (a gauge) */
	uint64_t stale;	      /* results dropped: their flow never closed (LRU eviction) */
};

/*
 * Opens nDPI over @m's DPI ring, N packets a flow, @max_flows in dissection.
 * @lifetime_ms: no flow lives longer (the active timeout; 0: no bound):
 * results of a flow older than that were not taken, as its close event
 * never came (the kernel's LRU evicted it), and are dropped.
 */
struct dpi *dpi_open(struct meter *m, uint32_t n, uint32_t max_flows, uint64_t lifetime_ms,
		     int *err);
/* Feeds nDPI what the ring holds. 0 or -errno. */
int dpi_drain(struct dpi *d);
/*
 * The application columns of the closed flow @ev into @app (an undissected
 * flow: empty, cut as the kernel said); the flow's state is freed.
 */
void dpi_take(struct dpi *d, const struct flow_event *ev, struct record_app *app);
void dpi_counts(const struct dpi *d, struct dpi_counts *c);
void dpi_close(struct dpi *d);

#endif /* NFXDP_COLLECTOR_DPI_H */
