#!/usr/bin/env bash
# The HTML reports in a real browser: Debian's Chromium, headless, loads the demo's report and an
# org report built from it, and the check fails on any console message (a Content-Security-Policy
# violation, a blocked or failed request, a script error) or when the page's DOM lacks what a
# compliance officer reads (the framework tables; the waiver lists and the waived findings; the
# org tables). Screenshots and the DOMs are
# kept in $CARGO_TARGET_DIR/test-artifacts/html/. First it proves it can fail: a page with a
# blocked image and an inline script must be flagged.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/scripts/bootstrap.sh"
"$root/scripts/bootstrap-browser.sh"
cd "$root"
target="${CARGO_TARGET_DIR:-$root/target}"
art="$target/test-artifacts/html"
rm -rf "$art" && mkdir -p "$art"
profile="$(mktemp -d)"
trap 'rm -rf "$profile"' EXIT

# load PAGE NAME: screenshot, DOM and the browser's log of one page.
load() {
  local page="$1" name="$2"
  timeout 120 chromium --headless --no-sandbox --disable-gpu --no-first-run --user-data-dir="$profile" \
    --enable-logging=stderr --v=0 --window-size=1280,6000 --screenshot="$art/$name.png" "file://$page" 2>"$art/$name.log" >/dev/null
  timeout 120 chromium --headless --no-sandbox --disable-gpu --no-first-run --user-data-dir="$profile" \
    --dump-dom "file://$page" >"$art/$name.dom.html" 2>>"$art/$name.log"
  [[ -s "$art/$name.png" ]] || { echo "check-html: no screenshot of $page" >&2; return 1; }
}

# clean NAME: no console message in the browser's log.
clean() {
  if grep -E ":CONSOLE|Failed to load resource|net::ERR_" "$art/$1.log" >&2; then
    echo "check-html: $1 logged the messages above (see $art/$1.log)" >&2
    return 1
  fi
}

# expect NAME TEXT...: each text is in the DOM the browser built.
expect() {
  local name="$1" text
  shift
  for text in "$@"; do
    grep -qF -- "$text" "$art/$name.dom.html" || { echo "check-html: $name has no \`$text\` in its DOM ($art/$name.dom.html)" >&2; return 1; }
  done
}

# 1. The check fails when it should.
cat >"$art/self-test.html" <<'HTML'
<!DOCTYPE html><html><head><meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src data:"></head>
<body><h1>must be flagged</h1><img src="http://127.0.0.1:9/x.png"><script>console.error("must be flagged")</script></body></html>
HTML
load "$art/self-test.html" self-test
if clean self-test 2>/dev/null; then
  echo "check-html: the self-test page with a blocked image and an inline script was not flagged: the check cannot see console messages" >&2
  exit 1
fi

# 2. The demo's report and an org report made from it.
bin="$("$root/scripts/build-cli.sh")"
"$bin" scan hosts/cli/demo/config-snapshot-demo.json --waivers hosts/cli/demo/waivers.yaml --format html,json --out-dir "$art/report" --generated-at 2026-12-01T09:00:00.000Z >/dev/null
"$bin" rollup "$art/report/report.json" --org-id o-demo000001 --format html,json --out-dir "$art/org" --generated-at 2026-12-01T09:20:00.000Z 2>/dev/null
load "$art/report/report.html" report
clean report
expect report 'id="frameworks"' 'id="fw-aws-security-hub"' 'id="fw-cis-aws-3.0.0"' 'id="fw-pci-dss-4.0.1"' 'id="fw-nist-800-53-r5"' 'badge st-FAILED' 'Failing findings' \
  'id="waivers"' 'Expired — the findings they covered count against the score with waivers again: 1' \
  'Expiring within 30 days — renew or fix: 1' 'Matched no finding — a typo, or the resource is gone: 1' \
  'waived: W-2026-014' 'Score with waivers'
load "$art/org/rollup.html" rollup
clean rollup
expect rollup 'Accounts, worst first'
for name in report rollup; do
  printf 'check-html: %-7s rendered cleanly; screenshot %s (%s bytes)\n' "$name" "$art/$name.png" "$(stat -c %s "$art/$name.png")"
done
