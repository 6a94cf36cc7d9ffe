//! The analyzer against the moto emulator: S3 snapshots in, DynamoDB history, S3 reports and
//! SNS alerts (observed through a subscribed SQS queue) out; Config through the recording fake.

mod support;

use std::collections::HashMap;
use std::time::Instant;

use compliance_lambda::analyzer::{Analyzer, Clients};
use compliance_lambda::config_api::{Call, Recording};
use compliance_lambda::settings::AnalyzerSettings;
use serde_json::{Value, json};
use support::*;

const CONFIG: &str = "compliance-config-test";
const REPORTS: &str = "compliance-reports-test";
const TABLE: &str = "compliance-history-test";

struct Setup {
    moto: Moto,
    queue: String,
    analyzer: Analyzer<Recording>,
}

async fn setup(threshold: &str, table: bool) -> Setup {
    setup_with(threshold, table, &[]).await
}

async fn setup_with(threshold: &str, table: bool, extra: &[(&str, &str)]) -> Setup {
    let moto = Moto::fresh().await;
    moto.bucket(CONFIG).await;
    moto.bucket(REPORTS).await;
    if table {
        moto.history_table(TABLE).await;
    }
    let (topic, queue) = moto.topic_with_queue("compliance-alerts-test").await;
    let env: HashMap<String, String> = [
        ("CONFIG_BUCKET", CONFIG),
        ("HISTORY_TABLE", TABLE),
        ("REPORTS_BUCKET", REPORTS),
        ("ALERT_TOPIC_ARN", topic.as_str()),
        ("SCORE_THRESHOLD", threshold),
        ("ENVIRONMENT_SUFFIX", "test"),
    ]
    .into_iter()
    .chain(extra.iter().copied())
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    let settings = AnalyzerSettings::from_env(&env).unwrap();
    let runtime = compliance_lambda::load_runtime().unwrap();
    let analyzer = Analyzer::new(runtime, Clients::new(&moto.aws), Recording::default(), settings, REGION.to_owned());
    Setup { moto, queue, analyzer }
}

fn event(time: &str) -> Value {
    json!({"version": "0", "id": "5f3c0e5e-0000-4000-8000-000000000001", "detail-type": "Scheduled Event", "source": "aws.events",
           "account": ACCOUNT, "time": time, "region": REGION, "resources": [], "detail": {}})
}

#[tokio::test(flavor = "multi_thread")]
async fn below_threshold_writes_history_reports_and_alerts() {
    let s = setup("80", true).await;
    let key = snapshot_key("2026/11/28", "20261128T160000Z");
    s.moto.put(CONFIG, &key, gzip(&demo_snapshot())).await;
    let outcome = s.analyzer.handle(event("2026-11-28T17:00:00Z")).await.unwrap();
    assert_eq!(outcome["score"], "74.92");
    assert_eq!(outcome["alert_sent"], true);
    assert_eq!(outcome["snapshot"]["key"], key.as_str());
    assert_eq!(s.analyzer_config_calls(), vec![Call::Deliver("default".to_owned())]);

    // History: one item per evaluated resource plus the summary.
    let items = s.moto.scan_table(TABLE).await;
    let evaluated = outcome["resources_evaluated"].as_u64().unwrap() as usize;
    assert_eq!(items.len(), evaluated + 1);
    let summary = items.iter().find(|i| i["ResourceId"].as_s().unwrap() == &format!("SUMMARY#{ACCOUNT}#{REGION}")).unwrap();
    assert_eq!(summary["Timestamp"].as_s().unwrap(), "2026-11-28T17:00:00.000Z");
    assert_eq!(summary["Score"].as_n().unwrap(), "74.92");
    assert_eq!(summary["SnapshotKey"].as_s().unwrap(), &key);
    let resource = items.iter().find(|i| i["Kind"].as_s().unwrap() == "RESOURCE").unwrap();
    for attribute in ["Score", "Criticality", "ScanId", "ComponentSha256", "InputSha256"] {
        assert!(resource.contains_key(attribute), "{attribute} missing");
    }

    // Reports: dated and latest, the JSON naming the exact snapshot object.
    let json_key = outcome["reports"]["json_key"].as_str().unwrap();
    let report: Value = serde_json::from_slice(&s.moto.get(REPORTS, json_key).await).unwrap();
    assert_eq!(report["score_bp"], 7492);
    assert_eq!(report.pointer("/input/sources/0/name").unwrap(), &json!(format!("s3://{CONFIG}/{key}")));
    let latest = s.moto.get(REPORTS, &format!("reports/{ACCOUNT}/{REGION}/latest/report.json")).await;
    assert_eq!(serde_json::from_slice::<Value>(&latest).unwrap(), report);
    let html = String::from_utf8(s.moto.get(REPORTS, outcome["reports"]["html_key"].as_str().unwrap()).await).unwrap();
    assert!(html.contains("7-day trend"));

    // The alert, as an SQS subscriber sees it.
    let messages = s.moto.drain(&s.queue).await;
    assert_eq!(messages.len(), 1, "{messages:?}");
    let envelope: Value = serde_json::from_str(&messages[0]).unwrap();
    let text = envelope["Message"].as_str().unwrap();
    assert!(text.contains("74.92 % is below the threshold of 80.00 %"), "{text}");
    assert!(text.contains(json_key), "{text}");
    assert_eq!(envelope["MessageAttributes"]["score"]["Value"], "74.92");
}

impl Setup {
    fn analyzer_config_calls(&self) -> Vec<Call> {
        self.analyzer.config().calls()
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_waiver_file_marks_findings_and_the_alert_lists_waivers_expiring_soon() {
    const WAIVERS: &str = "governance/waivers.yaml";
    let s = setup_with("80", true, &[("WAIVERS_BUCKET", CONFIG), ("WAIVERS_KEY", WAIVERS)]).await;
    // The demo file, and a waiver on a bucket the remediator would otherwise encrypt.
    let mut file = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../cli/demo/waivers.yaml")).unwrap();
    file.push_str(
        "  - id: W-KMS\n    rule: s3-bucket-sse-kms\n    resource: arn:aws:s3:::example-bank-statements\n    reason: Re-encryption scheduled with the archive move\n    \
         owner: storage-platform@example.com\n    approved_by: ciso@example.com\n    approved_on: 2026-11-01\n    ticket: RISK-1500\n    expires: 2026-12-10\n",
    );
    s.moto.put(CONFIG, WAIVERS, file.clone().into_bytes()).await;
    s.moto.put(CONFIG, &snapshot_key("2026/11/28", "20261128T160000Z"), gzip(&demo_snapshot())).await;
    let outcome = s.analyzer.handle(event("2026-11-28T17:00:00Z")).await.unwrap();
    assert_eq!(outcome["score"], "74.92", "waivers never change score_bp");
    let w = &outcome["waivers"];
    assert!(w["score_with_waivers_bp"].as_u64().unwrap() > 7492, "{outcome}");
    assert_eq!(w["waived_findings"], 5, "{outcome}");
    assert_eq!(w["expiring_soon"], json!(["W-2026-021", "W-2026-003", "W-KMS"]), "{outcome}");
    let report: Value = serde_json::from_slice(&s.moto.get(REPORTS, outcome["reports"]["json_key"].as_str().unwrap()).await).unwrap();
    let name = report["input"]["waivers"]["name"].as_str().unwrap();
    assert!(name.starts_with(&format!("s3://{CONFIG}/{WAIVERS}")), "{name}");
    assert_eq!(report["input"]["waivers"]["sha256"], compliance_runtime::sha256_hex(file.as_bytes()));
    assert_eq!(report["score_with_waivers_bp"], w["score_with_waivers_bp"]);

    let messages = s.moto.drain(&s.queue).await;
    assert_eq!(messages.len(), 1, "{messages:?}");
    let envelope: Value = serde_json::from_str(&messages[0]).unwrap();
    let text = envelope["Message"].as_str().unwrap();
    assert!(text.contains("74.92 % is below the threshold of 80.00 % (with waivers "), "{text}");
    assert!(text.lines().any(|l| l.contains("example-bank-statements") && l.ends_with("(waived: W-KMS)")), "{text}");
    assert!(text.contains("Waivers expiring within 30 days (renew or fix):\n- W-2026-021 (network-engineering@example.com), expires 2026-12-20"), "{text}");

    // A broken waiver file fails the scan, naming the entry and the field; nothing is written.
    let items = s.moto.scan_table(TABLE).await.len();
    s.moto.put(CONFIG, WAIVERS, file.replace("expires: 2026-12-10", "expires: 2026-12-32").into_bytes()).await;
    let error = format!("{:#}", s.analyzer.handle(event("2026-11-28T18:00:00Z")).await.unwrap_err());
    assert!(error.contains("invalid waiver file: entry 5 (id `W-KMS`)") && error.contains("field `expires`"), "{error}");
    assert_eq!(s.moto.scan_table(TABLE).await.len(), items);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_html_report_says_what_changed_since_the_previous_scan() {
    let s = setup("70", true).await;
    s.moto.put(CONFIG, &snapshot_key("2026/11/28", "20261128T160000Z"), gzip(&demo_snapshot())).await;
    let first = s.analyzer.handle(event("2026-11-28T17:00:00Z")).await.unwrap();
    let html = String::from_utf8(s.moto.get(REPORTS, first["reports"]["html_key"].as_str().unwrap()).await).unwrap();
    assert!(!html.contains("id=\"since\""), "no previous scan, no section");
    // An hour later one volume lost its encryption (so did the instance it is attached to) and
    // the statements bucket is gone.
    let mut snapshot: Value = serde_json::from_slice(&demo_snapshot()).unwrap();
    let items = snapshot["configurationItems"].as_array_mut().unwrap();
    items.retain(|i| i["resourceId"] != "example-bank-statements");
    let volume = items.iter_mut().find(|i| i["resourceId"] == "vol-0e0000000000001").unwrap();
    volume["configuration"]["encrypted"] = json!(false);
    s.moto.put(CONFIG, &snapshot_key("2026/11/28", "20261128T170000Z"), gzip(&serde_json::to_vec(&snapshot).unwrap())).await;
    let second = s.analyzer.handle(event("2026-11-28T18:00:00Z")).await.unwrap();
    let html = String::from_utf8(s.moto.get(REPORTS, second["reports"]["html_key"].as_str().unwrap()).await).unwrap();
    let section = html.split("id=\"since\"").nth(1).and_then(|s| s.split("<h2>").next()).expect("a since-the-previous-scan section");
    assert!(section.contains("Compared with the scan of 2026-11-28T17:00:00.000Z: 2 findings newly failing, 1 resolved."), "{section}");
    assert!(section.contains("<code>ec2-volume-encrypted</code></td><td>vol-0e0000000000001<br>"), "{section}");
    assert!(section.contains("<code>ec2-instance-ebs-encrypted</code></td><td>i-0a11ce0000000001<br>"), "{section}");
    assert!(section.contains("<code>s3-bucket-sse-kms</code></td><td>example-bank-statements<br>") && section.contains("resource gone"), "{section}");
}

#[tokio::test(flavor = "multi_thread")]
async fn above_threshold_sends_no_alert_and_retries_do_not_duplicate() {
    let s = setup("70", true).await;
    s.moto.put(CONFIG, &snapshot_key("2026/11/28", "20261128T160000Z"), gzip(&demo_snapshot())).await;
    let first = s.analyzer.handle(event("2026-11-28T17:00:00Z")).await.unwrap();
    assert_eq!(first["alert_sent"], false);
    let count = s.moto.scan_table(TABLE).await.len();
    // EventBridge retries the same event: same scan, same items, no second scan.
    let again = s.analyzer.handle(event("2026-11-28T17:00:00Z")).await.unwrap();
    assert_eq!((again["scan_id"].clone(), s.moto.scan_table(TABLE).await.len()), (first["scan_id"].clone(), count));
    assert!(s.moto.drain(&s.queue).await.is_empty());
    // The next hour's scan sees the previous one in its trend.
    s.analyzer.handle(event("2026-11-28T18:00:00Z")).await.unwrap();
    let html = String::from_utf8(s.moto.get(REPORTS, &format!("reports/{ACCOUNT}/{REGION}/latest/report.html")).await).unwrap();
    assert!(html.contains("2 scans from 2026-11-28T17:00:00.000Z to 2026-11-28T18:00:00.000Z"), "trend missing");
}

#[tokio::test(flavor = "multi_thread")]
async fn no_snapshot_yet_succeeds_without_writing() {
    let s = setup("70", true).await;
    s.moto.put(CONFIG, &format!("AWSLogs/{ACCOUNT}/Config/ConfigWritabilityCheckFile"), b"x".to_vec()).await;
    s.analyzer.config().fail("deliver"); // best effort: never fails the run
    let outcome = s.analyzer.handle(event("2026-11-28T17:00:00Z")).await.unwrap();
    assert_eq!(outcome["status"], "no-snapshot");
    assert!(s.moto.scan_table(TABLE).await.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn empty_account_scores_an_empty_snapshot() {
    let s = setup("70", true).await;
    let empty = br#"{"fileVersion":"1.0","configSnapshotId":"00000000-0000-0000-0000-000000000000","configurationItems":[]}"#;
    s.moto.put(CONFIG, &snapshot_key("2026/11/28", "20261128T160000Z"), gzip(empty)).await;
    let outcome = s.analyzer.handle(event("2026-11-28T17:00:00Z")).await.unwrap();
    assert_eq!((outcome["status"].as_str(), outcome["resources_evaluated"].as_u64()), (Some("scored"), Some(0)));
    assert_eq!(s.moto.scan_table(TABLE).await.len(), 1, "only the summary");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_newest_of_several_snapshots_is_scored() {
    let s = setup("70", true).await;
    let empty = br#"{"configurationItems":[]}"#;
    let newest = snapshot_key("2026/11/28", "20261128T160000Z");
    s.moto.put(CONFIG, &snapshot_key("2026/11/26", "20261126T160000Z"), gzip(empty)).await;
    s.moto.put(CONFIG, &snapshot_key("2026/11/27", "20261127T160000Z"), gzip(empty)).await;
    s.moto.put(CONFIG, &newest, gzip(&demo_snapshot())).await;
    s.moto.put(CONFIG, &format!("AWSLogs/{ACCOUNT}/Config/{REGION}/2026/11/28/ConfigHistory/history.json.gz"), gzip(empty)).await;
    let outcome = s.analyzer.handle(event("2026-11-28T17:00:00Z")).await.unwrap();
    assert_eq!(outcome["snapshot"]["key"], newest.as_str());
    assert_eq!(outcome["score"], "74.92");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_history_write_failure_fails_the_invocation_before_any_summary_or_report() {
    let s = setup("70", false).await; // no table: every DynamoDB call fails
    s.moto.put(CONFIG, &snapshot_key("2026/11/28", "20261128T160000Z"), gzip(&demo_snapshot())).await;
    let error = format!("{:#}", s.analyzer.handle(event("2026-11-28T17:00:00Z")).await.unwrap_err());
    assert!(error.contains(TABLE), "{error}");
    let listed = s.moto.s3().list_objects_v2().bucket(REPORTS).send().await.unwrap();
    assert!(listed.contents().is_empty(), "no report may be stored for a failed scan");
    assert!(s.moto.drain(&s.queue).await.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_corrupt_snapshot_fails_with_its_key() {
    let s = setup("70", true).await;
    let key = snapshot_key("2026/11/28", "20261128T160000Z");
    s.moto.put(CONFIG, &key, b"\x1f\x8b\x08\x00 truncated".to_vec()).await;
    let error = format!("{:#}", s.analyzer.handle(event("2026-11-28T17:00:00Z")).await.unwrap_err());
    assert!(error.contains(&key), "{error}");
    assert!(s.moto.scan_table(TABLE).await.is_empty());
}

/// Not a timed test: prints how long 10,000 resources take, for the record (the function's
/// window is 2 minutes); the assertion is on the work done.
#[tokio::test(flavor = "multi_thread")]
async fn ten_thousand_resources() {
    let s = setup("70", true).await;
    let snapshot = compliance_benches::snapshot(10_000, 7, compliance_benches::Shape::Snapshot, true);
    s.moto.put(CONFIG, &snapshot_key("2026/11/28", "20261128T160000Z"), snapshot).await;
    let started = Instant::now();
    let outcome = s.analyzer.handle(event("2026-11-28T17:00:00Z")).await.unwrap();
    eprintln!("analyzer on 10,000 resources against moto: {:?} (handler reported {} ms)", started.elapsed(), outcome["duration_ms"]);
    // The generator mixes in resource types outside the rule pack; every evaluated one has an item.
    let evaluated = outcome["resources_evaluated"].as_u64().unwrap() as usize;
    assert!(evaluated > 9_000, "{outcome}");
    assert_eq!(s.moto.scan_table(TABLE).await.len(), evaluated + 1);

    // The 17 MB JSON report went up in parts as it was rendered (three of them), then was
    // completed and copied to latest/.
    let dated = outcome["reports"]["json_key"].as_str().unwrap().to_owned();
    let latest = format!("reports/{ACCOUNT}/{REGION}/latest/report.json");
    let report = s.moto.get(REPORTS, &dated).await;
    assert!(report.len() > 2 * compliance_lambda::report_upload::PART_BYTES, "{} bytes", report.len());
    assert!(report == s.moto.get(REPORTS, &latest).await, "latest/ holds the same report");
    let parsed: Value = serde_json::from_slice(&report).unwrap();
    assert_eq!(parsed["resources"].as_array().map(Vec::len), Some(evaluated));
    for key in [&dated, &latest] {
        let head = s.moto.s3().head_object().bucket(REPORTS).key(key).send().await.unwrap();
        assert_eq!(head.content_type(), Some("application/json"), "{key}");
        assert_eq!(head.metadata().and_then(|m| m.get("scan-id")).map(String::as_str), Some("20261128T170000000Z"), "{key}");
    }
    assert_eq!(pending_uploads(&s).await, 0);
}

/// Multipart uploads of the reports bucket not completed or aborted.
async fn pending_uploads(s: &Setup) -> usize {
    s.moto.s3().list_multipart_uploads().bucket(REPORTS).send().await.unwrap().uploads().len()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_large_report_of_a_scan_whose_history_fails_is_never_visible() {
    let s = setup("70", false).await; // no table: the history write fails after scoring
    let snapshot = compliance_benches::snapshot(10_000, 7, compliance_benches::Shape::Snapshot, true);
    s.moto.put(CONFIG, &snapshot_key("2026/11/28", "20261128T160000Z"), snapshot).await;
    let error = format!("{:#}", s.analyzer.handle(event("2026-11-28T17:00:00Z")).await.unwrap_err());
    assert!(error.contains(TABLE), "{error}");
    let listed = s.moto.s3().list_objects_v2().bucket(REPORTS).send().await.unwrap();
    assert!(listed.contents().is_empty(), "no report may be stored for a failed scan");
    assert_eq!(pending_uploads(&s).await, 0, "the report's upload is aborted");
}

// Faults injected in front of the emulator (moto_launcher.py's fault plan): retries where they
// can help; otherwise the invocation fails before the summary item, and the retried event
// completes the scan without duplicating anything.

const BATCH_WRITE: &str = "DynamoDB_20120810.BatchWriteItem";

fn summaries(items: &[HashMap<String, aws_sdk_dynamodb::types::AttributeValue>]) -> usize {
    items.iter().filter(|i| i["ResourceId"].as_s().unwrap().starts_with("SUMMARY#")).count()
}

/// A fresh emulator with the demo snapshot delivered.
async fn faulted_setup(threshold: &str) -> Setup {
    let s = setup(threshold, true).await;
    s.moto.put(CONFIG, &snapshot_key("2026/11/28", "20261128T160000Z"), gzip(&demo_snapshot())).await;
    s
}

/// The retried event finishes the work: every item once, one summary, one alert.
async fn assert_complete_once(s: &Setup, outcome: &Value) {
    let items = s.moto.scan_table(TABLE).await;
    assert_eq!(items.len() as u64, outcome["history_items"].as_u64().unwrap());
    assert_eq!(summaries(&items), 1);
    assert_eq!(s.moto.drain(&s.queue).await.len(), 1, "exactly one alert");
}

#[tokio::test(flavor = "multi_thread")]
async fn fault_throttling_and_5xx_on_the_first_requests_are_retried() {
    let s = faulted_setup("80").await;
    s.moto.faults(json!([
        {"method": "GET", "path_prefix": format!("/{CONFIG}"), "times": 1, "status": 500,
         "body": "<Error><Code>InternalError</Code><Message>We encountered an internal error.</Message></Error>"},
        {"target": BATCH_WRITE, "times": 2, "status": 400, "content_type": "application/x-amz-json-1.0",
         "body": r#"{"__type":"com.amazonaws.dynamodb.v20120810#ThrottlingException","message":"Rate of requests exceeds the allowed throughput."}"#},
        {"method": "PUT", "path_prefix": format!("/{REPORTS}/"), "times": 1, "status": 503,
         "body": "<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>"},
    ]));
    let outcome = s.analyzer.handle(event("2026-11-28T17:00:00Z")).await.unwrap();
    assert_eq!(s.moto.fault_hits(), vec![1, 2, 1], "every fault was served");
    assert_eq!(outcome["score"], "74.92");
    assert_complete_once(&s, &outcome).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn fault_emulator_unreachable_mid_run_fails_then_the_retry_completes_without_duplicates() {
    let s = faulted_setup("80").await;
    // The first history batch lands, then every connection to DynamoDB is cut.
    s.moto.faults(json!([{"target": BATCH_WRITE, "skip": 1, "action": "drop"}]));
    let error = format!("{:#}", s.analyzer.handle(event("2026-11-28T17:00:00Z")).await.unwrap_err());
    assert!(error.contains("writing history to DynamoDB table"), "{error}");
    assert!(s.moto.fault_hits()[0] >= 3, "the SDK retried the cut connection");
    let half = s.moto.scan_table(TABLE).await;
    assert!(!half.is_empty() && summaries(&half) == 0, "a half-written scan has no summary item");
    assert!(s.moto.drain(&s.queue).await.is_empty(), "no alert for an unfinished scan");

    s.moto.faults(json!([]));
    let outcome = s.analyzer.handle(event("2026-11-28T17:00:00Z")).await.unwrap();
    assert_complete_once(&s, &outcome).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn fault_unprocessed_items_are_written_on_retry() {
    let s = faulted_setup("80").await;
    s.moto.faults(json!([{"target": BATCH_WRITE, "times": 3, "action": "unprocessed", "keep": 5}]));
    let outcome = s.analyzer.handle(event("2026-11-28T17:00:00Z")).await.unwrap();
    assert_eq!(s.moto.fault_hits(), vec![3]);
    assert_complete_once(&s, &outcome).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn fault_unprocessed_items_that_never_clear_fail_the_invocation() {
    let s = faulted_setup("80").await;
    s.moto.faults(json!([{"target": BATCH_WRITE, "action": "unprocessed", "keep": 0}]));
    let error = format!("{:#}", s.analyzer.handle(event("2026-11-28T17:00:00Z")).await.unwrap_err());
    assert!(error.contains("still unprocessed after 8 attempts"), "{error}");
    assert!(s.moto.scan_table(TABLE).await.is_empty());
    assert!(s.moto.drain(&s.queue).await.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn fault_report_write_failure_fails_the_invocation_before_the_summary() {
    let s = faulted_setup("80").await;
    s.moto.faults(json!([{"method": "PUT", "path_prefix": format!("/{REPORTS}/"), "status": 500,
                          "body": "<Error><Code>InternalError</Code><Message>We encountered an internal error.</Message></Error>"}]));
    let error = format!("{:#}", s.analyzer.handle(event("2026-11-28T17:00:00Z")).await.unwrap_err());
    assert!(error.contains(&format!("storing report s3://{REPORTS}/reports/{ACCOUNT}/{REGION}/2026/11/28/")), "{error}");
    assert_eq!(s.moto.fault_hits(), vec![3], "the SDK's three attempts");
    assert_eq!(summaries(&s.moto.scan_table(TABLE).await), 0);
    assert!(s.moto.drain(&s.queue).await.is_empty());

    s.moto.faults(json!([]));
    let outcome = s.analyzer.handle(event("2026-11-28T17:00:00Z")).await.unwrap();
    assert_complete_once(&s, &outcome).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn fault_a_report_part_that_cannot_be_stored_fails_the_invocation_and_aborts_the_upload() {
    let s = setup("70", true).await;
    let snapshot = compliance_benches::snapshot(10_000, 7, compliance_benches::Shape::Snapshot, true);
    s.moto.put(CONFIG, &snapshot_key("2026/11/28", "20261128T160000Z"), snapshot).await;
    s.moto.faults(json!([{"method": "PUT", "path_prefix": format!("/{REPORTS}/"), "query": "partNumber=2", "status": 500,
                          "body": "<Error><Code>InternalError</Code><Message>We encountered an internal error.</Message></Error>"}]));
    let error = format!("{:#}", s.analyzer.handle(event("2026-11-28T17:00:00Z")).await.unwrap_err());
    assert!(error.contains("/report.json (part 2)"), "{error}");
    assert_eq!(s.moto.fault_hits(), vec![3], "the SDK's three attempts");
    assert_eq!(summaries(&s.moto.scan_table(TABLE).await), 0);
    let listed = s.moto.s3().list_objects_v2().bucket(REPORTS).send().await.unwrap();
    assert!(listed.contents().is_empty(), "no report may be stored for a failed scan");
    assert_eq!(pending_uploads(&s).await, 0, "the report's upload is aborted");

    s.moto.faults(json!([]));
    let outcome = s.analyzer.handle(event("2026-11-28T17:00:00Z")).await.unwrap();
    assert_eq!(outcome["status"], "scored");
    assert_eq!(summaries(&s.moto.scan_table(TABLE).await), 1);
    assert_eq!(pending_uploads(&s).await, 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn fault_a_state_that_cannot_be_stored_fails_the_scan_and_history_is_rewritten_next_time() {
    let s = faulted_setup("70").await;
    s.moto.faults(json!([{"method": "PUT", "path_prefix": format!("/{REPORTS}/state/"), "status": 500,
                          "body": "<Error><Code>InternalError</Code><Message>We encountered an internal error.</Message></Error>"}]));
    let error = format!("{:#}", s.analyzer.handle(event("2026-11-28T17:00:00Z")).await.unwrap_err());
    assert!(error.contains(&format!("writing the history state s3://{REPORTS}/state/{ACCOUNT}/{REGION}/state.json.gz")), "{error}");

    // The state never advanced: the next scan finds every resource new and writes it again
    // (an at-least-once history, never a hole); the one after writes only its summary.
    s.moto.faults(json!([]));
    let second = s.analyzer.handle(event("2026-11-28T18:00:00Z")).await.unwrap();
    assert_eq!(second["changes"]["appeared"], second["resources_evaluated"], "{second}");
    let third = s.analyzer.handle(event("2026-11-28T19:00:00Z")).await.unwrap();
    assert_eq!((third["history_items"].as_u64(), third["changes"]["unchanged"].clone()), (Some(1), third["resources_evaluated"].clone()), "{third}");
}

/// SPEC §10's write counts for one 10,000-resource account-region: the first scan writes every
/// resource, an unchanged re-scan none, a re-scan with 1 % of the resources changed exactly those.
#[tokio::test(flavor = "multi_thread")]
async fn ten_thousand_resources_history_is_written_on_change() {
    use std::io::Read;
    let s = setup("70", true).await;
    let gz = compliance_benches::snapshot(10_000, 7, compliance_benches::Shape::Snapshot, true);
    s.moto.put(CONFIG, &snapshot_key("2026/11/28", "20261128T160000Z"), gz.clone()).await;
    s.moto.faults(json!([{"target": BATCH_WRITE, "action": "pass"}]));
    let first = s.analyzer.handle(event("2026-11-28T17:00:00Z")).await.unwrap();
    let evaluated = first["resources_evaluated"].as_u64().unwrap();
    let first_calls = s.moto.fault_hits()[0];
    assert_eq!(first["history_items"].as_u64(), Some(evaluated + 1));

    // The same snapshot an hour later: only the summary.
    s.moto.faults(json!([{"target": BATCH_WRITE, "action": "pass"}]));
    let unchanged = s.analyzer.handle(event("2026-11-28T18:00:00Z")).await.unwrap();
    assert_eq!((unchanged["history_items"].as_u64(), s.moto.fault_hits()[0]), (Some(1), 0), "{unchanged}");

    // 1 %: a hundred buckets get another criticality.
    let mut text = Vec::new();
    flate2::read::GzDecoder::new(&gz[..]).read_to_end(&mut text).unwrap();
    let mut doc: Value = serde_json::from_slice(&text).unwrap();
    let mut changed = 0;
    for item in doc["configurationItems"].as_array_mut().unwrap() {
        if changed == 100 || item["resourceType"] != "AWS::S3::Bucket" {
            continue;
        }
        let now = item["tags"]["Criticality"].as_str().unwrap_or("medium").to_owned();
        item["tags"]["Criticality"] = Value::from(if now == "critical" { "low" } else { "critical" });
        changed += 1;
    }
    assert_eq!(changed, 100);
    s.moto.put(CONFIG, &snapshot_key("2026/11/28", "20261128T180000Z"), gzip(&serde_json::to_vec(&doc).unwrap())).await;
    s.moto.faults(json!([{"target": BATCH_WRITE, "action": "pass"}]));
    let one_percent = s.analyzer.handle(event("2026-11-28T19:00:00Z")).await.unwrap();
    assert_eq!(one_percent["changes"]["changed"], 100, "{one_percent}");
    assert_eq!(one_percent["history_items"].as_u64(), Some(101));
    eprintln!(
        "history writes for {evaluated} resources: first scan {} items in {first_calls} BatchWriteItem calls; unchanged re-scan 0 items, 0 calls; \
         1 % changed {} items in {} calls (+1 summary item each scan; before: {evaluated} items every scan)",
        evaluated,
        100,
        s.moto.fault_hits()[0]
    );
}
