/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The exporter interface: every sink (ZeroMQ, file, IPFIX, MQTT) behind the
 * same operations, so the collector keeps an array of them and the stats and
 * /metrics report each one alike. A sink is opened by its own constructor
 * (zmq_exporter_new(), ...), which takes that sink's options; after that
 * only these operations are used.
 */
#ifndef NFXDP_EXPORT_EXPORTER_H
#define NFXDP_EXPORT_EXPORTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "flow.pb-c.h"

/*
 * One batch as every sink may want it: the records, and the same packed
 * (NULL when no sink asked for the bytes: see needs_packed).
 */
struct batch_view {
	const Nfxdp__FlowBatch *msg;
	const uint8_t *packed; /* protobuf, nfxdp__flow_batch__pack() of msg */
	size_t len;
};

/* A sink's counters: the same four for every sink, then its own (below). */
struct exporter_stats {
	uint64_t batches_sent;	  /* handed on: published, written, acknowledged */
	uint64_t batches_dropped; /* lost by this sink: refused, failed, not acknowledged */
	uint64_t records_sent;	  /* flows in them, as far as the sink can tell */
	uint64_t records_dropped;
};

/* A named figure of the stats line (and of the ZeroMQ "stats" message). */
struct stat_item {
	const char *name;
	uint64_t value;
};

struct exporter;

struct exporter_ops {
	const char *name; /* "zmq", "file", "ipfix", "mqtt": the stats prefix, the metrics label */
	/* Hands one batch to the sink; 0, or a negative errno when it was (partly) lost. */
	int (*send)(struct exporter *x, const struct batch_view *b);
	/*
	 * Optional (NULL: yes): whether send() reads the packed bytes. A sink
	 * that prints or re-encodes the records says no, so a batch nobody
	 * sends as protobuf is never packed (a third of the collector's CPU
	 * per record when a flood's records go to CSV).
	 */
	bool (*needs_packed)(const struct exporter *x);
	/* The sink's own work between batches (subscriptions, reconnects, acks); never blocks. */
	void (*service)(struct exporter *x);
	void (*stats)(struct exporter *x, struct exporter_stats *st);
	/* Figures of its own for the stats line, named "<name>_..."; returns how many. */
	int (*own_stats)(struct exporter *x, struct stat_item *items, int max);
	/*
	 * Optional: true while the sink holds batches back for a taker that may
	 * still come in time (ZeroMQ's first subscriber); @give_up: stop
	 * waiting and send what is held now. Never blocks. A mode about to
	 * close gives it that time (collector_settle()).
	 */
	bool (*settle)(struct exporter *x, bool give_up);
	/*
	 * Optional: closes and opens again what the sink writes to (SIGHUP: a
	 * file renamed by logrotate is left, a new one started at its path);
	 * 0, or a negative errno when it keeps the old one.
	 */
	int (*reopen)(struct exporter *x);
	/* Optional: a side message (the stats as JSON) on the sink's own channel. */
	void (*side)(struct exporter *x, const char *topic, const void *buf, size_t len);
	/*
	 * Optional: the stream ends (end of capture, a collector stopping
	 * without --persist), after every batch was handed over. @end is the
	 * end-of-stream batch (no flows, end_of_stream set, the final
	 * counters), @json the same counters as the stats message with
	 * "end_of_stream":true. Each sink passes on what it can carry after
	 * the stream's last batch; 0, or a negative errno when it could not.
	 */
	int (*end)(struct exporter *x, const struct batch_view *end, const char *json,
		   size_t len);
	/*
	 * Gives what is queued up to @linger_ms to leave, then frees the sink;
	 * a negative errno when it lost anything, in the end (a last write, a
	 * queue that did not drain) or before, after saying so.
	 */
	int (*close)(struct exporter *x, int linger_ms);
};

/* The first member of every sink's struct. */
struct exporter {
	const struct exporter_ops *ops;
};

/* True when @x's send() reads batch_view.packed. */
static inline bool exporter_needs_packed(const struct exporter *x)
{
	return !x->ops->needs_packed || x->ops->needs_packed(x);
}

/* Copies a sink's @n own figures into @items (room for @max); returns how many. */
int exporter_put_stats(struct stat_item *items, int max, const struct stat_item *own, int n);
/* True when the sink lost anything: nfxdp's exit status says so. */
bool exporter_lost_any(struct exporter *x);

#endif /* NFXDP_EXPORT_EXPORTER_H */
