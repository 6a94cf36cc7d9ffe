#!/usr/bin/env bash
# Builds the scoring component as the product does (wasm32-wasip2, the `component` profile,
# simd128) but keeping its function names, for the profiling tools (profile-component.sh,
# count-component.sh), and prints its path on stdout (cargo's progress goes to stderr). Its
# own target directory, so the product's component build is not rebuilt.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
rustup target add wasm32-wasip2 >/dev/null
named_dir="${CARGO_TARGET_DIR:-$root/target}/component-named"
CARGO_PROFILE_COMPONENT_STRIP=false CARGO_PROFILE_COMPONENT_DEBUG=false \
    CARGO_ENCODED_RUSTFLAGS="-Ctarget-feature=+simd128" \
    cargo build --locked --package compliance-component --target wasm32-wasip2 --profile component --target-dir "$named_dir" >&2
echo "$named_dir/wasm32-wasip2/component/compliance_component.wasm"
