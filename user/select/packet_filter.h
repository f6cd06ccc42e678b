/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * --filter: a small packet filter language compiled into the maps the meter
 * reads (a postfix program and a prefix trie), so changing it needs no new
 * BPF program.
 *
 *   expr := expr "or" expr | expr "and" expr | "not" expr | "(" expr ")" | test
 *   test := "tcp" | "udp" | "icmp" | "icmp6" | "sctp" | "proto" NAME|NUMBER
 *         | "ip" | "ip6"
 *         | [DIR] "port" N | [DIR] "portrange" N-M
 *         | [DIR] "host" ADDRESS | [DIR] "net" ADDRESS/LENGTH
 *         | "vlan" N | "vlan" N-M
 *         | "hash" K/N            the flows of slice K of N (0 <= K < N)
 *   DIR  := "src" | "dst"         the packet's sender or receiver; either when absent
 * "&&", "||" and "!" work too. Tests apply to each packet, like tcpdump's: use
 * host, net and port without a direction to keep both directions of a flow.
 * What maps cannot express is not in the language: payload bytes, header
 * fields other than these, lengths, TTLs, TCP flags.
 */
#ifndef NFXDP_SELECT_PACKET_FILTER_H
#define NFXDP_SELECT_PACKET_FILTER_H

#include <stddef.h>

#include "flow.h"

#define FILTER_MAX_NETS 4096

struct filter_compiled {
	struct filter_prog prog;
	struct filter_net_key nets[FILTER_MAX_NETS];
	int n_nets;
};

/*
 * Compiles @expr. Returns 0, or -1 with a message in @err that names the
 * offending token and points at it with a caret under the expression.
 */
int filter_compile(const char *expr, struct filter_compiled *out, char *err, size_t errlen);

#endif /* NFXDP_SELECT_PACKET_FILTER_H */
