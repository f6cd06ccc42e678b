// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <bpf/libbpf.h>

#include "common/clock.h"
#include "flow.h"
#include "meter/meter.h"
#include "common/log.h"
#include "collector/expiry.h"
#include "common/bigarray.h"
#include "collector/wheel.h"

#define SCAN_BATCH 4096
#define CLOSE_ATTEMPTS 64 /* closer runs per queue before leaving a busy flow for next scan */

int poller_init(struct poller *p, struct meter *m, const struct poller_policy *policy,
		expiry_drain_fn drain, void *drain_ctx)
{
	memset(p, 0, sizeof(*p));
	p->m = m;
	p->drain = drain;
	p->drain_ctx = drain_ctx;
	p->policy = *policy;
	p->st.idle_ms = policy->idle_ms;
	p->st.slices = 1;
	p->buf_n = SCAN_BATCH;
	p->keys = bigarray_grow(NULL, &p->keys_bytes, p->buf_n * sizeof(*p->keys));
	p->vals = bigarray_grow(NULL, &p->vals_bytes, p->buf_n * m->entry_size);
	if (!p->keys || !p->vals) {
		poller_free(p);
		return -ENOMEM;
	}
	return 0;
}

void poller_free(struct poller *p)
{
	bigarray_free(p->keys, p->keys_bytes);
	bigarray_free(p->vals, p->vals_bytes);
	p->keys_bytes = p->vals_bytes = 0;
	bigarray_free(p->due, p->due_bytes);
	p->due_bytes = 0;
	wheel_free(&p->wheel);
	free(p->recheck);
	p->recheck = NULL;
	p->keys = NULL;
	p->vals = NULL;
	p->due = NULL;
}

static uint64_t ms_of(uint64_t ns)
{
	return ns / 1000000;
}

/*
 * Largest ns timestamp whose ms value is at most now_ms - wait_ms: the
 * kernel keeps NFStream's millisecond rule when it re-checks.
 */
static uint64_t threshold_for(uint64_t now_ms, uint64_t wait_ms)
{
	return (now_ms - wait_ms + 1) * 1000000 - 1;
}

int poller_due(const struct poller_policy *policy, const struct flow_entry *e, uint64_t now_ns,
	       uint64_t *threshold_ns)
{
	uint64_t now = ms_of(now_ns), last = ms_of(flow_last_seen(e)), first = ms_of(flow_first_seen(e));

	if (policy->idle_ms && now >= last + policy->idle_ms) {
		*threshold_ns = threshold_for(now, policy->idle_ms);
		return EXPIRY_IDLE;
	}
	if (policy->active_ms && now >= first + policy->active_ms) {
		*threshold_ns = threshold_for(now, policy->active_ms);
		return EXPIRY_ACTIVE;
	}
	if (policy->natural && FLOW_F_ENDED(e->flags) && now >= last + policy->linger_ms) {
		*threshold_ns = threshold_for(now, policy->linger_ms);
		return EXPIRY_NATURAL;
	}
	return -1;
}

/* ---- the expiry wheel (policy.wheel) ------------------------------------- */

static uint64_t min_u64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

/* flow_due_at_ms() with the idle timeout in use. */
static uint64_t due_at_ms(const struct poller *p, uint64_t first_ns, uint64_t last_ns,
			  uint32_t flags)
{
	return flow_due_at_ms(first_ns, last_ns, flags, p->st.idle_ms, p->policy.active_ms,
			      p->policy.natural, p->policy.linger_ms);
}

/*
 * How often a pass must run: a flow the last pass did not see was created
 * after it started, so no timeout closes it sooner than this after that
 * (ended flows are announced, when the meter sends notes).
 */
static uint64_t pass_period_ms(const struct poller *p)
{
	uint64_t per = WHEEL_NEVER;

	if (p->st.idle_ms)
		per = min_u64(per, p->st.idle_ms);
	if (p->policy.active_ms)
		per = min_u64(per, p->policy.active_ms);
	if (p->policy.natural && !p->policy.notes)
		per = min_u64(per, p->policy.linger_ms);
	return per;
}

/* Lost notes (ring full) leave ended flows unheld: a pass finds them. */
static bool notes_lost(struct poller *p)
{
	uint64_t cnt[NFX_COUNTER_MAX];

	if (!p->policy.notes || meter_counters(p->m, cnt))
		return false;
	if (cnt[NFX_NOTES_LOST] == p->notes_lost_seen)
		return false;
	p->notes_lost_seen = cnt[NFX_NOTES_LOST];
	return true;
}

static bool pass_needed(struct poller *p, uint64_t now_ns)
{
	bool lost = notes_lost(p); /* read every time: the count seen moves on */

	return !p->wheel.ordered || p->wheel_stale || lost || ms_of(now_ns) >= p->next_pass_ms;
}

static int hold(struct poller *p, uint32_t ref, uint64_t due_ms)
{
	int err = wheel_hold(&p->wheel, ref, due_ms);

	if (err) /* what could not be held, the next pass finds */
		p->wheel_stale = true;
	p->st.wheel_size = p->wheel.n;
	return err;
}

void poller_note(struct poller *p, const struct flow_key *key, uint64_t last_seen_ns)
{
	if (!p->policy.wheel)
		return;
	p->st.notes++;
	if (wheel_hold_key(&p->wheel, key, ms_of(last_seen_ns) + p->policy.linger_ms))
		p->wheel_stale = true;
	p->st.wheel_size = p->wheel.n;
}

static int add_due(struct poller *p, const struct flow_key *k, const struct flow_entry *e,
		   int reason, uint64_t threshold);
static int due_now(const struct poller *p, const struct flow_entry *e, uint64_t now_ns,
		   uint64_t *threshold_ns);
static int close_due(struct poller *p);

/*
 * A flow of these flags (SCAN_NOT_LIVE: being created or closed) and times:
 * queued to close when due (returns 1), else *@hold_ms is when it may be
 * (the next scan's time when not LIVE).
 */
static int verdict(struct poller *p, const struct flow_key *key, uint32_t flags,
		   uint64_t first_ns, uint64_t last_ns, uint64_t now_ns, uint64_t *hold_ms)
{
	struct flow_entry e;
	uint64_t threshold = 0;
	int reason;

	*hold_ms = ms_of(now_ns) + 1;
	if (flags & SCAN_NOT_LIVE)
		return 0;
	memset(&e, 0, sizeof(e));
	e.flags = flags;
	e.dir[0].first_seen_ns = first_ns;
	e.dir[0].last_seen_ns = last_ns;
	reason = due_now(p, &e, now_ns, &threshold);
	if (reason >= 0)
		return add_due(p, key, &e, reason, threshold) ? -ENOMEM : 1;
	*hold_ms = due_at_ms(p, first_ns, last_ns, flags);
	return 0;
}

/* A flow of the pass's report, with the times the pass read: due, or held. */
static int judge_slot(struct poller *p, uint32_t i, uint64_t now_ns)
{
	const struct scan_slot *s = &p->wheel.report[i];
	uint64_t at;
	int r;

	if (!(s->flags & SCAN_NOT_LIVE)) { /* most are not due: held without more ado */
		at = due_at_ms(p, s->first_seen_ns, s->last_seen_ns, s->flags);
		if (at > ms_of(now_ns))
			return hold(p, i, at);
	}
	r = verdict(p, &s->key, s->flags, s->first_seen_ns, s->last_seen_ns, now_ns, &at);
	return r < 0 ? r : r ? 0 : hold(p, i, at);
}

/* A close found the flow not due after all (a packet since) or kept busy: look again. */
static int recheck_add(struct poller *p, const struct flow_key *key)
{
	if (p->n_recheck == p->cap_recheck) {
		size_t cap = p->cap_recheck ? p->cap_recheck * 2 : 256;
		struct flow_key *k = realloc(p->recheck, cap * sizeof(*k));

		if (!k) {
			p->wheel_stale = true;
			return -ENOMEM;
		}
		p->recheck = k;
		p->cap_recheck = cap;
	}
	p->recheck[p->n_recheck++] = *key;
	return 0;
}

/* Looks at @keys now (CLOSE_PEEK, a batch per nfx_close run): due ones queued, others held. */
static int peek(struct poller *p, const struct flow_key *keys, size_t n, uint64_t now_ns)
{
	struct close_req *q = meter_close_queue(p->m);
	int err = 0;

	for (size_t at = 0; at < n && !err; at += CLOSE_BATCH) {
		uint32_t b = n - at < CLOSE_BATCH ? n - at : CLOSE_BATCH;

		for (uint32_t i = 0; i < b; i++) {
			memset(&q[i], 0, sizeof(q[i]));
			q[i].key = keys[at + i];
			q[i].reason = CLOSE_PEEK;
		}
		err = meter_run_close(p->m, b);
		for (uint32_t i = 0; i < b && !err; i++) {
			uint32_t flags = q[i].flags | (q[i].state != FLOW_LIVE ? SCAN_NOT_LIVE : 0);
			uint64_t hold_ms;
			int r;

			if (q[i].status) /* -ENOENT: closed or evicted since */
				continue;
			r = verdict(p, &q[i].key, flags, q[i].first_seen_ns, q[i].last_seen_ns, now_ns,
				    &hold_ms);
			if (r < 0)
				err = r;
			else if (!r && wheel_hold_key(&p->wheel, &q[i].key, hold_ms))
				err = -ENOMEM;
		}
	}
	p->qlen = 0;
	return err;
}

/*
 * After closing: the flows a close left (-EAGAIN, or busy) are looked at
 * again, closed if due by another reason, else held; twice at most, then
 * held for the next scan.
 */
static int settle(struct poller *p, uint64_t now_ns)
{
	int err = 0;

	for (int round = 0; round < 2 && p->n_recheck && !err; round++) {
		struct flow_key *keys = p->recheck;
		size_t n = p->n_recheck;

		p->recheck = NULL;
		p->n_recheck = p->cap_recheck = 0;
		err = peek(p, keys, n, now_ns);
		free(keys);
		if (!err)
			err = close_due(p);
	}
	for (size_t i = 0; i < p->n_recheck && !err; i++)
		err = wheel_hold_key(&p->wheel, &p->recheck[i], ms_of(now_ns) + 1);
	p->n_recheck = 0;
	if (err) /* what could not be held, the next pass finds */
		p->wheel_stale = true;
	p->st.wheel_size = p->wheel.n;
	return err;
}

/*
 * Between passes: the flows whose time has come. One the pass reported is
 * closed on what the pass read: the kernel checks the condition again,
 * frozen, and a flow that had packets since is left (-EAGAIN) and looked
 * at again (settle()). One announced by a note is looked at first. The due
 * ones close as in a pass, in creation order.
 */
static int wheel_tick(struct poller *p, uint64_t now_ns)
{
	uint32_t ref;
	int err = 0;

	while (!err && wheel_pop_due(&p->wheel, ms_of(now_ns), &ref)) {
		if (ref & WHEEL_OWN_KEY)
			err = recheck_add(p, wheel_key(&p->wheel, ref));
		else
			err = judge_slot(p, ref, now_ns);
		p->st.wheel_checks++;
	}
	p->st.wheel_size = p->wheel.n;
	if (!err)
		err = close_due(p);
	return err ? err : settle(p, now_ns);
}

static void pass_end(struct poller *p, uint64_t seen, uint64_t us);

/*
 * A pass in the kernel (nfx_scan): every flow that may be due before the
 * next pass must start, read in place and reported in 64 bytes; the due
 * ones are closed, the others held. The next pass starts early enough
 * that, taking as long as this one, it is over a poll before a flow it
 * did not see can come due. -EOPNOTSUPP: the meter has no nfx_scan;
 * -ENOSPC: flows due about now were left out of the report, or the run
 * failed.
 */
static int kernel_pass(struct poller *p, uint64_t now_ns)
{
	uint64_t start = clock_us(CLOCK_MONOTONIC), per = pass_period_ms(p), now = ms_of(now_ns);
	struct scan_ctl c = { 0 };
	const struct scan_slot *out;
	uint64_t cover, took, margin;
	int err;

	c.until_ms = per == WHEEL_NEVER ? WHEEL_NEVER : now + per;
	c.idle_ms = p->st.idle_ms;
	c.active_ms = p->policy.active_ms;
	c.natural = p->policy.natural;
	c.linger_ms = p->policy.linger_ms;
	err = meter_run_scan(p->m, &c, &out);
	if (err) /* said by meter_run_scan(); this pass reads the cache whole instead */
		return err == -EOPNOTSUPP ? err : -ENOSPC;
	if (c.dropped && c.min_dropped_ms <= now + p->policy.poll_ms)
		return -ENOSPC;
	wheel_reset(&p->wheel, out, c.n);
	p->wheel_stale = false;
	for (uint32_t i = 0; i < c.n && !err; i++)
		err = judge_slot(p, i, now_ns);
	wheel_order(&p->wheel);
	if (!err)
		err = close_due(p);
	if (!err)
		err = settle(p, now_ns);
	took = (clock_us(CLOCK_MONOTONIC) - start) / 1000;
	margin = took + p->policy.poll_ms;
	cover = c.dropped ? min_u64(c.until_ms, c.min_dropped_ms) : c.until_ms;
	p->next_pass_ms = cover == WHEEL_NEVER ? WHEEL_NEVER : cover > now + margin ? cover - margin : 0;
	p->st.slices = 1;
	pass_end(p, c.seen, clock_us(CLOCK_MONOTONIC) - start);
	return err;
}

/*
 * Closes the queued flows. Requests refused because the export ring was
 * full or writers were inside are retried after draining the ring; a flow
 * still busy after that is left for the next scan.
 */
static int drain_queue(struct poller *p)
{
	struct close_req *q = meter_close_queue(p->m);
	int err = 0;

	for (int attempt = 0; attempt < CLOSE_ATTEMPTS && p->qlen; attempt++) {
		uint32_t keep = 0;

		err = meter_run_close(p->m, p->qlen);
		if (err)
			break;
		for (uint32_t i = 0; i < p->qlen; i++) {
			if (q[i].status == 0 && q[i].reason < EXPIRY_COUNT)
				p->st.closed[q[i].reason]++;
			if (q[i].status == -EBUSY || q[i].status == -ENOSPC) {
				p->st.close_busy++;
				q[keep++] = q[i];
			}
			/* Not due after all: the wheel holds it again (settle()). */
			if (q[i].status == -EAGAIN && p->policy.wheel)
				recheck_add(p, &q[i].key);
		}
		p->qlen = keep;
		p->drain(p->drain_ctx);
	}
	for (uint32_t i = 0; i < p->qlen && p->policy.wheel; i++)
		recheck_add(p, &q[i].key);
	p->qlen = 0;
	return err;
}

static int queue_close(struct poller *p, const struct flow_key *key, int reason,
		       uint64_t threshold_ns)
{
	struct close_req *r;

	if (p->qlen == CLOSE_BATCH) {
		int err = drain_queue(p);

		if (err)
			return err;
	}
	r = &meter_close_queue(p->m)[p->qlen++];
	r->key = *key;
	r->reason = reason;
	r->threshold_ns = threshold_ns;
	r->status = 0;
	return 0;
}

/* A flow to close, with what orders the closing. */
struct due {
	struct flow_key key;
	uint32_t reason;
	uint64_t threshold_ns;
	uint64_t first_seen_ns;
	uint64_t last_seen_ns;
};

typedef int (*scan_fn)(struct poller *p, const struct flow_key *k, const struct flow_entry *e,
		       uint64_t now_ns);

/*
 * Visits the entries of the flow cache from *@token (0: the start) on, until
 * at least @limit were seen (0: no limit) or the end, where *@token becomes
 * 0 again; returns how many.
 */
static int64_t scan_from(struct poller *p, scan_fn fn, uint64_t now_ns, uint64_t *token,
			 uint64_t limit)
{
	int64_t seen = 0;

	for (;;) {
		uint32_t count = p->buf_n;
		int err = meter_flows_batch(p->m, token, p->keys, p->vals, &count);

		if (err && err != -ENOENT) {
			pr_warn("Couldn't read the flow cache: %s\n", strerror(-err));
			*token = 0;
			return err;
		}
		for (__u32 i = 0; i < count; i++) {
			const struct flow_entry *e =
				(const void *)((const char *)p->vals + i * p->m->entry_size);
			int ferr = fn(p, &p->keys[i], e, now_ns);

			if (ferr) {
				*token = 0;
				return ferr;
			}
		}
		seen += count;
		if (err) {
			*token = 0;
			break;
		}
		if (limit && (uint64_t)seen >= limit)
			break;
	}
	return seen;
}

/* Visits every entry of the flow cache; returns how many. */
static int64_t scan_entries(struct poller *p, scan_fn fn, uint64_t now_ns)
{
	uint64_t token = 0;

	return scan_from(p, fn, now_ns, &token, 0);
}

static int add_due(struct poller *p, const struct flow_key *k, const struct flow_entry *e,
		   int reason, uint64_t threshold)
{
	struct due *d;

	if ((p->n_due + 1) * sizeof(*d) > p->due_bytes) {
		struct due *nd = bigarray_grow(p->due, &p->due_bytes, (p->n_due + 1) * sizeof(*d));

		if (!nd)
			return -ENOMEM;
		p->due = nd;
	}
	d = &p->due[p->n_due++];
	d->key = *k;
	d->reason = reason;
	d->threshold_ns = threshold;
	d->first_seen_ns = flow_first_seen(e);
	d->last_seen_ns = flow_last_seen(e);
	return 0;
}

/* Least recently seen first: the emergency victims. */
static int due_by_last_seen(const void *a, const void *b)
{
	const struct due *x = a, *y = b;

	if (x->last_seen_ns != y->last_seen_ns)
		return x->last_seen_ns < y->last_seen_ns ? -1 : 1;
	return memcmp(&x->key, &y->key, sizeof(x->key));
}

/* Creation order, as NFStream walks its cache; the key breaks ties. */
static int due_cmp(const void *a, const void *b)
{
	const struct due *x = a, *y = b;

	if (x->first_seen_ns != y->first_seen_ns)
		return x->first_seen_ns < y->first_seen_ns ? -1 : 1;
	return memcmp(&x->key, &y->key, sizeof(x->key));
}

/*
 * Closes the flows found due, oldest first: the export order then depends on
 * the flows only, not on where the map's random hash seed put them.
 */
static int close_due(struct poller *p)
{
	int err = 0;

	if (p->n_due > 1) /* and p->due may still be NULL: qsort() wants an array */
		qsort(p->due, p->n_due, sizeof(*p->due), due_cmp);
	for (size_t i = 0; i < p->n_due && !err; i++) {
		/* The wheel may hold a flow twice (a pass and a note): close it once. */
		if (i && !memcmp(&p->due[i].key, &p->due[i - 1].key, sizeof(p->due[i].key)))
			continue;
		err = queue_close(p, &p->due[i].key, p->due[i].reason, p->due[i].threshold_ns);
	}
	p->n_due = 0;
	if (!err)
		err = drain_queue(p);
	return err;
}

/* poller_due with the idle timeout in use, shortened under pressure. */
static int due_now(const struct poller *p, const struct flow_entry *e, uint64_t now_ns,
		   uint64_t *threshold_ns)
{
	struct poller_policy now_policy = p->policy;

	now_policy.idle_ms = p->st.idle_ms;
	return poller_due(&now_policy, e, now_ns, threshold_ns);
}

static int expire_one(struct poller *p, const struct flow_key *k, const struct flow_entry *e,
		      uint64_t now_ns)
{
	uint64_t threshold = 0;
	int reason;

	if (flow_ctl_state(e->ctl) != FLOW_LIVE)
		return 0;
	reason = due_now(p, e, now_ns, &threshold);
	if (reason < 0)
		return 0;
	return add_due(p, k, e, reason, threshold);
}

static uint64_t closed_total(const struct poller *p)
{
	uint64_t n = 0;

	for (int i = 0; i < EXPIRY_COUNT; i++)
		n += p->st.closed[i];
	return n;
}

static void adjust_idle(struct poller *p, uint64_t percent);

/* Every live flow: with its timeout when one has passed, else as an emergency candidate. */
static int pressure_one(struct poller *p, const struct flow_key *k, const struct flow_entry *e,
			uint64_t now_ns)
{
	uint64_t threshold = 0;
	int reason;

	if (flow_ctl_state(e->ctl) != FLOW_LIVE)
		return 0;
	reason = due_now(p, e, now_ns, &threshold);
	return add_due(p, k, e, reason < 0 ? EXPIRY_EMERGENCY : reason, threshold);
}

/* Moves the emergency candidates behind the flows due by a timeout; returns how many are due. */
static size_t split_due(struct poller *p)
{
	size_t t = 0;

	for (size_t i = 0; i < p->n_due; i++) {
		if (p->due[i].reason != EXPIRY_EMERGENCY) {
			struct due d = p->due[t];

			p->due[t++] = p->due[i];
			p->due[i] = d;
		}
	}
	return t;
}

/*
 * After a pressure scan: the flows due by a timeout in creation order, then,
 * when @emergency, the least recently seen candidates until @keep are left.
 */
static int close_pressure(struct poller *p, bool emergency, uint64_t keep)
{
	size_t t = split_due(p), cand = p->n_due - t, n = 0;
	int err = 0;

	if (emergency) {
		p->st.emergency_runs++;
		n = cand > keep ? cand - keep : 0;
		if (cand > 1)
			qsort(p->due + t, cand, sizeof(*p->due), due_by_last_seen);
	}
	if (t > 1)
		qsort(p->due, t, sizeof(*p->due), due_cmp);
	p->n_due = t + n;
	for (size_t i = 0; i < p->n_due; i++) {
		err = queue_close(p, &p->due[i].key, p->due[i].reason, p->due[i].threshold_ns);
		if (err)
			break;
	}
	p->n_due = 0;
	return err ? err : drain_queue(p);
}

/*
 * Slices for the next pass: enough that each takes about SLICE_TARGET_US,
 * judged by the pass just done. A pass then takes --poll-ms, as before, but
 * a flow that came due waits for its slice's turn (at most --poll-ms), not
 * also for the rest of a long pass to be read before anything is closed.
 */
static void plan_slices(struct poller *p)
{
	uint64_t n = p->st.last_scan_us / SLICE_TARGET_US + 1;

	if (!p->policy.spread)
		n = 1;
	p->st.slices = n < SLICES_MAX ? n : SLICES_MAX;
}

int poller_scan(struct poller *p, uint64_t now_ns)
{
	uint64_t start = clock_us(CLOCK_MONOTONIC), limit = 0;
	int64_t seen;
	int err;

	p->pass_done = false;
	if (p->policy.wheel && !p->cursor) {
		if (!pass_needed(p, now_ns))
			return wheel_tick(p, now_ns);
		err = kernel_pass(p, now_ns);
		if (err != -EOPNOTSUPP && err != -ENOSPC)
			return err;
		/*
		 * No nfx_scan: passes read the cache whole from now on. A
		 * report too short for what is due now, or a run that failed:
		 * this pass does, and the next scan tries nfx_scan again.
		 */
		p->policy.wheel = err != -EOPNOTSUPP;
		wheel_reset(&p->wheel, NULL, 0);
		p->wheel_stale = true;
	}
	/*
	 * A slice reads its share of the entries the last pass saw; the
	 * cache may have grown since, so the last slice reads what is left.
	 */
	if (p->st.slices > 1)
		limit = p->st.active_flows / p->st.slices + 1;
	seen = scan_from(p, expire_one, now_ns, &p->cursor, limit);
	err = close_due(p);
	if (seen < 0) {
		p->pass_seen = p->pass_us = 0;
		return seen;
	}
	p->pass_seen += seen;
	p->pass_us += clock_us(CLOCK_MONOTONIC) - start;
	if (p->cursor) /* the pass goes on at the next call */
		return err;
	plan_slices(p);
	pass_end(p, p->pass_seen, p->pass_us);
	p->pass_seen = p->pass_us = 0;
	return err;
}

/* A pass saw @seen entries in @us: counted, and the idle timeout adjusted to the cache's fill. */
static void pass_end(struct poller *p, uint64_t seen, uint64_t us)
{
	p->st.scans++;
	p->pass_done = true;
	p->st.active_flows = seen;
	p->st.last_scan_us = us;
	if (p->policy.capacity)
		adjust_idle(p, seen * 100 / p->policy.capacity);
}

int poller_scan_all(struct poller *p, uint64_t now_ns)
{
	p->cursor = 0;
	p->pass_seen = p->pass_us = 0;
	p->st.slices = 1; /* poller_scan() plans the next passes anew */
	p->wheel_stale = true; /* a pass, not a look at the wheel */
	return poller_scan(p, now_ns);
}

bool poller_pass_start(const struct poller *p)
{
	return !p->cursor;
}

bool poller_pass_done(const struct poller *p)
{
	return p->pass_done;
}

uint64_t poller_interval_ms(const struct poller *p, uint64_t poll_ms)
{
	uint64_t ms = p->st.slices > 1 ? poll_ms / p->st.slices : poll_ms;

	return ms ? ms : 1;
}

/* Idle timeout under pressure: halved per step down to a floor, doubled back. */
static void adjust_idle(struct poller *p, uint64_t percent)
{
	uint64_t conf = p->policy.idle_ms, floor = conf / 16 > 1000 ? conf / 16 : 1000;
	uint64_t was = p->st.idle_ms;

	if (!conf)
		return;
	if (floor > conf)
		floor = conf;
	if (percent >= PRESSURE_HIGH && p->st.idle_ms / 2 >= floor)
		p->st.idle_ms /= 2;
	else if (percent >= PRESSURE_HIGH)
		p->st.idle_ms = floor;
	else if (percent < PRESSURE_LOW && p->st.idle_ms < conf)
		p->st.idle_ms = p->st.idle_ms * 2 < conf ? p->st.idle_ms * 2 : conf;
	/* The wheel's times came from the longer one: a pass holds the flows anew. */
	if (p->st.idle_ms < was)
		p->wheel_stale = true;
}

uint64_t poller_hard_limit(const struct poller *p)
{
	uint64_t cap = p->policy.capacity, hard = cap * PRESSURE_HARD / 100;
	uint64_t lru = 2 * LRU_LOCAL_FREE * (uint64_t)libbpf_num_possible_cpus();

	if (!p->policy.overflow_export && cap > lru && cap - lru < hard)
		hard = cap - lru;
	return hard;
}

uint64_t poller_high_limit(const struct poller *p)
{
	uint64_t high = p->policy.capacity * PRESSURE_HIGH / 100, hard = poller_hard_limit(p);

	return high < hard ? high : hard * PRESSURE_HIGH / PRESSURE_HARD;
}

int poller_pressure(struct poller *p, uint64_t now_ns, uint64_t entries, uint64_t incoming)
{
	uint64_t hard = poller_hard_limit(p), start = clock_us(CLOCK_MONOTONIC);
	int64_t seen;
	int err;

	if (!p->policy.capacity || entries + incoming < hard)
		return 0;
	/*
	 * Past the hard watermark: one pass finds what a timeout closes and,
	 * if that is not enough, the least recently seen flows to close too.
	 */
	seen = scan_entries(p, pressure_one, now_ns);
	if (seen < 0)
		return seen;
	err = close_pressure(p, (uint64_t)seen + incoming >= hard, poller_high_limit(p));
	p->st.scans++;
	p->st.active_flows = seen;
	p->st.last_scan_us = clock_us(CLOCK_MONOTONIC) - start;
	adjust_idle(p, seen * 100 / p->policy.capacity);
	return err ? err : 1;
}

/* Every flow goes: as expired if its timeout has passed at @now_ns, else flushed. */
static int flush_one(struct poller *p, const struct flow_key *k, const struct flow_entry *e,
		     uint64_t now_ns)
{
	uint64_t threshold = 0;
	int reason = now_ns ? poller_due(&p->policy, e, now_ns, &threshold) : -1;

	if (reason < 0) {
		reason = EXPIRY_FLUSH;
		threshold = 0;
	}
	return add_due(p, k, e, reason, threshold);
}

int poller_flush(struct poller *p, uint64_t now_ns)
{
	int64_t seen = 1, closed = 1;

	/*
	 * Entries busy during one pass (a packet still inside) go in the next;
	 * a pass that closed all it saw needs no other.
	 */
	for (int pass = 0; pass < 16 && seen > 0 && closed > 0; pass++) {
		uint64_t before = closed_total(p);
		int err;

		seen = scan_entries(p, flush_one, now_ns);
		if (seen < 0)
			return seen;
		err = close_due(p);
		if (err)
			return err;
		closed = closed_total(p) - before;
		if (closed == seen)
			seen = 0;
	}
	if (seen > 0)
		pr_warn("%lld flows could not be flushed (entries kept busy)\n", (long long)seen);
	p->st.active_flows = 0;
	return 0;
}
