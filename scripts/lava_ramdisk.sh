#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The ramdisk of the LAVA job (lava/job-qemu-x86_64.yaml): busybox, whose
# init gives the console a root shell with the prompt the job's "prompts"
# match ("/ # "); the kernel modules the suite needs, loaded at boot (the
# ones vm/initramfs.sh puts in the suite's own VM, found the same way); and
# the shared libraries (libmnl0, the C library) of the programs given, i.e.
# of the kselftest tarball, which LAVA puts in the ramdisk by an overlay. LAVA
# unpacks it (cpio.newc, gzip), adds its test shell and repacks it.
#
# usage: scripts/lava_ramdisk.sh [--kernel SPEC] OUT.cpio.gz [PROGRAM...]
#   SPEC: as run_tests.sh --vm takes it (default debian-sid); the path of its
#   image is printed, the job's kernel
# Exit: 0; 1 a failure, said in one line.
set -u
SUITE=$(cd "$(dirname "$0")/.." && pwd)
export PFNMAP_CACHE=${PFNMAP_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/pfnmap}
# shellcheck source=vm/kernel.sh
. "$SUITE/vm/kernel.sh"
# shellcheck source=vm/initramfs.sh
. "$SUITE/vm/initramfs.sh"

spec=debian-sid
[ "${1:-}" = --kernel ] && { spec=$2; shift 2; }
[ $# -ge 1 ] || { echo "usage: lava_ramdisk.sh [--kernel SPEC] OUT.cpio.gz [PROGRAM...]" >&2; exit 1; }
out=$1
shift
kernel_resolve "$spec" || exit 1

stage=$(mktemp -d "${TMPDIR:-/tmp}/pfnmap-lava-ramdisk.XXXXXX")
trap 'rm -rf "$stage"' EXIT
# /opt/pfnmap: where the job's overlay puts the tarball (LAVA copies a file
# overlay into an existing directory).
mkdir -p "$stage"/{bin,sbin,usr/bin,usr/sbin,proc,sys,dev,tmp,etc/init.d,root,opt/pfnmap}
cp /bin/busybox "$stage/bin/busybox"
ln -s busybox "$stage/bin/sh"
ln -s ../bin/busybox "$stage/sbin/init"
for prog in "$@"; do
	initramfs_libs "$stage" "$prog"
done
[ -n "$KERNEL_MODROOT" ] && initramfs_modules "$stage" "$KERNEL_MODROOT" "$KERNEL_RELEASE"
[ -f "$stage/etc/modules.load" ] || : > "$stage/etc/modules.load"

# busybox init: a root shell on the serial console, respawned; no login.
cat > "$stage/etc/inittab" <<'EOF'
::sysinit:/etc/init.d/rcS
ttyS0::respawn:-/bin/sh
::ctrlaltdel:/sbin/reboot
::shutdown:/bin/umount -a -r
EOF
cat > "$stage/etc/init.d/rcS" <<'EOF'
#!/bin/sh
# Applets in /bin only: a /usr/bin/timeout (busybox's) would make
# kselftest's runner call it with --foreground, which it does not know.
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
mount -t tmpfs tmp /tmp
mkdir -p /dev/pts /dev/shm && mount -t devpts pts /dev/pts
while read -r mod; do
	insmod "/lib/modules/$mod" 2>&1 | grep -v 'File exists'
done < /etc/modules.load
echo "pfnmap LAVA ramdisk: kernel $(uname -r), $(wc -l < /etc/modules.load) modules loaded"
EOF
chmod +x "$stage/etc/init.d/rcS"
echo 'root:x:0:0:root:/root:/bin/sh' > "$stage/etc/passwd"
echo 'root:x:0:' > "$stage/etc/group"
(cd "$stage" && find . | cpio -o -H newc --quiet | gzip -1) > "$out" ||
	{ echo "lava_ramdisk.sh: cannot write $out" >&2; exit 1; }
echo "$KERNEL_IMAGE"
