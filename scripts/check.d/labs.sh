# shellcheck shell=bash
# Sourced by scripts/check.sh: the drop-ins for the labs under labs/ say
# what the suite's own files say. KernelCI's job entry has the parameters
# kernelci-pipeline's config reference makes mandatory, runs the pfnmap
# collection, and its platform gives QEMU the LAVA job's devices (which
# lava.sh compares with vm/run.sh); LKP's need_kconfig is the `config`
# fragment; and Debian's newest kernel configured with the fragment (as a
# lab merging it would) has every option of it, so LKP would report none
# missing. (The runners themselves are not packaged for Debian: these
# checks read the files, they do not run a lab.)

labs_kernelci() {
	/usr/bin/python3 - "$SUITE/labs/kernelci/kselftest-pfnmap.yaml" "$SUITE/lava/job-qemu-x86_64.yaml" <<'PY'
import sys, yaml
ci, lava = (yaml.safe_load(open(f)) for f in sys.argv[1:3])
bad = []
jobs, platforms = ci.get("jobs", {}), ci.get("platforms", {})
for name, job in jobs.items():
    for k in ("template", "kind", "kcidb_test_suite", "params"):
        if k not in job:
            bad.append(f"job {name}: no {k} (mandatory)")
    if job.get("kind") not in ("kbuild", "job", "process", "test"):
        bad.append(f"job {name}: kind {job.get('kind')!r}")
    p = job.get("params", {})
    if p.get("test_method") != "kselftest" or p.get("collections") != "pfnmap":
        bad.append(f"job {name}: not the kselftest collection pfnmap: {p}")
    if not str(job.get("kcidb_test_suite", "")).startswith("kselftest.pfnmap"):
        bad.append(f"job {name}: kcidb_test_suite {job.get('kcidb_test_suite')!r}")
for e in ci.get("scheduler", []):
    if e.get("job") not in jobs:
        bad.append(f"scheduler: no job {e.get('job')!r}")
    bad += [f"scheduler: no platform {p!r}" for p in e.get("platforms", []) if p not in platforms]
want = {k: lava["context"].get(k) for k in ("machine", "cpu", "memory", "extra_options")}
for name, plat in platforms.items():
    got = {k: plat.get("context", {}).get(k) for k in want}
    if got != want:
        bad.append(f"platform {name}: QEMU context {got}, the LAVA job's {want}")
    if plat.get("arch") != "x86_64" or plat.get("boot_method") != "qemu":
        bad.append(f"platform {name}: not an x86_64 QEMU platform")
print(f"  {len(jobs)} job(s), {len(platforms)} platform(s), {len(ci.get('scheduler', []))} scheduler "
      f"entr(ies); the platform's QEMU context is the LAVA job's: {not any('QEMU' in b for b in bad)}",
      file=sys.stderr)
for b in bad:
    print(f"  {b}", file=sys.stderr)
sys.exit(1 if bad else 0)
PY
}

labs_lkp() {
	local want got
	want=$(grep -E '^CONFIG_[A-Z0-9_]+=' "$SUITE/config")
	got=$(/usr/bin/python3 -c 'import sys, yaml; d = yaml.safe_load(open(sys.argv[1]))
assert d["kernel-selftests"]["group"] == "pfnmap", d["kernel-selftests"]
print("\n".join(d["need_kconfig"]))' "$SUITE/labs/lkp/kernel-selftests-pfnmap.yaml") || return 1
	[ "$want" = "$got" ] && { echo "  need_kconfig: the $(echo "$want" | wc -l) options of config" >&2; return 0; }
	diff <(echo "$want") <(echo "$got") | sed 's/^/  config vs need_kconfig: /' >&2
	return 1
}

# What LKP's kconfig check would say of a kernel built with the fragment.
labs_config_complete() {
	local dotconfig opt missing=0 n=0
	dotconfig=$(bash "$SUITE/scripts/build_kernel.sh" --configure debian-backports) || return 1
	while IFS= read -r opt; do
		n=$((n + 1))
		grep -qx "$opt" "$dotconfig" || { echo "  missing: $opt" >&2; missing=$((missing + 1)); }
	done < <(grep -E '^CONFIG_[A-Z0-9_]+=' "$SUITE/config")
	echo "  $(cat "$(dirname "$dotconfig")/include/config/kernel.release" 2>/dev/null || echo '?'): $((n - missing)) of $n options of config in the configured kernel" >&2
	[ $missing = 0 ]
}

step "labs: the KernelCI job entry and platform (kernelci-pipeline format, the LAVA job's QEMU devices)" labs_kernelci
step "labs: LKP's kernel-selftests job needs the options of config" labs_lkp
step "labs: Debian's newest kernel configured with config has every option of it (LKP would report none missing)" labs_config_complete
