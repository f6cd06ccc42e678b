// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define PCAP_DONT_INCLUDE_PCAP_BPF_H
#include <pcap/pcap.h>
#include <pcap/dlt.h>

#include "capture/capture.h"
#include "common/log.h"

#define PCAP_MAGIC_US 0xa1b2c3d4
#define PCAP_MAGIC_NS 0xa1b23c4d
#define LINKTYPE_RAW 101

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

static uint32_t host32(const struct capture *c, uint32_t v)
{
	return c->swapped ? __builtin_bswap32(v) : v;
}

/* A classic pcap file, mapped; 1 when it is not one (try libpcap), else 0 or -errno. */
static int open_mapped(struct capture *c, const char *path)
{
	struct pcap_file_header_ h;
	struct stat st;
	uint32_t magic;
	void *map;
	int fd, err;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		err = -errno;
		pr_warn("Couldn't open capture %s: %s\n", path, strerror(-err));
		return err;
	}
	if (fstat(fd, &st) || !S_ISREG(st.st_mode) || (size_t)st.st_size < sizeof(h) ||
	    pread(fd, &h, sizeof(h), 0) != sizeof(h)) {
		close(fd);
		return 1;
	}
	magic = h.magic;
	c->swapped = magic == __builtin_bswap32(PCAP_MAGIC_US) ||
		     magic == __builtin_bswap32(PCAP_MAGIC_NS);
	magic = host32(c, magic);
	if (magic != PCAP_MAGIC_US && magic != PCAP_MAGIC_NS) {
		close(fd);
		return 1;
	}
	map = mmap(NULL, st.st_size, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
	err = map == MAP_FAILED ? -errno : 0;
	close(fd);
	if (err)
		return 1;
	madvise(map, st.st_size, MADV_SEQUENTIAL | MADV_WILLNEED);
	c->map = map;
	c->size = st.st_size;
	c->off = sizeof(h);
	c->nano = magic == PCAP_MAGIC_NS;
	c->dlt = host32(c, h.linktype) & 0x03ffffff; /* upper bits: FCS length */
	if (c->dlt == LINKTYPE_RAW)
		c->dlt = DLT_RAW;
	return 0;
}

int capture_open(struct capture *c, const char *path)
{
	char err[PCAP_ERRBUF_SIZE];
	int r;

	memset(c, 0, sizeof(*c));
	c->path = path;
	r = open_mapped(c, path);
	if (r <= 0)
		return r;
	c->pcap = pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_NANO, err);
	if (!c->pcap) {
		pr_warn("Couldn't open capture %s: %s\n", path, err);
		return -EINVAL;
	}
	c->dlt = pcap_datalink(c->pcap);
	return 0;
}

static int next_mapped(struct capture *c, struct capture_frame *f)
{
	const struct pcap_record_ *r;

	if (c->off == c->size)
		return 0;
	if (c->size - c->off < sizeof(*r))
		goto damaged;
	r = (const void *)(c->map + c->off);
	f->caplen = host32(c, r->caplen);
	f->len = host32(c, r->len);
	if (f->caplen > c->size - c->off - sizeof(*r))
		goto damaged;
	f->ts_ns = (uint64_t)host32(c, r->sec) * 1000000000ULL +
		   (uint64_t)host32(c, r->frac) * (c->nano ? 1 : 1000);
	f->data = c->map + c->off + sizeof(*r);
	c->off += sizeof(*r) + f->caplen;
	return 1;
damaged:
	pr_warn("%s: the file ends in the middle of frame %llu (the frames before it are metered)\n",
		c->path, (unsigned long long)c->frames + 1);
	c->off = c->size;
	return -1;
}

int capture_next(struct capture *c, struct capture_frame *f)
{
	struct pcap_pkthdr *h;
	const u_char *data;
	int r;

	if (c->map) {
		r = next_mapped(c, f);
	} else {
		r = pcap_next_ex(c->pcap, &h, &data);
		if (r == 1) {
			f->ts_ns = (uint64_t)h->ts.tv_sec * 1000000000ULL + h->ts.tv_usec;
			f->caplen = h->caplen;
			f->len = h->len;
			f->data = data;
		} else if (r == PCAP_ERROR) {
			pr_warn("%s: %s (the frames before it are metered)\n", c->path,
				pcap_geterr(c->pcap));
			r = -1;
		} else {
			r = 0;
		}
	}
	c->frames += r == 1;
	return r;
}

uint64_t capture_position(const struct capture *c)
{
	FILE *f;
	long pos;

	if (c->map)
		return c->off;
	f = pcap_file(c->pcap);
	pos = f ? ftell(f) : -1;
	return pos > 0 ? pos : 0;
}

void capture_close(struct capture *c)
{
	if (c->map)
		munmap((void *)c->map, c->size);
	if (c->pcap)
		pcap_close(c->pcap);
	memset(c, 0, sizeof(*c));
}

uint64_t capture_frames_bound(const struct capture *c, uint64_t limit)
{
	size_t off = c->off;
	uint64_t n = 0;
	struct stat st;

	if (!c->map || c->size > (64 << 20))
		return stat(c->path, &st) ? 0 : st.st_size / (sizeof(struct pcap_record_) + 28);
	while (c->size - off >= sizeof(struct pcap_record_) && n < limit) {
		const struct pcap_record_ *r = (const void *)(c->map + off);
		uint32_t caplen = host32(c, r->caplen);

		/* A frame the file ends in: next_mapped() stops before it, and so do we. */
		if (caplen > c->size - off - sizeof(*r))
			break;
		off += sizeof(*r) + caplen;
		n++;
	}
	return n;
}
