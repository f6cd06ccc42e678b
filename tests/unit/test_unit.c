// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Unit tests of the collector's user-space modules (no kernel needed). */
#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>

#include "cli/cli.h"
#include "export/file.h"
#include "export/zmq.h"
#include "record/batch.h"
#include "record/format.h"
#include "common/bigarray.h"
#include "common/lazylib.h"
#include "common/log.h"
#include "collector/expiry.h"
#include "record/record.h"
#include "cat/decode.h"
#include "cat/spool.h"
#include "format_ref.h"
#include "record/encode.h"
#include "test.h"

#define MS 1000000ULL

static int parse(struct nfx_config *cfg, const char *line)
{
	char *copy = strdup(line), *argv[64], *save = NULL;
	int argc = 0, r;

	for (char *t = strtok_r(copy, " ", &save); t && argc < 63; t = strtok_r(NULL, " ", &save))
		argv[argc++] = t;
	argv[argc] = NULL;
	config_defaults(cfg);
	r = config_parse(cfg, argc, argv);
	/* cfg keeps pointers into copy: leaked on purpose in this test. */
	return r;
}

static void test_cli(void)
{
	struct nfx_config c;

	TEST("cli: defaults")
	{
		ASSERT_EQ(parse(&c, "nfxdp --iface eth0"), 0, "parsed");
		ASSERT_EQ(c.n_ifaces, 1, "one iface");
		ASSERT_EQ(c.idle_timeout_ms, 120000, "idle 120 s");
		ASSERT_EQ(c.active_timeout_ms, 1800000, "active 1800 s");
		ASSERT_EQ(c.natural_expiry, true, "natural on");
		ASSERT_EQ(c.max_flows, 1048576, "max flows");
		ASSERT_EQ(c.xdp_mode, XDP_MODE_NATIVE, "native");
		ASSERT_STREQ(c.zmq_endpoint, "tcp://127.0.0.1:5556", "loopback endpoint");
	}
	TEST("cli: every option")
	{
		ASSERT_EQ(parse(&c, "nfxdp -i a,b --iface c@ns --xdp-mode generic --idle-timeout 1.5 "
				    "--active-timeout 0 --natural-expiry off --max-flows 4096 "
				    "--poll-ms 50 --zmq ipc:///tmp/x --accounting payload "
				    "--batch-flows 7 --batch-ms 20 -v -v"),
			  0, "parsed");
		ASSERT_EQ(c.n_ifaces, 3, "three ifaces");
		ASSERT_STREQ(c.ifaces[2], "c@ns", "iface with netns");
		ASSERT_EQ(c.xdp_mode, XDP_MODE_GENERIC, "generic");
		ASSERT_EQ(c.idle_timeout_ms, 1500, "fractional seconds");
		ASSERT_EQ(c.active_timeout_ms, 0, "0 disables");
		ASSERT_EQ(c.natural_expiry, false, "natural off");
		ASSERT_EQ(c.max_flows, 4096, "max flows");
		ASSERT_EQ(c.poll_ms, 50, "poll");
		ASSERT_EQ(c.accounting, 3, "payload");
		ASSERT_EQ(c.batch_flows, 7, "batch flows");
		ASSERT_EQ(c.verbosity, 2, "verbosity");
	}
	TEST("cli: --pcap takes every file after it; --output turns ZeroMQ off")
	{
		ASSERT_EQ(parse(&c, "nfxdp --pcap a.pcap b.pcapng c.pcap --output - --format jsonl"),
			  0, "parsed");
		ASSERT_EQ(c.n_pcaps, 3, "three files");
		ASSERT_STREQ(c.pcaps[1], "b.pcapng", "order kept");
		ASSERT_TRUE(c.zmq_endpoint == NULL, "no zmq unless asked");
		ASSERT_EQ(c.format, FORMAT_JSONL, "jsonl");
	}
	TEST("cli: --pcap with no sink named prints CSV; --zmq and --no-zmq are sinks named")
	{
		ASSERT_EQ(parse(&c, "nfxdp --pcap a.pcap"), 0, "parsed");
		ASSERT_STREQ(c.output, "-", "standard output");
		ASSERT_EQ(c.format, FORMAT_CSV, "csv");
		ASSERT_TRUE(c.zmq_endpoint == NULL, "no zmq: nobody would hear it");
		ASSERT_EQ(parse(&c, "nfxdp --pcap a.pcap --format jsonl"), 0, "parsed");
		ASSERT_STREQ(c.output, "-", "standard output, jsonl");
		ASSERT_EQ(parse(&c, "nfxdp --pcap a.pcap --zmq ipc:///tmp/x"), 0, "parsed");
		ASSERT_TRUE(c.output == NULL, "--zmq: no standard output");
		ASSERT_STREQ(c.zmq_endpoint, "ipc:///tmp/x", "--zmq kept");
		ASSERT_EQ(parse(&c, "nfxdp --pcap a.pcap --no-zmq"), 0, "parsed");
		ASSERT_TRUE(c.output == NULL && c.zmq_endpoint == NULL, "--no-zmq: no sink at all");
		ASSERT_EQ(parse(&c, "nfxdp --pcap a.pcap --ipfix 127.0.0.1"), 0, "parsed");
		ASSERT_TRUE(c.output == NULL, "--ipfix: no standard output");
		ASSERT_EQ(parse(&c, "nfxdp --iface a"), 0, "parsed");
		ASSERT_TRUE(c.output == NULL, "live: ZeroMQ as before");
		ASSERT_STREQ(c.zmq_endpoint, DEFAULT_ZMQ_ENDPOINT, "live: default endpoint");
	}
	TEST("cli: bad input is refused")
	{
		log_set_level(LOG_QUIET);
		ASSERT_EQ(parse(&c, "nfxdp"), -1, "no input");
		ASSERT_EQ(parse(&c, "nfxdp --iface a --pcap b"), -1, "both inputs");
		ASSERT_EQ(parse(&c, "nfxdp --iface a --idle-timeout x"), -1, "bad seconds");
		ASSERT_EQ(parse(&c, "nfxdp --iface a --idle-timeout -1"), -1, "negative");
		ASSERT_EQ(parse(&c, "nfxdp --iface a --max-flows 0"), -1, "max flows 0");
		ASSERT_EQ(parse(&c, "nfxdp --iface a --max-flows 12abc"), -1, "trailing junk");
		ASSERT_EQ(parse(&c, "nfxdp --iface a --xdp-mode hw"), -1, "bad mode");
		ASSERT_EQ(parse(&c, "nfxdp --iface a --bogus"), -1, "unknown option");
		ASSERT_EQ(parse(&c, "nfxdp --iface a extra"), -1, "stray argument");
		log_set_level(LOG_WARN);
	}
	TEST("cli: --output-rotate SIZE")
	{
		uint64_t v = 7;

		ASSERT_EQ(parse(&c, "nfxdp -i a -o f"), 0, "parsed");
		ASSERT_EQ(c.output_rotate, 0, "never by default");
		ASSERT_EQ(parse(&c, "nfxdp -i a -o f --output-rotate 64k"), 0, "parsed");
		ASSERT_EQ(c.output_rotate, 65536, "k is 1024");
		ASSERT_TRUE(!parse_size("x", "1000", &v) && v == 1000, "bytes");
		ASSERT_TRUE(!parse_size("x", "3M", &v) && v == 3ULL << 20, "M");
		ASSERT_TRUE(!parse_size("x", "2g", &v) && v == 2ULL << 30, "g");
		ASSERT_TRUE(!parse_size("x", "0", &v) && v == 0, "0: never");
		log_set_level(LOG_QUIET);
		v = 7;
		ASSERT_EQ(parse_size("x", "", &v), -1, "empty");
		ASSERT_EQ(parse_size("x", "k", &v), -1, "no number");
		ASSERT_EQ(parse_size("x", "-1", &v), -1, "negative");
		ASSERT_EQ(parse_size("x", "5kb", &v), -1, "two letters");
		ASSERT_EQ(parse_size("x", "5T", &v), -1, "unknown unit");
		ASSERT_EQ(parse_size("x", "17179869184G", &v), -1, "overflows 64 bits");
		ASSERT_EQ(parse_size("x", "99999999999999999999", &v), -1, "out of range");
		ASSERT_EQ(v, 7, "untouched when refused");
		ASSERT_EQ(parse(&c, "nfxdp -i a -o - --output-rotate 1M"), -1, "not stdout");
		ASSERT_EQ(parse(&c, "nfxdp -i a --output-rotate 1M"), -1, "needs --output");
		ASSERT_EQ(parse(&c, "nfxdp -i a -o f --output-rotate 1X"), -1, "bad size");
		log_set_level(LOG_WARN);
	}
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	fputs(text, f);
	fclose(f);
}

/* ---- every option of the table ------------------------------------------ */

#define OPT_FIELD(cfg, o, type) (*(type *)((char *)(cfg) + (o)->off))

/* Parses "nfxdp BASE... --NAME [ARG]" (no splitting: an argument may hold spaces). */
static int parse_option_line(struct nfx_config *cfg, const struct option_def *o, const char *arg)
{
	const char *argv[8] = { "nfxdp" };
	char name[64];
	int argc = 1;

	if (strcmp(o->name, "pcap") && strcmp(o->name, "detach")) {
		argv[argc++] = "--iface";
		argv[argc++] = "eth0";
	}
	if (!strcmp(o->name, "output-rotate")) {
		argv[argc++] = "-o";
		argv[argc++] = "f";
	}
	snprintf(name, sizeof(name), "--%s", o->name);
	argv[argc++] = name;
	if (arg)
		argv[argc++] = arg;
	config_defaults(cfg);
	return config_parse(cfg, argc, (char **)argv);
}

/* The same through a configuration file: "name = ARG" (or "name" for a flag). */
static int parse_option_file(struct nfx_config *cfg, const struct option_def *o, const char *arg)
{
	const char *path = "/tmp/nfxdp-unit-option.conf";
	const char *argv[] = { "nfxdp", "--config", path };
	char text[512];

	snprintf(text, sizeof(text), "%s%s%s%s%s\n",
		 strcmp(o->name, "pcap") && strcmp(o->name, "detach") ? "iface = eth0\n" : "",
		 !strcmp(o->name, "output-rotate") ? "output = f\n" : "", o->name, arg ? " = " : "",
		 arg ? arg : "");
	write_file(path, text);
	config_defaults(cfg);
	return config_parse(cfg, 3, (char **)argv);
}

static bool str_differs(const char *x, const char *y)
{
	return !x != !y || (x && strcmp(x, y));
}

/* Whether the field @o sets differs between @a and @b. */
static bool option_differs(const struct option_def *o, struct nfx_config *a, struct nfx_config *b)
{
	switch (o->kind) {
	case OPT_FLAG:
	case OPT_ONOFF:
		return OPT_FIELD(a, o, bool) != OPT_FIELD(b, o, bool);
	case OPT_COUNT:
	case OPT_CHOICE:
		return OPT_FIELD(a, o, int) != OPT_FIELD(b, o, int);
	case OPT_SECONDS:
	case OPT_SIZE:
		return OPT_FIELD(a, o, uint64_t) != OPT_FIELD(b, o, uint64_t);
	case OPT_U32:
		return OPT_FIELD(a, o, uint32_t) != OPT_FIELD(b, o, uint32_t);
	case OPT_STRING:
		return str_differs(OPT_FIELD(a, o, const char *), OPT_FIELD(b, o, const char *));
	case OPT_CUSTOM:
		if (o->field == FIELD_STR)
			return str_differs(OPT_FIELD(a, o, const char *),
					   OPT_FIELD(b, o, const char *));
		if (o->field == FIELD_INT)
			return OPT_FIELD(a, o, int) != OPT_FIELD(b, o, int);
		return OPT_FIELD(a, o, void *) != OPT_FIELD(b, o, void *);
	default:
		return false;
	}
}

/* An argument @o refuses, or NULL when every one is taken. */
static const char *bad_argument(const struct option_def *o, char *buf, size_t len)
{
	switch (o->kind) {
	case OPT_ONOFF:
	case OPT_CHOICE:
		return "bogus";
	case OPT_SECONDS:
		return "0.0001"; /* rounds to 0 ms, which would mean "never" */
	case OPT_SIZE:
		return "1X";
	case OPT_U32:
		if (o->max < UINT32_MAX) {
			snprintf(buf, len, "%llu", (unsigned long long)o->max + 1);
			return buf;
		}
		return "-1";
	default:
		return NULL;
	}
}

static void test_every_option(void)
{
	struct nfx_config def, cl, file;
	char buf[32];

	config_defaults(&def);
	for (int i = 0; i < nfx_n_options; i++) {
		const struct option_def *o = &nfx_options[i];
		char name[96];
		const char *bad;

		snprintf(name, sizeof(name), "cli: --%s from the command line and a file", o->name);
		if (o->kind == OPT_ACTION) {
			TEST(name) ASSERT_TRUE(o->cli_only, "an action is for the command line only");
			continue;
		}
		TEST(name)
		{
			const char *arg = o->arg ? o->example : NULL;

			if (!ASSERT_TRUE(!o->arg || o->example, "the table gives an example"))
				continue;
			log_set_level(LOG_QUIET);
			ASSERT_EQ(parse_option_line(&cl, o, arg), 0, "command line accepted");
			ASSERT_EQ(parse_option_file(&file, o, arg), 0, "file line accepted");
			/* --pcap and --detach change what the base has none of. */
			config_defaults(&def);
			ASSERT_TRUE(option_differs(o, &cl, &def), "the command line changes its field");
			ASSERT_TRUE(!option_differs(o, &cl, &file), "the file sets the same");
			bad = bad_argument(o, buf, sizeof(buf));
			if (bad) {
				ASSERT_EQ(parse_option_line(&cl, o, bad), -1, "a bad argument refused");
				ASSERT_EQ(parse_option_file(&file, o, bad), -1, "refused in a file too");
			}
			log_set_level(LOG_WARN);
		}
	}
	TEST("cli: no two options set one field, but --iface/--detach and --zmq/--no-zmq")
	{
		for (int i = 0; i < nfx_n_options; i++) {
			for (int j = i + 1; j < nfx_n_options; j++) {
				const struct option_def *a = &nfx_options[i], *b = &nfx_options[j];
				bool pair = (!strcmp(a->name, "iface") && !strcmp(b->name, "detach")) ||
					    (!strcmp(a->name, "zmq") && !strcmp(b->name, "no-zmq"));

				if (a->kind == OPT_ACTION || b->kind == OPT_ACTION || pair)
					continue;
				ASSERT_TRUE(a->off != b->off, b->name);
			}
		}
	}
	TEST("cli: --help lists every option of the table")
	{
		char *text = NULL;
		size_t len = 0;
		FILE *f = open_memstream(&text, &len);

		config_usage(f);
		fclose(f);
		for (int i = 0; i < nfx_n_options; i++) {
			char want[64];

			snprintf(want, sizeof(want), "--%s%s", nfx_options[i].name,
				 nfx_options[i].arg ? " " : "");
			ASSERT_TRUE(strstr(text, want) != NULL, nfx_options[i].name);
		}
		ASSERT_TRUE(strstr(text, "(default: 120)") != NULL, "defaults from config_defaults()");
		free(text);
	}
}

static void test_config_file(void)
{
	const char *path = "/tmp/nfxdp-unit-conf";
	struct nfx_config c;

	write_file(path, "# comment\n\n  iface = eth0\niface = eth1@ns\nstatistical\n"
			 "natural-expiry = off\nidle-timeout = 30\nzmq = ipc:///tmp/a\n"
			 "verbose = 2\ncompress = no\npersist = yes\n");
	TEST("config file: every kind of line")
	{
		ASSERT_EQ(parse(&c, "nfxdp --config /tmp/nfxdp-unit-conf"), 0, "parsed");
		ASSERT_EQ(c.n_ifaces, 2, "two ifaces");
		ASSERT_STREQ(c.ifaces[1], "eth1@ns", "second iface");
		ASSERT_EQ(c.statistical, true, "bare flag");
		ASSERT_EQ(c.natural_expiry, false, "on|off value");
		ASSERT_EQ(c.idle_timeout_ms, 30000, "seconds");
		ASSERT_STREQ(c.zmq_endpoint, "ipc:///tmp/a", "string");
		ASSERT_EQ(c.verbosity, 2, "verbose level");
		ASSERT_EQ(c.compress, false, "flag = no");
		ASSERT_EQ(c.persist, true, "flag = yes");
	}
	TEST("config file: the command line overrides it")
	{
		ASSERT_EQ(parse(&c, "nfxdp --config=/tmp/nfxdp-unit-conf --idle-timeout 5 -i eth9"),
			  0, "parsed");
		ASSERT_EQ(c.idle_timeout_ms, 5000, "CLI value wins");
		ASSERT_EQ(c.n_ifaces, 1, "CLI interfaces replace the file's");
		ASSERT_STREQ(c.ifaces[0], "eth9", "the CLI's");
		ASSERT_EQ(c.statistical, true, "the rest of the file stays");
	}
	TEST("config file: bad lines are refused")
	{
		log_set_level(LOG_QUIET);
		write_file(path, "iface = eth0\nbogus = 1\n");
		ASSERT_EQ(parse(&c, "nfxdp --config /tmp/nfxdp-unit-conf"), -1, "unknown key");
		write_file(path, "iface = eth0\nhelp\n");
		ASSERT_EQ(parse(&c, "nfxdp --config /tmp/nfxdp-unit-conf"), -1, "action");
		write_file(path, "iface = eth0\nstatistical = maybe\n");
		ASSERT_EQ(parse(&c, "nfxdp --config /tmp/nfxdp-unit-conf"), -1, "bad flag value");
		write_file(path, "iface\n");
		ASSERT_EQ(parse(&c, "nfxdp --config /tmp/nfxdp-unit-conf"), -1, "missing value");
		write_file(path, "iface = eth0\nmax-flows = 0\n");
		ASSERT_EQ(parse(&c, "nfxdp --config /tmp/nfxdp-unit-conf"), -1, "bad value");
		ASSERT_EQ(parse(&c, "nfxdp --config /nonexistent/x"), -1, "missing file");
		ASSERT_EQ(parse(&c, "nfxdp --config none --iface a"), 0, "none: no file");
		log_set_level(LOG_WARN);
	}
	unlink(path);
}

/* A closed flow as the kernel would hand it over. */
static void make_event(struct flow_event *ev, bool src_is_hi)
{
	memset(ev, 0, sizeof(*ev));
	ev->reason = EXPIRY_NATURAL;
	inet_pton(AF_INET, "10.0.0.1", ev->entry.key.addr_lo);
	inet_pton(AF_INET, "10.0.0.2", ev->entry.key.addr_hi);
	ev->entry.key.port_lo = htons(1234);
	ev->entry.key.port_hi = htons(80);
	ev->entry.key.protocol = 6;
	ev->entry.key.ip_version = 4;
	ev->entry.key.vlan_id = 42;
	ev->entry.flags = src_is_hi ? FLOW_F_SRC_IS_HI : 0;
	memcpy(ev->entry.src_mac, "\x02\x00\x00\x00\x00\x0a", 6);
	memcpy(ev->entry.dst_mac, "\xaa\xbb\xcc\xdd\xee\xff", 6);
	ev->entry.dir[0] = (struct flow_dir_counters){ 3, 300, 1000 * MS + 999999, 1500 * MS, 0x1b };
	ev->entry.dir[1] = (struct flow_dir_counters){ 2, 2000, 1001 * MS, 1700 * MS + 5, 0x12 };
}

static void test_record(void)
{
	struct flow_event ev;
	struct flow_rec r;

	TEST("record: src is the first packet's sender, times in ms")
	{
		make_event(&ev, false);
		record_build(&r, &ev, 7, 0, NULL, NULL);
		ASSERT_EQ(r.msg.id, 7, "id");
		ASSERT_EQ(r.msg.expiration_id, 2, "natural");
		ASSERT_STREQ(r.msg.src_ip, "10.0.0.1", "src ip");
		ASSERT_STREQ(r.msg.dst_ip, "10.0.0.2", "dst ip");
		ASSERT_EQ(r.msg.src_port, 1234, "src port");
		ASSERT_EQ(r.msg.dst_port, 80, "dst port");
		ASSERT_STREQ(r.msg.src_mac, "02:00:00:00:00:0a", "src mac");
		ASSERT_STREQ(r.msg.dst_mac, "aa:bb:cc:dd:ee:ff", "dst mac");
		ASSERT_EQ(r.msg.vlan_id, 42, "vlan");
		ASSERT_EQ(r.msg.bidirectional_packets, 5, "packets");
		ASSERT_EQ(r.msg.bidirectional_bytes, 2300, "bytes");
		ASSERT_EQ(r.msg.bidirectional_first_seen_ms, 1000, "first ms truncated");
		ASSERT_EQ(r.msg.bidirectional_last_seen_ms, 1700, "last ms");
		ASSERT_EQ(r.msg.bidirectional_duration_ms, 700, "duration");
		ASSERT_EQ(r.msg.src2dst_duration_ms, 500, "src2dst duration");
		ASSERT_EQ(r.msg.dst2src_first_seen_ms, 1001, "dst2src first");
		ASSERT_EQ(r.msg.dst2src_duration_ms, 699, "dst2src duration");
		ASSERT_EQ(r.msg.bidirectional_last_seen_ns, 1700 * MS + 5, "last ns");
		ASSERT_EQ(r.msg.src2dst_tcp_flags, 0x1b, "flags");
	}
	TEST("record: timestamp_source from the entry's clock flags")
	{
		static const struct {
			uint32_t flags, want;
		} cases[] = {
			{ 0, TIMESTAMP_KERNEL },
			{ FLOW_F_TS_KERNEL, TIMESTAMP_KERNEL },
			{ FLOW_F_TS_HW, TIMESTAMP_NIC },
			{ FLOW_F_TS_HW | FLOW_F_TS_KERNEL, TIMESTAMP_MIXED },
			{ FLOW_F_TS_HW | FLOW_F_RST, TIMESTAMP_NIC },
		};

		for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
			make_event(&ev, false);
			ev.entry.flags |= cases[i].flags;
			record_build(&r, &ev, 0, 0, NULL, NULL);
			ASSERT_EQ(r.msg.timestamp_source, cases[i].want, "source");
		}
	}
	TEST("record: first packet from the hi endpoint swaps src and dst")
	{
		make_event(&ev, true);
		record_build(&r, &ev, 0, 0, NULL, NULL);
		ASSERT_STREQ(r.msg.src_ip, "10.0.0.2", "src ip");
		ASSERT_EQ(r.msg.src_port, 80, "src port");
		ASSERT_EQ(r.msg.dst_port, 1234, "dst port");
		ASSERT_EQ(r.msg.src2dst_packets, 3, "src2dst stays the first direction");
	}
	TEST("record: clock offset and a direction with no packets")
	{
		make_event(&ev, false);
		ev.entry.dir[1] = (struct flow_dir_counters){ 0 };
		inet_pton(AF_INET6, "fd00::1", ev.entry.key.addr_lo);
		inet_pton(AF_INET6, "fd00::2", ev.entry.key.addr_hi);
		ev.entry.key.ip_version = 6;
		record_build(&r, &ev, 0, 5 * MS, NULL, NULL);
		ASSERT_STREQ(r.msg.dst_ip, "fd00::2", "ipv6 text");
		ASSERT_EQ(r.msg.bidirectional_first_seen_ms, 1005, "offset applied");
		ASSERT_EQ(r.msg.dst2src_first_seen_ms, 0, "dst2src first 0");
		ASSERT_EQ(r.msg.dst2src_last_seen_ms, 0, "dst2src last 0");
		ASSERT_EQ(r.msg.dst2src_duration_ms, 0, "dst2src duration 0");
		ASSERT_EQ(r.msg.bidirectional_duration_ms, 500, "duration of src2dst alone");
	}
}

/* Captures what a function prints. */
static char *capture(void (*fn)(FILE *, void *), void *arg)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	fn(f, arg);
	fclose(f);
	return buf;
}

static void print_header(FILE *f, void *arg)
{
	format_csv_header(f, arg);
}

struct row_arg {
	struct format_columns *cols;
	Nfxdp__Flow *flow;
	bool json;
};

static void print_row(FILE *f, void *arg)
{
	struct row_arg *a = arg;

	if (a->json)
		format_json(f, a->cols, a->flow);
	else
		format_csv_row(f, a->cols, a->flow);
}

static void print_brief(FILE *f, void *arg)
{
	format_brief(f, arg);
}

static void test_format(void)
{
	struct format_columns cols;
	struct flow_event ev;
	struct flow_rec r;
	char *out;

	format_columns_all(&cols);
	make_event(&ev, false);
	record_build(&r, &ev, 3, 0, NULL, NULL);
	TEST("format: CSV header starts with NFStream's columns, in its order")
	{
		out = capture(print_header, &cols);
		ASSERT_TRUE(!strncmp(out, "id,expiration_id,src_ip,src_mac,src_port,dst_ip,dst_mac,"
					  "dst_port,protocol,ip_version,vlan_id,tunnel_id,"
					  "bidirectional_first_seen_ms,bidirectional_last_seen_ms,"
					  "bidirectional_duration_ms,bidirectional_packets,"
					  "bidirectional_bytes,src2dst_first_seen_ms,",
				     strlen("id,expiration_id,src_ip,src_mac,src_port,dst_ip,dst_mac,"
					    "dst_port,protocol,ip_version,vlan_id,tunnel_id,"
					    "bidirectional_first_seen_ms,bidirectional_last_seen_ms,"
					    "bidirectional_duration_ms,bidirectional_packets,"
					    "bidirectional_bytes,src2dst_first_seen_ms,")),
			    "prefix");
		free(out);
	}
	TEST("format: CSV row")
	{
		struct row_arg a = { &cols, &r.msg, false };

		/* Every column of the header, in its order, and one newline. */
		const char *want =
			"3,2,10.0.0.1,02:00:00:00:00:0a,1234,10.0.0.2,aa:bb:cc:dd:ee:ff,80,6,4,42,0,"
			"1000,1700,700,5,2300," /* bidirectional: first, last, duration, packets, bytes */
			"1000,1500,500,3,300," /* src2dst */
			"1001,1700,699,2,2000," /* dst2src */
			/* sizes and inter-arrival times, then flag counts: 0 without statistics */
			"0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,"
			"0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,"
			"[],[],[]," /* no SPLT */
			"1000999999,1700000005,1000999999,1500000000,1001000000,1700000005," /* ns */
			"27,18," /* TCP flags 0x1b, 0x12 */
			"[],0,false,0," /* splt_piat_us, sampling_rate, sampling_scaled, timestamp_source */
			/* each direction's ifindex, ifname, hook; hooks; ToS; ICMP: a replayed flow's */
			"0,,0,0,,0,0,0,0,0,0,"
			/* --dpi's application columns, unset without it */
			",,0,0,,,,,,false,0\n";

		out = capture(print_row, &a);
		ASSERT_STREQ(out, want, "the whole row");
		free(out);
	}
	TEST("format: JSON line")
	{
		struct row_arg a = { &cols, &r.msg, true };

		out = capture(print_row, &a);
		const char *want = "{\"id\":3,\"expiration_id\":2,\"src_ip\":\"10.0.0.1\",";

		ASSERT_TRUE(!strncmp(out, want, strlen(want)), out);
		ASSERT_TRUE(strstr(out, "\"bidirectional_bytes\":2300,") != NULL, "bytes");
		ASSERT_TRUE(!strcmp(out + strlen(out) - 2, "}\n"), "closed");
		free(out);
	}
	TEST("format: control characters escaped in CSV and brief lines")
	{
		struct row_arg a = { &cols, &r.msg, false };
		char *src = r.msg.src_ip, *dst = r.msg.dst_ip, *mac = r.msg.dst_mac;
		const char *want = "3,2,10.0.0.1\\x1b[2J\\x07,02:00:00:00:00:0a,1234,"
				   "\xc3\x82\\xc2\\x9b31m\\xff,\"a\\x0d\\x0ab,\\\\\\x7f\",80,";

		r.msg.src_ip = "10.0.0.1\x1b[2J\a";
		r.msg.dst_ip = "\xc3\x82\xc2\x9b" "31m\xff";
		r.msg.dst_mac = "a\r\nb,\\\x7f";
		out = capture(print_row, &a);
		ASSERT_TRUE(!strncmp(out, want, strlen(want)), out);
		ASSERT_TRUE(!strchr(out, '\r') && strchr(out, '\n') == out + strlen(out) - 1,
			    "one line");
		free(out);
		out = capture(print_brief, &r.msg);
		ASSERT_TRUE(strstr(out, " 10.0.0.1\\x1b[2J\\x07:1234 ") != NULL, out);
		ASSERT_TRUE(strstr(out, "-> \xc3\x82\\xc2\\x9b" "31m\\xff:80 ") != NULL, out);
		ASSERT_TRUE(!strchr(out, 0x1b) && strchr(out, '\n') == out + strlen(out) - 1,
			    "no escape byte, one line");
		free(out);
		r.msg.src_ip = src;
		r.msg.dst_ip = dst;
		r.msg.dst_mac = mac;
	}
	TEST("format: one field by name")
	{
		char buf[64];

		ASSERT_EQ(format_field(buf, sizeof(buf), &r.msg, "dst2src_bytes"), 0, "known");
		ASSERT_STREQ(buf, "2000", "value");
		ASSERT_EQ(format_field(buf, sizeof(buf), &r.msg, "nope"), -1, "unknown");
	}
}

static void test_record_features(void)
{
	struct flow_event_full {
		struct flow_event ev;
		struct flow_statistics st;
		struct flow_splt sp;
	} x;
	struct record_features feat = { .statistical = true, .splt = 5 };
	struct flow_rec r;

	make_event(&x.ev, false);
	memset(&x.st, 0, sizeof(x.st));
	memset(&x.sp, 0, sizeof(x.sp));
	/* src2dst: 3 packets of 100 bytes total (sizes 20, 30, 50), gaps 10 and 30 ms. */
	x.ev.entry.dir[0].packets = 3;
	x.ev.entry.dir[0].bytes = 100;
	x.st.dir[0] = (struct flow_dir_stats){ .ps_sumsq = 400 + 900 + 2500, .ps_min = 20,
					       .ps_max = 50, .piat_sum_ms = 40,
					       .piat_sumsq_ms = 100 + 900, .piat_min_ms = 10,
					       .piat_max_ms = 30, .flag_packets = { [FLAG_ACK] = 3 } };
	/* dst2src: one packet of 7 bytes. */
	x.ev.entry.dir[1].packets = 1;
	x.ev.entry.dir[1].bytes = 7;
	x.st.dir[1] = (struct flow_dir_stats){ .ps_sumsq = 49, .ps_min = 7, .ps_max = 7,
					       .piat_min_ms = ~0U, .flag_packets = { [FLAG_ACK] = 1 } };
	x.st.piat_sum_ms = 40;
	x.st.piat_sumsq_ms = 5 * 5 + 5 * 5 + 30 * 30;
	x.st.piat_min_ms = 5;
	x.st.piat_max_ms = 30;
	x.sp.base_ns = 1000 * MS + 999000;
	x.sp.claimed = 3;
	x.sp.slot[0] = (struct splt_slot){ 0, 20, 0 };
	x.sp.slot[1] = (struct splt_slot){ 1500, 7, 1 };   /* 1002.499 ms */
	x.sp.slot[2] = (struct splt_slot){ 40000, 30, 0 }; /* 1040.999 ms */
	TEST("record: statistics derived exactly (sample stddev)")
	{
		record_build(&r, &x.ev, 0, 0, &feat, NULL);
		ASSERT_EQ(r.msg.src2dst_min_ps, 20, "min");
		ASSERT_EQ(r.msg.src2dst_max_ps, 50, "max");
		ASSERT_NEAR(r.msg.src2dst_mean_ps, 100.0 / 3, 1e-9, "mean");
		ASSERT_NEAR(r.msg.src2dst_stddev_ps, 15.275252316519466, 1e-9, "stddev of 20,30,50");
		ASSERT_EQ(r.msg.dst2src_min_ps, 7, "one packet: min");
		ASSERT_NEAR(r.msg.dst2src_stddev_ps, 0, 0, "one packet: stddev 0");
		ASSERT_EQ(r.msg.bidirectional_min_ps, 7, "bidirectional min");
		ASSERT_NEAR(r.msg.bidirectional_mean_ps, 107.0 / 4, 1e-9, "bidirectional mean");
		ASSERT_NEAR(r.msg.src2dst_mean_piat_ms, 20, 1e-9, "piat mean over 2 gaps");
		ASSERT_NEAR(r.msg.src2dst_stddev_piat_ms, 14.142135623730951, 1e-9, "piat stddev");
		ASSERT_EQ(r.msg.dst2src_max_piat_ms, 0, "one packet: no gap");
		ASSERT_NEAR(r.msg.bidirectional_mean_piat_ms, 40.0 / 3, 1e-9, "bidirectional piat mean");
		ASSERT_EQ(r.msg.bidirectional_ack_packets, 4, "ack packets");
	}
	TEST("record: splt slots, gaps in ms of truncated timestamps, -1 padding")
	{
		ASSERT_EQ(r.msg.n_splt_ps, 5, "N entries");
		ASSERT_EQ(r.msg.splt_ps[1], 7, "size");
		ASSERT_EQ(r.msg.splt_direction[1], 1, "direction");
		ASSERT_EQ(r.msg.splt_piat_ms[1], 2, "1000.999 -> 1002.499: 1000 -> 1002 ms");
		ASSERT_EQ(r.msg.splt_piat_ms[2], 38, "1002.499 -> 1040.999: 1002 -> 1040 ms");
		ASSERT_EQ(r.msg.splt_piat_us[2], 38500, "38.5 ms in us");
		ASSERT_EQ(r.msg.splt_ps[3], -1, "padding");
		ASSERT_EQ(r.msg.splt_piat_ms[4], -1, "padding");
	}
	TEST("record: stddev stays exact where doubles cancel")
	{
		/* 10^9 packets of 1500 bytes and one of 1501: variance ~1e-9. */
		uint64_t n = 1000000001ULL, sum = 1500ULL * 1000000000ULL + 1501;
		uint64_t sumsq = 2250000ULL * 1000000000ULL + 1501ULL * 1501;
		double want = sqrt((1.0 - 1.0 / n) / (n - 1));

		ASSERT_NEAR(record_stddev(n, sum, sumsq), want, 1e-12, "tiny spread");
		ASSERT_NEAR(record_stddev(1, 5, 25), 0, 0, "one sample");
	}
}

static void test_batch(void)
{
	struct batch b;
	struct flow_event ev;

	make_event(&ev, false);
	TEST("batch: fills to its size, packs, unpacks, numbers its sequence")
	{
		const uint8_t *buf;
		Nfxdp__FlowBatch *u;
		size_t len;

		ASSERT_EQ(batch_init(&b, 3, "host", "veth0", 0xabcdef), 0, "init");
		for (int i = 0; i < 3; i++)
			record_build(batch_next(&b, 100), &ev, i, 0, NULL, NULL);
		ASSERT_TRUE(batch_next(&b, 100) == NULL, "full at 3");
		ASSERT_EQ(b.opened_ms, 100, "opened");
		buf = batch_pack(&b, &len);
		u = nfxdp__flow_batch__unpack(NULL, len, buf);
		if (ASSERT_TRUE(u != NULL, "unpacks")) {
			ASSERT_EQ(u->n_flows, 3, "flows");
			ASSERT_EQ(u->sequence, 0, "first sequence");
			ASSERT_EQ(u->stream_id, 0xabcdef, "stream id");
			ASSERT_STREQ(u->interface, "veth0", "interface");
			ASSERT_EQ(u->schema_version, SCHEMA_VERSION, "schema");
			ASSERT_EQ(u->flows[2]->id, 2, "record id");
			ASSERT_STREQ(u->flows[1]->dst_mac, "aa:bb:cc:dd:ee:ff", "strings survive");
			nfxdp__flow_batch__free_unpacked(u, NULL);
		}
		batch_clear(&b);
		ASSERT_EQ(b.msg.sequence, 1, "next sequence");
		ASSERT_EQ(b.msg.n_flows, 0, "emptied");
		batch_free(&b);
	}
	TEST("batch: varints")
	{
		uint8_t buf[10];
		uint64_t v = 0;
		const uint64_t cases[] = { 0, 1, 127, 128, 300, 1ULL << 35, UINT64_MAX };

		for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
			size_t n = varint_encode(cases[i], buf);

			ASSERT_EQ(varint_decode(buf, n, &v), n, "length");
			ASSERT_TRUE(v == cases[i], "round trip");
			ASSERT_EQ(varint_decode(buf, n - 1, &v), 0, "incomplete");
		}
	}
}

static bool all_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

/*
 * Small arrays share the arena's huge pages and start zeroed even where an
 * earlier array was; growing keeps the contents, in place at the top.
 */
static void test_bigarray(void)
{
	TEST("bigarray: small arrays side by side, zeroed, grown with their contents")
	{
		size_t an = 0, bn = 0, cn = 0, big = 0;
		uint8_t *a = bigarray_grow(NULL, &an, 1000);
		uint8_t *b = bigarray_grow(NULL, &bn, 5000);
		uint8_t *c, *a2, *b2;

		ASSERT_TRUE(a && b, "mapped");
		if (!a || !b)
			abort(); /* nothing below could run */
		ASSERT_EQ(an, 1024, "a chunk is whole cache lines");
		ASSERT_TRUE(b == a + an, "the next chunk follows");
		ASSERT_TRUE(all_zero(a, an) && all_zero(b, bn), "zeroed");
		memset(a, 0xa5, an);
		memset(b, 0x5a, bn);
		ASSERT_EQ(bn, 5056, "5000 bytes, in whole lines");
		b2 = bigarray_grow(b, &bn, 6000);
		ASSERT_TRUE(b2 == b, "the top chunk grows in place");
		ASSERT_EQ(bn, 12032, "to twice what is asked");
		ASSERT_TRUE(b2[5055] == 0x5a && all_zero(b2 + 5056, bn - 5056), "kept, the rest zeroed");
		a2 = bigarray_grow(a, &an, 4000);
		ASSERT_TRUE(a2 == b2 + bn, "one under the top moves to the top of the arena");
		ASSERT_EQ(an, 8000, "twice what is asked");
		ASSERT_TRUE(a2[0] == 0xa5 && a2[1023] == 0xa5 && all_zero(a2 + 1024, an - 1024),
			    "moved with its contents");
		a = bigarray_grow(a2, &an, (size_t)3 << 20);
		ASSERT_TRUE(a != NULL && an == (size_t)4 << 20, "too large for the arena: its own huge pages");
		ASSERT_EQ((uintptr_t)a & (((size_t)2 << 20) - 1), 0, "aligned to a huge page");
		ASSERT_TRUE(a[0] == 0xa5 && a[1023] == 0xa5 && all_zero(a + 1024, 8000 - 1024),
			    "moved out with its contents");
		a2 = a;
		bigarray_free(b2, bn);
		bigarray_free(a2, an);
		c = bigarray_grow(NULL, &cn, 3000);
		ASSERT_TRUE(c != NULL && all_zero(c, cn), "room used before comes back zeroed");
		bigarray_free(c, cn);
		a = bigarray_grow(NULL, &big, (size_t)5 << 20);
		ASSERT_TRUE(a != NULL && big == (size_t)6 << 20, "a large array: its own huge pages");
		ASSERT_EQ((uintptr_t)a & (((size_t)2 << 20) - 1), 0, "aligned to a huge page");
		a[big - 1] = 1;
		a = bigarray_grow(a, &big, (size_t)7 << 20);
		ASSERT_TRUE(a != NULL && big == (size_t)12 << 20 && a[(6 << 20) - 1] == 1,
			    "doubles, with its contents");
		bigarray_free(a, big);
	}
}

/*
 * The expiry wheel's store: a pass's holds sorted (radix, or qsort when
 * few), later holds in a heap; flows come out soonest first, each once,
 * and none before its time.
 */
static void test_wheel_order(void)
{
	for (int t = 0; t < 3; t++) {
		size_t n = t == 0 ? 100 : 20000;
		uint64_t span = t == 2 ? (1ULL << 40) : t == 1 ? 5000000 : 1000;
		struct wheel w = { 0 };
		uint64_t last = 0, seen = 0, sum_in = 0, sum_out = 0, late = 0;
		uint32_t ref;
		char name[96];

		srand(7 + t);
		wheel_reset(&w, NULL, 0);
		for (size_t i = 0; i < n; i++) {
			uint64_t due = 1000000 + ((uint64_t)rand() * rand()) % span;

			wheel_hold(&w, (uint32_t)i, due);
			sum_in += i;
		}
		wheel_order(&w);
		for (size_t i = 0; i < n / 4; i++) {
			wheel_hold(&w, (uint32_t)(n + i), 1000000 + ((uint64_t)rand() * rand()) % span);
			sum_in += n + i;
		}
		snprintf(name, sizeof(name), "wheel: %zu + %zu flows over %llu ms come out in order",
			 n, n / 4, (unsigned long long)span);
		TEST(name)
		{
			ASSERT_TRUE(!wheel_pop_due(&w, 999999, &ref), "none before its time");
			while (wheel_pop_due(&w, UINT64_MAX - 1, &ref)) {
				seen++;
				sum_out += ref;
			}
			ASSERT_EQ(seen, n + n / 4, "each once");
			ASSERT_EQ(sum_out, sum_in, "the refs held");
			ASSERT_EQ(w.n, 0, "empty");
		}
		/* Order: hold again with due = ref's rank, pop, check nondecreasing. */
		wheel_reset(&w, NULL, 0);
		for (size_t i = 0; i < n; i++)
			wheel_hold(&w, (uint32_t)i, 5000 + ((uint64_t)rand() * rand()) % span);
		wheel_order(&w);
		for (size_t i = 0; i < n / 4; i++)
			wheel_hold(&w, (uint32_t)i, 5000 + ((uint64_t)rand() * rand()) % span);
		snprintf(name, sizeof(name), "wheel: soonest first over %llu ms",
			 (unsigned long long)span);
		TEST(name)
		{
			uint64_t now = 5000 + span / 2;

			while (wheel_pop_due(&w, now, &ref))
				seen++;
			/* What is left is all due after now: the next pop at the end proves it. */
			ASSERT_TRUE(!wheel_pop_due(&w, now, &ref), "nothing due left at now");
			while (w.n) {
				uint64_t head = w.run_at < w.run_n ? w.run[w.run_at].due_ms : UINT64_MAX;

				if (w.heap_n && w.heap[0].due_ms < head)
					head = w.heap[0].due_ms;
				if (head < last || head <= now)
					late++;
				last = head;
				if (!wheel_pop_due(&w, head, &ref))
					break;
			}
			ASSERT_EQ(late, 0, "nondecreasing, all after now");
			ASSERT_EQ(w.n, 0, "all out");
		}
		wheel_free(&w);
	}
}

static void test_poller_due(void)
{
	struct poller_policy p = { .idle_ms = 10000, .active_ms = 30000, .natural = true,
				   .linger_ms = 1000 };
	struct flow_entry e = { 0 };
	uint64_t thr = 0;

	e.dir[0].first_seen_ns = 1000 * MS + 400000;
	e.dir[0].last_seen_ns = 5000 * MS + 999999;
	TEST("poller: idle in NFStream's ms rule, with the threshold the kernel re-checks")
	{
		ASSERT_EQ(poller_due(&p, &e, 14999 * MS + 999999, &thr), -1, "14.999s: stays");
		ASSERT_EQ(poller_due(&p, &e, 15000 * MS, &thr), EXPIRY_IDLE, "15.000s: idle");
		ASSERT_TRUE(thr >= e.dir[0].last_seen_ns, "threshold covers last seen");
		ASSERT_TRUE(thr < 5001 * MS, "threshold excludes a later ms");
	}
	TEST("poller: active")
	{
		e.dir[1].first_seen_ns = 2000 * MS;
		e.dir[1].last_seen_ns = 30500 * MS;
		ASSERT_EQ(poller_due(&p, &e, 31000 * MS - 1, &thr), -1, "30.999s: stays");
		ASSERT_EQ(poller_due(&p, &e, 31000 * MS, &thr), EXPIRY_ACTIVE, "31s: active");
		ASSERT_EQ(thr, 1001 * MS - 1, "threshold");
	}
	TEST("poller: natural after the linger, only when ended")
	{
		e.dir[0].first_seen_ns = 29000 * MS;
		ASSERT_EQ(poller_due(&p, &e, 31400 * MS, &thr), -1, "not ended");
		e.flags = FLOW_F_FIN_LO | FLOW_F_FIN_HI;
		ASSERT_EQ(poller_due(&p, &e, 31400 * MS, &thr), -1, "within linger");
		ASSERT_EQ(poller_due(&p, &e, 31500 * MS, &thr), EXPIRY_NATURAL, "after linger");
		p.natural = false;
		ASSERT_EQ(poller_due(&p, &e, 31500 * MS, &thr), -1, "natural off");
	}
}

static void test_export_file(void)
{
	char path[] = "/tmp/nfxdp-unit-XXXXXX";
	struct file_exporter fx;
	struct flow_event ev;
	struct batch b;
	int fd = mkstemp(path);

	close(fd);
	make_event(&ev, false);
	batch_init(&b, 4, "h", "i", 1);
	record_build(batch_next(&b, 0), &ev, 0, 0, NULL, NULL);
	record_build(batch_next(&b, 0), &ev, 1, 0, NULL, NULL);
	TEST("file: pb output is length-delimited batches")
	{
		const uint8_t *buf;
		uint8_t data[65536];
		uint64_t n = 0;
		size_t len, got, hl;
		FILE *f;

		ASSERT_EQ(file_exporter_open(&fx, path, FORMAT_PB, false, false, NULL), 0, "open");
		buf = batch_pack(&b, &len);
		file_exporter_write(&fx, &b.msg, buf, len);
		batch_clear(&b);
		record_build(batch_next(&b, 0), &ev, 2, 0, NULL, NULL);
		buf = batch_pack(&b, &len);
		file_exporter_write(&fx, &b.msg, buf, len);
		ASSERT_EQ(file_exporter_close(&fx), 0, "close");
		f = fopen(path, "rb");
		got = fread(data, 1, sizeof(data), f);
		fclose(f);
		for (size_t off = 0, i = 0; off < got; i++) {
			Nfxdp__FlowBatch *u;

			hl = varint_decode(data + off, got - off, &n);
			ASSERT_TRUE(hl > 0 && off + hl + n <= got, "frame fits");
			u = nfxdp__flow_batch__unpack(NULL, n, data + off + hl);
			if (ASSERT_TRUE(u != NULL, "batch")) {
				ASSERT_EQ(u->sequence, i, "sequence");
				ASSERT_EQ(u->n_flows, i == 0 ? 2 : 1, "flows");
				nfxdp__flow_batch__free_unpacked(u, NULL);
			}
			off += hl + n;
		}
	}
	TEST("file: created 0640 (umask 022), an existing file keeps its mode")
	{
		mode_t old = umask(022);
		struct stat st;

		for (int compress = 0; compress < 2; compress++) {
			unlink(path);
			ASSERT_EQ(file_exporter_open(&fx, path, FORMAT_CSV, compress, false,
						     NULL), 0, "open");
			ASSERT_EQ(file_exporter_close(&fx), 0, "close");
			ASSERT_TRUE(!stat(path, &st), "stat");
			ASSERT_EQ(st.st_mode & 07777, 0640, compress ? "gzip'd: mode" : "mode");
		}
		chmod(path, 0600);
		ASSERT_EQ(file_exporter_open(&fx, path, FORMAT_CSV, false, true, NULL), 0,
			  "append");
		ASSERT_EQ(file_exporter_close(&fx), 0, "close");
		ASSERT_TRUE(!stat(path, &st) && (st.st_mode & 07777) == 0600, "kept");
		umask(old);
	}
	TEST("file: CSV with a header even when nothing was exported")
	{
		char line[4096];
		FILE *f;

		ASSERT_EQ(file_exporter_open(&fx, path, FORMAT_CSV, false, false, NULL), 0, "open");
		ASSERT_EQ(file_exporter_close(&fx), 0, "close");
		f = fopen(path, "r");
		ASSERT_TRUE(fgets(line, sizeof(line), f) && !strncmp(line, "id,expiration_id,", 17),
			    "header");
		ASSERT_TRUE(!fgets(line, sizeof(line), f), "no rows");
		fclose(f);
	}
	TEST("file: a full disk is reported and counted, not fatal")
	{
		const uint8_t *buf;
		size_t len;

		if (ASSERT_EQ(file_exporter_open(&fx, "/dev/full", FORMAT_CSV, false, false, NULL), 0, "open")) {
			log_set_level(LOG_QUIET);
			buf = batch_pack(&b, &len);
			ASSERT_TRUE(file_exporter_write(&fx, &b.msg, buf, len) < 0, "write fails");
			ASSERT_TRUE(file_exporter_write(&fx, &b.msg, buf, len) < 0, "still failing");
			ASSERT_EQ(fx.batches_dropped, 2, "dropped batches counted");
			file_exporter_close(&fx);
			log_set_level(LOG_WARN);
		}
	}
	TEST("file: --output-rotate: PATH.1 and a new PATH, CSV header again")
	{
		char old[64], line[4096];
		const uint8_t *buf;
		size_t len;
		FILE *f;

		snprintf(old, sizeof(old), "%s.1", path);
		ASSERT_EQ(file_exporter_open(&fx, path, FORMAT_CSV, false, true, NULL), 0, "open");
		ASSERT_EQ(file_exporter_rotate_at(&fx, 1), 0, "a regular file rotates");
		buf = batch_pack(&b, &len);
		ASSERT_EQ(file_exporter_write(&fx, &b.msg, buf, len), 0, "write");
		ASSERT_EQ(file_exporter_write(&fx, &b.msg, buf, len), 0, "write again");
		ASSERT_EQ(fx.rotations, 2, "rotated after each batch");
		ASSERT_EQ(file_exporter_close(&fx), 0, "close");
		f = fopen(old, "r");
		ASSERT_TRUE(f && fgets(line, sizeof(line), f) && !strncmp(line, "id,", 3),
			    "PATH.1 has a header");
		ASSERT_TRUE(f && fgets(line, sizeof(line), f) && strncmp(line, "id,", 3), "a row");
		if (f)
			fclose(f);
		f = fopen(path, "r");
		ASSERT_TRUE(f && fgets(line, sizeof(line), f) && !strncmp(line, "id,", 3),
			    "the new PATH: a header only");
		ASSERT_TRUE(f && !fgets(line, sizeof(line), f), "no rows");
		if (f)
			fclose(f);
		unlink(old);
		log_set_level(LOG_QUIET);
		ASSERT_EQ(file_exporter_open(&fx, "/dev/null", FORMAT_CSV, false, false, NULL), 0,
			  "open /dev/null");
		ASSERT_EQ(file_exporter_rotate_at(&fx, 1), -EINVAL, "a device is refused");
		file_exporter_close(&fx);
		log_set_level(LOG_WARN);
	}
	TEST("file: SIGHUP reopens a gzip CSV: in place a second member, after a rename a new file")
	{
		char old[64], cmd[256], line[4096];
		const uint8_t *buf;
		size_t len;
		FILE *p;
		int rows = 0, headers = 0;

		snprintf(old, sizeof(old), "%s.1", path);
		ASSERT_EQ(file_exporter_open(&fx, path, FORMAT_CSV, true, false, NULL), 0, "open");
		buf = batch_pack(&b, &len);
		ASSERT_EQ(file_exporter_write(&fx, &b.msg, buf, len), 0, "write");
		ASSERT_EQ(file_exporter_reopen(&fx), 0, "reopen in place");
		ASSERT_EQ(file_exporter_write(&fx, &b.msg, buf, len), 0, "write to the second member");
		ASSERT_EQ(rename(path, old), 0, "rename (logrotate)");
		ASSERT_EQ(file_exporter_reopen(&fx), 0, "reopen after the rename");
		ASSERT_EQ(file_exporter_write(&fx, &b.msg, buf, len), 0, "write to the new file");
		ASSERT_EQ(file_exporter_close(&fx), 0, "close");
		snprintf(cmd, sizeof(cmd), "gzip -dc %s", old);
		p = popen(cmd, "r");
		while (p && fgets(line, sizeof(line), p))
			!strncmp(line, "id,", 3) ? headers++ : rows++;
		ASSERT_EQ(p ? pclose(p) : -1, 0, "the renamed file decompresses whole");
		ASSERT_EQ(headers * 100 + rows, 1 * 100 + 2 * b.msg.n_flows,
			  "one header, both batches (100 x headers + rows)");
		snprintf(cmd, sizeof(cmd), "gzip -dc %s", path);
		p = popen(cmd, "r");
		headers = rows = 0;
		while (p && fgets(line, sizeof(line), p))
			!strncmp(line, "id,", 3) ? headers++ : rows++;
		ASSERT_EQ(p ? pclose(p) : -1, 0, "the new file decompresses");
		ASSERT_EQ(headers * 100 + rows, 1 * 100 + b.msg.n_flows, "its own header, one batch");
		ASSERT_EQ(fx.reopens, 2, "reopens counted");
		unlink(old);
	}
	batch_free(&b);
	unlink(path);
}

struct spool_got {
	uint64_t seq[16];
	int n, stop_after;
};

static bool spool_take(void *ctx, const Nfxdp__FlowBatch *b)
{
	struct spool_got *g = ctx;

	if (g->n < 16)
		g->seq[g->n] = b->sequence;
	return ++g->n < g->stop_after;
}

/* One nfxdp-cat --follow --cursor run, until it has @n batches (or 2 s). */
static int spool_run(const char *spool, const char *cursor, int n, struct spool_got *g)
{
	static volatile sig_atomic_t stop;
	struct timespec ts;
	struct spool_follow sf = { .path = spool, .cursor = cursor, .stop = &stop,
				   .fn = spool_take, .ctx = g };

	clock_gettime(CLOCK_MONOTONIC, &ts);
	sf.deadline = ts.tv_sec + ts.tv_nsec / 1e9 + 2;
	memset(g, 0, sizeof(*g));
	g->stop_after = n;
	spool_follow_run(&sf);
	return sf.resumed;
}

/* Writes the next batch; @rotate: the file rotates after it. */
static void spool_write(struct file_exporter *fx, struct batch *b, bool rotate)
{
	struct flow_event ev;
	const uint8_t *buf;
	size_t len;

	make_event(&ev, false);
	record_build(batch_next(b, 0), &ev, 0, 0, NULL, NULL);
	buf = batch_pack(b, &len);
	fx->rotate_size = rotate;
	file_exporter_write(fx, &b->msg, buf, len);
	batch_clear(b);
}

static ino_t inode_of(const char *path)
{
	struct stat st;

	return stat(path, &st) ? 0 : st.st_ino;
}

#define SPOOL "/tmp/nfxdp-unit-spool"

static void test_spool_rotation(void)
{
	const char *spool = SPOOL, *cursor = "/tmp/nfxdp-unit-cursor";
	struct file_exporter fx;
	struct spool_got g;
	struct batch b;
	char text[64];
	ino_t first;

	unlink(cursor);
	batch_init(&b, 4, "h", "i", 1);
	ASSERT_EQ(file_exporter_open(&fx, spool, FORMAT_PB, false, false, NULL), 0, "open");
	spool_write(&fx, &b, false);
	spool_write(&fx, &b, false);
	first = inode_of(spool);
	TEST("spool: the cursor holds the offset and the file's inode")
	{
		FILE *f;

		ASSERT_EQ(spool_run(spool, cursor, 1, &g), 0, "not resumed");
		ASSERT_TRUE(g.n == 1 && g.seq[0] == 0, "batch 0");
		f = fopen(cursor, "r");
		ASSERT_TRUE(f && fgets(text, sizeof(text), f), "cursor read");
		if (f)
			fclose(f);
		snprintf(text + 32, 32, " %llu\n", (unsigned long long)first);
		ASSERT_TRUE(strstr(text, text + 32) != NULL, "the inode");
	}
	TEST("spool: away for a rotation: PATH.1 from the cursor, then PATH")
	{
		spool_write(&fx, &b, true); /* PATH.1: 0 1 2 */
		spool_write(&fx, &b, false); /* PATH: 3 */
		ASSERT_EQ(inode_of(SPOOL ".1"), first, "renamed");
		ASSERT_EQ(spool_run(spool, cursor, 3, &g), 1, "resumed");
		ASSERT_TRUE(g.n == 3 && g.seq[0] == 1 && g.seq[1] == 2 && g.seq[2] == 3,
			    "batches 1, 2, 3");
	}
	TEST("spool: away for two rotations: PATH from the start")
	{
		spool_write(&fx, &b, true); /* PATH.1: 3 4 */
		spool_write(&fx, &b, true); /* PATH.1: 5, the first one gone */
		spool_write(&fx, &b, false); /* PATH: 6 */
		ASSERT_EQ(fx.rotations, 3, "rotations");
		log_set_level(LOG_QUIET);
		ASSERT_EQ(spool_run(spool, cursor, 1, &g), 0, "not resumed: the gap shows");
		log_set_level(LOG_WARN);
		ASSERT_TRUE(g.n == 1 && g.seq[0] == 6, "batch 6");
	}
	TEST("spool: an old cursor, just an offset, is in PATH")
	{
		write_file(cursor, "0\n");
		ASSERT_EQ(spool_run(spool, cursor, 1, &g), 0, "offset 0");
		ASSERT_TRUE(g.n == 1 && g.seq[0] == 6, "batch 6");
	}
	file_exporter_close(&fx);
	batch_free(&b);
	unlink(spool);
	unlink(SPOOL ".1");
	unlink(cursor);
}

/* Libraries loaded on first use (common/lazylib.h): a missing one is refused, named. */
static void test_lazylib(void)
{
	TEST("lazylib: a library that is not installed: -ENOENT, every time")
	{
		struct lazylib missing = LAZYLIB_INIT("libnfxdp-missing.so.0", "nfxdp-missing");

		log_set_level(LOG_QUIET);
		ASSERT_EQ(lazylib_load(&missing, "a test"), -ENOENT, "refused");
		ASSERT_EQ(lazylib_load(&missing, "a test"), -ENOENT, "still refused");
		ASSERT_TRUE(!lazylib_loaded(&missing), "not loaded");
		log_set_level(LOG_WARN);
	}
	TEST("lazylib: ZeroMQ loaded on the first call, then its functions answer")
	{
		ASSERT_TRUE(!lazylib_loaded(&lazy_mhd), "libmicrohttpd not loaded by anything here");
		ASSERT_EQ(lazylib_load(&lazy_zmq, "a test"), 0, "loaded");
		ASSERT_TRUE(lazylib_loaded(&lazy_zmq), "loaded");
		ASSERT_TRUE(zmq_has("ipc") == 1, "zmq_has(ipc) through the forwarder");
	}
}

/*
 * The fast paths against what they replace, on many records whose every
 * field takes edge values: format.c's rows against the printf formatter
 * they replaced (format_ref.c), pb_encode() against protobuf-c's packing,
 * batch_peek() and the arena decoder (cat_decode()) on the result.
 */
static uint64_t rnd_state = 0x9e3779b97f4a7c15ULL;

/* xorshift64: the same records every run. */
static uint64_t rnd(void)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 7;
	rnd_state ^= rnd_state << 17;
	return rnd_state;
}

#define PICK(a) ((a)[rnd() % (sizeof(a) / sizeof((a)[0]))])

static uint64_t edge_u64(void)
{
	static const uint64_t v[] = { 0, 1, 9, 10, 99, 100, 999, 1000, 65535, 4294967295ULL,
				      4294967296ULL, 999999999999999ULL, 1000000000000000ULL,
				      9223372036854775807ULL, 18446744073709551615ULL,
				      1700000000123456789ULL };
	uint64_t r = rnd();

	switch (r % 4) {
	case 0:
		return PICK(v);
	case 1:
		return rnd() >> (r >> 2 & 63);
	case 2:
		return r % 1000;
	default:
		return rnd();
	}
}

static double edge_double(void)
{
	static const double v[] = { 0.0, -0.0, 0.5, 1.0 / 3, 2.0 / 3, 1e-5, 1e-4, 0.0001234,
				    9.99999e-5, 1e15, 999999999999999.0, 999999999999999.5, 123.456,
				    1e300, -1e-300, 5e-324, NAN, -NAN, INFINITY, -INFINITY, 1500.25,
				    0.1, 0.7, 1234567.891, 12345678.9012345, 0.000123456, 1e14 + 0.25,
				    -42.125, 1.7976931348623157e308, 4503599627370496.5 };
	static const double scale[] = { 1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 3, 7 };
	uint64_t r = rnd(), bits;
	double d;

	switch (r % 5) {
	case 0:
		return PICK(v);
	case 1:
		return (double)(int64_t)(rnd() % 2000000 - 1000000) / PICK(scale);
	case 2:
		bits = rnd();
		memcpy(&d, &bits, sizeof(d));
		return d;
	case 3:
		/* Binary fractions: their decimals end in 5, some exactly half way at 15 or 17 digits. */
		return ldexp((double)(rnd() % (1ULL << (1 + rnd() % 53))), -(int)(rnd() % 70));
	default:
		return (double)(rnd() % 100000000) / (1 + rnd() % 997);
	}
}

static char *edge_string(void)
{
	static const char *v[] = { "", "10.0.0.1", "fe80::1", "a,b", "say \"hi\"", "back\\slash",
				   "tab\tnl\n", "\x1b[2J", "caf\xc3\xa9", "\xff\xfe", "\xc2\x9b",
				   "\xe2\x82\xac euro", "\xf0\x9f\x98\x80", "\xed\xa0\x80",
				   "\xc0\xaf", "TLS.Google", "eth0|eth0", "\x7f", "\"", "," };
	size_t n;
	char *s;

	if (rnd() % 3)
		return strdup(PICK(v));
	n = rnd() % 4 ? rnd() % 40 : 300 + rnd() % 300;
	s = malloc(n + 1);
	for (size_t i = 0; i < n; i++)
		s[i] = rnd() % 2 ? 0x20 + rnd() % 95 : 1 + rnd() % 255;
	s[n] = '\0';
	return s;
}

/* Every field of @f, by its descriptor, from the edge values above. */
static void edge_flow(Nfxdp__Flow *f)
{
	const ProtobufCMessageDescriptor *d = &nfxdp__flow__descriptor;

	nfxdp__flow__init(f);
	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *fd = &d->fields[i];
		char *p = (char *)f + fd->offset;

		if (fd->label == PROTOBUF_C_LABEL_REPEATED) {
			size_t n = rnd() % 3 ? rnd() % 33 : 0;
			int64_t *a = calloc(n ? n : 1, 8);

			for (size_t k = 0; k < n; k++) {
				int64_t x = rnd() % 3 ? (int64_t)(rnd() % 3000) - 1 : (int64_t)edge_u64();

				if (fd->type == PROTOBUF_C_TYPE_SINT32)
					((int32_t *)a)[k] = k % 7 == 6 ? INT32_MIN : (int32_t)x;
				else
					a[k] = k % 7 == 6 ? INT64_MIN : x;
			}
			*(size_t *)((char *)f + fd->quantifier_offset) = n;
			*(void **)p = a;
			continue;
		}
		switch (fd->type) {
		case PROTOBUF_C_TYPE_UINT32:
			*(uint32_t *)p = edge_u64();
			break;
		case PROTOBUF_C_TYPE_UINT64:
			*(uint64_t *)p = edge_u64();
			break;
		case PROTOBUF_C_TYPE_DOUBLE:
			*(double *)p = edge_double();
			break;
		case PROTOBUF_C_TYPE_BOOL:
			*(protobuf_c_boolean *)p = rnd() % 3 == 2 ? 7 : rnd() % 2;
			break;
		case PROTOBUF_C_TYPE_STRING:
			*(char **)p = edge_string();
			break;
		default:
			break;
		}
	}
}

static void edge_flow_free(Nfxdp__Flow *f)
{
	const ProtobufCMessageDescriptor *d = &nfxdp__flow__descriptor;

	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *fd = &d->fields[i];

		if (fd->label == PROTOBUF_C_LABEL_REPEATED || fd->type == PROTOBUF_C_TYPE_STRING)
			free(*(void **)((char *)f + fd->offset));
	}
}

/* @fn's text of @f with @cols, in memory the caller frees. */
static char *row_text(void (*fn)(FILE *, const struct format_columns *, const Nfxdp__Flow *),
		      const struct format_columns *cols, const Nfxdp__Flow *f)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);

	fn(out, cols, f);
	fclose(out);
	return buf;
}

/* Says where @got and @want first differ; true when they do not. */
static bool same_text(const char *got, const char *want, const char *what, int rec)
{
	size_t i = 0;

	if (!strcmp(got, want))
		return true;
	while (got[i] == want[i])
		i++;
	fprintf(stderr, "  %s of record %d differs at byte %zu: got '%.40s', want '%.40s'\n", what,
		rec, i, got + (i > 10 ? i - 10 : 0), want + (i > 10 ? i - 10 : 0));
	return false;
}

#define DIFF_RECORDS 20000
#define DIFF_BATCH 50

/* The rows of @f, new and old, in both formats; false (said) when they differ. */
static bool rows_agree(const struct format_columns *cols, const Nfxdp__Flow *f, int rec)
{
	char *a = row_text(format_csv_row, cols, f), *b = row_text(ref_csv_row, cols, f);
	bool ok = same_text(a, b, "CSV row", rec);

	free(a);
	free(b);
	a = row_text(format_json, cols, f);
	b = row_text(ref_json, cols, f);
	ok = same_text(a, b, "JSON line", rec) && ok;
	free(a);
	free(b);
	return ok;
}

/* One batch of @n flows: pb_encode() against protobuf-c, then peeked and decoded. */
static bool batch_agrees(const struct format_columns *cols, Nfxdp__Flow **flows, size_t n,
			 uint64_t seq)
{
	Nfxdp__Counter c1 = NFXDP__COUNTER__INIT, c2 = NFXDP__COUNTER__INIT, *cs[] = { &c1, &c2 };
	Nfxdp__FlowBatch b = NFXDP__FLOW_BATCH__INIT, *dec, *ref_dec;
	struct pb_out o = { 0 };
	struct batch_head h;
	uint8_t *ref;
	size_t len;
	bool ok;

	c1.name = "flows_exported";
	c1.value = seq * 1000;
	c2.name = "";
	b.agent = "host,\"a\"";
	b.interface = "eth0";
	b.stream_id = edge_u64();
	b.sequence = seq;
	b.sent_time_ns = edge_u64();
	b.statistical = seq % 2;
	b.splt = seq % 33;
	b.end_of_stream = n == 0;
	b.n_counters = n ? 0 : 2;
	b.counters = cs;
	b.n_flows = n;
	b.flows = flows;
	len = nfxdp__flow_batch__get_packed_size(&b);
	ref = malloc(len);
	nfxdp__flow_batch__pack(&b, ref);
	ok = !pb_encode(&o, &b.base) && o.len == len && !memcmp(o.p, ref, len);
	if (!ok)
		fprintf(stderr, "  batch %" PRIu64 ": pb_encode() gave %zu bytes, protobuf-c %zu%s\n",
			seq, o.len, len, o.len == len ? ", different" : "");
	ok = !batch_peek(o.p, o.len, &h) && h.flows == n && h.sequence == seq &&
	     h.stream_id == b.stream_id && h.end_of_stream == (n == 0) && ok;
	/* proto3 sends no -0.0: the arena's decoding is held to protobuf-c's own. */
	dec = cat_decode(o.p, o.len);
	ref_dec = nfxdp__flow_batch__unpack(NULL, o.len, o.p);
	ok = dec && ref_dec && dec->n_flows == n && ref_dec->n_flows == n && ok;
	for (size_t i = 0; dec && ref_dec && i < dec->n_flows && i < n; i++) {
		char *a = row_text(format_csv_row, cols, dec->flows[i]);
		char *w = row_text(format_csv_row, cols, ref_dec->flows[i]);

		ok = same_text(a, w, "decoded CSV row", (int)i) && ok;
		free(a);
		free(w);
	}
	cat_decoded_free(dec);
	if (ref_dec)
		nfxdp__flow_batch__free_unpacked(ref_dec, NULL);
	free(ref);
	free(o.p);
	return ok;
}

static void test_fast_paths(void)
{
	Nfxdp__Flow *flows = calloc(DIFF_BATCH, sizeof(*flows)), *ptrs[DIFF_BATCH];
	const ProtobufCMessageDescriptor *d = &nfxdp__flow__descriptor;
	struct format_columns cols, plain, turned, *sets[] = { &cols, &plain, &turned };
	int rows_bad = 0, batches_bad = 0;

	format_columns_all(&cols);
	format_columns_for(&plain, false, false, false);
	format_columns_all(&turned);
	for (int i = 0; i < DIFF_BATCH; i++)
		ptrs[i] = &flows[i];
	for (int i = 0; i < DIFF_RECORDS / DIFF_BATCH; i++) {
		for (int k = 0; k < DIFF_BATCH; k++) {
			int rec = i * DIFF_BATCH + k;

			/*
			 * Every column set in turn, one a batch; @turned is
			 * changed in place, its fields rotated by one each
			 * record (the formatter's cached order must notice).
			 */
			for (unsigned j = 0; j < (unsigned)turned.n; j++)
				turned.f[j] = &d->fields[(j + rec) % d->n_fields];
			edge_flow(&flows[k]);
			rows_bad += !rows_agree(sets[i % 3], &flows[k], rec);
		}
		batches_bad += !batch_agrees(&cols, ptrs, i % 7 ? DIFF_BATCH : i % 3, i);
		for (int k = 0; k < DIFF_BATCH; k++)
			edge_flow_free(&flows[k]);
	}
	TEST("format: rows and lines the same as the printf formatter's, on 20000 edge records, 3 column sets")
	{
		ASSERT_EQ(rows_bad, 0, "records whose text differs");
	}
	TEST("encode: batches the same bytes as protobuf-c's, peeked and decoded back")
	{
		ASSERT_EQ(batches_bad, 0, "batches that differ");
	}
	TEST("decode: a batch the hand decoder does not take goes to protobuf-c, the same flows")
	{
		Nfxdp__FlowBatch b = NFXDP__FLOW_BATCH__INIT, *dec, *ref;
		struct pb_out o = { 0 };
		char *got, *want;

		for (int k = 0; k < 3; k++)
			edge_flow(&flows[k]);
		b.n_flows = 3;
		b.flows = ptrs;
		ASSERT_EQ(pb_encode(&o, &b.base), 0, "encoded");
		/* Field 200, unknown to FlowBatch: well-formed, not nfxdp's. */
		o.p = realloc(o.p, o.len + 3);
		o.p[o.len++] = 0xc0;
		o.p[o.len++] = 0x0c;
		o.p[o.len++] = 0x01;
		ref = nfxdp__flow_batch__unpack(NULL, o.len, o.p);
		dec = cat_decode(o.p, o.len);
		ASSERT_TRUE(ref && dec && dec->n_flows == 3, "decoded, three flows");
		for (int k = 0; ref && dec && k < 3; k++) {
			got = row_text(format_json, &cols, dec->flows[k]);
			want = row_text(format_json, &cols, ref->flows[k]);
			ASSERT_TRUE(same_text(got, want, "JSON line", k), "the same as protobuf-c's");
			free(got);
			free(want);
		}
		cat_decoded_free(dec);
		nfxdp__flow_batch__free_unpacked(ref, NULL);
		for (int k = 0; k < 3; k++)
			edge_flow_free(&flows[k]);
		free(o.p);
	}
	TEST("encode: a string past 16 KiB moves its message's length prefix")
	{
		Nfxdp__Flow f, *fp = &f;
		char *big = malloc(20001);

		memset(big, 'x', 20000);
		big[20000] = '\0';
		nfxdp__flow__init(&f);
		f.user_agent = big;
		ASSERT_TRUE(batch_agrees(&cols, &fp, 1, 1), "same bytes");
		free(big);
	}
	free(flows);
}

int main(void)
{
	test_suite = "unit";
	test_cli();
	test_every_option();
	test_config_file();
	test_record();
	test_format();
	test_fast_paths();
	test_record_features();
	test_batch();
	test_bigarray();
	test_poller_due();
	test_wheel_order();
	test_export_file();
	test_spool_rotation();
	test_lazylib();
	return test_summary();
}
