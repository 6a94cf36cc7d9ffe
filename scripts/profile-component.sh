#!/usr/bin/env bash
# Where the scoring component spends its time, by function: builds the component as the
# product does (wasm32-wasip2, the `component` profile, simd128) but keeping its function
# names, scores INPUT with it through the CLI under `perf record` (the runtime writes
# /tmp/perf-<pid>.map for the compiled wasm when COMPLIANCE_PERF_MAP=1), and prints the
# hottest functions, wasm and host alike. A developer's tool: not part of the test command.
#
#   scripts/profile-component.sh INPUT [FORMAT] [TOP]     # FORMAT: table (default), json, html, ...
#
# Needs `perf` (Debian: linux-perf) allowed to sample its own user-space (cpu-clock:u), and the
# CLI built (scripts/build-cli.sh). The run includes compiling the component (Cranelift, about
# a second), which shows up as cranelift/regalloc2 frames: profile 100k resources or more
# (`synth-snapshot 100000 snap.json`) for the component's own share to dominate.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
input="${1:?usage: scripts/profile-component.sh INPUT [FORMAT] [TOP]}"
format="${2:-table}"
top="${3:-40}"
command -v perf >/dev/null || { echo "profile-component: perf is not installed (apt-get install linux-perf)" >&2; exit 2; }
cli="$(bash "$here/scripts/build-cli.sh")"
wasm="$(bash "$here/scripts/build-named-component.sh")"
work="$(mktemp -d)"
# wasmtime names its map by the CLI's pid: the CLI is exec'd by a shell that writes it down
# first, and only that map is removed.
trap 'if [[ -s "$work/pid" ]]; then rm -f "/tmp/perf-$(cat "$work/pid").map"; fi; rm -rf "$work"' EXIT
COMPLIANCE_PERF_MAP=1 perf record -q -F 4999 -e cpu-clock:u -o "$work/perf.data" -- \
    bash -c 'echo $$ > "$0"; exec "$@"' "$work/pid" \
    "$cli" scan "$input" --component "$wasm" --jobs 1 --format "$format" --out-dir "$work/out" >&2
echo "== share of samples: the component's compiled code is the perf-<pid>.map object"
perf report -i "$work/perf.data" --no-children --sort dso --stdio 2>/dev/null | grep -v '^#' | grep -v '^$' | head -n 8
echo "== hottest functions"
perf report -i "$work/perf.data" --no-children --sort sym --stdio 2>/dev/null | grep -v '^#' | grep -v '^$' | head -n "$top"
