//! Golden reports. The demo snapshot with a fixed `generated_at` must render to a JSON report
//! whose sha256 is committed. Any change in scoring behaviour changes it, and must be made
//! deliberately: re-bless with `BLESS=1 cargo test -p compliance-tests --test golden`, review
//! the diff of `fixtures/golden/demo-report.json`, bump `RULE_PACK_VERSION` when the semantics
//! of a rule changed, and say what changed in `CHANGELOG.md`. The component digest is fixed to
//! a placeholder so that refactorings which do not change behaviour do not change the golden.
//!
//! The golden of each earlier rule pack is kept, with the archived component that produced it
//! and the demo snapshot as it was: that component must still render it byte for byte.

use std::path::Path;

use compliance_engine::render::json;
use compliance_engine::{RULE_PACK_VERSION, ReportMeta, Scan, ScanOptions, SourceDigest};
use compliance_runtime::{InputSource, Limits, ReportFormat, Runtime, input_digest, sha256_hex};

const PLACEHOLDER: &str = "golden-placeholder";

#[test]
fn demo_report_matches_the_committed_digest() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let input = std::fs::read(root.join("../hosts/cli/demo/config-snapshot-demo.json")).expect("demo snapshot");
    let name = "config-snapshot-demo.json";
    let mut scan = Scan::new(ScanOptions::default()).expect("options");
    scan.begin_source(name).expect("begin");
    scan.feed(&input).expect("feed");
    scan.end_source().expect("end");
    let sha = sha256_hex(&input);
    let report = scan
        .finish(ReportMeta {
            generated_at: compliance_tests::GENERATED_AT.into(),
            component_sha256: PLACEHOLDER.into(),
            input_sha256: input_digest(&[(name.to_owned(), sha.clone())]),
            sources: vec![SourceDigest { name: name.into(), sha256: sha, bytes: input.len() as u64 }],
        })
        .expect("finish");
    let rendered = json::render(&report).expect("render");
    let digest = format!("{}  rule-pack {RULE_PACK_VERSION}\n", sha256_hex(&rendered));
    let golden = root.join("fixtures/golden");
    if std::env::var_os("BLESS").is_some() {
        std::fs::create_dir_all(&golden).expect("mkdir");
        std::fs::write(golden.join("demo-report.json"), &rendered).expect("write");
        std::fs::write(golden.join("demo-report.sha256"), &digest).expect("write");
        return;
    }
    let committed = std::fs::read_to_string(golden.join("demo-report.sha256")).expect("golden digest committed");
    assert_eq!(
        digest, committed,
        "scoring output changed. If deliberate: BLESS=1, review the diff of tests/fixtures/golden/demo-report.json, \
         bump RULE_PACK_VERSION if a rule's semantics changed, and record it in CHANGELOG.md"
    );
}

/// Earlier rule packs: (version, archive directory). Each archive holds the last component of
/// that rule pack (exported from the build of the commit before the next version) and the demo
/// snapshot as it was then.
/// `1.2.0` is the last component before waivers (WIT 1.4.0) changed every report's bytes
/// (`score_with_waivers_bp`, the `waivers` section) with the verdicts of rule pack 1.2.0 unchanged.
const ARCHIVED: [(&str, &str); 3] = [("1.0.0", "rule-pack-1.0.0-wit-1.1.0"), ("1.1.0", "rule-pack-1.1.0-wit-1.2.0"), ("1.2.0", "rule-pack-1.2.0-wit-1.3.0")];

#[test]
fn the_golden_of_every_earlier_rule_pack_is_still_rendered_by_its_archived_component() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for (version, dir) in ARCHIVED {
        let archive = root.join("fixtures/archive").join(dir);
        let runtime = Runtime::from_file(&archive.join("component.wasm"), Limits::default()).expect("the archived component loads");
        assert_eq!(runtime.about().expect("about").rule_pack_version, version);
        let input = std::fs::read(archive.join("config-snapshot-demo.json")).expect("archived demo snapshot");
        let source = InputSource::bytes("config-snapshot-demo.json", input);
        let mut finished = runtime.scan(&compliance_tests::request(), vec![source], &mut |_| {}).expect("scans");
        let rendered = finished.render(ReportFormat::Json, &[]).expect("renders");
        let rendered = String::from_utf8(rendered).expect("utf-8").replace(runtime.sha256(), PLACEHOLDER);
        let golden = std::fs::read_to_string(root.join(format!("fixtures/golden/demo-report-rule-pack-{version}.json"))).expect("old golden kept");
        assert!(rendered == golden, "the archived {version} component no longer renders its golden report");
        let digest = std::fs::read_to_string(root.join(format!("fixtures/golden/demo-report-rule-pack-{version}.sha256"))).expect("old digest kept");
        assert_eq!(digest, format!("{}  rule-pack {version}\n", sha256_hex(golden.as_bytes())));
    }
}

/// The exports (ASFF and OCSF) of the demo snapshot with its waivers, and of every real AWS
/// Config sample among the fixtures, with a fixed `generated_at` and component digest: their
/// sha256s are committed, so a renderer rewritten for speed must write the same bytes. Re-bless
/// with `BLESS=1` only for a deliberate change of an export's format (and say so in the
/// CHANGELOG).
#[test]
fn exports_match_their_committed_digests() {
    use compliance_engine::render::export::{ExportFormat, ExportOptions, render};
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let demo = root.join("../hosts/cli/demo");
    let mut inputs = vec![("demo", vec![demo.join("config-snapshot-demo.json")], Some(demo.join("waivers.yaml")))];
    let mut samples: Vec<_> = std::fs::read_dir(root.join("fixtures/aws-config")).expect("samples").map(|e| e.expect("entry").path()).filter(|p| p.extension().is_some_and(|e| e == "json")).collect();
    samples.sort();
    inputs.push(("aws-config-samples", samples, None));
    let mut digests = String::new();
    for (label, files, waivers) in inputs {
        let mut scan = Scan::new(ScanOptions::default()).expect("options");
        if let Some(waivers) = waivers {
            scan.set_waivers("waivers.yaml", &std::fs::read(waivers).expect("waivers")).expect("valid waivers");
        }
        for file in &files {
            let name = file.file_name().and_then(|n| n.to_str()).expect("name");
            scan.begin_source(name).expect("begin");
            scan.feed(&std::fs::read(file).expect("sample")).expect("feed");
            scan.end_source().expect("end");
        }
        let meta = ReportMeta { generated_at: compliance_tests::GENERATED_AT.into(), component_sha256: PLACEHOLDER.into(), input_sha256: "0".repeat(64), sources: Vec::new() };
        let report = scan.finish(meta).expect("finish");
        for (format, name) in [(ExportFormat::Asff, "asff"), (ExportFormat::Ocsf, "ocsf")] {
            for global_region in ["eu-west-1", "cn-north-1"] {
                let bytes = render(&report, format, &ExportOptions { global_region: global_region.into() }).expect("exports");
                assert!(bytes.len() > 1000, "{label} {name}: {} bytes", bytes.len());
                digests.push_str(&format!("{}  {label} {name} {global_region}\n", sha256_hex(&bytes)));
            }
        }
    }
    let golden = root.join("fixtures/golden/exports.sha256");
    if std::env::var_os("BLESS").is_some() {
        std::fs::write(&golden, &digests).expect("write");
        return;
    }
    let committed = std::fs::read_to_string(golden).expect("export digests committed");
    assert_eq!(digests, committed, "an export's bytes changed. If deliberate: BLESS=1, and record it in CHANGELOG.md");
}
