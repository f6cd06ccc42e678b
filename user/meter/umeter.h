/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The user-space meter: bpf/meter.bpf.c compiled a second time, by the host
 * compiler (see bpf/usermode.h), over in-process maps that stand in for the
 * kernel's: the flow cache (a hash map, LRU when it may fill), the export
 * ring in the BPF ring buffer's layout, counters and work areas of one CPU.
 * One source, two compilations: a capture metered here gives the records
 * the XDP path gives. Capture replay only (nfx_replay, nfx_close, and
 * nfx_dpi_done with --dpi, whose ring it keeps too), and one per process: the program's globals are its state. struct meter uses it
 * through meter/run.c; nothing above knows which meter runs.
 */
#ifndef NFXDP_METER_UMETER_H
#define NFXDP_METER_UMETER_H

#include <stddef.h>
#include <stdint.h>

#include "flow.h"

struct meter_opts;

/* The export ring, laid out as a BPF ring buffer's mapping (meter/event_ring.c reads it). */
struct umeter_ring {
	unsigned long *consumer_pos;
	unsigned long *producer_pos;
	uint8_t *data; /* 2 x size: a record that would wrap continues past the end */
	size_t size;
};

int umeter_load(const struct meter_opts *o);
void umeter_destroy(void);
/* nfx_replay over slots [first, first + count): the frames metered. */
uint32_t umeter_run_replay(uint32_t first, uint32_t count);
/* nfx_close over close_queue[0..n). */
void umeter_run_close(uint32_t n);
struct close_req *umeter_close_queue(void);
/* --dpi: nfx_dpi_done over dpi_done_queue[0..n). */
void umeter_run_dpi_done(uint32_t n);
struct dpi_done_req *umeter_dpi_done_queue(void);
struct replay_slot *umeter_replay_slots(void);
/* --dpi: REPLAY_PAYLOAD bytes per slot, its whole frame for the DPI copy; NULL without. */
uint8_t *umeter_replay_payload(void);
void umeter_ring(struct umeter_ring *r);
/* --dpi: the ring of packets to nDPI. */
void umeter_dpi_ring(struct umeter_ring *r);
uint32_t umeter_capacity(void);
uint64_t umeter_replay_clock(void);
/* Adds hook @hook's counters to @out. */
void umeter_counters(uint32_t hook, uint64_t out[NFX_COUNTER_MAX]);
/*
 * Copies up to *count entries from *token on into @keys and @vals (entry
 * size apart); *count gets how many, *token where to go on. 0, or -ENOENT
 * once the last entry was copied, as bpf_map_lookup_batch().
 */
int umeter_flows_batch(uint64_t *token, struct flow_key *keys, void *vals, uint32_t *count);

#endif /* NFXDP_METER_UMETER_H */
