// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * blast: pushes UDP frames out of an interface as fast as one core can
 * (AF_PACKET, PACKET_QDISC_BYPASS, sendmmsg), over many flows, for the
 * benchmarks. Or writes the same frames to a pcap file.
 *
 *   blast (--iface IF | --pcap FILE) [--flows K] [--rounds R] [--size BYTES]
 *         [--dmac M] [--smac M] [--first N] [--pps N]
 *
 * Frame j of round r goes to flow (first + j) for j < K, so every flow is
 * open at once: K flows of R packets each, K * R frames in all. Flow n is
 * 198.18.0.0/15 + 1 + n / 64512 : 1024 + n % 64512 -> 198.19.255.254 : 9,
 * so up to 8 million flows stay inside the benchmarking range.
 *
 * Prints "sent N refused N seconds S" on stdout: refused frames are those
 * the interface would not take (a full queue on the way to the receiver).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BATCH 256
#define FRAME_MAX 1514
#define PORTS 64512

struct opts {
	const char *iface;
	const char *pcap;
	uint64_t flows;
	uint64_t rounds;
	uint64_t first;
	uint64_t pps;
	unsigned size;
	uint8_t smac[6];
	uint8_t dmac[6];
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static int parse_mac(const char *s, uint8_t mac[6])
{
	unsigned m[6];

	if (sscanf(s, "%x:%x:%x:%x:%x:%x", &m[0], &m[1], &m[2], &m[3], &m[4], &m[5]) != 6)
		return -1;
	for (int i = 0; i < 6; i++)
		mac[i] = m[i];
	return 0;
}

static uint16_t ip_checksum(const uint8_t *h)
{
	uint32_t sum = 0;

	for (int i = 0; i < 20; i += 2)
		sum += (uint32_t)h[i] << 8 | h[i + 1];
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return ~sum & 0xffff;
}

/* The frame of flow @n: Ethernet, IPv4, UDP (no checksum), zero payload. */
static void make_frame(uint8_t *f, const struct opts *o, uint64_t n)
{
	uint32_t src = 0xc6120001u + (uint32_t)(n / PORTS); /* 198.18.0.1 + */
	uint16_t sport = 1024 + n % PORTS, ip_len = o->size - 14, udp_len = ip_len - 20;
	uint16_t c;

	memset(f, 0, o->size);
	memcpy(f, o->dmac, 6);
	memcpy(f + 6, o->smac, 6);
	f[12] = 0x08;
	f[14] = 0x45;
	f[16] = ip_len >> 8;
	f[17] = ip_len & 0xff;
	f[22] = 64;  /* TTL */
	f[23] = 17;  /* UDP */
	f[26] = src >> 24;
	f[27] = src >> 16;
	f[28] = src >> 8;
	f[29] = src;
	f[30] = 198; /* 198.19.255.254 */
	f[31] = 19;
	f[32] = 255;
	f[33] = 254;
	c = ip_checksum(f + 14);
	f[24] = c >> 8;
	f[25] = c & 0xff;
	f[34] = sport >> 8;
	f[35] = sport & 0xff;
	f[37] = 9; /* discard */
	f[38] = udp_len >> 8;
	f[39] = udp_len & 0xff;
}

static void usage(void)
{
	fprintf(stderr,
"Usage: blast (--iface IF | --pcap FILE) [--flows K] [--rounds R] [--size BYTES]\n"
"             [--dmac M] [--smac M] [--first N] [--pps N]\n"
"  K flows (1000) of R packets (1000) each, round robin; frames of BYTES (60,\n"
"  without the FCS, 60..1514); --first N numbers the flows from N; --pps caps\n"
"  the rate (default: as fast as the core can)\n");
}

static int parse(struct opts *o, int argc, char **argv)
{
	static const struct option lo[] = {
		{ "iface", required_argument, NULL, 'i' }, { "pcap", required_argument, NULL, 'w' },
		{ "flows", required_argument, NULL, 'k' }, { "rounds", required_argument, NULL, 'r' },
		{ "size", required_argument, NULL, 's' },  { "dmac", required_argument, NULL, 'd' },
		{ "smac", required_argument, NULL, 'm' },  { "first", required_argument, NULL, 'f' },
		{ "pps", required_argument, NULL, 'p' },   { NULL, 0, NULL, 0 },
	};
	int c;

	*o = (struct opts){ .flows = 1000, .rounds = 1000, .size = 60,
			    .smac = { 2, 0, 0, 0, 0xb1, 1 }, .dmac = { 2, 0, 0, 0, 0xb1, 2 } };
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 'i': o->iface = optarg; break;
		case 'w': o->pcap = optarg; break;
		case 'k': o->flows = strtoull(optarg, NULL, 0); break;
		case 'r': o->rounds = strtoull(optarg, NULL, 0); break;
		case 's': o->size = atoi(optarg); break;
		case 'f': o->first = strtoull(optarg, NULL, 0); break;
		case 'p': o->pps = strtoull(optarg, NULL, 0); break;
		case 'd':
		case 'm':
			if (parse_mac(optarg, c == 'd' ? o->dmac : o->smac)) {
				fprintf(stderr, "blast: bad MAC address '%s'\n", optarg);
				return -1;
			}
			break;
		default: usage(); return -1;
		}
	}
	if (!o->iface == !o->pcap || !o->flows || o->size < 60 || o->size > FRAME_MAX ||
	    (o->first + o->flows) / PORTS > 130000) {
		usage();
		return -1;
	}
	return 0;
}

static int open_socket(const char *iface, struct sockaddr_ll *sll)
{
	int fd = socket(AF_PACKET, SOCK_RAW, 0), one = 1;

	if (fd < 0) {
		perror("blast: Couldn't open an AF_PACKET socket");
		return -1;
	}
	/* Straight to the driver: no qdisc between the sender and the veth. */
	if (setsockopt(fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof(one)))
		perror("blast: Couldn't bypass the qdisc (sending through it)");
	memset(sll, 0, sizeof(*sll));
	sll->sll_family = AF_PACKET;
	sll->sll_ifindex = if_nametoindex(iface);
	sll->sll_halen = 6;
	if (!sll->sll_ifindex) {
		fprintf(stderr, "blast: Couldn't find interface %s\n", iface);
		close(fd);
		return -1;
	}
	if (bind(fd, (struct sockaddr *)sll, sizeof(*sll))) {
		perror("blast: Couldn't bind to the interface");
		close(fd);
		return -1;
	}
	return fd;
}

static int write_pcap(const struct opts *o)
{
	FILE *f = fopen(o->pcap, "wb");
	uint8_t frame[FRAME_MAX];
	/* pcap header: magic, 2.4, tz 0, sigfigs 0, snaplen, Ethernet */
	uint32_t hdr[6] = { 0xa1b23c4d, 0x00040002, 0, 0, 65535, 1 };
	uint64_t t = 1700000000ULL * 1000000000ULL;

	if (!f) {
		perror("blast: Couldn't create the capture");
		return 1;
	}
	fwrite(hdr, sizeof(hdr), 1, f);
	for (uint64_t r = 0; r < o->rounds; r++) {
		for (uint64_t j = 0; j < o->flows; j++) {
			/* 1 us apart, nanosecond timestamps */
			uint32_t rec[4] = { t / 1000000000ULL, t % 1000000000ULL, o->size, o->size };

			make_frame(frame, o, o->first + j);
			fwrite(rec, sizeof(rec), 1, f);
			fwrite(frame, o->size, 1, f);
			t += 1000;
		}
	}
	if (fclose(f)) {
		perror("blast: Couldn't write the capture");
		return 1;
	}
	printf("sent %llu refused 0 seconds 0\n", (unsigned long long)(o->flows * o->rounds));
	return 0;
}

int main(int argc, char **argv)
{
	static uint8_t frames[BATCH][FRAME_MAX];
	struct mmsghdr msg[BATCH];
	struct iovec iov[BATCH];
	struct sockaddr_ll sll;
	uint64_t total, done = 0, sent = 0, refused = 0, t0, t1;
	struct opts o;
	int fd;

	if (parse(&o, argc, argv))
		return 2;
	if (o.pcap)
		return write_pcap(&o);
	fd = open_socket(o.iface, &sll);
	if (fd < 0)
		return 1;
	memset(msg, 0, sizeof(msg));
	for (int i = 0; i < BATCH; i++) {
		iov[i].iov_base = frames[i];
		iov[i].iov_len = o.size;
		msg[i].msg_hdr.msg_iov = &iov[i];
		msg[i].msg_hdr.msg_iovlen = 1;
	}
	total = o.flows * o.rounds;
	t0 = now_ns();
	while (done < total) {
		unsigned n = total - done < BATCH ? total - done : BATCH, at = 0;

		for (unsigned i = 0; i < n; i++)
			make_frame(frames[i], &o, o.first + (done + i) % o.flows);
		while (at < n) {
			int r = sendmmsg(fd, msg + at, n - at, 0);

			if (r > 0) {
				sent += r;
				at += r;
			} else if (r < 0 && (errno == ENOBUFS || errno == EAGAIN)) {
				refused++; /* the interface dropped this one: go on */
				at++;
			} else if (r < 0 && errno != EINTR) {
				perror("blast: Couldn't send");
				return 1;
			}
		}
		done += n;
		if (o.pps) {
			uint64_t due = t0 + done * 1000000000ULL / o.pps;

			while (now_ns() < due)
				;
		}
	}
	t1 = now_ns();
	printf("sent %llu refused %llu seconds %.3f\n", (unsigned long long)sent,
	       (unsigned long long)refused, (t1 - t0) / 1e9);
	close(fd);
	return 0;
}
