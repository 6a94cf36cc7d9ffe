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

sha_of() { # reads `compliance component` output, prints the sha256
  sed -n 's/^sha256: *//p'
}

# This checkout's component first, exported for the path check below: the copy's build
# replaces the CLI at the same path in the shared target directory.
here_cli="$(build_cli "$root")"
here="$("$here_cli" component --export "$work/engine.wasm" | sha_of)"
# One copy, at another depth and with its own component target directory: the checkout here is
# the other build. (A second copy cost a further component build, ~3 minutes, and proved no more.)
dest="$work/somewhere/else/checkout"
mkdir -p "$dest"
git ls-files -z --cached --others --exclude-standard | xargs -0 -I{} cp --parents {} "$dest"/ 2>/dev/null || true
copy_cli="$(export COMPLIANCE_COMPONENT_TARGET_DIR="$work/component-target"; build_cli "$dest")"
copy="$("$copy_cli" component | sha_of)"
echo "component sha256 here:            $here"
echo "component sha256 in the copy:     $copy"
if [[ -z "$here" || "$here" != "$copy" ]]; then
  echo "FAIL: the component build is not reproducible across directories" >&2
  exit 1
fi
# All builds share this machine's cargo home, so also prove no absolute path is embedded at
# all: another machine with another $CARGO_HOME or checkout path then builds the same bytes.
cargo_home="$(cd "${CARGO_HOME:-$HOME/.cargo}" && pwd -P)"
for path in "$root" "$cargo_home" "$HOME" "$work"; do
  if grep -aqF "$path/" "$work/engine.wasm"; then
    echo "FAIL: the component embeds the absolute path $path" >&2
    exit 1
  fi
done
echo "reproducible: builds in two directories gave the same component, which embeds no absolute path"
