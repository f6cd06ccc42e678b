/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Batches of flow records: the unit every exporter sends or writes. */
#ifndef NFXDP_RECORD_BATCH_H
#define NFXDP_RECORD_BATCH_H

#include <stddef.h>
#include <stdint.h>

#include "record/record.h"

#define SCHEMA_VERSION 1

struct batch {
	Nfxdp__FlowBatch msg;
	struct flow_rec *recs;
	Nfxdp__Flow **ptrs;
	size_t cap;
	uint64_t opened_ms; /* monotonic time the first record went in */
	uint8_t *buf;	    /* packed message */
	size_t buf_cap;
};

int batch_init(struct batch *b, size_t cap, const char *agent, const char *iface,
	       uint64_t stream_id);
void batch_free(struct batch *b);
/* Slot for the next record; NULL when the batch is full. */
struct flow_rec *batch_next(struct batch *b, uint64_t now_ms);
/* Takes back the record batch_next() handed out last. */
void batch_unput(struct batch *b);
/* Packs the batch with its sequence number and send time; *len gets the size. */
const uint8_t *batch_pack(struct batch *b, size_t *len);
/* Empties the batch and moves on to the next sequence number. */
void batch_clear(struct batch *b);

/* A random 64-bit stream id for a new collector run. */
uint64_t stream_id_new(void);

/* Length-delimited framing (varint length, then message) of the pb format. */
size_t varint_encode(uint64_t v, uint8_t *out);
/* Decodes a varint from @in (@len bytes); returns bytes used, 0 if incomplete or bad. */
size_t varint_decode(const uint8_t *in, size_t len, uint64_t *v);

#endif /* NFXDP_RECORD_BATCH_H */
