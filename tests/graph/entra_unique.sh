#!/bin/bash
# entra_unique — SelectUniqueValue asks Entra itself (issue 11 item 7): a group whose
# mailNickname is "sales" appears in Entra after the last import (so in no connector space);
# two HR teams both derive "sales" first.  Connect's semantics (Microsoft's expression
# reference: SelectUniqueValue checks uniqueness against the target): each candidate in order,
# taken when the directory or the connector space holds it or a pending add of this run gets
# it.  So neither team gets "sales": one gets "sales2", the other "sales3", in the dry run and
# in what the export then creates; the lookup is GET /groups?$filter=mailNickname eq 'sales'.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
. "$root/tests/graph/peer.sh"
. "$root/tests/graph/conn_lib.sh"

conn_setup "$1"
cat >"$WORK/rules/hr.json" <<'J'
{"users": [],
 "groups": [{"id": "30000000-0000-0000-0000-00000000000a", "displayName": "Sales A", "mailNickname": "sales", "members": []},
            {"id": "30000000-0000-0000-0000-00000000000b", "displayName": "Sales B", "mailNickname": "sales", "members": []}]}
J
cat >>"$WORK/rules/entra.rules" <<'R'

connector "hr" type file {
  shape "entra"
  path "hr.json"
}

rule "In from HR - teams" {
  direction inbound
  connector "hr"
  source group -> team
  link provision
  precedence 60
  flow [displayName] -> displayName
  flow [mailNickname] -> mailNickname
}

rule "Out to Entra - teams" {
  direction outbound
  connector "entra"
  source team -> group
  link provision
  precedence 130
  dialect cloud
  flow [displayName] -> dn apply-once
  flow [displayName] -> displayName
  flow SelectUniqueValue([mailNickname], Join("", [mailNickname], "2"), Join("", [mailNickname], "3")) -> mailNickname
  flow constant false -> mailEnabled
  flow constant true -> securityEnabled
}
R
mvs rules check "$WORK/rules" >/dev/null
mvs import entra --full >/dev/null
mvs import hr --full >/dev/null
peer_ctl POST /_fake/seed '{"groups": [{"displayName": "Sales (Entra)", "mailNickname": "sales", "securityEnabled": true, "mailEnabled": false}]}' >/dev/null

log_mark
mvs sync --full --dry-run >"$WORK/dry"
python3 - "$WORK/dry" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
exports = re.findall(r'^export entra: add .*?(?=^\S|\Z)', text, flags=re.M | re.S)
nicks = sorted(n for e in exports for n in re.findall(r'mailNickname: "([^"]*)"', e))
assert nicks == ["sales2", "sales3"], (nicks, text[:3000])
print("ok: the dry run gives sales2 and sales3, not sales")
PY
check 'any(e["method"] == "GET" and "mailNickname" in e["path"] + e.get("query", "") for e in log)' "the dry run asked Entra (GET /groups?\$filter=mailNickname eq ...)"
check 'not any(e["method"] != "GET" and e["path"].startswith("/v1.0") for e in log)' "the dry run only read Graph"

mvs sync --full >/dev/null
mvs export entra >/dev/null
check 'sorted(g["props"].get("mailNickname") for g in state["groups"]) == ["sales", "sales2", "sales3"]' "Entra holds sales (its own), sales2 and sales3, as the dry run showed"
echo "entra_unique: all checks passed"
