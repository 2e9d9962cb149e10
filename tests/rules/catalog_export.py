#!/usr/bin/env python3
"""Every attribute Microsoft's own Connect Sync rules name on the AD connector is in mvsync's
ad catalog.

The names come from the rule XML of the Contoso server-configuration export
(tests/fixtures/connect-export, see its SOURCES.md): for rules of the AD connector, inbound rules' scope, join and flow-source attributes (including [attr] in
expressions) and outbound rules' join and flow-target attributes -- the connector-space side.
They go into a rule set with an AD connector that declares no attributes, and `mvsync rules
check` must accept it without a single catalog warning.
Usage: catalog_export.py MVSYNC EXPORT_DIR"""
import glob
import os
import re
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET

mvsync, export = sys.argv[1], sys.argv[2]
rules = glob.glob(os.path.join(export, "SynchronizationRules", "*.xml"))
assert len(rules) == 62, "expected the export's 62 rules, found %d" % len(rules)
AAD = "b891884f-051e-4a83-95af-2544101c9083"  # the export's Azure AD connector; the other is AD

inbound, outbound = {}, {}
n_rules = 0
for f in sorted(rules):
    r = ET.parse(f).getroot()
    if r.findtext("connector").strip("{}").lower() == AAD:
        continue
    name = r.findtext("name")
    n_rules += 1
    names = [c.findtext("csAttribute") for c in r.iter("condition")]
    if r.findtext("direction") == "Inbound":
        names += [s.findtext("csAttribute") for s in r.iter("scope")]
        for m in r.iter("mapping"):
            names += [a.text for a in m.iter("attr")]
            names += re.findall(r"\[([^\]]+)\]", m.findtext("expression") or "")
        into = inbound
    else:
        names += [m.findtext("dest") for m in r.iter("mapping")]
        into = outbound
    for n in names:
        if n:
            into.setdefault(n, name)

text = ['connector "ad" type ad {\n  url "ldaps://dc.example"\n}\n']
text.append('rule "In" {\n  direction inbound\n  connector "ad"\n  source user -> person\n'
            '  link join\n  precedence 1\n')
text += ["  flow [%s] -> mv%d\n" % (n, i) for i, n in enumerate(sorted(inbound))]
text.append("}\n")
text.append('rule "Out" {\n  direction outbound\n  connector "ad"\n  source person -> user\n'
            '  link join\n  precedence 2\n')
text += ["  flow [mv] -> %s\n" % n for n in sorted(outbound)]
text.append("}\n")

with tempfile.TemporaryDirectory() as tmp:
    path = os.path.join(tmp, "connect-ad-names.rules")
    with open(path, "w") as f:
        f.write("".join(text))
    res = subprocess.run([mvsync, "rules", "check", path], capture_output=True, text=True)

missing = [l for l in res.stderr.splitlines() if "catalog" in l]
print("%d attribute names of %d AD-connector rules checked (%d inbound, %d outbound)" %
      (len(set(inbound) | set(outbound)), n_rules, len(inbound), len(outbound)))
if res.returncode != 0 or missing:
    for l in missing:
        n = re.search(r"'([^']+)'", l).group(1)
        print("not in the ad catalog: %s (used by %s)" % (n, inbound.get(n) or outbound.get(n)))
    print(res.stderr)
    sys.exit(1)
# The check above must be able to fail: a name outside the catalog is reported.
with tempfile.TemporaryDirectory() as tmp:
    path = os.path.join(tmp, "typo.rules")
    with open(path, "w") as f:
        f.write(text[0] + 'rule "T" {\n  direction inbound\n  connector "ad"\n'
                '  source user -> person\n  link join\n  precedence 1\n'
                '  flow [givenNmae] -> givenName\n}\n')
    res = subprocess.run([mvsync, "rules", "check", path], capture_output=True, text=True)
    if "did you mean 'givenName'" not in res.stderr:
        print("a typo was not reported:", res.stderr)
        sys.exit(1)
print("ok")
