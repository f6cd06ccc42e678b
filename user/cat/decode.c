// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>

#include <zlib.h>

#include "cat/decode.h"

/* What the batch being decoded may still allocate; nfxdp-cat decodes one at a time. */
static size_t budget;
static bool over_budget;

static void *bounded_alloc(void *data, size_t size)
{
	if (size > budget) {
		over_budget = true;
		return NULL;
	}
	budget -= size;
	return malloc(size);
}

static void bounded_free(void *data, void *p)
{
	free(p);
}

static ProtobufCAllocator bounded = { .alloc = bounded_alloc, .free = bounded_free };

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
	b = nfxdp__flow_batch__unpack(&bounded, len, buf);
	if (!b)
		errno = over_budget ? E2BIG : EINVAL;
	return b;
}

void cat_decoded_free(Nfxdp__FlowBatch *b)
{
	if (b)
		nfxdp__flow_batch__free_unpacked(b, &bounded);
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
