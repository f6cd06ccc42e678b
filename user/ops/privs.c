// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <dirent.h>
#include <errno.h>
#include <linux/capability.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "common/log.h"
#include "ops/privs.h"

#ifndef CAP_BPF
#define CAP_BPF 39
#endif
#define CAP_MAX 63

/* Since 6.5 only map creation and program loading check for CAP_BPF. */
static bool bpf_calls_need_cap(void)
{
	struct utsname u;
	int major = 0, minor = 0;

	if (uname(&u) || sscanf(u.release, "%d.%d", &major, &minor) != 2)
		return true;
	return major < 6 || (major == 6 && minor < 5);
}

static int thread_count(void)
{
	DIR *d = opendir("/proc/self/task");
	int n = 0;

	if (!d)
		return -1;
	while (readdir(d))
		n++;
	closedir(d);
	return n - 2; /* . and .. */
}

/* Keeps @cap in the effective and permitted sets about to be set. */
static void keep_cap(struct __user_cap_data_struct *data, int cap)
{
	data[cap / 32].effective |= 1U << (cap % 32);
	data[cap / 32].permitted |= 1U << (cap % 32);
}

static bool kept(const struct __user_cap_data_struct *data, int cap)
{
	return data[cap / 32].permitted & (1U << (cap % 32));
}

int privs_drop(const int *keep, int n_keep)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[2] = {};

	if (bpf_calls_need_cap()) {
		keep_cap(data, CAP_BPF);
		pr_info("keeping CAP_BPF: this kernel checks it on every bpf() call\n");
	}
	for (int i = 0; i < n_keep; i++)
		keep_cap(data, keep[i]);
	/* The bounding set needs CAP_SETPCAP, which a non-root start may lack. */
	for (int cap = 0; cap <= CAP_MAX; cap++)
		if (!kept(data, cap) && prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) &&
		    errno == EINVAL)
			break;
	prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
	if (syscall(SYS_capset, &hdr, data) || prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)) {
		int err = -errno;

		pr_warn("Couldn't drop capabilities: %s\n", strerror(-err));
		return err;
	}
	/* A bug here, not a user's problem: threads keep their own sets. */
	if (thread_count() != 1)
		pr_warn("capabilities dropped with %d threads running: only this one lost them\n",
			thread_count());
	return 0;
}
