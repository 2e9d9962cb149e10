#!/usr/bin/env python3
"""cli_docs: the parts of the man pages and the bash completion that mvsync's option tables
(tools/cli_opt.h) generate, written into docs/man and tools/packaging, or checked.

Usage: tools/cli_docs.py MVSYNC [--check]

For each verb `MVSYNC --help` lists (help and completion are described in mvsync(1)), the
SYNOPSIS, OPTIONS and GLOBAL OPTIONS sections of docs/man/mvsync-VERB.1 are replaced by what
`MVSYNC --help-man VERB` prints (a section the page lacks goes after DESCRIPTION, in that
order); mvsync(1)'s COMMANDS section by `MVSYNC --help-man`; and
tools/packaging/mvsync.bash-completion by `MVSYNC completion bash`.  The rest of each page
(NAME, DESCRIPTION, EXAMPLES, ...) is written by hand.  With --check nothing is written:
every file that would change is named and the exit status is 1.
"""
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MAN = os.path.join(ROOT, "docs", "man")
COMPLETION = os.path.join(ROOT, "tools", "packaging", "mvsync.bash-completion")


def run(mvsync, *args):
    return subprocess.run([mvsync, *args], check=True, capture_output=True, text=True).stdout


def verbs(mvsync):
    """The page names: the first word of each command line of `mvsync --help`."""
    out, on = [], False
    for line in run(mvsync, "--help").splitlines():
        if line == "commands:":
            on = True
        elif on and not line:
            break
        elif on and line.startswith("  ") and not line.startswith("   "):
            word = line.split()[0]
            if word not in out and word not in ("help", "completion"):
                out.append(word)
    return out


def sections(text):
    """[(name or None for the head, text)] of a roff page, split at .SH lines."""
    parts = re.split(r"(?m)^(?=\.SH )", text)
    out = []
    for p in parts:
        m = re.match(r'\.SH "?([^"\n]*)"?\n', p)
        out.append((m.group(1) if m else None, p))
    return out


def merge(page, generated):
    """The page with its generated sections replaced by (or added from) generated's."""
    new = dict((n, t) for n, t in sections(generated) if n)
    have = sections(page)
    names = [n for n, _ in have]
    out = []
    for name, text in have:
        out.append(new.pop(name) if name in new else text)
        # Sections the page lacks: SYNOPSIS after NAME, the rest after DESCRIPTION.
        if name == "NAME" and "SYNOPSIS" in new and "SYNOPSIS" not in names:
            out.append(new.pop("SYNOPSIS"))
        if name == "DESCRIPTION":
            for n in ("OPTIONS", "GLOBAL OPTIONS", "COMMANDS"):
                if n in new and n not in names:
                    out.append(new.pop(n))
    return "".join(out)


def main():
    if len(sys.argv) not in (2, 3) or (len(sys.argv) == 3 and sys.argv[2] != "--check"):
        sys.exit(__doc__.split("\n\n")[1])
    mvsync, check = sys.argv[1], len(sys.argv) == 3
    files = {COMPLETION: run(mvsync, "completion", "bash")}
    pages = [("mvsync.1", ["--help-man"])]
    pages += [("mvsync-%s.1" % v, ["--help-man", v]) for v in verbs(mvsync)]
    for name, args in pages:
        path = os.path.join(MAN, name)
        old = open(path).read() if os.path.exists(path) else None
        if old is None:
            print("%s: missing (write its NAME and DESCRIPTION by hand)" % path)
            files[path] = None
            continue
        files[path] = merge(old, run(mvsync, *args))
    stale = []
    for path, text in files.items():
        old = open(path).read() if os.path.exists(path) else None
        if text is None or old == text:
            if text is None:
                stale.append(path)
            continue
        stale.append(path)
        if not check:
            with open(path, "w") as f:
                f.write(text)
    for path in stale:
        print("%s %s" % ("differs from the tables:" if check else "written:",
                         os.path.relpath(path, ROOT)))
    sys.exit(1 if check and stale else 0)


if __name__ == "__main__":
    main()
