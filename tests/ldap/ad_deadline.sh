#!/usr/bin/env bash
# ctest ldap_ad_deadline: a hung domain controller never hangs mvsync.  The DC frozen with
# SIGSTOP (the kernel still accepts TCP; nothing answers) over ldaps, StartTLS and plain LDAP, at
# connect and in the middle of a run (import and export), and a server that accepts TCP and never
# speaks (ldaps and plain): each run fails within the connector's `timeout` with exit 9
# (deadline passed), a message naming the server's URL and the operation, and nothing committed.
# The wall time of each run is measured and bounded.  Usage: tests/ldap/ad_deadline.sh MVSYNC
set -euo pipefail
mvsync=$(realpath "$1")
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d /tmp/mvs-addeadline.XXXXXX)
silent_pid=
cleanup() {
  [ -z "$silent_pid" ] || kill "$silent_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
. "$here/samba.sh"
. "$here/lib.sh"

timeout_s=3
# The bound of one failing run: the connection (TCP + TLS handshake) and one operation can each
# take the deadline, plus the process's own start and the store (generous for a loaded machine).
bound_s=$((2 * timeout_s + 4))

samba_start
export MVSYNC_STORE=$work/s.db MVSYNC_RULES=$work/ad.rules

# timed NAME CMD...: run CMD (mvsync) with an outer kill at 60 s, output in $work/out, exit code
# in $rc, wall time in $ms (milliseconds).
timed() {
  local name=$1 t0 t1
  shift
  t0=$(date +%s%N)
  rc=0
  timeout 60 "$@" >"$work/out" 2>&1 || rc=$?
  t1=$(date +%s%N)
  ms=$(((t1 - t0) / 1000000))
  echo "$name: exit $rc after $ms ms"
}

# expect_deadline NAME URL OPERATION: the last run failed with exit 9, in [timeout, bound], and
# said which server and which operation (an extended regex) timed out.
expect_deadline() {
  local name=$1 url=$2 op=$3
  grep -m1 "Timed out" "$work/out" || true
  [ "$rc" = 9 ] && ok "$name: exit 9 (deadline passed)" || { bad "$name: exit $rc, expected 9"; cat "$work/out"; }
  [ "$ms" -ge $((timeout_s * 1000 - 200)) ] && [ "$ms" -le $((bound_s * 1000)) ] &&
    ok "$name: failed after $ms ms (timeout ${timeout_s} s, bound ${bound_s} s)" ||
    bad "$name: $ms ms is outside [${timeout_s} s, ${bound_s} s]"
  grep -qF "$url" "$work/out" && grep -Eq "$op" "$work/out" && grep -q "Timed out" "$work/out" &&
    ok "$name: the message names $url and the operation" || { bad "$name: message"; cat "$work/out"; }
}

for mode in ldaps starttls plain; do
  case $mode in
  ldaps) url=$SAMBA_LDAPS_URL ca="" extra=() ;;
  starttls) url=$SAMBA_LDAP_URL ca="" extra=() ;;
  plain) url=$SAMBA_LDAP_URL ca=- extra=('tls "none"') ;;
  esac
  write_rules "$work/ad.rules" "$url" "$ca" "timeout $timeout_s" "containers \"$SAMBA_OU\"" "${extra[@]}"
  rm -f "$MVSYNC_STORE"
  "$mvsync" init >/dev/null
  timed "$mode: live DC" "$mvsync" import test.lan --full
  [ "$rc" = 0 ] && ok "$mode: a full import from the live DC" || { bad "$mode: live import"; cat "$work/out"; }
  before=$("$mvsync" runs --json | jq length)
  samba_freeze
  timed "$mode: frozen DC" "$mvsync" import test.lan --full
  samba_thaw
  expect_deadline "$mode: frozen DC at connect" "$url" 'bind|StartTLS|connect'
done

# --- the export side: the DC frozen with a change pending ----------------------------------------
write_rules "$work/ad.rules" "$SAMBA_LDAPS_URL" "" "timeout $timeout_s" "containers \"$SAMBA_OU\""
cat >>"$work/ad.rules" <<'EOF2'

rule "Out to AD - User" {
  direction outbound
  connector "test.lan"
  source person -> user
  link join
  precedence 200
  flow constant "frozen@test.lan" -> mail
}
EOF2
rm -f "$MVSYNC_STORE"
"$mvsync" init >/dev/null
samba_ldap ldapadd >/dev/null <<EOF2
dn: CN=Hung Export,$SAMBA_OU
objectClass: user
sAMAccountName: hung-export
EOF2
"$mvsync" import test.lan --full >/dev/null && "$mvsync" sync --full >/dev/null
pending_before=$("$mvsync" pending test.lan | grep -c "Hung Export" || true)
[ "$pending_before" -ge 1 ] && ok "a change is pending for the frozen DC" || { bad "nothing pending"; "$mvsync" pending test.lan; }
samba_freeze
timed "export: frozen DC" "$mvsync" export test.lan
samba_thaw
expect_deadline "export: frozen DC" "$SAMBA_LDAPS_URL" 'export|bind'
"$mvsync" pending test.lan | grep -q "Hung Export" && ok "export: the change is still pending after the deadline" ||
  bad "export: the pending change was lost"
timed "export: thawed DC" "$mvsync" export test.lan
[ "$rc" = 0 ] && [ "$(samba_ldap ldapsearch -LLL -b "CN=Hung Export,$SAMBA_OU" -s base mail | sed -n 's/^mail: //p')" = frozen@test.lan ] &&
  ok "export: the next run, with the DC back, exports the change" || { bad "export after thaw"; cat "$work/out"; }

# --- servers that accept TCP and never speak -----------------------------------------------------
# MODE silent: accept, read, answer nothing.  MODE bind: answer each bind request with success
# (an LDAPMessage with a BindResponse, resultCode 0), then nothing: a server that hangs after
# the bind, so the search is the operation that must be cut.  Prints the port.
cat >"$work/silent.py" <<'EOF2'
import socket, sys, threading
mode = sys.argv[1]
srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", 0))
srv.listen(16)
print(srv.getsockname()[1], flush=True)

def serve(conn):
    data = b""
    while True:
        chunk = conn.recv(65536)
        if not chunk:
            return
        data += chunk
        # LDAPMessage: 30 LEN 02 01 ID 60 (bindRequest); short-form lengths are enough here.
        while mode == "bind" and len(data) >= 2 and len(data) >= 2 + data[1]:
            msg, data = data[:2 + data[1]], data[2 + data[1]:]
            if len(msg) > 5 and msg[2] == 2 and msg[5] == 0x60:
                mid = msg[4]
                conn.sendall(bytes([0x30, 0x0c, 0x02, 0x01, mid, 0x61, 0x07,
                                    0x0a, 0x01, 0x00, 0x04, 0x00, 0x04, 0x00]))

while True:
    c, _ = srv.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
EOF2

# silent_server MODE: start one, set $silent_port.
silent_server() {
  [ -z "$silent_pid" ] || { kill "$silent_pid" 2>/dev/null || true; wait "$silent_pid" 2>/dev/null || true; }
  python3 "$work/silent.py" "$1" >"$work/port" &
  silent_pid=$!
  for _ in $(seq 50); do [ -s "$work/port" ] && break; sleep 0.1; done
  silent_port=$(cat "$work/port")
}

silent_server silent
for mode in ldaps starttls plain; do
  case $mode in
  ldaps) url=ldaps://127.0.0.1:$silent_port ca="" extra=() ;;
  starttls) url=ldap://127.0.0.1:$silent_port ca="" extra=() ;;
  plain) url=ldap://127.0.0.1:$silent_port ca=- extra=('tls "none"') ;;
  esac
  write_rules "$work/ad.rules" "$url" "$ca" "timeout $timeout_s" "${extra[@]}"
  rm -f "$MVSYNC_STORE"
  "$mvsync" init >/dev/null
  timed "$mode: silent server" "$mvsync" import test.lan --full
  expect_deadline "$mode: a server that accepts and never speaks" "$url" 'TLS handshake|StartTLS|bind'
  "$mvsync" cycle >"$work/out" 2>&1 && rc=0 || rc=$?
  [ "$rc" = 9 ] && ok "$mode: a cycle against it exits 9 too" || { bad "$mode: cycle exit $rc"; cat "$work/out"; }
done

silent_server bind
url=ldap://127.0.0.1:$silent_port
write_rules "$work/ad.rules" "$url" - "timeout $timeout_s" 'tls "none"'
rm -f "$MVSYNC_STORE"
"$mvsync" init >/dev/null
timed "plain: silent after the bind" "$mvsync" import test.lan --full
expect_deadline "plain: a server that hangs after the bind" "$url" 'DirSync|search|reading'
[ "$("$mvsync" dump --json | jq '[.connectors[]?[]?] | length')" = 0 ] &&
  ok "nothing was committed from the hung server" || bad "objects committed from a hung server"

finish
