# shellcheck shell=bash
# Sourced by scripts/check.sh: every verdict proven on a kernel with the
# bug. scripts/kernel_mutants.sh builds each kernel/mutants/*.patch on
# Debian's newest kernel source (one tree: after the first build each
# mutant costs the rebuild of what it touches) and runs the tests its
# header names; each Red test must fail with its message, each Green test
# pass. The table goes to output/kernel-mutants/table.md (README, "Kernel
# mutants").

kernel_mutants_all() {
	mkdir -p "$SUITE/output"
	bash scripts/kernel_mutants.sh --out "$SUITE/output/kernel-mutants" > "$SUITE/output/kernel-mutants.log" 2>&1
	local rc=$?
	grep -E '^kernel_mutants: ' "$SUITE/output/kernel-mutants.log" >&2
	sed 's/^/  /' "$SUITE/output/kernel-mutants/table.md" >&2
	return $rc
}

step "kernel mutants: each turns its tests red for its reason (Debian's newest kernel source)" kernel_mutants_all
