#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Send one QMP command to a QEMU monitor socket and print QEMU's answer.

usage: qmp.py SOCKET COMMAND [JSON-ARGUMENTS] [--wait-event NAME --timeout S]

The runner's fault injection uses it (device_del, stop, cont, inject-nmi),
so it needs nothing beyond Python's standard library. Exit 0 when QEMU
returned success (and the awaited event came), 1 otherwise.
"""
import json
import socket
import sys
import time


def main(argv):
    if len(argv) < 3:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    path, command = argv[1], argv[2]
    args, wait_event, timeout = None, None, 10.0
    rest = argv[3:]
    while rest:
        if rest[0] == "--wait-event" and len(rest) > 1:
            wait_event, rest = rest[1], rest[2:]
        elif rest[0] == "--timeout" and len(rest) > 1:
            timeout, rest = float(rest[1]), rest[2:]
        else:
            args, rest = json.loads(rest[0]), rest[1:]

    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(timeout)
    sock.connect(path)
    stream = sock.makefile("rw")

    def send(cmd, arguments=None):
        msg = {"execute": cmd}
        if arguments is not None:
            msg["arguments"] = arguments
        stream.write(json.dumps(msg) + "\n")
        stream.flush()

    def answer():
        # Events may come before the answer: skip them, but remember them.
        while True:
            line = stream.readline()
            if not line:
                raise EOFError("QEMU closed the monitor")
            msg = json.loads(line)
            if "event" in msg:
                seen.append(msg["event"])
                continue
            return msg

    seen = []
    json.loads(stream.readline())  # greeting
    send("qmp_capabilities")
    answer()
    send(command, args)
    reply = answer()
    print(json.dumps(reply))
    if "error" in reply:
        return 1
    if wait_event:
        deadline = time.monotonic() + timeout
        while wait_event not in seen and time.monotonic() < deadline:
            try:
                line = stream.readline()
            except socket.timeout:
                break
            if not line:
                break
            msg = json.loads(line)
            if "event" in msg:
                seen.append(msg["event"])
        if wait_event not in seen:
            print("no %s event within %.0f s" % (wait_event, timeout))
            return 1
        print("event %s" % wait_event)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv))
    except (OSError, EOFError, ValueError) as e:
        print("qmp: %s" % e)
        sys.exit(1)
