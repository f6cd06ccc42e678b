// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "select/boolexpr.h"
#include "select/flow_filter.h"

static int add_step(struct bx_parser *p, struct flowfilter *ff, struct ff_step s)
{
	if (ff->n == FLOWFILTER_MAX)
		return bx_error(p, bx_peek(p), "the expression needs more than %d steps",
				FLOWFILTER_MAX);
	ff->step[ff->n++] = s;
	return 0;
}

static int add_op(struct bx_parser *p, void *ctx, enum bx_op op)
{
	return add_step(p, ctx, (struct ff_step){ .op = op });
}

static bool numeric(const ProtobufCFieldDescriptor *fd)
{
	return fd->label != PROTOBUF_C_LABEL_REPEATED && fd->type != PROTOBUF_C_TYPE_STRING &&
	       fd->type != PROTOBUF_C_TYPE_BYTES && fd->type != PROTOBUF_C_TYPE_MESSAGE;
}

static int parse_cmp(const struct bx_token *t, enum ff_cmp *cmp)
{
	static const char *const ops[] = { "==", "!=", "<", "<=", ">", ">=" };

	for (int i = 0; i < 6; i++)
		if (bx_is(t, ops[i])) {
			*cmp = i;
			return 0;
		}
	return -1;
}

static int parse_test(struct bx_parser *p, void *ctx)
{
	const struct bx_token *name = bx_next(p), *cmp = bx_next(p), *num = bx_next(p);
	struct ff_step s = { .op = -1 };
	char buf[128], *end;

	if (!bx_text(name, buf, sizeof(buf)) ||
	    !(s.field = protobuf_c_message_descriptor_get_field_by_name(&nfxdp__flow__descriptor,
									  buf)))
		return bx_error(p, name, "'%.*s' is not a flow field", name ? name->len : 0,
				name ? name->s : "");
	if (!numeric(s.field))
		return bx_error(p, name, "'%s' is not a numeric field", buf);
	if (!cmp || parse_cmp(cmp, &s.cmp))
		return bx_error(p, cmp, "expected one of == != < <= > >=");
	if (!bx_text(num, buf, sizeof(buf)))
		return bx_error(p, num, "expected a number");
	s.value = strtod(buf, &end);
	if (end == buf || *end)
		return bx_error(p, num, "'%s' is not a number", buf);
	return add_step(p, ctx, s);
}

int flowfilter_compile(struct flowfilter *ff, const char *expr, char *err, size_t errlen)
{
	struct bx_parser p = {
		.what = "--flow-filter",
		.err = err,
		.errlen = errlen,
		.test = parse_test,
		.op = add_op,
		.ctx = ff,
	};

	memset(ff, 0, sizeof(*ff));
	return bx_parse(&p, expr);
}

static double field_value(const Nfxdp__Flow *f, const ProtobufCFieldDescriptor *fd)
{
	const void *v = (const char *)f + fd->offset;

	switch (fd->type) {
	case PROTOBUF_C_TYPE_UINT32:
		return *(const uint32_t *)v;
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
		return *(const int32_t *)v;
	case PROTOBUF_C_TYPE_UINT64:
		return *(const uint64_t *)v;
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
		return *(const int64_t *)v;
	case PROTOBUF_C_TYPE_DOUBLE:
		return *(const double *)v;
	case PROTOBUF_C_TYPE_FLOAT:
		return *(const float *)v;
	case PROTOBUF_C_TYPE_BOOL:
		return *(const protobuf_c_boolean *)v;
	default:
		return 0;
	}
}

static bool compare(double a, enum ff_cmp cmp, double b)
{
	switch (cmp) {
	case FF_EQ:
		return a == b;
	case FF_NE:
		return a != b;
	case FF_LT:
		return a < b;
	case FF_LE:
		return a <= b;
	case FF_GT:
		return a > b;
	default:
		return a >= b;
	}
}

bool flowfilter_match(const struct flowfilter *ff, const Nfxdp__Flow *f)
{
	uint64_t stack = 0;

	if (!ff->n)
		return true;
	for (int i = 0; i < ff->n; i++) {
		const struct ff_step *s = &ff->step[i];
		uint64_t a = stack & 1, b = (stack >> 1) & 1;

		if (s->op == BX_NOT)
			stack ^= 1;
		else if (s->op == BX_AND || s->op == BX_OR)
			stack = (stack >> 2) << 1 | (s->op == BX_AND ? a & b : a | b);
		else
			stack = stack << 1 | compare(field_value(f, s->field), s->cmp, s->value);
	}
	return stack & 1;
}
