// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "flow.h"
#include "record/format.h"

void format_columns_all(struct format_columns *cols)
{
	const ProtobufCMessageDescriptor *d = &nfxdp__flow__descriptor;

	cols->n = 0;
	for (unsigned i = 0; i < d->n_fields && cols->n < FORMAT_MAX_FIELDS; i++)
		cols->f[cols->n++] = &d->fields[i];
}

/* Which feature a field belongs to, by its number in proto/flow.proto. */
static bool field_shown(uint32_t id, bool statistical, bool splt, bool dpi)
{
	if (id >= 123 && id <= 133)
		return dpi;
	if (id >= 30 && id < 90)
		return statistical;
	if ((id >= 90 && id < 100) || id == 108)
		return splt;
	return true;
}

void format_columns_for(struct format_columns *cols, bool statistical, bool splt, bool dpi)
{
	const ProtobufCMessageDescriptor *d = &nfxdp__flow__descriptor;

	cols->n = 0;
	for (unsigned i = 0; i < d->n_fields && cols->n < FORMAT_MAX_FIELDS; i++)
		if (field_shown(d->fields[i].id, statistical, splt, dpi))
			cols->f[cols->n++] = &d->fields[i];
}

/*
 * A row is built in one buffer and written with one fwrite(): no printf
 * and no allocation per field (nfxdp-cat and nfxdp's CSV/JSON output both
 * print hundreds of thousands of rows a second). The buffer grows to the
 * longest row seen and is kept for the next.
 */
struct fmt_buf {
	char *p;
	size_t len, cap;
	bool oom; /* a row that did not fit in memory: not written */
};

static __thread struct fmt_buf row;

static bool buf_grow(struct fmt_buf *b, size_t n)
{
	size_t cap = b->cap ? b->cap : 4096;
	char *p;

	while (cap < b->len + n)
		cap *= 2;
	p = b->oom ? NULL : realloc(b->p, cap);
	if (!p) {
		b->oom = true;
		return false;
	}
	b->p = p;
	b->cap = cap;
	return true;
}

static inline bool buf_room(struct fmt_buf *b, size_t n)
{
	return b->cap - b->len >= n || buf_grow(b, n);
}

static void put_mem(struct fmt_buf *b, const void *s, size_t n)
{
	if (!n || !buf_room(b, n))
		return;
	memcpy(b->p + b->len, s, n);
	b->len += n;
}

static void put_char(struct fmt_buf *b, char c)
{
	if (b->len < b->cap || buf_room(b, 1))
		b->p[b->len++] = c;
}

static void put_str(struct fmt_buf *b, const char *s)
{
	put_mem(b, s, strlen(s));
}

static const char digit_pairs[201] = "00010203040506070809101112131415161718192021222324"
				    "25262728293031323334353637383940414243444546474849"
				    "50515253545556575859606162636465666768697071727374"
				    "75767778798081828384858687888990919293949596979899";

/* The digits below are joined in registers in memory order. */
_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "format.c writes digits little-endian");

/* The two digits of @v (< 100) as they lie in memory. */
static inline uint16_t pair_of(uint32_t v)
{
	uint16_t t;

	memcpy(&t, digit_pairs + v * 2, 2);
	return t;
}

/*
 * @v (< 10^4, 10^8) as 4 or 8 digits with leading zeros, the first in the
 * lowest byte (little-endian, as the decoder and nfxdp's encoder assume):
 * the pairs are joined in a register and stored at once, not one store a
 * pair (a row is 1.2 KB: stores are what bounds the formatter).
 */
static inline uint32_t digits4(uint32_t v)
{
	return pair_of(v / 100) | (uint32_t)pair_of(v % 100) << 16;
}

static inline uint64_t digits8(uint32_t v)
{
	uint32_t a = v / 10000, c = v % 10000;

	return pair_of(a / 100) | (uint64_t)pair_of(a % 100) << 16 |
	       (uint64_t)pair_of(c / 100) << 32 | (uint64_t)pair_of(c % 100) << 48;
}

/* The last @n (constant) of the 4 or 8 digits in @x at @o, in one store; returns the end. */
static inline __attribute__((always_inline)) char *w_last4(char *o, uint32_t x, int n)
{
	x >>= 8 * (4 - n);
	memcpy(o, &x, 4);
	return o + n;
}

static inline __attribute__((always_inline)) char *w_last8(char *o, uint64_t x, int n)
{
	x >>= 8 * (8 - n);
	memcpy(o, &x, 8);
	return o + n;
}

/*
 * @v (< 10^8) in decimal at @o, which has room for 8 bytes (what lands past
 * the digits is overwritten by what follows); returns the end. A branch for
 * each length, each with its own constant: where the next field starts is
 * then known as soon as the branches are predicted (a column's values keep
 * their length from row to row), not after a chain of a count of digits, a
 * table and the digits. Built apart and copied, digits stored in pairs and
 * read back 16 bytes at a time also stall (no store forwarding): they go
 * to their place.
 */
static inline __attribute__((always_inline)) char *w_u27(char *o, uint32_t v)
{
	uint64_t x;

	if (v < 100) {
		if (v < 10) {
			*o = '0' + v;
			return o + 1;
		}
		memcpy(o, digit_pairs + v * 2, 2);
		return o + 2;
	}
	if (v < 10000)
		return v < 1000 ? w_last4(o, digits4(v), 3) : w_last4(o, digits4(v), 4);
	x = digits8(v);
	if (v < 1000000)
		return v < 100000 ? w_last8(o, x, 5) : w_last8(o, x, 6);
	return v < 10000000 ? w_last8(o, x, 7) : w_last8(o, x, 8);
}

/* @v in decimal at @o, which has room for 20 bytes; returns the end. Eight digits at a time. */
static inline char *w_u64(char *o, uint64_t v)
{
	uint64_t x;

	if (v < 100000000)
		return w_u27(o, v);
	if (v < 10000000000000000ULL) {
		o = w_u27(o, v / 100000000);
		x = digits8(v % 100000000);
		memcpy(o, &x, 8);
		return o + 8;
	}
	o = w_u27(o, v / 10000000000000000ULL); /* 1 to 1844 */
	v %= 10000000000000000ULL;
	x = digits8(v / 100000000);
	memcpy(o, &x, 8);
	x = digits8(v % 100000000);
	memcpy(o + 8, &x, 8);
	return o + 16;
}

/* @v at @o, room for 21 bytes; returns the end. */
static inline char *w_i64(char *o, int64_t v)
{
	if (v < 0) {
		*o++ = '-';
		return w_u64(o, -(uint64_t)v);
	}
	return w_u64(o, v);
}

static void put_u64(struct fmt_buf *b, uint64_t v)
{
	if (buf_room(b, 20))
		b->len = w_u64(b->p + b->len, v) - b->p;
}

static void put_i64(struct fmt_buf *b, int64_t v)
{
	if (buf_room(b, 21))
		b->len = w_i64(b->p + b->len, v) - b->p;
}

/* Shortest text that reads back as the same double: %.15g, else %.17g. */
static void put_double_printf(struct fmt_buf *b, double v)
{
	char t[32];

	snprintf(t, sizeof(t), "%.15g", v);
	if (strtod(t, NULL) != v)
		snprintf(t, sizeof(t), "%.17g", v);
	put_str(b, t);
}

static const uint64_t pow10_u64[20] = {
	1ULL, 10ULL, 100ULL, 1000ULL, 10000ULL, 100000ULL, 1000000ULL, 10000000ULL,
	100000000ULL, 1000000000ULL, 10000000000ULL, 100000000000ULL, 1000000000000ULL,
	10000000000000ULL, 100000000000000ULL, 1000000000000000ULL, 10000000000000000ULL,
	100000000000000000ULL, 1000000000000000000ULL, 10000000000000000000ULL,
};

/* 10^k, k <= 38. */
static inline unsigned __int128 pow10_128(int k)
{
	if (k < 20)
		return pow10_u64[k];
	return (unsigned __int128)pow10_u64[19] * pow10_u64[k - 19];
}

/*
 * m * 2^e * 10^k rounded to the nearest integer, ties to even, as printf
 * rounds: exact, for 0 < -e < 128 and m * 10^k < 2^128.
 */
static unsigned __int128 scaled_round(uint64_t m, int e, int k)
{
	unsigned __int128 x = (unsigned __int128)m * pow10_128(k), q, r, half;
	int s = -e;

	q = x >> s;
	r = x - (q << s);
	half = (unsigned __int128)1 << (s - 1);
	if (r > half || (r == half && (q & 1)))
		q++;
	return q;
}

/*
 * The @prec significant digits printf's %.{prec}g rounds m * 2^e to (in
 * *@d, exactly @prec digits) and its decimal exponent (*@x, the one %g
 * chooses its notation by); false when that is not within what the
 * arithmetic here does exactly (then printf).
 */
static bool g_digits(uint64_t m, int e, int prec, uint64_t *d, int *x)
{
	/* floor(log10(2^(e + 52))): the exponent, or one less. */
	int x10 = (e + 52) * 78913 >> 18;

	for (int tries = 0; tries < 3; tries++) {
		int k = prec - 1 - x10;
		unsigned __int128 q;

		/* m * 10^k < 2^53 * 10^21 < 2^123. */
		if (k < 0 || k > 21)
			return false;
		q = scaled_round(m, e, k);
		if (q >= pow10_u64[prec]) {
			x10++;
		} else if (q < pow10_u64[prec - 1]) {
			x10--;
		} else {
			*d = q;
			*x = x10;
			return true;
		}
	}
	return false;
}

/*
 * Whether d * 10^-k (d < 2^50) reads back (strtod: nearest, ties to even)
 * as m * 2^e (e < 0, -e <= 74), m of 53 bits: whether it lies within half
 * a unit of m either side, the edges included when m is even. All scaled
 * by 2^(2 - e) * 10^k to stay integers (the half unit below a power of two
 * is half the one above).
 */
static bool reads_back(uint64_t d, int k, uint64_t m, int e, bool low_gap)
{
	unsigned __int128 a = (unsigned __int128)d << (2 - e);
	unsigned __int128 b = (unsigned __int128)m * 4 * pow10_128(k);
	unsigned __int128 up = 2 * pow10_128(k), down = low_gap ? pow10_128(k) : up;
	bool even = !(m & 1);

	if (a >= b)
		return a - b < up || (a - b == up && even);
	return b - a < down || (b - a == down && even);
}

/*
 * %g's fixed notation of the @prec digits @d with exponent @x (-4 <= x <
 * prec) at @o: the fraction's trailing zeros dropped, and its point when
 * none is left. Returns the end.
 */
static char *w_g_fixed(char *o, uint64_t d, int prec, int x)
{
	char t[24];
	int n = prec, frac;

	for (int i = prec - 1; i >= 0; i--) {
		t[i] = '0' + d % 10;
		d /= 10;
	}
	frac = prec - 1 - x;
	while (frac > 0 && t[n - 1] == '0') {
		n--;
		frac--;
	}
	if (x < 0) {
		*o++ = '0';
		*o++ = '.';
		for (int i = 0; i < -x - 1; i++)
			*o++ = '0';
		memcpy(o, t, n);
		return o + n;
	}
	memcpy(o, t, x + 1);
	o += x + 1;
	if (frac > 0) {
		*o++ = '.';
		memcpy(o, t + x + 1, frac);
		o += frac;
	}
	return o;
}

/*
 * What put_double_printf() writes, without printf: %.15g when it reads
 * back, else %.17g, both from exact integer arithmetic (the statistics'
 * means and deviations need 17 digits: printf, strtod and printf again
 * cost more than the rest of their row). Returns the end, or NULL where
 * that arithmetic does not reach (then printf): v not normal, or an
 * integer of 2^53 or more, or below 2^-22, or where %g writes an exponent.
 */
static char *w_double_exact(char *o, double v)
{
	uint64_t bits, m, d15, d17;
	int be, e, x15, x17;

	memcpy(&bits, &v, sizeof(bits));
	be = bits >> 52 & 0x7ff;
	if (be == 0 || be == 0x7ff)
		return NULL;
	m = (bits & ((1ULL << 52) - 1)) | 1ULL << 52;
	e = be - 1075;
	if (e >= 0 || e < -74)
		return NULL;
	if (bits >> 63)
		*o++ = '-';
	if (!g_digits(m, e, 15, &d15, &x15) || x15 < -4 || x15 >= 15)
		return NULL;
	if (reads_back(d15, 14 - x15, m, e, m == 1ULL << 52 && be > 1))
		return w_g_fixed(o, d15, 15, x15);
	if (!g_digits(m, e, 17, &d17, &x17) || x17 < -4 || x17 >= 17)
		return NULL;
	return w_g_fixed(o, d17, 17, x17);
}

static const double pow10_tab[] = { 1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6 };

/*
 * What %.15g prints, without printf for the common values: v = m / 10^k
 * exactly as doubles go (k <= 6, m < 10^15) and 1e-4 <= |v| < 1e15, where
 * %g keeps fixed notation. v is then the double nearest m * 10^-k, so
 * rounding it to 15 significant digits gives m * 10^-k back, which reads
 * back as v: the same text as put_double_printf(). Anything else (1/3,
 * exponents, NaN) goes through printf.
 */
static void put_double(struct fmt_buf *b, double v)
{
	double a = v < 0 ? -v : v;
	char t[24], *e = t + sizeof(t), *d = e;

	if (v == 0 && !signbit(v)) {
		put_char(b, '0');
		return;
	}
	if (!(a >= 1e-4 && a < 1e15)) {
		put_double_printf(b, v);
		return;
	}
	for (int k = 0; k <= 6; k++) {
		double m = nearbyint(a * pow10_tab[k]);
		uint64_t u;

		if (m >= 1e15 || m / pow10_tab[k] != a)
			continue;
		u = (uint64_t)m;
		/* Trailing zeros of the fraction go, as %g drops them. */
		while (k && u % 10 == 0) {
			u /= 10;
			k--;
		}
		for (int i = 0; i < k; i++) {
			*--d = '0' + u % 10;
			u /= 10;
		}
		if (k)
			*--d = '.';
		do {
			*--d = '0' + u % 10;
			u /= 10;
		} while (u);
		if (v < 0)
			*--d = '-';
		put_mem(b, d, e - d);
		return;
	}
	if (buf_room(b, 32)) {
		char *end = w_double_exact(b->p + b->len, v);

		if (end) {
			b->len = end - b->p;
			return;
		}
	}
	put_double_printf(b, v);
}

static void put_scalar(struct fmt_buf *b, const ProtobufCFieldDescriptor *fd, const void *p)
{
	switch (fd->type) {
	case PROTOBUF_C_TYPE_UINT32:
		put_u64(b, *(const uint32_t *)p);
		break;
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
		put_i64(b, *(const int32_t *)p);
		break;
	case PROTOBUF_C_TYPE_UINT64:
		put_u64(b, *(const uint64_t *)p);
		break;
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
		put_i64(b, *(const int64_t *)p);
		break;
	case PROTOBUF_C_TYPE_DOUBLE:
		put_double(b, *(const double *)p);
		break;
	case PROTOBUF_C_TYPE_FLOAT:
		put_double(b, *(const float *)p);
		break;
	case PROTOBUF_C_TYPE_BOOL:
		put_str(b, *(const protobuf_c_boolean *)p ? "true" : "false");
		break;
	case PROTOBUF_C_TYPE_STRING: {
		const char *s = *(char *const *)p;

		put_str(b, s ? s : "");
		break;
	}
	default:
		put_char(b, '?');
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

/* A repeated field as "[a, b, c]" (NFStream's CSV) or "[a,b,c]" (JSON). */
static void put_repeated(struct fmt_buf *b, const ProtobufCFieldDescriptor *fd, const void *msg,
			 bool spaces)
{
	size_t n = *(const size_t *)((const char *)msg + fd->quantifier_offset);
	const char *arr = *(char *const *)((const char *)msg + fd->offset);

	put_char(b, '[');
	for (size_t i = 0; i < n; i++) {
		if (i)
			put_mem(b, ", ", spaces ? 2 : 1);
		put_scalar(b, fd, arr + i * scalar_size(fd));
	}
	put_char(b, ']');
}

static void put_value(struct fmt_buf *b, const ProtobufCFieldDescriptor *fd, const void *msg,
		      bool spaces)
{
	if (fd->label == PROTOBUF_C_LABEL_REPEATED)
		put_repeated(b, fd, msg, spaces);
	else
		put_scalar(b, fd, (const char *)msg + fd->offset);
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

/*
 * Bytes of @s to escape at @s: C0 controls, DEL, C1 controls (U+0080 to
 * U+009F, which terminals act on too), a byte that is not UTF-8, and the
 * backslash that starts an escape. 0 for a character kept, whose length
 * then goes in *@keep.
 */
static int unsafe_len(const unsigned char *s, int *keep)
{
	int n;

	if (*s < 0x20 || *s == 0x7f || *s == '\\')
		return 1;
	if (*s < 0x80) {
		*keep = 1;
		return 0;
	}
	n = utf8_len(s);
	if (!n)
		return 1;
	if (s[0] == 0xc2 && s[1] < 0xa0)
		return 2;
	*keep = n;
	return 0;
}

const char *format_escaped(const char *s, char **heap)
{
	const unsigned char *p;
	int keep, bad;
	char *o;

	*heap = NULL;
	for (p = (const unsigned char *)s; p && *p; p += bad ? bad : keep)
		if ((bad = unsafe_len(p, &keep)))
			break;
	if (!p || !*p || !(*heap = malloc(4 * strlen(s) + 1)))
		return s ? s : "";
	o = *heap;
	for (p = (const unsigned char *)s; *p;) {
		bad = unsafe_len(p, &keep);
		for (int i = 0; i < bad; i++)
			o += p[i] == '\\' ? sprintf(o, "\\\\") : sprintf(o, "\\x%02x", p[i]);
		if (!bad) {
			memcpy(o, p, keep);
			o += keep;
		}
		p += bad ? bad : keep;
	}
	*o = '\0';
	return *heap;
}

void format_csv_header(FILE *out, const struct format_columns *cols)
{
	for (int i = 0; i < cols->n; i++)
		fprintf(out, "%s%s", i ? "," : "", cols->f[i]->name);
	fputc('\n', out);
}

/* Printable ASCII but \\ and whatever else @stop holds: nothing to escape or quote. */
static bool plain_ascii(const char *s, size_t n, char stop1, char stop2)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = s[i];

		if (c < 0x20 || c > 0x7e || c == '\\' || c == stop1 || c == stop2)
			return false;
	}
	return true;
}

/* A cell: control characters escaped (no line breaks), quoted when it holds , or ". */
static void csv_cell(struct fmt_buf *b, const char *text, size_t n)
{
	char *heap;
	const char *s;

	if (plain_ascii(text, n, ',', '"')) {
		put_mem(b, text, n);
		return;
	}
	s = format_escaped(text, &heap);
	if (!strpbrk(s, ",\"")) {
		put_str(b, s);
	} else {
		put_char(b, '"');
		for (; *s; s++) {
			if (*s == '"')
				put_char(b, '"');
			put_char(b, *s);
		}
		put_char(b, '"');
	}
	free(heap);
}

/*
 * A number or a list put in the buffer from @at: a list ("[1, 2]") holds
 * commas, so it is quoted, as csv_cell() would (its text has nothing else
 * to escape or quote).
 */
static void csv_quote_from(struct fmt_buf *b, size_t at)
{
	size_t n = b->len - at;

	if (b->oom || plain_ascii(b->p + at, n, ',', '"') || !plain_ascii(b->p + at, n, '"', '"'))
		return;
	if (!buf_room(b, 2))
		return;
	memmove(b->p + at + 1, b->p + at, n);
	b->p[at] = '"';
	b->p[at + n + 1] = '"';
	b->len += 2;
}

/* The row in the buffer goes out whole, or (out of memory) not at all. */
static void row_write(FILE *out)
{
	if (!row.oom)
		fwrite(row.p, 1, row.len, out);
	row.len = 0;
	row.oom = false;
}

/* How the row loops write a field of Flow, decided once per field. */
enum field_kind {
	FK_OTHER, /* put_value(), the descriptor's way */
	FK_U32,
	FK_I32,
	FK_U64,
	FK_I64,
	FK_BOOL,
	FK_DOUBLE,
	FK_STRING,
	FK_LIST_I32, /* repeated int32, sint32 */
	FK_LIST_I64, /* repeated int64, sint64 */
};

/* A JSON key's slot: the longest ,"name": of Flow is 35 bytes. */
#define KEY_SLOT 48
/* A string this long or longer takes the way that measures it first. */
#define SHORT_STR 64
/* What the row loops' own writing of a field may take: a key, a short string and its quotes. */
#define FIELD_ROOM (KEY_SLOT + SHORT_STR + 2)

/*
 * Makes FIELD_ROOM bytes of room at the row cursor *@o (NULL before the
 * first field): b->len follows the cursor, the buffer grows, the cursor
 * and its limit follow the buffer. False when memory is short.
 */
static inline bool cursor_room(struct fmt_buf *b, char **o, char **lim)
{
	if (*o)
		b->len = *o - b->p;
	if (!buf_room(b, FIELD_ROOM))
		return false;
	*o = b->p + b->len;
	*lim = b->p + b->cap;
	return true;
}

/*
 * Each field of Flow, made once: its kind, where it is in the message, and
 * its ,"name": in a slot that is copied whole (a copy of constant size is
 * a few moves, no call; what lands past the key is overwritten by the
 * value).
 */
struct field_info {
	char key[KEY_SLOT];
	const ProtobufCFieldDescriptor *fd;
	uint32_t offset;
	uint16_t quantifier_offset;
	uint8_t key_len; /* 0: no slot (a name too long): the key is put apart */
	uint8_t kind;
} __attribute__((aligned(64))); /* one cache line a field */

static struct field_info field_infos[FORMAT_MAX_FIELDS];
static pthread_once_t field_infos_once = PTHREAD_ONCE_INIT;

static enum field_kind kind_of(const ProtobufCFieldDescriptor *fd)
{
	bool list = fd->label == PROTOBUF_C_LABEL_REPEATED;

	switch (fd->type) {
	case PROTOBUF_C_TYPE_UINT32:
		return list ? FK_OTHER : FK_U32;
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
		return list ? FK_LIST_I32 : FK_I32;
	case PROTOBUF_C_TYPE_UINT64:
		return list ? FK_OTHER : FK_U64;
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
		return list ? FK_LIST_I64 : FK_I64;
	case PROTOBUF_C_TYPE_BOOL:
		return list ? FK_OTHER : FK_BOOL;
	case PROTOBUF_C_TYPE_DOUBLE:
		return list ? FK_OTHER : FK_DOUBLE;
	case PROTOBUF_C_TYPE_STRING:
		return list ? FK_OTHER : FK_STRING;
	default:
		return FK_OTHER;
	}
}

static void field_infos_make(void)
{
	const ProtobufCMessageDescriptor *d = &nfxdp__flow__descriptor;

	for (unsigned i = 0; i < d->n_fields && i < FORMAT_MAX_FIELDS; i++) {
		const ProtobufCFieldDescriptor *fd = &d->fields[i];
		struct field_info *fi = &field_infos[i];
		int n = snprintf(fi->key, sizeof(fi->key), ",\"%s\":", fd->name);

		fi->key_len = n > 0 && n < KEY_SLOT ? n : 0;
		fi->kind = kind_of(fd);
		/* A list's count too far in the message for the slot: the descriptor's way. */
		if (fd->quantifier_offset > UINT16_MAX)
			fi->kind = FK_OTHER;
		fi->offset = fd->offset;
		fi->quantifier_offset = fd->quantifier_offset;
		fi->fd = fd;
	}
}

/* What the row loops know of @fd, NULL when it is not a field of Flow. */
static inline const struct field_info *field_info_of(const ProtobufCFieldDescriptor *fd)
{
	uintptr_t at = (uintptr_t)fd - (uintptr_t)nfxdp__flow__descriptor.fields;
	size_t i = at / sizeof(*fd);

	if (at % sizeof(*fd) || i >= nfxdp__flow__descriptor.n_fields || i >= FORMAT_MAX_FIELDS)
		return NULL;
	return &field_infos[i];
}

/*
 * The field infos of the columns printed last, in their order: a row then
 * reads them in sequence instead of finding each from its descriptor.
 * Checked field by field against the columns (their descriptor), so
 * columns changed in place are still printed right.
 */
static __thread struct {
	const struct format_columns *cols;
	int n;
	const struct field_info *fi[FORMAT_MAX_FIELDS];
} row_prog;

/* Stands for a column that is not a field of Flow: matches no descriptor. */
static const struct field_info no_info;

static const struct field_info *const *row_prog_for(const struct format_columns *cols)
{
	if (row_prog.cols != cols || row_prog.n != cols->n) {
		for (int i = 0; i < cols->n && i < FORMAT_MAX_FIELDS; i++) {
			const struct field_info *fi = field_info_of(cols->f[i]);

			row_prog.fi[i] = fi ? fi : &no_info;
		}
		row_prog.cols = cols;
		row_prog.n = cols->n;
	}
	return row_prog.fi;
}

/* Column @i's field info (NULL: not a field of Flow), from @prog when it is still right. */
static inline const struct field_info *row_prog_at(const struct field_info *const *prog, int i,
						   const ProtobufCFieldDescriptor *fd)
{
	if (prog[i]->fd == fd)
		return prog[i];
	row_prog.cols = NULL; /* made again for the next row */
	return field_info_of(fd);
}

/*
 * A number or a bool of @fi at @o (room for FIELD_ROOM bytes); returns the
 * end, or NULL when the field is of another kind.
 */
static inline char *w_fixed(char *o, const struct field_info *fi, const char *msg)
{
	const char *p = msg + fi->offset;

	/* Tests, most common first, rather than a switch: no table to load before the jump. */
	if (fi->kind == FK_U64)
		return w_u64(o, *(const uint64_t *)p);
	if (fi->kind == FK_U32)
		return w_u64(o, *(const uint32_t *)p);
	if (fi->kind == FK_BOOL) {
		if (*(const protobuf_c_boolean *)p) {
			memcpy(o, "true", 4);
			return o + 4;
		}
		memcpy(o, "false", 5);
		return o + 5;
	}
	if (fi->kind == FK_I64)
		return w_i64(o, *(const int64_t *)p);
	if (fi->kind == FK_I32)
		return w_i64(o, *(const int32_t *)p);
	return NULL;
}

/*
 * String @s copied at @o (room for SHORT_STR bytes) when it is short and
 * plain ASCII without \\, @stop1 or @stop2, with nothing to escape or
 * quote: its length, else -1 (what was copied lies past the row's end, to
 * be overwritten). One pass, instead of strlen(), a check and a copy: the
 * addresses and interface names of a row are short.
 */
static inline int w_plain_short(char *o, const char *s, char stop1, char stop2)
{
	for (int i = 0; i < SHORT_STR; i++) {
		unsigned char c = s[i];

		if (!c)
			return i;
		if (c < 0x20 || c > 0x7e || c == '\\' || c == stop1 || c == stop2)
			return -1;
		o[i] = c;
	}
	return -1;
}

/* A list of integers as "[a, b, c]" (NFStream's CSV) or "[a,b,c]" (JSON). */
static void put_list(struct fmt_buf *b, const struct field_info *fi, const char *msg, bool spaces)
{
	size_t n = *(const size_t *)(msg + fi->quantifier_offset);
	const char *arr = *(char *const *)(msg + fi->offset);
	char *o;

	/* Each number and its separator at most 23 bytes: one check for the list. */
	if (n > (SIZE_MAX - 2) / 23 || !buf_room(b, n * 23 + 2))
		return;
	o = b->p + b->len;
	*o++ = '[';
	for (size_t i = 0; i < n; i++) {
		if (i) {
			*o++ = ',';
			if (spaces)
				*o++ = ' ';
		}
		if (fi->kind == FK_LIST_I32)
			o = w_i64(o, ((const int32_t *)arr)[i]);
		else
			o = w_i64(o, ((const int64_t *)arr)[i]);
	}
	*o++ = ']';
	b->len = o - b->p;
}

/* A CSV cell of a field that is not a number or a bool. */
static void csv_value(struct fmt_buf *b, const ProtobufCFieldDescriptor *fd,
		      const struct field_info *fi, const char *msg)
{
	size_t at;

	switch (fi ? fi->kind : FK_OTHER) {
	case FK_STRING: {
		const char *s = *(char *const *)(msg + fi->offset);

		s = s ? s : "";
		csv_cell(b, s, strlen(s));
		return;
	}
	case FK_DOUBLE:
		put_double(b, *(const double *)(msg + fi->offset));
		return;
	case FK_LIST_I32:
	case FK_LIST_I64:
		/* Two numbers or more hold ", ": quoted, as csv_quote_from() does. */
		if (*(const size_t *)(msg + fi->quantifier_offset) < 2) {
			put_list(b, fi, msg, true);
		} else {
			put_char(b, '"');
			put_list(b, fi, msg, true);
			put_char(b, '"');
		}
		return;
	default:
		break;
	}
	if (fd->type == PROTOBUF_C_TYPE_STRING && fd->label != PROTOBUF_C_LABEL_REPEATED) {
		const char *s = *(char *const *)(msg + fd->offset);

		s = s ? s : "";
		csv_cell(b, s, strlen(s));
		return;
	}
	at = b->len;
	put_value(b, fd, msg, true);
	if (fd->label == PROTOBUF_C_LABEL_REPEATED)
		csv_quote_from(b, at);
}

void format_csv_row(FILE *out, const struct format_columns *cols, const Nfxdp__Flow *f)
{
	const char *msg = (const char *)f;
	struct fmt_buf *b = &row;
	char *o = NULL, *lim = NULL;

	const struct field_info *const *prog;
	int ncols = cols->n;

	pthread_once(&field_infos_once, field_infos_make);
	prog = row_prog_for(cols);
	/* A local cursor, as in format_json(). */
	for (int i = 0; i < ncols; i++) {
		const ProtobufCFieldDescriptor *fd = cols->f[i];
		const struct field_info *fi = row_prog_at(prog, i, fd);
		char *e;

		if (lim - o < FIELD_ROOM && !cursor_room(b, &o, &lim))
			break; /* out of memory: the row is not written */
		if (i)
			*o++ = ',';
		e = fi ? w_fixed(o, fi, msg) : NULL;
		if (e) {
			o = e;
			continue;
		}
		if (fi && fi->kind == FK_STRING) {
			const char *str = *(char *const *)(msg + fi->offset);
			int n = w_plain_short(o, str ? str : "", ',', '"');

			if (n >= 0) {
				o += n;
				continue;
			}
		}
		b->len = o - b->p;
		csv_value(b, fd, fi, msg);
		o = b->p + b->len;
		lim = b->p + b->cap;
	}
	if (o)
		b->len = o - b->p;
	put_char(b, '\n');
	row_write(out);
}

/* A JSON string: JSON text is UTF-8, so a byte that is not becomes U+FFFD. */
static void json_string(struct fmt_buf *b, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	size_t n = s ? strlen(s) : 0;

	if (plain_ascii(s, n, '"', '"') && buf_room(b, n + 2)) {
		char *o = b->p + b->len;

		o[0] = '"';
		memcpy(o + 1, s, n);
		o[n + 1] = '"';
		b->len += n + 2;
		return;
	}
	put_char(b, '"');
	for (; s && *s; s++) {
		unsigned char c = *s;
		int k;

		if (c == '"' || c == '\\') {
			put_char(b, '\\');
			put_char(b, c);
		} else if (c < 0x20) {
			char u[6] = { '\\', 'u', '0', '0', hex[c >> 4], hex[c & 15] };

			put_mem(b, u, sizeof(u));
		} else if (c < 0x80) {
			put_char(b, c);
		} else if ((k = utf8_len((const unsigned char *)s))) {
			put_mem(b, s, k);
			s += k - 1;
		} else {
			put_str(b, "\\ufffd");
		}
	}
	put_char(b, '"');
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

/* A JSON value of a field that is not a number or a bool. */
static void json_value(struct fmt_buf *b, const ProtobufCFieldDescriptor *fd,
		       const struct field_info *fi, const char *msg)
{
	switch (fi ? fi->kind : FK_OTHER) {
	case FK_STRING:
		json_string(b, *(char *const *)(msg + fi->offset));
		return;
	case FK_DOUBLE: {
		double v = *(const double *)(msg + fi->offset);

		if (isfinite(v))
			put_double(b, v);
		else
			put_mem(b, "null", 4);
		return;
	}
	case FK_LIST_I32:
	case FK_LIST_I64:
		put_list(b, fi, msg, false);
		return;
	default:
		break;
	}
	if (fd->type == PROTOBUF_C_TYPE_STRING && fd->label != PROTOBUF_C_LABEL_REPEATED)
		json_string(b, *(char *const *)(msg + fd->offset));
	else if (json_nonfinite(fd, msg + fd->offset))
		put_mem(b, "null", 4);
	else
		put_value(b, fd, msg, false);
}

void format_json(FILE *out, const struct format_columns *cols, const Nfxdp__Flow *f)
{
	const char *msg = (const char *)f;
	struct fmt_buf *b = &row;
	size_t start = b->len;
	char *o = NULL, *lim = NULL;

	const struct field_info *const *prog;
	int ncols = cols->n;

	pthread_once(&field_infos_once, field_infos_make);
	prog = row_prog_for(cols);
	/* Every key goes with its comma; the first comma becomes the {. */
	if (!cols->n)
		put_char(b, '{');
	/*
	 * The cursor @o is a local, b->len set from it only around calls: the
	 * bytes stored through it could alias b (char), which made the
	 * compiler reload b->p and b->len after every field.
	 */
	for (int i = 0; i < ncols; i++) {
		const ProtobufCFieldDescriptor *fd = cols->f[i];
		const struct field_info *fi = row_prog_at(prog, i, fd);
		char *e;

		if (lim - o < FIELD_ROOM && !cursor_room(b, &o, &lim))
			break; /* out of memory: the row is not written */
		if (fi && fi->key_len) {
			/* Two stores for most keys, three for the longest. */
			if (fi->key_len <= 32)
				memcpy(o, fi->key, 32);
			else
				memcpy(o, fi->key, KEY_SLOT);
			o += fi->key_len;
		} else {
			/* A long name: its own checks, its own copies. */
			b->len = o - b->p;
			o = lim = NULL;
			put_mem(b, ",\"", 2);
			put_str(b, fd->name);
			put_mem(b, "\":", 2);
			json_value(b, fd, fi, msg);
			continue;
		}
		e = fi ? w_fixed(o, fi, msg) : NULL;
		if (e) {
			o = e;
			continue;
		}
		if (fi && fi->kind == FK_STRING) {
			const char *str = *(char *const *)(msg + fi->offset);
			int n = w_plain_short(o + 1, str ? str : "", '"', '"');

			if (n >= 0) {
				o[0] = '"';
				o[n + 1] = '"';
				o += n + 2;
				continue;
			}
		}
		b->len = o - b->p;
		json_value(b, fd, fi, msg);
		o = b->p + b->len;
		lim = b->p + b->cap;
	}
	if (o)
		b->len = o - b->p;
	if (cols->n && !b->oom)
		b->p[start] = '{';
	put_mem(b, "}\n", 2);
	row_write(out);
}

int format_field(char *buf, size_t len, const Nfxdp__Flow *f, const char *name)
{
	const ProtobufCFieldDescriptor *fd =
		protobuf_c_message_descriptor_get_field_by_name(&nfxdp__flow__descriptor, name);
	struct fmt_buf b = { 0 };

	if (!fd)
		return -1;
	put_value(&b, fd, f, true);
	snprintf(buf, len, "%.*s", (int)b.len, b.p ? b.p : "");
	free(b.p);
	return 0;
}

static const char *proto_name(uint32_t p, char *buf, size_t len)
{
	switch (p) {
	case 1:
		return "icmp";
	case 6:
		return "tcp";
	case 17:
		return "udp";
	case 58:
		return "icmpv6";
	case 132:
		return "sctp";
	default:
		snprintf(buf, len, "proto-%u", p);
		return buf;
	}
}

void format_brief(FILE *out, const Nfxdp__Flow *f)
{
	char src[64], dst[64], pbuf[16], *hs, *hd;
	bool v6 = f->ip_version == 6;

	/* Addresses nfxdp wrote are safe; a stream's may hold anything. */
	snprintf(src, sizeof(src), v6 ? "[%s]:%u" : "%s:%u", format_escaped(f->src_ip, &hs),
		 f->src_port);
	snprintf(dst, sizeof(dst), v6 ? "[%s]:%u" : "%s:%u", format_escaped(f->dst_ip, &hd),
		 f->dst_port);
	free(hs);
	free(hd);
	fprintf(out, "#%-5" PRIu64 " %-9s %-28s -> %-28s %-6s %6" PRIu64 " pkts %10" PRIu64
		     " bytes %7" PRIu64 " ms",
		f->id, flow_expiry_name(f->expiration_id), src, dst,
		proto_name(f->protocol, pbuf, sizeof(pbuf)), f->bidirectional_packets,
		f->bidirectional_bytes, f->bidirectional_duration_ms);
	if (f->vlan_id)
		fprintf(out, " vlan %u", f->vlan_id);
	if (f->tunnel_id)
		fprintf(out, " tunnel %u", f->tunnel_id);
	fputc('\n', out);
}
