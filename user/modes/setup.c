// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <errno.h>
#include <string.h>

#include "export/file.h"
#include "export/ipfix.h"
#include "export/mqtt.h"
#include "export/zmq.h"
#include "modes/setup.h"

volatile sig_atomic_t mode_stop;
volatile sig_atomic_t mode_reopen;
volatile sig_atomic_t mode_report;

static void on_signal(int sig)
{
	if (sig == SIGHUP)
		mode_reopen = 1;
	else if (sig == SIGUSR1)
		mode_report = 1;
	else
		mode_stop = 1;
}

/*
 * SIGHUP and SIGUSR1 kill a process by default, flow cache and all: each
 * gets a handler, or is ignored (SIGUSR2, reserved). They restart the
 * system call they interrupt, so a blocking read or write in a library
 * (libpcap, stdio) never sees EINTR because of them; poll and epoll return
 * early all the same, and the loop acts on the flag.
 */
void mode_install_signals(void)
{
	struct sigaction stop = { .sa_handler = on_signal };
	struct sigaction ask = { .sa_handler = on_signal, .sa_flags = SA_RESTART };

	sigemptyset(&stop.sa_mask);
	sigemptyset(&ask.sa_mask);
	sigaction(SIGINT, &stop, NULL);
	sigaction(SIGTERM, &stop, NULL);
	sigaction(SIGHUP, &ask, NULL);
	sigaction(SIGUSR1, &ask, NULL);
	signal(SIGUSR2, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
}

void mode_handle_signals(struct collector *c)
{
	if (mode_reopen) {
		mode_reopen = 0;
		collector_reopen(c);
	}
	if (mode_report) {
		mode_report = 0;
		collector_report(c, "SIGUSR1");
	}
}

void mode_meter_opts(struct meter_opts *o, const struct nfx_config *cfg)
{
	meter_opts_default(o);
	o->idle_timeout_ms = cfg->idle_timeout_ms;
	o->active_timeout_ms = cfg->active_timeout_ms;
	o->natural_expiry = cfg->natural_expiry;
	o->accounting = cfg->accounting;
	o->decode_tunnels = cfg->decode_tunnels;
	o->statistical = cfg->statistical;
	o->sample_n = cfg->sample_n;
	o->sample_systematic = cfg->sample_systematic;
	o->snaplen = cfg->snaplen;
	o->filter = cfg->filter_ebpf;
	o->hash_k = cfg->hash_slice_k;
	o->hash_n = cfg->hash_slice_n;
	o->splt = cfg->splt;
	o->dpi = cfg->dpi;
	o->dpi_ring_bytes = cfg->dpi_ring;
	o->ring_bytes = cfg->export_ring;
	o->max_flows = cfg->max_flows;
	o->overflow_export = cfg->overflow_export;
}

void mode_collector_opts(struct collector_opts *o, const struct nfx_config *cfg)
{
	collector_opts_default(o);
	o->expiry.idle_ms = cfg->idle_timeout_ms;
	o->expiry.active_ms = cfg->active_timeout_ms;
	o->expiry.natural = cfg->natural_expiry;
	o->expiry.linger_ms = cfg->natural_linger_ms;
	o->expiry.capacity = cfg->max_flows;
	o->expiry.overflow_export = cfg->overflow_export;
	o->batch_flows = cfg->batch_flows;
	o->batch_ms = cfg->batch_ms;
	o->flow_sample_n = cfg->flow_sample_n;
	o->flow_filter = cfg->flow_filter;
	o->scale_sampled = cfg->scale_sampled;
	o->persist = cfg->persist;
	o->dpi_flows = cfg->dpi_flows;
}

static int open_file(struct collector *c, const struct nfx_config *cfg)
{
	struct file_opts o = {
		.path = cfg->output,
		.format = cfg->format,
		.compress = cfg->compress,
		/* A restarted or ending --persist collector continues the file. */
		.append = cfg->persist || cfg->detach,
		.rotate_size = cfg->output_rotate,
		.feat = { .statistical = cfg->statistical, .splt = cfg->splt, .dpi = cfg->dpi },
	};
	int err;
	struct exporter *x = file_exporter_new(&o, &err);

	return x ? collector_add_exporter(c, x) : err;
}

static int open_zmq(struct collector *c, const struct nfx_config *cfg)
{
	struct zmq_opts o = {
		.endpoint = cfg->zmq_endpoint,
		.compress = cfg->compress,
		.curve_key = cfg->zmq_curve,
		.hwm = zmq_hwm_for(cfg->batch_flows, cfg->statistical, cfg->splt),
		.wait_ms = cfg->zmq_wait_ms,
	};
	int err;
	struct exporter *x = zmq_exporter_new(&o, &err);

	return x ? collector_add_exporter(c, x) : err;
}

static int open_ipfix(struct collector *c, const struct nfx_config *cfg)
{
	struct ipfix_opts o;
	struct exporter *x;
	int err;

	ipfix_opts_default(&o);
	o.domain_id = cfg->ipfix_domain;
	o.template_refresh_s = cfg->ipfix_template_s;
	o.max_msg = cfg->ipfix_msg_size;
	o.statistical = cfg->statistical;
	o.dpi = cfg->dpi > 0;
	o.accounting = cfg->accounting;
	o.uniflow = !cfg->ipfix_biflow;
	x = ipfix_exporter_new(cfg->ipfix, &o, &err);
	return x ? collector_add_exporter(c, x) : err;
}

static int open_mqtt(struct collector *c, const struct nfx_config *cfg)
{
	struct mqtt_opts o;
	struct exporter *x;
	int err;

	mqtt_opts_default(&o);
	o.topic = cfg->mqtt_topic;
	o.qos = cfg->mqtt_qos;
	o.client_id = cfg->mqtt_client_id;
	o.username = cfg->mqtt_user;
	o.password_file = cfg->mqtt_password_file;
	o.ca_file = cfg->mqtt_ca;
	o.cert_file = cfg->mqtt_cert;
	o.key_file = cfg->mqtt_key;
	o.max_pending = cfg->mqtt_queue;
	x = mqtt_exporter_new(cfg->mqtt, &o, &err);
	return x ? collector_add_exporter(c, x) : err;
}

int mode_open_sinks(struct collector *c, const struct nfx_config *cfg, bool network)
{
	int err = 0;

	if (!network)
		return cfg->output ? open_file(c, cfg) : 0;
	if (cfg->zmq_endpoint)
		err = open_zmq(c, cfg);
	if (!err && cfg->ipfix)
		err = open_ipfix(c, cfg);
	if (!err && cfg->mqtt)
		err = open_mqtt(c, cfg);
	return err;
}
