//! The component path: same bytes as the native engine, clear errors for bad input, refusal of
//! anything that is not our component, escaped HTML.

use std::borrow::Cow;
use std::path::Path;

use compliance_runtime::{InputErrorKind, InputSource, Limits, ReportFormat, Runtime, RuntimeError};
use compliance_tests::{component_json, component_scan, native_json, request, runtime};
use serde_json::Value;

fn demo() -> Vec<(String, Vec<u8>)> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../hosts/cli/demo/config-snapshot-demo.json");
    vec![("demo/config-snapshot-demo.json".to_owned(), std::fs::read(path).expect("demo snapshot"))]
}

#[test]
fn demo_report_is_identical_natively_and_through_the_component_and_repeatable() {
    let component = component_json(&demo());
    assert_eq!(component, native_json(&demo()));
    assert_eq!(component, component_json(&demo()), "a second scan gives the same bytes");
    let report: Value = serde_json::from_slice(&component).expect("json");
    assert_eq!(report["engine"]["component_sha256"], runtime().sha256());
    assert_eq!(report["engine"]["rule_pack"]["id"], "default");
    let findings = report["findings"].as_array().expect("findings");
    // The demo exercises every rule with every status it can take.
    for rule in compliance_engine::RULES {
        let statuses: Vec<&str> = findings.iter().filter(|f| f["rule_id"] == rule.id).filter_map(|f| f["status"].as_str()).collect();
        assert!(statuses.contains(&"COMPLIANT") && statuses.contains(&"NON_COMPLIANT"), "{} lacks a status: {statuses:?}", rule.id);
    }
}

#[test]
fn chunk_size_does_not_change_the_report() {
    let tiny = Runtime::embedded(Limits { chunk_bytes: 5, ..Limits::default() }).expect("runtime");
    let mut scan = tiny.scan(&request(), vec![InputSource::bytes(demo()[0].0.clone(), demo()[0].1.clone())], &mut |_| {}).expect("scan");
    assert_eq!(scan.render(ReportFormat::Json, &[]).expect("json"), component_json(&demo()));
}

fn input_error(bytes: &[u8]) -> (InputErrorKind, String, Option<u64>, String) {
    match component_scan(&[("bad.json".to_owned(), bytes.to_vec())]) {
        Err(RuntimeError::Input { kind, source_name, offset, message, .. }) => (kind, source_name, offset, message),
        Err(other) => panic!("expected an input error, got {other}"),
        Ok(_) => panic!("expected an input error for {}", String::from_utf8_lossy(bytes)),
    }
}

#[test]
fn bad_input_is_a_located_error() {
    let (kind, source, offset, _) = input_error(b"{\"configurationItems\": [{\"resourceType\": \"AWS::S3::Bucket\", \"resourceId\": \"b\"}, {\"x\": tru}]}");
    assert_eq!((kind, source.as_str()), (InputErrorKind::MalformedJson, "bad.json"));
    assert!(offset.is_some_and(|o| (86..=90).contains(&o)), "offset {offset:?} should point at the bad literal (byte 86)");
    let (kind, _, _, message) = input_error(b"{\"configurationItems\": [{\"resourceType\": \"AWS::S3::Bucket\"");
    assert_eq!(kind, InputErrorKind::MalformedJson);
    assert!(message.contains("truncated"), "{message}");
    let (kind, _, _, message) = input_error(b"{\"hello\": \"world\"}");
    assert_eq!(kind, InputErrorKind::UnsupportedShape);
    assert!(message.contains("hello"), "{message}");
    let (kind, _, _, _) = input_error(b"\"just a string\"");
    assert_eq!(kind, InputErrorKind::UnsupportedShape);
    let (kind, _, _, _) = input_error(b"   \n");
    assert_eq!(kind, InputErrorKind::UnsupportedShape);
    let (kind, _, _, _) = input_error(b"{\"resourceType\": \"AWS::S3::Bucket\", \"resourceId\": [1]}");
    assert_eq!(kind, InputErrorKind::InvalidItem);
    let deep = format!("{}{}", "[".repeat(5000), "]".repeat(5000));
    let (kind, _, _, _) = input_error(format!("{{\"configurationItems\": [{deep}]}}").as_bytes());
    assert_eq!(kind, InputErrorKind::LimitExceeded);
}

#[test]
fn empty_snapshot_scores_full_marks() {
    let mut scan = component_scan(&[("empty.json".to_owned(), b"{\"fileVersion\":\"1.0\",\"configurationItems\":[]}".to_vec())]).expect("scan");
    assert_eq!(scan.summary.score_bp, 10_000);
    assert_eq!(scan.summary.evaluated_resources, 0);
    assert!(!scan.summary.below_threshold);
    assert!(scan.resources().expect("resources").is_empty());
}

#[test]
fn anything_but_our_component_is_refused() {
    for (bytes, what) in [(b"not wasm at all".to_vec(), "not a WebAssembly component"), (b"\0asm\x01\0\0\0".to_vec(), "not a WebAssembly component")] {
        match Runtime::from_bytes(Cow::Owned(bytes), Limits::default()) {
            Err(RuntimeError::InvalidComponent(message)) => assert!(message.contains(what), "{message}"),
            other => panic!("expected InvalidComponent, got {other:?}"),
        }
    }
    // A valid component that exports something else.
    let empty_component = b"\0asm\x0d\0\x01\0".to_vec();
    match Runtime::from_bytes(Cow::Owned(empty_component), Limits::default()) {
        Err(RuntimeError::InvalidComponent(message)) => assert!(message.contains("compliance:engine/scanner"), "{message}"),
        other => panic!("expected InvalidComponent, got {other:?}"),
    }
}

#[test]
fn html_escapes_hostile_values_and_fetches_nothing() {
    let hostile = serde_json::json!({"resourceType": "AWS::EC2::Instance", "resourceId": "i-<img src=x onerror=alert(1)>",
        "resourceName": "\"><script>alert(document.cookie)</script>", "awsRegion": "us-east-1",
        "tags": {"Criticality": "<b>high</b>", "Owner": "=cmd|' /C calc'!A0"}, "configuration": {}});
    let mut scan = component_scan(&[("hostile.json".to_owned(), hostile.to_string().into_bytes())]).expect("scan");
    let html = String::from_utf8(scan.render(ReportFormat::Html, &[]).expect("html")).expect("utf-8");
    assert!(!html.contains("<script"), "script tag leaked");
    assert!(!html.contains("<img"), "img tag leaked");
    assert!(html.contains("&lt;script&gt;alert(document.cookie)&lt;/script&gt;"));
    for external in ["src=\"http", "href=\"http", "url(http", "@import", "<link", "src=\"//"] {
        assert!(!html.contains(external), "external reference {external}");
    }
    let csv = String::from_utf8(scan.render(ReportFormat::Csv, &[]).expect("csv")).expect("utf-8");
    assert!(csv.contains("i-<img src=x onerror=alert(1)>"), "CSV keeps values verbatim (quoted where needed)");
}

#[test]
fn the_component_reports_the_whole_rule_pack() {
    let rules = runtime().rules().expect("rules");
    assert_eq!(rules.len(), 17);
    assert_eq!(rules.iter().filter(|r| r.remediable).map(|r| r.id.as_str()).collect::<Vec<_>>(), ["s3-bucket-sse-kms"]);
    let about = runtime().about().expect("about");
    assert_eq!((about.rule_pack_id.as_str(), about.rule_pack_version.as_str()), ("default", compliance_engine::RULE_PACK_VERSION));
}

#[test]
fn the_embedded_component_starts_from_its_precompiled_artifact() {
    assert!(runtime().is_precompiled(), "build.rs should precompile the component for the native target");
    // The widest artifact this CPU can run is the one loaded.
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::is_x86_feature_detected as has;
        let v3 = has!("avx") && has!("avx2") && has!("bmi1") && has!("bmi2") && has!("fma") && has!("lzcnt");
        let expected = if v3 { "x86-64-v3" } else { "x86-64-v2" };
        assert_eq!(runtime().precompiled_for(), Some(expected));
    }
}

#[test]
fn every_precompiled_artifact_this_cpu_runs_gives_the_same_bytes() {
    // The demo and every real AWS Config sample, in every report format: the artifacts differ
    // only in the instructions Cranelift may use, so any difference is a code generation bug.
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/aws-config");
    let mut sources = demo();
    for entry in std::fs::read_dir(&fixtures).expect("fixtures") {
        let path = entry.expect("entry").path();
        if path.extension().is_some_and(|e| e == "json") {
            sources.push((path.display().to_string(), std::fs::read(&path).expect("fixture")));
        }
    }
    sources.sort();
    let render_all = |runtime: &Runtime| {
        let inputs = sources.iter().map(|(name, bytes)| InputSource::bytes(name.clone(), bytes.clone())).collect();
        let mut scan = runtime.scan(&request(), inputs, &mut |_| {}).expect("scan");
        [ReportFormat::Json, ReportFormat::Html, ReportFormat::Csv, ReportFormat::Table].map(|format| scan.render(format, &[]).expect("render"))
    };
    let expected = render_all(runtime());
    let levels: &[&str] = if cfg!(target_arch = "x86_64") { &["x86-64-v3", "x86-64-v2"] } else { &[std::env::consts::ARCH] };
    let mut loaded = Vec::new();
    for &level in levels {
        match Runtime::embedded_precompiled_for(level, Limits::default()) {
            Ok(other) => {
                assert_eq!(other.precompiled_for(), Some(level));
                assert!(render_all(&other) == expected, "the component precompiled for {level} renders other bytes");
                loaded.push(level);
            }
            // Only the wide artifact may be beyond this CPU; x86-64-v2 is every x86-64 server.
            Err(e) => assert!(level == "x86-64-v3" && e.to_string().contains("this CPU cannot run"), "{level}: {e}"),
        }
    }
    assert!(loaded.contains(&levels[levels.len() - 1]), "the baseline artifact must load: {loaded:?}");
    let unknown = Runtime::embedded_precompiled_for("z80", Limits::default()).map(|_| ()).expect_err("no such artifact");
    assert!(unknown.to_string().contains("no component precompiled for z80"), "{unknown}");
}

#[test]
fn results_larger_than_the_transfer_limit_are_a_clear_error() {
    // Regression: wasmtime's default limit of 128 MiB per guest-to-host transfer made the JSON
    // report of a 100,000-resource snapshot fail. The runtime now sets the limit explicitly
    // (3 GiB by default); a small one shows the failure is reported, not a crash.
    let small = Runtime::embedded(Limits { max_result_bytes: 10_000, ..Limits::default() }).expect("runtime");
    let mut scan = small.scan(&request(), vec![InputSource::bytes(demo()[0].0.clone(), demo()[0].1.clone())], &mut |_| {}).expect("scan");
    match scan.render(ReportFormat::Json, &[]) {
        Err(RuntimeError::Trap { message, .. }) => assert!(message.contains("transfer limit of 10000 bytes"), "{message}"),
        other => panic!("expected a transfer-limit error, got {:?}", other.map(|b| b.len())),
    }
    let mut scan = component_scan(&demo()).expect("scan");
    assert!(scan.render(ReportFormat::Json, &[]).expect("default limit").len() > 10_000);
}

/// A writer that takes `room` bytes and then fails.
struct FullDisk {
    room: usize,
    taken: Vec<u8>,
}

impl std::io::Write for FullDisk {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        if self.taken.len() + bytes.len() > self.room {
            return Err(std::io::Error::other("no space left"));
        }
        self.taken.extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn a_failed_write_or_page_while_rendering_is_its_error_and_the_scan_renders_again() {
    // The pages are rendered on a helper thread while the caller's thread writes: a write that
    // fails must come back as that error (not hang the renderer or lose the error), a page
    // that fails as its own error, and the scan must still render afterwards.
    let mut scan = component_scan(&demo()).expect("scan");
    let whole = scan.render(ReportFormat::Json, &[]).expect("render");
    let mut full = FullDisk { room: 0, taken: Vec::new() };
    match scan.render_to(ReportFormat::Json, &[], &mut full, "report.json") {
        Err(RuntimeError::Io { path, source }) => assert_eq!((path.as_str(), source.to_string().as_str()), ("report.json", "no space left")),
        other => panic!("expected the write error, got {other:?}"),
    }
    let mut roomy = FullDisk { room: usize::MAX, taken: Vec::new() };
    assert_eq!(scan.render_to(ReportFormat::Json, &[], &mut roomy, "report.json").expect("renders again"), whole.len() as u64);
    assert_eq!(roomy.taken, whole);

    let small = Runtime::embedded(Limits { max_result_bytes: 10_000, ..Limits::default() }).expect("runtime");
    let mut scan = small.scan(&request(), vec![InputSource::bytes(demo()[0].0.clone(), demo()[0].1.clone())], &mut |_| {}).expect("scan");
    match scan.render_to(ReportFormat::Html, &[], &mut Vec::new(), "report.html") {
        Err(RuntimeError::Trap { message, .. }) => assert!(message.contains("transfer limit of 10000 bytes"), "{message}"),
        other => panic!("expected the page's transfer-limit error, got {other:?}"),
    }
}

#[test]
fn a_report_of_many_pages_is_written_whole_and_a_write_failing_midway_stops_the_rendering() {
    // More pages (4 MiB each) than the two that may wait for the writer: the renderer fills the
    // channel and waits, the writer takes them in order.
    let items: Vec<Value> = (0..20_000)
        .map(|i| serde_json::json!({"resourceType": "AWS::EC2::Volume", "resourceId": format!("vol-{i:017x}"), "awsAccountId": "123456789012", "awsRegion": "eu-west-1", "configuration": {"encrypted": i % 3 == 0}}))
        .collect();
    let bytes = serde_json::json!({ "configurationItems": items }).to_string().into_bytes();
    let mut scan = runtime().scan(&request(), vec![InputSource::bytes("many.json", bytes)], &mut |_| {}).expect("scan");
    let whole = scan.render(ReportFormat::Json, &[]).expect("render");
    assert!(whole.len() > 3 * (4 << 20), "{} bytes is too few pages for this test", whole.len());
    let mut paged = Vec::new();
    assert_eq!(scan.render_to(ReportFormat::Json, &[], &mut paged, "report.json").expect("render_to"), whole.len() as u64);
    assert!(paged == whole, "the pages concatenate to the report");
    // The disk fills after a page and a half: the renderer, waiting on a full channel, stops,
    // and the writer's error is the one returned, after what it could write.
    let mut full = FullDisk { room: 6 << 20, taken: Vec::new() };
    match scan.render_to(ReportFormat::Json, &[], &mut full, "report.json") {
        Err(RuntimeError::Io { path, .. }) => assert_eq!(path, "report.json"),
        other => panic!("expected the write error, got {other:?}"),
    }
    assert!(!full.taken.is_empty() && whole.starts_with(&full.taken), "the pages before the failure were written in order");
}

/// Every format written through `render_to` (pieces with a 1.1.0 component, whole with 1.0.0).
fn rendered_both_ways(runtime: &Runtime) -> Vec<(Vec<u8>, Vec<u8>)> {
    let source = || vec![InputSource::bytes(demo()[0].0.clone(), demo()[0].1.clone())];
    let mut scan = runtime.scan(&request(), source(), &mut |_| {}).expect("scan");
    [ReportFormat::Json, ReportFormat::Html, ReportFormat::Csv, ReportFormat::Table, ReportFormat::Json]
        .into_iter()
        .map(|format| {
            let mut paged = Vec::new();
            let written = scan.render_to(format, &[], &mut paged, "memory").expect("render_to");
            assert_eq!(written, paged.len() as u64);
            (paged, scan.render(format, &[]).expect("render"))
        })
        .collect()
}

#[test]
fn reports_rendered_in_pieces_are_the_whole_report() {
    let current = runtime();
    assert!(current.renders_in_pages(), "the embedded component is compliance:engine@1.8.0");
    assert!(current.scans_in_parallel(), "the embedded component hands scan state over (1.6.0)");
    assert!(current.splits_sources(), "the embedded component reads a source in parts (1.7.0)");
    assert!(current.digests_ids_apart(), "the embedded component digests finding ids on another instance (1.8.0)");
    for (paged, whole) in rendered_both_ways(current) {
        assert_eq!(paged, whole);
    }
    // The demo's JSON report spans several pieces only if they are small; the engine's own tests
    // cover piece sizes, this one the boundary: the archived 1.0.0 component has no render-page
    // and is still loaded, scanned and rendered through the same call.
    let archived = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/archive/component.wasm");
    let archived = Runtime::from_file(&archived, Limits::default()).expect("a 1.0.0 component loads");
    assert!(!archived.renders_in_pages());
    assert!(!archived.scans_in_parallel());
    assert!(!archived.splits_sources());
    assert!(!archived.digests_ids_apart());
    for (paged, whole) in rendered_both_ways(&archived) {
        assert_eq!(paged, whole);
    }
}

#[test]
fn the_roll_up_is_the_same_through_the_component_and_archived_components_say_they_lack_it() {
    use compliance_engine::report::GroupSummary;
    use compliance_engine::rollup::{AccountRegionPart, RollupInput, RollupRequest, roll_up};
    use compliance_engine::score::Tally;
    use compliance_runtime::rollup::{Part, Request, RollupFormat, Summary};

    let parts = [("111", "us-east-1", 7, 9, 3, 1), ("111", "global", 2, 5, 2, 1), ("222", "eu-west-1", 40, 40, 4, 0)];
    let summary = Summary {
        name: "reports/a/report.json".into(),
        report_sha256: "ab".repeat(32),
        generated_at: "2026-12-01T10:00:00.000Z".into(),
        component_sha256: "cd".repeat(32),
        input_sha256: "ef".repeat(32),
        rule_pack_version: "1.1.0".into(),
        score_bp: 8055,
        parts: parts
            .iter()
            .map(|&(account, region, compliant, decided, resources, failing)| Part {
                account_id: account.into(),
                region: region.into(),
                weight_compliant: compliant,
                weight_decided: decided,
                resources,
                non_compliant: failing,
            })
            .collect(),
    };
    let request = Request {
        org_id: "o-test".into(),
        threshold_bp: 9000,
        generated_at: "2026-12-01T10:30:00.000Z".into(),
        window_start: None,
        forget_after_hours: 24,
        expected: Vec::new(),
        component_sha256: runtime().sha256().to_owned(),
    };
    let current = runtime();
    assert!(current.rolls_up());
    let outcome = current.roll_up(&request, std::slice::from_ref(&summary), &[RollupFormat::Json, RollupFormat::Html]).expect("rolls up");
    assert_eq!((outcome.weight_compliant, outcome.weight_decided, outcome.score_bp), (49, 54, 9074));
    assert!(!outcome.below_threshold && outcome.alert, "account 111 is below 90 %");
    assert_eq!(outcome.accounts_below_threshold, ["111"]);

    let native_input = RollupInput {
        name: summary.name.clone(),
        report_sha256: summary.report_sha256.clone(),
        generated_at: summary.generated_at.clone(),
        component_sha256: summary.component_sha256.clone(),
        input_sha256: summary.input_sha256.clone(),
        rule_pack_version: summary.rule_pack_version.clone(),
        score_bp: summary.score_bp,
        parts: parts
            .iter()
            .map(|&(account, region, compliant, decided, resources, failing)| AccountRegionPart {
                account_id: account.into(),
                region: region.into(),
                summary: GroupSummary { tally: Tally { compliant, decided }, resources, non_compliant: failing },
            })
            .collect(),
    };
    let native_request = RollupRequest {
        org_id: request.org_id.clone(),
        threshold_bp: request.threshold_bp,
        generated_at: request.generated_at.clone(),
        window_start: None,
        forget_after_hours: 24,
        expected: Vec::new(),
        component_sha256: request.component_sha256.clone(),
    };
    let native = roll_up(native_request, vec![native_input]).expect("native roll-up");
    assert_eq!(outcome.rendered.first(), Some(&compliance_engine::render::rollup::json(&native).expect("json")));
    assert_eq!(outcome.rendered.get(1), Some(&compliance_engine::render::rollup::html(&native)));

    for archived in ["fixtures/archive/component.wasm", "fixtures/archive/rule-pack-1.0.0-wit-1.1.0/component.wasm"] {
        let old = Runtime::from_file(&Path::new(env!("CARGO_MANIFEST_DIR")).join(archived), Limits::default()).expect("loads");
        assert!(!old.rolls_up(), "{archived}");
        let error = old.roll_up(&request, std::slice::from_ref(&summary), &[RollupFormat::Json]).expect_err("no roll-up before 1.2.0");
        assert!(error.to_string().contains("does not provide the organization roll-up"), "{error}");
    }
    // A bad summary is the input's fault, named.
    let mut bad = summary;
    bad.generated_at = "last tuesday".into();
    let error = current.roll_up(&request, &[bad], &[RollupFormat::Json]).expect_err("refused");
    assert!(error.is_input_error() && error.to_string().contains("reports/a/report.json"), "{error}");
}
