# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# IPFIX and MQTT exporters' test drivers, and the Python consumer's
# generated protobuf classes. The Makefile includes this file after
# tests/tests.mk; until it does, run  make -f Makefile -f tests/issue9.mk TARGET
#
#   make issue9     build/tests/ipfix_send, build/tests/mqtt_send,
#                   build/python/flow_pb2.py (also built by `make tests`)
#
# $(sort) drops duplicates: once export_ipfix.c and export_mqtt.c are in
# LIB_SRCS their objects are in LIB_OBJS too, and must be linked once.

ifndef NFXDP_ISSUE9_MK
NFXDP_ISSUE9_MK := 1

PROTOC ?= protoc
ISSUE9_BINS := $(BUILD)/tests/ipfix_send $(BUILD)/tests/mqtt_send
# python/nfxdp imports flow_pb2 from here (NFXDP_PB_DIR overrides); the
# generated code must match the installed python3-protobuf, so it is never
# committed.
PY_PB := $(BUILD)/python/flow_pb2.py

.PHONY: issue9
issue9: $(ISSUE9_BINS) $(PY_PB)
tests: issue9

$(BUILD)/tests/ipfix_send: tests/tools/ipfix_send.c tests/tools/pbfile.c $(sort $(BUILD)/export_ipfix.o $(LIB_OBJS)) | $(BUILD)/tests
	$(call msg,LINK,$@)
	$(Q)$(CC) $(TEST_CFLAGS) $^ $(LDLIBS) -o $@

$(BUILD)/tests/mqtt_send: tests/tools/mqtt_send.c tests/tools/pbfile.c $(sort $(BUILD)/export_mqtt.o $(LIB_OBJS)) | $(BUILD)/tests
	$(call msg,LINK,$@)
	$(Q)$(CC) $(TEST_CFLAGS) $^ $(filter-out -lmosquitto,$(LDLIBS)) -lmosquitto -o $@

$(PY_PB): proto/flow.proto
	$(call msg,PROTOC,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(PROTOC) --proto_path=proto --python_out=$(dir $@) $<

endif # NFXDP_ISSUE9_MK
