# SPDX-License-Identifier: GPL-2.0
# Included by the sub-collections' Makefiles after they set TEST_GEN_PROGS.
#
# In-tree (this suite under tools/testing/selftests/), lib.mk does the work
# and KHDR_INCLUDES points at the tree's installed headers. Standalone, the
# harness headers and the uapi headers come from KSRC: a kernel source tree
# with installed headers (usr/include), by default the extract that
# "make setup" caches from Debian's newest linux-source package.

PFNMAP_TOP := $(realpath $(dir $(lastword $(MAKEFILE_LIST)))/..)

CFLAGS += -Wall -Wextra -O2 -g -D_GNU_SOURCE -I$(PFNMAP_TOP)/lib -MD
CFLAGS += $(EXTRA_CFLAGS)
LDLIBS += -lmnl -pthread

ifneq ($(wildcard $(PFNMAP_TOP)/../lib.mk),)
CFLAGS += $(KHDR_INCLUDES)
include $(PFNMAP_TOP)/../lib.mk
else
PFNMAP_CACHE ?= $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/pfnmap
KSRC ?= $(PFNMAP_CACHE)/ksrc/default
ifeq ($(wildcard $(KSRC)/tools/testing/selftests/kselftest_harness.h),)
$(error no kselftest_harness.h under KSRC=$(KSRC): run 'make setup', or pass KSRC=<kernel tree with 'make headers' done>)
endif
KHDR_INCLUDES ?= -isystem $(KSRC)/usr/include
# The harness is the kernel's: as a system header its own -Wextra warnings
# (6.12's has some) do not fail our -Werror builds.
CFLAGS += $(KHDR_INCLUDES) -isystem $(KSRC)/tools/testing/selftests
OUTPUT ?= $(CURDIR)
TEST_GEN_PROGS := $(patsubst %,$(OUTPUT)/%,$(TEST_GEN_PROGS))

all: $(TEST_GEN_PROGS)

clean:
	$(RM) -r $(TEST_GEN_PROGS) $(EXTRA_CLEAN)
.PHONY: all clean
endif

LIBPFNMAP_C := $(notdir $(wildcard $(PFNMAP_TOP)/lib/*.c))
LIBPFNMAP_O := $(patsubst %.c,$(OUTPUT)/libpfnmap/%.o,$(LIBPFNMAP_C))

$(LIBPFNMAP_O): $(OUTPUT)/libpfnmap/%.o: $(PFNMAP_TOP)/lib/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(CPPFLAGS) -c $< -o $@

$(TEST_GEN_PROGS): $(OUTPUT)/%: %.c $(LIBPFNMAP_O)
	$(CC) $(CFLAGS) $(CPPFLAGS) $(LDFLAGS) $< $(LIBPFNMAP_O) $(LDLIBS) -o $@

EXTRA_CLEAN += $(OUTPUT)/libpfnmap $(TEST_GEN_PROGS:%=%.d)
-include $(LIBPFNMAP_O:%.o=%.d) $(TEST_GEN_PROGS:%=%.d)
