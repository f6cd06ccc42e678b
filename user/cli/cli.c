// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>

#include "flow.h"
#include "cli/cli.h"
#include "select/packet_filter.h"
#include "select/flow_filter.h"
#include "common/log.h"
#include "export/curve.h"

/* Ethernet and an IPv4 header: less cannot be parsed at all. */
#define MIN_SNAPLEN 34

#ifndef NFXDP_VERSION
#define NFXDP_VERSION "0.1.0"
#endif

void config_defaults(struct nfx_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->xdp_mode = XDP_MODE_NATIVE;
	cfg->idle_timeout_ms = 120000;
	cfg->active_timeout_ms = 1800000;
	cfg->natural_expiry = true;
	cfg->natural_linger_ms = 1000;
	cfg->max_flows = 1 << 20;
	cfg->poll_ms = 1000;
	cfg->accounting = ACCOUNT_LINK;
	cfg->decode_tunnels = true;
	cfg->zmq_endpoint = DEFAULT_ZMQ_ENDPOINT;
	cfg->batch_flows = 256;
	cfg->batch_ms = 1000;
	cfg->format = FORMAT_CSV;
	cfg->pin_dir = DEFAULT_PIN_DIR;
	cfg->nic_metadata = true;
	cfg->ipfix_template_s = 60;
	cfg->mqtt_qos = 1;
	cfg->mqtt_queue = 1000;
}

void config_usage(FILE *out)
{
	fprintf(out,
"Usage: nfxdp --iface IFACE [options]     meter a live interface with XDP\n"
"       nfxdp --pcap FILE [FILE...] [options]  meter capture files\n"
"\n"
"Meters every packet into bidirectional flows in the kernel (XDP) and exports\n"
"flow records as protobuf batches over ZeroMQ, or as CSV/JSON/protobuf files.\n"
"\n"
"Input:\n"
"  -i, --iface IFACE        interface to attach to; repeat (or IFACE,IFACE) for\n"
"                           several, all feeding one flow cache\n"
"      --xdp-mode MODE      native (driver, default) or generic (any interface,\n"
"                           slower: the fallback when the driver lacks XDP)\n"
"      --nic-metadata on|off  in native mode, where the driver offers XDP RX\n"
"                           metadata, read the NIC's receive timestamps and the\n"
"                           VLAN tags it strips (a device-bound program per\n"
"                           interface); records say which clock stamped them (on)\n"
"      --persist            keep metering when nfxdp stops or crashes: the XDP\n"
"                           link and the flow cache stay pinned in bpffs, and\n"
"                           nfxdp started again on the same interfaces resumes\n"
"                           them (same stream, next sequence number)\n"
"      --detach IFACE       end a --persist meter: detach it from IFACE (as given\n"
"                           to --iface), export every flow it holds, unpin it\n"
"      --pin-dir DIR        bpffs directory for the pins (" DEFAULT_PIN_DIR ";\n"
"                           bpffs is mounted there if it is not)\n"
"  -r, --pcap FILE...       read pcap/pcapng files, one after another, as one\n"
"                           capture (flow time is capture time)\n"
"      --replay-mode MODE   batch (default: frame headers in batches through the\n"
"                           meter's replay entry point) or frame (each whole frame\n"
"                           through the XDP program itself, slower); same records\n"
"\n"
"Flow metering:\n"
"      --idle-timeout S     export a flow idle for S seconds (120; 0: never)\n"
"      --active-timeout S   export a flow older than S seconds (1800; 0: never)\n"
"      --natural-expiry on|off  export TCP flows after FIN both ways or RST,\n"
"                           once quiet for --natural-linger (on)\n"
"      --natural-linger S   quiet time after the teardown, so the final ACK\n"
"                           stays in the flow (1)\n"
"      --max-flows N        flow cache entries (1048576)\n"
"      --accounting MODE    bytes counted: link (frame, default), ip, transport,\n"
"                           payload (NFStream accounting_mode 0..3)\n"
"      --statistical        packet size, inter-arrival and TCP flag statistics per\n"
"                           direction (NFStream's statistical_analysis)\n"
"      --splt N             direction, size and inter-arrival of each flow's first\n"
"                           N packets, N <= 32 (NFStream's splt_analysis)\n"
"      --decode-tunnels on|off  meter the flows inside GTP-U, CAPWAP and TZSP\n"
"                           (on; IP-in-IP is always decoded)\n"
"      --poll-ms MS         how often the collector scans for expired flows (1000)\n"
"\n"
"Observation and selection:\n"
"      --sample N           meter 1 in N frames, chosen before any parsing; every\n"
"                           record carries sampling_rate N\n"
"      --sample-mode MODE   random (default) or systematic (every N-th, per CPU)\n"
"      --scale-sampled      export packets, bytes and flag counts multiplied by N\n"
"      --filter EXPR        meter only the packets EXPR selects, e.g.\n"
"                           'tcp and port 443 and not net 198.18.0.0/24';\n"
"                           tests: tcp udp icmp icmp6 sctp proto P ip ip6\n"
"                           [src|dst] port N, portrange N-M, host A, net A/L,\n"
"                           vlan N[-M], hash K/N (slice K of N, by flow key);\n"
"                           and or not ( )\n"
"      --snaplen BYTES      read at most BYTES of each frame's headers (256)\n"
"      --flow-filter EXPR   export only the flows EXPR selects, by record field:\n"
"                           'bidirectional_packets >= 3 and protocol == 6'\n"
"      --flow-sample N      export 1 in N flows, chosen by flow key hash\n"
"\n"
"Export:\n"
"      --zmq ENDPOINT       publish on a ZeroMQ PUB socket (default\n"
"                           " DEFAULT_ZMQ_ENDPOINT " unless --output is given)\n"
"      --no-zmq             do not publish on ZeroMQ\n"
"      --zmq-curve FILE     encrypt the stream with CURVE, with the key pair in\n"
"                           FILE; subscribers need FILE.pub (nfxdp-cat\n"
"                           --curve-server-key FILE.pub)\n"
"      --curve-keygen FILE  write a new key pair to FILE and FILE.pub, and exit\n"
"      --zmq-wait S         before the first batch, wait up to S seconds for a\n"
"                           subscriber (PUB drops what nobody subscribed to yet)\n"
"      --batch-flows N      flows per batch message (256)\n"
"      --batch-ms MS        send a batch at most MS after its first flow (1000)\n"
"  -o, --output PATH|-      also write flows to a file (or stdout)\n"
"      --output-rotate SIZE  once the file holds SIZE bytes (k, M, G: powers\n"
"                           of 1024), rename it PATH.1 (replacing the last one)\n"
"                           and start a new PATH: about 2 x SIZE on disk at\n"
"                           most; nfxdp-cat --follow reads on across (0: never)\n"
"      --format FMT         file format: csv (default), jsonl, pb (length-\n"
"                           delimited FlowBatch messages)\n"
"      --compress           gzip the --output file; deflate ZeroMQ batches (topic\n"
"                           \"flowsz\" instead of \"flows\"; nfxdp-cat reads both)\n"
"      --ipfix TARGET       export IPFIX (RFC 7011, biflows as RFC 5103) to a\n"
"                           collector: [udp://|tcp://]HOST[:PORT] (UDP; 4739)\n"
"      --ipfix-domain N     IPFIX observation domain id (0)\n"
"      --ipfix-template-refresh S  UDP: templates again every S seconds and\n"
"                           every 100 messages (60)\n"
"      --ipfix-msg-size BYTES  largest IPFIX message (UDP 1400, TCP 16384)\n"
"      --mqtt URL           publish each batch to an MQTT broker (QoS 1):\n"
"                           mqtt://HOST[:PORT][/TOPIC] (1883), mqtts:// (8883)\n"
"      --mqtt-topic TOPIC   MQTT topic when the URL has none (nfxdp/flows)\n"
"      --mqtt-qos N         MQTT quality of service, 0, 1 or 2 (1)\n"
"      --mqtt-client-id ID  MQTT client id (nfxdp-PID-HOSTNAME)\n"
"      --mqtt-user USER     MQTT user name\n"
"      --mqtt-password-file FILE  its password: the file's first line\n"
"      --mqtt-ca FILE       mqtts: CA to verify the broker (the system's)\n"
"      --mqtt-cert FILE     mqtts: client certificate ...\n"
"      --mqtt-key FILE      ... and its key, when the broker asks for one\n"
"      --mqtt-queue N       batches waiting for the broker, then dropped (1000)\n"
"\n"
"Other:\n"
"      --stats S            print counters every S seconds (always at exit)\n"
"      --metrics ADDR:PORT  serve /metrics (Prometheus) and /healthz over HTTP,\n"
"                           e.g. 127.0.0.1:9101 (a bare PORT is loopback)\n"
"      --config FILE        read options from FILE first, one per line as here\n"
"                           without \"--\" (iface = eth0, statistical); the\n"
"                           command line overrides it. Default: " DEFAULT_CONFIG "\n"
"                           when it exists; --config none reads none\n"
"  -v, --verbose            more messages (twice: libbpf's too)\n"
"  -h, --help               this text\n"
"  -V, --version            the version\n"
"\n"
"expiration_id in records: 0 idle, 1 active, 2 natural, 3 emergency, 4 flush\n"
"(exit, --detach or end of capture). SIGINT/SIGTERM detach the program, then\n"
"flush; with --persist they leave both in place for the next nfxdp.\n");
}

enum {
	OPT_XDP_MODE = 256,
	OPT_REPLAY_MODE,
	OPT_IDLE,
	OPT_ACTIVE,
	OPT_NATURAL,
	OPT_LINGER,
	OPT_MAX_FLOWS,
	OPT_ACCOUNTING,
	OPT_TUNNELS,
	OPT_STATISTICAL,
	OPT_SPLT,
	OPT_POLL,
	OPT_SAMPLE,
	OPT_SAMPLE_MODE,
	OPT_SCALE,
	OPT_FILTER,
	OPT_SNAPLEN,
	OPT_FLOW_FILTER,
	OPT_FLOW_SAMPLE,
	OPT_NIC_METADATA,
	OPT_PERSIST,
	OPT_DETACH,
	OPT_PIN_DIR,
	OPT_ZMQ,
	OPT_CONFIG,
	OPT_IPFIX,
	OPT_IPFIX_DOMAIN,
	OPT_IPFIX_TEMPLATE,
	OPT_IPFIX_MSG_SIZE,
	OPT_MQTT,
	OPT_MQTT_TOPIC,
	OPT_MQTT_QOS,
	OPT_MQTT_CLIENT_ID,
	OPT_MQTT_USER,
	OPT_MQTT_PASSWORD_FILE,
	OPT_MQTT_CA,
	OPT_MQTT_CERT,
	OPT_MQTT_KEY,
	OPT_MQTT_QUEUE,
	OPT_ZMQ_CURVE,
	OPT_CURVE_KEYGEN,
	OPT_NO_ZMQ,
	OPT_ZMQ_WAIT,
	OPT_BATCH_FLOWS,
	OPT_BATCH_MS,
	OPT_FORMAT,
	OPT_OUTPUT_ROTATE,
	OPT_COMPRESS,
	OPT_STATS,
	OPT_METRICS,
};

static const struct option long_options[] = {
	{ "iface", required_argument, NULL, 'i' },
	{ "xdp-mode", required_argument, NULL, OPT_XDP_MODE },
	{ "pcap", required_argument, NULL, 'r' },
	{ "replay-mode", required_argument, NULL, OPT_REPLAY_MODE },
	{ "idle-timeout", required_argument, NULL, OPT_IDLE },
	{ "active-timeout", required_argument, NULL, OPT_ACTIVE },
	{ "natural-expiry", required_argument, NULL, OPT_NATURAL },
	{ "natural-linger", required_argument, NULL, OPT_LINGER },
	{ "max-flows", required_argument, NULL, OPT_MAX_FLOWS },
	{ "accounting", required_argument, NULL, OPT_ACCOUNTING },
	{ "decode-tunnels", required_argument, NULL, OPT_TUNNELS },
	{ "statistical", no_argument, NULL, OPT_STATISTICAL },
	{ "splt", required_argument, NULL, OPT_SPLT },
	{ "poll-ms", required_argument, NULL, OPT_POLL },
	{ "sample", required_argument, NULL, OPT_SAMPLE },
	{ "sample-mode", required_argument, NULL, OPT_SAMPLE_MODE },
	{ "scale-sampled", no_argument, NULL, OPT_SCALE },
	{ "filter", required_argument, NULL, OPT_FILTER },
	{ "snaplen", required_argument, NULL, OPT_SNAPLEN },
	{ "flow-filter", required_argument, NULL, OPT_FLOW_FILTER },
	{ "flow-sample", required_argument, NULL, OPT_FLOW_SAMPLE },
	{ "nic-metadata", required_argument, NULL, OPT_NIC_METADATA },
	{ "persist", no_argument, NULL, OPT_PERSIST },
	{ "detach", required_argument, NULL, OPT_DETACH },
	{ "pin-dir", required_argument, NULL, OPT_PIN_DIR },
	{ "zmq", required_argument, NULL, OPT_ZMQ },
	{ "config", required_argument, NULL, OPT_CONFIG },
	{ "ipfix", required_argument, NULL, OPT_IPFIX },
	{ "ipfix-domain", required_argument, NULL, OPT_IPFIX_DOMAIN },
	{ "ipfix-template-refresh", required_argument, NULL, OPT_IPFIX_TEMPLATE },
	{ "ipfix-msg-size", required_argument, NULL, OPT_IPFIX_MSG_SIZE },
	{ "mqtt", required_argument, NULL, OPT_MQTT },
	{ "mqtt-topic", required_argument, NULL, OPT_MQTT_TOPIC },
	{ "mqtt-qos", required_argument, NULL, OPT_MQTT_QOS },
	{ "mqtt-client-id", required_argument, NULL, OPT_MQTT_CLIENT_ID },
	{ "mqtt-user", required_argument, NULL, OPT_MQTT_USER },
	{ "mqtt-password-file", required_argument, NULL, OPT_MQTT_PASSWORD_FILE },
	{ "mqtt-ca", required_argument, NULL, OPT_MQTT_CA },
	{ "mqtt-cert", required_argument, NULL, OPT_MQTT_CERT },
	{ "mqtt-key", required_argument, NULL, OPT_MQTT_KEY },
	{ "mqtt-queue", required_argument, NULL, OPT_MQTT_QUEUE },
	{ "zmq-curve", required_argument, NULL, OPT_ZMQ_CURVE },
	{ "curve-keygen", required_argument, NULL, OPT_CURVE_KEYGEN },
	{ "no-zmq", no_argument, NULL, OPT_NO_ZMQ },
	{ "zmq-wait", required_argument, NULL, OPT_ZMQ_WAIT },
	{ "batch-flows", required_argument, NULL, OPT_BATCH_FLOWS },
	{ "batch-ms", required_argument, NULL, OPT_BATCH_MS },
	{ "output", required_argument, NULL, 'o' },
	{ "format", required_argument, NULL, OPT_FORMAT },
	{ "output-rotate", required_argument, NULL, OPT_OUTPUT_ROTATE },
	{ "compress", no_argument, NULL, OPT_COMPRESS },
	{ "stats", required_argument, NULL, OPT_STATS },
	{ "metrics", required_argument, NULL, OPT_METRICS },
	{ "verbose", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 },
};

/* Seconds, possibly fractional, as milliseconds. */
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

/* The compiled filters live as long as the process. */
static int compile_filter(struct nfx_config *cfg, const char *expr)
{
	static struct filter_compiled compiled;
	char err[1024];

	if (filter_compile(expr, &compiled, err, sizeof(err))) {
		pr_warn("%s\n", err);
		return -1;
	}
	cfg->filter = &compiled;
	return 0;
}

static int compile_flow_filter(struct nfx_config *cfg, const char *expr)
{
	static struct flowfilter compiled;
	char err[1024];

	if (flowfilter_compile(&compiled, expr, err, sizeof(err))) {
		pr_warn("%s\n", err);
		return -1;
	}
	cfg->flow_filter = &compiled;
	return 0;
}

static int add_ifaces(struct nfx_config *cfg, const char *arg)
{
	char *copy = strdup(arg), *save = NULL, *tok;

	if (!copy)
		return -1;
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (cfg->n_ifaces == MAX_IFACES) {
			pr_warn("--iface: at most %d interfaces\n", MAX_IFACES);
			return -1;
		}
		cfg->ifaces[cfg->n_ifaces++] = strdup(tok);
	}
	free(copy);
	return 0;
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

/* Options whose argument is kept as given (checked where it is used). */
static const struct {
	int opt;
	size_t off;
} string_options[] = {
	{ OPT_METRICS, offsetof(struct nfx_config, metrics_addr) },
	{ OPT_PIN_DIR, offsetof(struct nfx_config, pin_dir) },
	{ OPT_ZMQ_CURVE, offsetof(struct nfx_config, zmq_curve) },
	{ OPT_IPFIX, offsetof(struct nfx_config, ipfix) },
	{ OPT_MQTT, offsetof(struct nfx_config, mqtt) },
	{ OPT_MQTT_TOPIC, offsetof(struct nfx_config, mqtt_topic) },
	{ OPT_MQTT_CLIENT_ID, offsetof(struct nfx_config, mqtt_client_id) },
	{ OPT_MQTT_USER, offsetof(struct nfx_config, mqtt_user) },
	{ OPT_MQTT_PASSWORD_FILE, offsetof(struct nfx_config, mqtt_password_file) },
	{ OPT_MQTT_CA, offsetof(struct nfx_config, mqtt_ca) },
	{ OPT_MQTT_CERT, offsetof(struct nfx_config, mqtt_cert) },
	{ OPT_MQTT_KEY, offsetof(struct nfx_config, mqtt_key) },
};

static bool parse_string_option(struct nfx_config *cfg, int opt, const char *arg)
{
	for (size_t i = 0; i < sizeof(string_options) / sizeof(string_options[0]); i++) {
		if (string_options[i].opt == opt) {
			*(const char **)((char *)cfg + string_options[i].off) = arg;
			return true;
		}
	}
	return false;
}

static int parse_option(struct nfx_config *cfg, int opt, const char *arg, bool *zmq_set)
{
	static const char *const modes[] = { "native", "generic", NULL };
	static const char *const onoff[] = { "off", "on", NULL };
	static const char *const accounting[] = { "link", "ip", "transport", "payload", NULL };
	static const char *const formats[] = { "csv", "jsonl", "pb", NULL };
	static const char *const replay_modes[] = { "batch", "frame", NULL };
	static const char *const sample_modes[] = { "random", "systematic", NULL };
	int v;

	if (parse_string_option(cfg, opt, arg))
		return 0;
	switch (opt) {
	case 'i':
		return add_ifaces(cfg, arg);
	case 'r':
		if (cfg->n_pcaps == MAX_PCAPS) {
			pr_warn("--pcap: at most %d files\n", MAX_PCAPS);
			return -1;
		}
		cfg->pcaps[cfg->n_pcaps++] = arg;
		return 0;
	case OPT_XDP_MODE:
		if ((v = parse_choice("xdp-mode", arg, modes)) < 0)
			return -1;
		cfg->xdp_mode = v;
		return 0;
	case OPT_REPLAY_MODE:
		if ((v = parse_choice("replay-mode", arg, replay_modes)) < 0)
			return -1;
		cfg->replay_frames = v;
		return 0;
	case OPT_IDLE:
		return parse_seconds("idle-timeout", arg, &cfg->idle_timeout_ms);
	case OPT_ACTIVE:
		return parse_seconds("active-timeout", arg, &cfg->active_timeout_ms);
	case OPT_NATURAL:
		if ((v = parse_choice("natural-expiry", arg, onoff)) < 0)
			return -1;
		cfg->natural_expiry = v;
		return 0;
	case OPT_LINGER:
		return parse_seconds("natural-linger", arg, &cfg->natural_linger_ms);
	case OPT_MAX_FLOWS:
		return parse_u32("max-flows", arg, 16, 1U << 30, &cfg->max_flows);
	case OPT_ACCOUNTING:
		if ((v = parse_choice("accounting", arg, accounting)) < 0)
			return -1;
		cfg->accounting = v;
		return 0;
	case OPT_TUNNELS:
		if ((v = parse_choice("decode-tunnels", arg, onoff)) < 0)
			return -1;
		cfg->decode_tunnels = v;
		return 0;
	case OPT_STATISTICAL:
		cfg->statistical = true;
		return 0;
	case OPT_SPLT:
		return parse_u32("splt", arg, 0, SPLT_MAX, &cfg->splt);
	case OPT_POLL:
		return parse_u32("poll-ms", arg, 1, 3600000, &cfg->poll_ms);
	case OPT_CONFIG:
		return 0; /* read before the other options */
	case OPT_NIC_METADATA:
		if ((v = parse_choice("nic-metadata", arg, onoff)) < 0)
			return -1;
		cfg->nic_metadata = v;
		return 0;
	case OPT_PERSIST:
		cfg->persist = true;
		return 0;
	case OPT_DETACH:
		cfg->detach = true;
		return add_ifaces(cfg, arg);
	case OPT_ZMQ:
		cfg->zmq_endpoint = arg;
		*zmq_set = true;
		return 0;
	case OPT_NO_ZMQ:
		cfg->zmq_endpoint = NULL;
		*zmq_set = true;
		return 0;
	case OPT_SAMPLE:
		return parse_u32("sample", arg, 1, 1U << 31, &cfg->sample_n);
	case OPT_SAMPLE_MODE:
		if ((v = parse_choice("sample-mode", arg, sample_modes)) < 0)
			return -1;
		cfg->sample_systematic = v;
		return 0;
	case OPT_SCALE:
		cfg->scale_sampled = true;
		return 0;
	case OPT_FILTER:
		return compile_filter(cfg, arg);
	case OPT_SNAPLEN:
		return parse_u32("snaplen", arg, MIN_SNAPLEN, 65535, &cfg->snaplen);
	case OPT_FLOW_FILTER:
		return compile_flow_filter(cfg, arg);
	case OPT_FLOW_SAMPLE:
		return parse_u32("flow-sample", arg, 1, 1U << 31, &cfg->flow_sample_n);
	case OPT_ZMQ_WAIT:
		return parse_seconds("zmq-wait", arg, &cfg->zmq_wait_ms);
	case OPT_BATCH_FLOWS:
		return parse_u32("batch-flows", arg, 1, 65536, &cfg->batch_flows);
	case OPT_BATCH_MS:
		return parse_u32("batch-ms", arg, 1, 3600000, &cfg->batch_ms);
	case 'o':
		cfg->output = arg;
		return 0;
	case OPT_FORMAT:
		if ((v = parse_choice("format", arg, formats)) < 0)
			return -1;
		cfg->format = v;
		return 0;
	case OPT_OUTPUT_ROTATE:
		return parse_size("output-rotate", arg, &cfg->output_rotate);
	case OPT_COMPRESS:
		cfg->compress = true;
		return 0;
	case OPT_STATS:
		return parse_u32("stats", arg, 0, 86400, &cfg->stats_interval_s);
	case OPT_IPFIX_DOMAIN:
		return parse_u32("ipfix-domain", arg, 0, UINT32_MAX, &cfg->ipfix_domain);
	case OPT_IPFIX_TEMPLATE:
		return parse_u32("ipfix-template-refresh", arg, 1, 86400, &cfg->ipfix_template_s);
	case OPT_IPFIX_MSG_SIZE:
		return parse_u32("ipfix-msg-size", arg, 512, 65535, &cfg->ipfix_msg_size);
	case OPT_MQTT_QOS:
		return parse_u32("mqtt-qos", arg, 0, 2, &cfg->mqtt_qos);
	case OPT_MQTT_QUEUE:
		return parse_u32("mqtt-queue", arg, 1, 1000000, &cfg->mqtt_queue);
	case 'v':
		cfg->verbosity++;
		return 0;
	default:
		return -1;
	}
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

static const struct option *find_option(const char *name)
{
	for (const struct option *o = long_options; o->name; o++)
		if (!strcmp(o->name, name))
			return o;
	return NULL;
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

/* One "option = value" line (the long option's name, without --). */
static int apply_config_line(struct nfx_config *cfg, char *line, bool *zmq_set)
{
	static const char *const actions[] = { "help", "version", "config", "curve-keygen", NULL };
	char *key = line, *val = strchr(line, '=');
	const struct option *o;
	int on;

	if (val)
		*val++ = '\0';
	key = trim(key);
	val = val ? trim(val) : "";
	for (int i = 0; actions[i]; i++)
		if (!strcmp(key, actions[i])) {
			pr_warn("'%s' is for the command line, not a configuration file\n", key);
			return -1;
		}
	o = find_option(key);
	if (!o) {
		pr_warn("unknown option '%s'\n", key);
		return -1;
	}
	if (o->has_arg == required_argument) {
		if (!*val) {
			pr_warn("'%s' needs a value: %s = VALUE\n", key, key);
			return -1;
		}
		return parse_option(cfg, o->val, val, zmq_set);
	}
	/* A flag; "verbose" takes a level too. */
	on = o->val == 'v' && *val >= '2' && *val <= '9' && !val[1] ? *val - '0' : flag_value(val);
	if (on < 0) {
		pr_warn("'%s' is a flag: %s, or %s = yes|no\n", key, key, key);
		return -1;
	}
	for (int i = 0; i < on; i++)
		if (parse_option(cfg, o->val, NULL, zmq_set))
			return -1;
	return 0;
}

/*
 * Settings from @path, one option per line as on the command line without
 * its "--" ("iface = eth0", "statistical", "# comments"). The lines stay
 * allocated: options keep pointers into them.
 */
static int read_config_file(struct nfx_config *cfg, const char *path, bool *zmq_set)
{
	FILE *f = fopen(path, "r");
	char *line = NULL;
	size_t cap = 0;
	int lineno = 0, err = 0;

	if (!f) {
		pr_warn("Couldn't read configuration file %s: %s\n", path, strerror(errno));
		return -1;
	}
	while (!err && getline(&line, &cap, f) > 0) {
		char *l = trim(line);

		lineno++;
		if (!*l || *l == '#')
			continue;
		l = strdup(l);
		if (!l || apply_config_line(cfg, l, zmq_set)) {
			pr_warn("(in %s, line %d)\n", path, lineno);
			err = -1;
		}
	}
	free(line);
	fclose(f);
	return err;
}

/* The configuration file: --config FILE, else the default one if it exists. */
static int load_config(struct nfx_config *cfg, int argc, char **argv, bool *zmq_set)
{
	const char *path = config_file_arg(argc, argv);

	if (path && !strcmp(path, "none"))
		return 0;
	if (!path && access(DEFAULT_CONFIG, F_OK))
		return 0;
	return read_config_file(cfg, path ? path : DEFAULT_CONFIG, zmq_set);
}

int config_parse(struct nfx_config *cfg, int argc, char **argv)
{
	bool zmq_set = false, cli_ifaces = false, cli_pcaps = false;
	int opt;

	if (load_config(cfg, argc, argv, &zmq_set))
		return -1;
	optind = 1;
	opterr = 1;
	while ((opt = getopt_long(argc, argv, "i:r:o:vhV", long_options, NULL)) != -1) {
		/* Interfaces and files on the command line replace the file's. */
		if ((opt == 'i' || opt == OPT_DETACH) && !cli_ifaces) {
			cli_ifaces = true;
			cfg->n_ifaces = 0;
		}
		if (opt == 'r' && !cli_pcaps) {
			cli_pcaps = true;
			cfg->n_pcaps = 0;
		}
		if (opt == 'h') {
			config_usage(stdout);
			return 1;
		}
		if (opt == 'V') {
			printf("nfxdp %s\n", NFXDP_VERSION);
			return 1;
		}
		if (opt == OPT_CURVE_KEYGEN)
			return curve_keygen(optarg) ? -1 : 1;
		if (opt == '?' || parse_option(cfg, opt, optarg, &zmq_set)) {
			fprintf(stderr, "Try 'nfxdp --help'.\n");
			return -1;
		}
	}
	/* --pcap takes every file name that follows it. */
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
	if (!cfg->n_ifaces == !cfg->n_pcaps) {
		pr_warn("give either --iface IFACE or --pcap FILE\nTry 'nfxdp --help'.\n");
		return -1;
	}
	/* Another sink turns the default ZeroMQ endpoint off; --zmq keeps it. */
	if ((cfg->output || cfg->ipfix || cfg->mqtt) && !zmq_set)
		cfg->zmq_endpoint = NULL;
	if (check_rotate(cfg))
		return -1;
	return check_persist(cfg);
}
