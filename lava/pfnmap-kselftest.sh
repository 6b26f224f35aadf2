#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Install the kselftest tarball that "make -C tools/testing/selftests
# TARGETS=pfnmap gen_tar" makes, run the collection with its
# run_kselftest.sh, and report every program and every test in it to LAVA
# (lava-test-case) when LAVA's helpers are on PATH. The KTAP goes to stdout
# either way. POSIX sh: busybox systems run it too.
#
# usage: pfnmap-kselftest.sh TARBALL|URL|DIR [DEST]
#   TARBALL: kselftest.tar.gz or .tar.xz, unpacked into DEST
#            (default /opt/kselftest-pfnmap); URL: fetched first (wget/curl);
#   DIR: an already unpacked kselftest install (has run_kselftest.sh)
#   PFNMAP_COLLECTION: the collection to run (default pfnmap)
#   PFNMAP_TESTS: the programs of it to run, space-separated (default all)
# Exit: run_kselftest.sh's (1 when a test failed); 2 bad usage or install.
# Under LAVA (lava-test-case on PATH) a failed test is its test case's
# result, and the run exits 0 once it reported results: LAVA runs the steps
# with "set -e", and a step's non-zero exit ends the run before its end
# signal, which LAVA records as the test definition failing (the run did
# not complete). No result at all to report exits 1.

src=${1:-}
dest=${2:-/opt/kselftest-pfnmap}
collection=${PFNMAP_COLLECTION:-pfnmap}
die() { echo "pfnmap-kselftest: $*" >&2; exit 2; }
[ -n "$src" ] || die "usage: pfnmap-kselftest.sh TARBALL|URL|DIR [DEST]"

case $src in
http://*|https://*|ftp://*)
	mkdir -p "$dest" || die "cannot create $dest"
	file=$dest/kselftest.tar.${src##*.tar.}
	if command -v wget >/dev/null; then
		wget -q -O "$file" "$src" || die "cannot fetch $src"
	elif command -v curl >/dev/null; then
		curl -fsSL -o "$file" "$src" || die "cannot fetch $src"
	else
		die "neither wget nor curl to fetch $src"
	fi
	src=$file ;;
esac

if [ -d "$src" ]; then
	dest=$src
else
	[ -f "$src" ] || die "no kselftest tarball $src"
	mkdir -p "$dest" || die "cannot create $dest"
	case $src in
	*.xz)  unpack="xz -dc" ;;
	*.zst) unpack="zstd -dc" ;;
	*)     unpack="gzip -dc" ;;
	esac
	$unpack "$src" | (cd "$dest" && tar -xf -) || die "cannot unpack $src into $dest"
fi
[ -x "$dest/run_kselftest.sh" ] || die "$dest has no run_kselftest.sh"

# The runner sends the tests' output to /dev/stdout, a link that a bare
# devtmpfs (busybox init, no udev) lacks: the output would fill a file.
[ -e /dev/stdout ] || ln -s /proc/self/fd/1 /dev/stdout 2>/dev/null ||
	die "no /dev/stdout, and cannot create it"

out=$dest/$collection.ktap
set -- -c "$collection"
if [ -n "${PFNMAP_TESTS:-}" ]; then
	set --
	for t in $PFNMAP_TESTS; do set -- "$@" -t "$collection:$t"; done
fi
# The runner's exit code travels through a file: the pipe eats it.
{ "$dest/run_kselftest.sh" "$@" 2>&1; echo $? > "$out.rc"; } | tee "$out"
rc=$(cat "$out.rc")

# One LAVA test case per program (PROGRAM) and per test of its nested KTAP
# (PROGRAM.TEST), with LAVA's results: pass, fail or skip. In awk, not
# scripts/ktap.py: a LAVA guest may have busybox and no Python. make check
# (check.d/lava.sh) holds lava-run's results against the run's KTAP.
if command -v lava-test-case >/dev/null; then
	awk '
	function emit(name, line,   res) {
		res = "pass"
		if (line ~ /^not ok /) res = "fail"
		else if (line ~ / # SKIP/) res = "skip"
		gsub(/[^A-Za-z0-9_.-]/, "_", name)
		print name, res
	}
	/^# selftests: [^ ]+: [^ ]+$/ { prog = $4; next }
	prog != "" && /^# (not )?ok [0-9]+ / {
		name = $0; sub(/^# (not )?ok [0-9]+ /, "", name); sub(/ # .*/, "", name)
		emit(prog "." name, substr($0, 3)); next
	}
	/^(not )?ok [0-9]+ selftests: / {
		name = $0; sub(/^(not )?ok [0-9]+ selftests: [^ ]+: /, "", name); sub(/ # .*/, "", name)
		emit(name, $0); prog = ""
	}' "$out" > "$out.cases"
	while read -r name result; do
		lava-test-case "$name" --result "$result"
	done < "$out.cases"
	[ -s "$out.cases" ] || { echo "pfnmap-kselftest: no results to report (runner exit $rc)" >&2; exit 1; }
	exit 0
fi
exit "$rc"
