/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Health and metrics over HTTP: /metrics in the Prometheus text format and
 * /healthz for liveness and readiness probes.
 *
 * The collector owns a struct metrics_snapshot, refreshes it after every
 * poll and hands it to metrics_publish(), which copies it under a mutex and
 * returns: the HTTP thread renders from its own copy, so a slow or stuck
 * scraper never delays the poll loop. The publish time is the health clock:
 * /healthz answers 503 once no snapshot came for 3 poll intervals.
 */
#ifndef NFXDP_OPS_METRICS_H
#define NFXDP_OPS_METRICS_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "flow.h"

#define METRICS_DEFAULT_ADDR "127.0.0.1:9101"
#define METRICS_MAX_IFACES 16
#define METRICS_IFACE_LEN 64	  /* "IFACE@NETNS" */
#define METRICS_POLL_BUCKETS 14	  /* finite upper bounds of the poll-duration histogram */
#define METRICS_STALE_POLLS 3	  /* /healthz fails after this many poll intervals */

#define METRICS_MAX_EXPORTERS 8

/* One sink's counters (struct exporter_stats), under its name. */
struct metrics_exporter {
	char name[16]; /* "zmq", "file", "ipfix", "mqtt" */
	uint64_t batches_sent;
	uint64_t batches_dropped;
	uint64_t records_sent;
	uint64_t records_dropped;
};

/* Upper bounds, in seconds, of the poll-duration buckets (+Inf is implied). */
extern const double metrics_poll_bounds[METRICS_POLL_BUCKETS];

struct metrics_snapshot {
	uint64_t counters[NFX_COUNTER_MAX]; /* the meter's per-CPU counters, summed */
	uint64_t hook_seen[HOOK_COUNT];	    /* frames each hook saw (enum meter_hook) */
	uint64_t hook_metered[HOOK_COUNT];  /* ... and metered */
	uint64_t flows_active;
	uint64_t flows_closed[EXPIRY_COUNT];	 /* by the meter, before sampling/filters */
	uint64_t flows_exported[EXPIRY_COUNT]; /* as records */
	uint64_t flows_evicted; /* estimated by the collector (created - closed - active) */
	/* --dpi: flows dissected, refused (--dpi-flows in dissection), in dissection now. */
	uint64_t dpi_flows, dpi_flows_full, dpi_in_dissection;

	struct metrics_exporter exporters[METRICS_MAX_EXPORTERS]; /* the sinks in use */
	int n_exporters;

	/* Poll durations: bucket i counts polls in (bound[i-1], bound[i]]. */
	uint64_t poll_buckets[METRICS_POLL_BUCKETS + 1]; /* last: above every bound */
	uint64_t poll_count;
	double poll_seconds_sum;

	uint64_t map_entries;
	uint64_t map_capacity;

	char ifaces[METRICS_MAX_IFACES][METRICS_IFACE_LEN];
	int n_ifaces;
	bool attached; /* every interface in ifaces[] has the program attached */
	uint32_t poll_interval_ms;
	uint64_t http_conns_cut; /* the HTTP server's own: filled in as it serves */
};

/*
 * Connections the HTTP server keeps at once; a new one past that closes the
 * one whose request has run longest. Slow clients (a header line every few
 * seconds resets libmicrohttpd's inactivity timeout) cannot hold every
 * connection: a probe always gets one.
 */
#define METRICS_HTTP_CONNECTIONS 16
#define METRICS_HTTP_CONNECTIONS_MAX 64 /* libmicrohttpd's own limit: room to close */
#define METRICS_HTTP_REQUEST_MS 2000	/* a request, or an idle connection, this long: closed */

/* A connection of the HTTP server (its thread's alone). */
struct metrics_conn {
	struct MHD_Connection *conn;
	int fd;
	uint64_t since_ms; /* accepted, or its last request answered */
	bool used;
	bool cut;	   /* shut down: libmicrohttpd closes it next */
};

struct metrics_server {
	struct MHD_Daemon *daemon;
	struct metrics_conn conns[METRICS_HTTP_CONNECTIONS_MAX];
	uint64_t conns_cut; /* for slowness or to make room */
	pthread_mutex_t lock; /* guards snap, published and last_publish_ns */
	struct metrics_snapshot snap;
	bool published;
	uint64_t last_publish_ns; /* CLOCK_MONOTONIC */
	char addr[80];		  /* what it listens on, for messages */
};

/*
 * Listens on @addr_port ("ADDR:PORT", "[V6ADDR]:PORT", or ":PORT" and
 * "PORT" for 127.0.0.1): returns 0, or a negative errno after a message.
 */
int metrics_open(struct metrics_server *m, const char *addr_port);
/* Copies @s for the HTTP thread and marks the collector alive now. */
void metrics_publish(struct metrics_server *m, const struct metrics_snapshot *s);
/* Stops the HTTP thread; safe on a server that failed to open. */
void metrics_close(struct metrics_server *m);

/* Adds one poll of @seconds to the histogram in @s. */
void metrics_observe_poll(struct metrics_snapshot *s, double seconds);

/*
 * The /metrics and /healthz bodies for @s (exposed for tests): a malloc'd
 * string, NULL when out of memory. @age_s is the time since the snapshot,
 * or a negative number when none was published.
 */
char *metrics_render(const struct metrics_snapshot *s, double age_s);
/* 0 when healthy (@why gets "ok"), else -1 with the reason in @why. */
int metrics_health(const struct metrics_snapshot *s, double age_s, char *why, size_t len);

#endif /* NFXDP_OPS_METRICS_H */
