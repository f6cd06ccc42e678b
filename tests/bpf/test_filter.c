// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * --filter and --hash-slice in the meter, through BPF_PROG_TEST_RUN.
 *
 * The translation of classic BPF into eBPF, instruction by instruction:
 * hand-written classic programs (every instruction libpcap's interpreter
 * runs, and its corners: loads at the end of the frame, past it, past the
 * buffer, indexes that wrap, division by 0, shifts past 31, scratch words
 * never written, 32-bit constants with the top bit set) spliced into the
 * meter and run on crafted frames, each verdict against libpcap's own
 * interpreter (pcap_offline_filter()) on the same bytes; a program's final
 * A is compared exactly (the meter passes the frame when A equals what
 * libpcap computed). Then pcap-filter expressions on crafted frames with the
 * verdicts written out, the capture replay entry point (the kernel's filter
 * and the verdicts user space takes on other link types), --snaplen, and
 * --hash-slice splitting flows by key.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <linux/filter.h>

#include "common/log.h"
#include "harness.h"
#include "meter.skel.h"
#include "select/pcap_ebpf.h"
#include "select/pcap_filter.h"
#include "test.h"

#define SEC_NS 1000000000ULL
#define MACS .smac = { 2, 0, 0, 0, 0, 1 }, .dmac = { 2, 0, 0, 0, 0, 2 }
#define V4 MACS, .ip_version = 4, .src = "198.18.0.1", .dst = "198.18.0.2"
#define V6 MACS, .ip_version = 6, .src = "fd00::1", .dst = "fd00::2"
#define TCP(sp, dp) .proto = 6, .sport = sp, .dport = dp
#define UDP(sp, dp) .proto = 17, .sport = sp, .dport = dp

#define MAX_BODY 24

/* Classic BPF, as libpcap's <pcap/bpf.h> and Linux's <linux/filter.h> write it. */
#define STMT(code, k) { (uint16_t)(code), 0, 0, (k) }
#define JUMP(code, k, jt, jf) { (uint16_t)(code), (jt), (jf), (k) }

/* A classic program without its final return: A is what it computed. */
struct body {
	const char *name;
	struct cbpf_insn insns[MAX_BODY];
	unsigned int len;
};
#define BODY(name, ...)                                                                        \
	{ name, { __VA_ARGS__ },                                                               \
	  sizeof((struct cbpf_insn[]){ __VA_ARGS__ }) / sizeof(struct cbpf_insn) }

static const struct body bodies[] = {
	BODY("ld word at 56 (the last 4 bytes of 60)", STMT(BPF_LD | BPF_W | BPF_ABS, 56)),
	BODY("ld half at 58", STMT(BPF_LD | BPF_H | BPF_ABS, 58)),
	BODY("ld byte at 59", STMT(BPF_LD | BPF_B | BPF_ABS, 59)),
	BODY("ld byte at 255 (the window's last)", STMT(BPF_LD | BPF_B | BPF_ABS, 255)),
	BODY("ld byte at 256: past the window", STMT(BPF_LD | BPF_B | BPF_ABS, 256)),
	BODY("ld word at 0xffffffff: wraps in 32 bits", STMT(BPF_LD | BPF_W | BPF_ABS, 0xffffffff)),
	BODY("ethertype, big-endian", STMT(BPF_LD | BPF_H | BPF_ABS, 12)),
	BODY("source address, big-endian", STMT(BPF_LD | BPF_W | BPF_ABS, 26)),
	BODY("ind: X 14, byte at X + 9",
	  STMT(BPF_LDX | BPF_IMM, 14), STMT(BPF_LD | BPF_B | BPF_IND, 9)),
	BODY("ind: X 50, word at X + 6 (the last 4 of 60)",
	  STMT(BPF_LDX | BPF_IMM, 50), STMT(BPF_LD | BPF_W | BPF_IND, 6)),
	BODY("ind: X 0xffffffff + 2 wraps: out of the frame",
	  STMT(BPF_LDX | BPF_IMM, 0xffffffff), STMT(BPF_LD | BPF_B | BPF_IND, 2)),
	BODY("ind: X 255, half at X + 0: one byte past the window",
	  STMT(BPF_LDX | BPF_IMM, 255), STMT(BPF_LD | BPF_H | BPF_IND, 0)),
	BODY("msh: X = IP header length, then the UDP destination port",
	  STMT(BPF_LDX | BPF_MSH | BPF_B, 14), STMT(BPF_LD | BPF_H | BPF_IND, 16)),
	BODY("msh at 300: past the window",
	  STMT(BPF_LDX | BPF_MSH | BPF_B, 300), STMT(BPF_MISC | BPF_TXA, 0)),
	BODY("len: the wire length", STMT(BPF_LD | BPF_W | BPF_LEN, 0)),
	BODY("ldx len, txa", STMT(BPF_LDX | BPF_W | BPF_LEN, 0), STMT(BPF_MISC | BPF_TXA, 0)),
	BODY("scratch: st, ld, ldx, stx",
	  STMT(BPF_LD | BPF_IMM, 7), STMT(BPF_ST, 3), STMT(BPF_LD | BPF_IMM, 0),
	    STMT(BPF_LDX | BPF_MEM, 3), STMT(BPF_STX, 15), STMT(BPF_LD | BPF_MEM, 15),
	    STMT(BPF_ALU | BPF_ADD | BPF_X, 0)),
	BODY("scratch word never written reads 0",
	  STMT(BPF_LD | BPF_IMM, 9), STMT(BPF_LD | BPF_MEM, 5), STMT(BPF_ALU | BPF_ADD | BPF_K, 1)),
	BODY("alu with k, wrapping in 32 bits",
	  STMT(BPF_LD | BPF_B | BPF_ABS, 23), STMT(BPF_ALU | BPF_ADD | BPF_K, 0xfffffff0),
	    STMT(BPF_ALU | BPF_SUB | BPF_K, 3), STMT(BPF_ALU | BPF_MUL | BPF_K, 0x10001),
	    STMT(BPF_ALU | BPF_DIV | BPF_K, 3), STMT(BPF_ALU | BPF_MOD | BPF_K, 100000),
	    STMT(BPF_ALU | BPF_AND | BPF_K, 0xff0f), STMT(BPF_ALU | BPF_OR | BPF_K, 0x80030000),
	    STMT(BPF_ALU | BPF_XOR | BPF_K, 0x5a5a), STMT(BPF_ALU | BPF_LSH | BPF_K, 3),
	    STMT(BPF_ALU | BPF_RSH | BPF_K, 1), STMT(BPF_ALU | BPF_NEG, 0)),
	BODY("alu with x",
	  STMT(BPF_LDX | BPF_IMM, 7), STMT(BPF_LD | BPF_W | BPF_ABS, 26),
	    STMT(BPF_ALU | BPF_ADD | BPF_X, 0), STMT(BPF_ALU | BPF_SUB | BPF_X, 0),
	    STMT(BPF_ALU | BPF_MUL | BPF_X, 0), STMT(BPF_ALU | BPF_DIV | BPF_X, 0),
	    STMT(BPF_ALU | BPF_MOD | BPF_X, 0), STMT(BPF_ALU | BPF_XOR | BPF_X, 0),
	    STMT(BPF_ALU | BPF_OR | BPF_X, 0), STMT(BPF_ALU | BPF_AND | BPF_X, 0),
	    STMT(BPF_ALU | BPF_LSH | BPF_X, 0), STMT(BPF_ALU | BPF_RSH | BPF_X, 0)),
	BODY("div by x = 0 ends the filter",
	  STMT(BPF_LD | BPF_IMM, 5), STMT(BPF_ALU | BPF_DIV | BPF_X, 0)),
	BODY("mod by x = 0 ends the filter",
	  STMT(BPF_LD | BPF_IMM, 5), STMT(BPF_ALU | BPF_MOD | BPF_X, 0)),
	BODY("lsh by x = 31", STMT(BPF_LDX | BPF_IMM, 31), STMT(BPF_LD | BPF_IMM, 3),
			     STMT(BPF_ALU | BPF_LSH | BPF_X, 0)),
	BODY("lsh by x = 32 gives 0", STMT(BPF_LDX | BPF_IMM, 32), STMT(BPF_LD | BPF_IMM, 3),
	     STMT(BPF_ALU | BPF_LSH | BPF_X, 0), STMT(BPF_ALU | BPF_ADD | BPF_K, 1)),
	BODY("rsh by x = 33 gives 0", STMT(BPF_LDX | BPF_IMM, 33), STMT(BPF_LD | BPF_IMM, ~0U),
	     STMT(BPF_ALU | BPF_RSH | BPF_X, 0), STMT(BPF_ALU | BPF_ADD | BPF_K, 1)),
	BODY("neg of 0x80000000", STMT(BPF_LD | BPF_IMM, 0x80000000), STMT(BPF_ALU | BPF_NEG, 0)),
	BODY("jgt k with the top bit set: unsigned",
	  STMT(BPF_LD | BPF_IMM, 0xfffffffe), JUMP(BPF_JMP | BPF_JGT | BPF_K, 0x80000000, 0, 1),
	    STMT(BPF_LD | BPF_IMM, 11), STMT(BPF_ALU | BPF_ADD | BPF_K, 1)),
	BODY("jeq k: jf only (jt 0)",
	  STMT(BPF_LD | BPF_H | BPF_ABS, 12), JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0x0800, 0, 2),
	    STMT(BPF_LD | BPF_IMM, 21), JUMP(BPF_JMP | BPF_JA, 1, 0, 0),
	    STMT(BPF_LD | BPF_IMM, 22)),
	BODY("jge k: both ways",
	  STMT(BPF_LD | BPF_B | BPF_ABS, 23), JUMP(BPF_JMP | BPF_JGE | BPF_K, 17, 2, 0),
	    STMT(BPF_LD | BPF_IMM, 31), JUMP(BPF_JMP | BPF_JA, 1, 0, 0),
	    STMT(BPF_LD | BPF_IMM, 32)),
	BODY("jge k: jf only, at the boundary",
	     STMT(BPF_LD | BPF_B | BPF_ABS, 23), JUMP(BPF_JMP | BPF_JGE | BPF_K, 17, 0, 2),
	     STMT(BPF_LD | BPF_IMM, 71), JUMP(BPF_JMP | BPF_JA, 1, 0, 0),
	     STMT(BPF_LD | BPF_IMM, 72)),
	BODY("jgt k: jf only, at the boundary",
	     STMT(BPF_LD | BPF_B | BPF_ABS, 23), JUMP(BPF_JMP | BPF_JGT | BPF_K, 17, 0, 2),
	     STMT(BPF_LD | BPF_IMM, 73), JUMP(BPF_JMP | BPF_JA, 1, 0, 0),
	     STMT(BPF_LD | BPF_IMM, 74)),
	BODY("jset k, jt 0 (no negation in eBPF)",
	  STMT(BPF_LD | BPF_B | BPF_ABS, 14), JUMP(BPF_JMP | BPF_JSET | BPF_K, 0x40, 0, 2),
	    STMT(BPF_LD | BPF_IMM, 41), JUMP(BPF_JMP | BPF_JA, 1, 0, 0),
	    STMT(BPF_LD | BPF_IMM, 42)),
	BODY("jeq, jgt, jge, jset with x",
	  STMT(BPF_LDX | BPF_IMM, 0x45), STMT(BPF_LD | BPF_B | BPF_ABS, 14),
	    JUMP(BPF_JMP | BPF_JEQ | BPF_X, 0, 1, 0), STMT(BPF_ALU | BPF_ADD | BPF_K, 0x100),
	    JUMP(BPF_JMP | BPF_JGT | BPF_X, 0, 0, 1), STMT(BPF_ALU | BPF_ADD | BPF_K, 0x1000),
	    JUMP(BPF_JMP | BPF_JGE | BPF_X, 0, 1, 1), STMT(BPF_ALU | BPF_ADD | BPF_K, 0x9999),
	    JUMP(BPF_JMP | BPF_JSET | BPF_X, 0, 0, 1), STMT(BPF_ALU | BPF_ADD | BPF_K, 0x10000)),
	BODY("both branches to the same place",
	  STMT(BPF_LD | BPF_IMM, 51), JUMP(BPF_JMP | BPF_JEQ | BPF_K, 51, 1, 1),
	    STMT(BPF_LD | BPF_IMM, 52)),
	BODY("code after a load past the window is never reached",
	  STMT(BPF_LD | BPF_B | BPF_ABS, 400), JUMP(BPF_JMP | BPF_JEQ | BPF_K, 1, 0, 1),
	    STMT(BPF_LD | BPF_IMM, 61)),
};

struct frame {
	const char *name;
	struct pkt_spec spec;
	int wire_extra; /* the wire length past the captured bytes */
};

static const struct frame frames[] = {
	{ "udp4, 60 bytes", { V4, UDP(5353, 53), .payload = 18 } },
	{ "udp4, 59 bytes, 41 more on the wire", { V4, UDP(5353, 53), .payload = 17 }, 41 },
	{ "tcp4, 74 bytes", { V4, TCP(40000, 443), .tcp_flags = 0x12, .payload = 20 } },
	{ "udp6, 300 bytes", { V6, UDP(1, 2), .payload = 238 } },
	{ "arp, 42 bytes", { MACS, .ethertype = 0x0806, .payload = 28 } },
};

static int frame_bytes(const struct frame *f, uint8_t *buf)
{
	return pkt_build(&f->spec, buf, PKT_MAX);
}

/* Loads the meter with @prog as its filter (only nfx_meter: quicker). */
static int open_with(struct harness *h, struct pcap_filter *prog, struct pcap_ebpf *out,
		     unsigned int programs, uint32_t snaplen)
{
	struct meter_opts o;
	char err[1024];

	if (pcap_ebpf_translate(prog, PARSE_WINDOW, out, err, sizeof(err))) {
		fprintf(stderr, "  %s\n", err);
		return -EINVAL;
	}
	harness_default_opts(&o);
	o.programs = programs;
	o.filter = out;
	o.snaplen = snaplen;
	return harness_open(h, &o);
}

/* The meter's verdict on @f: 1 metered (or ignored after the filter), 0 filtered out, -1 error. */
static int kernel_keeps(struct harness *h, const uint8_t *buf, size_t len, uint32_t wire_len)
{
	int r = harness_run(h, buf, len, wire_len, SEC_NS);

	return r < 0 ? -1 : r != NFX_FILTERED_OUT;
}

/* @b with an ending appended (at most 4 instructions), as a program of @f. */
static void with_ending(struct pcap_filter *f, struct cbpf_insn *insns, const struct body *b,
			const struct cbpf_insn *end, int n_end)
{
	unsigned int n = b->len;

	memcpy(insns, b->insns, n * sizeof(*insns));
	memcpy(insns + n, end, n_end * sizeof(*insns));
	*f = (struct pcap_filter){ .dlt = PCAP_FILTER_ETHERNET, .insns = insns, .len = n + n_end };
}

/*
 * libpcap's interpreter keeps its scratch words on its stack, uninitialized
 * (bpf_filter.c: mem[]); the kernel's classic BPF and the translation read
 * a word never written as 0. A program that writes 0 to every word, run
 * just before through the same call, leaves zeros where the next run's
 * mem[] lies, so libpcap answers as it would with zeroed memory (without
 * it, what an earlier call left there decides: a change elsewhere in the
 * process made "scratch word never written" fail).
 */
static uint32_t libpcap_run(const struct pcap_filter *f, const uint8_t *buf, uint32_t caplen,
			    uint32_t wire)
{
	static struct cbpf_insn zero[BPF_MEMWORDS + 2];
	struct pcap_filter z = { .dlt = PCAP_FILTER_ETHERNET, .insns = zero,
				 .len = BPF_MEMWORDS + 2 };

	zero[0] = (struct cbpf_insn)STMT(BPF_LD | BPF_IMM, 0);
	for (int i = 0; i < BPF_MEMWORDS; i++)
		zero[i + 1] = (struct cbpf_insn)STMT(BPF_ST, i);
	zero[BPF_MEMWORDS + 1] = (struct cbpf_insn)STMT(BPF_RET | BPF_K, 0);
	pcap_filter_run(&z, buf, caplen, wire);
	return pcap_filter_run(f, buf, caplen, wire);
}

/*
 * Each body on each frame: libpcap says whether it ends (a failed load, a
 * division by 0) and, when not, the A it leaves; the meter, given the body
 * followed by "A == that ? keep : drop", must keep the frame, and given
 * the body followed by "keep", reject exactly when libpcap does.
 */
static void test_instructions(void)
{
	static struct cbpf_insn insns[MAX_BODY + 4];
	const struct cbpf_insn ret_a[] = { STMT(BPF_RET | BPF_A, 0) };
	const struct cbpf_insn ret_1[] = { STMT(BPF_RET | BPF_K, 1) };

	for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
		const struct body *b = &bodies[i];
		char name[200];

		snprintf(name, sizeof(name), "filter: classic BPF: %s", b->name);
		TEST(name)
		{
			for (size_t j = 0; j < sizeof(frames) / sizeof(frames[0]); j++) {
				const struct frame *fr = &frames[j];
				uint8_t buf[PKT_MAX];
				size_t len = frame_bytes(fr, buf);
				uint32_t wire = len + fr->wire_extra, a, caplen;
				struct pcap_filter f;
				struct pcap_ebpf e;
				struct harness h;
				bool ends;

				caplen = len < PARSE_WINDOW ? len : PARSE_WINDOW;
				with_ending(&f, insns, b, ret_1, 1);
				ends = !libpcap_run(&f, buf, caplen, wire);
				with_ending(&f, insns, b, ret_a, 1);
				a = libpcap_run(&f, buf, caplen, wire);
				{
					const struct cbpf_insn check[] = {
						JUMP(BPF_JMP | BPF_JEQ | BPF_K, a, 0, 1),
						STMT(BPF_RET | BPF_K, 1), STMT(BPF_RET | BPF_K, 0),
					};

					with_ending(&f, insns, b, ends ? ret_1 : check, ends ? 1 : 3);
				}
				if (!ASSERT_EQ(open_with(&h, &f, &e, LOAD_METER, 0), 0, fr->name))
					continue;
				if (!ASSERT_EQ(kernel_keeps(&h, buf, len, wire), !ends, fr->name))
					fprintf(stderr, "  (libpcap: %s, A = %#x)\n",
						ends ? "ends" : "runs through", a);
				harness_close(&h);
				pcap_ebpf_free(&e);
			}
		}
	}
}

/*
 * Programs libpcap's validator refuses, so pcap_compile() never makes them
 * (and libpcap 1.10's interpreter traps on the first): the translation
 * still rejects the frame where newer libpcap does, or refuses.
 */
static void test_invalid(void)
{
	static const struct cbpf_insn div0[] = {
		STMT(BPF_LD | BPF_IMM, 5), STMT(BPF_ALU | BPF_DIV | BPF_K, 0), STMT(BPF_RET | BPF_K, 1),
	};
	static const struct cbpf_insn back[] = {
		STMT(BPF_LD | BPF_IMM, 5), JUMP(BPF_JMP | BPF_JA, (uint32_t)-2, 0, 0),
		STMT(BPF_RET | BPF_K, 1),
	};
	static const struct cbpf_insn mem[] = {
		STMT(BPF_LD | BPF_MEM, 16), STMT(BPF_RET | BPF_K, 1),
	};
	struct pkt_spec s = { V4, UDP(1, 2) };
	uint8_t buf[PKT_MAX];
	size_t len = pkt_build(&s, buf, sizeof(buf));
	struct pcap_filter f = { .dlt = PCAP_FILTER_ETHERNET, .insns = (struct cbpf_insn *)div0,
				 .len = 3 };
	struct pcap_ebpf e;
	struct harness h;
	char err[512];

	TEST("filter: classic BPF: a division by the constant 0 rejects the frame")
	{
		if (ASSERT_EQ(open_with(&h, &f, &e, LOAD_METER, 0), 0, "load")) {
			ASSERT_EQ(kernel_keeps(&h, buf, len, len), 0, "meter");
			harness_close(&h);
			pcap_ebpf_free(&e);
		}
	}
	TEST("filter: classic BPF: a backward jump or scratch word 16 is refused")
	{
		f.insns = (struct cbpf_insn *)back;
		ASSERT_EQ(pcap_ebpf_translate(&f, PARSE_WINDOW, &e, err, sizeof(err)), -1, "back");
		ASSERT_TRUE(strstr(err, "jumps backwards") != NULL, err);
		f.insns = (struct cbpf_insn *)mem;
		f.len = 2;
		ASSERT_EQ(pcap_ebpf_translate(&f, PARSE_WINDOW, &e, err, sizeof(err)), -1, "M[16]");
		ASSERT_TRUE(strstr(err, "is not classic BPF") != NULL, err);
	}
}

struct expr_case {
	const char *expr;
	struct pkt_spec spec;
	int keeps;
};

static const struct expr_case expr_cases[] = {
	{ "tcp", { V4, TCP(1, 2) }, 1 },
	{ "tcp", { V4, UDP(1, 2) }, 0 },
	{ "tcp port 443", { V4, TCP(40000, 443) }, 1 },
	{ "tcp port 443", { V4, UDP(40000, 443) }, 0 },
	{ "udp dst port 53", { V4, UDP(5353, 53) }, 1 },
	{ "udp dst port 53", { V4, UDP(53, 5353) }, 0 },
	{ "src port 5353", { V4, UDP(5353, 53) }, 1 },
	{ "portrange 1000-2000", { V4, TCP(40000, 1500) }, 1 },
	{ "portrange 1000-2000", { V4, TCP(40000, 2001) }, 0 },
	{ "src portrange 1000-2000", { V4, TCP(40000, 1500) }, 0 },
	{ "net 198.18.0.0/24", { V4, TCP(1, 2) }, 1 },
	{ "net 198.18.1.0/24", { V4, TCP(1, 2) }, 0 },
	{ "src net 198.18.0.0/31", { V4, TCP(1, 2) }, 1 },
	{ "dst net 198.18.0.0/31", { V4, TCP(1, 2) }, 0 },
	{ "src 198.18.0.1", { V4, TCP(1, 2) }, 1 },
	{ "src host 198.18.0.2", { V4, TCP(1, 2) }, 0 },
	{ "net fd00::/16", { V6, UDP(1, 2) }, 1 },
	{ "dst net fd00::2/127", { V6, UDP(1, 2) }, 1 },
	{ "ip6 and udp", { V6, UDP(1, 2) }, 1 },
	{ "ip", { V6, UDP(1, 2) }, 0 },
	{ "icmp6", { V6, .proto = 58 }, 1 },
	{ "ip proto 47", { V4, .proto = 47 }, 1 },
	{ "ether host 02:00:00:00:00:02", { V4, UDP(1, 2) }, 1 },
	{ "ether src 02:00:00:00:00:02", { V4, UDP(1, 2) }, 0 },
	{ "arp", { MACS, .ethertype = 0x0806, .payload = 28 }, 1 },
	{ "vlan 100 and udp",
	  { V4, UDP(1, 2), .n_vlans = 1, .vlan_tpid = { 0x8100 }, .vlan_id = { 100 } }, 1 },
	{ "vlan 101", { V4, UDP(1, 2), .n_vlans = 1, .vlan_tpid = { 0x8100 }, .vlan_id = { 100 } },
	  0 },
	{ "udp", { V4, UDP(1, 2), .n_vlans = 1, .vlan_tpid = { 0x8100 }, .vlan_id = { 100 } }, 0 },
	{ "mpls and ip", { V4, TCP(1, 2), .mpls_labels = 1 }, 1 },
	{ "less 60", { V4, UDP(1, 2), .payload = 18 }, 1 },
	{ "greater 61", { V4, UDP(1, 2), .payload = 18 }, 0 },
	{ "tcp[tcpflags] & tcp-syn != 0", { V4, TCP(1, 2), .tcp_flags = 0x02 }, 1 },
	{ "tcp[tcpflags] & tcp-syn != 0", { V4, TCP(1, 2), .tcp_flags = 0x10 }, 0 },
	{ "icmp[icmptype] = icmp-echo", { V4, .proto = 1, .payload = 8 }, 1 },
	{ "icmp[icmptype] = icmp-echoreply", { V4, .proto = 1, .payload = 8 }, 0 },
	{ "ip[6:2] & 0x1fff = 0", { V4, UDP(1, 2), .frag_offset = 9 }, 0 },
	{ "ip[6:2] & 0x1fff = 0", { V4, UDP(1, 2), .more_frags = true }, 1 },
	{ "not tcp", { V4, TCP(1, 2) }, 0 },
	{ "! (tcp || port 2) && ip", { V4, UDP(1, 2) }, 0 },
	{ "(tcp and port 2) or (udp and port 3)", { V4, UDP(1, 3) }, 1 },
	{ "", { V4, UDP(1, 2) }, 1 },
};

/* pcap-filter expressions: the verdicts written here, and libpcap's the same. */
static void test_expressions(void)
{
	for (size_t i = 0; i < sizeof(expr_cases) / sizeof(expr_cases[0]); i++) {
		const struct expr_case *c = &expr_cases[i];
		struct pcap_filter f;
		struct pcap_ebpf e;
		struct harness h;
		uint8_t buf[PKT_MAX];
		size_t len = pkt_build(&c->spec, buf, sizeof(buf));
		char name[200], err[4096];

		snprintf(name, sizeof(name), "filter: '%s' %s a %zu-byte frame", c->expr,
			 c->keeps ? "keeps" : "drops", len);
		TEST(name)
		{
			if (!ASSERT_EQ(pcap_filter_compile(&f, c->expr, PCAP_FILTER_ETHERNET, err,
							   sizeof(err)), 0, err))
				continue;
			ASSERT_EQ(pcap_filter_match(&f, buf, len, len), c->keeps, "libpcap");
			if (ASSERT_EQ(open_with(&h, &f, &e, LOAD_METER, 0), 0, "load")) {
				ASSERT_EQ(kernel_keeps(&h, buf, len, len), c->keeps, "meter");
				harness_close(&h);
				pcap_ebpf_free(&e);
			}
			pcap_filter_free(&f);
		}
	}
}

/* One frame in replay slot 0, through nfx_replay; the counter it ended in. */
static int replay_one(struct harness *h, struct replay_slot *slots, const uint8_t *buf,
		      size_t len, uint16_t prefilter)
{
	unsigned char pkt[64] = { 0 };
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = pkt, .data_size_in = sizeof(pkt),
		    .repeat = 1);
	uint64_t before[NFX_COUNTER_MAX], after[NFX_COUNTER_MAX];

	memset(&slots[0], 0, sizeof(slots[0]));
	slots[0].f = (struct replay_frame){ .ts_ns = SEC_NS, .wire_len = len, .frame_len = len,
					     .caplen = len, .prefilter = prefilter };
	slots[0].f.kept = len < PARSE_WINDOW ? len : PARSE_WINDOW;
	memcpy(slots[0].frame.b, buf, slots[0].f.kept);
	h->m.skel->bss->replay_first = 0;
	h->m.skel->bss->replay_count = 1;
	harness_counters(h, before);
	if (bpf_prog_test_run_opts(h->replay_fd, &opts))
		return -1;
	harness_counters(h, after);
	/* The slot tells the counter its frame ended in. */
	if (after[slots[0].f.outcome] != before[slots[0].f.outcome] + 1)
		return -1;
	if (after[NFX_FILTERED_OUT] > before[NFX_FILTERED_OUT])
		return NFX_FILTERED_OUT;
	return after[NFX_FRAMES_METERED] > before[NFX_FRAMES_METERED] ? NFX_FRAMES_METERED : -1;
}

/*
 * Capture replay: the kernel's filter on an Ethernet frame (no verdict
 * with it); a verdict user space took (another link type) stands, whatever
 * the kernel's filter would say. Frame-by-frame replay (data_meta) alike.
 */
static void test_replay(void)
{
	struct pkt_spec tcp = { V4, TCP(1, 443) }, udp = { V4, UDP(1, 53) };
	uint8_t t[PKT_MAX], u[PKT_MAX];
	size_t tl = pkt_build(&tcp, t, sizeof(t)), ul = pkt_build(&udp, u, sizeof(u));
	struct replay_slot *slots;
	struct pcap_filter f;
	struct pcap_ebpf e;
	struct harness h;
	char err[1024];

	TEST("filter: capture replay: the kernel's filter, and verdicts from user space")
	{
		if (!ASSERT_EQ(pcap_filter_compile(&f, "tcp port 443", PCAP_FILTER_ETHERNET, err,
						   sizeof(err)), 0, err))
			continue;
		if (!ASSERT_EQ(open_with(&h, &f, &e, LOAD_METER | LOAD_REPLAY, 0), 0, "load"))
			continue;
		slots = meter_replay_slots(&h.m);
		if (ASSERT_TRUE(slots != NULL, "slots")) {
			ASSERT_EQ(replay_one(&h, slots, t, tl, PREFILTER_NONE), NFX_FRAMES_METERED,
				  "tcp 443, kernel");
			ASSERT_EQ(replay_one(&h, slots, u, ul, PREFILTER_NONE), NFX_FILTERED_OUT,
				  "udp 53, kernel");
			ASSERT_EQ(replay_one(&h, slots, u, ul, PREFILTER_KEEP), NFX_FRAMES_METERED,
				  "udp 53, kept in user space");
			ASSERT_EQ(replay_one(&h, slots, t, tl, PREFILTER_DROP), NFX_FILTERED_OUT,
				  "tcp 443, dropped in user space");
		}
		{
			struct nfx_meta meta = { .ts_ns = SEC_NS, .wire_len = ul, .frame_len = ul,
						 .magic = NFX_META_MAGIC };
			uint8_t buf[sizeof(meta) + PKT_MAX];
			struct xdp_md ctx = { .data = sizeof(meta), .data_end = sizeof(meta) + ul };
			LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = buf,
				    .data_size_in = sizeof(meta) + ul, .ctx_in = &ctx,
				    .ctx_size_in = sizeof(ctx), .repeat = 1);
			uint64_t c0[NFX_COUNTER_MAX], c1[NFX_COUNTER_MAX];

			meta.prefilter = PREFILTER_KEEP;
			memcpy(buf, &meta, sizeof(meta));
			memcpy(buf + sizeof(meta), u, ul);
			harness_counters(&h, c0);
			ASSERT_EQ(bpf_prog_test_run_opts(h.meter_fd, &o), 0, "frame mode run");
			harness_counters(&h, c1);
			ASSERT_EQ(c1[NFX_FRAMES_METERED] - c0[NFX_FRAMES_METERED], 1,
				  "frame mode: udp 53 kept in user space");
		}
		harness_close(&h);
		pcap_ebpf_free(&e);
		pcap_filter_free(&f);
	}
}

/* --snaplen: the filter sees what any stage may read, as tcpdump -s does. */
static void test_snaplen(void)
{
	struct pkt_spec s = { V4, UDP(1, 2), .payload = 100 };
	uint8_t buf[PKT_MAX];
	size_t len = pkt_build(&s, buf, sizeof(buf));
	struct pcap_filter f;
	struct pcap_ebpf e;
	struct harness h;
	char err[1024];

	TEST("filter: --snaplen 64: a test of byte 100 fails, as with tcpdump -s 64")
	{
		if (!ASSERT_EQ(pcap_filter_compile(&f, "ether[100] = ether[100]",
						   PCAP_FILTER_ETHERNET, err, sizeof(err)), 0, err))
			continue;
		ASSERT_EQ(pcap_filter_match(&f, buf, 64, len), 0, "libpcap, 64 bytes");
		ASSERT_EQ(pcap_filter_match(&f, buf, len, len), 1, "libpcap, the whole frame");
		if (ASSERT_EQ(open_with(&h, &f, &e, LOAD_METER, 64), 0, "load --snaplen 64")) {
			ASSERT_EQ(kernel_keeps(&h, buf, len, len), 0, "meter, --snaplen 64");
			harness_close(&h);
			pcap_ebpf_free(&e);
		}
		if (ASSERT_EQ(open_with(&h, &f, &e, LOAD_METER, 0), 0, "load")) {
			ASSERT_EQ(kernel_keeps(&h, buf, len, len), 1, "meter, no --snaplen");
			harness_close(&h);
			pcap_ebpf_free(&e);
		}
		pcap_filter_free(&f);
	}
}

/*
 * A filter of 4-byte equality tests that, together, cover the first @w bytes
 * of @buf (the last test overlaps the one before it when @w % 4 != 0).
 */
static void window_filter(char *out, size_t size, const uint8_t *buf, uint32_t w)
{
	size_t n = 0;

	for (uint32_t i = 0; i + 4 <= w + 3; i += 4) {
		uint32_t at = i + 4 <= w ? i : w - 4;

		n += snprintf(out + n, size - n, "%sether[%u:4] = 0x%02x%02x%02x%02x",
			      i ? " and " : "", at, buf[at], buf[at + 1], buf[at + 2], buf[at + 3]);
	}
}

/*
 * The header window the meter copies (in place in 32-byte chunks, the last
 * one overlapping, or by the kernel's helper under 32 bytes) holds every
 * byte of the frame: a filter comparing all of them keeps the frame, and
 * drops it once a byte is changed, at the window's first chunk, its second
 * and its last byte; at XDP and at TC egress, for lengths around each
 * chunk boundary and past the window.
 */
static void test_window_copy(void)
{
	static const uint32_t lens[] = { 28, 31, 32, 33, 60, 63, 64, 65, 95, 97, 224, 255, 256, 300 };
	static char expr[4096];
	uint8_t buf[PKT_MAX];

	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		uint32_t len = lens[i], w = len < PARSE_WINDOW ? len : PARSE_WINDOW;
		uint32_t flips[3] = { 1, w > 32 ? 32 : w / 2, w - 1 };
		struct pcap_filter f;
		struct pcap_ebpf e;
		struct harness h;
		char err[1024], name[96];

		for (uint32_t b = 0; b < len; b++)
			buf[b] = (uint8_t)(b * 7 + len);
		window_filter(expr, sizeof(expr), buf, w);
		snprintf(name, sizeof(name), "filter: a %u-byte frame: every byte of the window copied",
			 len);
		TEST(name)
		{
			if (!ASSERT_EQ(pcap_filter_compile(&f, expr, PCAP_FILTER_ETHERNET, err,
							   sizeof(err)), 0, err))
				continue;
			ASSERT_EQ(pcap_filter_match(&f, buf, len, len), 1, "libpcap keeps it");
			if (!ASSERT_EQ(open_with(&h, &f, &e, LOAD_METER | LOAD_EGRESS, 0), 0, "load")) {
				pcap_filter_free(&f);
				continue;
			}
			ASSERT_EQ(kernel_keeps(&h, buf, len, len), 1, "XDP keeps it");
			ASSERT_TRUE(harness_run_egress(&h, buf, len, 0, 0) != NFX_FILTERED_OUT,
				    "TC egress keeps it");
			for (int k = 0; k < 3; k++) {
				buf[flips[k]] ^= 0x40;
				ASSERT_EQ(kernel_keeps(&h, buf, len, len), 0, "XDP: a byte changed");
				ASSERT_EQ(harness_run_egress(&h, buf, len, 0, 0), NFX_FILTERED_OUT,
					  "TC egress: a byte changed");
				buf[flips[k]] ^= 0x40;
			}
			harness_close(&h);
			pcap_ebpf_free(&e);
			pcap_filter_free(&f);
		}
	}
}

/* --hash-slice K/4: every flow in exactly one slice, both directions alike. */
static void test_hash_slice(void)
{
	struct harness h[4];
	int in_slices[300] = { 0 }, none = 0, two = 0, opened = 0;

	for (int k = 0; k < 4; k++) {
		struct meter_opts o;

		harness_default_opts(&o);
		o.hash_k = k;
		o.hash_n = 4;
		opened += !harness_open(&h[k], &o);
	}
	TEST("filter: --hash-slice K/4 splits flows into 4 slices, both directions alike")
	{
		if (!ASSERT_EQ(opened, 4, "loaded"))
			continue;
		for (int f = 0; f < 300; f++) {
			struct pkt_spec s = { V4, UDP(1000 + f, 53) }, r;

			r = s;
			pkt_spec_reverse(&r);
			for (int k = 0; k < 4; k++) {
				int a = harness_run_spec(&h[k], &s, SEC_NS);
				int b = harness_run_spec(&h[k], &r, SEC_NS);

				ASSERT_EQ(a, b, "both directions in the same slice");
				in_slices[f] += a == NFX_FRAMES_METERED;
			}
			none += in_slices[f] == 0;
			two += in_slices[f] > 1;
		}
		ASSERT_EQ(none, 0, "flows in no slice");
		ASSERT_EQ(two, 0, "flows in two slices");
		for (int k = 0; k < 4; k++)
			ASSERT_TRUE(harness_flow_count(&h[k]) > 40, "every slice has flows");
	}
	for (int k = 0; k < 4 && opened == 4; k++)
		harness_close(&h[k]);
}

/*
 * The egress program (SEC("tc")) gets the filter spliced in too: what the
 * host sends is filtered as what it receives, and counted the same way.
 */
static void test_egress(void)
{
	struct pkt_spec tcp = { V4, TCP(1, 443) }, udp = { V4, UDP(1, 53) };
	uint8_t t[PKT_MAX], u[PKT_MAX];
	size_t tl = pkt_build(&tcp, t, sizeof(t)), ul = pkt_build(&udp, u, sizeof(u));
	uint64_t c[NFX_COUNTER_MAX];
	struct pcap_filter f;
	struct pcap_ebpf e;
	struct harness h;
	char err[1024];

	TEST("filter: the egress program filters as XDP does, in its own counters")
	{
		if (!ASSERT_EQ(pcap_filter_compile(&f, "tcp port 443", PCAP_FILTER_ETHERNET, err,
						   sizeof(err)), 0, err))
			continue;
		if (!ASSERT_EQ(open_with(&h, &f, &e, LOAD_METER | LOAD_EGRESS, 0), 0, "load")) {
			pcap_filter_free(&f);
			continue;
		}
		ASSERT_EQ(harness_run_egress(&h, t, tl, 0, 0), NFX_FRAMES_METERED, "tcp 443 sent");
		ASSERT_EQ(harness_run_egress(&h, u, ul, 0, 0), NFX_FILTERED_OUT, "udp 53 sent");
		ASSERT_EQ(harness_run_live(&h, u, ul), NFX_FILTERED_OUT, "udp 53 received");
		harness_counters_hook(&h, HOOK_EGRESS, c);
		ASSERT_EQ(c[NFX_FILTERED_OUT], 1, "egress: filtered out");
		ASSERT_EQ(c[NFX_FRAMES_METERED], 1, "egress: metered");
		harness_counters_hook(&h, HOOK_INGRESS, c);
		ASSERT_EQ(c[NFX_FILTERED_OUT], 1, "ingress: filtered out");
		harness_close(&h);
		pcap_ebpf_free(&e);
		pcap_filter_free(&f);
	}
}

int main(int argc, char **argv)
{
	test_suite = "bpf-filter";
	log_set_level(LOG_WARN);
	log_route_libbpf();
	test_instructions();
	test_invalid();
	test_expressions();
	test_replay();
	test_snaplen();
	test_window_copy();
	test_hash_slice();
	test_egress();
	return test_summary();
}
