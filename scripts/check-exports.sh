#!/usr/bin/env bash
# The exports (SPEC §12) validated with the ecosystem's own models, pinned in
# scripts/exports/requirements.txt and installed into a project-local virtualenv
# (.venv-exports): every ASFF finding against the BatchImportFindings request shape of
# botocore's Security Hub model, every OCSF line against py-ocsf-models' OCSF 1.5.0
# ComplianceFinding. Scans the demo snapshot with its waivers, and the real AWS Config samples
# in tests/fixtures/aws-config (several regions, so --global-region; AWS's documentation samples
# there use an 11-digit account id that Security Hub would refuse: the scan must say so and exit
# 1, with every finding still in the file). First proves the validator can fail.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/scripts/bootstrap.sh"
command -v python3 >/dev/null 2>&1 || { echo "check-exports: python3 is required" >&2; exit 2; }
venv="$root/.venv-exports"
requirements="$root/scripts/exports/requirements.txt"
if [[ ! -x "$venv/bin/python" ]]; then
  python3 -m venv "$venv"
fi
if ! cmp -s "$requirements" "$venv/.requirements" 2>/dev/null; then
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$requirements"
  cp "$requirements" "$venv/.requirements"
fi
cd "$root"
bin="$("$root/scripts/build-cli.sh")"
work="$(mktemp -d /tmp/compliance-exports.XXXXXX)"
trap 'rm -rf "$work"' EXIT
at=2026-12-01T09:00:00.000Z

"$bin" scan hosts/cli/demo/config-snapshot-demo.json --waivers hosts/cli/demo/waivers.yaml \
  --format asff,ocsf --generated-at "$at" --out-dir "$work/demo"
"$venv/bin/python" scripts/exports/validate.py --self-test "$work/demo"

status=0
"$bin" scan tests/fixtures/aws-config --global-region eu-central-1 \
  --format asff,ocsf --generated-at "$at" --out-dir "$work/fixtures" 2>"$work/fixtures.log" || status=$?
if [[ "$status" != 1 ]] || ! grep -q "12345678910\` is not a 12-digit account id" "$work/fixtures.log"; then
  cat "$work/fixtures.log" >&2
  echo "check-exports: the fixtures' scan should exit 1 naming the findings of account 12345678910 (exit $status)" >&2
  exit 1
fi
"$venv/bin/python" scripts/exports/validate.py "$work/demo" "$work/fixtures"
