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

#include "flowpb.h"
#include "log.h"
#include "spool.h"

#define MAX_BATCH (256U << 20)

static double mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static off_t cursor_load(const char *path)
{
	long long off = 0;
	FILE *f;

	if (!path || !(f = fopen(path, "r")))
		return 0;
	if (fscanf(f, "%lld", &off) != 1 || off < 0)
		off = 0;
	fclose(f);
	return off;
}

/* Written aside, then renamed: a consumer killed mid-write keeps the old one. */
static int cursor_save(const char *path, off_t off)
{
	char tmp[4200];
	FILE *f;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "w");
	if (!f || fprintf(f, "%lld\n", (long long)off) < 0 || fclose(f) || rename(tmp, path)) {
		pr_warn("Couldn't save the cursor %s: %s\n", path, strerror(errno));
		return -1;
	}
	return 0;
}

/*
 * One record at the start of @buf: 1 (its size in *used, its batch in *b),
 * 0 when it is not all there yet, -1 when the bytes are not a record.
 */
static int next_record(const uint8_t *buf, size_t avail, size_t *used, Nfxdp__FlowBatch **b)
{
	uint64_t len = 0;
	size_t hdr = varint_decode(buf, avail < 10 ? avail : 10, &len);

	if (!hdr)
		return avail >= 10 ? -1 : 0;
	if (len > MAX_BATCH)
		return -1;
	if (avail - hdr < len)
		return 0;
	*b = nfxdp__flow_batch__unpack(NULL, len, buf + hdr);
	if (!*b)
		return -1;
	*used = hdr + len;
	return 1;
}

struct spool_buf {
	uint8_t *data;
	size_t len;
	size_t cap;
};

/* Appends what the file holds past what was read; false on a read error. */
static bool fill(int fd, struct spool_buf *sb)
{
	for (;;) {
		ssize_t n;

		if (sb->cap - sb->len < 65536) {
			size_t cap = sb->cap ? sb->cap * 2 : 1 << 20;
			uint8_t *p = realloc(sb->data, cap);

			if (!p)
				return false;
			sb->data = p;
			sb->cap = cap;
		}
		n = read(fd, sb->data + sb->len, sb->cap - sb->len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n == 0;
		sb->len += n;
	}
}

/* Hands on every whole batch in @sb; returns 1 to stop, -1 on a bad record. */
static int drain(struct spool_follow *sf, struct spool_buf *sb, off_t *pos)
{
	size_t off = 0, used;
	Nfxdp__FlowBatch *b;
	int r, status = 0;

	while ((r = next_record(sb->data + off, sb->len - off, &used, &b)) > 0) {
		bool more = sf->fn(sf->ctx, b);

		nfxdp__flow_batch__free_unpacked(b, NULL);
		off += used;
		*pos += used;
		/* The batch is out (the callback flushed it), then the cursor moves. */
		if (sf->cursor)
			cursor_save(sf->cursor, *pos);
		if (!more) {
			status = 1;
			break;
		}
	}
	if (r < 0) {
		pr_warn("%s: not a batch at offset %lld\n", sf->path, (long long)*pos);
		status = -1;
	}
	memmove(sb->data, sb->data + off, sb->len - off);
	sb->len -= off;
	return status;
}

/* A collector started without --persist truncates its file: start over. */
static bool truncated(int fd, off_t pos, const struct spool_buf *sb, const char *path)
{
	struct stat st;

	if (fstat(fd, &st) || st.st_size >= pos + (off_t)sb->len)
		return false;
	pr_warn("%s was truncated (a new collector?): reading it from the start\n", path);
	return true;
}

int spool_follow_run(struct spool_follow *sf)
{
	struct spool_buf sb = {};
	off_t pos = cursor_load(sf->cursor);
	int fd = open(sf->path, O_RDONLY | O_CLOEXEC), status = 0;

	if (fd < 0) {
		pr_warn("Couldn't open %s: %s\n", sf->path, strerror(errno));
		return 1;
	}
	sf->resumed = pos > 0;
	if (pos && lseek(fd, pos, SEEK_SET) != pos) {
		pr_warn("Couldn't go to offset %lld of %s: %s\n", (long long)pos, sf->path,
			strerror(errno));
		close(fd);
		return 1;
	}
	while (!*sf->stop) {
		int r;

		if (truncated(fd, pos, &sb, sf->path)) {
			pos = 0;
			sb.len = 0;
			lseek(fd, 0, SEEK_SET);
		}
		if (!fill(fd, &sb)) {
			pr_warn("Couldn't read %s: %s\n", sf->path, strerror(errno));
			status = 1;
			break;
		}
		r = drain(sf, &sb, &pos);
		if (r) {
			status = r < 0 ? 1 : 0;
			break;
		}
		if (sf->deadline && mono_s() >= sf->deadline) {
			status = 3;
			break;
		}
		poll(NULL, 0, 100); /* the writer appends whole batches, at most a few a second */
	}
	free(sb.data);
	close(fd);
	return status;
}
