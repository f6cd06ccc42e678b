/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Dropping the capabilities nfxdp needs only to load and attach. */
#ifndef NFXDP_OPS_PRIVS_H
#define NFXDP_OPS_PRIVS_H

/*
 * Empties the calling thread's capability sets (and the bounding and
 * ambient sets, when allowed) but for the @n_keep capabilities in @keep,
 * and sets no_new_privs; call it while the process has one thread, since
 * capabilities belong to threads. Kernels before 6.5 check CAP_BPF on
 * every bpf() call: there CAP_BPF stays. Returns 0, or a negative errno
 * after a message.
 */
int privs_drop(const int *keep, int n_keep);

#endif /* NFXDP_OPS_PRIVS_H */
