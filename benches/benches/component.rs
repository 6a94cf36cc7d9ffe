//! The component path against the native engine on the same bytes (the ratio shows the cost of
//! the sandbox and the boundary), and component start-up: compiling from the component bytes
//! (cold) versus loading the artifact precompiled at build time (warm).

use std::borrow::Cow;
use std::hint::black_box;
use std::time::{Duration, Instant};

use compliance_benches::{Shape, scan_natively, snapshot};
use compliance_runtime::{EMBEDDED_COMPONENT, InputSource, Limits, Runtime, ScanRequest};
use criterion::{BatchSize, BenchmarkId, Criterion, Throughput, criterion_group};

fn request() -> ScanRequest {
    ScanRequest { threshold_bp: 7000, criticality_tag: "Criticality".into(), required_tags: Vec::new(), generated_at: "2026-01-01T00:00:00.000Z".into(), waivers: None }
}

fn native_vs_component(c: &mut Criterion) {
    let runtime = Runtime::embedded(Limits::default()).expect("runtime");
    let resources = 10_000u64;
    let bytes = snapshot(resources, 42, Shape::Snapshot, false);
    let mut group = c.benchmark_group("native_vs_component");
    group.sample_size(10);
    group.throughput(Throughput::Bytes(bytes.len() as u64));
    group.bench_with_input(BenchmarkId::new("native", resources), &bytes, |b, bytes| {
        b.iter(|| {
            assert_eq!(scan_natively(black_box(bytes)).expect("scan").input.items, resources);
        });
    });
    // The input is copied for each scan (the runtime takes it by value) outside the timing: no
    // host copies its input whole, and the native side reads the same bytes in place.
    group.bench_with_input(BenchmarkId::new("component", resources), &bytes, |b, bytes| {
        b.iter_batched(
            || bytes.clone(),
            |bytes| {
                let finished = runtime.scan(&request(), vec![InputSource::bytes("bench.json", black_box(bytes))], &mut |_| {}).expect("scan");
                assert_eq!(finished.summary.items, resources);
            },
            BatchSize::LargeInput,
        );
    });
    group.finish();
}

fn startup(c: &mut Criterion) {
    let mut group = c.benchmark_group("component_startup");
    group.sample_size(10);
    group.bench_function("cold_compile_and_instantiate", |b| {
        b.iter(|| {
            let runtime = Runtime::from_bytes(Cow::Borrowed(EMBEDDED_COMPONENT), Limits::default()).expect("compile");
            assert_eq!(runtime.about().expect("instantiate").rule_pack_id, "default");
        });
    });
    group.bench_function("precompiled_load_and_instantiate", |b| {
        b.iter(|| {
            let runtime = Runtime::embedded(Limits::default()).expect("load");
            assert!(runtime.is_precompiled(), "the embedded component should load from the build-time artifact");
            assert_eq!(runtime.about().expect("instantiate").rule_pack_id, "default");
        });
    });
    group.finish();
}

/// The same comparison with the sides alternating, ROUNDS times each: on a shared 2-core
/// machine the load changes between criterion's back-to-back groups and skews their ratio, while
/// alternating rounds see the same conditions. The sides: native, the component as hosts load
/// it (the widest precompiled artifact this CPU runs), and on x86-64 also the x86-64-v2
/// artifact that CPUs without AVX2 get; and the first again on a new instance every scan (a
/// runtime scanning again takes the instance of its last finished scan, whose memory is in
/// place: the difference is what that saves). Printed: the fastest and the median round of each
/// side, and the median of the per-round ratios to native (each round's runs are back to back,
/// so a burst of load elsewhere skews one round's ratio, not the median).
fn interleaved_ratio() {
    const ROUNDS: usize = 15;
    let loaded = Runtime::embedded(Limits::default()).expect("runtime");
    let level = loaded.precompiled_for().unwrap_or("compiled at load");
    let mut components = vec![(format!("component ({level})"), Some(loaded))];
    if cfg!(target_arch = "x86_64") && level != "x86-64-v2" {
        let baseline = Runtime::embedded_precompiled_for("x86-64-v2", Limits::default()).expect("the x86-64-v2 artifact loads");
        components.push(("component (x86-64-v2)".to_owned(), Some(baseline)));
    }
    components.push((format!("({level}, new instance)"), None));
    let resources = 10_000u64;
    let bytes = snapshot(resources, 42, Shape::Snapshot, false);
    let mut native = Vec::new();
    let mut component = vec![(Vec::new(), Vec::new()); components.len()];
    for _ in 0..ROUNDS {
        let start = Instant::now();
        assert_eq!(scan_natively(&bytes).expect("scan").input.items, resources);
        native.push(start.elapsed());
        for ((_, runtime), (times, ratios)) in components.iter().zip(&mut component) {
            // A runtime of its own has no instance to take (loaded outside the timing).
            let mut new = None;
            let runtime = match runtime {
                Some(runtime) => runtime,
                None => new.insert(Runtime::embedded(Limits::default()).expect("runtime")),
            };
            let input = vec![InputSource::bytes("bench.json", bytes.clone())];
            let start = Instant::now();
            let finished = runtime.scan(&request(), input, &mut |_| {}).expect("scan");
            assert_eq!(finished.summary.items, resources);
            drop(finished);
            times.push(start.elapsed());
            ratios.push(native.last().map_or(0.0, Duration::as_secs_f64) / start.elapsed().as_secs_f64());
        }
    }
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    native.sort();
    let (fastest_native, median_native) = (ms(native[0]), ms(native[ROUNDS / 2]));
    println!("native_vs_component/interleaved/{resources} ({ROUNDS} rounds each)");
    println!("  {:<26} fastest {fastest_native:8.1} ms   median {median_native:8.1} ms", "native");
    for ((name, _), (times, ratios)) in components.iter().zip(&mut component) {
        times.sort();
        ratios.sort_by(f64::total_cmp);
        let (fastest, median) = (ms(times[0]), ms(times[ROUNDS / 2]));
        println!("  {name:<26} fastest {fastest:8.1} ms   median {median:8.1} ms");
        println!(
            "  {:<26} throughput = {:.0} % of native (fastest), {:.0} % (median), {:.0} % (median of the rounds' ratios)",
            "",
            100.0 * fastest_native / fastest,
            100.0 * median_native / median,
            100.0 * ratios[ROUNDS / 2]
        );
    }
}

criterion_group!(benches, native_vs_component, startup);

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
    // Not in `cargo test --benches` (one quick pass) or when listing, and only when the filter,
    // if any, selects the comparison.
    let args: Vec<String> = std::env::args().skip(1).collect();
    let filter = args.iter().find(|a| !a.starts_with('-'));
    if !args.iter().any(|a| a == "--test" || a == "--list") && filter.is_none_or(|f| "native_vs_component".contains(f.as_str())) {
        interleaved_ratio();
    }
}
