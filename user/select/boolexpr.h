/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Boolean expressions over tests, for --flow-filter: tokens, "and"/"or"/"not"
 * (also "&&", "||", "!") and parentheses, turned into postfix order. The
 * language parses its own tests through a callback.
 * Errors name the offending token and point at it with a caret.
 */
#ifndef NFXDP_SELECT_BOOLEXPR_H
#define NFXDP_SELECT_BOOLEXPR_H

#include <stdbool.h>
#include <stddef.h>

#define BX_MAX_TOKENS 512

enum bx_op {
	BX_AND,
	BX_OR,
	BX_NOT,
};

struct bx_token {
	const char *s;
	int len;
	int col; /* 0-based column in the expression */
};

struct bx_parser {
	const char *what; /* the option, for messages: "--filter" */
	const char *expr;
	struct bx_token tok[BX_MAX_TOKENS];
	int n;
	int pos;
	char *err;
	size_t errlen;
	bool failed;
	/* A test starts at the current token: consume it, emit it; 0 or -1. */
	int (*test)(struct bx_parser *p, void *ctx);
	/* An operator, in postfix order; 0 or -1. */
	int (*op)(struct bx_parser *p, void *ctx, enum bx_op op);
	void *ctx;
};

/* Parses @expr through p->test and p->op (set by the caller); 0 or -1 with p->err. */
int bx_parse(struct bx_parser *p, const char *expr);

/* The current token (NULL at the end), and taking it. */
const struct bx_token *bx_peek(struct bx_parser *p);
const struct bx_token *bx_next(struct bx_parser *p);
bool bx_is(const struct bx_token *t, const char *word);
/* Copies the token into @buf as a string; false when it does not fit. */
bool bx_text(const struct bx_token *t, char *buf, size_t len);
/* Records an error about token @t (NULL: the end of the expression); returns -1. */
int bx_error(struct bx_parser *p, const struct bx_token *t, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif /* NFXDP_SELECT_BOOLEXPR_H */
