//! `compliance verify`: a fresh report verifies; tampering with a finding, the score or one
//! input byte is detected and explained; an archived component verifies its own old report.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

const GENERATED_AT: &str = "2026-03-03T09:00:00.000Z";

fn compliance(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_compliance")).args(args).current_dir(dir).stdin(Stdio::null()).output().expect("the binary runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn demo_snapshot() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("demo/config-snapshot-demo.json")
}

/// Scans a copy of the demo snapshot named `snapshot.json` in `dir`; returns the report path.
fn scan_copy(dir: &Path) -> PathBuf {
    std::fs::copy(demo_snapshot(), dir.join("snapshot.json")).expect("copy");
    let out = compliance(&["scan", "snapshot.json", "--format", "json", "--out-dir", "out", "--generated-at", GENERATED_AT], dir);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    dir.join("out/report.json")
}

fn edit(path: &Path, from: &str, to: &str) {
    let content = std::fs::read_to_string(path).expect("read");
    assert!(content.contains(from), "{from} not in {}", path.display());
    std::fs::write(path, content.replacen(from, to, 1)).expect("write");
}

#[test]
fn a_fresh_report_verifies() {
    let dir = tempfile::tempdir().expect("tempdir");
    scan_copy(dir.path());
    let out = compliance(&["verify", "out/report.json", "snapshot.json"], dir.path());
    assert_eq!(out.status.code(), Some(0), "{}{}", text(&out.stdout), text(&out.stderr));
    assert!(text(&out.stdout).contains("reproduced bit for bit"));
    // A demo report verifies without naming its input.
    let out = compliance(&["scan", "--format", "json", "--out-dir", "demo"], dir.path());
    assert_eq!(out.status.code(), Some(0));
    let out = compliance(&["verify", "demo/report.json"], dir.path());
    assert_eq!(out.status.code(), Some(0), "{}{}", text(&out.stdout), text(&out.stderr));
}

#[test]
fn a_copy_under_another_name_verifies_by_its_bytes() {
    // The analyzer Lambda names its input `s3://bucket/key`; the auditor verifies a downloaded
    // copy whose local name differs. A file with other bytes still does not pass.
    let dir = tempfile::tempdir().expect("tempdir");
    scan_copy(dir.path());
    std::fs::copy(dir.path().join("snapshot.json"), dir.path().join("downloaded.json")).expect("copy");
    let out = compliance(&["verify", "out/report.json", "downloaded.json"], dir.path());
    assert_eq!(out.status.code(), Some(0), "{}{}", text(&out.stdout), text(&out.stderr));
    assert!(text(&out.stderr).contains("downloaded.json has the bytes of the report's source snapshot.json"), "{}", text(&out.stderr));
    edit(&dir.path().join("downloaded.json"), "111122223333", "111122223334");
    let out = compliance(&["verify", "out/report.json", "downloaded.json"], dir.path());
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stdout).contains("source snapshot.json is in the report but was not given"), "{}", text(&out.stdout));
}

#[test]
fn tampered_score_is_reported() {
    let dir = tempfile::tempdir().expect("tempdir");
    let report = scan_copy(dir.path());
    edit(&report, "\"score\": 74.92", "\"score\": 79.30");
    let out = compliance(&["verify", "out/report.json", "snapshot.json"], dir.path());
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stdout).contains("score: report says 79.30, inputs give 74.92"), "{}", text(&out.stdout));
}

#[test]
fn tampered_finding_is_reported() {
    let dir = tempfile::tempdir().expect("tempdir");
    let report = scan_copy(dir.path());
    edit(&report, "\"status\": \"NON_COMPLIANT\"", "\"status\": \"COMPLIANT\"");
    let out = compliance(&["verify", "out/report.json", "snapshot.json"], dir.path());
    assert_eq!(out.status.code(), Some(1));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("report says COMPLIANT, inputs give NON_COMPLIANT"), "{stdout}");
    // Edited text with no change of status or score is still caught, with the line shown.
    let report = scan_copy(dir.path());
    edit(&report, "versioning is enabled", "versioning is enabled!");
    let out = compliance(&["verify", "out/report.json", "snapshot.json"], dir.path());
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stdout).contains("differs from the re-rendered one"), "{}", text(&out.stdout));
    // The report is compared as it streams by: bytes after its end, or a report cut short, fail too.
    let report = scan_copy(dir.path());
    let mut bytes = std::fs::read(&report).expect("read");
    bytes.extend_from_slice(b"\n");
    std::fs::write(&report, &bytes).expect("write");
    let out = compliance(&["verify", "out/report.json", "snapshot.json"], dir.path());
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stdout));
    bytes.truncate(bytes.len() - 3);
    std::fs::write(&report, &bytes).expect("write");
    let out = compliance(&["verify", "out/report.json", "snapshot.json"], dir.path());
    assert_ne!(out.status.code(), Some(0), "{}", text(&out.stdout));
}

#[test]
fn one_changed_input_byte_is_reported() {
    let dir = tempfile::tempdir().expect("tempdir");
    scan_copy(dir.path());
    edit(&dir.path().join("snapshot.json"), "cc-4410", "cc-4411");
    let out = compliance(&["verify", "out/report.json", "snapshot.json"], dir.path());
    assert_eq!(out.status.code(), Some(1));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("input sha256: report says"), "{stdout}");
    assert!(stdout.contains("source snapshot.json: report sha256"), "{stdout}");
}

#[test]
fn a_report_from_another_component_needs_that_component() {
    let dir = tempfile::tempdir().expect("tempdir");
    let report = scan_copy(dir.path());
    let content = std::fs::read_to_string(&report).expect("read");
    let sha = content.split("\"component_sha256\": \"").nth(1).and_then(|r| r.split('"').next()).expect("sha").to_owned();
    edit(&report, &sha, &"0".repeat(64));
    let out = compliance(&["verify", "out/report.json", "snapshot.json"], dir.path());
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert!(stderr.contains(&"0".repeat(64)) && stderr.contains("--component"), "{stderr}");
    // Supplying a component with a different sha256 is refused too.
    let out = compliance(&["component", "--export", "current.wasm"], dir.path());
    assert_eq!(out.status.code(), Some(0));
    let out = compliance(&["verify", "out/report.json", "snapshot.json", "--component", "current.wasm"], dir.path());
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("but the report was scored by component"), "{}", text(&out.stderr));
}

#[test]
fn an_archived_component_verifies_its_own_old_report() {
    // tests/fixtures/archive holds a component exported from an earlier build and the report it
    // produced on the demo snapshot; whatever the current code scores, that pair must verify.
    let archive = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/archive");
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::copy(archive.join("config-snapshot-demo.json"), dir.path().join("config-snapshot-demo.json")).expect("copy input");
    let component = archive.join("component.wasm");
    let report = archive.join("report.json");
    let out = compliance(
        &["verify", report.to_str().expect("path"), "config-snapshot-demo.json", "--component", component.to_str().expect("path")],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(0), "{}{}", text(&out.stdout), text(&out.stderr));
}
