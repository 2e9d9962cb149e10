# Helpers for the Entra connector's integration tests (sourced after peer.sh): a rule set for
# the peer, the mvsync CLI on a scratch store, and JSON checks with python3.
#
#   conn_setup MVSYNC [SETTING_LINES]   # starts the peer, writes $WORK/rules/entra.rules
#   mvs import entra --full             # mvsync with MVSYNC_STORE / MVSYNC_RULES set
#   check 'python expression over cs (anchor -> object), log (request list)' MESSAGE
#   log_mark                            # later checks see only the requests after this point

conn_setup() {
  MVSYNC_BIN=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
  peer_start
  WORK=$PEER_DIR/work
  mkdir -p "$WORK/rules"
  export MVSYNC_STORE=$WORK/store.db MVSYNC_RULES=$WORK/rules
  LOG_MARK=0
  write_rules "${2-}"
  "$MVSYNC_BIN" init >/dev/null
}

# write_rules [EXTRA_SETTINGS]: the peer's connector, users and groups flowing into the
# metaverse (so the import asks for these properties).
write_rules() {
  local retry='  max-retry-seconds 60'
  case "${1-}" in *max-retry-seconds*) retry= ;; esac
  cat >"$WORK/rules/entra.rules" <<R
connector "entra" type entra {
  tenant "$PEER_TENANT"
  client-id "$PEER_CLIENT_ID"
  client-secret file:$PEER_SECRET_FILE
  authority "$PEER_LOGIN_URL"
  graph-url "$PEER_GRAPH_URL"
  ca-file "$PEER_CA"
$retry
${1-}
}

rule "In from Entra - users" {
  direction inbound
  connector "entra"
  source user -> person
  link provision
  precedence 100
  flow [displayName] -> displayName
  flow [department] -> department
}

rule "In from Entra - groups" {
  direction inbound
  connector "entra"
  source group -> group
  link provision
  precedence 110
  flow [displayName] -> displayName
  flow [description] -> description
  flow [members] -> members
}
R
}

mvs() { "$MVSYNC_BIN" "$@"; }

log_mark() {
  LOG_MARK=$(peer_ctl GET /_fake/log | python3 -c \
    'import json,sys; r=json.load(sys.stdin)["requests"]; print(r[-1]["seq"] if r else 0)')
}

# check EXPR MESSAGE: EXPR is evaluated by python3 with cs (the connector space by anchor:
# {"type", "import", "attrs"}), log (the peer's requests since log_mark), state (the peer's
# directory); a false value fails the test with MESSAGE.
check() {
  mvs dump --json >"$WORK/dump.json"
  peer_ctl GET "/_fake/log?since=$LOG_MARK" >"$WORK/log.json"
  peer_ctl GET "/_fake/state?members=1" >"$WORK/state.json"
  python3 - "$WORK" "$1" "$2" <<'PY'
import json, re, sys
work, expr, msg = sys.argv[1:4]
dump = json.load(open(work + "/dump.json"))
cs = {o["anchor"]: o for o in dump["connectors"].get("entra", [])}
log = json.load(open(work + "/log.json"))["requests"]
state = json.load(open(work + "/state.json"))
def members(anchor):
    return sorted(m["ref"] for m in cs[anchor]["attrs"].get("members", []))
def peer_members(gid):
    return sorted(next(g for g in state["groups"] if g["id"] == gid)["members"])
ok = eval(expr)
if not ok:
    print("FAILED: %s\n  (%s)" % (msg, expr), file=sys.stderr)
    sys.exit(1)
print("ok: %s" % msg)
PY
}
