#!/bin/sh
# `mvsync report --html` as a person sees it (issue 15 item 3): the initial cycle of the demo
# estate (tests/data/demo: Contoso's Entra groups written back to AD by
# rules/examples/cloud-groups-to-ad), plus one cloud group whose description is hostile HTML,
# reported as a dry run; the page is opened in headless Chromium and its DOM, after its script
# ran, is checked against what the input data say (report_html_check.py): the writes per
# target connector, the skipped reference, each group's add with its values and rule, the
# hostile value shown as text and nothing injected, and the filters and the search driven by
# the URL fragment.  Saves a screenshot (docs/img/report.png is one: pass its path to update it).
# Then a recorded run's report, the --json form and the usage errors.
# usage: report_html.sh MVSYNC [SCREENSHOT.png]
set -eu
MVSYNC=$1
SHOT=${2:-}
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
W=$(mktemp -d "${TMPDIR:-/tmp}/mvsync-report-XXXXXX")
trap 'rm -rf "$W"' EXIT
fail=0
ok() { echo "ok - $*"; }
bad() { echo "FAIL: $*" >&2; fail=1; }

# Chromium: Debian's package, which tools/deps.sh installs; skipped only when it is missing
# and this machine cannot install it.
if ! command -v chromium >/dev/null 2>&1; then
  "$ROOT/tools/deps.sh" >/dev/null 2>&1 || true
fi
if ! command -v chromium >/dev/null 2>&1; then
  echo "SKIP: chromium is not installed and tools/deps.sh could not install it (needs root or sudo)"
  exit 77
fi

cp "$ROOT"/rules/examples/demo/connectors.rules "$ROOT"/rules/examples/cloud-groups-to-ad/groups.rules \
   "$ROOT"/tests/data/demo/contoso-* "$W/"
rm -f "$W"/*.changes
# A cloud security group (in the writeback scope) whose description would run script if a page
# wrote it as HTML, or end the page's data block.
python3 - "$W/contoso-entra.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
d["groups"].append({"id": "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d", "displayName": "Hostile Values",
    "description": "</script><img src=x onerror=\"document.body.setAttribute('data-pwned','1')\"> & <!-- \"quoted\" -->",
    "mailEnabled": False, "mailNickname": "hostile", "securityEnabled": True, "groupTypes": [],
    "onPremisesSyncEnabled": None, "createdDateTime": "2026-01-01T00:00:00Z",
    "members": [{"@odata.type": "#microsoft.graph.user", "id": "7d1e2f30-4a5b-4c6d-8e7f-901a2b3c4d01"}]})
json.dump(d, open(sys.argv[1], "w"), indent=1)
PY
cd "$W"
export MVSYNC_STORE="$W/mvsync.db" MVSYNC_RULES="$W"
"$MVSYNC" init >/dev/null

# Usage: the verb's help on stdout, exit 0; a missing output form or an unknown option, exit 2.
"$MVSYNC" report --help >help.out && grep -q "usage: mvsync report \[--dry-run | --run ID\]" help.out && ok "report --help" ||
  bad "report --help"
set +e
"$MVSYNC" report --dry-run >/dev/null 2>&1; rc1=$?
"$MVSYNC" report --html --bogus >/dev/null 2>&1; rc2=$?
"$MVSYNC" report --html --run 999 >/dev/null 2>err.out; rc3=$?
set -e
[ "$rc1" = 2 ] && [ "$rc2" = 2 ] && ok "usage errors exit 2" || bad "usage errors: $rc1 $rc2"
[ "$rc3" = 1 ] && grep -q "no run 999" err.out && ok "an unknown run: exit 1" || bad "--run 999: $rc3 $(cat err.out)"

before=$("$MVSYNC" dump --json)
"$MVSYNC" report --dry-run --initial --html >report.html
[ "$("$MVSYNC" dump --json)" = "$before" ] && ok "the dry run's report committed nothing" ||
  bad "report --dry-run changed the store"
grep -q '<img' report.html && bad "the page's source holds an <img> tag" || ok "no raw tag from the data in the page's source"
grep -qi 'src="http\|src=.https\|<link' report.html && bad "the page loads a resource" || ok "self-contained"

# One Chromium per view, side by side: each loads the page with a fragment and dumps the DOM
# its script built.
dom() {
  chromium --headless --no-sandbox --disable-gpu --no-first-run --user-data-dir="$W/profile-$1" \
    --virtual-time-budget=5000 --dump-dom "file://$W/report.html$2" >"$W/dom-$1.html" 2>"$W/chromium-$1.err"
}
dom all "" &
dom send "#kind=send" &
dom finance "#kind=send&q=finance" &
dom hostile "#kind=send&q=%3C%2Fscript%3E" &
dom drift "#drift=1" &
chromium --headless --no-sandbox --disable-gpu --no-first-run --user-data-dir="$W/profile-shot" \
  --virtual-time-budget=5000 --hide-scrollbars --window-size=1280,1000 \
  --screenshot="$W/report.png" "file://$W/report.html" >/dev/null 2>"$W/chromium-shot.err" &
wait
python3 "$HERE/report_html_check.py" "$W" "$W/contoso-entra.json" "$W/groups.rules" || bad "the page as Chromium shows it"
if [ -s "$W/report.png" ] && head -c 8 "$W/report.png" | od -An -c | grep -q "P   N   G"; then
  ok "screenshot"
  [ -z "$SHOT" ] || cp "$W/report.png" "$SHOT"
else
  bad "no screenshot: $(tail -3 "$W/chromium-shot.err")"
fi

# The same data as JSON: the hostile value intact.
"$MVSYNC" report --dry-run --initial --json >report.json
python3 - report.json <<'PY' && ok "report --json" || bad "report --json"
import json, sys
r = json.load(open(sys.argv[1]))
d = [c["new"] for e in r["changes"] if e["kind"] == "send" for c in e["changes"] if c["attr"] == "description"]
assert any(v.startswith("</script><img src=x onerror=") for v in d), d
assert r["summary"] and r["title"]
PY

# A recorded run: the live cycle, then the report of its last run.
"$MVSYNC" cycle --initial >/dev/null 2>&1 || bad "the live cycle failed"
"$MVSYNC" report --html >run.html
chromium --headless --no-sandbox --disable-gpu --no-first-run --user-data-dir="$W/profile-run" \
  --virtual-time-budget=5000 --dump-dom "file://$W/run.html" >dom-run.html 2>/dev/null
last=$("$MVSYNC" runs --json | python3 -c 'import json,sys; r=max(json.load(sys.stdin), key=lambda r: r["id"]); print(r["id"], r["profile"], r["status"])')
python3 - dom-run.html $last <<'PY' && ok "a recorded run's report" || bad "a recorded run's report"
import sys
from html.parser import HTMLParser
class P(HTMLParser):
    def __init__(self):
        super().__init__(); self.cells = []; self.td = False
    def handle_starttag(self, t, a):
        if t == "td": self.td = True; self.cells.append("")
    def handle_endtag(self, t):
        if t == "td": self.td = False
    def handle_data(self, d):
        if self.td: self.cells[-1] += d
p = P(); p.feed(open(sys.argv[1]).read())
run_id, profile, status = sys.argv[2:5]
assert p.cells[:2] == [run_id, profile] and status in p.cells, p.cells[:14]
PY
exit $fail
