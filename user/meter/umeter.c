// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The user-space meter (meter/umeter.h): meter.bpf.c itself, included here
 * and compiled with NFX_USERSPACE, then the maps and helpers it runs on.
 * Built with -fvisibility=hidden and its hidden symbols made local
 * (Makefile): the program's global names (flows, counters, ...) stay in
 * this object; umeter.h's functions are all it exports.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "meter.bpf.c"

#pragma GCC visibility push(default)
#include "meter/meter.h"
#include "meter/umeter.h"
#include "common/bigarray.h"
#pragma GCC visibility pop

/*
 * A ring record's header (linux/bpf.h): its length with the BUSY and
 * DISCARD bits, then a page offset; BPF_RINGBUF_HDR_SZ bytes.
 */

/*
 * One element of the flow cache: chained in its bucket, then the value,
 * 8-byte aligned as the BPF map's values are: struct flow_entry and its
 * optional parts, whose key is the map's (flow_init() writes it, and
 * uhash_update() makes sure). Elements are UHASH_ALIGN apart, so the
 * header, the entry's key, state and flags share the first cache line,
 * and a packet touches one line more, its direction's counters: two in
 * all, where a header with a key of its own made it four.
 */
struct uelem {
	__u32 next; /* the bucket's next element: index + 1, 0 ends the chain */
	__u32 tag;  /* UELEM_USED, UELEM_REF and the hash's low 30 bits */
} __attribute__((aligned(8)));

#define UELEM_USED (1U << 31)
#define UELEM_REF (1U << 30) /* looked up since the clock hand last passed: a second chance */
#define UELEM_HASH (UELEM_REF - 1)
#define UHASH_ALIGN 64
_Static_assert(sizeof(struct uelem) + offsetof(struct flow_entry, flags) + 4 <= UHASH_ALIGN,
	       "header, key, state and flags in one cache line");
/* Of an element, the bytes fetched ahead: its header and struct flow_entry. */
#define FETCH_ELEM_BYTES (sizeof(struct uelem) + sizeof(struct flow_entry))

/*
 * Buckets to start with; doubled as entries come, to two per entry: a
 * lookup then finds its flow first in its chain more often (5 % faster over
 * 50 K flows than at one per entry).
 */
#define UHASH_MIN_BUCKETS 1024

/*
 * A hash map of at most @max entries. When it may fill (lru), an insert
 * into a full map evicts an entry not looked up lately (the clock
 * algorithm: the kernel's LRU hash is approximate too); otherwise a full
 * map refuses the insert, as a kernel hash map does (-E2BIG).
 */
struct uhash {
	uint8_t *elems;
	size_t stride;
	size_t value_size;
	size_t bytes;
	__u32 *buckets;
	__u32 mask;
	__u32 max_mask; /* the most buckets it grows to, less one */
	__u32 max;
	__u32 count;
	__u32 next_unused; /* elements from here on were never used */
	__u32 free_head;   /* freed elements: index + 1, chained through next */
	__u32 hand;	   /* the clock's */
	bool lru;
};

/* A ring in the BPF ring buffer's layout, and the memory it lives in. */
struct uring {
	struct umeter_ring r;
	void *mem;
	size_t bytes;
};

static struct {
	struct uhash flows;
	struct nfx_counters counters[HOOK_COUNT];
	struct scratch scratch[HOOK_COUNT];
	struct replay_slot *slots;
	struct collector_state state;
	__u64 flows_live;
	struct uring events; /* flow_events */
	struct uring dpi;    /* dpi_events (--dpi) */
	struct dpi_event dpi_ev[HOOK_COUNT]; /* dpi_scratch */
	uint8_t *payload; /* --dpi: REPLAY_PAYLOAD bytes of each slot's frame */
	size_t payload_bytes, slots_bytes; /* mapped (lazy_alloc()) */
	__u32 rand;
	__u64 seed[7]; /* key_hash()'s */
} um;

static struct uelem *elem_at(const struct uhash *h, __u32 i)
{
	return (struct uelem *)(h->elems + (size_t)i * h->stride);
}

static void *elem_value(struct uelem *e)
{
	return e + 1;
}

static struct flow_key *elem_key(struct uelem *e)
{
	return &((struct flow_entry *)elem_value(e))->key;
}

/* Product of @a and @b, its two halves folded. */
static inline __u64 fold_mul(__u64 a, __u64 b)
{
	unsigned __int128 r = (unsigned __int128)a * b;

	return (__u64)r ^ (__u64)(r >> 64);
}

/*
 * The cache's own hash (flow_key_hash() is for what must agree with the
 * kernel: --hash slices, flow sampling): three independent multiplies, not
 * a chain of eleven steps, which was a tenth of a run over 50 K flows. The
 * seed is random per load (um.seed), so crafted keys cannot aim for one
 * bucket; nothing exported depends on bucket order.
 */
static __u32 key_hash(const struct flow_key *k)
{
	const uint8_t *b = (const uint8_t *)k;
	const __u64 *s = um.seed;
	__u64 w[5], h;
	__u32 last;

	/* Word by word from the key: one copy through the stack stalled on forwarding. */
	_Static_assert(sizeof(*k) == sizeof(w) + sizeof(last), "the key in 44 bytes");
	for (int i = 0; i < 5; i++)
		memcpy(&w[i], b + 8 * i, 8);
	memcpy(&last, b + sizeof(w), sizeof(last));
	h = fold_mul(w[0] ^ s[0], w[1] ^ s[1]) ^ fold_mul(w[2] ^ s[2], w[3] ^ s[3]) ^
	    fold_mul(w[4] ^ s[4], last ^ s[5]);
	h = fold_mul(h ^ s[6], 0x9e3779b97f4a7c15ULL);
	return (__u32)(h ^ (h >> 32));
}

static struct uelem *uhash_find(struct uhash *h, const struct flow_key *k, __u32 hash)
{
	for (__u32 i = h->buckets[hash & h->mask]; i;) {
		struct uelem *e = elem_at(h, i - 1);

		if ((e->tag & UELEM_HASH) == (hash & UELEM_HASH) &&
		    !memcmp(elem_key(e), k, sizeof(*k)))
			return e;
		i = e->next;
	}
	return NULL;
}

static void *uhash_lookup(struct uhash *h, const struct flow_key *k)
{
	struct uelem *e = uhash_find(h, k, key_hash(k));

	if (!e)
		return NULL;
	e->tag |= UELEM_REF;
	return elem_value(e);
}

/* Unlinks element @idx from its bucket and frees it. */
static void uhash_remove(struct uhash *h, __u32 idx)
{
	struct uelem *e = elem_at(h, idx);
	__u32 *link = &h->buckets[e->tag & h->mask];

	while (*link && *link != idx + 1)
		link = &elem_at(h, *link - 1)->next;
	if (*link)
		*link = e->next;
	e->tag = 0;
	e->next = h->free_head;
	h->free_head = idx + 1;
	h->count--;
}

/* The clock: the first element not looked up since the hand last passed it goes. */
static void uhash_evict(struct uhash *h)
{
	for (;;) {
		struct uelem *e = elem_at(h, h->hand);
		__u32 i = h->hand;

		h->hand = h->hand + 1 < h->next_unused ? h->hand + 1 : 0;
		if (!(e->tag & UELEM_USED))
			continue;
		if (e->tag & UELEM_REF) {
			e->tag &= ~UELEM_REF;
			continue;
		}
		uhash_remove(h, i);
		return;
	}
}

/*
 * Twice the buckets, every entry linked again: the bucket array grows with
 * the flows, not with the capture's frames (a sparse array sized for them
 * would cost a cache miss per lookup).
 */
static void uhash_grow(struct uhash *h)
{
	__u32 nb = 2 * (h->mask + 1), *b = calloc(nb, sizeof(*b));

	if (!b)
		return; /* longer chains, still correct */
	for (__u32 i = 0; i < h->next_unused; i++) {
		struct uelem *e = elem_at(h, i);

		if (!(e->tag & UELEM_USED))
			continue;
		e->next = b[e->tag & (nb - 1)];
		b[e->tag & (nb - 1)] = i + 1;
	}
	free(h->buckets);
	h->buckets = b;
	h->mask = nb - 1;
}

static long uhash_update(struct uhash *h, const struct flow_key *k, const void *value,
			 __u64 flags)
{
	__u32 hash = key_hash(k), idx;
	struct uelem *e = uhash_find(h, k, hash);

	if (e && flags == BPF_NOEXIST)
		return -EEXIST;
	if (!e && flags == BPF_EXIST)
		return -ENOENT;
	if (!e) {
		if (h->count == h->max && !h->lru)
			return -E2BIG;
		if (h->count == h->max)
			uhash_evict(h);
		else if (h->count > h->mask / 2 && h->mask < h->max_mask)
			uhash_grow(h);
		if (h->free_head) {
			idx = h->free_head - 1;
			h->free_head = elem_at(h, idx)->next;
		} else {
			idx = h->next_unused++;
		}
		e = elem_at(h, idx);
		e->tag = (hash & UELEM_HASH) | UELEM_USED;
		e->next = h->buckets[hash & h->mask];
		h->buckets[hash & h->mask] = idx + 1;
		h->count++;
	}
	e->tag |= UELEM_REF;
	memcpy(elem_value(e), value, h->value_size);
	*elem_key(e) = *k;
	return 0;
}

static long uhash_delete(struct uhash *h, const struct flow_key *k)
{
	struct uelem *e = uhash_find(h, k, key_hash(k));

	if (!e)
		return -ENOENT;
	uhash_remove(h, ((uint8_t *)e - h->elems) / h->stride);
	return 0;
}

/*
 * Memory mapped as it is touched (common/bigarray.h): a cache sized for a
 * large capture costs what it holds. In huge pages where the kernel has
 * them: flows are looked up in no order, and with small pages nearly every
 * lookup of a large cache missed the TLB, and every 4 KiB touched first
 * took a page fault (11 us each on the benchmarks' virtual machine; even
 * the replay slots, 300 KB, now take one). *@bytes gets the length mapped.
 */
static void *lazy_alloc(size_t need, size_t *bytes)
{
	*bytes = 0;
	return bigarray_grow(NULL, bytes, need);
}

static int uhash_init(struct uhash *h, __u32 max, size_t value_size, bool lru)
{
	__u32 nb = UHASH_MIN_BUCKETS;

	while (nb / 2 < max && nb <= UELEM_HASH) /* a bucket's index is in the hash kept */
		nb <<= 1;
	memset(h, 0, sizeof(*h));
	h->max_mask = nb - 1;
	nb = UHASH_MIN_BUCKETS;
	h->value_size = value_size;
	h->stride = (sizeof(struct uelem) + value_size + UHASH_ALIGN - 1) & ~(size_t)(UHASH_ALIGN - 1);
	h->max = max;
	h->lru = lru;
	h->mask = nb - 1;
	h->elems = lazy_alloc((size_t)max * h->stride, &h->bytes);
	h->buckets = calloc(nb, sizeof(*h->buckets));
	return h->elems && h->buckets ? 0 : -ENOMEM;
}

static void uhash_free(struct uhash *h)
{
	bigarray_free(h->elems, h->bytes);
	free(h->buckets);
	memset(h, 0, sizeof(*h));
}

/* The helpers usermode.h declares, over the maps above. */
static inline void *bpf_map_lookup_elem(void *map, const void *key)
{
	__u32 i;

	if (map == (void *)&flows)
		return uhash_lookup(&um.flows, key);
	i = *(const __u32 *)key;
	if (map == (void *)&counters)
		return i < HOOK_COUNT ? &um.counters[i] : NULL;
	if (map == (void *)&scratch_map)
		return i < HOOK_COUNT ? &um.scratch[i] : NULL;
	if (map == (void *)&replay_slots)
		return i < REPLAY_SLOTS ? &um.slots[i] : NULL;
	if (map == (void *)&collector_state)
		return i < 1 ? &um.state : NULL;
	if (map == (void *)&dpi_scratch)
		return i < HOOK_COUNT ? &um.dpi_ev[i] : NULL;
	if (map == (void *)&flows_live)
		return i < 1 ? &um.flows_live : NULL;
	return NULL;
}

static inline long bpf_map_update_elem(void *map, const void *key, const void *value,
				       __u64 flags)
{
	if (map == (void *)&flows)
		return uhash_update(&um.flows, key, value, flags);
	return -EINVAL; /* the programs update no other map */
}

static inline long bpf_map_delete_elem(void *map, const void *key)
{
	if (map == (void *)&flows)
		return uhash_delete(&um.flows, key);
	return -EINVAL;
}

/* Reserves a record in a ring, as the kernel does: busy until submitted. */
static inline void *bpf_ringbuf_reserve(void *ringbuf, __u64 size, __u64 flags)
{
	struct umeter_ring *r = ringbuf == (void *)&dpi_events ? &um.dpi.r : &um.events.r;
	unsigned long cons = __atomic_load_n(r->consumer_pos, __ATOMIC_ACQUIRE);
	unsigned long prod = *r->producer_pos, total = (BPF_RINGBUF_HDR_SZ + size + 7) & ~7UL;
	__u32 *hdr;

	if (prod + total - cons > r->size)
		return NULL;
	hdr = (__u32 *)(r->data + (prod & (r->size - 1)));
	hdr[0] = size | BPF_RINGBUF_BUSY_BIT;
	hdr[1] = 0;
	__atomic_store_n(r->producer_pos, prod + total, __ATOMIC_RELEASE);
	return hdr + 2;
}

static inline void bpf_ringbuf_submit(void *data, __u64 flags)
{
	__u32 *hdr = (__u32 *)data - 2;

	__atomic_store_n(hdr, *hdr & ~BPF_RINGBUF_BUSY_BIT, __ATOMIC_RELEASE);
}

static inline void bpf_ringbuf_discard(void *data, __u64 flags)
{
	__u32 *hdr = (__u32 *)data - 2;

	__atomic_store_n(hdr, (*hdr & ~BPF_RINGBUF_BUSY_BIT) | BPF_RINGBUF_DISCARD_BIT,
			 __ATOMIC_RELEASE);
}

/* Wakeups are for a reader in another process: this one drains the ring itself. */
static inline long bpf_ringbuf_output(void *ringbuf, void *data, __u64 size, __u64 flags)
{
	void *rec = bpf_ringbuf_reserve(ringbuf, size, flags);

	if (!rec)
		return -EAGAIN;
	memcpy(rec, data, size);
	bpf_ringbuf_submit(rec, flags);
	return 0;
}

static inline long replay_load_bytes(__u32 slot, __u32 off, void *to, __u32 len)
{
	if (!um.payload || slot >= REPLAY_SLOTS || off > REPLAY_PAYLOAD ||
	    len > REPLAY_PAYLOAD - off)
		return -EFAULT;
	memcpy(to, um.payload + (size_t)slot * REPLAY_PAYLOAD + off, len);
	return 0;
}

/* xorshift32: --sample's random mode and entry generations; not for secrets. */
static inline __u32 bpf_get_prandom_u32(void)
{
	__u32 x = um.rand;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	um.rand = x;
	return x;
}

static int ring_init(struct uring *u, size_t size)
{
	size_t page = sysconf(_SC_PAGESIZE);

	u->mem = lazy_alloc(2 * page + 2 * size, &u->bytes);
	if (!u->mem)
		return -ENOMEM;
	u->r.consumer_pos = u->mem;
	u->r.producer_pos = (void *)((uint8_t *)u->mem + page);
	u->r.data = (uint8_t *)u->mem + 2 * page;
	u->r.size = size;
	return 0;
}

static void ring_free(struct uring *u)
{
	bigarray_free(u->mem, u->bytes);
	memset(u, 0, sizeof(*u));
}

/* --dpi: its ring, and room beside the slots for the frames' payload. */
static int dpi_init(const struct meter_opts *o)
{
	int err = ring_init(&um.dpi, o->dpi_ring_bytes);

	if (err)
		return err;
	um.payload = lazy_alloc((size_t)REPLAY_SLOTS * REPLAY_PAYLOAD, &um.payload_bytes);
	return um.payload ? 0 : -ENOMEM;
}

/* The settings the BPF build takes in .rodata (meter/rodata.h lists the same). */
static void set_config(const struct meter_opts *o)
{
	cfg_idle_timeout_ms = o->idle_timeout_ms;
	cfg_active_timeout_ms = o->active_timeout_ms;
	cfg_natural_expiry = o->natural_expiry;
	cfg_expiry_notes = o->natural_expiry && o->wheel;
	cfg_accounting = o->accounting;
	cfg_decode_tunnels = o->decode_tunnels;
	cfg_single_writer = o->single_writer;
	cfg_statistical = o->statistical;
	cfg_sample_n = o->sample_n;
	cfg_sample_systematic = o->sample_systematic;
	cfg_snaplen = o->snaplen;
	/* The verdict comes with each frame from libpcap (PREFILTER_*): no stub to splice. */
	cfg_pcap_filter = o->filter != NULL;
	cfg_hash_n = o->hash_n;
	cfg_hash_k = o->hash_k;
	cfg_splt = o->splt;
	cfg_dpi = o->dpi;
	/* At the limit the clock never has to evict: overflow records instead. */
	cfg_flows_limit = o->overflow_export ? o->max_flows : 0;
}

/* key_hash()'s seed: from the kernel's random source, else from the clock. */
static void seed_hash(void)
{
	__u64 x = (__u64)time(NULL) * 0x9e3779b97f4a7c15ULL + (__u64)getpid();

	if (getrandom(um.seed, sizeof(um.seed), GRND_NONBLOCK) == sizeof(um.seed))
		return;
	for (size_t i = 0; i < sizeof(um.seed) / sizeof(um.seed[0]); i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		um.seed[i] = x;
	}
}

/*
 * Set once um has been used: a load after it zeroes it. Not before: um is
 * 67 KiB of .bss, and zeroing it touched pages a run never uses, each a
 * page fault, at load and again at exit.
 */
static bool um_used;

int umeter_load(const struct meter_opts *o)
{
	int err;

	umeter_destroy();
	if (um_used)
		memset(&um, 0, sizeof(um));
	um_used = true;
	set_config(o);
	um.rand = (__u32)time(NULL) * 2654435761U | 1;
	seed_hash();
	err = uhash_init(&um.flows, o->max_flows, flow_entry_size(o->statistical, o->splt),
			 !o->grow_on_demand);
	if (!err)
		err = ring_init(&um.events, o->ring_bytes);
	if (!err && o->dpi)
		err = dpi_init(o);
	if (!err) {
		um.slots = lazy_alloc((size_t)REPLAY_SLOTS * sizeof(*um.slots), &um.slots_bytes);
		if (!um.slots)
			err = -ENOMEM;
	}
	if (err)
		umeter_destroy();
	return err;
}

void umeter_destroy(void)
{
	uhash_free(&um.flows);
	ring_free(&um.events);
	ring_free(&um.dpi);
	bigarray_free(um.payload, um.payload_bytes);
	bigarray_free(um.slots, um.slots_bytes);
	um.payload = NULL;
	um.slots = NULL;
	replay_clock = 0;
	replay_first = replay_count = replay_done = 0;
	close_queue_len = 0;
	dpi_done_len = 0;
}

/*
 * The hash of the flow of the frame in @sl, found by meter_frame()'s own
 * parsers on its outer headers; false when they find none (too short, not
 * IP, a fragment...). Tunnels are not looked into: their frames are then
 * only not fetched ahead.
 */
static bool slot_flow_hash(struct replay_slot *sl, __u32 *hash)
{
	struct cursor c = { .caplen = sl->f.caplen };
	struct pkt p;
	int proto;

	if (c.caplen < MIN_FRAME_LEN)
		return false;
	c.len = c.caplen < read_window() ? c.caplen : read_window();
	__builtin_memset(&p, 0, sizeof(p));
	proto = parse_ethernet(&sl->frame, &c, &p);
	if (proto < 0 || parse_network(&sl->frame, &c, &p, proto, sl->f.frame_len) < 0)
		return false;
	flow_key_order(&p);
	*hash = key_hash(&p.key);
	return true;
}

/*
 * Frames whose flows are fetched together: enough lookups in flight to hide
 * memory's latency, few enough that what is fetched is still in the CPU's
 * caches when the group is metered.
 */
#define FETCH_GROUP 16
/*
 * Below this much of the cache in use, its lines stay in the CPU's caches:
 * fetching ahead would parse every frame twice for nothing. On the
 * benchmarks' machine (2 M frames, bench/blast.c): 50 K flows (9.6 MB)
 * gain nothing and lose nothing, 150 K flows gain 10 to 19 %, 500 K 16 %.
 */
#define PREFETCH_MIN_BYTES (4U << 20)

struct fetch_group {
	uint32_t first, n;
	__u32 hash[FETCH_GROUP];
	bool have[FETCH_GROUP];
};

/* First stage: the group's flow hashes, and their buckets fetched. */
static void fetch_buckets(struct fetch_group *g, uint32_t first, uint32_t n)
{
	const struct uhash *h = &um.flows;

	g->first = first;
	g->n = n;
	for (uint32_t j = 0; j < n; j++) {
		g->have[j] = slot_flow_hash(&um.slots[first + j], &g->hash[j]);
		if (g->have[j])
			__builtin_prefetch(&h->buckets[g->hash[j] & h->mask]);
	}
}

/* Second stage: the elements the buckets lead to, each line a packet touches. */
static void fetch_elems(const struct fetch_group *g)
{
	const struct uhash *h = &um.flows;

	for (uint32_t j = 0; j < g->n; j++) {
		__u32 e = g->have[j] ? h->buckets[g->hash[j] & h->mask] : 0;
		const uint8_t *p = e ? (const uint8_t *)elem_at(h, e - 1) : NULL;

		for (size_t off = 0; p && off < h->stride && off < FETCH_ELEM_BYTES; off += 64)
			__builtin_prefetch(p + off);
	}
}

static uint32_t meter_group(uint32_t first, uint32_t count)
{
	replay_first = first;
	replay_count = count;
	nfx_replay(NULL);
	return replay_done;
}

/*
 * A batch a group at a time, the cache lines each group's lookups need
 * fetched ahead: while group k is metered, the elements of group k + 1 and
 * the buckets of group k + 2 are on their way. The lookups of a cache
 * larger than the CPU's caches then wait on memory together, not one after
 * the other (uhash_find stalled on the bucket and on the element for a
 * third of a run of 2 M frames over 50 K flows; fetching a whole batch
 * before metering it lost much of it to eviction). Only hints: nothing is
 * written, and an insert since a bucket was read costs one miss.
 */
uint32_t umeter_run_replay(uint32_t first, uint32_t count)
{
	struct fetch_group g[3];
	uint32_t groups = (count + FETCH_GROUP - 1) / FETCH_GROUP, done = 0;

	if ((size_t)um.flows.next_unused * um.flows.stride < PREFETCH_MIN_BYTES)
		return meter_group(first, count);
	for (uint32_t k = 0; k < groups + 2; k++) {
		uint32_t at = k * FETCH_GROUP;

		if (k < groups)
			fetch_buckets(&g[k % 3], first + at,
				      count - at < FETCH_GROUP ? count - at : FETCH_GROUP);
		if (k >= 1 && k - 1 < groups)
			fetch_elems(&g[(k - 1) % 3]);
		if (k >= 2) {
			const struct fetch_group *m = &g[(k - 2) % 3];
			uint32_t n = meter_group(m->first, m->n);

			done += n;
			if (n < m->n)
				break;
		}
	}
	replay_done = done;
	return done;
}

void umeter_run_close(uint32_t n)
{
	close_queue_len = n;
	nfx_close(NULL);
}

struct close_req *umeter_close_queue(void)
{
	return close_queue;
}

void umeter_run_dpi_done(uint32_t n)
{
	dpi_done_len = n;
	nfx_dpi_done(NULL);
}

struct dpi_done_req *umeter_dpi_done_queue(void)
{
	return dpi_done_queue;
}

struct replay_slot *umeter_replay_slots(void)
{
	return um.slots;
}

uint8_t *umeter_replay_payload(void)
{
	return um.payload;
}

void umeter_ring(struct umeter_ring *r)
{
	*r = um.events.r;
}

void umeter_dpi_ring(struct umeter_ring *r)
{
	*r = um.dpi.r;
}

uint32_t umeter_capacity(void)
{
	return um.flows.max;
}

uint64_t umeter_replay_clock(void)
{
	return replay_clock;
}

void umeter_counters(uint32_t hook, uint64_t out[NFX_COUNTER_MAX])
{
	if (hook >= HOOK_COUNT)
		return;
	for (int i = 0; i < NFX_COUNTER_MAX; i++)
		out[i] += um.counters[hook].c[i];
}

int umeter_flows_batch(uint64_t *token, struct flow_key *keys, void *vals, uint32_t *count)
{
	struct uhash *h = &um.flows;
	size_t vsize = h->value_size;
	uint32_t n = 0;
	uint64_t i;

	for (i = *token; i < h->next_unused && n < *count; i++) {
		struct uelem *e = elem_at(h, i);

		if (!(e->tag & UELEM_USED))
			continue;
		keys[n] = *elem_key(e);
		memcpy((uint8_t *)vals + n * vsize, elem_value(e), vsize);
		n++;
	}
	*token = i;
	*count = n;
	return i >= h->next_unused ? -ENOENT : 0;
}
