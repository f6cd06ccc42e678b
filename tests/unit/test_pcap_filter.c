// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * --filter in user space, no kernel needed: libpcap's compilation and its
 * messages with the place they point at, the translation's shape (what the
 * verifier and classic BPF need: forward jumps within the program, an exit
 * at the end, frame reads checked, nothing unreachable, refusals), and
 * --hash-slice's argument. What the translation computes is checked against
 * libpcap in the kernel: tests/bpf/test_filter.c.
 */
#include <string.h>

#include <linux/filter.h>

#include "cli/cli.h"
#include "common/log.h"
#include "flow.h"
#include "select/pcap_ebpf.h"
#include "select/pcap_filter.h"
#include "test.h"

struct message_case {
	const char *expr;
	const char *says;  /* in libpcap's message */
	const char *caret; /* the line under the expression (after its indent), NULL: none */
};

static const struct message_case messages[] = {
	{ "tcp prot 443", "can't parse filter expression: syntax error",
	  "    ^ libpcap accepts what comes before" },
	{ "tcp port 443 and", "syntax error", "             ^ libpcap accepts what comes before" },
	{ "port 99999", "illegal port number 99999 > 65535", "     ^" },
	{ "host 10.0.0.1 or vlan 5000", "VLAN tag 5000 greater than maximum 4095",
	  "                      ^" },
	{ "tcp and udp", "expression rejects all packets", NULL },
};

static void test_messages(void)
{
	for (size_t i = 0; i < sizeof(messages) / sizeof(messages[0]); i++) {
		const struct message_case *c = &messages[i];
		struct pcap_filter f;
		char name[128], err[4096], want[512];
		const char *caret;

		snprintf(name, sizeof(name), "pcap filter: '%s' refused, with libpcap's message",
			 c->expr);
		TEST(name)
		{
			ASSERT_EQ(pcap_filter_compile(&f, c->expr, PCAP_FILTER_ETHERNET, err,
						      sizeof(err)), -1, "refused");
			snprintf(want, sizeof(want), "Couldn't compile --filter '%s': ", c->expr);
			ASSERT_TRUE(!strncmp(err, want, strlen(want)), err);
			ASSERT_TRUE(strstr(err, c->says) != NULL, err);
			caret = strrchr(err, '\n');
			if (!c->caret) {
				ASSERT_TRUE(!strchr(err, '\n'), "no caret");
				continue;
			}
			snprintf(want, sizeof(want), "  %s", c->caret);
			ASSERT_STREQ(caret ? caret + 1 : NULL, want, "the caret");
		}
	}
}

static bool is_jump(const struct bpf_insn *in)
{
	uint8_t cls = BPF_CLASS(in->code);

	return (cls == BPF_JMP || cls == BPF_JMP32) && BPF_OP(in->code) != BPF_EXIT &&
	       BPF_OP(in->code) != BPF_CALL;
}

/* Every instruction reached from the first, following jumps (forward only). */
static bool all_reachable(const struct pcap_ebpf *p)
{
	bool seen[PCAP_EBPF_MAX_INSNS] = { false };

	seen[0] = true;
	for (unsigned int i = 0; i < p->len; i++) {
		const struct bpf_insn *in = &p->insns[i];

		if (!seen[i])
			return false;
		if (is_jump(in))
			seen[i + 1 + in->off] = true;
		if (in->code != (BPF_JMP | BPF_EXIT) && in->code != (BPF_JMP | BPF_JA) &&
		    i + 1 < p->len)
			seen[i + 1] = true;
	}
	return true;
}

static void test_translation(void)
{
	static const char *const exprs[] = {
		"tcp port 443", "vlan 100 and udp", "ip[6:2] & 0x1fff = 0",
		"tcp[tcpflags] & (tcp-syn|tcp-ack) = tcp-syn", "ip[300] = 1 or udp", "",
	};

	for (size_t i = 0; i < sizeof(exprs) / sizeof(exprs[0]); i++) {
		struct pcap_filter f;
		struct pcap_ebpf e;
		char name[128], err[4096];
		int past = 0;

		snprintf(name, sizeof(name), "pcap filter: '%s' translates for the verifier",
			 exprs[i]);
		TEST(name)
		{
			if (!ASSERT_EQ(pcap_filter_compile(&f, exprs[i], PCAP_FILTER_ETHERNET, err,
							   sizeof(err)), 0, err))
				continue;
			if (!ASSERT_EQ(pcap_ebpf_translate(&f, PARSE_WINDOW, &e, err, sizeof(err)),
				       0, err)) {
				pcap_filter_free(&f);
				continue;
			}
			ASSERT_EQ(e.insns[e.len - 1].code, BPF_JMP | BPF_EXIT, "ends in an exit");
			for (unsigned int j = 0; j < e.len; j++) {
				const struct bpf_insn *in = &e.insns[j];

				if (is_jump(in))
					past += in->off < 0 || j + 1 + in->off >= e.len;
				if (BPF_CLASS(in->code) == BPF_LDX && in->src_reg == BPF_REG_1)
					past += in->off >= PARSE_WINDOW;
			}
			ASSERT_EQ(past, 0, "jumps back or out, or reads past the window");
			ASSERT_TRUE(all_reachable(&e), "every instruction reachable");
			pcap_ebpf_free(&e);
			pcap_filter_free(&f);
		}
	}
	TEST("pcap filter: 'ip6 protochain 6' (a loop) is refused")
	{
		struct pcap_filter f;
		struct pcap_ebpf e;
		char err[4096];

		if (!ASSERT_EQ(pcap_filter_compile(&f, "ip6 protochain 6", PCAP_FILTER_ETHERNET, err,
						   sizeof(err)), 0, err))
			continue;
		ASSERT_EQ(pcap_ebpf_translate(&f, PARSE_WINDOW, &e, err, sizeof(err)), -1,
			  "refused");
		ASSERT_TRUE(strstr(err, "Couldn't translate --filter 'ip6 protochain 6' for the "
				       "kernel: ") == err, err);
		pcap_filter_free(&f);
	}
	TEST("pcap filter: a link type other than Ethernet, in user space")
	{
		/* DLT_NULL: a 4-byte family, then IPv4 with UDP to port 53. */
		static const uint8_t frame[] = {
			2, 0, 0, 0, 0x45, 0, 0, 28, 0, 0, 0, 0, 64, 17, 0, 0, 10, 0, 0, 1,
			10, 0, 0, 2, 0x30, 0x39, 0, 53, 0, 8, 0, 0,
		};
		struct pcap_filter f;
		char err[4096];

		if (!ASSERT_EQ(pcap_filter_compile(&f, "udp dst port 53", 0, err, sizeof(err)), 0,
			       err))
			continue;
		ASSERT_EQ(pcap_filter_match(&f, frame, sizeof(frame), sizeof(frame)), 1, "kept");
		ASSERT_EQ(pcap_filter_match(&f, frame, 26, sizeof(frame)), 0, "cut short: no port");
		pcap_filter_free(&f);
		ASSERT_EQ(pcap_filter_compile(&f, "ether host 1:2:3:4:5:6", 0, err, sizeof(err)),
			  -1, "'ether' on DLT_NULL");
		ASSERT_TRUE(strstr(err, "for link type NULL: ") != NULL, err);
	}
}

static int parse(struct nfx_config *cfg, const char *a, const char *b)
{
	char *argv[] = { "nfxdp", "--iface", "eth0", (char *)a, (char *)b, NULL };

	config_defaults(cfg);
	return config_parse(cfg, b ? 5 : 4, argv);
}

static void test_options(void)
{
	struct nfx_config c;

	TEST("pcap filter: --hash-slice K/N")
	{
		ASSERT_EQ(parse(&c, "--hash-slice", "3/4"), 0, "3/4");
		ASSERT_EQ(c.hash_slice_k * 10 + c.hash_slice_n, 34, "K and N");
		log_set_level(LOG_QUIET);
		ASSERT_EQ(parse(&c, "--hash-slice", "4/4"), -1, "4/4");
		ASSERT_EQ(parse(&c, "--hash-slice", "0/0"), -1, "0/0");
		ASSERT_EQ(parse(&c, "--hash-slice", "1/"), -1, "1/");
		ASSERT_EQ(parse(&c, "--hash-slice", "/4"), -1, "/4");
		ASSERT_EQ(parse(&c, "--hash-slice", "-1/4"), -1, "-1/4");
		ASSERT_EQ(parse(&c, "--hash-slice", "1/4x"), -1, "1/4x");
		log_set_level(LOG_WARN);
	}
	TEST("pcap filter: --filter compiled for Ethernet and translated")
	{
		ASSERT_EQ(parse(&c, "--filter", "tcp port 443"), 0, "accepted");
		ASSERT_TRUE(c.filter && c.filter_ebpf && c.filter_ebpf->len > 0, "compiled");
		ASSERT_STREQ(c.filter ? c.filter->expr : NULL, "tcp port 443", "the expression");
		log_set_level(LOG_QUIET);
		ASSERT_EQ(parse(&c, "--filter", "tcp prot 443"), -1, "refused");
		ASSERT_TRUE(!c.filter && !c.filter_ebpf, "nothing kept");
		log_set_level(LOG_WARN);
	}
}

int main(void)
{
	test_suite = "unit-filter";
	log_set_level(LOG_WARN);
	test_messages();
	test_translation();
	test_options();
	return test_summary();
}
