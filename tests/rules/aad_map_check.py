#!/usr/bin/env python3
"""aad_map_check — holds schema/aad_map (printed by the aad_map_list test program) to its
sources: every target attribute of the Connect export's "Out to AAD" rules (but dn) is in
the table, with the object types those rules write it on, and nothing else is; the table in
docs/entra-mapping.md is the same table; contacts and devices are refused, users and groups
written.  Usage: aad_map_check.py LISTER EXPORT_RULES_DIR DOCS_PAGE"""
import glob, subprocess, sys, xml.etree.ElementTree as ET

lister, rules_dir, page = sys.argv[1:4]
out = subprocess.run([lister], check=True, capture_output=True, text=True).stdout.splitlines()
table = {}
types = {}
for line in out:
    f = line.split("\t")
    if f[0] == "type":
        types[f[1]] = f[2]
    else:
        table[f[0]] = f
export = {}
for p in glob.glob(rules_dir + "/*.xml"):
    r = ET.parse(p).getroot()
    if not r.findtext("name").startswith("Out to AAD"):
        continue
    for m in r.iter("mapping"):
        if m.findtext("dest") != "dn":
            export.setdefault(m.findtext("dest"), set()).add(r.findtext("targetObjectType")[0])
fail = []
for name, ts in sorted(export.items()):
    if name not in table:
        fail.append("not in the map: " + name)
    elif set(table[name][1]) != ts:
        fail.append("%s: types %s in the map, %s in the export" % (name, table[name][1], "".join(sorted(ts))))
fail += ["in the map, not in the export: " + n for n in sorted(set(table) - set(export))]
for name, f in table.items():
    for i, t in ((2, "u"), (3, "g")):
        if (f[i] == "-") != (t not in f[1]):
            fail.append("%s: fate %s on %s while the export's types are %s" % (name, f[i], t, f[1]))
        if f[i] == "mapped" and f[i + 2] == "-":
            fail.append("%s: mapped to nothing" % name)
if types != {"user": "writable", "group": "writable", "contact": "refused", "device": "refused"}:
    fail.append("object types: %s" % types)
docs = {}
for line in open(page):
    if line.startswith("| `"):
        c = [x.strip() for x in line.strip().strip("|").split("|")]
        if len(c) != 7:  # another table of the page ("What the import carries changed")
            continue
        docs[c[0].strip("`")] = [c[0].strip("`"), c[1], c[2], c[4], c[3].strip("`"), c[5].strip("`"), c[6]]
for name, f in table.items():
    if docs.get(name) != f:
        fail.append("docs/entra-mapping.md differs for %s: %s vs %s" % (name, docs.get(name), f))
fail += ["docs/entra-mapping.md lists %s, the map does not" % n for n in sorted(set(docs) - set(table))]
for line in fail:
    print("FAILED: " + line)
counts = {}
for f in table.values():
    fs = {f[2], f[3]}
    k = next((x for x in ("mapped", "not sent yet", "read-only", "no Graph property") if x in fs),
             "on devices only")
    counts[k] = counts.get(k, 0) + 1
print("%d names in the map: %s" % (len(table), ", ".join("%d %s" % (v, k) for k, v in sorted(counts.items()))))
sys.exit(1 if fail else 0)
