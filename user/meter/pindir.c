// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
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

/* The id of the mount at "/" in the mountinfo at @path (the last one: it hides the others), or -1. */
static long root_mount_id(const char *path)
{
	FILE *f = fopen(path, "r");
	char *line = NULL, at[8];
	size_t cap = 0;
	long id, root = -1;

	if (!f)
		return -1;
	while (getline(&line, &cap, f) > 0)
		if (sscanf(line, "%ld %*u %*s %*s %7s", &id, at) == 2 && !strcmp(at, "/"))
			root = id;
	free(line);
	fclose(f);
	return root;
}

/*
 * True when this process's mount namespace is pid 1's: the host's, or a
 * container's own. Mount ids are unique across namespaces, so the same
 * mount at "/" means the same namespace (a copy's mounts get new ids). Also
 * true when it cannot be told: nothing is refused on a guess.
 */
static bool mount_ns_of_pid1(void)
{
	long self = root_mount_id("/proc/self/mountinfo"), init = root_mount_id("/proc/1/mountinfo");

	return self < 0 || init < 0 || self == init;
}

/* True when pid 1 has a bpffs of device @dev mounted (or when it cannot be told). */
static bool pid1_mounts_bpffs(dev_t dev)
{
	FILE *f = fopen("/proc/1/mountinfo", "r");
	char *line = NULL, *sep, fstype[32];
	unsigned int maj, min;
	size_t cap = 0;
	bool found = false;

	if (!f)
		return true;
	/* "ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS [OPTIONAL...] - FSTYPE SOURCE ..." */
	while (!found && getline(&line, &cap, f) > 0) {
		sep = strstr(line, " - ");
		found = sep && sscanf(line, "%*u %*u %u:%u", &maj, &min) == 2 &&
			sscanf(sep + 3, "%31s", fstype) == 1 && !strcmp(fstype, "bpf") &&
			makedev(maj, min) == dev;
	}
	free(line);
	fclose(f);
	return found;
}

/*
 * Pins outlive nfxdp only on a bpffs that the host (pid 1's mount
 * namespace) has mounted. `ip netns exec` and `unshare -m` run nfxdp in a
 * mount namespace of its own, without the host's /sys/fs/bpf: a bpffs
 * mounted there, by nfxdp or a wrapper, ends with the namespace, and the
 * pins and the XDP link with it, while nfxdp would have said "pinned".
 * 0, or -EPERM after a message saying what to do instead.
 */
static int check_outlives(const char *root)
{
	char at[4096], *slash;
	struct stat st;
	const char *why;

	if (mount_ns_of_pid1())
		return 0;
	/* The pin directory may not exist yet: what holds it is its nearest existing parent. */
	snprintf(at, sizeof(at), "%s", root);
	while (stat(at, &st) && (slash = strrchr(at, '/')) && slash != at)
		*slash = '\0';
	if (!on_bpffs(at))
		why = "no bpffs is mounted there, and one mounted now would be this namespace's "
		      "alone";
	else if (!pid1_mounts_bpffs(st.st_dev))
		why = "the bpffs there is mounted in this namespace only";
	else
		return 0;
	pr_warn("Couldn't keep the pins in %s beyond this process: nfxdp runs in a mount "
		"namespace of its own (ip netns exec and unshare -m make one, which ends with "
		"nfxdp), and %s. Run nfxdp from the host with --iface IFACE@NETNS, or mount the "
		"host's bpffs where this namespace sees it (e.g. --pin-dir on a bind mount of "
		"the host's /sys/fs/bpf made before entering it)\n", root, why);
	return -EPERM;
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
	err = check_outlives(root);
	if (!err && under_default(root))
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
