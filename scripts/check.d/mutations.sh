# shellcheck shell=bash
# Every test can fail: each TEST_F has a mutation in scripts/mutations.txt (a
# sed edit of its program that makes it see what a kernel bug would show it)
# and the message it must then fail with. All mutations go into one copy of
# the sources and one VM run; each must turn its own test red and no other.
# Sourced by scripts/check.sh (SUITE, SHARED, step).

MUTATIONS=$SUITE/scripts/mutations.txt
# The table's reader and the run's judge (scripts/mutations.py; it imports
# results.py, whose junitparser is Debian's python3's).
mutations_py() { /usr/bin/python3 "$SUITE/scripts/mutations.py" "$@"; }

# A test added without a mutation would be a test nobody proved can fail.
mutations_cover_every_test() {
	local srcs
	mapfile -t srcs < <(cd "$SUITE" && git ls-files 'vfio/*.c' 'mm/*.c' | sed "s|^|$SUITE/|")
	mutations_py cover "$MUTATIONS" "${srcs[@]}"
}

# mutations_apply DIR: edit the copy in DIR; a sed that changes nothing fails.
mutations_apply() {
	local dir=$1 prog expr src before rc=0 rows
	rows=$(mutations_py list "$MUTATIONS") || return 1
	while IFS=$'\t' read -r prog _ expr _; do
		src=$(cd "$SUITE" && git ls-files 'vfio/*.c' 'mm/*.c' | grep -m1 "/$prog\.c$")
		if [ -z "$src" ] || [ ! -f "$dir/$src" ]; then
			echo "  no source for program $prog" >&2; rc=1; continue
		fi
		before=$(md5sum < "$dir/$src")
		if ! sed -i -e "$expr" "$dir/$src"; then
			echo "  $prog: bad sed expression: $expr" >&2; rc=1
		elif [ "$(md5sum < "$dir/$src")" = "$before" ]; then
			echo "  $prog: the mutation no longer matches $src: $expr" >&2; rc=1
		fi
	done <<< "$rows"
	return $rc
}

mutations_run() {
	local tmp rc kernel=() programs t0 ksrc=
	t0=$(date +%s)
	tmp=$(mktemp -d)
	git ls-files | cpio -pdm "$tmp" 2>/dev/null
	mutations_apply "$tmp" || { rm -rf "$tmp"; return 1; }
	# The kernel where the most mutated tests run rather than SKIP: the
	# DMA-BUF mmap series kernel (it has iommufd too), the suite built
	# against its uapi; else the 7.2 iommufd kernel; else Debian's sid
	# kernel, where the iommufd and DMA-BUF mmap ones SKIP ("not verified").
	if [ -f "$SHARED/bzImage-7.3.4-dmabuf-mmap" ] && [ -f "$SHARED/dmabuf-mmap-v4-on-7.3.4.patch" ] &&
	   ksrc=$(scripts/build_kernel.sh --headers --patch "$SHARED/dmabuf-mmap-v4-on-7.3.4.patch" debian-backports); then
		kernel=(--kernel "$SHARED/bzImage-7.3.4-dmabuf-mmap" --expect "$SUITE/vm/expect/dmabuf-mmap-7.3.expect")
	elif [ -f "$SHARED/bzImage-7.2.13-iommufd" ]; then
		ksrc=
		kernel=(--kernel "$SHARED/bzImage-7.2.13-iommufd" --expect "$SUITE/vm/expect/iommufd-7.2.expect")
		echo "  no DMA-BUF mmap kernel in $SHARED: its tests' mutations SKIP" >&2
	else
		ksrc=
		kernel=(--kernel debian-sid)
		echo "  no kernels in $SHARED: on debian-sid, the iommufd and DMA-BUF mmap tests' mutations SKIP" >&2
	fi
	mapfile -t programs < <(mutations_py list "$MUTATIONS" | cut -f1 | sort -u)
	# A mutated test that wedges the VM must not hold the check for the
	# settings timeout: 2 minutes of silence end it (the next boot goes on).
	(cd "$tmp" && env ${ksrc:+KSRC="$ksrc"} ./run_tests.sh --vm "${kernel[@]}" --out "$tmp/out" \
		--hang-timeout 120 --env PFNMAP_RACE_DURATION=3 "${programs[@]}" > "$tmp/log" 2>&1)
	if [ ! -s "$tmp/out/results.ktap" ] || [ ! -f "$tmp/out/expectations.txt" ]; then
		echo "  the mutated suite did not run:" >&2; tail -n 20 "$tmp/log" >&2
		rm -rf "$tmp"; return 1
	fi
	# Each mutated test red with its message, every other result as expected.
	mutations_py judge "$MUTATIONS" "$tmp/out"
	rc=$?
	mkdir -p "$SUITE/output"
	rm -rf "$SUITE/output/check-mutations"
	cp -r "$tmp/out" "$SUITE/output/check-mutations"
	cp "$tmp/log" "$SUITE/output/check-mutations.log"
	rm -rf "$tmp"
	echo "  $(mutations_py list "$MUTATIONS" | wc -l) mutations, one VM run: $(($(date +%s) - t0)) s" >&2
	return $rc
}

step "every test has a mutation (scripts/mutations.txt)" mutations_cover_every_test
step "mutations: each turns its own test red, and no other" mutations_run
