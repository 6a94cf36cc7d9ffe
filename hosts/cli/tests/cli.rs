//! End-to-end tests of the `compliance` binary: exit codes, files written, messages.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::Value;

const GENERATED_AT: &str = "2026-03-03T09:00:00.000Z";

fn compliance(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_compliance")).args(args).current_dir(dir).stdin(Stdio::null()).output().expect("the binary runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures").join(name)
}

fn demo_snapshot() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("demo/config-snapshot-demo.json")
}

#[test]
fn scan_without_input_scans_the_demo_and_writes_both_reports() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = compliance(&["scan"], dir.path());
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("bundled demo snapshot"));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("Compliance score: 74.92% (threshold 70.00%)"), "{stdout}");
    assert!(stdout.contains("Worst resources"));
    let raw = std::fs::read_to_string(dir.path().join("compliance-report/report.json")).expect("json written");
    assert!(raw.contains("\"score\": 74.92,"), "score is written with two decimals");
    let html = std::fs::read_to_string(dir.path().join("compliance-report/report.html")).expect("html written");
    assert!(html.contains("74.92%") && html.contains("Provenance"));
    assert!(html.contains("&lt;script&gt;alert(&#39;owner&#39;)") || !html.contains("<script"), "hostile demo tag escaped");
    assert!(!dir.path().join("compliance-report/findings.csv").exists(), "csv is not a default format");
}

#[test]
fn formats_are_a_list_and_the_flag_repeats() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = compliance(&["scan", "--format", "json,csv", "--format", "table", "--out-dir", "out", "--generated-at", GENERATED_AT], dir.path());
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(dir.path().join("out/report.json").exists());
    assert!(dir.path().join("out/findings.csv").exists());
    assert!(!dir.path().join("out/report.html").exists());
    assert!(text(&out.stdout).contains("Compliance score"));
    let out = compliance(&["scan", "--format", "pdf"], dir.path());
    assert_eq!(out.status.code(), Some(2), "unknown format is a usage error");
}

#[test]
fn a_reader_that_goes_away_does_not_stop_the_scan() {
    // `compliance scan | head`: stdout is closed before the table is written. The reports are
    // still written, the exit code is still the outcome's, and nothing panics.
    let dir = tempfile::tempdir().expect("tempdir");
    for (fail_under, code) in [("0", 0), ("90", 1)] {
        let out_dir = format!("out-{fail_under}");
        let mut child = Command::new(env!("CARGO_BIN_EXE_compliance"))
            .args(["scan", "--format", "table,json", "--out-dir", &out_dir, "--fail-under", fail_under])
            .current_dir(dir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the binary runs");
        drop(child.stdout.take()); // the read end closes before the scan is done
        let out = child.wait_with_output().expect("the binary ends");
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(code), "{stderr}");
        assert!(!stderr.contains("panicked") && !stderr.contains("Broken pipe"), "{stderr}");
        assert!(dir.path().join(&out_dir).join("report.json").exists(), "the report is written");
    }
    for args in [&["rules"][..], &["component"]] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_compliance")).args(args).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("runs");
        drop(child.stdout.take());
        let out = child.wait_with_output().expect("the binary ends");
        assert_eq!(out.status.code(), Some(0), "{args:?}: {}", text(&out.stderr));
    }
}

#[test]
fn fail_under_exits_one() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = compliance(&["scan", "--format", "json", "--fail-under", "90"], dir.path());
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("below --fail-under 90.00%"));
    let out = compliance(&["scan", "--format", "json", "--fail-under", "74.92"], dir.path());
    assert_eq!(out.status.code(), Some(0), "equal to the bar passes");
    let out = compliance(&["scan", "--threshold", "101"], dir.path());
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn malformed_truncated_and_wrong_shape_inputs_exit_two_naming_file_and_position() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cases: [(&str, &[u8], &str); 4] = [
        ("broken.json", b"{\"configurationItems\": [{\"resourceType\": }]}", "broken.json at byte"),
        ("cut.json", b"{\"configurationItems\": [{\"resourceType\": \"AWS::S3::Bucket\"", "truncated"),
        ("shape.json", b"{\"Reservations\": []}", "unsupported input shape"),
        ("lines.ndjson", b"{\"resourceType\": \"AWS::EC2::Volume\", \"resourceId\": \"v\"}\n{not json}\n", "lines.ndjson at byte 57"),
    ];
    for (name, bytes, expected) in cases {
        std::fs::write(dir.path().join(name), bytes).expect("write");
        let out = compliance(&["scan", name, "--out-dir", "out"], dir.path());
        assert_eq!(out.status.code(), Some(2), "{name}: {}", text(&out.stderr));
        assert!(text(&out.stderr).contains(expected), "{name}: {}", text(&out.stderr));
        assert!(!dir.path().join("out/report.json").exists(), "no report is written for bad input");
    }
    let out = compliance(&["scan", "missing.json"], dir.path());
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("missing.json"));
}

#[test]
fn gzip_directories_and_stdin_are_read() {
    let dir = tempfile::tempdir().expect("tempdir");
    let bucket = dir.path().join("AWSLogs/111122223333/Config/us-east-1/2026/11/28/ConfigSnapshot");
    std::fs::create_dir_all(&bucket).expect("mkdir");
    let demo = std::fs::read(demo_snapshot()).expect("demo");
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&demo).expect("gzip");
    std::fs::write(bucket.join("111122223333_Config_us-east-1_ConfigSnapshot_demo.json.gz"), gz.finish().expect("gzip")).expect("write");
    std::fs::write(dir.path().join("AWSLogs/111122223333/Config/ConfigWritabilityCheckFile"), b"not json").expect("write");
    let out = compliance(&["scan", "AWSLogs", "--format", "json", "--out-dir", "out"], dir.path());
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let report: Value = serde_json::from_slice(&std::fs::read(dir.path().join("out/report.json")).expect("json")).expect("json");
    assert_eq!(report["score_bp"], 7492);
    assert_eq!(report["input"]["sources"][0]["name"], "111122223333/Config/us-east-1/2026/11/28/ConfigSnapshot/111122223333_Config_us-east-1_ConfigSnapshot_demo.json.gz");

    let mut child = Command::new(env!("CARGO_BIN_EXE_compliance"))
        .args(["scan", "-", "--format", "json", "--out-dir", "stdin-out"])
        .current_dir(dir.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    child.stdin.take().expect("stdin").write_all(&demo).expect("pipe");
    let out = child.wait_with_output().expect("wait");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let report: Value = serde_json::from_slice(&std::fs::read(dir.path().join("stdin-out/report.json")).expect("json")).expect("json");
    assert_eq!(report["input"]["sources"][0]["name"], "stdin");
}

#[test]
fn truncated_gzip_is_an_input_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let demo = std::fs::read(demo_snapshot()).expect("demo");
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&demo).expect("gzip");
    let bytes = gz.finish().expect("gzip");
    std::fs::write(dir.path().join("cut.json.gz"), &bytes[..bytes.len() / 2]).expect("write");
    let out = compliance(&["scan", "cut.json.gz"], dir.path());
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("cut.json.gz"), "{}", text(&out.stderr));
}

#[test]
fn rules_and_component_commands() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = compliance(&["rules", "--format", "json"], dir.path());
    assert_eq!(out.status.code(), Some(0));
    let rules: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(rules["rules"].as_array().map(Vec::len), Some(17));
    let out = compliance(&["rules"], dir.path());
    assert!(text(&out.stdout).contains("s3-bucket-sse-kms"));
    let out = compliance(&["component", "--export", "engine.wasm"], dir.path());
    assert_eq!(out.status.code(), Some(0));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("compliance:engine@1.8.0"));
    let exported = std::fs::read(dir.path().join("engine.wasm")).expect("exported");
    let sha = stdout.lines().find_map(|l| l.strip_prefix("sha256:")).map(str::trim).expect("sha line").to_owned();
    let scan = compliance(&["scan", "--component", "engine.wasm", "--format", "json", "--generated-at", GENERATED_AT], dir.path());
    assert_eq!(scan.status.code(), Some(0), "{}", text(&scan.stderr));
    let report: Value = serde_json::from_slice(&std::fs::read(dir.path().join("compliance-report/report.json")).expect("json")).expect("json");
    assert_eq!(report["engine"]["component_sha256"], sha.as_str());
    assert!(!exported.is_empty());
    std::fs::write(dir.path().join("fake.wasm"), b"\0asm\x01\0\0\0").expect("write");
    let out = compliance(&["scan", "--component", "fake.wasm"], dir.path());
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("not a usable scoring component"), "{}", text(&out.stderr));
}

#[test]
fn real_fixture_scans() {
    let dir = tempfile::tempdir().expect("tempdir");
    let fixtures = fixture("aws-config");
    let out = compliance(&["scan", fixtures.to_str().expect("utf-8 path"), "--format", "json,html,csv", "--out-dir", "out"], dir.path());
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
}

#[test]
fn symlink_loops_and_unreadable_inputs_are_clear_errors() {
    let dir = tempfile::tempdir().expect("tempdir");
    let tree = dir.path().join("tree");
    std::fs::create_dir_all(tree.join("a")).expect("mkdir");
    std::fs::copy(demo_snapshot(), tree.join("a/snapshot.json")).expect("copy");
    std::os::unix::fs::symlink(&tree, tree.join("a/loop")).expect("symlink");
    let out = compliance(&["scan", "tree", "--format", "json", "--out-dir", "out"], dir.path());
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("loop"), "{}", text(&out.stderr));
    // A linked file (not a loop) is scanned like any other.
    std::fs::remove_file(tree.join("a/loop")).expect("unlink");
    std::os::unix::fs::symlink(tree.join("a/snapshot.json"), tree.join("linked.json")).expect("symlink");
    let out = compliance(&["scan", "tree", "--format", "json", "--out-dir", "out"], dir.path());
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let report: Value = serde_json::from_slice(&std::fs::read(dir.path().join("out/report.json")).expect("json")).expect("json");
    assert_eq!(report["input"]["sources"].as_array().map(Vec::len), Some(2));
}

#[test]
fn a_gzip_bomb_stops_at_the_decompression_limit() {
    let dir = tempfile::tempdir().expect("tempdir");
    // 64 MiB of spaces inside a valid JSON document compress to about 64 KiB.
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    gz.write_all(b"{\"configurationItems\": [").expect("gzip");
    let spaces = vec![b' '; 1 << 20];
    for _ in 0..64 {
        gz.write_all(&spaces).expect("gzip");
    }
    gz.write_all(b"]}").expect("gzip");
    std::fs::write(dir.path().join("bomb.json.gz"), gz.finish().expect("gzip")).expect("write");
    let out = compliance(&["scan", "bomb.json.gz", "--max-source-mib", "8", "--out-dir", "out"], dir.path());
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("bomb.json.gz") && stderr.contains("gzip bomb"), "{stderr}");
    assert!(!dir.path().join("out").exists(), "nothing is written");
}

#[test]
fn csv_cells_cannot_become_formulas() {
    let dir = tempfile::tempdir().expect("tempdir");
    let item = serde_json::json!({"resourceType": "AWS::EC2::Volume", "resourceId": "=HYPERLINK(\"http://evil\",\"x\")",
        "ARN": "+cmd|' /C calc'!A0", "awsRegion": "@SUM(1)", "configuration": {"encrypted": false}});
    std::fs::write(dir.path().join("evil.json"), serde_json::to_vec(&item).expect("json")).expect("write");
    let out = compliance(&["scan", "evil.json", "--format", "csv", "--out-dir", "out"], dir.path());
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let csv = std::fs::read_to_string(dir.path().join("out/findings.csv")).expect("csv");
    let row = csv.lines().nth(1).expect("a finding row");
    for cell in ["\"'=HYPERLINK(\"\"http://evil\"\",\"\"x\"\")\"", "\"'+cmd|' /C calc'!A0\"", "\"'@SUM(1)\""] {
        assert!(row.contains(cell), "{cell} not neutralised in {row}");
    }
}

#[test]
fn rules_show_the_framework_mapping_and_reports_carry_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = compliance(&["rules", "--framework", "pci-dss-4.0.1"], dir.path());
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("PCI DSS v4.0.1 (pci-dss-4.0.1)") && stdout.contains("ec2-volume-encrypted (prowler)"), "{stdout}");
    assert!(!stdout.contains("iam-no-admin-access"), "only the rules that evidence PCI DSS: {stdout}");
    let out = compliance(&["rules", "--format", "json"], dir.path());
    let doc: Value = serde_json::from_slice(&out.stdout).expect("json");
    let notaction = doc["rules"].as_array().expect("rules").iter().find(|r| r["id"] == "iam-no-allow-notaction").expect("rule");
    assert_eq!(notaction["frameworks"]["nist-800-53-r5"][0], serde_json::json!({"requirement": "AC-6", "basis": "vendor-asserted"}));
    let out = compliance(&["rules", "--framework", "ffiec-cat"], dir.path());
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("unknown framework `ffiec-cat`"), "{}", text(&out.stderr));
    let archived = fixture("archive/component.wasm");
    let out = compliance(&["rules", "--framework", "pci-dss-4.0.1", "--component", archived.to_str().expect("path")], dir.path());
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("carries no framework mapping"), "{}", text(&out.stderr));

    // The demo's reports: the JSON section, the CSV columns, the HTML tables.
    let out = compliance(&["scan", demo_snapshot().to_str().expect("path"), "--format", "json,csv,html", "--out-dir", "r"], dir.path());
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let report: Value = serde_json::from_slice(&std::fs::read(dir.path().join("r/report.json")).expect("json")).expect("json");
    let pci = &report["frameworks"]["pci-dss-4.0.1"]["3.5.1"];
    assert_eq!(pci["status"], "FAILED");
    assert_eq!(pci["basis"], serde_json::json!(["aws", "prowler"]));
    let csv = std::fs::read_to_string(dir.path().join("r/findings.csv")).expect("csv");
    assert!(csv.lines().next().expect("header").ends_with(",security_hub_controls,cis_aws_3_0_0,pci_dss_4_0_1,nist_800_53_r5,waiver_id,waiver_owner,waiver_expires"), "{}", csv.lines().next().unwrap_or_default());
    assert!(csv.lines().any(|l| l.contains(",s3-bucket-sse-kms,") && l.contains(",S3.17,,3.5.1,SC-12(2) SC-13 ")), "the KMS rule's requirements on its rows");
    let html = std::fs::read_to_string(dir.path().join("r/report.html")).expect("html");
    assert!(html.contains("<h3 id=\"fw-pci-dss-4.0.1\">PCI DSS v4.0.1</h3>") && html.contains("badge st-FAILED"), "frameworks section");
}
