/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * nfxdp's command line: one table of options (cli/options.c) from which
 * getopt's list, --help (and through it the man page) and the configuration
 * file's parser are made; the configuration they fill. Only main and the
 * modes read it: they build the lower layers' own options from it.
 */
#ifndef NFXDP_CLI_CLI_H
#define NFXDP_CLI_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "meter/meter.h"
#include "record/format.h"

struct pcap_filter;

/* --meter: where capture files are metered. */
enum meter_where {
	METER_AUTO = 0,
	METER_KERNEL = 1,
	METER_USER = 2, /* meter/umeter.h */
};

struct pcap_ebpf;
struct flowfilter;

#define MAX_IFACES METER_MAX_IFACES
#define MAX_PCAPS 256
#define DEFAULT_PIN_DIR "/sys/fs/bpf/nfxdp"
#define DEFAULT_CONFIG "/etc/nfxdp/nfxdp.conf"

struct nfx_config {
	/* What to meter: interfaces (live) or capture files. */
	const char *ifaces[MAX_IFACES];
	unsigned int iface_dirs[MAX_IFACES]; /* IFACE:DIR, METER_DIR_*; 0: --direction's */
	int n_ifaces;
	int direction;	     /* --direction: index of ingress, egress, both; +1: METER_DIR_* */
	const char *pcaps[MAX_PCAPS];
	int n_pcaps;
	int xdp_mode;	     /* enum xdp_mode */
	bool nic_metadata;   /* device-bound meters reading NIC timestamps, VLAN tags */
	bool persist;	     /* --persist: pins outlive the collector */
	bool detach;	     /* --detach: flush and remove a persistent meter */
	const char *pin_dir; /* bpffs directory holding the pins */
	int replay_frames;   /* --replay-mode frame: one test run per frame through nfx_meter */
	int meter_where;     /* --meter: enum meter_where */

	/* Flow metering. */
	uint64_t idle_timeout_ms;
	uint64_t active_timeout_ms;
	bool natural_expiry;
	uint64_t natural_linger_ms; /* quiet time after FIN/FIN or RST before export */
	uint32_t max_flows;
	bool overflow_export; /* a new flow past max_flows: a one-packet record, not an eviction */
	uint32_t poll_ms;
	int accounting;	  /* enum accounting */
	bool statistical; /* NFStream's statistical_analysis */
	uint32_t splt;	  /* NFStream's splt_analysis: first N packets, 0: off */
	uint32_t dpi;	  /* NFStream's n_dissections: nDPI on the first N packets, 0: off */
	uint32_t dpi_flows; /* flows in dissection at once */
	uint64_t dpi_ring; /* bytes of the kernel's DPI ring */
	uint64_t export_ring; /* bytes of the export ring (closed flows, overflow records) */
	bool decode_tunnels;

	/* Observation and selection. */
	uint32_t sample_n;     /* --sample: 1 in N frames; 0 or 1: all */
	int sample_systematic; /* every N-th frame, else at random */
	bool scale_sampled;    /* multiply exported counts by N */
	uint32_t snaplen;      /* header bytes any stage may read; 0: PARSE_WINDOW */
	const struct pcap_filter *filter;     /* --filter, compiled for Ethernet; NULL: none */
	const struct pcap_ebpf *filter_ebpf;  /* ... translated for the kernel */
	int hash_slice_k, hash_slice_n;	      /* --hash-slice K/N; N = 0: off */
	const struct flowfilter *flow_filter; /* --flow-filter, NULL: none */
	uint32_t flow_sample_n;		      /* --flow-sample: 1 in N flows by key hash */

	/* Export. */
	const char *zmq_endpoint; /* NULL: no ZeroMQ */
	bool zmq_chosen;	  /* --zmq or --no-zmq given: another sink does not turn it off */
	const char *zmq_curve;	  /* CURVE key pair file: an encrypted stream */
	uint64_t zmq_wait_ms;	  /* hold batches for a first subscriber this long after binding */
	uint32_t batch_flows;
	uint32_t batch_ms;
	const char *output;	/* file sink, "-" for stdout */
	uint64_t output_rotate; /* bytes: rotate to PATH.1 past this; 0: never */
	int format;		/* enum out_format */
	bool compress;		/* zlib: files gzip'd, ZeroMQ batches deflated */
	const char *ipfix;	    /* --ipfix [udp://|tcp://]HOST[:PORT]; NULL: none */
	bool ipfix_biflow;	    /* RFC 5103 biflow records, else one per direction */
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

	/* Other. */
	uint32_t stats_interval_s; /* 0: stats only at exit */
	const char *metrics_addr;  /* --metrics ADDR:PORT; NULL: no HTTP endpoint */
	int verbosity;
};

/* How an option's argument is read, and the type of the field it sets. */
enum opt_kind {
	OPT_FLAG,    /* no argument: the bool field becomes true */
	OPT_COUNT,   /* no argument: the int field counts its uses (-v -v) */
	OPT_ONOFF,   /* on|off into a bool */
	OPT_CHOICE,  /* one of .choices, its index into an int */
	OPT_SECONDS, /* seconds, fractions allowed, into a uint64_t of ms */
	OPT_U32,     /* a whole number from .min to .max */
	OPT_SIZE,    /* bytes, with k, M or G, into a uint64_t */
	OPT_STRING,  /* kept as given, checked where it is used */
	OPT_CUSTOM,  /* .parse does it; .off and .field say what it changes */
	OPT_ACTION,  /* answered by config_parse() itself: --help, --version, ... */
};

/* The type of the field an OPT_CUSTOM option changes (for the tests). */
enum opt_field {
	FIELD_NONE,
	FIELD_INT,
	FIELD_PTR, /* compiled filters: set or not */
	FIELD_STR,
};

struct option_def {
	const char *name;    /* --name, and "name = value" in a configuration file */
	char short_name;     /* -c, or 0 */
	const char *arg;     /* what --help calls its argument; NULL: a flag */
	const char *section; /* the --help heading it is listed under */
	const char *help;    /* its --help text, one paragraph */
	enum opt_kind kind;
	size_t off; /* the field of struct nfx_config it sets */
	enum opt_field field;
	uint32_t min, max;	    /* OPT_U32 */
	const char *const *choices; /* OPT_CHOICE: NULL-terminated */
	int (*parse)(struct nfx_config *cfg, const char *arg); /* OPT_CUSTOM: 0 or -1 */
	const char *example; /* a valid argument that is not the default (the option test) */
	bool cli_only;	     /* not in a configuration file */
};

extern const struct option_def nfx_options[];
extern const int nfx_n_options;

void config_defaults(struct nfx_config *cfg);
/* The hooks (METER_DIR_*) to meter cfg's interface @i on. */
unsigned int config_iface_dirs(const struct nfx_config *cfg, int i);
/* Returns 0, 1 when --help or --version was answered, or -1 after a message. */
int config_parse(struct nfx_config *cfg, int argc, char **argv);
void config_usage(FILE *out);
/* One "name = value" line of a configuration file; 0, or -1 after a message. */
int config_apply_line(struct nfx_config *cfg, char *line);
/* A byte count with an optional k, M or G (powers of 1024); -1 after a message. */
int parse_size(const char *opt, const char *arg, uint64_t *out);

#endif /* NFXDP_CLI_CLI_H */
