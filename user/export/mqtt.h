/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * MQTT export: each batch, the packed FlowBatch exactly as ZeroMQ carries
 * it, is one message on one topic (QoS 1 by default). Nothing blocks the
 * caller: libmosquitto's socket is non-blocking and driven from here
 * (mqtt_exporter_service(), every collector tick, and each send), with
 * reconnection and backoff. While the broker is away batches wait in a
 * bounded queue; past the bound they are dropped and counted.
 */
#ifndef NFXDP_EXPORT_MQTT_H
#define NFXDP_EXPORT_MQTT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "export/exporter.h"

#define MQTT_DEFAULT_TOPIC "nfxdp/flows"

struct mqtt_opts {
	const char *topic;     /* NULL: the URL's path, else MQTT_DEFAULT_TOPIC */
	int qos;	       /* 0, 1 (default) or 2 */
	const char *client_id; /* NULL: nfxdp-PID-HOSTNAME, cut to 23 bytes */
	const char *username;  /* NULL: none */
	const char *password;
	const char *password_file; /* mqtt_exporter_new(): the password is its first line */
	const char *ca_file;   /* mqtts: CA to verify the broker (NULL: the system's) */
	const char *cert_file; /* mqtts: client certificate and key, if the broker asks */
	const char *key_file;
	uint32_t max_pending;  /* batches held or not yet acknowledged (default 1000) */
	int keepalive_s;       /* default 30 */
};

/* A batch held while the broker is away. */
struct mqtt_held {
	void *buf;
	size_t len;
};

struct mqtt_exporter {
	struct exporter base;
	struct mosquitto *mosq;
	char url[256];
	char host[256];
	int port;
	bool tls;
	char topic[256];
	int qos;
	uint32_t max_pending;
	bool lib_init;

	bool connected;	  /* the broker took our CONNECT */
	bool failing;	  /* down: warn once per outage, not per attempt */
	uint64_t retry_ms; /* next connection attempt (monotonic) */
	uint64_t attempt_ms; /* the current attempt began */
	bool attempt_failed; /* its socket failed: the next retry starts a new one */
	unsigned backoff_s;

	struct mqtt_held *held; /* FIFO ring of batches waiting for a connection */
	size_t held_head, held_n;
	uint64_t in_flight; /* given to libmosquitto, not yet acknowledged */

	/* Counters. */
	uint64_t batches_queued;  /* taken by send (held or published) */
	uint64_t batches_acked;	  /* acknowledged by the broker (QoS 0: written) */
	uint64_t batches_dropped; /* queue full, or not acknowledged by close */
	/* The end-of-stream batch: queued last, lost if anything is unacknowledged at close. */
	bool end_queued, end_lost;
	uint64_t bytes_queued;
	uint64_t connects;
	uint64_t records_queued, records_refused; /* in batches taken by send, or refused */
	char *password; /* read from opts.password_file */
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
/* Reads acknowledgements, writes what waits, reconnects when due; never blocks. */
void mqtt_exporter_service(struct mqtt_exporter *m);
/* Waits up to @linger_ms for acknowledgements, then disconnects. */
void mqtt_exporter_close(struct mqtt_exporter *m, int linger_ms);
/* The MQTT sink behind the exporter interface; NULL (and *err) after a message. */
struct exporter *mqtt_exporter_new(const char *url, const struct mqtt_opts *o, int *err);

/*
 * The first line of @path, for mqtt_opts.password: a password on the
 * command line would show in ps. Returns it allocated, or NULL after a message.
 */
char *mqtt_password_file(const char *path);
/* Parses an mqtt:// or mqtts:// URL into @m's host, port, tls and topic. */
int mqtt_parse_url(struct mqtt_exporter *m, const char *url);

#endif /* NFXDP_EXPORT_MQTT_H */
