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
		size_t n = s ? strlen(s) : 0;

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

static int encode_field(struct pb_out *o, const ProtobufCFieldDescriptor *fd, const char *msg)
{
	const char *arr;
	size_t n;
	int err;

	if (fd->flags & PROTOBUF_C_FIELD_FLAG_ONEOF)
		return -ENOTSUP;
	if (fd->label == PROTOBUF_C_LABEL_NONE)
		return encode_value(o, fd, msg + fd->offset, true);
	if (fd->label != PROTOBUF_C_LABEL_REPEATED)
		return -ENOTSUP;
	n = *(const size_t *)(msg + fd->quantifier_offset);
	arr = *(char *const *)(msg + fd->offset);
	if (!n)
		return 0;
	if (fd->flags & PROTOBUF_C_FIELD_FLAG_PACKED)
		return encode_packed(o, fd, arr, n);
	for (size_t i = 0; i < n; i++)
		if ((err = encode_value(o, fd, arr + i * elem_size(fd), false)))
			return err;
	return 0;
}

/* The fields in the descriptor's order, as protobuf-c packs them. */
static int encode_message(struct pb_out *o, const ProtobufCMessage *msg)
{
	const ProtobufCMessageDescriptor *d = msg->descriptor;
	int err;

	for (unsigned i = 0; i < d->n_fields; i++)
		if ((err = encode_field(o, &d->fields[i], (const char *)msg)))
			return err;
	return 0;
}

int pb_encode(struct pb_out *o, const ProtobufCMessage *msg)
{
	size_t at = o->len;
	int err = encode_message(o, msg);

	if (err)
		o->len = at;
	return err;
}
