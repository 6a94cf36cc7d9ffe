//! The analyzer's Security Hub import (SPEC §12) against moto's Security Hub, which implements
//! `BatchImportFindings`/`GetFindings` but none of AWS's limits or filters: the import must
//! enforce the one and do without the other. First import, an unchanged re-scan (nothing
//! sent), a resolved finding re-imported as PASSED, a deleted resource's findings archived,
//! other products' and other regions' findings untouched, `FailedFindings` and throttling
//! injected through the fault proxy, and organization mode importing into the member account
//! through its role.

mod support;

use std::collections::{BTreeMap, HashMap};

use aws_sdk_securityhub::types::{AwsSecurityFinding, Resource, Severity, SeverityLabel};
use compliance_lambda::analyzer::{Analyzer, Clients};
use compliance_lambda::config_api::Recording;
use compliance_lambda::security_hub::SdkSecurityHub;
use compliance_lambda::settings::AnalyzerSettings;
use serde_json::{Value, json};
use support::*;

const CONFIG: &str = "compliance-config-test";
const REPORTS: &str = "compliance-reports-test";
const TABLE: &str = "compliance-history-test";
const DEMO_ACCOUNT: &str = "111122223333";
const MEMBER_ROLE: &str = "ComplianceSecurityHubImport";

async fn analyzer(moto: &Moto, config_bucket: &str) -> Analyzer<Recording> {
    moto.bucket(config_bucket).await;
    moto.bucket(REPORTS).await;
    moto.history_table(TABLE).await;
    let (topic, _) = moto.topic_with_queue("compliance-alerts-test").await;
    let env: HashMap<String, String> = [
        ("CONFIG_BUCKET", config_bucket),
        ("HISTORY_TABLE", TABLE),
        ("REPORTS_BUCKET", REPORTS),
        ("ALERT_TOPIC_ARN", topic.as_str()),
        ("ENVIRONMENT_SUFFIX", "test"),
        ("SECURITY_HUB_IMPORT", "on"),
        ("SECURITY_HUB_MEMBER_ROLE", MEMBER_ROLE),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    let runtime = compliance_lambda::load_runtime().unwrap();
    Analyzer::new(runtime, Clients::new(&moto.aws), Recording::default(), AnalyzerSettings::from_env(&env).unwrap(), REGION.to_owned())
}

/// The demo snapshot as account `account`'s, without the items `drop` names and with the
/// bucket `encrypt` (if any) switched to SSE-KMS.
fn snapshot(account: &str, drop: &[&str], encrypt: Option<&str>) -> Vec<u8> {
    let text = String::from_utf8(demo_snapshot()).unwrap().replace(DEMO_ACCOUNT, account);
    let mut doc: Value = serde_json::from_str(&text).unwrap();
    let items = doc["configurationItems"].as_array_mut().unwrap();
    items.retain(|i| !drop.contains(&i["resourceId"].as_str().unwrap_or_default()));
    if let Some(bucket) = encrypt {
        let item = items.iter_mut().find(|i| i["resourceId"] == bucket).expect("the bucket is in the demo");
        item["supplementaryConfiguration"]["ServerSideEncryptionConfiguration"] =
            json!({"rules": [{"applyServerSideEncryptionByDefault": {"sseAlgorithm": "aws:kms", "kmsMasterKeyID": "arn:aws:kms:us-east-1:1:key/k"}, "bucketKeyEnabled": true}]});
    }
    gzip(&serde_json::to_vec(&doc).unwrap())
}

fn event(time: &str) -> Value {
    json!({"detail-type": "Scheduled Event", "source": "aws.events", "account": ACCOUNT, "time": time, "region": REGION, "resources": [], "detail": {}})
}

/// Every finding in a Security Hub, by Id (moto ignores filters, so all of them).
async fn findings(client: &aws_sdk_securityhub::Client) -> BTreeMap<String, AwsSecurityFinding> {
    let mut all = BTreeMap::new();
    let mut token = None;
    loop {
        let page = client.get_findings().set_next_token(token).max_results(100).send().await.unwrap();
        for f in page.findings() {
            all.insert(f.id().unwrap().to_owned(), f.clone());
        }
        token = page.next_token().filter(|t| !t.is_empty()).map(str::to_owned);
        if token.is_none() {
            return all;
        }
    }
}

fn status(f: &AwsSecurityFinding) -> &str {
    f.compliance().and_then(|c| c.status()).map_or("", |s| s.as_str())
}

fn state(f: &AwsSecurityFinding) -> &str {
    f.record_state().map_or("ACTIVE", |s| s.as_str())
}

/// A finding of another product in the same account and region, as Security Hub would hold it.
fn foreign(id: &str, region: &str) -> AwsSecurityFinding {
    AwsSecurityFinding::builder()
        .schema_version("2018-10-08")
        .id(id)
        .product_arn(format!("arn:aws:securityhub:{region}:{ACCOUNT}:product/{ACCOUNT}/default"))
        .generator_id("another-scanner")
        .aws_account_id(ACCOUNT)
        .types("Software and Configuration Checks")
        .created_at("2026-11-01T00:00:00.000Z")
        .updated_at("2026-11-01T00:00:00.000Z")
        .severity(Severity::builder().label(SeverityLabel::High).build())
        .title("theirs")
        .description("not ours to archive")
        .resources(Resource::builder().r#type("AwsS3Bucket").id("arn:aws:s3:::example-bank-statements").build())
        .build()
}

#[tokio::test(flavor = "multi_thread")]
async fn changes_only_archiving_in_scope_failed_findings_and_throttling() {
    let moto = Moto::fresh().await;
    let analyzer = analyzer(&moto, CONFIG).await;
    let hub = aws_sdk_securityhub::Client::new(&moto.aws);
    let west = aws_sdk_securityhub::Client::from_conf(aws_sdk_securityhub::config::Builder::from(&moto.aws).region(aws_config::Region::new("us-west-2")).build());
    hub.batch_import_findings().findings(foreign("theirs/1", REGION)).send().await.unwrap();
    west.batch_import_findings().findings(foreign("theirs/west", "us-west-2")).send().await.unwrap();

    // First import: every decided finding.
    moto.put(CONFIG, &snapshot_key("2026/12/01", "20261201T080000Z"), snapshot(ACCOUNT, &[], None)).await;
    let first = analyzer.handle(event("2026-12-01T09:00:00Z")).await.unwrap();
    let sh = &first["security_hub"];
    eprintln!("first import: {sh}");
    let exported = sh["imported"].as_u64().unwrap();
    assert!(exported > 100, "{sh}");
    assert_eq!((sh["unchanged"].as_u64(), sh["archived"].as_u64(), sh["not_imported"].as_u64()), (Some(0), Some(0), Some(0)), "{sh}");
    assert_eq!(sh["calls"], 2, "{} findings in calls of at most 100", exported);
    let held = findings(&hub).await;
    assert_eq!(held.len() as u64, exported + 1);

    // The same data an hour later: nothing sent.
    moto.put(CONFIG, &snapshot_key("2026/12/01", "20261201T090000Z"), snapshot(ACCOUNT, &[], None)).await;
    let same = analyzer.handle(event("2026-12-01T10:00:00Z")).await.unwrap();
    eprintln!("unchanged re-scan: {}", same["security_hub"]);
    assert_eq!((same["security_hub"]["imported"].as_u64(), same["security_hub"]["unchanged"].as_u64(), same["security_hub"]["calls"].as_u64()), (Some(0), Some(exported), Some(0)), "{}", same["security_hub"]);

    // A bucket encrypted with KMS, an instance deleted; Security Hub throttles the first four
    // attempts (the SDK retries three, the import the rest) and refuses one finding once.
    let kms_id = held.values().find(|f| f.generator_id() == Some("s3-bucket-sse-kms") && status(f) == "FAILED" && f.resources()[0].id() == Some("arn:aws:s3:::example-bank-statements")).expect("the demo bucket fails KMS").id().unwrap().to_owned();
    let instance = "i-0a11ce0000000002";
    let instance_ids: Vec<String> = held.values().filter(|f| f.resources()[0].id().is_some_and(|r| r.ends_with(instance))).map(|f| f.id().unwrap().to_owned()).collect();
    assert!(!instance_ids.is_empty());
    moto.faults(json!([
        {"path_prefix": "/findings/import", "times": 4, "status": 429, "content_type": "application/json",
         "body": r#"{"__type":"TooManyRequestsException","message":"Rate exceeded"}"#},
        {"path_prefix": "/findings/import", "times": 1, "action": "failed_findings", "fail": 1},
    ]));
    moto.put(CONFIG, &snapshot_key("2026/12/01", "20261201T100000Z"), snapshot(ACCOUNT, &[instance], Some("example-bank-statements"))).await;
    let third = analyzer.handle(event("2026-12-01T11:00:00Z")).await.unwrap();
    let sh = &third["security_hub"];
    eprintln!("resolved, deleted, throttled and refused: {sh}");
    assert_eq!(moto.fault_hits(), vec![4, 1], "every fault was served");
    assert!(sh["throttled"].as_u64().unwrap() >= 1, "{sh}");
    assert_eq!(sh["not_imported"], 0, "the refused finding went through when re-sent: {sh}");
    assert_eq!(sh["archived"].as_u64(), Some(instance_ids.len() as u64), "{sh}");
    assert!(sh["imported"].as_u64().unwrap() >= 1, "{sh}");
    let now = findings(&hub).await;
    assert_eq!(status(&now[&kms_id]), "PASSED", "the resolved finding is re-imported as PASSED");
    assert_eq!(now[&kms_id].severity().and_then(|s| s.label()).map(|l| l.as_str()), Some("INFORMATIONAL"));
    for id in &instance_ids {
        assert_eq!(state(&now[id]), "ARCHIVED", "{id}");
    }
    assert_eq!(state(&now["theirs/1"]), "ACTIVE", "another product's finding is untouched");
    assert_eq!(now["theirs/1"].description(), Some("not ours to archive"));
    let archived = now.values().filter(|f| state(f) == "ARCHIVED").count();
    assert_eq!(archived, instance_ids.len(), "nothing else archived");
    let west_now = findings(&west).await;
    assert_eq!(west_now.len(), 1);
    assert_eq!(state(&west_now["theirs/west"]), "ACTIVE", "another region is untouched");
    moto.faults(json!([]));

    // Nothing changed since: nothing sent, archived findings stay archived.
    moto.put(CONFIG, &snapshot_key("2026/12/01", "20261201T110000Z"), snapshot(ACCOUNT, &[instance], Some("example-bank-statements"))).await;
    let fourth = analyzer.handle(event("2026-12-01T12:00:00Z")).await.unwrap();
    assert_eq!((fourth["security_hub"]["imported"].as_u64(), fourth["security_hub"]["archived"].as_u64()), (Some(0), Some(0)), "{}", fourth["security_hub"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_finding_refused_on_every_attempt_is_reported_and_sent_again_next_scan() {
    let moto = Moto::fresh().await;
    let analyzer = analyzer(&moto, CONFIG).await;
    moto.faults(json!([{"path_prefix": "/findings/import", "action": "failed_findings", "fail": 1}]));
    moto.put(CONFIG, &snapshot_key("2026/12/01", "20261201T080000Z"), snapshot(ACCOUNT, &[], None)).await;
    let first = analyzer.handle(event("2026-12-01T09:00:00Z")).await.unwrap();
    let sh = &first["security_hub"];
    assert_eq!(sh["not_imported"], 1, "{sh}");
    assert_eq!(sh["failed"][0]["code"], "InvalidInput");
    assert_eq!(first["status"], "scored", "the scan itself is complete");
    moto.faults(json!([]));
    moto.put(CONFIG, &snapshot_key("2026/12/01", "20261201T090000Z"), snapshot(ACCOUNT, &[], None)).await;
    let second = analyzer.handle(event("2026-12-01T10:00:00Z")).await.unwrap();
    assert_eq!((second["security_hub"]["imported"].as_u64(), second["security_hub"]["not_imported"].as_u64()), (Some(1), Some(0)), "{}", second["security_hub"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn organization_mode_imports_into_the_member_account_and_region_through_its_role() {
    const CENTRAL: &str = "compliance-central-test";
    const MEMBER: &str = "210000001111";
    const MEMBER_REGION: &str = "eu-west-1";
    let moto = Moto::fresh().await;
    let analyzer = analyzer(&moto, CENTRAL).await;
    // A member's snapshot of another region than the analyzer's: its findings belong there.
    let key = format!("o-exampleorg1/AWSLogs/{MEMBER}/Config/{MEMBER_REGION}/2026/12/1/ConfigSnapshot/{MEMBER}_Config_{MEMBER_REGION}_ConfigSnapshot_20261201T080000Z_5e1f.json.gz");
    let text = String::from_utf8(flate2_decode(&snapshot(MEMBER, &[], None))).unwrap().replace(REGION, MEMBER_REGION);
    moto.put(CENTRAL, &key, gzip(text.as_bytes())).await;
    let message = json!({"Records": [{"eventName": "ObjectCreated:Put", "eventTime": "2026-12-01T08:00:05.000Z",
                                      "s3": {"bucket": {"name": CENTRAL}, "object": {"key": key.replace('_', "%5F")}}}]})
    .to_string();
    let outcome = analyzer.handle_messages(vec![("m1".to_owned(), message)]).await;
    assert!(outcome.failures.is_empty(), "{:?}", outcome.failures);
    let sh = &outcome.scans[0]["security_hub"];
    assert!(sh["imported"].as_u64().unwrap() > 100, "{sh}");
    assert_eq!(sh["not_imported"], 0, "{sh}");
    let member = SdkSecurityHub::assuming(&moto.aws, "aws", MEMBER, MEMBER_ROLE, MEMBER_REGION).await;
    let in_member = findings(member.client()).await;
    assert_eq!(in_member.len() as u64, sh["imported"].as_u64().unwrap());
    assert!(in_member.values().all(|f| f.aws_account_id() == Some(MEMBER) && f.region() == Some(MEMBER_REGION)));
    let member_home = SdkSecurityHub::assuming(&moto.aws, "aws", MEMBER, MEMBER_ROLE, REGION).await;
    assert!(findings(member_home.client()).await.is_empty(), "nothing in the analyzer's region of the member account");
    assert!(findings(&aws_sdk_securityhub::Client::new(&moto.aws)).await.is_empty(), "nothing in the analyzer's own account");
}

fn flate2_decode(bytes: &[u8]) -> Vec<u8> {
    use std::io::Read;
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(bytes).read_to_end(&mut out).unwrap();
    out
}
