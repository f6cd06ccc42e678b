// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Sends the flows of an nfxdp pb file (nfxdp --format pb --output FILE:
 * varint length, FlowBatch, repeated) to an IPFIX collector through the
 * IPFIX exporter, then prints the exporter's counters on stdout.
 *
 *   ipfix_send [--tcp] [--statistical] [--domain N] [--max-msg BYTES] [--refresh-s S]
 *              [--refresh-msgs N] [--pace-ms MS] [--linger-ms MS] [--reconnect-ms MS]
 *              [--accounting link|ip|transport|payload] [--uniflow]
 *              FILE [udp://|tcp://]HOST:PORT
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "export/ipfix.h"
#include "record/batch.h"
#include "common/log.h"
#include "pbfile.h"

struct send_args {
	struct ipfix_opts o;
	bool tcp;
	int pace_ms; /* pause between batches: a UDP collector's socket buffer is finite */
	int linger_ms;
	const char *file;
	const char *collector;
};

static void pause_ms(int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	if (ms > 0)
		nanosleep(&ts, NULL);
}

/* Every batch of the file through the exporter; returns batches sent, -1 if bad. */
static long send_batches(struct ipfix_exporter *x, const uint8_t *p, size_t len, int pace_ms)
{
	const uint8_t *rec;
	long batches = 0;
	uint64_t n;
	int r;

	while ((r = pbfile_next(&p, &len, &rec, &n)) > 0) {
		Nfxdp__FlowBatch *b = nfxdp__flow_batch__unpack(NULL, n, rec);

		if (!b)
			break;
		ipfix_exporter_send(x, b);
		nfxdp__flow_batch__free_unpacked(b, NULL);
		batches++;
		pause_ms(pace_ms);
	}
	if (r) {
		pr_warn("Couldn't decode batch %ld: truncated or not a FlowBatch\n", batches);
		return -1;
	}
	return batches;
}

static int parse_args(struct send_args *a, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "tcp", no_argument, NULL, 't' },	   { "domain", required_argument, NULL, 'd' },
		{ "max-msg", required_argument, NULL, 'm' }, { "refresh-s", required_argument, NULL, 's' },
		{ "refresh-msgs", required_argument, NULL, 'n' },
		{ "pace-ms", required_argument, NULL, 'p' }, { "linger-ms", required_argument, NULL, 'l' },
		{ "reconnect-ms", required_argument, NULL, 'r' },
		{ "statistical", no_argument, NULL, 'S' },
		{ "accounting", required_argument, NULL, 'a' },
		{ "uniflow", no_argument, NULL, 'u' }, {}
	};
	int c;

	ipfix_opts_default(&a->o);
	a->pace_ms = 2;
	a->linger_ms = 2000;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 't': a->tcp = true; break;
		case 'S': a->o.statistical = true; break;
		case 'u': a->o.uniflow = true; break;
		case 'a':
			a->o.accounting = !strcmp(optarg, "ip") ? 1 : !strcmp(optarg, "transport") ? 2 :
					  !strcmp(optarg, "payload") ? 3 : 0;
			break;
		case 'd': a->o.domain_id = strtoul(optarg, NULL, 0); break;
		case 'm': a->o.max_msg = strtoul(optarg, NULL, 0); break;
		case 's': a->o.template_refresh_s = strtoul(optarg, NULL, 0); break;
		case 'n': a->o.template_refresh_msgs = strtoul(optarg, NULL, 0); break;
		case 'p': a->pace_ms = atoi(optarg); break;
		case 'l': a->linger_ms = atoi(optarg); break;
		case 'r': a->o.reconnect_ms = strtoul(optarg, NULL, 0); break;
		default: return -1;
		}
	}
	if (argc - optind != 2)
		return -1;
	a->file = argv[optind];
	a->collector = argv[optind + 1];
	return 0;
}

int main(int argc, char **argv)
{
	struct ipfix_exporter x;
	struct send_args a = {};
	const char *host_port;
	bool tcp;
	uint8_t *buf;
	size_t len;
	long batches;

	log_set_prog("ipfix_send");
	if (parse_args(&a, argc, argv)) {
		fprintf(stderr, "usage: ipfix_send [--tcp] [--statistical] [--domain N] [--max-msg BYTES] "
				"[--refresh-s S] [--refresh-msgs N] [--pace-ms MS] [--linger-ms MS] "
				"[--reconnect-ms MS] [--accounting link|ip|transport|payload] "
				"[--uniflow] FILE [udp://|tcp://]HOST:PORT\n");
		return 2;
	}
	buf = pbfile_read(a.file, &len);
	if (!buf)
		return 1;
	host_port = ipfix_target(a.collector, &tcp);
	a.tcp |= tcp;
	if (ipfix_exporter_open(&x, host_port, a.tcp, &a.o))
		return 1;
	/* TCP: give the connection a moment, as a long-running agent would have. */
	for (int i = 0; a.tcp && i < 100 && !x.connected; i++) {
		pause_ms(10);
		ipfix_exporter_service(&x);
	}
	batches = send_batches(&x, buf, len, a.pace_ms);
	ipfix_exporter_close(&x, a.linger_ms);
	free(buf);
	printf("batches=%ld messages_sent=%" PRIu64 " records_sent=%" PRIu64
	       " records_dropped=%" PRIu64 " records_invalid=%" PRIu64 " send_failures=%" PRIu64
	       " connects=%" PRIu64 "\n",
	       batches, x.messages_sent, x.records_sent, x.records_dropped, x.records_invalid,
	       x.send_failures, x.connects);
	return batches < 0 ? 1 : 0;
}
