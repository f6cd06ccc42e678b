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

int counters_read(int map_fd, uint64_t out[NFX_COUNTER_MAX])
{
	int ncpu = libbpf_num_possible_cpus();
	struct nfx_counters *percpu;
	__u32 zero = 0;

	memset(out, 0, sizeof(uint64_t) * NFX_COUNTER_MAX);
	if (ncpu <= 0)
		return -EINVAL;
	percpu = calloc(ncpu, sizeof(*percpu));
	if (!percpu)
		return -ENOMEM;
	if (bpf_map_lookup_elem(map_fd, &zero, percpu)) {
		int err = -errno;

		free(percpu);
		return err;
	}
	for (int cpu = 0; cpu < ncpu; cpu++)
		for (int i = 0; i < NFX_COUNTER_MAX; i++)
			out[i] += percpu[cpu].c[i];
	free(percpu);
	return 0;
}
