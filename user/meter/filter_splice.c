// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Why splice the filter in rather than attach it beside the meter:
 * - an extension program (BPF_PROG_TYPE_EXT, freplace), made for this, is
 *   a tracing-class program: kernels that refuse those (EPERM from a
 *   security module or lockdown, as on the kernel nfxdp is developed on)
 *   still run XDP;
 * - a tail call does not come back into the meter, cannot be made from the
 *   bpf_loop() callback that meters capture replay's batches, and is refused
 *   to device-bound programs (the NIC metadata meters).
 * Spliced, the filter is part of each program: one bpf-to-bpf call, checked
 * by the verifier as the global function it replaces; and a --persist meter
 * keeps its filter while no collector runs (the pinned link holds it).
 *
 * libbpf calls a section's prog_prepare_load_fn with the program as it is
 * about to load it: its subprograms appended, calls relocated, the BTF
 * function and line records in the load attributes. The splice replaces
 * the instructions of pcap_filter() (a whole function: no jump crosses its
 * edges, only calls and function references) with the filter's.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "common/log.h"
#include "meter/filter_splice.h"
#include "select/pcap_ebpf.h"

#define SPLICE_FRAGS 1 /* cookie of SEC("xdp.frags"): the program takes multi-buffer frames */

static struct {
	const struct pcap_ebpf *filter;
	const struct btf *btf;
	int spliced; /* programs of this load */
	/* The load attributes' records, which must live until the program is loaded. */
	void *func_info;
	void *line_info;
} splice;

/* Field @field (0: insn_off, 1: type_id) of record @i of BTF function or line records. */
static uint32_t rec_field(const void *recs, uint32_t size, uint32_t i, int field)
{
	uint32_t v;

	memcpy(&v, (const char *)recs + (size_t)i * size + 4 * field, sizeof(v));
	return v;
}

static uint32_t rec_off(const void *recs, uint32_t size, uint32_t i)
{
	return rec_field(recs, size, i, 0);
}

static void set_rec_off(void *recs, uint32_t size, uint32_t i, uint32_t off)
{
	memcpy((char *)recs + (size_t)i * size, &off, sizeof(off));
}

/* The instructions [*start, *end) of pcap_filter() in the program; false when it has none. */
static bool find_stub(const struct bpf_prog_load_opts *opts, size_t n, uint32_t *start,
		      uint32_t *end)
{
	bool found = false;

	for (uint32_t i = 0; i < opts->func_info_cnt; i++) {
		uint32_t off = rec_off(opts->func_info, opts->func_info_rec_size, i);
		uint32_t type_id = rec_field(opts->func_info, opts->func_info_rec_size, i, 1);
		const struct btf_type *t = btf__type_by_id(splice.btf, type_id);

		if (found) {
			*end = off;
			return true;
		}
		if (t && !strcmp(btf__name_by_offset(splice.btf, t->name_off), FILTER_SPLICE_FUNC)) {
			*start = off;
			found = true;
		}
	}
	*end = n;
	return found;
}

/* Where old instruction @x lands: before the stub, at its start, or shifted past it. */
static long moved(long x, uint32_t start, uint32_t end, long delta)
{
	if (x < start)
		return x;
	return x >= end ? x + delta : start;
}

/*
 * The calls and function references (bpf_loop() callbacks) that cross the
 * stub keep their targets; within a function, jumps do not reach its edges.
 */
static int move_references(struct bpf_insn *insns, size_t n, uint32_t start, uint32_t end,
			   long delta)
{
	for (size_t i = 0; i < n; i++) {
		struct bpf_insn *in = &insns[i];
		bool ld64 = in->code == (BPF_LD | BPF_IMM | BPF_DW);
		long from = i, to;

		if (i >= start && i < end)
			continue;
		if (ld64 ? in->src_reg == BPF_PSEUDO_FUNC :
			   in->code == (BPF_JMP | BPF_CALL) && in->src_reg == BPF_PSEUDO_CALL) {
			to = from + in->imm + 1;
			if (to > start && to < end)
				return -EINVAL; /* into the middle of the stub */
			in->imm = moved(to, start, end, delta) - moved(from, start, end, delta) - 1;
		}
		if (ld64)
			i++;
	}
	return 0;
}

/* The function records past the stub move with it. */
static void *move_func_info(const struct bpf_prog_load_opts *opts, uint32_t end, long delta)
{
	uint32_t size = opts->func_info_rec_size;
	void *recs = malloc((size_t)opts->func_info_cnt * size);

	if (!recs)
		return NULL;
	memcpy(recs, opts->func_info, (size_t)opts->func_info_cnt * size);
	for (uint32_t i = 0; i < opts->func_info_cnt; i++) {
		uint32_t off = rec_off(recs, size, i);

		if (off >= end)
			set_rec_off(recs, size, i, off + delta);
	}
	return recs;
}

/* The line records: the stub's first stays (the verifier wants one per function). */
static void *move_line_info(const struct bpf_prog_load_opts *opts, uint32_t start, uint32_t end,
			    long delta, uint32_t *cnt)
{
	uint32_t size = opts->line_info_rec_size, kept = 0;
	char *recs = malloc((size_t)opts->line_info_cnt * size + 1);
	bool first = true;

	if (!recs)
		return NULL;
	for (uint32_t i = 0; i < opts->line_info_cnt; i++) {
		uint32_t off = rec_off(opts->line_info, size, i);

		if (off >= start && off < end && !(off == start && first))
			continue;
		if (off == start)
			first = false;
		memcpy(recs + (size_t)kept * size, (const char *)opts->line_info + (size_t)i * size,
		       size);
		set_rec_off(recs, size, kept++, off >= end ? off + delta : off);
	}
	*cnt = kept;
	return recs;
}

static int splice_into(struct bpf_program *prog, struct bpf_prog_load_opts *opts)
{
	const struct bpf_insn *old = bpf_program__insns(prog);
	size_t n = bpf_program__insn_cnt(prog), n_new;
	const struct pcap_ebpf *f = splice.filter;
	uint32_t start, end, lines = 0;
	struct bpf_insn *insns;
	long delta;
	int err;

	if (!opts->func_info || !find_stub(opts, n, &start, &end))
		return 0;
	delta = (long)f->len - (long)(end - start);
	n_new = n + delta;
	insns = malloc(n_new * sizeof(*insns));
	free(splice.func_info);
	free(splice.line_info);
	splice.func_info = move_func_info(opts, end, delta);
	splice.line_info = opts->line_info ?
		move_line_info(opts, start, end, delta, &lines) : NULL;
	if (!insns || !splice.func_info || (opts->line_info && !splice.line_info)) {
		free(insns);
		return -ENOMEM;
	}
	memcpy(insns, old, n * sizeof(*insns));
	err = move_references(insns, n, start, end, delta);
	if (!err) {
		memmove(insns + start + f->len, insns + end, (n - end) * sizeof(*insns));
		memcpy(insns + start, f->insns, f->len * sizeof(*insns));
		err = bpf_program__set_insns(prog, insns, n_new);
	}
	free(insns);
	if (err) {
		pr_warn("Couldn't put --filter into %s: %s\n", bpf_program__name(prog),
			strerror(-err));
		return err;
	}
	opts->func_info = splice.func_info;
	if (splice.line_info) {
		opts->line_info = splice.line_info;
		opts->line_info_cnt = lines;
	}
	splice.spliced++;
	return 0;
}

/* What libbpf does for these sections (nothing else on a current kernel), then the splice. */
static int prepare_load(struct bpf_program *prog, struct bpf_prog_load_opts *opts, long cookie)
{
	if ((cookie & SPLICE_FRAGS) && bpf_program__type(prog) == BPF_PROG_TYPE_XDP)
		opts->prog_flags |= BPF_F_XDP_HAS_FRAGS;
	return splice.filter && splice.btf ? splice_into(prog, opts) : 0;
}

int filter_splice_init(void)
{
	static const struct {
		const char *sec;
		enum bpf_prog_type type;
		enum bpf_attach_type attach;
		long cookie;
	} secs[] = {
		{ "xdp", BPF_PROG_TYPE_XDP, BPF_XDP, 0 },
		{ "xdp.frags", BPF_PROG_TYPE_XDP, BPF_XDP, SPLICE_FRAGS },
		{ "tc", BPF_PROG_TYPE_SCHED_CLS, 0, 0 },
	};
	static bool done;

	if (done)
		return 0;
	for (size_t i = 0; i < sizeof(secs) / sizeof(secs[0]); i++) {
		LIBBPF_OPTS(libbpf_prog_handler_opts, o, .cookie = secs[i].cookie,
			    .prog_prepare_load_fn = prepare_load);
		int r = libbpf_register_prog_handler(secs[i].sec, secs[i].type, secs[i].attach, &o);

		if (r < 0) {
			pr_warn("Couldn't take over loading SEC(\"%s\") programs: %s\n", secs[i].sec,
				strerror(-r));
			return r;
		}
	}
	done = true;
	return 0;
}

int filter_splice_set(const struct pcap_ebpf *f, const struct btf *btf)
{
	int spliced = splice.spliced;

	splice.filter = f;
	splice.btf = btf;
	splice.spliced = 0;
	free(splice.func_info);
	free(splice.line_info);
	splice.func_info = splice.line_info = NULL;
	return spliced;
}
