//! `compliance scan --format asff,ocsf` (SPEC §12) through the binary: the exports are
//! reproducible, name the report's findings (NOT_APPLICABLE left out) with stable ids, carry
//! waivers, file global findings in a region the user chose, and fail clearly where they cannot
//! be made. The models of botocore and py-ocsf-models check the same files in
//! `scripts/check-exports.sh`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::Value;

const AT: &str = "2026-12-01T09:00:00.000Z";

fn compliance(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_compliance")).args(args).current_dir(dir).stdin(Stdio::null()).output().expect("the binary runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn demo(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("demo").join(name)
}

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/aws-config")
}

fn scan_demo(dir: &Path, out: &str) -> Output {
    std::fs::copy(demo("config-snapshot-demo.json"), dir.join("snapshot.json")).expect("copy");
    std::fs::copy(demo("waivers.yaml"), dir.join("waivers.yaml")).expect("copy");
    compliance(&["scan", "snapshot.json", "--waivers", "waivers.yaml", "--format", "json,asff,ocsf", "--out-dir", out, "--generated-at", AT], dir)
}

fn ocsf_lines(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path).expect("written").lines().map(|l| serde_json::from_str(l).expect("one object per line")).collect()
}

#[test]
fn the_exports_name_every_decided_finding_of_the_report_reproducibly() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = scan_demo(dir.path(), "a");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("findings for Security Hub in 2 BatchImportFindings calls"), "{stderr}");
    let again = scan_demo(dir.path(), "b");
    assert_eq!(again.status.code(), Some(0), "{}", text(&again.stderr));
    for file in ["findings.asff.json", "findings.ocsf.jsonl"] {
        let (a, b) = (std::fs::read(dir.path().join("a").join(file)).expect("a"), std::fs::read(dir.path().join("b").join(file)).expect("b"));
        assert!(a == b, "{file} is not reproducible");
    }

    let report: Value = serde_json::from_slice(&std::fs::read(dir.path().join("a/report.json")).expect("report")).expect("json");
    let decided: Vec<&Value> = report["findings"].as_array().expect("findings").iter().filter(|f| f["status"] != "NOT_APPLICABLE").collect();
    let asff: Vec<Value> = serde_json::from_slice(&std::fs::read(dir.path().join("a/findings.asff.json")).expect("asff")).expect("array");
    let ocsf = ocsf_lines(&dir.path().join("a/findings.ocsf.jsonl"));
    assert_eq!(asff.len(), decided.len());
    assert_eq!(ocsf.len(), decided.len());
    for ((finding, a), o) in decided.iter().zip(&asff).zip(&ocsf) {
        let id = format!("compliance-scanner/{}/{}", finding["rule_id"].as_str().expect("rule"), finding["id"].as_str().expect("id"));
        assert_eq!(a["Id"], id.as_str());
        assert_eq!(o["finding_info"]["uid"], id.as_str());
        let expected = match finding["status"].as_str() {
            Some("COMPLIANT") => "PASSED",
            Some("NON_COMPLIANT") => "FAILED",
            _ => "WARNING",
        };
        assert_eq!(a["Compliance"]["Status"], expected, "{id}");
        assert_eq!(a["AwsAccountId"], finding["account_id"]);
        assert_eq!(a["ProductFields"]["compliance/input_sha256"], report["input"]["sha256"]);
        assert_eq!(o["unmapped"]["component_sha256"], report["engine"]["component_sha256"]);
        match finding.get("waiver") {
            Some(waiver) => {
                assert_eq!(a["ProductFields"]["compliance/waiver_id"], waiver["id"]);
                assert_eq!(o["status"], "Suppressed");
            }
            None => assert!(a["ProductFields"].get("compliance/waiver_id").is_none()),
        }
    }
    assert!(ocsf.iter().any(|o| o["status"] == "Suppressed"), "the demo waivers waive findings");
}

#[test]
fn global_findings_go_to_the_region_the_user_names_when_the_data_spans_several() {
    let dir = tempfile::tempdir().expect("tempdir");
    let fixtures = fixtures();
    let fixtures = fixtures.to_str().expect("utf-8");
    let out = compliance(&["scan", fixtures, "--format", "asff", "--out-dir", "out", "--generated-at", AT], dir.path());
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("--global-region") && stderr.contains("us-east-1") && stderr.contains("eu-west-1"), "{stderr}");

    // AWS's documentation samples among the fixtures use the 11-digit account 12345678910:
    // Security Hub would refuse those findings, so the scan says which and fails (exit 1),
    // with every finding kept in the file and the other formats written.
    let out = compliance(&["scan", fixtures, "--format", "asff,json", "--global-region", "eu-central-1", "--out-dir", "out", "--generated-at", AT], dir.path());
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("findings break Security Hub's limits") && stderr.contains("`AwsAccountId` `12345678910` is not a 12-digit account id"), "{stderr}");
    assert!(dir.path().join("out/report.json").exists());
    let asff: Vec<Value> = serde_json::from_slice(&std::fs::read(dir.path().join("out/findings.asff.json")).expect("asff")).expect("array");
    let refused = stderr.lines().filter(|l| l.contains("12345678910")).count();
    assert_eq!(asff.iter().filter(|f| f["AwsAccountId"] == "12345678910").count(), refused, "every refused finding named, none dropped");
    let iam: Vec<&Value> = asff.iter().filter(|f| f["Resources"][0]["Type"].as_str().is_some_and(|t| t.starts_with("AwsIam"))).collect();
    assert!(!iam.is_empty());
    for f in iam {
        assert_eq!(f["Region"], "eu-central-1");
        assert!(f["ProductArn"].as_str().is_some_and(|a| a.starts_with("arn:aws:securityhub:eu-central-1:")), "{f}");
    }
    assert!(asff.iter().any(|f| f["Region"] == "us-west-2"), "regional findings keep their region");

    let out = compliance(&["scan", fixtures, "--format", "ocsf", "--global-region", "global", "--out-dir", "bad", "--generated-at", AT], dir.path());
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("is not an AWS region name"), "{}", text(&out.stderr));
    assert!(!dir.path().join("bad/findings.ocsf.jsonl").exists(), "nothing half-written");
}

#[test]
fn a_component_from_before_exports_says_which_version_it_needs() {
    let dir = tempfile::tempdir().expect("tempdir");
    let archived = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/archive/rule-pack-1.2.0-wit-1.3.0/component.wasm");
    let out = compliance(&["scan", "--format", "asff", "--component", archived.to_str().expect("utf-8"), "--out-dir", "out"], dir.path());
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("does not provide exports (scan.render-export-page)") && stderr.contains("WIT 1.5.0"), "{stderr}");
}
