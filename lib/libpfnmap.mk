# SPDX-License-Identifier: GPL-2.0
# Included by the sub-collections' Makefiles after they set TEST_GEN_PROGS,
# and in a kernel tree by the top Makefile (the collection "pfnmap"), whose
# program names carry their sub-directory (vfio/vfio_edu_dma_test).
#
# In-tree (this suite under tools/testing/selftests/), lib.mk does the work
# and KHDR_INCLUDES points at the tree's installed headers. Standalone, the
# harness headers and the uapi headers come from KSRC: a kernel source tree
# with installed headers (usr/include), by default the extract that
# "make setup" caches from Debian's newest linux-source package.

PFNMAP_TOP := $(realpath $(dir $(lastword $(MAKEFILE_LIST)))/..)

CFLAGS += -Wall -Wextra -O2 -g -D_GNU_SOURCE= -I$(PFNMAP_TOP)/lib -MD -MP
CFLAGS += $(EXTRA_CFLAGS)
LDLIBS += -lmnl -pthread

ifneq ($(wildcard $(PFNMAP_TOP)/../lib.mk),)
# lib.mk sets OUTPUT only at the first make level; "make run" and the VM
# runner call make again from within make.
ifeq ($(OUTPUT),)
OUTPUT := $(CURDIR)
endif
# The harness as a system header, as standalone: lib.mk's -I would let our
# -Wextra warn about the kernel's own kselftest_harness.h.
CFLAGS += $(KHDR_INCLUDES) -isystem $(realpath $(PFNMAP_TOP)/..)
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
TEST_GEN_PROGS_EXTENDED := $(patsubst %,$(OUTPUT)/%,$(TEST_GEN_PROGS_EXTENDED))

all: $(TEST_GEN_PROGS) $(TEST_GEN_PROGS_EXTENDED)

clean:
	$(RM) -r $(TEST_GEN_PROGS) $(TEST_GEN_PROGS_EXTENDED) $(EXTRA_CLEAN)
.PHONY: all clean
endif

# The library: lib/*.c, and the DMA drivers, one directory each (lib/drivers/NAME/).
LIBPFNMAP_C := $(patsubst $(PFNMAP_TOP)/lib/%,%,$(wildcard $(PFNMAP_TOP)/lib/*.c $(PFNMAP_TOP)/lib/drivers/*/*.c))
LIBPFNMAP_O := $(patsubst %.c,$(OUTPUT)/libpfnmap/%.o,$(LIBPFNMAP_C))

$(LIBPFNMAP_O): $(OUTPUT)/libpfnmap/%.o: $(PFNMAP_TOP)/lib/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(CPPFLAGS) -c $< -o $@

$(TEST_GEN_PROGS) $(TEST_GEN_PROGS_EXTENDED): $(OUTPUT)/%: %.c $(LIBPFNMAP_O)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(CPPFLAGS) $(LDFLAGS) $< $(LIBPFNMAP_O) $(LDLIBS) -o $@

EXTRA_CLEAN += $(OUTPUT)/libpfnmap $(TEST_GEN_PROGS:%=%.d) $(TEST_GEN_PROGS_EXTENDED:%=%.d)
-include $(LIBPFNMAP_O:%.o=%.d) $(TEST_GEN_PROGS:%=%.d) $(TEST_GEN_PROGS_EXTENDED:%=%.d)
