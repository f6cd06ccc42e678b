/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The meter's second compilation: meter.bpf.c built by the host compiler
 * into user space (user/meter/umeter.c includes it), for capture files
 * metered without BPF privileges. This header stands in for what the BPF
 * build takes from the kernel: types (the UAPI headers instead of
 * vmlinux.h), the section and map-definition macros, byte order, and the
 * helpers, declared here and defined by umeter.c over its in-process maps.
 * Only the entry points that read their input from maps are compiled
 * (nfx_replay, nfx_close, nfx_dpi_done): an XDP or TC context cannot be
 * made in user space, and a live interface needs the kernel anyway.
 */
#ifndef NFXDP_USERMODE_H
#define NFXDP_USERMODE_H

#include <linux/types.h>
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <linux/udp.h>

#define SEC(name)
#define __uint(name, val) int(*name)[val]
#define __type(name, val) typeof(val) *name
#ifndef __always_inline
#define __always_inline inline __attribute__((always_inline))
#endif
/* Out of line in BPF for the verifier's sake; the host compiler decides. */
#define __noinline
/* Verifier workarounds: the host compiler needs none. */
#define barrier_var(var) asm volatile("" : "+r"(var))

/*
 * The configuration the BPF build takes as const volatile .rodata: plain
 * variables here, set by umeter.c before the first frame.
 */
#define NFX_CONFIG

#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define bpf_htons(x) __builtin_bswap16(x)
#define bpf_ntohs(x) __builtin_bswap16(x)
#define bpf_htonl(x) __builtin_bswap32(x)
#define bpf_ntohl(x) __builtin_bswap32(x)
#define bpf_be64_to_cpu(x) __builtin_bswap64(x)
#else
#define bpf_htons(x) (x)
#define bpf_ntohs(x) (x)
#define bpf_htonl(x) (x)
#define bpf_ntohl(x) (x)
#define bpf_be64_to_cpu(x) (x)
#endif

/* bpf_loop(): calls @fn(i, @ctx) until it returns nonzero; the iterations run. */
#define bpf_loop(n, fn, ctx, flags)                                                            \
	({                                                                                     \
		__u32 _n = (n), _i;                                                            \
		for (_i = 0; _i < _n; _i++)                                                    \
			if (fn(_i, ctx)) {                                                     \
				_i++;                                                          \
				break;                                                         \
			}                                                                      \
		(long)_i;                                                                      \
	})

/* Defined in umeter.c, once the maps they serve are. */
static inline void *bpf_map_lookup_elem(void *map, const void *key);
static inline long bpf_map_update_elem(void *map, const void *key, const void *value,
				       __u64 flags);
static inline long bpf_map_delete_elem(void *map, const void *key);
static inline void *bpf_ringbuf_reserve(void *ringbuf, __u64 size, __u64 flags);
static inline void bpf_ringbuf_submit(void *data, __u64 flags);
static inline void bpf_ringbuf_discard(void *data, __u64 flags);
static inline long bpf_ringbuf_output(void *ringbuf, void *data, __u64 size, __u64 flags);
static inline __u32 bpf_get_prandom_u32(void);
/* One CPU: the process's. */
#define bpf_get_smp_processor_id() 0U

/*
 * No kernel counterpart: @len bytes from @off of the frame in replay slot
 * @slot, past the PARSE_WINDOW bytes the slot holds (--dpi's copy; umeter.c
 * keeps the frames beside the slots). 0, or -EFAULT past what was kept.
 */
static inline long replay_load_bytes(__u32 slot, __u32 off, void *to, __u32 len);

#endif /* NFXDP_USERMODE_H */
