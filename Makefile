# SPDX-License-Identifier: GPL-2.0
# The pfnmap kselftest collection: sub-collections vfio and mm, library in lib/.
#
#   make            build every test program
#   make setup      install the build and VM dependencies, cache kernel headers
#   make run        run the suite in a QEMU VM (KERNEL=debian-sid|debian-6.12|PATH,
#                   TESTS="prog ...")
#   make check      the project's own checks
SUBDIRS := vfio mm
KERNEL ?= debian-sid

ifneq ($(wildcard $(dir $(lastword $(MAKEFILE_LIST)))../lib.mk),)
# In a kernel tree, as tools/testing/selftests/pfnmap, this is the kselftest
# collection "pfnmap" (TARGETS=pfnmap): one collection, so that
# run_kselftest.sh -c pfnmap runs it all, with the programs of both
# sub-directories installed side by side (their names are unique); the
# benchmarks and the runner's state tool are built and installed, not run.
PFNMAP_TESTS := $(patsubst %.c,%,$(wildcard $(addsuffix /*_test.c,$(SUBDIRS))))
TEST_GEN_PROGS := $(PFNMAP_TESTS)
# One program, as netdev's NIPA runs each program of a collection:
#   make -C tools/testing/selftests TARGETS=pfnmap TEST_PROGS=PROG TEST_GEN_PROGS="" run_tests
# PROG as kselftest-list.txt names it (vfio_edu_dma_test: NIPA's list comes
# from there) or with its directory (vfio/vfio_edu_dma_test). lib.mk runs
# TEST_PROGS as scripts found in the source directory, and builds only
# TEST_GEN_PROGS, which the command line emptied: a program of ours named
# there moves to TEST_GEN_PROGS (an override: the command line's value
# beats a plain assignment), so that it is built and run from OUTPUT, as
# in a whole run. Other TEST_PROGS stay as they are.
pfnmap_test_named = $(filter $(1) %/$(1),$(PFNMAP_TESTS))
PFNMAP_ASKED := $(foreach p,$(TEST_PROGS),$(call pfnmap_test_named,$(p)))
ifneq ($(PFNMAP_ASKED),)
override TEST_PROGS := $(foreach p,$(TEST_PROGS),$(if $(call pfnmap_test_named,$(p)),,$(p)))
# lib.mk's own prefixing of TEST_GEN_PROGS is a plain assignment: done here.
override TEST_GEN_PROGS := $(addprefix $(or $(OUTPUT),$(CURDIR))/,$(PFNMAP_ASKED))
endif
# The sub-directories' Makefiles say which programs are not tests: one list.
PFNMAP_DIR := $(dir $(lastword $(MAKEFILE_LIST)))
TEST_GEN_PROGS_EXTENDED := $(foreach d,$(SUBDIRS),$(addprefix $(d)/,$(shell sed -n 's/^TEST_GEN_PROGS_EXTENDED := //p' $(PFNMAP_DIR)$(d)/Makefile)))
include $(dir $(lastword $(MAKEFILE_LIST)))lib/libpfnmap.mk
else
all:
	@for d in $(SUBDIRS); do $(MAKE) -C $$d all || exit 1; done

clean:
	@for d in $(SUBDIRS); do $(MAKE) -C $$d clean; done
	rm -rf output
endif

setup:
	@bash scripts/setup.sh

run: setup
	@$(MAKE) -s all
	./run_tests.sh --vm --kernel $(KERNEL) $(TESTS)

check:
	@bash scripts/check.sh

.PHONY: all setup run check clean
