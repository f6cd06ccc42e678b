/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Live mode: the meter attached to interfaces, the collector driven on the
 * kernel's clock until SIGINT or SIGTERM (or every interface is gone).
 */
#ifndef NFXDP_MODES_LIVE_H
#define NFXDP_MODES_LIVE_H

#include "cli/cli.h"

/* Meters cfg's interfaces (or ends a --persist meter: --detach); the exit status. */
int live_run(const struct nfx_config *cfg);

#endif /* NFXDP_MODES_LIVE_H */
