// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <errno.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "flow.h"
#include "meter/filter_splice.h"
#include "meter/hwmeter.h"
#include "common/log.h"
#include "meter.skel.h"
#include "meter_hw.skel.h"
#include "meter/rodata.h"
#include "meter/nicinfo.h"

#ifndef BPF_F_XDP_DEV_BOUND_ONLY
#define BPF_F_XDP_DEV_BOUND_ONLY (1U << 6) /* Linux 6.3; older uapi headers lack it */
#endif

/* Internal maps (.rodata, .bss) are the object's own; the others are shared. */
static bool is_internal(const struct bpf_map *map)
{
	return strchr(bpf_map__name(map), '.') != NULL;
}

static int share_maps(struct meter *m, struct meter_hw_bpf *hw)
{
	struct bpf_map *map, *main_map;
	int err;

	bpf_object__for_each_map(map, hw->obj) {
		if (is_internal(map))
			continue;
		main_map = bpf_object__find_map_by_name(m->skel->obj, bpf_map__name(map));
		if (!main_map)
			return -ENOENT;
		err = bpf_map__reuse_fd(map, bpf_map__fd(main_map));
		if (err)
			return err;
	}
	return 0;
}

static int load_bound(struct meter *m, struct attachment *a)
{
	struct meter_hw_bpf *hw = meter_hw_bpf__open();
	struct bpf_program *prog;
	int err;

	if (!hw)
		return -errno;
	METER_SET_RODATA(hw->rodata, &m->opts);
	prog = hw->progs.nfx_meter;
	bpf_program__set_autoload(hw->progs.nfx_replay, false);
	bpf_program__set_autoload(hw->progs.nfx_close, false);
	bpf_program__set_autoload(hw->progs.nfx_dpi_done, false);
	bpf_program__set_autoload(hw->progs.nfx_scan, false);
	bpf_program__set_ifindex(prog, a->ifindex);
	bpf_program__set_flags(prog, bpf_program__flags(prog) | BPF_F_XDP_DEV_BOUND_ONLY);
	err = share_maps(m, hw);
	if (!err) {
		filter_splice_set(m->opts.filter, bpf_object__btf(hw->obj));
		err = meter_hw_bpf__load(hw);
		filter_splice_set(NULL, NULL);
	}
	if (err) {
		meter_hw_bpf__destroy(hw);
		return err;
	}
	a->hw = hw;
	return 0;
}

static void warn_stripped_vlans(const struct attachment *a, const char *ifname, bool driver_can)
{
	pr_warn("%s strips VLAN tags in hardware and %s: flows lose their vlan_id. Turn "
		"stripping off with: ethtool -K %s rxvlan off\n", a->name,
		driver_can ? "--nic-metadata is off" : "its driver cannot hand them to XDP", ifname);
}

int hwmeter_prepare(struct meter *m, struct attachment *a)
{
	struct nic_info nic;
	char ifname[IFNAMSIZ] = "";
	int err;

	a->hw = NULL;
	a->phc_index = -1;
	a->meta_vlan = false;
	if (nic_query(a->ifindex, &nic))
		return 0;
	if_indextoname(a->ifindex, ifname);
	if (m->nic_metadata && (nic.meta_timestamp || nic.meta_vlan_tag)) {
		err = load_bound(m, a);
		if (err) {
			pr_warn("Couldn't load the device-bound meter for %s (%s driver): %s; "
				"metering it without NIC metadata\n", a->name, nic.driver,
				strerror(-err));
		} else {
			a->phc_index = nic.meta_timestamp ? nic.phc_index : -1;
			a->meta_vlan = nic.meta_vlan_tag;
			pr_info("%s: NIC metadata from the %s driver: %s%s%s\n", a->name,
				nic.driver, nic.meta_timestamp ? "receive timestamps" : "",
				nic.meta_timestamp && nic.meta_vlan_tag ? ", " : "",
				nic.meta_vlan_tag ? "stripped VLAN tags" : "");
			hwmeter_sync_clock(a);
		}
	}
	if (nic.rx_vlan_strip && !a->meta_vlan)
		warn_stripped_vlans(a, ifname, nic.meta_vlan_tag);
	return 0;
}

int hwmeter_prog_fd(const struct meter *m, const struct attachment *a)
{
	return bpf_program__fd(a->hw ? a->hw->progs.nfx_meter : m->skel->progs.nfx_meter);
}

void hwmeter_sync_clock(struct attachment *a)
{
	int64_t off;

	if (!a->hw)
		return;
	/* No PTP clock: the NIC's stamps cannot be put on the boot clock. */
	if (a->phc_index < 0 || phc_offset_ns(a->phc_index, &off)) {
		a->hw->bss->hw_clock_known = 0;
		return;
	}
	a->hw->bss->hw_clock_offset_ns = off;
	a->hw->bss->hw_clock_known = 1;
}

void hwmeter_destroy(struct attachment *a)
{
	meter_hw_bpf__destroy(a->hw);
	a->hw = NULL;
}
