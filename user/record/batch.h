/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Batches of flow records: the unit every exporter sends or writes. */
#ifndef NFXDP_RECORD_BATCH_H
#define NFXDP_RECORD_BATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "record/encode.h"
#include "record/record.h"

#define SCHEMA_VERSION 1

struct batch {
	Nfxdp__FlowBatch msg;
	struct flow_rec *recs;
	size_t recs_bytes; /* mapped for them (common/bigarray.h) */
	Nfxdp__Flow **ptrs;
	size_t cap;
	uint64_t opened_ms; /* monotonic time the first record went in */
	struct pb_out out;  /* packed message */
};

int batch_init(struct batch *b, size_t cap, const char *agent, const char *iface,
	       uint64_t stream_id);
void batch_free(struct batch *b);
/* Slot for the next record; NULL when the batch is full. */
struct flow_rec *batch_next(struct batch *b, uint64_t now_ms);
/* Takes back the record batch_next() handed out last. */
void batch_unput(struct batch *b);
/*
 * Packs the batch with its sequence number and send time (pb_encode(), or
 * protobuf-c for what it does not encode); *len gets the size. NULL when
 * memory is short.
 */
const uint8_t *batch_pack(struct batch *b, size_t *len);
/* Empties the batch and moves on to the next sequence number. */
void batch_clear(struct batch *b);

/* What a consumer needs of a packed batch without decoding its flows. */
struct batch_head {
	uint64_t stream_id;
	uint64_t sequence;
	uint64_t flows; /* Flow messages in it */
	const uint8_t *agent; /* its agent's name, in the packed bytes (not NUL-terminated) */
	size_t agent_len;
	uint32_t splt, dpi;
	bool statistical;
	bool end_of_stream;
};

/*
 * Reads @h off the packed FlowBatch in @buf (@len bytes), walking its
 * top-level fields only: 0, or -EINVAL when the bytes are not a well-formed
 * message (what nfxdp-cat --format pb checks before passing a batch on).
 */
int batch_peek(const uint8_t *buf, size_t len, struct batch_head *h);

/* A random 64-bit stream id for a new collector run. */
uint64_t stream_id_new(void);

/* Length-delimited framing (varint length, then message) of the pb format. */
size_t varint_encode(uint64_t v, uint8_t *out);
/* Decodes a varint from @in (@len bytes); returns bytes used, 0 if incomplete or bad. */
size_t varint_decode(const uint8_t *in, size_t len, uint64_t *v);

#endif /* NFXDP_RECORD_BATCH_H */
