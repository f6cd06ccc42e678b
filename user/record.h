/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Flow records: a closed flow from the kernel as an export message. */
#ifndef NFXDP_RECORD_H
#define NFXDP_RECORD_H

#include <arpa/inet.h>
#include <stdint.h>

#include "flow.h"
#include "flow.pb-c.h"

/* One record and the strings its message points to. */
struct flow_rec {
	Nfxdp__Flow msg;
	char src_ip[INET6_ADDRSTRLEN];
	char dst_ip[INET6_ADDRSTRLEN];
	char src_mac[18];
	char dst_mac[18];
};

/*
 * Fills @r from a closed flow. @clock_offset_ns turns the meter's clock
 * into Unix time (0 when the meter ran on capture time).
 */
void record_build(struct flow_rec *r, const struct flow_event *ev, uint64_t id,
		  int64_t clock_offset_ns);

/* The key's endpoints as src/dst of the flow's first packet. */
void record_endpoints(const struct flow_entry *e, const __u8 **src, const __u8 **dst,
		      uint16_t *sport, uint16_t *dport);

#endif /* NFXDP_RECORD_H */
