//! Shared helpers for the cross-crate tests: score the same inputs natively and through the
//! component, with identical provenance, so their reports can be compared byte for byte.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use compliance_engine::render::json;
use compliance_engine::{ReportMeta, Scan, ScanOptions, ScoreReport, SourceDigest};
use compliance_runtime::{FinishedScan, InputSource, Limits, ReportFormat, Runtime, ScanRequest, input_digest, sha256_hex};

/// A fixed `generated_at` so reports are comparable.
pub const GENERATED_AT: &str = "2026-03-03T09:00:00.000Z";

/// `tests/fixtures`.
pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures")
}

/// The embedded component, compiled once per test binary.
pub fn runtime() -> &'static Runtime {
    static RUNTIME: OnceLock<Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| Runtime::embedded(Limits::default()).expect("the embedded component loads"))
}

/// The scan request the tests use.
pub fn request() -> ScanRequest {
    ScanRequest { threshold_bp: 7000, criticality_tag: "Criticality".into(), required_tags: Vec::new(), generated_at: GENERATED_AT.into(), waivers: None }
}

/// Scores named byte sources through the component.
pub fn component_scan(sources: &[(String, Vec<u8>)]) -> Result<FinishedScan, compliance_runtime::RuntimeError> {
    let inputs = sources.iter().map(|(name, bytes)| InputSource::bytes(name.clone(), bytes.clone())).collect();
    runtime().scan(&request(), inputs, &mut |_| {})
}

/// The component's JSON report.
pub fn component_json(sources: &[(String, Vec<u8>)]) -> Vec<u8> {
    component_scan(sources).and_then(|mut s| s.render(ReportFormat::Json, &[])).expect("component scan succeeds")
}

/// Scores the same sources natively, with the provenance the runtime would pass in.
pub fn native_report(sources: &[(String, Vec<u8>)]) -> Result<ScoreReport, compliance_engine::ScanError> {
    let mut scan = Scan::new(ScanOptions::default())?;
    let mut digests = Vec::new();
    for (name, bytes) in sources {
        scan.begin_source(name)?;
        // Odd chunk sizes exercise the splitter's chunk boundaries.
        for chunk in bytes.chunks(7919) {
            scan.feed(chunk)?;
        }
        scan.end_source()?;
        digests.push(SourceDigest { name: name.clone(), sha256: sha256_hex(bytes), bytes: bytes.len() as u64 });
    }
    let manifest: Vec<(String, String)> = digests.iter().map(|d| (d.name.clone(), d.sha256.clone())).collect();
    scan.finish(ReportMeta {
        generated_at: GENERATED_AT.into(),
        component_sha256: runtime().sha256().to_owned(),
        input_sha256: input_digest(&manifest),
        sources: digests,
    })
}

/// The native engine's JSON report.
pub fn native_json(sources: &[(String, Vec<u8>)]) -> Vec<u8> {
    json::render(&native_report(sources).expect("native scan succeeds")).expect("renders")
}

/// Reads a fixture file as a named source.
pub fn source(path: &Path) -> (String, Vec<u8>) {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    (name, std::fs::read(path).expect("fixture readable"))
}
