#!/usr/bin/env bash
# End-to-end tests of the four Lambda functions against the moto emulator on 127.0.0.1, through
# cargo-lambda's local Lambda runtime emulator and `cargo lambda invoke`. Prints init and
# invocation times per function.
#   scripts/e2e-lambda.sh            host builds, built and started by `cargo lambda watch`
#   scripts/e2e-lambda.sh host       the host binaries of `cargo test --workspace` (what test.sh runs:
#                                    no second build of the functions)
#   scripts/e2e-lambda.sh packaged   the arm64 artifacts of scripts/build-lambdas.sh under qemu
# Called by scripts/test.sh; moto and cargo-lambda come from bootstrap-lambda.sh.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
mode="${1:-watch}"
"$root/scripts/bootstrap.sh"
"$root/scripts/bootstrap-lambda.sh"
export PATH="$root/.venv-lambda/bin:$PATH"
cd "$root"
target="${CARGO_TARGET_DIR:-$root/target}"
# The test build's binaries: the CLI (which verifies offline what the analyzer scored) and, in
# host mode, the functions. A no-op after `cargo test --workspace`, whose units these are.
cargo test --locked --workspace --no-run
case "$mode" in
  watch)
    # Built here, so the emulator's first invoke measures a cold start, not a compilation.
    cargo build --locked --package compliance-lambda --bins ;;
  host)
    export E2E_BIN_DIR="$target/debug"
    for function in analyzer evaluator remediator rollup; do
      [[ -x "$E2E_BIN_DIR/$function" ]] || { echo "e2e-lambda: $E2E_BIN_DIR/$function is missing after the test build" >&2; exit 2; }
    done ;;
  packaged)
    "$root/scripts/bootstrap-arm64.sh"
    for function in analyzer evaluator remediator rollup; do
      [[ -x "target/lambda/$function/bootstrap" ]] || { echo "e2e-lambda: target/lambda/$function/bootstrap is missing: run scripts/build-lambdas.sh" >&2; exit 2; }
    done ;;
  *) echo "e2e-lambda: unknown mode $mode (watch, host or packaged)" >&2; exit 2 ;;
esac
export COMPLIANCE_BIN="$target/debug/compliance"
E2E_MODE="$mode" exec "$root/.venv-lambda/bin/python" "$root/hosts/lambda/tests/e2e.py"
