// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <string.h>

#include <pcap/dlt.h>

#include "capture/linktype.h"

#define ETH_HLEN 14
#define ETHERTYPE_IP 0x0800
#define ETHERTYPE_IPV6 0x86dd

#ifndef DLT_IPV4
#define DLT_IPV4 228
#endif
#ifndef DLT_IPV6
#define DLT_IPV6 229
#endif

int linktype_supported(int dlt)
{
	switch (dlt) {
	case DLT_EN10MB:
	case DLT_LINUX_SLL:
	case DLT_NULL:
	case DLT_LOOP:
	case DLT_RAW:
	case DLT_IPV4:
	case DLT_IPV6:
	case DLT_PPP:
	case DLT_PPP_SERIAL:
	case DLT_C_HDLC:
		return 1;
	default:
		/* LINKTYPE_RAW (101) is DLT_RAW under another number on some systems. */
		return dlt == 12 || dlt == 14 || dlt == 101;
	}
}

const char *linktype_supported_names(void)
{
	return "EN10MB (Ethernet), LINUX_SLL, NULL, LOOP, RAW, IPV4, IPV6, PPP, PPP_SERIAL, C_HDLC";
}

static uint16_t be16(const uint8_t *p)
{
	return p[0] << 8 | p[1];
}

/* Ethertype of an IP packet from its version nibble; 0 when not IP. */
static uint16_t by_version(const uint8_t *p, uint32_t len)
{
	if (!len)
		return 0;
	if ((p[0] >> 4) == 4)
		return ETHERTYPE_IP;
	if ((p[0] >> 4) == 6)
		return ETHERTYPE_IPV6;
	return 0;
}

/* PPP protocol numbers (and Cisco HDLC's, which are ethertypes) to ethertypes. */
static uint16_t ppp_to_ethertype(uint16_t proto)
{
	switch (proto) {
	case 0x0021:
		return ETHERTYPE_IP;
	case 0x0057:
		return ETHERTYPE_IPV6;
	default:
		return proto;
	}
}

/* Finds the link header's length and the ethertype of what follows it. */
static int link_header(int dlt, const uint8_t *d, uint32_t caplen, uint32_t *l2, uint16_t *type)
{
	switch (dlt) {
	case DLT_EN10MB:
		*l2 = 0;
		*type = 0;
		return caplen >= ETH_HLEN ? 0 : -1;
	case DLT_LINUX_SLL:
		*l2 = 16;
		if (caplen < 16)
			return -1;
		*type = be16(d + 14);
		return 0;
	case DLT_NULL:
	case DLT_LOOP:
		/* The family in host order of the capturing machine: look at the packet. */
		*l2 = 4;
		if (caplen < 4)
			return -1;
		*type = by_version(d + 4, caplen - 4);
		return 0;
	case DLT_PPP:
	case DLT_PPP_SERIAL:
	case DLT_C_HDLC:
		if (caplen < 4)
			return -1;
		if (d[0] == 0xff && d[1] == 0x03) { /* PPP in HDLC framing */
			*l2 = 4;
			*type = ppp_to_ethertype(be16(d + 2));
		} else if (d[0] == 0x0f || d[0] == 0x8f) { /* Cisco HDLC */
			*l2 = 4;
			*type = be16(d + 2);
		} else { /* address and control compressed away */
			*l2 = 2;
			*type = ppp_to_ethertype(be16(d));
		}
		return 0;
	default: /* raw IP: DLT_RAW, LINKTYPE_RAW, DLT_IPV4, DLT_IPV6 */
		*l2 = 0;
		*type = by_version(d, caplen);
		return 0;
	}
}

long linktype_to_ethernet(int dlt, const uint8_t *data, uint32_t caplen, uint8_t *out,
			  size_t cap, size_t *written)
{
	uint32_t l2;
	uint16_t type;
	size_t n;

	if (link_header(dlt, data, caplen, &l2, &type))
		return -1;
	if (dlt == DLT_EN10MB) {
		n = caplen < cap ? caplen : cap;
		memcpy(out, data, n);
		*written = n;
		return caplen;
	}
	if (cap < ETH_HLEN)
		return -1;
	/* No MAC addresses on these links: zeros, as NFStream reports them. */
	memset(out, 0, 12);
	out[12] = type >> 8;
	out[13] = type & 0xff;
	n = caplen - l2;
	if (n > cap - ETH_HLEN)
		n = cap - ETH_HLEN;
	memcpy(out + ETH_HLEN, data + l2, n);
	*written = ETH_HLEN + n;
	return ETH_HLEN + (caplen - l2);
}
