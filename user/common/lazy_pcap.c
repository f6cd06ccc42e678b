// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * libpcap's functions nfxdp calls, loading it on first use
 * (common/lazylib.h): only pcapng and other formats than classic pcap,
 * --filter and nfxdp-gencap need it.
 */
#include <pcap/pcap.h>

#include "common/lazylib.h"

struct lazylib lazy_pcap = LAZYLIB_INIT("libpcap.so.0.8", "libpcap0.8");

LAZY_FN(lazy_pcap, pcap_t *, pcap_open_dead, (int dlt, int snaplen), (dlt, snaplen))
LAZY_FN(lazy_pcap, pcap_t *, pcap_open_dead_with_tstamp_precision,
	(int dlt, int snaplen, u_int precision), (dlt, snaplen, precision))
LAZY_FN(lazy_pcap, pcap_t *, pcap_fopen_offline_with_tstamp_precision,
	(FILE *f, u_int precision, char *err), (f, precision, err))
LAZY_VOID(lazy_pcap, pcap_close, (pcap_t *p), (p))
LAZY_FN(lazy_pcap, int, pcap_compile,
	(pcap_t *p, struct bpf_program *prog, const char *expr, int optimize, bpf_u_int32 mask),
	(p, prog, expr, optimize, mask))
LAZY_VOID(lazy_pcap, pcap_freecode, (struct bpf_program *prog), (prog))
LAZY_FN(lazy_pcap, int, pcap_offline_filter,
	(const struct bpf_program *prog, const struct pcap_pkthdr *h, const u_char *data),
	(prog, h, data))
LAZY_FN(lazy_pcap, int, pcap_datalink, (pcap_t *p), (p))
LAZY_FN(lazy_pcap, const char *, pcap_datalink_val_to_name, (int dlt), (dlt))
LAZY_FN(lazy_pcap, char *, pcap_geterr, (pcap_t *p), (p))
LAZY_FN(lazy_pcap, int, pcap_next_ex, (pcap_t *p, struct pcap_pkthdr **h, const u_char **data),
	(p, h, data))
LAZY_FN(lazy_pcap, pcap_dumper_t *, pcap_dump_open, (pcap_t *p, const char *path), (p, path))
LAZY_VOID(lazy_pcap, pcap_dump, (u_char *d, const struct pcap_pkthdr *h, const u_char *data),
	  (d, h, data))
LAZY_VOID(lazy_pcap, pcap_dump_close, (pcap_dumper_t *d), (d))
