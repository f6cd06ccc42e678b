/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * --filter in the kernel: the translated pcap filter (select/pcap_ebpf.h)
 * becomes the body of the global function
 *
 *   int pcap_filter(const struct frame_buf *buf, __u32 len, __u32 wire_len)
 *
 * in every program of the meter that calls it, as libbpf loads them: the
 * stub's instructions are replaced, the calls and function references
 * across it moved, its BTF function and line records kept in step. The
 * verifier then checks the filter as that global function, with the
 * argument types of the stub's BTF, and the meter calls it with one
 * bpf-to-bpf call. See filter_splice.c for why not freplace or a tail call.
 */
#ifndef NFXDP_METER_FILTER_SPLICE_H
#define NFXDP_METER_FILTER_SPLICE_H

struct btf;
struct pcap_ebpf;

/* The function whose body the filter replaces, as in bpf/meter.bpf.c. */
#define FILTER_SPLICE_FUNC "pcap_filter"

/*
 * Hands libbpf's loading of the meter's program sections (SEC("xdp"),
 * SEC("xdp.frags"), SEC("tc")) to this module, which does what libbpf does
 * for them and splices the filter in. Once per process, before the first
 * object is opened; 0 or a negative errno after a message.
 */
int filter_splice_init(void);
/*
 * The filter the next bpf_object__load() splices into the programs of the
 * object whose BTF is @btf (NULL: none, the stub stays). Returns how many
 * programs the previous load spliced it into.
 */
int filter_splice_set(const struct pcap_ebpf *f, const struct btf *btf);

#endif /* NFXDP_METER_FILTER_SPLICE_H */
