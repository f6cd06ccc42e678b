/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Flow records: a closed flow from the kernel as an export message. */
#ifndef NFXDP_RECORD_RECORD_H
#define NFXDP_RECORD_RECORD_H

#include <arpa/inet.h>
#include <stdbool.h>
#include <stdint.h>

#include "flow.h"
#include "flow.pb-c.h"

/* Optional parts of the flow entries: --statistical, --splt N. */
struct record_features {
	bool statistical;
	uint32_t splt;
	uint32_t dpi; /* --dpi N: the application columns */
};

/* --dpi: NFStream's application columns of a flow, as nDPI gave them. */
struct record_app {
	char name[64];
	char category[32];
	uint32_t guessed;
	uint32_t confidence;
	char server_name[96];
	char client_fp[64];
	char server_fp[64];
	char user_agent[256];
	char content_type[64];
	bool cut; /* packets of the first N never reached nDPI */
	uint32_t ndpi_id; /* master << 16 | app */
};

/* timestamp_source in records (proto/flow.proto). */
enum timestamp_source {
	TIMESTAMP_KERNEL = 0,
	TIMESTAMP_NIC = 1,
	TIMESTAMP_MIXED = 2,
	TIMESTAMP_CAPTURE = 3,
};

/* Hooks in records (src2dst_hook, dst2src_hook, and the bits of hooks). */
enum record_hook {
	RECORD_HOOK_NONE = 0, /* a capture file's packet */
	RECORD_HOOK_INGRESS = 1,
	RECORD_HOOK_EGRESS = 2,
};

/*
 * The names of the metered interfaces by index, for records. Two
 * interfaces of one index (in two network namespaces) share an entry whose
 * name joins theirs with '|': the kernel's index cannot tell them apart.
 */
#define RECORD_MAX_IFACES 16
#define RECORD_IFNAME_LEN 80
struct iface_names {
	int n;
	struct {
		uint32_t ifindex;
		char name[RECORD_IFNAME_LEN];
	} e[RECORD_MAX_IFACES];
};

/* Adds @name for @ifindex (joined to a name already there). */
void iface_names_add(struct iface_names *t, uint32_t ifindex, const char *name);
/* The name of @ifindex, "" when unknown. */
const char *iface_names_get(const struct iface_names *t, uint32_t ifindex);

/* One record and the memory its message points to. */
struct flow_rec {
	Nfxdp__Flow msg;
	char src_ip[INET6_ADDRSTRLEN];
	char dst_ip[INET6_ADDRSTRLEN];
	char src_mac[18];
	char dst_mac[18];
	char ifname[2][RECORD_IFNAME_LEN]; /* enum flow_dir */
	int32_t splt_direction[SPLT_MAX];
	int32_t splt_ps[SPLT_MAX];
	int64_t splt_piat_ms[SPLT_MAX];
	int64_t splt_piat_us[SPLT_MAX];
	struct record_app app;
};

/*
 * Fills @r from a closed flow, whose entry has the optional parts of @feat.
 * @clock_offset_ns turns the meter's clock into Unix time (0 when the meter
 * ran on capture time); @names names the interfaces (NULL: none).
 */
void record_build(struct flow_rec *r, const struct flow_event *ev, uint64_t id,
		  int64_t clock_offset_ns, const struct record_features *feat,
		  const struct iface_names *names);

/* --dpi: the application columns of @r from @app (copied). */
void record_set_app(struct flow_rec *r, const struct record_app *app);

/* Sample standard deviation from count, sum and sum of squares (exact integer arithmetic). */
double record_stddev(uint64_t n, uint64_t sum, uint64_t sumsq);

/* The key's endpoints as src/dst of the flow's first packet. */
void record_endpoints(const struct flow_entry *e, const __u8 **src, const __u8 **dst,
		      uint16_t *sport, uint16_t *dport);

#endif /* NFXDP_RECORD_RECORD_H */
