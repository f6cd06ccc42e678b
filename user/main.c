// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* nfxdp: XDP flow meter and collector. See nfxdp --help. */
#include <stdio.h>

#include "cli/cli.h"
#include "common/log.h"
#include "modes/live.h"
#include "modes/replay.h"

int main(int argc, char **argv)
{
	struct nfx_config cfg;
	int r;

	log_set_prog("nfxdp");
	log_route_libbpf();
	config_defaults(&cfg);
	r = config_parse(&cfg, argc, argv);
	if (r)
		return r > 0 ? 0 : 2;
	log_set_level(cfg.verbosity >= 2 ? LOG_DEBUG : cfg.verbosity ? LOG_INFO : LOG_WARN);
	if (cfg.n_pcaps)
		return replay_run(&cfg);
	return live_run(&cfg);
}
