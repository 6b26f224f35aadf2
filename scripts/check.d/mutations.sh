# shellcheck shell=bash
# Every test can fail: each TEST_F has a mutation in scripts/mutations.txt (a
# sed edit of its program that makes it see what a kernel bug would show it)
# and the message it must then fail with. All mutations go into one copy of
# the sources and one VM run; each must turn its own test red and no other.
# Sourced by scripts/check.sh (SUITE, SHARED, step).

MUTATIONS=$SUITE/scripts/mutations.txt

# The table without comments, one "PROGRAM | GLOB | SED | MESSAGE" per line.
mutations_lines() { grep -v -e '^[[:space:]]*#' -e '^[[:space:]]*$' "$MUTATIONS"; }

# mutation_field LINE N: the Nth " | "-separated field, trimmed.
mutation_field() { awk -F ' [|] ' -v n="$2" '{ f = $n; gsub(/^[ \t]+|[ \t]+$/, "", f); print f }' <<< "$1"; }

# A test added without a mutation would be a test nobody proved can fail.
mutations_cover_every_test() {
	local src prog fixture name line glob covered missing=0
	while read -r src; do
		prog=$(basename "$src" .c)
		while read -r fixture name; do
			covered=
			while IFS= read -r line; do
				[ "$(mutation_field "$line" 1)" = "$prog" ] || continue
				glob=$(mutation_field "$line" 2)
				# shellcheck disable=SC2053
				if [[ $glob == "$fixture".* && $glob == *."$name" ]]; then covered=1; break; fi
			done < <(mutations_lines)
			[ -n "$covered" ] && continue
			echo "  $prog: $fixture.$name has no mutation in scripts/mutations.txt" >&2
			missing=1
		done < <(sed -nE 's/^TEST_F(_TIMEOUT)?\(([A-Za-z0-9_]+), *([A-Za-z0-9_]+).*/\2 \3/p;
				  s/^TEST(_SIGNAL)?\(([A-Za-z0-9_]+).*/global \2/p' "$SUITE/$src")
	done < <(cd "$SUITE" && git ls-files 'vfio/*.c' 'mm/*.c')
	[ $missing = 0 ]
}

# mutations_apply DIR: edit the copy in DIR; a sed that changes nothing fails.
mutations_apply() {
	local dir=$1 line prog expr src before rc=0
	while IFS= read -r line; do
		prog=$(mutation_field "$line" 1) expr=$(mutation_field "$line" 3)
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
	done < <(mutations_lines)
	return $rc
}

# unexpected_skip OUT PROG GLOB: a result of the glob SKIPped where the
# kernel's expectations say it runs.
unexpected_skip() {
	local key
	while IFS= read -r key; do
		# shellcheck disable=SC2053
		[[ ${key%%:*} == "$2" && ${key#*:} == $3 ]] && return 0
	done < <(sed -nE 's/^  UNEXPECTED SKIP: ([^ ]+) .*/\1/p' "$1/expectations.txt")
	return 1
}

# mutations_judge OUT: per mutation, every result of its glob that runs must
# be "not ok" with its message; a SKIP is only "not verified" where the
# kernel's expectations say the test SKIPs (e.g. iommufd on Debian's kernels).
mutations_judge() {
	local out=$1 line prog glob msg verdict rc=0 key hit failed with_msg passed skipped
	while IFS= read -r line; do
		prog=$(mutation_field "$line" 1) glob=$(mutation_field "$line" 2) msg=$(mutation_field "$line" 4)
		verdict=$(awk -v prog="$prog" -v glob="$glob" -v msg="$msg" '
			function glob2re(g,   r) {
				r = g; gsub(/[.+^$()|{}\[\]\\]/, "\\\\&", r); gsub(/\*/, ".*", r); gsub(/\?/, ".", r)
				return "^" r "$"
			}
			BEGIN { re = glob2re(glob) }
			/^# selftests: pfnmap\// { p = $0; sub(/.*: /, "", p); block = ""; next }
			p != prog { next }
			/^# (not )?ok [0-9]+ / {
				name = substr($0, 3); sub(/^(not )?ok [0-9]+ /, "", name); sub(/ # .*/, "", name)
				if (name ~ re) {
					if ($0 ~ /# SKIP/) skipped++
					else if ($0 ~ /^# not ok/) {
						failed++
						if ((i = index(block, msg)) > 0) {
							with_msg++
							if (quote == "") {
								quote = substr(block, 1, i - 1); sub(/.*\n/, "", quote)
								rest = substr(block, i); sub(/\n.*/, "", rest)
								quote = name ": " quote rest
							}
						} else if (nomsg == "") nomsg = name
					} else { passed++; if (pass1 == "") pass1 = name }
				}
				block = ""; next
			}
			{ block = block $0 "\n" }
			END {
				printf "%d %d %d %d|%s|%s|%s\n", failed, with_msg, passed, skipped, quote, nomsg, pass1
			}' "$out/results.ktap")
		read -r failed with_msg passed skipped <<< "${verdict%%|*}"
		verdict=${verdict#*|}
		if [ "$passed" -gt 0 ]; then
			echo "  $prog $glob: still passes with the mutation (${verdict##*|})" >&2; rc=1
		elif [ "$failed" = 0 ] && [ "$skipped" -gt 0 ]; then
			if unexpected_skip "$out" "$prog" "$glob"; then
				echo "  $prog $glob: SKIPped where it should run" >&2; rc=1
			else
				echo "  $prog $glob: SKIPs on this kernel (as expected there): not verified" >&2
			fi
		elif [ "$failed" = 0 ]; then
			echo "  $prog $glob: no result (did the program run?)" >&2; rc=1
		elif [ "$with_msg" != "$failed" ]; then
			key=${verdict#*|}; key=${key%%|*}
			echo "  $prog $glob: $key failed without \"$msg\"" >&2; rc=1
		else
			echo "  red as expected ($failed): ${verdict%%|*}" >&2
		fi
	done < <(mutations_lines)

	# Every other result as expected: an unexpected failure outside the
	# mutated tests means a mutation broke more than its own test.
	while IFS= read -r key; do
		prog=${key%%:*} hit=
		while IFS= read -r line; do
			[ "$(mutation_field "$line" 1)" = "$prog" ] || continue
			glob=$(mutation_field "$line" 2)
			# shellcheck disable=SC2053
			[[ ${key#*:} == $glob ]] && { hit=1; break; }
		done < <(mutations_lines)
		[ -n "$hit" ] || { echo "  not mutated, yet failed: $key" >&2; rc=1; }
	done < <(sed -nE 's/^  UNEXPECTED (FAIL|CRASH): ([^ ]+) .*/\2/p' "$out/expectations.txt")
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
	mapfile -t programs < <(mutations_lines | while IFS= read -r l; do mutation_field "$l" 1; done | sort -u)
	# A mutated test that wedges the VM must not hold the check for the
	# settings timeout: 2 minutes of silence end it (the next boot goes on).
	(cd "$tmp" && env ${ksrc:+KSRC="$ksrc"} ./run_tests.sh --vm "${kernel[@]}" --out "$tmp/out" \
		--hang-timeout 120 --env PFNMAP_RACE_DURATION=3 "${programs[@]}" > "$tmp/log" 2>&1)
	if [ ! -s "$tmp/out/results.ktap" ] || [ ! -f "$tmp/out/expectations.txt" ]; then
		echo "  the mutated suite did not run:" >&2; tail -n 20 "$tmp/log" >&2
		rm -rf "$tmp"; return 1
	fi
	mutations_judge "$tmp/out"
	rc=$?
	mkdir -p "$SUITE/output"
	rm -rf "$SUITE/output/check-mutations"
	cp -r "$tmp/out" "$SUITE/output/check-mutations"
	cp "$tmp/log" "$SUITE/output/check-mutations.log"
	rm -rf "$tmp"
	echo "  $(mutations_lines | wc -l) mutations, one VM run: $(($(date +%s) - t0)) s" >&2
	return $rc
}

step "every test has a mutation (scripts/mutations.txt)" mutations_cover_every_test
step "mutations: each turns its own test red, and no other" mutations_run
