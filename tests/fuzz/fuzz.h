/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * What the libFuzzer harnesses share: the entry points and an invariant
 * check that aborts, so libFuzzer reports the input that broke it (and
 * keeps it under -artifact_prefix) like any crash.
 */
#ifndef NFXDP_FUZZ_H
#define NFXDP_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * Exit status of a harness that cannot run here (no root, no BPF): a skip,
 * not a failure. Not 77, libFuzzer's own status for a crash.
 */
#define FUZZ_EXIT_SKIP 78

#define FUZZ_CHECK(cond, ...)                                                                  \
	do {                                                                                   \
		if (!(cond)) {                                                                 \
			fprintf(stderr, "%s:%d: invariant broken: %s: ", __FILE__, __LINE__,   \
				#cond);                                                        \
			fprintf(stderr, __VA_ARGS__);                                          \
			fputc('\n', stderr);                                                   \
			abort();                                                               \
		}                                                                              \
	} while (0)

#endif /* NFXDP_FUZZ_H */
