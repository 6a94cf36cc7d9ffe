#!/usr/bin/env bash
# Offline checks of infra/Pulumi.yaml and infra/member-role/Pulumi.yaml (we cannot run the Pulumi CLI here): translation to
# TypeScript type-checked against @pulumi/aws, the SPEC §8 requirement tests, the checker's own
# tests (it must reject what it claims to), and the IAM lint (parliament + no wildcard actions).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/scripts/bootstrap-infra.sh"
cd "$root/infra/check"
node check.mjs ../Pulumi.yaml
node check.mjs ../member-role/Pulumi.yaml
node --test test/
"$root/.venv/bin/python" iam_lint.py ../Pulumi.yaml
"$root/.venv/bin/python" iam_lint.py ../member-role/Pulumi.yaml
"$root/.venv/bin/python" -m unittest discover -s test -p "test_*.py"
