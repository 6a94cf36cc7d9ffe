//! A whole scan of arbitrary input, then every renderer on the report. Checks the invariants a
//! report must keep whatever the input: scores within 0..=10000, every finding counted, JSON
//! output that parses back.
#![no_main]

use compliance_engine::render::{TrendPoint, csv, html, json, table};
use compliance_engine::{ReportMeta, ScanOptions, evaluate_document};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let options = ScanOptions { max_item_bytes: 1 << 20, ..ScanOptions::default() };
    let Ok(report) = evaluate_document(options, "fuzz.json", data, ReportMeta::default()) else { return };
    assert!(report.score_bp <= 10_000);
    assert!(report.resources.iter().all(|r| r.score_bp <= 10_000));
    let findings: usize = report.resources.iter().map(|r| r.findings.len()).sum();
    assert_eq!(findings as u64, report.totals.total());
    let rendered = json::render(&report).expect("a report always renders");
    serde_json::from_slice::<serde_json::Value>(&rendered).expect("rendered JSON parses");
    let trend = [TrendPoint { generated_at: "2026-01-01T00:00:00Z".into(), score_bp: report.score_bp }];
    let page = String::from_utf8(html::render(&report, &trend)).expect("HTML is UTF-8");
    assert!(!page.contains("<script"), "a script tag reached the HTML");
    let _ = csv::render(&report);
    let _ = table::render(&report);
});
