// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Publishes the batches of an nfxdp pb file (nfxdp --format pb --output FILE:
 * varint length, packed FlowBatch, repeated) through the MQTT exporter, one
 * message per batch, then prints the exporter's counters on stdout.
 *
 *   mqtt_send [--topic T] [--qos N] [--client-id ID] [--user U] [--password-file F]
 *             [--ca FILE] [--cert FILE] [--key FILE] [--max-pending N]
 *             [--wait-ms MS] [--pace-ms MS] [--linger-ms MS] FILE URL
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "export/mqtt.h"
#include "record/batch.h"
#include "common/log.h"
#include "pbfile.h"

struct send_args {
	struct mqtt_opts o;
	int wait_ms; /* for the first connection, as a long-running agent would have */
	int pace_ms;
	int linger_ms;
	const char *file;
	const char *url;
};

/* Waits @ms while servicing the exporter, as the collector's ticks would. */
static void idle(struct mqtt_exporter *m, int ms)
{
	struct timespec ts = { 0, 10 * 1000000L };

	for (int t = 0; t < ms; t += 10) {
		mqtt_exporter_service(m);
		nanosleep(&ts, NULL);
	}
}

/* Each batch's packed bytes as they are: what the collector would publish. */
static long send_batches(struct mqtt_exporter *m, const uint8_t *p, size_t len, int pace_ms)
{
	const uint8_t *rec;
	long batches = 0;
	uint64_t n;
	int r;

	while ((r = pbfile_next(&p, &len, &rec, &n)) > 0) {
		mqtt_exporter_send(m, rec, n);
		batches++;
		idle(m, pace_ms);
	}
	if (r) {
		pr_warn("Couldn't read batch %ld: the file is truncated\n", batches);
		return -1;
	}
	return batches;
}

static int parse_args(struct send_args *a, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "topic", required_argument, NULL, 't' },     { "qos", required_argument, NULL, 'q' },
		{ "client-id", required_argument, NULL, 'i' }, { "user", required_argument, NULL, 'u' },
		{ "password-file", required_argument, NULL, 'P' },  { "ca", required_argument, NULL, 'a' },
		{ "cert", required_argument, NULL, 'c' },      { "key", required_argument, NULL, 'k' },
		{ "max-pending", required_argument, NULL, 'm' },
		{ "wait-ms", required_argument, NULL, 'w' },   { "pace-ms", required_argument, NULL, 'p' },
		{ "linger-ms", required_argument, NULL, 'l' }, {}
	};
	int c;

	mqtt_opts_default(&a->o);
	a->wait_ms = 3000;
	a->linger_ms = 5000;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 't': a->o.topic = optarg; break;
		case 'q': a->o.qos = atoi(optarg); break;
		case 'i': a->o.client_id = optarg; break;
		case 'u': a->o.username = optarg; break;
		case 'P': a->o.password = mqtt_password_file(optarg); break;
		case 'a': a->o.ca_file = optarg; break;
		case 'c': a->o.cert_file = optarg; break;
		case 'k': a->o.key_file = optarg; break;
		case 'm': a->o.max_pending = strtoul(optarg, NULL, 0); break;
		case 'w': a->wait_ms = atoi(optarg); break;
		case 'p': a->pace_ms = atoi(optarg); break;
		case 'l': a->linger_ms = atoi(optarg); break;
		default: return -1;
		}
		if (c == 'P' && !a->o.password)
			return -1;
	}
	if (argc - optind != 2)
		return -1;
	a->file = argv[optind];
	a->url = argv[optind + 1];
	return 0;
}

int main(int argc, char **argv)
{
	struct mqtt_exporter m;
	struct send_args a = {};
	uint8_t *buf;
	size_t len;
	long batches;

	log_set_prog("mqtt_send");
	if (parse_args(&a, argc, argv)) {
		fprintf(stderr, "usage: mqtt_send [--topic T] [--qos N] [--client-id ID] [--user U] "
				"[--password-file F] [--ca FILE] [--cert FILE] [--key FILE] "
				"[--max-pending N] [--wait-ms MS] [--pace-ms MS] [--linger-ms MS] "
				"FILE URL\n");
		return 2;
	}
	buf = pbfile_read(a.file, &len);
	if (!buf || mqtt_exporter_open(&m, a.url, &a.o))
		return 1;
	for (int t = 0; t < a.wait_ms && !m.connected; t += 10)
		idle(&m, 10);
	batches = send_batches(&m, buf, len, a.pace_ms);
	mqtt_exporter_close(&m, a.linger_ms);
	free(buf);
	printf("batches=%ld batches_queued=%" PRIu64 " batches_acked=%" PRIu64
	       " batches_dropped=%" PRIu64 " bytes_queued=%" PRIu64 " connects=%" PRIu64 "\n",
	       batches, m.batches_queued, m.batches_acked, m.batches_dropped, m.bytes_queued,
	       m.connects);
	return batches < 0 ? 1 : 0;
}
