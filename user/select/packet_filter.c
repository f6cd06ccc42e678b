// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "select/boolexpr.h"
#include "select/packet_filter.h"

struct compile {
	struct filter_compiled *out;
	int depth; /* values on the program's stack */
};

static int emit(struct bx_parser *p, struct compile *c, struct filter_insn in)
{
	struct filter_prog *fp = &c->out->prog;

	if (fp->len == FILTER_MAX_INSNS)
		return bx_error(p, bx_peek(p), "the expression needs more than %d steps",
				FILTER_MAX_INSNS);
	fp->insn[fp->len++] = in;
	c->depth += in.op == FOP_AND || in.op == FOP_OR ? -1 : in.op == FOP_NOT ? 0 : 1;
	if (c->depth > 63)
		return bx_error(p, bx_peek(p), "the expression nests too deep");
	return 0;
}

static int emit_op(struct bx_parser *p, void *ctx, enum bx_op op)
{
	static const __u8 ops[] = { [BX_AND] = FOP_AND, [BX_OR] = FOP_OR, [BX_NOT] = FOP_NOT };

	return emit(p, ctx, (struct filter_insn){ .op = ops[op] });
}

/* A whole decimal number of the token (or of s..end) within [0, max]. */
static int number(const char *s, int len, unsigned long max, unsigned long *out)
{
	char *end;

	if (len <= 0 || len > 20 || s[0] < '0' || s[0] > '9')
		return -1;
	errno = 0;
	*out = strtoul(s, &end, 10);
	return errno || end != s + len || *out > max ? -1 : 0;
}

static int token_number(struct bx_parser *p, const struct bx_token *t, unsigned long max,
			const char *what, unsigned long *out)
{
	if (!t)
		return bx_error(p, NULL, "expected %s", what);
	if (number(t->s, t->len, max, out))
		return bx_error(p, t, "'%.*s' is not %s", t->len, t->s, what);
	return 0;
}

/* "N-M" (or "N" when @single) into lo/hi, each within [0, max]. */
static int range(struct bx_parser *p, const struct bx_token *t, unsigned long max,
		 const char *what, bool single, __u32 *lo, __u32 *hi)
{
	const char *dash = t ? memchr(t->s, '-', t->len) : NULL;
	unsigned long a, b;

	if (!t)
		return bx_error(p, NULL, "expected %s", what);
	if (!dash && single) {
		if (token_number(p, t, max, what, &a))
			return -1;
		*lo = *hi = a;
		return 0;
	}
	if (!dash || number(t->s, dash - t->s, max, &a) ||
	    number(dash + 1, t->s + t->len - dash - 1, max, &b) || a > b)
		return bx_error(p, t, "'%.*s' is not %s", t->len, t->s, what);
	*lo = a;
	*hi = b;
	return 0;
}

static int protocol_number(struct bx_parser *p, const struct bx_token *t, __u32 *proto)
{
	static const struct {
		const char *name;
		int num;
	} names[] = { { "icmp", 1 }, { "tcp", 6 }, { "udp", 17 }, { "gre", 47 }, { "esp", 50 },
		      { "ah", 51 }, { "icmp6", 58 }, { "sctp", 132 } };
	unsigned long n;

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (bx_is(t, names[i].name)) {
			*proto = names[i].num;
			return 0;
		}
	if (token_number(p, t, 255, "a protocol name or number", &n))
		return -1;
	*proto = n;
	return 0;
}

/* host ADDRESS or net ADDRESS/LENGTH: a new prefix set in the trie. */
static int add_net(struct bx_parser *p, struct compile *c, const struct bx_token *t, bool host,
		   struct filter_insn *in)
{
	struct filter_compiled *out = c->out;
	struct filter_net_key *k;
	char buf[64], *slash;
	unsigned long len;
	int v6;

	if (!t || !bx_text(t, buf, sizeof(buf)))
		return bx_error(p, t, host ? "expected an address" : "expected a prefix");
	if (out->n_nets == FILTER_MAX_NETS)
		return bx_error(p, t, "more than %d addresses and prefixes", FILTER_MAX_NETS);
	k = &out->nets[out->n_nets];
	memset(k, 0, sizeof(*k));
	slash = strchr(buf, '/');
	if (slash)
		*slash = '\0';
	if (host == !!slash)
		return bx_error(p, t, host ? "'%s' is not an address" : "'%s' has no /length",
				t->s ? buf : "");
	v6 = strchr(buf, ':') != NULL;
	if (inet_pton(v6 ? AF_INET6 : AF_INET, buf, k->addr) != 1)
		return bx_error(p, t, "'%.*s' is not an IPv%d %s", t->len, t->s, v6 ? 6 : 4,
				host ? "address" : "prefix");
	len = v6 ? 128 : 32;
	if (slash && number(slash + 1, strlen(slash + 1), len, &len))
		return bx_error(p, t, "'%.*s': the prefix length is not 0 to %d", t->len, t->s,
				v6 ? 128 : 32);
	/* Each test gets its own set: even ids, odd for IPv6. */
	in->set = 2 * (out->n_nets + 1);
	k->set = in->set | v6;
	k->prefixlen = 32 + len;
	out->n_nets++;
	return 0;
}

static int parse_test(struct bx_parser *p, void *ctx)
{
	struct compile *c = ctx;
	const struct bx_token *t = bx_next(p), *arg;
	struct filter_insn in = { 0 };
	unsigned long a, b;

	if (bx_is(t, "src") || bx_is(t, "dst")) {
		in.dir = bx_is(t, "src") ? FDIR_SRC : FDIR_DST;
		t = bx_next(p);
		if (!bx_is(t, "port") && !bx_is(t, "portrange") && !bx_is(t, "host") &&
		    !bx_is(t, "net"))
			return bx_error(p, t, "expected port, portrange, host or net after '%s'",
					in.dir == FDIR_SRC ? "src" : "dst");
	}
	if (bx_is(t, "tcp") || bx_is(t, "udp") || bx_is(t, "icmp") || bx_is(t, "icmp6") ||
	    bx_is(t, "sctp")) {
		in.op = FOP_PROTO;
		protocol_number(p, t, &in.lo);
	} else if (bx_is(t, "proto")) {
		in.op = FOP_PROTO;
		if (protocol_number(p, bx_next(p), &in.lo))
			return -1;
	} else if (bx_is(t, "ip") || bx_is(t, "ip6")) {
		in.op = FOP_VERSION;
		in.lo = bx_is(t, "ip") ? 4 : 6;
	} else if (bx_is(t, "port")) {
		in.op = FOP_PORT;
		if (token_number(p, bx_next(p), 65535, "a port number", &a))
			return -1;
		in.lo = in.hi = a;
	} else if (bx_is(t, "portrange")) {
		in.op = FOP_PORT;
		if (range(p, bx_next(p), 65535, "a port range N-M", false, &in.lo, &in.hi))
			return -1;
	} else if (bx_is(t, "host") || bx_is(t, "net")) {
		in.op = FOP_NET;
		if (add_net(p, c, bx_next(p), bx_is(t, "host"), &in))
			return -1;
	} else if (bx_is(t, "vlan")) {
		in.op = FOP_VLAN;
		if (range(p, bx_next(p), 4095, "a VLAN id or range", true, &in.lo, &in.hi))
			return -1;
	} else if (bx_is(t, "hash")) {
		const char *slash;

		arg = bx_next(p);
		slash = arg ? memchr(arg->s, '/', arg->len) : NULL;
		in.op = FOP_HASH;
		if (!slash || number(arg->s, slash - arg->s, 1UL << 31, &a) ||
		    number(slash + 1, arg->s + arg->len - slash - 1, 1UL << 31, &b) || !b || a >= b)
			return bx_error(p, arg, "expected a slice K/N with 0 <= K < N");
		in.lo = a;
		in.hi = b;
	} else if (t) {
		return bx_error(p, t, "unknown test '%.*s'", t->len, t->s);
	} else {
		return bx_error(p, NULL, "the expression ends where a test was expected");
	}
	return p->failed ? -1 : emit(p, c, in);
}

int filter_compile(const char *expr, struct filter_compiled *out, char *err, size_t errlen)
{
	struct compile c = { .out = out };
	struct bx_parser p = {
		.what = "--filter",
		.err = err,
		.errlen = errlen,
		.test = parse_test,
		.op = emit_op,
		.ctx = &c,
	};

	memset(out, 0, sizeof(*out));
	return bx_parse(&p, expr);
}
