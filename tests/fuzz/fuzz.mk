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
FUZZ_CFLAGS := -g -O1 -fno-omit-frame-pointer $(FUZZ_SAN) $(WARNINGS) \
	       -std=gnu11 -D_GNU_SOURCE $(INCLUDES) -Itests/lib -Itests/fuzz
FUZZ_LDLIBS = $(NFXDP_LDLIBS)

# The library's sources and the BPF test harness, instrumented.
FUZZ_LIB_OBJS = $(patsubst user/%.c,$(FUZZ_DIR)/obj/%.o,$(LIB_SRCS)) \
		 $(FUZZ_DIR)/obj/flow.pb-c.o $(FUZZ_DIR)/obj/harness.o
FUZZ_LIB := $(FUZZ_DIR)/libnfxdp-fuzz.a

FUZZ_BINS := $(patsubst %,$(FUZZ_DIR)/fuzz_%,$(FUZZ_TARGETS))

.PHONY: fuzz fuzz-build fuzz-seeds fuzz-force

$(FUZZ_DIR)/obj:
	$(Q)mkdir -p $@

$(FUZZ_DIR)/obj/%.o: user/%.c | $(GEN_HDRS) $(FUZZ_DIR)/obj
	$(call msg,FUZZCC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) $(DEPFLAGS) -fsanitize=fuzzer-no-link -c $< -o $@

# nDPI's headers, as the Makefile gives them to the collector's DPI.
$(FUZZ_DIR)/obj/collector/dpi.o $(FUZZ_DIR)/obj/common/lazy_ndpi.o: FUZZ_CFLAGS += $(NDPI_CFLAGS)

# The user-space meter: compiled as the Makefile compiles it, instrumented.
$(FUZZ_DIR)/obj/meter/umeter.o: user/meter/umeter.c | $(GEN_HDRS) $(FUZZ_DIR)/obj
	$(call msg,FUZZCC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(FUZZ_CC) $(INCLUDES) $(UMETER_FLAGS) -g -O1 -fno-omit-frame-pointer $(FUZZ_SAN) \
		$(DEPFLAGS) -fsanitize=fuzzer-no-link -c $< -o $@
	$(Q)objcopy --localize-hidden $@

$(FUZZ_DIR)/obj/%.o: tests/lib/%.c | $(GEN_HDRS) $(FUZZ_DIR)/obj
	$(call msg,FUZZCC,$@)
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) $(DEPFLAGS) -fsanitize=fuzzer-no-link -c $< -o $@

$(FUZZ_DIR)/obj/flow.pb-c.o: $(BUILD)/flow.pb-c.c | $(FUZZ_DIR)/obj
	$(call msg,FUZZCC,$@)
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c $< -o $@

$(FUZZ_DIR)/libnfxdp-fuzz.members: fuzz-force | $(FUZZ_DIR)/obj
	$(Q)echo '$(FUZZ_LIB_OBJS)' | cmp -s - $@ || echo '$(FUZZ_LIB_OBJS)' > $@

$(FUZZ_LIB): $(FUZZ_LIB_OBJS) $(FUZZ_DIR)/libnfxdp-fuzz.members
	$(call msg,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $(FUZZ_LIB_OBJS)

# fuzz_catmsg compiles user/nfxdp_cat.c itself (its main() renamed).
$(FUZZ_DIR)/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_LIB) | $(GEN_HDRS)
	$(call msg,FUZZLD,$@)
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) $(DEPFLAGS) -MF $@.d -fsanitize=fuzzer $< $(FUZZ_LIB) \
		$(FUZZ_LDLIBS) -o $@

fuzz-build: $(FUZZ_BINS)

# Root for fuzz_packet; the others run anywhere.
fuzz: fuzz-build
	$(Q)FUZZ_DIR=$(FUZZ_DIR) tests/fuzz/run.sh --seconds $(FUZZ_SECONDS) $(FUZZ_TARGETS)

$(FUZZ_DIR)/mkseeds: tests/fuzz/mkseeds.c $(LIB) | $(GEN_HDRS) $(FUZZ_DIR)/obj
	$(call msg,LINK,$@)
	$(Q)$(CC) $(NFX_CFLAGS) $^ $(NFXDP_LDLIBS) -o $@

fuzz-seeds: $(FUZZ_DIR)/mkseeds $(BUILD)/nfxdp
	$(Q)FUZZ_DIR=$(FUZZ_DIR) NFXDP=$(BUILD)/nfxdp tests/fuzz/mkseeds.sh

endif # NFXDP_FUZZ_MK
