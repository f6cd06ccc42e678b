# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# "Nothing lost, nothing broken": the senders and consumers the exactly-once
# and slow-consumer suites drive, and `make soak`, their long variants.
#
#   make soak                       every soak test, ends with "N passed, N failed"
#   make soak SOAK_SECONDS=1800     longer (default 300 s of traffic per scenario)

SOAK_TOOLS := $(BUILD)/tests/flowsend $(BUILD)/tests/zsub
SOAK_SECONDS ?= 300

.PHONY: soak soak-tools
soak-tools: $(SOAK_TOOLS)
tests: soak-tools

$(BUILD)/tests/flowsend: tests/tools/flowsend.c $(LIB)
$(BUILD)/tests/zsub: tests/tools/zsub.c $(LIB)
$(SOAK_TOOLS): | $(GEN_HDRS) $(BUILD)/tests
	$(call msg,LINK,$@)
	$(Q)$(CC) $(TEST_CFLAGS) $(DEPFLAGS) -MF $@.d $(filter %.c %.a,$^) $(LDLIBS) -o $@

soak: deps
	$(Q)$(MAKE) --no-print-directory all tests soak-tools
	$(Q)SOAK_SECONDS=$(SOAK_SECONDS) tests/soak/run.sh
