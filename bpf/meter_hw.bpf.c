// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The meter, device-bound: the same program reading the NIC's receive
 * timestamp and stripped VLAN tag (XDP metadata kfuncs). Loaded once per
 * interface whose driver offers them, sharing every map with meter.bpf.c.
 */
#define NFX_HW_METADATA
#include "meter.bpf.c"
