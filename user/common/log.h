/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Logging for nfxdp and its tools; libbpf's output goes through it too. */
#ifndef NFXDP_COMMON_LOG_H
#define NFXDP_COMMON_LOG_H

enum log_level {
	LOG_QUIET = -1,
	LOG_WARN,
	LOG_INFO,
	LOG_DEBUG,
};

void log_set_level(enum log_level level);
void log_set_prog(const char *prog);
void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Routes libbpf's messages here, one level down (its warnings become info). */
void log_route_libbpf(void);

#define pr_warn(...) log_msg(LOG_WARN, __VA_ARGS__)
#define pr_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define pr_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)

#endif /* NFXDP_COMMON_LOG_H */
