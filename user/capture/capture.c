// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define PCAP_DONT_INCLUDE_PCAP_BPF_H
#include <pcap/pcap.h>
#include <pcap/dlt.h>

#include "capture/capture.h"
#include "common/bigarray.h"
#include "common/lazylib.h"
#include "common/log.h"

#define PCAP_MAGIC_US 0xa1b2c3d4
#define PCAP_MAGIC_NS 0xa1b23c4d
#define LINKTYPE_RAW 101

/*
 * Read buffer: small enough to stay in the CPU's cache between read()
 * copying into it and the meter reading it (a 30 MB file took 9 ms of CPU
 * read 128 KiB at a time, 17 ms 1 MiB at a time, 20 to 24 ms memory-mapped
 * on the benchmarks' VM); grown to RECORD_BUF for a record that needs it.
 */
#define READ_BUF (128U << 10)

struct pcap_file_header_ {
	uint32_t magic;
	uint16_t major;
	uint16_t minor;
	int32_t thiszone;
	uint32_t sigfigs;
	uint32_t snaplen;
	uint32_t linktype;
};

struct pcap_record_ {
	uint32_t sec;
	uint32_t frac;
	uint32_t caplen;
	uint32_t len;
};

/* A whole record of the largest captured length. */
#define RECORD_BUF (sizeof(struct pcap_record_) + CAPTURE_MAX_CAPLEN)

static uint32_t host32(const struct capture *c, uint32_t v)
{
	return c->swapped ? __builtin_bswap32(v) : v;
}

/*
 * At least @need bytes not yet handed out in the buffer, unless the file
 * ends first. Returns how many there are; on a read error the capture is
 * damaged (message given).
 */
static size_t fill(struct capture *c, size_t need)
{
	if (c->end - c->start >= need || c->damaged)
		return c->end - c->start;
	if (need > c->cap) {
		/*
		 * A small file grew, or a record is larger than the buffer: a
		 * larger one, if the file holds that much.
		 */
		size_t cap = need > READ_BUF ? RECORD_BUF : READ_BUF;
		uint64_t more = need - (c->end - c->start);
		struct stat st;
		uint8_t *b;

		if (c->regular && !fstat(c->fd, &st) && c->read + more > (uint64_t)st.st_size)
			return c->end - c->start;
		b = bigarray_grow(c->buf, &c->cap, cap);
		if (!b) {
			pr_warn("Couldn't read capture %s: %s\n", c->path, strerror(ENOMEM));
			c->damaged = true;
			return c->end - c->start;
		}
		c->buf = b;
	}
	memmove(c->buf, c->buf + c->start, c->end - c->start);
	c->end -= c->start;
	c->start = 0;
	while (c->end < need) {
		ssize_t n = read(c->fd, c->buf + c->end, c->cap - c->end);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			pr_warn("Couldn't read capture %s: %s (the frames before are metered)\n",
				c->path, strerror(errno));
			c->damaged = true;
		}
		if (n <= 0)
			break;
		c->end += n;
		c->read += n;
	}
	return c->end;
}

/* libpcap reads through a FILE that first gives back what telling the format read. */
static ssize_t cookie_read(void *cookie, char *out, size_t len)
{
	struct capture *c = cookie;
	ssize_t n;

	if (c->start < c->end) {
		n = len < c->end - c->start ? len : c->end - c->start;
		memcpy(out, c->buf + c->start, n);
		c->start += n;
		return n;
	}
	do
		n = read(c->fd, out, len);
	while (n < 0 && errno == EINTR);
	if (n > 0)
		c->read += n;
	return n;
}

static int cookie_close(void *cookie)
{
	return 0; /* the descriptor is capture_close()'s */
}

static int open_libpcap(struct capture *c)
{
	cookie_io_functions_t io = { .read = cookie_read, .close = cookie_close };
	char err[PCAP_ERRBUF_SIZE];

	if (lazylib_load(&lazy_pcap, "capture files other than classic pcap"))
		return -ENOENT;
	c->in = fopencookie(c, "r", io);
	if (!c->in) {
		pr_warn("Couldn't open capture %s: %s\n", c->path, strerror(errno));
		return -ENOMEM;
	}
	/* On success the pcap_t owns the FILE. */
	c->pcap = pcap_fopen_offline_with_tstamp_precision(c->in, PCAP_TSTAMP_PRECISION_NANO, err);
	if (!c->pcap) {
		fclose(c->in);
		c->in = NULL;
		pr_warn("Couldn't open capture %s: %s\n", c->path, err);
		return -EINVAL;
	}
	c->dlt = pcap_datalink(c->pcap);
	return 0;
}

/* True (and the file header read) when the capture is classic pcap. */
static bool open_classic(struct capture *c)
{
	struct pcap_file_header_ h;
	uint32_t magic;

	if (fill(c, sizeof(h)) < sizeof(h))
		return false;
	memcpy(&h, c->buf + c->start, sizeof(h));
	magic = h.magic;
	c->swapped = magic == __builtin_bswap32(PCAP_MAGIC_US) ||
		     magic == __builtin_bswap32(PCAP_MAGIC_NS);
	magic = host32(c, magic);
	if (magic != PCAP_MAGIC_US && magic != PCAP_MAGIC_NS)
		return false;
	c->classic = true;
	c->start += sizeof(h);
	c->nano = magic == PCAP_MAGIC_NS;
	c->dlt = host32(c, h.linktype) & 0x03ffffff; /* upper bits: FCS length */
	if (c->dlt == LINKTYPE_RAW)
		c->dlt = DLT_RAW;
	return true;
}

int capture_open(struct capture *c, const char *path)
{
	struct stat st;
	int err;

	memset(c, 0, sizeof(*c));
	c->path = path;
	if (!strcmp(path, "-"))
		c->fd = fcntl(STDIN_FILENO, F_DUPFD_CLOEXEC, 3);
	else
		c->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (c->fd < 0) {
		err = -errno;
		pr_warn("Couldn't open capture %s: %s\n", path, strerror(-err));
		return err;
	}
	if (!fstat(c->fd, &st) && S_ISREG(st.st_mode)) {
		c->regular = true;
		c->size = st.st_size;
	}
	/*
	 * A small file needs no more than its size (the fuzzer opens many). In
	 * a huge page (common/bigarray.h): from malloc(), the first read into
	 * a new buffer took a page fault every 4 KiB, 32 of them.
	 */
	c->buf = bigarray_grow(NULL, &c->cap, c->regular && c->size < READ_BUF ?
					      (c->size > 64 ? c->size : 64) : READ_BUF);
	if (!c->buf) {
		pr_warn("Couldn't open capture %s: %s\n", path, strerror(ENOMEM));
		capture_close(c);
		return -ENOMEM;
	}
	if (open_classic(c))
		return 0;
	if (c->damaged) {
		capture_close(c);
		return -EIO;
	}
	err = open_libpcap(c);
	if (err)
		capture_close(c);
	return err;
}

/* The end of the file: 0 where it should be, else -1 (a regular file shrank). */
static int at_end(struct capture *c)
{
	if (!c->regular || c->read >= c->size)
		return 0;
	pr_warn("%s shrank while it was read (%llu of its %llu bytes read): the frames before "
		"are metered\n", c->path, (unsigned long long)c->read, (unsigned long long)c->size);
	c->damaged = true;
	return -1;
}

static int cut_short(struct capture *c)
{
	if (c->damaged)
		return -1;
	if (c->regular && c->read < c->size)
		return at_end(c);
	pr_warn("%s: the file ends in the middle of frame %llu (the frames before it are metered)\n",
		c->path, (unsigned long long)c->frames + 1);
	c->damaged = true;
	return -1;
}

static int next_classic(struct capture *c, struct capture_frame *f)
{
	struct pcap_record_ r;
	size_t have = fill(c, sizeof(r));

	if (!have)
		return c->damaged ? -1 : at_end(c);
	if (have < sizeof(r))
		return cut_short(c);
	memcpy(&r, c->buf + c->start, sizeof(r));
	f->caplen = host32(c, r.caplen);
	f->len = host32(c, r.len);
	if (f->caplen > CAPTURE_MAX_CAPLEN) {
		pr_warn("%s: frame %llu claims %u captured bytes, more than any capture holds "
			"(%u): the file is damaged (the frames before it are metered)\n", c->path,
			(unsigned long long)c->frames + 1, f->caplen, CAPTURE_MAX_CAPLEN);
		c->damaged = true;
		return -1;
	}
	if (fill(c, sizeof(r) + f->caplen) < sizeof(r) + f->caplen)
		return cut_short(c);
	f->ts_ns = (uint64_t)host32(c, r.sec) * 1000000000ULL +
		   (uint64_t)host32(c, r.frac) * (c->nano ? 1 : 1000);
	f->data = c->buf + c->start + sizeof(r);
	c->start += sizeof(r) + f->caplen;
	return 1;
}

static int next_libpcap(struct capture *c, struct capture_frame *f)
{
	struct pcap_pkthdr *h;
	const u_char *data;
	int r = pcap_next_ex(c->pcap, &h, &data);

	if (r == 1) {
		f->ts_ns = (uint64_t)h->ts.tv_sec * 1000000000ULL + h->ts.tv_usec;
		f->caplen = h->caplen;
		f->len = h->len;
		f->data = data;
		return 1;
	}
	if (r == PCAP_ERROR) {
		pr_warn("%s: %s (the frames before it are metered)\n", c->path,
			pcap_geterr(c->pcap));
		c->damaged = true;
		return -1;
	}
	return 0;
}

int capture_next(struct capture *c, struct capture_frame *f)
{
	int r = c->classic ? next_classic(c, f) : next_libpcap(c, f);

	c->frames += r == 1;
	return r;
}

uint64_t capture_position(const struct capture *c)
{
	return c->classic ? c->read - (c->end - c->start) : c->read;
}

void capture_close(struct capture *c)
{
	if (c->pcap)
		pcap_close(c->pcap); /* and the FILE under it */
	if (c->fd > 0)
		close(c->fd);
	bigarray_free(c->buf, c->cap);
	memset(c, 0, sizeof(*c));
	c->fd = -1;
}

uint64_t capture_frames_bound(const struct capture *c, uint64_t limit)
{
	uint64_t n;

	if (!c->regular)
		return limit;
	n = c->size / (sizeof(struct pcap_record_) + 28);
	return n < limit ? n : limit;
}
