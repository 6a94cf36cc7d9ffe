//! `compliance rollup` and `compliance verify` of org reports, end to end: per-account-region
//! snapshots are scanned into reports (as the analyzer does one per snapshot), rolled up, and
//! the org score is checked against sums computed here from the reports themselves.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::{Value, json};

const SCANNED_AT: &str = "2026-12-01T10:00:00.000Z";
const ROLLED_AT: &str = "2026-12-01T10:20:00.000Z";

fn compliance(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_compliance")).args(args).current_dir(dir).stdin(Stdio::null()).output().expect("the binary runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn read_json(path: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))).expect("json")
}

/// A snapshot of one account-region: `failing` of its `buckets` lack KMS; account `global`
/// IAM roles ride along (as Config records them, in every region that records global types).
fn snapshot(account: &str, region: &str, buckets: usize, failing: usize, roles: &[(&str, bool)]) -> Value {
    let mut items = Vec::new();
    for i in 0..buckets {
        let algo = if i < failing { "AES256" } else { "aws:kms" };
        items.push(json!({"resourceType": "AWS::S3::Bucket", "resourceId": format!("b-{account}-{region}-{i}"), "awsAccountId": account, "awsRegion": region,
            "configurationItemCaptureTime": "2026-12-01T09:00:00.000Z", "configurationItemStatus": "OK",
            "configuration": {"name": format!("b-{i}")},
            "supplementaryConfiguration": {"ServerSideEncryptionConfiguration": {"rules": [{"applyServerSideEncryptionByDefault": {"sseAlgorithm": algo}}]}}}));
    }
    for (name, admin) in roles {
        let action = if *admin { "*" } else { "s3:GetObject" };
        let policy = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": action, "Resource": "*"}]}).to_string();
        items.push(json!({"resourceType": "AWS::IAM::Role", "resourceId": format!("AROA{name}"), "awsAccountId": account, "awsRegion": "global",
            "configurationItemCaptureTime": "2026-12-01T08:00:00.000Z", "configurationItemStatus": "OK", "resourceName": name,
            "configuration": {"roleName": name, "assumeRolePolicyDocument": "%7B%7D", "rolePolicyList": [{"policyName": "p", "policyDocument": policy}]}}));
    }
    json!({"fileVersion": "1.0", "configSnapshotId": format!("{account}-{region}"), "configurationItems": items})
}

/// One account-region of a test estate: account, region, buckets, failing buckets, IAM roles
/// (name, administrator).
type AccountRegion = (&'static str, &'static str, usize, usize, Vec<(&'static str, bool)>);

/// Scans each account-region into `reports/<account>/<region>/report.json`; returns the paths.
fn scan_estate(dir: &Path, estate: &[AccountRegion]) -> Vec<PathBuf> {
    let mut reports = Vec::new();
    for (account, region, buckets, failing, roles) in estate {
        let input = dir.join(format!("{account}_Config_{region}_ConfigSnapshot.json"));
        std::fs::write(&input, snapshot(account, region, *buckets, *failing, roles).to_string()).expect("write snapshot");
        let out_dir = format!("reports/{account}/{region}");
        let out = compliance(&["scan", input.to_str().expect("path"), "--format", "json", "--out-dir", &out_dir, "--generated-at", SCANNED_AT], dir);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        reports.push(dir.join(out_dir).join("report.json"));
    }
    reports
}

fn estate() -> Vec<AccountRegion> {
    vec![
        // Account 1 records its IAM roles in both regions: they must count once.
        ("111111111111", "us-east-1", 10, 1, vec![("admin", true), ("reader", false)]),
        ("111111111111", "eu-west-1", 4, 0, vec![("admin", true), ("reader", false)]),
        ("222222222222", "us-east-1", 6, 5, vec![]),
        ("333333333333", "ap-southeast-2", 3, 0, vec![("ops", false)]),
    ]
}

/// Σ/Σ computed here, from the reports' own parts: regional parts of every report, plus each
/// account's global part once.
fn expected_score(reports: &[PathBuf]) -> (u64, u64) {
    let (mut compliant, mut decided) = (0, 0);
    let mut globals = std::collections::BTreeMap::new();
    for path in reports {
        for part in read_json(path)["by_account_region"].as_array().expect("by_account_region") {
            let weights = (part["weight_compliant"].as_u64().expect("int"), part["weight_decided"].as_u64().expect("int"));
            if part["region"] == "global" {
                globals.insert(part["account_id"].as_str().expect("account").to_owned(), weights);
            } else {
                compliant += weights.0;
                decided += weights.1;
            }
        }
    }
    for (c, d) in globals.values() {
        compliant += c;
        decided += d;
    }
    (compliant, decided)
}

#[test]
fn the_org_score_is_the_exact_ratio_of_the_reports_sums_and_verifies() {
    let dir = tempfile::tempdir().expect("tempdir");
    let reports = scan_estate(dir.path(), &estate());
    let out = compliance(&["rollup", "reports", "--org-id", "o-example", "--generated-at", ROLLED_AT, "--threshold", "60", "--out-dir", "org"], dir.path());
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let org = read_json(&dir.path().join("org/rollup.json"));
    let (compliant, decided) = expected_score(&reports);
    assert_eq!((org["weight_compliant"].as_u64(), org["weight_decided"].as_u64()), (Some(compliant), Some(decided)));
    assert_eq!(org["score_bp"].as_u64(), Some(10_000 * compliant / decided));
    assert_eq!(org["schema"], "compliance-rollup/v1");
    assert_eq!(org["totals"]["inputs"], 4);
    assert_eq!(org["by_account"]["111111111111"]["regions"], 2);
    assert_eq!(org["accounts_below_threshold"], json!(["111111111111", "222222222222"]), "{}", org["by_account"]);
    assert_eq!(org["alert"], true);
    // The global part of account 1 is counted once; the other copy is superseded.
    let global: Vec<&Value> = org["account_regions"].as_array().expect("list").iter().filter(|p| p["region"] == "global" && p["account_id"] == "111111111111").collect();
    assert_eq!(global.iter().filter(|p| p["status"] == "counted").count(), 1);
    assert_eq!(global.iter().filter(|p| p["status"] == "superseded").count(), 1);
    let stdout = text(&out.stdout);
    assert!(stdout.contains("Organization o-example") && stdout.contains("Accounts below the threshold: 111111111111, 222222222222"), "{stdout}");
    let html = std::fs::read_to_string(dir.path().join("org/rollup.html")).expect("html");
    assert!(html.contains("Accounts, worst first") && html.contains("222222222222"));

    // verify reproduces it from the reports, wherever the auditor keeps them.
    let out = compliance(&["verify", "org/rollup.json", "reports"], dir.path());
    assert_eq!(out.status.code(), Some(0), "{}{}", text(&out.stdout), text(&out.stderr));
    assert!(text(&out.stdout).contains("reproduced bit for bit"));
    std::fs::rename(dir.path().join("reports"), dir.path().join("copies")).expect("move");
    let out = compliance(&["verify", "org/rollup.json", "copies"], dir.path());
    assert_eq!(out.status.code(), Some(0), "{}{}", text(&out.stdout), text(&out.stderr));
    std::fs::rename(dir.path().join("copies"), dir.path().join("reports")).expect("move back");
    // One directory per account, as an auditor downloads them: the same relative names
    // (`us-east-1/report.json`) in two of them are told apart by their directories.
    let accounts = ["reports/111111111111", "reports/222222222222", "reports/333333333333"];
    let out = compliance(&[&["verify", "org/rollup.json"][..], &accounts[..]].concat(), dir.path());
    assert_eq!(out.status.code(), Some(0), "{}{}", text(&out.stdout), text(&out.stderr));
    // A directory that links back to itself is walked once, not forever.
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink("..", dir.path().join("reports/333333333333/loop")).expect("symlink");
        let out = compliance(&["verify", "org/rollup.json", "reports"], dir.path());
        assert_eq!(out.status.code(), Some(0), "{}{}", text(&out.stdout), text(&out.stderr));
        std::fs::remove_file(dir.path().join("reports/333333333333/loop")).expect("unlink");
    }

    // An edited report no longer reproduces it, and verify says which.
    let edited = dir.path().join("reports/222222222222/us-east-1/report.json");
    let content = std::fs::read_to_string(&edited).expect("read");
    std::fs::write(&edited, content.replacen("\"weight_compliant\": ", "\"weight_compliant\": 1", 1)).expect("write");
    let out = compliance(&["verify", "org/rollup.json", "reports"], dir.path());
    assert_eq!(out.status.code(), Some(1), "{}{}", text(&out.stdout), text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("MISMATCH") && stdout.contains("report 222222222222/us-east-1/report.json: org report records sha256"), "{stdout}");
}

#[test]
fn account_regions_that_stop_delivering_are_listed_as_missing() {
    let dir = tempfile::tempdir().expect("tempdir");
    scan_estate(dir.path(), &estate());
    let out = compliance(&["rollup", "reports", "--generated-at", ROLLED_AT, "--format", "json", "--out-dir", "hour1"], dir.path());
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    std::fs::remove_dir_all(dir.path().join("reports/333333333333")).expect("account 3 stops delivering");
    let out = compliance(
        &["rollup", "reports", "--generated-at", "2026-12-01T11:20:00.000Z", "--expect-from", "hour1/rollup.json", "--format", "json,table", "--out-dir", "hour2"],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let org = read_json(&dir.path().join("hour2/rollup.json"));
    let missing: Vec<(String, String)> = org["missing"]
        .as_array()
        .expect("list")
        .iter()
        .map(|m| (m["account_id"].as_str().unwrap_or_default().to_owned(), m["region"].as_str().unwrap_or_default().to_owned()))
        .collect();
    assert_eq!(missing, [("333333333333".to_owned(), "ap-southeast-2".to_owned()), ("333333333333".to_owned(), "global".to_owned())]);
    assert!(org["missing"].as_array().expect("list").iter().all(|m| m["last_seen"] == SCANNED_AT && m["reason"] == "missing"));
    assert!(text(&out.stdout).contains("Missing or stale account-regions"));
    // A window that ends before the reports were made counts none of them: all stale.
    let out = compliance(&["rollup", "reports", "--generated-at", "2026-12-01T12:00:00.000Z", "--window-hours", "1", "--format", "json", "--out-dir", "late"], dir.path());
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let org = read_json(&dir.path().join("late/rollup.json"));
    assert_eq!(org["totals"]["stale"], 4, "{}", org["missing"]);
    assert_eq!(org["weight_decided"], 0);
}

#[test]
fn bad_roll_up_inputs_are_clear_errors() {
    let dir = tempfile::tempdir().expect("tempdir");
    // A report of the first release carries no account-region sums.
    let archived = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/archive/report.json");
    let out = compliance(&["rollup", archived.to_str().expect("path")], dir.path());
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("has no by_account_region"), "{}", text(&out.stderr));
    std::fs::write(dir.path().join("notjson.json"), "{ nope").expect("write");
    let out = compliance(&["rollup", "notjson.json"], dir.path());
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("notjson.json is not JSON"), "{}", text(&out.stderr));
    std::fs::create_dir(dir.path().join("empty")).expect("mkdir");
    let out = compliance(&["rollup", "empty"], dir.path());
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("no report.json found"), "{}", text(&out.stderr));
    std::fs::write(dir.path().join("other.json"), r#"{"schema": "something-else/v9"}"#).expect("write");
    let out = compliance(&["verify", "other.json"], dir.path());
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("which this version does not know"), "{}", text(&out.stderr));
}

#[test]
fn a_scan_of_several_accounts_shows_them_worst_first() {
    let dir = tempfile::tempdir().expect("tempdir");
    for (account, failing) in [("111111111111", 0), ("222222222222", 3)] {
        std::fs::write(dir.path().join(format!("{account}.json")), snapshot(account, "us-east-1", 3, failing, &[]).to_string()).expect("write");
    }
    let out = compliance(&["scan", "111111111111.json", "222222222222.json", "--format", "json,table,html", "--generated-at", SCANNED_AT], dir.path());
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    let worst = stdout.find("222222222222").expect("account 2 listed");
    let best = stdout.rfind("111111111111").expect("account 1 listed");
    assert!(stdout.contains("ACCOUNT (worst first)") && worst < best, "{stdout}");
    let report = read_json(&dir.path().join("compliance-report/report.json"));
    assert!(report["by_account"]["222222222222"]["score_bp"].as_u64() < report["by_account"]["111111111111"]["score_bp"].as_u64());
    assert_eq!(report["by_region"]["us-east-1"]["resources"], 6);
    let html = std::fs::read_to_string(dir.path().join("compliance-report/report.html")).expect("html");
    assert!(html.contains("By account (2)"));
}
