/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The settings both meter objects (meter.bpf.c and its device-bound build
 * meter_hw.bpf.c) take in .rodata: their skeletons' types differ, their
 * fields do not.
 */
#ifndef NFXDP_METER_RODATA_H
#define NFXDP_METER_RODATA_H

#define METER_SET_RODATA(rodata, o)                                                            \
	do {                                                                                   \
		(rodata)->cfg_idle_timeout_ms = (o)->idle_timeout_ms;                          \
		(rodata)->cfg_active_timeout_ms = (o)->active_timeout_ms;                      \
		(rodata)->cfg_natural_expiry = (o)->natural_expiry;                            \
		(rodata)->cfg_expiry_notes = (o)->natural_expiry && (o)->wheel;                \
		(rodata)->cfg_accounting = (o)->accounting;                                    \
		(rodata)->cfg_decode_tunnels = (o)->decode_tunnels;                            \
		(rodata)->cfg_single_writer = (o)->single_writer;                              \
		(rodata)->cfg_statistical = (o)->statistical;                                  \
		(rodata)->cfg_sample_n = (o)->sample_n;                                        \
		(rodata)->cfg_sample_systematic = (o)->sample_systematic;                      \
		(rodata)->cfg_snaplen = (o)->snaplen;                                          \
		(rodata)->cfg_pcap_filter = (o)->filter != NULL;                               \
		(rodata)->cfg_hash_n = (o)->hash_n;                                            \
		(rodata)->cfg_hash_k = (o)->hash_k;                                            \
		(rodata)->cfg_splt = (o)->splt;                                                \
		(rodata)->cfg_dpi = (o)->dpi;                                                  \
		(rodata)->cfg_flows_limit = (o)->overflow_export ? (o)->max_flows : 0;         \
		(rodata)->cfg_stop_at = (o)->stop_at;                                          \
	} while (0)

#endif /* NFXDP_METER_RODATA_H */
