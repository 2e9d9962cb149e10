#!/usr/bin/env python3
"""Compare mvsync's XML reader (schema/xml.c, through tests/unit/xml_dump) with Python's expat.

usage: expat_compare.py XML_DUMP DIR...

Every good/*.xml under tests/xml, and every *.xml under the other DIRs (the Connect export),
must read the same in both: element names and lines, attributes in order with their values,
each element's own character data.  Every bad/*.xml must be refused by xml_dump with exactly
the message of bad/NAME.expected, and (unless the .expected file says "expat: accepts", for
what mvsync refuses on purpose, like a DOCTYPE) refused by expat too.
"""
import glob
import os
import subprocess
import sys
import xml.parsers.expat

HERE = os.path.dirname(os.path.abspath(__file__))


def esc(s):
    return s.replace('\\', '\\\\').replace('\n', '\\n').replace('\r', '\\r').replace('\t', '\\t')


def expat_dump(path):
    out = []
    texts = []
    p = xml.parsers.expat.ParserCreate()
    p.ordered_attributes = True
    p.buffer_text = True

    def start(name, attrs):
        out.append('<%s> %d' % (name, p.CurrentLineNumber))
        for i in range(0, len(attrs), 2):
            out.append('@%s=%s' % (attrs[i], esc(attrs[i + 1])))
        texts.append([len(out), ''])

    def chars(data):
        texts[-1][1] += data

    def end(name):
        at, text = texts.pop()
        if text:
            out.insert(at, 'text=' + esc(text))
        out.append('</%s>' % name)

    p.StartElementHandler = start
    p.EndElementHandler = end
    p.CharacterDataHandler = chars
    with open(path, 'rb') as f:
        p.ParseFile(f)
    return '\n'.join(out) + '\n'


def mvsync_dump(tool, path):
    r = subprocess.run([tool, path], capture_output=True)
    return r.returncode, r.stdout.decode('utf-8', 'surrogateescape')


def main():
    tool, dirs = sys.argv[1], sys.argv[2:]
    failures = 0
    good = sorted(glob.glob(os.path.join(HERE, 'good', '*.xml')))
    for d in dirs:
        good += sorted(glob.glob(os.path.join(d, '**', '*.xml'), recursive=True))
    for path in good:
        rc, got = mvsync_dump(tool, path)
        want = expat_dump(path)
        if rc != 0 or got != want:
            failures += 1
            print('FAIL %s: mvsync and expat read it differently' % path)
            for a, b in zip(got.splitlines(), want.splitlines()):
                if a != b:
                    print('  mvsync: %s\n  expat:  %s' % (a[:200], b[:200]))
                    break
    bad = sorted(glob.glob(os.path.join(HERE, 'bad', '*.xml')))
    for path in bad:
        with open(path[:-4] + '.expected') as f:
            lines = f.read().splitlines()
        want = lines[0]
        rc, got = mvsync_dump(tool, path)
        if rc != 1 or got.strip() != want:
            failures += 1
            print('FAIL %s:\n  want: %s\n  got:  %s' % (path, want, got.strip()[:300]))
        if 'expat: accepts' not in lines[1:]:
            try:
                expat_dump(path)
                failures += 1
                print('FAIL %s: expat accepts it (add "expat: accepts" if refusing it is meant)' % path)
            except xml.parsers.expat.ExpatError:
                pass
    print('%d good, %d bad, %d failures' % (len(good), len(bad), failures))
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())
