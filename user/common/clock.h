/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The clocks nfxdp reads, in one place. The meter stamps packets with boot
 * time (bpf_ktime_get_boot_ns(): it keeps counting through a suspend, as
 * Unix time does); records carry Unix time.
 */
#ifndef NFXDP_COMMON_CLOCK_H
#define NFXDP_COMMON_CLOCK_H

#include <stdint.h>
#include <time.h>

#define NS_PER_US 1000ULL
#define NS_PER_MS 1000000ULL
#define NS_PER_SEC 1000000000ULL

uint64_t clock_ns(clockid_t clk);
uint64_t clock_us(clockid_t clk);
uint64_t clock_ms(clockid_t clk);
/* Seconds, for durations and rates printed to people. */
double clock_secs(clockid_t clk);
/* A timespec (from clock_gettime) in ns. */
uint64_t clock_ts_ns(const struct timespec *ts);

/* The meter's clock, now. */
uint64_t clock_meter_ns(void);
/* Meter clock to Unix time, read now: a meter timestamp plus this is Unix time. */
int64_t clock_meter_to_unix(void);

#endif /* NFXDP_COMMON_CLOCK_H */
