// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pcap/pcap.h>

#include "select/pcap_filter.h"

/* tcpdump's snapshot length: what an accepting program returns, any nonzero will do. */
#define SNAPLEN 262144
/* Compilations spent looking for where an expression goes wrong. */
#define MAX_PROBES 128

_Static_assert(sizeof(struct cbpf_insn) == sizeof(struct bpf_insn),
	       "struct cbpf_insn is libpcap's struct bpf_insn");

/* Whether libpcap compiles the first @len bytes of @expr. */
static bool compiles(pcap_t *p, const char *expr, size_t len)
{
	struct bpf_program prog;
	char *s = strndup(expr, len);
	bool ok = s && !pcap_compile(p, &prog, s, 0, PCAP_NETMASK_UNKNOWN);

	if (ok)
		pcap_freecode(&prog);
	free(s);
	return ok;
}

static bool is_paren(char c)
{
	return c == '(' || c == ')';
}

/* A place where a beginning of @s can end: after a word or a parenthesis. */
static bool token_end(const char *s, size_t i)
{
	if (i == 0 || s[i - 1] == ' ' || s[i - 1] == '\t')
		return false;
	return !s[i] || s[i] == ' ' || s[i] == '\t' || is_paren(s[i]) || is_paren(s[i - 1]);
}

/* Whether @msg has the word @tok (not as a piece of a longer one). */
static bool names(const char *msg, const char *tok)
{
	size_t len = strlen(tok);

	for (const char *at = strstr(msg, tok); at; at = strstr(at + 1, tok))
		if ((at == msg || !isalnum((unsigned char)at[-1])) && !isalnum((unsigned char)at[len]))
			return true;
	return false;
}

/*
 * libpcap says what is wrong, not where. A syntax error: where the longest
 * beginning of @expr that compiles on its own ends (the first token past
 * it). Otherwise, when the message names a token of the expression ("unknown
 * host 'foo'", "illegal port number 99999 > 65535"): that token, the
 * longest such. -1 when neither says anything.
 */
static long error_column(pcap_t *p, const char *expr, const char *why, bool *syntax)
{
	size_t best = 0, n = strlen(expr), tok_len = 0;
	long col = -1;
	int probes = 0;

	*syntax = strstr(why, "syntax error") != NULL;
	if (*syntax) {
		for (size_t i = 1; i <= n && probes < MAX_PROBES; i++) {
			if (!token_end(expr, i))
				continue;
			probes++;
			if (compiles(p, expr, i))
				best = i;
		}
		while (expr[best] == ' ' || expr[best] == '\t')
			best++;
		return best;
	}
	for (size_t i = 0; i < n;) {
		size_t len = strcspn(expr + i, " \t()");
		char tok[256];

		if (len >= 2 && len > tok_len && len < sizeof(tok)) {
			memcpy(tok, expr + i, len);
			tok[len] = '\0';
			if (names(why, tok)) {
				col = i;
				tok_len = len;
			}
		}
		i += len ? len : 1;
	}
	return col;
}

static void error_message(pcap_t *p, const char *expr, int dlt, char *err, size_t errlen)
{
	char why[PCAP_ERRBUF_SIZE + 64];
	bool syntax;
	long col;
	int n;

	snprintf(why, sizeof(why), "%s", pcap_geterr(p));
	col = error_column(p, expr, why, &syntax);
	n = snprintf(err, errlen, "Couldn't compile --filter '%s'%s%s: %s", expr,
		     dlt == PCAP_FILTER_ETHERNET ? "" : " for link type ",
		     dlt == PCAP_FILTER_ETHERNET ? "" : pcap_filter_dlt_name(dlt), why);
	if (col < 0 || n < 0 || (size_t)n >= errlen)
		return;
	n += snprintf(err + n, errlen - n, "\n  %s\n  ", expr);
	for (long i = 0; (size_t)n + 2 < errlen && i < col; i++)
		err[n++] = expr[i] == '\t' ? '\t' : ' ';
	if ((size_t)n + 1 < errlen)
		snprintf(err + n, errlen - n, "^%s", syntax ? " libpcap accepts what comes before" :
							     "");
}

int pcap_filter_compile(struct pcap_filter *f, const char *expr, int dlt, char *err,
			size_t errlen)
{
	pcap_t *p = pcap_open_dead(dlt, SNAPLEN);
	struct bpf_program prog;
	int ret = -1;

	memset(f, 0, sizeof(*f));
	if (!p) {
		snprintf(err, errlen, "Couldn't compile --filter: no libpcap handle for link type %d",
			 dlt);
		return -1;
	}
	if (pcap_compile(p, &prog, expr, 1, PCAP_NETMASK_UNKNOWN)) {
		error_message(p, expr, dlt, err, errlen);
		goto out;
	}
	f->expr = strdup(expr);
	f->insns = calloc(prog.bf_len ? prog.bf_len : 1, sizeof(*f->insns));
	if (!f->expr || !f->insns) {
		snprintf(err, errlen, "Couldn't compile --filter: %s", strerror(ENOMEM));
		pcap_freecode(&prog);
		pcap_filter_free(f);
		goto out;
	}
	memcpy(f->insns, prog.bf_insns, prog.bf_len * sizeof(*f->insns));
	f->len = prog.bf_len;
	f->dlt = dlt;
	pcap_freecode(&prog);
	ret = 0;
out:
	pcap_close(p);
	return ret;
}

uint32_t pcap_filter_run(const struct pcap_filter *f, const uint8_t *data, uint32_t caplen,
			 uint32_t wire_len)
{
	struct bpf_program prog = { .bf_len = f->len, .bf_insns = (struct bpf_insn *)f->insns };
	struct pcap_pkthdr h = { .caplen = caplen, .len = wire_len };

	return pcap_offline_filter(&prog, &h, data);
}

bool pcap_filter_match(const struct pcap_filter *f, const uint8_t *data, uint32_t caplen,
		       uint32_t wire_len)
{
	return pcap_filter_run(f, data, caplen, wire_len) != 0;
}

void pcap_filter_free(struct pcap_filter *f)
{
	free(f->expr);
	free(f->insns);
	memset(f, 0, sizeof(*f));
}

const char *pcap_filter_dlt_name(int dlt)
{
	const char *name = pcap_datalink_val_to_name(dlt);

	return name ? name : "unknown";
}
