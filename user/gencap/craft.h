/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Crafted frames: one spec, one frame. For the capture generator and the tests. */
#ifndef NFXDP_GENCAP_CRAFT_H
#define NFXDP_GENCAP_CRAFT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PKT_MAX 4096

struct pkt_spec {
	uint8_t smac[6];
	uint8_t dmac[6];
	/* link layer extras, outermost first */
	bool fabricpath; /* a Cisco FabricPath header (16 bytes) before the frame */
	uint16_t vlan_tpid[4];
	uint16_t vlan_id[4];
	int n_vlans;
	int mpls_labels; /* MPLS label stack depth (0: none) */
	bool pppoe;
	bool llc_snap;
	uint16_t ethertype; /* overrides the one derived from ip_version */

	int ip_version; /* 4 or 6; 0: no IP header (ethertype payload only) */
	const char *src;
	const char *dst;
	int outer_version; /* IP-in-IP: outer header version (0: none) */
	const char *outer_src;
	const char *outer_dst;
	uint8_t ipv4_ihl; /* 0 means 5 */
	uint16_t frag_offset; /* in 8-byte units */
	bool more_frags;
	uint8_t ipv6_ext[4]; /* extension headers in order (0, 43, 44, 60, 135) */
	int n_ext;

	uint8_t proto;
	uint16_t sport;
	uint16_t dport;
	uint8_t tcp_flags;
	uint8_t tcp_doff; /* 0 means 5 */
	uint32_t tcp_seq;
	uint32_t tcp_ack;
	uint16_t payload;
	const uint8_t *payload_data; /* the payload's bytes (NULL: a pattern) */

	/* corruptions */
	int len_delta;	   /* added to IPv4 total length / IPv6 payload length */
	uint8_t version;   /* forced IP version nibble (0: correct) */
	size_t truncate;   /* bytes cut from the end of the frame */
};

/* Builds the frame; returns its length (0 when it does not fit or an address is bad). */
size_t pkt_build(const struct pkt_spec *s, uint8_t *buf, size_t cap);

/* @s as the other endpoint sends it: addresses, ports and MACs swapped. */
void pkt_spec_reverse(struct pkt_spec *s);

/* Parses "aa:bb:cc:dd:ee:ff"; returns 0 or -1. */
int pkt_parse_mac(const char *s, uint8_t mac[6]);

#endif /* NFXDP_GENCAP_CRAFT_H */
