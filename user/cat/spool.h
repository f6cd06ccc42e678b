/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Following a spool: the length-delimited batch file nfxdp appends to
 * (--output FILE --format pb), read as it grows. With a cursor file, the
 * offset after the last batch handed on is saved after each one, so a
 * consumer that stops or dies starts again where it was: nothing the
 * collector wrote is lost, and at most the batch in hand when a consumer
 * is killed is read twice. With --output-rotate the writer renames the file
 * PATH.1 and starts a new PATH: the reader finishes the old one, then goes
 * on in the new; the cursor names the file by inode, so a consumer away
 * for one rotation resumes in PATH.1 (away for two, it is gone: a warning,
 * and PATH from its start).
 */
#ifndef NFXDP_CAT_SPOOL_H
#define NFXDP_CAT_SPOOL_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "flow.pb-c.h"

/* Returns false to stop following. */
typedef bool (*spool_batch_fn)(void *ctx, const Nfxdp__FlowBatch *b);
/* The same for a batch handed on as its bytes (@len of them, checked by batch_peek()). */
typedef bool (*spool_raw_fn)(void *ctx, const uint8_t *buf, size_t len);

struct spool_follow {
	const char *path;
	const char *cursor;   /* NULL: start at the beginning, save nothing */
	double deadline;      /* CLOCK_MONOTONIC seconds; 0: none */
	volatile sig_atomic_t *stop;
	spool_batch_fn fn;
	spool_raw_fn raw;     /* instead of fn: batches not decoded (nfxdp-cat --format pb) */
	void *ctx;
	bool resumed;	      /* out: started at a saved offset */
};

/* Follows until fn says stop, *stop, or the deadline: 0, 3 at the deadline, 1 on error. */
int spool_follow_run(struct spool_follow *sf);

#endif /* NFXDP_CAT_SPOOL_H */
