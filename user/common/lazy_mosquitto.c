// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Mosquitto's functions the MQTT output calls, loading it on first use (common/lazylib.h). */
#include <mosquitto.h>

#include "common/lazylib.h"

struct lazylib lazy_mosquitto = LAZYLIB_INIT("libmosquitto.so.1", "libmosquitto1");

LAZY_FN(lazy_mosquitto, int, mosquitto_lib_init, (void), ())
LAZY_FN(lazy_mosquitto, int, mosquitto_lib_cleanup, (void), ())
LAZY_FN(lazy_mosquitto, struct mosquitto *, mosquitto_new,
	(const char *id, bool clean_session, void *obj), (id, clean_session, obj))
LAZY_VOID(lazy_mosquitto, mosquitto_destroy, (struct mosquitto *m), (m))
LAZY_FN(lazy_mosquitto, int, mosquitto_connect_async,
	(struct mosquitto *m, const char *host, int port, int keepalive), (m, host, port, keepalive))
LAZY_FN(lazy_mosquitto, int, mosquitto_reconnect_async, (struct mosquitto *m), (m))
LAZY_FN(lazy_mosquitto, int, mosquitto_disconnect, (struct mosquitto *m), (m))
LAZY_VOID(lazy_mosquitto, mosquitto_connect_callback_set,
	  (struct mosquitto *m, void (*cb)(struct mosquitto *, void *, int)), (m, cb))
LAZY_VOID(lazy_mosquitto, mosquitto_publish_callback_set,
	  (struct mosquitto *m, void (*cb)(struct mosquitto *, void *, int)), (m, cb))
LAZY_FN(lazy_mosquitto, int, mosquitto_int_option,
	(struct mosquitto *m, enum mosq_opt_t opt, int value), (m, opt, value))
LAZY_FN(lazy_mosquitto, int, mosquitto_loop, (struct mosquitto *m, int timeout, int max_packets),
	(m, timeout, max_packets))
LAZY_FN(lazy_mosquitto, int, mosquitto_socket, (struct mosquitto *m), (m))
LAZY_FN(lazy_mosquitto, int, mosquitto_publish,
	(struct mosquitto *m, int *mid, const char *topic, int len, const void *payload, int qos,
	 bool retain),
	(m, mid, topic, len, payload, qos, retain))
LAZY_FN(lazy_mosquitto, int, mosquitto_pub_topic_check, (const char *topic), (topic))
LAZY_FN(lazy_mosquitto, int, mosquitto_tls_set,
	(struct mosquitto *m, const char *cafile, const char *capath, const char *certfile,
	 const char *keyfile, int (*pw)(char *buf, int size, int rwflag, void *user)),
	(m, cafile, capath, certfile, keyfile, pw))
LAZY_FN(lazy_mosquitto, int, mosquitto_username_pw_set,
	(struct mosquitto *m, const char *user, const char *password), (m, user, password))
LAZY_FN(lazy_mosquitto, const char *, mosquitto_strerror, (int err), (err))
LAZY_FN(lazy_mosquitto, const char *, mosquitto_connack_string, (int code), (code))
