#!/usr/bin/env bash
# Every test: unit and integration tests of all crates (the component is built and exercised,
# not only the native engine), the Lambda binaries end to end under cargo-lambda's emulator and
# their arm64 packaging, the engine's lint wall, and the two-directory reproducibility
# check of the component build.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/scripts/bootstrap.sh"
"$root/scripts/bootstrap-lambda.sh" # moto, the AWS emulator of the Lambda host tests
cd "$root"
echo "== cargo test"
cargo test --locked --workspace
echo "== Lambda functions end to end (cargo lambda watch + invoke, against moto)"
"$root/scripts/e2e-lambda.sh"
echo "== Lambda packaging for the stack (cargo lambda build --release --arm64)"
"$root/scripts/build-lambdas.sh"
echo "== packaged arm64 Lambda functions end to end (qemu-aarch64, cargo lambda runtime API, moto)"
"$root/scripts/e2e-lambda.sh" packaged
echo "== benchmarks compile (they are run by scripts/bench.sh, not timed here)"
cargo test --locked -p compliance-benches --benches --no-run
echo "== clippy (engine lint wall, all crates)"
cargo clippy --locked --workspace --all-targets -- -D warnings
echo "== clippy (component, wasm32-wasip2)"
cargo clippy --locked -p compliance-component --target wasm32-wasip2 -- -D warnings
echo "== reproducible component build"
"$root/scripts/check-reproducible.sh"
echo "== infrastructure (Pulumi YAML type check, requirements, IAM lint)"
"$root/scripts/check-infra.sh"
echo "== fuzzing (bounded: FUZZ_SECONDS per target, default 30)"
"$root/scripts/fuzz.sh"
