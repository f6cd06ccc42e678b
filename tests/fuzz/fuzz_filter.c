// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * --filter: libpcap's compiler (user/select/pcap_filter.c) on arbitrary
 * strings, and the translation of what it accepts into eBPF
 * (user/select/pcap_ebpf.c). Beyond memory safety, what the meter relies
 * on: an error is one terminated message saying what could not be done;
 * a translated program jumps only forward and within itself, ends in an
 * exit, reads the frame only at constant offsets below the window or
 * through a pointer checked against it, touches the stack only in the
 * scratch words; and "(E)" translates to the very program E does.
 */
#include <string.h>

#include "flow.h"
#include "select/pcap_ebpf.h"
#include "select/pcap_filter.h"
#include "fuzz.h"

#define EXPR_MAX 4096

static struct pcap_filter pf, pf2;
static struct pcap_ebpf out, again;

static void check_error(const char *err, size_t cap)
{
	FUZZ_CHECK(memchr(err, '\0', cap) != NULL, "unterminated error message");
	FUZZ_CHECK(!strncmp(err, "Couldn't ", 9), "error '%s'", err);
}

static bool is_jump(const struct bpf_insn *in)
{
	uint8_t cls = BPF_CLASS(in->code);

	return (cls == BPF_JMP || cls == BPF_JMP32) && BPF_OP(in->code) != BPF_EXIT &&
	       BPF_OP(in->code) != BPF_CALL;
}

static int size_of(const struct bpf_insn *in)
{
	switch (BPF_SIZE(in->code)) {
	case BPF_W:
		return 4;
	case BPF_H:
		return 2;
	case BPF_B:
		return 1;
	default:
		return 8;
	}
}

static void check_program(const struct pcap_ebpf *p)
{
	FUZZ_CHECK(p->len >= 2 && p->len <= PCAP_EBPF_MAX_INSNS, "len %u", p->len);
	FUZZ_CHECK(p->insns[p->len - 1].code == (BPF_JMP | BPF_EXIT), "does not end in exit");
	for (unsigned int i = 0; i < p->len; i++) {
		const struct bpf_insn *in = &p->insns[i];
		uint8_t cls = BPF_CLASS(in->code);

		FUZZ_CHECK(in->code != (BPF_JMP | BPF_CALL), "insn %u: a call", i);
		FUZZ_CHECK(in->code != (BPF_LD | BPF_IMM | BPF_DW), "insn %u: a 64-bit load", i);
		if (is_jump(in))
			FUZZ_CHECK(in->off >= 0 && i + 1 + in->off < p->len,
				   "insn %u: jump by %d in %u", i, in->off, p->len);
		/* Frame reads: r1 (the buffer) at a constant offset, or r7 (checked). */
		if (cls == BPF_LDX && in->src_reg == BPF_REG_1)
			FUZZ_CHECK(in->off >= 0 && in->off + size_of(in) <= PARSE_WINDOW,
				   "insn %u: reads the frame at %d", i, in->off);
		if (cls == BPF_LDX && in->src_reg == BPF_REG_7)
			FUZZ_CHECK(in->off == 0, "insn %u: indexed read at +%d", i, in->off);
		if (cls == BPF_LDX)
			FUZZ_CHECK(in->src_reg == BPF_REG_1 || in->src_reg == BPF_REG_7 ||
					   in->src_reg == BPF_REG_10,
				   "insn %u: reads through r%u", i, in->src_reg);
		if (cls == BPF_ST || cls == BPF_STX)
			FUZZ_CHECK(in->dst_reg == BPF_REG_10 && in->off >= -64 && in->off <= -4,
				   "insn %u: writes r%u%+d", i, in->dst_reg, in->off);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char expr[EXPR_MAX + 1], wrapped[EXPR_MAX + 8];
	char err[8192];
	int r;

	if (size > EXPR_MAX)
		return 0;
	memcpy(expr, data, size);
	expr[size] = '\0';
	if (strlen(expr) != size)
		return 0; /* a NUL inside: the option could not carry it */

	memset(err, 0x5a, sizeof(err));
	r = pcap_filter_compile(&pf, expr, PCAP_FILTER_ETHERNET, err, sizeof(err));
	FUZZ_CHECK(r == 0 || r == -1, "returned %d", r);
	if (r) {
		check_error(err, sizeof(err));
		return 0;
	}
	r = pcap_ebpf_translate(&pf, PARSE_WINDOW, &out, err, sizeof(err));
	if (r) {
		check_error(err, sizeof(err));
		pcap_filter_free(&pf);
		return 0;
	}
	check_program(&out);

	/* "(E)" makes the same classic BPF, so the same eBPF. */
	snprintf(wrapped, sizeof(wrapped), "(%s)", expr);
	if (!pcap_filter_compile(&pf2, wrapped, PCAP_FILTER_ETHERNET, err, sizeof(err))) {
		if (!pcap_ebpf_translate(&pf2, PARSE_WINDOW, &again, err, sizeof(err))) {
			FUZZ_CHECK(again.len == out.len &&
					   !memcmp(again.insns, out.insns,
						   out.len * sizeof(*out.insns)),
				   "'(%s)' translates differently", expr);
			pcap_ebpf_free(&again);
		}
		pcap_filter_free(&pf2);
	}
	pcap_ebpf_free(&out);
	pcap_filter_free(&pf);
	return 0;
}
