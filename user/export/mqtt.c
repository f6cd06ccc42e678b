// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <mosquitto.h>

#include "common/clock.h"
#include "common/lazylib.h"
#include "export/mqtt.h"
#include "common/log.h"

#define MQTT_PORT 1883
#define MQTTS_PORT 8883
#define CLIENT_ID_MAX 23 /* every MQTT 3.1.1 broker must take this many bytes */
#define OS_CA_PATH "/etc/ssl/certs"
#define MQTT_CONNECT_TIMEOUT_MS 10000 /* a broker that never answers a connection attempt */

void mqtt_opts_default(struct mqtt_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->qos = 1;
	o->max_pending = 1000;
	o->keepalive_s = 30;
}

static int parse_host(struct mqtt_exporter *m, const char *s, const char **rest)
{
	size_t n;

	if (*s == '[') {
		const char *end = strchr(s, ']');

		if (!end)
			return -EINVAL;
		n = end - s - 1;
		s++;
		*rest = end + 1;
	} else {
		n = strcspn(s, ":/");
		*rest = s + n;
	}
	if (!n || n >= sizeof(m->host))
		return -EINVAL;
	memcpy(m->host, s, n);
	m->host[n] = '\0';
	return 0;
}

int mqtt_parse_url(struct mqtt_exporter *m, const char *url)
{
	const char *p;
	char *end;

	if (!strncmp(url, "mqtt://", 7)) {
		m->tls = false;
		m->port = MQTT_PORT;
		p = url + 7;
	} else if (!strncmp(url, "mqtts://", 8)) {
		m->tls = true;
		m->port = MQTTS_PORT;
		p = url + 8;
	} else {
		return -EINVAL;
	}
	if (parse_host(m, p, &p))
		return -EINVAL;
	if (*p == ':') {
		long port = strtol(p + 1, &end, 10);

		if (end == p + 1 || port < 1 || port > 65535 || (*end && *end != '/'))
			return -EINVAL;
		m->port = port;
		p = end;
	}
	m->topic[0] = '\0';
	if (*p == '/' && p[1])
		snprintf(m->topic, sizeof(m->topic), "%s", p + 1);
	return *p && *p != '/' ? -EINVAL : 0;
}

static const char *mosq_error(int rc)
{
	return rc == MOSQ_ERR_ERRNO ? strerror(errno) : mosquitto_strerror(rc);
}

static int tls_setup(struct mqtt_exporter *m, const struct mqtt_opts *o)
{
	int rc;

	/* Without a CA file the broker must present a certificate the system trusts. */
	if (!o->ca_file)
		mosquitto_int_option(m->mosq, MOSQ_OPT_TLS_USE_OS_CERTS, 1);
	rc = mosquitto_tls_set(m->mosq, o->ca_file, o->ca_file ? NULL : OS_CA_PATH, o->cert_file,
			       o->key_file, NULL);
	if (rc)
		pr_warn("Couldn't set up TLS for MQTT broker %s: %s (check the CA, certificate "
			"and key files)\n",
			m->url, mosq_error(rc));
	return rc ? -EINVAL : 0;
}

char *mqtt_password_file(const char *path)
{
	FILE *f = fopen(path, "r");
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;

	if (!f) {
		pr_warn("Couldn't open MQTT password file %s: %s\n", path, strerror(errno));
		return NULL;
	}
	n = getline(&line, &cap, f);
	fclose(f);
	if (n < 0) {
		pr_warn("Couldn't read MQTT password file %s: it is empty\n", path);
		free(line);
		return NULL;
	}
	line[strcspn(line, "\r\n")] = '\0';
	return line;
}

/* nfxdp-PID-HOST, cut to the length every broker takes. */
static void client_id(char *buf, size_t len, const struct mqtt_opts *o)
{
	char host[64];

	if (o->client_id) {
		snprintf(buf, len, "%s", o->client_id);
		return;
	}
	if (gethostname(host, sizeof(host)))
		snprintf(host, sizeof(host), "unknown");
	host[sizeof(host) - 1] = '\0';
	snprintf(buf, len, "nfxdp-%d-%s", getpid(), host);
	if (len > CLIENT_ID_MAX)
		buf[CLIENT_ID_MAX] = '\0';
}

/* Inside mosquitto_loop(): the broker took the connection or refused it. */
static void on_connect(struct mosquitto *mosq, void *obj, int rc)
{
	struct mqtt_exporter *m = obj;

	if (rc) {
		if (!m->failing)
			pr_warn("Couldn't connect to MQTT broker %s: %s (retrying)\n", m->url,
				mosquitto_connack_string(rc));
		m->failing = true;
		return;
	}
	if (m->failing || !m->connects)
		pr_info("MQTT: connected to %s, publishing on %s\n", m->url, m->topic);
	m->connected = true;
	m->failing = false;
	m->connects++;
	m->backoff_s = 1;
}

/* QoS 1 and 2: the broker acknowledged; QoS 0: the message was written. */
static void on_publish(struct mosquitto *mosq, void *obj, int mid)
{
	struct mqtt_exporter *m = obj;

	if (m->in_flight)
		m->in_flight--;
	m->batches_acked++;
}

static int client_setup(struct mqtt_exporter *m, const struct mqtt_opts *o)
{
	char id[256];
	int rc;

	client_id(id, sizeof(id), o);
	m->mosq = mosquitto_new(id, true, m);
	if (!m->mosq) {
		pr_warn("Couldn't create an MQTT client: %s\n", strerror(errno));
		return -ENOMEM;
	}
	mosquitto_connect_callback_set(m->mosq, on_connect);
	mosquitto_publish_callback_set(m->mosq, on_publish);
	if (o->username) {
		rc = mosquitto_username_pw_set(m->mosq, o->username, o->password);
		if (rc) {
			pr_warn("Couldn't set the MQTT user name: %s\n", mosq_error(rc));
			return -EINVAL;
		}
	}
	return m->tls ? tls_setup(m, o) : 0;
}

/* The connection failed or broke: try again later, backing off to 30 s. */
static void lost(struct mqtt_exporter *m, int rc)
{
	if (!m->failing)
		pr_warn("Couldn't %s MQTT broker %s: %s (retrying; batches wait, up to the "
			"limit)\n",
			m->connected ? "stay connected to" : "connect to", m->url, mosq_error(rc));
	m->failing = true;
	m->connected = false;
	m->retry_ms = clock_ms(CLOCK_MONOTONIC) + m->backoff_s * 1000ULL;
	m->backoff_s = m->backoff_s >= 16 ? 30 : m->backoff_s * 2;
}

static void reconnect(struct mqtt_exporter *m)
{
	int rc = mosquitto_reconnect_async(m->mosq);

	m->attempt_ms = clock_ms(CLOCK_MONOTONIC);
	m->attempt_failed = false;
	if (rc)
		lost(m, rc);
}

/*
 * An attempt that has not connected yet: failed, or not answered in time.
 * libmosquitto (2.0) says nothing when the TCP connection under a TLS one is
 * refused: it goes on looping on a dead socket. Its socket tells (an error,
 * or a hang-up); the broker's silence is bounded by MQTT_CONNECT_TIMEOUT_MS.
 */
static void check_attempt(struct mqtt_exporter *m, int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLOUT };
	socklen_t len = sizeof(int);
	int err = 0;

	if (m->connected || m->attempt_failed)
		return;
	if (poll(&p, 1, 0) > 0 && (p.revents & (POLLERR | POLLHUP))) {
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) || !err)
			err = ECONNREFUSED; /* read by libmosquitto already */
	} else if (clock_ms(CLOCK_MONOTONIC) - m->attempt_ms >= MQTT_CONNECT_TIMEOUT_MS) {
		err = ETIMEDOUT;
	}
	if (!err)
		return;
	m->attempt_failed = true;
	errno = err;
	lost(m, MOSQ_ERR_ERRNO);
}

static int publish(struct mqtt_exporter *m, const void *buf, size_t len)
{
	int rc;

	/* Counted first: a QoS 0 message is acknowledged as it is written. */
	m->in_flight++;
	rc = mosquitto_publish(m->mosq, NULL, m->topic, len, buf, m->qos, false);
	if (rc && m->in_flight)
		m->in_flight--;
	return rc;
}

/* Batches held while the broker was away go first, in order. */
static void release_held(struct mqtt_exporter *m)
{
	while (m->held_n && m->connected) {
		struct mqtt_held *h = &m->held[m->held_head];

		if (publish(m, h->buf, h->len))
			return;
		free(h->buf);
		h->buf = NULL;
		m->held_head = (m->held_head + 1) % m->max_pending;
		m->held_n--;
	}
}

void mqtt_exporter_service(struct mqtt_exporter *m)
{
	int rc;

	if (!m->mosq)
		return;
	if (mosquitto_socket(m->mosq) < 0 || m->attempt_failed) {
		m->connected = false;
		if (clock_ms(CLOCK_MONOTONIC) >= m->retry_ms)
			reconnect(m);
		return;
	}
	check_attempt(m, mosquitto_socket(m->mosq));
	if (m->attempt_failed)
		return;
	rc = mosquitto_loop(m->mosq, 0, 1);
	if (rc)
		lost(m, rc);
	else
		release_held(m);
}

static int hold(struct mqtt_exporter *m, const void *buf, size_t len)
{
	struct mqtt_held *h = &m->held[(m->held_head + m->held_n) % m->max_pending];

	h->buf = malloc(len ? len : 1);
	if (!h->buf)
		return -ENOMEM;
	memcpy(h->buf, buf, len);
	h->len = len;
	m->held_n++;
	return 0;
}

int mqtt_exporter_send(struct mqtt_exporter *m, const void *buf, size_t len)
{
	mqtt_exporter_service(m);
	if (m->in_flight + m->held_n >= m->max_pending) {
		if (!m->warned_full)
			pr_warn("Couldn't queue a batch for MQTT broker %s: %u batches wait for it "
				"(dropping until it catches up)\n",
				m->url, m->max_pending);
		m->warned_full = true;
		m->batches_dropped++;
		return -EAGAIN;
	}
	m->warned_full = false;
	if ((!m->connected || m->held_n || publish(m, buf, len)) && hold(m, buf, len)) {
		m->batches_dropped++;
		return -EAGAIN;
	}
	m->batches_queued++;
	m->bytes_queued += len;
	return 0;
}

int mqtt_exporter_open(struct mqtt_exporter *m, const char *url, const struct mqtt_opts *o)
{
	struct mqtt_opts def;
	int rc;

	memset(m, 0, sizeof(*m));
	if (lazylib_load(&lazy_mosquitto, "MQTT output"))
		return -ENOENT;
	if (!o) {
		mqtt_opts_default(&def);
		o = &def;
	}
	snprintf(m->url, sizeof(m->url), "%s", url);
	if (mqtt_parse_url(m, url)) {
		pr_warn("Couldn't parse MQTT URL %s: expected mqtt://HOST[:PORT][/TOPIC] or "
			"mqtts://...\n",
			url);
		return -EINVAL;
	}
	if (o->topic || !m->topic[0])
		snprintf(m->topic, sizeof(m->topic), "%s", o->topic ? o->topic : MQTT_DEFAULT_TOPIC);
	if (mosquitto_pub_topic_check(m->topic) != MOSQ_ERR_SUCCESS) {
		pr_warn("Couldn't publish on MQTT topic '%s': not a topic name (no + or #)\n",
			m->topic);
		return -EINVAL;
	}
	if (o->qos < 0 || o->qos > 2) {
		pr_warn("Couldn't use MQTT QoS %d: it is 0, 1 or 2\n", o->qos);
		return -EINVAL;
	}
	m->qos = o->qos;
	m->max_pending = o->max_pending ? o->max_pending : 1000;
	m->backoff_s = 1;
	m->held = calloc(m->max_pending, sizeof(*m->held));
	mosquitto_lib_init();
	m->lib_init = true;
	if (!m->held || client_setup(m, o))
		goto fail;
	/* Non-blocking connect; a broker that is down now is retried by service. */
	rc = mosquitto_connect_async(m->mosq, m->host, m->port, o->keepalive_s ? o->keepalive_s : 30);
	m->attempt_ms = clock_ms(CLOCK_MONOTONIC);
	if (rc == MOSQ_ERR_INVAL) {
		pr_warn("Couldn't connect to MQTT broker %s: %s\n", url, mosq_error(rc));
		goto fail;
	}
	if (rc)
		lost(m, rc);
	return 0;
fail:
	mqtt_exporter_close(m, 0);
	return -EINVAL;
}

/* Gives the broker up to @linger_ms to take what waits and acknowledge it. */
static void drain(struct mqtt_exporter *m, int linger_ms)
{
	struct timespec ts = { 0, 5 * 1000000L };
	uint64_t end = clock_ms(CLOCK_MONOTONIC) + (linger_ms > 0 ? linger_ms : 0);

	while ((m->in_flight || m->held_n) && clock_ms(CLOCK_MONOTONIC) < end) {
		mqtt_exporter_service(m);
		nanosleep(&ts, NULL);
	}
}

void mqtt_exporter_close(struct mqtt_exporter *m, int linger_ms)
{
	if (m->mosq) {
		drain(m, linger_ms);
		/* Never acknowledged: as good as dropped. */
		m->batches_dropped += m->in_flight + m->held_n;
		if (m->connected)
			mosquitto_disconnect(m->mosq);
		mosquitto_destroy(m->mosq);
		m->mosq = NULL;
	}
	for (; m->held_n; m->held_n--) {
		free(m->held[m->held_head].buf);
		m->held_head = (m->held_head + 1) % m->max_pending;
	}
	free(m->held);
	m->held = NULL;
	m->in_flight = 0;
	if (m->lib_init)
		mosquitto_lib_cleanup();
	m->lib_init = false;
}

/* ---- the exporter interface --------------------------------------------- */

#define MX(x) ((struct mqtt_exporter *)(x))

static int mx_send(struct exporter *x, const struct batch_view *b)
{
	int err = mqtt_exporter_send(MX(x), b->packed, b->len);

	if (err)
		MX(x)->records_refused += b->msg->n_flows;
	else
		MX(x)->records_queued += b->msg->n_flows;
	return err;
}

/*
 * The end-of-stream batch: one more message, so a subscriber knows it has
 * them all. Not a batch of flows: counted apart from them when lost.
 */
static int mx_end(struct exporter *x, const struct batch_view *end, const char *json, size_t len)
{
	struct mqtt_exporter *m = MX(x);

	if (!mqtt_exporter_send(m, end->packed, end->len)) {
		m->end_queued = true;
		return 0;
	}
	m->batches_dropped--;
	m->end_lost = true;
	return -EAGAIN;
}

static void mx_service(struct exporter *x)
{
	mqtt_exporter_service(MX(x));
}

static void mx_stats(struct exporter *x, struct exporter_stats *st)
{
	st->batches_sent = MX(x)->batches_acked;
	st->batches_dropped = MX(x)->batches_dropped;
	st->records_sent = MX(x)->records_queued;
	st->records_dropped = MX(x)->records_refused;
}

static int mx_own_stats(struct exporter *x, struct stat_item *items, int max)
{
	const struct stat_item own[] = {
		{ "mqtt_batches_acked", MX(x)->batches_acked },
		{ "mqtt_batches_dropped", MX(x)->batches_dropped },
		{ "mqtt_batches_waiting", MX(x)->in_flight + MX(x)->held_n },
	};

	return exporter_put_stats(items, max, own, sizeof(own) / sizeof(own[0]));
}

static int mx_close(struct exporter *x, int linger_ms)
{
	struct mqtt_exporter *m = MX(x);
	uint64_t before = m->batches_dropped, dropped;

	mqtt_exporter_close(m, linger_ms);
	/* Sent last: what is left unacknowledged at close ends with it. */
	if (m->end_queued && m->batches_dropped > before) {
		m->batches_dropped--;
		m->end_lost = true;
	}
	dropped = m->batches_dropped;
	if (dropped || m->end_lost)
		pr_warn("%" PRIu64 " batch(es) of flows were not delivered to MQTT broker %s "
			"(refused, or never acknowledged)%s\n", dropped, m->url,
			m->end_lost ? ", nor the end of the stream" : "");
	free(m->password);
	free(x);
	return dropped || m->end_lost ? -EIO : 0;
}

static const struct exporter_ops mqtt_ops = {
	.name = "mqtt",
	.send = mx_send,
	.service = mx_service,
	.stats = mx_stats,
	.own_stats = mx_own_stats,
	.end = mx_end,
	.close = mx_close,
};

struct exporter *mqtt_exporter_new(const char *url, const struct mqtt_opts *o, int *err)
{
	struct mqtt_opts with_password = *o;
	struct mqtt_exporter *m = calloc(1, sizeof(*m));
	char *password = NULL;

	*err = m ? 0 : -ENOMEM;
	if (m && o->password_file) {
		password = mqtt_password_file(o->password_file);
		with_password.password = password;
		*err = password ? 0 : -EINVAL;
	}
	if (!*err)
		*err = mqtt_exporter_open(m, url, &with_password);
	if (*err) {
		free(password);
		free(m);
		return NULL;
	}
	m->password = password;
	m->base.ops = &mqtt_ops;
	return &m->base;
}
