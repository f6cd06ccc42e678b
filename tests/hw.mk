# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# NIC facts for XDP RX metadata: user/nicinfo.c, its demo, and vlan_push (a
# tc egress program that gives frames an out-of-band VLAN tag, as VLAN
# offload does). Included by the Makefile after tests/tests.mk, whose
# TEST_CFLAGS and $(BUILD)/tests it uses.
#
#   make hw     build/tests/nicinfo_demo, build/tests/vlan_push
#               (also built by `make tests`)

ifndef NFXDP_HW_MK
NFXDP_HW_MK := 1

HW_BINS := $(BUILD)/tests/nicinfo_demo $(BUILD)/tests/vlan_push

.PHONY: hw
hw: $(HW_BINS)
tests: hw

# Same rule as bpf/%.bpf.o, for a test program's BPF half.
$(BUILD)/tests/%.bpf.o: tests/tools/%.bpf.c $(BUILD)/vmlinux.h | $(BUILD)/tests
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

# $(BUILD)/tests/vlan_push.skel.h comes from the Makefile's %.skel.h rule.
$(BUILD)/tests/vlan_push: tests/tools/vlan_push.c $(BUILD)/tests/vlan_push.skel.h \
		$(BUILD)/log.o | $(BUILD)/tests
	$(call msg,LINK,$@)
	$(Q)$(CC) $(TEST_CFLAGS) -I$(BUILD)/tests $(filter %.c %.o,$^) -lbpf -lelf -lz -o $@

$(BUILD)/tests/nicinfo_demo: tests/tools/nicinfo_demo.c $(BUILD)/nicinfo.o $(BUILD)/log.o | $(BUILD)/tests
	$(call msg,LINK,$@)
	$(Q)$(CC) $(TEST_CFLAGS) $^ -lbpf -o $@

endif # NFXDP_HW_MK
