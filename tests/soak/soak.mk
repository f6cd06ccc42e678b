# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# "Nothing lost, nothing broken": the senders and consumers the exactly-once
# and slow-consumer suites drive, and `make soak`, their long variants.
# Included from the Makefile after tests/tests.mk; until it is, run
#   make -f Makefile -f tests/soak/soak.mk soak
#
#   make soak                       every soak test, ends with "N passed, N failed"
#   make soak SOAK_SECONDS=1800     longer (default 300 s of traffic per scenario)

ifndef NFXDP_SOAK_MK
NFXDP_SOAK_MK := 1

SOAK_TOOLS := $(BUILD)/tests/flowsend $(BUILD)/tests/zsub
SOAK_SECONDS ?= 300

.PHONY: soak soak-tools
soak-tools: $(SOAK_TOOLS)
tests: soak-tools

$(BUILD)/tests/flowsend: tests/tools/flowsend.c $(BUILD)/craft.o | $(BUILD)/tests
	$(call msg,LINK,$@)
	$(Q)$(CC) $(TEST_CFLAGS) $^ -o $@

$(BUILD)/tests/zsub: tests/tools/zsub.c $(BUILD)/flow.pb-c.o | $(BUILD)/tests
	$(call msg,LINK,$@)
	$(Q)$(CC) $(TEST_CFLAGS) $^ -lzmq -lprotobuf-c -o $@

# The sub-make reads this file too, whether or not the Makefile includes it.
soak: deps
	$(Q)$(MAKE) --no-print-directory -f Makefile -f tests/soak/soak.mk all tests soak-tools
	$(Q)SOAK_SECONDS=$(SOAK_SECONDS) tests/soak/run.sh

endif
