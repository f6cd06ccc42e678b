/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Reading capture files: classic pcap by our own reader, a buffer filled by
 * read() (a few system calls per megabyte, and a file that shrinks while it
 * is read just ends early: a memory map would take SIGBUS), pcapng and
 * anything else through libpcap. A file is opened once and read in order,
 * so a FIFO or a pipe on stdin ("-") works as well as a regular file.
 */
#ifndef NFXDP_CAPTURE_CAPTURE_H
#define NFXDP_CAPTURE_CAPTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * The largest captured length a record may claim: libpcap's largest
 * snapshot length (MAXIMUM_SNAPLEN) for every link type nfxdp meters.
 */
#define CAPTURE_MAX_CAPLEN 262144

struct capture {
	const char *path;
	int dlt;	  /* link type, as DLT_ values */
	int fd;
	bool classic;	  /* classic pcap, read by us; else libpcap (pcap) */
	bool regular;	  /* a regular file: its size is known */
	bool swapped;	  /* written on a host of the other byte order */
	bool nano;	  /* nanosecond timestamps */
	bool damaged;	  /* it ended early or in the middle of a frame (message given) */
	uint64_t size;	  /* a regular file's size when opened */
	uint8_t *buf;	  /* read and not yet handed out: buf[start, end) */
	size_t cap;
	size_t start;
	size_t end;
	uint64_t read;	  /* bytes read from the file */
	void *pcap;	  /* libpcap: a pcap_t reading through @in */
	void *in;	  /* libpcap: a FILE giving back the bytes read to tell the format */
	uint64_t frames;
};

struct capture_frame {
	uint64_t ts_ns;
	uint32_t caplen;
	uint32_t len;
	const uint8_t *data; /* valid until the next capture_next() */
};

/* Opens @path ("-": standard input); 0, or -errno after a message naming the file. */
int capture_open(struct capture *c, const char *path);
/* The next frame: 1, 0 at the end, -1 when the file is damaged (message given). */
int capture_next(struct capture *c, struct capture_frame *f);
/* Bytes of the file read so far (for progress). */
uint64_t capture_position(const struct capture *c);
void capture_close(struct capture *c);

/*
 * At most how many frames of the capture opened in @c can be metered,
 * before reading any, from the file's size: each takes a record header (16
 * bytes in pcap, more in pcapng) and 28 captured bytes or more (not counted:
 * that read the file twice). @limit when the size is not known (a FIFO, a
 * pipe); stops at @limit.
 */
uint64_t capture_frames_bound(const struct capture *c, uint64_t limit);

#endif /* NFXDP_CAPTURE_CAPTURE_H */
