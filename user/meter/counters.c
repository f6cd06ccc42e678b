// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "meter/counters.h"

#define COUNTER_NAME(id, name) [NFX_##id] = name,
const char *const counter_names[NFX_COUNTER_MAX] = { NFX_COUNTERS(COUNTER_NAME) };
#undef COUNTER_NAME

/* Adds hook @hook's counters, summed over the CPUs, to @out. */
static int add_hook(int map_fd, __u32 hook, uint64_t out[NFX_COUNTER_MAX])
{
	int ncpu = libbpf_num_possible_cpus(), err = 0;
	struct nfx_counters *percpu;

	if (ncpu <= 0)
		return -EINVAL;
	percpu = calloc(ncpu, sizeof(*percpu));
	if (!percpu)
		return -ENOMEM;
	if (bpf_map_lookup_elem(map_fd, &hook, percpu))
		err = -errno;
	for (int cpu = 0; !err && cpu < ncpu; cpu++)
		for (int i = 0; i < NFX_COUNTER_MAX; i++)
			out[i] += percpu[cpu].c[i];
	free(percpu);
	return err;
}

int counters_read_hook(int map_fd, enum meter_hook hook, uint64_t out[NFX_COUNTER_MAX])
{
	memset(out, 0, sizeof(uint64_t) * NFX_COUNTER_MAX);
	return add_hook(map_fd, hook, out);
}

int counters_read(int map_fd, uint64_t out[NFX_COUNTER_MAX])
{
	int err = 0;

	memset(out, 0, sizeof(uint64_t) * NFX_COUNTER_MAX);
	for (__u32 hook = 0; hook < HOOK_COUNT && !err; hook++)
		err = add_hook(map_fd, hook, out);
	return err;
}
