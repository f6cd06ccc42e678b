// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <errno.h>
#include <inttypes.h>
#include <stdio_ext.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zlib.h>

#include "export_file.h"
#include "flowpb.h"
#include "log.h"

/* A gzFile behind a FILE *, so every format writes through stdio unchanged. */
static ssize_t gz_write(void *cookie, const char *buf, size_t len)
{
	int n = gzwrite(cookie, buf, len);

	if (n <= 0) {
		errno = EIO;
		return -1;
	}
	return n;
}

static int gz_close(void *cookie)
{
	return gzclose(cookie) == Z_OK ? 0 : EOF;
}

static FILE *gz_open(const char *path)
{
	cookie_io_functions_t io = { .write = gz_write, .close = gz_close };
	int fd = strcmp(path, "-") ? open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644) :
				   dup(STDOUT_FILENO);
	gzFile gz;
	FILE *f;

	if (fd < 0)
		return NULL;
	gz = gzdopen(fd, "wb");
	if (!gz) {
		close(fd);
		errno = ENOMEM;
		return NULL;
	}
	f = fopencookie(gz, "w", io);
	if (!f)
		gzclose(gz);
	return f;
}

int file_exporter_open(struct file_exporter *fx, const char *path, enum out_format format,
		       bool compress, bool append, const struct record_features *feat)
{
	memset(fx, 0, sizeof(*fx));
	snprintf(fx->path, sizeof(fx->path), "%s", path);
	fx->format = format;
	format_columns_for(&fx->cols, feat && feat->statistical, feat && feat->splt);
	if (compress)
		fx->f = gz_open(path);
	else if (!strcmp(path, "-"))
		fx->f = stdout;
	else
		fx->f = fopen(path, append ? "a" : "w");
	/* A CSV file continued keeps the header it has. */
	if (fx->f && append && fx->f != stdout && !fseek(fx->f, 0, SEEK_END))
		fx->header_done = ftell(fx->f) > 0;
	if (fx->f && !compress && fx->f != stdout) {
		struct stat st;

		fx->rewindable = !fstat(fileno(fx->f), &st) && S_ISREG(st.st_mode);
		fx->good_end = fx->rewindable ? ftell(fx->f) : 0;
	}
	if (!fx->f) {
		int err = errno;

		pr_warn("Couldn't open output file %s: %s\n", path, strerror(err));
		return -err;
	}
	return 0;
}

static int write_pb(struct file_exporter *fx, const uint8_t *packed, size_t len)
{
	uint8_t hdr[10];
	size_t n = varint_encode(len, hdr);

	if (fwrite(hdr, 1, n, fx->f) != n || fwrite(packed, 1, len, fx->f) != len)
		return -1;
	return 0;
}

static void write_text(struct file_exporter *fx, const Nfxdp__FlowBatch *b)
{
	if (fx->format == FORMAT_CSV && !fx->header_done) {
		format_csv_header(fx->f, &fx->cols);
		fx->header_done = true;
	}
	for (size_t i = 0; i < b->n_flows; i++) {
		if (fx->format == FORMAT_CSV)
			format_csv_row(fx->f, &fx->cols, b->flows[i]);
		else
			format_json(fx->f, &fx->cols, b->flows[i]);
	}
}

/*
 * Cuts a failed batch off the file (stdio may have written part of it),
 * so the file still ends with a whole batch and the next write can go on.
 */
static void cut_back(struct file_exporter *fx)
{
	if (!fx->rewindable)
		return;
	clearerr(fx->f);
	/* Whatever stdio still buffers is part of the failed batch. */
	__fpurge(fx->f);
	if (ftruncate(fileno(fx->f), fx->good_end) || fseek(fx->f, fx->good_end, SEEK_SET))
		fx->rewindable = false;
	if (fx->good_end == 0 && fx->format == FORMAT_CSV)
		fx->header_done = false;
}

int file_exporter_write(struct file_exporter *fx, const Nfxdp__FlowBatch *b,
			const uint8_t *packed, size_t len)
{
	int err = 0;

	/* A gzip stream, a pipe or a device cannot take back half a batch. */
	if (fx->failed && !fx->rewindable) {
		fx->batches_dropped++;
		return -EIO;
	}
	errno = 0;
	if (fx->format == FORMAT_PB)
		err = write_pb(fx, packed, len);
	else
		write_text(fx, b);
	if (err || fflush(fx->f) || ferror(fx->f)) {
		err = errno ? errno : EIO;
		if (!fx->failed)
			pr_warn("Couldn't write flows to %s: %s (flows are counted as dropped until "
				"a write succeeds)\n", fx->path, strerror(err));
		fx->failed = true;
		fx->batches_dropped++;
		cut_back(fx);
		return -err;
	}
	if (fx->failed)
		pr_warn("Writing flows to %s again; %" PRIu64 " batch(es) were dropped\n", fx->path,
			fx->batches_dropped);
	fx->failed = false;
	if (fx->rewindable)
		fx->good_end = ftell(fx->f);
	fx->batches_written++;
	return 0;
}

int file_exporter_close(struct file_exporter *fx)
{
	int err = 0;

	if (!fx->f)
		return 0;
	if (fx->format == FORMAT_CSV && !fx->header_done && !fx->failed)
		format_csv_header(fx->f, &fx->cols);
	if (fx->f == stdout)
		err = fflush(fx->f);
	else
		err = fclose(fx->f);
	if (err && !fx->failed)
		pr_warn("Couldn't finish writing %s: %s\n", fx->path, strerror(errno));
	fx->f = NULL;
	return err ? -EIO : 0;
}
