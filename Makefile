# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# nfxdp: XDP flow meter. `make` builds, `make check` tests, `make demo` shows it.

BUILD ?= build
CLANG ?= clang
BPFTOOL ?= bpftool
PROTOC_C ?= protoc-c
CC ?= gcc
PREFIX ?= /usr/local

ARCH := $(shell uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/')
BTF_VMLINUX ?= /sys/kernel/btf/vmlinux

CFLAGS ?= -O2 -g
CFLAGS += -Wall -Wextra -Wno-unused-parameter -Wno-missing-field-initializers \
	  -std=gnu11 -D_GNU_SOURCE -I$(BUILD) -Ibpf -Iuser
LDLIBS := -lbpf -lelf -lz -lprotobuf-c -lzmq -lpcap -lm -lmosquitto -lpthread
# Only nfxdp serves HTTP: nfxdp-cat stays free of libmicrohttpd.
NFXDP_LDLIBS := $(LDLIBS) -lmicrohttpd
BPF_CFLAGS := -g -O2 -target bpf -mcpu=v3 -D__TARGET_ARCH_$(ARCH) -I$(BUILD) -Ibpf \
	      -Wall -Wno-unused-function

ifeq ($(V),1)
Q =
msg =
else
Q = @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

.DELETE_ON_ERROR:
.SECONDARY:
.PHONY: all deps check demo bench clean install

BPF_HDRS := $(wildcard bpf/*.h)
USER_HDRS := $(wildcard user/*.h)
# Modules shared by nfxdp, nfxdp-cat and the tests.
LIB_SRCS := user/log.c user/record.c user/format.c user/export_zmq.c \
	    user/export_file.c user/flowpb.c user/counters.c user/zmq_curve.c \
	    user/export_ipfix.c user/export_mqtt.c
NFXDP_SRCS := user/main.c user/cli.c user/loader.c user/poller.c user/collector.c \
	      user/replay.c user/capture.c user/linktype.c user/filter.c user/flowfilter.c \
	      user/boolexpr.c user/metrics.c user/event_ring.c user/pindir.c user/privs.c \
	      user/hwmeter.c user/nicinfo.c $(LIB_SRCS)
CAT_SRCS := user/nfxdp_cat.c user/spool.c $(LIB_SRCS)

LIB_OBJS := $(patsubst user/%.c,$(BUILD)/%.o,$(LIB_SRCS)) $(BUILD)/flow.pb-c.o
NFXDP_OBJS := $(patsubst user/%.c,$(BUILD)/%.o,$(NFXDP_SRCS)) $(BUILD)/flow.pb-c.o
CAT_OBJS := $(patsubst user/%.c,$(BUILD)/%.o,$(CAT_SRCS)) $(BUILD)/flow.pb-c.o

all: $(BUILD)/nfxdp $(BUILD)/nfxdp-cat $(BUILD)/nfxdp-gencap $(BUILD)/meter.bpf.o $(BUILD)/meter_hw.bpf.o

deps:
	$(Q)scripts/deps.sh

$(BUILD):
	$(Q)mkdir -p $@

# vmlinux.h from the running kernel's BTF when bpftool can read it, else the
# committed copy.
$(BUILD)/vmlinux.h: | $(BUILD)
	$(call msg,GEN,$@)
	$(Q)if [ -r $(BTF_VMLINUX) ] && $(BPFTOOL) btf dump file $(BTF_VMLINUX) format c > $@.tmp 2>/dev/null; \
	then mv $@.tmp $@; else rm -f $@.tmp; cp vmlinux/vmlinux.h $@; fi

$(BUILD)/%.bpf.o: bpf/%.bpf.c $(BPF_HDRS) $(BUILD)/vmlinux.h | $(BUILD)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

# The device-bound build includes the meter's source.
$(BUILD)/meter_hw.bpf.o: bpf/meter.bpf.c

$(BUILD)/%.skel.h: $(BUILD)/%.bpf.o
	$(call msg,SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name $(notdir $*)_bpf > $@

$(BUILD)/flow.pb-c.c $(BUILD)/flow.pb-c.h: proto/flow.proto | $(BUILD)
	$(call msg,PROTOC,$@)
	$(Q)$(PROTOC_C) --proto_path=proto --c_out=$(BUILD) $<

$(BUILD)/flow.pb-c.o: $(BUILD)/flow.pb-c.c
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -c $< -o $@

# User objects depend on the skeleton and generated protobuf headers.
$(BUILD)/%.o: user/%.c $(USER_HDRS) $(BPF_HDRS) $(BUILD)/meter.skel.h $(BUILD)/meter_hw.skel.h \
		$(BUILD)/flow.pb-c.h
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -c $< -o $@

$(BUILD)/nfxdp: $(NFXDP_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $^ $(NFXDP_LDLIBS) -o $@

$(BUILD)/nfxdp-cat: $(CAT_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $^ $(LDLIBS) -o $@

$(BUILD)/nfxdp-gencap: $(BUILD)/nfxdp_gencap.o $(BUILD)/craft.o
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $^ -lpcap -lm -o $@

include tests/tests.mk
include tests/issue9.mk
include tests/hw.mk
include tests/soak/soak.mk
include deploy/deploy.mk
include tests/fuzz/fuzz.mk

check: deps
	$(Q)$(MAKE) --no-print-directory all tests
	$(Q)tests/run.sh

demo: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)scripts/demo.sh

bench: deps
	$(Q)$(MAKE) --no-print-directory all tests $(BUILD)/progcost
	$(Q)bench/run.sh

PROGCOST_OBJS := $(BUILD)/loader.o $(BUILD)/pindir.o $(BUILD)/hwmeter.o $(BUILD)/nicinfo.o $(BUILD)/log.o $(BUILD)/craft.o $(BUILD)/capture.o \
		 $(BUILD)/linktype.o $(BUILD)/filter.o $(BUILD)/boolexpr.o

$(BUILD)/progcost: bench/progcost.c $(PROGCOST_OBJS) $(BUILD)/meter.skel.h
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) bench/progcost.c $(PROGCOST_OBJS) $(LDLIBS) -o $@

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib/nfxdp
	install -m 755 $(BUILD)/nfxdp $(BUILD)/nfxdp-cat $(BUILD)/nfxdp-gencap $(DESTDIR)$(PREFIX)/bin/

clean:
	rm -rf $(BUILD)
