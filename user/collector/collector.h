/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The collector: takes closed flows from the export ring, builds records,
 * batches them and hands batches to the exporters. Live mode drives it from
 * the poll loop here; capture replay drives it from replay.c.
 */
#ifndef NFXDP_COLLECTOR_COLLECTOR_H
#define NFXDP_COLLECTOR_COLLECTOR_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "cli/cli.h"
#include "meter/event_ring.h"
#include "export/file.h"
#include "export/ipfix.h"
#include "export/mqtt.h"
#include "export/zmq.h"
#include "record/batch.h"
#include "meter/meter.h"
#include "ops/metrics.h"
#include "collector/expiry.h"

/* Between scans, how full the flow cache is and how fast it fills. */
struct cache_watch {
	uint64_t seen;	  /* entries the last scan saw */
	uint64_t created; /* flows_created and flows closed before that scan */
	uint64_t closed;
	uint64_t entries;  /* the estimate at the last check */
	uint64_t incoming; /* flows expected during a pressure pass */
	uint64_t rate_created;
	uint64_t rate_ns;
	double rate_per_ns; /* new flows per ns */
};

struct collector {
	const struct nfx_config *cfg;
	struct meter meter;
	struct poller poller;
	struct event_ring ring;
	struct batch batch;
	struct zmq_exporter zmq;
	struct file_exporter file;
	bool zmq_on;
	bool file_on;
	struct ipfix_exporter ipfix;
	struct mqtt_exporter mqtt;
	bool ipfix_on;
	bool mqtt_on;
	char *mqtt_password;
	struct metrics_server metrics;
	struct metrics_snapshot snap;
	bool metrics_on;
	struct record_features feat;
	uint64_t next_id;
	struct cache_watch watch;
	uint64_t expired[5];  /* flows closed, by enum flow_expiry */
	uint64_t exported[5]; /* of them, flows exported (not sampled or filtered out) */
	uint64_t flows_sampled_out;  /* --flow-sample */
	uint64_t flows_filtered_out; /* --flow-filter */
	int64_t clock_offset_ns; /* meter clock to Unix time */
	uint64_t resumes;	 /* --persist: how many collectors came before */
	bool sent_any;		 /* a batch went out from this process */
	bool all_gone;		 /* every interface went away */
};

extern volatile sig_atomic_t collector_stop;

/* Loads the meter and opens the exporters; @source names the input in batches. */
int collector_open(struct collector *c, const struct nfx_config *cfg, const char *source);
/* The same in two steps: the meter and the file sink, then the sockets. */
int collector_open_meter(struct collector *c, const struct nfx_config *cfg, const char *source);
int collector_open_network(struct collector *c);
/* Sends the pending batch if it is full or older than --batch-ms (now: monotonic ms). */
void collector_tick(struct collector *c, uint64_t now_ms);
/* Flows in the cache: the last scan's count, plus created and minus closed since; *created if asked. */
uint64_t collector_cache_entries(struct collector *c, uint64_t *created);
/* Emergency expiry when the cache is past its hard watermark (meter time @now_ns). */
void collector_pressure(struct collector *c, uint64_t now_ns);
/* A scan for timeouts at meter time @now_ns (poller_scan), noted for the estimate. */
void collector_scan(struct collector *c, uint64_t now_ns);
/* Sends whatever is batched. */
void collector_send(struct collector *c);
/* One figure of the stats: the meter's counters, then the collector's. */
struct stat_item {
	const char *name;
	uint64_t value;
};
#define STATS_MAX 64

int collector_stats(struct collector *c, struct stat_item *items, int max);
void collector_print_stats(struct collector *c, const char *when);
/* Stats on stderr, and as JSON on the ZeroMQ topic "stats". */
void collector_report(struct collector *c, const char *when);
void collector_close(struct collector *c);
/* --persist: records where the stream stands for the next collector. */
void collector_state_save(struct collector *c, bool stopping);

/* SIGINT and SIGTERM set collector_stop; SIGPIPE is ignored. */
void collector_install_signals(void);

/* Meters the live interfaces until SIGINT/SIGTERM; returns the exit status. */
int collector_run_live(const struct nfx_config *cfg);

uint64_t clock_ms(clockid_t clk);
uint64_t clock_ns(clockid_t clk);

#endif /* NFXDP_COLLECTOR_COLLECTOR_H */
