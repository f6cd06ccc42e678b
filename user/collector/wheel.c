// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "collector/wheel.h"

static void sift_up(struct wheel_ref *h, size_t i)
{
	struct wheel_ref r = h[i];

	while (i && h[(i - 1) / 2].due_ms > r.due_ms) {
		h[i] = h[(i - 1) / 2];
		i = (i - 1) / 2;
	}
	h[i] = r;
}

static void sift_down(struct wheel_ref *h, size_t n, size_t i)
{
	struct wheel_ref r = h[i];

	for (;;) {
		size_t c = 2 * i + 1;

		if (c >= n)
			break;
		if (c + 1 < n && h[c + 1].due_ms < h[c].due_ms)
			c++;
		if (h[c].due_ms >= r.due_ms)
			break;
		h[i] = h[c];
		i = c;
	}
	h[i] = r;
}

/* Room for one more of @size bytes in *@p of *@cap. */
static int grow(void **p, size_t *cap, size_t n, size_t size)
{
	size_t c = *cap ? *cap * 2 : 1024;
	void *np;

	if (n < *cap)
		return 0;
	np = realloc(*p, c * size);
	if (!np)
		return -ENOMEM;
	*p = np;
	*cap = c;
	return 0;
}

void wheel_reset(struct wheel *w, const struct scan_slot *report, uint32_t n)
{
	w->run_n = w->run_at = 0;
	w->heap_n = 0;
	w->n = 0;
	w->n_own = 0;
	w->ordered = false;
	w->report = report;
	w->n_report = n;
}

/* Sorts @r[0..@n) by due_ms - @base, 16 bits of it a round (LSD radix), through @tmp. */
static void radix_sort(struct wheel_ref *r, struct wheel_ref *tmp, size_t *count, size_t n,
		       uint64_t base, int rounds)
{
	for (int round = 0; round < rounds; round++) {
		int shift = 16 * round;

		memset(count, 0, 65537 * sizeof(*count));
		for (size_t i = 0; i < n; i++)
			count[(((r[i].due_ms - base) >> shift) & 0xffff) + 1]++;
		for (size_t d = 1; d <= 65536; d++)
			count[d] += count[d - 1];
		for (size_t i = 0; i < n; i++)
			tmp[count[((r[i].due_ms - base) >> shift) & 0xffff]++] = r[i];
		memcpy(r, tmp, n * sizeof(*r));
	}
}

static int ref_cmp(const void *a, const void *b)
{
	const struct wheel_ref *x = a, *y = b;

	return x->due_ms < y->due_ms ? -1 : x->due_ms > y->due_ms;
}

void wheel_order(struct wheel *w)
{
	uint64_t lo = UINT64_MAX, hi = 0;
	struct wheel_ref *tmp = NULL;
	size_t *count = NULL;

	for (size_t i = 0; i < w->run_n; i++) {
		lo = w->run[i].due_ms < lo ? w->run[i].due_ms : lo;
		hi = w->run[i].due_ms > hi ? w->run[i].due_ms : hi;
	}
	if (w->run_n > 1024) {
		tmp = malloc(w->run_n * sizeof(*tmp));
		count = malloc(65537 * sizeof(*count));
	}
	/* Due times span less than 2^32 ms (49 days) but for absurd timeouts. */
	if (tmp && count && hi - lo < (1ULL << 32))
		radix_sort(w->run, tmp, count, w->run_n, lo, hi - lo < 65536 ? 1 : 2);
	else if (w->run_n > 1)
		qsort(w->run, w->run_n, sizeof(*w->run), ref_cmp);
	free(tmp);
	free(count);
	w->ordered = true;
}

int wheel_hold(struct wheel *w, uint32_t ref, uint64_t due_ms)
{
	struct wheel_ref r = { .due_ms = due_ms, .ref = ref };

	if (due_ms == WHEEL_NEVER)
		return 0;
	if (!w->ordered) {
		if (grow((void **)&w->run, &w->run_cap, w->run_n, sizeof(*w->run)))
			return -ENOMEM;
		w->run[w->run_n++] = r;
	} else {
		if (grow((void **)&w->heap, &w->heap_cap, w->heap_n, sizeof(*w->heap)))
			return -ENOMEM;
		w->heap[w->heap_n] = r;
		sift_up(w->heap, w->heap_n++);
	}
	w->n++;
	return 0;
}

int wheel_hold_key(struct wheel *w, const struct flow_key *key, uint64_t due_ms)
{
	if (due_ms == WHEEL_NEVER)
		return 0;
	if (grow((void **)&w->own, &w->cap_own, w->n_own, sizeof(*w->own)))
		return -ENOMEM;
	w->own[w->n_own] = *key;
	return wheel_hold(w, WHEEL_OWN_KEY | (uint32_t)w->n_own++, due_ms);
}

bool wheel_pop_due(struct wheel *w, uint64_t now_ms, uint32_t *ref)
{
	bool in_run = w->run_at < w->run_n, in_heap = w->heap_n > 0;

	if (!w->ordered)
		return false;
	if (in_run && (!in_heap || w->run[w->run_at].due_ms <= w->heap[0].due_ms)) {
		if (w->run[w->run_at].due_ms > now_ms)
			return false;
		*ref = w->run[w->run_at++].ref;
	} else {
		if (!in_heap || w->heap[0].due_ms > now_ms)
			return false;
		*ref = w->heap[0].ref;
		w->heap[0] = w->heap[--w->heap_n];
		if (w->heap_n)
			sift_down(w->heap, w->heap_n, 0);
	}
	w->n--;
	return true;
}

const struct flow_key *wheel_key(const struct wheel *w, uint32_t ref)
{
	if (ref & WHEEL_OWN_KEY)
		return &w->own[ref & ~WHEEL_OWN_KEY];
	return &w->report[ref].key;
}

void wheel_free(struct wheel *w)
{
	free(w->run);
	free(w->heap);
	free(w->own);
	memset(w, 0, sizeof(*w));
}
