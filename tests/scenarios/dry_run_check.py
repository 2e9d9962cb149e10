#!/usr/bin/env python3
"""Does a live run write what its dry run said?  Applies the dry run's `send` changes for one
connector to a snapshot of the directory taken before the live run and compares the result
with a snapshot taken after it, on the attributes named.

usage: dry_run_check.py DRY.json CONNECTOR BEFORE.json AFTER.json ATTR...

DRY.json is `mvsync cycle --dry-run --json`; the snapshots are {"object": {"attr": [values]}}
(tests/scenarios/lib.sh ldap_json for AD: lowercase names; graph_state.py for Entra).
Object names (DNs) and values compare ignoring case, as AD does.  Prints each difference and
exits 1 if there is any."""
import json
import sys


def text(v):
    if isinstance(v, dict) and "ref" in v:
        return v["ref"]
    if isinstance(v, bool):
        return "TRUE" if v else "FALSE"
    return str(v)


def values(v):
    if v is None:
        return []
    return [text(x) for x in (v if isinstance(v, list) else [v])]


def fold(snapshot, attrs):
    return {dn.lower(): {a: sorted(x.lower() for x in vals) for a, vals in obj.items() if a in attrs}
            for dn, obj in snapshot.items()}


def main():
    dry, conn, before_path, after_path = sys.argv[1:5]
    attrs = {a.lower() for a in sys.argv[5:]}
    changes = json.load(open(dry))["changes"]
    state = fold(json.load(open(before_path)), attrs)
    after = fold(json.load(open(after_path)), attrs)
    sends = [c for c in changes if c["kind"] == "send" and c["where"] == conn]
    for c in sends:
        dn = c["object"].lower()
        if c["op"] == "delete":
            state.pop(dn, None)
            continue
        if c["op"] == "rename" and c.get("detail"):
            # detail: the new DN; its RDN's attribute takes the RDN's value
            new_dn = c["detail"].lower()
            state[new_dn] = state.pop(dn, {})
            dn = new_dn
            rdn_attr, _, rdn_value = c["detail"].split(",")[0].partition("=")
            if rdn_attr.lower() in attrs:
                state[dn][rdn_attr.lower()] = [rdn_value.lower()]
        obj = state.setdefault(dn, {})
        for ch in c["changes"]:
            a = ch["attr"].lower()
            if a not in attrs:
                continue
            cur = obj.setdefault(a, [])
            for v in values(ch["old"]):
                if v.lower() in cur:
                    cur.remove(v.lower())
            for v in values(ch["new"]):
                if v.lower() not in cur:
                    cur.append(v.lower())
            cur.sort()
            if not cur:
                del obj[a]
    diffs = []
    for dn in sorted(set(state) | set(after)):
        p, a = state.get(dn), after.get(dn)
        if p is None or a is None:
            diffs.append("%s: %s by the dry run, %s after the live run" %
                         (dn, "absent" if p is None else "present", "absent" if a is None else "present"))
            continue
        for name in sorted(set(p) | set(a)):
            if p.get(name, []) != a.get(name, []):
                diffs.append("%s: %s: dry run %s, directory %s" % (dn, name, p.get(name, []), a.get(name, [])))
    for d in diffs:
        print("dry run vs live: " + d)
    print("%d objects sent by the dry run, %d differences" % (len(sends), len(diffs)))
    sys.exit(1 if diffs else 0)


if __name__ == "__main__":
    main()
