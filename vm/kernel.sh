# shellcheck shell=bash
# Resolve a kernel SPEC (a name of vm/kernels, build:SRC, or a bzImage path) to a
# kernel image, its release string and (for Debian kernels) a module tree.
# Sourced by the runner; sets KERNEL_IMAGE, KERNEL_RELEASE, KERNEL_MODROOT
# (a root directory holding lib/modules/RELEASE, or empty) and KERNEL_LABEL.

# shellcheck source=vm/debian.sh
. "$(dirname "${BASH_SOURCE[0]}")/debian.sh"

kernel_debian()
{
	local dest
	debian_pick "$1" "$2" || return 1
	local conf=$DEB_CONF name=$DEB_NAME version=$DEB_VERSION
	dest=$PFNMAP_CACHE/kernels/${name}_$version
	if [ ! -e "$dest/.unpacked" ]; then
		echo "fetching $name $version ..." >&2
		# shellcheck disable=SC2046
		debian_fetch "$conf" "$dest" $(debian_parts "$conf" "$name") || return 1
	fi
	local moddir
	moddir=$(find "$dest/lib/modules" "$dest/usr/lib/modules" -mindepth 1 -maxdepth 1 -type d 2>/dev/null | head -n1)
	[ -n "$moddir" ] || { echo "$name has no module tree" >&2; return 1; }
	KERNEL_RELEASE=$(basename "$moddir")
	KERNEL_IMAGE=$dest/boot/vmlinuz-$KERNEL_RELEASE
	[ -f "$KERNEL_IMAGE" ] || KERNEL_IMAGE=$moddir/vmlinuz	# split packages (7.x)
	[ -f "$KERNEL_IMAGE" ] || { echo "$name has no vmlinuz" >&2; return 1; }
	KERNEL_MODROOT=${moddir%/lib/modules/*}
	# Debian ships no modules.dep: generate it against the unpacked tree.
	if [ ! -s "$moddir/modules.dep" ]; then
		# depmod -b wants BASE/lib/modules; merged-/usr packages have BASE/usr/lib/modules.
		# Its warnings about the missing modules.order/builtin are expected.
		depmod -b "$KERNEL_MODROOT" "$KERNEL_RELEASE" 2>/dev/null || return 1
	fi
	KERNEL_LABEL="$name $version"
}

# The release string is stored in the bzImage header (x86 boot protocol:
# a pointer at 0x20e to a NUL-terminated version string, offset by 0x200).
bzimage_release()
{
	local img=$1 off
	off=$(od -An -tu2 -j 526 -N 2 "$img" 2>/dev/null | tr -d ' ')
	[ -n "$off" ] || return 1
	dd if="$img" bs=1 skip=$((off + 512)) count=128 2>/dev/null | tr '\0' '\n' | head -n1 | cut -d' ' -f1
}

# kernel_resolve SPEC [MODULES_DIR]
# SPEC: a name of vm/kernels, build:SRC (scripts/build_kernel.sh), or a bzImage path.
kernel_resolve()
{
	local spec=$1 mods=${2:-} unknown
	KERNEL_IMAGE= KERNEL_RELEASE= KERNEL_MODROOT= KERNEL_LABEL=
	unknown="unknown kernel '$spec' (known: $(kernels_known), build:SRC, or a bzImage path)"
	case $spec in
	build:*)
		# A kernel built from source with the suite's config fragment (cached).
		KERNEL_IMAGE=$("$(dirname "${BASH_SOURCE[0]}")/../scripts/build_kernel.sh" "${spec#build:}") || return $?
		KERNEL_RELEASE=$(bzimage_release "$KERNEL_IMAGE")
		KERNEL_LABEL="built from ${spec#build:} ($KERNEL_RELEASE)" ;;
	*/*|*bzImage*|*vmlinuz*)
		[ -f "$spec" ] || { echo "kernel image '$spec' does not exist" >&2; return 2; }
		grep -q HdrS <(dd if="$spec" bs=1 skip=514 count=4 2>/dev/null) ||
			{ echo "'$spec' is not an x86 bzImage" >&2; return 2; }
		KERNEL_IMAGE=$(readlink -f "$spec")
		KERNEL_RELEASE=$(bzimage_release "$spec")
		KERNEL_LABEL="$(basename "$spec") ($KERNEL_RELEASE)"
		if [ -n "$mods" ]; then
			[ -d "$mods/lib/modules/$KERNEL_RELEASE" ] ||
				{ echo "no $mods/lib/modules/$KERNEL_RELEASE for that bzImage" >&2; return 2; }
			KERNEL_MODROOT=$mods
		fi ;;
	*)
		kernels_lookup "$spec" || { echo "$unknown" >&2; return 2; }
		kernel_debian "$KNOWN_SET" "$KNOWN_IMAGE" ;;
	esac
}
