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

all:
	@for d in $(SUBDIRS); do $(MAKE) -C $$d all || exit 1; done

setup:
	@bash scripts/setup.sh

run: setup
	@$(MAKE) -s all
	./run_tests.sh --vm --kernel $(KERNEL) $(TESTS)

check:
	@bash scripts/check.sh

clean:
	@for d in $(SUBDIRS); do $(MAKE) -C $$d clean; done
	rm -rf output

.PHONY: all setup run check clean
