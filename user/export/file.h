/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* File export (--output): CSV, JSON lines or length-delimited protobuf. */
#ifndef NFXDP_EXPORT_FILE_H
#define NFXDP_EXPORT_FILE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "export/exporter.h"
#include "record/format.h"
#include "record/record.h"

struct file_exporter {
	struct exporter base;
	FILE *f;
	int fd;		  /* under f (a gzip stream's too): its size on disk */
	char path[4096];
	enum out_format format;
	struct format_columns cols;
	bool compress, append; /* how f was opened: a rotated file is opened alike */
	bool header_done;
	bool failed;	  /* the last write failed: reported once, until one succeeds */
	bool rewindable; /* a plain regular file: a failed write can be cut off */
	long good_end;	  /* where the last whole batch ends */
	uint64_t batches_written;
	uint64_t batches_dropped;
	uint64_t records_written, records_dropped;
	uint64_t rotate_size;	  /* rename to PATH.1 at this size; 0: never */
	bool rotate_failed;	  /* reported once, until a rotation succeeds */
	uint64_t rotations;
	uint64_t reopens;	  /* SIGHUP */
};

/*
 * @compress: a gzip file (the formats are unchanged inside). @append: add
 * to an existing file (--persist: a restarted collector continues it).
 */
int file_exporter_open(struct file_exporter *fx, const char *path, enum out_format format,
		       bool compress, bool append, const struct record_features *feat);
/*
 * Once a batch leaves the file at @size bytes or more, it becomes PATH.1
 * and a new PATH starts. Only for a regular file: -EINVAL after a message.
 */
int file_exporter_rotate_at(struct file_exporter *fx, uint64_t size);
int file_exporter_write(struct file_exporter *fx, const Nfxdp__FlowBatch *b,
			const uint8_t *packed, size_t len);
/* The end-of-stream batch, in a pb file only (see file.c); 0 or -EIO. */
int file_exporter_end(struct file_exporter *fx, const uint8_t *packed, size_t len);
/* SIGHUP: a new stream at the same path (see file.c); 0, or -errno keeping the old one. */
int file_exporter_reopen(struct file_exporter *fx);
int file_exporter_close(struct file_exporter *fx);

struct file_opts {
	const char *path;	/* "-": standard output */
	enum out_format format;
	bool compress;		/* gzip */
	bool append;		/* continue an existing file (a resumed collector) */
	uint64_t rotate_size;	/* bytes; 0: never */
	struct record_features feat;
};

/* The file sink behind the exporter interface; NULL (and *err) after a message. */
struct exporter *file_exporter_new(const struct file_opts *o, int *err);

#endif /* NFXDP_EXPORT_FILE_H */
