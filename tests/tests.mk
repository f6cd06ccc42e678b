# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Test binaries; tests/run.sh runs them and the shell suites.

TEST_CFLAGS := $(CFLAGS) -Itests/lib
TEST_LIB_OBJS := $(BUILD)/tests/test.o $(BUILD)/craft.o
TEST_BINS := $(BUILD)/tests/test_unit $(BUILD)/tests/test_meter $(BUILD)/tests/inject \
	     $(BUILD)/tests/pcapinfo

.PHONY: tests
tests: $(TEST_BINS)

$(BUILD)/tests:
	$(Q)mkdir -p $@

$(BUILD)/tests/%.o: tests/lib/%.c tests/lib/*.h $(BPF_HDRS) $(USER_HDRS) $(BUILD)/meter.skel.h $(BUILD)/flow.pb-c.h | $(BUILD)/tests
	$(call msg,CC,$@)
	$(Q)$(CC) $(TEST_CFLAGS) -c $< -o $@

FILTER_OBJS := $(BUILD)/filter.o $(BUILD)/flowfilter.o $(BUILD)/boolexpr.o

$(BUILD)/tests/test_meter: tests/bpf/test_meter.c $(BUILD)/tests/harness.o $(TEST_LIB_OBJS) \
		$(BUILD)/loader.o $(BUILD)/log.o $(BUILD)/counters.o $(BUILD)/collector.o $(LIB_OBJS) \
		$(BUILD)/poller.o $(BUILD)/metrics.o $(BUILD)/event_ring.o $(BUILD)/pindir.o $(BUILD)/privs.o \
		$(BUILD)/hwmeter.o $(BUILD)/nicinfo.o $(FILTER_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(TEST_CFLAGS) $^ $(NFXDP_LDLIBS) -lpthread -o $@

$(BUILD)/tests/inject: tests/tools/inject.c $(TEST_LIB_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(TEST_CFLAGS) $^ -o $@

$(BUILD)/tests/test_unit: tests/unit/test_unit.c $(TEST_LIB_OBJS) $(BUILD)/cli.o $(BUILD)/poller.o \
		$(BUILD)/loader.o $(BUILD)/pindir.o $(BUILD)/hwmeter.o $(BUILD)/nicinfo.o \
		$(BUILD)/event_ring.o $(BUILD)/spool.o $(LIB_OBJS) $(FILTER_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(TEST_CFLAGS) $^ $(LDLIBS) -o $@

$(BUILD)/tests/pcapinfo: tests/tools/pcapinfo.c | $(BUILD)/tests
	$(call msg,LINK,$@)
	$(Q)$(CC) $(TEST_CFLAGS) $^ -lpcap -o $@
