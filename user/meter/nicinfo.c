// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * NIC facts for XDP RX metadata: the netdev genetlink family says which
 * metadata kfuncs the driver implements, ethtool says whether VLAN tags are
 * stripped, which PHC stamps frames, and the driver's name. Raw netlink and
 * ioctls only: no libnl or libmnl.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/ethtool.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/log.h"
#include "meter/nicinfo.h"

/*
 * The netdev genetlink family (include/uapi/linux/netdev.h). Debian 12's
 * linux-libc-dev (6.1) predates it, so its values are spelled out here; they
 * are uAPI and never change.
 */
#define NETDEV_FAMILY_NAME "netdev"
#define NETDEV_FAMILY_VERSION 1
#define NETDEV_CMD_DEV_GET 1
#define NETDEV_A_DEV_IFINDEX 1
#define NETDEV_A_DEV_XDP_RX_METADATA_FEATURES 5 /* Linux 6.9 */
#define NETDEV_XDP_RX_METADATA_TIMESTAMP (1ULL << 0)
#define NETDEV_XDP_RX_METADATA_HASH (1ULL << 1)
#define NETDEV_XDP_RX_METADATA_VLAN_TAG (1ULL << 2) /* Linux 6.8 */

/* ethtool's name for NETIF_F_HW_VLAN_CTAG_RX; its bit number is not uAPI. */
#define FEATURE_RX_VLAN_STRIP "rx-vlan-hw-parse"

/* A netlink reply to a single request; the netdev family's are ~100 bytes. */
#define NL_REPLY_MAX 8192

union nl_buf {
	struct nlmsghdr nlh;
	char bytes[NL_REPLY_MAX];
};

static int nl_open(void)
{
	struct timeval tv = { .tv_sec = 1 };
	int fd, err;

	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_GENERIC);
	if (fd < 0)
		return -errno;
	/* The kernel answers at once; the timeout only guards against a bug. */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv))) {
		err = -errno;
		close(fd);
		return err;
	}
	return fd;
}

static void nl_put_attr(struct nlmsghdr *nlh, __u16 type, const void *data, __u16 len)
{
	struct nlattr *nla = (struct nlattr *)((char *)nlh + NLMSG_ALIGN(nlh->nlmsg_len));

	nla->nla_type = type;
	nla->nla_len = NLA_HDRLEN + len;
	memcpy((char *)nla + NLA_HDRLEN, data, len);
	nlh->nlmsg_len = NLMSG_ALIGN(nlh->nlmsg_len) + NLA_ALIGN(nla->nla_len);
}

/* The first attribute @type of a genetlink message, or NULL. */
static const struct nlattr *genl_attr(const struct nlmsghdr *nlh, __u16 type)
{
	const char *p = (const char *)NLMSG_DATA(nlh) + GENL_HDRLEN;
	int left = (int)nlh->nlmsg_len - NLMSG_LENGTH(GENL_HDRLEN);

	while (left >= NLA_HDRLEN) {
		const struct nlattr *nla = (const struct nlattr *)p;

		if (nla->nla_len < NLA_HDRLEN || nla->nla_len > left)
			return NULL;
		if ((nla->nla_type & NLA_TYPE_MASK) == type)
			return nla;
		p += NLA_ALIGN(nla->nla_len);
		left -= NLA_ALIGN(nla->nla_len);
	}
	return NULL;
}

static const void *nla_data(const struct nlattr *nla)
{
	return (const char *)nla + NLA_HDRLEN;
}

static int nla_payload(const struct nlattr *nla)
{
	return nla->nla_len - NLA_HDRLEN;
}

/*
 * Sends one genetlink request carrying one attribute and waits for its reply
 * in @reply. Returns the reply's header, or NULL with -errno in *@err (the
 * kernel's own error for an NLMSG_ERROR reply).
 */
static const struct nlmsghdr *genl_call(int fd, __u16 family, __u8 cmd, __u8 version,
					__u16 attr, const void *data, __u16 len,
					union nl_buf *reply, int *err)
{
	static __u32 seq;
	union nl_buf req = { .nlh = {
		.nlmsg_len = NLMSG_LENGTH(GENL_HDRLEN),
		.nlmsg_type = family,
		.nlmsg_flags = NLM_F_REQUEST,
		.nlmsg_seq = ++seq,
	} };
	struct genlmsghdr *genl = NLMSG_DATA(&req.nlh);
	struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
	ssize_t n;

	genl->cmd = cmd;
	genl->version = version;
	nl_put_attr(&req.nlh, attr, data, len);
	if (sendto(fd, &req, req.nlh.nlmsg_len, 0, (struct sockaddr *)&kernel,
		   sizeof(kernel)) < 0) {
		*err = -errno;
		return NULL;
	}
	for (;;) {
		n = recv(fd, reply, sizeof(*reply), 0);
		if (n < 0) {
			*err = -errno;
			return NULL;
		}
		for (struct nlmsghdr *h = &reply->nlh; NLMSG_OK(h, n); h = NLMSG_NEXT(h, n)) {
			if (h->nlmsg_seq != req.nlh.nlmsg_seq)
				continue;
			if (h->nlmsg_type == NLMSG_ERROR) {
				struct nlmsgerr *e = NLMSG_DATA(h);

				*err = e->error ? e->error : -ENODATA;
				return NULL;
			}
			return h;
		}
	}
}

static int genl_family_id(int fd, const char *name)
{
	const struct nlattr *id;
	const struct nlmsghdr *h;
	union nl_buf reply;
	int err;

	h = genl_call(fd, GENL_ID_CTRL, CTRL_CMD_GETFAMILY, 1, CTRL_ATTR_FAMILY_NAME, name,
		      strlen(name) + 1, &reply, &err);
	if (!h)
		return err;
	id = genl_attr(h, CTRL_ATTR_FAMILY_ID);
	if (!id || nla_payload(id) < (int)sizeof(__u16))
		return -EPROTO;
	return *(const __u16 *)nla_data(id);
}

/* The xdp-rx-metadata-features mask of @ifindex, or -errno. */
static int query_rx_metadata(int ifindex, __u64 *mask)
{
	const struct nlattr *a;
	const struct nlmsghdr *h;
	__u32 idx = ifindex;
	union nl_buf reply;
	int fd, family, err;

	fd = nl_open();
	if (fd < 0)
		return fd;
	family = genl_family_id(fd, NETDEV_FAMILY_NAME);
	if (family < 0) {
		close(fd);
		/* ENOENT: the kernel has no netdev family (before Linux 6.3). */
		return family;
	}
	h = genl_call(fd, family, NETDEV_CMD_DEV_GET, NETDEV_FAMILY_VERSION,
		      NETDEV_A_DEV_IFINDEX, &idx, sizeof(idx), &reply, &err);
	close(fd);
	if (!h)
		return err;
	a = genl_attr(h, NETDEV_A_DEV_XDP_RX_METADATA_FEATURES);
	if (!a || nla_payload(a) < (int)sizeof(*mask))
		return -EOPNOTSUPP; /* a kernel older than the attribute */
	/* A u64 attribute is only 4-byte aligned in the message. */
	memcpy(mask, nla_data(a), sizeof(*mask));
	return 0;
}

static void fill_rx_metadata(int ifindex, const char *ifname, struct nic_info *out)
{
	__u64 mask;
	int err;

	err = query_rx_metadata(ifindex, &mask);
	if (err) {
		pr_debug("Couldn't read XDP RX metadata features of %s: %s\n", ifname,
			 strerror(-err));
		return;
	}
	out->meta_known = true;
	out->meta_timestamp = mask & NETDEV_XDP_RX_METADATA_TIMESTAMP;
	out->meta_hash = mask & NETDEV_XDP_RX_METADATA_HASH;
	out->meta_vlan_tag = mask & NETDEV_XDP_RX_METADATA_VLAN_TAG;
}

static int ethtool_ioctl(int fd, const char *ifname, void *cmd)
{
	struct ifreq ifr = { .ifr_data = cmd };

	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	return ioctl(fd, SIOCETHTOOL, &ifr) ? -errno : 0;
}

/* Any socket carries SIOCETHTOOL; netlink serves when IPv4 is compiled out. */
static int ethtool_socket(void)
{
	int fd;

	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_GENERIC);
	return fd < 0 ? -errno : fd;
}

static int query_driver(int fd, const char *ifname, char *driver)
{
	struct ethtool_drvinfo info = { .cmd = ETHTOOL_GDRVINFO };
	int err;

	err = ethtool_ioctl(fd, ifname, &info);
	if (err)
		return err;
	snprintf(driver, NIC_DRIVER_LEN, "%.*s", NIC_DRIVER_LEN - 1, info.driver);
	return 0;
}

static int query_phc(int fd, const char *ifname, int *phc_index)
{
	struct ethtool_ts_info info = { .cmd = ETHTOOL_GET_TS_INFO };
	int err;

	err = ethtool_ioctl(fd, ifname, &info);
	if (err)
		return err;
	*phc_index = info.phc_index;
	return 0;
}

/* Number of ETH_SS_FEATURES strings, i.e. of feature bits, or -errno. */
static int feature_count(int fd, const char *ifname)
{
	union {
		struct ethtool_sset_info info;
		char bytes[sizeof(struct ethtool_sset_info) + sizeof(__u32)];
	} sset = { .info = { .cmd = ETHTOOL_GSSET_INFO, .sset_mask = 1ULL << ETH_SS_FEATURES } };
	int err;

	err = ethtool_ioctl(fd, ifname, &sset);
	if (err)
		return err;
	/* The kernel clears the bit of a set it doesn't have. */
	if (!(sset.info.sset_mask & (1ULL << ETH_SS_FEATURES)))
		return -EOPNOTSUPP;
	return sset.info.data[0];
}

/* The bit number of feature @name, looked up by name as ethtool does. */
static int feature_index(int fd, const char *ifname, const char *name)
{
	struct ethtool_gstrings *strs;
	int n, err;

	n = feature_count(fd, ifname);
	if (n <= 0)
		return n ? n : -ENOENT;
	strs = calloc(1, sizeof(*strs) + (size_t)n * ETH_GSTRING_LEN);
	if (!strs)
		return -ENOMEM;
	strs->cmd = ETHTOOL_GSTRINGS;
	strs->string_set = ETH_SS_FEATURES;
	strs->len = n;
	err = ethtool_ioctl(fd, ifname, strs);
	if (!err) {
		err = -ENOENT;
		for (__u32 i = 0; i < strs->len && i < (__u32)n; i++) {
			if (!strncmp((char *)strs->data + i * ETH_GSTRING_LEN, name,
				     ETH_GSTRING_LEN)) {
				err = i;
				break;
			}
		}
	}
	free(strs);
	return err;
}

/* 1 when feature @name is active, 0 when not, or -errno. */
static int feature_active(int fd, const char *ifname, const char *name)
{
	struct ethtool_gfeatures *gf;
	int bit, words, err;

	bit = feature_index(fd, ifname, name);
	if (bit < 0)
		return bit;
	words = bit / 32 + 1;
	gf = calloc(1, sizeof(*gf) + words * sizeof(gf->features[0]));
	if (!gf)
		return -ENOMEM;
	gf->cmd = ETHTOOL_GFEATURES;
	gf->size = words;
	err = ethtool_ioctl(fd, ifname, gf);
	if (!err)
		err = !!(gf->features[bit / 32].active & (1U << (bit % 32)));
	free(gf);
	return err;
}

static void fill_ethtool(const char *ifname, struct nic_info *out)
{
	int fd, err;

	fd = ethtool_socket();
	if (fd < 0) {
		pr_debug("Couldn't open a socket for ethtool: %s\n", strerror(-fd));
		return;
	}
	err = query_driver(fd, ifname, out->driver);
	if (err)
		pr_debug("Couldn't read the driver of %s: %s\n", ifname, strerror(-err));
	err = query_phc(fd, ifname, &out->phc_index);
	if (err)
		pr_debug("Couldn't read the PTP clock of %s: %s\n", ifname, strerror(-err));
	err = feature_active(fd, ifname, FEATURE_RX_VLAN_STRIP);
	if (err < 0)
		pr_debug("Couldn't read feature %s of %s: %s\n", FEATURE_RX_VLAN_STRIP, ifname,
			 strerror(-err));
	out->rx_vlan_strip = err > 0;
	close(fd);
}

int nic_query(int ifindex, struct nic_info *out)
{
	char ifname[IF_NAMESIZE];

	if (!out || ifindex <= 0)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	out->phc_index = -1;
	if (!if_indextoname(ifindex, ifname)) {
		pr_debug("Couldn't find interface %d in this namespace: %s\n", ifindex,
			 strerror(errno));
		return -ENODEV;
	}
	fill_rx_metadata(ifindex, ifname, out);
	fill_ethtool(ifname, out);
	return 0;
}

/*
 * PHC offsets.
 *
 * Precision: the PHC read is bracketed by two CLOCK_BOOTTIME reads and
 * assumed to happen at their midpoint, so the offset is off by up to half
 * the bracket (two syscalls plus the driver's read of the NIC's clock, often
 * a PCIe register read: a few microseconds, more on a busy or virtualised
 * host). Of several tries the narrowest bracket wins. A PCIe read that is
 * slow on one side skews the midpoint beyond that bound. The two clocks run
 * at different rates (the PHC free-running or steered by ptp4l, boot time
 * slewed by NTP), so the offset drifts, by up to ~100 us per second for a
 * free-running oscillator: measure again every poll, not once. The PHC may
 * count TAI while boot time counts from boot; the offset absorbs either.
 * PTP_SYS_OFFSET_PRECISE/EXTENDED would bracket tighter, inside the driver,
 * but against CLOCK_REALTIME on most kernels.
 */
#define PHC_CACHE_SLOTS 16
#define PHC_TRIES 5
/* posix-timers' encoding of a file descriptor as a dynamic clock id. */
#define FD_TO_CLOCKID(fd) ((~(clockid_t)(fd) << 3) | 3)

/* Direct-mapped on the index: hosts have few PHCs, and a miss only reopens. */
static struct {
	int index;
	int fd;
	bool open;
} phc_cache[PHC_CACHE_SLOTS];

static void phc_close_slot(int slot)
{
	if (phc_cache[slot].open)
		close(phc_cache[slot].fd);
	phc_cache[slot].open = false;
}

void phc_close_all(void)
{
	for (int i = 0; i < PHC_CACHE_SLOTS; i++)
		phc_close_slot(i);
}

static int phc_fd(int index)
{
	int slot = index % PHC_CACHE_SLOTS;
	char path[32];
	int fd;

	if (phc_cache[slot].open && phc_cache[slot].index == index)
		return phc_cache[slot].fd;
	phc_close_slot(slot);
	snprintf(path, sizeof(path), "/dev/ptp%d", index);
	/* Reading the time needs no write access. */
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		fd = -errno;
		pr_debug("Couldn't open %s: %s\n", path, strerror(-fd));
		return fd;
	}
	phc_cache[slot].index = index;
	phc_cache[slot].fd = fd;
	phc_cache[slot].open = true;
	return fd;
}


/* One bracketed read: the offset and the bracket's width. */
static int phc_sample(clockid_t phc, int64_t *offset, int64_t *width)
{
	struct timespec before, at, after;
	int64_t mid;

	clock_gettime(CLOCK_BOOTTIME, &before);
	if (clock_gettime(phc, &at))
		return -errno;
	clock_gettime(CLOCK_BOOTTIME, &after);
	*width = clock_ts_ns(&after) - clock_ts_ns(&before);
	mid = clock_ts_ns(&before) + *width / 2;
	*offset = clock_ts_ns(&at) - mid;
	return 0;
}

int phc_offset_ns(int phc_index, int64_t *offset)
{
	int64_t best = INT64_MAX, off = 0, width = 0;
	int fd, err;

	if (phc_index < 0 || !offset)
		return -EINVAL;
	fd = phc_fd(phc_index);
	if (fd < 0)
		return fd;
	for (int i = 0; i < PHC_TRIES; i++) {
		err = phc_sample(FD_TO_CLOCKID(fd), &off, &width);
		if (err) {
			pr_debug("Couldn't read /dev/ptp%d: %s\n", phc_index, strerror(-err));
			/* The device may have gone (driver reset): reopen next time. */
			phc_close_slot(phc_index % PHC_CACHE_SLOTS);
			return err;
		}
		if (width < best) {
			best = width;
			*offset = off;
		}
	}
	return 0;
}
