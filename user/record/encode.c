// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "record/encode.h"

/* Bytes a length prefix is given before its message is written: messages up to 16 KiB. */
#define LEN_RESERVE 2

enum wire_type {
	WIRE_VARINT = 0,
	WIRE_64BIT = 1,
	WIRE_LEN = 2,
};

static int room(struct pb_out *o, size_t n)
{
	size_t cap = o->cap ? o->cap : 4096;
	uint8_t *p;

	if (o->cap - o->len >= n)
		return 0;
	while (cap - o->len < n)
		cap *= 2;
	p = realloc(o->p, cap);
	if (!p)
		return -ENOMEM;
	o->p = p;
	o->cap = cap;
	return 0;
}

/* At most 10 bytes: the caller made room. */
static void put_varint(struct pb_out *o, uint64_t v)
{
	uint8_t *p = o->p + o->len;

	while (v >= 0x80) {
		*p++ = v | 0x80;
		v >>= 7;
	}
	*p++ = v;
	o->len = p - o->p;
}

static size_t varint_size(uint64_t v)
{
	size_t n = 1;

	while (v >= 0x80) {
		v >>= 7;
		n++;
	}
	return n;
}

static void put_tag(struct pb_out *o, uint32_t id, enum wire_type wt)
{
	put_varint(o, (uint64_t)id << 3 | wt);
}

static void put_fixed64(struct pb_out *o, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		o->p[o->len++] = v >> (8 * i);
}

/* Opens a length-delimited value: room for its prefix; returns where the value starts. */
static size_t len_begin(struct pb_out *o)
{
	o->len += LEN_RESERVE;
	return o->len;
}

/* Closes it: the prefix written, the value moved when it needs more or fewer bytes. */
static int len_end(struct pb_out *o, size_t start)
{
	size_t body = o->len - start, need = varint_size(body), at = start - LEN_RESERVE;

	if (need > LEN_RESERVE && room(o, need - LEN_RESERVE))
		return -ENOMEM;
	if (need != LEN_RESERVE)
		memmove(o->p + at + need, o->p + start, body);
	o->len = at;
	put_varint(o, body);
	o->len = at + need + body;
	return 0;
}

static uint64_t zigzag32(int32_t v)
{
	return ((uint32_t)v << 1) ^ (uint32_t)(v >> 31);
}

static uint64_t zigzag64(int64_t v)
{
	return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
}

static size_t elem_size(const ProtobufCFieldDescriptor *fd)
{
	switch (fd->type) {
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_DOUBLE:
		return 8;
	case PROTOBUF_C_TYPE_STRING:
	case PROTOBUF_C_TYPE_MESSAGE:
		return sizeof(void *);
	default:
		return 4;
	}
}

/*
 * A number at @p as it goes on the wire: its wire type, its bits in *@v,
 * and *@zero when proto3 leaves it out (protobuf-c's test: -0.0 is 0).
 * -1 for a kind not encoded here.
 */
static int number(const ProtobufCFieldDescriptor *fd, const void *p, uint64_t *v, bool *zero)
{
	switch (fd->type) {
	case PROTOBUF_C_TYPE_UINT32:
		*v = *(const uint32_t *)p;
		break;
	case PROTOBUF_C_TYPE_UINT64:
		*v = *(const uint64_t *)p;
		break;
	case PROTOBUF_C_TYPE_BOOL:
		*v = *(const protobuf_c_boolean *)p != 0;
		break;
	case PROTOBUF_C_TYPE_SINT32:
		*v = zigzag32(*(const int32_t *)p);
		break;
	case PROTOBUF_C_TYPE_SINT64:
		*v = zigzag64(*(const int64_t *)p);
		break;
	case PROTOBUF_C_TYPE_DOUBLE:
		memcpy(v, p, 8);
		*zero = *(const double *)p == 0;
		return WIRE_64BIT;
	default:
		return -1;
	}
	*zero = *v == 0;
	return WIRE_VARINT;
}

/*
 * A message kind's fields as the encoder reads them: what each is, where,
 * and its tag already encoded, made once per descriptor (per thread).
 */
enum enc_kind {
	K_U32,
	K_U64,
	K_BOOL,
	K_S32,
	K_S64,
	K_DOUBLE,
	K_STRING,
	K_MESSAGE,
	K_PACKED,   /* repeated numbers */
	K_REPEATED, /* repeated strings or messages */
	K_UNKNOWN,
};

struct enc_field {
	const ProtobufCFieldDescriptor *fd;
	uint32_t offset;
	uint8_t kind;
	uint8_t tag_len;
	uint8_t tag[6];
	/*
	 * On the first number of a block of consecutive numbers laid out one
	 * after the other: the block's fields and bytes (0 elsewhere). A block
	 * whose bytes are all zero is passed over in one test: most numbers of
	 * a record are zero (flag counts of a UDP flow, a one-packet flow).
	 */
	uint8_t block_n;
	uint16_t block_len;
};

#ifndef ENC_BLOCK_MAX
#define ENC_BLOCK_MAX 4 /* fields a block spans at most: finer blocks skip more */
#endif

struct enc_plan {
	const ProtobufCMessageDescriptor *d;
	struct enc_field *f;
	unsigned n;
	bool unknown; /* a field this encoder does not write: protobuf-c's job */
};

#define ENC_PLANS 8 /* message kinds: FlowBatch, Flow, Counter */

static __thread struct enc_plan plans[ENC_PLANS];

static enum enc_kind kind_of(const ProtobufCFieldDescriptor *fd)
{
	static const struct {
		ProtobufCType type;
		enum enc_kind kind;
	} kinds[] = {
		{ PROTOBUF_C_TYPE_UINT32, K_U32 },   { PROTOBUF_C_TYPE_UINT64, K_U64 },
		{ PROTOBUF_C_TYPE_BOOL, K_BOOL },    { PROTOBUF_C_TYPE_SINT32, K_S32 },
		{ PROTOBUF_C_TYPE_SINT64, K_S64 },   { PROTOBUF_C_TYPE_DOUBLE, K_DOUBLE },
		{ PROTOBUF_C_TYPE_STRING, K_STRING }, { PROTOBUF_C_TYPE_MESSAGE, K_MESSAGE },
	};
	enum enc_kind k = K_UNKNOWN;

	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (kinds[i].type == fd->type)
			k = kinds[i].kind;
	if (fd->flags & PROTOBUF_C_FIELD_FLAG_ONEOF)
		return K_UNKNOWN;
	if (fd->label == PROTOBUF_C_LABEL_NONE || k == K_UNKNOWN)
		return k;
	if (fd->label != PROTOBUF_C_LABEL_REPEATED)
		return K_UNKNOWN;
	if (k == K_STRING || k == K_MESSAGE)
		return K_REPEATED;
	return fd->flags & PROTOBUF_C_FIELD_FLAG_PACKED ? K_PACKED : K_REPEATED;
}

/* The wire type a value of this field has next to its own tag. */
static enum wire_type wire_of(const struct enc_field *f)
{
	if (f->kind == K_DOUBLE || (f->kind == K_REPEATED && f->fd->type == PROTOBUF_C_TYPE_DOUBLE))
		return WIRE_64BIT;
	if (f->kind == K_STRING || f->kind == K_MESSAGE || f->kind == K_PACKED ||
	    (f->kind == K_REPEATED && (f->fd->type == PROTOBUF_C_TYPE_STRING ||
				       f->fd->type == PROTOBUF_C_TYPE_MESSAGE)))
		return WIRE_LEN;
	return WIRE_VARINT;
}

/*
 * Groups the number fields into blocks (enc_field.block_n): a block goes
 * on while the next field is a number starting where the last one ended.
 * Bytes between fields would break it, so a block never spans padding.
 */
static void plan_blocks(struct enc_plan *p)
{
	for (unsigned i = 0; i < p->n;) {
		struct enc_field *b = &p->f[i];
		unsigned j = i;
		uint32_t end = b->offset;

		while (j < p->n && j - i < ENC_BLOCK_MAX && p->f[j].kind <= K_DOUBLE &&
		       p->f[j].offset == end)
			end += elem_size(p->f[j++].fd);
		if (j == i) {
			i++;
			continue;
		}
		b->block_n = j - i;
		b->block_len = end - b->offset;
		i = j;
	}
}

/* True when the @len bytes at @p are all zero. */
static bool all_zero(const char *p, size_t len)
{
	uint64_t acc = 0, w;
	size_t i = 0;

	for (; i + 8 <= len; i += 8) {
		memcpy(&w, p + i, 8);
		acc |= w;
	}
	for (; i < len; i++)
		acc |= (uint8_t)p[i];
	return !acc;
}

static const struct enc_plan *plan_for(const ProtobufCMessageDescriptor *d)
{
	struct enc_plan *p = NULL;

	for (int i = 0; i < ENC_PLANS && !p; i++)
		if (plans[i].d == d || !plans[i].d)
			p = &plans[i];
	if (!p || p->d == d)
		return p;
	p->f = calloc(d->n_fields ? d->n_fields : 1, sizeof(*p->f));
	if (!p->f)
		return NULL;
	for (unsigned i = 0; i < d->n_fields; i++) {
		struct enc_field *f = &p->f[i];
		struct pb_out t = { .p = f->tag, .cap = sizeof(f->tag) };

		f->fd = &d->fields[i];
		f->offset = f->fd->offset;
		f->kind = kind_of(f->fd);
		p->unknown |= f->kind == K_UNKNOWN;
		put_tag(&t, f->fd->id, wire_of(f));
		f->tag_len = t.len;
	}
	p->n = d->n_fields;
	plan_blocks(p);
	p->d = d;
	return p;
}

static void put_tagged(struct pb_out *o, const struct enc_field *f)
{
	memcpy(o->p + o->len, f->tag, sizeof(f->tag));
	o->len += f->tag_len;
}

static int encode_message(struct pb_out *o, const ProtobufCMessage *msg);

/* One value with its tag: a string, a message, a number (@skip_zero: proto3's rule). */
static int encode_value(struct pb_out *o, const ProtobufCFieldDescriptor *fd, const void *p,
			bool skip_zero)
{
	uint64_t v;
	bool zero;
	int wt;

	if (fd->type == PROTOBUF_C_TYPE_STRING) {
		const char *s = *(char *const *)p;
		size_t n = s && *s ? strlen(s) : 0; /* most are empty: no call */

		if (skip_zero && !n)
			return 0;
		if (room(o, n + 20))
			return -ENOMEM;
		put_tag(o, fd->id, WIRE_LEN);
		put_varint(o, n);
		memcpy(o->p + o->len, s ? s : "", n);
		o->len += n;
		return 0;
	}
	if (fd->type == PROTOBUF_C_TYPE_MESSAGE) {
		const ProtobufCMessage *sub = *(const ProtobufCMessage *const *)p;
		size_t start;
		int err;

		if (!sub)
			return skip_zero ? 0 : -ENOTSUP;
		if (room(o, 10 + LEN_RESERVE))
			return -ENOMEM;
		put_tag(o, fd->id, WIRE_LEN);
		start = len_begin(o);
		err = encode_message(o, sub);
		return err ? err : len_end(o, start);
	}
	wt = number(fd, p, &v, &zero);
	if (wt < 0)
		return -ENOTSUP;
	if (skip_zero && zero)
		return 0;
	if (room(o, 20))
		return -ENOMEM;
	put_tag(o, fd->id, wt);
	if (wt == WIRE_64BIT)
		put_fixed64(o, v);
	else
		put_varint(o, v);
	return 0;
}

/* Packed numbers: one tag, one length, the values back to back. */
static int encode_packed(struct pb_out *o, const ProtobufCFieldDescriptor *fd, const char *arr,
			 size_t n)
{
	size_t start;

	if (room(o, 10 + LEN_RESERVE + n * 10))
		return -ENOMEM;
	put_tag(o, fd->id, WIRE_LEN);
	start = len_begin(o);
	for (size_t i = 0; i < n; i++) {
		uint64_t v;
		bool zero;
		int wt = number(fd, arr + i * elem_size(fd), &v, &zero);

		if (wt < 0)
			return -ENOTSUP;
		if (wt == WIRE_64BIT)
			put_fixed64(o, v);
		else
			put_varint(o, v);
	}
	return len_end(o, start);
}

/* A repeated field: packed numbers, or each value with its own tag. */
static int encode_repeated(struct pb_out *o, const ProtobufCFieldDescriptor *fd, const char *msg)
{
	size_t n = *(const size_t *)(msg + fd->quantifier_offset);
	const char *arr = *(char *const *)(msg + fd->offset);
	int err;

	if (!n)
		return 0;
	if (fd->flags & PROTOBUF_C_FIELD_FLAG_PACKED)
		return encode_packed(o, fd, arr, n);
	for (size_t i = 0; i < n; i++)
		if ((err = encode_value(o, fd, arr + i * elem_size(fd), false)))
			return err;
	return 0;
}

/* A number field that is not zero: its tag, then its value (room made by the caller). */
static void encode_number(struct pb_out *o, const struct enc_field *f, const char *p)
{
	uint64_t v;
	double d;

	switch (f->kind) {
	case K_U32:
		v = *(const uint32_t *)p;
		break;
	case K_U64:
		v = *(const uint64_t *)p;
		break;
	case K_BOOL:
		v = *(const protobuf_c_boolean *)p != 0;
		break;
	case K_S32:
		v = zigzag32(*(const int32_t *)p);
		break;
	case K_S64:
		v = zigzag64(*(const int64_t *)p);
		break;
	default: /* K_DOUBLE: -0.0 is 0, as protobuf-c has it */
		memcpy(&d, p, 8);
		if (d == 0)
			return;
		memcpy(&v, p, 8);
		put_tagged(o, f);
		put_fixed64(o, v);
		return;
	}
	if (!v)
		return;
	put_tagged(o, f);
	put_varint(o, v);
}

/*
 * The fields in the descriptor's order, as protobuf-c packs them. Numbers
 * take at most 16 bytes with their tag: room for all of them is made once.
 */
static int encode_message(struct pb_out *o, const ProtobufCMessage *msg)
{
	const struct enc_plan *pl = plan_for(msg->descriptor);
	const char *m = (const char *)msg;
	int err = 0;

	if (!pl)
		return -ENOMEM;
	if (pl->unknown)
		return -ENOTSUP;
	if (room(o, (size_t)pl->n * 16))
		return -ENOMEM;
	for (unsigned i = 0; i < pl->n && !err; i++) {
		const struct enc_field *f = &pl->f[i];

		/* All zero bits: every number of the block is left out (-0.0 is not all zero). */
		if (f->block_n && all_zero(m + f->offset, f->block_len)) {
			i += f->block_n - 1;
			continue;
		}
		if (f->kind <= K_DOUBLE) {
			encode_number(o, f, m + f->offset);
			continue;
		}
		if (f->kind == K_STRING || f->kind == K_MESSAGE)
			err = encode_value(o, f->fd, m + f->offset, true);
		else
			err = encode_repeated(o, f->fd, m);
		/* What a string or a list took: the numbers after it get their room again. */
		if (!err && room(o, (size_t)(pl->n - i) * 16))
			err = -ENOMEM;
	}
	return err;
}

int pb_encode(struct pb_out *o, const ProtobufCMessage *msg)
{
	size_t at = o->len;
	int err = encode_message(o, msg);

	if (err)
		o->len = at;
	return err;
}
