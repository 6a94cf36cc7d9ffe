#!/usr/bin/env bash
# Bounded fuzzing of the engine (cargo-fuzz, libFuzzer, nightly): every target runs for
# FUZZ_SECONDS (default 30) from a copy of the committed seed corpus (built from the real AWS
# Config fixtures). A crash fails the run and leaves the input in core-wasm/engine/fuzz/artifacts/;
# turn each into a regression test. Prints executions per target.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
seconds="${FUZZ_SECONDS:-30}"
nightly="$(rustup toolchain list | sed -n 's/^\(nightly[^ ]*\).*/\1/p' | head -1)"
if [[ -z "$nightly" ]]; then
  echo "fuzz: a nightly Rust toolchain is required (rustup toolchain install nightly)" >&2
  exit 2
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
  cargo install cargo-fuzz --locked --version 0.13.2
fi
cd "$root/core-wasm/engine/fuzz"
work="$(mktemp -d /tmp/compliance-fuzz.XXXXXX)"
trap 'rm -rf "$work"' EXIT
for target in scan_bytes scan_and_render waivers; do
  mkdir -p "$work/$target"
  cp corpus/"$target"/* "$work/$target"/
  log="$work/$target.log"
  if ! cargo +"$nightly" fuzz run "$target" "$work/$target" -- \
      -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 >"$log" 2>&1; then
    tail -40 "$log" >&2
    echo "fuzz: $target found a crash (input saved under core-wasm/engine/fuzz/artifacts/$target/)" >&2
    exit 1
  fi
  runs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)"
  echo "fuzz: $target: ${runs:-?} executions in ${seconds}s, no crash"
done
