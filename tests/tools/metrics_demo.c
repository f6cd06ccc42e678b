// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Drives the metrics module with synthetic, known snapshots, the way the
 * collector does after each poll, so tests can scrape exact values:
 *
 *   metrics_demo ADDR:PORT [--poll-ms MS] [--polls N] [--wait-ms MS] [--detached]
 *   metrics_demo --print-counters
 *
 * Publishes N snapshots (0: without end) one poll interval apart, printing
 * "published I" after each, then keeps serving until SIGINT/SIGTERM, so
 * /healthz goes stale. Values: counter i is 7 * (i + 1); closed by reason
 * 2..6, exported 1..5; 6 active; poll k takes 0.0002 * 10^(k % 5) s
 * (k = 0, 1, ...).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "meter/counters.h"
#include "common/log.h"
#include "ops/metrics.h"

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	stop = 1;
}

static void sleep_ms(unsigned int ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L };

	while (!stop && nanosleep(&ts, &ts) && errno == EINTR)
		;
}

static void fill_static(struct metrics_snapshot *s, unsigned int poll_ms, bool attached)
{
	memset(s, 0, sizeof(*s));
	for (int i = 0; i < NFX_COUNTER_MAX; i++)
		s->counters[i] = 7ULL * (i + 1);
	for (int i = 0; i < EXPIRY_COUNT; i++) {
		s->flows_closed[i] = i + 2;
		s->flows_exported[i] = i + 1;
	}
	s->flows_active = 6;
	/* The collector's estimate: created - closed - active. */
	s->flows_evicted = s->counters[NFX_FLOWS_CREATED] - 20 - 6;
	s->map_entries = 6;
	s->map_capacity = 1024;
	s->exporters[0] = (struct metrics_exporter){ "zmq", 9, 2, 2304, 512 };
	s->exporters[1] = (struct metrics_exporter){ "file", 4, 0, 1024, 0 };
	s->n_exporters = 2;
	snprintf(s->ifaces[0], METRICS_IFACE_LEN, "va@nsA");
	snprintf(s->ifaces[1], METRICS_IFACE_LEN, "eth0");
	s->n_ifaces = 2;
	s->attached = attached;
	s->poll_interval_ms = poll_ms;
}

static int usage(void)
{
	fprintf(stderr, "usage: metrics_demo ADDR:PORT [--poll-ms MS] [--polls N] [--wait-ms MS] "
			"[--detached]\n       metrics_demo --print-counters\n");
	return 2;
}

int main(int argc, char **argv)
{
	unsigned int poll_ms = 500, polls = 5, wait_ms = 0;
	struct metrics_snapshot s;
	struct metrics_server m;
	const char *addr = NULL;
	bool attached = true;
	double took = 0.0002;

	log_set_prog("metrics_demo");
	log_set_level(LOG_INFO);
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--print-counters")) {
			for (int c = 0; c < NFX_COUNTER_MAX; c++)
				printf("%s %d\n", counter_names[c], 7 * (c + 1));
			return 0;
		} else if (!strcmp(argv[i], "--detached")) {
			attached = false;
		} else if (i + 1 < argc && !strcmp(argv[i], "--poll-ms")) {
			poll_ms = atoi(argv[++i]);
		} else if (i + 1 < argc && !strcmp(argv[i], "--polls")) {
			polls = atoi(argv[++i]);
		} else if (i + 1 < argc && !strcmp(argv[i], "--wait-ms")) {
			wait_ms = atoi(argv[++i]);
		} else if (argv[i][0] != '-' && !addr) {
			addr = argv[i];
		} else {
			return usage();
		}
	}
	if (!addr || !poll_ms)
		return usage();

	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	if (metrics_open(&m, addr))
		return 1;
	fill_static(&s, poll_ms, attached);
	sleep_ms(wait_ms);
	for (unsigned int k = 0; !stop && (!polls || k < polls); k++) {
		metrics_observe_poll(&s, took);
		took = k % 5 == 4 ? 0.0002 : took * 10;
		metrics_publish(&m, &s);
		printf("published %u\n", k + 1);
		fflush(stdout);
		if (!polls || k + 1 < polls)
			sleep_ms(poll_ms);
	}
	while (!stop)
		pause();
	metrics_close(&m);
	return 0;
}
