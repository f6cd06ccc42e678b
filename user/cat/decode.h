/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Decoding what nfxdp-cat reads, within bounds (RELIABILITY.md): a batch of
 * at most CAT_MAX_BATCH bytes (a ZeroMQ message, a record of a file or a
 * spool); a deflated one inflates to at most CAT_INFLATE_RATIO times its
 * size (and CAT_MAX_BATCH); decoding it allocates at most CAT_DECODE_RATIO
 * times its size plus CAT_DECODE_SLACK, and CAT_MAX_DECODED in all. A batch
 * nfxdp sends stays well inside: 65,536 flows with every feature are about
 * 30 MiB (432 bytes a flow); on the reference captures its deflate ratio was
 * at most 13 and its decoded size at most 10 times its encoded size.
 */
#ifndef NFXDP_CAT_DECODE_H
#define NFXDP_CAT_DECODE_H

#include <stddef.h>
#include <stdint.h>

#include "flow.pb-c.h"

#define CAT_MAX_BATCH (64U << 20)
#define CAT_INFLATE_RATIO 64
#define CAT_DECODE_RATIO 16
#define CAT_DECODE_SLACK (1U << 20)
#define CAT_MAX_DECODED (256U << 20)

/*
 * The batch in @buf, or NULL: errno EINVAL when it is not one, E2BIG when
 * it is longer than CAT_MAX_BATCH or would take more memory than allowed.
 */
Nfxdp__FlowBatch *cat_decode(const uint8_t *buf, size_t len);
/* Frees the batch cat_decode() returned last (one at a time: a new decode frees it too). */
void cat_decoded_free(Nfxdp__FlowBatch *b);

/*
 * Inflates a deflated batch (zlib) into a buffer kept for the next one;
 * NULL when it does not inflate, errno E2BIG when it would grow past the
 * bounds. *out_len gets its size.
 */
const uint8_t *cat_inflate(const void *in, size_t len, size_t *out_len);

#endif /* NFXDP_CAT_DECODE_H */
