/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* The meter's per-CPU counters, summed, and their names. */
#ifndef NFXDP_METER_COUNTERS_H
#define NFXDP_METER_COUNTERS_H

#include <stdint.h>

#include "flow.h"

extern const char *const counter_names[NFX_COUNTER_MAX];

/* Sums the per-CPU counters of the meter's counters map, both hooks, into @out. */
int counters_read(int map_fd, uint64_t out[NFX_COUNTER_MAX]);
/* The same for one hook (enum meter_hook). */
int counters_read_hook(int map_fd, enum meter_hook hook, uint64_t out[NFX_COUNTER_MAX]);

#endif /* NFXDP_METER_COUNTERS_H */
