#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# A Debian chroot with LAVA's dispatcher (lava-run) and QEMU, for running the
# project's LAVA job for real without installing lava-dispatcher on the host
# (it pulls systemd-sysv, udev and libguestfs). Made with mmdebstrap (which
# "make setup" / scripts/setup.sh --check installs) from the mirror the
# host's apt already uses, for the host's release; cached under
# $PFNMAP_CACHE/lava-chroot/KEY, KEY a hash of the package list and the
# sources, so it is made again only when either changes. Prints the chroot's
# directory.
#
# usage: scripts/lava_chroot.sh            make it if needed, print its path
#        scripts/lava_chroot.sh --have     print its path; exit 1 when it is not
#                                          made (the set-up step makes it:
#                                          scripts/setup.sh --check)
#        scripts/lava_chroot.sh --run DIR ARG...
#                                          run ARG... in chroot DIR with /proc,
#                                          /sys and /dev bound in (recursively) (and
#                                          LAVA_CHROOT_BIND: more host
#                                          directories, each SRC:DST), unbound
#                                          again whatever happens
# Exit: 0; 1 mmdebstrap failed, or --have and not made; 4 a missing
# precondition (root, mmdebstrap, the host's mirror), said in one line.
set -u
SUITE=$(cd "$(dirname "$0")/.." && pwd)
export PFNMAP_CACHE=${PFNMAP_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/pfnmap}
# shellcheck source=vm/debian.sh
. "$SUITE/vm/debian.sh"

# What lava-run needs for a QEMU job deployed to tmpfs: the dispatcher,
# qemu-system-x86_64, git for the test definition's repository, cpio and
# gzip for the ramdisk's overlays; python3-jinja2 (a dependency of
# lava-dispatcher) renders the device type; ca-certificates for a job whose
# URLs are https.
LAVA_CHROOT_PACKAGES="lava-dispatcher qemu-system-x86 git cpio gzip xz-utils python3-jinja2 ca-certificates"

lava_chroot_run()
{
	local root=$1 m rc mounted=()
	shift
	for m in /proc /sys /dev ${LAVA_CHROOT_BIND:-}; do
		local src=${m%%:*} dst=${m#*:}
		mkdir -p "$root$dst"
		# Recursive (/dev/pts: pexpect's pseudo-terminals), and a slave, so
		# that the lazy unmount below cannot travel back to the host's mounts.
		if ! { mount --rbind "$src" "$root$dst" && mount --make-rslave "$root$dst"; }; then
			rc=1
			break
		fi
		mounted=("$root$dst" "${mounted[@]}")
	done
	if [ -z "${rc:-}" ]; then
		chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 "$@"
		rc=$?
	fi
	for m in "${mounted[@]}"; do umount -l "$m"; done
	return "$rc"
}

if [ "${1:-}" = --run ]; then
	shift
	[ $# -ge 2 ] || { echo "lava_chroot.sh: --run DIR COMMAND..." >&2; exit 2; }
	lava_chroot_run "$@"
	exit $?
fi

[ "$(id -u)" = 0 ] || { echo "lava_chroot.sh: needs root (mmdebstrap's root mode, chroot, bind mounts)" >&2; exit 4; }
command -v mmdebstrap > /dev/null || { echo "lava_chroot.sh: no mmdebstrap (make setup, or scripts/setup.sh --check)" >&2; exit 4; }
main=$(debian_mirror main) sec=$(debian_mirror security)
[ -n "$main" ] || { echo "lava_chroot.sh: no Debian mirror in the host's apt sources" >&2; exit 4; }
codename=$(debian_codename)
sources=("deb $main $codename main")
[ -z "$sec" ] || sources+=("deb $sec $codename-security main")

key=$(printf '%s\n' "$codename" "$LAVA_CHROOT_PACKAGES" "${sources[@]}" | sha256sum | cut -c1-16)
base=$PFNMAP_CACHE/lava-chroot
dir=$base/$key
if [ "${1:-}" = --have ] && [ ! -e "$dir/.done" ]; then
	echo "lava_chroot.sh: no chroot for lava-dispatcher in $base (make setup, or scripts/setup.sh --check, makes it)" >&2
	exit 1
fi
if [ ! -e "$dir/.done" ]; then
	mkdir -p "$base"
	# Never remove a tree something is still mounted in (a killed --run's
	# /dev, /proc, /sys).
	if grep -q " $base/" /proc/mounts; then
		echo "lava_chroot.sh: still mounted under $base, not removing it: $(grep " $base/" /proc/mounts | cut -d' ' -f2 | head -n3 | tr '\n' ' ')" >&2
		exit 1
	fi
	# Other package lists' chroots go: one is kept.
	find "$base" -mindepth 1 -maxdepth 1 ! -name "$key" -exec rm -rf --one-file-system {} +
	rm -rf --one-file-system "$dir" "$dir.tmp"
	echo "lava_chroot.sh: making the $codename chroot ($LAVA_CHROOT_PACKAGES)" >&2
	# shellcheck disable=SC2086
	mmdebstrap --quiet --mode=root --variant=apt --include="${LAVA_CHROOT_PACKAGES// /,}" \
		"$codename" "$dir.tmp" "${sources[@]}" > "$base/mmdebstrap.log" 2>&1 ||
		{ tail -n 20 "$base/mmdebstrap.log" >&2; rm -rf "$dir.tmp"; echo "lava_chroot.sh: mmdebstrap failed" >&2; exit 1; }
	printf '%s\n' "$LAVA_CHROOT_PACKAGES" "${sources[@]}" > "$dir.tmp/.done"
	mv "$dir.tmp" "$dir"
fi
echo "$dir"
