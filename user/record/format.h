/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Text formats of flow records (CSV, JSON lines), generated from the
 * protobuf schema so a field added to proto/flow.proto shows up in every
 * format with its NFStream name and in its column order.
 */
#ifndef NFXDP_RECORD_FORMAT_H
#define NFXDP_RECORD_FORMAT_H

#include <stdbool.h>
#include <stdio.h>

#include "flow.pb-c.h"

#define FORMAT_MAX_FIELDS 256

/* How records are written to a file or printed. */
enum out_format {
	FORMAT_CSV,
	FORMAT_JSONL,
	FORMAT_PB, /* length-delimited FlowBatch messages */
};

/* The columns to print, in order. */
struct format_columns {
	const ProtobufCFieldDescriptor *f[FORMAT_MAX_FIELDS];
	int n;
};

/* Every field of the Flow message, in field-number order. */
void format_columns_all(struct format_columns *cols);
/* The fields flows carry with these features (--statistical, --splt N, --dpi N), in order. */
void format_columns_for(struct format_columns *cols, bool statistical, bool splt, bool dpi);

void format_csv_header(FILE *out, const struct format_columns *cols);
void format_csv_row(FILE *out, const struct format_columns *cols, const Nfxdp__Flow *f);
void format_json(FILE *out, const struct format_columns *cols, const Nfxdp__Flow *f);

/* One line a person reads: id, expiry, endpoints, protocol, totals, duration. */
void format_brief(FILE *out, const Nfxdp__Flow *f);

/*
 * @s with what a terminal or a line-based reader would act on escaped as
 * \xHH (C0 and C1 controls, DEL, bytes that are not UTF-8) and \ as \\:
 * @s itself when there is none, else a copy in *@heap, which the caller
 * frees (*@heap is NULL otherwise).
 */
const char *format_escaped(const char *s, char **heap);

/* Value of the field called @name in @f as text (for tests and tools); -1 when unknown. */
int format_field(char *buf, size_t len, const Nfxdp__Flow *f, const char *name);

#endif /* NFXDP_RECORD_FORMAT_H */
