// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "select/boolexpr.h"

/* Words, numbers, addresses and prefixes are runs of other characters. */
static bool is_single(char c)
{
	return c == '(' || c == ')';
}

/* Comparisons: == != < <= > >= */
static int cmp_len(const char *s)
{
	if ((s[0] == '=' || s[0] == '!' || s[0] == '<' || s[0] == '>') && s[1] == '=')
		return 2;
	return s[0] == '<' || s[0] == '>' ? 1 : 0;
}

static int tokenize(struct bx_parser *p)
{
	const char *s = p->expr;
	int i = 0;

	p->n = 0;
	while (s[i]) {
		int start;

		if (isspace((unsigned char)s[i])) {
			i++;
			continue;
		}
		if (p->n == BX_MAX_TOKENS)
			return bx_error(p, NULL, "the expression has more than %d tokens", BX_MAX_TOKENS);
		start = i;
		if (cmp_len(s + i)) {
			i += cmp_len(s + i);
		} else if (is_single(s[i]) || s[i] == '!') {
			i++;
		} else if ((s[i] == '&' && s[i + 1] == '&') || (s[i] == '|' && s[i + 1] == '|')) {
			i += 2;
		} else {
			while (s[i] && !isspace((unsigned char)s[i]) && !is_single(s[i]) && s[i] != '!' &&
			       !cmp_len(s + i) && !(s[i] == '&' && s[i + 1] == '&') &&
			       !(s[i] == '|' && s[i + 1] == '|'))
				i++;
		}
		p->tok[p->n++] = (struct bx_token){ s + start, i - start, start };
	}
	return 0;
}

const struct bx_token *bx_peek(struct bx_parser *p)
{
	return p->pos < p->n ? &p->tok[p->pos] : NULL;
}

const struct bx_token *bx_next(struct bx_parser *p)
{
	return p->pos < p->n ? &p->tok[p->pos++] : NULL;
}

bool bx_is(const struct bx_token *t, const char *word)
{
	return t && (int)strlen(word) == t->len && !strncmp(t->s, word, t->len);
}

bool bx_text(const struct bx_token *t, char *buf, size_t len)
{
	if (!t || (size_t)t->len >= len)
		return false;
	memcpy(buf, t->s, t->len);
	buf[t->len] = '\0';
	return true;
}

int bx_error(struct bx_parser *p, const struct bx_token *t, const char *fmt, ...)
{
	int col = t ? t->col : (int)strlen(p->expr);
	size_t used;
	va_list ap;

	if (p->failed)
		return -1;
	p->failed = true;
	used = snprintf(p->err, p->errlen, "%s: ", p->what);
	va_start(ap, fmt);
	if (used < p->errlen)
		used += vsnprintf(p->err + used, p->errlen - used, fmt, ap);
	va_end(ap);
	if (used < p->errlen)
		used += snprintf(p->err + used, p->errlen - used, " at column %d:\n  %s\n  %*s^",
				 col + 1, p->expr, col, "");
	return -1;
}

static bool is_and(const struct bx_token *t)
{
	return bx_is(t, "and") || bx_is(t, "&&");
}

static bool is_or(const struct bx_token *t)
{
	return bx_is(t, "or") || bx_is(t, "||");
}

static bool is_not(const struct bx_token *t)
{
	return bx_is(t, "not") || bx_is(t, "!");
}

static int parse_or(struct bx_parser *p);

static int parse_unary(struct bx_parser *p)
{
	const struct bx_token *t = bx_peek(p);

	if (!t)
		return bx_error(p, NULL, "the expression ends where a test was expected");
	if (is_not(t)) {
		bx_next(p);
		if (parse_unary(p))
			return -1;
		return p->op(p, p->ctx, BX_NOT);
	}
	if (bx_is(t, "(")) {
		bx_next(p);
		if (parse_or(p))
			return -1;
		if (!bx_is(bx_peek(p), ")"))
			return bx_error(p, bx_peek(p), "expected ')'");
		bx_next(p);
		return 0;
	}
	if (is_and(t) || is_or(t) || bx_is(t, ")"))
		return bx_error(p, t, "unexpected '%.*s'", t->len, t->s);
	return p->test(p, p->ctx);
}

static int parse_and(struct bx_parser *p)
{
	if (parse_unary(p))
		return -1;
	while (is_and(bx_peek(p))) {
		bx_next(p);
		if (parse_unary(p) || p->op(p, p->ctx, BX_AND))
			return -1;
	}
	return 0;
}

static int parse_or(struct bx_parser *p)
{
	if (parse_and(p))
		return -1;
	while (is_or(bx_peek(p))) {
		bx_next(p);
		if (parse_and(p) || p->op(p, p->ctx, BX_OR))
			return -1;
	}
	return 0;
}

int bx_parse(struct bx_parser *p, const char *expr)
{
	const struct bx_token *t;

	p->expr = expr;
	p->pos = 0;
	p->failed = false;
	if (tokenize(p))
		return -1;
	if (!p->n)
		return bx_error(p, NULL, "the expression is empty");
	if (parse_or(p))
		return -1;
	t = bx_peek(p);
	if (t)
		return bx_error(p, t, "unexpected '%.*s' (a missing 'and' or 'or'?)", t->len, t->s);
	return 0;
}
