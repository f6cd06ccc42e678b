// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/clock.h"
#include "record/batch.h"
#include "common/log.h"
#include "cat/decode.h"
#include "cat/spool.h"

/* What the reader takes from the file at a time: a backlog is not read whole. */
#define READ_CHUNK (1U << 20)

/*
 * Where a consumer is: an offset in the file with inode @ino, so a restart
 * after a rotation finds PATH.1. @ino 0: not known (an older cursor, just
 * "OFFSET"), the offset is in PATH.
 */
struct spool_cursor {
	off_t off;
	ino_t ino;
};

/*
 * The cursor in @path: "OFFSET INODE" (or "OFFSET", an older one). None
 * yet: offset 0. One that cannot be read, or is not a cursor, is refused
 * (message given, -1): starting over from 0 would print everything again.
 */
static int cursor_load(const char *path, struct spool_cursor *c)
{
	unsigned long long ino = 0;
	long long off = -1;
	char text[128];
	int end = 0, fd;
	ssize_t n;

	*c = (struct spool_cursor){};
	if (!path)
		return 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT)
		return 0;
	n = fd < 0 ? -1 : read(fd, text, sizeof(text) - 1);
	if (n < 0) {
		pr_warn("Couldn't read the cursor %s: %s\n", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	close(fd);
	text[n] = '\0';
	if ((sscanf(text, "%lld %llu %n", &off, &ino, &end) == 2 ||
	     sscanf(text, "%lld %n", &off, &end) == 1) && off >= 0 && text[end] == '\0') {
		c->off = off;
		c->ino = ino;
		return 0;
	}
	pr_warn("%s is not a cursor nfxdp-cat wrote (\"OFFSET INODE\"): not starting over from "
		"the beginning, which would print everything again; remove it to do so\n", path);
	return -1;
}

/* Written aside, then renamed: a consumer killed mid-write keeps the old one. 0 or -errno. */
static int cursor_save(const char *path, off_t off, ino_t ino)
{
	char tmp[4200], text[64];
	int fd, len, err = 0;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	len = snprintf(text, sizeof(text), "%lld %llu\n", (long long)off, (unsigned long long)ino);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
	if (fd < 0)
		return -errno;
	if (write(fd, text, len) != len)
		err = errno ? -errno : -EIO;
	if (close(fd) && !err)
		err = -errno;
	if (!err && rename(tmp, path))
		err = -errno;
	if (err)
		unlink(tmp);
	return err;
}

/*
 * One record at the start of @buf: 1 (its size in *used, its batch's bytes
 * in *body and *blen, and the batch decoded in *b unless @b is NULL: then
 * only its top level is checked), 0 when it is not all there yet, -1 when
 * the bytes are not a record.
 */
static int next_record(const uint8_t *buf, size_t avail, size_t *used, const uint8_t **body,
		       size_t *blen, Nfxdp__FlowBatch **b)
{
	uint64_t len = 0;
	size_t hdr = varint_decode(buf, avail < 10 ? avail : 10, &len);
	struct batch_head h;

	if (!hdr)
		return avail >= 10 ? -1 : 0;
	if (len > CAT_MAX_BATCH)
		return -1;
	if (avail - hdr < len)
		return 0;
	if (b ? !(*b = cat_decode(buf + hdr, len)) : batch_peek(buf + hdr, len, &h) != 0)
		return -1;
	*body = buf + hdr;
	*blen = len;
	*used = hdr + len;
	return 1;
}

struct spool_buf {
	uint8_t *data;
	size_t len;
	size_t cap;
};

/*
 * The bytes the reader needs next: a chunk, or the whole of the batch the
 * buffer starts with when that is longer (CAT_MAX_BATCH at most).
 */
static size_t wanted(const struct spool_buf *sb)
{
	uint64_t len = 0;
	size_t hdr = varint_decode(sb->data, sb->len < 10 ? sb->len : 10, &len);

	if (hdr && len <= CAT_MAX_BATCH && hdr + len > READ_CHUNK)
		return hdr + len;
	return READ_CHUNK;
}

/*
 * Reads on from the file until the buffer holds what the reader needs next
 * (or the file ends): a backlog is read a chunk at a time, never whole.
 * Returns the bytes read, -1 on a read error.
 */
static ssize_t fill(int fd, struct spool_buf *sb)
{
	size_t want = wanted(sb);
	ssize_t got = 0;

	if (sb->cap < want) {
		uint8_t *p = realloc(sb->data, want);

		if (!p)
			return -1;
		sb->data = p;
		sb->cap = want;
	}
	while (sb->len < want) {
		ssize_t n = read(fd, sb->data + sb->len, want - sb->len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (!n)
			break;
		sb->len += n;
		got += n;
	}
	return got;
}

/* The file being read: which one, how far, and what is read but not handed on. */
struct spool_in {
	int fd;
	ino_t ino;
	off_t pos; /* after the last batch handed on */
	struct spool_buf sb;
};

/* Hands on every whole batch in @in's buffer; returns 1 to stop, -1 on a bad record. */
static int drain(struct spool_follow *sf, struct spool_in *in)
{
	struct spool_buf *sb = &in->sb;
	size_t off = 0, used, blen;
	Nfxdp__FlowBatch *b = NULL;
	const uint8_t *body;
	int r, status = 0, err;

	while ((r = next_record(sb->data + off, sb->len - off, &used, &body, &blen,
				sf->raw ? NULL : &b)) > 0) {
		bool more = sf->raw ? sf->raw(sf->ctx, body, blen) : sf->fn(sf->ctx, b);

		cat_decoded_free(b);
		b = NULL;
		off += used;
		in->pos += used;
		/* The batch is out (the callback flushed it), then the cursor moves. */
		if (sf->cursor && (err = cursor_save(sf->cursor, in->pos, in->ino))) {
			pr_warn("Couldn't save the cursor %s: %s: stopping, at offset %lld (a "
				"restart would print what follows it again)\n", sf->cursor,
				strerror(-err), (long long)in->pos);
			status = -1;
			break;
		}
		if (!more) {
			status = 1;
			break;
		}
	}
	if (r < 0 && !status) {
		pr_warn("%s: not a batch at offset %lld\n", sf->path, (long long)in->pos);
		status = -1;
	}
	memmove(sb->data, sb->data + off, sb->len - off);
	sb->len -= off;
	return status;
}

/* A collector started without --persist truncates its file: start over. */
static bool truncated(const struct spool_in *in, const char *path)
{
	struct stat st;

	if (fstat(in->fd, &st) || st.st_size >= in->pos + (off_t)in->sb.len)
		return false;
	pr_warn("%s was truncated (a new collector?): reading it from the start\n", path);
	return true;
}

static int open_file(const char *path, ino_t *ino)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;

	if (fd < 0 || fstat(fd, &st)) {
		pr_warn("Couldn't open %s: %s\n", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	*ino = st.st_ino;
	return fd;
}

/* Has the writer renamed PATH to PATH.1 (--output-rotate) since @in was opened? */
static bool rotated(const struct spool_follow *sf, const struct spool_in *in)
{
	struct stat st;

	return !stat(sf->path, &st) && st.st_ino != in->ino;
}

static bool older(const struct timespec *a, const struct timespec *b)
{
	return a->tv_sec < b->tv_sec || (a->tv_sec == b->tv_sec && a->tv_nsec < b->tv_nsec);
}

static void rotated_name(char *buf, size_t size, const char *path)
{
	snprintf(buf, size, "%s.1", path);
}

/*
 * Read to its end, the rotated file gives way to the next: PATH, or PATH.1
 * when the writer rotated twice meanwhile (PATH.1 then is neither this file
 * nor an older one, so it comes next).
 */
static int next_file(struct spool_follow *sf, struct spool_in *in)
{
	char old[4200];
	const char *next = sf->path;
	struct stat cur, st;
	ino_t ino;
	int fd, err;

	if (in->sb.len)
		pr_warn("%s: %zu bytes after the last whole batch of the rotated file, skipped\n",
			sf->path, in->sb.len);
	rotated_name(old, sizeof(old), sf->path);
	if (!fstat(in->fd, &cur) && !stat(old, &st) && st.st_ino != in->ino &&
	    !older(&st.st_mtim, &cur.st_mtim))
		next = old;
	fd = open_file(next, &ino);
	if (fd < 0)
		return -1;
	close(in->fd);
	in->fd = fd;
	in->ino = ino;
	in->pos = 0;
	in->sb.len = 0;
	/* The old file is done: a restart must not look for it, two rotations on. */
	if (sf->cursor && (err = cursor_save(sf->cursor, 0, ino))) {
		pr_warn("Couldn't save the cursor %s: %s: stopping at the start of %s\n",
			sf->cursor, strerror(-err), sf->path);
		return -1;
	}
	return 0;
}

/*
 * Whether @off in @fd starts a batch (or is the end, or a batch still being
 * written): a cursor whose file was rotated away may find its inode number
 * given to a newer file.
 */
static bool batch_at(int fd, off_t off)
{
	uint8_t hdr[10], *buf;
	Nfxdp__FlowBatch *b;
	uint64_t len = 0;
	struct stat st;
	ssize_t n;
	size_t hl;

	if (!off || fstat(fd, &st) || off >= st.st_size)
		return true;
	n = pread(fd, hdr, sizeof(hdr), off);
	hl = n > 0 ? varint_decode(hdr, n, &len) : 0;
	if (!hl || len > CAT_MAX_BATCH)
		return false;
	if (off + (off_t)(hl + len) > st.st_size)
		return true;
	buf = malloc(len ? len : 1);
	if (!buf || pread(fd, buf, len, off + hl) != (ssize_t)len) {
		free(buf);
		return true;
	}
	b = cat_decode(buf, len);
	free(buf);
	cat_decoded_free(b);
	return b != NULL;
}

/*
 * Opens the file the cursor is in: PATH, PATH.1 when it has rotated since,
 * or, when that is gone too, PATH from its start (the sequence numbers then
 * show what was lost).
 */
static int open_start(struct spool_follow *sf, struct spool_in *in)
{
	struct spool_cursor c;
	char old[4200];
	ino_t ino;
	int fd, err;

	if (cursor_load(sf->cursor, &c))
		return -1;
	in->fd = open_file(sf->path, &in->ino);
	if (in->fd < 0)
		return -1;
	if (c.ino && c.ino != in->ino) {
		rotated_name(old, sizeof(old), sf->path);
		fd = access(old, F_OK) ? -1 : open_file(old, &ino);
		if (fd >= 0 && ino == c.ino) {
			close(in->fd);
			in->fd = fd;
			in->ino = ino;
		} else {
			if (fd >= 0)
				close(fd);
			pr_warn("%s: the file the cursor %s is in was rotated away: batches between "
				"lost; starting at the beginning of %s\n", sf->path, sf->cursor, sf->path);
			c = (struct spool_cursor){};
		}
	}
	if (c.off && !batch_at(in->fd, c.off)) {
		pr_warn("%s: no batch at the cursor's offset %lld (its file rotated away, the "
			"inode reused?): starting at the beginning of %s\n", sf->path,
			(long long)c.off, sf->path);
		c = (struct spool_cursor){};
	}
	in->pos = c.off;
	/* Offset 0 of a file named by inode: a rotated file begun, not a new reader. */
	sf->resumed = c.off > 0 || c.ino;
	if (c.off && lseek(in->fd, c.off, SEEK_SET) != c.off) {
		pr_warn("Couldn't go to offset %lld of %s: %s\n", (long long)c.off, sf->path,
			strerror(errno));
		close(in->fd);
		return -1;
	}
	/* A cursor that cannot be saved would have a restart print everything again. */
	if (sf->cursor && (err = cursor_save(sf->cursor, c.off, in->ino))) {
		pr_warn("Couldn't save the cursor %s: %s: not following without it (a restart "
			"would print everything again)\n", sf->cursor, strerror(-err));
		close(in->fd);
		return -1;
	}
	return 0;
}

int spool_follow_run(struct spool_follow *sf)
{
	struct spool_in in = {};
	int status = 0;

	if (open_start(sf, &in))
		return 1;
	while (!*sf->stop) {
		ssize_t got;
		bool rot;
		int r;

		if (truncated(&in, sf->path)) {
			in.pos = 0;
			in.sb.len = 0;
			lseek(in.fd, 0, SEEK_SET);
		}
		/* Seen before reading: the writer has finished with the old file by then. */
		rot = rotated(sf, &in);
		got = fill(in.fd, &in.sb);
		if (got < 0) {
			pr_warn("Couldn't read %s: %s\n", sf->path, strerror(errno));
			status = 1;
			break;
		}
		r = drain(sf, &in);
		if (r) {
			status = r < 0 ? 1 : 0;
			break;
		}
		/* More may be there already (a backlog, a rotated file's end): read on. */
		if (got > 0)
			continue;
		if (rot) {
			if (next_file(sf, &in)) {
				status = 1;
				break;
			}
			continue;
		}
		if (sf->deadline && clock_secs(CLOCK_MONOTONIC) >= sf->deadline) {
			status = 3;
			break;
		}
		poll(NULL, 0, 100); /* the writer appends whole batches, at most a few a second */
	}
	free(in.sb.data);
	close(in.fd);
	return status;
}
