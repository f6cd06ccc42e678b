// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <sys/mman.h>

#include "common/bigarray.h"

/* A huge page: mappings are whole ones, so that the first can be one. */
#define BIGARRAY_HUGE ((size_t)2 << 20)

void *bigarray_grow(void *p, size_t *bytes, size_t need)
{
	size_t len = *bytes;
	void *q;

	if (need <= *bytes)
		return p;
	if (!len) /* the first mapping: what is asked for, in whole huge pages */
		len = (need + BIGARRAY_HUGE - 1) & ~(BIGARRAY_HUGE - 1);
	while (len < need)
		len *= 2;
	if (p)
		q = mremap(p, *bytes, len, MREMAP_MAYMOVE); /* no copy: the pages move */
	else
		q = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS |
			 MAP_NORESERVE, -1, 0);
	if (q == MAP_FAILED)
		return NULL;
	madvise(q, len, MADV_HUGEPAGE); /* a hint: without it, small pages */
	*bytes = len;
	return q;
}

void bigarray_free(void *p, size_t bytes)
{
	if (p)
		munmap(p, bytes);
}
