// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <mosquitto.h>

#include "export_mqtt.h"
#include "log.h"

#define MQTT_PORT 1883
#define MQTTS_PORT 8883
#define CLIENT_ID_MAX 23 /* every MQTT 3.1.1 broker must take this many bytes */
#define OS_CA_PATH "/etc/ssl/certs"

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

/* libmosquitto's thread: the broker took the connection or refused it. */
static void on_connect(struct mosquitto *mosq, void *obj, int rc)
{
	struct mqtt_exporter *m = obj;

	if (rc) {
		if (__atomic_exchange_n(&m->connected, false, __ATOMIC_RELAXED) || !m->connects)
			pr_warn("Couldn't connect to MQTT broker %s: %s (retrying)\n", m->url,
				mosquitto_connack_string(rc));
		return;
	}
	__atomic_store_n(&m->connected, true, __ATOMIC_RELAXED);
	__atomic_add_fetch(&m->connects, 1, __ATOMIC_RELAXED);
	pr_info("MQTT: connected to %s, publishing on %s\n", m->url, m->topic);
}

static void on_disconnect(struct mosquitto *mosq, void *obj, int rc)
{
	struct mqtt_exporter *m = obj;

	/* rc 0: we asked for it at close. */
	if (rc && __atomic_exchange_n(&m->connected, false, __ATOMIC_RELAXED))
		pr_warn("Couldn't stay connected to MQTT broker %s: %s (reconnecting; batches "
			"queue up to the limit, then are dropped)\n",
			m->url, mosquitto_strerror(rc));
}

/* QoS 1 and 2: the broker acknowledged; QoS 0: the message was written. */
static void on_publish(struct mosquitto *mosq, void *obj, int mid)
{
	struct mqtt_exporter *m = obj;

	__atomic_sub_fetch(&m->pending, 1, __ATOMIC_RELAXED);
	__atomic_add_fetch(&m->batches_acked, 1, __ATOMIC_RELAXED);
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
	mosquitto_disconnect_callback_set(m->mosq, on_disconnect);
	mosquitto_publish_callback_set(m->mosq, on_publish);
	mosquitto_reconnect_delay_set(m->mosq, 1, 30, true);
	if (o->username) {
		rc = mosquitto_username_pw_set(m->mosq, o->username, o->password);
		if (rc) {
			pr_warn("Couldn't set the MQTT user name: %s\n", mosq_error(rc));
			return -EINVAL;
		}
	}
	return m->tls ? tls_setup(m, o) : 0;
}

int mqtt_exporter_open(struct mqtt_exporter *m, const char *url, const struct mqtt_opts *o)
{
	struct mqtt_opts def;
	int rc;

	memset(m, 0, sizeof(*m));
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
	if (o->qos < 0 || o->qos > 2) {
		pr_warn("Couldn't use MQTT QoS %d: it is 0, 1 or 2\n", o->qos);
		return -EINVAL;
	}
	m->qos = o->qos;
	m->max_pending = o->max_pending ? o->max_pending : 1000;
	mosquitto_lib_init();
	m->lib_init = true;
	if (client_setup(m, o))
		goto fail;
	/* A broker that is down now is retried by the loop thread. */
	rc = mosquitto_connect_async(m->mosq, m->host, m->port, o->keepalive_s ? o->keepalive_s : 30);
	if (rc == MOSQ_ERR_ERRNO)
		pr_warn("Couldn't connect to MQTT broker %s: %s (retrying)\n", url, strerror(errno));
	else if (rc) {
		pr_warn("Couldn't connect to MQTT broker %s: %s\n", url, mosq_error(rc));
		goto fail;
	}
	rc = mosquitto_loop_start(m->mosq);
	if (rc) {
		pr_warn("Couldn't start the MQTT network thread: %s\n", mosq_error(rc));
		goto fail;
	}
	return 0;
fail:
	mqtt_exporter_close(m, 0);
	return -EINVAL;
}

int mqtt_exporter_send(struct mqtt_exporter *m, const void *buf, size_t len)
{
	int rc;

	if (__atomic_load_n(&m->pending, __ATOMIC_RELAXED) >= m->max_pending) {
		if (!m->warned_full)
			pr_warn("Couldn't queue a batch for MQTT broker %s: %u batches await its "
				"acknowledgement (dropping until it catches up)\n",
				m->url, m->max_pending);
		m->warned_full = true;
		m->batches_dropped++;
		return -EAGAIN;
	}
	m->warned_full = false;
	/* Counted before publishing: the acknowledgement may come first. */
	__atomic_add_fetch(&m->pending, 1, __ATOMIC_RELAXED);
	rc = mosquitto_publish(m->mosq, NULL, m->topic, len, buf, m->qos, false);
	if (rc) {
		__atomic_sub_fetch(&m->pending, 1, __ATOMIC_RELAXED);
		m->batches_dropped++;
		return -EAGAIN;
	}
	m->batches_queued++;
	m->bytes_queued += len;
	return 0;
}

static void wait_acks(struct mqtt_exporter *m, int linger_ms)
{
	struct timespec ts = { 0, 10 * 1000000L };

	for (int waited = 0; waited < linger_ms; waited += 10) {
		if (!__atomic_load_n(&m->pending, __ATOMIC_RELAXED))
			return;
		nanosleep(&ts, NULL);
	}
}

void mqtt_exporter_close(struct mqtt_exporter *m, int linger_ms)
{
	if (m->mosq) {
		wait_acks(m, linger_ms);
		/* Never acknowledged: as good as dropped. */
		m->batches_dropped += __atomic_exchange_n(&m->pending, 0, __ATOMIC_RELAXED);
		mosquitto_disconnect(m->mosq);
		mosquitto_loop_stop(m->mosq, false);
		mosquitto_destroy(m->mosq);
		m->mosq = NULL;
	}
	if (m->lib_init)
		mosquitto_lib_cleanup();
	m->lib_init = false;
}
