// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "cat/decode.h"

/*
 * A batch decodes into an arena: protobuf-c allocates each message, string
 * and list apart (hundreds per batch), and a bump allocator makes those
 * allocations, and freeing the whole batch, nearly free. nfxdp-cat decodes
 * one batch at a time; the arena is emptied when it is freed, and keeps one
 * chunk the size the last batch needed, so the next alike fits in it.
 */
struct arena_chunk {
	struct arena_chunk *next;
	size_t cap, used;
	max_align_t data[];
};

#define ARENA_MIN_CHUNK (64U << 10)

static struct arena_chunk *arena;
static size_t arena_want; /* what the last batch used: the next first chunk's size */

/* What the batch being decoded may still allocate. */
static size_t budget;
static bool over_budget;

static struct arena_chunk *arena_grow(size_t size)
{
	size_t cap = arena ? arena->cap * 2 : arena_want;
	struct arena_chunk *c;

	if (cap < size)
		cap = size;
	if (cap < ARENA_MIN_CHUNK)
		cap = ARENA_MIN_CHUNK;
	c = malloc(sizeof(*c) + cap);
	if (!c)
		return NULL;
	c->next = arena;
	c->cap = cap;
	c->used = 0;
	return arena = c;
}

static void *bounded_alloc(void *data, size_t size)
{
	size_t n = (size + sizeof(max_align_t) - 1) & ~(sizeof(max_align_t) - 1);
	struct arena_chunk *c = arena;
	void *p;

	/* Counted with its padding: the bound holds for what the arena takes. */
	if (n > budget) {
		over_budget = true;
		return NULL;
	}
	budget -= n;
	if ((!c || c->cap - c->used < n) && !(c = arena_grow(n)))
		return NULL;
	p = (char *)c->data + c->used;
	c->used += n;
	return p;
}

static void bounded_free(void *data, void *p)
{
	/* Freed with the whole batch (arena_reset()). */
}

static ProtobufCAllocator bounded = { .alloc = bounded_alloc, .free = bounded_free };

/* Empties the arena; one chunk stays when it is about the size the batch needed. */
static void arena_reset(void)
{
	size_t used = 0;

	for (struct arena_chunk *c = arena; c; c = c->next)
		used += c->used;
	if (!used)
		return; /* emptied already */
	if (!arena->next && arena->cap <= 4 * used + ARENA_MIN_CHUNK) {
		arena->used = 0;
		return;
	}
	while (arena) {
		struct arena_chunk *next = arena->next;

		free(arena);
		arena = next;
	}
	arena_want = used;
}

/*
 * A hand decoder for the batches nfxdp writes: each field read once into
 * the message protobuf-c would build, in the arena. It takes only the
 * canonical encoding of the field kinds proto/flow.proto uses (known
 * fields, their own wire types, packed lists in one piece, varints of
 * their type's length); anything else, well-formed or not, is left to
 * protobuf-c's unpack (return NULL), which decides.
 */
#define FAST_MAX_ID 256

struct fast_in {
	const uint8_t *p, *end;
};

/* The 7-bit groups of the 8 bytes in @x (their top bits clear) joined: 56 bits. */
static inline uint64_t varint_join(uint64_t x)
{
	x = (x & 0x007f007f007f007fULL) | (x & 0x7f007f007f007f00ULL) >> 1;
	x = (x & 0x00003fff00003fffULL) | (x & 0x3fff00003fff0000ULL) >> 2;
	return (x & 0x000000000fffffffULL) | (x & 0x0fffffff00000000ULL) >> 4;
}

static bool get_varint_long(struct fast_in *in, uint64_t *v, int max_len)
{
	uint64_t r = 0, x, stop;
	int n;

	/*
	 * Up to 9 bytes (a timestamp in ns takes 9) from one 8-byte load,
	 * not a byte at a time: the stop is the first byte without 0x80.
	 */
	if (in->end - in->p >= 9) {
		memcpy(&x, in->p, 8); /* little-endian: the first byte lowest */
		stop = ~x & 0x8080808080808080ULL;
		if (stop) {
			n = (__builtin_ctzll(stop) + 1) / 8;
			if (n > max_len)
				return false;
			*v = varint_join(x & (stop ^ (stop - 1)) & 0x7f7f7f7f7f7f7f7fULL);
			in->p += n;
			return true;
		}
		if (max_len >= 9 && !(in->p[8] & 0x80)) {
			*v = varint_join(x & 0x7f7f7f7f7f7f7f7fULL) | (uint64_t)in->p[8] << 56;
			in->p += 9;
			return true;
		}
	}

	for (int i = 0; i < max_len && in->p < in->end; i++) {
		uint8_t b = *in->p++;

		r |= (uint64_t)(b & 0x7f) << (7 * i);
		if (!(b & 0x80)) {
			*v = r;
			return true;
		}
	}
	return false;
}

/*
 * The most common varints inline: one byte (small numbers, tags of fields
 * 1 to 15) and two (tags of fields 16 to 2047: most of Flow's).
 */
static inline bool get_varint(struct fast_in *in, uint64_t *v, int max_len)
{
	const uint8_t *p = in->p;

	if (p < in->end && !(p[0] & 0x80)) {
		*v = p[0];
		in->p = p + 1;
		return true;
	}
	if (in->end - p >= 2 && !(p[1] & 0x80) && max_len >= 2) {
		*v = (p[0] & 0x7f) | (uint64_t)p[1] << 7;
		in->p = p + 2;
		return true;
	}
	return get_varint_long(in, v, max_len);
}

/* What fast_message() does with a tag (a field number and a wire type). */
enum fast_op {
	OP_BAD, /* a field unknown, or not of its own wire type: protobuf-c decides */
	OP_UINT32,
	OP_SINT32,
	OP_UINT64,
	OP_SINT64,
	OP_BOOL,
	OP_DOUBLE,
	OP_LEN, /* length-delimited: get_len() */
};

struct fast_tag {
	uint32_t offset;
	uint8_t op;
};

/*
 * A message kind's fields by number, made once; lists of messages need a
 * counting pass. ops[] is by whole tag, so one load says what a field is,
 * where it goes and whether its wire type is its own.
 */
struct fast_plan {
	const ProtobufCMessageDescriptor *d;
	const ProtobufCFieldDescriptor *by_id[FAST_MAX_ID];
	struct fast_tag ops[FAST_MAX_ID << 3];
	bool message_lists;
};

#define FAST_PLANS 4 /* FlowBatch, Flow, Counter */

static struct fast_plan fast_plans[FAST_PLANS];

static int varint_max(ProtobufCType t)
{
	return t == PROTOBUF_C_TYPE_UINT64 || t == PROTOBUF_C_TYPE_SINT64 ? 10 :
	       t == PROTOBUF_C_TYPE_BOOL ? 1 : 5;
}

/* A number of type @t from @in into @out (its C type's size); false when not canonical. */
static bool get_number(struct fast_in *in, ProtobufCType t, void *out)
{
	uint64_t v;

	if (t == PROTOBUF_C_TYPE_DOUBLE) {
		if (in->end - in->p < 8)
			return false;
		memcpy(out, in->p, 8); /* little-endian, as the wire */
		in->p += 8;
		return true;
	}
	if (!get_varint(in, &v, varint_max(t)))
		return false;
	switch (t) {
	case PROTOBUF_C_TYPE_UINT32:
		*(uint32_t *)out = v;
		return v <= UINT32_MAX;
	case PROTOBUF_C_TYPE_SINT32:
		*(int32_t *)out = (int32_t)((uint32_t)(v >> 1) ^ -(uint32_t)(v & 1));
		return v <= UINT32_MAX;
	case PROTOBUF_C_TYPE_UINT64:
		*(uint64_t *)out = v;
		return true;
	case PROTOBUF_C_TYPE_SINT64:
		*(int64_t *)out = (int64_t)((v >> 1) ^ -(v & 1));
		return true;
	case PROTOBUF_C_TYPE_BOOL:
		*(protobuf_c_boolean *)out = v;
		return v <= 1;
	default:
		return false;
	}
}

static size_t number_size(ProtobufCType t)
{
	return t == PROTOBUF_C_TYPE_UINT64 || t == PROTOBUF_C_TYPE_SINT64 ||
			       t == PROTOBUF_C_TYPE_DOUBLE ? 8 :
	       t == PROTOBUF_C_TYPE_BOOL ? sizeof(protobuf_c_boolean) : 4;
}

static bool is_number(ProtobufCType t)
{
	return t == PROTOBUF_C_TYPE_UINT32 || t == PROTOBUF_C_TYPE_SINT32 ||
	       t == PROTOBUF_C_TYPE_UINT64 || t == PROTOBUF_C_TYPE_SINT64 ||
	       t == PROTOBUF_C_TYPE_BOOL || t == PROTOBUF_C_TYPE_DOUBLE;
}

static enum fast_op number_op(ProtobufCType t)
{
	switch (t) {
	case PROTOBUF_C_TYPE_UINT32:
		return OP_UINT32;
	case PROTOBUF_C_TYPE_SINT32:
		return OP_SINT32;
	case PROTOBUF_C_TYPE_UINT64:
		return OP_UINT64;
	case PROTOBUF_C_TYPE_SINT64:
		return OP_SINT64;
	case PROTOBUF_C_TYPE_BOOL:
		return OP_BOOL;
	case PROTOBUF_C_TYPE_DOUBLE:
		return OP_DOUBLE;
	default:
		return OP_BAD;
	}
}

/* The plan of @d; NULL when it has a field numbered past FAST_MAX_ID or a oneof. */
static const struct fast_plan *plan_for(const ProtobufCMessageDescriptor *d)
{
	struct fast_plan *p = NULL;

	for (int i = 0; i < FAST_PLANS && !p; i++)
		if (fast_plans[i].d == d || !fast_plans[i].d)
			p = &fast_plans[i];
	if (!p || p->d == d)
		return p;
	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *fd = &d->fields[i];

		if (fd->id >= FAST_MAX_ID || (fd->flags & PROTOBUF_C_FIELD_FLAG_ONEOF))
			return NULL;
		p->by_id[fd->id] = fd;
		p->message_lists |= fd->type == PROTOBUF_C_TYPE_MESSAGE;
		p->ops[fd->id << 3 | 2] = (struct fast_tag){ fd->offset, OP_LEN };
		if (fd->label == PROTOBUF_C_LABEL_NONE && is_number(fd->type))
			p->ops[fd->id << 3 | (fd->type == PROTOBUF_C_TYPE_DOUBLE)] =
				(struct fast_tag){ fd->offset, number_op(fd->type) };
	}
	p->d = d;
	return p;
}

/* A packed list: counted, then read into an array of the arena. */
static bool get_packed(const ProtobufCFieldDescriptor *fd, struct fast_in val, char *msg)
{
	size_t *n = (size_t *)(msg + fd->quantifier_offset), count = 0, size = number_size(fd->type);
	struct fast_in scan = val;
	char *arr;

	if (*n || !is_number(fd->type))
		return false; /* a list in two pieces: protobuf-c joins them */
	if (fd->type == PROTOBUF_C_TYPE_DOUBLE) {
		if ((val.end - val.p) % 8)
			return false;
		count = (val.end - val.p) / 8;
	} else {
		for (; scan.p < scan.end; scan.p++)
			count += !(*scan.p & 0x80);
	}
	if (!count)
		return true;
	if (!(arr = bounded_alloc(NULL, count * size)))
		return false;
	for (size_t i = 0; i < count; i++)
		if (!get_number(&val, fd->type, arr + i * size))
			return false;
	*n = count;
	*(char **)(msg + fd->offset) = arr;
	return val.p == val.end;
}

static bool fast_message(const ProtobufCMessageDescriptor *d, struct fast_in in, void *msg);

/* A length-delimited value of field @fd: a string, a packed list, a message of a list. */
static bool get_len(const ProtobufCFieldDescriptor *fd, struct fast_in val, char *msg)
{
	size_t len = val.end - val.p;

	if (fd->type == PROTOBUF_C_TYPE_STRING && fd->label == PROTOBUF_C_LABEL_NONE) {
		char *str = bounded_alloc(NULL, len + 1);

		if (!str)
			return false;
		memcpy(str, val.p, len);
		str[len] = '\0';
		*(char **)(msg + fd->offset) = str;
		return true;
	}
	if (fd->label != PROTOBUF_C_LABEL_REPEATED)
		return false;
	if (fd->flags & PROTOBUF_C_FIELD_FLAG_PACKED)
		return get_packed(fd, val, msg);
	if (fd->type == PROTOBUF_C_TYPE_MESSAGE) {
		/* Its array was sized by the first pass (fast_count()). */
		const ProtobufCMessageDescriptor *sd = fd->descriptor;
		size_t *n = (size_t *)(msg + fd->quantifier_offset);
		void **arr = *(void ***)(msg + fd->offset), *sub;

		if (!arr || !(sub = bounded_alloc(NULL, sd->sizeof_message)))
			return false;
		sd->message_init(sub);
		arr[(*n)++] = sub;
		return fast_message(sd, val, sub);
	}
	return false;
}

/* The field of @tag in @pl, or NULL. */
static const ProtobufCFieldDescriptor *field_of(const struct fast_plan *pl, uint64_t tag)
{
	return tag >> 3 < FAST_MAX_ID ? pl->by_id[tag >> 3] : NULL;
}

/*
 * A first pass over a message with lists of messages: every tag is of a
 * known field, every length within the message, and each list gets its
 * array (as many entries as the field occurs).
 */
static bool fast_count(const struct fast_plan *pl, struct fast_in in, char *msg)
{
	uint16_t counts[FAST_MAX_ID] = { 0 };
	const ProtobufCMessageDescriptor *d = pl->d;

	while (in.p < in.end) {
		const ProtobufCFieldDescriptor *fd;
		uint64_t tag, len;

		if (!get_varint(&in, &tag, 5) || !(fd = field_of(pl, tag)))
			return false;
		if ((tag & 7) == 2) {
			if (!get_varint(&in, &len, 10) || len > (uint64_t)(in.end - in.p))
				return false;
			in.p += len;
			if (fd->type == PROTOBUF_C_TYPE_MESSAGE && ++counts[tag >> 3] == UINT16_MAX)
				return false;
		} else if ((tag & 7) == 1) {
			if (in.end - in.p < 8)
				return false;
			in.p += 8;
		} else if ((tag & 7) != 0 || !get_varint(&in, &len, 10)) {
			return false;
		}
	}
	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *fd = &d->fields[i];
		void **arr;

		if (fd->type != PROTOBUF_C_TYPE_MESSAGE || !counts[fd->id])
			continue;
		if (fd->label != PROTOBUF_C_LABEL_REPEATED ||
		    !(arr = bounded_alloc(NULL, counts[fd->id] * sizeof(void *))))
			return false;
		*(void ***)(msg + fd->offset) = arr;
	}
	return true;
}

/* The number of a tag's op from @in into @out; false when not canonical (as get_number()). */
static inline bool get_op_number(struct fast_in *in, enum fast_op op, char *out)
{
	uint64_t v;

	/* The most common first, tested rather than a jump table behind a load. */
	if (op == OP_UINT64) {
		if (!get_varint(in, &v, 10))
			return false;
		*(uint64_t *)out = v;
		return true;
	}
	if (op == OP_UINT32) {
		if (!get_varint(in, &v, 5))
			return false;
		*(uint32_t *)out = v;
		return v <= UINT32_MAX;
	}
	switch (op) {
	case OP_DOUBLE:
		if (in->end - in->p < 8)
			return false;
		memcpy(out, in->p, 8); /* little-endian, as the wire */
		in->p += 8;
		return true;
	case OP_UINT32:
		if (!get_varint(in, &v, 5))
			return false;
		*(uint32_t *)out = v;
		return v <= UINT32_MAX;
	case OP_SINT32:
		if (!get_varint(in, &v, 5))
			return false;
		*(int32_t *)out = (int32_t)((uint32_t)(v >> 1) ^ -(uint32_t)(v & 1));
		return v <= UINT32_MAX;
	case OP_UINT64:
		if (!get_varint(in, &v, 10))
			return false;
		*(uint64_t *)out = v;
		return true;
	case OP_SINT64:
		if (!get_varint(in, &v, 10))
			return false;
		*(int64_t *)out = (int64_t)((v >> 1) ^ -(v & 1));
		return true;
	case OP_BOOL:
		if (!get_varint(in, &v, 1))
			return false;
		*(protobuf_c_boolean *)out = v;
		return v <= 1;
	default:
		return false;
	}
}

static bool fast_message(const ProtobufCMessageDescriptor *d, struct fast_in in, void *msg)
{
	const struct fast_plan *pl = plan_for(d);

	if (!pl || (pl->message_lists && !fast_count(pl, in, msg)))
		return false;
	while (in.p < in.end) {
		const struct fast_tag *t;
		uint64_t tag, len;
		struct fast_in val;

		if (!get_varint(&in, &tag, 5) || tag >= FAST_MAX_ID << 3)
			return false;
		t = &pl->ops[tag];
		if (t->op != OP_LEN) {
			if (!get_op_number(&in, t->op, (char *)msg + t->offset))
				return false;
			continue;
		}
		if (!get_varint(&in, &len, 10) || len > (uint64_t)(in.end - in.p))
			return false;
		val = (struct fast_in){ in.p, in.p + len };
		in.p += len;
		if (!get_len(pl->by_id[tag >> 3], val, msg))
			return false;
	}
	return true;
}

/* The batch by the hand decoder, or NULL for protobuf-c to decode. */
static Nfxdp__FlowBatch *fast_unpack(const uint8_t *buf, size_t len)
{
	Nfxdp__FlowBatch *b = bounded_alloc(NULL, sizeof(*b));

	if (!b)
		return NULL;
	nfxdp__flow_batch__init(b);
	return fast_message(&nfxdp__flow_batch__descriptor, (struct fast_in){ buf, buf + len }, b) ?
		       b : NULL;
}

Nfxdp__FlowBatch *cat_decode(const uint8_t *buf, size_t len)
{
	Nfxdp__FlowBatch *b;

	if (len > CAT_MAX_BATCH) {
		errno = E2BIG;
		return NULL;
	}
	budget = (size_t)CAT_DECODE_RATIO * len + CAT_DECODE_SLACK;
	if (budget > CAT_MAX_DECODED)
		budget = CAT_MAX_DECODED;
	over_budget = false;
	arena_reset();
	b = fast_unpack(buf, len);
	if (b || over_budget)
		return b ? b : (errno = E2BIG, NULL);
	/* Not one the hand decoder takes: protobuf-c's unpack decides, afresh. */
	arena_reset();
	budget = (size_t)CAT_DECODE_RATIO * len + CAT_DECODE_SLACK;
	if (budget > CAT_MAX_DECODED)
		budget = CAT_MAX_DECODED;
	b = nfxdp__flow_batch__unpack(&bounded, len, buf);
	if (!b)
		errno = over_budget ? E2BIG : EINVAL;
	return b;
}

void cat_decoded_free(Nfxdp__FlowBatch *b)
{
	if (b)
		arena_reset();
}

const uint8_t *cat_inflate(const void *in, size_t len, size_t *out_len)
{
	static uint8_t *buf;
	static size_t cap;
	size_t limit = len * CAT_INFLATE_RATIO + 65536, want = len * 4 > 65536 ? len * 4 : 65536;
	size_t avail;
	uLongf n;
	int r;

	if (limit > CAT_MAX_BATCH || len > CAT_MAX_BATCH)
		limit = CAT_MAX_BATCH;
	for (;;) {
		if (want > limit)
			want = limit;
		if (cap < want) {
			free(buf);
			buf = malloc(want);
			cap = buf ? want : 0;
			if (!buf) {
				errno = ENOMEM;
				return NULL;
			}
		}
		avail = cap < limit ? cap : limit;
		n = avail;
		r = uncompress(buf, &n, in, len);
		if (r != Z_BUF_ERROR || avail >= limit)
			break;
		want = avail * 2; /* the batch is larger: grow and retry */
	}
	*out_len = n;
	if (r == Z_OK)
		return buf;
	errno = r == Z_BUF_ERROR ? E2BIG : EINVAL;
	return NULL;
}
