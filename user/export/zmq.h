/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * ZeroMQ export: batches on an XPUB socket as two-frame messages
 * [topic "flows"][FlowBatch]. Sending never blocks: a subscriber past its
 * high-water mark costs a dropped batch, counted, and a sequence gap it sees.
 *
 * PUB/SUB gives nothing to a subscriber before its subscription arrives, so
 * for --zmq-wait after the socket is bound the sink holds batches back
 * (at most a high-water mark of them) until a first subscriber joins; the
 * wait never blocks the caller (see holding()).
 *
 * Subscriptions are the one thing peers send, and libzmq keeps every one
 * in a trie: a message from a peer is at most 128 bytes (512 with CURVE; a
 * longer one costs it the connection), and a peer that subscribes to more
 * than ZMQ_FOREIGN_SUB_MAX topics nfxdp does not publish (or 16 KiB of
 * them) is cut off, as is any flood that keeps the loop in libzmq
 * (zmq_guard.h).
 */
#ifndef NFXDP_EXPORT_ZMQ_H
#define NFXDP_EXPORT_ZMQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "export/exporter.h"
#include "export/zmq_guard.h"

/* Loopback: publishing beyond the host is a choice (--zmq tcp://0.0.0.0:5556). */
#define DEFAULT_ZMQ_ENDPOINT "tcp://127.0.0.1:5556"
#define ZMQ_TOPIC_FLOWS "flows"
#define ZMQ_TOPIC_FLOWS_DEFLATED "flowsz" /* zlib-compressed FlowBatch */
#define ZMQ_TOPIC_STATS "stats"		  /* a JSON object of counters */

/* How long the sink holds batches for a first subscriber by default (--zmq-wait). */
#define ZMQ_WAIT_MS_DEFAULT 2000
/* Subscriptions to other topics a peer may send before it is disconnected. */
#define ZMQ_FOREIGN_SUB_MAX 256
/* Subscription messages read per service call, so a flood cannot stall the loop. */
#define ZMQ_SUB_READS_MAX 1024

/* A batch held back while the sink waits for a first subscriber. */
struct zmq_held {
	void *buf;
	size_t len;
	size_t flows;
};

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

	uint64_t wait_until_ms; /* monotonic; 0: no longer waiting for a first subscriber */
	struct zmq_held *held;	/* FIFO of batches held back, at most held_cap */
	size_t held_n, held_cap;

	struct zmq_guard guard;	      /* cuts rogue peers off */
	uint32_t foreign_subs;	      /* since the last rogue peer was named ... */
	uint64_t foreign_bytes;	      /* ... and their bytes */
	uint64_t subs_refused;	      /* subscriptions to topics nfxdp does not publish */
	uint64_t warned_ms;	      /* the last rogue named, and when */
	char warned_addr[64];
};

/* Batches per subscriber queue, for a high-water mark from a memory budget. */
int zmq_hwm_for(uint32_t batch_flows, bool statistical, uint32_t splt);

struct zmq_opts {
	const char *endpoint;
	bool compress;		/* deflated batches on the topic "flowsz" */
	const char *curve_key;	/* CURVE key pair file: an encrypted stream; NULL: plain */
	int hwm;		/* batches queued per subscriber: zmq_hwm_for() */
	uint64_t wait_ms;	/* hold batches this long for a first subscriber; 0: never */
};

/* The ZeroMQ sink behind the exporter interface; NULL (and *err) after a message. */
struct exporter *zmq_exporter_new(const struct zmq_opts *o, int *err);

#endif /* NFXDP_EXPORT_ZMQ_H */
