//! Organization mode against the moto emulator (SPEC §10): 20 accounts × 3 regions deliver
//! Config snapshots to one central bucket; S3 sends `Object Created` events to EventBridge, a
//! wildcard rule routes the snapshot keys to the SQS work queue, and the analyzer takes them in
//! batches as Lambda's event source mapping would hand them over. Then the scheduled roll-up.
//!
//! Three rounds, an hour apart: all 60 account-regions (with one poisoned message); the same
//! resources again with three account-regions no longer delivering (zero per-resource writes,
//! three missing); and a round where about 1 % of the resources changed (only those written).

mod support;

use std::collections::{BTreeMap, HashMap};

use aws_sdk_dynamodb::types::AttributeValue;
use compliance_lambda::analyzer::{Analyzer, Clients};
use compliance_lambda::config_api::Recording;
use compliance_lambda::rollup::{self, Rollup};
use compliance_lambda::settings::{AnalyzerSettings, RollupSettings};
use compliance_runtime::sha256_hex;
use serde_json::{Value, json};
use support::*;

const CENTRAL: &str = "compliance-central-test";
const REPORTS: &str = "compliance-reports-test";
const TABLE: &str = "compliance-history-test";
const ORG: &str = "o-exampleorg1";
const REGIONS: [&str; 3] = ["us-east-1", "eu-west-1", "ap-southeast-2"];
const ACCOUNTS: usize = 20;
/// The demo's account and region, replaced in the generated snapshots.
const DEMO_ACCOUNT: &str = "111122223333";

fn account(a: usize) -> String {
    format!("{:012}", 210_000_000_000u64 + a as u64 * 1_111)
}

struct Org {
    moto: Moto,
    work_queue: String,
    alerts: String,
    analyzer: Analyzer<Recording>,
    rollup: Rollup,
}

fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
}

async fn setup() -> Org {
    let moto = Moto::fresh().await;
    moto.bucket(CENTRAL).await;
    moto.bucket(REPORTS).await;
    moto.history_table(TABLE).await;
    let (topic, alerts) = moto.topic_with_queue("compliance-alerts-test").await;

    // The work queue, fed by the EventBridge rule the stack defines (same pattern).
    let sqs = moto.sqs();
    let work_queue = sqs.create_queue().queue_name("compliance-work-test").send().await.unwrap().queue_url.unwrap();
    let attributes = sqs.get_queue_attributes().queue_url(&work_queue).attribute_names(aws_sdk_sqs::types::QueueAttributeName::QueueArn).send().await.unwrap();
    let queue_arn = attributes.attributes.unwrap()[&aws_sdk_sqs::types::QueueAttributeName::QueueArn].clone();
    let events = aws_sdk_eventbridge::Client::new(&moto.aws);
    let pattern = json!({"source": ["aws.s3"], "detail-type": ["Object Created"],
                         "detail": {"bucket": {"name": [CENTRAL]}, "object": {"key": [{"wildcard": "*/ConfigSnapshot/*"}]}}});
    events.put_rule().name("compliance-snapshots-test").event_pattern(pattern.to_string()).send().await.unwrap();
    let target = aws_sdk_eventbridge::types::Target::builder().id("work-queue").arn(queue_arn).build().unwrap();
    events.put_targets().rule("compliance-snapshots-test").targets(target).send().await.unwrap();
    let notifications = aws_sdk_s3::types::NotificationConfiguration::builder()
        .event_bridge_configuration(aws_sdk_s3::types::EventBridgeConfiguration::builder().build())
        .build();
    moto.s3().put_bucket_notification_configuration().bucket(CENTRAL).notification_configuration(notifications).send().await.unwrap();

    let common = [("HISTORY_TABLE", TABLE), ("REPORTS_BUCKET", REPORTS), ("ALERT_TOPIC_ARN", topic.as_str()), ("SCORE_THRESHOLD", "75"), ("ENVIRONMENT_SUFFIX", "test")];
    let analyzer_env = env(&[common.as_slice(), &[("CONFIG_BUCKET", CENTRAL)]].concat());
    let rollup_env = env(&[common.as_slice(), &[("ORG_ID", ORG), ("WINDOW_HOURS", "1")]].concat());
    let runtime = compliance_lambda::load_runtime().unwrap();
    let analyzer = Analyzer::new(runtime.clone(), Clients::new(&moto.aws), Recording::default(), AnalyzerSettings::from_env(&analyzer_env).unwrap(), REGION.to_owned());
    let rollup = Rollup::new(runtime, rollup::Clients::new(&moto.aws), RollupSettings::from_env(&rollup_env).unwrap());
    Org { moto, work_queue, alerts, analyzer, rollup }
}

/// A snapshot of account `a`, region `r`: the demo's items moved there, a different subset per
/// account-region (so scores differ). IAM is recorded in the first region, and for even
/// accounts in the second as well (so the roll-up must count it once). `retagged` marks the
/// account-regions whose first bucket is retagged (a criticality change); `dropped` drops one
/// more regional item (it disappears).
fn snapshot(a: usize, r: usize, retagged: bool, dropped: bool) -> Vec<u8> {
    // Bucket names are global: each account-region gets its own.
    let demo = String::from_utf8(demo_snapshot()).unwrap().replace(DEMO_ACCOUNT, &account(a)).replace("us-east-1", REGIONS[r]).replace("example-bank-", &format!("bank{a}-{r}-"));
    let mut doc: Value = serde_json::from_str(&demo).unwrap();
    let items = doc["configurationItems"].as_array_mut().unwrap();
    let mut kept = Vec::new();
    let mut drop_next = dropped;
    for (i, mut item) in std::mem::take(items).into_iter().enumerate() {
        let global = item["awsRegion"] == "global";
        let keep = if global { r == 0 || (r == 1 && a.is_multiple_of(2)) } else { !(i * 7 + a * 3 + r).is_multiple_of(6) };
        if !keep {
            continue;
        }
        if drop_next && !global && item["resourceType"] != "AWS::S3::Bucket" {
            drop_next = false;
            continue;
        }
        if retagged && item["resourceType"] == "AWS::S3::Bucket" && !kept.iter().any(|k: &Value| k["resourceType"] == "AWS::S3::Bucket") {
            let tags = item["tags"].as_object_mut().unwrap();
            let now = tags.get("Criticality").and_then(Value::as_str).unwrap_or("medium").to_owned();
            tags.insert("Criticality".into(), Value::from(if now == "low" { "high" } else { "low" }));
        }
        kept.push(item);
    }
    *items = kept;
    gzip(&serde_json::to_vec(&doc).unwrap())
}

fn key(a: usize, r: usize, hour: u32) -> String {
    let (acct, region) = (account(a), REGIONS[r]);
    format!("{ORG}/AWSLogs/{acct}/Config/{region}/2026/12/1/ConfigSnapshot/{acct}_Config_{region}_ConfigSnapshot_20261201T{hour:02}0{r}00Z_5e1f{a:02}{r}.json.gz")
}

/// Receives the work queue as an event source mapping does (batches of up to 10), hands each
/// batch to the analyzer as Lambda's SQS event and deletes what did not fail. Returns the failed
/// message ids per batch and every scan's outcome.
async fn drain_work(org: &Org) -> (Vec<Vec<String>>, Vec<Value>) {
    let sqs = org.moto.sqs();
    let mut failed_batches = Vec::new();
    let mut scans = Vec::new();
    let mut empty = 0;
    while empty < 2 {
        let out = sqs.receive_message().queue_url(&org.work_queue).max_number_of_messages(10).visibility_timeout(600).send().await.unwrap();
        let messages = out.messages.unwrap_or_default();
        if messages.is_empty() {
            empty += 1;
            continue;
        }
        let records: Vec<Value> = messages
            .iter()
            .map(|m| json!({"messageId": m.message_id(), "receiptHandle": m.receipt_handle(), "body": m.body(), "eventSource": "aws:sqs",
                             "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:compliance-work-test", "awsRegion": "us-east-1", "attributes": {}}))
            .collect();
        // The SQS event as Lambda builds it, read the way `handle` reads it; `handle_messages`
        // also returns each scan's outcome (the handler answers Lambda with the failures only).
        let batch = compliance_lambda::s3_event::sqs_messages(&json!({"Records": records})).expect("an SQS event");
        let outcome = org.analyzer.handle_messages(batch).await;
        assert!(outcome.rejected.is_empty(), "{:?}", outcome.rejected);
        scans.extend(outcome.scans);
        let failed: Vec<String> = outcome.failures.into_iter().map(|(id, _)| id).collect();
        for m in &messages {
            if !failed.iter().any(|f| Some(f.as_str()) == m.message_id()) {
                sqs.delete_message().queue_url(&org.work_queue).receipt_handle(m.receipt_handle().unwrap()).send().await.unwrap();
            }
        }
        if !failed.is_empty() {
            failed_batches.push(failed);
        }
    }
    (failed_batches, scans)
}

fn counting(moto: &Moto) {
    moto.faults(json!([{"target": "DynamoDB_20120810.BatchWriteItem", "action": "pass"}, {"target": "DynamoDB_20120810.PutItem", "action": "pass"}]));
}

/// History items (not summaries) written with this timestamp prefix, by kind.
async fn history_at(moto: &Moto, prefix: &str) -> BTreeMap<String, usize> {
    let mut kinds = BTreeMap::new();
    for item in moto.scan_table(TABLE).await {
        let at = item["Timestamp"].as_s().unwrap();
        let kind = item["Kind"].as_s().unwrap();
        if at.starts_with(prefix) && (kind == "RESOURCE" || kind == "GONE") {
            *kinds.entry(kind.clone()).or_insert(0) += 1;
        }
    }
    kinds
}

/// The org score computed here, independently of the component, from the per-account reports
/// the summaries of the hour name: newest part per (account, region), integer sums, floor.
async fn independent_score(moto: &Moto, hour: &str) -> (u32, Vec<String>, usize) {
    let mut newest: BTreeMap<(String, String), (String, u64, u64)> = BTreeMap::new();
    let mut reports = 0;
    for item in moto.scan_table(TABLE).await {
        if item["Kind"].as_s().unwrap() != "SUMMARY" || item["HourBucket"].as_s().unwrap() != hour {
            continue;
        }
        reports += 1;
        let bytes = moto.get(REPORTS, item["ReportJsonKey"].as_s().unwrap()).await;
        assert_eq!(&sha256_hex(&bytes), item["ReportSha256"].as_s().unwrap(), "the summary names the exact report bytes");
        let report: Value = serde_json::from_slice(&bytes).unwrap();
        let at = report["generated_at"].as_str().unwrap().to_owned();
        for part in report["by_account_region"].as_array().unwrap() {
            let id = (part["account_id"].as_str().unwrap().to_owned(), part["region"].as_str().unwrap().to_owned());
            let sums = (at.clone(), part["weight_compliant"].as_u64().unwrap(), part["weight_decided"].as_u64().unwrap());
            if newest.get(&id).is_none_or(|(was, _, _)| *was < at) {
                newest.insert(id, sums);
            }
        }
    }
    let (mut wc, mut wd) = (0u64, 0u64);
    let mut by_account: BTreeMap<String, (u64, u64)> = BTreeMap::new();
    for ((acct, _), (_, c, d)) in &newest {
        wc += c;
        wd += d;
        let e = by_account.entry(acct.clone()).or_default();
        e.0 += c;
        e.1 += d;
    }
    let below: Vec<String> = by_account.iter().filter(|(_, (c, d))| *d > 0 && c * 10_000 / d < 7_500).map(|(a, _)| a.clone()).collect();
    ((wc * 10_000 / wd) as u32, below, reports)
}

#[tokio::test(flavor = "multi_thread")]
async fn sixty_account_regions_fan_out_roll_up_and_write_history_on_change() {
    let org = setup().await;
    let started = std::time::Instant::now();

    // Round 1, 01:0x: every account-region, plus a truncated upload (the poisoned message) and
    // objects the rule must not route.
    for a in 0..ACCOUNTS {
        for r in 0..REGIONS.len() {
            org.moto.put(CENTRAL, &key(a, r, 1), snapshot(a, r, false, false)).await;
        }
    }
    let poisoned = format!("{ORG}/AWSLogs/999999999999/Config/us-east-1/2026/12/1/ConfigSnapshot/999999999999_Config_us-east-1_ConfigSnapshot_20261201T010000Z_bad.json.gz");
    org.moto.put(CENTRAL, &poisoned, b"\x1f\x8b truncated".to_vec()).await;
    org.moto.put(CENTRAL, &format!("{ORG}/AWSLogs/{}/Config/ConfigWritabilityCheckFile", account(0)), b"x".to_vec()).await;
    org.moto.put(CENTRAL, &format!("{ORG}/AWSLogs/{}/Config/us-east-1/2026/12/1/ConfigHistory/h.json.gz", account(0)), b"x".to_vec()).await;
    // What S3 sends when a notification is first configured, straight into the queue.
    org.moto.sqs().send_message().queue_url(&org.work_queue).message_body(r#"{"Service":"Amazon S3","Event":"s3:TestEvent","Time":"2026-12-01T01:00:00.000Z","Bucket":"compliance-central-test"}"#).send().await.unwrap();

    counting(&org.moto);
    let (failed, scans) = drain_work(&org).await;
    let round1 = started.elapsed();
    let mut phases: BTreeMap<String, u64> = BTreeMap::new();
    for scan in &scans {
        for (phase, ms) in scan["phases_ms"].as_object().expect("phases") {
            *phases.entry(phase.clone()).or_default() += ms.as_u64().expect("ms");
        }
    }
    eprintln!("round 1: where the analyzer's time went over {} scans (ms): {phases:?}", scans.len());
    assert_eq!(failed.len(), 1, "exactly one batch had a failure: {failed:?}");
    assert_eq!(failed[0].len(), 1, "the poisoned message fails alone: {failed:?}");
    let hits = org.moto.fault_hits();
    let first_items = history_at(&org.moto, "2026-12-01T01").await;
    let resources = first_items["RESOURCE"];
    eprintln!("round 1: 60 snapshots in {round1:?} ({:.1} snapshots/s), {resources} resource items in {} BatchWriteItem + {} PutItem calls", 60.0 / round1.as_secs_f64(), hits[0], hits[1]);
    assert!(resources > 60 * 20, "every resource is new: {first_items:?}");
    assert!(!first_items.contains_key("GONE"));
    assert_eq!(hits[1], 60, "one summary per account-region");

    // The poisoned message is back in the queue (after its visibility timeout); its failure
    // names the object.
    let summaries_1 = org.moto.scan_table(TABLE).await.iter().filter(|i| i["Kind"].as_s().unwrap() == "SUMMARY").count();
    assert_eq!(summaries_1, 60);

    let rolled = org.rollup.handle(json!({"time": "2026-12-01T01:30:00Z", "source": "aws.events"})).await.unwrap();
    let (score, below, reports) = independent_score(&org.moto, "2026-12-01T01").await;
    eprintln!(
        "round 1 roll-up: org score {} % (weight {} / {}), {} summaries, {} accounts below 75 %: {below:?}",
        rolled["score"], rolled["weight_compliant"], rolled["weight_decided"], rolled["summaries"], below.len()
    );
    assert_eq!(reports, 60);
    assert_eq!(rolled["summaries"], 60, "{rolled}");
    assert_eq!(rolled["score_bp"], score, "{rolled}");
    assert_eq!(rolled["accounts_below_threshold"], json!(below), "{rolled}");
    assert!(!below.is_empty() && below.len() < ACCOUNTS, "the generated estate has accounts on both sides of 75 %: {below:?}");
    assert_eq!(rolled["missing"], json!([]));
    assert_eq!(rolled["alert_sent"], true);
    let org_report: Value = serde_json::from_slice(&org.moto.get(REPORTS, rolled["reports"]["json_key"].as_str().unwrap()).await).unwrap();
    assert_eq!(org_report["schema"], "compliance-rollup/v1");
    assert_eq!(org_report["score_bp"], score);
    assert_eq!(org_report["inputs"].as_array().unwrap().len(), 60);
    // Per account-region alerts (those below 75 %) and the org alert.
    let mut alerts = Vec::new();
    loop {
        let batch = org.moto.drain(&org.alerts).await;
        if batch.is_empty() {
            break;
        }
        alerts.extend(batch);
    }
    let org_alert = alerts.iter().find(|m| m.contains("Organization o-exampleorg1")).expect("the org alert");
    assert!(org_alert.contains(&below[0]), "{org_alert}");

    // Round 2, 02:0x: the same resources; three account-regions stopped delivering.
    let stopped = [(3, 0), (7, 1), (11, 2)];
    for a in 0..ACCOUNTS {
        for r in 0..REGIONS.len() {
            if !stopped.contains(&(a, r)) {
                org.moto.put(CENTRAL, &key(a, r, 2), snapshot(a, r, false, false)).await;
            }
        }
    }
    counting(&org.moto);
    let (failed, _) = drain_work(&org).await;
    assert!(failed.is_empty(), "{failed:?}");
    let hits = org.moto.fault_hits();
    assert_eq!((hits[0], hits[1]), (0, 57), "an identical round writes no per-resource item: 57 summaries only");
    assert!(history_at(&org.moto, "2026-12-01T02").await.is_empty());

    let rolled = org.rollup.handle(json!({"time": "2026-12-01T02:30:00Z"})).await.unwrap();
    assert_eq!(rolled["summaries"], 57);
    let mut missing: Vec<String> = stopped.iter().map(|(a, r)| format!("{}/{}", account(*a), REGIONS[*r])).collect();
    // Account 3 records IAM in its first region only: its global resources are missing too.
    missing.push(format!("{}/global", account(3)));
    missing.sort();
    let mut listed: Vec<String> = serde_json::from_value(rolled["missing"].clone()).unwrap();
    listed.sort();
    assert_eq!(listed, missing, "{rolled}");
    eprintln!("round 2 roll-up: org score {} %, {} summaries, missing {listed:?}", rolled["score"], rolled["summaries"]);
    assert_eq!(rolled["score_bp"], independent_score(&org.moto, "2026-12-01T02").await.0);

    // Round 3, 03:0x: 20 account-regions retag a bucket (about 1 % of the resources), one
    // drops an item.
    let retagged = |a: usize, r: usize| (a + r).is_multiple_of(3) && !stopped.contains(&(a, r));
    let changed = (0..ACCOUNTS).flat_map(|a| (0..3).map(move |r| (a, r))).filter(|(a, r)| retagged(*a, *r)).count();
    for a in 0..ACCOUNTS {
        for r in 0..REGIONS.len() {
            if !stopped.contains(&(a, r)) {
                org.moto.put(CENTRAL, &key(a, r, 3), snapshot(a, r, retagged(a, r), (a, r) == (1, 0))).await;
            }
        }
    }
    counting(&org.moto);
    drain_work(&org).await;
    let third = history_at(&org.moto, "2026-12-01T03").await;
    eprintln!("round 3: {changed} retagged of {resources} resources ({:.2} %), written {third:?}, BatchWriteItem calls {}", changed as f64 * 100.0 / resources as f64, org.moto.fault_hits()[0]);
    assert_eq!(third.get("RESOURCE"), Some(&changed), "{third:?}");
    assert_eq!(third.get("GONE"), Some(&1), "{third:?}");

    // History of one retagged bucket: first seen at 01:00, changed at 03:00 — nothing at 02:00.
    let items = org.moto.scan_table(TABLE).await;
    let retagged_bucket = items
        .iter()
        .find(|i| i["Kind"].as_s().unwrap() == "RESOURCE" && i["Timestamp"].as_s().unwrap().starts_with("2026-12-01T03") && i["AccountId"].as_s().ok() == Some(&account(0)))
        .expect("the retagged bucket of the first account-region");
    assert_eq!(retagged_bucket["ResourceType"].as_s().unwrap(), "AWS::S3::Bucket");
    let arn = retagged_bucket["ResourceId"].as_s().unwrap();
    let history = org.moto.dynamodb().query().table_name(TABLE).key_condition_expression("ResourceId = :k")
        .expression_attribute_values(":k", AttributeValue::S(arn.to_owned())).send().await.unwrap();
    let times: Vec<&str> = history.items().iter().map(|i| i["Timestamp"].as_s().unwrap().as_str()).collect();
    assert_eq!(times, ["2026-12-01T01:00:00.000Z", "2026-12-01T03:00:00.000Z"], "{arn}");

    // What Lambda gets back for a batch: the failed messages only. A message that can never
    // succeed (not JSON, another bucket) is logged and not retried.
    let other_bucket = s3_message(&key(0, 0, 3)).replace(CENTRAL, "someone-elses-bucket");
    let missing = key(4, 0, 3).replace("_5e1f", "_never-written");
    let bodies = [("m-ok", s3_message(&key(2, 1, 3))), ("m-garbage", "{not json".to_owned()), ("m-elsewhere", other_bucket), ("m-poison", s3_message(&missing))];
    let records: Vec<Value> = bodies.iter().map(|(id, body)| json!({"messageId": id, "body": body, "eventSource": "aws:sqs"})).collect();
    let answer = org.analyzer.handle(json!({"Records": records})).await.unwrap();
    assert_eq!(answer, json!({"batchItemFailures": [{"itemIdentifier": "m-poison"}]}), "only the snapshot that is not there fails");

    // Redelivery of a round-3 snapshot: same scan, nothing new; a late round-1 one: superseded.
    let again = org.analyzer.handle_messages(vec![("again".into(), s3_message(&key(0, 0, 3))), ("late".into(), s3_message(&key(0, 0, 1)))]).await;
    assert!(again.failures.is_empty(), "{:?}", again.failures);
    assert_eq!(again.scans[0]["history_items"], 1, "{}", again.scans[0]);
    assert_eq!(again.scans[1]["status"], "superseded", "{}", again.scans[1]);
    assert!(org.analyzer.config().calls().is_empty(), "organization mode never calls Config");

    // A snapshot under one account's prefix holding another account's items is refused: the
    // roll-up would count them for an account that did not deliver them.
    let (a, b) = (account(0), account(1));
    let smuggled = key(1, 0, 4).replace(&b, &a);
    org.moto.put(CENTRAL, &smuggled, snapshot(1, 0, false, false)).await;
    let refused = org.analyzer.handle_messages(vec![("smuggled".into(), s3_message(&smuggled))]).await;
    assert_eq!(refused.failures.len(), 1);
    assert!(refused.failures[0].1.contains(&format!("delivered under account {a} but holds items of account(s) {b}")), "{:?}", refused.failures);
}

/// An S3 event notification as S3 sends it to a queue directly (keys URL-encoded).
fn s3_message(key: &str) -> String {
    json!({"Records": [{"eventName": "ObjectCreated:Put", "eventTime": "2026-12-01T03:00:05.000Z",
                        "s3": {"bucket": {"name": CENTRAL}, "object": {"key": key.replace('_', "%5F")}}}]}).to_string()
}
