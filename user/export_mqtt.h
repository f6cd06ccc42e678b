/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * MQTT export: each batch, the packed FlowBatch exactly as ZeroMQ carries
 * it, is one message on one topic (QoS 1 by default). libmosquitto runs its
 * network loop in its own thread and reconnects by itself; publishing only
 * queues. Messages not yet acknowledged are bounded: past the bound, and
 * while the broker is unreachable for that long, batches are dropped and
 * counted, never waited for.
 */
#ifndef NFXDP_EXPORT_MQTT_H
#define NFXDP_EXPORT_MQTT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MQTT_DEFAULT_TOPIC "nfxdp/flows"

struct mqtt_opts {
	const char *topic;     /* NULL: the URL's path, else MQTT_DEFAULT_TOPIC */
	int qos;	       /* 0, 1 (default) or 2 */
	const char *client_id; /* NULL: nfxdp-HOSTNAME-PID */
	const char *username;  /* NULL: none */
	const char *password;
	const char *ca_file;   /* mqtts: CA to verify the broker (NULL: the system's) */
	const char *cert_file; /* mqtts: client certificate and key, if the broker asks */
	const char *key_file;
	uint32_t max_pending;  /* batches queued and not acknowledged (default 1000) */
	int keepalive_s;       /* default 30 */
};

struct mqtt_exporter {
	struct mosquitto *mosq;
	char url[256];
	char host[256];
	int port;
	bool tls;
	char topic[256];
	int qos;
	uint32_t max_pending;
	bool lib_init;
	/* Written by libmosquitto's thread: read and changed atomically. */
	uint64_t pending;	/* published, not yet acknowledged */
	uint64_t batches_acked; /* delivered to the broker (QoS 0: written) */
	uint64_t connects;
	bool connected;
	/* The caller's. */
	uint64_t batches_queued;
	uint64_t batches_dropped; /* full, or never acknowledged before close */
	uint64_t bytes_queued;
	bool warned_full;
};

void mqtt_opts_default(struct mqtt_opts *o);
/*
 * Connects to @url (mqtt://HOST[:PORT][/TOPIC], port 1883; mqtts://... for
 * TLS, port 8883) in the background: a broker that is down is retried, only
 * a bad URL or TLS setting fails here.
 */
int mqtt_exporter_open(struct mqtt_exporter *m, const char *url, const struct mqtt_opts *o);
/* Queues one packed batch; returns 0, or -EAGAIN when it was dropped. */
int mqtt_exporter_send(struct mqtt_exporter *m, const void *buf, size_t len);
/* Waits up to @linger_ms for acknowledgements, then disconnects. */
void mqtt_exporter_close(struct mqtt_exporter *m, int linger_ms);

/* Parses an mqtt:// or mqtts:// URL into @m's host, port, tls and topic. */
int mqtt_parse_url(struct mqtt_exporter *m, const char *url);

#endif /* NFXDP_EXPORT_MQTT_H */
