/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * ZeroMQ export: batches on an XPUB socket as two-frame messages
 * [topic "flows"][FlowBatch]. Sending never blocks: a subscriber past its
 * high-water mark costs a dropped batch, counted, and a sequence gap it sees.
 */
#ifndef NFXDP_EXPORT_ZMQ_H
#define NFXDP_EXPORT_ZMQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "export/exporter.h"

/* Loopback: publishing beyond the host is a choice (--zmq tcp://0.0.0.0:5556). */
#define DEFAULT_ZMQ_ENDPOINT "tcp://127.0.0.1:5556"
#define ZMQ_TOPIC_FLOWS "flows"
#define ZMQ_TOPIC_FLOWS_DEFLATED "flowsz" /* zlib-compressed FlowBatch */
#define ZMQ_TOPIC_STATS "stats"		  /* a JSON object of counters */

struct zmq_exporter {
	struct exporter base;
	void *ctx;
	void *sock;
	char endpoint[256];
	uint64_t batches_sent;
	uint64_t batches_dropped;  /* refused by ZeroMQ (out of memory) */
	uint64_t batches_unheard;  /* published while nobody subscribed to flows */
	uint64_t bytes_sent;
	uint64_t records_sent, records_dropped;
	int subscribers;
	bool compress;
	uint8_t *zbuf; /* deflated batch */
	size_t zcap;
};

/*
 * @curve_key: a CURVE key pair file (encrypts the stream), or NULL.
 * @hwm: batches queued for one subscriber before it loses the next ones.
 */
int zmq_exporter_open(struct zmq_exporter *zx, const char *endpoint, bool compress,
		      const char *curve_key, int hwm);
/* Bytes of one batch, estimated, for a high-water mark from a memory budget. */
int zmq_hwm_for(uint32_t batch_flows, bool statistical, uint32_t splt);
/* Returns 0 when queued, -EAGAIN or -ENOMEM when refused (counted). */
int zmq_exporter_send(struct zmq_exporter *zx, const void *buf, size_t len);
/* Sends one message on @topic; 0, or -EAGAIN when dropped. */
int zmq_exporter_send_topic(struct zmq_exporter *zx, const char *topic, const void *buf,
			    size_t len);
/* Waits up to @timeout_ms for a first subscriber; true when there is one. */
bool zmq_exporter_wait(struct zmq_exporter *zx, int timeout_ms);
/* Takes in (un)subscriptions: keeps the subscriber count. */
void zmq_exporter_service(struct zmq_exporter *zx);
/* Closes, giving queued batches up to @linger_ms to leave. */
void zmq_exporter_close(struct zmq_exporter *zx, int linger_ms);

struct zmq_opts {
	const char *endpoint;
	bool compress;		/* deflated batches on the topic "flowsz" */
	const char *curve_key;	/* CURVE key pair file: an encrypted stream; NULL: plain */
	int hwm;		/* batches queued per subscriber: zmq_hwm_for() */
};

/* The ZeroMQ sink behind the exporter interface; NULL (and *err) after a message. */
struct exporter *zmq_exporter_new(const struct zmq_opts *o, int *err);

#endif /* NFXDP_EXPORT_ZMQ_H */
