# Samba AD DC test harness: a sourced bash library that starts a throwaway domain controller on
# its own loopback address (contract: docs/internals/test-servers.md; usage: tests/ldap/README.md).
# Files it creates (temp copy, lock folder, password file) belong to the harness and go at samba_stop.
#
#   . tests/ldap/samba.sh
#   samba_start [base|big]     # exports SAMBA_* (below); installs the EXIT trap
#   samba_ldap ldapsearch -b "$SAMBA_BASE" '(sAMAccountName=x)'   # ldap-utils: ldaps, CA, bind preset
#   samba_halt; samba_restart  # stop / start the same DC (same data, same IP), for outage tests
#   samba_freeze; samba_thaw   # SIGSTOP / SIGCONT the DC: it accepts TCP and answers nothing
#   samba_stop                 # stops the DC, removes the temp copy, releases the IP
#
# Exported by samba_start: SAMBA_DIR SAMBA_IP SAMBA_LDAP_URL SAMBA_LDAPS_URL SAMBA_CA SAMBA_BASE
# SAMBA_REALM SAMBA_DOMAIN SAMBA_BIND_DN SAMBA_BIND_UPN SAMBA_PASSWORD_FILE SAMBA_PASSWORD SAMBA_OU
# SAMBA_VARIANT; variant big also SAMBA_BENCH_OU SAMBA_BENCH_GROUP SAMBA_BENCH_USERS SAMBA_BENCH_MEMBERS.
# One DC per sourcing shell; call samba_start in the script's main shell, not in a subshell.

_samba_here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
_samba_repo=$(cd "$_samba_here/../.." && pwd)
: "${MVSYNC_SAMBA_CACHE:=$_samba_repo/build/samba-cache}"

export SAMBA_REALM=TEST.LAN SAMBA_DOMAIN=TEST SAMBA_BASE=DC=test,DC=lan
export SAMBA_BIND_DN="CN=Administrator,CN=Users,DC=test,DC=lan" SAMBA_BIND_UPN=Administrator@test.lan
export SAMBA_OU="OU=mvsync,DC=test,DC=lan"
# Lock folders of the loopback addresses in use: $_samba_ips/127.0.0.N/{owner,dir[,keep]}, created
# and reaped under the flock of $_samba_ips/.lock.
_samba_ips=/tmp/mvsync-samba-ips
_samba_ip_first=20
_samba_ip_last=250
_samba_ready_seconds=30

_samba_say() { echo "samba: $*" >&2; }

# shellcheck source=samba-provision.sh
. "$_samba_here/samba-provision.sh"

# The start time of process PID (field 22 of /proc/PID/stat): with the pid, it names one process
# (a pid alone may be reused once the process is gone).
_samba_proc_start() {
  local stat
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  stat=${stat##*) }   # the fields after "pid (comm) ": field 22 is the 20th of them
  # shellcheck disable=SC2086
  set -- $stat
  echo "${20}"
}

# True when the process an owner file names ("PID STARTTIME NONCE") is still that process.
_samba_owner_alive() {
  local pid start
  read -r pid start _ <"$1" 2>/dev/null || return 1
  [ "$(_samba_proc_start "$pid")" = "$start" ]
}

# Stop the DC running from DIR, by its pid file, only if that pid is a samba process.
_samba_dc_kill() {
  local dir=$1 pid
  pid=$(cat "$dir/run/samba.pid" 2>/dev/null) || return 0
  [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = samba ] || return 0
  kill -TERM "$pid" 2>/dev/null || return 0
  kill -CONT "$pid" 2>/dev/null || true   # a frozen DC (samba_freeze) must see the TERM
  for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
}

# Reap the lock folder of an owner that is gone: stop its DC, remove its copy, free the IP.
# Called with the flock held.
_samba_reap() {
  local lock=$1 dir keep
  dir=$(cat "$lock/dir" 2>/dev/null || true)
  keep=$(cat "$lock/keep" 2>/dev/null || true)
  if [ -n "$dir" ]; then
    _samba_dc_kill "$dir"
    [ -n "$keep" ] || rm -rf "$dir"
  fi
  rm -rf "$lock"
}

_samba_flock() { # run "$@" holding the address-table lock
  [ -d "$_samba_ips" ] || mkdir -m 700 "$_samba_ips" 2>/dev/null || [ -d "$_samba_ips" ] || return 1
  [ -O "$_samba_ips" ] || { _samba_say "$_samba_ips belongs to another user"; return 1; }
  (
    flock 9
    "$@"
  ) 9>"$_samba_ips/.lock"
}

# Take the first free 127.0.0.N (no live lock folder, nothing listening on :389); reaps stale
# locks on the way. Prints the address.
_samba_ip_take() {
  local owner=$1 dir=$2 keep=$3 n ip lock
  for n in $(seq "$_samba_ip_first" "$_samba_ip_last"); do
    ip=127.0.0.$n lock=$_samba_ips/127.0.0.$n
    if [ -d "$lock" ]; then
      _samba_owner_alive "$lock/owner" && continue
      _samba_reap "$lock"
    fi
    (exec 3<>"/dev/tcp/$ip/389") 2>/dev/null && continue   # someone else's server
    mkdir "$lock" || continue
    echo "$owner" >"$lock/owner"
    echo "$dir" >"$lock/dir"
    [ -z "$keep" ] || echo 1 >"$lock/keep"
    echo "$ip"
    return 0
  done
  _samba_say "no free loopback address in 127.0.0.$_samba_ip_first-$_samba_ip_last"
  return 1
}

_samba_ip_release() {
  local lock=$_samba_ips/$1
  [ "$(cat "$lock/owner" 2>/dev/null)" = "$2" ] && rm -rf "$lock"
  return 0
}

# Detached watchdog (double fork + setsid, so neither the owner's death nor a process-group or
# process-tree kill takes it down): once the owner is gone and still holds the lock, reap it.
# It exits as soon as the lock is released or taken by someone else.
_samba_watch() {
  local ip=$1 owner=$2 lock=$_samba_ips/$1
  while [ "$(cat "$lock/owner" 2>/dev/null)" = "$owner" ]; do
    if ! _samba_owner_alive "$lock/owner"; then
      _samba_flock _samba_watch_reap "$lock" "$owner"
      return 0
    fi
    sleep 0.5
  done
}
_samba_watch_reap() { [ "$(cat "$1/owner" 2>/dev/null)" = "$2" ] && _samba_reap "$1"; return 0; }

_samba_watch_start() {
  # shellcheck disable=SC2016  # expanded by the watchdog shell
  ( setsid bash -c '. "$0" && _samba_watch "$1" "$2"' "$_samba_here/samba.sh" "$1" "$2" \
      </dev/null >/dev/null 2>&1 8>&- 9>&- & )
}

# Replace every occurrence of the folder a copy was made from by its new folder in smb.conf
# (the only file with absolute paths), literally.
_samba_rebase() {
  local dir=$1 old
  old=$(cat "$dir/.samba-root")
  [ "$old" = "$dir" ] && return 0
  awk -v old="$old" -v new="$dir" '{
      out = ""; while ((i = index($0, old)) > 0) { out = out substr($0, 1, i - 1) new; $0 = substr($0, i + length(old)) }
      print out $0 }' "$dir/etc/smb.conf" >"$dir/etc/smb.conf.new" &&
    mv "$dir/etc/smb.conf.new" "$dir/etc/smb.conf" && echo "$dir" >"$dir/.samba-root"
}

# A server certificate for IP, signed by the copy's CA (EC P-256: milliseconds).
_samba_server_cert() {
  local dir=$1 ip=$2 t=$1/tls
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$t/key.pem" \
    -out "$t/server.csr" -subj "/CN=$ip" 2>/dev/null &&
    printf 'subjectAltName=IP:%s\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=serverAuth\n' \
      "$ip" >"$t/server.ext" &&
    openssl x509 -req -in "$t/server.csr" -CA "$t/ca.pem" -CAkey "$t/ca.key" -set_serial "0x$(openssl rand -hex 8)" \
      -days 30 -extfile "$t/server.ext" -out "$t/cert.pem" 2>/dev/null &&
    chmod 600 "$t/key.pem"
}

# Start the DC of DIR on IP (interfaces rewritten, fresh server cert) and wait until LDAP answers.
_samba_dc_run() {
  local dir=$1 ip=$2 pid
  sed -i "s|^\tinterfaces = .*|\tinterfaces = $ip/8|" "$dir/etc/smb.conf"
  _samba_server_cert "$dir" "$ip" || { _samba_say "server certificate for $ip failed"; return 1; }
  rm -f "$dir/run/samba.pid"
  setsid samba -s "$dir/etc/smb.conf" -M single -F --debug-stdout >>"$dir/log/samba.out" 2>&1 </dev/null &
  pid=$!
  for _ in $(seq $((_samba_ready_seconds * 20))); do
    ldapsearch -x -H "ldap://$ip" -b '' -s base -LLL dn >/dev/null 2>&1 && return 0
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.05
  done
  _samba_say "the DC in $dir did not answer on $ip within ${_samba_ready_seconds}s:"
  tail -20 "$dir/log/samba.out" >&2
  _samba_dc_kill "$dir"
  return 1
}

# Bring DIR up on a fresh address owned by this shell; sets _samba_ip. KEEP: leave DIR on reap.
_samba_up() {
  local dir=$1 keep=${2:-}
  # The nonce tells this acquisition from earlier ones by the same shell (and their watchdogs).
  _samba_owner="$$ $(_samba_proc_start $$) $RANDOM$RANDOM"
  _samba_ip=$(_samba_flock _samba_ip_take "$_samba_owner" "$dir" "$keep") || return 1
  _samba_watch_start "$_samba_ip" "$_samba_owner"
  _samba_dc_run "$dir" "$_samba_ip" || { _samba_ip_release "$_samba_ip" "$_samba_owner"; return 1; }
}

_samba_down() {
  _samba_dc_kill "$1"
  [ -z "${_samba_ip:-}" ] || _samba_ip_release "$_samba_ip" "$_samba_owner"
}

# Cache key: what builds the pristine copies, and the Samba version (a copy from another Samba
# may not open).
_samba_cache_key() {
  { cat "$_samba_here/samba-provision.sh"; samba -V; } | sha256sum | cut -c1-16
}

# Print the pristine folder of VARIANT, building it first if needed (once, under flock; parallel
# callers wait for it). Older keys' folders are removed when a new one is built.
_samba_pristine() {
  local variant=$1 key root
  key=$(_samba_cache_key) || return 1
  root=$MVSYNC_SAMBA_CACHE/$key
  mkdir -p "$(dirname "$MVSYNC_SAMBA_CACHE")" && mkdir -p -m 700 "$MVSYNC_SAMBA_CACHE" && mkdir -p -m 700 "$root" ||
    return 1
  if [ ! -e "$root/$variant/.done" ]; then
    if [ "$variant" = big ]; then _samba_pristine base >/dev/null || return 1; fi
    (
      flock 8
      [ -e "$root/$variant/.done" ] && exit 0
      find "$MVSYNC_SAMBA_CACHE" -mindepth 1 -maxdepth 1 -regextype posix-extended \
        -regex '.*/[0-9a-f]{16}' ! -name "$key" -exec rm -rf {} +
      rm -rf "${root:?}/$variant" "$root/$variant.tmp"
      _samba_say "building pristine copy '$variant' in $root (once per harness version)"
      t0=$SECONDS
      case $variant in
        base) _samba_build_base "$root/$variant.tmp" ;;
        big) cp -a "$root/base" "$root/$variant.tmp" && _samba_rebase "$root/$variant.tmp" &&
          _samba_build_big "$root/$variant.tmp" ;;
      esac || { rm -rf "$root/$variant.tmp"; exit 1; }
      rm -rf "$root/$variant.tmp/run"/* "$root/$variant.tmp/log"/*
      mv "$root/$variant.tmp" "$root/$variant" && touch "$root/$variant/.done"
      _samba_say "pristine copy '$variant' built in $((SECONDS - t0)) s"
    ) 8>"$root/$variant.lock" || return 1
  fi
  echo "$root/$variant"
}

samba_start() {
  local variant=${1:-base} pristine dir
  case $variant in base | big) ;; *) _samba_say "unknown variant '$variant' (base|big)"; return 2 ;; esac
  [ -z "${_samba_dir:-}" ] || { _samba_say "this script already runs a DC, from $_samba_dir"; return 1; }
  pristine=$(_samba_pristine "$variant") || return 1
  dir=$(mktemp -d /tmp/mvs-samba.XXXXXX) || return 1
  # Not exported: halt, restart and stop act only on the DC this shell started. Set (and the trap
  # installed) before the copy, so that an interrupted start leaves nothing behind either.
  _samba_dir=$dir _samba_ip=
  _samba_trap_install
  cp -a "$pristine/." "$dir/" && rm -f "$dir/.done" && _samba_rebase "$dir" && _samba_up "$dir" ||
    { samba_stop; return 1; }
  export SAMBA_VARIANT=$variant SAMBA_DIR=$dir SAMBA_IP=$_samba_ip
  export SAMBA_LDAP_URL=ldap://$_samba_ip SAMBA_LDAPS_URL=ldaps://$_samba_ip SAMBA_CA=$dir/tls/ca.pem
  export SAMBA_PASSWORD_FILE=$dir/admin.pass
  SAMBA_PASSWORD=$(cat "$SAMBA_PASSWORD_FILE")
  export SAMBA_PASSWORD
  if [ "$variant" = big ]; then
    export SAMBA_BENCH_OU="OU=Bench,$SAMBA_BASE" SAMBA_BENCH_GROUP="CN=Bench Group,OU=Bench,$SAMBA_BASE"
    export SAMBA_BENCH_USERS=$_samba_bench_users SAMBA_BENCH_MEMBERS=$_samba_bench_members
  fi
  _samba_say "DC up on $SAMBA_IP from $SAMBA_DIR ($variant)"
}

# Chain samba_stop in front of the EXIT trap the script already has (bash runs the EXIT trap on
# INT, TERM and HUP too; a separate TERM trap would wait for the foreground command to end).
_samba_trap_install() {
  local old
  old=$(trap -p EXIT)
  case $old in *samba_stop*) return 0 ;; esac
  if [ -n "$old" ]; then
    old=$(eval "_samba_trap_arg ${old#trap }")
    # shellcheck disable=SC2064
    trap "samba_stop; $old" EXIT
  else
    trap samba_stop EXIT
  fi
}
_samba_trap_arg() { printf '%s' "$2"; }

samba_halt() {
  [ -n "${_samba_dir:-}" ] || return 0
  _samba_dc_kill "$_samba_dir"
}

samba_restart() {
  [ -n "${_samba_dir:-}" ] || { _samba_say "no DC started by this script"; return 1; }
  samba_halt
  _samba_dc_run "$_samba_dir" "$_samba_ip"
}

# Freeze / thaw the DC (one process: -M single): frozen, the kernel still accepts connections
# on its ports, and nothing answers — a hung domain controller.
_samba_dc_signal() {
  local pid
  [ -n "${_samba_dir:-}" ] || { _samba_say "no DC started by this script"; return 1; }
  pid=$(cat "$_samba_dir/run/samba.pid" 2>/dev/null) || return 1
  [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = samba ] || return 1
  kill "-$1" "$pid"
}
samba_freeze() { _samba_dc_signal STOP; }
samba_thaw() { _samba_dc_signal CONT; }

samba_stop() {
  [ -n "${_samba_dir:-}" ] || return 0
  _samba_down "$_samba_dir"
  if [ -n "${MVSYNC_SAMBA_KEEP:-}" ]; then _samba_say "kept $_samba_dir"; else rm -rf "$_samba_dir"; fi
  _samba_dir=
  unset SAMBA_DIR SAMBA_IP SAMBA_LDAP_URL SAMBA_LDAPS_URL SAMBA_CA SAMBA_PASSWORD_FILE SAMBA_PASSWORD
}

# Run an ldap-utils command against the DC over ldaps, verifying against SAMBA_CA, bound as the
# domain administrator (password from the file, never on the command line).
samba_ldap() {
  local tool=$1
  shift
  LDAPTLS_CACERT=$SAMBA_CA LDAPTLS_REQCERT=demand \
    "$tool" -x -H "$SAMBA_LDAPS_URL" -D "$SAMBA_BIND_DN" -y "$SAMBA_PASSWORD_FILE" -o ldif-wrap=no "$@"
}
