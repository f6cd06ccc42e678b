// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>

#include "common/bigarray.h"

/* A huge page: mappings are whole ones, so that the first can be one. */
#define BIGARRAY_HUGE ((size_t)2 << 20)
/* Arrays up to this size start in the arena; its chunks are whole lines. */
#define ARENA_CHUNK_MAX (BIGARRAY_HUGE + ((size_t)64 << 10))
#define ARENA_BYTES (4 * BIGARRAY_HUGE)
#define ARENA_ALIGN ((size_t)64)

/*
 * The arena: one mapping the small arrays share, so that they share huge
 * pages. A run over a small capture touched a few hundred KiB of each of
 * seven arrays, and each array took a huge page of its own: seven faults,
 * each zeroing 2 MiB. Chunks are taken from the top; a chunk freed at the
 * top gives its room back, the others when the arena is empty again (an
 * array's life is its run's). @clean: the room above it was never used.
 */
static struct {
	pthread_mutex_t lock;
	uint8_t *base;
	size_t top, clean;
	unsigned int live;
	bool failed;
} arena = { .lock = PTHREAD_MUTEX_INITIALIZER };

static bool in_arena(const void *p)
{
	const uint8_t *q = p;

	const uint8_t *base = __atomic_load_n(&arena.base, __ATOMIC_ACQUIRE);

	return base && q >= base && q < base + ARENA_BYTES;
}

static size_t chunk_len(size_t need)
{
	return (need + ARENA_ALIGN - 1) & ~(ARENA_ALIGN - 1);
}

/* Zeroes what an earlier chunk left in [at, at + len): arrays start zeroed. */
static void arena_zero(size_t at, size_t len)
{
	if (at < arena.clean)
		memset(arena.base + at, 0, (at + len < arena.clean ? at + len : arena.clean) - at);
	if (at + len > arena.clean)
		arena.clean = at + len;
}

static void *map_huge(size_t len)
{
	void *q = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS |
		       MAP_NORESERVE, -1, 0);

	if (q == MAP_FAILED)
		return NULL;
	madvise(q, len, MADV_HUGEPAGE); /* a hint: without it, small pages */
	return q;
}

/* A chunk of @need bytes from the arena, *@bytes its length; NULL: no room. */
static void *arena_take(size_t *bytes, size_t need)
{
	size_t len = chunk_len(need);
	void *p = NULL;

	pthread_mutex_lock(&arena.lock);
	if (!arena.base && !arena.failed) {
		/* Read outside the lock by in_arena(): published whole. */
		__atomic_store_n(&arena.base, map_huge(ARENA_BYTES), __ATOMIC_RELEASE);
		arena.failed = !arena.base;
	}
	if (arena.base && ARENA_BYTES - arena.top >= len) {
		p = arena.base + arena.top;
		arena_zero(arena.top, len);
		arena.top += len;
		arena.live++;
		*bytes = len;
	}
	pthread_mutex_unlock(&arena.lock);
	return p;
}

/* Grows the chunk at the arena's top in place; false: it is not there, or no room. */
static bool arena_extend(void *p, size_t *bytes, size_t need)
{
	size_t at = (uint8_t *)p - arena.base, len = chunk_len(need);
	bool ok;

	pthread_mutex_lock(&arena.lock);
	ok = at + *bytes == arena.top && ARENA_BYTES - at >= len;
	if (ok) {
		arena_zero(arena.top, at + len - arena.top);
		arena.top = at + len;
		*bytes = len;
	}
	pthread_mutex_unlock(&arena.lock);
	return ok;
}

static void arena_give(void *p, size_t bytes)
{
	size_t at = (uint8_t *)p - arena.base;

	pthread_mutex_lock(&arena.lock);
	if (at + bytes == arena.top)
		arena.top = at;
	if (!--arena.live)
		arena.top = 0;
	pthread_mutex_unlock(&arena.lock);
}

/* A mapping of its own, whole huge pages, at least @need; @p's contents moved into it. */
static void *own_mapping(void *p, size_t *bytes, size_t need)
{
	size_t len = *bytes;
	void *q;

	if (!len || in_arena(p)) /* the first mapping: what is asked for, in whole huge pages */
		len = (need + BIGARRAY_HUGE - 1) & ~(BIGARRAY_HUGE - 1);
	while (len < need)
		len *= 2;
	if (p && !in_arena(p)) {
		q = mremap(p, *bytes, len, MREMAP_MAYMOVE); /* no copy: the pages move */
		if (q == MAP_FAILED)
			return NULL;
		madvise(q, len, MADV_HUGEPAGE);
	} else {
		q = map_huge(len);
		if (!q)
			return NULL;
		if (p) {
			memcpy(q, p, *bytes);
			arena_give(p, *bytes);
		}
	}
	*bytes = len;
	return q;
}

void *bigarray_grow(void *p, size_t *bytes, size_t need)
{
	size_t len = 0;
	void *q;

	if (need <= *bytes)
		return p;
	if (!p && need <= ARENA_CHUNK_MAX && (q = arena_take(bytes, need)))
		return q;
	/* A chunk doubles within the arena while it may: in place at the top, else moved. */
	if (in_arena(p) && 2 * need <= ARENA_CHUNK_MAX) {
		if (arena_extend(p, bytes, 2 * need))
			return p;
		q = arena_take(&len, 2 * need);
		if (q) {
			memcpy(q, p, *bytes);
			arena_give(p, *bytes);
			*bytes = len;
			return q;
		}
	}
	return own_mapping(p, bytes, need);
}

void bigarray_free(void *p, size_t bytes)
{
	if (in_arena(p))
		arena_give(p, bytes);
	else if (p)
		munmap(p, bytes);
}
