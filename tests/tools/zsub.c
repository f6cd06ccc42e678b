// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * zsub: a deliberately bad consumer of nfxdp's ZeroMQ stream, for the
 * slow-consumer tests. It subscribes to "flows", keeps the batch sequence
 * (stream id, sequence number) and counts what it missed, and can
 *   --slow-ms MS --slow-batches N   sleep MS after each of its first N batches
 *                                   (0: after every batch)
 *   --reconnect-after N --pause-ms MS
 *                                   after N batches, disconnect, stay away MS
 *                                   (the connection closed meanwhile), connect
 *                                   again (the same socket: ZeroMQ subscribes
 *                                   again by itself)
 *   --rcvhwm N                      its receive high-water mark (ZeroMQ: 1000)
 *   --ready FILE                    touch FILE once connected
 * It stops on SIGINT/SIGTERM, or --idle S seconds after its last batch, and
 * prints one line on stdout (SIGUSR1: that line now, and go on):
 *   batches=B flows=F lost=L gaps=G restarts=R first_seq=S last_seq=Q max_bytes=M
 * lost counts the batches missing from the sequence, gaps the holes, and
 * every hole is also reported on stderr as it is found.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <zmq.h>

#include "flow.pb-c.h"

static volatile sig_atomic_t stop, status_asked;

static void on_signal(int sig)
{
	if (sig == SIGUSR1)
		status_asked = 1;
	else
		stop = 1;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) && errno == EINTR && !stop)
		;
}

/*
 * Away from @sock for @ms after zmq_disconnect(). The connection closes only
 * once the socket has taken its pipe's termination, which it does when used:
 * asking for its events now and then, rather than sleeping, makes the
 * publisher see the subscriber leave now, not when it comes back.
 */
static void away_ms(void *sock, long ms)
{
	double end = now_s() + ms / 1000.0;
	size_t len;
	int events;

	while (!stop && now_s() < end) {
		len = sizeof(events);
		zmq_getsockopt(sock, ZMQ_EVENTS, &events, &len);
		sleep_ms(10);
	}
}

struct tally {
	bool have_seq;
	uint64_t stream_id, next_seq, first_seq, last_seq;
	uint64_t batches, flows, lost, gaps, restarts, max_bytes;
};

static void print_status(const struct tally *t)
{
	printf("batches=%" PRIu64 " flows=%" PRIu64 " lost=%" PRIu64 " gaps=%" PRIu64
	       " restarts=%" PRIu64 " first_seq=%" PRIu64 " last_seq=%" PRIu64
	       " max_bytes=%" PRIu64 "\n",
	       t->batches, t->flows, t->lost, t->gaps, t->restarts, t->first_seq, t->last_seq,
	       t->max_bytes);
	fflush(stdout);
}

static void note_batch(struct tally *t, const Nfxdp__FlowBatch *b, size_t len)
{
	if (t->have_seq && b->stream_id != t->stream_id) {
		t->restarts++;
		fprintf(stderr, "zsub: stream restarted at sequence %" PRIu64 "\n", b->sequence);
	} else if (t->have_seq && b->sequence != t->next_seq) {
		uint64_t lost = b->sequence > t->next_seq ? b->sequence - t->next_seq : 0;

		t->lost += lost;
		t->gaps++;
		fprintf(stderr, "zsub: gap: %" PRIu64 " batch(es) lost before sequence %" PRIu64
				"\n", lost, b->sequence);
	}
	if (!t->have_seq)
		t->first_seq = b->sequence;
	t->have_seq = true;
	t->stream_id = b->stream_id;
	t->next_seq = b->sequence + 1;
	t->last_seq = b->sequence;
	t->batches++;
	t->flows += b->n_flows;
	if (len > t->max_bytes)
		t->max_bytes = len;
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "slow-ms", required_argument, NULL, 's' },
		{ "slow-batches", required_argument, NULL, 'n' },
		{ "reconnect-after", required_argument, NULL, 'r' },
		{ "pause-ms", required_argument, NULL, 'p' },
		{ "rcvhwm", required_argument, NULL, 'H' },
		{ "idle", required_argument, NULL, 'i' },
		{ "ready", required_argument, NULL, 'R' },
		{ NULL, 0, NULL, 0 },
	};
	long slow_ms = 0, slow_batches = 0, reconnect_after = 0, pause_ms = 0, rcvhwm = -1;
	double idle_s = 0, last = 0;
	const char *endpoint, *ready = NULL;
	struct tally t = { 0 };
	int c, timeo = 100;
	void *ctx, *sock;
	zmq_msg_t topic, body;

	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 's': slow_ms = atol(optarg); break;
		case 'n': slow_batches = atol(optarg); break;
		case 'r': reconnect_after = atol(optarg); break;
		case 'p': pause_ms = atol(optarg); break;
		case 'H': rcvhwm = atol(optarg); break;
		case 'i': idle_s = atof(optarg); break;
		case 'R': ready = optarg; break;
		default:
			fprintf(stderr, "Usage: zsub ENDPOINT [--slow-ms MS [--slow-batches N]]\n"
					"  [--reconnect-after N --pause-ms MS] [--rcvhwm N]\n"
					"  [--idle S] [--ready FILE]\n");
			return 2;
		}
	}
	if (optind + 1 != argc) {
		fprintf(stderr, "zsub: one ENDPOINT expected\n");
		return 2;
	}
	endpoint = argv[optind];
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGUSR1, on_signal);

	ctx = zmq_ctx_new();
	sock = zmq_socket(ctx, ZMQ_SUB);
	if (rcvhwm >= 0)
		zmq_setsockopt(sock, ZMQ_RCVHWM, &(int){ rcvhwm }, sizeof(int));
	zmq_setsockopt(sock, ZMQ_SUBSCRIBE, "flows", 5);
	zmq_setsockopt(sock, ZMQ_RCVTIMEO, &timeo, sizeof(timeo));
	if (zmq_connect(sock, endpoint)) {
		fprintf(stderr, "zsub: Couldn't connect to %s: %s\n", endpoint,
			zmq_strerror(errno));
		return 1;
	}
	if (ready) {
		FILE *f = fopen(ready, "w");

		if (f)
			fclose(f);
	}
	zmq_msg_init(&topic);
	zmq_msg_init(&body);
	last = now_s();
	while (!stop) {
		Nfxdp__FlowBatch *b;

		if (status_asked) {
			status_asked = 0;
			print_status(&t);
		}
		if (zmq_msg_recv(&topic, sock, 0) < 0) {
			if (errno != EAGAIN && errno != EINTR) {
				fprintf(stderr, "zsub: Couldn't receive: %s\n",
					zmq_strerror(errno));
				break;
			}
			if (idle_s && t.batches && now_s() - last >= idle_s)
				break;
			continue;
		}
		if (!zmq_msg_more(&topic) || zmq_msg_recv(&body, sock, 0) < 0)
			continue;
		last = now_s();
		if (zmq_msg_size(&topic) != 5 || memcmp(zmq_msg_data(&topic), "flows", 5))
			continue; /* "flowsz": deflated batches are not for this tool */
		b = nfxdp__flow_batch__unpack(NULL, zmq_msg_size(&body), zmq_msg_data(&body));
		if (!b) {
			fprintf(stderr, "zsub: a message of %zu bytes is not a flow batch\n",
				zmq_msg_size(&body));
			continue;
		}
		note_batch(&t, b, zmq_msg_size(&body));
		nfxdp__flow_batch__free_unpacked(b, NULL);
		if (slow_ms && (!slow_batches || (long)t.batches <= slow_batches))
			sleep_ms(slow_ms);
		if (reconnect_after && (long)t.batches == reconnect_after) {
			zmq_disconnect(sock, endpoint);
			fprintf(stderr, "zsub: disconnected after %" PRIu64 " batches\n",
				t.batches);
			away_ms(sock, pause_ms);
			zmq_connect(sock, endpoint);
			fprintf(stderr, "zsub: connected again\n");
		}
	}
	print_status(&t);
	zmq_msg_close(&topic);
	zmq_msg_close(&body);
	zmq_setsockopt(sock, ZMQ_LINGER, &(int){ 0 }, sizeof(int));
	zmq_close(sock);
	zmq_ctx_term(ctx);
	return 0;
}
