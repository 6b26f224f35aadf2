# shellcheck shell=bash
# Provide the build's kernel headers without a full kernel tree: take the
# newest Debian linux-source package, and extract only the kselftest harness
# headers and the uapi headers into $PFNMAP_CACHE/ksrc/VERSION, laid out like
# a tree after "make headers_install" (usr/include). Prints that directory.

. "$(dirname "${BASH_SOURCE[0]}")/debian.sh"

# The substitutions of the kernel's scripts/headers_install.sh that matter
# for userspace compilers.
headers_sanitize()
{
	find "$1" -name '*.h' -print0 | xargs -0 sed -i -E \
		-e 's/([[:space:](])(__user|__force|__iomem)[[:space:]]/\1/g' \
		-e 's/__attribute_const__([[:space:]]|$)/\1/g' \
		-e 's@^#include <linux/compiler(|_types).h>@@' \
		-e 's/(^|[^a-zA-Z0-9])__packed([^a-zA-Z0-9_]|$)/\1__attribute__((packed))\2/g' \
		-e 's/(^|[[:space:](])(inline|asm|volatile)([[:space:](]|$)/\1__\2__\3/g' \
		-e 's@#(ifndef|define|endif[[:space:]]*/[*])[[:space:]]*_UAPI@#\1 @' \
		-e 's@^#ifndef __EXPORTED_HEADERS__@#if 0 /* exported */@'
}

# headers_fetch SET META: SET is an apt set of debian.sh (sid or host), META
# the source package (linux-source, linux-source-6.12).
headers_fetch()
{
	local dest tmp top
	debian_pick "${1:-sid}" "${2:-linux-source}" || return 1
	local conf=$DEB_CONF name=$DEB_NAME version=$DEB_VERSION
	dest=$PFNMAP_CACHE/ksrc/${name}_$version
	if [ ! -e "$dest/.done" ]; then
		echo "fetching $name $version for its headers ..." >&2
		tmp=$(mktemp -d "${TMPDIR:-/tmp}/pfnmap-src.XXXXXX")
		chown _apt "$tmp" 2>/dev/null || true
		(cd "$tmp" && APT_CONFIG=$conf apt-get download -qq "$name" >/dev/null 2>&1) ||
			{ rm -rf "$tmp"; echo "apt-get download $name failed" >&2; return 1; }
		rm -rf "$dest" && mkdir -p "$dest/usr/include"
		# The package holds one tarball; stream it rather than unpack 1.5 GB.
		dpkg-deb --fsys-tarfile "$tmp"/*.deb |
			tar -xO --wildcards './usr/src/linux-source-*.tar.*' |
			tar -xJ -C "$tmp" --wildcards \
				'*/include/uapi/*' \
				'*/tools/testing/selftests/kselftest.h' \
				'*/tools/testing/selftests/kselftest_harness.h' ||
			{ rm -rf "$tmp" "$dest"; echo "extracting $name failed" >&2; return 1; }
		top=$(find "$tmp" -mindepth 1 -maxdepth 1 -type d -name 'linux-source-*')
		mkdir -p "$dest/tools/testing/selftests"
		cp "$top"/tools/testing/selftests/kselftest*.h "$dest/tools/testing/selftests/"
		cp -r "$top/include/uapi/." "$dest/usr/include/"
		cp -r "$top/arch/x86/include/uapi/asm" "$dest/usr/include/"
		headers_sanitize "$dest/usr/include"
		echo "$name $version" > "$dest/.done"
		rm -rf "$tmp"
	fi
	echo "$dest"
}
