#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Lay out a kernel tree the way a kernel developer has one with this suite in
# it: Debian's newest linux-source tree (fetched and unpacked once into
# $PFNMAP_CACHE/src, the same cache scripts/build_kernel.sh uses), with
# "make headers" done and the suite as tools/testing/selftests/pfnmap.
# Prints the tree's path.
#
# usage: scripts/kselftest_tree.sh DIR
#   DIR/linux becomes a hard-linked copy of the cached tree (a second of work,
#   no disk space): the build writes only new files, so the cache stays
#   pristine, which is checked. DIR must be on the cache's file system.
set -eu
SUITE=$(cd "$(dirname "$0")/.." && pwd)
export PFNMAP_CACHE=${PFNMAP_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/pfnmap}
# shellcheck source=vm/debian.sh
. "$SUITE/vm/debian.sh"
work=${1:?usage: kselftest_tree.sh DIR}
log() { echo "kselftest_tree: $*" >&2; }

# lib.mk's install copies with rsync; the rest the build needs (make setup).
pfnmap_have_packages gcc make libmnl-dev rsync xz-utils || exit 4

debian_pick sid linux-source
src=$(debian_source_tree) || exit 1

tree=$work/linux
rm -rf "$tree"
mkdir -p "$work"
cp -al "$src" "$tree"
sel=$tree/tools/testing/selftests
[ ! -e "$sel/pfnmap" ] || { log "$DEB_NAME $DEB_VERSION already has tools/testing/selftests/pfnmap"; exit 1; }
mkdir "$sel/pfnmap"
# What a clone of the repository holds (untracked new files too, so that a
# work tree is checked as it stands), never build products.
(cd "$SUITE" && git ls-files --cached --others --exclude-standard -z | cpio -0pdm --quiet "$sel/pfnmap")
make -s -C "$tree" headers >"$work/headers.log" 2>&1 ||
	{ tail -n 20 "$work/headers.log" >&2; log "make headers failed"; exit 1; }
# A build that wrote into a hard-linked file would have changed the cache.
changed=$(find "$src" -newer "$src/.unpacked" -type f -print -quit)
[ -z "$changed" ] || { log "the cached tree was modified ($changed): remove $src"; exit 1; }
echo "$tree"
