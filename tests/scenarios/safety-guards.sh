#!/usr/bin/env bash
# Issue 10's mass-delete failures, reproduced against a Samba AD DC and the Graph peer with
# rules/examples/cloud-groups-to-ad and 45 cloud security groups (docs/safety.md):
#   (a) the Graph peer reset to an empty tenant, `mvsync cycle --initial`: the import guard
#       stops it (exit 5), nothing is deleted in AD;
#   (b) the same rules with Entra read from a source file (file connector), the file emptied:
#       stopped (exit 5), nothing deleted;
#   (c) the AD users OU seen empty (the connector's containers name an empty OU, as a lost read
#       permission would): the export threshold stops the export before any membership is
#       removed (exit 4);
#   (d) deletion-threshold 10: the empty tenant let through the import guard stops at the
#       export (exit 4); the tenant restored, the next cycle exports nothing destructive, and
#       after two cycles with --allow-deletes every AD group keeps its objectGUID and objectSid
#       (ldapsearch before and after).
# Expected numbers come from the peer's state and from AD, read with ldapsearch.
# Usage: safety-guards.sh PATH/TO/mvsync
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
. "$root/tests/scenarios/lib.sh"
scen_start "$1"
. "$root/tests/scenarios/cloud_groups.sh"
cloud_groups_setup

# 40 more cloud security groups, two synced users each: 45 groups in scope, as in the audit.
python3 - "$(uid 1)" <<'PY' >"$WORK/more-groups.json"
import json, sys, uuid
uid = lambda n: "00000000-0000-4000-8000-%012d" % n
groups = [{"id": str(uuid.UUID(int=0x7e570000 << 96 | n, version=4)), "displayName": "Team %02d" % n,
           "mailNickname": "team%02d" % n, "securityEnabled": True, "mailEnabled": False,
           "members": [uid(1 + n % 6), uid(1 + (n + 1) % 6)]} for n in range(1, 41)]
print(json.dumps({"value": groups}))
PY
peer_ctl_file POST /_fake/groups "$WORK/more-groups.json" >/dev/null

field() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$@"; }
# snap NAME: the writeback groups as AD has them: identity (objectGUID, objectSid) and members.
snap() { ldap_json "$wb_ou" '(objectClass=group)' objectGUID objectSid member >"$WORK/$1.json"; }
count_groups() { python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))))' "$WORK/$1.json"; }
same_ad() { # same_ad NAME WHAT: AD's writeback OU is exactly as in the initial snapshot.
  snap "$1"
  if cmp -s "$WORK/initial.json" "$WORK/$1.json"; then
    ok "$1: $2"
  else
    diff <(python3 -m json.tool "$WORK/initial.json") <(python3 -m json.tool "$WORK/$1.json") | head -20
    bad "$1: AD's groups changed (above)"
  fi
}
# run_cycle NAME WANT ARGS...: mvsync cycle ARGS --json; its exit code must be WANT.
run_cycle() {
  local name=$1 want=$2 rc=0
  shift 2
  mvs cycle "$@" --json >"$WORK/$name.json" 2>"$WORK/$name.err" || rc=$?
  # With --json the run log is in the document, not on stderr.
  python3 -c 'import json,sys; sys.stdout.write(json.load(open(sys.argv[1]))["log"])' "$WORK/$name.json" >>"$WORK/$name.err"
  if [ "$rc" = "$want" ]; then
    ok "$name: mvsync cycle $* exited $rc ($(field "$WORK/$name.json" status))"
  else
    cat "$WORK/$name.err"
    bad "$name: mvsync cycle $* exited $rc, want $want"
  fi
}
has() { # has NAME TEXT: the run's messages (stderr and log) say TEXT.
  grep -qF -- "$2" "$WORK/$1.err" && ok "$1: says \"$2\"" || { cat "$WORK/$1.err"; bad "$1: does not say \"$2\""; }
}

# --- the initial state ------------------------------------------------------------------------
mvs init >/dev/null
run_cycle initial-run 0 --initial
run_cycle confirm 0 --delta
snap initial
peer_ctl GET /_fake/state >"$WORK/state.json"
# What the peer holds, and which groups the rules write to AD (cloud security groups).
read -r n_entra n_groups <<<"$(python3 - "$WORK/state.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
inscope = [g for g in s["groups"] if g["props"].get("securityEnabled") and not g["props"].get("mailEnabled")
           and "Unified" not in g["props"].get("groupTypes", [])]
print(len(s["users"]) + len(s["groups"]), len(inscope))
PY
)"
[ "$n_groups" = 45 ] && [ "$(count_groups initial)" = 45 ] && ok "initial: the 45 cloud security groups are in AD" ||
  bad "initial: $(count_groups initial) groups in AD, $n_groups in scope in the cloud, want 45"
# The restore document: the tenant as it was, ids and all (the peer's seed format).
python3 - "$WORK/state.json" >"$WORK/restore.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
obj = lambda o: dict(o["props"], id=o["id"], **({"members": o["members"]} if "members" in o else {}))
print(json.dumps({"users": [obj(u) for u in s["users"]], "groups": [obj(g) for g in s["groups"]]}))
PY

# --- (b) the same rules reading Entra from a source file, which is then emptied -------------
# A store and a writeback OU of its own; the AD connector is the one pointed at Samba.
hr_ou="OU=Writeback2,$SAMBA_OU"
printf 'dn: %s\nobjectClass: organizationalUnit\n' "$hr_ou" | samba_ldap ldapadd >/dev/null
mkdir -p "$WORK/file-rules"
python3 - "$WORK/restore.json" >"$WORK/file-rules/source.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
for g in d["groups"]:
    g["members"] = [{"id": m} for m in g.get("members", [])]
print(json.dumps(d))
PY
sed -e "s/$wb_ou/$hr_ou/g" "$WORK/rules/groups.rules" >"$WORK/file-rules/groups.rules"
python3 - "$WORK/rules/connectors.rules" "$wb_ou" "$hr_ou" >"$WORK/file-rules/connectors.rules" <<'PY'
import re, sys
text, wb, hr = open(sys.argv[1]).read(), sys.argv[2], sys.argv[3]
ad = re.search(r'connector "contoso\.com".*?\n}\n', text, re.S).group(0).replace(wb, hr)
print(ad + '\nconnector "contoso.onmicrosoft.com" type file {\n  shape "entra"\n  path "source.json"\n}')
PY
filecycle() { # filecycle NAME WANT ARGS...
  MVSYNC_STORE=$WORK/file.db MVSYNC_RULES=$WORK/file-rules run_cycle "$@"
}
MVSYNC_STORE=$WORK/file.db mvs init >/dev/null
filecycle file-initial 0 --initial
filecycle file-confirm 0 --delta
ldap_json "$hr_ou" '(objectClass=group)' objectGUID objectSid member >"$WORK/file-before.json"
[ "$(count_groups file-before)" = 45 ] && ok "file: the 45 groups of the source file are in AD" ||
  bad "file: $(count_groups file-before) groups in AD, want 45"
echo '{"users": [], "groups": []}' >"$WORK/file-rules/source.json"
filecycle file-empty 5 --initial
has file-empty "contoso.onmicrosoft.com: full import stopped: it would delete $n_entra of the $n_entra objects"
ldap_json "$hr_ou" '(objectClass=group)' objectGUID objectSid member >"$WORK/file-after.json"
cmp -s "$WORK/file-before.json" "$WORK/file-after.json" && ok "file-empty: nothing deleted in AD" ||
  bad "file-empty: AD's groups changed"

# --- (a) the Graph peer reset to an empty tenant -----------------------------------------------
peer_ctl POST /_fake/reset >/dev/null
run_cycle empty-tenant 5 --initial
[ "$(field "$WORK/empty-tenant.json" status)" = stopped-import-guard ] && ok "empty-tenant: status stopped-import-guard" ||
  bad "empty-tenant: status $(field "$WORK/empty-tenant.json" status)"
has empty-tenant "contoso.onmicrosoft.com: full import stopped: it would delete $n_entra of the $n_entra objects of the connector space (100%), all of them"
has empty-tenant "--allow-mass-delete"
same_ad empty-tenant "nothing deleted in AD"
mvs runs --json >"$WORK/runs.json"
grep -q '"status": "stopped-import-guard"' "$WORK/runs.json" && ok "runs: the stop is in the run history" ||
  bad "runs: no stopped-import-guard run"
[ "$(mvs pending --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')" = 0 ] && ok "empty-tenant: nothing staged" || bad "empty-tenant: exports staged"

# --- (d) deletion-threshold 10: threshold stop, tenant restored, --allow-deletes -------------
sed -i "/^connector \"contoso.com\"/a\\  deletion-threshold 10" "$WORK/rules/connectors.rules"
run_cycle threshold 4 --initial --allow-mass-delete
has threshold "contoso.com: export stopped: $n_groups deletes and 0 value removals"
has threshold "more than the deletion threshold of 10 changes"
same_ad threshold "nothing deleted in AD"
n_deletes=$(mvs pending contoso.com --json | python3 -c 'import json,sys; print(sum(1 for p in json.load(sys.stdin) if p["op"] == "delete"))')
[ "$n_deletes" = "$n_groups" ] && ok "threshold: $n_groups deletes wait in pending" || bad "threshold: $n_deletes deletes pending"
peer_ctl_file POST /_fake/seed "$WORK/restore.json" >/dev/null
run_cycle restored 0 --initial
has restored "pending delete withdrawn: the object is joined again"
[ "$(field "$WORK/restored.json" deletes)" = 0 ] && ok "restored: the cycle deleted nothing" ||
  bad "restored: $(field "$WORK/restored.json" deletes) deletes"
[ "$(mvs pending contoso.com --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')" = 0 ] && ok "restored: nothing destructive (nothing at all) pending" ||
  { mvs pending contoso.com; bad "restored: exports still pending"; }
same_ad restored "AD as before"
run_cycle allow-1 0 --delta --allow-deletes
run_cycle allow-2 0 --delta --allow-deletes
same_ad allow-deletes "every group keeps its objectGUID, objectSid and members"
sed -i '/^  deletion-threshold 10$/d' "$WORK/rules/connectors.rules"

# --- (c) the AD users OU seen empty -----------------------------------------------------------
# The users AD holds stay; the connector's containers name an empty OU instead, as a service
# account that lost read access to the users OU would see it.
empty_ou="OU=EmptyUsers,$SAMBA_OU"
printf 'dn: %s\nobjectClass: organizationalUnit\n' "$empty_ou" | samba_ldap ldapadd >/dev/null
sed -i "s/$users_ou|/$empty_ou|/" "$WORK/rules/connectors.rules"
grep -qF "$empty_ou|" "$WORK/rules/connectors.rules" || bad "users-ou: containers not changed"
# Memberships of synced users the groups hold, as AD has them.
n_members=$(python3 -c '
import json, sys
print(sum(1 for g in json.load(open(sys.argv[1])).values() for m in g.get("member", []) if sys.argv[2].lower() in m.lower()))
' "$WORK/initial.json" "$users_ou")
run_cycle users-ou 4 --initial
has users-ou "contoso.com: export stopped: 0 deletes and $n_members value removals"
same_ad users-ou "no membership removed in AD"
sed -i "s/$empty_ou|/$users_ou|/" "$WORK/rules/connectors.rules"
run_cycle users-back 0 --initial
run_cycle users-back-2 0 --delta
same_ad users-back "AD as before, after the users OU is seen again"

# --- Entra was only read ----------------------------------------------------------------------
peer_ctl GET /_fake/log >"$WORK/log.json"
writes=$(python3 -c 'import json,sys; print(sum(1 for r in json.load(open(sys.argv[1]))["requests"]
  if r["origin"] == "graph" and r["method"] != "GET"))' "$WORK/log.json")
[ "$writes" = 0 ] && ok "Entra: mvsync sent no write request to Graph" || bad "Entra: $writes write requests to Graph"

finish
