// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <zlib.h>
#include <zmq.h>

#include "common/clock.h"
#include "common/lazylib.h"
#include "common/log.h"
#include "export/curve.h"
#include "export/zmq.h"
#include "export/zmq_guard.h"

static const char *bind_hint(int err)
{
	switch (err) {
	case EADDRINUSE:
		return " (another program, or another nfxdp, publishes there: pick another "
		       "endpoint with --zmq)";
	case EINVAL:
	case EPROTONOSUPPORT:
	case ENOENT:
		return " (endpoints look like tcp://127.0.0.1:5556 or ipc:///run/nfxdp.sock)";
	case EADDRNOTAVAIL:
		return " (no local interface has that address)";
	default:
		return "";
	}
}

/*
 * ZeroMQ rebinds an ipc:// path by unlinking it, silently taking it from
 * whoever published there: refuse when something still listens on it.
 */
static bool ipc_in_use(const char *endpoint)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	bool in_use;
	int fd;

	if (strncmp(endpoint, "ipc://", 6) || strlen(endpoint + 6) >= sizeof(sa.sun_path))
		return false;
	strcpy(sa.sun_path, endpoint + 6);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return false;
	in_use = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
	close(fd);
	return in_use;
}

/* What one subscriber that stops reading may hold in nfxdp's memory. */
#define ZMQ_SUBSCRIBER_BUDGET (16 << 20)

int zmq_hwm_for(uint32_t batch_flows, bool statistical, uint32_t splt)
{
	/* Encoded sizes measured per flow: ~200 B, ~160 more with statistics, ~3 per SPLT slot. */
	uint64_t flow = 200 + (statistical ? 160 : 0) + 3 * splt;
	uint64_t hwm = ZMQ_SUBSCRIBER_BUDGET / (flow * (batch_flows ? batch_flows : 1));

	return hwm < 16 ? 16 : hwm > 1000 ? 1000 : (int)hwm;
}

/*
 * No high-water mark on what peers send: libzmq 4.3 asserts (and aborts)
 * when a connection whose input it stopped at the mark errs or hangs up
 * while output is pending (libzmq issue 4841), which a peer can bring about.
 * What a peer sends is bounded instead by the guard (zmq_guard.h), the
 * kernel's buffer and the message size.
 */
#define CONNECTION_HWM 0
/*
 * Anything longer from a peer costs it the connection: a subscription to
 * our topics is 6 bytes, ZMTP's READY about 30; CURVE's handshake needs
 * more (INITIATE is about 300 bytes).
 */
#define MESSAGE_MAX 64
#define MESSAGE_MAX_CURVE 512
/*
 * The kernel's receive buffer of a connection: subscriptions and heartbeats
 * are all that comes in. A small one bounds what a peer has in flight when
 * it is cut off (libzmq reads what is queued before it sees the end).
 */
#define CONNECTION_RCVBUF 8192
/* Bytes of subscriptions to other topics a peer may send before it is disconnected. */
#define FOREIGN_SUB_BYTES (16 << 10)

/*
 * Past its high-water mark a subscriber loses batches, alone: the others
 * are not held back (ZMQ_XPUB_NODROP would make every one lose them), and it
 * finds the loss as a gap in the sequence numbers. A subscriber that answers
 * no heartbeat (stopped, gone) is disconnected, which frees what it held; it
 * connects again by itself. What a peer sends is bounded: what it has in
 * flight (CONNECTION_RCVBUF), each message (MESSAGE_MAX), and the guard.
 */
static void socket_options(struct zmq_exporter *zx, int hwm, bool curve)
{
	int one = 1, hb_ivl = 1000, hb_timeout = 3000, rcvhwm = CONNECTION_HWM;
	int rcvbuf = CONNECTION_RCVBUF;
	int64_t max_msg = curve ? MESSAGE_MAX_CURVE : MESSAGE_MAX;

	zmq_setsockopt(zx->sock, ZMQ_HEARTBEAT_IVL, &hb_ivl, sizeof(hb_ivl));
	zmq_setsockopt(zx->sock, ZMQ_HEARTBEAT_TIMEOUT, &hb_timeout, sizeof(hb_timeout));
	zmq_setsockopt(zx->sock, ZMQ_XPUB_VERBOSER, &one, sizeof(one));
	zmq_setsockopt(zx->sock, ZMQ_SNDHWM, &hwm, sizeof(hwm));
	zmq_setsockopt(zx->sock, ZMQ_RCVHWM, &rcvhwm, sizeof(rcvhwm));
	zmq_setsockopt(zx->sock, ZMQ_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	zmq_setsockopt(zx->sock, ZMQ_MAXMSGSIZE, &max_msg, sizeof(max_msg));
}

static int zmq_exporter_open(struct zmq_exporter *zx, const struct zmq_opts *o)
{
	int err;

	memset(zx, 0, sizeof(*zx));
	err = lazylib_load(&lazy_zmq, "ZeroMQ output");
	if (err)
		return err;
	zx->compress = o->compress;
	snprintf(zx->endpoint, sizeof(zx->endpoint), "%s", o->endpoint);
	if (ipc_in_use(o->endpoint)) {
		pr_warn("Couldn't bind ZeroMQ endpoint %s: %s%s\n", o->endpoint,
			zmq_strerror(EADDRINUSE), bind_hint(EADDRINUSE));
		return -EADDRINUSE;
	}
	zx->ctx = zmq_ctx_new();
	if (!zx->ctx) {
		err = errno;
		pr_warn("Couldn't create a ZeroMQ context: %s\n", zmq_strerror(err));
		return -err;
	}
	zx->sock = zmq_socket(zx->ctx, ZMQ_XPUB);
	if (!zx->sock) {
		err = errno;
		pr_warn("Couldn't create a ZeroMQ XPUB socket: %s\n", zmq_strerror(err));
		goto fail;
	}
	socket_options(zx, o->hwm, o->curve_key);
	err = -zmq_guard_start(&zx->guard, zx->ctx, zx->sock);
	if (err) {
		pr_warn("Couldn't watch the ZeroMQ socket's connections: %s\n", zmq_strerror(err));
		goto fail;
	}
	if (o->curve_key && curve_server(zx->sock, o->curve_key)) {
		err = EINVAL;
		goto fail;
	}
	if (zmq_bind(zx->sock, o->endpoint)) {
		err = errno;
		pr_warn("Couldn't bind ZeroMQ endpoint %s: %s%s\n", o->endpoint, zmq_strerror(err),
			bind_hint(err));
		goto fail;
	}
	zx->held_cap = o->hwm > 0 ? o->hwm : 16;
	if (o->wait_ms)
		zx->wait_until_ms = clock_ms(CLOCK_MONOTONIC) + o->wait_ms;
	pr_info("publishing flows on %s%s\n", o->endpoint, o->curve_key ? " (CURVE)" : "");
	return 0;
fail:
	zmq_guard_stop(&zx->guard, zx->sock);
	if (zx->sock)
		zmq_close(zx->sock);
	zmq_ctx_term(zx->ctx);
	zx->sock = zx->ctx = NULL;
	return -err;
}

/* Deflates @buf into zx->zbuf; returns its length, 0 on failure. */
static size_t deflate_batch(struct zmq_exporter *zx, const void *buf, size_t len)
{
	uLongf out = compressBound(len);

	if (out > zx->zcap) {
		uint8_t *nb = realloc(zx->zbuf, out);

		if (!nb)
			return 0;
		zx->zbuf = nb;
		zx->zcap = out;
	}
	return compress2(zx->zbuf, &out, buf, len, Z_BEST_SPEED) == Z_OK ? out : 0;
}

static const char *flows_topic(const struct zmq_exporter *zx)
{
	return zx->compress ? ZMQ_TOPIC_FLOWS_DEFLATED : ZMQ_TOPIC_FLOWS;
}

/*
 * Two frames, [topic][body], never waiting; 0 or -EAGAIN. A send also takes
 * in what peers sent: the guard's clock runs.
 */
static int send_topic(struct zmq_exporter *zx, const char *topic, const void *buf, size_t len)
{
	int err = 0;

	zmq_guard_enter(&zx->guard);
	if (zmq_send(zx->sock, topic, strlen(topic), ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0 ||
	    zmq_send(zx->sock, buf, len, ZMQ_DONTWAIT) < 0)
		err = -EAGAIN;
	zmq_guard_leave(&zx->guard);
	return err;
}

/* One batch (deflated already with --compress) out: sent, unheard or dropped, counted. */
static int publish(struct zmq_exporter *zx, const void *buf, size_t len, size_t flows)
{
	if (send_topic(zx, flows_topic(zx), buf, len)) {
		zx->batches_dropped++;
		zx->records_dropped += flows;
		return -EAGAIN;
	}
	if (!zx->subscribers)
		zx->batches_unheard++;
	zx->batches_sent++;
	zx->bytes_sent += len;
	zx->records_sent += flows;
	return 0;
}

/* The batches held back go out, in order. */
static void release_held(struct zmq_exporter *zx)
{
	for (size_t i = 0; i < zx->held_n; i++) {
		publish(zx, zx->held[i].buf, zx->held[i].len, zx->held[i].flows);
		free(zx->held[i].buf);
	}
	zx->held_n = 0;
	free(zx->held);
	zx->held = NULL;
}

/*
 * True while the sink still waits for a first subscriber (--zmq-wait). The
 * wait ends for good when one joins, when its time is up, or when a
 * high-water mark of batches is held (as much as one subscriber may queue):
 * what is held then goes out.
 */
static bool waiting(struct zmq_exporter *zx)
{
	bool full = zx->held_n == zx->held_cap;

	if (!zx->wait_until_ms)
		return false;
	if (!zx->subscribers && !full && clock_ms(CLOCK_MONOTONIC) < zx->wait_until_ms)
		return true;
	if (!zx->subscribers && zx->held_n)
		pr_warn("no subscriber on %s %s: publishing the %zu batch(es) held for one "
			"(--zmq-wait)\n", zx->endpoint, full ? "yet, and a high-water mark of "
			"batches held" : "in time", zx->held_n);
	zx->wait_until_ms = 0;
	release_held(zx);
	return false;
}

/* Keeps a copy of a batch back; false when memory is short (it goes out now). */
static bool hold(struct zmq_exporter *zx, const void *buf, size_t len, size_t flows)
{
	struct zmq_held *h;

	if (!zx->held && !(zx->held = calloc(zx->held_cap, sizeof(*zx->held))))
		return false;
	h = &zx->held[zx->held_n];
	h->buf = malloc(len ? len : 1);
	if (!h->buf)
		return false;
	memcpy(h->buf, buf, len);
	h->len = len;
	h->flows = flows;
	zx->held_n++;
	return true;
}

static void zmq_exporter_service(struct zmq_exporter *zx);

static int zmq_exporter_send(struct zmq_exporter *zx, const void *buf, size_t len, size_t flows)
{
	zmq_exporter_service(zx);
	if (zx->compress) {
		len = deflate_batch(zx, buf, len);
		buf = zx->zbuf;
		if (!len) {
			zx->batches_dropped++;
			zx->records_dropped += flows;
			return -ENOMEM;
		}
	}
	if (waiting(zx) && hold(zx, buf, len, flows))
		return 0;
	return publish(zx, buf, len, flows);
}

/* True when a subscription of @len bytes is a prefix of @topic (so it receives it). */
static bool covers(const unsigned char *sub, size_t len, const char *topic)
{
	return len <= strlen(topic) && !memcmp(sub, topic, len);
}

/* ---- subscriptions ------------------------------------------------------ */

/*
 * A peer past the budget of subscriptions to topics nfxdp does not publish:
 * the guard cuts it off, by its address (a unix socket's peers have none:
 * all of them then). Said once a minute at most: what it sent before it
 * went still comes in, and names it again.
 */
static void rogue(struct zmq_exporter *zx, const char *addr)
{
	uint64_t now = clock_ms(CLOCK_MONOTONIC);

	zmq_guard_ban(&zx->guard, addr);
	zx->foreign_subs = 0;
	zx->foreign_bytes = 0;
	if (zx->warned_ms && now - zx->warned_ms < 60000 && !strcmp(zx->warned_addr, addr))
		return;
	zx->warned_ms = now;
	snprintf(zx->warned_addr, sizeof(zx->warned_addr), "%s", addr);
	pr_warn("A ZeroMQ peer %s subscribed to more than %u topics (or %u bytes of them) nfxdp "
		"does not publish: its connections are closed, and refused for %d s\n",
		*addr ? addr : "on a unix socket", ZMQ_FOREIGN_SUB_MAX, FOREIGN_SUB_BYTES,
		ZMQ_GUARD_BAN_S);
}

/* One (un)subscription message of @size bytes from the peer at @addr. */
static void take_subscription(struct zmq_exporter *zx, const unsigned char *m, size_t size,
			      const char *addr)
{
	bool sub = m[0] == 1;
	size_t len = size - 1;

	if (covers(m + 1, len, ZMQ_TOPIC_FLOWS_DEFLATED)) {
		if (sub)
			zx->subscribers++;
		else if (zx->subscribers > 0)
			zx->subscribers--;
		/* Tests and operators wait on this line, not on time. */
		pr_info("%d flow subscriber(s) on %s\n", zx->subscribers, zx->endpoint);
		return;
	}
	if (covers(m + 1, len, ZMQ_TOPIC_STATS) || !sub)
		return;
	zx->subs_refused++;
	zx->foreign_subs++;
	zx->foreign_bytes += len;
	if (zx->foreign_subs > ZMQ_FOREIGN_SUB_MAX || zx->foreign_bytes > FOREIGN_SUB_BYTES)
		rogue(zx, addr ? addr : "");
}

/*
 * Takes in (un)subscriptions, at most ZMQ_SUB_READS_MAX a call: a flood
 * waits for the next tick rather than stall the loop. A subscription covers
 * flow batches when it is a prefix of "flowsz" ("" included); "stats" does
 * not make a subscriber (nfxdp-cat --stats is one subscriber).
 */
static void zmq_exporter_service(struct zmq_exporter *zx)
{
	zmq_msg_t msg;

	zmq_msg_init(&msg);
	for (int i = 0; i < ZMQ_SUB_READS_MAX; i++) {
		const unsigned char *m;
		int n;

		zmq_guard_enter(&zx->guard);
		n = zmq_msg_recv(&msg, zx->sock, ZMQ_DONTWAIT);
		zmq_guard_leave(&zx->guard);
		if (n < 0)
			break;
		m = zmq_msg_data(&msg);
		if (n > 0 && m[0] <= 1)
			take_subscription(zx, m, n, zmq_msg_gets(&msg, "Peer-Address"));
	}
	zmq_msg_close(&msg);
	waiting(zx);
}

static void zmq_exporter_close(struct zmq_exporter *zx, int linger_ms)
{
	if (!zx->ctx)
		return;
	zx->wait_until_ms = 0;
	release_held(zx); /* the wait was cut short (a signal): published, unheard */
	zmq_setsockopt(zx->sock, ZMQ_LINGER, &linger_ms, sizeof(linger_ms));
	zmq_guard_stop(&zx->guard, zx->sock);
	zmq_close(zx->sock);
	zmq_ctx_term(zx->ctx);
	zx->sock = zx->ctx = NULL;
	free(zx->zbuf);
	zx->zbuf = NULL;
}

/* ---- the exporter interface --------------------------------------------- */

#define ZX(x) ((struct zmq_exporter *)(x))

static int zx_send(struct exporter *x, const struct batch_view *b)
{
	return zmq_exporter_send(ZX(x), b->packed, b->len, b->msg->n_flows);
}

static void zx_service(struct exporter *x)
{
	zmq_exporter_service(ZX(x));
}

static void zx_stats(struct exporter *x, struct exporter_stats *st)
{
	st->batches_sent = ZX(x)->batches_sent;
	st->batches_dropped = ZX(x)->batches_dropped;
	st->records_sent = ZX(x)->records_sent;
	st->records_dropped = ZX(x)->records_dropped;
}

static int zx_own_stats(struct exporter *x, struct stat_item *items, int max)
{
	const struct stat_item own[] = {
		{ "zmq_batches_dropped", ZX(x)->batches_dropped },
		{ "zmq_subscribers", ZX(x)->subscribers },
		{ "zmq_batches_unheard", ZX(x)->batches_unheard },
		{ "zmq_batches_held", ZX(x)->held_n },
		{ "zmq_subscriptions_refused", ZX(x)->subs_refused },
		{ "zmq_peers_disconnected", zmq_guard_cut(&ZX(x)->guard) },
	};

	return exporter_put_stats(items, max, own, sizeof(own) / sizeof(own[0]));
}

static bool zx_settle(struct exporter *x, bool give_up)
{
	if (give_up && ZX(x)->wait_until_ms) {
		ZX(x)->wait_until_ms = 0;
		release_held(ZX(x)); /* stopped by a signal: published now, unheard */
	}
	return waiting(ZX(x)) && ZX(x)->held_n;
}

static void zx_side(struct exporter *x, const char *topic, const void *buf, size_t len)
{
	send_topic(ZX(x), topic, buf, len);
}

/* The stats message marked as the end goes after every batch, held ones included. */
static int zx_end(struct exporter *x, const struct batch_view *end, const char *json, size_t len)
{
	ZX(x)->wait_until_ms = 0;
	release_held(ZX(x));
	return send_topic(ZX(x), ZMQ_TOPIC_STATS, json, len);
}

static int zx_close(struct exporter *x, int linger_ms)
{
	zmq_exporter_close(ZX(x), linger_ms);
	free(x);
	return 0;
}

static const struct exporter_ops zmq_ops = {
	.name = "zmq",
	.send = zx_send,
	.service = zx_service,
	.stats = zx_stats,
	.own_stats = zx_own_stats,
	.settle = zx_settle,
	.side = zx_side,
	.end = zx_end,
	.close = zx_close,
};

struct exporter *zmq_exporter_new(const struct zmq_opts *o, int *err)
{
	struct zmq_exporter *zx = calloc(1, sizeof(*zx));

	*err = zx ? zmq_exporter_open(zx, o) : -ENOMEM;
	if (*err) {
		free(zx);
		return NULL;
	}
	zx->base.ops = &zmq_ops;
	return &zx->base;
}
