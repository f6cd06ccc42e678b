// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Every option of nfxdp, once: its name, argument, help text, what it sets
 * and how it is read. cli.c makes getopt's list, --help and the
 * configuration file's parser from this table; the unit tests go through
 * it to check every option.
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "common/log.h"
#include "flow.h"
#include "select/flow_filter.h"
#include "select/pcap_ebpf.h"
#include "select/pcap_filter.h"

/* Ethernet and an IPv4 header: less cannot be parsed at all. */
#define MIN_SNAPLEN 34

#define F(field) offsetof(struct nfx_config, field)

static const char *const onoff[] = { "off", "on", NULL };
static const char *const xdp_modes[] = { "native", "generic", NULL };
static const char *const replay_modes[] = { "batch", "frame", NULL };
static const char *const meters[] = { "auto", "kernel", "user", NULL }; /* enum meter_where */
static const char *const accountings[] = { "link", "ip", "transport", "payload", NULL };
static const char *const sample_modes[] = { "random", "systematic", NULL };
static const char *const formats[] = { "csv", "jsonl", "pb", NULL };
/* Their index + 1 is METER_DIR_*. */
static const char *const directions[] = { "ingress", "egress", "both", NULL };

/* "IFACE:DIR": the direction, METER_DIR_*, cut off @name; 0 when it has none. */
static unsigned int split_direction(char *name)
{
	char *colon = strrchr(name, ':');

	if (!colon)
		return 0;
	for (int i = 0; directions[i]; i++) {
		if (!strcmp(colon + 1, directions[i])) {
			*colon = '\0';
			return i + 1;
		}
	}
	return 0;
}

static int add_iface_list(struct nfx_config *cfg, const char *arg)
{
	char *copy = strdup(arg), *save = NULL, *tok;
	int err = copy ? 0 : -1;

	for (tok = copy ? strtok_r(copy, ",", &save) : NULL; tok && !err;
	     tok = strtok_r(NULL, ",", &save)) {
		if (cfg->n_ifaces == MAX_IFACES) {
			pr_warn("--iface: at most %d interfaces\n", MAX_IFACES);
			err = -1;
		} else {
			cfg->iface_dirs[cfg->n_ifaces] = split_direction(tok);
			if (!(cfg->ifaces[cfg->n_ifaces++] = strdup(tok)))
				err = -1;
		}
	}
	free(copy);
	return err;
}

static int set_detach(struct nfx_config *cfg, const char *arg)
{
	cfg->detach = true;
	return add_iface_list(cfg, arg);
}

static int add_pcap(struct nfx_config *cfg, const char *arg)
{
	if (cfg->n_pcaps == MAX_PCAPS) {
		pr_warn("--pcap: at most %d files\n", MAX_PCAPS);
		return -1;
	}
	cfg->pcaps[cfg->n_pcaps++] = arg;
	return 0;
}

/*
 * The compiled filters live as long as the process. --filter is compiled
 * for Ethernet, what the meter parses (capture replay compiles it again
 * for a capture of another link type), and translated for the kernel now:
 * an expression the meter cannot run is refused before anything is loaded.
 */
static int set_filter(struct nfx_config *cfg, const char *expr)
{
	static struct pcap_filter compiled;
	static struct pcap_ebpf translated;
	char err[4096];

	pcap_filter_free(&compiled);
	pcap_ebpf_free(&translated);
	cfg->filter = NULL;
	cfg->filter_ebpf = NULL;
	if (pcap_filter_compile(&compiled, expr, PCAP_FILTER_ETHERNET, err, sizeof(err)) ||
	    pcap_ebpf_translate(&compiled, PARSE_WINDOW, &translated, err, sizeof(err))) {
		pr_warn("%s\n", err);
		return -1;
	}
	cfg->filter = &compiled;
	cfg->filter_ebpf = &translated;
	return 0;
}

/* K/N, 0 <= K < N. */
static int set_hash_slice(struct nfx_config *cfg, const char *arg)
{
	unsigned long k, n;
	char *end;

	errno = 0;
	k = strtoul(arg, &end, 10);
	if (!errno && end != arg && *end == '/' && end[1] >= '0' && end[1] <= '9') {
		n = strtoul(end + 1, &end, 10);
		if (!errno && !*end && arg[0] >= '0' && arg[0] <= '9' && n >= 1 &&
		    n <= (1UL << 31) && k < n) {
			cfg->hash_slice_k = k;
			cfg->hash_slice_n = n;
			return 0;
		}
	}
	pr_warn("--hash-slice: '%s' is not K/N with 0 <= K < N <= 2147483648\n", arg);
	return -1;
}

static int set_flow_filter(struct nfx_config *cfg, const char *expr)
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

static int set_zmq(struct nfx_config *cfg, const char *arg)
{
	cfg->zmq_endpoint = arg;
	cfg->zmq_chosen = true;
	return 0;
}

static int set_no_zmq(struct nfx_config *cfg, const char *arg)
{
	cfg->zmq_endpoint = NULL;
	cfg->zmq_chosen = true;
	return 0;
}

#define INPUT "Input"
#define METERING "Flow metering"
#define SELECTION "Observation and selection"
#define EXPORT "Export"
#define OTHER "Other"

const struct option_def nfx_options[] = {
	{ "iface", 'i', "IFACE", INPUT,
	  "interface to attach to; repeat (or IFACE,IFACE) for several, all feeding one flow "
	  "cache. IFACE@NETNS: an interface in the named network namespace (ip netns); "
	  "IFACE:DIR: that interface's --direction",
	  OPT_CUSTOM, F(n_ifaces), FIELD_INT, .parse = add_iface_list, .example = "eth1" },
	{ "direction", 0, "DIR", INPUT,
	  "what to meter on the interfaces: ingress (what arrives: XDP), egress (what the host "
	  "sends: TC egress) or both; both directions of a flow meet in one record whichever "
	  "hook saw them",
	  OPT_CHOICE, F(direction), .choices = directions, .example = "ingress" },
	{ "xdp-mode", 0, "MODE", INPUT,
	  "native (the driver's XDP) or generic (any interface, slower: the fallback when the "
	  "driver lacks XDP)",
	  OPT_CHOICE, F(xdp_mode), .choices = xdp_modes, .example = "generic" },
	{ "nic-metadata", 0, "on|off", INPUT,
	  "in native mode, where the driver offers XDP RX metadata, read the NIC's receive "
	  "timestamps and the VLAN tags it strips (a device-bound program per interface); "
	  "records say which clock stamped them",
	  OPT_ONOFF, F(nic_metadata), .choices = onoff, .example = "off" },
	{ "persist", 0, NULL, INPUT,
	  "keep metering when nfxdp stops or crashes: the XDP link and the flow cache stay "
	  "pinned in bpffs, and nfxdp started again on the same interfaces resumes them (same "
	  "stream, next sequence number). Refused where the pins could not outlive nfxdp (ip "
	  "netns exec without the host's bpffs: use IFACE@NETNS from the host)",
	  OPT_FLAG, F(persist) },
	{ "detach", 0, "IFACE", INPUT,
	  "end a --persist meter: detach it from IFACE (as given to --iface), export every flow "
	  "it holds, unpin it",
	  OPT_CUSTOM, F(n_ifaces), FIELD_INT, .parse = set_detach, .example = "eth1" },
	{ "pin-dir", 0, "DIR", INPUT,
	  "bpffs directory for the pins (bpffs is mounted there if it is not)",
	  OPT_STRING, F(pin_dir), .example = "/sys/fs/bpf/other" },
	{ "pcap", 'r', "FILE...", INPUT,
	  "read pcap/pcapng files, one after another, as one capture (flow time is capture "
	  "time); a FIFO works, - is standard input. With no --output, --zmq, --no-zmq, "
	  "--ipfix or --mqtt, the flows go to standard output (--format, CSV by default)",
	  OPT_CUSTOM, F(n_pcaps), FIELD_INT, .parse = add_pcap, .example = "a.pcap" },
	{ "replay-mode", 0, "MODE", INPUT,
	  "batch (frame headers in batches through the meter's replay entry point) or frame "
	  "(each whole frame through the XDP program itself, slower); the same records",
	  OPT_CHOICE, F(replay_frames), .choices = replay_modes, .example = "frame" },
	{ "meter", 0, "kernel|user|auto", INPUT,
	  "where capture files are metered: the XDP program in the kernel (BPF_PROG_TEST_RUN; "
	  "root or CAP_BPF), the same program compiled for user space (no privileges; the "
	  "same records, --dpi's included), or auto: user space (the faster) unless "
	  "--replay-mode frame (which runs the XDP program on whole frames) asks for the "
	  "kernel. Interfaces are always metered in the kernel",
	  OPT_CHOICE, F(meter_where), .choices = meters, .example = "kernel" },

	{ "idle-timeout", 0, "S", METERING,
	  "export a flow idle for S seconds (0: never)",
	  OPT_SECONDS, F(idle_timeout_ms), .example = "1.5" },
	{ "active-timeout", 0, "S", METERING,
	  "export a flow older than S seconds (0: never)",
	  OPT_SECONDS, F(active_timeout_ms), .example = "0" },
	{ "natural-expiry", 0, "on|off", METERING,
	  "export TCP flows after FIN both ways or RST, once quiet for --natural-linger",
	  OPT_ONOFF, F(natural_expiry), .choices = onoff, .example = "off" },
	{ "natural-linger", 0, "S", METERING,
	  "quiet time after the teardown, so the final ACK stays in the flow",
	  OPT_SECONDS, F(natural_linger_ms), .example = "0.25" },
	{ "max-flows", 0, "N", METERING, "flow cache entries",
	  OPT_U32, F(max_flows), .min = 16, .max = 1U << 30, .example = "4096" },
	{ "overflow-export", 0, "on|off", METERING,
	  "with the cache full, export a new flow's packet at once as a one-packet record "
	  "(expiration_id 5) instead of letting the kernel's LRU evict a flow and its counts",
	  OPT_ONOFF, F(overflow_export), .choices = onoff, .example = "off" },
	{ "accounting", 0, "MODE", METERING,
	  "bytes counted: link (the frame), ip, transport, payload (NFStream's "
	  "accounting_mode 0..3)",
	  OPT_CHOICE, F(accounting), .choices = accountings, .example = "payload" },
	{ "statistical", 0, NULL, METERING,
	  "packet size, inter-arrival and TCP flag statistics per direction (NFStream's "
	  "statistical_analysis)",
	  OPT_FLAG, F(statistical) },
	{ "splt", 0, "N", METERING,
	  "direction, size and inter-arrival of each flow's first N packets, N <= 32 "
	  "(NFStream's splt_analysis; 0: off)",
	  OPT_U32, F(splt), .min = 0, .max = SPLT_MAX, .example = "20" },
	{ "dpi", 0, "N", METERING,
	  "application detection (nDPI): the meter hands the payload of each flow's first "
	  "N packets to nDPI, which fills NFStream's application columns (NFStream's "
	  "n_dissections; 0, the default: off, as it costs the collector CPU per flow, and "
	  "--pcap --meter kernel then meters frame by frame; NFStream's default is 20)",
	  OPT_U32, F(dpi), .min = 0, .max = DPI_MAX_PACKETS, .example = "20" },
	{ "dpi-flows", 0, "N", METERING,
	  "flows in dissection at once; a new flow past them is not dissected (counted in "
	  "dpi_flows_full, its record's application_dpi_cut set)",
	  OPT_U32, F(dpi_flows), .min = 1, .max = 1U << 24, .example = "1024" },
	{ "dpi-ring", 0, "SIZE", METERING,
	  "bytes of the ring that takes packets to nDPI (a power of two; k, M, G); a packet "
	  "that finds it full is counted in dpi_ring_full and its record's "
	  "application_dpi_cut set",
	  OPT_SIZE, F(dpi_ring), .example = "4M" },
	{ "export-ring", 0, "SIZE", METERING,
	  "bytes of the ring that takes closed flows and overflow records from the kernel to "
	  "the collector, live (a power of two; k, M, G); a record that finds it full waits "
	  "in the cache, an overflow record is counted lost (lost_overflow_ring_full)",
	  OPT_SIZE, F(export_ring), .example = "64M" },
	{ "decode-tunnels", 0, "on|off", METERING,
	  "meter the flows inside GTP-U, CAPWAP and TZSP (IP-in-IP is always decoded)",
	  OPT_ONOFF, F(decode_tunnels), .choices = onoff, .example = "off" },
	{ "poll-ms", 0, "MS", METERING,
	  "how often the collector expires flows: live, those its expiry wheel says may be "
	  "due, with a pass over the cache once per idle timeout; a pass that reads the "
	  "cache whole (capture files, pressure) and takes over 40 ms is read in slices "
	  "spread over this interval",
	  OPT_U32, F(poll_ms), .min = 1, .max = 3600000, .example = "50" },

	{ "sample", 0, "N", SELECTION,
	  "meter 1 in N frames, chosen before any parsing; every record carries sampling_rate N",
	  OPT_U32, F(sample_n), .min = 1, .max = 1U << 31, .example = "10" },
	{ "sample-mode", 0, "MODE", SELECTION,
	  "random, or systematic (every N-th frame, per CPU)",
	  OPT_CHOICE, F(sample_systematic), .choices = sample_modes, .example = "systematic" },
	{ "scale-sampled", 0, NULL, SELECTION,
	  "export packets, bytes and flag counts multiplied by N",
	  OPT_FLAG, F(scale_sampled) },
	{ "filter", 0, "EXPR", SELECTION,
	  "meter only the frames EXPR selects, in the pcap-filter language (tcpdump's, "
	  "pcap-filter(7), compiled by libpcap), e.g. 'tcp port 443', 'udp dst port 53', "
	  "'src net 10.1.0.0/16 and not icmp', 'tcp[tcpflags] & tcp-syn != 0'; run in the "
	  "kernel on each frame's first 256 bytes (fewer with --snaplen), before any parsing. "
	  "Not --flow-filter's language: that one picks flows by record field",
	  OPT_CUSTOM, F(filter), FIELD_PTR, .parse = set_filter, .example = "tcp port 443" },
	{ "hash-slice", 0, "K/N", SELECTION,
	  "meter only the flows whose key hash falls in slice K of N (0 <= K < N), both "
	  "directions alike: N collectors with K = 0..N-1 split a link's flows with no overlap "
	  "and no gap",
	  OPT_CUSTOM, F(hash_slice_n), FIELD_INT, .parse = set_hash_slice, .example = "1/4" },
	{ "snaplen", 0, "BYTES", SELECTION,
	  "read at most BYTES of each frame's headers (the parse window: 256)",
	  OPT_U32, F(snaplen), .min = MIN_SNAPLEN, .max = 65535, .example = "96" },
	{ "flow-filter", 0, "EXPR", SELECTION,
	  "export only the flows EXPR selects, by record field, in a language of its own (not "
	  "--filter's pcap-filter): 'bidirectional_packets >= 3 and protocol == 6'",
	  OPT_CUSTOM, F(flow_filter), FIELD_PTR, .parse = set_flow_filter,
	  .example = "protocol == 6" },
	{ "flow-sample", 0, "N", SELECTION, "export 1 in N flows, chosen by flow key hash",
	  OPT_U32, F(flow_sample_n), .min = 1, .max = 1U << 31, .example = "3" },

	{ "zmq", 0, "ENDPOINT", EXPORT,
	  "publish on a ZeroMQ PUB socket; the default with --iface unless --output, --ipfix "
	  "or --mqtt is given (with --pcap: only when asked)",
	  OPT_CUSTOM, F(zmq_endpoint), FIELD_STR, .parse = set_zmq, .example = "ipc:///tmp/x" },
	{ "no-zmq", 0, NULL, EXPORT, "do not publish on ZeroMQ",
	  OPT_CUSTOM, F(zmq_endpoint), FIELD_STR, .parse = set_no_zmq },
	{ "zmq-curve", 0, "FILE", EXPORT,
	  "encrypt the stream with CURVE, with the key pair in FILE; subscribers need FILE.pub "
	  "(nfxdp-cat --curve-server-key FILE.pub)",
	  OPT_STRING, F(zmq_curve), .example = "/etc/nfxdp/curve" },
	{ "curve-keygen", 0, "FILE", EXPORT,
	  "write a new key pair to FILE and FILE.pub, and exit",
	  OPT_ACTION, .cli_only = true },
	{ "zmq-wait", 0, "S", EXPORT,
	  "for S seconds after binding, hold batches back (up to the high-water mark) until a "
	  "first subscriber joins, since PUB/SUB drops what nobody subscribed to yet; metering, "
	  "the loop and signals go on meanwhile, and a short run (--pcap, --detach) waits at "
	  "its end for what is left of the S seconds (0: publish at once)",
	  OPT_SECONDS, F(zmq_wait_ms), .example = "5" },
	{ "batch-flows", 0, "N", EXPORT, "flows per batch message",
	  OPT_U32, F(batch_flows), .min = 1, .max = 65536, .example = "7" },
	{ "batch-ms", 0, "MS", EXPORT, "send a batch at most MS after its first flow",
	  OPT_U32, F(batch_ms), .min = 1, .max = 3600000, .example = "20" },
	{ "output", 'o', "PATH|-", EXPORT,
	  "also write flows to a file (or stdout); a new file is created 0640 (less if the "
	  "umask says so)",
	  OPT_STRING, F(output), .example = "-" },
	{ "output-rotate", 0, "SIZE", EXPORT,
	  "once the file holds SIZE bytes (k, M, G: powers of 1024), rename it PATH.1 "
	  "(replacing the last one) and start a new PATH: about 2 x SIZE on disk at most; "
	  "nfxdp-cat --follow reads on across (0: never)",
	  OPT_SIZE, F(output_rotate), .example = "64k" },
	{ "format", 0, "FMT", EXPORT,
	  "file format: csv, jsonl, pb (length-delimited FlowBatch messages)",
	  OPT_CHOICE, F(format), .choices = formats, .example = "jsonl" },
	{ "compress", 0, NULL, EXPORT,
	  "gzip the --output file; deflate ZeroMQ batches (topic \"flowsz\" instead of "
	  "\"flows\"; nfxdp-cat reads both)",
	  OPT_FLAG, F(compress) },
	{ "ipfix", 0, "TARGET", EXPORT,
	  "export IPFIX (RFC 7011, biflows as RFC 5103) to a collector: "
	  "[udp://|tcp://]HOST[:PORT] (UDP; 4739)",
	  OPT_STRING, F(ipfix), .example = "tcp://127.0.0.1:4739" },
	{ "ipfix-biflow", 0, "on|off", EXPORT,
	  "on: a biflow record per flow (RFC 5103: reverse elements for the reverse "
	  "direction); off: a record per direction, for collectors that drop reverse "
	  "elements (pmacct's default print plugin)",
	  OPT_ONOFF, F(ipfix_biflow), .choices = onoff, .example = "off" },
	{ "ipfix-domain", 0, "N", EXPORT, "IPFIX observation domain id",
	  OPT_U32, F(ipfix_domain), .min = 0, .max = UINT32_MAX, .example = "7" },
	{ "ipfix-template-refresh", 0, "S", EXPORT,
	  "UDP: templates again every S seconds and every 100 messages",
	  OPT_U32, F(ipfix_template_s), .min = 1, .max = 86400, .example = "5" },
	{ "ipfix-msg-size", 0, "BYTES", EXPORT,
	  "largest IPFIX message (0: 1400 over UDP, 16384 over TCP)",
	  OPT_U32, F(ipfix_msg_size), .min = 512, .max = 65535, .example = "9000" },
	{ "mqtt", 0, "URL", EXPORT,
	  "publish each batch to an MQTT broker (QoS 1): mqtt://HOST[:PORT][/TOPIC] (1883), "
	  "mqtts:// (8883)",
	  OPT_STRING, F(mqtt), .example = "mqtt://127.0.0.1/flows" },
	{ "mqtt-topic", 0, "TOPIC", EXPORT, "MQTT topic when the URL has none (nfxdp/flows)",
	  OPT_STRING, F(mqtt_topic), .example = "site1/flows" },
	{ "mqtt-qos", 0, "N", EXPORT, "MQTT quality of service, 0, 1 or 2",
	  OPT_U32, F(mqtt_qos), .min = 0, .max = 2, .example = "2" },
	{ "mqtt-client-id", 0, "ID", EXPORT, "MQTT client id (nfxdp-PID-HOSTNAME)",
	  OPT_STRING, F(mqtt_client_id), .example = "probe1" },
	{ "mqtt-user", 0, "USER", EXPORT, "MQTT user name",
	  OPT_STRING, F(mqtt_user), .example = "nfxdp" },
	{ "mqtt-password-file", 0, "FILE", EXPORT, "its password: the file's first line",
	  OPT_STRING, F(mqtt_password_file), .example = "/etc/nfxdp/mqtt.pw" },
	{ "mqtt-ca", 0, "FILE", EXPORT, "mqtts: CA to verify the broker (the system's)",
	  OPT_STRING, F(mqtt_ca), .example = "ca.crt" },
	{ "mqtt-cert", 0, "FILE", EXPORT, "mqtts: client certificate ...",
	  OPT_STRING, F(mqtt_cert), .example = "client.crt" },
	{ "mqtt-key", 0, "FILE", EXPORT, "... and its key, when the broker asks for one",
	  OPT_STRING, F(mqtt_key), .example = "client.key" },
	{ "mqtt-queue", 0, "N", EXPORT, "batches waiting for the broker, then dropped",
	  OPT_U32, F(mqtt_queue), .min = 1, .max = 1000000, .example = "10" },

	{ "stats", 0, "S", OTHER, "print counters every S seconds (always at exit; 0: only then)",
	  OPT_U32, F(stats_interval_s), .min = 0, .max = 86400, .example = "5" },
	{ "metrics", 0, "ADDR:PORT", OTHER,
	  "serve /metrics (Prometheus) and /healthz over HTTP, e.g. 127.0.0.1:9101 (a bare "
	  "PORT is loopback)",
	  OPT_STRING, F(metrics_addr), .example = "127.0.0.1:9101" },
	{ "config", 0, "FILE", OTHER,
	  "read options from FILE first, one per line as here without \"--\" (iface = eth0, "
	  "statistical); the command line overrides it. Default: " DEFAULT_CONFIG " when it "
	  "exists; --config none reads none",
	  OPT_ACTION, .cli_only = true },
	{ "verbose", 'v', NULL, OTHER, "more messages (twice: libbpf's too)",
	  OPT_COUNT, F(verbosity) },
	{ "help", 'h', NULL, OTHER, "this text", OPT_ACTION, .cli_only = true },
	{ "version", 'V', NULL, OTHER, "the version", OPT_ACTION, .cli_only = true },
};

const int nfx_n_options = sizeof(nfx_options) / sizeof(nfx_options[0]);
