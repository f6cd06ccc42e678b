/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
#ifndef NFX_COMMON_BIGARRAY_H
#define NFX_COMMON_BIGARRAY_H

#include <stddef.h>

/*
 * Arrays that may grow to megabytes: memory-mapped, in huge pages where the
 * kernel has them. Each 4 KiB page touched first costs a page fault (11 us
 * on the benchmarks' virtual machine, where the due array of a flush over
 * 50 K flows took 850 of them); a huge page takes one fault for 2 MiB.
 * Mappings are whole huge pages (only what is touched is allocated), so
 * the first can be one: the kernel aligns such a mapping to it. An array
 * mapped whole at once (the user-space meter's flow cache, rings, slots)
 * is one call with @p NULL; one that grows doubles.
 *
 * Arrays of up to about 2 MiB start in one shared mapping (the arena), so
 * that they share huge pages too: a small run touches a little of each.
 * There they double while they fit, then move to a mapping of their own.
 * Whichever way, an array starts zeroed.
 */

/*
 * Room for at least @need bytes in the array at @p (NULL: none yet) of
 * *@bytes: its contents kept, *@bytes updated. Returns the array, possibly
 * moved, or NULL with the old one untouched.
 */
void *bigarray_grow(void *p, size_t *bytes, size_t need);

/* Frees an array of *@bytes as bigarray_grow() left them (NULL: nothing). */
void bigarray_free(void *p, size_t bytes);

#endif
