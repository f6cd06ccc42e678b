// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * pcapinfo: one line per capture file, for picking the captures a test can
 * replay: link type, frames, duration, truncated frames, largest frame,
 * largest gap between frames.
 *   pcapinfo FILE...  ->  NAME LINKTYPE FRAMES DURATION_S TRUNCATED MAXLEN MAXGAP_S
 */
#include <pcap/pcap.h>
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
	char err[PCAP_ERRBUF_SIZE];

	for (int i = 1; i < argc; i++) {
		struct pcap_pkthdr *h;
		const u_char *d;
		double first = -1, last = 0, gap = 0;
		unsigned long n = 0, trunc = 0, maxlen = 0;
		pcap_t *p = pcap_open_offline(argv[i], err);
		const char *name = strrchr(argv[i], '/');

		if (!p) {
			fprintf(stderr, "pcapinfo: %s\n", err);
			return 1;
		}
		while (pcap_next_ex(p, &h, &d) == 1) {
			double t = h->ts.tv_sec + h->ts.tv_usec / 1e6;

			if (first < 0)
				first = t;
			else if (t - last > gap)
				gap = t - last;
			last = t;
			n++;
			trunc += h->caplen < h->len;
			if (h->len > maxlen)
				maxlen = h->len;
		}
		printf("%s %d %lu %.3f %lu %lu %.3f\n", name ? name + 1 : argv[i], pcap_datalink(p), n,
		       n ? last - first : 0, trunc, maxlen, gap);
		pcap_close(p);
	}
	return 0;
}
