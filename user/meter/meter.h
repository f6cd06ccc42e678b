/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The meter: loads the BPF object (bpf/meter.bpf.c), probes the kernel,
 * attaches it to interfaces, and runs its programs for the collector and
 * capture replay (meter/run.c).
 */
#ifndef NFXDP_METER_METER_H
#define NFXDP_METER_METER_H

#include <net/if.h>
#include <stdbool.h>
#include <stdint.h>

#include "flow.h"

#define METER_MAX_IFACES 16

struct meter_bpf;
struct meter_hw_bpf;
struct pcap_ebpf;

enum xdp_mode {
	XDP_MODE_NATIVE,
	XDP_MODE_GENERIC, /* any driver, slower: the kernel's skb path */
};

/* Which hooks of an interface to meter (--direction). */
#define METER_DIR_INGRESS (1U << 0) /* XDP: what arrives */
#define METER_DIR_EGRESS (1U << 1)  /* TC egress: what the host sends */
#define METER_DIR_BOTH (METER_DIR_INGRESS | METER_DIR_EGRESS)

/* One hook of an attachment. */
struct hook_link {
	int fd;	      /* bpf_link (XDP, tcx): detached when closed, unless pinned; -1: none */
	bool resumed; /* a pinned link found attached, now running this program */
	bool clsact;  /* egress on a kernel without tcx: a clsact filter, no link */
};

struct attachment {
	char name[IFNAMSIZ + 64]; /* as given: IFACE or IFACE@NETNS */
	int ifindex;
	unsigned int dirs; /* METER_DIR_* */
	struct hook_link xdp;
	struct hook_link egress;
	struct meter_hw_bpf *hw; /* its device-bound meter, or NULL: the shared one */
	int phc_index;		 /* the NIC clock of its timestamps; -1: none */
	bool meta_vlan;		 /* the NIC hands stripped VLAN tags to XDP */
};


/*
 * The kernel's LRU hash starts evicting before it is full: a CPU refilling
 * its local free list (up to LRU_LOCAL_FREE elements at a time) evicts when
 * the shared list has fewer, and the other CPUs' lists may hold up to as
 * many each. With --overflow-export off (the only case the cache is an LRU
 * hash, see meter_map_entries()), emergency expiry stays twice that per
 * possible CPU below the capacity.
 */
#define LRU_LOCAL_FREE 128

/* Which programs to load: an unused program costs load time. */
#define LOAD_METER (1U << 0)  /* nfx_meter: attached, or frame-by-frame replay */
#define LOAD_REPLAY (1U << 1) /* nfx_replay: batch replay */
#define LOAD_EGRESS (1U << 2) /* nfx_egress: the TC egress hook */

/* Settings the object is loaded with. */
struct meter_opts {
	unsigned int programs; /* LOAD_*; nfx_close is always loaded */
	uint32_t ring_bytes;   /* export ring size: a power of two, whole pages */
	uint64_t idle_timeout_ms;
	uint64_t active_timeout_ms;
	bool natural_expiry;
	/*
	 * For a live collector's expiry wheel (collector/expiry.h): nfx_scan
	 * and its report, and a flow_note when a flow ends.
	 */
	bool wheel;
	int accounting;
	bool decode_tunnels;
	bool statistical;   /* --statistical */
	uint32_t sample_n;
	bool sample_systematic;
	uint32_t snaplen;
	const struct pcap_ebpf *filter; /* --filter, NULL: none */
	uint32_t hash_k, hash_n;	 /* --hash-slice K/N; n = 0: off */
	uint32_t splt;	    /* --splt N, 0: off */
	uint32_t dpi;	    /* --dpi N: first N packets of each flow to nDPI, 0: off */
	uint32_t dpi_ring_bytes; /* its ring: a power of two, whole pages */
	bool single_writer; /* capture replay: one frame at a time, no atomics needed */
	uint8_t stop_at;    /* benchmarks only: enum meter_stop (bench/mincount.c) */
	/*
	 * Capture replay: max_flows covers every frame, so the cache never
	 * fills: a hash map allocating entries as flows come, not an LRU map
	 * allocating them all at load.
	 */
	bool grow_on_demand;
	uint32_t max_flows;
	/*
	 * --overflow-export: the programs insert at most max_flows entries and
	 * export a packet that finds no room as a one-packet record, and the
	 * LRU map is sized with room past max_flows (METER_LRU_HEADROOM) so
	 * that it never evicts; off: the LRU evicts when full.
	 */
	bool overflow_export;
	/*
	 * Capture replay in user space (meter/umeter.c): the same program
	 * compiled for the host, no BPF privileges needed. --filter's verdict
	 * then comes with each frame (enum prefilter), from libpcap.
	 */
	bool user;
	const char *pin_dir; /* --persist: pin (or reuse) the maps that outlive us here */
};

struct meter {
	struct meter_bpf *skel; /* NULL in user space */
	bool user;		/* loaded in user space (meter_opts.user) */
	struct attachment att[METER_MAX_IFACES];
	int n_att;
	size_t entry_size; /* bytes of one flow entry */
	char pin_dir[4096]; /* --persist: where maps and links are pinned; "" if not */
	bool resumed;	    /* the maps were pinned already: a restart */
	bool resume_only;   /* meter_attach() takes over pinned links, makes none */
	bool nic_metadata;  /* device-bound meters where the driver offers RX metadata */
	struct meter_opts opts; /* what it was loaded with: device-bound ones load alike */
	struct replay_slot *replay_slots; /* mapped by meter_replay_slots() */
	struct scan_slot *scan_out;	  /* mapped by meter_run_scan(): the slots it filled */
	size_t scan_len;		  /* bytes mapped */
};

/* Entries of the kernel's flow map for @o: --max-flows, and room for the LRU's lists. */
uint32_t meter_map_entries(const struct meter_opts *o);

/* The defaults: NFStream's timeouts, link accounting, tunnels decoded, live metering. */
void meter_opts_default(struct meter_opts *o);
/* Benchmarks: a stage's name (entry, parse, lookup, found, lines): its enum meter_stop, or -1. */
int meter_stop_of(const char *name);
/* Live metering (the default) or capture replay: programs, export ring, atomics. */
void meter_opts_for_replay(struct meter_opts *o, bool frame_by_frame);
/*
 * Says plainly what the kernel lacks; 0 when everything the meter needs is
 * there. meter_load() asks when loading fails.
 */
int meter_probe_kernel(void);
int meter_load(struct meter *m, const struct meter_opts *o);
/*
 * meter/attach.c: attaches to IFACE or IFACE@NETNS (a name under
 * /var/run/netns): nfx_meter at XDP and/or nfx_egress at TC egress, as
 * @dirs (METER_DIR_*) says; pinned links of a --persist nfxdp are taken
 * over. With resume_only, an interface where nothing was left is skipped.
 */
int meter_attach(struct meter *m, const char *iface, enum xdp_mode mode, unsigned int dirs);
/*
 * Enters the network namespace of "IFACE@NETNS" (none for a plain IFACE):
 * *ifname gets IFACE, *old the namespace to go back to with
 * meter_leave_ns() (-1: none entered). 0 or -errno, said on stderr.
 */
int meter_enter_iface_ns(const char *iface, char *ifname, size_t len, int *old);
void meter_leave_ns(int old);
/*
 * Drops the attachments whose interface went away (their links are
 * defunct), with a message; returns how many are left.
 */
int meter_check_links(struct meter *m);
/* Detaches from every interface (and removes the link pins). */
void meter_detach_all(struct meter *m);
/* Lets go of the links without detaching: the pins keep them (--persist). */
void meter_release_all(struct meter *m);
/* A start that failed: detaches the links made now, keeps the resumed ones. */
void meter_abandon(struct meter *m);
/* Removes the map pins and their directory: the maps go with the last fd. */
void meter_unpin(struct meter *m);
void meter_destroy(struct meter *m);

/* Loaded, in the kernel or in user space. */
bool meter_loaded(const struct meter *m);
/*
 * 0 when this process may load BPF programs, else -EPERM or -EACCES (or
 * what else refused them); quiet: --meter auto asks before choosing.
 */
int meter_bpf_permitted(void);

/* meter/run.c: the maps and programs, for the collector and capture replay. */
/*
 * The flow cache, up to *count entries at a time from *token on (0 at
 * first), as bpf_map_lookup_batch(): 0, -ENOENT once the last was read, or
 * another -errno.
 */
int meter_flows_batch(const struct meter *m, uint64_t *token, struct flow_key *keys, void *vals,
		      uint32_t *count);
struct event_ring;
/* The export ring's reader (meter/event_ring.h), on either meter's ring. */
int meter_events_open(const struct meter *m, struct event_ring *r, bool hold,
		      int (*fn)(void *ctx, void *data, size_t size), void *ctx);
uint32_t meter_capacity(const struct meter *m);
/* The per-CPU counters, summed, of both hooks or of one (enum meter_hook). */
int meter_counters(const struct meter *m, uint64_t out[NFX_COUNTER_MAX]);
int meter_counters_hook(const struct meter *m, enum meter_hook hook,
			uint64_t out[NFX_COUNTER_MAX]);
/* The requests nfx_close reads, and a run of it over the first @n. */
struct close_req *meter_close_queue(struct meter *m);
int meter_run_close(struct meter *m, uint32_t n);
/*
 * One pass of nfx_scan over the cache with *@ctl's input (flow.h): *@ctl
 * gets its totals, *@out its report. -EOPNOTSUPP: a meter without it
 * (opts.wheel off, or in user space): read the cache whole instead.
 */
int meter_run_scan(struct meter *m, struct scan_ctl *ctl, const struct scan_slot **out);
/*
 * --dpi: the packet ring (read as the flow events are, without holding), and
 * the flows nfx_dpi_done marks, with a run over the first @n.
 */
int meter_dpi_open(const struct meter *m, struct event_ring *r,
		   int (*fn)(void *ctx, void *data, size_t size), void *ctx);
struct dpi_done_req *meter_dpi_done_queue(struct meter *m);
int meter_run_dpi_done(struct meter *m, uint32_t n);
/* Batch replay (LOAD_REPLAY): the memory-mapped slots, a run over [first, first + count). */
struct replay_slot *meter_replay_slots(struct meter *m);
/*
 * --dpi in batch replay: beside each slot, REPLAY_PAYLOAD bytes for its
 * whole frame (up to that), where the DPI copy reads the payload. The
 * meter in user space has them; NULL from the kernel's, whose --dpi
 * replays frame by frame.
 */
uint8_t *meter_replay_payload(struct meter *m);
int meter_run_replay(struct meter *m, uint32_t first, uint32_t count);
/* Frame replay (LOAD_METER): @buf holds an nfx_meta of @meta_len bytes, then the frame. */
int meter_run_frame(struct meter *m, void *buf, uint32_t meta_len, uint32_t len);
/* Capture time as the meter sees it: the latest metered frame's. */
uint64_t meter_replay_clock(const struct meter *m);
/* --persist: the collector's state, kept in a pinned map; -ENOENT when none. */
int meter_state_load(const struct meter *m, struct collector_state *s);
int meter_state_save(const struct meter *m, const struct collector_state *s);

#endif /* NFXDP_METER_METER_H */
