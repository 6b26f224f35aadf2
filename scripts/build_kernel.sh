#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Build a test kernel from source with everything the suite needs built in:
# allnoconfig + kernel/base.config (the VM's platform) + the suite's `config`
# fragment (+ --config fragments, e.g. kernel/debug.config), with --patch
# files applied (kernel/mutants/, or a series under test). Prints the path
# of the bzImage, cached by source, configuration and patches.
#
# usage: scripts/build_kernel.sh [--config FRAGMENT]... [--patch FILE]... SRC
#        scripts/build_kernel.sh --headers [--patch FILE]... SRC
#        scripts/build_kernel.sh --configure [--config FRAGMENT]... SRC
#   SRC: a kernel source directory, a linux-source tarball (.tar.xz), or a
#        name of vm/kernels (its Debian linux-source package, fetched with apt)
#   --headers: no kernel; print a KSRC for building the suite against the
#        uapi of SRC with the patches (DIR/usr/include from "make headers",
#        DIR/tools the tree's kselftest harness), cached likewise
#   --configure: no build; configure the tree (cached with it) and print the
#        path of its .config: what the fragments give on that source
#
# One tree per source and configuration ($PFNMAP_CACHE/tree/KEY): a
# hard-linked copy of the source and one object directory. A build with other
# patches restores the files the previous patches changed and applies the new
# ones there, so make rebuilds only what they touch (a mutant of one file:
# about 20 s here) instead of the whole kernel (9 min on 2 cores).
# Environment: JOBS (default: CPUs + 1), PFNMAP_CACHE.
# Exit: 0 built (or cached); 1 the build failed; 2 bad usage; 4 no compiler.
set -eu
SUITE=$(cd "$(dirname "$0")/.." && pwd)
export PFNMAP_CACHE=${PFNMAP_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/pfnmap}
# shellcheck source=vm/debian.sh
. "$SUITE/vm/debian.sh"
log() { echo "build_kernel: $*" >&2; }
usage() { log "$1 (usage: build_kernel.sh [--headers] [--config FRAGMENT]... [--patch FILE]... SRC)"; exit 2; }

fragments=("$SUITE/kernel/base.config" "$SUITE/config") patches=() headers= src= configure_only=
while [ $# -gt 0 ]; do
	case $1 in
	--config)  [ $# -ge 2 ] && [ -f "$2" ] || usage "--config needs a fragment file"
		   fragments+=("$(readlink -f "$2")"); shift 2 ;;
	--patch)   [ $# -ge 2 ] && [ -f "$2" ] || usage "--patch needs a patch file"
		   patches+=("$(readlink -f "$2")"); shift 2 ;;
	--headers) headers=1; shift ;;
	--configure) configure_only=1; shift ;;
	-*)        usage "unknown option $1" ;;
	*)         [ -z "$src" ] || usage "one SRC only"; src=$1; shift ;;
	esac
done
[ -n "$src" ] || usage "no SRC"
jobs=${JOBS:-$(( $(nproc) + 1 ))}

pfnmap_have_packages gcc make flex bison bc libelf-dev libssl-dev xz-utils patch || exit 4

# Unpack a tarball once into the cache; prints the source directory.
unpack()
{
	local tarball=$1 key=$2 dir=$PFNMAP_CACHE/src/$2
	if [ ! -e "$dir/.unpacked" ]; then
		log "unpacking $(basename "$tarball")"
		rm -rf "$dir" && mkdir -p "$dir"
		tar -xf "$tarball" -C "$dir" --strip-components=1
		touch "$dir/.unpacked"
	fi
	echo "$dir"
}

case $src in
*.tar.*)
	[ -f "$src" ] || usage "no tarball $src"
	id="$(readlink -f "$src") $(stat -c '%s %Y' "$src")"
	dir=$(unpack "$src" "$(echo "$id" | sha256sum | cut -c1-16)") ;;
*/*|.|..)
	[ -f "$src/Makefile" ] && [ -d "$src/arch/x86" ] || usage "$src is not a kernel source tree"
	dir=$(readlink -f "$src")
	# A git tree is identified by its commit and its local changes.
	if git -C "$dir" rev-parse HEAD >/dev/null 2>&1; then
		id="$dir $(git -C "$dir" rev-parse HEAD) $(git -C "$dir" diff HEAD | sha256sum | cut -c1-16)"
	else
		id="$dir $(find "$dir" -name '*.[ch]' -newer "$dir/Makefile" -printf '%T@\n' 2>/dev/null | sort -n | tail -n1)"
	fi ;;
*)
	kernels_lookup "$src" || usage "unknown kernel source '$src' (known: $(kernels_known), a directory or a tarball)"
	debian_pick "$KNOWN_SET" "$KNOWN_SOURCE"
	id="$DEB_NAME $DEB_VERSION"
	dir=$(debian_source_tree) ;;
esac

# apply_patches DIR: the patches, in order, onto the source copy DIR; the
# files they touch are appended to DIR/../patched.
apply_patches()
{
	local p files
	for p in "${patches[@]}"; do
		files=$(cd "$1" && patch -p1 -F0 --no-backup-if-mismatch -r - < "$p") ||
			{ log "$(basename "$p") does not apply to $id:"; echo "$files" | tail -n5 >&2; return 1; }
		echo "$files" | sed -n "s/^patching file '\{0,1\}\([^']*\)'\{0,1\}$/\1/p" >> "$1/../patched"
	done
}

if [ -n "$headers" ]; then
	key=$( { echo "$id"; for p in "${patches[@]}"; do sha256sum < "$p"; done; } | sha256sum | cut -c1-16)
	ksrc=$PFNMAP_CACHE/uapi/$key
	if [ ! -e "$ksrc/.done" ]; then
		rm -rf "$ksrc" && mkdir -p "$ksrc"
		cp -al "$dir" "$ksrc/src" 2>/dev/null || cp -a "$dir" "$ksrc/src"
		apply_patches "$ksrc/src" || exit 1
		make -s -C "$ksrc/src" O="$ksrc/obj" headers >/dev/null 2>&1 || { log "make headers failed"; exit 1; }
		ln -s obj/usr "$ksrc/usr" && ln -s src/tools "$ksrc/tools"
		echo "$id" > "$ksrc/.done"
	fi
	echo "$ksrc"
	exit 0
fi

# The tree: source and configuration. The result: that and the patches.
tree_key=$( { echo "$id"; cat "${fragments[@]}"; } | sha256sum | cut -c1-16)
key=$( { echo "$tree_key"; for p in "${patches[@]}"; do sha256sum < "$p"; done; } | sha256sum | cut -c1-16)
tree=$PFNMAP_CACHE/tree/$tree_key out=$PFNMAP_CACHE/built/$key
mkdir -p "$tree"
# One build at a time in a tree (make check and a user's run may meet here).
exec 9> "$tree/.lock"
flock 9

if [ -f "$out/bzImage" ] && [ -z "$configure_only" ]; then
	log "cached: $id${patches:+ with $(basename -a "${patches[@]}" | paste -sd' ')}"
	echo "$out/bzImage"
	exit 0
fi

start=$(date +%s)
if [ ! -e "$tree/src/.linked" ]; then
	rm -rf "$tree/src" "$tree/obj"
	# Hard links: no copy, and patch(1) writes a new file, never the cache's.
	cp -al "$dir" "$tree/src" 2>/dev/null || cp -a "$dir" "$tree/src"
	: > "$tree/src/.linked"
	: > "$tree/patched"
fi
if [ ! -f "$tree/obj/.config" ]; then
	log "configuring $id in $tree"
	mkdir -p "$tree/obj"
	# allnoconfig with the fragments forced in, then whatever they depend on.
	cat "${fragments[@]}" > "$tree/obj/fragments.config"
	KCONFIG_ALLCONFIG="$tree/obj/fragments.config" make -s -C "$tree/src" O="$tree/obj" allnoconfig >/dev/null
	make -s -C "$tree/src" O="$tree/obj" olddefconfig >/dev/null
	# Options of the fragments this kernel does not have: too old, or excluded
	# by another (IOMMUFD_VFIO_CONTAINER and VFIO_CONTAINER exclude each other).
	while IFS= read -r opt; do
		grep -qx "$opt" "$tree/obj/.config" || log "note: $opt is not in the result"
	done < <(grep -hE '^CONFIG_[A-Z0-9_]+=' "${fragments[@]}")
fi
# --configure: the configuration the fragments give on this source, no build
# (what a lab merging our config would get; scripts/check.d/labs.sh reads it).
if [ -n "$configure_only" ]; then
	echo "$tree/obj/.config"
	exit 0
fi

# Back to the pristine source where earlier patches changed it (a fresh
# copy, so make sees it newer than its objects), then these patches. A file
# that ends up as it was keeps its old time: mutants on a series share it.
rm -rf "$tree/prev" && mkdir -p "$tree/prev"
while IFS= read -r f; do
	[ -n "$f" ] || continue
	[ -e "$tree/src/$f" ] && mkdir -p "$tree/prev/$(dirname "$f")" && cp -p "$tree/src/$f" "$tree/prev/$f"
	if [ -e "$dir/$f" ]; then cp --remove-destination "$dir/$f" "$tree/src/$f"; else rm -f "$tree/src/$f"; fi
done < "$tree/patched"
: > "$tree/patched"
apply_patches "$tree/src" || exit 1
while IFS= read -r f; do
	[ -f "$tree/prev/$f" ] && cmp -s "$tree/prev/$f" "$tree/src/$f" && touch -r "$tree/prev/$f" "$tree/src/$f"
done < "$tree/patched"
rm -rf "$tree/prev"

log "building $id${patches:+ with $(basename -a "${patches[@]}" | paste -sd' ')} ($jobs jobs)"
make -s -C "$tree/src" O="$tree/obj" -j"$jobs" bzImage >"$tree/build.log" 2>&1 ||
	{ tail -n 20 "$tree/build.log" >&2; log "build failed: $tree/build.log"; exit 1; }
mkdir -p "$out"
cp "$tree/obj/arch/x86/boot/bzImage" "$out/bzImage.tmp" && mv "$out/bzImage.tmp" "$out/bzImage"
{ echo "$id"; for p in "${patches[@]}"; do echo "patch $p"; done; } > "$out/source"
log "built in $(( ($(date +%s) - start) / 60 )) min $(( ($(date +%s) - start) % 60 )) s"
echo "$out/bzImage"
