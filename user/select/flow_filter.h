/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * --flow-filter: which exported flows to keep, by their fields, after
 * metering. Tests compare a numeric field of the record (NFStream's names,
 * as in the CSV header) with a number:
 *   bidirectional_packets >= 3 and not expiration_id == 4
 *   (protocol == 6 or protocol == 17) and src2dst_bytes > 1000
 * Operators: == != < <= > >=; and/or/not/parentheses as for --filter.
 */
#ifndef NFXDP_SELECT_FLOW_FILTER_H
#define NFXDP_SELECT_FLOW_FILTER_H

#include <stdbool.h>
#include <stddef.h>

#include "flow.pb-c.h"

#define FLOWFILTER_MAX 64

enum ff_cmp { FF_EQ, FF_NE, FF_LT, FF_LE, FF_GT, FF_GE };

struct ff_step {
	int op; /* -1: a test; else enum bx_op */
	const ProtobufCFieldDescriptor *field;
	enum ff_cmp cmp;
	double value;
};

struct flowfilter {
	struct ff_step step[FLOWFILTER_MAX];
	int n;
};

/* 0, or -1 with a message in @err pointing at the offending token. */
int flowfilter_compile(struct flowfilter *ff, const char *expr, char *err, size_t errlen);
bool flowfilter_match(const struct flowfilter *ff, const Nfxdp__Flow *f);

#endif /* NFXDP_SELECT_FLOW_FILTER_H */
