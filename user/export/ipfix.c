// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netdb.h>
#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/clock.h"
#include "export/ipfix.h"
#include "record/record.h"
#include "flow.h"
#include "common/log.h"

#define MSG_HDR_LEN 16
#define SET_HDR_LEN 4
#define SET_ID_TEMPLATE 2
#define ENTERPRISE_BIT 0x8000
#define UDP_MAX_MSG 1400 /* fits an Ethernet MTU with IP and UDP headers */
#define TCP_MAX_MSG 16384
#define MAX_MSG 65535 /* the header's 16-bit length */
#define UDP_WARN_MS 60000
/*
 * The --statistical features are flow.proto's fields 30 to 77 (sizes,
 * inter-arrival times, TCP flag counts), exported as nfxdp elements 1000 +
 * their number, typed as in the schema: unsigned32, unsigned64, float64.
 */
#define STAT_FIRST 30
#define STAT_LAST 77
#define N_STAT (STAT_LAST - STAT_FIRST + 1)

/* Where a field's value comes from: a number member of the flow, or special. */
enum ipfix_val {
	V_NUM,
	V_SRC_ADDR,
	V_DST_ADDR,
	V_SRC_MAC,
	V_DST_MAC,
	V_END_REASON,
	V_SAMPLING,
	V_IN_IF,    /* the direction's interface when the host received its first packet */
	V_OUT_IF,   /* ... when the host sent it */
	V_FLOW_DIR, /* flowDirection: 0 ingress, 1 egress */
	V_ICMP,	    /* icmpTypeCode: type * 256 + code */
	V_STR,	    /* a string member: variable length, at most .size bytes */
	V_APP_ID,   /* applicationId: classification engine, then nDPI's ids */
};

/* The records a field is in: biflow (RFC 5103) ones, uniflow ones (--ipfix-biflow off). */
#define IN_BI 0x1
#define IN_UNI 0x2
#define IN_ALL (IN_BI | IN_UNI)
#define IN_DPI 0x4 /* only with --dpi: the application columns */
#define VARLEN 65535 /* a template's length of a variable-length element (RFC 7011 7) */
/*
 * applicationId (RFC 6759): classification engine 6, "user defined", then
 * nDPI's master << 16 | app: nDPI's ids have no registry of their own.
 */
#define APP_ENGINE_USER 6
/* The --accounting modes a field is in (bit 1 << enum accounting). */
#define ACCT(mode) (1u << (mode))
#define ACCT_ALL 0xf

struct ipfix_field {
	uint16_t id;
	uint16_t len;
	uint32_t pen;
	enum ipfix_val val;
	uint16_t off; /* V_NUM: the member's offset in Nfxdp__Flow and its size */
	uint16_t size;
	uint8_t in;   /* IN_BI, IN_UNI */
	uint8_t acct; /* ACCT(mode)s */
};

#define NUM(member) V_NUM, offsetof(Nfxdp__Flow, member), sizeof(((Nfxdp__Flow *)0)->member)
#define STR(member, max) V_STR, offsetof(Nfxdp__Flow, member), max
#define DPI (IN_ALL | IN_DPI)
#define REV IPFIX_PEN_REVERSE
#define NFX IPFIX_PEN_NFXDP

/*
 * One table drives both the templates and the records, so they cannot
 * disagree. The address elements are IPv4's; IPv6 swaps them (field_of()).
 * A biflow record has forward elements for src2dst and RFC 5103 reverse
 * elements for dst2src; its flowStart and flowEnd are the biflow's (the
 * first and last packet either way), so a collector that reads only them
 * (nfdump, nfacctd) shows the biflow's duration, and the reverse ones the
 * reverse direction's. A uniflow record (--ipfix-biflow off) is one
 * direction, its own times.
 *
 * Bytes go in the element that says what was counted (--accounting):
 * link, whole frames: layer2OctetDeltaCount (352); ip: octetDeltaCount (1),
 * "the IP header and payload" (RFC 7012); transport, the transport header
 * and payload: no IANA element, nfxdp's own (1000 + the field's number);
 * payload: transportOctetDeltaCount (401). octetDeltaCount in every mode
 * would need the meter to count IP bytes beside the mode's: it does not.
 *
 * Reverse timestamps and flags come before their forward elements: some
 * collectors (nfdump 1.7) map only reverse counters to their own fields
 * and fold every other reverse element onto the forward one, where the
 * last in the record wins. The order means nothing to IPFIX itself.
 *
 * tcpControlBits is unsigned16 since RFC 7125, sent in one octet (reduced-
 * size encoding, RFC 7011 section 6.2): nfxdp keeps 8 flag bits, and some
 * collectors (pmacct 1.7) read only the first octet.
 */
static const struct ipfix_field fields[] = {
	{ 8, 4, 0, V_SRC_ADDR, .in = IN_ALL, .acct = ACCT_ALL },   /* sourceIPv4Address */
	{ 12, 4, 0, V_DST_ADDR, .in = IN_ALL, .acct = ACCT_ALL },  /* destinationIPv4Address */
	{ 7, 2, 0, NUM(src_port), IN_ALL, ACCT_ALL },		   /* sourceTransportPort */
	{ 11, 2, 0, NUM(dst_port), IN_ALL, ACCT_ALL },		   /* destinationTransportPort */
	{ 4, 1, 0, NUM(protocol), IN_ALL, ACCT_ALL },		   /* protocolIdentifier */
	{ 60, 1, 0, NUM(ip_version), IN_ALL, ACCT_ALL },	   /* ipVersion */
	{ 58, 2, 0, NUM(vlan_id), IN_ALL, ACCT_ALL },		   /* vlanId */
	{ 56, 6, 0, V_SRC_MAC, .in = IN_ALL, .acct = ACCT_ALL },   /* sourceMacAddress */
	{ 80, 6, 0, V_DST_MAC, .in = IN_ALL, .acct = ACCT_ALL },   /* destinationMacAddress */
	{ 148, 8, 0, NUM(id), IN_ALL, ACCT_ALL },		   /* flowId */
	{ 152, 8, REV, NUM(dst2src_first_seen_ms), IN_BI, ACCT_ALL }, /* reverseFlowStartMilliseconds */
	{ 153, 8, REV, NUM(dst2src_last_seen_ms), IN_BI, ACCT_ALL },  /* reverseFlowEndMilliseconds */
	{ 6, 1, REV, NUM(dst2src_tcp_flags), IN_BI, ACCT_ALL },	      /* reverseTcpControlBits */
	{ 152, 8, 0, NUM(bidirectional_first_seen_ms), IN_BI, ACCT_ALL }, /* flowStartMilliseconds */
	{ 153, 8, 0, NUM(bidirectional_last_seen_ms), IN_BI, ACCT_ALL },  /* flowEndMilliseconds */
	{ 152, 8, 0, NUM(src2dst_first_seen_ms), IN_UNI, ACCT_ALL },	   /* flowStartMilliseconds */
	{ 153, 8, 0, NUM(src2dst_last_seen_ms), IN_UNI, ACCT_ALL },	   /* flowEndMilliseconds */
	{ 6, 1, 0, NUM(src2dst_tcp_flags), IN_ALL, ACCT_ALL },	   /* tcpControlBits */
	{ 352, 8, 0, NUM(src2dst_bytes), IN_ALL, ACCT(ACCOUNT_LINK) }, /* layer2OctetDeltaCount */
	{ 1, 8, 0, NUM(src2dst_bytes), IN_ALL, ACCT(ACCOUNT_IP) },	/* octetDeltaCount */
	{ IPFIX_NFXDP_IE_SRC2DST_BYTES, 8, NFX, NUM(src2dst_bytes), IN_ALL,
	  ACCT(ACCOUNT_TRANSPORT) },					/* nfxdp src2dstBytes */
	{ 401, 8, 0, NUM(src2dst_bytes), IN_ALL, ACCT(ACCOUNT_PAYLOAD) }, /* transportOctetDeltaCount */
	{ 2, 8, 0, NUM(src2dst_packets), IN_ALL, ACCT_ALL },		/* packetDeltaCount */
	{ 352, 8, REV, NUM(dst2src_bytes), IN_BI, ACCT(ACCOUNT_LINK) }, /* reverseLayer2OctetDeltaCount */
	{ 1, 8, REV, NUM(dst2src_bytes), IN_BI, ACCT(ACCOUNT_IP) },	 /* reverseOctetDeltaCount */
	{ IPFIX_NFXDP_IE_DST2SRC_BYTES, 8, NFX, NUM(dst2src_bytes), IN_BI,
	  ACCT(ACCOUNT_TRANSPORT) },					 /* nfxdp dst2srcBytes */
	{ 401, 8, REV, NUM(dst2src_bytes), IN_BI, ACCT(ACCOUNT_PAYLOAD) }, /* reverseTransportOctetDeltaCount */
	{ 2, 8, REV, NUM(dst2src_packets), IN_BI, ACCT_ALL },		   /* reversePacketDeltaCount */
	{ 136, 1, 0, V_END_REASON, .in = IN_ALL, .acct = ACCT_ALL },	   /* flowEndReason */
	{ IPFIX_NFXDP_IE_TUNNEL_ID, 1, NFX, NUM(tunnel_id), IN_ALL, ACCT_ALL }, /* nfxdp tunnelId */
	{ IPFIX_NFXDP_IE_EXPIRATION_ID, 1, NFX, NUM(expiration_id), IN_ALL,
	  ACCT_ALL },							   /* nfxdp expirationId */
	{ 34, 4, 0, V_SAMPLING, .in = IN_ALL, .acct = ACCT_ALL },	   /* samplingInterval */
	{ 10, 4, REV, V_IN_IF, .in = IN_BI, .acct = ACCT_ALL },	   /* reverseIngressInterface */
	{ 14, 4, REV, V_OUT_IF, .in = IN_BI, .acct = ACCT_ALL },	   /* reverseEgressInterface */
	{ 61, 1, REV, V_FLOW_DIR, .in = IN_BI, .acct = ACCT_ALL },	   /* reverseFlowDirection */
	{ 5, 1, REV, NUM(dst2src_tos), IN_BI, ACCT_ALL },		   /* reverseIpClassOfService */
	{ 10, 4, 0, V_IN_IF, .in = IN_ALL, .acct = ACCT_ALL },	   /* ingressInterface */
	{ 14, 4, 0, V_OUT_IF, .in = IN_ALL, .acct = ACCT_ALL },	   /* egressInterface */
	{ 61, 1, 0, V_FLOW_DIR, .in = IN_ALL, .acct = ACCT_ALL },	   /* flowDirection */
	{ 5, 1, 0, NUM(src2dst_tos), IN_ALL, ACCT_ALL },		   /* ipClassOfService */
	{ 32, 2, 0, V_ICMP, .in = IN_ALL, .acct = ACCT_ALL },	   /* icmpTypeCodeIPv4 */
	/* --dpi: NFStream's application columns; nfxdp's are 1000 + the field's number. */
	{ 95, 5, 0, V_APP_ID, .in = DPI, .acct = ACCT_ALL },	   /* applicationId */
	{ 96, VARLEN, 0, STR(application_name, 63), DPI, ACCT_ALL }, /* applicationName */
	{ 1124, VARLEN, NFX, STR(application_category_name, 31), DPI, ACCT_ALL },
	{ 1125, 1, NFX, NUM(application_is_guessed), DPI, ACCT_ALL },
	{ 1126, 1, NFX, NUM(application_confidence), DPI, ACCT_ALL },
	{ 1127, VARLEN, NFX, STR(requested_server_name, 95), DPI, ACCT_ALL },
	{ 1128, VARLEN, NFX, STR(client_fingerprint, 63), DPI, ACCT_ALL },
	{ 1129, VARLEN, NFX, STR(server_fingerprint, 63), DPI, ACCT_ALL },
	{ 1130, VARLEN, NFX, STR(user_agent, 255), DPI, ACCT_ALL },
	{ 1131, VARLEN, NFX, STR(content_type, 63), DPI, ACCT_ALL },
	{ 1132, 1, NFX, NUM(application_dpi_cut), DPI, ACCT_ALL },
};

#define N_FIELDS (sizeof(fields) / sizeof(fields[0]))

/* True when field @i is in the records of @o's form (biflow or not) and accounting. */
static bool field_in(unsigned i, const struct ipfix_opts *o, bool uniflow)
{
	return (fields[i].in & (uniflow ? IN_UNI : IN_BI)) &&
	       (fields[i].acct & ACCT(o->accounting & 3)) && (o->dpi || !(fields[i].in & IN_DPI));
}

static struct ipfix_field field_of(unsigned i, bool v6)
{
	struct ipfix_field f = fields[i];

	if (v6 && f.val == V_SRC_ADDR)
		f.id = 27, f.len = 16; /* sourceIPv6Address */
	else if (v6 && f.val == V_DST_ADDR)
		f.id = 28, f.len = 16; /* destinationIPv6Address */
	else if (v6 && f.val == V_ICMP)
		f.id = 139; /* icmpTypeCodeIPv6 */
	return f;
}

static void put_be(uint8_t *out, uint64_t v, unsigned len)
{
	for (unsigned i = len; i-- > 0; v >>= 8)
		out[i] = v & 0xff;
}

uint8_t ipfix_end_reason(uint32_t expiration_id)
{
	switch (expiration_id) {
	case 0:
		return 1; /* idleTimeout */
	case 1:
		return 2; /* activeTimeout */
	case 2:
		return 3; /* endOfFlowDetected */
	case 3: /* emergency */
	case 5: /* overflow: the cache had no room */
		return 5; /* lackOfResources */
	default:
		return 4; /* forcedEnd: flush at exit or end of capture */
	}
}

/*
 * samplingInterval: 1 in N packets metered. Counts already scaled up
 * (--scale-sampled) stand for every packet, so they say 1: a collector that
 * renormalizes by this element would otherwise scale them twice.
 * RFC 7270 deprecates the element for the samplingSize/-Population pairs of
 * options templates, but collectors read this one in flow records.
 */
static uint64_t sampling_interval(const Nfxdp__Flow *f)
{
	return f->sampling_scaled || !f->sampling_rate ? 1 : f->sampling_rate;
}

/*
 * Where a direction was observed (V_IN_IF, V_OUT_IF, V_FLOW_DIR): the
 * interface of its first packet goes in ingressInterface when the host
 * received it (XDP), in egressInterface when the host sent it (tc egress);
 * the other is 0, as is either for a capture file's flows. The reverse
 * elements are the dst2src direction's.
 */
static uint64_t observation(const Nfxdp__Flow *f, const struct ipfix_field *fd)
{
	bool rev = fd->pen == IPFIX_PEN_REVERSE;
	uint32_t hook = rev ? f->dst2src_hook : f->src2dst_hook;
	uint32_t ifindex = rev ? f->dst2src_ifindex : f->src2dst_ifindex;

	if (fd->val == V_FLOW_DIR)
		return hook == RECORD_HOOK_EGRESS;
	return (hook == RECORD_HOOK_EGRESS) == (fd->val == V_OUT_IF) ? ifindex : 0;
}

static uint64_t flow_number(const Nfxdp__Flow *f, const struct ipfix_field *fd)
{
	const void *p = (const char *)f + fd->off;

	if (fd->val == V_IN_IF || fd->val == V_OUT_IF || fd->val == V_FLOW_DIR)
		return observation(f, fd);
	if (fd->val == V_ICMP)
		return (f->icmp_type & 0xff) << 8 | (f->icmp_code & 0xff);
	if (fd->val == V_END_REASON)
		return ipfix_end_reason(f->expiration_id);
	if (fd->val == V_SAMPLING)
		return sampling_interval(f);
	return fd->size == sizeof(uint64_t) ? *(const uint64_t *)p : *(const uint32_t *)p;
}

/*
 * A string member as a variable-length element (RFC 7011 7): its length in
 * one octet (all of them are shorter than 255 bytes), then its bytes, at
 * most the field's .size. Returns the bytes written.
 */
static size_t put_string(const Nfxdp__Flow *f, const struct ipfix_field *fd, uint8_t *out)
{
	const char *s = *(char *const *)((const char *)f + fd->off);
	size_t n = s ? strnlen(s, fd->size) : 0;

	out[0] = n;
	memcpy(out + 1, s ? s : "", n);
	return 1 + n;
}

/* applicationId: the engine, then nDPI's ids. */
static void put_app_id(const Nfxdp__Flow *f, uint8_t *out)
{
	out[0] = APP_ENGINE_USER;
	put_be(out + 1, f->application_ndpi_id, 4);
}

/* A MAC that does not parse is exported as zeros: the flow still counts. */
static void parse_mac(const char *s, uint8_t *out)
{
	if (!s || sscanf(s, "%2hhx:%2hhx:%2hhx:%2hhx:%2hhx:%2hhx", &out[0], &out[1], &out[2],
			 &out[3], &out[4], &out[5]) != 6)
		memset(out, 0, 6);
}

/* Both addresses in the family of the flow; false when either does not parse. */
static bool parse_addrs(const Nfxdp__Flow *f, bool *v6, uint8_t *src, uint8_t *dst)
{
	int af;

	*v6 = f->ip_version == 6 || (f->ip_version != 4 && f->src_ip && strchr(f->src_ip, ':'));
	af = *v6 ? AF_INET6 : AF_INET;
	return f->src_ip && f->dst_ip && inet_pton(af, f->src_ip, src) == 1 &&
	       inet_pton(af, f->dst_ip, dst) == 1;
}

/* Template entry of element @id (@pen 0: IANA) of @len bytes; returns its size. */
static size_t put_spec(uint8_t *out, uint16_t id, uint16_t len, uint32_t pen)
{
	put_be(out, id | (pen ? ENTERPRISE_BIT : 0), 2);
	put_be(out + 2, len, 2);
	if (pen)
		put_be(out + 4, pen, 4);
	return pen ? 8 : 4;
}

/* The schema's description of statistical field @i (0..N_STAT-1). */
static const ProtobufCFieldDescriptor *stat_field(unsigned i)
{
	return protobuf_c_message_descriptor_get_field(&nfxdp__flow__descriptor, STAT_FIRST + i);
}

static uint16_t stat_len(const ProtobufCFieldDescriptor *d)
{
	return d->type == PROTOBUF_C_TYPE_UINT32 ? 4 : 8;
}

/* A statistical field's value, big-endian, float64 for a double. */
static size_t put_stat(const Nfxdp__Flow *f, const ProtobufCFieldDescriptor *d, uint8_t *out)
{
	const void *p = (const char *)f + d->offset;
	uint64_t v;

	if (d->type == PROTOBUF_C_TYPE_UINT32)
		v = *(const uint32_t *)p;
	else
		memcpy(&v, p, sizeof(v)); /* uint64, or a double's bits */
	put_be(out, v, stat_len(d));
	return stat_len(d);
}

/* A record's form: biflow or uniflow, with the --statistical features or not. */
struct form {
	bool uniflow;
	bool stat;
};

static uint16_t template_id(bool v6, struct form fm)
{
	if (fm.uniflow)
		return (fm.stat ? IPFIX_TEMPLATE_UNI_V4_STAT : IPFIX_TEMPLATE_UNI_V4) + v6;
	return (fm.stat ? IPFIX_TEMPLATE_V4_STAT : IPFIX_TEMPLATE_V4) + v6;
}

static size_t encode(const Nfxdp__Flow *f, const struct ipfix_opts *o, struct form fm,
		     uint8_t *out, uint16_t *tid)
{
	uint8_t src[16], dst[16];
	size_t n = 0;
	bool v6;

	if (!parse_addrs(f, &v6, src, dst))
		return 0;
	for (unsigned i = 0; i < N_FIELDS; i++) {
		struct ipfix_field fd = field_of(i, v6);

		if (!field_in(i, o, fm.uniflow))
			continue;
		if (fd.val == V_STR) {
			n += put_string(f, &fd, out + n);
			continue;
		}
		if (fd.val == V_SRC_ADDR)
			memcpy(out + n, src, fd.len);
		else if (fd.val == V_DST_ADDR)
			memcpy(out + n, dst, fd.len);
		else if (fd.val == V_SRC_MAC)
			parse_mac(f->src_mac, out + n);
		else if (fd.val == V_DST_MAC)
			parse_mac(f->dst_mac, out + n);
		else if (fd.val == V_APP_ID)
			put_app_id(f, out + n);
		else
			put_be(out + n, flow_number(f, &fd), fd.len);
		n += fd.len;
	}
	for (unsigned i = 0; fm.stat && i < N_STAT; i++)
		n += put_stat(f, stat_field(i), out + n);
	*tid = template_id(v6, fm);
	return n;
}

/* The reverse direction of @f as a flow of its own: endpoints swapped, dst2src counts. */
static void reverse_of(const Nfxdp__Flow *f, Nfxdp__Flow *r)
{
	*r = *f;
	r->src_ip = f->dst_ip;
	r->dst_ip = f->src_ip;
	r->src_port = f->dst_port;
	r->dst_port = f->src_port;
	r->src_mac = f->dst_mac;
	r->dst_mac = f->src_mac;
	r->src2dst_first_seen_ms = f->dst2src_first_seen_ms;
	r->src2dst_last_seen_ms = f->dst2src_last_seen_ms;
	r->src2dst_packets = f->dst2src_packets;
	r->src2dst_bytes = f->dst2src_bytes;
	r->src2dst_tcp_flags = f->dst2src_tcp_flags;
	r->src2dst_ifindex = f->dst2src_ifindex;
	r->src2dst_hook = f->dst2src_hook;
	r->src2dst_tos = f->dst2src_tos;
}

size_t ipfix_encode_flow(const Nfxdp__Flow *f, const struct ipfix_opts *o, bool reverse,
			 uint8_t *out, uint16_t *tid)
{
	struct form fm = { .uniflow = o->uniflow, .stat = o->statistical && !reverse };
	Nfxdp__Flow r;

	if (!reverse)
		return encode(f, o, fm, out, tid);
	reverse_of(f, &r);
	return encode(&r, o, fm, out, tid);
}

/* One template: its id, its fields; returns its length. */
static size_t put_template(uint8_t *out, const struct ipfix_opts *o, bool v6, struct form fm)
{
	size_t n = 4;
	int count = 0;

	for (unsigned i = 0; i < N_FIELDS; i++) {
		struct ipfix_field fd = field_of(i, v6);

		if (!field_in(i, o, fm.uniflow))
			continue;
		n += put_spec(out + n, fd.id, fd.len, fd.pen);
		count++;
	}
	for (unsigned i = 0; fm.stat && i < N_STAT; i++, count++)
		n += put_spec(out + n, 1000 + STAT_FIRST + i, stat_len(stat_field(i)),
			      IPFIX_PEN_NFXDP);
	put_be(out, template_id(v6, fm), 2);
	put_be(out + 2, count, 2);
	return n;
}

/*
 * The template set: IPv4 and IPv6 templates of the records @o makes
 * (uniflow with --statistical: the forward records' and the reverse
 * ones', which carry no features); returns its length.
 */
static size_t put_templates(uint8_t *out, const struct ipfix_opts *o)
{
	struct form fm = { .uniflow = o->uniflow, .stat = o->statistical };
	size_t n = SET_HDR_LEN;

	for (int v6 = 0; v6 <= 1; v6++) {
		n += put_template(out + n, o, v6, fm);
		if (o->uniflow && o->statistical)
			n += put_template(out + n, o, v6, (struct form){ .uniflow = true });
	}
	put_be(out, SET_ID_TEMPLATE, 2);
	put_be(out + 2, n, 2);
	return n;
}

/* The longest record @o makes: IPv6 addresses, every field of the form. */
static size_t max_record(const struct ipfix_opts *o)
{
	size_t n = 0;

	for (unsigned i = 0; i < N_FIELDS; i++)
		if (field_in(i, o, o->uniflow))
			n += fields[i].val == V_STR ? 1 + fields[i].size : field_of(i, true).len;
	for (unsigned i = 0; o->statistical && i < N_STAT; i++)
		n += stat_len(stat_field(i));
	return n;
}

/* The smallest message that holds the templates and one record. */
static size_t min_msg(const struct ipfix_opts *o)
{
	uint8_t *t = malloc(MAX_MSG);
	size_t n = MSG_HDR_LEN + SET_HDR_LEN + max_record(o);

	if (t)
		n += put_templates(t, o);
	free(t);
	return t ? n : MAX_MSG;
}

const char *ipfix_target(const char *arg, bool *tcp)
{
	*tcp = !strncmp(arg, "tcp://", 6);
	if (*tcp || !strncmp(arg, "udp://", 6))
		return arg + 6;
	return arg;
}

void ipfix_opts_default(struct ipfix_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->template_refresh_s = 60;
	o->template_refresh_msgs = 100;
	o->tcp_queue = 4 << 20;
	o->reconnect_ms = 1000;
}

/* "host:port", "[v6]:port", "host" or a bare IPv6 address. */
static int split_host_port(const char *hp, char *host, size_t hlen, const char **port)
{
	const char *colon = strrchr(hp, ':');

	*port = IPFIX_DEFAULT_PORT;
	if (hp[0] == '[') {
		const char *end = strchr(hp, ']');

		if (!end || (end[1] && end[1] != ':') || (size_t)(end - hp) > hlen)
			return -EINVAL;
		snprintf(host, end - hp, "%s", hp + 1);
		if (end[1] == ':')
			*port = end + 2;
		return 0;
	}
	if (colon && colon == strchr(hp, ':')) { /* exactly one colon */
		if ((size_t)(colon - hp) >= hlen)
			return -EINVAL;
		snprintf(host, colon - hp + 1, "%s", hp);
		*port = colon + 1;
		return 0;
	}
	snprintf(host, hlen, "%s", hp);
	return 0;
}

static int resolve(struct ipfix_exporter *x, const char *host_port)
{
	struct addrinfo hints = { .ai_socktype = x->tcp ? SOCK_STREAM : SOCK_DGRAM };
	struct addrinfo *res;
	const char *port;
	char host[256];
	int err;

	if (split_host_port(host_port, host, sizeof(host), &port) || !*host || !*port) {
		pr_warn("Couldn't parse IPFIX collector %s: expected HOST:PORT or [IPV6]:PORT\n",
			host_port);
		return -EINVAL;
	}
	err = getaddrinfo(host, port, &hints, &res);
	if (err) {
		pr_warn("Couldn't resolve IPFIX collector %s: %s\n", host_port, gai_strerror(err));
		return -EINVAL;
	}
	memcpy(&x->addr, res->ai_addr, res->ai_addrlen);
	x->addr_len = res->ai_addrlen;
	freeaddrinfo(res);
	return 0;
}

static int udp_open(struct ipfix_exporter *x)
{
	int err;

	x->fd = socket(x->addr.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (x->fd < 0 || connect(x->fd, (struct sockaddr *)&x->addr, x->addr_len)) {
		err = errno;
		pr_warn("Couldn't open a UDP socket to IPFIX collector %s: %s\n", x->host_port,
			strerror(err));
		return -err;
	}
	return 0;
}

/* Drops what the queue holds: the connection it was meant for is gone. */
static void queue_drop(struct ipfix_exporter *x)
{
	x->queue_len = 0;
	x->queue_head = 0;
	for (size_t i = 0; i < x->qn; i++) {
		x->records_dropped += x->qmsgs[i].records;
		x->send_failures++;
	}
	x->qn = 0;
}

static void tcp_down(struct ipfix_exporter *x, int err)
{
	if (x->connected || !x->failing)
		pr_warn("Couldn't send IPFIX to %s over TCP: %s (retrying every %u ms)\n",
			x->host_port, strerror(err), x->o.reconnect_ms);
	x->failing = true;
	if (x->fd >= 0)
		close(x->fd);
	x->fd = -1;
	x->connecting = x->connected = false;
	queue_drop(x);
	x->next_connect_ms = clock_ms(CLOCK_MONOTONIC) + x->o.reconnect_ms;
}

static void tcp_up(struct ipfix_exporter *x)
{
	x->connecting = false;
	x->connected = true;
	x->connects++;
	if (x->failing)
		pr_info("IPFIX: connected to %s\n", x->host_port);
	x->failing = false;
}

/*
 * A new connection is a new IPFIX transport session: templates go first and
 * sequence numbers start again at 0 (RFC 7011 sections 3.1 and 8.1).
 */
static void tcp_connect(struct ipfix_exporter *x)
{
	x->fd = socket(x->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (x->fd < 0) {
		tcp_down(x, errno);
		return;
	}
	x->sequence = 0;
	x->templates_due = true;
	if (!connect(x->fd, (struct sockaddr *)&x->addr, x->addr_len))
		tcp_up(x);
	else if (errno == EINPROGRESS)
		x->connecting = true;
	else
		tcp_down(x, errno);
}

static void tcp_check_connect(struct ipfix_exporter *x)
{
	struct pollfd p = { .fd = x->fd, .events = POLLOUT };
	socklen_t len = sizeof(int);
	int err = 0;

	if (poll(&p, 1, 0) <= 0)
		return;
	if (getsockopt(x->fd, SOL_SOCKET, SO_ERROR, &err, &len) || err)
		tcp_down(x, err ? err : errno);
	else
		tcp_up(x);
}

/* Pops the messages the socket took entirely. */
static void queue_consume(struct ipfix_exporter *x, size_t n)
{
	size_t done = 0;

	memmove(x->queue, x->queue + n, x->queue_len - n);
	x->queue_len -= n;
	x->queue_head += n;
	while (done < x->qn && x->queue_head >= x->qmsgs[done].len) {
		x->queue_head -= x->qmsgs[done].len;
		x->messages_sent++;
		x->records_sent += x->qmsgs[done].records;
		done++;
	}
	memmove(x->qmsgs, x->qmsgs + done, (x->qn - done) * sizeof(*x->qmsgs));
	x->qn -= done;
}

/*
 * A collector never sends to an exporter: a readable socket means it hung
 * up. Noticing before writing saves the message that would go into the
 * dead connection and be lost uncounted.
 */
static bool tcp_peer_gone(struct ipfix_exporter *x)
{
	struct pollfd p = { .fd = x->fd, .events = POLLIN | POLLRDHUP };
	char c;

	if (poll(&p, 1, 0) <= 0)
		return false;
	if (p.revents & (POLLRDHUP | POLLHUP | POLLERR))
		return true;
	return recv(x->fd, &c, 1, MSG_DONTWAIT | MSG_PEEK) == 0;
}

static void tcp_flush(struct ipfix_exporter *x)
{
	while (x->connected && x->queue_len) {
		ssize_t n = send(x->fd, x->queue, x->queue_len, MSG_DONTWAIT | MSG_NOSIGNAL);

		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n <= 0) {
			tcp_down(x, n < 0 ? errno : ECONNRESET);
			return;
		}
		queue_consume(x, n);
	}
}

void ipfix_exporter_service(struct ipfix_exporter *x)
{
	if (!x->tcp || !x->msg)
		return;
	if (x->fd < 0 && clock_ms(CLOCK_MONOTONIC) >= x->next_connect_ms)
		tcp_connect(x);
	if (x->connecting)
		tcp_check_connect(x);
	if (x->connected && tcp_peer_gone(x))
		tcp_down(x, ECONNRESET);
	tcp_flush(x);
}

static int alloc_buffers(struct ipfix_exporter *x)
{
	x->msg = malloc(x->o.max_msg);
	if (x->tcp) {
		x->queue_cap = x->o.tcp_queue;
		x->qcap = x->queue_cap / (MSG_HDR_LEN + SET_HDR_LEN + 64) + 1;
		x->queue = malloc(x->queue_cap);
		x->qmsgs = calloc(x->qcap, sizeof(*x->qmsgs));
	}
	if (!x->msg || (x->tcp && (!x->queue || !x->qmsgs))) {
		pr_warn("Couldn't allocate IPFIX buffers: %s\n", strerror(ENOMEM));
		return -ENOMEM;
	}
	return 0;
}

int ipfix_exporter_open(struct ipfix_exporter *x, const char *host_port, bool tcp,
			const struct ipfix_opts *o)
{
	int err;

	memset(x, 0, sizeof(*x));
	x->fd = -1;
	x->tcp = tcp;
	snprintf(x->host_port, sizeof(x->host_port), "%s", host_port);
	if (o)
		x->o = *o;
	else
		ipfix_opts_default(&x->o);
	if (!x->o.max_msg || x->o.max_msg > MAX_MSG)
		x->o.max_msg = x->o.max_msg > MAX_MSG ? MAX_MSG : tcp ? TCP_MAX_MSG : UDP_MAX_MSG;
	/* The record buffers hold IPFIX_MAX_RECORD bytes: a table that outgrew it stops here. */
	if (max_record(&x->o) > IPFIX_MAX_RECORD) {
		pr_warn("IPFIX records of %zu bytes exceed IPFIX_MAX_RECORD (%d)\n",
			max_record(&x->o), IPFIX_MAX_RECORD);
		return -E2BIG;
	}
	if (x->o.max_msg < min_msg(&x->o))
		x->o.max_msg = min_msg(&x->o);
	if (x->o.tcp_queue < x->o.max_msg)
		x->o.tcp_queue = x->o.max_msg;
	x->templates_due = true;
	err = resolve(x, host_port);
	if (!err)
		err = alloc_buffers(x);
	if (!err && !tcp)
		err = udp_open(x);
	if (err) {
		ipfix_exporter_close(x, 0);
		return err;
	}
	if (tcp)
		ipfix_exporter_service(x); /* a collector not up yet is retried */
	pr_info("exporting IPFIX to %s over %s, %s records\n", host_port, tcp ? "TCP" : "UDP",
		x->o.uniflow ? "uniflow" : "biflow");
	if (x->o.accounting == ACCOUNT_LINK)
		pr_warn("IPFIX: --accounting link counts whole frames: they go in "
			"layer2OctetDeltaCount (352), and octetDeltaCount (IP bytes) is left out "
			"(the meter counts one of the two); collectors that read only "
			"octetDeltaCount (nfdump) show no bytes: --accounting ip gives them IP "
			"bytes\n");
	return 0;
}

/* UDP has no session: templates go again on schedule (RFC 7011 section 8.4). */
static bool templates_due(struct ipfix_exporter *x)
{
	if (x->templates_due)
		return true;
	if (x->tcp)
		return false;
	return (x->o.template_refresh_s &&
		clock_ms(CLOCK_MONOTONIC) - x->templates_ms >= x->o.template_refresh_s * 1000ULL) ||
	       (x->o.template_refresh_msgs && x->msgs_since_templates >= x->o.template_refresh_msgs);
}

static void msg_begin(struct ipfix_exporter *x)
{
	x->msg_len = MSG_HDR_LEN;
	x->set_off = 0;
	x->msg_records = 0;
	x->msg_templates = templates_due(x);
	if (x->msg_templates)
		x->msg_len += put_templates(x->msg + x->msg_len, &x->o);
}

static void set_close(struct ipfix_exporter *x)
{
	if (x->set_off)
		put_be(x->msg + x->set_off + 2, x->msg_len - x->set_off, 2);
	x->set_off = 0;
}

static void msg_header(struct ipfix_exporter *x)
{
	put_be(x->msg, IPFIX_VERSION, 2);
	put_be(x->msg + 2, x->msg_len, 2);
	put_be(x->msg + 4, clock_ms(CLOCK_REALTIME) / 1000, 4);
	put_be(x->msg + 8, x->sequence, 4);
	put_be(x->msg + 12, x->o.domain_id, 4);
}

/* A message whose templates left: the next ones need none until due again. */
static void msg_gone(struct ipfix_exporter *x)
{
	if (x->msg_templates) {
		x->templates_due = false;
		x->templates_ms = clock_ms(CLOCK_MONOTONIC);
		x->msgs_since_templates = 0;
	}
	x->msgs_since_templates++;
}

/*
 * A UDP collector that is down fails every other send (the ICMP error comes
 * back on the next one): warn at most once a minute, not per message.
 */
static int udp_send_msg(struct ipfix_exporter *x)
{
	uint64_t now;

	if (send(x->fd, x->msg, x->msg_len, MSG_DONTWAIT | MSG_NOSIGNAL) == (ssize_t)x->msg_len) {
		x->messages_sent++;
		x->records_sent += x->msg_records;
		return 0;
	}
	now = clock_ms(CLOCK_MONOTONIC);
	if (!x->warned_ms || now - x->warned_ms >= UDP_WARN_MS) {
		pr_warn("Couldn't send IPFIX to %s over UDP: %s (messages are counted as dropped)\n",
			x->host_port, strerror(errno));
		x->warned_ms = now;
	}
	return -EAGAIN;
}

static int tcp_queue_msg(struct ipfix_exporter *x)
{
	if (x->fd < 0 || x->queue_len + x->msg_len > x->queue_cap || x->qn == x->qcap)
		return -EAGAIN;
	memcpy(x->queue + x->queue_len, x->msg, x->msg_len);
	x->queue_len += x->msg_len;
	x->qmsgs[x->qn].len = x->msg_len;
	x->qmsgs[x->qn].records = x->msg_records;
	x->qn++;
	tcp_flush(x);
	return 0;
}

/*
 * Sends the message built so far. Its records count in the sequence number
 * even when it is dropped, so a collector sees the loss as a gap.
 */
static int msg_send(struct ipfix_exporter *x)
{
	int err;

	if (!x->msg_records)
		return 0;
	set_close(x);
	msg_header(x);
	err = x->tcp ? tcp_queue_msg(x) : udp_send_msg(x);
	x->sequence += x->msg_records;
	if (err) {
		x->send_failures++;
		x->records_dropped += x->msg_records;
	} else {
		msg_gone(x);
	}
	x->msg_records = 0;
	return err;
}

static int msg_add(struct ipfix_exporter *x, uint16_t tid, const uint8_t *rec, size_t len)
{
	bool new_set = !x->set_off || x->set_id != tid;
	int err = 0;

	if (x->msg_len + len + (new_set ? SET_HDR_LEN : 0) > x->o.max_msg) {
		err = msg_send(x);
		msg_begin(x);
		new_set = true;
	}
	if (new_set) {
		set_close(x);
		x->set_off = x->msg_len;
		x->set_id = tid;
		put_be(x->msg + x->msg_len, tid, 2);
		x->msg_len += SET_HDR_LEN;
	}
	memcpy(x->msg + x->msg_len, rec, len);
	x->msg_len += len;
	x->msg_records++;
	return err;
}

int ipfix_exporter_send(struct ipfix_exporter *x, const Nfxdp__FlowBatch *b)
{
	uint8_t rec[IPFIX_MAX_RECORD];
	int err = 0;

	if (!x->msg)
		return -EBADF;
	ipfix_exporter_service(x);
	if (x->tcp && x->fd < 0) {
		x->records_dropped += b->n_flows;
		return b->n_flows ? -EAGAIN : 0;
	}
	msg_begin(x);
	for (size_t i = 0; i < b->n_flows; i++) {
		const Nfxdp__Flow *f = b->flows[i];
		/* Uniflow records: the reverse direction is one more, when it saw a packet. */
		int records = x->o.uniflow && f->dst2src_packets ? 2 : 1;

		for (int r = 0; r < records; r++) {
			uint16_t tid;
			size_t len = ipfix_encode_flow(f, &x->o, r, rec, &tid);

			if (!len) {
				x->records_invalid++;
				break;
			}
			if (msg_add(x, tid, rec, len))
				err = -EAGAIN;
		}
	}
	if (msg_send(x))
		err = -EAGAIN;
	return err;
}

static void tcp_linger(struct ipfix_exporter *x, int linger_ms)
{
	uint64_t end = clock_ms(CLOCK_MONOTONIC) + (linger_ms > 0 ? linger_ms : 0);

	while ((x->connecting || x->queue_len) && x->fd >= 0) {
		struct pollfd p = { .fd = x->fd, .events = POLLOUT };
		uint64_t now = clock_ms(CLOCK_MONOTONIC);

		if (now >= end || poll(&p, 1, end - now) <= 0)
			break;
		ipfix_exporter_service(x);
	}
}

void ipfix_exporter_close(struct ipfix_exporter *x, int linger_ms)
{
	if (x->tcp && x->msg)
		tcp_linger(x, linger_ms);
	if (x->tcp)
		queue_drop(x); /* what did not leave in time is lost */
	if (x->fd >= 0)
		close(x->fd);
	x->fd = -1;
	free(x->msg);
	free(x->queue);
	free(x->qmsgs);
	x->msg = x->queue = NULL;
	x->qmsgs = NULL;
}

/* ---- the exporter interface --------------------------------------------- */

#define IX(x) ((struct ipfix_exporter *)(x))

static int ix_send(struct exporter *x, const struct batch_view *b)
{
	int err = ipfix_exporter_send(IX(x), b->msg);

	if (err)
		IX(x)->batches_dropped++;
	else
		IX(x)->batches_sent++;
	return err;
}

static void ix_service(struct exporter *x)
{
	ipfix_exporter_service(IX(x));
}

static void ix_stats(struct exporter *x, struct exporter_stats *st)
{
	st->batches_sent = IX(x)->batches_sent;
	st->batches_dropped = IX(x)->batches_dropped;
	st->records_sent = IX(x)->records_sent;
	st->records_dropped = IX(x)->records_dropped;
}

static int ix_own_stats(struct exporter *x, struct stat_item *items, int max)
{
	const struct stat_item own[] = {
		{ "ipfix_records_sent", IX(x)->records_sent },
		{ "ipfix_records_dropped", IX(x)->records_dropped },
	};

	return exporter_put_stats(items, max, own, sizeof(own) / sizeof(own[0]));
}

/* What did not leave in time is lost: said, and it makes the exit status 1. */
static int ix_close(struct exporter *x, int linger_ms)
{
	uint64_t dropped;

	ipfix_exporter_close(IX(x), linger_ms);
	dropped = IX(x)->records_dropped;
	if (dropped)
		pr_warn("%" PRIu64 " flow record(s) could not be sent to IPFIX collector %s\n",
			dropped, IX(x)->host_port);
	free(x);
	return dropped ? -EIO : 0;
}

/* IPFIX encodes the records itself. */
static bool ix_needs_packed(const struct exporter *x)
{
	(void)x;
	return false;
}

static const struct exporter_ops ipfix_ops = {
	.name = "ipfix",
	.send = ix_send,
	.needs_packed = ix_needs_packed,
	.service = ix_service,
	.stats = ix_stats,
	.own_stats = ix_own_stats,
	.close = ix_close,
};

struct exporter *ipfix_exporter_new(const char *target, const struct ipfix_opts *o, int *err)
{
	struct ipfix_exporter *ix = calloc(1, sizeof(*ix));
	const char *host_port;
	bool tcp;

	if (!ix) {
		*err = -ENOMEM;
		return NULL;
	}
	host_port = ipfix_target(target, &tcp);
	*err = ipfix_exporter_open(ix, host_port, tcp, o);
	if (*err) {
		free(ix);
		return NULL;
	}
	ix->base.ops = &ipfix_ops;
	return &ix->base;
}
