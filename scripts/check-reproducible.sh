#!/usr/bin/env bash
# Proves the scoring component builds bit-identically from the same source and toolchain in
# two different directories with different target directories: copies the tracked source to
# two temporary paths, builds the CLI in each (sharing only the dependency cache), and compares
# the sha256 of the component each embeds with the one this checkout embeds.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
shared_target="${CARGO_TARGET_DIR:-$root/target}"
work="$(mktemp -d /tmp/compliance-repro.XXXXXX)"
trap 'rm -rf "$work"' EXIT

# The CLI is built as `cargo test --workspace` builds it: `--workspace` with a test target
# makes cargo resolve features as the test build does (dev-dependencies included), so the
# copies reuse the test step's wasmtime and AWS SDK builds. `cargo run -p compliance-cli`
# resolves fewer features, and on a fresh machine compiled all of them a second time.
build_cli() { # $1 = workspace; prints the path of the CLI it built
  (cd "$1" && CARGO_TARGET_DIR="$shared_target" cargo build --quiet --locked --workspace --bin compliance --test parallel) &&
    echo "$shared_target/debug/compliance"
}

embedded_sha() { # $1 = workspace, $2 = component target dir (empty: the build's default)
  local cli
  cli="$(if [[ -n "$2" ]]; then export COMPLIANCE_COMPONENT_TARGET_DIR="$2"; fi; build_cli "$1")"
  "$cli" component | sed -n 's/^sha256: *//p'
}

here="$(embedded_sha "$root" "")"
shas=("$here")
for copy in first-checkout somewhere/else/second-checkout; do
  dest="$work/$copy"
  mkdir -p "$dest"
  git ls-files -z --cached --others --exclude-standard | xargs -0 -I{} cp --parents {} "$dest"/ 2>/dev/null || true
  shas+=("$(embedded_sha "$dest" "$work/component-target-$(basename "$copy")")")
done
echo "component sha256 here:            ${shas[0]}"
echo "component sha256 first copy:      ${shas[1]}"
echo "component sha256 second copy:     ${shas[2]}"
if [[ -z "${shas[0]}" || "${shas[0]}" != "${shas[1]}" || "${shas[1]}" != "${shas[2]}" ]]; then
  echo "FAIL: the component build is not reproducible across directories" >&2
  exit 1
fi
# All copies share this machine's cargo home, so also prove no absolute path is embedded at
# all: another machine with another $CARGO_HOME or checkout path then builds the same bytes.
"$(build_cli "$root")" component --export "$work/engine.wasm" >/dev/null
cargo_home="$(cd "${CARGO_HOME:-$HOME/.cargo}" && pwd -P)"
for path in "$root" "$cargo_home" "$HOME" "$work"; do
  if grep -aqF "$path/" "$work/engine.wasm"; then
    echo "FAIL: the component embeds the absolute path $path" >&2
    exit 1
  fi
done
echo "reproducible: 3 builds in 3 directories gave the same component, which embeds no absolute path"
