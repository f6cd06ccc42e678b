/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Drives the meter object through BPF_PROG_TEST_RUN for the BPF tests. */
#ifndef NFXDP_TEST_HARNESS_H
#define NFXDP_TEST_HARNESS_H

#include <stdint.h>

#include "flow.h"
#include "meter/meter.h"
#include "gencap/craft.h"

#define HARNESS_MAX_EVENTS 65536

struct harness {
	struct meter m;
	struct ring_buffer *rb;
	struct flow_event *events; /* closed flows, in ring order */
	/*
	 * With optional parts on: each event's whole entry, laid out as in the
	 * map (with --splt alone, the slots start where .st would).
	 */
	struct flow_entry_max *event_entries;
	int n_events;
	/* flow_note records (meter_opts.wheel), when set; else skipped */
	void (*on_note)(void *ctx, const struct flow_note *n);
	void *note_ctx;
	int meter_fd;
	int replay_fd;
	int egress_fd;
};

/* Loads the meter with @o (NULL: defaults). Returns 0 or -errno. */
int harness_open(struct harness *h, const struct meter_opts *o);
void harness_close(struct harness *h);
void harness_default_opts(struct meter_opts *o);

/*
 * Runs one frame through nfx_meter with @ts_ns and @wire_len (0: the frame's
 * length) in data_meta. Returns the counter the frame ended in
 * (NFX_FRAMES_METERED, NFX_IGNORE_*, NFX_LOST_*), or -1 if not exactly one moved.
 */
int harness_run(struct harness *h, const uint8_t *frame, size_t len, uint32_t wire_len,
		uint64_t ts_ns);
int harness_run_spec(struct harness *h, const struct pkt_spec *s, uint64_t ts_ns);
/* Runs frames through nfx_meter without data_meta: the live path (kernel clock). */
int harness_run_live(struct harness *h, const uint8_t *frame, size_t len);
/*
 * Runs a frame through nfx_egress (TC egress), as a GSO packet of @gso_segs
 * segments of @gso_size payload bytes when @gso_segs > 1. Returns the
 * counter it ended in, as harness_run().
 */
int harness_run_egress(struct harness *h, const uint8_t *frame, size_t len, uint32_t gso_segs,
		       uint32_t gso_size);
/* The counters of one hook (enum meter_hook). */
void harness_counters_hook(struct harness *h, int hook, uint64_t out[NFX_COUNTER_MAX]);

void harness_counters(struct harness *h, uint64_t out[NFX_COUNTER_MAX]);
/* Collects closed flows from the export ring into h->events; returns how many were added. */
int harness_drain(struct harness *h);
/* The entry for @k; 0 or -ENOENT. */
int harness_lookup(struct harness *h, const struct flow_key *k, struct flow_entry *e);
int harness_flow_count(struct harness *h);
/* The entry with its optional parts; a part that is off is left zero, and .sp
 * then sits where .st would (the value's layout). */
int harness_lookup_full(struct harness *h, const struct flow_key *k, struct flow_entry_max *e);

/*
 * The canonical key of a packet from (@a, @pa) to (@b, @pb): written here
 * independently of the kernel's ordering, which it must agree with.
 * Sets *from_hi when the sender is the hi endpoint.
 */
int test_key(struct flow_key *k, int version, const char *a, uint16_t pa, const char *b,
	     uint16_t pb, uint8_t proto, uint16_t vlan, int *from_hi);

#endif /* NFXDP_TEST_HARNESS_H */
