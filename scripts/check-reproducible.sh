#!/usr/bin/env bash
# Proves the scoring component builds bit-identically from the same source and toolchain in
# two different directories with different target directories: copies the tracked source to
# a temporary path at another depth, builds the CLI there (sharing only the dependency cache),
# and compares the sha256 of the component it embeds with the one this checkout embeds.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
shared_target="${CARGO_TARGET_DIR:-$root/target}"
work="$(mktemp -d /tmp/compliance-repro.XXXXXX)"
trap 'rm -rf "$work"' EXIT

build_cli() { # $1 = workspace; prints the path of the CLI it built (see build-cli.sh)
  CARGO_TARGET_DIR="$shared_target" "$1/scripts/build-cli.sh" --quiet
}

embedded_sha() { # $1 = workspace, $2 = component target dir (empty: the build's default)
  local cli
  cli="$(if [[ -n "$2" ]]; then export COMPLIANCE_COMPONENT_TARGET_DIR="$2"; fi; build_cli "$1")"
  "$cli" component | sed -n 's/^sha256: *//p'
}

here="$(embedded_sha "$root" "")"
shas=("$here")
# One copy, at another depth and with its own component target directory: the checkout here is
# the other build. (A second copy cost a further component build, ~3 minutes, and proved no more.)
for copy in somewhere/else/checkout; do
  dest="$work/$copy"
  mkdir -p "$dest"
  git ls-files -z --cached --others --exclude-standard | xargs -0 -I{} cp --parents {} "$dest"/ 2>/dev/null || true
  shas+=("$(embedded_sha "$dest" "$work/component-target-$(basename "$copy")")")
done
echo "component sha256 here:            ${shas[0]}"
echo "component sha256 in the copy:     ${shas[1]}"
if [[ -z "${shas[0]}" || "${shas[0]}" != "${shas[1]}" ]]; then
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
echo "reproducible: builds in two directories gave the same component, which embeds no absolute path"
