# shellcheck shell=bash
# Build the VM's initramfs: busybox, the built test programs with the shared
# libraries they link, the runner, the table of the emulated devices
# (vm/devices, which init reads), and the kernel modules the suite needs
# (resolved through modules.dep, decompressed, listed in load order).

# Modules the suite loads; what a kernel has built in is simply not found.
INITRAMFS_MODULES="vfio vfio_iommu_type1 vfio_pci_core vfio_pci iommufd"

# initramfs_modules STAGE MODROOT RELEASE
initramfs_modules()
{
	local stage=$1 moddir=$2/lib/modules/$3 want dep f seen=" " order=()
	[ -f "$moddir/modules.dep" ] || return 0

	# Depth-first over modules.dep, dependencies before dependents.
	_mod_visit()
	{
		local path=$1 deps d
		case $seen in *" $path "*) return ;; esac
		seen+="$path "
		deps=$(grep -m1 "^$path:" "$moddir/modules.dep" | cut -d: -f2)
		for d in $deps; do _mod_visit "$d"; done
		order+=("$path")
	}
	for want in $INITRAMFS_MODULES; do
		# Module names treat - and _ alike.
		dep=$(grep -E "/${want//_/[-_]}\.ko(\.[a-z]+)?:" "$moddir/modules.dep" | head -n1 | cut -d: -f1)
		[ -n "$dep" ] && _mod_visit "$dep"
	done
	mkdir -p "$stage/lib/modules" "$stage/etc"
	: > "$stage/etc/modules.load"
	for f in "${order[@]}"; do
		local name; name=$(basename "${f%%.ko*}").ko
		case $f in
		*.ko.xz)  xz -dc "$moddir/$f" > "$stage/lib/modules/$name" ;;
		*.ko.zst) zstd -qdc "$moddir/$f" > "$stage/lib/modules/$name" ;;
		*.ko.gz)  gzip -dc "$moddir/$f" > "$stage/lib/modules/$name" ;;
		*)        cp "$moddir/$f" "$stage/lib/modules/$name" ;;
		esac
		echo "$name" >> "$stage/etc/modules.load"
	done
}

# Copy a program's shared libraries (and the dynamic loader) into STAGE.
initramfs_libs()
{
	local stage=$1 bin=$2 lib
	for lib in $(ldd "$bin" 2>/dev/null | grep -o '/[^ ]*'); do
		[ -e "$stage$lib" ] && continue
		mkdir -p "$stage$(dirname "$lib")"
		cp -L "$lib" "$stage$lib"
	done
}

# initramfs_build OUT SUITE_DIR MODROOT RELEASE
# INITRAMFS_GUEST_SCRIPT: a script init runs instead of run_tests.sh;
# INITRAMFS_EXTRA: more files (programs get their libraries) in /pfnmap/extra.
initramfs_build()
{
	local out=$1 suite=$2 modroot=$3 release=$4 stage prog
	stage=$(mktemp -d "${TMPDIR:-/tmp}/pfnmap-initramfs.XXXXXX")
	mkdir -p "$stage"/{bin,sbin,proc,sys,dev,tmp,etc,pfnmap,root}
	cp /bin/busybox "$stage/bin/busybox"
	cp "$suite/vm/init" "$stage/init"
	cp "$suite/run_tests.sh" "$suite/settings" "$stage/pfnmap/"
	# The table of the emulated devices: init finds them by its ids.
	mkdir -p "$stage/pfnmap/vm"
	cp "$suite/vm/devices" "$stage/pfnmap/vm/devices"
	# The programs, and the runner's tool for the record of changes.
	for prog in $("$suite/run_tests.sh" --list) vfio/pfnmap_state; do
		mkdir -p "$stage/pfnmap/$(dirname "$prog")"
		cp "$suite/$prog" "$stage/pfnmap/$prog"
		initramfs_libs "$stage" "$suite/$prog"
	done
	if [ -n "${INITRAMFS_GUEST_SCRIPT:-}" ]; then
		cp "$INITRAMFS_GUEST_SCRIPT" "$stage/pfnmap/guest.sh"
	fi
	for prog in ${INITRAMFS_EXTRA:-}; do
		mkdir -p "$stage/pfnmap/extra"
		cp "$prog" "$stage/pfnmap/extra/"
		[ -x "$prog" ] && initramfs_libs "$stage" "$prog"
	done
	[ -n "$modroot" ] && initramfs_modules "$stage" "$modroot" "$release"
	[ -f "$stage/etc/modules.load" ] || : > "$stage/etc/modules.load"
	(cd "$stage" && find . | cpio -o -H newc --quiet | gzip -1) > "$out"
	local rc=$?
	rm -rf "$stage"
	return $rc
}
