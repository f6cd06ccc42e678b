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
	p->keys = calloc(p->buf_n, sizeof(*p->keys));
	p->vals = calloc(p->buf_n, m->entry_size);
	if (!p->keys || !p->vals) {
		poller_free(p);
		return -ENOMEM;
	}
	return 0;
}

void poller_free(struct poller *p)
{
	free(p->keys);
	free(p->vals);
	free(p->due);
	free(p->wheel);
	p->keys = NULL;
	p->vals = NULL;
	p->due = NULL;
	p->wheel = NULL;
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

#define WHEEL_NEVER UINT64_MAX

static uint64_t min_u64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

/* The soonest meter time (ms) at which poller_due() may close the flow, with the idle timeout in use. */
static uint64_t due_at_ms(const struct poller *p, uint64_t first_ns, uint64_t last_ns,
			  uint32_t flags)
{
	uint64_t at = WHEEL_NEVER;

	if (p->st.idle_ms)
		at = min_u64(at, ms_of(last_ns) + p->st.idle_ms);
	if (p->policy.active_ms)
		at = min_u64(at, ms_of(first_ns) + p->policy.active_ms);
	if (p->policy.natural && FLOW_F_ENDED(flags))
		at = min_u64(at, ms_of(last_ns) + p->policy.linger_ms);
	return at;
}

/*
 * How often a pass must run: a flow the last pass did not see was created
 * after it started, so no timeout closes it sooner than this after that.
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

static void sift_up(struct wheel_slot *h, size_t i)
{
	struct wheel_slot s = h[i];

	while (i && h[(i - 1) / 2].due_ms > s.due_ms) {
		h[i] = h[(i - 1) / 2];
		i = (i - 1) / 2;
	}
	h[i] = s;
}

static void sift_down(struct wheel_slot *h, size_t n, size_t i)
{
	struct wheel_slot s = h[i];

	for (;;) {
		size_t c = 2 * i + 1;

		if (c >= n)
			break;
		if (c + 1 < n && h[c + 1].due_ms < h[c].due_ms)
			c++;
		if (h[c].due_ms >= s.due_ms)
			break;
		h[i] = h[c];
		i = c;
	}
	h[i] = s;
}

/* Holds the flow of @key until @due_ms (WHEEL_NEVER: nothing to hold it for). */
static int wheel_add(struct poller *p, const struct flow_key *key, uint64_t due_ms)
{
	if (due_ms == WHEEL_NEVER)
		return 0;
	if (p->n_wheel == p->cap_wheel) {
		size_t cap = p->cap_wheel ? p->cap_wheel * 2 : 1024;
		struct wheel_slot *w = realloc(p->wheel, cap * sizeof(*w));

		if (!w) {
			p->wheel_stale = true; /* a pass finds what could not be held */
			return -ENOMEM;
		}
		p->wheel = w;
		p->cap_wheel = cap;
	}
	p->wheel[p->n_wheel].due_ms = due_ms;
	p->wheel[p->n_wheel].key = *key;
	if (p->wheel_heap)
		sift_up(p->wheel, p->n_wheel);
	p->n_wheel++;
	p->st.wheel_size = p->n_wheel;
	return 0;
}

static struct wheel_slot wheel_pop(struct poller *p)
{
	struct wheel_slot s = p->wheel[0];

	p->wheel[0] = p->wheel[--p->n_wheel];
	if (p->n_wheel)
		sift_down(p->wheel, p->n_wheel, 0);
	p->st.wheel_size = p->n_wheel;
	return s;
}

/* A pass starts: it holds anew every flow it finds. */
static void wheel_reset(struct poller *p, uint64_t now_ns)
{
	p->n_wheel = 0;
	p->wheel_heap = false;
	p->wheel_stale = false;
	p->pass_start_ms = ms_of(now_ns);
}

/*
 * A pass ended at @now_ns: order what it found, and start the next one
 * early enough that it has read the cache, as long as this one took, a
 * poll before a flow it did not see can come due.
 */
static void wheel_ready(struct poller *p, uint64_t now_ns)
{
	uint64_t per = pass_period_ms(p), took = ms_of(now_ns) - p->pass_start_ms;
	uint64_t margin = took + p->policy.poll_ms;

	for (size_t i = p->n_wheel / 2; i-- > 0;)
		sift_down(p->wheel, p->n_wheel, i);
	p->wheel_heap = true;
	if (per == WHEEL_NEVER)
		p->next_pass_ms = WHEEL_NEVER;
	else
		p->next_pass_ms = per > margin ? p->pass_start_ms + per - margin : 0;
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

	return !p->policy.wheel || !p->wheel_heap || p->wheel_stale || lost ||
	       ms_of(now_ns) >= p->next_pass_ms;
}

void poller_note(struct poller *p, const struct flow_key *key, uint64_t last_seen_ns)
{
	if (!p->policy.wheel)
		return;
	p->st.notes++;
	wheel_add(p, key, ms_of(last_seen_ns) + p->policy.linger_ms);
}

static int add_due(struct poller *p, const struct flow_key *k, const struct flow_entry *e,
		   int reason, uint64_t threshold);
static int due_now(const struct poller *p, const struct flow_entry *e, uint64_t now_ns,
		   uint64_t *threshold_ns);
static int close_due(struct poller *p);

/* What a peek found: due (closed with the others), held again, or gone. */
static int wheel_judge(struct poller *p, const struct close_req *r, uint64_t now_ns)
{
	struct flow_entry e;
	uint64_t threshold = 0;
	int reason;

	if (r->status)
		return 0; /* -ENOENT: closed or evicted since */
	if (r->state != FLOW_LIVE) /* being created or closed: look again next time */
		return wheel_add(p, &r->key, ms_of(now_ns) + 1);
	memset(&e, 0, sizeof(e));
	e.flags = r->flags;
	e.dir[0].first_seen_ns = r->first_seen_ns;
	e.dir[0].last_seen_ns = r->last_seen_ns;
	reason = due_now(p, &e, now_ns, &threshold);
	if (reason >= 0)
		return add_due(p, &r->key, &e, reason, threshold);
	return wheel_add(p, &r->key, due_at_ms(p, r->first_seen_ns, r->last_seen_ns, r->flags));
}

/*
 * Between passes: looks at the flows whose time has come (CLOSE_PEEK, a
 * batch per nfx_close run) and closes the due ones as a pass would, in
 * creation order; the others wait for their new time.
 */
static int wheel_tick(struct poller *p, uint64_t now_ns)
{
	struct close_req *q = meter_close_queue(p->m);
	uint64_t now = ms_of(now_ns);
	int err = 0, cerr;

	while (!err && p->n_wheel && p->wheel[0].due_ms <= now) {
		uint32_t n = 0;

		while (n < CLOSE_BATCH && p->n_wheel && p->wheel[0].due_ms <= now) {
			struct wheel_slot s = wheel_pop(p);

			memset(&q[n], 0, sizeof(q[n]));
			q[n].key = s.key;
			q[n].reason = CLOSE_PEEK;
			n++;
		}
		err = meter_run_close(p->m, n);
		if (err)
			break;
		p->st.wheel_checks += n;
		for (uint32_t i = 0; i < n && !err; i++)
			err = wheel_judge(p, &q[i], now_ns);
	}
	if (err) /* flows popped and not held again: a pass finds them */
		p->wheel_stale = true;
	p->qlen = 0;
	cerr = close_due(p);
	return err ? err : cerr;
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
		}
		p->qlen = keep;
		p->drain(p->drain_ctx);
	}
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

	if (p->n_due == p->cap_due) {
		size_t cap = p->cap_due ? p->cap_due * 2 : 1024;
		struct due *nd = realloc(p->due, cap * sizeof(*nd));

		if (!nd)
			return -ENOMEM;
		p->due = nd;
		p->cap_due = cap;
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

	if (flow_ctl_state(e->ctl) != FLOW_LIVE) /* being created or closed */
		return p->policy.wheel ? wheel_add(p, k, ms_of(now_ns) + 1) : 0;
	reason = due_now(p, e, now_ns, &threshold);
	if (reason < 0)
		return p->policy.wheel ? wheel_add(p, k, due_at_ms(p, flow_first_seen(e),
								   flow_last_seen(e), e->flags)) : 0;
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
		qsort(p->due + t, cand, sizeof(*p->due), due_by_last_seen);
	}
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
	if (!p->cursor) {
		if (!pass_needed(p, now_ns))
			return wheel_tick(p, now_ns);
		wheel_reset(p, now_ns);
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
	p->st.scans++;
	p->pass_done = true;
	p->st.active_flows = p->pass_seen;
	p->st.last_scan_us = p->pass_us;
	p->pass_seen = p->pass_us = 0;
	plan_slices(p);
	if (p->policy.capacity)
		adjust_idle(p, p->st.active_flows * 100 / p->policy.capacity);
	if (p->policy.wheel)
		wheel_ready(p, now_ns);
	return err;
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
