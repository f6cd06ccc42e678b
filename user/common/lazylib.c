// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <dlfcn.h>
#include <errno.h>
#include <stdlib.h>

#include "common/lazylib.h"
#include "common/log.h"

int lazylib_load(struct lazylib *lib, const char *what)
{
	int err = 0;

	pthread_mutex_lock(&lib->lock);
	if (!lib->handle && !lib->failed) {
		/* Local: its symbols do not resolve anyone else's. */
		lib->handle = dlopen(lib->soname, RTLD_LAZY | RTLD_LOCAL);
		if (!lib->handle) {
			pr_warn("Couldn't load %s for %s: %s (install the package %s)\n",
				lib->soname, what, dlerror(), lib->package);
			lib->failed = true;
		}
	}
	if (!lib->handle)
		err = -ENOENT;
	pthread_mutex_unlock(&lib->lock);
	return err;
}

void *lazylib_sym(struct lazylib *lib, const char *name)
{
	void *fn;

	if (lazylib_load(lib, name))
		exit(EXIT_FAILURE);
	fn = dlsym(lib->handle, name);
	if (!fn) {
		pr_warn("Couldn't find %s in %s: %s (install the package %s)\n", name,
			lib->soname, dlerror(), lib->package);
		exit(EXIT_FAILURE);
	}
	return fn;
}

bool lazylib_loaded(struct lazylib *lib)
{
	bool loaded;

	pthread_mutex_lock(&lib->lock);
	loaded = lib->handle;
	pthread_mutex_unlock(&lib->lock);
	return loaded;
}
