#!/usr/bin/env bash
# The Debian package on this machine (Debian 12, as root): `cpack -G DEB` builds it, `apt
# install ./mvsync_*.deb` installs it, and what docs/operations.md promises is there — the
# binary (`mvsync --version` says the package's version), `man mvsync`, the system user, the
# directories with their owners and modes, the store, the units installed and disabled, the
# completion.  Then, from the installed paths and as the mvsync user, the demo rule set
# (tools/demo-files.sh's, from the installed examples) in /etc/mvsync:
#  - the operations.md command lines run as written (extracted from the file; each one that
#    runs mvsync as mvsync must be claimed below): rules check, the initial cycle (dry run
#    first), runs, staging on/off, pending, the online backup and the restore;
#  - the service's own command (ExecStart and Environment read from the installed unit) runs
#    a delta cycle; in staging mode it sends nothing and keeps the exports; when another run
#    holds the store it exits 6, which the unit counts as success, with a clear message;
#  - a newer package (the same build, a higher version) upgrades it and keeps the rule set,
#    the store and an enabled timer;
#  - `apt purge` removes it all, the timer an admin enabled included.
# Leaves the machine as it found it: the package is purged on every exit path.  Refuses to
# run where mvsync is already installed, or a user mvsync exists (it would purge them).
# Usage: package_deb.sh BUILD_DIR   (exit 77, skipped: not root, not Debian, a sanitizer build)
set -u
build=$(cd "$1" && pwd)
root=$(cd "$(dirname "$0")/../.." && pwd)
[ "$(id -u)" = 0 ] || { echo "skipped: needs root (it installs a package)"; exit 77; }
command -v apt >/dev/null && command -v cpack >/dev/null || { echo "skipped: needs apt and cpack"; exit 77; }
grep -q '^MVSYNC_SANITIZE:BOOL=ON' "$build/CMakeCache.txt" &&
  { echo "skipped: a sanitizer build is not a package"; exit 77; }
if dpkg-query -W -f='${Status}' mvsync 2>/dev/null | grep -q installed || getent passwd mvsync >/dev/null; then
  echo "FAIL: mvsync is installed here, or a user mvsync exists: this test installs and purges its own"
  exit 1
fi

work=$(mktemp -d)
holder=
cleanup() {
  [ -n "$holder" ] && kill "$holder" 2>/dev/null
  if dpkg-query -W -f='${Status}' mvsync 2>/dev/null | grep -q installed; then
    DEBIAN_FRONTEND=noninteractive apt-get purge -y -q mvsync >/dev/null 2>&1
  fi
  rm -rf "$work"
}
trap cleanup EXIT
fails=0
fail() { fails=$((fails + 1)); printf 'FAIL %s\n' "$*"; }
ops=$root/docs/operations.md
store=/var/lib/mvsync/mvsync.db
demo=/var/lib/mvsync/demo
adlog=$demo/contoso-ad.ldif.changes

# ---- build and install
(cd "$work" && cpack -G DEB --config "$build/CPackConfig.cmake" -B "$work") >"$work/cpack.log" 2>&1 ||
  { cat "$work/cpack.log"; echo "FAIL: cpack -G DEB"; exit 1; }
deb=$(ls "$work"/mvsync_*.deb 2>/dev/null | head -1)
[ -n "$deb" ] || { echo "FAIL: cpack made no mvsync_*.deb"; exit 1; }
(cd "$work" && DEBIAN_FRONTEND=noninteractive apt install -y -q "./$(basename "$deb")") >"$work/apt.log" 2>&1 ||
  { cat "$work/apt.log"; echo "FAIL: apt install ./$(basename "$deb")"; exit 1; }

# ---- what the package put in place
version=$(dpkg-query -W -f='${Version}' mvsync)
[ "$(mvsync --version)" = "mvsync $version" ] || fail "mvsync --version: '$(mvsync --version)', package version $version"
[ "$(command -v mvsync)" = /usr/bin/mvsync ] || fail "mvsync is not /usr/bin/mvsync"
MANWIDTH=80 man mvsync 2>"$work/man.err" | grep -q '^NAME' || fail "man mvsync: $(cat "$work/man.err")"
MANWIDTH=80 man mvsync-cycle | grep -q 'mvsync-cycle - ' || fail "man mvsync-cycle"
# Debian policy 12.1: man pages gzip -9n compressed.
for page in /usr/share/man/man1/mvsync.1.gz /usr/share/man/man1/mvsync-cycle.1.gz /usr/share/man/man5/mvsync-rules.5.gz; do
  gzip -t "$page" 2>/dev/null || fail "$page is not there, gzip-compressed"
done
[ -z "$(dpkg -L mvsync | grep -E '/share/man/.*\.[0-9]$')" ] || fail "uncompressed man pages: $(dpkg -L mvsync | grep -E '/share/man/.*\.[0-9]$')"
MANWIDTH=80 man 5 mvsync-rules | grep -q 'rule language' || fail "man 5 mvsync-rules"
IFS=: read -r _ _ uid _ _ home shell < <(getent passwd mvsync)
[ -n "${uid:-}" ] || fail "no user mvsync"
[ "${uid:-0}" -lt 1000 ] || fail "mvsync is not a system user (uid $uid)"
[ "${shell:-}" = /usr/sbin/nologin ] || fail "mvsync's shell is $shell, not nologin"
[ "${home:-}" = /var/lib/mvsync ] || fail "mvsync's home is $home"
mode() { stat -c '%U:%G %a' "$1" 2>/dev/null; }
[ "$(mode /etc/mvsync)" = "root:mvsync 750" ] || fail "/etc/mvsync is $(mode /etc/mvsync), want root:mvsync 750"
[ "$(mode /var/lib/mvsync)" = "mvsync:mvsync 700" ] || fail "/var/lib/mvsync is $(mode /var/lib/mvsync), want mvsync:mvsync 700"
[ "$(mode $store)" = "mvsync:mvsync 600" ] || fail "$store is $(mode $store), want mvsync:mvsync 600"
for u in mvsync.service mvsync.timer; do
  [ -f "/usr/lib/systemd/system/$u" ] || fail "$u is not in /usr/lib/systemd/system"
done
[ "$(systemctl is-enabled mvsync.timer 2>&1)" = disabled ] || fail "mvsync.timer is $(systemctl is-enabled mvsync.timer 2>&1), want disabled"
systemd-analyze verify /usr/lib/systemd/system/mvsync.timer /usr/lib/systemd/system/mvsync.service \
  >"$work/verify" 2>&1 || fail "systemd-analyze verify: $(cat "$work/verify")"
bash -c '. /usr/share/bash-completion/completions/mvsync && complete -p mvsync' >/dev/null 2>&1 ||
  fail "the bash completion does not load"

# ---- the demo rule set, as an admin sets it up: rules in /etc/mvsync, data the mvsync user
# may write (the file connector appends exports to its change log)
ex=/usr/share/doc/mvsync/examples
install -d -o mvsync -g mvsync -m 0700 $demo
install -o mvsync -g mvsync -m 0600 $ex/demo/contoso-ad.ldif $ex/demo/contoso-entra.json $demo/
sed "s|path \"contoso-|path \"$demo/contoso-|" $ex/demo/connectors.rules >/etc/mvsync/connectors.rules
cp $ex/cloud-groups-to-ad/groups.rules /etc/mvsync/
chmod 0644 /etc/mvsync/*.rules

# ---- operations.md's command lines, as written
declare -A claimed=()
# doc LINE: run one command line of operations.md (it must be there), in /var/lib/mvsync
# (the docs cd there) with nothing of this test's environment; $out, $rc.
doc() {
  claimed["$1"]=1
  grep -qxF "$1" <(doc_lines) || fail "operations.md has no line: $1"
  out=$(cd /var/lib/mvsync && env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin bash -c "$1" 2>&1); rc=$?
  [ "$rc" = 0 ] || fail "[$1] exit $rc: $out"
}
doc_lines() {
  awk '/^    / { line = $0; sub(/^ +/, "", line)
                 while (line ~ /\\$/ && (getline nxt) > 0) { sub(/ *\\$/, "", line); sub(/^ */, " ", nxt); line = line nxt }
                 print line }' "$ops" | sed 's/  *#.*$//'
}

doc 'runuser -u mvsync -- mvsync rules check /etc/mvsync'
[[ $out == "ok: 2 files, 2 connectors,"* ]] || fail "rules check: $out"
doc 'install -m 0600 -o mvsync -g mvsync /dev/null /etc/mvsync/ad.password'
[ "$(mode /etc/mvsync/ad.password)" = "mvsync:mvsync 600" ] || fail "ad.password is $(mode /etc/mvsync/ad.password)"
runuser -u mvsync -- cat /etc/mvsync/ad.password || fail "mvsync cannot read its secret file"
doc 'runuser -u mvsync -- env MVSYNC_STORE=/var/lib/mvsync/mvsync.db MVSYNC_RULES=/etc/mvsync mvsync cycle --initial --dry-run'
[[ $out == *"dry run of initial cycle: success"* ]] || fail "the initial dry run: $out"
[ -e $adlog ] && fail "the dry run wrote to AD"
doc 'runuser -u mvsync -- env MVSYNC_STORE=/var/lib/mvsync/mvsync.db MVSYNC_RULES=/etc/mvsync mvsync cycle --initial'
[[ $out == *"initial cycle: success"* ]] || fail "the initial cycle: $out"
# What scenario 1 writes to AD (tests/cli/demo.sh holds the same).
grep -qx "dn: CN=Sales_e9305786a271,OU=Cloud Groups,DC=contoso,DC=com" $adlog 2>/dev/null ||
  fail "the initial cycle did not write the Sales group to AD"
[ "$(mode $store)" = "mvsync:mvsync 600" ] || fail "after the cycle $store is $(mode $store)"

# ---- the service's command, from the installed unit, as systemd would run it
unit=/usr/lib/systemd/system/mvsync.service
execstart=$(sed -n 's/^ExecStart=//p' $unit)
mapfile -t unitenv < <(sed -n 's/^Environment=//p' $unit)
[ "$(sed -n 's/^User=//p' $unit)" = mvsync ] || fail "the unit does not run as mvsync"
grep -qx 'SuccessExitStatus=6' $unit || fail "the unit does not count exit 6 (busy) as success"
service() {
  out=$(cd / && umask 0077 && runuser -u mvsync -- env -i PATH=/usr/bin:/bin "${unitenv[@]}" $execstart 2>&1); rc=$?
}
cat $ex/demo/entra-delta-1.json >>$demo/contoso-entra.json.changes
doc 'runuser -u mvsync -- mvsync --store /var/lib/mvsync/mvsync.db staging on'
cp $adlog "$work/ad-before"
service
[ "$rc" = 0 ] || fail "the service's cycle in staging mode: exit $rc: $out"
[[ $out == *"delta cycle: success"* ]] || fail "the service's cycle: $out"
cmp -s "$work/ad-before" $adlog || fail "in staging mode the service's cycle sent exports"
doc 'runuser -u mvsync -- mvsync --store /var/lib/mvsync/mvsync.db pending'
[[ $out == *"CN=Sales_e9305786a271"* ]] || fail "staging kept no exports: $out"

# Another run holds the store: the service's cycle exits 6 at once and says why.
(exec 9>>$store.lock && flock -x 9 && exec sleep 120) &
holder=$!
for _ in $(seq 50); do
  runuser -u mvsync -- mvsync --store $store staging on >/dev/null 2>&1 || break
  sleep 0.1
done
service
[ "$rc" = 6 ] || fail "the service's cycle beside a held lock: exit $rc, want 6: $out"
[[ $out == *"a run is already in progress"* ]] || fail "no clear busy message: $out"
# ... and in the journal it is a notice (<5>, sd-daemon(3)), not an error: stderr a file
# JOURNAL_STREAM names, as systemd sets it.
: >"$work/journal"
(cd / && runuser -u mvsync -- env -i PATH=/usr/bin:/bin "${unitenv[@]}" \
   JOURNAL_STREAM="$(stat -c %d:%i "$work/journal")" $execstart >/dev/null 2>>"$work/journal"); rc=$?
[ "$rc" = 6 ] || fail "the journalled busy cycle: exit $rc"
grep -q '^<5>mvsync cycle: .*a run is already in progress' "$work/journal" ||
  fail "the busy line in the journal is not a notice: $(cat "$work/journal")"
kill $holder; wait $holder 2>/dev/null; holder=

doc 'runuser -u mvsync -- mvsync --store /var/lib/mvsync/mvsync.db staging off --wait'
# An override for the timer's next cycle: the service's cycle runs the full import and
# consumes it.
doc 'runuser -u mvsync -- mvsync --store /var/lib/mvsync/mvsync.db --rules /etc/mvsync schedule override contoso.com --full-import --wait'
doc 'runuser -u mvsync -- mvsync --store /var/lib/mvsync/mvsync.db schedule show'
[[ $out == "contoso.com: full import (since "* ]] || fail "schedule show: $out"
service
[ "$rc" = 0 ] || fail "the service's cycle: exit $rc: $out"
[[ $out == *"contoso.com: a full import asked for by \`mvsync schedule override\`"* ]] ||
  fail "the service's cycle did not run the override's full import: $out"
[[ $(runuser -u mvsync -- mvsync --store $store schedule show) == "no overrides"* ]] ||
  fail "the service's cycle did not consume the override"
cmp -s "$work/ad-before" $adlog && fail "out of staging mode the service's cycle sent nothing"
# The cron recipe, as operations.md writes it: its environment lines and its command, as its
# user; --quiet: nothing printed for a successful cycle (cron would mail it).
cron_env=$(awk '/^    MVSYNC_[A-Z]*=/ { sub(/^ +/, ""); print }' "$ops" | tr '\n' ' ')
read -r _ _ _ _ _ cron_user cron_cmd < <(grep -E '^    \*/30 ' "$ops")
[ "${cron_user:-}" = mvsync ] || fail "the cron line does not run as mvsync: ${cron_user:-none}"
out=$(cd / && runuser -u "$cron_user" -- env -i PATH=/usr/bin:/bin $cron_env bash -c "$cron_cmd" 2>&1); rc=$?
[ "$rc" = 0 ] && [ -z "$out" ] || fail "the cron line: exit $rc, printed: $out"

doc 'runuser -u mvsync -- mvsync --store /var/lib/mvsync/mvsync.db staging on --wait'
doc 'runuser -u mvsync -- mvsync --store /var/lib/mvsync/mvsync.db runs'
runs_before=$out
[[ $runs_before == *"delta-sync"* ]] || fail "runs lacks the service's cycles: $runs_before"
doc 'runuser -u mvsync -- mvsync --store /var/lib/mvsync/mvsync.db runs --json'
doc 'runuser -u mvsync -- mvsync --store /var/lib/mvsync/mvsync.db --rules /etc/mvsync status'
[[ $out == *staging* ]] || fail "status does not show staging mode: $out"

# ---- back up and restore
doc "runuser -u mvsync -- sqlite3 /var/lib/mvsync/mvsync.db \".backup '/var/lib/mvsync/backup.db'\""
doc "runuser -u mvsync -- sqlite3 /var/lib/mvsync/mvsync.db \".backup '/var/lib/mvsync/before-upgrade.db'\""
[ "$(sqlite3 /var/lib/mvsync/backup.db 'PRAGMA integrity_check')" = ok ] || fail "the backup is not a sound database"
service                                     # a cycle after the backup, then restore the backup
doc 'rm -f /var/lib/mvsync/mvsync.db-wal /var/lib/mvsync/mvsync.db-shm'
doc 'install -m 0600 -o mvsync -g mvsync /var/lib/mvsync/backup.db /var/lib/mvsync/mvsync.db'
doc 'runuser -u mvsync -- mvsync --store /var/lib/mvsync/mvsync.db runs'
[ "$out" = "$runs_before" ] || fail "the restored store's runs differ from the backed-up ones"
service
[ "$rc" = 0 ] || fail "a cycle on the restored store: exit $rc: $out"

# Every operations.md line that runs mvsync as mvsync was run above.
while IFS= read -r line; do
  [[ $line == "runuser -u mvsync -- "* ]] || continue
  [ -n "${claimed[$line]+x}" ] || fail "an operations.md command line is not run by this test: $line"
done < <(doc_lines)

# ---- upgrade (operations.md): a newer package over this one keeps the rule set, the store
# (its runs), the directories' owners and modes and an enabled timer; cycles go on.
systemctl enable mvsync.timer >/dev/null 2>&1
[ "$(systemctl is-enabled mvsync.timer 2>&1)" = enabled ] || fail "could not enable mvsync.timer offline"
runs_before=$(runuser -u mvsync -- mvsync --store $store runs)
newer=$version+upgradetest1
mkdir "$work/up"
(cd "$work/up" && cpack -G DEB --config "$build/CPackConfig.cmake" -B "$work/up" -D CPACK_PACKAGE_VERSION="$newer") \
  >"$work/cpack-up.log" 2>&1 || fail "cpack of version $newer: $(tail -5 "$work/cpack-up.log")"
(cd "$work/up" && DEBIAN_FRONTEND=noninteractive apt install -y -q "./mvsync_${newer}_$(dpkg --print-architecture).deb") \
  >"$work/apt-up.log" 2>&1 || fail "apt install of version $newer: $(tail -5 "$work/apt-up.log")"
[ "$(dpkg-query -W -f='${Version}' mvsync)" = "$newer" ] || fail "the upgrade did not install $newer"
[ "$(systemctl is-enabled mvsync.timer 2>&1)" = enabled ] || fail "the upgrade disabled mvsync.timer"
[ "$(mode /etc/mvsync)" = "root:mvsync 750" ] || fail "after the upgrade /etc/mvsync is $(mode /etc/mvsync)"
[ "$(mode /var/lib/mvsync)" = "mvsync:mvsync 700" ] || fail "after the upgrade /var/lib/mvsync is $(mode /var/lib/mvsync)"
[ -f /etc/mvsync/groups.rules ] && [ -f /etc/mvsync/ad.password ] || fail "the upgrade lost the rule set"
[ "$(runuser -u mvsync -- mvsync --store $store runs)" = "$runs_before" ] || fail "the upgrade changed the store's runs"
service
[ "$rc" = 0 ] || fail "a cycle after the upgrade: exit $rc: $out"

# ---- purge: nothing left, an enabled timer's link included
DEBIAN_FRONTEND=noninteractive apt-get purge -y -q mvsync >"$work/purge.log" 2>&1 ||
  fail "apt purge: $(cat "$work/purge.log")"
for p in /usr/bin/mvsync /usr/share/man/man1/mvsync.1.gz /usr/lib/systemd/system/mvsync.timer \
         /etc/systemd/system/timers.target.wants/mvsync.timer /etc/mvsync /var/lib/mvsync \
         /usr/share/doc/mvsync; do
  [ -e "$p" ] || [ -L "$p" ] && fail "purge left $p"
done
getent passwd mvsync >/dev/null && fail "purge left the user mvsync"
getent group mvsync >/dev/null && fail "purge left the group mvsync"

echo "package_deb: $(basename "$deb"), $fails failures"
[ "$fails" = 0 ]
