//! `--jobs`: one scan read on several component instances gives the report one instance gives,
//! byte for byte, in every format, however the files are shared out — with evidence that spans
//! files (an instance and its volumes, the account's public access block, resources recorded
//! again newer or in a tied version elsewhere) deciding verdicts.

use std::path::Path;
use std::process::{Command, Output, Stdio};

const AT: &str = "2026-12-01T09:00:00.000Z";
const OUTPUTS: [&str; 4] = ["report.json", "report.html", "findings.csv", "findings.ocsf.jsonl"];

fn compliance(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_compliance")).args(args).current_dir(dir).stdin(Stdio::null()).output().expect("the binary runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn write_export(dir: &Path, files: usize, resources: u64) {
    std::fs::create_dir_all(dir.join("export")).expect("mkdir");
    for (name, bytes) in compliance_benches::org_export(files, resources, 7) {
        std::fs::write(dir.join("export").join(name), bytes).expect("write");
    }
}

fn scan(dir: &Path, jobs: &str, extra: &[&str]) -> Output {
    let out = format!("out-{jobs}");
    let mut args = vec!["scan", "export", "--jobs", jobs, "--format", "json,html,csv,ocsf", "--global-region", "us-east-1", "--out-dir", &out, "--generated-at", AT];
    args.extend_from_slice(extra);
    compliance(&args, dir)
}

#[test]
fn every_jobs_count_gives_the_same_bytes() {
    let dir = tempfile::tempdir().expect("tempdir");
    write_export(dir.path(), 23, 2_300);
    let one = scan(dir.path(), "1", &[]);
    assert_eq!(one.status.code(), Some(0), "{}", text(&one.stderr));
    let report: serde_json::Value = serde_json::from_slice(&std::fs::read(dir.path().join("out-1/report.json")).expect("json")).expect("parses");
    assert_eq!(report["input"]["sources"].as_array().map(Vec::len), Some(23));
    assert!(report["input"]["superseded_items"].as_u64().is_some_and(|n| n >= 300), "{}", report["input"]);
    // Enough findings that with several jobs a second instance digests their ids (the
    // runtime's `id_helper::MIN_FINDINGS`, 4,096) while the first renders.
    assert!(report["findings"].as_array().is_some_and(|f| f.len() >= 4096), "{} findings", report["findings"].as_array().map_or(0, Vec::len));
    for jobs in ["2", "7", "23", "64"] {
        let out = scan(dir.path(), jobs, &[]);
        assert_eq!(out.status.code(), Some(0), "--jobs {jobs}: {}", text(&out.stderr));
        for file in OUTPUTS {
            let expected = std::fs::read(dir.path().join("out-1").join(file)).expect("one job's output");
            let got = std::fs::read(dir.path().join(format!("out-{jobs}")).join(file)).expect("output");
            assert!(got == expected, "--jobs {jobs}: {file} differs from --jobs 1");
        }
    }
}

/// The evidence really does span the files: scored alone, the first file leaves instances
/// undecided that the whole export decides with volumes recorded in other files, so the
/// comparison above would see a merge that lost any of it.
#[test]
fn the_export_needs_evidence_from_other_files() {
    let dir = tempfile::tempdir().expect("tempdir");
    write_export(dir.path(), 4, 400);
    let all = scan(dir.path(), "2", &[]);
    assert_eq!(all.status.code(), Some(0), "{}", text(&all.stderr));
    let alone = compliance(&["scan", "export/snapshot-0000.json", "--format", "json", "--out-dir", "alone", "--generated-at", AT], dir.path());
    assert_eq!(alone.status.code(), Some(0), "{}", text(&alone.stderr));
    let statuses = |path: &str| -> Vec<(String, String)> {
        let report: serde_json::Value = serde_json::from_slice(&std::fs::read(dir.path().join(path)).expect("json")).expect("parses");
        report["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .filter(|f| f["rule_id"] == "ec2-instance-ebs-encrypted")
            .map(|f| (f["resource_id"].as_str().unwrap_or_default().to_owned(), f["status"].as_str().unwrap_or_default().to_owned()))
            .collect()
    };
    let whole = statuses("out-2/report.json");
    let decided_elsewhere = statuses("alone/report.json")
        .into_iter()
        .filter(|(id, status)| status == "INSUFFICIENT_DATA" && whole.iter().any(|(w, s)| w == id && s != "INSUFFICIENT_DATA"))
        .count();
    assert!(decided_elsewhere > 0, "no instance of the first file needs a volume of another file");
}

#[test]
fn a_bad_file_in_a_later_share_is_named_and_nothing_is_written() {
    let dir = tempfile::tempdir().expect("tempdir");
    write_export(dir.path(), 6, 300);
    std::fs::write(dir.path().join("export/snapshot-0004.json"), b"{\"configurationItems\": [{\"resourceType\": ").expect("write");
    let out = scan(dir.path(), "3", &[]);
    assert_eq!(out.status.code(), Some(2), "an input error: {}", text(&out.stderr));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("snapshot-0004.json"), "{stderr}");
    assert!(!dir.path().join("out-3/report.json").exists());
}

/// A file that is bad only at its end, early in the order, and one bad from its first byte much
/// later: the threads reach the later one first, but the error is the one `--jobs 1` gives.
#[test]
fn of_two_bad_files_the_first_in_order_is_named_whatever_the_jobs() {
    let dir = tempfile::tempdir().expect("tempdir");
    write_export(dir.path(), 24, 4_800);
    let early = dir.path().join("export/snapshot-0003.json");
    let bytes = std::fs::read(&early).expect("read");
    std::fs::write(&early, bytes.get(..bytes.len() - 3).expect("a file of some length")).expect("write");
    std::fs::write(dir.path().join("export/snapshot-0020.json"), b"[").expect("write");
    for jobs in ["1", "2", "4", "24"] {
        let out = scan(dir.path(), jobs, &[]);
        assert_eq!(out.status.code(), Some(2), "--jobs {jobs}: {}", text(&out.stderr));
        let stderr = text(&out.stderr);
        assert!(stderr.contains("snapshot-0003.json") && !stderr.contains("snapshot-0020.json"), "--jobs {jobs}: {stderr}");
    }
}

#[test]
fn an_archived_component_without_parallel_reads_scans_on_one_instance() {
    let dir = tempfile::tempdir().expect("tempdir");
    write_export(dir.path(), 5, 200);
    let archived = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/archive/rule-pack-1.2.0-wit-1.3.0/component.wasm");
    let archived = archived.to_str().expect("utf-8 path");
    let one = compliance(&["scan", "export", "--jobs", "1", "--format", "json", "--out-dir", "a1", "--generated-at", AT, "--component", archived], dir.path());
    let four = compliance(&["scan", "export", "--jobs", "4", "--format", "json", "--out-dir", "a4", "--generated-at", AT, "--component", archived], dir.path());
    assert_eq!(one.status.code(), Some(0), "{}", text(&one.stderr));
    assert_eq!(four.status.code(), Some(0), "{}", text(&four.stderr));
    assert!(std::fs::read(dir.path().join("a1/report.json")).expect("a1") == std::fs::read(dir.path().join("a4/report.json")).expect("a4"));
}

/// One large file (the whole export's items, newer and tied versions half the file apart),
/// plain and gzipped, is read in parts on several instances: the same bytes as one instance.
#[test]
fn one_large_file_read_in_parts_gives_the_same_bytes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut items = Vec::new();
    for (_, bytes) in compliance_benches::org_export(4, 6_000, 7) {
        let file: serde_json::Value = serde_json::from_slice(&bytes).expect("a snapshot");
        items.extend(file["configurationItems"].as_array().cloned().unwrap_or_default());
    }
    let big = serde_json::to_vec(&serde_json::json!({ "fileVersion": "1.0", "configurationItems": items })).expect("JSON");
    assert!(big.len() > 4 << 20, "{} bytes: large enough for parts on every job count below", big.len());
    std::fs::create_dir_all(dir.path().join("plain")).expect("mkdir");
    std::fs::write(dir.path().join("plain/big.json"), &big).expect("write");
    std::fs::create_dir_all(dir.path().join("gz")).expect("mkdir");
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    std::io::Write::write_all(&mut gz, &big).expect("gzip");
    std::fs::write(dir.path().join("gz/big.json.gz"), gz.finish().expect("gzip")).expect("write");
    for input in ["plain", "gz"] {
        let run = |jobs: &str| {
            let out = format!("{input}-{jobs}");
            let args = ["scan", input, "--jobs", jobs, "--format", "json,html,csv,ocsf", "--global-region", "us-east-1", "--out-dir", &out, "--generated-at", AT];
            let output = compliance(&args, dir.path());
            assert_eq!(output.status.code(), Some(0), "{input}, --jobs {jobs}: {}", text(&output.stderr));
            OUTPUTS.map(|file| std::fs::read(dir.path().join(&out).join(file)).expect("output"))
        };
        let one = run("1");
        for jobs in ["2", "7"] {
            let many = run(jobs);
            for (file, (got, expected)) in OUTPUTS.iter().zip(many.iter().zip(&one)) {
                assert!(got == expected, "{input}, --jobs {jobs}: {file} differs from --jobs 1");
            }
        }
    }
}
