/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* An nfxdp pb file (--format pb: varint length, FlowBatch, repeated) for the test senders. */
#ifndef NFXDP_TEST_PBFILE_H
#define NFXDP_TEST_PBFILE_H

#include <stddef.h>
#include <stdint.h>

/* The whole file, malloc'd; NULL (and a message) when it cannot be read. */
uint8_t *pbfile_read(const char *path, size_t *len);
/*
 * The next batch of the file at *@p (*@len bytes left): 1 with its packed
 * bytes in *@rec and *@n, and *@p, *@len past it; 0 at the end; -1 when the
 * file is cut inside a batch.
 */
int pbfile_next(const uint8_t **p, size_t *len, const uint8_t **rec, uint64_t *n);

#endif /* NFXDP_TEST_PBFILE_H */
