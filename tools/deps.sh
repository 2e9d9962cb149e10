#!/usr/bin/env bash
# Install the Debian packages mvsync needs to build and test, when any is missing.
# Sourced or run by tools/test.sh and tools/demo.sh; safe to run repeatedly.
set -euo pipefail

MVSYNC_PACKAGES=(
  build-essential cmake pkg-config clang libclang-rt-14-dev
  libsqlite3-dev libcurl4-openssl-dev libyajl-dev libldap2-dev libpcre2-dev libssl-dev
  # the Samba AD DC test harness (tests/ldap/samba.sh)
  samba-ad-dc samba-ad-provision ldap-utils openssl python3
  # the Graph peer (tools/graph_peer.py) and its tests
  curl
  # the AD/LDAP connector's tests (tests/ldap/ad_*.sh, slapd_import.sh)
  slapd jq sqlite3
  # the man pages' and the Debian package's tests (tests/cli/man.sh, package_deb.sh)
  man-db groff-base bsdextrautils dpkg-dev adduser systemd
  # the HTML report's test opens the page in headless Chromium (tests/cli/report_html.sh)
  chromium
)

missing=()
for p in "${MVSYNC_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "mvsync: installing ${missing[*]}" >&2
  sudo_cmd=()
  [ "$(id -u)" = 0 ] || sudo_cmd=(sudo)
  export DEBIAN_FRONTEND=noninteractive
  # Package postinst scripts must not start system daemons (smbd, nmbd, winbind, samba-ad-dc):
  # a temporary policy-rc.d that denies every start, removed by the subshell's trap whatever
  # happens (a subshell, so a script that sources this file keeps its own EXIT trap).
  (
    if [ ! -e /usr/sbin/policy-rc.d ]; then
      trap '"${sudo_cmd[@]}" rm -f /usr/sbin/policy-rc.d' EXIT
      printf '#!/bin/sh\nexit 101\n' | "${sudo_cmd[@]}" tee /usr/sbin/policy-rc.d >/dev/null
      "${sudo_cmd[@]}" chmod 755 /usr/sbin/policy-rc.d
    fi
    "${sudo_cmd[@]}" apt-get update -q >&2
    "${sudo_cmd[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}" >&2
  )
fi
