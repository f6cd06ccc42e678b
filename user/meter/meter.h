/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Loads the meter object, probes the kernel, attaches to interfaces. */
#ifndef NFXDP_METER_METER_H
#define NFXDP_METER_METER_H

#include <net/if.h>
#include <stdbool.h>

#include "cli/cli.h"

struct meter_bpf;
struct meter_hw_bpf;
struct filter_compiled;

struct attachment {
	char name[IFNAMSIZ + 64]; /* as given: IFACE or IFACE@NETNS */
	int ifindex;
	int link_fd; /* bpf_link: detached when closed or detached, unless pinned */
	bool resumed; /* a pinned link found attached, now running this program */
	struct meter_hw_bpf *hw; /* its device-bound meter, or NULL: the shared one */
	int phc_index;		 /* the NIC clock of its timestamps; -1: none */
	bool meta_vlan;		 /* the NIC hands stripped VLAN tags to XDP */
};


/* Which programs to load: an unused program costs load time. */
#define LOAD_METER (1U << 0)  /* nfx_meter: attached, or frame-by-frame replay */
#define LOAD_REPLAY (1U << 1) /* nfx_replay: batch replay */

/* Settings the object is loaded with; the subset of nfx_config it needs. */
struct meter_opts {
	unsigned int programs; /* LOAD_*; nfx_close is always loaded */
	uint32_t ring_bytes;   /* export ring size: a power of two, whole pages */
	uint64_t idle_timeout_ms;
	uint64_t active_timeout_ms;
	bool natural_expiry;
	int accounting;
	bool decode_tunnels;
	bool statistical;   /* --statistical */
	uint32_t sample_n;
	bool sample_systematic;
	uint32_t snaplen;
	const struct filter_compiled *filter;
	uint32_t splt;	    /* --splt N, 0: off */
	bool single_writer; /* capture replay: one frame at a time, no atomics needed */
	/*
	 * Capture replay: max_flows covers every frame, so the cache never
	 * fills: a hash map allocating entries as flows come, not an LRU map
	 * allocating them all at load.
	 */
	bool grow_on_demand;
	uint32_t max_flows;
	const char *pin_dir; /* --persist: pin (or reuse) the maps that outlive us here */
};

struct meter {
	struct meter_bpf *skel;
	struct attachment att[MAX_IFACES];
	int n_att;
	size_t entry_size; /* bytes of one flow entry */
	char pin_dir[4096]; /* --persist: where maps and links are pinned; "" if not */
	bool resumed;	    /* the maps were pinned already: a restart */
	bool resume_only;   /* meter_attach() takes over pinned links, makes none */
	bool nic_metadata;  /* device-bound meters where the driver offers RX metadata */
	struct meter_opts opts; /* what it was loaded with: device-bound ones load alike */
};

void meter_opts_from_config(struct meter_opts *o, const struct nfx_config *cfg);
/* Bytes of one flow entry (and of a flow event's entry) with these features. */
size_t meter_entry_size(bool statistical, uint32_t splt);
/*
 * Says plainly what the kernel lacks; 0 when everything the meter needs is
 * there. meter_load() asks when loading fails.
 */
int meter_probe_kernel(void);
int meter_load(struct meter *m, const struct meter_opts *o);
/* Attaches nfx_meter to IFACE or IFACE@NETNS (a name under /var/run/netns). */
int meter_attach(struct meter *m, const char *iface, enum xdp_mode mode);
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

#endif /* NFXDP_METER_METER_H */
