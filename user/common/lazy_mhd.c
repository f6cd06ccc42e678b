// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* libmicrohttpd's functions --metrics calls, loading it on first use (common/lazylib.h). */
#include <stdarg.h>
#include <stdint.h>
#include <sys/socket.h>
#include <microhttpd.h>

#include "common/lazylib.h"

struct lazylib lazy_mhd = LAZYLIB_INIT("libmicrohttpd.so.12", "libmicrohttpd12");

LAZY_FN(lazy_mhd, struct MHD_Daemon *, MHD_start_daemon_va,
	(unsigned int flags, uint16_t port, MHD_AcceptPolicyCallback apc, void *apc_cls,
	 MHD_AccessHandlerCallback dh, void *dh_cls, va_list ap),
	(flags, port, apc, apc_cls, dh, dh_cls, ap))
LAZY_VOID(lazy_mhd, MHD_stop_daemon, (struct MHD_Daemon *d), (d))
LAZY_FN(lazy_mhd, struct MHD_Response *, MHD_create_response_from_buffer,
	(size_t size, void *buf, enum MHD_ResponseMemoryMode mode), (size, buf, mode))
LAZY_FN(lazy_mhd, enum MHD_Result, MHD_add_response_header,
	(struct MHD_Response *r, const char *header, const char *content), (r, header, content))
LAZY_FN(lazy_mhd, enum MHD_Result, MHD_queue_response,
	(struct MHD_Connection *c, unsigned int status, struct MHD_Response *r), (c, status, r))
LAZY_VOID(lazy_mhd, MHD_destroy_response, (struct MHD_Response *r), (r))

/* Variadic: its options forwarded as the va_list MHD_start_daemon_va() takes. */
struct MHD_Daemon *MHD_start_daemon(unsigned int flags, uint16_t port,
				    MHD_AcceptPolicyCallback apc, void *apc_cls,
				    MHD_AccessHandlerCallback dh, void *dh_cls, ...)
{
	struct MHD_Daemon *d;
	va_list ap;

	va_start(ap, dh_cls);
	d = MHD_start_daemon_va(flags, port, apc, apc_cls, dh, dh_cls, ap);
	va_end(ap);
	return d;
}

/*
 * Variadic, with no va_list form: forwarded without the extra arguments,
 * which no information type nfxdp asks for (the descriptor, the socket
 * context) takes.
 */
const union MHD_ConnectionInfo *MHD_get_connection_info(struct MHD_Connection *c,
							enum MHD_ConnectionInfoType type, ...)
{
	LAZY_LOOKUP(lazy_mhd, const union MHD_ConnectionInfo *, MHD_get_connection_info,
		    (struct MHD_Connection *, enum MHD_ConnectionInfoType, ...))
	return lazy_f(c, type);
}
