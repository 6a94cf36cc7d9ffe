#!/usr/bin/env bash
# Builds the four Lambda functions for the stack: `cargo lambda build --release` for arm64
# (Graviton, provided.al2023), cross-compiled through zig, into <repo>/target/lambda/<function>/
# bootstrap, where infra/Pulumi.yaml picks them up. Prints each binary's size.
# Usage: scripts/build-lambdas.sh [--arm64 | --x86-64] [--dev]
#   --dev  the dev profile instead of --release: the same code, cross toolchain and precompiled
#          component, with dependencies at opt-level 2. The test command packages this way: its
#          build scripts and proc-macros are the ones `cargo test` already built, where a release
#          build compiles them all again (tens of minutes on a fresh machine). Deploy --release.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
arch=--arm64
profile=(--release)
for option in "$@"; do
  case "$option" in
    --arm64 | --x86-64) arch="$option" ;;
    --dev) profile=() ;;
    *) echo "build-lambdas: unknown option $option (use --arm64, --x86-64 or --dev)" >&2; exit 2 ;;
  esac
done
case "$arch" in
  --arm64) triple=aarch64-unknown-linux-gnu ;;
  --x86-64) triple=x86_64-unknown-linux-gnu ;;
esac
"$root/scripts/bootstrap.sh" "$triple"
"$root/scripts/bootstrap-lambda.sh" # cargo-lambda and zig
# cargo-lambda's zig linker wrappers embed the path of the cargo-lambda executable, and cargo
# rebuilds every arm64 crate when the linker changes; so run it from a fixed place beside the
# build cache rather than from this checkout's virtualenv, and checkouts share one arm64 build.
target_dir="${CARGO_TARGET_DIR:-$root/target}"
tool_dir="$target_dir/tools/cargo-lambda"
mkdir -p "$tool_dir"
if ! cmp -s "$root/.venv-lambda/bin/cargo-lambda" "$tool_dir/cargo-lambda"; then
  cp "$root/.venv-lambda/bin/cargo-lambda" "$tool_dir/cargo-lambda.tmp"
  mv "$tool_dir/cargo-lambda.tmp" "$tool_dir/cargo-lambda"
fi
export PATH="$tool_dir:$root/.venv-lambda/bin:$PATH" # zig comes from the virtualenv
cd "$root"
features=()
# Cross-compiling: give build.rs Cranelift's backend for the target so it can precompile the
# component (otherwise each cold start would compile it, about half a second).
[[ "$(uname -m)" == "${triple%%-*}" ]] || features=(--features cross-precompile)
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
cargo lambda build --locked "${profile[@]}" "$arch" --package compliance-lambda "${features[@]}" --lambda-dir "$root/target/lambda" 2>&1 | tee "$log"
if grep -q "cannot precompile the component" "$log"; then
  echo "build-lambdas: the component was not precompiled for $triple (see the warning above)" >&2
  exit 1
fi
for function in analyzer evaluator remediator rollup; do
  binary="$root/target/lambda/$function/bootstrap"
  [[ -x "$binary" ]] || { echo "build-lambdas: $binary was not produced" >&2; exit 1; }
  printf '%-11s %s bytes  %s\n' "$function" "$(stat -c %s "$binary")" "$(file -b "$binary" 2>/dev/null | cut -d, -f1-2)"
done
