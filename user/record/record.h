/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Flow records: a closed flow from the kernel as an export message. */
#ifndef NFXDP_RECORD_RECORD_H
#define NFXDP_RECORD_RECORD_H

#include <arpa/inet.h>
#include <stdbool.h>
#include <stdint.h>

#include "flow.h"
#include "flow.pb-c.h"

/* Optional parts of the flow entries: --statistical, --splt N. */
struct record_features {
	bool statistical;
	uint32_t splt;
};

/* timestamp_source in records (proto/flow.proto). */
enum timestamp_source {
	TIMESTAMP_KERNEL = 0,
	TIMESTAMP_NIC = 1,
	TIMESTAMP_MIXED = 2,
	TIMESTAMP_CAPTURE = 3,
};

/* One record and the memory its message points to. */
struct flow_rec {
	Nfxdp__Flow msg;
	char src_ip[INET6_ADDRSTRLEN];
	char dst_ip[INET6_ADDRSTRLEN];
	char src_mac[18];
	char dst_mac[18];
	int32_t splt_direction[SPLT_MAX];
	int32_t splt_ps[SPLT_MAX];
	int64_t splt_piat_ms[SPLT_MAX];
	int64_t splt_piat_us[SPLT_MAX];
};

/*
 * Fills @r from a closed flow, whose entry has the optional parts of @feat.
 * @clock_offset_ns turns the meter's clock into Unix time (0 when the meter
 * ran on capture time).
 */
void record_build(struct flow_rec *r, const struct flow_event *ev, uint64_t id,
		  int64_t clock_offset_ns, const struct record_features *feat);

/* Sample standard deviation from count, sum and sum of squares (exact integer arithmetic). */
double record_stddev(uint64_t n, uint64_t sum, uint64_t sumsq);

/* The key's endpoints as src/dst of the flow's first packet. */
void record_endpoints(const struct flow_entry *e, const __u8 **src, const __u8 **dst,
		      uint16_t *sport, uint16_t *dport);

#endif /* NFXDP_RECORD_RECORD_H */
