#!/usr/bin/env bash
# The main job on the bundled demo data: builds the CLI, scores the synthetic demo account through
# the component, prints the summary and writes compliance-report/report.html and report.json.
# Build progress (cargo's) goes to stderr; the scan's summary table to stdout.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/scripts/bootstrap.sh"
cd "$root"
target="${CARGO_TARGET_DIR:-$root/target}"
if [[ ! -x "$target/debug/compliance" ]]; then
  echo "demo: first build — cargo compiles wasmtime, the AWS-free CLI and the scoring component (WebAssembly)." >&2
  echo "demo: this takes 10–15 minutes on two cores (later runs: seconds); cargo's progress follows." >&2
fi
bin="$("$root/scripts/build-cli.sh")" # the test command's build of the CLI: one build serves both
exec "$bin" scan "$@"
