"""Checks of scenario 1 (and the demo): what AD should hold, and what a change did.

  groups_check.py expect STATE.json USERS.json WB_OU   the writeback OU Cloud Sync's mapping
      gives for the peer's state (/_fake/state) and the AD users (ldap_json with objectGUID):
      {"groups": {dn: {attr: [values]}}, "skipped": N}
  groups_check.py same EXPECTED.json LDAP.json         exit 1 (and print why) unless equal
  groups_check.py sent DRY.json                        the dry run's sends as change lines
  groups_check.py diff BEFORE.json AFTER.json          the change lines between two ldap_json reads
Change lines are "add DN", "delete DN", "rename OLD -> NEW", "DN attr +value" / "-value" (members,
and every value of an added object) and "DN attr =values" (an update of another attribute);
DNs and member values are compared without case (LDAP does)."""
import base64, json, sys, uuid

ATTRS = ["admindescription", "description", "displayname", "grouptype", "member",
         "msds-externaldirectoryobjectid"]


def load(path):
    with open(path) as f:
        return json.load(f)


def norm(attr, value):
    return value.lower() if attr == "member" else value


def expect(state, users, wb_ou):
    by_guid = {}
    for dn, u in users.items():
        raw = u.get("objectguid", [""])[0]
        if raw.startswith("b64:"):
            by_guid[str(uuid.UUID(bytes_le=base64.b64decode(raw[4:])))] = dn
    objs = {o["id"]: o for o in state["users"] + state["groups"] if o["state"] == "active"}

    def in_scope(g):
        p = g["props"]
        return (g["kind"] == "group" and p.get("securityEnabled") is True
                and p.get("mailEnabled") is False and p.get("onPremisesSyncEnabled") is not True)

    def dn_of(g):
        cn = g["props"]["displayName"].strip(" ")[:51] + "_" + g["id"][24:36]
        return "CN=%s,%s" % (cn, wb_ou)

    groups, skipped = {}, 0
    for g in objs.values():
        if not in_scope(g):
            continue
        p, members = g["props"], []
        for mid in g.get("members", []):
            m = objs.get(mid)
            opid = m and m["props"].get("onPremisesObjectIdentifier")
            if m and m["kind"] == "user" and opid and opid.lower() in by_guid:
                members.append(by_guid[opid.lower()])
            elif m and in_scope(m):
                members.append(dn_of(m))
            else:
                skipped += 1
        want = {"admindescription": ["Group_" + g["id"]], "grouptype": ["-2147483640"],
                "msds-externaldirectoryobjectid": ["Group_" + g["id"]],
                "displayname": [p["displayName"]]}
        desc = (p.get("description") or "").strip(" ")[:448]
        if desc:
            want["description"] = [desc]
        if members:
            want["member"] = members
        groups[dn_of(g)] = want
    return {"groups": groups, "skipped": skipped}


def canon(groups):
    return {dn.lower(): {a: sorted(norm(a, v) for v in vals) for a, vals in o.items() if a in ATTRS}
            for dn, o in groups.items()}


def same(expected, ldap):
    want, got = canon(expected["groups"]), canon(ldap)
    if want == got:
        return 0
    for dn in sorted(set(want) | set(got)):
        if want.get(dn) != got.get(dn):
            print("  %s\n    expected: %s\n    in AD:    %s" % (dn, want.get(dn), got.get(dn)))
    return 1


def text(v):
    if isinstance(v, dict) and "ref" in v:
        return v["ref"]
    return str(v) if not isinstance(v, str) else v


def values(v):
    if v is None:
        return []
    return [text(x) for x in (v if isinstance(v, list) else [v])]


def sent(dry):
    lines = set()
    for ch in dry.get("changes", []):
        if ch["kind"] != "send":
            continue
        dn = ch["object"]
        if ch["op"] == "add":
            lines.add("add " + dn.lower())
        elif ch["op"] == "delete":
            lines.add("delete " + dn.lower())
            continue
        elif ch["op"] == "rename":
            lines.add("rename %s -> %s" % (dn.lower(), ch["detail"].lower()))
            dn = ch["detail"]
        for c in ch["changes"]:
            a = c["attr"].lower()
            if a not in ATTRS:
                continue
            old, new = set(values(c["old"])), set(values(c["new"]))
            if ch["op"] != "add" and a != "member":
                # An update replaces a single value; the dry run does not show the old one.
                lines.add("%s %s =%s" % (dn.lower(), a, "|".join(sorted(new))))
                continue
            for v in new - old:
                lines.add("%s %s +%s" % (dn.lower(), a, norm(a, v)))
            for v in old - new:
                lines.add("%s %s -%s" % (dn.lower(), a, norm(a, v)))
    return lines


def diff(before, after):
    lines = set()
    guid_before = {o.get("objectguid", [None])[0]: dn for dn, o in before.items()}
    for dn, o in after.items():
        old_dn = guid_before.get(o.get("objectguid", [None])[0])
        if old_dn is None:
            lines.add("add " + dn.lower())
            old = {}
        else:
            if old_dn.lower() != dn.lower():
                lines.add("rename %s -> %s" % (old_dn.lower(), dn.lower()))
            old = before[old_dn]
        for a in ATTRS:
            was, now = {norm(a, v) for v in old.get(a, [])}, {norm(a, v) for v in o.get(a, [])}
            if old_dn is not None and a != "member":
                if was != now:
                    lines.add("%s %s =%s" % (dn.lower(), a, "|".join(sorted(now))))
                continue
            lines |= {"%s %s +%s" % (dn.lower(), a, v) for v in now - was}
            lines |= {"%s %s -%s" % (dn.lower(), a, v) for v in was - now}
    guids_after = {o.get("objectguid", [None])[0] for o in after.values()}
    for dn, o in before.items():
        if o.get("objectguid", [None])[0] not in guids_after:
            lines.add("delete " + dn.lower())
    return lines


def main(argv):
    cmd = argv[1]
    if cmd == "expect":
        json.dump(expect(load(argv[2]), load(argv[3]), argv[4]), sys.stdout, indent=1, sort_keys=True)
        return 0
    if cmd == "same":
        return same(load(argv[2]), load(argv[3]))
    if cmd in ("sent", "diff"):
        lines = sent(load(argv[2])) if cmd == "sent" else diff(load(argv[2]), load(argv[3]))
        print("\n".join(sorted(lines)))
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
