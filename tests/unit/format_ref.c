// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The oracle of the differential test of format.c: CSV rows and JSON lines
 * as nfxdp printed them before its rows were built in a buffer (commit
 * 07a1ae3's format.c, a printf per field), kept here unchanged so that
 * the fast formatter can be held to the same bytes on every field.
 */
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "format_ref.h"
#include "record/format.h"

/* Shortest text that reads back as the same double. */
static int format_double(char *buf, size_t len, double v)
{
	char t[32];

	snprintf(t, sizeof(t), "%.15g", v);
	if (strtod(t, NULL) != v)
		snprintf(t, sizeof(t), "%.17g", v);
	return snprintf(buf, len, "%s", t);
}

static int format_scalar(char *buf, size_t len, const ProtobufCFieldDescriptor *fd, const void *p)
{
	switch (fd->type) {
	case PROTOBUF_C_TYPE_UINT32:
		return snprintf(buf, len, "%" PRIu32, *(const uint32_t *)p);
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
		return snprintf(buf, len, "%" PRId32, *(const int32_t *)p);
	case PROTOBUF_C_TYPE_UINT64:
		return snprintf(buf, len, "%" PRIu64, *(const uint64_t *)p);
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
		return snprintf(buf, len, "%" PRId64, *(const int64_t *)p);
	case PROTOBUF_C_TYPE_DOUBLE:
		return format_double(buf, len, *(const double *)p);
	case PROTOBUF_C_TYPE_FLOAT:
		return format_double(buf, len, *(const float *)p);
	case PROTOBUF_C_TYPE_BOOL:
		return snprintf(buf, len, "%s", *(const protobuf_c_boolean *)p ? "true" : "false");
	case PROTOBUF_C_TYPE_STRING: {
		const char *s = *(char *const *)p;

		return snprintf(buf, len, "%s", s ? s : "");
	}
	default:
		return snprintf(buf, len, "?");
	}
}

static size_t scalar_size(const ProtobufCFieldDescriptor *fd)
{
	switch (fd->type) {
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_DOUBLE:
		return 8;
	case PROTOBUF_C_TYPE_STRING:
		return sizeof(char *);
	case PROTOBUF_C_TYPE_BOOL:
		return sizeof(protobuf_c_boolean);
	default:
		return 4;
	}
}

/*
 * A repeated field as "[a, b, c]" (NFStream's CSV) or "[a,b,c]" (JSON).
 * Returns the length of the whole text, like snprintf(), written or not.
 */
static int format_repeated(char *buf, size_t len, const ProtobufCFieldDescriptor *fd,
			   const void *msg, bool spaces)
{
	size_t n = *(const size_t *)((const char *)msg + fd->quantifier_offset);
	const char *arr = *(char *const *)((const char *)msg + fd->offset);
	size_t used = 0;

#define REST used < len ? buf + used : NULL, used < len ? len - used : 0
	used += snprintf(buf, len, "[");
	for (size_t i = 0; i < n; i++) {
		if (i)
			used += snprintf(REST, spaces ? ", " : ",");
		used += format_scalar(REST, fd, arr + i * scalar_size(fd));
	}
	used += snprintf(REST, "]");
#undef REST
	return used;
}

static int format_value(char *buf, size_t len, const ProtobufCFieldDescriptor *fd,
			const void *msg, bool spaces)
{
	if (fd->label == PROTOBUF_C_LABEL_REPEATED)
		return format_repeated(buf, len, fd, msg, spaces);
	return format_scalar(buf, len, fd, (const char *)msg + fd->offset);
}

/*
 * The field's whole text: in @buf when it fits, else in memory *@heap the
 * caller frees (a long list or string is never cut short).
 */
static const char *value_text(char *buf, size_t len, const ProtobufCFieldDescriptor *fd,
			      const void *msg, bool spaces, char **heap)
{
	int n = format_value(buf, len, fd, msg, spaces);

	*heap = NULL;
	if (n < 0 || (size_t)n < len || !(*heap = malloc((size_t)n + 1)))
		return buf;
	format_value(*heap, (size_t)n + 1, fd, msg, spaces);
	return *heap;
}


/* Bytes of the UTF-8 sequence @s starts (RFC 3629), or 0 when it is not one. */
static int utf8_len(const unsigned char *s)
{
	unsigned char lo = 0x80, hi = 0xbf;
	int n;

	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4;
	else
		return 0;
	/* No overlong forms, no surrogates, nothing past U+10FFFF. */
	if (s[0] == 0xe0)
		lo = 0xa0;
	else if (s[0] == 0xed)
		hi = 0x9f;
	else if (s[0] == 0xf0)
		lo = 0x90;
	else if (s[0] == 0xf4)
		hi = 0x8f;
	if (s[1] < lo || s[1] > hi)
		return 0;
	for (int i = 2; i < n; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return n;
}


/* A cell: control characters escaped (no line breaks), quoted when it holds , or ". */
static void ref_csv_cell(FILE *out, const char *text)
{
	char *heap;
	const char *s = format_escaped(text, &heap);

	if (!strpbrk(s, ",\"")) {
		fputs(s, out);
	} else {
		fputc('"', out);
		for (; *s; s++) {
			if (*s == '"')
				fputc('"', out);
			fputc(*s, out);
		}
		fputc('"', out);
	}
	free(heap);
}

void ref_csv_row(FILE *out, const struct format_columns *cols, const Nfxdp__Flow *f)
{
	char buf[4096], *heap;

	for (int i = 0; i < cols->n; i++) {
		if (i)
			fputc(',', out);
		ref_csv_cell(out, value_text(buf, sizeof(buf), cols->f[i], f, true, &heap));
		free(heap);
	}
	fputc('\n', out);
}

/* A JSON string: JSON text is UTF-8, so a byte that is not becomes U+FFFD. */
static void json_string(FILE *out, const char *s)
{
	fputc('"', out);
	for (; s && *s; s++) {
		unsigned char c = *s;
		int n;

		if (c == '"' || c == '\\') {
			fprintf(out, "\\%c", c);
		} else if (c < 0x20) {
			fprintf(out, "\\u%04x", c);
		} else if (c < 0x80) {
			fputc(c, out);
		} else if ((n = utf8_len((const unsigned char *)s))) {
			fwrite(s, 1, n, out);
			s += n - 1;
		} else {
			fputs("\\ufffd", out);
		}
	}
	fputc('"', out);
}

/* JSON has no NaN or infinity: such a double or float is null. */
static bool json_nonfinite(const ProtobufCFieldDescriptor *fd, const void *p)
{
	if (fd->label == PROTOBUF_C_LABEL_REPEATED)
		return false;
	if (fd->type == PROTOBUF_C_TYPE_DOUBLE)
		return !isfinite(*(const double *)p);
	if (fd->type == PROTOBUF_C_TYPE_FLOAT)
		return !isfinite(*(const float *)p);
	return false;
}

void ref_json(FILE *out, const struct format_columns *cols, const Nfxdp__Flow *f)
{
	char buf[4096], *heap;

	fputc('{', out);
	for (int i = 0; i < cols->n; i++) {
		const ProtobufCFieldDescriptor *fd = cols->f[i];

		fprintf(out, "%s\"%s\":", i ? "," : "", fd->name);
		if (fd->type == PROTOBUF_C_TYPE_STRING && fd->label != PROTOBUF_C_LABEL_REPEATED) {
			json_string(out, *(char *const *)((const char *)f + fd->offset));
			continue;
		}
		if (json_nonfinite(fd, (const char *)f + fd->offset)) {
			fputs("null", out);
			continue;
		}
		fputs(value_text(buf, sizeof(buf), fd, f, false, &heap), out);
		free(heap);
	}
	fputs("}\n", out);
}

