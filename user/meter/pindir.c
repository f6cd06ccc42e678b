// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>

#include "common/log.h"
#include "meter/pindir.h"

#define BPF_FS_MAGIC 0xcafe4a11
#define BPFFS_DEFAULT "/sys/fs/bpf"

static bool on_bpffs(const char *path)
{
	struct statfs st;

	return !statfs(path, &st) && st.f_type == BPF_FS_MAGIC;
}

static bool under_default(const char *path)
{
	size_t n = strlen(BPFFS_DEFAULT);

	return !strncmp(path, BPFFS_DEFAULT, n) && (path[n] == '/' || path[n] == '\0');
}

/* bpffs is not mounted at boot everywhere: mount the usual one if needed. */
static int ensure_default_bpffs(void)
{
	int err;

	if (on_bpffs(BPFFS_DEFAULT) || !mount("bpf", BPFFS_DEFAULT, "bpf", 0, "mode=0700"))
		return 0;
	err = -errno;
	pr_warn("Couldn't mount bpffs on %s: %s (mount it yourself: mount -t bpf bpf %s)\n",
		BPFFS_DEFAULT, strerror(-err), BPFFS_DEFAULT);
	return err;
}

static int make_dir(const char *path)
{
	int err;

	if (!mkdir(path, 0700) || errno == EEXIST)
		return 0;
	err = -errno;
	pr_warn("Couldn't create %s: %s\n", path, strerror(-err));
	return err;
}

void pindir_name(const char *name, char *out, size_t len)
{
	size_t n = 0;

	for (; *name && n + 4 < len; name++) {
		if (*name == '.' || *name == '/' || *name == '%')
			n += snprintf(out + n, len - n, "%%%02x", (unsigned char)*name);
		else
			out[n++] = *name;
	}
	if (len)
		out[n < len ? n : len - 1] = '\0';
}

int pindir_prepare(const char *root, const char *const *ifaces, int n_ifaces, bool create,
		   char *dir, size_t len)
{
	size_t n = (size_t)snprintf(dir, len, "%s/", root);
	int err = 0;

	/* One directory per interface set, named after it: "eth0,eth1". */
	for (int i = 0; i < n_ifaces && n + 1 < len; i++) {
		if (i)
			dir[n++] = ',';
		pindir_name(ifaces[i], dir + n, len - n);
		n += strlen(dir + n);
	}
	if (!create) {
		if (on_bpffs(dir))
			return 0;
		pr_warn("No --persist nfxdp to end there: nothing is pinned at %s\n", dir);
		return -ENOENT;
	}
	if (under_default(root))
		err = ensure_default_bpffs();
	if (!err)
		err = make_dir(root);
	if (!err && !on_bpffs(root)) {
		pr_warn("%s is not on a BPF filesystem: mount one there (mount -t bpf bpf %s) or "
			"choose another --pin-dir\n", root, root);
		err = -ENOTSUP;
	}
	return err ? err : make_dir(dir);
}
