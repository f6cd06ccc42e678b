// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "common/clock.h"
#include "common/bigarray.h"
#include "record/batch.h"

int batch_init(struct batch *b, size_t cap, const char *agent, const char *iface,
	       uint64_t stream_id)
{
	memset(b, 0, sizeof(*b));
	nfxdp__flow_batch__init(&b->msg);
	/* Touched whole by the first batch: huge pages, not a fault per record. */
	b->recs = bigarray_grow(NULL, &b->recs_bytes, cap * sizeof(*b->recs));
	b->ptrs = calloc(cap, sizeof(*b->ptrs));
	if (!b->recs || !b->ptrs) {
		batch_free(b);
		return -1;
	}
	for (size_t i = 0; i < cap; i++)
		b->ptrs[i] = &b->recs[i].msg;
	b->cap = cap;
	b->msg.schema_version = SCHEMA_VERSION;
	b->msg.agent = strdup(agent);
	b->msg.interface = strdup(iface);
	b->msg.stream_id = stream_id;
	b->msg.flows = b->ptrs;
	return b->msg.agent && b->msg.interface ? 0 : -1;
}

void batch_free(struct batch *b)
{
	bigarray_free(b->recs, b->recs_bytes);
	free(b->ptrs);
	free(b->msg.agent);
	free(b->msg.interface);
	free(b->out.p);
	memset(b, 0, sizeof(*b));
}

struct flow_rec *batch_next(struct batch *b, uint64_t now_ms)
{
	if (b->msg.n_flows == b->cap)
		return NULL;
	if (b->msg.n_flows == 0)
		b->opened_ms = now_ms;
	return &b->recs[b->msg.n_flows++];
}

void batch_unput(struct batch *b)
{
	if (b->msg.n_flows)
		b->msg.n_flows--;
}

/* protobuf-c's packing, when pb_encode() does not know a field's kind. */
static const uint8_t *pack_protobuf_c(struct batch *b, size_t *len)
{
	size_t need = nfxdp__flow_batch__get_packed_size(&b->msg);

	b->out.len = 0;
	if (need > b->out.cap) {
		uint8_t *nb = realloc(b->out.p, need);

		if (!nb)
			return NULL;
		b->out.p = nb;
		b->out.cap = need;
	}
	*len = nfxdp__flow_batch__pack(&b->msg, b->out.p);
	return b->out.p;
}

const uint8_t *batch_pack(struct batch *b, size_t *len)
{
	int err;

	b->msg.sent_time_ns = clock_ns(CLOCK_REALTIME);
	b->out.len = 0;
	err = pb_encode(&b->out, &b->msg.base);
	if (err == -ENOTSUP)
		return pack_protobuf_c(b, len);
	if (err)
		return NULL;
	*len = b->out.len;
	return b->out.p;
}

void batch_clear(struct batch *b)
{
	b->msg.n_flows = 0;
	b->msg.sequence++;
}

uint64_t stream_id_new(void)
{
	uint64_t id;

	if (getrandom(&id, sizeof(id), 0) != sizeof(id))
		id = clock_ns(CLOCK_REALTIME);
	return id;
}

size_t varint_encode(uint64_t v, uint8_t *out)
{
	size_t n = 0;

	do {
		out[n] = v & 0x7f;
		v >>= 7;
		if (v)
			out[n] |= 0x80;
		n++;
	} while (v);
	return n;
}

size_t varint_decode(const uint8_t *in, size_t len, uint64_t *v)
{
	uint64_t r = 0;

	for (size_t i = 0; i < len && i < 10; i++) {
		r |= (uint64_t)(in[i] & 0x7f) << (7 * i);
		if (!(in[i] & 0x80)) {
			*v = r;
			return i + 1;
		}
	}
	return 0;
}

/* FlowBatch's field numbers (proto/flow.proto) that batch_peek() reads. */
enum {
	BATCH_F_AGENT = 2,
	BATCH_F_STREAM_ID = 4,
	BATCH_F_SEQUENCE = 5,
	BATCH_F_STATISTICAL = 7,
	BATCH_F_SPLT = 8,
	BATCH_F_END = 9,
	BATCH_F_DPI = 11,
	BATCH_F_FLOWS = 16,
};

static void peek_varint(struct batch_head *h, uint64_t field, uint64_t v)
{
	switch (field) {
	case BATCH_F_STREAM_ID:
		h->stream_id = v;
		break;
	case BATCH_F_SEQUENCE:
		h->sequence = v;
		break;
	case BATCH_F_STATISTICAL:
		h->statistical = v != 0;
		break;
	case BATCH_F_SPLT:
		h->splt = v;
		break;
	case BATCH_F_END:
		h->end_of_stream = v != 0;
		break;
	case BATCH_F_DPI:
		h->dpi = v;
		break;
	}
}

int batch_peek(const uint8_t *buf, size_t len, struct batch_head *h)
{
	size_t at = 0, n;
	uint64_t tag, v;

	memset(h, 0, sizeof(*h));
	while (at < len) {
		if (!(n = varint_decode(buf + at, len - at, &tag)) || tag >> 3 == 0)
			return -EINVAL;
		at += n;
		switch (tag & 7) {
		case 0: /* varint */
			if (!(n = varint_decode(buf + at, len - at, &v)))
				return -EINVAL;
			peek_varint(h, tag >> 3, v);
			break;
		case 1: /* 64-bit */
			n = 8;
			break;
		case 2: /* length-delimited: a string, a Counter, a Flow */
			if (!(n = varint_decode(buf + at, len - at, &v)) || v > len - at - n)
				return -EINVAL;
			if (tag >> 3 == BATCH_F_AGENT) {
				h->agent = buf + at + n;
				h->agent_len = v;
			}
			n += v;
			h->flows += tag >> 3 == BATCH_F_FLOWS;
			break;
		case 5: /* 32-bit */
			n = 4;
			break;
		default:
			return -EINVAL;
		}
		if (n > len - at)
			return -EINVAL;
		at += n;
	}
	return 0;
}
