// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The capture reader (user/capture.c) on arbitrary files: the input is
 * written to a memfd and opened by path, as nfxdp --pcap opens a file, so
 * classic pcap goes through nfxdp's own reader and anything else through
 * libpcap. What replay does with a capture, in its order: open, bound the
 * frames (to size the flow cache), read every frame and turn it into the
 * Ethernet frame the meter parses (user/linktype.c), close.
 *
 * Checked: every frame lies within the bytes read (or libpcap's buffer:
 * each byte is read, so AddressSanitizer sees an overrun), the count of
 * frames long enough to be metered never passes the bound computed before
 * reading, conversion never writes past its buffer or claims more than it
 * wrote.
 */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "capture/capture.h"
#include "flow.h"
#include "fuzz.h"
#include "capture/linktype.h"
#include "common/log.h"

/* Frames read per input at most: a capture of tiny records still ends quickly. */
#define FRAMES_MAX 100000

static int memfd = -1;
static char path[64];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	memfd = memfd_create("nfxdp-fuzz-capture", MFD_CLOEXEC);
	if (memfd < 0) {
		fprintf(stderr, "fuzz_capture: memfd_create: %s\n", strerror(errno));
		exit(1);
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", memfd);
	log_set_level(LOG_QUIET);
	return 0;
}

static int write_input(const uint8_t *data, size_t size)
{
	size_t done = 0;

	if (ftruncate(memfd, 0))
		return -1;
	while (done < size) {
		ssize_t n = pwrite(memfd, data + done, size - done, done);

		if (n <= 0)
			return -1;
		done += n;
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* The replay slot: the window the meter reads and its slack, written by conversion. */
	static uint8_t out[PARSE_WINDOW + 64];
	struct capture c;
	struct capture_frame f;
	uint64_t bound, frames = 0, meterable = 0, sum = 0;
	int r;

	if (write_input(data, size))
		return 0;
	if (capture_open(&c, path))
		return 0;
	bound = capture_frames_bound(&c, FRAMES_MAX);
	while (frames < FRAMES_MAX && (r = capture_next(&c, &f)) == 1) {
		size_t written = 0;
		long eth;

		frames++;
		meterable += f.caplen >= 28;
		if (c.classic)
			FUZZ_CHECK(f.data >= c.buf && f.data <= c.buf + c.end &&
					   f.caplen <= (size_t)(c.buf + c.end - f.data),
				   "frame %llu: %u bytes at offset %td of a %zu-byte buffer",
				   (unsigned long long)frames, f.caplen, f.data - c.buf, c.end);
		for (uint32_t i = 0; i < f.caplen; i++)
			sum += f.data[i];
		FUZZ_CHECK(capture_position(&c) <= size, "position past the end");
		if (!linktype_supported(c.dlt))
			continue;
		memset(out, 0xa5, sizeof(out));
		eth = linktype_to_ethernet(c.dlt, f.data, f.caplen, out, PARSE_WINDOW, &written);
		FUZZ_CHECK(written <= PARSE_WINDOW, "wrote %zu bytes into %d", written,
			   PARSE_WINDOW);
		FUZZ_CHECK(out[PARSE_WINDOW] == 0xa5, "wrote past the window");
		FUZZ_CHECK(eth < 0 || (size_t)eth >= written, "claims %ld bytes, wrote %zu", eth,
			   written);
	}
	/*
	 * The bound sizes the flow cache: it bounds the frames long enough to
	 * be metered, from the file's size.
	 */
	if (frames < FRAMES_MAX)
		FUZZ_CHECK(meterable <= bound,
			   "read %llu frames of 28 bytes or more, bound said %llu",
			   (unsigned long long)meterable, (unsigned long long)bound);
	capture_close(&c);
	/* Keep the reads. */
	__asm__ volatile("" : : "r"(sum));
	return 0;
}
