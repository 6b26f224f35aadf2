# SPDX-License-Identifier: GPL-2.0
# LKFT / tuxrun: the pfnmap collection as a tuxrun test, "kselftest-pfnmap",
# to add to tuxlava/tests/kselftest.py (tuxrun's tests are tuxlava's since
# tuxrun moved its job templates there; before, tuxrun/tests/kselftest.py),
# beside the other KSelfTest classes (kernelci/tuxlava: tuxlava/tests/
# kselftest.py, KSelfTest.render; tuxlava/templates/tests/
# kselftest.yaml.jinja2). Rendered, it is a LAVA test action running Linaro's
# test-definitions automated/linux/kselftest/kselftest.yaml with
# TST_CMDFILES=pfnmap: run_kselftest.sh -c pfnmap from the kselftest
# tarball (--parameters KSELFTEST=URL of `make TARGETS=pfnmap gen_tar`),
# its output named and judged by test-definitions' parse-output.py.
#
#     tuxrun --device qemu-x86_64 --kernel bzImage --tests kselftest-pfnmap \
#         --parameters KSELFTEST=.../kselftest.tar.xz
#
# The kernel needs the options of ../../config. tuxrun's qemu-x86_64 gives
# no IOMMU and none of the suite's devices (q35 with intel-iommu, edu,
# ivshmem-plain: ../../lava/job-qemu-x86_64.yaml), so there every device
# test SKIPs with its reason; a lab's device dictionary (--device-dict)
# adding those QEMU options, or a physical device type (nfs-*, with its
# BDFs in PFNMAP_BDF), runs them. scripts/check.d/tuxrun.sh reads this class
# as tuxlava does (its attributes) and runs the suite's KTAP through
# parse-output.py's naming rules.
from tuxlava.tests.kselftest import KSelfTest


class KSelftestPfnmap(KSelfTest):
    # x86 only: the suite's IOMMU is Intel's (intel-iommu in QEMU).
    devices = ["qemu-x86_64"]
    name = "kselftest-pfnmap"
    # The collection, as run_kselftest.sh -c takes it (kselftest-list.txt
    # lists pfnmap:PROGRAM); tuxlava's default, name without "kselftest-".
    cmdfile = "pfnmap"
    # Minutes, LAVA's test timeout: settings' 660 s per program bounds the
    # run (six programs, 66 min); a cut run loses the results of the
    # program it was in (parse-output.py names a program's tests only
    # when the program's own result line comes).
    timeout = 75
