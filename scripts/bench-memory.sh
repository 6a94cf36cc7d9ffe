#!/usr/bin/env bash
# Peak resident memory of `compliance scan` on gzipped synthetic snapshots (GNU time's %M).
# Sizes from COMPLIANCE_BENCH_SIZES (default 10000,100000,1000000). Then an organization's
# export of 120 files (COMPLIANCE_BENCH_ORG_SIZES resources, default 100000) scanned with
# --jobs 1 and --jobs 2: the peak of a parallel scan is the whole state plus the few groups read
# ahead of it (hosts/runtime/src/parallel.rs), and the two reports must match; then the CSV, the
# HTML report, the ASFF and OCSF exports and the default formats at --jobs 2, each written in
# pieces. Needs the release binaries (scripts/bench.sh builds them) and GNU time (Debian
# package `time`).
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

IFS=, read -ra org_sizes <<< "${COMPLIANCE_BENCH_ORG_SIZES:-100000}"
printf "\n%-10s %6s %6s %10s %12s\n" resources files jobs wall_s peak_rss_mib
for n in "${org_sizes[@]}"; do
  export_dir="$dir/org-export-120-$n"
  [[ -f "$export_dir/snapshot-0119.json" ]] || "$target/synth-snapshot" "$n" "$export_dir" --org 120
  for jobs in 1 2; do
    status=0
    /usr/bin/time -o "$dir/time-org-$n" -f "%e %M" "$target/compliance" scan "$export_dir" --jobs "$jobs" --format json \
        --out-dir "$dir/out-org-$n-$jobs" --generated-at 2026-01-01T00:00:00.000Z >/dev/null 2>"$dir/stderr-org-$n" || status=$?
    read -r wall rss < <(tail -1 "$dir/time-org-$n")
    [[ $status -eq 0 ]] || wall="$wall(exit $status: $(tail -1 "$dir/stderr-org-$n" | cut -c1-60))"
    printf "%-10s %6s %6s %10s %12s\n" "$n" 120 "$jobs" "$wall" "$((rss / 1024))"
  done
  cmp -s "$dir/out-org-$n-1/report.json" "$dir/out-org-$n-2/report.json" || { echo "bench-memory: --jobs 1 and 2 reports differ for $n" >&2; exit 1; }
done

# Every format is rendered in pieces (JSON, CSV, HTML, the exports; the table is short), so
# none of them should add its size to the peak: each alone, and the default set, at --jobs 2.
# (An ASFF export is also checked against Security Hub's limits as it is written.)
printf "\n%-10s %6s %-16s %10s %12s %12s\n" resources files format wall_s peak_rss_mib out_bytes
for n in "${org_sizes[@]}"; do
  export_dir="$dir/org-export-120-$n"
  for format in csv html asff ocsf html,json,table; do
    status=0
    rm -rf "$dir/out-format"
    /usr/bin/time -o "$dir/time-org-$n" -f "%e %M" "$target/compliance" scan "$export_dir" --jobs 2 --format "$format" \
        --global-region us-east-1 --out-dir "$dir/out-format" --generated-at 2026-01-01T00:00:00.000Z >/dev/null 2>"$dir/stderr-org-$n" || status=$?
    read -r wall rss < <(tail -1 "$dir/time-org-$n")
    [[ $status -eq 0 ]] || wall="$wall(exit $status: $(tail -1 "$dir/stderr-org-$n" | cut -c1-60))"
    printf "%-10s %6s %-16s %10s %12s %12s\n" "$n" 120 "$format" "$wall" "$((rss / 1024))" "$(cat "$dir"/out-format/* | wc -c)"
  done
done
rm -rf "$dir/out-format"
