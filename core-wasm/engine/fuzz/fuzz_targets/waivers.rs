//! Waiver files are written by people (SPEC §11): arbitrary bytes must be refused with an error
//! or accepted, never panic. An accepted file is applied to a small scan, and the invariants of
//! waivers are checked: `score_bp` is the score without waivers, the score with waivers is never
//! below it, only NON_COMPLIANT findings are waived, and the JSON report parses back.
#![no_main]

use compliance_engine::render::{html, json};
use compliance_engine::{ReportMeta, Scan, ScanOptions, Status};
use libfuzzer_sys::fuzz_target;

const SNAPSHOT: &[u8] = br#"{"configurationItems": [
  {"resourceType": "AWS::EC2::Volume", "resourceId": "vol-1", "ARN": "arn:aws:ec2:us-east-1:111122223333:volume/vol-1", "awsAccountId": "111122223333", "awsRegion": "us-east-1", "configuration": {"encrypted": false}},
  {"resourceType": "AWS::EC2::Volume", "resourceId": "vol-2", "awsAccountId": "111122223333", "awsRegion": "us-east-1", "configuration": {"encrypted": true}},
  {"resourceType": "AWS::S3::Bucket", "resourceId": "b", "ARN": "arn:aws:s3:::b", "awsAccountId": "444455556666", "awsRegion": "us-east-1", "configuration": {}, "supplementaryConfiguration": {}}]}"#;

fn scan(waivers: Option<&[u8]>) -> Option<compliance_engine::ScoreReport> {
    let mut scan = Scan::new(ScanOptions::default()).ok()?;
    if let Some(bytes) = waivers {
        scan.set_waivers("fuzz.yaml", bytes).ok()?;
    }
    scan.begin_source("s.json").ok()?;
    scan.feed(SNAPSHOT).ok()?;
    scan.end_source().ok()?;
    scan.finish(ReportMeta { generated_at: "2026-12-01T09:00:00Z".to_owned(), ..ReportMeta::default() }).ok()
}

fuzz_target!(|data: &[u8]| {
    let Some(waived) = scan(Some(data)) else { return };
    let plain = scan(None).expect("the scan without waivers succeeds");
    assert_eq!((waived.score_bp, waived.tally), (plain.score_bp, plain.tally));
    assert!(waived.score_with_waivers_bp() >= waived.score_bp);
    assert!(waived.findings().all(|(_, f)| f.waiver.is_none() || f.status == Status::NonCompliant));
    let rendered = json::render(&waived).expect("a report always renders");
    serde_json::from_slice::<serde_json::Value>(&rendered).expect("rendered JSON parses");
    let page = String::from_utf8(html::render(&waived, &[])).expect("HTML is UTF-8");
    assert!(!page.contains("<script"), "a script tag reached the HTML");
});
