// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Health and metrics over HTTP (libmicrohttpd); see metrics.h. */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "common/clock.h"
#include "common/lazylib.h"
#include "meter/counters.h"
#include "common/log.h"
#include "ops/metrics.h"

const double metrics_poll_bounds[METRICS_POLL_BUCKETS] = {
	0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01,
	0.025,	0.05,	 0.1,	 0.25,	0.5,	1,     2.5,
};

/* HELP text of the meter counters that get a family of their own. */
static const struct {
	const char *name;
	const char *help;
} counter_help[] = {
	{ "frames_seen", "Frames the XDP program saw." },
	{ "frames_metered", "Frames counted into a flow." },
	{ "flows_created", "Flow entries the meter created." },
	{ "overflow_exported",
	  "Packets the full cache had no room for, exported alone (expiration_id 5)." },
	{ "expired_on_arrival", "Flows a packet found expired and closed itself." },
	{ "expiry_deferred", "Expirations put off because the export ring was full." },
	{ "time_restamped", "Replayed frames metered at another time than their own (PARITY.md)." },
	{ "dpi_packets", "Packets the meter handed to nDPI (--dpi)." },
	{ "dpi_ring_full", "Packets for nDPI the DPI ring had no room for (--dpi)." },
	{ "notes_lost",
	  "Notes of ended flows the export ring had no room for (the next scan reads the cache)." },
};

/* ---- rendering ---------------------------------------------------------- */

/* A growing string; after a failed allocation it only remembers the failure. */
struct out {
	char *buf;
	size_t len;
	size_t cap;
	bool oom;
};

static bool out_reserve(struct out *o, size_t more)
{
	size_t cap = o->cap ? o->cap : 4096;
	char *p;

	if (o->oom)
		return false;
	while (o->len + more + 1 > cap)
		cap *= 2;
	if (cap == o->cap)
		return true;
	p = realloc(o->buf, cap);
	if (!p) {
		o->oom = true;
		return false;
	}
	o->buf = p;
	o->cap = cap;
	return true;
}

__attribute__((format(printf, 2, 3))) static void out_printf(struct out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || !out_reserve(o, n))
		return;
	va_start(ap, fmt);
	vsnprintf(o->buf + o->len, o->cap - o->len, fmt, ap);
	va_end(ap);
	o->len += n;
}

/* A label value, escaped as the exposition format wants (\\, \", \n). */
static void out_label_value(struct out *o, const char *v)
{
	for (; *v; v++) {
		if (*v == '\\' || *v == '"')
			out_printf(o, "\\%c", *v);
		else if (*v == '\n')
			out_printf(o, "\\n");
		else
			out_printf(o, "%c", *v);
	}
}

static void family(struct out *o, const char *name, const char *type, const char *help)
{
	out_printf(o, "# HELP nfxdp_%s %s\n# TYPE nfxdp_%s %s\n", name, help, name, type);
}

static void sample_u64(struct out *o, const char *name, uint64_t v)
{
	out_printf(o, "nfxdp_%s %" PRIu64 "\n", name, v);
}

static void sample_label_u64(struct out *o, const char *name, const char *label, const char *value,
			     uint64_t v)
{
	out_printf(o, "nfxdp_%s{%s=\"", name, label);
	out_label_value(o, value);
	out_printf(o, "\"} %" PRIu64 "\n", v);
}

static const char *counter_help_text(const char *name)
{
	for (size_t i = 0; i < sizeof(counter_help) / sizeof(counter_help[0]); i++)
		if (!strcmp(counter_help[i].name, name))
			return counter_help[i].help;
	return "Meter counter (see counter_names in the source).";
}

static bool has_prefix(const char *s, const char *prefix)
{
	return !strncmp(s, prefix, strlen(prefix));
}

/*
 * The counters whose names share @prefix form one family with a reason
 * label, so a new counter in NFX_COUNTERS shows up without a change here.
 */
static void render_counter_group(struct out *o, const struct metrics_snapshot *s,
				 const char *prefix, const char *fam, const char *help)
{
	family(o, fam, "counter", help);
	for (int i = 0; i < NFX_COUNTER_MAX; i++)
		if (has_prefix(counter_names[i], prefix))
			sample_label_u64(o, fam, "reason", counter_names[i], s->counters[i]);
}

static void render_counters(struct out *o, const struct metrics_snapshot *s)
{
	char name[96];

	for (int i = 0; i < NFX_COUNTER_MAX; i++) {
		const char *c = counter_names[i];

		if (has_prefix(c, "ignored_") || has_prefix(c, "lost_"))
			continue;
		snprintf(name, sizeof(name), "%s_total", c);
		family(o, name, "counter", counter_help_text(c));
		sample_u64(o, name, s->counters[i]);
	}
	render_counter_group(o, s, "ignored_", "frames_ignored_total",
			     "Frames not metered, by reason.");
	render_counter_group(o, s, "lost_", "frames_lost_total",
			     "Frames the flow cache could not take, by reason.");
	family(o, "dpi_flows_total", "counter", "Flows nDPI dissected (--dpi).");
	sample_u64(o, "dpi_flows_total", s->dpi_flows);
	family(o, "dpi_flows_in_dissection", "gauge", "Flows whose nDPI state is kept now.");
	sample_u64(o, "dpi_flows_in_dissection", s->dpi_in_dissection);
	family(o, "dpi_cut_total", "counter",
	       "What did not reach nDPI, by reason: packets (ring_full), flows (flows_full).");
	sample_label_u64(o, "dpi_cut_total", "reason", "ring_full",
			 s->counters[NFX_DPI_RING_FULL]);
	sample_label_u64(o, "dpi_cut_total", "reason", "flows_full", s->dpi_flows_full);
}

static void render_by_reason(struct out *o, const char *fam, const char *help,
			     const uint64_t v[EXPIRY_COUNT])
{
	family(o, fam, "counter", help);
	for (int i = 0; i < EXPIRY_COUNT; i++)
		out_printf(o, "nfxdp_%s{reason=\"%s\",expiration_id=\"%d\"} %" PRIu64 "\n", fam,
			   flow_expiry_name(i), i, v[i]);
}

/* Frames by hook: what arrived (XDP), what the host sent (TC egress). */
static void render_hooks(struct out *o, const struct metrics_snapshot *s)
{
	static const char *const names[HOOK_COUNT] = { "ingress", "egress" };

	family(o, "hook_frames_seen_total", "counter", "Frames each hook saw.");
	for (int i = 0; i < HOOK_COUNT; i++)
		sample_label_u64(o, "hook_frames_seen_total", "hook", names[i], s->hook_seen[i]);
	family(o, "hook_frames_metered_total", "counter", "Frames each hook metered into flows.");
	for (int i = 0; i < HOOK_COUNT; i++)
		sample_label_u64(o, "hook_frames_metered_total", "hook", names[i],
				 s->hook_metered[i]);
}

static void render_flows(struct out *o, const struct metrics_snapshot *s)
{
	family(o, "flows_active", "gauge", "Flows in the cache at the last poll.");
	sample_u64(o, "flows_active", s->flows_active);
	render_by_reason(o, "flows_closed_total",
			 "Flows the meter closed, by expiration reason (before sampling and filters).",
			 s->flows_closed);
	render_by_reason(o, "flows_exported_total",
			 "Flows exported as records, by expiration reason (expiration_id).",
			 s->flows_exported);
	family(o, "flows_evicted_estimated_total", "counter",
	       "Flows the cache evicted before closing them, estimated as of the last pass "
	       "(created - closed - active).");
	sample_u64(o, "flows_evicted_estimated_total", s->flows_evicted);
	family(o, "flow_map_entries", "gauge", "Entries in the flow map at the last poll.");
	sample_u64(o, "flow_map_entries", s->map_entries);
	family(o, "flow_map_capacity", "gauge", "Entries the flow map holds (--max-flows).");
	sample_u64(o, "flow_map_capacity", s->map_capacity);
}

/* One family of the sinks' counters, a sample per sink in use. */
static void render_exporter_family(struct out *o, const struct metrics_snapshot *s,
				   const char *name, const char *help, size_t off)
{
	family(o, name, "counter", help);
	for (int i = 0; i < s->n_exporters && i < METRICS_MAX_EXPORTERS; i++)
		sample_label_u64(o, name, "exporter", s->exporters[i].name,
				 *(const uint64_t *)((const char *)&s->exporters[i] + off));
}

/* Only the exporters in use, so a dashboard does not show a file sink that is off. */
static void render_exporters(struct out *o, const struct metrics_snapshot *s)
{
	render_exporter_family(o, s, "export_batches_sent_total",
			       "Flow batches sent (published, written, acknowledged), by exporter.",
			       offsetof(struct metrics_exporter, batches_sent));
	render_exporter_family(o, s, "export_batches_dropped_total",
			       "Flow batches dropped (refused, failed write, unacknowledged), by exporter.",
			       offsetof(struct metrics_exporter, batches_dropped));
	render_exporter_family(o, s, "export_records_sent_total", "Flow records sent, by exporter.",
			       offsetof(struct metrics_exporter, records_sent));
	render_exporter_family(o, s, "export_records_dropped_total",
			       "Flow records dropped, by exporter.",
			       offsetof(struct metrics_exporter, records_dropped));
}

static void render_poll_histogram(struct out *o, const struct metrics_snapshot *s)
{
	uint64_t cumulative = 0;

	family(o, "poll_duration_seconds", "histogram",
	       "Time one poll of the flow cache took (scan and expiry).");
	for (int i = 0; i < METRICS_POLL_BUCKETS; i++) {
		cumulative += s->poll_buckets[i];
		out_printf(o, "nfxdp_poll_duration_seconds_bucket{le=\"%g\"} %" PRIu64 "\n",
			   metrics_poll_bounds[i], cumulative);
	}
	out_printf(o, "nfxdp_poll_duration_seconds_bucket{le=\"+Inf\"} %" PRIu64 "\n",
		   s->poll_count);
	out_printf(o, "nfxdp_poll_duration_seconds_sum %.9g\n", s->poll_seconds_sum);
	out_printf(o, "nfxdp_poll_duration_seconds_count %" PRIu64 "\n", s->poll_count);
}

/* "IFACE@NETNS" becomes interface="IFACE",netns="NETNS". */
static void render_iface(struct out *o, const char *spec, bool attached)
{
	const char *at = strchr(spec, '@');
	int n = at ? (int)(at - spec) : (int)strlen(spec);
	char name[METRICS_IFACE_LEN];

	snprintf(name, sizeof(name), "%.*s", n, spec);
	out_printf(o, "nfxdp_interface_attached{interface=\"");
	out_label_value(o, name);
	out_printf(o, "\",netns=\"");
	out_label_value(o, at ? at + 1 : "");
	out_printf(o, "\"} %d\n", attached ? 1 : 0);
}

static void render_collector(struct out *o, const struct metrics_snapshot *s, double age_s)
{
	char why[128];

	family(o, "interface_attached", "gauge", "1 for each interface the program is attached to.");
	for (int i = 0; i < s->n_ifaces && i < METRICS_MAX_IFACES; i++)
		render_iface(o, s->ifaces[i], s->attached);
	family(o, "poll_interval_seconds", "gauge", "How often the collector polls (--poll-ms).");
	out_printf(o, "nfxdp_poll_interval_seconds %g\n", s->poll_interval_ms / 1000.0);
	if (age_s >= 0) {
		family(o, "last_poll_age_seconds", "gauge", "Time since the collector last polled.");
		out_printf(o, "nfxdp_last_poll_age_seconds %.3f\n", age_s);
	}
	family(o, "http_connections_closed_total", "counter",
	       "HTTP connections closed for holding the server: a request or idleness past 2 s, "
	       "or the oldest when 16 are open.");
	sample_u64(o, "http_connections_closed_total", s->http_conns_cut);
	family(o, "healthy", "gauge", "1 when /healthz answers 200.");
	out_printf(o, "nfxdp_healthy %d\n", metrics_health(s, age_s, why, sizeof(why)) ? 0 : 1);
}

char *metrics_render(const struct metrics_snapshot *s, double age_s)
{
	struct out o = { 0 };

	render_counters(&o, s);
	render_hooks(&o, s);
	render_flows(&o, s);
	render_exporters(&o, s);
	render_poll_histogram(&o, s);
	render_collector(&o, s, age_s);
	if (o.oom || !out_reserve(&o, 0)) {
		free(o.buf);
		return NULL;
	}
	o.buf[o.len] = '\0';
	return o.buf;
}

int metrics_health(const struct metrics_snapshot *s, double age_s, char *why, size_t len)
{
	double limit = METRICS_STALE_POLLS * (s->poll_interval_ms ? s->poll_interval_ms : 1000) / 1000.0;

	if (age_s < 0) {
		snprintf(why, len, "the collector has not polled yet");
		return -1;
	}
	if (!s->attached || !s->n_ifaces) {
		snprintf(why, len, "not attached to any interface");
		return -1;
	}
	if (age_s > limit) {
		snprintf(why, len, "the collector last polled %.1f s ago (limit %g s: %d poll intervals)",
			 age_s, limit, METRICS_STALE_POLLS);
		return -1;
	}
	snprintf(why, len, "ok");
	return 0;
}

/* ---- snapshot helpers --------------------------------------------------- */

void metrics_observe_poll(struct metrics_snapshot *s, double seconds)
{
	int i = 0;

	while (i < METRICS_POLL_BUCKETS && seconds > metrics_poll_bounds[i])
		i++;
	s->poll_buckets[i]++;
	s->poll_count++;
	s->poll_seconds_sum += seconds;
}

/* ---- HTTP --------------------------------------------------------------- */

/* The snapshot and its age, copied so rendering runs without the lock. */
static void take_snapshot(struct metrics_server *m, struct metrics_snapshot *s, double *age_s)
{
	pthread_mutex_lock(&m->lock);
	*s = m->snap;
	*age_s = m->published ? (clock_ns(CLOCK_MONOTONIC) - m->last_publish_ns) / 1e9 : -1;
	pthread_mutex_unlock(&m->lock);
	s->http_conns_cut = m->conns_cut; /* the HTTP thread's, like this call */
}

static enum MHD_Result respond(struct MHD_Connection *conn, unsigned int status, char *body,
			       const char *type)
{
	struct MHD_Response *r;
	enum MHD_Result ret;

	r = MHD_create_response_from_buffer(strlen(body), body, MHD_RESPMEM_MUST_FREE);
	if (!r) {
		free(body);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	ret = MHD_queue_response(conn, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result respond_text(struct MHD_Connection *conn, unsigned int status,
				    const char *text)
{
	char *body = strdup(text);

	return body ? respond(conn, status, body, "text/plain; charset=utf-8") : MHD_NO;
}

static enum MHD_Result serve_metrics(struct metrics_server *m, struct MHD_Connection *conn)
{
	struct metrics_snapshot s;
	double age_s;
	char *body;

	take_snapshot(m, &s, &age_s);
	body = metrics_render(&s, age_s);
	if (!body)
		return respond_text(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory\n");
	return respond(conn, MHD_HTTP_OK, body, "text/plain; version=0.0.4; charset=utf-8");
}

static enum MHD_Result serve_health(struct metrics_server *m, struct MHD_Connection *conn)
{
	struct metrics_snapshot s;
	char why[160], line[170];
	double age_s;
	int bad;

	take_snapshot(m, &s, &age_s);
	bad = metrics_health(&s, age_s, why, sizeof(why));
	snprintf(line, sizeof(line), "%s\n", why);
	return respond_text(conn, bad ? MHD_HTTP_SERVICE_UNAVAILABLE : MHD_HTTP_OK, line);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
				  const char *method, const char *version, const char *upload_data,
				  size_t *upload_data_size, void **req_cls)
{
	struct metrics_server *m = cls;

	if (strcmp(method, MHD_HTTP_METHOD_GET) && strcmp(method, MHD_HTTP_METHOD_HEAD))
		return respond_text(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "only GET and HEAD\n");
	if (!strcmp(url, "/metrics"))
		return serve_metrics(m, conn);
	if (!strcmp(url, "/healthz"))
		return serve_health(m, conn);
	if (!strcmp(url, "/"))
		return respond_text(conn, MHD_HTTP_OK, "nfxdp: /metrics /healthz\n");
	return respond_text(conn, MHD_HTTP_NOT_FOUND, "not found: try /metrics or /healthz\n");
}

/* ---- connections: slow clients never hold the server --------------------- */

static void conn_cut(struct metrics_server *m, struct metrics_conn *c)
{
	/* libmicrohttpd sees the connection end and closes it (its thread: this one). */
	if (!c->cut && !shutdown(c->fd, SHUT_RDWR))
		m->conns_cut++;
	c->cut = true;
}

/*
 * A new connection: those whose request (or idleness) has run past
 * METRICS_HTTP_REQUEST_MS are closed, then the longest-running ones until
 * METRICS_HTTP_CONNECTIONS are left, the new one included.
 */
static void conns_trim(struct metrics_server *m, const struct metrics_conn *fresh)
{
	uint64_t now = clock_ms(CLOCK_MONOTONIC);
	int live = 0;

	for (int i = 0; i < METRICS_HTTP_CONNECTIONS_MAX; i++) {
		struct metrics_conn *c = &m->conns[i];

		if (c->used && c != fresh && now - c->since_ms > METRICS_HTTP_REQUEST_MS)
			conn_cut(m, c);
		live += c->used && !c->cut;
	}
	while (live > METRICS_HTTP_CONNECTIONS) {
		struct metrics_conn *oldest = NULL;

		for (int i = 0; i < METRICS_HTTP_CONNECTIONS_MAX; i++) {
			struct metrics_conn *c = &m->conns[i];

			if (c->used && !c->cut && c != fresh &&
			    (!oldest || c->since_ms < oldest->since_ms))
				oldest = c;
		}
		if (!oldest)
			break;
		conn_cut(m, oldest);
		live--;
	}
}

static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
			  enum MHD_ConnectionNotificationCode toe)
{
	struct metrics_server *m = cls;
	struct metrics_conn *c = *socket_context;
	const union MHD_ConnectionInfo *info;

	if (toe == MHD_CONNECTION_NOTIFY_CLOSED) {
		if (c)
			c->used = false;
		return;
	}
	info = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
	for (int i = 0; info && i < METRICS_HTTP_CONNECTIONS_MAX; i++) {
		c = &m->conns[i];
		if (c->used)
			continue;
		*c = (struct metrics_conn){ .conn = conn, .fd = info->connect_fd, .used = true,
					    .since_ms = clock_ms(CLOCK_MONOTONIC) };
		*socket_context = c;
		conns_trim(m, c);
		return;
	}
}

/* A request answered: the connection's clock starts again (keep-alive). */
static void on_completed(void *cls, struct MHD_Connection *conn, void **req_cls,
			 enum MHD_RequestTerminationCode toe)
{
	const union MHD_ConnectionInfo *info =
		MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	struct metrics_conn *c = info ? info->socket_context : NULL;

	if (c)
		c->since_ms = clock_ms(CLOCK_MONOTONIC);
}

/*
 * Splits "ADDR:PORT", "[V6]:PORT", ":PORT" or "PORT" into numeric host and
 * port; the address defaults to loopback so nothing is exposed by accident.
 */
static int split_addr(const char *spec, char *host, size_t hlen, char *port, size_t plen)
{
	const char *colon;

	if (!*spec)
		return -1;
	if (strspn(spec, "0123456789") == strlen(spec)) {
		snprintf(host, hlen, "127.0.0.1");
		snprintf(port, plen, "%s", spec);
		return 0;
	}
	if (spec[0] == '[') {
		const char *end = strchr(spec, ']');

		if (!end || end[1] != ':')
			return -1;
		snprintf(host, hlen, "%.*s", (int)(end - spec - 1), spec + 1);
		snprintf(port, plen, "%s", end + 2);
		return 0;
	}
	colon = strrchr(spec, ':');
	if (!colon || memchr(spec, ':', colon - spec))
		return -1; /* no port, or an IPv6 address without brackets */
	snprintf(host, hlen, "%.*s", (int)(colon - spec), spec);
	if (!host[0])
		snprintf(host, hlen, "127.0.0.1");
	snprintf(port, plen, "%s", colon + 1);
	return 0;
}

/* @spec as a socket address, and as "ADDR:PORT" in @canon for messages. */
static int resolve(const char *spec, struct sockaddr_storage *ss, socklen_t *sslen, char *canon,
		   size_t clen)
{
	struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;
	struct sockaddr_in *a4 = (struct sockaddr_in *)ss;
	char host[64], port[16];
	char *end;
	long p;

	if (split_addr(spec, host, sizeof(host), port, sizeof(port))) {
		pr_warn("Couldn't use '%s' as the metrics address: give ADDR:PORT, e.g. %s or "
			"[::1]:9101\n", spec, METRICS_DEFAULT_ADDR);
		return -EINVAL;
	}
	p = strtol(port, &end, 10);
	if (!port[0] || *end || p < 1 || p > 65535) {
		pr_warn("Couldn't use '%s' as the metrics address: port '%s' is not 1..65535\n",
			spec, port);
		return -EINVAL;
	}
	/* Numeric only: no name lookup at start, and no surprise about which address. */
	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, host, &a4->sin_addr) == 1) {
		a4->sin_family = AF_INET;
		a4->sin_port = htons(p);
		*sslen = sizeof(*a4);
	} else if (inet_pton(AF_INET6, host, &a6->sin6_addr) == 1) {
		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons(p);
		*sslen = sizeof(*a6);
	} else {
		pr_warn("Couldn't use '%s' as the metrics address: '%s' is not a numeric IPv4 or "
			"IPv6 address\n", spec, host);
		return -EINVAL;
	}
	snprintf(canon, clen, ss->ss_family == AF_INET6 ? "[%s]:%ld" : "%s:%ld", host, p);
	return 0;
}

/* Our own listening socket, so a busy port gets a precise message. */
static int listen_on(const char *spec, const struct sockaddr_storage *ss, socklen_t sslen)
{
	int one = 1, fd, err;

	fd = socket(ss->ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		err = -errno;
		pr_warn("Couldn't open a socket for metrics on %s: %s\n", spec, strerror(-err));
		return err;
	}
	/* A restart must not wait for the last run's connections in TIME_WAIT. */
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (const struct sockaddr *)ss, sslen) || listen(fd, 32)) {
		err = -errno;
		pr_warn("Couldn't listen for metrics on %s: %s%s\n", spec, strerror(-err),
			err == -EADDRINUSE ? " (another program has that port; pick another with "
					     "--metrics ADDR:PORT)" :
			err == -EADDRNOTAVAIL ? " (no interface here has that address)" : "");
		close(fd);
		return err;
	}
	return fd;
}

int metrics_open(struct metrics_server *m, const char *addr_port)
{
	struct sockaddr_storage ss;
	sigset_t all, old;
	socklen_t sslen;
	int fd, err;

	memset(m, 0, sizeof(*m));
	pthread_mutex_init(&m->lock, NULL);
	err = lazylib_load(&lazy_mhd, "--metrics");
	if (err)
		return err;
	err = resolve(addr_port, &ss, &sslen, m->addr, sizeof(m->addr));
	if (err)
		return err;
	fd = listen_on(m->addr, &ss, sslen);
	if (fd < 0)
		return fd;
	/*
	 * One internal thread: scrapes are rare and cheap, and it never touches
	 * the poll loop. The callbacks that keep slow clients from holding the
	 * connections run in it too. It starts with every signal blocked, so SIGINT and
	 * SIGTERM keep interrupting the collector's thread, not this one.
	 */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	m->daemon = MHD_start_daemon(MHD_USE_POLL_INTERNAL_THREAD, 0, NULL, NULL, on_request, m,
				     MHD_OPTION_LISTEN_SOCKET, fd, MHD_OPTION_CONNECTION_LIMIT,
				     (unsigned int)METRICS_HTTP_CONNECTIONS_MAX,
				     MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)10,
				     MHD_OPTION_NOTIFY_CONNECTION, on_connection, m,
				     MHD_OPTION_NOTIFY_COMPLETED, on_completed, m, MHD_OPTION_END);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (!m->daemon) {
		close(fd);
		pr_warn("Couldn't start the metrics HTTP server on %s\n", m->addr);
		return -EIO;
	}
	pr_info("metrics on http://%s/metrics and /healthz\n", m->addr);
	return 0;
}

void metrics_publish(struct metrics_server *m, const struct metrics_snapshot *s)
{
	uint64_t t = clock_ns(CLOCK_MONOTONIC);

	pthread_mutex_lock(&m->lock);
	m->snap = *s;
	m->published = true;
	m->last_publish_ns = t;
	pthread_mutex_unlock(&m->lock);
}

void metrics_close(struct metrics_server *m)
{
	if (m->daemon)
		MHD_stop_daemon(m->daemon); /* joins the thread and closes the socket */
	m->daemon = NULL;
	pthread_mutex_destroy(&m->lock);
}
