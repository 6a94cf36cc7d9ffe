//! Native engine: scan throughput per item and per MB (snapshot and API shapes), with the
//! `serde_json` parse of the same bytes as the floor, and report rendering at 10k and 100k
//! resources. The engine is built outside `b.iter`; results are asserted inside.

use std::hint::black_box;

use compliance_benches::{Shape, scan_natively, snapshot};
use compliance_engine::render::{html, json};
use compliance_engine::ScoreReport;
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};

fn scan(bytes: &[u8]) -> ScoreReport {
    scan_natively(bytes).expect("the synthetic snapshot scans")
}

fn scanning(c: &mut Criterion) {
    let mut group = c.benchmark_group("native_scan");
    group.sample_size(10);
    for (label, shape) in [("snapshot", Shape::Snapshot), ("api", Shape::Api)] {
        let resources = 10_000u64;
        let bytes = snapshot(resources, 42, shape, false);
        group.throughput(Throughput::Bytes(bytes.len() as u64));
        group.bench_with_input(BenchmarkId::new(format!("engine_{label}"), resources), &bytes, |b, bytes| {
            b.iter(|| {
                let report = scan(black_box(bytes));
                assert_eq!(report.input.items, resources);
            });
        });
        group.bench_with_input(BenchmarkId::new(format!("serde_json_value_{label}"), resources), &bytes, |b, bytes| {
            b.iter(|| {
                let doc: serde_json::Value = serde_json::from_slice(black_box(bytes)).expect("json");
                assert!(doc.is_object());
            });
        });
    }
    group.finish();
}

fn rendering(c: &mut Criterion) {
    let mut group = c.benchmark_group("render");
    group.sample_size(10);
    for resources in [10_000u64, 100_000] {
        let report = scan(&snapshot(resources, 42, Shape::Snapshot, false));
        group.throughput(Throughput::Elements(report.resources.len() as u64));
        group.bench_with_input(BenchmarkId::new("json", resources), &report, |b, report| {
            b.iter(|| assert!(json::render(black_box(report)).expect("render").len() > 1000));
        });
        group.bench_with_input(BenchmarkId::new("html", resources), &report, |b, report| {
            b.iter(|| assert!(html::render(black_box(report), &[]).len() > 1000));
        });
    }
    group.finish();
}

criterion_group!(benches, scanning, rendering);
criterion_main!(benches);
