// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* nfxdp-cat: subscribes to an nfxdp stream and prints one flow per line. */
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

#include <zlib.h>
#include <zmq.h>

#include "common/clock.h"
#include "export/zmq.h"
#include "flow.pb-c.h"
#include "record/batch.h"
#include "record/format.h"
#include "common/log.h"
#include "cat/decode.h"
#include "cat/spool.h"
#include "export/curve.h"

/* stdout's buffer: a batch of rows is 60 to 300 KiB (256 flows). */
#define CAT_STDOUT_BUF (256U << 10)

/* glibc sizes a buffer of its own at BUFSIZ whatever setvbuf() asks: this one. */
static char stdout_buf[CAT_STDOUT_BUF];

/* Formats nfxdp-cat prints; FORMAT_BRIEF is its own. */
#define FORMAT_BRIEF 100

struct cat_opts {
	const char *endpoint;
	const char *input; /* a pb file (gzip'd or not) instead of the stream */
	int format;
	uint64_t count;	   /* 0: forever */
	bool stats;	   /* print the agent's stats messages too, on stderr */
	double timeout_s; /* 0: forever */
	const char *curve_server_key; /* the publisher's CURVE public key (or its file) */
	bool follow;	    /* --input: read on as the file grows */
	const char *cursor; /* --follow: where reading stopped, kept across restarts */
	bool until_end;	    /* stop at the stream's end-of-stream message */
};

struct cat_state {
	struct format_columns cols;
	bool header_done;
	bool have_seq;
	uint64_t stream_id;
	uint64_t next_seq;
	uint64_t flows;
	uint64_t batches;
	uint64_t lost_batches;
	bool from_file; /* a file starts at sequence 0: a subscriber may join later */
	bool ended;	/* the end-of-stream message came (--until-end) */
	bool done;	/* --format pb: --count reached */
};

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	stop = 1;
}

static void usage(FILE *out)
{
	fprintf(out,
"Usage: nfxdp-cat [ENDPOINT] [options]\n"
"       nfxdp-cat --input FILE [options]\n"
"\n"
"Subscribes to the flow stream nfxdp publishes and prints one flow per line.\n"
"ENDPOINT defaults to " DEFAULT_ZMQ_ENDPOINT ".\n"
"\n"
"  -i, --input FILE   read a file nfxdp wrote with --format pb (gzip'd or not)\n"
"  -F, --follow       with --input: keep reading as nfxdp appends to it (a\n"
"                     spool, uncompressed), like tail -f, and on into the new\n"
"                     file when nfxdp --output-rotate renames it FILE.1\n"
"      --cursor FILE  with --follow: save the offset after each batch printed\n"
"                     (and the file's inode) in FILE and start from it: a\n"
"                     restarted consumer loses nothing and repeats nothing,\n"
"                     even if the --input file rotated once meanwhile; a FILE\n"
"                     that is not a cursor, or cannot be saved, stops it\n"
"                     (exit 1) rather than print everything again\n"
"  -f, --format FMT   jsonl (default), csv (header row of NFStream column names),\n"
"                     brief (one readable line per flow) or pb: the batches as\n"
"                     they came, not decoded (deflated ones inflated), each a\n"
"                     varint length then the FlowBatch message, as nfxdp\n"
"                     --output F --format pb writes them (nfxdp-cat --input\n"
"                     reads them back); to a file or a pipe, not a terminal.\n"
"                     --count then stops after the batch that reaches N flows\n"
"  -n, --count N      exit after N flows\n"
"  -s, --stats        print the agent's stats messages (JSON) on stderr\n"
"  -t, --timeout S    exit after S seconds (status 3 if --count was not reached)\n"
"  -e, --until-end    exit at the end of the stream: the message nfxdp sends\n"
"                     after its last batch (end of capture, nfxdp stopped\n"
"                     without --persist), with its final counters; batches\n"
"                     lost before it are reported. With --input, a file\n"
"                     without one (nfxdp still writing, or killed) is said,\n"
"                     status 3; so is --timeout before the end\n"
"      --curve-server-key KEY|FILE  the stream is CURVE-encrypted (nfxdp\n"
"                     --zmq-curve): the publisher's public key, or its .pub file\n"
"  -h, --help         this text\n"
"\n"
"Gaps in the batch sequence (lost batches) and agent restarts are reported on\n"
"stderr.\n");
}

static int parse_args(struct cat_opts *o, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "format", required_argument, NULL, 'f' },
		{ "input", required_argument, NULL, 'i' },
		{ "stats", no_argument, NULL, 's' },
		{ "count", required_argument, NULL, 'n' },
		{ "timeout", required_argument, NULL, 't' },
		{ "curve-server-key", required_argument, NULL, 'K' },
		{ "follow", no_argument, NULL, 'F' },
		{ "cursor", required_argument, NULL, 'C' },
		{ "until-end", no_argument, NULL, 'e' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char *end;
	int c;

	o->endpoint = DEFAULT_ZMQ_ENDPOINT;
	o->format = FORMAT_JSONL;
	while ((c = getopt_long(argc, argv, "ef:i:n:st:h", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			o->stats = true;
			break;
		case 'K':
			o->curve_server_key = optarg;
			break;
		case 'F':
			o->follow = true;
			break;
		case 'e':
			o->until_end = true;
			break;
		case 'C':
			o->cursor = optarg;
			break;
		case 'i':
			o->input = optarg;
			break;
		case 'f':
			if (!strcmp(optarg, "jsonl") || !strcmp(optarg, "json"))
				o->format = FORMAT_JSONL;
			else if (!strcmp(optarg, "csv"))
				o->format = FORMAT_CSV;
			else if (!strcmp(optarg, "brief"))
				o->format = FORMAT_BRIEF;
			else if (!strcmp(optarg, "pb"))
				o->format = FORMAT_PB;
			else {
				pr_warn("--format: '%s' is not one of: jsonl, csv, brief, pb\n", optarg);
				return -1;
			}
			break;
		case 'n':
			errno = 0;
			o->count = strtoull(optarg, &end, 10);
			if (errno || *end || end == optarg || optarg[0] == '-') {
				pr_warn("--count: '%s' is not a whole number\n", optarg);
				return -1;
			}
			break;
		case 't':
			o->timeout_s = strtod(optarg, &end);
			if (*end || end == optarg || o->timeout_s < 0) {
				pr_warn("--timeout: '%s' is not a number of seconds\n", optarg);
				return -1;
			}
			break;
		case 'h':
			usage(stdout);
			return 1;
		default:
			fprintf(stderr, "Try 'nfxdp-cat --help'.\n");
			return -1;
		}
	}
	if (optind < argc)
		o->endpoint = argv[optind++];
	if (optind < argc) {
		pr_warn("unexpected argument '%s'\n", argv[optind]);
		return -1;
	}
	return 0;
}

/*
 * How far @seq is past @expected. Sequence numbers wrap at 2^64, so they
 * compare as RFC 1982 serial numbers: the difference read as signed,
 * negative for a sequence already seen.
 */
static int64_t seq_ahead(uint64_t seq, uint64_t expected)
{
	return (int64_t)(seq - expected);
}

/* What check_sequence() needs of a batch, decoded or only peeked at. */
struct seq_info {
	uint64_t stream_id;
	uint64_t sequence;
	const char *agent;
};

/* Notes restarts and gaps from the batch's stream id and sequence number. */
static void check_sequence(struct cat_state *s, const struct seq_info *b)
{
	if (!s->have_seq && s->from_file && seq_ahead(b->sequence, 0) > 0) {
		s->lost_batches += b->sequence;
		fprintf(stderr, "nfxdp-cat: gap: %" PRIu64 " batch(es) lost before sequence %" PRIu64
				" (the first in the file)\n", b->sequence, b->sequence);
	}
	if (s->have_seq && b->stream_id != s->stream_id) {
		char *heap;

		fprintf(stderr, "nfxdp-cat: stream restarted (agent %s): new stream %016" PRIx64
				", sequence %" PRIu64 "\n", format_escaped(b->agent, &heap),
			b->stream_id, b->sequence);
		free(heap);
	} else if (s->have_seq && seq_ahead(b->sequence, s->next_seq) < 0) {
		/* MQTT QoS 1 after a reconnect, or a spool read twice. */
		fprintf(stderr, "nfxdp-cat: repeated: sequence %" PRIu64 " again (expected %" PRIu64
				")\n", b->sequence, s->next_seq);
	} else if (s->have_seq && b->sequence != s->next_seq) {
		uint64_t lost = seq_ahead(b->sequence, s->next_seq);

		s->lost_batches += lost;
		fprintf(stderr, "nfxdp-cat: gap: %" PRIu64 " batch(es) lost before sequence %" PRIu64
				"\n", lost, b->sequence);
	}
	s->have_seq = true;
	s->stream_id = b->stream_id;
	s->next_seq = b->sequence + 1;
}

/* The counter @name of an end-of-stream batch, or 0. */
static uint64_t end_counter(const Nfxdp__FlowBatch *b, const char *name)
{
	for (size_t i = 0; i < b->n_counters; i++)
		if (!strcmp(b->counters[i]->name, name))
			return b->counters[i]->value;
	return 0;
}

/* The end-of-stream batch (a pb file, MQTT): with --until-end, said with the agent's totals. */
static void end_of_stream(struct cat_state *s, const struct cat_opts *o, const Nfxdp__FlowBatch *b)
{
	s->ended = true;
	if (o->until_end)
		fprintf(stderr, "nfxdp-cat: end of stream %016" PRIx64 ": %" PRIu64 " batch(es), %" PRIu64
			" flow(s) exported\n", b->stream_id, b->sequence,
		end_counter(b, "flows_exported"));
}

/* Prints the flows of one batch; returns false once --count is reached. */
static bool print_batch(struct cat_state *s, const struct cat_opts *o, const Nfxdp__FlowBatch *b)
{
	struct seq_info si = { b->stream_id, b->sequence, b->agent };

	/* The columns follow the features of the stream's first batch. */
	if (!s->batches)
		format_columns_for(&s->cols, b->statistical, b->splt > 0, b->dpi > 0);
	check_sequence(s, &si);
	if (b->end_of_stream) {
		end_of_stream(s, o, b);
		return !o->until_end;
	}
	s->batches++;
	for (size_t i = 0; i < b->n_flows; i++) {
		if (o->format == FORMAT_CSV) {
			if (!s->header_done) {
				format_csv_header(stdout, &s->cols);
				s->header_done = true;
			}
			format_csv_row(stdout, &s->cols, b->flows[i]);
		} else if (o->format == FORMAT_BRIEF) {
			format_brief(stdout, b->flows[i]);
		} else {
			format_json(stdout, &s->cols, b->flows[i]);
		}
		if (o->count && ++s->flows >= o->count)
			return false;
	}
	fflush(stdout);
	return true;
}

/*
 * --format pb: the batch goes out as it came, framed as in nfxdp's pb files
 * (file.c: a varint length, then the message), read only at its top level
 * (sequence, end of stream, how many flows). Returns false once --count is
 * reached; -1 in *bad when the bytes are not a batch.
 */
static bool pass_batch(struct cat_state *s, const struct cat_opts *o, const uint8_t *data,
		       size_t len, int *bad)
{
	struct batch_head h;
	struct seq_info si;
	uint8_t hdr[10];
	char agent[256];
	bool more = true;

	*bad = batch_peek(data, len, &h) ? -1 : 0;
	if (*bad)
		return true;
	snprintf(agent, sizeof(agent), "%.*s",
		 (int)(h.agent_len < sizeof(agent) ? h.agent_len : sizeof(agent) - 1),
		 h.agent ? (const char *)h.agent : "");
	si = (struct seq_info){ h.stream_id, h.sequence, agent };
	check_sequence(s, &si);
	fwrite(hdr, 1, varint_encode(len, hdr), stdout);
	fwrite(data, 1, len, stdout);
	fflush(stdout);
	if (h.end_of_stream) {
		/* A small batch without flows: its counters are read for the message. */
		Nfxdp__FlowBatch *b = cat_decode(data, len);

		if (b)
			end_of_stream(s, o, b);
		cat_decoded_free(b);
		s->ended = true;
		return !o->until_end;
	}
	s->batches++;
	s->flows += h.flows;
	if (o->count && s->flows >= o->count)
		more = false;
	return more;
}

/* The number after "KEY": in the JSON object @js (@len bytes), or -1. */
static int64_t stats_number(const char *js, size_t len, const char *key)
{
	char text[8192], *at;

	if (len >= sizeof(text))
		return -1;
	memcpy(text, js, len);
	text[len] = '\0';
	at = strstr(text, key);
	return at && at[strlen(key)] == ':' ? strtoll(at + strlen(key) + 1, NULL, 10) : -1;
}

/*
 * A stats message; the one marked "end_of_stream":true ends the stream.
 * Its batches_sent is the number of batches the stream had: those after
 * the last one received were lost.
 */
static void stats_message(struct cat_state *s, const struct cat_opts *o, const char *js,
			  size_t len)
{
	int64_t sent;

	if (!memmem(js, len, "\"end_of_stream\":true", 19))
		return;
	s->ended = true;
	sent = stats_number(js, len, "\"batches_sent\"");
	if (!s->have_seq && sent > 0) {
		s->lost_batches += sent;
		fprintf(stderr, "nfxdp-cat: gap: the stream ended with %" PRId64 " batch(es), none "
				"received\n", sent);
	} else if (s->have_seq && sent > 0 && seq_ahead(sent, s->next_seq) > 0) {
		s->lost_batches += sent - s->next_seq;
		fprintf(stderr, "nfxdp-cat: gap: %" PRIu64 " batch(es) lost before the end of the "
				"stream\n", sent - s->next_seq);
	}
	if (o->until_end)
		fprintf(stderr, "nfxdp-cat: end of stream %016" PRIx64 ": %" PRId64 " batch(es), %"
				PRId64 " flow(s) exported\n", s->stream_id, sent,
			stats_number(js, len, "\"flows_exported\""));
}

/* Receives one [topic][batch] message; returns the batch, NULL on timeout or bad data. */
static Nfxdp__FlowBatch *receive_batch(struct cat_state *s, const struct cat_opts *o, void *sock,
				       zmq_msg_t *msg, int *err)
{
	Nfxdp__FlowBatch *b;
	char topic[16] = "";
	int more = 0, n;
	size_t more_len = sizeof(more), len;
	const uint8_t *data;

	*err = 0;
	n = zmq_recv(sock, topic, sizeof(topic) - 1, 0);
	if (n < 0) {
		*err = errno;
		return NULL;
	}
	topic[n < (int)sizeof(topic) ? n : (int)sizeof(topic) - 1] = '\0';
	zmq_getsockopt(sock, ZMQ_RCVMORE, &more, &more_len);
	if (!more)
		return NULL; /* a topic frame alone: not ours */
	if (zmq_msg_recv(msg, sock, 0) < 0) {
		*err = errno;
		return NULL;
	}
	if (!strcmp(topic, ZMQ_TOPIC_STATS)) {
		if (o->stats)
			fprintf(stderr, "%.*s\n", (int)zmq_msg_size(msg),
				(const char *)zmq_msg_data(msg));
		stats_message(s, o, zmq_msg_data(msg), zmq_msg_size(msg));
		return NULL;
	}
	data = zmq_msg_data(msg);
	len = zmq_msg_size(msg);
	if (!strcmp(topic, ZMQ_TOPIC_FLOWS_DEFLATED)) {
		size_t packed = len;

		data = cat_inflate(data, packed, &len);
		if (!data && errno == E2BIG)
			fprintf(stderr, "nfxdp-cat: a deflated batch of %zu bytes inflates to more than "
					"%u times its size or %u MiB; skipped\n", packed,
				CAT_INFLATE_RATIO, CAT_MAX_BATCH >> 20);
		else if (!data)
			fprintf(stderr, "nfxdp-cat: a deflated batch does not inflate; skipped\n");
		if (!data)
			return NULL;
	}
	if (o->format == FORMAT_PB) {
		int bad;

		s->done = !pass_batch(s, o, data, len, &bad);
		if (bad)
			fprintf(stderr, "nfxdp-cat: a message of %zu bytes is not a flow batch; "
					"skipped\n", len);
		return NULL;
	}
	b = cat_decode(data, len);
	if (!b && errno == E2BIG)
		fprintf(stderr, "nfxdp-cat: a batch of %zu bytes would take more memory to decode than "
				"%u times its size and 1 MiB; skipped\n", len, CAT_DECODE_RATIO);
	else if (!b)
		fprintf(stderr, "nfxdp-cat: a message of %zu bytes is not a flow batch; skipped\n", len);
	return b;
}

/*
 * libzmq drops a publisher that breaks the protocol (a message over
 * CAT_MAX_BATCH) and, unlike after a lost connection, never connects to it
 * again: the stream would stop without a word. A disconnection that no
 * attempt to reconnect follows within a second is said, and the endpoint
 * connected again.
 */
struct conn_watch {
	void *mon;	/* the socket's monitor events */
	double lost_at; /* a disconnection no retry has followed yet; 0: none */
};

static void watch_open(struct conn_watch *w, void *ctx, void *sock)
{
	int zero = 0, events = ZMQ_EVENT_DISCONNECTED | ZMQ_EVENT_CONNECT_RETRIED |
			       ZMQ_EVENT_CONNECT_DELAYED | ZMQ_EVENT_CONNECTED;
	char addr[64];

	w->mon = NULL;
	w->lost_at = 0;
	snprintf(addr, sizeof(addr), "inproc://nfxdp-cat-monitor-%p", sock);
	if (zmq_socket_monitor(sock, addr, events))
		return;
	w->mon = zmq_socket(ctx, ZMQ_PAIR);
	if (w->mon)
		zmq_setsockopt(w->mon, ZMQ_LINGER, &zero, sizeof(zero));
	if (w->mon && zmq_connect(w->mon, addr)) {
		zmq_close(w->mon);
		w->mon = NULL;
	}
}

/* The next monitor event, or 0 when there is none. */
static int watch_event(struct conn_watch *w)
{
	uint8_t ev[6];
	char endpoint[256];
	int more = 0;
	size_t len = sizeof(more);
	uint16_t id;

	if (zmq_recv(w->mon, ev, sizeof(ev), ZMQ_DONTWAIT) < (int)sizeof(ev))
		return 0;
	zmq_getsockopt(w->mon, ZMQ_RCVMORE, &more, &len);
	if (more)
		zmq_recv(w->mon, endpoint, sizeof(endpoint), 0);
	memcpy(&id, ev, sizeof(id));
	return id;
}

static void watch_check(struct conn_watch *w, void *sock, const char *endpoint)
{
	double now = clock_secs(CLOCK_MONOTONIC);
	int ev;

	if (!w->mon)
		return;
	while ((ev = watch_event(w)))
		w->lost_at = ev == ZMQ_EVENT_DISCONNECTED ? now : 0;
	if (!w->lost_at || now - w->lost_at < 1.0)
		return;
	fprintf(stderr, "nfxdp-cat: %s broke the protocol (a message over %u MiB?) and was "
			"dropped: connecting again\n", endpoint, CAT_MAX_BATCH >> 20);
	zmq_disconnect(sock, endpoint);
	if (zmq_connect(sock, endpoint))
		pr_warn("Couldn't connect to %s: %s\n", endpoint, zmq_strerror(errno));
	w->lost_at = 0;
}

static void watch_close(struct conn_watch *w, void *sock)
{
	if (!w->mon)
		return;
	zmq_socket_monitor(sock, NULL, 0);
	zmq_close(w->mon);
}

/* Reads length-delimited batches from a file (gzread reads plain files too). */
struct follow_ctx {
	struct cat_state *s;
	const struct cat_opts *o;
	const struct spool_follow *sf;
};

static bool follow_batch(void *ctx, const Nfxdp__FlowBatch *b)
{
	struct follow_ctx *fc = ctx;
	bool more;

	/* A resumed reader starts mid-stream: no gap before its first batch. */
	if (!fc->s->batches)
		fc->s->from_file = !fc->sf->resumed;
	more = print_batch(fc->s, fc->o, b);

	fflush(stdout);
	return more;
}

static bool follow_raw(void *ctx, const uint8_t *buf, size_t len)
{
	struct follow_ctx *fc = ctx;
	int bad;

	if (!fc->s->batches)
		fc->s->from_file = !fc->sf->resumed;
	return pass_batch(fc->s, fc->o, buf, len, &bad);
}

static int follow_file(struct cat_state *s, const struct cat_opts *o)
{
	struct follow_ctx fc = { s, o, NULL };
	struct spool_follow sf = {
		.path = o->input,
		.cursor = o->cursor,
		.deadline = o->timeout_s ? clock_secs(CLOCK_MONOTONIC) + o->timeout_s : 0,
		.stop = &stop,
		.fn = follow_batch,
		.raw = o->format == FORMAT_PB ? follow_raw : NULL,
		.ctx = &fc,
	};
	int status;

	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	fc.sf = &sf;
	status = spool_follow_run(&sf);
	if (status == 3 && !o->count && !o->until_end)
		status = 0;
	return status;
}

static int cat_file(struct cat_state *s, const struct cat_opts *o)
{
	gzFile f = gzopen(o->input, "rb");
	uint8_t *buf = NULL;
	size_t cap = 0;
	int status = 0;

	s->from_file = true;

	if (!f) {
		pr_warn("Couldn't open %s: %s\n", o->input, strerror(errno ? errno : ENOMEM));
		return 1;
	}
	for (;;) {
		uint8_t hdr[10];
		uint64_t len = 0;
		size_t n = 0, used;
		Nfxdp__FlowBatch *b;
		bool more;

		/* The varint length: one byte at a time until its last. */
		while (n < sizeof(hdr) && gzread(f, &hdr[n], 1) == 1 && (hdr[n++] & 0x80))
			;
		if (!n)
			break;
		used = varint_decode(hdr, n, &len);
		if (!used) {
			pr_warn("%s: not a file of length-delimited flow batches\n", o->input);
			status = 1;
			break;
		}
		if (len > CAT_MAX_BATCH) {
			pr_warn("%s: a batch of %" PRIu64 " bytes, more than nfxdp-cat reads (%u MiB)\n",
				o->input, len, CAT_MAX_BATCH >> 20);
			status = 1;
			break;
		}
		if (len > cap) {
			free(buf);
			cap = len;
			buf = malloc(cap);
		}
		if (!buf || gzread(f, buf, len) != (int)len) {
			pr_warn("%s: the file ends in the middle of a batch\n", o->input);
			status = 1;
			break;
		}
		if (o->format == FORMAT_PB) {
			int bad;

			more = pass_batch(s, o, buf, len, &bad);
			if (bad) {
				pr_warn("%s: a batch of %" PRIu64 " bytes does not decode\n",
					o->input, len);
				status = 1;
				break;
			}
			if (!more)
				break;
			continue;
		}
		b = cat_decode(buf, len);
		if (!b) {
			pr_warn("%s: a batch of %" PRIu64 " bytes %s\n", o->input, len,
				errno == E2BIG ? "would take more memory to decode than allowed" :
						 "does not decode");
			status = 1;
			break;
		}
		more = print_batch(s, o, b);
		cat_decoded_free(b);
		if (!more)
			break;
	}
	free(buf);
	gzclose(f);
	fflush(stdout);
	if (!status && o->until_end && !s->ended) {
		pr_warn("%s ends without the end of its stream: nfxdp is still writing it, or "
			"stopped without finishing it\n", o->input);
		status = 3;
	}
	return status;
}

int main(int argc, char **argv)
{
	struct cat_opts o = { 0 };
	struct cat_state s = { 0 };
	int r, rcvtimeo = 200, status = 0;
	int64_t max_msg = CAT_MAX_BATCH;
	struct conn_watch watch;
	void *ctx, *sock;
	double deadline = 0;
	zmq_msg_t msg;

	log_set_prog("nfxdp-cat");
	r = parse_args(&o, argc, argv);
	if (r)
		return r > 0 ? 0 : 2;
	if (o.format == FORMAT_PB && isatty(STDOUT_FILENO)) {
		pr_warn("--format pb writes binary batches: to a file or a pipe, not a terminal\n");
		return 2;
	}
	format_columns_all(&s.cols);
	/* Rows leave in large writes; each batch is flushed whole (print_batch()). */
	setvbuf(stdout, stdout_buf, _IOFBF, sizeof(stdout_buf));
	if (o.input && o.follow)
		return follow_file(&s, &o);
	if (o.input)
		return cat_file(&s, &o);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);

	ctx = zmq_ctx_new();
	sock = zmq_socket(ctx, ZMQ_SUB);
	zmq_setsockopt(sock, ZMQ_SUBSCRIBE, ZMQ_TOPIC_FLOWS, strlen(ZMQ_TOPIC_FLOWS));
	if (o.stats || o.until_end)
		zmq_setsockopt(sock, ZMQ_SUBSCRIBE, ZMQ_TOPIC_STATS, strlen(ZMQ_TOPIC_STATS));
	zmq_setsockopt(sock, ZMQ_RCVTIMEO, &rcvtimeo, sizeof(rcvtimeo));
	/* A larger message is no batch of nfxdp's: libzmq drops the peer before reading it. */
	zmq_setsockopt(sock, ZMQ_MAXMSGSIZE, &max_msg, sizeof(max_msg));
	if (o.curve_server_key && curve_client(sock, o.curve_server_key)) {
		zmq_close(sock);
		zmq_ctx_term(ctx);
		return 2;
	}
	watch_open(&watch, ctx, sock);
	if (zmq_connect(sock, o.endpoint)) {
		pr_warn("Couldn't connect to %s: %s\n", o.endpoint, zmq_strerror(errno));
		watch_close(&watch, sock);
		zmq_close(sock);
		zmq_ctx_term(ctx);
		return 1;
	}
	zmq_msg_init(&msg);
	if (o.timeout_s)
		deadline = clock_secs(CLOCK_MONOTONIC) + o.timeout_s;
	while (!stop) {
		int err;
		Nfxdp__FlowBatch *b;

		watch_check(&watch, sock, o.endpoint);
		b = receive_batch(&s, &o, sock, &msg, &err);
		if ((o.until_end && s.ended) || s.done)
			break;

		if (b) {
			bool more = print_batch(&s, &o, b);

			cat_decoded_free(b);
			if (!more)
				break;
			continue;
		}
		if (err && err != EAGAIN && err != EINTR) {
			pr_warn("Couldn't receive from %s: %s\n", o.endpoint, zmq_strerror(err));
			status = 1;
			break;
		}
		if (deadline && clock_secs(CLOCK_MONOTONIC) >= deadline) {
			if (o.count || o.until_end)
				status = 3;
			break;
		}
	}
	fflush(stdout);
	if (s.lost_batches)
		fprintf(stderr, "nfxdp-cat: %" PRIu64 " batch(es) lost in all\n", s.lost_batches);
	zmq_msg_close(&msg);
	{
		int zero = 0;

		zmq_setsockopt(sock, ZMQ_LINGER, &zero, sizeof(zero));
	}
	watch_close(&watch, sock);
	zmq_close(sock);
	zmq_ctx_term(ctx);
	return status;
}
