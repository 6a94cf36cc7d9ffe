//! End to end: the release `compliance` binary scanning gzipped synthetic snapshots, next to the
//! physical floor measured in the same run: reading the file, gunzipping it alone, and parsing
//! the decompressed JSON with `serde_json` alone. Sizes come from COMPLIANCE_BENCH_SIZES
//! (default `10000,100000`; add 1000000 for the memory target, see BENCHMARKS.md).
//! Build the binary first: `cargo build --release -p compliance-cli` (scripts/bench.sh does).

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;

use compliance_benches::{Shape, org_export, write_snapshot};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};

fn binary() -> PathBuf {
    // target/release/deps/cli-<hash> → target/release/compliance
    let exe = std::env::current_exe().expect("bench path");
    let bin = exe.parent().and_then(Path::parent).map(|dir| dir.join("compliance")).expect("target dir");
    assert!(bin.exists(), "{} is missing: run `cargo build --release -p compliance-cli` first (scripts/bench.sh does)", bin.display());
    bin
}

fn sizes() -> Vec<u64> {
    std::env::var("COMPLIANCE_BENCH_SIZES")
        .unwrap_or_else(|_| "10000,100000".into())
        .split(',')
        .map(|s| s.trim().parse().expect("COMPLIANCE_BENCH_SIZES is a comma-separated list of numbers"))
        .collect()
}

fn fixture(dir: &Path, resources: u64) -> PathBuf {
    let path = dir.join(format!("snapshot-{resources}.json.gz"));
    if !path.exists() {
        let file = std::io::BufWriter::new(std::fs::File::create(&path).expect("create"));
        let mut gz = flate2::write::GzEncoder::new(file, flate2::Compression::new(6));
        write_snapshot(&mut gz, resources, 42, Shape::Snapshot).expect("write");
        gz.finish().expect("gzip");
    }
    path
}

fn end_to_end(c: &mut Criterion) {
    let bin = binary();
    let dir = std::env::temp_dir().join("compliance-bench");
    std::fs::create_dir_all(&dir).expect("bench dir");
    let mut group = c.benchmark_group("cli");
    group.sample_size(10);
    for resources in sizes() {
        let input = fixture(&dir, resources);
        let compressed = std::fs::read(&input).expect("read");
        let mut plain = Vec::new();
        flate2::read::MultiGzDecoder::new(&compressed[..]).read_to_end(&mut plain).expect("gunzip");
        group.throughput(Throughput::Bytes(plain.len() as u64));
        group.bench_with_input(BenchmarkId::new("read_file", resources), &input, |b, input| {
            b.iter(|| assert_eq!(std::fs::read(input).expect("read").len(), compressed.len()));
        });
        group.bench_with_input(BenchmarkId::new("gunzip", resources), &input, |b, input| {
            b.iter(|| {
                let file = std::fs::File::open(input).expect("open");
                let copied = std::io::copy(&mut flate2::read::MultiGzDecoder::new(std::io::BufReader::new(file)), &mut std::io::sink()).expect("gunzip");
                assert_eq!(copied, plain.len() as u64);
            });
        });
        if resources <= 100_000 {
            group.bench_with_input(BenchmarkId::new("serde_json_value", resources), &plain, |b, plain| {
                b.iter(|| assert!(serde_json::from_slice::<serde_json::Value>(plain).expect("json").is_object()));
            });
        }
        let out = dir.join(format!("out-{resources}"));
        // The default reads the one file in parts on every core; `--jobs 1` on one instance.
        for (name, jobs) in [("compliance_scan", None), ("compliance_scan_jobs_1", Some("1"))] {
            group.bench_with_input(BenchmarkId::new(name, resources), &input, |b, input| {
                b.iter(|| {
                    let status = Command::new(&bin)
                        .args(["scan", "--format", "json", "--generated-at", "2026-01-01T00:00:00.000Z", "--out-dir"])
                        .arg(&out)
                        .args(jobs.map(|jobs| ["--jobs", jobs]).into_iter().flatten())
                        .arg(input)
                        .stdout(std::process::Stdio::null())
                        .status()
                        .expect("run compliance");
                    assert!(status.success());
                });
            });
        }
    }
    group.finish();
}

/// `--jobs`: an organization's export of 120 files (COMPLIANCE_BENCH_ORG resources between
/// them, default 100000) scored on one and on two instances, writing the JSON report and
/// writing nothing (`--format table`), so the part that stays serial (taking in the other
/// instances' states, finishing, rendering) shows.
fn jobs(c: &mut Criterion) {
    let bin = binary();
    let resources: u64 = std::env::var("COMPLIANCE_BENCH_ORG").map_or(100_000, |n| n.trim().parse().expect("COMPLIANCE_BENCH_ORG is a number"));
    let dir = std::env::temp_dir().join("compliance-bench").join(format!("org-export-120-{resources}"));
    if !dir.join("snapshot-0119.json").exists() {
        std::fs::create_dir_all(&dir).expect("bench dir");
        for (name, bytes) in org_export(120, resources, 42) {
            std::fs::write(dir.join(name), bytes).expect("write");
        }
    }
    let out = std::env::temp_dir().join("compliance-bench").join("out-jobs");
    let mut group = c.benchmark_group("cli_jobs");
    group.sample_size(10);
    for format in ["table", "json"] {
        for jobs in ["1", "2"] {
            group.bench_function(BenchmarkId::new(format!("org_120_files_{resources}_{format}"), jobs), |b| {
                b.iter(|| {
                    let status = Command::new(&bin)
                        .args(["scan", "--jobs", jobs, "--format", format, "--generated-at", "2026-01-01T00:00:00.000Z", "--out-dir"])
                        .arg(&out)
                        .arg(&dir)
                        .stdout(std::process::Stdio::null())
                        .status()
                        .expect("run compliance");
                    assert!(status.success());
                });
            });
        }
    }
    group.finish();
}

criterion_group!(benches, end_to_end, jobs);
criterion_main!(benches);
