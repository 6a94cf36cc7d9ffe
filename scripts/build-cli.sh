#!/usr/bin/env bash
# Builds the `compliance` CLI (dev profile) of the checkout this script is in, the way
# `cargo test --workspace` builds it, and prints the binary's path on stdout (cargo's progress
# goes to stderr). Extra arguments go to cargo (e.g. --quiet).
#
# `--workspace` with a test target makes cargo resolve features as the test build does
# (dev-dependencies included), so the demo, the checks and the tests share one build of
# wasmtime, Cranelift and every other dependency. `cargo build -p compliance-cli` resolves
# fewer features and, on a fresh machine, compiled all of them a second time (minutes).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
cargo build --locked --workspace --bin compliance --test parallel "$@" >&2
echo "${CARGO_TARGET_DIR:-$root/target}/debug/compliance"
