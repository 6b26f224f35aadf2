#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Render a LAVA device configuration the way lava-server does for a job:
the device dictionary (a Jinja2 template that extends a device type such as
qemu.jinja2) is loaded from its directory and the device types' directory,
in Jinja2's sandbox with trim_blocks, and rendered with the job's context as
its variables (lava_scheduler_app.models.Device.load_configuration). The
result is YAML that LAVA's device schema must accept; it is what lava-run
takes as --device.

    lava_device.py DEVICE_TYPES_DIR DICTIONARY.jinja2 JOB.yaml OUT.yaml

Runs where lava-dispatcher is installed (its python3-jinja2 and
lava-common): in the chroot of scripts/lava_chroot.sh.
Exit: 0 written; 1 a template, YAML or schema error, said in one line.
"""

import os
import sys

import yaml
from jinja2 import FileSystemLoader
from jinja2.exceptions import TemplateError
from jinja2.sandbox import SandboxedEnvironment
from lava_common.schemas.device import validate as validate_device
from voluptuous import Invalid


def main(argv):
    if len(argv) != 4:
        print(__doc__, file=sys.stderr)
        return 2
    types_dir, dictionary, job_file, out = argv
    with open(job_file, encoding="utf-8") as f:
        context = yaml.safe_load(f).get("context", {})
    env = SandboxedEnvironment(
        loader=FileSystemLoader([os.path.dirname(os.path.abspath(dictionary)), types_dir]),
        autoescape=False, trim_blocks=True)
    try:
        text = env.get_template(os.path.basename(dictionary)).render(**context)
        device = yaml.safe_load(text)
        validate_device(device)
    except (TemplateError, yaml.YAMLError, Invalid) as e:
        print(f"lava_device.py: {dictionary} with the context of {job_file}: {e}", file=sys.stderr)
        return 1
    with open(out, "w", encoding="utf-8") as f:
        f.write(text)
    qemu = device["actions"]["boot"]["methods"]["qemu"]["parameters"]
    print("lava_device.py: %s: %s %s %s" % (
        os.path.basename(out), qemu["command"], " ".join(qemu["options"]),
        " ".join(qemu.get("extra", []))), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
