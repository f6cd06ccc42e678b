// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <errno.h>
#include <inttypes.h>
#include <stdio_ext.h>
#include <stdlib.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zlib.h>

#include "export/file.h"
#include "record/batch.h"
#include "common/log.h"

/*
 * Flow records are not for every user of the machine: a file nfxdp creates
 * is readable by its group (a consumer's), not by others; the umask may
 * take more. A file that exists keeps its mode.
 */
#define FILE_MODE 0640

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

/* A new gzip stream; @append: after what the file holds (gzip members concatenate). */
static FILE *gz_open(const char *path, bool append, int *fdp)
{
	cookie_io_functions_t io = { .write = gz_write, .close = gz_close };
	int flags = O_WRONLY | O_CREAT | O_CLOEXEC | (append ? O_APPEND : O_TRUNC);
	int fd = strcmp(path, "-") ? open(path, flags, FILE_MODE) : dup(STDOUT_FILENO);
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
	*fdp = fd;
	return f;
}

/* @path as --output asks: gzip'd, continued or new; *fd is the file under it. */
static FILE *open_stream(const char *path, bool compress, bool append, int *fd)
{
	int flags = O_WRONLY | O_CREAT | O_CLOEXEC | (append ? O_APPEND : O_TRUNC);
	FILE *f;

	if (compress)
		return gz_open(path, append, fd);
	if (!strcmp(path, "-")) {
		*fd = STDOUT_FILENO;
		return stdout;
	}
	*fd = open(path, flags, FILE_MODE);
	if (*fd < 0)
		return NULL;
	f = fdopen(*fd, append ? "a" : "w");
	if (!f) {
		int err = errno;

		close(*fd);
		errno = err;
	}
	return f;
}

/* @f (on @fd), opened for fx: where it ends, whether a failed write can be cut off. */
static void adopt_stream(struct file_exporter *fx, FILE *f, int fd)
{
	struct stat st;
	bool regular = f != stdout && !fstat(fd, &st) && S_ISREG(st.st_mode);

	fx->f = f;
	fx->fd = fd;
	/* A CSV file continued keeps the header it has (a new or truncated one is empty). */
	if (regular && st.st_size > 0)
		fx->header_done = true;
	fx->rewindable = regular && !fx->compress && !fseek(f, 0, SEEK_END);
	fx->good_end = fx->rewindable ? ftell(f) : 0;
}

int file_exporter_open(struct file_exporter *fx, const char *path, enum out_format format,
		       bool compress, bool append, const struct record_features *feat)
{
	memset(fx, 0, sizeof(*fx));
	snprintf(fx->path, sizeof(fx->path), "%s", path);
	fx->format = format;
	fx->compress = compress;
	fx->append = append;
	format_columns_for(&fx->cols, feat && feat->statistical, feat && feat->splt,
			   feat && feat->dpi);
	fx->f = open_stream(path, compress, append, &fx->fd);
	if (!fx->f) {
		int err = errno;

		pr_warn("Couldn't open output file %s: %s\n", path, strerror(err));
		return -err;
	}
	adopt_stream(fx, fx->f, fx->fd);
	return 0;
}

/*
 * SIGHUP: from now on the file at the path. logrotate has renamed the old
 * one (or copied and truncated it): the new stream goes after what the path
 * holds, or starts a new file. It is opened before the old one is closed, so
 * a failure leaves nfxdp writing where it was.
 */
int file_exporter_reopen(struct file_exporter *fx)
{
	int fd, err;
	FILE *f;

	if (!fx->f || fx->f == stdout)
		return -EINVAL;
	f = open_stream(fx->path, fx->compress, true, &fd);
	if (!f) {
		err = errno;
		pr_warn("Couldn't reopen %s: %s (writing on to the file open before)\n", fx->path,
			strerror(err));
		return -err;
	}
	/* Every batch went out whole (fflush after each): only a gzip stream's end is left. */
	if (fclose(fx->f))
		pr_warn("Couldn't finish writing %s before reopening it: %s\n", fx->path,
			strerror(errno));
	fx->header_done = false;
	adopt_stream(fx, f, fd);
	fx->reopens++;
	return 0;
}

int file_exporter_rotate_at(struct file_exporter *fx, uint64_t size)
{
	struct stat st;

	if (size && (!strcmp(fx->path, "-") || fstat(fx->fd, &st) || !S_ISREG(st.st_mode))) {
		pr_warn("--output-rotate: %s is not a regular file: it cannot be rotated\n",
			fx->path);
		return -EINVAL;
	}
	fx->rotate_size = size;
	return 0;
}

/*
 * PATH becomes PATH.1 and a new PATH takes the next batch. The new file is
 * made before the rename frees the old PATH.1, so it cannot get that inode
 * (a reader's cursor names files by inode), and PATH is never missing.
 */
static int rotate(struct file_exporter *fx)
{
	char old[sizeof(fx->path) + 8], tmp[sizeof(fx->path) + 8];
	int fd, err;
	FILE *f;

	snprintf(old, sizeof(old), "%s.1", fx->path);
	snprintf(tmp, sizeof(tmp), "%s.new", fx->path);
	f = open_stream(tmp, fx->compress, fx->append, &fd);
	if (!f)
		return -errno;
	if (rename(fx->path, old)) {
		err = -errno;
		goto discard;
	}
	if (rename(tmp, fx->path)) {
		err = -errno;
		rename(old, fx->path); /* the older PATH.1 is gone, PATH goes on */
		goto discard;
	}
	/* A gzip stream gets its end here. */
	if (fclose(fx->f))
		pr_warn("Couldn't finish writing %s: %s\n", old, strerror(errno));
	fx->f = f;
	fx->fd = fd;
	fx->header_done = false;
	fx->rewindable = !fx->compress;
	fx->good_end = 0;
	fx->rotations++;
	return 0;
discard:
	fclose(f);
	unlink(tmp);
	return err;
}

/* After a whole batch: the file rotates once it has reached the size. */
static void maybe_rotate(struct file_exporter *fx)
{
	struct stat st;
	int err;

	if (!fx->rotate_size || fstat(fx->fd, &st) || (uint64_t)st.st_size < fx->rotate_size)
		return;
	err = rotate(fx);
	if (err && !fx->rotate_failed)
		pr_warn("Couldn't rotate %s to %s.1: %s (writing on to %s)\n", fx->path, fx->path,
			strerror(-err), fx->path);
	fx->rotate_failed = err != 0;
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
		fx->records_dropped += b->n_flows;
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
		fx->records_dropped += b->n_flows;
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
	fx->records_written += b->n_flows;
	maybe_rotate(fx);
	return 0;
}

/*
 * A pb file ends with the end-of-stream batch, so a reader knows it has the
 * whole stream; the text formats have no place for it. Not a batch of flows:
 * not counted as one, but a failure to write it is a loss.
 */
int file_exporter_end(struct file_exporter *fx, const uint8_t *packed, size_t len)
{
	if (fx->format != FORMAT_PB || (fx->failed && !fx->rewindable))
		return 0;
	errno = 0;
	if (!write_pb(fx, packed, len) && !fflush(fx->f) && !ferror(fx->f))
		return 0;
	pr_warn("Couldn't write the end of the stream to %s: %s\n", fx->path,
		strerror(errno ? errno : EIO));
	fx->failed = true;
	fx->batches_dropped++;
	cut_back(fx);
	return -EIO;
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

/* ---- the exporter interface --------------------------------------------- */

#define FX(x) ((struct file_exporter *)(x))

static int fx_send(struct exporter *x, const struct batch_view *b)
{
	return file_exporter_write(FX(x), b->msg, b->packed, b->len);
}

static bool fx_needs_packed(const struct exporter *x)
{
	return ((const struct file_exporter *)x)->format == FORMAT_PB;
}

static int fx_end(struct exporter *x, const struct batch_view *end, const char *json, size_t len)
{
	return file_exporter_end(FX(x), end->packed, end->len);
}

static void fx_stats(struct exporter *x, struct exporter_stats *st)
{
	st->batches_sent = FX(x)->batches_written;
	st->batches_dropped = FX(x)->batches_dropped;
	st->records_sent = FX(x)->records_written;
	st->records_dropped = FX(x)->records_dropped;
}

static int fx_own_stats(struct exporter *x, struct stat_item *items, int max)
{
	const struct stat_item own[] = {
		{ "file_batches_dropped", FX(x)->batches_dropped },
		{ "file_rotations", FX(x)->rotations },
		{ "file_reopens", FX(x)->reopens },
	};

	return exporter_put_stats(items, max, own, sizeof(own) / sizeof(own[0]));
}

static int fx_close(struct exporter *x, int linger_ms)
{
	int err = file_exporter_close(FX(x));

	if (FX(x)->batches_dropped)
		pr_warn("%" PRIu64 " batch(es) of flows could not be written to %s\n",
			FX(x)->batches_dropped, FX(x)->path);
	free(x);
	return err;
}

static int fx_reopen(struct exporter *x)
{
	return file_exporter_reopen(FX(x));
}

static const struct exporter_ops file_ops = {
	.name = "file",
	.send = fx_send,
	.needs_packed = fx_needs_packed,
	.stats = fx_stats,
	.own_stats = fx_own_stats,
	.reopen = fx_reopen,
	.end = fx_end,
	.close = fx_close,
};

struct exporter *file_exporter_new(const struct file_opts *o, int *err)
{
	struct file_exporter *fx = calloc(1, sizeof(*fx));

	*err = fx ? file_exporter_open(fx, o->path, o->format, o->compress, o->append, &o->feat) :
		    -ENOMEM;
	if (!*err) {
		*err = file_exporter_rotate_at(fx, o->rotate_size);
		if (*err)
			file_exporter_close(fx);
	}
	if (*err) {
		free(fx);
		return NULL;
	}
	fx->base.ops = &file_ops;
	return &fx->base;
}
