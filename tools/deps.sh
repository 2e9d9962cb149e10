#!/usr/bin/env bash
# Install the Debian packages mvsync needs to build and test, when any is missing.
# Sourced or run by tools/test.sh and tools/demo.sh; safe to run repeatedly.
set -euo pipefail

MVSYNC_PACKAGES=(
  build-essential cmake pkg-config clang libclang-rt-14-dev
  libsqlite3-dev libcurl4-openssl-dev libyajl-dev libldap2-dev libpcre2-dev libssl-dev
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
  "${sudo_cmd[@]}" apt-get update -q >&2
  "${sudo_cmd[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}" >&2
fi
