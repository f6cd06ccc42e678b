// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Classic BPF to eBPF, one classic instruction at a time; see pcap_ebpf.h
 * for the rules kept. Registers of the translated program: r1 the frame's
 * bytes, r2 how many there are, r3 its length on the wire (the function's
 * arguments), r4 A, r5 X, r6 and r7 for indexed loads; M[] is on the stack.
 * Every packet load is checked twice: against the buffer's size (a
 * constant: what the verifier needs to allow it) and against r2 (what
 * classic BPF means).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/filter.h>

#include "select/pcap_ebpf.h"

#define R_BUF BPF_REG_1
#define R_LEN BPF_REG_2
#define R_WIRE BPF_REG_3
#define R_A BPF_REG_4
#define R_X BPF_REG_5
#define R_OFF BPF_REG_6
#define R_TMP BPF_REG_7

struct fixup {
	unsigned int at;     /* the jump's place in the output */
	unsigned int target; /* a classic instruction; n: the exit that rejects */
};

struct xlate {
	const struct cbpf_insn *in;
	unsigned int n;
	unsigned int window;
	struct bpf_insn *out;
	unsigned int len, cap;
	unsigned int *start; /* where each classic instruction starts; [n]: the rejecting exit */
	bool *live;	     /* reached from the first instruction */
	struct fixup *fix;
	unsigned int n_fix, cap_fix;
	bool nomem;
};

/* M[k]: 32-bit words below the frame pointer. */
static short mem_off(uint32_t k)
{
	return -4 * BPF_MEMWORDS + 4 * (short)k;
}

static unsigned int size_bytes(uint16_t code)
{
	switch (BPF_SIZE(code)) {
	case BPF_W:
		return 4;
	case BPF_H:
		return 2;
	default:
		return 1;
	}
}

static bool grow(void **p, unsigned int *cap, size_t size)
{
	unsigned int n = *cap ? 2 * *cap : 64;
	void *q = realloc(*p, n * size);

	if (!q)
		return false;
	*p = q;
	*cap = n;
	return true;
}

static void emit(struct xlate *x, uint8_t code, uint8_t dst, uint8_t src, int16_t off,
		 int32_t imm)
{
	if (x->len == x->cap && !grow((void **)&x->out, &x->cap, sizeof(*x->out))) {
		x->nomem = true;
		return;
	}
	x->out[x->len++] = (struct bpf_insn){
		.code = code, .dst_reg = dst, .src_reg = src, .off = off, .imm = imm
	};
}

/* A jump to classic instruction @target (x->n: reject), placed once all are. */
static void emit_jump(struct xlate *x, uint8_t code, uint8_t dst, uint8_t src, int32_t imm,
		      unsigned int target)
{
	if (x->n_fix == x->cap_fix && !grow((void **)&x->fix, &x->cap_fix, sizeof(*x->fix))) {
		x->nomem = true;
		return;
	}
	x->fix[x->n_fix++] = (struct fixup){ .at = x->len, .target = target };
	emit(x, code, dst, src, 0, imm);
}

static void reject(struct xlate *x)
{
	emit_jump(x, BPF_JMP | BPF_JA, 0, 0, 0, x->n);
}

static void to_big_endian(struct xlate *x, uint8_t reg, unsigned int size)
{
	if (size > 1)
		emit(x, BPF_ALU | BPF_END | BPF_TO_BE, reg, 0, 0, size * 8);
}

/* True when a load of @size bytes at @k can never be within the buffer. */
static bool beyond(const struct xlate *x, uint32_t k, unsigned int size)
{
	return (uint64_t)k + size > x->window;
}

/* @reg = the bytes at k, or reject when the frame has fewer than k + size. */
static void load_abs(struct xlate *x, uint8_t reg, uint16_t code, uint32_t k)
{
	unsigned int size = size_bytes(code);

	if (beyond(x, k, size)) {
		reject(x);
		return;
	}
	emit_jump(x, BPF_JMP | BPF_JLT | BPF_K, R_LEN, 0, k + size, x->n);
	emit(x, BPF_LDX | BPF_MEM | BPF_SIZE(code), reg, R_BUF, k, 0);
	to_big_endian(x, reg, size);
}

/* A = the bytes at X + k (no wrap around: 64-bit sums), or reject. */
static void load_ind(struct xlate *x, uint16_t code, uint32_t k)
{
	unsigned int size = size_bytes(code);

	if (beyond(x, k, size)) {
		reject(x);
		return;
	}
	emit(x, BPF_ALU | BPF_MOV | BPF_X, R_OFF, R_X, 0, 0);
	if (k)
		emit(x, BPF_ALU64 | BPF_ADD | BPF_K, R_OFF, 0, 0, k);
	emit_jump(x, BPF_JMP | BPF_JGT | BPF_K, R_OFF, 0, x->window - size, x->n);
	emit(x, BPF_ALU64 | BPF_MOV | BPF_X, R_TMP, R_OFF, 0, 0);
	emit(x, BPF_ALU64 | BPF_ADD | BPF_K, R_TMP, 0, 0, size);
	emit_jump(x, BPF_JMP | BPF_JGT | BPF_X, R_TMP, R_LEN, 0, x->n);
	emit(x, BPF_ALU64 | BPF_MOV | BPF_X, R_TMP, R_BUF, 0, 0);
	emit(x, BPF_ALU64 | BPF_ADD | BPF_X, R_TMP, R_OFF, 0, 0);
	emit(x, BPF_LDX | BPF_MEM | BPF_SIZE(code), R_A, R_TMP, 0, 0);
	to_big_endian(x, R_A, size);
}

static void alu(struct xlate *x, const struct cbpf_insn *in)
{
	uint8_t op = BPF_OP(in->code);

	if (BPF_SRC(in->code) == BPF_K) {
		if ((op == BPF_DIV || op == BPF_MOD) && !in->k)
			reject(x);
		else if ((op == BPF_LSH || op == BPF_RSH) && in->k >= 32)
			emit(x, BPF_ALU | BPF_MOV | BPF_K, R_A, 0, 0, 0);
		else
			emit(x, BPF_ALU | op | BPF_K, R_A, 0, 0, (int32_t)in->k);
		return;
	}
	if (op == BPF_DIV || op == BPF_MOD) {
		/* eBPF divides by 0 quietly; classic BPF rejects the packet. */
		emit_jump(x, BPF_JMP32 | BPF_JEQ | BPF_K, R_X, 0, 0, x->n);
	} else if (op == BPF_LSH || op == BPF_RSH) {
		/* eBPF takes the shift count modulo 32; classic BPF gives 0 past 31. */
		emit(x, BPF_JMP32 | BPF_JGT | BPF_K, R_X, 0, 2, 31);
		emit(x, BPF_ALU | op | BPF_X, R_A, R_X, 0, 0);
		emit(x, BPF_JMP | BPF_JA, 0, 0, 1, 0);
		emit(x, BPF_ALU | BPF_MOV | BPF_K, R_A, 0, 0, 0);
		return;
	}
	emit(x, BPF_ALU | op | BPF_X, R_A, R_X, 0, 0);
}

/* The condition that is true when classic BPF takes jf instead of jt, if eBPF has one. */
static int negation(uint8_t op)
{
	switch (op) {
	case BPF_JEQ:
		return BPF_JNE;
	case BPF_JGT:
		return BPF_JLE;
	case BPF_JGE:
		return BPF_JLT;
	default:
		return -1; /* BPF_JSET */
	}
}

/* A conditional jump on A (32 bits, unsigned) against k or X. */
static void cond_jump(struct xlate *x, unsigned int i, const struct cbpf_insn *in)
{
	unsigned int t = i + 1 + in->jt, f = i + 1 + in->jf;
	uint8_t op = BPF_OP(in->code), src = BPF_SRC(in->code);
	uint8_t sreg = src == BPF_X ? R_X : 0;
	int32_t imm = src == BPF_K ? (int32_t)in->k : 0;
	int neg = negation(op);

	if (t == f) {
		if (t != i + 1)
			emit_jump(x, BPF_JMP | BPF_JA, 0, 0, 0, t);
		return;
	}
	if (f == i + 1) {
		emit_jump(x, BPF_JMP32 | op | src, R_A, sreg, imm, t);
	} else if (t == i + 1 && neg >= 0) {
		emit_jump(x, BPF_JMP32 | neg | src, R_A, sreg, imm, f);
	} else if (t == i + 1) {
		emit(x, BPF_JMP32 | op | src, R_A, sreg, 1, imm);
		emit_jump(x, BPF_JMP | BPF_JA, 0, 0, 0, f);
	} else {
		emit_jump(x, BPF_JMP32 | op | src, R_A, sreg, imm, t);
		emit_jump(x, BPF_JMP | BPF_JA, 0, 0, 0, f);
	}
}

/* Instruction @i in eBPF; 0, or -1 when it is not classic BPF as libpcap runs it. */
static int translate_one(struct xlate *x, unsigned int i)
{
	const struct cbpf_insn *in = &x->in[i];

	switch (in->code) {
	case BPF_RET | BPF_K:
		emit(x, BPF_ALU | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, in->k != 0);
		emit(x, BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
		return 0;
	case BPF_RET | BPF_A:
		emit(x, BPF_ALU | BPF_MOV | BPF_X, BPF_REG_0, R_A, 0, 0);
		emit(x, BPF_JMP32 | BPF_JEQ | BPF_K, BPF_REG_0, 0, 1, 0);
		emit(x, BPF_ALU | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 1);
		emit(x, BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
		return 0;
	case BPF_LD | BPF_W | BPF_ABS:
	case BPF_LD | BPF_H | BPF_ABS:
	case BPF_LD | BPF_B | BPF_ABS:
		load_abs(x, R_A, in->code, in->k);
		return 0;
	case BPF_LD | BPF_W | BPF_IND:
	case BPF_LD | BPF_H | BPF_IND:
	case BPF_LD | BPF_B | BPF_IND:
		load_ind(x, in->code, in->k);
		return 0;
	case BPF_LDX | BPF_MSH | BPF_B:
		load_abs(x, R_X, in->code, in->k);
		if (!beyond(x, in->k, 1)) {
			emit(x, BPF_ALU | BPF_AND | BPF_K, R_X, 0, 0, 0xf);
			emit(x, BPF_ALU | BPF_LSH | BPF_K, R_X, 0, 0, 2);
		}
		return 0;
	case BPF_LD | BPF_W | BPF_LEN:
	case BPF_LDX | BPF_W | BPF_LEN:
		emit(x, BPF_ALU | BPF_MOV | BPF_X, BPF_CLASS(in->code) == BPF_LD ? R_A : R_X, R_WIRE,
		     0, 0);
		return 0;
	case BPF_LD | BPF_IMM:
	case BPF_LDX | BPF_IMM:
		emit(x, BPF_ALU | BPF_MOV | BPF_K, BPF_CLASS(in->code) == BPF_LD ? R_A : R_X, 0, 0,
		     (int32_t)in->k);
		return 0;
	case BPF_LD | BPF_MEM:
	case BPF_LDX | BPF_MEM:
		if (in->k >= BPF_MEMWORDS)
			return -1;
		emit(x, BPF_LDX | BPF_MEM | BPF_W, BPF_CLASS(in->code) == BPF_LD ? R_A : R_X,
		     BPF_REG_10, mem_off(in->k), 0);
		return 0;
	case BPF_ST:
	case BPF_STX:
		if (in->k >= BPF_MEMWORDS)
			return -1;
		emit(x, BPF_STX | BPF_MEM | BPF_W, BPF_REG_10, in->code == BPF_ST ? R_A : R_X,
		     mem_off(in->k), 0);
		return 0;
	case BPF_JMP | BPF_JA:
		if (in->k)
			emit_jump(x, BPF_JMP | BPF_JA, 0, 0, 0, i + 1 + in->k);
		return 0;
	case BPF_JMP | BPF_JEQ | BPF_K:
	case BPF_JMP | BPF_JGT | BPF_K:
	case BPF_JMP | BPF_JGE | BPF_K:
	case BPF_JMP | BPF_JSET | BPF_K:
	case BPF_JMP | BPF_JEQ | BPF_X:
	case BPF_JMP | BPF_JGT | BPF_X:
	case BPF_JMP | BPF_JGE | BPF_X:
	case BPF_JMP | BPF_JSET | BPF_X:
		cond_jump(x, i, in);
		return 0;
	case BPF_ALU | BPF_NEG:
		emit(x, BPF_ALU | BPF_NEG, R_A, 0, 0, 0);
		return 0;
	case BPF_MISC | BPF_TAX:
		emit(x, BPF_ALU | BPF_MOV | BPF_X, R_X, R_A, 0, 0);
		return 0;
	case BPF_MISC | BPF_TXA:
		emit(x, BPF_ALU | BPF_MOV | BPF_X, R_A, R_X, 0, 0);
		return 0;
	}
	if (BPF_CLASS(in->code) == BPF_ALU) {
		switch (BPF_OP(in->code)) {
		case BPF_ADD:
		case BPF_SUB:
		case BPF_MUL:
		case BPF_DIV:
		case BPF_MOD:
		case BPF_AND:
		case BPF_OR:
		case BPF_XOR:
		case BPF_LSH:
		case BPF_RSH:
			alu(x, in);
			return 0;
		}
	}
	return -1;
}

/* Where instruction @i can go next, besides rejecting; how many places (0 to 2). */
static int successors(const struct xlate *x, unsigned int i, uint64_t next[2])
{
	const struct cbpf_insn *in = &x->in[i];

	switch (BPF_CLASS(in->code)) {
	case BPF_RET:
		return 0;
	case BPF_JMP:
		if (BPF_OP(in->code) == BPF_JA) {
			next[0] = (uint64_t)i + 1 + in->k;
			return 1;
		}
		next[0] = (uint64_t)i + 1 + in->jt;
		next[1] = (uint64_t)i + 1 + in->jf;
		return 2;
	case BPF_LD:
		if (BPF_MODE(in->code) == BPF_ABS || BPF_MODE(in->code) == BPF_IND)
			if (beyond(x, in->k, size_bytes(in->code)))
				return 0;
		break;
	case BPF_LDX:
		if (BPF_MODE(in->code) == BPF_MSH && beyond(x, in->k, 1))
			return 0;
		break;
	case BPF_ALU:
		if ((BPF_OP(in->code) == BPF_DIV || BPF_OP(in->code) == BPF_MOD) &&
		    BPF_SRC(in->code) == BPF_K && !in->k)
			return 0;
		break;
	}
	next[0] = (uint64_t)i + 1;
	return 1;
}

/*
 * Marks the instructions the program can reach: the verifier refuses a
 * program with unreachable code, and a load that can never be within the
 * buffer makes what follows it unreachable. Classic BPF only jumps
 * forward, so one pass in order sees every way in before each instruction.
 */
static int mark_live(struct xlate *x, char *err, size_t errlen)
{
	x->live[0] = true;
	for (unsigned int i = 0; i < x->n; i++) {
		uint64_t next[2];
		int n;

		if (!x->live[i])
			continue;
		n = successors(x, i, next);
		for (int s = 0; s < n; s++) {
			if (BPF_CLASS(x->in[i].code) == BPF_JMP && BPF_OP(x->in[i].code) == BPF_JA &&
			    (int32_t)x->in[i].k < 0) {
				snprintf(err, errlen, "instruction %u jumps backwards (a loop, as "
					 "'protochain' makes), which the kernel cannot run", i);
				return -1;
			}
			if (next[s] > x->n) {
				snprintf(err, errlen, "instruction %u jumps out of the program", i);
				return -1;
			}
			if (next[s] < x->n)
				x->live[next[s]] = true;
		}
	}
	return 0;
}

/* Scratch words read: zero at the start (as libpcap's interpreter has them). */
static void prologue(struct xlate *x)
{
	bool zeroed[BPF_MEMWORDS] = { false };

	/* The verifier knows the buffer only as "may be NULL". */
	emit_jump(x, BPF_JMP | BPF_JEQ | BPF_K, R_BUF, 0, 0, x->n);
	emit(x, BPF_ALU | BPF_MOV | BPF_X, R_LEN, R_LEN, 0, 0);
	emit(x, BPF_ALU | BPF_MOV | BPF_X, R_WIRE, R_WIRE, 0, 0);
	emit(x, BPF_ALU | BPF_MOV | BPF_K, R_A, 0, 0, 0);
	emit(x, BPF_ALU | BPF_MOV | BPF_K, R_X, 0, 0, 0);
	for (unsigned int i = 0; i < x->n; i++) {
		const struct cbpf_insn *in = &x->in[i];

		if ((in->code == (BPF_LD | BPF_MEM) || in->code == (BPF_LDX | BPF_MEM)) &&
		    in->k < BPF_MEMWORDS && !zeroed[in->k] && x->live[i]) {
			zeroed[in->k] = true;
			emit(x, BPF_ST | BPF_MEM | BPF_W, BPF_REG_10, 0, mem_off(in->k), 0);
		}
	}
}

static int place_jumps(struct xlate *x, char *err, size_t errlen)
{
	for (unsigned int j = 0; j < x->n_fix; j++) {
		const struct fixup *fx = &x->fix[j];
		long off = (long)x->start[fx->target] - (long)fx->at - 1;

		if (off < 0 || off > INT16_MAX) {
			snprintf(err, errlen, "it is too long for the kernel (a jump over more than "
				 "%d instructions)", INT16_MAX);
			return -1;
		}
		x->out[fx->at].off = off;
	}
	return 0;
}

static int translate(struct xlate *x, char *err, size_t errlen)
{
	if (!x->n) {
		snprintf(err, errlen, "the program is empty");
		return -1;
	}
	if (mark_live(x, err, errlen))
		return -1;
	prologue(x);
	for (unsigned int i = 0; i < x->n; i++) {
		x->start[i] = x->len;
		if (x->live[i] && translate_one(x, i)) {
			snprintf(err, errlen, "instruction %u (code 0x%04x, k %u) is not classic BPF "
				 "as libpcap runs it", i, x->in[i].code, x->in[i].k);
			return -1;
		}
	}
	/* Falling off the end, a failed load, a division by 0: 0, rejected. */
	x->start[x->n] = x->len;
	emit(x, BPF_ALU | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 0);
	emit(x, BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
	if (x->nomem) {
		snprintf(err, errlen, "%s", strerror(ENOMEM));
		return -1;
	}
	if (x->len > PCAP_EBPF_MAX_INSNS) {
		snprintf(err, errlen, "it is too long for the kernel (%u instructions, at most %d)",
			 x->len, PCAP_EBPF_MAX_INSNS);
		return -1;
	}
	return place_jumps(x, err, errlen);
}

int pcap_ebpf_translate(const struct pcap_filter *f, unsigned int window, struct pcap_ebpf *out,
			char *err, size_t errlen)
{
	struct xlate x = { .in = f->insns, .n = f->len, .window = window };
	char why[256];
	int ret = -1;

	memset(out, 0, sizeof(*out));
	x.start = calloc(f->len + 1, sizeof(*x.start));
	x.live = calloc(f->len + 1, sizeof(*x.live));
	if (!x.start || !x.live) {
		snprintf(why, sizeof(why), "%s", strerror(ENOMEM));
	} else if (!translate(&x, why, sizeof(why))) {
		out->insns = x.out;
		out->len = x.len;
		x.out = NULL;
		ret = 0;
	}
	if (ret)
		snprintf(err, errlen, "Couldn't translate --filter '%s' for the kernel: %s",
			 f->expr ? f->expr : "", why);
	free(x.out);
	free(x.fix);
	free(x.start);
	free(x.live);
	return ret;
}

void pcap_ebpf_free(struct pcap_ebpf *p)
{
	free(p->insns);
	memset(p, 0, sizeof(*p));
}
