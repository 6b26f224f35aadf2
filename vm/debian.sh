# shellcheck shell=bash
# Fetch Debian packages without touching the host's package state: a private
# apt configuration per suite (own sources list, lists and cache) that reuses
# the Debian mirror the host's apt is already configured with.
# Sourced by the runner scripts; needs $PFNMAP_CACHE.

# memo_put FILE: standard input into FILE, by rename: two runs may write
# it at once, and a reader sees either one whole. Nothing is written, and
# it fails, when the input is empty.
memo_put()
{
	local tmp=$1.$BASHPID
	mkdir -p "${1%/*}" && cat > "$tmp" && [ -s "$tmp" ] && mv "$tmp" "$1" && return 0
	rm -f "$tmp"
	return 1
}

# Print the URI of the host's Debian archive (kind=main) or security archive
# (kind=security), as apt itself resolved them.
# Asking apt costs about a second, and every VM run resolves its kernel:
# the answer is kept for a day ($PFNMAP_CACHE/apt/mirror.KIND), as the lists
# fetched from it are.
debian_mirror()
{
	local kind=$1 memo=$PFNMAP_CACHE/apt/mirror.$1 uri
	if [ -n "$(find "$memo" -maxdepth 0 -size +0 -mmin -1440 2>/dev/null)" ]; then
		cat "$memo"; return 0
	fi
	uri=$(debian_mirror_ask "$kind")
	[ -z "$uri" ] || echo "$uri" | memo_put "$memo"
	echo "$uri"
}

# What apt says now (debian_mirror keeps it).
debian_mirror_ask()
{
	local kind=$1
	apt-cache policy 2>/dev/null | awk -v kind="$kind" '
		$2 ~ /^(https?|file):/ && $3 ~ /\/main$/ {
			suite = $3; sub(/\/main$/, "", suite)
			if (kind == "security" && suite ~ /-security$/) { print $2; exit }
			if (kind == "main" && suite !~ /-/ && $2 !~ /security/) { print $2; exit }
		}'
}

# The host's release codename (bookworm, trixie, ...).
debian_codename()
{
	. /etc/os-release && echo "${VERSION_CODENAME:?no VERSION_CODENAME in /etc/os-release}"
}

# debian_apt_setup NAME: create $PFNMAP_CACHE/apt/NAME for one suite set and
# print the path of its apt.conf. NAME is "sid", "host" (the host's release
# and its security updates), "host-backports" (the host release's
# backports: QEMU 10 for Debian 12), "stable-backports" (the current stable's
# backports, by the archive's alias) or "experimental" (with sid, which
# experimental's packages build on).
debian_apt_setup()
{
	local name=$1 dir=$PFNMAP_CACHE/apt/$1 main sec codename
	main=$(debian_mirror main)
	if [ -z "$main" ]; then
		apt-get update -qq >/dev/null 2>&1 || true
		main=$(debian_mirror main)
	fi
	[ -n "$main" ] || { echo "no Debian mirror found in the host's apt sources" >&2; return 1; }
	mkdir -p "$dir"/lists/partial "$dir"/cache/archives/partial
	case $name in
	sid|stable-backports)
		echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $main $name main" ;;
	experimental)
		echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $main sid main"
		echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $main experimental main" ;;
	host-backports)
		echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $main $(debian_codename)-backports main" ;;
	host)
		codename=$(debian_codename)
		sec=$(debian_mirror security)
		echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $main $codename main"
		[ -z "$sec" ] || echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $sec $codename-security main" ;;
	*)
		echo "unknown apt set $name" >&2; return 1 ;;
	esac > "$dir/sources.list.new" || return 1
	# Written aside and renamed, as apt writes its lists: a cache copied with
	# hard links (cp -al, to try a change against a warm cache) keeps its
	# own files and never rewrites the original's through a shared inode.
	mv "$dir/sources.list.new" "$dir/sources.list"
	cat > "$dir/apt.conf.new" <<CONF
Dir::Etc::SourceList "$dir/sources.list";
Dir::Etc::SourceParts "$dir/none";
Dir::State::Lists "$dir/lists";
Dir::State::status "/dev/null";
Dir::Cache "$dir/cache";
APT::Architecture "amd64";
APT::Get::AllowUnauthenticated "false";
CONF
	mv "$dir/apt.conf.new" "$dir/apt.conf"
	# Refresh at most daily; an old list still serves when the mirror is down.
	if [ -z "$(find "$dir/lists" -maxdepth 1 -name '*Packages*' -mmin -1440 2>/dev/null)" ]; then
		APT_CONFIG=$dir/apt.conf apt-get update -qq >/dev/null 2>&1 ||
			[ -n "$(find "$dir/lists" -maxdepth 1 -name '*Packages*')" ] ||
			{ echo "apt-get update failed for the $name suite" >&2; return 1; }
	fi
	echo "$dir/apt.conf"
}

# debian_resolve CONF PKG: follow a metapackage to the versioned package it
# depends on (linux-image-amd64 -> linux-image-7.2.13+deb14-amd64) and print
# "name version".
debian_resolve()
{
	local conf=$1 pkg=$2 answer lists=${1%/*}/lists memo=${1%/*}/resolved.$2
	# Each apt-cache call builds the package cache anew where the host keeps
	# none (Docker's Debian images set Dir::Cache::pkgcache ""), a second or
	# more: the answer is kept until apt fetches newer lists.
	if [ -s "$memo" ] && [ -z "$(find "$lists" -maxdepth 1 -name '*Packages*' -newer "$memo" 2>/dev/null)" ]; then
		cat "$memo"; return 0
	fi
	answer=$(debian_resolve_ask "$conf" "$pkg") && [ -n "$answer" ] && echo "$answer" | memo_put "$memo" && cat "$memo"
}

# What apt says now (debian_resolve keeps it).
debian_resolve_ask()
{
	local conf=$1 pkg=$2 dep
	dep=$(APT_CONFIG=$conf apt-cache show --no-all-versions "$pkg" 2>/dev/null |
		sed -n 's/^Depends: //p' | tr ',' '\n' |
		sed -n 's/^ *\(linux-\(image\|source\)-[0-9][^ ]*\).*/\1/p' | head -n1)
	[ -n "$dep" ] || dep=$pkg
	APT_CONFIG=$conf apt-cache show --no-all-versions "$dep" 2>/dev/null |
		awk -v p="$dep" '/^Version:/ { print p, $2; exit }'
}

# debian_pick SET META: set DEB_CONF, DEB_NAME and DEB_VERSION for the
# versioned package META resolves to in the apt set SET.
debian_pick()
{
	DEB_CONF=$(debian_apt_setup "$1") || return 1
	read -r DEB_NAME DEB_VERSION < <(debian_resolve "$DEB_CONF" "$2")
	[ -n "$DEB_NAME" ] || { echo "no package $2 in the $1 suite" >&2; return 1; }
}

# debian_parts CONF PKG: PKG and the packages that newer Debian kernels split
# their payload into (linux-binary-*, linux-modules-*).
debian_parts()
{
	local conf=$1 pkg=$2
	echo "$pkg"
	APT_CONFIG=$conf apt-cache show --no-all-versions "$pkg" 2>/dev/null |
		sed -n 's/^Depends: //p' | tr ',' '\n' |
		sed -n 's/^ *\(linux-\(binary\|modules\)-[0-9][^ ]*\).*/\1/p'
}

# debian_fetch CONF DEST PKG...: download the packages and unpack them into
# DEST (once). apt-get download runs as _apt where it can, so the download
# directory must be theirs to write.
debian_fetch()
{
	local conf=$1 dest=$2 tmp deb rc=0
	shift 2
	[ -e "$dest/.unpacked" ] && return 0
	tmp=$(mktemp -d "${TMPDIR:-/tmp}/pfnmap-dl.XXXXXX")
	chown _apt "$tmp" 2>/dev/null || true
	(cd "$tmp" && APT_CONFIG=$conf apt-get download -qq "$@" >/dev/null 2>&1) ||
		{ rm -rf "$tmp"; echo "apt-get download $* failed" >&2; return 1; }
	rm -rf "$dest" && mkdir -p "$dest"
	for deb in "$tmp"/*.deb; do
		dpkg-deb -x "$deb" "$dest" || rc=1
	done
	rm -rf "$tmp"
	[ $rc = 0 ] && touch "$dest/.unpacked"
}

# debian_source_tree: the kernel tree of the linux-source package that
# debian_pick chose (DEB_NAME, DEB_VERSION, DEB_CONF), fetched and unpacked
# once into $PFNMAP_CACHE/src; prints its directory.
debian_source_tree()
{
	local dir=$PFNMAP_CACHE/src/${DEB_NAME}_$DEB_VERSION tmp
	if [ ! -e "$dir/.unpacked" ]; then
		tmp=$(mktemp -d "${TMPDIR:-/tmp}/pfnmap-src.XXXXXX")
		chown _apt "$tmp" 2>/dev/null || true
		echo "fetching $DEB_NAME $DEB_VERSION" >&2
		(cd "$tmp" && APT_CONFIG=$DEB_CONF apt-get download -qq "$DEB_NAME" >/dev/null 2>&1) ||
			{ rm -rf "$tmp"; echo "apt-get download $DEB_NAME failed" >&2; return 1; }
		rm -rf "$dir" && mkdir -p "$dir"
		dpkg-deb --fsys-tarfile "$tmp"/*.deb | tar -xO --wildcards './usr/src/linux-source-*.tar.*' |
			tar -xJ -C "$dir" --strip-components=1 || { rm -rf "$tmp"; return 1; }
		touch "$dir/.unpacked"
		rm -rf "$tmp"
	fi
	echo "$dir"
}

# The known kernels (vm/kernels): their names, one a line.
kernels_names()
{
	sed -e '/^[[:space:]]*#/d' -e '/^[[:space:]]*$/d' "$(dirname "${BASH_SOURCE[0]}")/kernels" | awk '{ print $1 }'
}

# kernels_lookup NAME: set KNOWN_SET, KNOWN_IMAGE, KNOWN_SOURCE, KNOWN_WHAT
# from its line of vm/kernels; 1 for a name it does not have.
kernels_lookup()
{
	local line
	line=$(sed -e '/^[[:space:]]*#/d' "$(dirname "${BASH_SOURCE[0]}")/kernels" | awk -v n="$1" '$1 == n' | head -n1)
	[ -n "$line" ] || return 1
	read -r _ KNOWN_SET KNOWN_IMAGE KNOWN_SOURCE KNOWN_WHAT <<< "$line"
}

# "debian-6.12, debian-sid, ..." for messages.
kernels_known() { kernels_names | paste -sd, | sed 's/,/, /g'; }

# pfnmap_need_packages PKG...: install the Debian packages that are missing
# (as root; otherwise say which, and fail). The one place the suite installs;
# scripts/setup.sh calls it, everything else asks pfnmap_have_packages.
pfnmap_need_packages()
{
	local p missing=
	for p in "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing="$missing $p"
	done
	[ -n "$missing" ] || return 0
	if [ "$(id -u)" != 0 ]; then
		echo "missing packages:$missing; install them as root (apt-get install$missing)" >&2
		return 1
	fi
	echo "installing$missing" >&2
	{ DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing ||
	  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing; }; } >/dev/null 2>&1 ||
		{ echo "apt-get install$missing failed" >&2; return 1; }
}

# pfnmap_have_packages PKG...: 0 when all are installed, else say which are
# missing and that "make setup" (or "scripts/setup.sh --check") installs them.
pfnmap_have_packages()
{
	local p missing=
	for p in "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing="$missing $p"
	done
	[ -z "$missing" ] && return 0
	echo "missing packages:$missing (run 'make setup', or scripts/setup.sh --check for the checks)" >&2
	return 1
}
