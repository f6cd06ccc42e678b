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

# CFLAGS is the user's (make CFLAGS=-O0 works); what the build needs is apart.
CFLAGS ?= -O2 -g
INCLUDES := -I$(BUILD) -Ibpf -Iuser
WARNINGS := -Wall -Wextra -Wno-unused-parameter -Wno-missing-field-initializers
# .ci/run adds -Werror.
EXTRA_CFLAGS ?=
NFX_CFLAGS = $(INCLUDES) $(WARNINGS) -std=gnu11 -D_GNU_SOURCE $(CFLAGS) $(EXTRA_CFLAGS)
DEPFLAGS = -MMD -MP
# ZeroMQ, libpcap, Mosquitto, libmicrohttpd and nDPI are not linked: each is
# loaded when first used (user/common/lazylib.h), as the forty libraries
# they bring took most of the start-up time. Their headers are still needed.
#
# libbpf, libelf, zlib and protobuf-c are linked statically where their
# archives are installed (their -dev packages ship them): the dynamic
# loader's mapping and relocating of four more libraries cost every run
# 0.6 to 0.9 ms of wall time and 0.6 to 1.4 ms of CPU (an empty capture,
# perf stat -r 40, three interleaved rounds, on the benchmarks' machine).
STATIC_LIBS := $(shell for l in bpf elf z protobuf-c; do \
	[ -f "$$($(CC) -print-file-name=lib$$l.a)" ] || exit 0; done; echo yes)
ifeq ($(STATIC_LIBS),yes)
LDLIBS := -Wl,-Bstatic -lbpf -lelf -lz -lprotobuf-c -Wl,-Bdynamic -lm -lpthread
else
LDLIBS := -lbpf -lelf -lz -lprotobuf-c -lm -lpthread
endif
# nDPI (--dpi), through pkg-config: its headers are under include/ndpi.
NDPI_CFLAGS := $(shell pkg-config --cflags libndpi 2>/dev/null)
NFXDP_LDLIBS := $(LDLIBS)
BPF_CFLAGS := -g -O2 -target bpf -mcpu=v3 -D__TARGET_ARCH_$(ARCH) -I$(BUILD) -Ibpf \
	      -Wall -Wno-unused-function $(EXTRA_CFLAGS)

ifeq ($(V),1)
Q =
msg =
else
Q = @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

.DELETE_ON_ERROR:
.SECONDARY:
.PHONY: all deps check demo bench clean install layout asan python

BPF_HDRS := $(wildcard bpf/*.h)
# Generated headers every user object may include: made before any compiles.
GEN_HDRS := $(BUILD)/meter.skel.h $(BUILD)/meter_hw.skel.h $(BUILD)/flow.pb-c.h

# The layers of user/ (README, "Architecture"); the three programs' mains
# stay out of the library that they and the tests link.
USER_SRCS := $(wildcard user/*/*.c)
MAIN_SRCS := user/main.c user/cat/nfxdp_cat.c user/gencap/nfxdp_gencap.c
LIB_SRCS := $(filter-out $(MAIN_SRCS),$(USER_SRCS))
obj = $(patsubst user/%.c,$(BUILD)/obj/%.o,$(1))
LIB_OBJS := $(call obj,$(LIB_SRCS)) $(BUILD)/obj/flow.pb-c.o
LIB := $(BUILD)/libnfxdp.a

all: $(BUILD)/nfxdp $(BUILD)/nfxdp-cat $(BUILD)/nfxdp-gencap $(BUILD)/meter.bpf.o $(BUILD)/meter_hw.bpf.o

deps:
	$(Q)scripts/deps.sh

$(BUILD) $(BUILD)/obj:
	$(Q)mkdir -p $@

# vmlinux.h from the running kernel's BTF when bpftool can read it, else the
# committed copy.
$(BUILD)/vmlinux.h: | $(BUILD)
	$(call msg,GEN,$@)
	$(Q)if [ -r $(BTF_VMLINUX) ] && $(BPFTOOL) btf dump file $(BTF_VMLINUX) format c > $@.tmp 2>/dev/null; \
	then mv $@.tmp $@; else rm -f $@.tmp; cp vmlinux/vmlinux.h $@; fi

$(BUILD)/%.bpf.o: bpf/%.bpf.c $(BUILD)/vmlinux.h | $(BUILD)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) $(DEPFLAGS) -c $< -o $@

$(BUILD)/%.skel.h: $(BUILD)/%.bpf.o
	$(call msg,SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name $(notdir $*)_bpf > $@

$(BUILD)/flow.pb-c.c $(BUILD)/flow.pb-c.h: proto/flow.proto | $(BUILD)
	$(call msg,PROTOC,$@)
	$(Q)$(PROTOC_C) --proto_path=proto --c_out=$(BUILD) $<

# The Python package's schema module, generated here, never at import time:
# generated code must match the protobuf runtime it runs on (Debian's
# python3-protobuf with Debian's protoc). Not committed (.gitignore); `pip
# install ./python` ships it. `make python` (and `make tests`, `make check`)
# makes it; protoc is Debian's protobuf-compiler.
PROTOC ?= protoc
PY_PKG_PB := python/nfxdp/flow_pb2.py

python: $(PY_PKG_PB)

$(PY_PKG_PB): proto/flow.proto
	$(call msg,PROTOC,$@)
	$(Q)$(PROTOC) --proto_path=proto --python_out=$(dir $@) $<

$(BUILD)/obj/flow.pb-c.o: $(BUILD)/flow.pb-c.c | $(BUILD)/obj
	$(call msg,CC,$@)
	$(Q)$(CC) $(NFX_CFLAGS) -c $< -o $@

# What each object includes is in its .d file (-MMD); the generated headers
# come first.
$(BUILD)/obj/%.o: user/%.c | $(GEN_HDRS)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(NFX_CFLAGS) $(DEPFLAGS) -c $< -o $@

$(call obj,user/collector/dpi.c) $(call obj,user/common/lazy_ndpi.c): NFX_CFLAGS += $(NDPI_CFLAGS)

# The user-space meter: bpf/meter.bpf.c compiled a second time, for the host
# (bpf/usermode.h), with the BPF build's warnings; every symbol but
# meter/umeter.h's is then made local, so the program's global names
# (flows, counters, ...) stay inside the object. The parsers read headers
# at any offset of the frame, as BPF lets them and x86 and arm64 do at no
# cost: not a finding for UBSan (make asan), like the fuzzers' alignment.
UMETER_FLAGS = -Wall -Wno-unused-function -Wno-unknown-pragmas -std=gnu11 -D_GNU_SOURCE \
	       -DNFX_USERSPACE -fno-strict-aliasing -fvisibility=hidden
UMETER_CFLAGS = $(INCLUDES) $(UMETER_FLAGS) $(CFLAGS) -fno-sanitize=alignment $(EXTRA_CFLAGS)

$(call obj,user/meter/umeter.c): user/meter/umeter.c | $(GEN_HDRS)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(UMETER_CFLAGS) $(DEPFLAGS) -c $< -o $@
	$(Q)objcopy --localize-hidden $@

$(LIB): $(LIB_OBJS)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(BUILD)/nfxdp: $(call obj,user/main.c) $(LIB)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(NFX_CFLAGS) $^ $(NFXDP_LDLIBS) -o $@

$(BUILD)/nfxdp-cat: $(call obj,user/cat/nfxdp_cat.c) $(LIB)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(NFX_CFLAGS) $^ $(LDLIBS) -o $@

$(BUILD)/nfxdp-gencap: $(call obj,user/gencap/nfxdp_gencap.c) $(LIB)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(NFX_CFLAGS) $^ $(LDLIBS) -o $@

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)

include tests/tests.mk
include tests/soak/soak.mk
include deploy/deploy.mk
include tests/fuzz/fuzz.mk

# The programs and the tests built with AddressSanitizer and
# UndefinedBehaviorSanitizer in $(BUILD)/asan (BPF objects as usual);
# tests/e2e/test_sanitizers.sh, part of make check, runs suites on them.
ASAN_CFLAGS ?= -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined \
	       -fno-sanitize-recover=all
asan:
	$(Q)$(MAKE) --no-print-directory BUILD=$(BUILD)/asan CFLAGS="$(ASAN_CFLAGS)" all tests

# The one-way dependency rule of user/'s layers, read off the #include lines.
layout:
	$(Q)scripts/check-layout.py

check: deps
	$(Q)$(MAKE) --no-print-directory all tests
	$(Q)tests/run.sh

demo: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)scripts/demo.sh

bench: deps
	$(Q)$(MAKE) --no-print-directory all tests $(BUILD)/progcost $(BENCH_TOOLS) $(BUILD)/recbench
	$(Q)bench/run.sh

$(BUILD)/progcost: bench/progcost.c $(LIB) | $(GEN_HDRS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(NFX_CFLAGS) $(DEPFLAGS) -MF $@.d $< $(LIB) $(NFXDP_LDLIBS) -o $@

# The collector's record path without a kernel (bench/sections/45-records.sh).
$(BUILD)/recbench: bench/recbench.c $(LIB) | $(GEN_HDRS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(NFX_CFLAGS) $(DEPFLAGS) -MF $@.d $< $(LIB) $(NFXDP_LDLIBS) -o $@

# The live benchmark's tools (bench/sections/15-nicpath.sh, and the tests'):
# the frame generator and the baseline meter, each a BPF program and its
# skeleton loader.
BENCH_TOOLS := $(BUILD)/livegen $(BUILD)/mincount
tests: $(BENCH_TOOLS) # tests/e2e/test_livegen.sh

$(BUILD)/bench/%.bpf.o: bench/%.bpf.c $(BUILD)/vmlinux.h
	$(call msg,BPF,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(BPF_CFLAGS) $(DEPFLAGS) -c $< -o $@

$(BUILD)/livegen $(BUILD)/mincount: $(BUILD)/%: bench/%.c $(BUILD)/bench/%.skel.h $(LIB) | $(GEN_HDRS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(NFX_CFLAGS) -I$(BUILD)/bench -Ibench $(DEPFLAGS) -MF $@.d $< $(LIB) $(NFXDP_LDLIBS) -o $@

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib/nfxdp
	install -m 755 $(BUILD)/nfxdp $(BUILD)/nfxdp-cat $(BUILD)/nfxdp-gencap $(DESTDIR)$(PREFIX)/bin/

clean:
	rm -rf $(BUILD) $(PY_PKG_PB)
