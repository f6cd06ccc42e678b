// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * --flow-filter: the record filter compiler (user/flowfilter.c over
 * user/boolexpr.c) on arbitrary strings, and the compiled filter run on
 * records. A filter it accepts is well formed postfix within the 64-bit
 * stack flowfilter_match() keeps, each test on a numeric field of Flow;
 * an error is a terminated message naming the option; parentheses around
 * a whole expression change nothing.
 */
#include <string.h>

#include "select/flow_filter.h"
#include "select/boolexpr.h"
#include "fuzz.h"

#define EXPR_MAX 4096

static struct flowfilter out, again;
static Nfxdp__Flow zero, ones;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const ProtobufCMessageDescriptor *d = &nfxdp__flow__descriptor;

	nfxdp__flow__init(&zero);
	nfxdp__flow__init(&ones);
	/* Every numeric field 1 (in its own width): each field read is a real one. */
	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *fd = &d->fields[i];
		void *v = (char *)&ones + fd->offset;

		if (fd->label == PROTOBUF_C_LABEL_REPEATED)
			continue;
		switch (fd->type) {
		case PROTOBUF_C_TYPE_UINT64:
		case PROTOBUF_C_TYPE_INT64:
		case PROTOBUF_C_TYPE_SINT64:
			*(uint64_t *)v = 1;
			break;
		case PROTOBUF_C_TYPE_DOUBLE:
			*(double *)v = 1;
			break;
		case PROTOBUF_C_TYPE_FLOAT:
			*(float *)v = 1;
			break;
		case PROTOBUF_C_TYPE_BOOL:
			*(protobuf_c_boolean *)v = 1;
			break;
		case PROTOBUF_C_TYPE_UINT32:
		case PROTOBUF_C_TYPE_INT32:
		case PROTOBUF_C_TYPE_SINT32:
			*(uint32_t *)v = 1;
			break;
		default:
			break;
		}
	}
	return 0;
}

static void check_filter(const struct flowfilter *ff)
{
	int depth = 0;

	FUZZ_CHECK(ff->n >= 1 && ff->n <= FLOWFILTER_MAX, "n %d", ff->n);
	for (int i = 0; i < ff->n; i++) {
		const struct ff_step *s = &ff->step[i];

		if (s->op == -1) {
			const ProtobufCFieldDescriptor *fd = s->field;

			FUZZ_CHECK(fd && fd >= nfxdp__flow__descriptor.fields &&
					   fd < nfxdp__flow__descriptor.fields +
							nfxdp__flow__descriptor.n_fields,
				   "step %d: not a Flow field", i);
			FUZZ_CHECK(fd->label != PROTOBUF_C_LABEL_REPEATED &&
					   fd->type != PROTOBUF_C_TYPE_STRING &&
					   fd->type != PROTOBUF_C_TYPE_BYTES &&
					   fd->type != PROTOBUF_C_TYPE_MESSAGE,
				   "step %d: field %s is not numeric", i, fd->name);
			FUZZ_CHECK(s->cmp >= FF_EQ && s->cmp <= FF_GE, "step %d: cmp %d", i,
				   s->cmp);
			depth++;
		} else if (s->op == BX_NOT) {
			FUZZ_CHECK(depth >= 1, "step %d: not on an empty stack", i);
		} else {
			FUZZ_CHECK(s->op == BX_AND || s->op == BX_OR, "step %d: op %d", i, s->op);
			FUZZ_CHECK(depth >= 2, "step %d: binary op on %d values", i, depth);
			depth--;
		}
		FUZZ_CHECK(depth <= 64, "step %d: stack depth %d", i, depth);
	}
	FUZZ_CHECK(depth == 1, "%d values left on the stack", depth);
}

/* Field by field: the steps' padding is not part of the comparison. */
static int same(const struct flowfilter *a, const struct flowfilter *b)
{
	if (a->n != b->n)
		return 0;
	for (int i = 0; i < a->n; i++) {
		const struct ff_step *x = &a->step[i], *y = &b->step[i];

		if (x->op != y->op || x->field != y->field || x->cmp != y->cmp ||
		    memcmp(&x->value, &y->value, sizeof(x->value)))
			return 0;
	}
	return 1;
}

static void check_error(const char *err, size_t cap)
{
	FUZZ_CHECK(memchr(err, '\0', cap) != NULL, "unterminated error message");
	FUZZ_CHECK(!strncmp(err, "--flow-filter: ", 15), "error '%s'", err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char expr[EXPR_MAX + 1], wrapped[EXPR_MAX + 8];
	char err[512];
	int r;

	if (size > EXPR_MAX)
		return 0;
	memcpy(expr, data, size);
	expr[size] = '\0';

	memset(err, 0x5a, sizeof(err));
	r = flowfilter_compile(&out, expr, err, sizeof(err));
	FUZZ_CHECK(r == 0 || r == -1, "returned %d", r);
	if (r) {
		check_error(err, sizeof(err));
		return 0;
	}
	check_filter(&out);
	flowfilter_match(&out, &zero);
	flowfilter_match(&out, &ones);

	snprintf(wrapped, sizeof(wrapped), "(%s)", expr);
	r = flowfilter_compile(&again, wrapped, err, sizeof(err));
	if (r) {
		check_error(err, sizeof(err));
		FUZZ_CHECK(strstr(err, "more than"), "'%s' compiles, '(%s)' does not: %s", expr,
			   expr, err);
		return 0;
	}
	FUZZ_CHECK(same(&again, &out), "'(%s)' compiles differently", expr);
	FUZZ_CHECK(flowfilter_match(&again, &ones) == flowfilter_match(&out, &ones),
		   "'(%s)' matches differently", expr);
	return 0;
}
