// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Prints what nic_query() finds for an interface, one line of key=value
 * pairs in a fixed order, so a shell test can compare it whole:
 *
 *   nicinfo_demo [-v] [--phc] IFACE[@NETNS]
 *
 *   iface=vb driver=veth phc_index=-1 meta_known=1 meta_timestamp=1 \
 *   meta_hash=1 meta_vlan_tag=1 rx_vlan_strip=1
 *
 * (one line). @NETNS enters /var/run/netns/NETNS first, as the collector
 * does. --phc appends phc_offset_ns=N (or phc_offset_err=-ERRNO) when the
 * interface has a PHC; it varies, so tests only match its form. -v prints
 * why a part is unknown. Exit 1 when the interface or namespace is missing.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "meter/nicinfo.h"

static int enter_netns(const char *name)
{
	char path[300];
	int fd, err = 0;

	snprintf(path, sizeof(path), "/var/run/netns/%s", name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		err = -errno;
		pr_warn("Couldn't open %s: %s\n", path, strerror(-err));
		return err;
	}
	if (setns(fd, CLONE_NEWNET)) {
		err = -errno;
		pr_warn("Couldn't enter network namespace %s: %s\n", name, strerror(-err));
	}
	close(fd);
	return err;
}

static void print_info(const char *iface, const struct nic_info *n)
{
	printf("iface=%s driver=%s phc_index=%d meta_known=%d meta_timestamp=%d "
	       "meta_hash=%d meta_vlan_tag=%d rx_vlan_strip=%d",
	       iface, n->driver[0] ? n->driver : "-", n->phc_index, n->meta_known,
	       n->meta_timestamp, n->meta_hash, n->meta_vlan_tag, n->rx_vlan_strip);
}

static void print_phc(int phc_index)
{
	int64_t offset;
	int err;

	err = phc_offset_ns(phc_index, &offset);
	if (err)
		printf(" phc_offset_err=%d", err);
	else
		printf(" phc_offset_ns=%" PRId64, offset);
	phc_close_all();
}

static int usage(void)
{
	fprintf(stderr, "usage: nicinfo_demo [-v] [--phc] IFACE[@NETNS]\n");
	return 2;
}

int main(int argc, char **argv)
{
	char *iface = NULL, *netns;
	struct nic_info info;
	bool phc = false;
	int ifindex, err;

	log_set_prog("nicinfo_demo");
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-v"))
			log_set_level(LOG_DEBUG);
		else if (!strcmp(argv[i], "--phc"))
			phc = true;
		else if (argv[i][0] != '-' && !iface)
			iface = argv[i];
		else
			return usage();
	}
	if (!iface)
		return usage();
	netns = strchr(iface, '@');
	if (netns) {
		*netns++ = '\0';
		if (enter_netns(netns))
			return 1;
	}
	ifindex = if_nametoindex(iface);
	if (!ifindex) {
		pr_warn("Couldn't find interface %s: %s\n", iface, strerror(errno));
		return 1;
	}
	err = nic_query(ifindex, &info);
	if (err) {
		pr_warn("Couldn't query %s: %s\n", iface, strerror(-err));
		return 1;
	}
	print_info(iface, &info);
	if (phc && info.phc_index >= 0)
		print_phc(info.phc_index);
	printf("\n");
	return 0;
}
