// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>

#include <zlib.h>

#include "cat/decode.h"

/*
 * A batch decodes into an arena: protobuf-c allocates each message, string
 * and list apart (hundreds per batch), and a bump allocator makes those
 * allocations, and freeing the whole batch, nearly free. nfxdp-cat decodes
 * one batch at a time; the arena is emptied when it is freed, and keeps one
 * chunk the size the last batch needed, so the next alike fits in it.
 */
struct arena_chunk {
	struct arena_chunk *next;
	size_t cap, used;
	max_align_t data[];
};

#define ARENA_MIN_CHUNK (64U << 10)

static struct arena_chunk *arena;
static size_t arena_want; /* what the last batch used: the next first chunk's size */

/* What the batch being decoded may still allocate. */
static size_t budget;
static bool over_budget;

static struct arena_chunk *arena_grow(size_t size)
{
	size_t cap = arena ? arena->cap * 2 : arena_want;
	struct arena_chunk *c;

	if (cap < size)
		cap = size;
	if (cap < ARENA_MIN_CHUNK)
		cap = ARENA_MIN_CHUNK;
	c = malloc(sizeof(*c) + cap);
	if (!c)
		return NULL;
	c->next = arena;
	c->cap = cap;
	c->used = 0;
	return arena = c;
}

static void *bounded_alloc(void *data, size_t size)
{
	size_t n = (size + sizeof(max_align_t) - 1) & ~(sizeof(max_align_t) - 1);
	struct arena_chunk *c = arena;
	void *p;

	/* Counted with its padding: the bound holds for what the arena takes. */
	if (n > budget) {
		over_budget = true;
		return NULL;
	}
	budget -= n;
	if ((!c || c->cap - c->used < n) && !(c = arena_grow(n)))
		return NULL;
	p = (char *)c->data + c->used;
	c->used += n;
	return p;
}

static void bounded_free(void *data, void *p)
{
	/* Freed with the whole batch (arena_reset()). */
}

static ProtobufCAllocator bounded = { .alloc = bounded_alloc, .free = bounded_free };

/* Empties the arena; one chunk stays when it is about the size the batch needed. */
static void arena_reset(void)
{
	size_t used = 0;

	for (struct arena_chunk *c = arena; c; c = c->next)
		used += c->used;
	if (!used)
		return; /* emptied already */
	if (!arena->next && arena->cap <= 4 * used + ARENA_MIN_CHUNK) {
		arena->used = 0;
		return;
	}
	while (arena) {
		struct arena_chunk *next = arena->next;

		free(arena);
		arena = next;
	}
	arena_want = used;
}

Nfxdp__FlowBatch *cat_decode(const uint8_t *buf, size_t len)
{
	Nfxdp__FlowBatch *b;

	if (len > CAT_MAX_BATCH) {
		errno = E2BIG;
		return NULL;
	}
	budget = (size_t)CAT_DECODE_RATIO * len + CAT_DECODE_SLACK;
	if (budget > CAT_MAX_DECODED)
		budget = CAT_MAX_DECODED;
	over_budget = false;
	arena_reset();
	b = nfxdp__flow_batch__unpack(&bounded, len, buf);
	if (!b)
		errno = over_budget ? E2BIG : EINVAL;
	return b;
}

void cat_decoded_free(Nfxdp__FlowBatch *b)
{
	if (b)
		arena_reset();
}

const uint8_t *cat_inflate(const void *in, size_t len, size_t *out_len)
{
	static uint8_t *buf;
	static size_t cap;
	size_t limit = len * CAT_INFLATE_RATIO + 65536, want = len * 4 > 65536 ? len * 4 : 65536;
	size_t avail;
	uLongf n;
	int r;

	if (limit > CAT_MAX_BATCH || len > CAT_MAX_BATCH)
		limit = CAT_MAX_BATCH;
	for (;;) {
		if (want > limit)
			want = limit;
		if (cap < want) {
			free(buf);
			buf = malloc(want);
			cap = buf ? want : 0;
			if (!buf) {
				errno = ENOMEM;
				return NULL;
			}
		}
		avail = cap < limit ? cap : limit;
		n = avail;
		r = uncompress(buf, &n, in, len);
		if (r != Z_BUF_ERROR || avail >= limit)
			break;
		want = avail * 2; /* the batch is larger: grow and retry */
	}
	*out_len = n;
	if (r == Z_OK)
		return buf;
	errno = r == Z_BUF_ERROR ? E2BIG : EINVAL;
	return NULL;
}
