#!/usr/bin/env bash
# Installs the offline infrastructure checkers: pinned @pulumi/aws + TypeScript (npm ci from the
# lock file in infra/check) and parliament in a project-local virtualenv (.venv). Idempotent.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
for tool in node npm python3; do
  command -v "$tool" >/dev/null 2>&1 || { echo "bootstrap-infra: $tool is required" >&2; exit 2; }
done
check="$root/infra/check"
if [[ ! -d "$check/node_modules/@pulumi/aws" || "$check/package-lock.json" -nt "$check/node_modules/.package-lock.json" ]]; then
  (cd "$check" && npm ci --no-audit --no-fund --loglevel=error)
fi
if [[ ! -x "$root/.venv/bin/python" ]]; then
  python3 -m venv "$root/.venv"
fi
if ! cmp -s "$check/requirements.txt" "$root/.venv/.infra-requirements" 2>/dev/null; then
  "$root/.venv/bin/pip" install --quiet --disable-pip-version-check -r "$check/requirements.txt"
  cp "$check/requirements.txt" "$root/.venv/.infra-requirements"
fi
