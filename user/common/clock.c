// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include "common/clock.h"

uint64_t clock_ts_ns(const struct timespec *ts)
{
	return (uint64_t)ts->tv_sec * NS_PER_SEC + ts->tv_nsec;
}

uint64_t clock_ns(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return clock_ts_ns(&ts);
}

uint64_t clock_us(clockid_t clk)
{
	return clock_ns(clk) / NS_PER_US;
}

uint64_t clock_ms(clockid_t clk)
{
	return clock_ns(clk) / NS_PER_MS;
}

double clock_secs(clockid_t clk)
{
	return clock_ns(clk) / 1e9;
}

uint64_t clock_meter_ns(void)
{
	return clock_ns(CLOCK_BOOTTIME);
}

int64_t clock_meter_to_unix(void)
{
	return (int64_t)clock_ns(CLOCK_REALTIME) - (int64_t)clock_meter_ns();
}
