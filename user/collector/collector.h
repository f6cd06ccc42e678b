/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The collector: takes closed flows from the meter's export ring, builds
 * records, batches them and hands each batch to every exporter; has the
 * kernel close the flows whose time has come (expiry.c) and keeps the cache
 * below its hard watermark. A mode (modes/live.c, modes/replay.c) drives it
 * through this API and tells it what it needs to know of its input in a
 * struct mode_facts; the collector reads no command line.
 */
#ifndef NFXDP_COLLECTOR_COLLECTOR_H
#define NFXDP_COLLECTOR_COLLECTOR_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "collector/dpi.h"
#include "collector/expiry.h"
#include "export/exporter.h"
#include "meter/event_ring.h"
#include "meter/meter.h"
#include "ops/metrics.h"
#include "record/batch.h"

struct flowfilter;

/* A count the mode keeps of its input, shown with the stats (NULL name: none). */
struct mode_counter {
	const char *name;
	const uint64_t *value;
};
#define MODE_COUNTERS_MAX 2

/* What the mode tells the collector about its input. */
struct mode_facts {
	const char *source; /* the input, named in every batch: interfaces or capture files */
	bool capture_time;  /* the meter runs on capture time, Unix time already */
	bool live;	    /* packets keep arriving while the collector scans */
	struct mode_counter counters[MODE_COUNTERS_MAX];
};

struct collector_opts {
	struct poller_policy expiry; /* timeouts and the cache's capacity */
	uint32_t batch_flows;	     /* flows per batch */
	uint32_t batch_ms;	     /* a batch leaves at most this long after its first flow */
	uint32_t flow_sample_n;	     /* export 1 in N flows, by key hash; 0 or 1: all */
	const struct flowfilter *flow_filter; /* export only the flows it selects; NULL: all */
	bool scale_sampled;	     /* counts multiplied by the packet sampling rate */
	uint32_t dpi_flows;	     /* --dpi: flows in dissection at once */
	/* The meter is pinned (--persist): records stay in the ring until sent. */
	bool persist;
};

void collector_opts_default(struct collector_opts *o);

#define COLLECTOR_MAX_EXPORTERS 8

/* Between scans, how full the flow cache is and how fast it fills. */
struct cache_watch {
	uint64_t seen;	  /* entries the last scan saw */
	uint64_t created; /* flows_created and flows closed before that scan */
	uint64_t closed;
	uint64_t pass_created; /* the same at the start of a sliced pass under way */
	uint64_t pass_closed;
	uint64_t entries;  /* the estimate at the last check */
	uint64_t incoming; /* flows expected during a pressure pass */
	uint64_t rate_created;
	uint64_t rate_ns;
	double rate_per_ns; /* new flows per ns */
	uint64_t evicted;   /* the eviction estimate's highest value (a metrics counter) */
};

struct collector {
	struct collector_opts o;
	struct mode_facts facts;
	struct meter *m;
	struct poller poller;
	struct event_ring ring;
	struct batch batch;
	struct exporter *ex[COLLECTOR_MAX_EXPORTERS];
	int n_ex;
	struct record_features feat;
	struct dpi *dpi;	   /* --dpi, else NULL */
	struct iface_names ifaces; /* refreshed by every scan: interfaces come and go */
	uint32_t sampling_rate; /* in every record: the meter's packet sampling */
	uint64_t next_id;
	struct cache_watch watch;
	uint64_t expired[EXPIRY_COUNT];	 /* flows closed, by enum flow_expiry */
	uint64_t exported[EXPIRY_COUNT]; /* of them, flows exported (not sampled or filtered out) */
	uint64_t flows_sampled_out;	 /* --flow-sample */
	uint64_t flows_filtered_out;	 /* --flow-filter */
	int64_t clock_offset_ns;	 /* meter clock to Unix time */
	uint64_t resumes;		 /* --persist: how many collectors came before */
	bool lost;			 /* a sink lost batches or records */
};

/*
 * Starts collecting from @m (loaded, attached or not), resuming the stream
 * a previous collector left in its pins. Returns 0, or a negative errno
 * after a message (-EBUSY: another collector holds the pins).
 */
int collector_open(struct collector *c, struct meter *m, const struct collector_opts *o,
		   const struct mode_facts *facts);
/* Adds a sink; the collector closes it. */
int collector_add_exporter(struct collector *c, struct exporter *x);
/*
 * Closed flows out of the export ring into the batch; a batch that fills
 * is sent at once, so the ring always has room. Returns 0 or -errno.
 */
int collector_drain(struct collector *c);
/* Waits up to @timeout_ms for closed flows, then drains. */
int collector_wait(struct collector *c, int timeout_ms);
/* The sinks' own work, and the batch sent once it is older than batch_ms (@now_ms: monotonic). */
void collector_service(struct collector *c, uint64_t now_ms);
/* Sends whatever is batched. */
void collector_send(struct collector *c);
/* Sends whatever is batched, then every sink reopens its output (SIGHUP). */
void collector_reopen(struct collector *c);
/* Closes the flows whose timeout has passed at meter time @now_ns. */
void collector_scan(struct collector *c, uint64_t now_ns);
/* Emergency expiry when the cache is past its hard watermark (meter time @now_ns). */
void collector_pressure(struct collector *c, uint64_t now_ns);
/* How long the mode may wait before the next pressure check, 1 to 100 ms. */
int collector_pressure_wait_ms(const struct collector *c);
/* New flows the cache takes before its hard watermark (at least 16). */
uint64_t collector_room(struct collector *c);
/*
 * Every flow out, as expired when its timeout has passed at meter time
 * @now_ns (0: never), else as flushed; the last batch sent. 0 or -errno.
 */
int collector_flush(struct collector *c, uint64_t now_ns);
/* --persist: the flows due now out, the stream's position saved for the next collector. */
void collector_leave(struct collector *c);
/*
 * Before closing: gives the sinks that hold batches for a taker (ZeroMQ's
 * first subscriber, --zmq-wait) the rest of their wait, returning as soon as
 * none holds any or *@stop is set (SIGINT, SIGTERM).
 */
void collector_settle(struct collector *c, const volatile sig_atomic_t *stop);

#define STATS_MAX 96
/* The figures of the stats: the meter's counters, the collector's, each sink's. */
int collector_stats(struct collector *c, struct stat_item *items, int max);
/* Stats on stderr and as JSON on the sinks' side channel ("stats" on ZeroMQ). */
void collector_report(struct collector *c, const char *when);
/*
 * The stream ends: the stats on stderr, then every sink gets the
 * end-of-stream message with the final counters (ZeroMQ: the stats message
 * with "end_of_stream":true; a pb file: a batch with end_of_stream set).
 * A collector leaving for the next one (--persist) does not end its stream.
 */
void collector_end(struct collector *c, const char *when);
/* Flows the kernel's LRU evicted before they could be closed (an estimate while live). */
uint64_t collector_flows_evicted(struct collector *c);
/* The collector's part of a /metrics snapshot. */
void collector_metrics(struct collector *c, struct metrics_snapshot *s);
/* Closes the sinks and lets go of the meter (not destroyed); 1 when a sink lost anything. */
int collector_close(struct collector *c);

#endif /* NFXDP_COLLECTOR_COLLECTOR_H */
