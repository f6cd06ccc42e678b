// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * pcapcount: libpcap's own answer for --filter's tests. The frames of each
 * capture file that a pcap-filter expression passes, by
 * pcap_offline_filter() with the expression compiled on the file's own
 * handle (its link type), as tcpdump -r and NFStream's bpf_filter do.
 *
 *   pcapcount EXPR FILE...            ->  NAME LINKTYPE FRAMES PASSED
 *   pcapcount -w OUT EXPR FILE        the frames passed, into the pcap OUT
 *   pcapcount -l EXPR FILE            one line per frame: 1 passed, 0 not
 *
 * Exit status 2 when libpcap refuses the expression (its message on stderr).
 */
#include <pcap/pcap.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int count(const char *expr, const char *path, const char *out, int lines)
{
	char err[PCAP_ERRBUF_SIZE];
	struct bpf_program prog;
	struct pcap_pkthdr *h;
	pcap_dumper_t *dump = NULL;
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
		pcap_close(p);
		return 2;
	}
	if (out && !(dump = pcap_dump_open(p, out))) {
		fprintf(stderr, "pcapcount: %s: %s\n", out, pcap_geterr(p));
		pcap_close(p);
		return 1;
	}
	while ((r = pcap_next_ex(p, &h, &d)) == 1) {
		int pass = pcap_offline_filter(&prog, h, d) != 0;

		n++;
		passed += pass;
		if (lines)
			printf("%d\n", pass);
		if (pass && dump)
			pcap_dump((u_char *)dump, h, d);
	}
	if (!lines)
		printf("%s %d %lu %lu\n", name ? name + 1 : path, pcap_datalink(p), n, passed);
	if (dump)
		pcap_dump_close(dump);
	pcap_freecode(&prog);
	pcap_close(p);
	return r == -2 ? 0 : 1;
}

int main(int argc, char **argv)
{
	const char *out = NULL;
	int lines = 0, c, ret = 0;

	while ((c = getopt(argc, argv, "w:l")) != -1) {
		if (c == 'w')
			out = optarg;
		else if (c == 'l')
			lines = 1;
		else
			return 1;
	}
	if (argc - optind < 2 || (out && argc - optind != 2)) {
		fprintf(stderr, "usage: pcapcount [-w OUT | -l] EXPR FILE...\n");
		return 1;
	}
	for (int i = optind + 1; i < argc && ret != 2; i++) {
		int r = count(argv[optind], argv[i], out, lines);

		if (r > ret)
			ret = r;
	}
	return ret;
}
