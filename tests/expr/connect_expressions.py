#!/usr/bin/env python3
"""Every distinct attribute-flow expression of a Connect Sync server-configuration export
(SynchronizationRules/*.xml).

Usage: connect_expressions.py EXPORT_DIR             print them, one per line, sorted
       connect_expressions.py EXPORT_DIR --count     print how many
       connect_expressions.py EXPORT_DIR --check FILE.test
                                                     exit 1 unless FILE.test has an `expr` case
                                                     for each (ctest expr_connect_export_coverage)
Why: tests/expr/connect_export.test must hold each of them, and the count must be checkable,
not asserted by hand."""
import glob
import os
import sys
import xml.etree.ElementTree as ET


def distinct_expressions(export_dir):
    found = set()
    pattern = os.path.join(export_dir, "SynchronizationRules", "*.xml")
    for path in sorted(glob.glob(pattern)):
        for node in ET.parse(path).iter("expression"):
            if node.text and node.text.strip():
                found.add(node.text)
    return sorted(found)


def check(found, test_file):
    with open(test_file, encoding="utf-8") as f:
        cases = {line[len("expr"):].strip() for line in f if line.startswith("expr ")}
    missing = [e for e in found if e.strip() not in cases]
    for e in missing:
        sys.stderr.write("%s: no case for: %s\n" % (test_file, e))
    print("%d distinct expressions, %d with a case in %s" %
          (len(found), len(found) - len(missing), os.path.basename(test_file)))
    return 1 if missing else 0


def main(argv):
    usage = (len(argv) not in (2, 3, 4) or (len(argv) == 3 and argv[2] != "--count") or
             (len(argv) == 4 and argv[2] != "--check"))
    if usage:
        sys.stderr.write("usage: connect_expressions.py EXPORT_DIR [--count | --check FILE]\n")
        return 2
    found = distinct_expressions(argv[1])
    if not found:
        sys.stderr.write("connect_expressions.py: no expression under %s\n" % argv[1])
        return 1
    if len(argv) == 4:
        return check(found, argv[3])
    if len(argv) == 3:
        print(len(found))
    else:
        for e in found:
            if "\n" in e:
                sys.stderr.write("connect_expressions.py: an expression spans lines\n")
                return 1
            print(e)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
