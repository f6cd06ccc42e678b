/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Libraries loaded when first used, not at start: ZeroMQ, libpcap,
 * Mosquitto (MQTT), libmicrohttpd (--metrics) and nDPI (--dpi) bring
 * about forty more shared libraries with them (C++, Kerberos, GnuTLS,
 * OpenSSL, D-Bus, systemd, gcrypt...), and mapping and relocating them
 * took two thirds of the start of `nfxdp --pcap` (BENCHMARKS.md, "Capture
 * files"). Each of their functions nfxdp calls is defined in a
 * lazy_<lib>.c of the same name and signature (the library's own header
 * checks it) that loads the library on its first call and forwards; the
 * programs no longer link them.
 */
#ifndef NFXDP_COMMON_LAZYLIB_H
#define NFXDP_COMMON_LAZYLIB_H

#include <pthread.h>
#include <stdbool.h>

struct lazylib {
	const char *soname;  /* "libzmq.so.5" */
	const char *package; /* the Debian package holding it: "libzmq5" */
	pthread_mutex_t lock;
	void *handle;
	bool failed; /* message given */
};

#define LAZYLIB_INIT(so, pkg) \
	{ .soname = (so), .package = (pkg), .lock = PTHREAD_MUTEX_INITIALIZER }

extern struct lazylib lazy_zmq, lazy_pcap, lazy_mosquitto, lazy_mhd, lazy_ndpi;

/*
 * Loads @lib unless it is loaded: 0, or -ENOENT after a message naming
 * the library, what needs it (@what: "ZeroMQ output") and its package.
 * Callers opening a feature call it first, so a missing library refuses
 * the option before anything is metered.
 */
int lazylib_load(struct lazylib *lib, const char *what);
/*
 * Function @name of @lib, loading it if needed. A library or a function
 * that cannot be found ends the program with a message (exit status 1):
 * callers load their library first (lazylib_load()) to refuse cleanly.
 */
void *lazylib_sym(struct lazylib *lib, const char *name);
/* Whether @lib has been loaded (tests: a capture file alone loads none). */
bool lazylib_loaded(struct lazylib *lib);

/*
 * lazy_f: function @name of @lib, of type ret (*) params, found on the
 * first call and kept for the next ones (an atomic pointer: threads may
 * race to find it, and find the same).
 */
#define LAZY_LOOKUP(lib, ret, name, params)                                    \
	static ret(*lazy_fn) params;                                           \
	ret(*lazy_f) params = __atomic_load_n(&lazy_fn, __ATOMIC_ACQUIRE);     \
	if (!lazy_f) {                                                         \
		lazy_f = (ret(*) params)lazylib_sym(&(lib), #name);            \
		__atomic_store_n(&lazy_fn, lazy_f, __ATOMIC_RELEASE);          \
	}

/* A definition of @name that forwards to @lib's. */
#define LAZY_FN(lib, ret, name, params, args)                                  \
	ret name params                                                        \
	{                                                                      \
		LAZY_LOOKUP(lib, ret, name, params)                            \
		return lazy_f args;                                            \
	}

#define LAZY_VOID(lib, name, params, args)                                     \
	void name params                                                       \
	{                                                                      \
		LAZY_LOOKUP(lib, void, name, params)                           \
		lazy_f args;                                                   \
	}

#endif /* NFXDP_COMMON_LAZYLIB_H */
