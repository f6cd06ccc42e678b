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

#include "export/zmq.h"
#include "common/log.h"
#include "export/curve.h"

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

int zmq_exporter_open(struct zmq_exporter *zx, const char *endpoint, bool compress,
		      const char *curve_key, int hwm)
{
	int one = 1, hb_ivl = 1000, hb_timeout = 3000, err;

	memset(zx, 0, sizeof(*zx));
	zx->compress = compress;
	snprintf(zx->endpoint, sizeof(zx->endpoint), "%s", endpoint);
	if (ipc_in_use(endpoint)) {
		pr_warn("Couldn't bind ZeroMQ endpoint %s: %s%s\n", endpoint,
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
	/*
	 * Past its high-water mark a subscriber loses batches, alone: the
	 * others are not held back (ZMQ_XPUB_NODROP would make every one lose
	 * them), and it finds the loss as a gap in the sequence numbers. A
	 * subscriber that answers no heartbeat (stopped, gone) is disconnected,
	 * which frees what it held; it connects again by itself.
	 */
	zmq_setsockopt(zx->sock, ZMQ_HEARTBEAT_IVL, &hb_ivl, sizeof(hb_ivl));
	zmq_setsockopt(zx->sock, ZMQ_HEARTBEAT_TIMEOUT, &hb_timeout, sizeof(hb_timeout));
	zmq_setsockopt(zx->sock, ZMQ_XPUB_VERBOSER, &one, sizeof(one));
	zmq_setsockopt(zx->sock, ZMQ_SNDHWM, &hwm, sizeof(hwm));
	if (curve_key && curve_server(zx->sock, curve_key)) {
		err = EINVAL;
		goto fail;
	}
	if (zmq_bind(zx->sock, endpoint)) {
		err = errno;
		pr_warn("Couldn't bind ZeroMQ endpoint %s: %s%s\n", endpoint, zmq_strerror(err),
			bind_hint(err));
		goto fail;
	}
	pr_info("publishing flows on %s%s\n", endpoint, curve_key ? " (CURVE)" : "");
	return 0;
fail:
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

int zmq_exporter_send(struct zmq_exporter *zx, const void *buf, size_t len)
{
	const char *topic = ZMQ_TOPIC_FLOWS;

	zmq_exporter_service(zx);
	if (zx->compress) {
		len = deflate_batch(zx, buf, len);
		buf = zx->zbuf;
		topic = ZMQ_TOPIC_FLOWS_DEFLATED;
		if (!len) {
			zx->batches_dropped++;
			return -ENOMEM;
		}
	}
	if (zmq_send(zx->sock, topic, strlen(topic), ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0 ||
	    zmq_send(zx->sock, buf, len, ZMQ_DONTWAIT) < 0) {
		zx->batches_dropped++;
		return -EAGAIN;
	}
	if (!zx->subscribers)
		zx->batches_unheard++;
	zx->batches_sent++;
	zx->bytes_sent += len;
	return 0;
}

/*
 * A subscription that takes flow batches: its topic is a prefix of "flows",
 * or starts with it ("flowsz"). Others ("stats") do not make a subscriber:
 * nfxdp-cat --stats subscribes to both and is one subscriber.
 */
static bool takes_flows(const unsigned char *topic, size_t len)
{
	size_t n = strlen(ZMQ_TOPIC_FLOWS);

	return !memcmp(topic, ZMQ_TOPIC_FLOWS, len < n ? len : n);
}

void zmq_exporter_service(struct zmq_exporter *zx)
{
	unsigned char msg[256];
	int n;

	while ((n = zmq_recv(zx->sock, msg, sizeof(msg), ZMQ_DONTWAIT)) > 0) {
		size_t len = (size_t)n < sizeof(msg) ? (size_t)n : sizeof(msg);

		if (!takes_flows(msg + 1, len - 1))
			continue;
		if (msg[0] == 1)
			zx->subscribers++;
		else if (msg[0] == 0 && zx->subscribers > 0)
			zx->subscribers--;
		pr_info("%d flow subscriber(s) on %s\n", zx->subscribers, zx->endpoint);
	}
}

int zmq_exporter_send_topic(struct zmq_exporter *zx, const char *topic, const void *buf,
			    size_t len)
{
	if (zmq_send(zx->sock, topic, strlen(topic), ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0 ||
	    zmq_send(zx->sock, buf, len, ZMQ_DONTWAIT) < 0)
		return -EAGAIN;
	return 0;
}

bool zmq_exporter_wait(struct zmq_exporter *zx, int timeout_ms)
{
	zmq_pollitem_t item = { .socket = zx->sock, .events = ZMQ_POLLIN };

	zmq_exporter_service(zx);
	while (!zx->subscribers && timeout_ms > 0) {
		if (zmq_poll(&item, 1, 50) < 0 && errno != EINTR)
			break;
		zmq_exporter_service(zx);
		timeout_ms -= 50;
	}
	return zx->subscribers > 0;
}

void zmq_exporter_close(struct zmq_exporter *zx, int linger_ms)
{
	if (!zx->ctx)
		return;
	zmq_setsockopt(zx->sock, ZMQ_LINGER, &linger_ms, sizeof(linger_ms));
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
	int err = zmq_exporter_send(ZX(x), b->packed, b->len);

	if (err)
		ZX(x)->records_dropped += b->msg->n_flows;
	else
		ZX(x)->records_sent += b->msg->n_flows;
	return err;
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
	};

	return exporter_put_stats(items, max, own, sizeof(own) / sizeof(own[0]));
}

static bool zx_ready(struct exporter *x, int timeout_ms)
{
	return zmq_exporter_wait(ZX(x), timeout_ms);
}

static void zx_side(struct exporter *x, const char *topic, const void *buf, size_t len)
{
	zmq_exporter_send_topic(ZX(x), topic, buf, len);
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
	.ready = zx_ready,
	.side = zx_side,
	.close = zx_close,
};

struct exporter *zmq_exporter_new(const struct zmq_opts *o, int *err)
{
	struct zmq_exporter *zx = calloc(1, sizeof(*zx));

	*err = zx ? zmq_exporter_open(zx, o->endpoint, o->compress, o->curve_key, o->hwm) : -ENOMEM;
	if (*err) {
		free(zx);
		return NULL;
	}
	zx->base.ops = &zmq_ops;
	return &zx->base;
}
