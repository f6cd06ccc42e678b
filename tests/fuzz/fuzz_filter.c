// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * --filter: the expression compiler (user/filter.c over user/boolexpr.c) on
 * arbitrary strings. Beyond memory safety, what the meter relies on: a
 * program it accepts is well formed postfix (every operator has its
 * operands, one value is left, the 64-bit stack never overflows), every
 * operand is within its range, every address test names a prefix set of
 * its own; an error is a terminated message naming the option; and
 * parentheses around a whole expression change nothing.
 */
#include <string.h>

#include "select/packet_filter.h"
#include "fuzz.h"

#define EXPR_MAX 4096

static struct filter_compiled out, again;

/* The compiled program and its prefixes, checked as the meter will run them. */
static void check_program(const struct filter_compiled *c)
{
	const struct filter_prog *fp = &c->prog;
	int depth = 0;

	FUZZ_CHECK(fp->len >= 1 && fp->len <= FILTER_MAX_INSNS, "len %u", fp->len);
	FUZZ_CHECK(c->n_nets >= 0 && c->n_nets <= FILTER_MAX_NETS, "n_nets %d", c->n_nets);
	for (__u32 i = 0; i < fp->len; i++) {
		const struct filter_insn *in = &fp->insn[i];

		FUZZ_CHECK(in->dir <= FDIR_DST, "insn %u: dir %u", i, in->dir);
		FUZZ_CHECK(!in->dir || in->op == FOP_PORT || in->op == FOP_NET,
			   "insn %u: a direction on op %u", i, in->op);
		switch (in->op) {
		case FOP_AND:
		case FOP_OR:
			FUZZ_CHECK(depth >= 2, "insn %u: binary op on %d values", i, depth);
			depth--;
			break;
		case FOP_NOT:
			FUZZ_CHECK(depth >= 1, "insn %u: not on an empty stack", i);
			break;
		case FOP_PROTO:
			FUZZ_CHECK(in->lo <= 255, "insn %u: protocol %u", i, in->lo);
			depth++;
			break;
		case FOP_PORT:
			FUZZ_CHECK(in->lo <= in->hi && in->hi <= 65535, "insn %u: ports %u-%u", i,
				   in->lo, in->hi);
			depth++;
			break;
		case FOP_VLAN:
			FUZZ_CHECK(in->lo <= in->hi && in->hi <= 4095, "insn %u: vlan %u-%u", i,
				   in->lo, in->hi);
			depth++;
			break;
		case FOP_VERSION:
			FUZZ_CHECK(in->lo == 4 || in->lo == 6, "insn %u: version %u", i, in->lo);
			depth++;
			break;
		case FOP_HASH:
			FUZZ_CHECK(in->hi > 0 && in->lo < in->hi, "insn %u: slice %u/%u", i, in->lo,
				   in->hi);
			depth++;
			break;
		case FOP_NET: {
			int found = 0;

			FUZZ_CHECK(in->set && !(in->set & 1), "insn %u: set %u", i, in->set);
			for (int k = 0; k < c->n_nets; k++) {
				const struct filter_net_key *nk = &c->nets[k];

				if ((nk->set & ~1U) != in->set)
					continue;
				found++;
				FUZZ_CHECK(nk->prefixlen >= 32 &&
						   nk->prefixlen <= 32 + ((nk->set & 1) ? 128 : 32),
					   "net %d: prefixlen %u for set %u", k, nk->prefixlen,
					   nk->set);
			}
			FUZZ_CHECK(found == 1, "insn %u: set %u has %d prefixes", i, in->set,
				   found);
			depth++;
			break;
		}
		default:
			FUZZ_CHECK(0, "insn %u: unknown op %u", i, in->op);
		}
		/* The meter's stack is a __u64, top in bit 0. */
		FUZZ_CHECK(depth <= 64, "insn %u: stack depth %d", i, depth);
	}
	FUZZ_CHECK(depth == 1, "%d values left on the stack", depth);
}

static void check_error(const char *err, size_t cap)
{
	FUZZ_CHECK(memchr(err, '\0', cap) != NULL, "unterminated error message");
	FUZZ_CHECK(!strncmp(err, "--filter: ", 10), "error '%s'", err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char expr[EXPR_MAX + 1], wrapped[EXPR_MAX + 8];
	char err[512];
	int r, r2;

	if (size > EXPR_MAX)
		return 0;
	memcpy(expr, data, size);
	expr[size] = '\0';

	memset(err, 0x5a, sizeof(err));
	r = filter_compile(expr, &out, err, sizeof(err));
	FUZZ_CHECK(r == 0 || r == -1, "returned %d", r);
	if (r) {
		check_error(err, sizeof(err));
		return 0;
	}
	check_program(&out);

	/* "(E)" compiles to the very program E does (unless the two tokens do not fit). */
	snprintf(wrapped, sizeof(wrapped), "(%s)", expr);
	r2 = filter_compile(wrapped, &again, err, sizeof(err));
	if (r2) {
		check_error(err, sizeof(err));
		FUZZ_CHECK(strstr(err, "more than"), "'%s' compiles, '(%s)' does not: %s", expr,
			   expr, err);
		return 0;
	}
	FUZZ_CHECK(again.n_nets == out.n_nets && again.prog.len == out.prog.len &&
			   !memcmp(&again.prog, &out.prog, sizeof(out.prog)) &&
			   !memcmp(again.nets, out.nets, out.n_nets * sizeof(out.nets[0])),
		   "'(%s)' compiles differently", expr);
	return 0;
}
