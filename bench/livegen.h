/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * livegen: what its program (livegen.bpf.c) and its loader (livegen.c)
 * share. Flow n is the 5-tuple bench/blast.c sends as flow n:
 *   IPv4  198.18.0.1 + n / LIVEGEN_PORTS : 1024 + n % LIVEGEN_PORTS -> 198.19.255.254 : 9
 *   IPv6  the same IPv4 addresses in the low 32 bits of fd00::/96
 *         (fd00::c612:1 + n / LIVEGEN_PORTS -> fd00::c613:fffe), same ports
 * With --proto mix flow n is TCP when n is odd; with --ipv6 P it is IPv6
 * when (n / 2) % 100 < P, so both protocols share each address family.
 */
#ifndef NFXDP_BENCH_LIVEGEN_H
#define NFXDP_BENCH_LIVEGEN_H

#define LIVEGEN_PORTS 64512
#define LIVEGEN_SRC4 0xc6120001u /* 198.18.0.1 */
#define LIVEGEN_DST4 0xc613fffeu /* 198.19.255.254 */
#define LIVEGEN_DPORT 9		 /* discard */
/* --dist heavy: a Zipf(1) distribution over the flows, in this many equally likely buckets */
#define LIVEGEN_BUCKETS 1024

enum livegen_proto {
	LIVEGEN_UDP,
	LIVEGEN_TCP,
	LIVEGEN_MIX,
};

#endif /* NFXDP_BENCH_LIVEGEN_H */
