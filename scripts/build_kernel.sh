#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Build a test kernel from source with everything the suite needs built in:
# x86_64 defconfig + kvm_guest.config + the suite's `config` fragment.
# Prints the path of the bzImage; cached by source and configuration.
#
# usage: scripts/build_kernel.sh SRC
#   SRC: a kernel source directory (built out of tree, left untouched),
#        a linux-source tarball (.tar.xz), or debian-sid / debian-6.12
#        (Debian's linux-source package of that suite, fetched with apt)
# Environment: JOBS (default: CPUs + 1), PFNMAP_CACHE.
set -eu
SUITE=$(cd "$(dirname "$0")/.." && pwd)
export PFNMAP_CACHE=${PFNMAP_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/pfnmap}
# shellcheck source=vm/debian.sh
. "$SUITE/vm/debian.sh"
src=${1:?usage: build_kernel.sh SRC (a source directory, a tarball, debian-sid or debian-6.12)}
jobs=${JOBS:-$(( $(nproc) + 1 ))}
log() { echo "build_kernel: $*" >&2; }

need="gcc make flex bison bc libelf-dev libssl-dev xz-utils"
missing=
for p in $need; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing="$missing $p"
done
if [ -n "$missing" ]; then
	[ "$(id -u)" = 0 ] || { log "missing packages:$missing (install them as root)"; exit 4; }
	log "installing$missing"
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi

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
debian-sid|debian-6.12)
	if [ "$src" = debian-sid ]; then debian_pick sid linux-source; else debian_pick host linux-source-6.12; fi
	id="$DEB_NAME $DEB_VERSION"
	dir=$(debian_source_tree) ;;
*.tar.*)
	[ -f "$src" ] || { log "no tarball $src"; exit 2; }
	id="$(readlink -f "$src") $(stat -c '%s %Y' "$src")"
	dir=$(unpack "$src" "$(echo "$id" | sha256sum | cut -c1-16)") ;;
*)
	[ -f "$src/Makefile" ] && [ -d "$src/arch/x86" ] || { log "$src is not a kernel source tree"; exit 2; }
	dir=$(readlink -f "$src")
	# A git tree is identified by its commit and its local changes.
	if git -C "$dir" rev-parse HEAD >/dev/null 2>&1; then
		id="$dir $(git -C "$dir" rev-parse HEAD) $(git -C "$dir" diff HEAD | sha256sum | cut -c1-16)"
	else
		id="$dir $(find "$dir" -name '*.[ch]' -newer "$dir/Makefile" -printf '%T@\n' 2>/dev/null | sort -n | tail -n1)"
	fi ;;
esac

key=$( { echo "$id"; cat "$SUITE/config"; } | sha256sum | cut -c1-16)
out=$PFNMAP_CACHE/built/$key
if [ -f "$out/arch/x86/boot/bzImage" ]; then
	log "cached: $id"
	echo "$out/arch/x86/boot/bzImage"
	exit 0
fi

mkdir -p "$out"
start=$(date +%s)
log "configuring $id in $out"
make -s -C "$dir" O="$out" defconfig >/dev/null
make -s -C "$dir" O="$out" kvm_guest.config >/dev/null
"$dir/scripts/kconfig/merge_config.sh" -m -O "$out" "$out/.config" "$SUITE/config" >/dev/null
make -s -C "$dir" O="$out" olddefconfig >/dev/null
# Say which options of the fragment this kernel does not have (too old, or
# excluded by another: IOMMUFD_VFIO_CONTAINER and VFIO_CONTAINER exclude each other).
while IFS= read -r opt; do
	grep -qx "$opt" "$out/.config" || log "note: $opt is not in the result"
done < <(grep -E '^CONFIG_[A-Z0-9_]+=' "$SUITE/config")
log "building bzImage with $jobs jobs"
make -s -C "$dir" O="$out" -j"$jobs" bzImage >"$out/build.log" 2>&1 ||
	{ tail -n 20 "$out/build.log" >&2; log "build failed: $out/build.log"; exit 1; }
log "built in $(( ($(date +%s) - start) / 60 )) min $(( ($(date +%s) - start) % 60 )) s"
echo "$id" > "$out/.pfnmap-source"
echo "$out/arch/x86/boot/bzImage"
