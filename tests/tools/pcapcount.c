// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * pcapcount: libpcap's own answer for --filter's tests. The frames of each
 * capture file that a pcap-filter expression passes, by
 * pcap_offline_filter() with the expression compiled on the file's own
 * handle (its link type), as tcpdump -r and NFStream's bpf_filter do.
 *
 *   pcapcount EXPR FILE...            ->  NAME LINKTYPE FRAMES PASSED
 *   pcapcount -w OUT EXPR FILE...     the frames passed, into the pcap OUT (the
 *                                     files of OUT's link type, the first's)
 *   pcapcount -s SNAPLEN EXPR FILE... each frame's first SNAPLEN bytes only, as
 *                                     tcpdump -s SNAPLEN captures them
 *
 * A file for whose link type libpcap refuses the expression is listed with
 * "refused" for PASSED (its message on stderr), and the exit status is 2.
 */
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static pcap_dumper_t *dump;
static int dump_dlt = -1;

static int count(const char *expr, const char *path, const char *out, unsigned int snaplen)
{
	char err[PCAP_ERRBUF_SIZE];
	struct bpf_program prog;
	struct pcap_pkthdr *h;
	unsigned long n = 0, passed = 0;
	const u_char *d;
	pcap_t *p = pcap_open_offline(path, err);
	const char *name = strrchr(path, '/');
	int r;

	if (!p) {
		fprintf(stderr, "pcapcount: %s\n", err);
		return 1;
	}
	if (pcap_compile(p, &prog, expr, 1, PCAP_NETMASK_UNKNOWN)) {
		fprintf(stderr, "pcapcount: %s: %s\n", path, pcap_geterr(p));
		printf("%s %d - refused\n", name ? name + 1 : path, pcap_datalink(p));
		pcap_close(p);
		return 2;
	}
	if (out && !dump) {
		dump = pcap_dump_open(p, out);
		dump_dlt = pcap_datalink(p);
		if (!dump) {
			fprintf(stderr, "pcapcount: %s: %s\n", out, pcap_geterr(p));
			pcap_close(p);
			return 1;
		}
	}
	while ((r = pcap_next_ex(p, &h, &d)) == 1) {
		struct pcap_pkthdr cut = *h;
		int pass;

		if (snaplen && cut.caplen > snaplen)
			cut.caplen = snaplen;
		pass = pcap_offline_filter(&prog, &cut, d) != 0;
		n++;
		passed += pass;
		if (pass && dump && pcap_datalink(p) == dump_dlt)
			pcap_dump((u_char *)dump, h, d);
	}
	printf("%s %d %lu %lu\n", name ? name + 1 : path, pcap_datalink(p), n, passed);
	pcap_freecode(&prog);
	pcap_close(p);
	return r == -2 ? 0 : 1;
}

int main(int argc, char **argv)
{
	const char *out = NULL;
	unsigned int snaplen = 0;
	int c, ret = 0;

	while ((c = getopt(argc, argv, "w:s:")) != -1) {
		if (c == 'w')
			out = optarg;
		else if (c == 's')
			snaplen = strtoul(optarg, NULL, 10);
		else
			return 1;
	}
	if (argc - optind < 2) {
		fprintf(stderr, "usage: pcapcount [-w OUT] [-s SNAPLEN] EXPR FILE...\n");
		return 1;
	}
	for (int i = optind + 1; i < argc; i++) {
		int r = count(argv[optind], argv[i], out, snaplen);

		if (r > ret)
			ret = r;
	}
	if (dump)
		pcap_dump_close(dump);
	return ret;
}
