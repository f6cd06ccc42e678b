// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * nfxdp-cat on arbitrary input: what it runs on a received ZeroMQ message
 * (receive_batch(): the topic, inflating "flowsz" batches, unpacking the
 * FlowBatch, stats messages), on a --input file (cat_file(): gzip or
 * plain, varint-delimited batches) and on a spool it follows (--follow:
 * follow_file(), user/spool.c), then the printing of every record as JSON
 * lines, CSV or brief lines (print_batch(), user/format.c).
 *
 * The harness compiles user/nfxdp_cat.c itself, its main() renamed, so the
 * code under test is the code nfxdp-cat ships, static functions included.
 * Messages travel through a real ZeroMQ socket pair (inproc), so
 * receive_batch() runs unchanged. Output goes to memory (the records) and
 * /dev/null (nfxdp-cat's notes on stderr).
 *
 * Input: one control byte, then
 *   bits 0-1  format: 0 jsonl, 1 csv, 2 brief, 3 jsonl with --count 1
 *   bit 2     0: a message: a topic length byte (at most 31), the topic,
 *                then the message body (the second frame);
 *             1: a --input file: the rest of the input is the file
 *   bit 3     message: the topic frame alone, no body
 *   bit 4     file: read it with --follow (what it holds, then the deadline)
 * A message is handled twice in one nfxdp-cat state (the second time is a
 * replayed sequence number), as a subscriber would see it.
 *
 * nfxdp-cat's own allocations of more than 16 MB fail (FUZZ_MALLOC_MAX).
 *
 * Unless NFXDP_FUZZ_STRICT=0 is in the environment, every JSON line printed
 * must also be valid JSON (RFC 8259), which plain runs do not require.
 */
#include <stdio.h>
#include <stdlib.h>

/*
 * Allocations nfxdp-cat asks for beyond this fail, as they may on a small
 * machine: cat_file() allocates a batch's length (up to 64 MiB) before
 * reading it, which a 5-byte file can ask for, and under AddressSanitizer
 * that costs each execution 100 ms of page faults.
 */
#define FUZZ_MALLOC_MAX (16U << 20)

static FILE *fuzz_out, *fuzz_err;

static void *fuzz_malloc(size_t n)
{
	return n > FUZZ_MALLOC_MAX ? NULL : malloc(n);
}

/* nfxdp-cat's output streams and allocator, while its source is compiled here. */
#undef stdout
#undef stderr
#define stdout fuzz_out
#define stderr fuzz_err
#define malloc fuzz_malloc
#define main nfxdp_cat_main
#include "../../user/cat/nfxdp_cat.c"
#undef main
#undef malloc
#undef stdout
#undef stderr
#define stdout stdout
#define stderr stderr

#include <ctype.h>
#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fuzz.h"

static void *zctx, *ztx, *zrx;
static zmq_msg_t zmsg;
static int memfd = -1;
static char path[64];
static bool strict;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	int timeout = 1000, zero = 0;
	const char *e = getenv("NFXDP_FUZZ_STRICT");

	/* On unless NFXDP_FUZZ_STRICT=0: the formats escape everything now. */
	strict = !e || *e != '0';
	fuzz_err = fopen("/dev/null", "w");
	memfd = memfd_create("nfxdp-fuzz-cat", MFD_CLOEXEC);
	zctx = zmq_ctx_new();
	ztx = zctx ? zmq_socket(zctx, ZMQ_PAIR) : NULL;
	zrx = zctx ? zmq_socket(zctx, ZMQ_PAIR) : NULL;
	if (!fuzz_err || memfd < 0 || !ztx || !zrx || zmq_bind(zrx, "inproc://nfxdp-fuzz-cat") ||
	    zmq_connect(ztx, "inproc://nfxdp-fuzz-cat")) {
		fprintf(stderr, "fuzz_catmsg: setup failed: %s\n", strerror(errno));
		exit(1);
	}
	zmq_setsockopt(zrx, ZMQ_RCVTIMEO, &timeout, sizeof(timeout));
	zmq_setsockopt(ztx, ZMQ_SNDTIMEO, &timeout, sizeof(timeout));
	zmq_setsockopt(ztx, ZMQ_LINGER, &zero, sizeof(zero));
	zmq_msg_init(&zmsg);
	snprintf(path, sizeof(path), "/proc/self/fd/%d", memfd);
	log_set_prog("nfxdp-cat");
	log_set_level(LOG_QUIET);
	return 0;
}

/* ---- JSON (RFC 8259) validation, for NFXDP_FUZZ_STRICT ---- */

struct json {
	const char *p, *end;
	int depth;
};

static void json_ws(struct json *j)
{
	while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\r' || *j->p == '\n'))
		j->p++;
}

static bool json_lit(struct json *j, const char *w)
{
	size_t n = strlen(w);

	if ((size_t)(j->end - j->p) < n || memcmp(j->p, w, n))
		return false;
	j->p += n;
	return true;
}

static bool json_digits(struct json *j)
{
	const char *s = j->p;

	while (j->p < j->end && *j->p >= '0' && *j->p <= '9')
		j->p++;
	return j->p > s;
}

static bool json_number(struct json *j)
{
	if (j->p < j->end && *j->p == '-')
		j->p++;
	if (j->p < j->end && *j->p == '0')
		j->p++;
	else if (!json_digits(j))
		return false;
	if (j->p < j->end && *j->p == '.') {
		j->p++;
		if (!json_digits(j))
			return false;
	}
	if (j->p < j->end && (*j->p == 'e' || *j->p == 'E')) {
		j->p++;
		if (j->p < j->end && (*j->p == '+' || *j->p == '-'))
			j->p++;
		if (!json_digits(j))
			return false;
	}
	return true;
}

/* A string, its UTF-8 checked: what a strict consumer (json.loads, jq) requires. */
static bool json_string(struct json *j)
{
	if (j->p >= j->end || *j->p != '"')
		return false;
	j->p++;
	while (j->p < j->end) {
		unsigned char c = *j->p++, lo, hi;
		int more;

		if (c == '"')
			return true;
		if (c < 0x20)
			return false;
		if (c == '\\') {
			if (j->p >= j->end)
				return false;
			c = *j->p++;
			if (c == 'u') {
				for (int i = 0; i < 4; i++, j->p++)
					if (j->p >= j->end || !isxdigit((unsigned char)*j->p))
						return false;
			} else if (!strchr("\"\\/bfnrt", c) || !c) {
				return false;
			}
			continue;
		}
		if (c < 0x80)
			continue;
		/* RFC 3629: no overlong forms, no surrogates, nothing past U+10FFFF. */
		lo = 0x80;
		hi = 0xbf;
		if (c >= 0xc2 && c <= 0xdf)
			more = 1;
		else if (c >= 0xe0 && c <= 0xef)
			more = 2;
		else if (c >= 0xf0 && c <= 0xf4)
			more = 3;
		else
			return false;
		if (c == 0xe0)
			lo = 0xa0;
		else if (c == 0xed)
			hi = 0x9f;
		else if (c == 0xf0)
			lo = 0x90;
		else if (c == 0xf4)
			hi = 0x8f;
		for (; more; more--, j->p++, lo = 0x80, hi = 0xbf)
			if (j->p >= j->end || (unsigned char)*j->p < lo || (unsigned char)*j->p > hi)
				return false;
	}
	return false;
}

static bool json_value(struct json *j);

static bool json_members(struct json *j, char close, bool object)
{
	j->p++;
	json_ws(j);
	if (j->p < j->end && *j->p == close) {
		j->p++;
		return true;
	}
	for (;;) {
		json_ws(j);
		if (object) {
			if (!json_string(j))
				return false;
			json_ws(j);
			if (j->p >= j->end || *j->p++ != ':')
				return false;
		}
		if (!json_value(j))
			return false;
		json_ws(j);
		if (j->p >= j->end)
			return false;
		if (*j->p == close) {
			j->p++;
			return true;
		}
		if (*j->p++ != ',')
			return false;
	}
}

static bool json_value(struct json *j)
{
	bool ok;

	json_ws(j);
	if (j->p >= j->end)
		return false;
	switch (*j->p) {
	case '{':
	case '[':
		if (++j->depth > 64)
			return false;
		ok = json_members(j, *j->p == '{' ? '}' : ']', *j->p == '{');
		j->depth--;
		return ok;
	case '"':
		return json_string(j);
	case 't':
		return json_lit(j, "true");
	case 'f':
		return json_lit(j, "false");
	case 'n':
		return json_lit(j, "null");
	default:
		return json_number(j);
	}
}

/* Each line of @buf one JSON object. */
static void check_jsonl(const char *buf, size_t len)
{
	const char *line = buf, *end = buf + len;

	while (line < end) {
		const char *nl = memchr(line, '\n', end - line);
		struct json j = { .p = line, .end = nl ? nl : end };

		FUZZ_CHECK(nl, "the last line has no newline");
		FUZZ_CHECK(*line == '{' && json_value(&j) && (json_ws(&j), j.p == j.end),
			   "not a JSON object at byte %td of the line: %.*s", j.p - line,
			   (int)(j.end - line), line);
		line = nl + 1;
	}
}

/* ---- the harness ---- */

static int write_file(const uint8_t *data, size_t size)
{
	size_t done = 0;

	if (ftruncate(memfd, 0))
		return -1;
	while (done < size) {
		ssize_t n = pwrite(memfd, data + done, size - done, done);

		if (n <= 0)
			return -1;
		done += n;
	}
	return 0;
}

/* One message through the socket pair and receive_batch(), printed like main() does. */
static void one_message(struct cat_state *s, const struct cat_opts *o, const uint8_t *topic,
			size_t tlen, const uint8_t *body, size_t blen, bool alone)
{
	Nfxdp__FlowBatch *b;
	int err;

	if (zmq_send(ztx, topic, tlen, alone ? 0 : ZMQ_SNDMORE) != (int)tlen ||
	    (!alone && zmq_send(ztx, body, blen, 0) != (int)blen)) {
		fprintf(stderr, "fuzz_catmsg: zmq_send: %s\n", zmq_strerror(errno));
		abort();
	}
	b = receive_batch(s, o, zrx, &zmsg, &err);
	FUZZ_CHECK(!err, "receive_batch: %s", zmq_strerror(err));
	if (b) {
		print_batch(s, o, b);
		cat_decoded_free(b);
	}
}

/*
 * --follow with a deadline already reached: what the spool holds is read
 * once, and no waiting for more. follow_file() takes SIGINT and SIGTERM for
 * itself; libFuzzer's handlers are put back.
 */
static void follow(struct cat_state *s, struct cat_opts *o)
{
	struct sigaction intr, term;

	sigaction(SIGINT, NULL, &intr);
	sigaction(SIGTERM, NULL, &term);
	o->follow = true;
	o->timeout_s = 1e-9;
	follow_file(s, o);
	sigaction(SIGINT, &intr, NULL);
	sigaction(SIGTERM, &term, NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cat_opts o = { .format = FORMAT_JSONL };
	struct cat_state s = { 0 };
	char *out = NULL;
	size_t out_len = 0;
	uint8_t ctl;

	if (size < 1)
		return 0;
	ctl = data[0];
	data++;
	size--;
	switch (ctl & 3) {
	case 1:
		o.format = FORMAT_CSV;
		break;
	case 2:
		o.format = FORMAT_BRIEF;
		break;
	case 3:
		o.count = 1;
		break;
	}
	fuzz_out = open_memstream(&out, &out_len);
	if (!fuzz_out)
		return 0;
	format_columns_all(&s.cols);

	if (ctl & 4) {
		if (!write_file(data, size)) {
			o.input = path;
			if (ctl & 16)
				follow(&s, &o);
			else
				cat_file(&s, &o);
		}
	} else if (size >= 1) {
		size_t tlen = data[0] & 31;

		if (tlen <= size - 1) {
			const uint8_t *topic = data + 1, *body = topic + tlen;
			size_t blen = size - 1 - tlen;

			one_message(&s, &o, topic, tlen, body, blen, ctl & 8);
			one_message(&s, &o, topic, tlen, body, blen, ctl & 8);
		}
	}
	fclose(fuzz_out);
	fuzz_out = NULL;
	if (strict && o.format == FORMAT_JSONL)
		check_jsonl(out, out_len);
	free(out);
	return 0;
}
