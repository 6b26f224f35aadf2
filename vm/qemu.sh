# shellcheck shell=bash
# Which QEMU runs the VM (vm/run.sh --qemu, or PFNMAP_QEMU):
#   host       the system's qemu-system-x86_64 (Debian 12: 7.2), the default
#   backports  the host release's backports (Debian 12: 10.0), unpacked into
#              $PFNMAP_CACHE/qemu/VERSION once, never installed: both stay
#              usable side by side
#   PATH       a qemu-system-x86_64 binary (or a command name on the PATH)
# qemu_resolve SPEC sets QEMU (the binary) and QEMU_ARGS (-L for the
# unpacked one's firmware and option ROMs), or says why not and returns 4.

# shellcheck source=vm/debian.sh
. "$SUITE/vm/debian.sh"

qemu_resolve()
{
	local spec=$1 conf ver dest
	QEMU_ARGS=()
	case $spec in
	host) QEMU=qemu-system-x86_64 ;;
	backports)
		conf=$(debian_apt_setup host-backports) || return 4
		ver=$(APT_CONFIG=$conf apt-cache show --no-all-versions qemu-system-x86 2>/dev/null |
			awk '/^Version:/ { print $2; exit }')
		[ -n "$ver" ] || { echo "no qemu-system-x86 in $(debian_codename)-backports" >&2; return 4; }
		dest=$PFNMAP_CACHE/qemu/${ver//[:~+]/_}
		debian_fetch "$conf" "$dest" "qemu-system-x86=$ver" "qemu-system-data=$ver" || return 4
		QEMU=$dest/usr/bin/qemu-system-x86_64
		# Its modules are not unpacked: the VM needs none, and it must not
		# load the system QEMU's (another build's: it aborts on them).
		mkdir -p "$dest/modules"
		export QEMU_MODULE_DIR=$dest/modules
		# Its own ROMs and keymaps; the firmware they link to (seabios,
		# ipxe-qemu) is the system's.
		QEMU_ARGS=(-L "$dest/usr/share/qemu") ;;
	*/*)
		QEMU=$spec ;;
	*)
		# A command name ($QEMU of old: qemu-system-x86_64 on the PATH).
		command -v "$spec" >/dev/null ||
			{ echo "--qemu needs host, backports or a path, not '$spec'" >&2; return 2; }
		QEMU=$spec ;;
	esac
	command -v "$QEMU" >/dev/null || { echo "$QEMU not found: run 'make setup' (installs qemu-system-x86)" >&2; return 4; }
	# A binary that does not run here (a library it needs is missing).
	"$QEMU" "${QEMU_ARGS[@]}" -version >/dev/null 2>&1 ||
		{ echo "$QEMU does not run: $("$QEMU" -version 2>&1 | head -n1)" >&2; return 4; }
}
