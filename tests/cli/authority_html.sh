#!/bin/sh
# `mvsync authority --html` as an architect's change board sees it (issue 16): the estate of
# engine case 071 (Entra groups provisioned to AD by "Out to AD - Group"; both AD and Entra
# flow a person's employeeId) with owner / purpose / review-by on the writeback — the purpose
# is hostile HTML — after a member was added by hand to the Staff group in AD and put back by
# a delta cycle.  The page is opened in headless Chromium and its DOM checked against what the
# inputs say (authority_html_check.py): the register row, the findings (drift naming the group
# and Dee Late, the employeeId split, the passed review), the detail of every attribute, the
# hostile value shown as text.  Saves a screenshot (pass docs/img/authority.png to update it).
# usage: authority_html.sh MVSYNC [SCREENSHOT.png]
set -eu
MVSYNC=$1
SHOT=${2:-}
case $SHOT in ""|/*) ;; *) SHOT=$PWD/$SHOT ;; esac
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
W=$(mktemp -d "${TMPDIR:-/tmp}/mvsync-authority-XXXXXX")
trap 'rm -rf "$W"' EXIT

# Chromium: Debian's package, which tools/deps.sh installs; skipped only when it is missing
# and this machine cannot install it.
if ! command -v chromium >/dev/null 2>&1; then
  "$ROOT/tools/deps.sh" >/dev/null 2>&1 || true
fi
if ! command -v chromium >/dev/null 2>&1; then
  echo "SKIP: chromium is not installed and tools/deps.sh could not install it (needs root or sudo)"
  exit 77
fi

cp "$ROOT"/tests/engine/cases/071-drift-reported-and-reverted/* "$W/"
cd "$W"
python3 - rules.rules <<'PY'
import sys
p = sys.argv[1]
s = open(p).read()
old = 'rule "Out to AD - Group" {\n  direction outbound\n'
assert old in s
s = s.replace(old, old + '  owner "Groups team <groups@contoso.com>"\n'
              '  purpose "</td><script>document.body.setAttribute(\'data-pwned\',\'1\')</script> & \\"Staff\\""\n'
              '  review-by 2026-06-30\n')
open(p, "w").write(s)
PY
export MVSYNC_STORE="$W/store.db" MVSYNC_RULES="$W/rules.rules"
"$MVSYNC" init >/dev/null
"$MVSYNC" cycle --initial >/dev/null 2>&1
"$MVSYNC" cycle --delta >/dev/null 2>&1
cat hand-edit.ldif >>ad.ldif.changes
"$MVSYNC" cycle --delta >/dev/null 2>&1
"$MVSYNC" authority --html --today 2026-12-05 >authority.html
"$MVSYNC" authority --json --today 2026-12-05 >authority.json
if grep -q '<script' authority.html; then echo "FAIL: a <script> tag in the page's source"; exit 1; fi
if grep -qi '<link\|src="http' authority.html; then echo "FAIL: the page loads a resource"; exit 1; fi

chromium --headless --no-sandbox --disable-gpu --no-first-run --user-data-dir="$W/profile" \
  --virtual-time-budget=3000 --dump-dom "file://$W/authority.html" >dom.html 2>chromium.err
python3 "$HERE/authority_html_check.py" dom.html authority.json
if [ -n "$SHOT" ]; then
  chromium --headless --no-sandbox --disable-gpu --no-first-run --user-data-dir="$W/profile2" \
    --hide-scrollbars --window-size=1280,1100 --screenshot="$W/shot.png" \
    "file://$W/authority.html" >/dev/null 2>&1
  cp "$W/shot.png" "$SHOT"
  echo "screenshot: $SHOT"
fi
