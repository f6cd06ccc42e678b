// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Reading options, from the table in options.c: the command line (getopt's
 * list made from the table), the configuration file (the same names), and
 * --help (the same help texts, with each default read off the defaults).
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "collector/collector.h"
#include "common/log.h"
#include "export/curve.h"
#include "export/ipfix.h"
#include "export/mqtt.h"
#include "export/zmq.h"

#ifndef NFXDP_VERSION
#define NFXDP_VERSION "0.1.0"
#endif

/* A configuration line longer than this is not one (a binary file, /dev/zero). */
#define CONFIG_LINE_MAX 4096

/* The defaults are the lower layers' own: each is defined once, there. */
void config_defaults(struct nfx_config *cfg)
{
	struct meter_opts mo;
	struct collector_opts co;
	struct ipfix_opts io;
	struct mqtt_opts qo;

	meter_opts_default(&mo);
	collector_opts_default(&co);
	ipfix_opts_default(&io);
	mqtt_opts_default(&qo);
	memset(cfg, 0, sizeof(*cfg));
	cfg->xdp_mode = XDP_MODE_NATIVE;
	cfg->direction = METER_DIR_BOTH - 1;
	cfg->nic_metadata = true;
	cfg->pin_dir = DEFAULT_PIN_DIR;
	cfg->idle_timeout_ms = mo.idle_timeout_ms;
	cfg->active_timeout_ms = mo.active_timeout_ms;
	cfg->natural_expiry = mo.natural_expiry;
	cfg->natural_linger_ms = co.expiry.linger_ms;
	cfg->max_flows = mo.max_flows;
	cfg->overflow_export = mo.overflow_export;
	cfg->accounting = mo.accounting;
	cfg->decode_tunnels = mo.decode_tunnels;
	cfg->poll_ms = 1000;
	cfg->dpi_flows = NFX_DEFAULT_DPI_FLOWS;
	cfg->dpi_ring = mo.dpi_ring_bytes;
	cfg->export_ring = mo.ring_bytes;
	cfg->zmq_endpoint = DEFAULT_ZMQ_ENDPOINT;
	cfg->zmq_wait_ms = ZMQ_WAIT_MS_DEFAULT;
	cfg->batch_flows = co.batch_flows;
	cfg->batch_ms = co.batch_ms;
	cfg->format = FORMAT_CSV;
	cfg->ipfix_template_s = io.template_refresh_s;
	cfg->ipfix_biflow = !io.uniflow;
	cfg->mqtt_qos = qo.qos;
	cfg->mqtt_queue = qo.max_pending;
}

unsigned int config_iface_dirs(const struct nfx_config *cfg, int i)
{
	return cfg->iface_dirs[i] ? cfg->iface_dirs[i] : (unsigned int)cfg->direction + 1;
}

/* ---- reading one option's argument -------------------------------------- */

/* Seconds, possibly fractional, as milliseconds; a value that rounds to 0 is not 0. */
static int parse_seconds(const char *opt, const char *arg, uint64_t *ms)
{
	char *end;
	double s;

	errno = 0;
	s = strtod(arg, &end);
	if (errno || end == arg || *end || !isfinite(s) || s < 0 || s > 1e9) {
		pr_warn("--%s: '%s' is not a number of seconds\n", opt, arg);
		return -1;
	}
	*ms = (uint64_t)llround(s * 1000.0);
	if (s > 0 && !*ms) {
		pr_warn("--%s: '%s' is less than the millisecond nfxdp counts in (0 would mean "
			"never)\n", opt, arg);
		return -1;
	}
	return 0;
}

static int parse_u32(const char *opt, const char *arg, uint32_t min, uint32_t max, uint32_t *out)
{
	unsigned long long v;
	char *end;

	errno = 0;
	v = strtoull(arg, &end, 10);
	if (errno || end == arg || *end || arg[0] == '-' || v < min || v > max) {
		pr_warn("--%s: '%s' is not a whole number from %u to %u\n", opt, arg, min, max);
		return -1;
	}
	*out = (uint32_t)v;
	return 0;
}

int parse_size(const char *opt, const char *arg, uint64_t *out)
{
	static const char units[] = "kmg";
	unsigned long long v;
	const char *u;
	char *end;
	int shift = 0;

	errno = 0;
	v = strtoull(arg, &end, 10);
	if (*end && !end[1] && (u = strchr(units, *end | 0x20)))
		shift = 10 * (int)(u - units + 1);
	if (errno || end == arg || arg[0] == '-' || (*end && !shift) ||
	    v > (UINT64_MAX >> shift)) {
		pr_warn("--%s: '%s' is not a size in bytes (a whole number, with k, M or G)\n",
			opt, arg);
		return -1;
	}
	*out = (uint64_t)v << shift;
	return 0;
}

/* Index of @arg in the NULL-terminated @names, or -1 after a message. */
static int parse_choice(const char *opt, const char *arg, const char *const *names)
{
	char list[256] = "";

	for (int i = 0; names[i]; i++)
		if (!strcmp(arg, names[i]))
			return i;
	for (int i = 0; names[i]; i++)
		snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s", i ? ", " : "",
			 names[i]);
	pr_warn("--%s: '%s' is not one of: %s\n", opt, arg, list);
	return -1;
}

#define FIELD(cfg, o, type) ((type *)((char *)(cfg) + (o)->off))

/* Applies option @o with @arg (NULL for a flag) to @cfg; 0, or -1 after a message. */
static int apply_option(struct nfx_config *cfg, const struct option_def *o, const char *arg)
{
	int v;

	switch (o->kind) {
	case OPT_FLAG:
		*FIELD(cfg, o, bool) = true;
		return 0;
	case OPT_COUNT:
		(*FIELD(cfg, o, int))++;
		return 0;
	case OPT_ONOFF:
	case OPT_CHOICE:
		v = parse_choice(o->name, arg, o->choices);
		if (v < 0)
			return -1;
		if (o->kind == OPT_ONOFF)
			*FIELD(cfg, o, bool) = v;
		else
			*FIELD(cfg, o, int) = v;
		return 0;
	case OPT_SECONDS:
		return parse_seconds(o->name, arg, FIELD(cfg, o, uint64_t));
	case OPT_U32:
		return parse_u32(o->name, arg, o->min, o->max, FIELD(cfg, o, uint32_t));
	case OPT_SIZE:
		return parse_size(o->name, arg, FIELD(cfg, o, uint64_t));
	case OPT_STRING:
		*FIELD(cfg, o, const char *) = arg;
		return 0;
	case OPT_CUSTOM:
		return o->parse(cfg, arg);
	default:
		return -1;
	}
}

static const struct option_def *find_long(const char *name)
{
	for (int i = 0; i < nfx_n_options; i++)
		if (!strcmp(nfx_options[i].name, name))
			return &nfx_options[i];
	return NULL;
}

/* ---- --help ------------------------------------------------------------- */

/* The default of @o as --help shows it, or "" when there is nothing to show. */
static void default_text(const struct option_def *o, const struct nfx_config *d, char *buf,
			 size_t len)
{
	const char *s;

	buf[0] = '\0';
	switch (o->kind) {
	case OPT_ONOFF:
		snprintf(buf, len, "%s", *FIELD(d, o, bool) ? "on" : "off");
		break;
	case OPT_CHOICE:
		snprintf(buf, len, "%s", o->choices[*FIELD(d, o, int)]);
		break;
	case OPT_SECONDS:
		if (*FIELD(d, o, uint64_t))
			snprintf(buf, len, "%g", *FIELD(d, o, uint64_t) / 1000.0);
		break;
	case OPT_U32:
		if (*FIELD(d, o, uint32_t))
			snprintf(buf, len, "%" PRIu32, *FIELD(d, o, uint32_t));
		break;
	case OPT_STRING:
		s = *FIELD(d, o, const char *);
		snprintf(buf, len, "%s", s ? s : "");
		break;
	case OPT_CUSTOM:
		if (o->field == FIELD_STR && o->arg && *FIELD(d, o, const char *))
			snprintf(buf, len, "%s", *FIELD(d, o, const char *));
		break;
	default:
		break;
	}
}

/* A space wrap() keeps: "(default: 120)" stays on one line. */
#define HARD_SPACE '\x1f'

/* Prints @text from column @col (the cursor is at @at), wrapped before column 80. */
static void wrap(FILE *out, const char *text, int col, int at)
{
	while (*text) {
		int room = 80 - col, n = (int)strlen(text), cut = n;

		if (n > room) {
			for (cut = room; cut > 0 && text[cut] != ' '; cut--)
				;
			if (!cut)
				cut = room;
		}
		fprintf(out, "%*s", at < col ? col - at : 0, "");
		for (int i = 0; i < cut; i++)
			fputc(text[i] == HARD_SPACE ? ' ' : text[i], out);
		fputc('\n', out);
		text += cut;
		while (*text == ' ')
			text++;
		at = 0;
	}
}

static void usage_option(FILE *out, const struct option_def *o, const struct nfx_config *d)
{
	char head[64], dflt[128], text[1024];
	int n;

	n = snprintf(head, sizeof(head), "  %c%c%s--%s%s%s", o->short_name ? '-' : ' ',
		     o->short_name ? o->short_name : ' ', o->short_name ? ", " : "  ", o->name,
		     o->arg ? " " : "", o->arg ? o->arg : "");
	default_text(o, d, dflt, sizeof(dflt));
	snprintf(text, sizeof(text), "%s%s%s%s", o->help, dflt[0] ? " (default:\x1f" : "", dflt,
		 dflt[0] ? ")" : "");
	fputs(head, out);
	/* A long head gets the text on the next line, as getopt tools do. */
	if (n > 26) {
		fputc('\n', out);
		n = 0;
	}
	wrap(out, text, 27, n);
}

void config_usage(FILE *out)
{
	struct nfx_config d;
	const char *section = NULL;

	config_defaults(&d);
	fprintf(out,
		"Usage: nfxdp --iface IFACE [options]     meter a live interface with XDP\n"
		"       nfxdp --pcap FILE [FILE...] [options]  meter capture files\n"
		"\n"
		"Meters every packet into bidirectional flows in the kernel (XDP) and exports\n"
		"flow records as protobuf batches over ZeroMQ, or as CSV/JSON/protobuf files,\n"
		"IPFIX and MQTT.\n");
	for (int i = 0; i < nfx_n_options; i++) {
		const struct option_def *o = &nfx_options[i];

		if (!section || strcmp(section, o->section)) {
			section = o->section;
			fprintf(out, "\n%s:\n", section);
		}
		usage_option(out, o, &d);
	}
	fprintf(out,
		"\n"
		"expiration_id in records: 0 idle, 1 active, 2 natural, 3 emergency, 4 flush\n"
		"(exit, --detach or end of capture), 5 overflow (a packet the full cache had no\n"
		"room for, alone in its record). SIGINT/SIGTERM detach the program, then\n"
		"flush; with --persist they leave both in place for the next nfxdp. SIGHUP\n"
		"reopens the --output file (logrotate), SIGUSR1 prints the counters, SIGUSR2\n"
		"is ignored.\n");
}

/* ---- the configuration file --------------------------------------------- */

static char *trim(char *s)
{
	char *end;

	while (*s == ' ' || *s == '\t')
		s++;
	end = s + strlen(s);
	while (end > s && strchr(" \t\r\n", end[-1]))
		*--end = '\0';
	return s;
}

/* A flag's value in the file: on (1), off (0), or -1. */
static int flag_value(const char *v)
{
	static const char *const on[] = { "", "yes", "true", "on", "1", NULL };
	static const char *const off[] = { "no", "false", "off", "0", NULL };

	for (int i = 0; on[i]; i++)
		if (!strcmp(v, on[i]))
			return 1;
	for (int i = 0; off[i]; i++)
		if (!strcmp(v, off[i]))
			return 0;
	return -1;
}

/* A flag in the file: "statistical", "statistical = no", "verbose = 2". */
static int apply_flag(struct nfx_config *cfg, const struct option_def *o, const char *val)
{
	int on = o->kind == OPT_COUNT && *val >= '2' && *val <= '9' && !val[1] ? *val - '0' :
										 flag_value(val);

	if (on < 0) {
		pr_warn("'%s' is a flag: %s, or %s = yes|no\n", o->name, o->name, o->name);
		return -1;
	}
	for (int i = 0; i < on; i++)
		if (apply_option(cfg, o, NULL))
			return -1;
	return 0;
}

int config_apply_line(struct nfx_config *cfg, char *line)
{
	char *key = line, *val = strchr(line, '=');
	const struct option_def *o;

	if (val)
		*val++ = '\0';
	key = trim(key);
	val = val ? trim(val) : "";
	o = find_long(key);
	if (!o) {
		pr_warn("unknown option '%s'\n", key);
		return -1;
	}
	if (o->cli_only) {
		pr_warn("'%s' is for the command line, not a configuration file\n", key);
		return -1;
	}
	if (!o->arg)
		return apply_flag(cfg, o, val);
	if (!*val) {
		pr_warn("'%s' needs a value: %s = VALUE\n", key, key);
		return -1;
	}
	return apply_option(cfg, o, val);
}

/* One line of @f into @buf; -1 at the end, -2 for a line too long to be one. */
static int read_line(FILE *f, char *buf, size_t len)
{
	size_t n;

	if (!fgets(buf, len, f))
		return -1;
	n = strlen(buf);
	if (n == len - 1 && buf[n - 1] != '\n' && !feof(f))
		return -2;
	return 0;
}

/*
 * Settings from @path, one option per line as on the command line without
 * its "--" ("iface = eth0", "statistical", "# comments"). The lines stay
 * allocated: options keep pointers into them.
 */
static int read_config_file(struct nfx_config *cfg, const char *path)
{
	FILE *f = fopen(path, "r");
	char buf[CONFIG_LINE_MAX];
	int lineno = 0, err = 0, r;

	if (!f) {
		pr_warn("Couldn't read configuration file %s: %s\n", path, strerror(errno));
		return -1;
	}
	while (!err && (r = read_line(f, buf, sizeof(buf))) != -1) {
		char *l = trim(buf);

		lineno++;
		if (r == -2) {
			pr_warn("a line longer than %d bytes: not a configuration file?\n",
				CONFIG_LINE_MAX - 1);
			err = -1;
		} else if (*l && *l != '#') {
			l = strdup(l);
			err = !l || config_apply_line(cfg, l) ? -1 : 0;
		}
		if (err)
			pr_warn("(in %s, line %d)\n", path, lineno);
	}
	fclose(f);
	return err;
}

/* --config FILE or --config=FILE anywhere on the command line, else NULL. */
static const char *config_file_arg(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--"))
			break;
		if (!strcmp(argv[i], "--config") && i + 1 < argc)
			return argv[i + 1];
		if (!strncmp(argv[i], "--config=", 9))
			return argv[i] + 9;
	}
	return NULL;
}

/* The configuration file: --config FILE, else the default one if it exists. */
static int load_config(struct nfx_config *cfg, int argc, char **argv)
{
	const char *path = config_file_arg(argc, argv);

	if (path && !strcmp(path, "none"))
		return 0;
	if (!path && access(DEFAULT_CONFIG, F_OK))
		return 0;
	return read_config_file(cfg, path ? path : DEFAULT_CONFIG);
}

/* ---- the command line ---------------------------------------------------- */

/* getopt's list and short option string, from the table. */
static void getopt_lists(struct option *longs, char *shorts)
{
	int n = 0;

	for (int i = 0; i < nfx_n_options; i++) {
		const struct option_def *o = &nfx_options[i];

		longs[i] = (struct option){ o->name, o->arg ? required_argument : no_argument, NULL,
					    256 + i };
		if (o->short_name) {
			shorts[n++] = o->short_name;
			if (o->arg)
				shorts[n++] = ':';
		}
	}
	longs[nfx_n_options] = (struct option){ 0 };
	shorts[n] = '\0';
}

/* The table's entry for what getopt returned. */
static const struct option_def *option_of(int opt)
{
	if (opt >= 256 && opt < 256 + nfx_n_options)
		return &nfx_options[opt - 256];
	for (int i = 0; i < nfx_n_options; i++)
		if (nfx_options[i].short_name && nfx_options[i].short_name == opt)
			return &nfx_options[i];
	return NULL;
}

/* --help, --version, --curve-keygen: 1 when answered, -1 after a failure. */
static int action(const struct option_def *o, const char *arg)
{
	if (!strcmp(o->name, "help")) {
		config_usage(stdout);
		return 1;
	}
	if (!strcmp(o->name, "version")) {
		printf("nfxdp %s\n", NFXDP_VERSION);
		return 1;
	}
	if (!strcmp(o->name, "curve-keygen"))
		return curve_keygen(arg) ? -1 : 1;
	return 0; /* --config: read before the other options */
}

static int check_persist(const struct nfx_config *cfg)
{
	if (!cfg->persist && !cfg->detach)
		return 0;
	if (cfg->n_pcaps) {
		pr_warn("--persist and --detach are for live interfaces, not --pcap\n");
		return -1;
	}
	/* A killed collector would leave a gzip stream without its end. */
	if (cfg->persist && !cfg->detach && cfg->output && cfg->compress) {
		pr_warn("--persist cannot write a --compress'ed --output file: a crash would "
			"leave it truncated; drop --compress\n");
		return -1;
	}
	return 0;
}

/* Rotation renames the file: a file it is, not standard output. */
static int check_rotate(const struct nfx_config *cfg)
{
	if (!cfg->output_rotate)
		return 0;
	if (!cfg->output) {
		pr_warn("--output-rotate needs --output PATH\n");
		return -1;
	}
	if (!strcmp(cfg->output, "-")) {
		pr_warn("--output-rotate cannot rotate standard output (--output -): give a file\n");
		return -1;
	}
	return 0;
}

/* A kernel ring: a power of two, of whole pages, that its largest record fits in. */
static int check_ring(const char *opt, uint64_t r, uint64_t min)
{
	if (r < min || r > (1ULL << 30) || (r & (r - 1))) {
		pr_warn("--%s: a power of two from %" PRIu64 "k to 1G\n", opt, min / 1024);
		return -1;
	}
	return 0;
}

/* What the options say together. */
static int check_config(struct nfx_config *cfg)
{
	if (!cfg->n_ifaces == !cfg->n_pcaps) {
		pr_warn("give either --iface IFACE or --pcap FILE\nTry 'nfxdp --help'.\n");
		return -1;
	}
	/*
	 * A capture file metered with no sink named prints its flows, as
	 * nfdump and tshark do: a ZeroMQ socket nobody has joined yet would
	 * take them to no one. --zmq and --no-zmq name the sinks themselves.
	 */
	if (cfg->n_pcaps && !cfg->output && !cfg->ipfix && !cfg->mqtt && !cfg->zmq_chosen)
		cfg->output = "-";
	/* Another sink turns the default ZeroMQ endpoint off; --zmq keeps it. */
	if ((cfg->output || cfg->ipfix || cfg->mqtt) && !cfg->zmq_chosen)
		cfg->zmq_endpoint = NULL;
	if (check_rotate(cfg) || check_ring("dpi-ring", cfg->dpi_ring, 16384) ||
	    check_ring("export-ring", cfg->export_ring, 16384))
		return -1;
	if (cfg->meter_where == METER_USER && cfg->n_ifaces) {
		pr_warn("--meter user meters capture files (--pcap): an interface is metered by "
			"the kernel's XDP program (--meter kernel)\n");
		return -1;
	}
	if (cfg->meter_where == METER_USER && cfg->dpi) {
		pr_warn("--dpi takes packets from the kernel's meter: it needs --meter kernel "
			"(or auto)\n");
		return -1;
	}
	if (cfg->meter_where == METER_USER && cfg->replay_frames) {
		pr_warn("--replay-mode frame runs the XDP program itself: it needs --meter kernel\n");
		return -1;
	}
	/* The batch entry point sees a frame's headers only; nDPI wants its payload. */
	if (cfg->dpi && cfg->n_pcaps)
		cfg->replay_frames = 1;
	return check_persist(cfg);
}

/* Interfaces and files on the command line replace the file's. */
static void replace_lists(struct nfx_config *cfg, const struct option_def *o, bool *ifaces,
			  bool *pcaps)
{
	if (o->off == offsetof(struct nfx_config, n_ifaces) && !*ifaces) {
		*ifaces = true;
		cfg->n_ifaces = 0;
	}
	if (o->off == offsetof(struct nfx_config, n_pcaps) && !*pcaps) {
		*pcaps = true;
		cfg->n_pcaps = 0;
	}
}

/* --pcap takes every file name that follows it. */
static int trailing_files(struct nfx_config *cfg, int argc, char **argv)
{
	for (; optind < argc && cfg->n_pcaps > 0; optind++) {
		if (cfg->n_pcaps == MAX_PCAPS) {
			pr_warn("--pcap: at most %d files\n", MAX_PCAPS);
			return -1;
		}
		cfg->pcaps[cfg->n_pcaps++] = argv[optind];
	}
	if (optind < argc) {
		pr_warn("unexpected argument '%s'\nTry 'nfxdp --help'.\n", argv[optind]);
		return -1;
	}
	return 0;
}

int config_parse(struct nfx_config *cfg, int argc, char **argv)
{
	struct option longs[nfx_n_options + 1];
	char shorts[2 * nfx_n_options + 1];
	bool cli_ifaces = false, cli_pcaps = false;
	int opt;

	if (load_config(cfg, argc, argv))
		return -1;
	getopt_lists(longs, shorts);
	optind = 1;
	opterr = 1;
	while ((opt = getopt_long(argc, argv, shorts, longs, NULL)) != -1) {
		const struct option_def *o = option_of(opt);
		int r;

		if (!o) {
			fprintf(stderr, "Try 'nfxdp --help'.\n");
			return -1;
		}
		if (o->kind == OPT_ACTION) {
			r = action(o, optarg);
			if (r)
				return r;
			continue;
		}
		replace_lists(cfg, o, &cli_ifaces, &cli_pcaps);
		if (apply_option(cfg, o, optarg)) {
			fprintf(stderr, "Try 'nfxdp --help'.\n");
			return -1;
		}
	}
	if (trailing_files(cfg, argc, argv))
		return -1;
	return check_config(cfg);
}
