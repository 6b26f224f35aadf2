#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Install what building and running the suite needs (Debian), and cache the
# kernel headers the standalone build uses. Idempotent; quick when done.
# usage: scripts/setup.sh [--check]   (--check: what make check needs too)
set -eu
SUITE=$(cd "$(dirname "$0")/.." && pwd)
export PFNMAP_CACHE=${PFNMAP_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/pfnmap}
mkdir -p "$PFNMAP_CACHE"

# shellcheck source=vm/debian.sh
. "$SUITE/vm/debian.sh"

# Building the suite, the VM, and kernels from source (build:SRC).
# python3-junitparser: results.py writes each run's junit.xml with it.
PACKAGES="gcc make libc6-dev libmnl-dev pkg-config qemu-system-x86 busybox-static
	  kmod cpio xz-utils zstd gzip file python3 python3-junitparser
	  flex bison bc libelf-dev libssl-dev patch"
# What the project's own checks use (scripts/check.sh runs setup.sh --check):
# the reports' validators, LAVA's schemas, the TAP parsers, kselftest's install,
# and mmdebstrap for the chroot LAVA's dispatcher runs in (scripts/lava_chroot.sh:
# lava-dispatcher is never installed on the host).
CHECK_PACKAGES="python3-jsonschema python3-lxml lava-common autopkgtest
		perl python3-tap python3-yaml python3-more-itertools rsync mmdebstrap"

[ "${1:-}" = --check ] && PACKAGES="$PACKAGES $CHECK_PACKAGES"
# shellcheck disable=SC2086
pfnmap_need_packages $PACKAGES || exit 4
# The chroot LAVA's dispatcher runs in (cached; made again only when its
# package list or the mirror changes). Without it the LAVA check says why.
if [ "${1:-}" = --check ]; then
	bash "$SUITE/scripts/lava_chroot.sh" > /dev/null ||
		echo "setup: no chroot for lava-dispatcher (make check's LAVA step will fail or skip)" >&2
fi

# shellcheck source=vm/headers.sh
. "$SUITE/vm/headers.sh"
if [ ! -e "$PFNMAP_CACHE/ksrc/default/.done" ]; then
	src=$(headers_fetch sid linux-source) || src=$(headers_fetch host linux-source-6.12)
	ln -sfn "$src" "$PFNMAP_CACHE/ksrc/default"
fi
echo "setup: headers from $(cat "$PFNMAP_CACHE/ksrc/default/.done") in $PFNMAP_CACHE/ksrc/default" >&2
