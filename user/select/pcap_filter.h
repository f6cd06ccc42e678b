/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * --filter: an expression of the pcap-filter language (pcap-filter(7)),
 * compiled by libpcap itself (pcap_compile() on a dead handle of the link
 * type, optimized, as tcpdump does), so the grammar, the meaning and the
 * error messages are libpcap's. The classic BPF it makes runs in the
 * kernel once translated to eBPF (select/pcap_ebpf.c), or in user space
 * through libpcap on captured frames of other link types (capture replay).
 *
 * This header stays free of <pcap.h> and <linux/bpf.h>: both define a
 * struct bpf_insn, of different layouts.
 */
#ifndef NFXDP_SELECT_PCAP_FILTER_H
#define NFXDP_SELECT_PCAP_FILTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* DLT_EN10MB: the frames the meter parses are Ethernet. */
#define PCAP_FILTER_ETHERNET 1

/* One classic BPF instruction: libpcap's struct bpf_insn, Linux's struct sock_filter. */
struct cbpf_insn {
	uint16_t code;
	uint8_t jt;
	uint8_t jf;
	uint32_t k;
};

struct pcap_filter {
	char *expr;
	int dlt; /* the link type it was compiled for (DLT_*) */
	struct cbpf_insn *insns;
	unsigned int len;
};

/*
 * Compiles @expr for link type @dlt into @f. Returns 0, or -1 with
 * libpcap's message in @err and, under the expression, a caret after the
 * longest beginning of it that libpcap accepts (where it goes wrong).
 */
int pcap_filter_compile(struct pcap_filter *f, const char *expr, int dlt, char *err,
			size_t errlen);
/*
 * libpcap's verdict on a frame (pcap_offline_filter()): @caplen bytes at
 * @data of a frame of @wire_len bytes, of the link type @f was compiled for.
 */
bool pcap_filter_match(const struct pcap_filter *f, const uint8_t *data, uint32_t caplen,
		       uint32_t wire_len);
/* The same, as the value the program returns (0: rejected). */
uint32_t pcap_filter_run(const struct pcap_filter *f, const uint8_t *data, uint32_t caplen,
			 uint32_t wire_len);
void pcap_filter_free(struct pcap_filter *f);
/* The link type's name, for messages ("EN10MB"). */
const char *pcap_filter_dlt_name(int dlt);

#endif /* NFXDP_SELECT_PCAP_FILTER_H */
