//! Data-driven cases in `fixtures/cases/`: each input is scored through the component and
//! natively (the reports must be byte-identical), and its statuses are compared with
//! `<case>.expected.json`. Run with `BLESS=1` to rewrite the expectations after a deliberate
//! change; the explicit assertions below pin the semantics the SPEC demands regardless.

use std::collections::BTreeMap;
use std::path::PathBuf;

use compliance_tests::{component_json, fixtures, native_json, source};
use serde_json::{Value, json};

fn case_files() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(fixtures().join("cases"))
        .expect("cases dir")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| !p.to_string_lossy().ends_with(".expected.json"))
        .collect();
    files.sort();
    files
}

/// The part of a report a case pins: counts, score and every finding's status.
fn digest(report: &Value) -> Value {
    let statuses: BTreeMap<String, Value> = report["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|f| (format!("{} {}", f["resource_id"].as_str().unwrap_or(""), f["rule_id"].as_str().unwrap_or("")), f["status"].clone()))
        .collect();
    json!({
        "score_bp": report["score_bp"],
        "evaluated_resources": report["input"]["evaluated_resources"],
        "skipped_resources": report["input"]["skipped_resources"],
        "superseded_items": report["input"]["superseded_items"],
        "statuses": statuses,
    })
}

fn run(path: &std::path::Path) -> Value {
    let sources = vec![source(path)];
    let component = component_json(&sources);
    assert_eq!(component, native_json(&sources), "{}: component and native reports differ", path.display());
    serde_json::from_slice(&component).expect("json")
}

#[test]
fn cases_match_their_expectations() {
    let bless = std::env::var_os("BLESS").is_some();
    for path in case_files() {
        let got = digest(&run(&path));
        let stem = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let stem = stem.split('.').next().unwrap_or_default();
        let expected_path = path.with_file_name(format!("{stem}.expected.json"));
        if bless {
            std::fs::write(&expected_path, serde_json::to_string_pretty(&got).expect("json") + "\n").expect("write expectation");
            continue;
        }
        let expected: Value = serde_json::from_slice(&std::fs::read(&expected_path).unwrap_or_else(|_| panic!("{} missing; run with BLESS=1", expected_path.display())))
            .expect("expectation is JSON");
        assert_eq!(got, expected, "{}", path.display());
    }
}

fn status(report: &Value, resource: &str, rule: &str) -> String {
    report["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|f| f["resource_id"] == resource && f["rule_id"] == rule)
        .and_then(|f| f["status"].as_str())
        .unwrap_or("(no finding)")
        .to_owned()
}

fn case(name: &str) -> Value {
    run(&fixtures().join("cases").join(name))
}

#[test]
fn newest_item_wins_and_ties_go_to_the_larger_state_id() {
    let report = case("history-newest-wins.json");
    assert_eq!(status(&report, "ledger", "s3-bucket-sse-kms"), "NON_COMPLIANT");
    assert_eq!(status(&report, "tie", "s3-bucket-sse-kms"), "COMPLIANT");
    assert_eq!(report["input"]["superseded_items"], 3);
    assert_eq!(report["input"]["evaluated_resources"], 2);
}

#[test]
fn deleted_and_unrecorded_resources_are_skipped() {
    let report = case("newest-deleted-is-skipped.json");
    assert_eq!(report["input"]["evaluated_resources"], 1);
    assert_eq!(report["input"]["skipped_resources"], 2);
    assert_eq!(status(&report, "gone", "s3-bucket-sse-kms"), "(no finding)");
}

#[test]
fn account_level_public_access_block_applies_to_its_account_only() {
    let report = case("account-public-access-block.json");
    assert_eq!(status(&report, "covered", "s3-bucket-public-access-blocked"), "COMPLIANT");
    assert_eq!(status(&report, "covered", "s3-bucket-no-public-acl"), "COMPLIANT");
    assert_eq!(status(&report, "other-account", "s3-bucket-public-access-blocked"), "NON_COMPLIANT");
    assert_eq!(status(&report, "other-account", "s3-bucket-no-public-acl"), "NON_COMPLIANT");
    assert_eq!(report["input"]["other_resources"]["AWS::S3::AccountPublicAccessBlock"], 1);
}

#[test]
fn api_shape_strings_and_percent_encoded_documents() {
    let report = case("api-shape-strings.json");
    assert_eq!(status(&report, "AROAOPEN", "iam-no-admin-access"), "NON_COMPLIANT");
    assert_eq!(status(&report, "AROAOPEN", "iam-role-trust-no-public-principal"), "NON_COMPLIANT");
    assert_eq!(status(&report, "api-bucket", "s3-bucket-no-public-acl"), "NON_COMPLIANT");
    assert_eq!(status(&report, "api-bucket", "s3-bucket-ssl-only"), "COMPLIANT");
    assert_eq!(status(&report, "api-bucket", "s3-bucket-sse-kms"), "COMPLIANT");
    assert_eq!(status(&report, "api-bucket", "s3-bucket-versioning-enabled"), "COMPLIANT");
}

#[test]
fn instance_volumes_are_looked_up_in_the_input() {
    let report = case("instances-and-volumes.ndjson");
    assert_eq!(status(&report, "i-good", "ec2-instance-ebs-encrypted"), "COMPLIANT");
    assert_eq!(status(&report, "i-bad", "ec2-instance-ebs-encrypted"), "NON_COMPLIANT");
    assert_eq!(status(&report, "i-unknown", "ec2-instance-ebs-encrypted"), "INSUFFICIENT_DATA");
}

#[test]
fn score_matches_the_hand_computed_value() {
    // vol-a critical ×8, medium 3, compliant: 24.   vol-b low ×1, medium 3, non-compliant: 3.
    // sg-1 high ×4, high 6, non-compliant: 24.      sg-2 default ×2, high 6, compliant: 12.
    // ⌊10000 × 36 / 63⌋ = 5714.
    let report = case("hand-computed-score.json");
    assert_eq!(report["score_bp"], 5714);
    assert_eq!(report["score"].to_string(), "57.14");
    assert_eq!(report["by_resource_type"]["AWS::EC2::Volume"]["score_bp"], 8888); // ⌊10000 × 24 / 27⌋
    assert_eq!(report["by_resource_type"]["AWS::EC2::SecurityGroup"]["score_bp"], 3333); // ⌊10000 × 12 / 36⌋
    assert_eq!(report["below_threshold"], true);
}

/// Rule pack 1.1.0's verdict changes (CHANGELOG.md), each pinned through the archived last 1.0.0
/// and last 1.1.0 components, in the snapshot and the API shape; the current component must
/// agree with 1.1.0 (1.2.0 changed no verdict).
#[test]
fn rule_pack_1_1_changes_verdicts_exactly_as_the_changelog_says() {
    use compliance_runtime::{InputSource, Limits, ReportFormat, Runtime};
    const CHANGES: [(&str, &str, &str, &str); 13] = [
        ("i-secondary-eip", "ec2-no-public-ip", "COMPLIANT", "NON_COMPLIANT"),
        ("i-private-only", "ec2-no-public-ip", "COMPLIANT", "COMPLIANT"),
        ("sg-slash-zero", "ec2-sg-no-public-admin-ports", "COMPLIANT", "NON_COMPLIANT"),
        ("sg-slash-one", "ec2-sg-no-public-admin-ports", "COMPLIANT", "COMPLIANT"),
        ("sg-v6-slash-zero", "ec2-sg-no-public-admin-ports", "COMPLIANT", "NON_COMPLIANT"),
        ("sg-unparsable", "ec2-sg-no-public-admin-ports", "COMPLIANT", "INSUFFICIENT_DATA"),
        ("sg-from-only-80", "ec2-sg-no-public-admin-ports", "NON_COMPLIANT", "COMPLIANT"),
        ("sg-to-only-3389", "ec2-sg-no-public-admin-ports", "NON_COMPLIANT", "NON_COMPLIANT"),
        ("sg-no-ports", "ec2-sg-no-public-admin-ports", "NON_COMPLIANT", "NON_COMPLIANT"),
        ("ANPA-NOTRESOURCE", "iam-no-admin-access", "COMPLIANT", "NON_COMPLIANT"),
        ("ANPA-SCOPED", "iam-no-admin-access", "COMPLIANT", "COMPLIANT"),
        ("ANPA-DOUBLE-STAR", "iam-no-wildcard-service-actions", "COMPLIANT", "NON_COMPLIANT"),
        ("ANPA-PREFIX-STAR", "iam-no-wildcard-service-actions", "COMPLIANT", "COMPLIANT"),
    ];
    // Both sides archived, so this stays the record of 1.0.0 → 1.1.0 whatever comes later.
    let load = |dir: &str| Runtime::from_file(&fixtures().join("archive").join(dir).join("component.wasm"), Limits::default()).expect("an archived component loads");
    let (old, new) = (load("rule-pack-1.0.0-wit-1.1.0"), load("rule-pack-1.1.0-wit-1.2.0"));
    let render = |runtime: &Runtime, file: &str| -> Value {
        let bytes = std::fs::read(fixtures().join("cases").join(file)).expect("case file");
        let mut finished = runtime.scan(&compliance_tests::request(), vec![InputSource::bytes(file, bytes)], &mut |_| {}).expect("scans");
        serde_json::from_slice(&finished.render(ReportFormat::Json, &[]).expect("renders")).expect("json")
    };
    for (file, prefix) in [("rule-pack-1-1-snapshot-shape.json", "snap-"), ("rule-pack-1-1-api-shape.json", "api-")] {
        let (old_report, new_report) = (render(&old, file), render(&new, file));
        assert_eq!(old_report["engine"]["rule_pack"]["version"], "1.0.0");
        assert_eq!(new_report["engine"]["rule_pack"]["version"], "1.1.0");
        // Rule pack 1.2.0 added the framework mapping and changed no verdict.
        let current = case(file);
        for finding in new_report["findings"].as_array().expect("findings") {
            let (resource, rule) = (finding["resource_id"].as_str().expect("id"), finding["rule_id"].as_str().expect("rule"));
            assert_eq!(status(&current, resource, rule), finding["status"].as_str().expect("status"), "{} changed {rule} on {resource}", compliance_engine::RULE_PACK_VERSION);
        }
        for (resource, rule, was, now) in CHANGES {
            let resource = format!("{prefix}{resource}");
            assert_eq!(status(&old_report, &resource, rule), was, "1.0.0: {rule} on {resource}");
            assert_eq!(status(&new_report, &resource, rule), now, "1.1.0: {rule} on {resource}");
        }
    }
}
