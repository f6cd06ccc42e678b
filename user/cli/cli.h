/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* nfxdp's command line: every option and its default. */
#ifndef NFXDP_CLI_CLI_H
#define NFXDP_CLI_CLI_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

struct filter_compiled;
struct flowfilter;

#define MAX_IFACES 16
#define MAX_PCAPS 256
#define DEFAULT_ZMQ_ENDPOINT "tcp://127.0.0.1:5556"
#define DEFAULT_PIN_DIR "/sys/fs/bpf/nfxdp"
#define DEFAULT_CONFIG "/etc/nfxdp/nfxdp.conf"

enum xdp_mode {
	XDP_MODE_NATIVE,
	XDP_MODE_GENERIC,
};

enum out_format {
	FORMAT_CSV,
	FORMAT_JSONL,
	FORMAT_PB,
};

struct nfx_config {
	/* What to meter: interfaces (live) or capture files. */
	const char *ifaces[MAX_IFACES];
	int n_ifaces;
	const char *pcaps[MAX_PCAPS];
	int n_pcaps;
	enum xdp_mode xdp_mode;
	bool nic_metadata;   /* device-bound meters reading NIC timestamps, VLAN tags */
	bool persist;	     /* --persist: pins outlive the collector */
	bool detach;	     /* --detach: flush and remove a persistent meter */
	const char *pin_dir; /* bpffs directory holding the pins */
	bool replay_frames; /* --replay-mode frame: one test run per frame through nfx_meter */

	/* Flow metering. */
	uint64_t idle_timeout_ms;
	uint64_t active_timeout_ms;
	bool natural_expiry;
	uint64_t natural_linger_ms; /* quiet time after FIN/FIN or RST before export */
	uint32_t max_flows;
	bool cache_holds_all; /* replay: max_flows covers every frame, the cache cannot fill */
	uint32_t poll_ms;
	int accounting; /* enum accounting */
	bool statistical; /* NFStream's statistical_analysis */
	uint32_t sample_n;	/* --sample: 1 in N frames; 0 or 1: all */
	bool sample_systematic; /* every N-th frame, else at random */
	bool scale_sampled;	/* multiply exported counts by N */
	uint32_t snaplen;	/* header bytes any stage may read; 0: PARSE_WINDOW */
	const struct filter_compiled *filter; /* --filter, NULL: none */
	const struct flowfilter *flow_filter; /* --flow-filter, NULL: none */
	uint32_t flow_sample_n;	/* --flow-sample: 1 in N flows by key hash */
	uint32_t splt;	  /* NFStream's splt_analysis: first N packets, 0: off */
	bool decode_tunnels;

	/* Export. */
	const char *zmq_endpoint; /* NULL: no ZeroMQ */
	const char *zmq_curve;	  /* CURVE key pair file: an encrypted stream */
	const char *ipfix;	    /* --ipfix [udp://|tcp://]HOST[:PORT]; NULL: none */
	uint32_t ipfix_domain;	    /* observation domain id */
	uint32_t ipfix_template_s;  /* UDP: templates again every S seconds */
	uint32_t ipfix_msg_size;    /* bytes per message; 0: 1400 UDP, 16384 TCP */
	const char *mqtt;	    /* --mqtt mqtt[s]://HOST[:PORT][/TOPIC]; NULL: none */
	const char *mqtt_topic;	    /* NULL: the URL's path, else nfxdp/flows */
	uint32_t mqtt_qos;
	const char *mqtt_client_id; /* NULL: nfxdp-PID-HOSTNAME */
	const char *mqtt_user;
	const char *mqtt_password_file;
	const char *mqtt_ca, *mqtt_cert, *mqtt_key;
	uint32_t mqtt_queue; /* batches waiting for the broker before drops */
	uint64_t zmq_wait_ms;	  /* wait for a first subscriber before the first batch */
	uint32_t batch_flows;
	uint32_t batch_ms;
	const char *output; /* file sink, "-" for stdout */
	uint64_t output_rotate; /* bytes: rotate to PATH.1 past this; 0: never */
	enum out_format format;
	bool compress; /* zlib: files gzip'd, ZeroMQ batches deflated */

	uint32_t stats_interval_s; /* 0: stats only at exit */
	const char *metrics_addr;  /* --metrics ADDR:PORT; NULL: no HTTP endpoint */
	int verbosity;
};

void config_defaults(struct nfx_config *cfg);
/* Returns 0, 1 when --help or --version was answered, or -1 after a message. */
int config_parse(struct nfx_config *cfg, int argc, char **argv);
void config_usage(FILE *out);
/* A byte count with an optional k, M or G (powers of 1024); -1 after a message. */
int parse_size(const char *opt, const char *arg, uint64_t *out);

#endif /* NFXDP_CLI_CLI_H */
