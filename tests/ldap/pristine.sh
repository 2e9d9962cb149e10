#!/usr/bin/env bash
# ctest fixtures samba_base / samba_big: build the harness's cached pristine copy of a variant
# before the tests that start it, so its one-time build (minutes for big) is not charged to a
# test's own timeout.  Usage: pristine.sh base|big
set -euo pipefail
. "$(dirname "$0")/samba.sh"
_samba_pristine "$1" >/dev/null
