/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Device-bound meters: for an interface whose driver implements the XDP RX
 * metadata kfuncs, the meter built from meter_hw.bpf.c, bound to that
 * device, reads the NIC's receive timestamp and the VLAN tag it stripped.
 * It shares every map with the main meter object.
 */
#ifndef NFXDP_METER_HWMETER_H
#define NFXDP_METER_HWMETER_H

#include "meter/meter.h"

/*
 * Called in the interface's namespace before attaching @a: loads a
 * device-bound meter when the driver offers RX metadata (a->hw), warns
 * when the NIC strips VLAN tags that XDP then cannot see. Returns 0 (with
 * or without a->hw), or a negative errno after a message.
 */
int hwmeter_prepare(struct meter *m, struct attachment *a);
/* The program to attach to @a: its device-bound meter, or the shared one. */
int hwmeter_prog_fd(const struct meter *m, const struct attachment *a);
/* Refreshes @a's NIC-clock-to-boot-time offset (from its PTP clock). */
void hwmeter_sync_clock(struct attachment *a);
void hwmeter_destroy(struct attachment *a);

#endif /* NFXDP_METER_HWMETER_H */
