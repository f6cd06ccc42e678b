// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* nDPI's functions --dpi calls, loading it on first use (common/lazylib.h). */
#include <ndpi_api.h>

#include "common/lazylib.h"

struct lazylib lazy_ndpi = LAZYLIB_INIT("libndpi.so.4.2", "libndpi4.2");

LAZY_FN(lazy_ndpi, struct ndpi_detection_module_struct *, ndpi_init_detection_module,
	(ndpi_init_prefs prefs), (prefs))
LAZY_VOID(lazy_ndpi, ndpi_set_protocol_detection_bitmask2,
	  (struct ndpi_detection_module_struct *n, const NDPI_PROTOCOL_BITMASK *bitmask),
	  (n, bitmask))
LAZY_VOID(lazy_ndpi, ndpi_finalize_initialization, (struct ndpi_detection_module_struct *n), (n))
LAZY_VOID(lazy_ndpi, ndpi_exit_detection_module, (struct ndpi_detection_module_struct *n), (n))
LAZY_FN(lazy_ndpi, void *, ndpi_flow_malloc, (size_t size), (size))
LAZY_VOID(lazy_ndpi, ndpi_flow_free, (void *flow), (flow))
LAZY_FN(lazy_ndpi, ndpi_protocol, ndpi_detection_process_packet,
	(struct ndpi_detection_module_struct *n, struct ndpi_flow_struct *flow,
	 const unsigned char *packet, const unsigned short len, const u_int64_t time_ms),
	(n, flow, packet, len, time_ms))
LAZY_FN(lazy_ndpi, ndpi_protocol, ndpi_detection_giveup,
	(struct ndpi_detection_module_struct *n, struct ndpi_flow_struct *flow,
	 u_int8_t enable_guess, u_int8_t *guessed),
	(n, flow, enable_guess, guessed))
LAZY_FN(lazy_ndpi, u_int8_t, ndpi_extra_dissection_possible,
	(struct ndpi_detection_module_struct *n, struct ndpi_flow_struct *flow), (n, flow))
LAZY_FN(lazy_ndpi, const char *, ndpi_category_get_name,
	(struct ndpi_detection_module_struct *n, ndpi_protocol_category_t category), (n, category))
LAZY_FN(lazy_ndpi, char *, ndpi_protocol2name,
	(struct ndpi_detection_module_struct *n, ndpi_protocol proto, char *buf, u_int len),
	(n, proto, buf, len))
