// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <errno.h>
#include <stdlib.h>

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
	w->n = 0;
	w->n_own = 0;
	w->ordered = false;
	w->report = report;
	w->n_report = n;
}

void wheel_order(struct wheel *w)
{
	for (size_t i = w->n / 2; i-- > 0;)
		sift_down(w->heap, w->n, i);
	w->ordered = true;
}

int wheel_hold(struct wheel *w, uint32_t ref, uint64_t due_ms)
{
	if (due_ms == WHEEL_NEVER)
		return 0;
	if (grow((void **)&w->heap, &w->cap, w->n, sizeof(*w->heap)))
		return -ENOMEM;
	w->heap[w->n].due_ms = due_ms;
	w->heap[w->n].ref = ref;
	w->heap[w->n]._pad = 0;
	if (w->ordered)
		sift_up(w->heap, w->n);
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
	if (!w->ordered || !w->n || w->heap[0].due_ms > now_ms)
		return false;
	*ref = w->heap[0].ref;
	w->heap[0] = w->heap[--w->n];
	if (w->n)
		sift_down(w->heap, w->n, 0);
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
	free(w->heap);
	free(w->own);
	w->heap = NULL;
	w->own = NULL;
	w->n = w->cap = w->n_own = w->cap_own = 0;
}
