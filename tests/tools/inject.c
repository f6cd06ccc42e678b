// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * inject: sends crafted frames on an interface with AF_PACKET, for the
 * end-to-end tests: exact packets, any flags, VLAN tags, malformed headers.
 * Frames addressed to a MAC nobody owns are metered by XDP on the peer and
 * then dropped by its stack, so no reply muddies the counts.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "gencap/craft.h"

static void usage(void)
{
	fprintf(stderr,
"Usage: inject --iface IF [frame options] [--count N] [--interval-ms MS]\n"
"  --src ADDR --dst ADDR      IPv4 or IPv6 addresses (version from the text)\n"
"  --proto tcp|udp|icmp|icmpv6|sctp|N   --sport P --dport P\n"
"  --flags [SAFRPUEC]         TCP flags   --payload N   bytes of payload\n"
"  --vlan ID                  802.1Q tag (repeat to stack; --qinq ID for 802.1ad)\n"
"  --smac M --dmac M          MAC addresses\n"
"  --ethertype X              a non-IP frame of that ethertype (hex)\n"
"  --len-delta N              corrupt the IP length field by N\n"
"  --ihl N                    IPv4 header length in words\n"
"  --frag-offset N            IP fragment offset (8-byte units)\n"
"  --flows N                  vary the source port over N values: N flows\n"
"  --rate PPS                 frames per second (default: as fast as possible)\n");
}

static int parse_flags(const char *s)
{
	static const char names[] = "FSRPAUEC";
	int f = 0;

	for (; *s; s++) {
		const char *p = strchr(names, *s);

		if (!p)
			return -1;
		f |= 1 << (p - names);
	}
	return f;
}

static int parse_proto(const char *s)
{
	static const struct {
		const char *name;
		int num;
	} protos[] = { { "tcp", 6 }, { "udp", 17 }, { "icmp", 1 }, { "icmpv6", 58 }, { "sctp", 132 } };

	for (size_t i = 0; i < sizeof(protos) / sizeof(protos[0]); i++)
		if (!strcmp(s, protos[i].name))
			return protos[i].num;
	return atoi(s);
}

static void pace(long i, long rate, const struct timespec *start)
{
	struct timespec due = *start;
	long long ns = (long long)i * 1000000000LL / rate;

	due.tv_sec += ns / 1000000000LL;
	due.tv_nsec += ns % 1000000000LL;
	if (due.tv_nsec >= 1000000000L) {
		due.tv_sec++;
		due.tv_nsec -= 1000000000L;
	}
	clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &due, NULL);
}

/* The source port of frame @i: the base one, or one of @flows after it. */
static void vary(uint8_t *frame, size_t len, const struct pkt_spec *s, long i, long flows)
{
	size_t l4 = len - s->payload - (s->proto == 6 ? 20 : 8);
	uint16_t port = s->sport + i % flows;

	frame[l4] = port >> 8;
	frame[l4 + 1] = port & 0xff;
}

static int send_frames(const char *iface, uint8_t *frame, size_t len, long count,
		       long interval_ms, const struct pkt_spec *s, long flows, long rate)
{
	struct timespec start;
	struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_halen = 6 };
	int fd = socket(AF_PACKET, SOCK_RAW, 0);

	if (fd < 0) {
		perror("inject: socket(AF_PACKET)");
		return 1;
	}
	sll.sll_ifindex = if_nametoindex(iface);
	if (!sll.sll_ifindex) {
		fprintf(stderr, "inject: no interface %s\n", iface);
		return 1;
	}
	memcpy(sll.sll_addr, frame, 6);
	clock_gettime(CLOCK_MONOTONIC, &start);
	for (long i = 0; i < count; i++) {
		if (flows > 1)
			vary(frame, len, s, i, flows);
		if (rate)
			pace(i, rate, &start);
		if (sendto(fd, frame, len, 0, (struct sockaddr *)&sll, sizeof(sll)) != (ssize_t)len) {
			perror("inject: sendto");
			return 1;
		}
		if (interval_ms && i + 1 < count) {
			struct timespec ts = { interval_ms / 1000, (interval_ms % 1000) * 1000000 };

			nanosleep(&ts, NULL);
		}
	}
	close(fd);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "iface", required_argument, NULL, 'i' }, { "src", required_argument, NULL, 's' },
		{ "dst", required_argument, NULL, 'd' },   { "proto", required_argument, NULL, 'p' },
		{ "sport", required_argument, NULL, 'S' }, { "dport", required_argument, NULL, 'D' },
		{ "flags", required_argument, NULL, 'f' }, { "payload", required_argument, NULL, 'l' },
		{ "vlan", required_argument, NULL, 'v' },  { "qinq", required_argument, NULL, 'q' },
		{ "smac", required_argument, NULL, 'm' },  { "dmac", required_argument, NULL, 'M' },
		{ "count", required_argument, NULL, 'c' }, { "interval-ms", required_argument, NULL, 'w' },
		{ "ethertype", required_argument, NULL, 'e' },
		{ "len-delta", required_argument, NULL, 'L' }, { "ihl", required_argument, NULL, 'h' },
		{ "frag-offset", required_argument, NULL, 'F' }, { "flows", required_argument, NULL, 'n' },
		{ "rate", required_argument, NULL, 'R' }, { NULL, 0, NULL, 0 },
	};
	struct pkt_spec s = {
		.smac = { 0x02, 0, 0, 0, 0xaa, 0x01 },
		.dmac = { 0x02, 0, 0, 0, 0xaa, 0x02 },
		.proto = 17,
	};
	const char *iface = NULL;
	long count = 1, interval_ms = 0, flows = 1, rate = 0;
	uint8_t frame[PKT_MAX];
	size_t len;
	int c;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'i': iface = optarg; break;
		case 's': s.src = optarg; break;
		case 'd': s.dst = optarg; break;
		case 'p': s.proto = parse_proto(optarg); break;
		case 'S': s.sport = atoi(optarg); break;
		case 'D': s.dport = atoi(optarg); break;
		case 'f':
			if (parse_flags(optarg) < 0) {
				usage();
				return 2;
			}
			s.tcp_flags = parse_flags(optarg);
			break;
		case 'l': s.payload = atoi(optarg); break;
		case 'v':
		case 'q':
			if (s.n_vlans == 4)
				return 2;
			s.vlan_tpid[s.n_vlans] = c == 'q' ? 0x88a8 : 0x8100;
			s.vlan_id[s.n_vlans++] = atoi(optarg);
			break;
		case 'm':
		case 'M':
			if (pkt_parse_mac(optarg, c == 'm' ? s.smac : s.dmac)) {
				usage();
				return 2;
			}
			break;
		case 'c': count = atol(optarg); break;
		case 'w': interval_ms = atol(optarg); break;
		case 'e': s.ethertype = strtol(optarg, NULL, 16); break;
		case 'L': s.len_delta = atoi(optarg); break;
		case 'h': s.ipv4_ihl = atoi(optarg); break;
		case 'F': s.frag_offset = atoi(optarg); break;
		case 'n': flows = atol(optarg); break;
		case 'R': rate = atol(optarg); break;
		default:
			usage();
			return 2;
		}
	}
	if (!iface) {
		usage();
		return 2;
	}
	if (s.src && s.dst)
		s.ip_version = strchr(s.src, ':') ? 6 : 4;
	else if (!s.ethertype) {
		usage();
		return 2;
	}
	len = pkt_build(&s, frame, sizeof(frame));
	if (!len) {
		fprintf(stderr, "inject: cannot build that frame\n");
		return 2;
	}
	if (flows > 1 && s.proto != 6 && s.proto != 17) {
		fprintf(stderr, "inject: --flows needs tcp or udp\n");
		return 2;
	}
	return send_frames(iface, frame, len, count, interval_ms, &s, flows, rate);
}
