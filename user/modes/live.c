// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <errno.h>
#include <linux/capability.h>
#include <stdio.h>
#include <string.h>

#include "common/clock.h"
#include "common/log.h"
#include "meter/hwmeter.h"
#include "meter/pindir.h"
#include "modes/live.h"
#include "modes/setup.h"
#include "ops/metrics.h"
#include "ops/privs.h"

struct live {
	const struct nfx_config *cfg;
	struct meter m;
	struct collector c;
	struct metrics_server metrics;
	struct metrics_snapshot snap;
	bool metrics_on;
	char source[1024]; /* the interfaces, as given */
};

/* Refreshes what /metrics and /healthz serve; @poll_s: the scan just done. */
static void publish_metrics(struct live *l, double poll_s)
{
	struct metrics_snapshot *s = &l->snap;

	collector_metrics(&l->c, s);
	s->n_ifaces = 0;
	for (int i = 0; i < l->cfg->n_ifaces && i < METRICS_MAX_IFACES; i++, s->n_ifaces++)
		snprintf(s->ifaces[i], sizeof(s->ifaces[i]), "%s", l->cfg->ifaces[i]);
	s->attached = true; /* the loop runs only once every interface is attached */
	s->poll_interval_ms = l->cfg->poll_ms;
	metrics_observe_poll(s, poll_s);
	metrics_publish(&l->metrics, s);
}

/* A scan, the NIC clocks, the links; false when no interface is left. */
static bool poll_once(struct live *l)
{
	uint64_t t0 = clock_ns(CLOCK_MONOTONIC);

	collector_scan(&l->c, clock_meter_ns());
	for (int i = 0; i < l->m.n_att; i++)
		hwmeter_sync_clock(&l->m.att[i]);
	if (!meter_check_links(&l->m)) {
		pr_warn("no interface left to meter: exporting every flow and exiting\n");
		return false;
	}
	if (l->metrics_on)
		publish_metrics(l, (clock_ns(CLOCK_MONOTONIC) - t0) / 1e9);
	return true;
}

/* Until a signal: closed flows out, scans every --poll-ms, pressure as the cache fills. */
static bool loop(struct live *l)
{
	const struct nfx_config *cfg = l->cfg;
	uint64_t next_scan = clock_ms(CLOCK_MONOTONIC) + cfg->poll_ms;
	uint64_t stats_every = cfg->stats_interval_s * 1000ULL, next_stats = 0;

	if (stats_every)
		next_stats = clock_ms(CLOCK_MONOTONIC) + stats_every;
	collector_scan(&l->c, clock_meter_ns()); /* a resumed cache is not empty */
	while (!mode_stop) {
		uint64_t now = clock_ms(CLOCK_MONOTONIC);
		int timeout = next_scan > now ? (int)(next_scan - now) : 0;
		int wait = collector_pressure_wait_ms(&l->c);

		/* Batch age and signals at least every 100 ms, cache pressure as it needs. */
		collector_wait(&l->c, timeout < wait ? timeout : wait);
		now = clock_ms(CLOCK_MONOTONIC);
		if (now >= next_scan) {
			if (!poll_once(l))
				return false;
			next_scan = now + poller_interval_ms(&l->c.poller, cfg->poll_ms);
		}
		collector_pressure(&l->c, clock_meter_ns());
		collector_service(&l->c, now);
		mode_handle_signals(&l->c);
		if (next_stats && now >= next_stats) {
			collector_report(&l->c, "periodic");
			next_stats = now + stats_every;
		}
	}
	return true;
}

/* Detach first, so nothing is metered after the flush; then unpin. */
static int end(struct live *l)
{
	int err;

	meter_detach_all(&l->m);
	err = collector_flush(&l->c, 0);
	collector_settle(&l->c, &mode_stop);
	collector_end(&l->c, "exit");
	if (l->m.pin_dir[0]) {
		meter_unpin(&l->m);
		pr_info("detached; every flow exported and the pins removed\n");
	}
	err = collector_close(&l->c) || err;
	return err ? 1 : 0;
}

/* --persist: export what is closed, leave the meter running for the next nfxdp. */
static int leave(struct live *l)
{
	collector_leave(&l->c);
	collector_settle(&l->c, &mode_stop);
	collector_report(&l->c, "exit");
	pr_info("left metering %s with the flow cache pinned in %s: start nfxdp again with the "
		"same interfaces to resume, or end it with nfxdp --detach\n", l->source,
		l->m.pin_dir);
	meter_release_all(&l->m);
	return collector_close(&l->c);
}

/* The meter, pinned for --persist and --detach, and the collector on it. */
static int open_meter(struct live *l)
{
	const struct nfx_config *cfg = l->cfg;
	struct collector_opts co;
	struct meter_opts mo;
	struct mode_facts facts = { .source = l->source, .live = true };
	char pins[4096];
	int err;

	mode_meter_opts(&mo, cfg);
	mo.wheel = true; /* for the expiry wheel, below */
	for (int i = 0; i < cfg->n_ifaces; i++)
		if (cfg->detach || (config_iface_dirs(cfg, i) & METER_DIR_EGRESS))
			mo.programs |= LOAD_EGRESS;
	if (cfg->persist || cfg->detach) {
		err = pindir_prepare(cfg->pin_dir, cfg->ifaces, cfg->n_ifaces, !cfg->detach, pins,
				     sizeof(pins));
		if (err)
			return err;
		mo.pin_dir = pins;
	}
	err = meter_load(&l->m, &mo);
	if (err)
		return err;
	l->m.resume_only = cfg->detach;
	l->m.nic_metadata = cfg->nic_metadata;
	mode_collector_opts(&co, cfg);
	co.expiry.spread = true;
	co.expiry.wheel = true;
	co.expiry.notes = mo.wheel && mo.natural_expiry;
	co.expiry.poll_ms = cfg->poll_ms;
	err = collector_open(&l->c, &l->m, &co, &facts);
	return err ? err : mode_open_sinks(&l->c, cfg, false);
}

static int attach_all(struct live *l)
{
	const struct nfx_config *cfg = l->cfg;

	for (int i = 0; i < cfg->n_ifaces; i++) {
		/* --detach takes over whatever a --persist nfxdp left. */
		unsigned int dirs = cfg->detach ? METER_DIR_BOTH : config_iface_dirs(cfg, i);
		int err = meter_attach(&l->m, cfg->ifaces[i], cfg->xdp_mode, dirs);

		/* An interface gone: its flows are in the pinned cache all the same. */
		if (err && !cfg->detach)
			return err;
	}
	return 0;
}

/*
 * Attached, nfxdp needs no capability: everything left goes through fds it
 * holds; but for a clsact filter (egress on kernels without tcx), which is
 * not a link: removing it at exit takes CAP_NET_ADMIN, and CAP_SYS_ADMIN
 * to enter its interface's namespace.
 */
static int drop_privileges(struct live *l)
{
	int keep[2], n = 0;

	for (int i = 0; i < l->m.n_att && !n; i++) {
		if (!l->m.att[i].egress.clsact)
			continue;
		keep[n++] = CAP_NET_ADMIN;
		keep[n++] = CAP_SYS_ADMIN;
		pr_info("keeping CAP_NET_ADMIN and CAP_SYS_ADMIN to remove the clsact filter at exit\n");
	}
	return privs_drop(keep, n);
}

/*
 * Sockets open after the privileges are dropped, so that the threads of
 * libzmq and of the HTTP server never hold one.
 */
static int start(struct live *l)
{
	const struct nfx_config *cfg = l->cfg;
	int err = open_meter(l);

	if (!err)
		err = attach_all(l);
	if (!err)
		err = drop_privileges(l);
	if (!err)
		err = mode_open_sinks(&l->c, cfg, true);
	if (!err && cfg->metrics_addr && !cfg->detach) {
		err = metrics_open(&l->metrics, cfg->metrics_addr);
		l->metrics_on = !err;
	}
	return err;
}

static void stop_metrics(struct live *l)
{
	if (l->metrics_on)
		metrics_close(&l->metrics);
	l->metrics_on = false;
}

int live_run(const struct nfx_config *cfg)
{
	static struct live l;
	int status;

	memset(&l, 0, sizeof(l));
	l.cfg = cfg;
	for (int i = 0; i < cfg->n_ifaces; i++)
		snprintf(l.source + strlen(l.source), sizeof(l.source) - strlen(l.source), "%s%s",
			 i ? "," : "", cfg->ifaces[i]);
	mode_install_signals();
	if (start(&l)) {
		stop_metrics(&l);
		meter_abandon(&l.m);
		if (l.c.m)
			collector_close(&l.c);
		if (l.m.skel)
			meter_destroy(&l.m);
		return 1;
	}
	if (cfg->detach)
		status = end(&l);
	else {
		pr_info("metering %s; idle %.3fs, active %.3fs, natural expiry %s\n", l.source,
			cfg->idle_timeout_ms / 1000.0, cfg->active_timeout_ms / 1000.0,
			cfg->natural_expiry ? "on" : "off");
		if (!loop(&l))
			status = end(&l) | 1; /* every interface went away */
		else
			status = cfg->persist ? leave(&l) : end(&l);
	}
	stop_metrics(&l);
	meter_destroy(&l.m);
	return status;
}
