#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
# Count a TAP document's results with tappy (Debian's python3-tap), a parser
# independent of Perl's, and apply its rules (one version line, first; one
# plan, at the start or the end; as many results as planned): prints
# "tests=N pass=N fail=N skip=N plan=N errors=N" for FILE, each rule broken
# on stderr.
import sys

from tap.parser import Parser
from tap.rules import Rules


class Suite:
    """What Rules reports into: the errors, as failed results."""

    def __init__(self):
        self.errors = []

    def addTest(self, adapter):
        self.errors.append(adapter)


def main(path):
    suite = Suite()
    rules = Rules(path, suite)
    counts = {"pass": 0, "fail": 0, "skip": 0}
    plan = "none"
    n = 0
    for n, line in enumerate(Parser().parse_file(path), 1):
        if line.category == "test":
            rules.saw_test()
            if not line.ok:
                counts["fail"] += 1
            elif line.skip:
                counts["skip"] += 1
            else:
                counts["pass"] += 1
        elif line.category == "plan":
            plan = line.expected_tests
            rules.saw_plan(line, n)
        elif line.category == "version":
            rules.saw_version_at(n)
        elif line.category == "bail":
            rules.handle_bail(line)
    rules.check(n)
    for e in suite.errors:
        print("tappy: %s: %s" % (path, e._line.description), file=sys.stderr)
    tests = sum(counts.values())
    print("tests=%d pass=%d fail=%d skip=%d plan=%s errors=%d"
          % (tests, counts["pass"], counts["fail"], counts["skip"], plan, len(suite.errors)))


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: tap_counts.py FILE")
    main(sys.argv[1])
