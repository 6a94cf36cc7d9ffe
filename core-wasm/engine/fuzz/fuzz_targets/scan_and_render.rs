//! A whole scan of arbitrary input, then every renderer on the report. Checks the invariants a
//! report must keep whatever the input: scores within 0..=10000, every finding counted, JSON
//! output that parses back, account-region sums that add up to the report's, and an org
//! roll-up of the report alone that scores exactly what the report does; the exports (ASFF, OCSF)
//! one parseable record per decided finding, ASFF within the attribute limits the engine cuts to;
//! the JSON, CSV and HTML reports in small pieces the same bytes as whole, and as they are with
//! some or all of their finding ids digested apart (`ids`); the input taken as a piece of
//! finding keys or of ids is refused or taken, and never panics.
#![no_main]

use compliance_engine::render::export::{self, ExportFormat, ExportOptions};
use compliance_engine::render::{TrendPoint, asff, csv, html, json, rollup as render_rollup, table};
use compliance_engine::rollup::{AccountRegionPart, RollupInput, RollupRequest, roll_up};
use compliance_engine::ids::{IdKeysHandOut, digest_finding_ids};
use compliance_engine::{ReportMeta, ScanOptions, evaluate_document};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let options = ScanOptions { max_item_bytes: 1 << 20, ..ScanOptions::default() };
    let meta = ReportMeta { generated_at: "2026-01-01T00:00:00Z".into(), ..ReportMeta::default() };
    let Ok(report) = evaluate_document(options, "fuzz.json", data, meta) else { return };
    assert!(report.score_bp <= 10_000);
    assert!(report.resources.iter().all(|r| r.score_bp <= 10_000));
    let findings: usize = report.resources.iter().map(|r| r.findings.len()).sum();
    assert_eq!(findings as u64, report.totals.total());
    let rendered = json::render(&report).expect("a report always renders");
    serde_json::from_slice::<serde_json::Value>(&rendered).expect("rendered JSON parses");
    let trend = [TrendPoint { generated_at: "2026-01-01T00:00:00Z".into(), score_bp: report.score_bp }];
    let page = String::from_utf8(html::render(&report, &trend)).expect("HTML is UTF-8");
    assert!(!page.contains("<script"), "a script tag reached the HTML");
    let whole_csv = csv::render(&report);
    let _ = table::render(&report);
    // The paged formats, in small pieces, concatenate to the whole of each.
    let max = 1 + data.len() % 97;
    let joined = |mut next: Box<dyn FnMut() -> Vec<u8> + '_>| {
        let mut all = Vec::new();
        loop {
            let piece = next();
            if piece.is_empty() {
                return all;
            }
            all.extend_from_slice(&piece);
        }
    };
    let mut json_pages = json::JsonPages::default();
    assert_eq!(joined(Box::new(|| json_pages.next_page(&report, max).expect("a page always renders"))), rendered, "JSON pages of {max}");
    let mut csv_pages = csv::CsvPages::default();
    assert_eq!(joined(Box::new(|| csv_pages.next_page(&report, max))), whole_csv, "CSV pages of {max}");
    let mut html_pages = html::HtmlPages::default();
    assert_eq!(joined(Box::new(|| html_pages.next_page(&report, &trend, max))), page.as_bytes(), "HTML pages of {max}");

    // Ids digested apart, in pieces of `max` bytes, the first half of them or all given.
    let mut keys = IdKeysHandOut::default();
    let digested: Vec<Vec<u8>> = std::iter::from_fn(|| Some(keys.next_piece(&report, max)).filter(|piece| !piece.is_empty()))
        .map(|piece| digest_finding_ids(&piece).expect("the report's own keys digest"))
        .collect();
    for given in [digested.len() / 2, digested.len()] {
        let mut with_ids = report.clone();
        for piece in digested.iter().take(given) {
            with_ids.give_finding_ids(piece).expect("the report's own ids are taken in order");
        }
        assert_eq!(json::render(&with_ids).expect("a report always renders"), rendered, "JSON with {given} pieces of ids given");
        assert_eq!(csv::render(&with_ids), whole_csv, "CSV with {given} pieces of ids given");
    }
    let _ = digest_finding_ids(data);
    let mut taken = report.clone();
    let _ = taken.give_finding_ids(data);
    assert!(taken.given_ids.len() <= findings);

    let options = ExportOptions { global_region: "us-east-1".into() };
    let decided = export::findings(&report).count();
    let findings: Vec<serde_json::Value> = serde_json::from_slice(&export::render(&report, ExportFormat::Asff, &options).expect("exports")).expect("ASFF parses");
    assert_eq!(findings.len(), decided);
    for f in &findings {
        assert!(f["Description"].as_str().is_some_and(|d| !d.is_empty() && d.len() <= asff::DESCRIPTION_MAX), "{f}");
        assert!(f["Resources"][0]["Id"].as_str().is_some_and(|d| !d.is_empty() && d.len() <= asff::ID_MAX), "{f}");
        assert_ne!(f["Region"], "global");
    }
    let ocsf = String::from_utf8(export::render(&report, ExportFormat::Ocsf, &options).expect("exports")).expect("UTF-8");
    assert_eq!(ocsf.lines().map(|l| serde_json::from_str::<serde_json::Value>(l).expect("an OCSF line parses")).count(), decided);

    let parts: Vec<AccountRegionPart> = report
        .by_account_region
        .iter()
        .map(|((account_id, region), summary)| AccountRegionPart { account_id: account_id.clone(), region: region.clone(), summary: *summary })
        .collect();
    let (compliant, decided) = parts.iter().fold((0u64, 0u64), |(c, d), p| (c + p.summary.tally.compliant, d + p.summary.tally.decided));
    assert_eq!((compliant, decided), (report.tally.compliant, report.tally.decided), "account-region sums add up to the report's");
    let at = "2026-01-01T00:00:00Z".to_owned();
    let input = RollupInput { name: "fuzz.json".into(), generated_at: at.clone(), parts, ..RollupInput::default() };
    let org = roll_up(RollupRequest { generated_at: at, ..RollupRequest::default() }, vec![input]).expect("a report's own parts always roll up");
    assert_eq!(org.score_bp(), report.score_bp, "the roll-up of one report is that report's score");
    let rendered = render_rollup::json(&org).expect("an org report always renders");
    serde_json::from_slice::<serde_json::Value>(&rendered).expect("rendered org JSON parses");
    assert!(!String::from_utf8(render_rollup::html(&org)).expect("UTF-8").contains("<script"));
});
