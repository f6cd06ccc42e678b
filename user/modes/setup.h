/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * What both modes (live.c, replay.c) do alike: the signals that stop them,
 * the lower layers' options from the parsed configuration, the sinks.
 */
#ifndef NFXDP_MODES_SETUP_H
#define NFXDP_MODES_SETUP_H

#include <signal.h>
#include <stdbool.h>

#include "cli/cli.h"
#include "collector/collector.h"
#include "meter/meter.h"

/* Set by SIGINT and SIGTERM: the mode stops, exports what it holds, exits. */
extern volatile sig_atomic_t mode_stop;
/* Set by SIGHUP: the open batch goes out and the output files are reopened (logrotate). */
extern volatile sig_atomic_t mode_reopen;
/* Set by SIGUSR1: the stats are printed (and published) now. */
extern volatile sig_atomic_t mode_report;
/*
 * SIGINT and SIGTERM set mode_stop, SIGHUP mode_reopen, SIGUSR1
 * mode_report; SIGUSR2 and SIGPIPE are ignored. No signal a daemon is
 * commonly sent kills nfxdp with flows in its cache.
 */
void mode_install_signals(void);
/* Does what SIGHUP and SIGUSR1 asked for since the last call; between polls. */
void mode_handle_signals(struct collector *c);

void mode_meter_opts(struct meter_opts *o, const struct nfx_config *cfg);
void mode_collector_opts(struct collector_opts *o, const struct nfx_config *cfg);
/*
 * Opens the sinks @cfg names and adds them to @c: the file (@network
 * false), or ZeroMQ, IPFIX and MQTT (@network true). 0 or -errno.
 */
int mode_open_sinks(struct collector *c, const struct nfx_config *cfg, bool network);

#endif /* NFXDP_MODES_SETUP_H */
