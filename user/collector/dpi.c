// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Application detection with nDPI 4.2 (see dpi.h). nDPI is driven as
 * NFStream drives it: every packet of the first N through
 * ndpi_detection_process_packet() with its timestamp in ms (nDPI reads the
 * direction from the IP header); detection ends once nDPI names the
 * application and ndpi_extra_dissection_possible() says it wants nothing
 * more, or after N packets, or when the flow closes; ending undetected asks
 * for nDPI's guess (ndpi_detection_giveup()).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <ndpi_api.h>

#include "collector/dpi.h"
#include "common/log.h"
#include "meter/event_ring.h"

#define DPI_BUCKETS (1U << 16)
/* Beyond its lifetime, a flow's close event may still be on its way: this much more. */
#define DPI_STALE_GRACE_NS (60ULL * 1000000000ULL)
#define DPI_SWEEP_EVENTS (1U << 16) /* a sweep every so many packets */

/*
 * A finished flow's columns, kept until its record is made, with the
 * strings of struct record_app packed one after the other (most are empty:
 * a struct record_app a flow took 660 bytes, 37 MB at 50 K flows).
 */
#define APP_STRINGS(X) X(name) X(category) X(server_name) X(client_fp) X(server_fp) \
	X(user_agent) X(content_type)

struct dpi_app {
	uint32_t guessed;
	uint32_t confidence;
	uint32_t ndpi_id;
	char text[]; /* APP_STRINGS, each ending in a NUL */
};

/* A flow of the kernel's cache nDPI has seen packets of. */
struct dpi_flow {
	struct dpi_flow *next;	   /* in its bucket */
	struct flow_key key;
	uint32_t gen;		   /* which flow of the key: the entry's generation */
	uint64_t first_ns;	   /* its first packet nDPI got, meter clock */
	struct ndpi_flow_struct *nf; /* while in dissection; NULL once done */
	ndpi_protocol proto;
	uint8_t guessed;
	uint32_t fed;		   /* packets given to nDPI */
	bool done;
	bool cut;		   /* a packet missed: see record_app.cut */
	struct dpi_app *app;	   /* made when detection ends; NULL before, or out of memory */
};

struct dpi {
	struct ndpi_detection_module_struct *ndpi;
	struct event_ring ring;	   /* the kernel's DPI ring */
	struct meter *m;
	uint32_t n, max_flows;
	uint64_t lifetime_ns;	   /* see dpi_open(); 0: no sweep */
	uint64_t now_ns;	   /* the latest packet's time */
	uint32_t since_sweep;	   /* packets */
	uint32_t n_done;	   /* requests queued for nfx_dpi_done */
	struct dpi_flow *bucket[DPI_BUCKETS];
	struct dpi_counts cnt;
	uint8_t ip[DPI_SNAP];	   /* a packet as nDPI gets it */
};

static uint32_t bucket_of(const struct flow_key *key, uint32_t gen)
{
	return (flow_key_hash(key) ^ gen * 0x9e3779b1U) & (DPI_BUCKETS - 1);
}

static struct dpi_flow **find(struct dpi *d, const struct flow_key *key, uint32_t gen)
{
	struct dpi_flow **pp = &d->bucket[bucket_of(key, gen)];

	for (; *pp; pp = &(*pp)->next)
		if ((*pp)->gen == gen && !memcmp(&(*pp)->key, key, sizeof(*key)))
			return pp;
	return pp;
}

static bool is_proto(const struct dpi_flow *f, uint16_t id)
{
	return f->proto.master_protocol == id || f->proto.app_protocol == id;
}

/* @a packed (struct dpi_app), or NULL when out of memory. */
static struct dpi_app *app_pack(const struct record_app *a)
{
	size_t len = 0, n;
	struct dpi_app *p;
	char *t;

#define APP_LEN(field) len += strnlen(a->field, sizeof(a->field) - 1) + 1;
	APP_STRINGS(APP_LEN)
#undef APP_LEN
	p = malloc(sizeof(*p) + len);
	if (!p)
		return NULL;
	p->guessed = a->guessed;
	p->confidence = a->confidence;
	p->ndpi_id = a->ndpi_id;
	t = p->text;
#define APP_PUT(field)                                            \
	n = strnlen(a->field, sizeof(a->field) - 1);              \
	memcpy(t, a->field, n);                                   \
	t[n] = '\0';                                              \
	t += n + 1;
	APP_STRINGS(APP_PUT)
#undef APP_PUT
	return p;
}

/* The columns @p packed, into @a (zeroed first: the columns app_pack() does not keep). */
static void app_unpack(const struct dpi_app *p, struct record_app *a)
{
	const char *t = p->text;

	memset(a, 0, sizeof(*a));
	a->guessed = p->guessed;
	a->confidence = p->confidence;
	a->ndpi_id = p->ndpi_id;
#define APP_GET(field)                                            \
	snprintf(a->field, sizeof(a->field), "%s", t);            \
	t += strlen(t) + 1;
	APP_STRINGS(APP_GET)
#undef APP_GET
}

/* NFStream's columns from nDPI's flow state (its collect_info), while it is there. */
static void collect(struct dpi *d, struct dpi_flow *f, struct record_app *a)
{
	struct ndpi_flow_struct *nf = f->nf;

	ndpi_protocol2name(d->ndpi, f->proto, a->name, sizeof(a->name));
	snprintf(a->category, sizeof(a->category), "%s",
		 ndpi_category_get_name(d->ndpi, f->proto.category));
	a->guessed = f->guessed;
	a->ndpi_id = (uint32_t)f->proto.master_protocol << 16 | f->proto.app_protocol;
	if (!nf)
		return;
	a->confidence = nf->confidence;
	snprintf(a->server_name, sizeof(a->server_name), "%s", nf->host_server_name);
	if (is_proto(f, NDPI_PROTOCOL_DHCP)) {
		snprintf(a->client_fp, sizeof(a->client_fp), "%s", nf->protos.dhcp.fingerprint);
	} else if (is_proto(f, NDPI_PROTOCOL_HTTP)) {
		snprintf(a->user_agent, sizeof(a->user_agent), "%s",
			 nf->http.user_agent ? nf->http.user_agent : "");
		snprintf(a->content_type, sizeof(a->content_type), "%s",
			 nf->http.content_type ? nf->http.content_type : "");
	} else if (is_proto(f, NDPI_PROTOCOL_SSH)) {
		snprintf(a->client_fp, sizeof(a->client_fp), "%s", nf->protos.ssh.hassh_client);
		snprintf(a->server_fp, sizeof(a->server_fp), "%s", nf->protos.ssh.hassh_server);
	} else if (is_proto(f, NDPI_PROTOCOL_TLS) || is_proto(f, NDPI_PROTOCOL_QUIC) ||
		   is_proto(f, NDPI_PROTOCOL_DTLS) || is_proto(f, NDPI_PROTOCOL_MAIL_IMAPS) ||
		   is_proto(f, NDPI_PROTOCOL_MAIL_POPS) || is_proto(f, NDPI_PROTOCOL_MAIL_SMTPS)) {
		snprintf(a->client_fp, sizeof(a->client_fp), "%s", nf->protos.tls_quic.ja3_client);
		snprintf(a->server_fp, sizeof(a->server_fp), "%s", nf->protos.tls_quic.ja3_server);
	}
}

/*
 * An application named, as ndpiReader and NFStream decide it: a category
 * alone (nDPI's ndpi_is_protocol_detected() counts one) is no detection,
 * and such a flow still gets nDPI's guess.
 */
static bool detected(const struct dpi_flow *f)
{
	return f->proto.app_protocol != NDPI_PROTOCOL_UNKNOWN;
}

/* The kernel sends no more packets of @f (a best effort: a full queue is sent first). */
static void mark_done(struct dpi *d, const struct dpi_flow *f)
{
	struct dpi_done_req *q = meter_dpi_done_queue(d->m);

	if (d->n_done == DPI_DONE_BATCH) {
		meter_run_dpi_done(d->m, d->n_done);
		d->n_done = 0;
	}
	q[d->n_done].key = f->key;
	q[d->n_done].gen = f->gen;
	d->n_done++;
}

/* Detection over: guess if nothing was detected, keep the columns, free nDPI's state. */
static void finish(struct dpi *d, struct dpi_flow *f, bool tell_kernel)
{
	struct record_app a = { 0 };

	if (f->done)
		return;
	if (f->nf && !detected(f))
		f->proto = ndpi_detection_giveup(d->ndpi, f->nf, 1, &f->guessed);
	collect(d, f, &a);
	f->app = app_pack(&a);
	if (!f->app) {
		static bool warned;

		/* Its record says detection did not finish, not Unknown alone. */
		f->cut = true;
		if (!warned)
			pr_warn("Couldn't keep a flow's application columns: out of memory; its "
				"record says Unknown, application_dpi_cut 1\n");
		warned = true;
	}
	if (f->nf) {
		ndpi_flow_free(f->nf);
		f->nf = NULL;
		d->cnt.in_dissection--;
	}
	f->done = true;
	if (tell_kernel)
		mark_done(d, f);
}

/* The flow of a packet: found, or new (in dissection when there is room). */
static struct dpi_flow *flow_of(struct dpi *d, const struct dpi_event *ev)
{
	struct dpi_flow **pp = find(d, &ev->key, ev->gen), *f = *pp;

	if (f)
		return f;
	f = calloc(1, sizeof(*f));
	if (!f)
		return NULL;
	f->key = ev->key;
	f->gen = ev->gen;
	f->first_ns = ev->ts_ns;
	f->cut = ev->index != 0; /* its first packets went missing */
	if (d->cnt.in_dissection < d->max_flows)
		f->nf = ndpi_flow_malloc(SIZEOF_FLOW_STRUCT);
	if (f->nf) {
		memset(f->nf, 0, SIZEOF_FLOW_STRUCT);
		d->cnt.in_dissection++;
		d->cnt.flows++;
	} else {
		d->cnt.flows_full++;
		f->cut = true;
		finish(d, f, true);
	}
	*pp = f;
	return f;
}

/*
 * The packet as nDPI should see it: no Ethernet padding past the IP length,
 * and a packet cut short (DPI_SNAP, --snaplen) with the length it has, as
 * nDPI ignores a packet shorter than its header says.
 */
static uint32_t ip_packet(struct dpi *d, const struct dpi_event *ev)
{
	uint32_t len = ev->len < DPI_SNAP ? ev->len : DPI_SNAP, said;

	memcpy(d->ip, ev->ip, len);
	if (len >= 20 && (d->ip[0] >> 4) == 4) {
		said = (uint32_t)d->ip[2] << 8 | d->ip[3];
		if (said > len) {
			d->ip[2] = len >> 8;
			d->ip[3] = len & 0xff;
		}
		return said && said < len ? said : len;
	}
	if (len >= 40 && (d->ip[0] >> 4) == 6) {
		said = ((uint32_t)d->ip[4] << 8 | d->ip[5]) + 40;
		if (said > len) {
			d->ip[4] = (len - 40) >> 8;
			d->ip[5] = (len - 40) & 0xff;
		}
		return said > 40 && said < len ? said : len;
	}
	return len;
}

/* Frees the state of flows older than any flow can be: their close never came. */
static void sweep(struct dpi *d)
{
	for (uint32_t i = 0; i < DPI_BUCKETS; i++) {
		struct dpi_flow **pp = &d->bucket[i];

		while (*pp) {
			struct dpi_flow *f = *pp;

			if (f->first_ns + d->lifetime_ns + DPI_STALE_GRACE_NS >= d->now_ns) {
				pp = &f->next;
				continue;
			}
			*pp = f->next;
			if (f->nf) {
				ndpi_flow_free(f->nf);
				d->cnt.in_dissection--;
			}
			free(f->app);
			free(f);
			d->cnt.stale++;
		}
	}
}

static int on_packet(void *ctx, void *data, size_t size)
{
	struct dpi *d = ctx;
	const struct dpi_event *ev = data;
	struct dpi_flow *f;
	uint32_t len;

	if (size < DPI_EVENT_HDR_LEN || size < DPI_EVENT_HDR_LEN + ev->len)
		return 0;
	if (ev->ts_ns > d->now_ns)
		d->now_ns = ev->ts_ns;
	if (d->lifetime_ns && ++d->since_sweep >= DPI_SWEEP_EVENTS) {
		d->since_sweep = 0;
		sweep(d);
	}
	f = flow_of(d, ev);
	if (!f || f->done)
		return 0;
	len = ip_packet(d, ev);
	f->proto = ndpi_detection_process_packet(d->ndpi, f->nf, d->ip, len, ev->ts_ns / 1000000);
	f->fed++;
	d->cnt.packets++;
	if (detected(f) && !ndpi_extra_dissection_possible(d->ndpi, f->nf))
		finish(d, f, true);
	else if (f->fed >= d->n)
		finish(d, f, false); /* the kernel sends no more anyway */
	return 0;
}

struct dpi *dpi_open(struct meter *m, uint32_t n, uint32_t max_flows, uint64_t lifetime_ms,
		     int *err)
{
	struct dpi *d = calloc(1, sizeof(*d));
	NDPI_PROTOCOL_BITMASK all;

	*err = -ENOMEM;
	if (!d)
		return NULL;
	d->m = m;
	d->n = n;
	d->max_flows = max_flows;
	d->lifetime_ns = lifetime_ms * 1000000;
	d->ndpi = ndpi_init_detection_module(ndpi_no_prefs);
	if (!d->ndpi) {
		pr_warn("Couldn't start nDPI\n");
		goto fail;
	}
	NDPI_BITMASK_SET_ALL(all);
	ndpi_set_protocol_detection_bitmask2(d->ndpi, &all);
	ndpi_finalize_initialization(d->ndpi);
	*err = meter_dpi_open(m, &d->ring, on_packet, d);
	if (*err) {
		pr_warn("Couldn't open the DPI ring: %s\n", strerror(-*err));
		goto fail;
	}
	*err = 0;
	return d;
fail:
	dpi_close(d);
	return NULL;
}

int dpi_drain(struct dpi *d)
{
	int n = event_ring_consume(&d->ring);

	if (d->n_done) {
		meter_run_dpi_done(d->m, d->n_done);
		d->n_done = 0;
	}
	return n < 0 ? n : 0;
}

/* NFStream's columns of an undetected flow. */
static void unknown_app(struct record_app *app)
{
	snprintf(app->name, sizeof(app->name), "Unknown");
	snprintf(app->category, sizeof(app->category), "Unspecified");
}

void dpi_take(struct dpi *d, const struct flow_event *ev, struct record_app *app)
{
	uint32_t gen = (ev->entry.ctl & FLOW_GEN_MASK) >> 32;
	struct dpi_flow **pp = find(d, &ev->entry.key, gen), *f = *pp;

	memset(app, 0, sizeof(*app));
	if (f) {
		finish(d, f, false);
		if (f->app)
			app_unpack(f->app, app);
		else
			unknown_app(app);
		app->cut = f->cut;
		*pp = f->next;
		free(f->app);
		free(f);
	} else {
		unknown_app(app); /* not a packet of it reached nDPI */
	}
	if (ev->entry.flags & FLOW_F_DPI_CUT)
		app->cut = true;
}

void dpi_counts(const struct dpi *d, struct dpi_counts *c)
{
	*c = d->cnt;
}

void dpi_close(struct dpi *d)
{
	if (!d)
		return;
	for (uint32_t i = 0; i < DPI_BUCKETS; i++) {
		while (d->bucket[i]) {
			struct dpi_flow *f = d->bucket[i];

			d->bucket[i] = f->next;
			if (f->nf)
				ndpi_flow_free(f->nf);
			free(f->app);
			free(f);
		}
	}
	event_ring_close(&d->ring);
	if (d->ndpi)
		ndpi_exit_detection_module(d->ndpi);
	free(d);
}
