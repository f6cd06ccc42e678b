/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * What a NIC can tell a device-bound XDP program (RX metadata kfuncs), and
 * what the collector needs to make sense of it: whether VLAN tags arrive
 * stripped, and which PTP hardware clock stamps the frames.
 */
#ifndef NFXDP_METER_NICINFO_H
#define NFXDP_METER_NICINFO_H

#include <stdbool.h>
#include <stdint.h>

#define NIC_DRIVER_LEN 32

struct nic_info {
	/* ETHTOOL_GDRVINFO; "" when unknown. */
	char driver[NIC_DRIVER_LEN];
	/* ETHTOOL_GET_TS_INFO: /dev/ptpN's N; -1 when none or unknown. */
	int phc_index;
	/*
	 * Netdev genetlink family, xdp-rx-metadata-features: which of
	 * bpf_xdp_metadata_rx_{timestamp,hash,vlan_tag} the driver implements.
	 * meta_known is false when the kernel does not report it (before
	 * Linux 6.9, or no netdev family); the three flags are false then.
	 */
	bool meta_known;
	bool meta_timestamp;
	bool meta_hash;
	bool meta_vlan_tag;
	/*
	 * rx-vlan-hw-parse (NETIF_F_HW_VLAN_CTAG_RX) is on: the NIC takes the
	 * outer 802.1Q tag out of the frame. False when off or unknown.
	 */
	bool rx_vlan_strip;
};

/*
 * Fills @out for @ifindex in the caller's network namespace (setns() there
 * first). Each part that fails leaves its field at the "unknown" value above
 * and says why at debug level. Returns 0, or -ENODEV when no interface has
 * @ifindex in this namespace (nothing queried), or -EINVAL.
 */
int nic_query(int ifindex, struct nic_info *out);

/*
 * @offset = PHC @phc_index's time minus CLOCK_BOOTTIME, in ns: boot time of
 * a NIC timestamp t is t - offset. Keeps /dev/ptpN open for the next call.
 * Returns 0 or -errno. Not thread-safe: call from one thread.
 */
int phc_offset_ns(int phc_index, int64_t *offset);

/* Closes the PHC devices phc_offset_ns() keeps open. */
void phc_close_all(void);

#endif /* NFXDP_METER_NICINFO_H */
