/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Capture link types: turns a captured frame of any supported link type
 * into the Ethernet frame the meter parses. Byte accounting stays on the
 * original frame (its wire length travels separately).
 */
#ifndef NFXDP_CAPTURE_LINKTYPE_H
#define NFXDP_CAPTURE_LINKTYPE_H

#include <stddef.h>
#include <stdint.h>

/* True when nfxdp can meter captures of this DLT_ value. */
int linktype_supported(int dlt);
/* Names of the supported link types, for messages. */
const char *linktype_supported_names(void);

/*
 * Writes at most @cap bytes of an Ethernet version of @data (@caplen bytes
 * of link type @dlt) to @out. Returns the length the Ethernet frame would
 * have had in full (its caplen: the link header replaced by 14 bytes), or
 * -1 when the frame is too short for its own link header.
 * *@written gets the bytes actually written.
 */
long linktype_to_ethernet(int dlt, const uint8_t *data, uint32_t caplen, uint8_t *out,
			  size_t cap, size_t *written);

#endif /* NFXDP_CAPTURE_LINKTYPE_H */
