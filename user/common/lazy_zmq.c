// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * ZeroMQ's functions nfxdp, nfxdp-cat and the test tools call, loading
 * libzmq on first use (common/lazylib.h).
 */
#include <zmq.h>

#include "common/lazylib.h"

struct lazylib lazy_zmq = LAZYLIB_INIT("libzmq.so.5", "libzmq5");

LAZY_FN(lazy_zmq, void *, zmq_ctx_new, (void), ())
LAZY_FN(lazy_zmq, int, zmq_ctx_term, (void *ctx), (ctx))
LAZY_FN(lazy_zmq, void *, zmq_socket, (void *ctx, int type), (ctx, type))
LAZY_FN(lazy_zmq, int, zmq_close, (void *s), (s))
LAZY_FN(lazy_zmq, int, zmq_bind, (void *s, const char *addr), (s, addr))
LAZY_FN(lazy_zmq, int, zmq_connect, (void *s, const char *addr), (s, addr))
LAZY_FN(lazy_zmq, int, zmq_disconnect, (void *s, const char *addr), (s, addr))
LAZY_FN(lazy_zmq, int, zmq_setsockopt, (void *s, int opt, const void *val, size_t len),
	(s, opt, val, len))
LAZY_FN(lazy_zmq, int, zmq_getsockopt, (void *s, int opt, void *val, size_t *len),
	(s, opt, val, len))
LAZY_FN(lazy_zmq, int, zmq_send, (void *s, const void *buf, size_t len, int flags),
	(s, buf, len, flags))
LAZY_FN(lazy_zmq, int, zmq_recv, (void *s, void *buf, size_t len, int flags), (s, buf, len, flags))
LAZY_FN(lazy_zmq, int, zmq_poll, (zmq_pollitem_t *items, int n, long timeout), (items, n, timeout))
LAZY_FN(lazy_zmq, int, zmq_socket_monitor, (void *s, const char *addr, int events),
	(s, addr, events))
LAZY_FN(lazy_zmq, int, zmq_msg_init, (zmq_msg_t *msg), (msg))
LAZY_FN(lazy_zmq, int, zmq_msg_close, (zmq_msg_t *msg), (msg))
LAZY_FN(lazy_zmq, void *, zmq_msg_data, (zmq_msg_t *msg), (msg))
LAZY_FN(lazy_zmq, size_t, zmq_msg_size, (const zmq_msg_t *msg), (msg))
LAZY_FN(lazy_zmq, const char *, zmq_msg_gets, (const zmq_msg_t *msg, const char *prop), (msg, prop))
LAZY_FN(lazy_zmq, int, zmq_msg_more, (const zmq_msg_t *msg), (msg))
LAZY_FN(lazy_zmq, int, zmq_msg_recv, (zmq_msg_t *msg, void *s, int flags), (msg, s, flags))
LAZY_FN(lazy_zmq, int, zmq_has, (const char *capability), (capability))
LAZY_FN(lazy_zmq, int, zmq_curve_keypair, (char *pub, char *sec), (pub, sec))
LAZY_FN(lazy_zmq, const char *, zmq_strerror, (int err), (err))
