#!/usr/bin/env bash
# The main job on the bundled demo data: builds everything (the first build compiles wasmtime
# and takes several minutes), scores the synthetic demo account through the component, prints
# the summary and writes compliance-report/report.html and report.json.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/scripts/bootstrap.sh"
cd "$root"
exec cargo run --quiet --locked -p compliance-cli -- scan "$@"
