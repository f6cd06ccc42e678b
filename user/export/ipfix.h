/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * IPFIX export (RFC 7011) of flow batches as biflows (RFC 5103), over UDP
 * or TCP. Two templates, one for IPv4 flows and one for IPv6 flows, carry
 * IANA information elements for the forward (src2dst) direction, RFC 5103
 * reverse elements (PEN 29305) for dst2src, and nfxdp's own elements under
 * IPFIX_PEN_NFXDP; or, for collectors that drop reverse elements, a
 * uniflow record per direction. docs/stream.md lists every element.
 *
 * Sending never blocks the caller for long: UDP datagrams go out
 * non-blocking, TCP messages queue in a bounded buffer drained without
 * blocking. What cannot leave is counted, never fatal.
 */
#ifndef NFXDP_EXPORT_IPFIX_H
#define NFXDP_EXPORT_IPFIX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "export/exporter.h"
#include "flow.pb-c.h"

#define IPFIX_VERSION 10
#define IPFIX_DEFAULT_PORT "4739"

/* RFC 5103: reverse information elements are IANA's under this PEN. */
#define IPFIX_PEN_REVERSE 29305
/*
 * nfxdp's own elements (tunnel id, expiration id). 32473 is the PEN that
 * RFC 5612 reserves for documentation and examples: nfxdp has no PEN of its
 * own, and this one can never clash with a vendor's elements. An element's
 * id is 1000 + its Flow field number in proto/flow.proto: above every IANA
 * id, because some collectors (pmacct 1.7) match enterprise elements by id
 * alone and would mistake a small one for a reverse element.
 */
#define IPFIX_PEN_NFXDP 32473
#define IPFIX_NFXDP_IE_EXPIRATION_ID 1002 /* unsigned8: Flow.expiration_id */
#define IPFIX_NFXDP_IE_TUNNEL_ID 1012	  /* unsigned8: 0 none, 1 GTP-U, 2 CAPWAP, 3 TZSP */
/* unsigned64: Flow.src2dst_bytes and dst2src_bytes with --accounting transport. */
#define IPFIX_NFXDP_IE_SRC2DST_BYTES 1022
#define IPFIX_NFXDP_IE_DST2SRC_BYTES 1027

#define IPFIX_TEMPLATE_V4 256
#define IPFIX_TEMPLATE_V6 257
/* The same with the --statistical features appended (nfxdp elements 1030..1077). */
#define IPFIX_TEMPLATE_V4_STAT 258
#define IPFIX_TEMPLATE_V6_STAT 259
/* Uniflow records (--ipfix-biflow off): no reverse elements; then with the features. */
#define IPFIX_TEMPLATE_UNI_V4 260
#define IPFIX_TEMPLATE_UNI_V6 261
#define IPFIX_TEMPLATE_UNI_V4_STAT 262
#define IPFIX_TEMPLATE_UNI_V6_STAT 263

struct ipfix_opts {
	uint32_t domain_id;	       /* observation domain id in every message header */
	uint32_t template_refresh_s;   /* UDP: resend templates this often (s) ... */
	uint32_t template_refresh_msgs; /* ... and every this many messages */
	uint32_t max_msg;	       /* message size limit, bytes; 0: 1400 UDP, 16384 TCP */
	uint32_t tcp_queue;	       /* TCP: bytes queued while the collector is slow */
	uint32_t reconnect_ms;	       /* TCP: wait between connection attempts */
	bool statistical;	       /* records carry the --statistical features */
	int accounting;		       /* enum accounting: which element holds the bytes */
	bool uniflow;		       /* a record per direction, no reverse elements */
	bool dpi;		       /* records carry the application columns (--dpi) */
};

/* A message waiting in the TCP queue. */
struct ipfix_queued {
	uint32_t len;
	uint32_t records;
};

struct ipfix_exporter {
	struct exporter base;
	struct ipfix_opts o;
	char host_port[256];
	struct sockaddr_storage addr;
	socklen_t addr_len;
	bool tcp;
	int fd;
	bool connecting; /* TCP: connect() in progress */
	bool connected;
	bool failing;	    /* TCP: down; warn when it goes down, not per attempt */
	uint64_t warned_ms; /* UDP: last warning */
	uint64_t next_connect_ms;

	uint32_t sequence;   /* data records sent in this session, mod 2^32 */
	bool templates_due;  /* the next message carries the templates */
	uint64_t templates_ms; /* when they last left */
	uint32_t msgs_since_templates;

	uint8_t *msg; /* message being built */
	size_t msg_len;
	size_t set_off; /* offset of the open data set's header, 0: none */
	uint16_t set_id;
	uint32_t msg_records;
	bool msg_templates;

	/* TCP: bytes not yet taken by the socket, whole messages only. */
	uint8_t *queue;
	size_t queue_len, queue_cap;
	size_t queue_head; /* bytes of the first message already written */
	struct ipfix_queued *qmsgs;
	size_t qn, qcap;

	/* Counters. */
	uint64_t messages_sent;
	uint64_t records_sent;
	uint64_t records_dropped; /* not sent: socket full, collector down */
	uint64_t records_invalid; /* addresses that do not parse */
	uint64_t send_failures;	  /* messages not sent */
	uint64_t connects;	  /* TCP connections established */
	uint64_t batches_sent;	  /* every record of it sent */
	uint64_t batches_dropped; /* some record of it dropped */
};

/*
 * The collector of a command-line argument: "udp://HOST:PORT",
 * "tcp://HOST:PORT" or "HOST:PORT" (UDP). Sets *@tcp; returns HOST:PORT.
 */
const char *ipfix_target(const char *arg, bool *tcp);
/* Defaults: domain 0, templates every 60 s and every 100 messages. */
void ipfix_opts_default(struct ipfix_opts *o);
/*
 * Opens an exporter to @host_port ("host:port", "[v6]:port", or a host alone
 * for port 4739) over TCP or UDP; @o NULL takes the defaults. A TCP collector
 * that is not up yet is retried in the background; only a bad address fails.
 */
int ipfix_exporter_open(struct ipfix_exporter *x, const char *host_port, bool tcp,
			const struct ipfix_opts *o);
/* Exports every flow of @b; returns 0, or -EAGAIN when some records were dropped. */
int ipfix_exporter_send(struct ipfix_exporter *x, const Nfxdp__FlowBatch *b);
/* TCP: drains queued bytes and reconnects when due; cheap, call it every tick. */
void ipfix_exporter_service(struct ipfix_exporter *x);
/* Closes, giving queued TCP bytes up to @linger_ms to leave. */
void ipfix_exporter_close(struct ipfix_exporter *x, int linger_ms);
/*
 * The IPFIX sink behind the exporter interface, to @target
 * ([udp://|tcp://]HOST[:PORT]); NULL (and *err) after a message.
 */
struct exporter *ipfix_exporter_new(const char *target, const struct ipfix_opts *o, int *err);

/*
 * Encodes one flow as a data record of template *@tid into @out (at least
 * IPFIX_MAX_RECORD bytes), as @o has records made; @reverse (uniflow
 * records only): the record of its reverse direction. Returns its length,
 * 0 when its addresses do not parse. Exposed for the unit tests.
 */
#define IPFIX_MAX_RECORD 1024
size_t ipfix_encode_flow(const Nfxdp__Flow *f, const struct ipfix_opts *o, bool reverse,
			 uint8_t *out, uint16_t *tid);
/* flowEndReason (IANA) for an nfxdp expiration id. */
uint8_t ipfix_end_reason(uint32_t expiration_id);

#endif /* NFXDP_EXPORT_IPFIX_H */
