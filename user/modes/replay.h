/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Capture replay: pcap and pcapng files, one after another as one capture,
 * through the kernel meter itself. Flow time is capture time.
 *
 * batch mode (default): headers of many frames per BPF_PROG_TEST_RUN call
 *   to nfx_replay, each with its timestamp and original length;
 * frame mode: every whole frame through nfx_meter, the program attached to
 *   interfaces, with the timestamp and length in data_meta.
 * Both meter with the same code and give the same records.
 */
#ifndef NFXDP_MODES_REPLAY_H
#define NFXDP_MODES_REPLAY_H

#include "cli/cli.h"

/* Meters the capture files of @cfg; returns the exit status. */
int replay_run(const struct nfx_config *cfg);

#endif /* NFXDP_MODES_REPLAY_H */
