/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * --filter in the kernel: the classic BPF libpcap compiled
 * (select/pcap_filter.h) translated into eBPF, the body of the meter's
 *
 *   int pcap_filter(const struct frame_buf *buf, __u32 len, __u32 wire_len)
 *
 * (bpf/meter.bpf.c), which it replaces (meter/filter_ext.c). It keeps
 * classic BPF's meaning as libpcap's interpreter (bpf_filter()) has it:
 * A, X and the 16 scratch words M[] are 32 bits and start at 0; loads are
 * big-endian; a packet load past the @len bytes there are ends the filter
 * with 0, as a short capture does in libpcap; BPF_LEN is @wire_len;
 * division or modulo by X = 0 ends it with 0, a shift by X >= 32 gives 0.
 * Classic BPF jumps only forward, so the result is a straight graph the
 * verifier walks once. Anything else (a backward jump: "protochain"; an
 * instruction libpcap's validator refuses) is refused with a message.
 */
#ifndef NFXDP_SELECT_PCAP_EBPF_H
#define NFXDP_SELECT_PCAP_EBPF_H

#include <stddef.h>

#include <linux/bpf.h>

#include "select/pcap_filter.h"

/* eBPF jump offsets are 16 bits: a longer program cannot jump over itself. */
#define PCAP_EBPF_MAX_INSNS 32767

struct pcap_ebpf {
	struct bpf_insn *insns;
	unsigned int len;
};

/*
 * Translates @f (compiled for Ethernet) for frames of which the first @window
 * bytes at most are in the buffer (PARSE_WINDOW). Returns 0, or -1 with a
 * message in @err.
 */
int pcap_ebpf_translate(const struct pcap_filter *f, unsigned int window, struct pcap_ebpf *out,
			char *err, size_t errlen);
void pcap_ebpf_free(struct pcap_ebpf *p);

#endif /* NFXDP_SELECT_PCAP_EBPF_H */
