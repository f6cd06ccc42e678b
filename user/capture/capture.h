/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Reading capture files: classic pcap read in place from a memory map (the
 * fast path: no copy, no system call per frame), pcapng and anything else
 * through libpcap.
 */
#ifndef NFXDP_CAPTURE_CAPTURE_H
#define NFXDP_CAPTURE_CAPTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct capture {
	const char *path;
	int dlt;		/* link type, as DLT_ values */
	const uint8_t *map;	/* classic pcap: the file */
	size_t size;
	size_t off;
	bool swapped;		/* written on a host of the other byte order */
	bool nano;		/* nanosecond timestamps */
	void *pcap;		/* otherwise: a pcap_t */
	uint64_t frames;
};

struct capture_frame {
	uint64_t ts_ns;
	uint32_t caplen;
	uint32_t len;
	const uint8_t *data;
};

/* Opens @path; 0, or -errno after a message naming the file. */
int capture_open(struct capture *c, const char *path);
/* The next frame: 1, 0 at the end, -1 when the file is damaged (message given). */
int capture_next(struct capture *c, struct capture_frame *f);
/* Bytes of the file read so far (for progress). */
uint64_t capture_position(const struct capture *c);
void capture_close(struct capture *c);

/*
 * At most how many frames of the capture opened in @c can be metered,
 * before reading any: counted in a classic pcap file of up to 64 MB;
 * otherwise from the file's size, as each takes a record header (16 bytes
 * in pcap, more in pcapng) and 28 captured bytes or more. Stops at @limit.
 */
uint64_t capture_frames_bound(const struct capture *c, uint64_t limit);

#endif /* NFXDP_CAPTURE_CAPTURE_H */
