// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "common/clock.h"
#include "record/batch.h"

int batch_init(struct batch *b, size_t cap, const char *agent, const char *iface,
	       uint64_t stream_id)
{
	memset(b, 0, sizeof(*b));
	nfxdp__flow_batch__init(&b->msg);
	b->recs = calloc(cap, sizeof(*b->recs));
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
	free(b->recs);
	free(b->ptrs);
	free(b->msg.agent);
	free(b->msg.interface);
	free(b->buf);
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

const uint8_t *batch_pack(struct batch *b, size_t *len)
{
	size_t need;

	b->msg.sent_time_ns = clock_ns(CLOCK_REALTIME);
	need = nfxdp__flow_batch__get_packed_size(&b->msg);
	if (need > b->buf_cap) {
		uint8_t *nb = realloc(b->buf, need);

		if (!nb)
			return NULL;
		b->buf = nb;
		b->buf_cap = need;
	}
	*len = nfxdp__flow_batch__pack(&b->msg, b->buf);
	return b->buf;
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
