#!/usr/bin/env bash
# Installs the AWS emulator the Lambda host tests run against: moto[server], pinned in
# hosts/lambda/tests/requirements.txt, into a project-local virtualenv (.venv-lambda). Idempotent.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
command -v python3 >/dev/null 2>&1 || { echo "bootstrap-lambda: python3 is required" >&2; exit 2; }
venv="$root/.venv-lambda"
requirements="$root/hosts/lambda/tests/requirements.txt"
[[ -x "$venv/bin/python" ]] || python3 -m venv "$venv"
if ! cmp -s "$requirements" "$venv/.requirements" 2>/dev/null; then
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$requirements"
  cp "$requirements" "$venv/.requirements"
fi
