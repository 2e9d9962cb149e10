#!/usr/bin/env python3
"""Does a live run do what its dry run said?  (tests/engine/dryrun/dry_run_scale.sh)

usage: dry_run_vs_live.py DRY.json LIVE.json DUMP.json

DRY.json is `cycle --initial --dry-run --json` on an empty store, LIVE.json the live run's
`--json` result, DUMP.json `dump --json` after the live run and a full import of every
connector (the directories as they are now).  Checks:
- every connector: the dry run's import changes, applied to an empty directory, then its send
  changes, give the connector space the full import read back (objects and values);
- the metaverse: the dry run's metaverse changes give the live metaverse;
- both runs report the same counts.
Reads the dry run line by line (one change per line), one connector at a time, so a dry run of
millions of changes is checked in the memory of one connector's objects.  Exits 1 on any
difference, printing the first ones."""
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "scenarios"))
from dry_run_check import values  # noqa: E402  (the scenario checker's value text)


def changes(path):
    """The dry run's header (counts) and its changes, one per line."""
    with open(path) as f:
        head = f.readline()
        if not head.rstrip().endswith('"changes": ['):
            sys.exit("%s: not a dry run's JSON (no changes list)" % path)
        yield json.loads(head.rstrip()[:-1] + "null}")
        for line in f:
            line = line.strip()
            if line.startswith("{"):
                yield json.loads(line.rstrip(","))


def apply(state, key, entry):
    op = entry["op"]
    if op == "delete":
        state.pop(key, None)
        return
    if op == "add":
        state[key] = {}
    obj = state.setdefault(key, {})
    for ch in entry["changes"]:
        # Values are sets, as in a directory (a 100,000-member group: no list scans).
        cur = obj.setdefault(ch["attr"].lower(), set())
        cur.difference_update(values(ch["old"]))
        cur.update(values(ch["new"]))
        if not cur:
            del obj[ch["attr"].lower()]


def compare(what, expected, actual, diffs):
    for key in sorted(set(expected) | set(actual)):
        e, a = expected.get(key), actual.get(key)
        if e is None or a is None:
            diffs.append("%s %s: %s by the dry run, %s after the live run" %
                         (what, key, "absent" if e is None else "present", "absent" if a is None else "present"))
            continue
        for name in sorted(set(e) | set(a)):
            if e.get(name, set()) != a.get(name, set()):
                diffs.append("%s %s: %s: only in the dry run %s, only live %s" %
                             (what, key, name, sorted(e.get(name, set()) - a.get(name, set()))[:5],
                              sorted(a.get(name, set()) - e.get(name, set()))[:5]))


def dump_lines(path, section):
    """Objects of one dump section ("connectors/NAME" or "metaverse"), one per line."""
    cur = None
    with open(path) as f:
        for line in f:
            s = line.strip()
            if s.startswith('"connectors"') or s.startswith('"pending"'):
                cur = None
            elif s.startswith('"metaverse"'):
                cur = "metaverse"
            elif s.endswith(": [") and s.startswith('"'):
                cur = "connectors/" + s.split('"')[1]
            elif s.startswith("{") and cur == section:
                yield json.loads(s.rstrip(","))


def main():
    dry, live, dump = sys.argv[1:4]
    diffs = []
    gen = changes(dry)
    head = next(gen)
    conns = set()
    for e in gen:
        if e["kind"] in ("import", "send"):
            conns.add(e["where"])
    live_res = json.load(open(live))
    for k in ("status", "adds", "updates", "deletes", "errors", "skipped_refs", "drift"):
        if head[k] != live_res[k]:
            diffs.append("%s: dry run %s, live %s" % (k, head[k], live_res[k]))
    n = 0
    for conn in sorted(conns):
        state = {}
        gen = changes(dry)
        next(gen)
        for e in gen:
            if e["where"] == conn and e["kind"] in ("import", "send"):
                n += 1
                key = e["object"].lower()
                apply(state, key, e)
                if e["op"] == "rename" and e.get("detail"):
                    state[e["detail"].lower()] = state.pop(key, {})
        actual = {}
        for o in dump_lines(dump, "connectors/" + conn):
            actual[(o["dn"] or o["anchor"]).lower()] = {
                a.lower(): set(values(v)) for a, v in o["attrs"].items()}
        compare(conn, state, actual, diffs)
    state = {}
    gen = changes(dry)
    next(gen)
    for e in gen:
        if e["kind"] == "metaverse" and e["op"] != "add":
            n += 1
            # A metaverse label lists its links; the first (sorted) is stable once projected.
            apply(state, e["object"].split(" ")[0], e)
    actual = {min(o["links"]): {a.lower(): set(values(v)) for a, v in o["attrs"].items()}
              for o in dump_lines(dump, "metaverse")}
    compare("metaverse", state, actual, diffs)
    for d in diffs[:30]:
        print(d)
    if diffs:
        print("%d differences between the dry run and the live run" % len(diffs))
        sys.exit(1)
    print("dry run = live run: %d changes checked, %d connectors, %d metaverse objects" %
          (n, len(conns), len(actual)))


if __name__ == "__main__":
    main()
