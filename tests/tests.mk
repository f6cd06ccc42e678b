# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Test binaries and tools; tests/run.sh runs them and the shell suites.
# They link the same library as nfxdp ($(LIB)): only what they use comes in.

TEST_CFLAGS = $(NFX_CFLAGS) -Itests/lib -Itests/tools -Itests/unit
TEST_LIB_OBJS := $(BUILD)/tests/test.o
TEST_BINS := $(BUILD)/tests/test_unit $(BUILD)/tests/test_pcap_filter $(BUILD)/tests/test_meter \
	     $(BUILD)/tests/test_filter \
	     $(BUILD)/tests/inject \
	     $(BUILD)/tests/pcapinfo $(BUILD)/tests/ipfix_send $(BUILD)/tests/mqtt_send \
	     $(BUILD)/tests/nicinfo_demo $(BUILD)/tests/vlan_push $(BUILD)/tests/metrics_demo \
	     $(BUILD)/tests/pcapcount $(BUILD)/tests/filterdiff $(BUILD)/tests/mkfiltercap
# python/nfxdp imports flow_pb2 from here (NFXDP_PB_DIR overrides); the
# generated code must match the installed python3-protobuf, so it is never
# committed.
PY_PB := $(BUILD)/python/flow_pb2.py

.PHONY: tests
tests: $(TEST_BINS) $(PY_PB) $(PY_PKG_PB)

$(BUILD)/tests:
	$(Q)mkdir -p $@

$(BUILD)/tests/%.o: tests/lib/%.c | $(GEN_HDRS) $(BUILD)/tests
	$(call msg,CC,$@)
	$(Q)$(CC) $(TEST_CFLAGS) $(DEPFLAGS) -c $< -o $@

$(BUILD)/tests/%.o: tests/tools/%.c | $(GEN_HDRS) $(BUILD)/tests
	$(call msg,CC,$@)
	$(Q)$(CC) $(TEST_CFLAGS) $(DEPFLAGS) -c $< -o $@

$(BUILD)/tests/test_meter: tests/bpf/test_meter.c $(BUILD)/tests/harness.o $(TEST_LIB_OBJS) $(LIB)
$(BUILD)/tests/test_filter: tests/bpf/test_filter.c $(BUILD)/tests/harness.o $(TEST_LIB_OBJS) $(LIB)
$(BUILD)/tests/test_unit: tests/unit/test_unit.c tests/unit/format_ref.c $(TEST_LIB_OBJS) $(LIB)
$(BUILD)/tests/test_pcap_filter: tests/unit/test_pcap_filter.c $(TEST_LIB_OBJS) $(LIB)
$(BUILD)/tests/inject: tests/tools/inject.c $(LIB)
$(BUILD)/tests/pcapinfo: tests/tools/pcapinfo.c
$(BUILD)/tests/pcapcount: tests/tools/pcapcount.c
$(BUILD)/tests/filterdiff: tests/tools/filterdiff.c $(LIB)
$(BUILD)/tests/mkfiltercap: tests/tools/mkfiltercap.c $(LIB)
$(BUILD)/tests/ipfix_send: tests/tools/ipfix_send.c $(BUILD)/tests/pbfile.o $(LIB)
$(BUILD)/tests/mqtt_send: tests/tools/mqtt_send.c $(BUILD)/tests/pbfile.o $(LIB)
$(BUILD)/tests/nicinfo_demo: tests/tools/nicinfo_demo.c $(LIB)
$(BUILD)/tests/metrics_demo: tests/tools/metrics_demo.c $(LIB)

# Tools that read captures with libpcap itself, linked with it: the library's
# lazily loaded libpcap (user/common/lazy_pcap.c) has only nfxdp's functions.
$(BUILD)/tests/pcapinfo $(BUILD)/tests/pcapcount: NFXDP_LDLIBS += -lpcap

# A test program: its source first, then objects and the library.
$(filter-out $(BUILD)/tests/vlan_push,$(TEST_BINS)): | $(GEN_HDRS) $(BUILD)/tests
	$(call msg,LINK,$@)
	$(Q)$(CC) $(TEST_CFLAGS) $(DEPFLAGS) -MF $@.d $(filter %.c %.o %.a,$^) $(NFXDP_LDLIBS) -o $@

# vlan_push: a tc egress program that gives frames an out-of-band VLAN tag,
# as VLAN offload does (tests/e2e/test_nicmeta.sh).
$(BUILD)/tests/%.bpf.o: tests/tools/%.bpf.c $(BUILD)/vmlinux.h | $(BUILD)/tests
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) $(DEPFLAGS) -c $< -o $@

$(BUILD)/tests/vlan_push: tests/tools/vlan_push.c $(BUILD)/tests/vlan_push.skel.h $(LIB) | $(BUILD)/tests
	$(call msg,LINK,$@)
	$(Q)$(CC) $(TEST_CFLAGS) -I$(BUILD)/tests $(filter %.c %.a,$^) -lbpf -lelf -lz -o $@

$(PY_PB): proto/flow.proto
	$(call msg,PROTOC,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(PROTOC) --proto_path=proto --python_out=$(dir $@) $<
