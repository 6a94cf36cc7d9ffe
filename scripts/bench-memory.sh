#!/usr/bin/env bash
# Peak resident memory of `compliance scan` on gzipped synthetic snapshots (GNU time's %M).
# Sizes from COMPLIANCE_BENCH_SIZES (default 10000,100000,1000000). Needs the release binaries
# (scripts/bench.sh builds them) and GNU time (Debian package `time`).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
target="${CARGO_TARGET_DIR:-$root/target}/release"
[[ -x /usr/bin/time ]] || { echo "bench-memory: GNU time is required (apt-get install time)" >&2; exit 2; }
dir="${TMPDIR:-/tmp}/compliance-bench"
mkdir -p "$dir"
IFS=, read -ra sizes <<< "${COMPLIANCE_BENCH_SIZES:-10000,100000,1000000}"
printf "%-10s %12s %12s %10s %12s\n" resources gz_bytes json_bytes wall_s peak_rss_mib
for n in "${sizes[@]}"; do
  input="$dir/snapshot-$n.json.gz"
  [[ -f "$input" ]] || "$target/synth-snapshot" "$n" "$input"
  plain=$(gzip -dc "$input" | wc -c)
  status=0
  /usr/bin/time -o "$dir/time-$n" -f "%e %M" "$target/compliance" scan "$input" --format json --out-dir "$dir/out-$n" \
      --generated-at 2026-01-01T00:00:00.000Z >/dev/null 2>"$dir/stderr-$n" || status=$?
  read -r wall rss < <(tail -1 "$dir/time-$n")
  [[ $status -eq 0 ]] || wall="$wall(exit $status: $(tail -1 "$dir/stderr-$n" | cut -c1-60))"
  printf "%-10s %12s %12s %10s %12s\n" "$n" "$(stat -c %s "$input")" "$plain" "$wall" "$((rss / 1024))"
done
