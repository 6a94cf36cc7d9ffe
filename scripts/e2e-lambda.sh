#!/usr/bin/env bash
# End-to-end tests of the four Lambda functions against the moto emulator on 127.0.0.1, through
# cargo-lambda's local Lambda runtime emulator and `cargo lambda invoke`. Prints init and
# invocation times per function.
#   scripts/e2e-lambda.sh            host builds, started by `cargo lambda watch`
#   scripts/e2e-lambda.sh packaged   the arm64 artifacts of scripts/build-lambdas.sh under qemu
# Called by scripts/test.sh; moto and cargo-lambda come from bootstrap-lambda.sh.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
mode="${1:-watch}"
"$root/scripts/bootstrap.sh"
"$root/scripts/bootstrap-lambda.sh"
export PATH="$root/.venv-lambda/bin:$PATH"
cd "$root"
case "$mode" in
  watch)
    # Built here, so the emulator's first invoke measures a cold start, not a compilation.
    cargo build --locked --package compliance-lambda --bins ;;
  packaged)
    "$root/scripts/bootstrap-arm64.sh"
    for function in analyzer evaluator remediator rollup; do
      [[ -x "target/lambda/$function/bootstrap" ]] || { echo "e2e-lambda: target/lambda/$function/bootstrap is missing: run scripts/build-lambdas.sh" >&2; exit 2; }
    done ;;
  *) echo "e2e-lambda: unknown mode $mode (watch or packaged)" >&2; exit 2 ;;
esac
# The CLI verifies offline what the analyzer scored.
cargo build --locked --package compliance-cli
export COMPLIANCE_BIN="${CARGO_TARGET_DIR:-$root/target}/debug/compliance"
E2E_MODE="$mode" exec "$root/.venv-lambda/bin/python" "$root/hosts/lambda/tests/e2e.py"
