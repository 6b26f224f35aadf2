#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Install what building and running the suite needs (Debian), and cache the
# kernel headers the standalone build uses. Idempotent; quick when done.
set -eu
SUITE=$(cd "$(dirname "$0")/.." && pwd)
export PFNMAP_CACHE=${PFNMAP_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/pfnmap}
mkdir -p "$PFNMAP_CACHE"

PACKAGES="gcc make libc6-dev libmnl-dev pkg-config qemu-system-x86 busybox-static
	  kmod cpio xz-utils zstd gzip file python3"

missing=
for p in $PACKAGES; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing="$missing $p"
done
if [ -n "$missing" ]; then
	if [ "$(id -u)" != 0 ]; then
		echo "setup: missing packages:$missing; install them as root (apt-get install$missing)" >&2
		exit 4
	fi
	echo "setup: installing$missing" >&2
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi

# shellcheck source=vm/headers.sh
. "$SUITE/vm/headers.sh"
if [ ! -e "$PFNMAP_CACHE/ksrc/default/.done" ]; then
	src=$(headers_fetch sid linux-source) || src=$(headers_fetch host linux-source-6.12)
	ln -sfn "$src" "$PFNMAP_CACHE/ksrc/default"
fi
echo "setup: headers from $(cat "$PFNMAP_CACHE/ksrc/default/.done") in $PFNMAP_CACHE/ksrc/default" >&2
