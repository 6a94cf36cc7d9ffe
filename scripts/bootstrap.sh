#!/usr/bin/env bash
# Installs what a fresh machine lacks for building and testing: the pinned Rust toolchain's
# wasm32-wasip2 target (RUSTUP_AUTO_INSTALL=0 here, so rust-toolchain.toml alone installs nothing),
# and any further targets named as arguments (build-lambdas.sh: aarch64-unknown-linux-gnu).
# Idempotent and quiet when everything is present. Sourced or run by the other scripts.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
toolchain="$(sed -n 's/^channel *= *"\(.*\)"/\1/p' "$root/rust-toolchain.toml")"
if ! command -v rustup >/dev/null 2>&1; then
  echo "bootstrap: rustup is required (toolchain $toolchain with target wasm32-wasip2)" >&2
  exit 2
fi
if ! rustup toolchain list | grep -q "^$toolchain"; then
  rustup toolchain install "$toolchain" --profile minimal --component rustfmt,clippy
fi
for target in wasm32-wasip2 "$@"; do
  if ! rustup target list --installed --toolchain "$toolchain" | grep -qx "$target"; then
    rustup target add "$target" --toolchain "$toolchain"
  fi
done
