/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Where a --persist meter keeps its pins: one directory per set of
 * interfaces under --pin-dir, on a bpffs mounted if need be.
 */
#ifndef NFXDP_METER_PINDIR_H
#define NFXDP_METER_PINDIR_H

#include <stdbool.h>
#include <stddef.h>


/*
 * @name as a bpffs file name: bpffs refuses '.' in names (and '/' cannot
 * be in one), so both are escaped as %2e and %2f.
 */
void pindir_name(const char *name, char *out, size_t len);
/*
 * Fills @dir with the directory under @root for @ifaces (as given: IFACE or
 * IFACE@NETNS). @create: mount bpffs and make the directory if missing
 * (else it must exist). Returns 0, or a negative errno after a message.
 */
int pindir_prepare(const char *root, const char *const *ifaces, int n_ifaces, bool create,
		   char *dir, size_t len);

#endif /* NFXDP_METER_PINDIR_H */
