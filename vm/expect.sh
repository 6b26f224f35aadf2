# shellcheck shell=bash
# Which expectations file (vm/expect/*.expect, its format in
# scripts/results.py, which compares) is for the kernel that ran a VM run.
# (The run's KTAP is merged by scripts/ktap.py.)

# expect_pick DIR SPEC RELEASE: the expectations file for this kernel, if any.
expect_pick()
{
	local dir=$1 spec=$2 release=$3 f glob
	for f in "$dir"/*.expect; do
		[ -f "$f" ] || continue
		for glob in $(sed -n 's/^# match: *//p' "$f"); do
			# shellcheck disable=SC2053
			if [[ $release == $glob ]] || [[ $spec == $glob ]]; then
				echo "$f"; return
			fi
		done
	done
}
