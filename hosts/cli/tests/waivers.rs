//! `compliance scan --waivers` and `verify --waivers` (SPEC §11) through the binary: the demo
//! waiver file's effect on both scores and every format, the expiry boundary, `verify` with the
//! same, an edited and no waiver file, malformed files, and an archived component.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::Value;

/// A day after W-2026-003 expired, 19 days before W-2026-021 expires.
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

fn read(path: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).expect("report written")).expect("json")
}

/// Scans a copy of the demo snapshot with a copy of the demo waivers (both in `dir`).
fn scan(dir: &Path, out_dir: &str, at: &str, waivers: bool) -> Output {
    std::fs::copy(demo("config-snapshot-demo.json"), dir.join("snapshot.json")).expect("copy");
    std::fs::copy(demo("waivers.yaml"), dir.join("waivers.yaml")).expect("copy");
    let mut args = vec!["scan", "snapshot.json", "--format", "json,csv,html,table", "--out-dir", out_dir, "--generated-at", at];
    if waivers {
        args.extend(["--waivers", "waivers.yaml"]);
    }
    compliance(&args, dir)
}

fn ids(list: &Value) -> Vec<&str> {
    list.as_array().expect("list").iter().map(|v| v.as_str().expect("id")).collect()
}

#[test]
fn the_demo_waivers_mark_findings_and_raise_only_the_score_with_waivers() {
    let dir = tempfile::tempdir().expect("tempdir");
    let plain = scan(dir.path(), "plain", AT, false);
    assert_eq!(plain.status.code(), Some(0), "{}", text(&plain.stderr));
    let out = scan(dir.path(), "waived", AT, true);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let (before, after) = (read(&dir.path().join("plain/report.json")), read(&dir.path().join("waived/report.json")));

    // score_bp and every status unchanged; the score with waivers only higher.
    assert_eq!(after["score_bp"], before["score_bp"]);
    assert_eq!(after["weight_compliant"], before["weight_compliant"]);
    assert_eq!(before["score_with_waivers_bp"], before["score_bp"], "no waiver file: one score");
    let statuses = |r: &Value| r["findings"].as_array().expect("findings").iter().map(|f| (f["id"].clone(), f["status"].clone())).collect::<Vec<_>>();
    assert_eq!(statuses(&after), statuses(&before), "no finding hidden or changed");
    let (score, with) = (after["score_bp"].as_u64().expect("bp"), after["score_with_waivers_bp"].as_u64().expect("bp"));
    assert!(with > score, "{with} > {score}");
    println!("demo at {AT}: score_bp {score}, score_with_waivers_bp {with}, {}", after["waivers"]);

    // Which waiver did what, judged at generated_at.
    let w = &after["waivers"];
    assert_eq!(ids(&w["expired"]), ["W-2026-003"], "expired 2026-11-30");
    assert_eq!(ids(&w["expiring_soon"]), ["W-2026-021"], "expires 2026-12-20");
    assert_eq!(ids(&w["unmatched"]), ["W-2026-030"], "the decommissioned bucket is gone");
    assert_eq!((w["active"].as_u64(), w["waived_findings"].as_u64()), (Some(3), Some(2)));
    let waived: Vec<(&str, &str, &str)> = after["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| !f["waiver"].is_null())
        .map(|f| (f["waiver"]["id"].as_str().expect("id"), f["rule_id"].as_str().expect("rule"), f["status"].as_str().expect("status")))
        .collect();
    assert_eq!(
        waived,
        [("W-2026-021", "ec2-sg-no-public-admin-ports", "NON_COMPLIANT"), ("W-2026-014", "s3-bucket-logging-enabled", "NON_COMPLIANT")]
    );
    let file = std::fs::read(dir.path().join("waivers.yaml")).expect("read");
    assert_eq!(after["input"]["waivers"]["sha256"], compliance_runtime::sha256_hex(&file));
    assert_eq!(after["input"]["waivers"]["name"], "waivers.yaml");
    assert!(before["input"]["waivers"].is_null());

    // The other formats.
    let table = text(&out.stdout);
    assert!(table.contains("Score with waivers: ") && table.contains("(2 non-compliant findings waived by 3 active waivers of waivers.yaml)"), "{table}");
    assert!(table.contains("Waivers expired: W-2026-003") && table.contains("Waivers expiring within 30 days: W-2026-021") && table.contains("Waivers that matched no finding: W-2026-030"), "{table}");
    let csv = std::fs::read_to_string(dir.path().join("waived/findings.csv")).expect("csv");
    assert!(csv.lines().next().is_some_and(|h| h.ends_with(",waiver_id,waiver_owner,waiver_expires")));
    assert_eq!(csv.lines().filter(|l| l.contains(",W-2026-0")).count(), 2, "{csv}");
    let html = std::fs::read_to_string(dir.path().join("waived/report.html")).expect("html");
    assert!(html.contains("<h2 id=\"waivers\">Waivers (4 in <code>waivers.yaml</code>)</h2>") && html.contains("waived: W-2026-014"));

    // diff: the waivers started, nothing else changed.
    let diff = compliance(&["diff", "plain/report.json", "waived/report.json", "--format", "json"], dir.path());
    assert_eq!(diff.status.code(), Some(0), "{}", text(&diff.stderr));
    let d: Value = serde_json::from_slice(&diff.stdout).expect("json");
    let started: Vec<&str> = d["waivers_started"].as_array().expect("list").iter().map(|w| w["waiver_id"].as_str().expect("id")).collect();
    assert_eq!(started, ["W-2026-021", "W-2026-014"], "{d}");
    assert_eq!((d["score_bp_change"].as_i64(), d["new_non_compliant"].as_array().map(Vec::len)), (Some(0), Some(0)));
    assert_eq!(d["score_with_waivers_bp_change"].as_i64(), Some(with as i64 - score as i64), "{d}");
    assert_eq!((d["old"]["score_with_waivers_bp"].as_u64(), d["new"]["score_with_waivers_bp"].as_u64()), (Some(score), Some(with)));
    for format in ["table", "markdown"] {
        let shown = compliance(&["diff", "plain/report.json", "waived/report.json", "--format", format], dir.path());
        let shown = text(&shown.stdout);
        let (from, to) = (format!("{}.{:02} %", score / 100, score % 100), format!("{}.{:02} %", with / 100, with % 100));
        assert!(shown.contains("with waivers") && shown.contains(&from) && shown.contains(&to), "{format}: {shown}");
    }
    let same = compliance(&["diff", "plain/report.json", "plain/report.json"], dir.path());
    assert!(!text(&same.stdout).contains("with waivers"), "no waiver file on either side: one score");

    // verify: the same file passes; none, an edited one, or one too many is refused.
    let report = "waived/report.json";
    let ok = compliance(&["verify", report, "snapshot.json", "--waivers", "waivers.yaml"], dir.path());
    assert_eq!(ok.status.code(), Some(0), "{}{}", text(&ok.stdout), text(&ok.stderr));
    let missing = compliance(&["verify", report, "snapshot.json"], dir.path());
    assert_eq!(missing.status.code(), Some(2));
    assert!(text(&missing.stderr).contains("scored with the waiver file `waivers.yaml`") && text(&missing.stderr).contains("--waivers"), "{}", text(&missing.stderr));
    let edited = dir.path().join("edited.yaml");
    std::fs::write(&edited, text(&file).replace("expires: 2027-05-31", "expires: 2027-05-30")).expect("write");
    let differs = compliance(&["verify", report, "snapshot.json", "--waivers", "edited.yaml"], dir.path());
    assert_eq!(differs.status.code(), Some(1));
    assert!(text(&differs.stdout).starts_with("MISMATCH: waiver input: the report was scored with the waiver file `waivers.yaml`"), "{}", text(&differs.stdout));
    let extra = compliance(&["verify", "plain/report.json", "snapshot.json", "--waivers", "waivers.yaml"], dir.path());
    assert_eq!(extra.status.code(), Some(2));
    assert!(text(&extra.stderr).contains("scored without waivers"), "{}", text(&extra.stderr));
}

#[test]
fn a_waiver_ends_exactly_at_midnight_utc_of_its_expiry_date() {
    let dir = tempfile::tempdir().expect("tempdir");
    for (at, expired) in [("2026-11-29T23:59:59.999Z", false), ("2026-11-30T00:00:00.000Z", true)] {
        let out = scan(dir.path(), "out", at, true);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        let report = read(&dir.path().join("out/report.json"));
        assert_eq!(ids(&report["waivers"]["expired"]).contains(&"W-2026-003"), expired, "at {at}");
        let waived_tags = report["findings"].as_array().expect("findings").iter().filter(|f| f["waiver"]["id"] == "W-2026-003").count();
        assert_eq!(waived_tags > 0, !expired, "at {at}: the account-wide waiver covers the untagged instances until it ends");
    }
}

#[test]
fn malformed_waiver_files_exit_2_naming_the_file_entry_and_field() {
    let dir = tempfile::tempdir().expect("tempdir");
    let good = std::fs::read_to_string(demo("waivers.yaml")).expect("demo waivers");
    let cases = [
        (good.replace("    ticket: CHG-88213\n", ""), "entry 2 (id `W-2026-021`) at line 15, field `ticket`: missing"),
        (good.replace("rule: ec2-required-tags", "rule: ec2-tags"), "entry 3 (id `W-2026-003`) at line 24, field `rule`: `ec2-tags` is not a rule of the pack"),
        (good.replace("expires: 2026-12-20", "expires: 2026-12-32"), "field `expires`: `2026-12-32` is not a date (YYYY-MM-DD)"),
        (good.replace("expires: 2027-05-31", "expires: 2027-06-03"), "entry 1 (id `W-2026-014`) at line 6, field `expires`: 2027-06-03 is 367 days after approved_on 2026-06-01"),
        (good.replace("id: W-2026-030", "id: W-2026-014"), "entry 4 (id `W-2026-014`) at line 33, field `id`: the id is already used by entry 1 at line 6"),
        ("waivers:\n  - id: W-1\n   rule: x\n".to_owned(), "not YAML or JSON: line 3"),
    ];
    for (content, expected) in cases {
        std::fs::write(dir.path().join("bad.yaml"), &content).expect("write");
        std::fs::copy(demo("config-snapshot-demo.json"), dir.path().join("snapshot.json")).expect("copy");
        let out = compliance(&["scan", "snapshot.json", "--waivers", "bad.yaml", "--out-dir", "bad-out"], dir.path());
        assert_eq!(out.status.code(), Some(2), "{expected}: {}", text(&out.stderr));
        let stderr = text(&out.stderr);
        assert!(stderr.contains("bad.yaml: invalid waiver file: ") && stderr.contains(expected), "expected `{expected}` in {stderr}");
        assert!(!dir.path().join("bad-out").exists(), "nothing is written for a refused waiver file");
    }
    let out = compliance(&["scan", "--waivers", "no-such-file.yaml"], dir.path());
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("reading the waiver file no-such-file.yaml"), "{}", text(&out.stderr));
}

#[test]
fn a_component_from_before_waivers_refuses_them_clearly() {
    let dir = tempfile::tempdir().expect("tempdir");
    let archived = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/archive/rule-pack-1.2.0-wit-1.3.0/component.wasm");
    std::fs::copy(demo("waivers.yaml"), dir.path().join("waivers.yaml")).expect("copy");
    let out = compliance(&["scan", "--waivers", "waivers.yaml", "--component", archived.to_str().expect("utf-8"), "--out-dir", "out"], dir.path());
    assert_ne!(out.status.code(), Some(0));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("does not provide waivers (scan.set-waivers)") && stderr.contains("WIT 1.4.0"), "{stderr}");
}
