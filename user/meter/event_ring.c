// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <linux/bpf.h>

#include "meter/event_ring.h"
#include "common/log.h"

/*
 * A ring record's header (linux/bpf.h): its length with the BUSY and
 * DISCARD bits, then a page offset; BPF_RINGBUF_HDR_SZ bytes.
 */

int event_ring_open(struct event_ring *r, int map_fd, bool hold, event_ring_fn fn, void *ctx)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);
	struct epoll_event ev = { .events = EPOLLIN };
	void *p;
	int err;

	memset(r, 0, sizeof(*r));
	r->epoll_fd = -1;
	r->map_fd = map_fd;
	r->hold = hold;
	r->fn = fn;
	r->ctx = ctx;
	r->page = sysconf(_SC_PAGESIZE);
	r->mapped = true;
	if (bpf_obj_get_info_by_fd(map_fd, &info, &len))
		goto fail;
	r->mask = info.max_entries - 1;
	p = mmap(NULL, r->page, PROT_READ | PROT_WRITE, MAP_SHARED, map_fd, 0);
	if (p == MAP_FAILED)
		goto fail;
	r->consumer_pos = p;
	/* The producer page, then the data twice over. */
	p = mmap(NULL, r->page + 2 * (size_t)info.max_entries, PROT_READ, MAP_SHARED, map_fd,
		 r->page);
	if (p == MAP_FAILED)
		goto fail;
	r->producer_pos = p;
	r->data = (const uint8_t *)p + r->page;
	r->read_pos = __atomic_load_n(r->consumer_pos, __ATOMIC_ACQUIRE);
	r->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	if (r->epoll_fd < 0 || epoll_ctl(r->epoll_fd, EPOLL_CTL_ADD, map_fd, &ev))
		goto fail;
	return 0;
fail:
	err = -errno;
	pr_warn("Couldn't open the export ring buffer: %s\n", strerror(-err));
	event_ring_close(r);
	return err;
}

int event_ring_open_mem(struct event_ring *r, unsigned long *consumer_pos,
			const unsigned long *producer_pos, const uint8_t *data, size_t size,
			bool hold, event_ring_fn fn, void *ctx)
{
	memset(r, 0, sizeof(*r));
	r->epoll_fd = -1;
	r->map_fd = -1;
	r->hold = hold;
	r->fn = fn;
	r->ctx = ctx;
	r->mask = size - 1;
	r->consumer_pos = consumer_pos;
	r->producer_pos = producer_pos;
	r->data = data;
	r->read_pos = __atomic_load_n(r->consumer_pos, __ATOMIC_ACQUIRE);
	return 0;
}

int event_ring_consume(struct event_ring *r)
{
	int n = 0;

	for (;;) {
		unsigned long prod = __atomic_load_n(r->producer_pos, __ATOMIC_ACQUIRE), next;
		const uint8_t *rec;
		uint32_t len;
		int err;

		if (r->read_pos >= prod)
			break;
		rec = r->data + (r->read_pos & r->mask);
		len = __atomic_load_n((const uint32_t *)rec, __ATOMIC_ACQUIRE);
		if (len & BPF_RINGBUF_BUSY_BIT)
			break; /* reserved, not yet submitted: later records wait for it */
		next = r->read_pos +
		       ((BPF_RINGBUF_HDR_SZ + (len & ~BPF_RINGBUF_DISCARD_BIT) + 7) & ~7UL);
		err = 0;
		if (!(len & BPF_RINGBUF_DISCARD_BIT)) {
			err = r->fn(r->ctx, (void *)(rec + BPF_RINGBUF_HDR_SZ), len);
			n++;
		}
		r->read_pos = next;
		if (!r->hold)
			event_ring_commit(r);
		if (err)
			return err < 0 ? err : n;
	}
	return n;
}

unsigned long event_ring_produced(const struct event_ring *r)
{
	return __atomic_load_n(r->producer_pos, __ATOMIC_ACQUIRE);
}

int event_ring_wait(struct event_ring *r, int timeout_ms)
{
	struct epoll_event ev;

	/*
	 * Held records keep the ring readable, so epoll would return at once:
	 * sleep instead; the batch that holds them is sent on its timer.
	 */
	if (event_ring_holding(r) || r->epoll_fd < 0) {
		if (poll(NULL, 0, timeout_ms) < 0 && errno != EINTR)
			return -errno;
	} else if (epoll_wait(r->epoll_fd, &ev, 1, timeout_ms) < 0) {
		if (errno != EINTR)
			return -errno;
	}
	return 0;
}

void event_ring_commit(struct event_ring *r)
{
	if (!r->consumer_pos)
		return;
	__atomic_store_n(r->consumer_pos, r->read_pos, __ATOMIC_RELEASE);
}

bool event_ring_holding(const struct event_ring *r)
{
	return r->consumer_pos && __atomic_load_n(r->consumer_pos, __ATOMIC_RELAXED) != r->read_pos;
}

void event_ring_close(struct event_ring *r)
{
	if (r->epoll_fd >= 0)
		close(r->epoll_fd);
	if (r->mapped && r->consumer_pos)
		munmap(r->consumer_pos, r->page);
	if (r->mapped && r->producer_pos)
		munmap((void *)r->producer_pos, r->page + 2 * (r->mask + 1));
	memset(r, 0, sizeof(*r));
	r->epoll_fd = -1;
}
