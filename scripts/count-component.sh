#!/usr/bin/env bash
# Instructions the scoring component executes, by wasm function: the counterpart of the native
# `scan-once` counts for the component. Builds the component as the product does but keeping
# its function names (scripts/build-named-component.sh), scores INPUT with it through the CLI
# under callgrind (the runtime writes /tmp/perf-<pid>.map for the compiled wasm when
# COMPLIANCE_PERF_MAP=1), and adds up callgrind's counts per compiled function. Unlike perf's
# samples the counts are the same on every run, so two builds compare on a noisy machine.
# The total is the component's compiled code alone: the host's reading, hashing and writing,
# and compiling the component at start-up, are not in it. A developer's tool: not part of the
# test command.
#
#   scripts/count-component.sh INPUT [FORMAT] [TOP] [COMPONENT]   # FORMAT: table (default), json, ...
#
# COMPONENT: a named component build to count instead of this checkout's (to compare builds).
# SCAN_OPTIONS: more options for `compliance scan`, e.g. SCAN_OPTIONS="--global-region us-east-1"
# for the exports. JOBS (default 1): `--jobs`; with 2 or more the counts add up every instance's
# (the parallel scan's helpers, and the one that digests finding ids while the report renders).
# Needs valgrind and python3. Valgrind runs everything about 50 times slower: 10k items take
# a few minutes, most of them compiling the component.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
input="${1:?usage: scripts/count-component.sh INPUT [FORMAT] [TOP] [COMPONENT]}"
format="${2:-table}"
top="${3:-30}"
wasm="${4:-}"
read -r -a scan_options <<<"${SCAN_OPTIONS:-}"
command -v valgrind >/dev/null || { echo "count-component: valgrind is not installed (apt-get install valgrind)" >&2; exit 2; }
cli="$(bash "$here/scripts/build-cli.sh")"
wasm="${wasm:-$(bash "$here/scripts/build-named-component.sh")}"
work="$(mktemp -d)"
# wasmtime names its map by the CLI's pid, which under valgrind is the pid valgrind's log
# shows; only that map is removed.
trap 'pid="$(grep -o -m1 "^==[0-9]*==" "$work/valgrind.log" 2>/dev/null | tr -d =)"; if [[ -n "$pid" ]]; then rm -f "/tmp/perf-$pid.map"; fi; rm -rf "$work"' EXIT
COMPLIANCE_PERF_MAP=1 valgrind --tool=callgrind --callgrind-out-file="$work/callgrind.out" --log-file="$work/valgrind.log" \
    "$cli" scan "$input" --component "$wasm" --jobs "${JOBS:-1}" --format "$format" --out-dir "$work/out" "${scan_options[@]}" >/dev/null \
  || { tail -20 "$work/valgrind.log" >&2; exit 1; }
pid="$(grep -o -m1 '^==[0-9]*==' "$work/valgrind.log" | tr -d =)"
# Callgrind names code it has no symbols for by its address; the perf map says which compiled
# function each address is in.
callgrind_annotate --threshold=100 "$work/callgrind.out" >"$work/annotated" 2>/dev/null
python3 - "$work/annotated" "/tmp/perf-$pid.map" "$top" "$(basename "$wasm")" "$(basename "$input")" <<'EOF'
import bisect, re, sys
annotated, perf_map, top, wasm, source = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5]
functions = []
with open(perf_map) as lines:
    for line in lines:
        start, size, name = line.rstrip("\n").split(" ", 2)
        functions.append((int(start, 16), int(size, 16), name))
functions.sort()
starts = [start for start, _, _ in functions]
totals = {}
with open(annotated) as lines:
    for line in lines:
        found = re.match(r"^\s*([\d,]+) \([^)]*\)\s+\?\?\?:0x([0-9a-f]+) ", line)
        if not found:
            continue
        count, address = int(found.group(1).replace(",", "")), int(found.group(2), 16)
        at = bisect.bisect_right(starts, address) - 1
        if at >= 0 and address < functions[at][0] + functions[at][1]:
            name = re.sub(r"17h[0-9a-f]{16}E$", "", functions[at][2])
            totals[name] = totals.get(name, 0) + count
total = sum(totals.values())
print(f"{wasm} on {source}: {total / 1e6:.1f} M instructions in the component's compiled code")
for name, count in sorted(totals.items(), key=lambda item: -item[1])[:top]:
    print(f"{count / 1e6:9.1f} M {100 * count / total:5.1f} %  {name}")
EOF
