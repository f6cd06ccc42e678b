/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Reader of the export ring (a BPF ring buffer) that can hold records back:
 * what it reads stays reserved in the ring until event_ring_commit(). With
 * --persist the collector commits only once a batch has been handed to the
 * exporters, so a collector killed with a batch half built finds the same
 * closed flows in the pinned ring when it starts again. libbpf's reader
 * frees each record as soon as its callback returns, hence this module.
 */
#ifndef NFXDP_METER_EVENT_RING_H
#define NFXDP_METER_EVENT_RING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef int (*event_ring_fn)(void *ctx, void *data, size_t size);

struct event_ring {
	int map_fd;
	int epoll_fd;
	size_t mask;			/* data bytes - 1 */
	size_t page;
	unsigned long *consumer_pos;	/* shared with the kernel, ours to write */
	const unsigned long *producer_pos;
	const uint8_t *data;		/* mapped twice: records may wrap */
	unsigned long read_pos;		/* read, not yet committed */
	bool hold;			/* commit only when asked */
	bool mapped;			/* a BPF map's, mapped here: unmapped at close */
	event_ring_fn fn;
	void *ctx;
};

/* @hold: records stay in the ring until event_ring_commit(). */
int event_ring_open(struct event_ring *r, int map_fd, bool hold, event_ring_fn fn, void *ctx);
/*
 * A ring in this process's memory, in the BPF ring buffer's layout (the
 * user-space meter's, meter/umeter.h): records of up to @size bytes start
 * at @data + (position & (size - 1)) and do not wrap.
 */
int event_ring_open_mem(struct event_ring *r, unsigned long *consumer_pos,
			const unsigned long *producer_pos, const uint8_t *data, size_t size,
			bool hold, event_ring_fn fn, void *ctx);
/*
 * Calls fn for every record ready, in order; returns how many, or a
 * negative errno. A callback returning a positive value stops the reading
 * after its record (a negative one too, and is returned).
 */
int event_ring_consume(struct event_ring *r);
/*
 * Where the producer stands now: a reader that must not chase a producer
 * faster than itself reads up to there (read_pos) and comes back later.
 */
unsigned long event_ring_produced(const struct event_ring *r);
/*
 * Waits up to @timeout_ms for records (sleeps while records are held, or
 * for a ring in memory, which only this thread fills); 0 or -errno.
 */
int event_ring_wait(struct event_ring *r, int timeout_ms);
/* Frees the ring space of everything read so far. */
void event_ring_commit(struct event_ring *r);
/* Records read but not committed: read again after a restart. */
bool event_ring_holding(const struct event_ring *r);
void event_ring_close(struct event_ring *r);

#endif /* NFXDP_METER_EVENT_RING_H */
