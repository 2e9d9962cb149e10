#!/usr/bin/env bash
# Scenario 3 (issue 6; seed 001): Exchange Online attributes written back to AD.  Users whose
# mailbox is cloud-managed (IsExchangeCloudManaged true in Entra) get proxyAddresses, mail and
# extensionAttribute1-15 written to their AD user; users not converted are skipped (preview:
# NotInScope); identity attributes are never written.  Then, as in the seed: an alias added in
# the cloud shows in `mvsync preview`, the cycle writes it, AD shows it.
# rules/examples/exchange-writeback against a Samba AD DC and the Graph peer (only the connector
# settings and the domain's DNs changed).  Usage: 3-exchange-writeback.sh MVSYNC
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
. "$root/tests/scenarios/lib.sh"
. "$root/tests/scenarios/checks.sh"
scen_start "$1"
check_dry=$root/tests/scenarios/dry_run_check.py
users_ou="OU=Users,$SAMBA_OU"
ashley="CN=Ashley Taylor,$users_ou" anthony="CN=Anthony Williams,$users_ou"
exch_attrs=(proxyAddresses mail)
for i in $(seq 1 15); do exch_attrs+=("extensionAttribute$i"); done
identity_attrs=(cn name sAMAccountName displayName givenName sn department title userPrincipalName)

# --- AD: the on-premises view before writeback --------------------------------------------------
samba_ldap ldapadd >/dev/null <<LDIF
dn: $ashley
objectClass: user
sAMAccountName: ashley
userPrincipalName: ashley.taylor@contoso-test.lan
givenName: Ashley
sn: Taylor
displayName: Ashley Taylor
department: Sales
title: Account Manager
mail: ashley.taylor@contoso-test.lan
proxyAddresses: SMTP:ashley.taylor@contoso-test.lan
proxyAddresses: smtp:ataylor@contoso-test.lan
extensionAttribute3: set on premises
extensionAttribute9: on premises too

dn: $anthony
objectClass: user
sAMAccountName: anthony
givenName: Anthony
sn: Williams
displayName: Anthony Williams
department: Finance
mail: anthony.williams@contoso-test.lan
proxyAddresses: SMTP:anthony.williams@contoso-test.lan
extensionAttribute1: unchanged

dn: CN=Bea Brown,$users_ou
objectClass: user
sAMAccountName: bea
displayName: Bea Brown
mail: bea.brown@contoso-test.lan
LDIF
g_ashley=$(ad_guid "$ashley") g_anthony=$(ad_guid "$anthony") g_bea=$(ad_guid "CN=Bea Brown,$users_ou")

# --- Entra: Ashley's mailbox was converted (Part I of the seed), Anthony's and Bea's were not ----
U_ASHLEY=20000000-0000-4000-8000-000000000001 U_ANTHONY=20000000-0000-4000-8000-000000000002
U_BEA=20000000-0000-4000-8000-000000000003
peer_ctl POST /_fake/seed "$(python3 - "$U_ASHLEY" "$g_ashley" "$U_ANTHONY" "$g_anthony" "$U_BEA" "$g_bea" <<'PY'
import json, sys
ua, ga, un, gn, ub, gb = sys.argv[1:7]
ext = {"extensionAttribute%d" % i: "EXO value %d" % i for i in range(1, 16)}
ext["extensionAttribute9"] = None            # cleared in Exchange Online
users = [
    # Identity attributes differ from AD on purpose: they must not be written back.
    {"id": ua, "displayName": "Ashley T. (cloud)", "givenName": "Ash", "department": "Marketing",
     "userPrincipalName": "ashley.taylor@contoso-test.onmicrosoft.com", "onPremisesSyncEnabled": True,
     "onPremisesObjectIdentifier": ga, "IsExchangeCloudManaged": True,
     "mail": "ashley.taylor@contoso-test.lan",
     "proxyAddresses": ["SMTP:ashley.taylor@contoso-test.lan", "smtp:ashley.taylor@contoso-test.mail.onmicrosoft.com"],
     "onPremisesExtensionAttributes": ext},
    {"id": un, "displayName": "Anthony W. (cloud)", "department": "Cloud Finance",
     "userPrincipalName": "anthony.williams@contoso-test.onmicrosoft.com", "onPremisesSyncEnabled": True,
     "onPremisesObjectIdentifier": gn, "IsExchangeCloudManaged": False,
     "mail": "anthony@contoso-test.mail.onmicrosoft.com",
     "proxyAddresses": ["SMTP:anthony@contoso-test.mail.onmicrosoft.com"],
     "onPremisesExtensionAttributes": {"extensionAttribute1": "cloud value"}},
    {"id": ub, "displayName": "Bea Brown", "onPremisesSyncEnabled": True, "onPremisesObjectIdentifier": gb,
     "mail": "bea@contoso-test.mail.onmicrosoft.com"},
]
print(json.dumps({"users": users}))
PY
)" >/dev/null

# --- the rule set: the example, pointed at these servers --------------------------------------
scen_rules rules/examples/exchange-writeback
scen_connect_ad contoso.com
scen_connect_entra contoso.onmicrosoft.com
dn_map=(-e "s/OU=Users,OU=Corp,DC=contoso,DC=com/$users_ou/g" -e "s/DC=contoso,DC=com/$SAMBA_BASE/g")
sed -i "${dn_map[@]}" "$WORK"/rules/*.rules
for f in connectors.rules exchange.rules; do
  rules_diff "$root/rules/examples/exchange-writeback/$f" "$WORK/rules/$f" "${dn_map[@]}" &&
    ok "$f: the example's rules (only the servers' settings and DNs changed)" || bad "$f differs from the example"
done
mvs rules check "$MVSYNC_RULES" >/dev/null 2>&1 && ok "rules check" || bad "rules check"

users_json() { ldap_json "$users_ou" '(objectClass=user)' "$@"; }
users_json '*' >"$WORK/all0.json"
users_json "${exch_attrs[@]}" >"$WORK/exch0.json"

# --- initial cycle: dry run first, then live ---------------------------------------------------
mvs init >/dev/null
mvs cycle --initial --dry-run >"$WORK/dry1.txt"
sed -n '/^send /,$p' "$WORK/dry1.txt"
mvs cycle --initial --dry-run --json >"$WORK/dry1.json"
python3 - "$WORK/dry1.json" "$ashley" "${exch_attrs[@]}" <<'PY' && ok "initial dry run: only Ashley, only Exchange attributes" || bad "initial dry run"
import json, sys
changes, who, allowed = json.load(open(sys.argv[1]))["changes"], sys.argv[2].lower(), set(sys.argv[3:])
out = [c for c in changes if c["kind"] in ("export", "send")]
wrong = [(c["object"], c["op"], ch["attr"]) for c in out for ch in c["changes"]
         if c["object"].lower() != who or c["op"] != "update" or ch["attr"] not in allowed]
print("outbound: %s" % sorted({(c["kind"], c["object"]) for c in out}))
# A cycle's dry run shows each write once, as its export step would send it.
sys.exit(1 if wrong or [c["kind"] for c in out] != ["send"] else 0)
PY
mvs cycle --initial --json >"$WORK/run1.json"
jq -e '.status == "success" and .errors == 0' "$WORK/run1.json" >/dev/null && ok "initial cycle: success" || { bad "initial cycle"; cat "$WORK/run1.json"; }
users_json "${exch_attrs[@]}" >"$WORK/exch1.json"
python3 "$check_dry" "$WORK/dry1.json" contoso.com "$WORK/exch0.json" "$WORK/exch1.json" "${exch_attrs[@]}" &&
  ok "initial cycle wrote what its dry run showed" || bad "initial cycle differs from its dry run"

# Ashley's Exchange attributes are Exchange Online's now.
users_json '*' >"$WORK/all1.json"
tally < <(python3 - "$WORK/all0.json" "$WORK/all1.json" "$ashley" "$anthony" "${identity_attrs[@]}" <<'PY'
import json, sys
before, after = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
ashley, anthony, identity = sys.argv[3], sys.argv[4], [a.lower() for a in sys.argv[5:]]
a = after[ashley]
want = {"proxyaddresses": ["SMTP:ashley.taylor@contoso-test.lan", "smtp:ashley.taylor@contoso-test.mail.onmicrosoft.com"],
        "mail": ["ashley.taylor@contoso-test.lan"]}
want.update({"extensionattribute%d" % i: ["EXO value %d" % i] for i in range(1, 16) if i != 9})
fails = ["%s: %s, want %s" % (k, sorted(a.get(k, [])), sorted(v)) for k, v in want.items() if sorted(a.get(k, [])) != sorted(v)]
if "extensionattribute9" in a:
    fails.append("extensionAttribute9 still %s (cleared in the cloud)" % a["extensionattribute9"])
print("PASS: Ashley's proxyAddresses, mail, extensionAttribute1-15 are Exchange Online's" if not fails else
      "FAIL: Ashley: " + "; ".join(fails))
idf = [k for k in identity if before[ashley].get(k) != a.get(k)]
print("PASS: Ashley's identity attributes unchanged (%s)" % ", ".join(identity) if not idf else
      "FAIL: Ashley's identity attributes changed: %s" % idf)
strip = lambda o: {k: v for k, v in o.items() if k != "memberof"}
others = [dn for dn in before if dn != ashley and strip(before[dn]) != strip(after.get(dn, {}))]
print("PASS: users not converted are untouched (every attribute, uSNChanged included)" if not others else
      "FAIL: users not converted changed: %s" % others)
PY
)

# --- users not converted: preview says NotInScope -----------------------------------------------
mvs preview contoso.onmicrosoft.com "$U_ANTHONY" >"$WORK/preview-anthony.txt"
cat "$WORK/preview-anthony.txt"
grep -q 'rule "In from Entra - Cloud-managed mailboxes".*NotInScope.*IsExchangeCloudManaged' "$WORK/preview-anthony.txt" &&
  ok "preview: Anthony (not converted) is NotInScope, by IsExchangeCloudManaged" || bad "preview of Anthony"
mvs preview contoso.onmicrosoft.com "$U_BEA" --json >"$WORK/preview-bea.json"
jq -e '[.trace[] | select(test("NotInScope"))] | length == 1' "$WORK/preview-bea.json" >/dev/null &&
  ok "preview: Bea (no IsExchangeCloudManaged at all) is NotInScope" || { bad "preview of Bea"; cat "$WORK/preview-bea.json"; }

# --- steady state -------------------------------------------------------------------------------
mvs cycle --delta --json >"$WORK/run2.json"
[ "$(run_synced "$WORK/run2.json")" = 0 ] && [ "$(run_exports "$WORK/run2.json")" = 0 ] &&
  ok "a delta cycle with no changes syncs and exports nothing" || { bad "idle delta cycle"; cat "$WORK/run2.json"; }

# --- the seed's end-to-end test: a new alias in Exchange Online --------------------------------
alias=smtp:ashley.t@contoso-test.lan
peer_ctl PATCH "/_fake/users/$U_ASHLEY" "{\"proxyAddresses\": [\"SMTP:ashley.taylor@contoso-test.lan\",
  \"smtp:ashley.taylor@contoso-test.mail.onmicrosoft.com\", \"$alias\"]}" >/dev/null
mvs import contoso.onmicrosoft.com --delta >/dev/null
mvs preview contoso.onmicrosoft.com "$U_ASHLEY" >"$WORK/preview-ashley.txt"
cat "$WORK/preview-ashley.txt"
mvs preview contoso.onmicrosoft.com "$U_ASHLEY" --json >"$WORK/preview-ashley.json"
jq -e --arg a "$alias" '[.. | objects | select(.attr? == "proxyAddresses") | [.new] | flatten | .[] | select(. == $a)] | length >= 1' \
  "$WORK/preview-ashley.json" >/dev/null && ok "preview shows the new alias among the modified attributes" ||
  { bad "preview of Ashley after the alias"; cat "$WORK/preview-ashley.json"; }
users_json "${exch_attrs[@]}" >"$WORK/exch2.json"
mvs cycle --delta --dry-run --json >"$WORK/dry3.json"
mvs cycle --delta --json >"$WORK/run3.json"
users_json "${exch_attrs[@]}" >"$WORK/exch3.json"
python3 "$check_dry" "$WORK/dry3.json" contoso.com "$WORK/exch2.json" "$WORK/exch3.json" "${exch_attrs[@]}" &&
  ok "delta cycle wrote what its dry run showed" || bad "delta cycle differs from its dry run"
jq -e --arg dn "$ashley" --arg a "$alias" '.[$dn].proxyaddresses | index($a) != null' "$WORK/exch3.json" >/dev/null &&
  ok "AD shows the alias on Ashley" || { bad "the alias is not in AD"; cat "$WORK/exch3.json"; }

# Read back from both sides: Ashley's proxyAddresses and mail in AD (LDAP) are Graph's.
graph_get "users/$U_ASHLEY?\$select=proxyAddresses,mail" >"$WORK/graph-ashley.json"
jq -e --slurpfile g "$WORK/graph-ashley.json" --arg dn "$ashley" \
  '(.[$dn].proxyaddresses | sort) == ($g[0].proxyAddresses | sort) and .[$dn].mail == [$g[0].mail]' "$WORK/exch3.json" >/dev/null &&
  ok "AD's proxyAddresses and mail for Ashley = Graph's" || { bad "AD and Graph differ for Ashley"; cat "$WORK/graph-ashley.json"; }

# --- identity attributes, end to end ------------------------------------------------------------
users_json "${identity_attrs[@]}" >"$WORK/id3.json"
python3 - "$WORK/all0.json" "$WORK/id3.json" "${identity_attrs[@]}" <<'PY' && ok "no identity attribute was ever written (name, department, displayName, ...)" || bad "identity attributes changed"
import json, sys
before, after, names = json.load(open(sys.argv[1])), json.load(open(sys.argv[2])), [a.lower() for a in sys.argv[3:]]
diff = [(dn, a) for dn in before for a in names if before[dn].get(a) != after.get(dn, {}).get(a)]
print(diff or "")
sys.exit(1 if diff else 0)
PY
peer_ctl GET /_fake/log | jq -e '[.requests[] | select(.origin == "graph" and .method != "GET")] | length == 0' >/dev/null &&
  ok "no writes to Entra" || bad "mvsync wrote to Entra"
finish
