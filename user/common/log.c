// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <stdarg.h>
#include <stdio.h>

#include <bpf/libbpf.h>

#include "common/log.h"

static enum log_level log_level = LOG_WARN;
static const char *log_prog = "nfxdp";

void log_set_level(enum log_level level)
{
	log_level = level;
}

void log_set_prog(const char *prog)
{
	log_prog = prog;
}

static void log_vmsg(enum log_level level, const char *fmt, va_list ap)
{
	if (level > log_level)
		return;
	fprintf(stderr, "%s: ", log_prog);
	vfprintf(stderr, fmt, ap);
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(level, fmt, ap);
	va_end(ap);
}

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	enum log_level ours = level == LIBBPF_WARN ? LOG_INFO : LOG_DEBUG;

	log_vmsg(ours, fmt, ap);
	return 0;
}

void log_route_libbpf(void)
{
	libbpf_set_print(libbpf_print);
}
