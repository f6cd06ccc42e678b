# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Fuzzing with libFuzzer and AddressSanitizer + UndefinedBehaviorSanitizer
# (clang). The harnesses and their seed corpora are in tests/fuzz/; each
# target is built from the very sources nfxdp ships, instrumented, into
# build/fuzz/.
#
#   make fuzz             every target for FUZZ_SECONDS (60) each, after
#                         replaying its seeds and regressions; prints the
#                         executions and crashes of each
#   make fuzz-build       only build build/fuzz/fuzz_*
#   make fuzz-seeds       regenerate tests/fuzz/seeds/ (root: runs nfxdp --pcap)
#   FUZZ_TARGETS="capture filter" make fuzz    some of them
#
# fuzz_packet loads the XDP meter: it needs root and BPF, and is skipped
# without them. libFuzzer comes with clang's runtime (Debian:
# libclang-rt-14-dev). Included from the Makefile after tests/tests.mk;
# until it is, run  make -f Makefile -f tests/fuzz/fuzz.mk fuzz

ifndef NFXDP_FUZZ_MK
NFXDP_FUZZ_MK := 1

FUZZ_CC ?= clang
FUZZ_SECONDS ?= 60
FUZZ_TARGETS ?= packet capture catmsg filter flowfilter
FUZZ_DIR := $(BUILD)/fuzz
# Alignment is left out: pcap record headers sit at any offset in a mapped
# file and are read in place, which x86 and arm64 do at no cost.
FUZZ_SAN ?= -fsanitize=address,undefined -fno-sanitize=alignment -fno-sanitize-recover=all
FUZZ_CFLAGS := -g -O1 -fno-omit-frame-pointer $(FUZZ_SAN) \
	       -Wall -Wextra -Wno-unused-parameter -Wno-missing-field-initializers \
	       -std=gnu11 -D_GNU_SOURCE -I$(BUILD) -Ibpf -Iuser -Itests/lib -Itests/fuzz
FUZZ_LDLIBS = $(NFXDP_LDLIBS)

# The modules nfxdp and nfxdp-cat link (but their main()s), instrumented, in
# an archive: each harness pulls in what it calls, whatever the modules come
# to depend on.
FUZZ_LIB_SRCS = $(sort $(filter-out user/main.c user/nfxdp_cat.c,$(NFXDP_SRCS) $(CAT_SRCS)) \
		user/craft.c)
FUZZ_LIB_OBJS = $(patsubst user/%.c,$(FUZZ_DIR)/obj/%.o,$(FUZZ_LIB_SRCS)) \
		 $(FUZZ_DIR)/obj/flow.pb-c.o $(FUZZ_DIR)/obj/harness.o
FUZZ_LIB := $(FUZZ_DIR)/libnfxdp-fuzz.a

FUZZ_BINS := $(patsubst %,$(FUZZ_DIR)/fuzz_%,$(FUZZ_TARGETS))

.PHONY: fuzz fuzz-build fuzz-seeds fuzz-force

$(FUZZ_DIR)/obj:
	$(Q)mkdir -p $@

$(FUZZ_DIR)/obj/%.o: user/%.c $(USER_HDRS) $(BPF_HDRS) $(BUILD)/meter.skel.h \
		$(BUILD)/flow.pb-c.h | $(FUZZ_DIR)/obj
	$(call msg,FUZZCC,$@)
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c $< -o $@

$(FUZZ_DIR)/obj/%.o: tests/lib/%.c tests/lib/*.h $(USER_HDRS) $(BPF_HDRS) $(BUILD)/meter.skel.h \
		$(BUILD)/flow.pb-c.h | $(FUZZ_DIR)/obj
	$(call msg,FUZZCC,$@)
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c $< -o $@

$(FUZZ_DIR)/obj/flow.pb-c.o: $(BUILD)/flow.pb-c.c | $(FUZZ_DIR)/obj
	$(call msg,FUZZCC,$@)
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c $< -o $@

# The member list, rewritten when it changes: a module added to the
# Makefile's lists goes into the archive even if its object is older.
$(FUZZ_DIR)/libnfxdp-fuzz.members: fuzz-force | $(FUZZ_DIR)/obj
	$(Q)echo '$(FUZZ_LIB_OBJS)' | cmp -s - $@ || echo '$(FUZZ_LIB_OBJS)' > $@

$(FUZZ_LIB): $(FUZZ_LIB_OBJS) $(FUZZ_DIR)/libnfxdp-fuzz.members
	$(call msg,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $(FUZZ_LIB_OBJS)

# fuzz_catmsg compiles user/nfxdp_cat.c itself (its main() renamed).
$(FUZZ_DIR)/fuzz_catmsg: user/nfxdp_cat.c

$(FUZZ_DIR)/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz.h $(FUZZ_LIB) $(USER_HDRS) $(BPF_HDRS) \
		$(BUILD)/meter.skel.h $(BUILD)/flow.pb-c.h
	$(call msg,FUZZLD,$@)
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer $< $(FUZZ_LIB) $(FUZZ_LDLIBS) -o $@

fuzz-build: $(FUZZ_BINS)

# Root for fuzz_packet; the others run anywhere.
fuzz: fuzz-build
	$(Q)FUZZ_DIR=$(FUZZ_DIR) tests/fuzz/run.sh --seconds $(FUZZ_SECONDS) $(FUZZ_TARGETS)

$(FUZZ_DIR)/mkseeds: tests/fuzz/mkseeds.c $(BUILD)/craft.o $(BUILD)/flowpb.o $(BUILD)/linktype.o \
		$(BUILD)/flow.pb-c.o | $(FUZZ_DIR)/obj
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $^ -lpcap -lz -lprotobuf-c -o $@

fuzz-seeds: $(FUZZ_DIR)/mkseeds $(BUILD)/nfxdp
	$(Q)FUZZ_DIR=$(FUZZ_DIR) NFXDP=$(BUILD)/nfxdp tests/fuzz/mkseeds.sh

endif # NFXDP_FUZZ_MK
