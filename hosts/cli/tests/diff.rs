//! `compliance diff`: two stored reports in, what changed out — across engine versions too.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::Value;

fn compliance(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_compliance")).args(args).current_dir(dir).stdin(Stdio::null()).output().expect("the binary runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn golden(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/golden").join(name)
}

fn arg(path: &Path) -> &str {
    path.to_str().expect("utf-8 path")
}

#[test]
fn reports_of_two_rule_pack_versions_diff_and_the_parts_add_up() {
    let dir = tempfile::tempdir().expect("tempdir");
    // Both archived goldens: this stays true whatever later rule packs change.
    let (old, new) = (golden("demo-report-rule-pack-1.0.0.json"), golden("demo-report-rule-pack-1.1.0.json"));
    let out = compliance(&["diff", arg(&old), arg(&new), "--format", "json"], dir.path());
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let d: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(d["schema"], "compliance-diff/v1");
    assert_eq!((d["old"]["score_bp"].as_i64(), d["new"]["score_bp"].as_i64()), (Some(7730), Some(7492)));
    assert_eq!(d["score_bp_change"], -238);
    assert_eq!((d["old"]["rule_pack_version"].as_str(), d["new"]["rule_pack_version"].as_str()), (Some("1.0.0"), Some("1.1.0")));
    // The 1.0.0 report has no sums: they come from its findings; the 1.1.0 one's are checked.
    let new_report: Value = serde_json::from_slice(&std::fs::read(&new).expect("read")).expect("json");
    assert_eq!(d["new"]["weight_compliant"], new_report["weight_compliant"]);
    let total = |key: &str| d[key].as_i64().expect("int");
    for breakdown in ["by_rule", "by_account"] {
        for key in ["weight_compliant", "weight_decided"] {
            let sum: i64 = d[breakdown].as_array().expect("list").iter().map(|p| p[key].as_i64().expect("int")).sum();
            assert_eq!(sum, total(&format!("{key}_change")), "{breakdown}.{key}");
        }
    }
    assert_eq!(total("weight_compliant_change"), d["new"]["weight_compliant"].as_i64().expect("int") - d["old"]["weight_compliant"].as_i64().expect("int"));
    // The five resources the demo gained for rule pack 1.1.0 appeared, failing.
    assert_eq!(d["resources_appeared"].as_array().map(Vec::len), Some(5), "{}", d["resources_appeared"]);
    let new_nc: Vec<&str> = d["new_non_compliant"].as_array().expect("list").iter().map(|c| c["resource_id"].as_str().expect("id")).collect();
    assert!(new_nc.contains(&"i-0a11ce0000000006"), "{new_nc:?}");
    assert!(d["new_non_compliant"].as_array().expect("list").iter().all(|c| c["new_status"] == "NON_COMPLIANT"));

    let out = compliance(&["diff", arg(&old), arg(&new)], dir.path());
    let table = text(&out.stdout);
    assert!(table.starts_with("Score 77.30 % → 74.92 % (−2.38 points)"), "{table}");
    assert!(table.contains("New non-compliant (") && table.contains("Score change by rule"), "{table}");
    let out = compliance(&["diff", arg(&old), arg(&new), "--format", "markdown"], dir.path());
    let markdown = text(&out.stdout);
    assert!(markdown.starts_with("## Compliance: 77.30 % → 74.92 % (−2.38 points)"), "{markdown}");
    assert!(markdown.contains("| severity | rule | resource | account | region | was | now |") && markdown.contains("| **total** |"), "{markdown}");

    // For pipelines: new failures fail the step; a report against itself does not.
    assert_eq!(compliance(&["diff", arg(&old), arg(&new), "--fail-on-new"], dir.path()).status.code(), Some(1));
    let same = compliance(&["diff", arg(&new), arg(&new), "--fail-on-new"], dir.path());
    assert_eq!(same.status.code(), Some(0));
    assert!(text(&same.stdout).contains("No differences."), "{}", text(&same.stdout));
    // Swapped, the new failures are the resolved ones.
    let back: Value = serde_json::from_slice(&compliance(&["diff", arg(&new), arg(&old), "--format", "json"], dir.path()).stdout).expect("json");
    assert_eq!(back["resolved"].as_array().map(Vec::len), d["new_non_compliant"].as_array().map(Vec::len));

    // Rule pack 1.2.0 added the framework mapping and changed no verdict: nothing to report.
    let out = compliance(&["diff", arg(&new), arg(&golden("demo-report.json")), "--format", "json"], dir.path());
    let same: Value = serde_json::from_slice(&out.stdout).expect("json");
    for list in ["new_non_compliant", "resolved", "other_status_changes", "resources_appeared", "resources_gone"] {
        assert_eq!(same[list].as_array().map(Vec::len), Some(0), "{list}");
    }
    assert_eq!((same["weight_compliant_change"].as_i64(), same["weight_decided_change"].as_i64()), (Some(0), Some(0)));
}

#[test]
fn what_diff_cannot_compare_is_a_clear_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let new = golden("demo-report.json");
    let write = |name: &str, content: &str| {
        std::fs::write(dir.path().join(name), content).expect("write");
        name.to_owned()
    };
    let cases = [
        (write("org.json", r#"{"schema": "compliance-rollup/v1"}"#), "is an org report"),
        (write("future.json", r#"{"schema": "compliance-report/v9"}"#), "which this version does not know"),
        (write("broken.json", "{ nope"), "is not JSON"),
        (write("bare.json", r#"{"schema": "compliance-report/v1", "score_bp": 1}"#), "is not a compliance-report/v1 report this version can read"),
    ];
    for (name, expected) in cases {
        let out = compliance(&["diff", &name, arg(&new)], dir.path());
        assert_eq!(out.status.code(), Some(2), "{name}");
        assert!(text(&out.stderr).contains(expected), "{name}: {}", text(&out.stderr));
    }
    // A report whose sums were edited does not match its findings.
    let edited = std::fs::read_to_string(&new).expect("read").replacen("\"weight_compliant\": 1685", "\"weight_compliant\": 1985", 1);
    write("edited.json", &edited);
    let out = compliance(&["diff", "edited.json", arg(&new)], dir.path());
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("its findings add up to weight_compliant 1685, but the report says 1985"), "{}", text(&out.stderr));
}
