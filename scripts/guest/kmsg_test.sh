#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Guest side of scripts/check.d/kmsg.sh: the kernel-log check's own test
# (lib/tests/kmsg_test), as root in the VM. Its KTAP, then
# "KMSG-RESULT pass|fail".
cd /pfnmap || exit 1
if extra/kmsg_test; then echo "KMSG-RESULT pass"; else echo "KMSG-RESULT fail"; fi
