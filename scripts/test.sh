#!/usr/bin/env bash
# Every test: unit and integration tests of all crates (the component is built and exercised,
# not only the native engine), the Lambda binaries end to end under cargo-lambda's emulator and
# their arm64 packaging, the engine's lint wall, the two-directory reproducibility check of the
# component build, the infrastructure checks, the HTML reports in a headless browser and bounded
# fuzzing. Prints each step's duration at the end (also when a step fails), so a slow step does
# not grow unnoticed.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
durations=()
started=$SECONDS
report() {
  local status=$?
  echo
  echo "== step durations"
  printf '%s\n' "${durations[@]}"
  printf '%-70s %6ss\n' "total" "$((SECONDS - started))"
  exit "$status"
}
trap report EXIT
step() { # step "title" command...
  local title="$1" at=$SECONDS
  shift
  echo "== $title"
  "$@"
  durations+=("$(printf '%-70s %6ss' "$title" "$((SECONDS - at))")")
}
step "bootstrap (wasm32-wasip2 target; moto, cargo-lambda, zig into .venv-lambda)" \
  bash -c '"$1/scripts/bootstrap.sh" && "$1/scripts/bootstrap-lambda.sh"' _ "$root"
step "one build of each crate (unit graph: build.rs and the runtime share wasmtime)" "$root/scripts/check-build-graph.sh"
step "cargo test" cargo test --locked --workspace
step "Lambda functions end to end (host builds; cargo lambda runtime API + invoke, moto)" "$root/scripts/e2e-lambda.sh" host
step "Lambda packaging for arm64 (cargo lambda build --arm64, dev profile: build-lambdas.sh --dev)" "$root/scripts/build-lambdas.sh" --arm64 --dev
step "packaged arm64 Lambda functions end to end (qemu-aarch64, moto)" "$root/scripts/e2e-lambda.sh" packaged
step "benchmarks compile (run by scripts/bench.sh, not timed here)" cargo test --locked --workspace --benches --no-run
step "clippy (engine lint wall, all crates)" cargo clippy --locked --workspace --all-targets -- -D warnings
step "clippy (component, wasm32-wasip2)" cargo clippy --locked -p compliance-component --target wasm32-wasip2 -- -D warnings
step "infrastructure (Pulumi YAML type check, requirements, IAM lint)" "$root/scripts/check-infra.sh"
step "HTML reports in headless Chromium (no console errors or blocked requests; screenshots)" "$root/scripts/check-html.sh"
step "exports validated by botocore's Security Hub model and py-ocsf-models" "$root/scripts/check-exports.sh"
# After the checks that run this checkout's CLI: the copy's build replaces the workspace's own
# crates in the shared target directory, and a check after it rebuilt them (~35 s).
step "reproducible component build" "$root/scripts/check-reproducible.sh"
step "fuzzing (bounded: FUZZ_SECONDS per target, default 30)" "$root/scripts/fuzz.sh"
