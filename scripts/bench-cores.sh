#!/usr/bin/env bash
# How many cores `compliance scan` keeps busy, and so what `--jobs 2` can gain on this machine.
# Wall time alone cannot tell a scan that waits from one that has run out of cores: each case
# here is timed with GNU time (wall, user and system time of all its threads), the cases
# alternating for ROUNDS rounds (default 5), medians printed. For each `--jobs 1` / `--jobs 2`
# pair it prints the ratio measured and the most `--jobs 2` could reach here if it kept every
# core busy from start to end: T1 / (CPU2 / cores), CPU2 its user + system time. Beside them,
# the cost of writing the JSON report's bytes to a file that does not exist yet: the floor of
# the host's writing thread, which on a VM can cost a core's share while the report renders.
# (The gunzip floor of the CLI's ratio is criterion's, `cli/gunzip`, the decoder the CLI uses.)
# Inputs as scripts/bench-memory.sh makes them (COMPLIANCE_BENCH_ORG_SIZES, default 100000, in
# 120 files; the gzipped snapshot of the first size). Needs the release binaries
# (scripts/bench.sh builds them) and GNU time (Debian package `time`).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
target="${CARGO_TARGET_DIR:-$root/target}/release"
[[ -x /usr/bin/time ]] || { echo "bench-cores: GNU time is required (apt-get install time)" >&2; exit 2; }
for bin in compliance synth-snapshot; do
  [[ -x "$target/$bin" ]] || { echo "bench-cores: $target/$bin is missing: run scripts/bench.sh (or cargo build --release -p compliance-cli -p compliance-benches)" >&2; exit 2; }
done
rounds="${ROUNDS:-5}"
[[ "$rounds" =~ ^[1-9][0-9]*$ ]] || { echo "bench-cores: ROUNDS must be a positive number, not '$rounds'" >&2; exit 2; }
cores=$(nproc)
dir="${TMPDIR:-/tmp}/compliance-bench"
mkdir -p "$dir"
IFS=, read -ra org_sizes <<< "${COMPLIANCE_BENCH_ORG_SIZES:-100000}"
n="${org_sizes[0]}"
export_dir="$dir/org-export-120-$n"
[[ -f "$export_dir/snapshot-0119.json" ]] || "$target/synth-snapshot" "$n" "$export_dir" --org 120
snapshot="$dir/snapshot-$n.json.gz"
[[ -f "$snapshot" ]] || "$target/synth-snapshot" "$n" "$snapshot"
times="$dir/cores-times"
: > "$times"

# case name, then the command; output goes to a directory of the case's own.
run() {
  local name="$1"; shift
  local out="$dir/out-cores-$name" status=0
  rm -rf "$out"; mkdir -p "$out"
  /usr/bin/time -o "$dir/cores-time" -f "%e %U %S" "$@" >/dev/null 2>"$dir/cores-stderr" || status=$?
  if [[ $status -ne 0 ]]; then
    echo "bench-cores: case $name failed (exit $status): $(tail -3 "$dir/cores-stderr")" >&2
    exit 1
  fi
  echo "$name $(tail -1 "$dir/cores-time")" >> "$times"
}
scan() {
  local name="$1"; shift
  run "$name" "$target/compliance" scan --generated-at 2026-01-01T00:00:00.000Z --out-dir "$dir/out-cores-$name" "$@"
}

json_bytes=0
for round in $(seq "$rounds"); do
  echo "bench-cores: round $round of $rounds" >&2
  for jobs in 1 2; do
    scan "org-table-jobs$jobs" "$export_dir" --jobs "$jobs" --format table
    scan "org-json-jobs$jobs" "$export_dir" --jobs "$jobs" --format json
    scan "gz-json-jobs$jobs" "$snapshot" --jobs "$jobs" --format json
  done
  json_bytes=$(stat -c %s "$dir/out-cores-org-json-jobs1/report.json")
  # The org JSON report's size, written to a file that does not exist yet.
  rm -f "$dir/cores-write-floor"
  run write-report-bytes sh -c "head -c $json_bytes /dev/zero > '$dir/cores-write-floor'"
  rm -f "$dir/cores-write-floor"
done

# Medians of wall, user and system time per case.
medians=$(awk '{ w[$1] = w[$1] " " $2; u[$1] = u[$1] " " $3; s[$1] = s[$1] " " $4 }
  function median(list,   n, a, i, j, t) {
    n = split(list, a, " ")
    for (i = 2; i <= n; i++) for (j = i; j > 1 && a[j - 1] + 0 > a[j] + 0; j--) { t = a[j]; a[j] = a[j - 1]; a[j - 1] = t }
    return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
  }
  END { for (c in w) print c, median(w[c]), median(u[c]), median(s[c]) }' "$times" | sort)

echo
echo "$n resources; $cores cores; $rounds rounds, medians; JSON report $json_bytes bytes"
printf "%-22s %8s %8s %8s %8s\n" case wall_s user_s sys_s cores
echo "$medians" | awk '{ printf "%-22s %8.3f %8.3f %8.3f %8.2f\n", $1, $2, $3, $4, ($2 > 0 ? ($3 + $4) / $2 : 0) }'
echo
printf "%-14s %10s %26s\n" pair "jobs1/jobs2" "most on $cores cores (T1/(CPU2/$cores))"
for pair in org-table org-json gz-json; do
  echo "$medians" | awk -v p="$pair" -v cores="$cores" '
    $1 == p "-jobs1" { t1 = $2 } $1 == p "-jobs2" { t2 = $2; cpu2 = $3 + $4 }
    END { printf "%-14s %9.2fx %25.2fx\n", p, t1 / t2, t1 / (cpu2 / cores) }'
done
