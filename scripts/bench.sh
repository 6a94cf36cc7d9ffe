#!/usr/bin/env bash
# Runs the criterion benchmarks (engine, component, CLI end to end), the peak-memory
# measurement and how many cores the CLI keeps busy (bench-cores.sh). Results:
# target/criterion/ and stdout; see BENCHMARKS.md for how to read them.
#   COMPLIANCE_BENCH_SIZES=10000,100000,1000000 scripts/bench.sh   # include the 1M snapshot
#   scripts/bench.sh -- --quick                                     # criterion quick mode
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/scripts/bootstrap.sh"
cd "$root"
cargo build --release --locked -p compliance-cli -p compliance-benches
cargo bench --locked -p compliance-benches --benches "$@"
"$root/scripts/bench-memory.sh"
"$root/scripts/bench-cores.sh"
