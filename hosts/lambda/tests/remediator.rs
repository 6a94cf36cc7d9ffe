//! The remediator against the moto emulator: real S3 encryption and tagging calls, audit items
//! in DynamoDB.

mod support;

use std::collections::HashMap;

use aws_sdk_s3::types::{ServerSideEncryption, ServerSideEncryptionByDefault, ServerSideEncryptionConfiguration, ServerSideEncryptionRule, Tag, Tagging};
use compliance_lambda::remediator::Remediator;
use compliance_lambda::settings::RemediatorSettings;
use serde_json::{Value, json};
use support::*;

const TABLE: &str = "compliance-history-test";

fn remediator(moto: &Moto, vars: &[(&str, &str)]) -> Remediator {
    let mut env: HashMap<String, String> = [("HISTORY_TABLE", TABLE), ("ENVIRONMENT_SUFFIX", "test"), ("REMEDIATION_MODE", "enforce")]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    env.extend(vars.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())));
    Remediator::new(&moto.aws, RemediatorSettings::from_env(&env).unwrap())
}

fn change(bucket: &str) -> Value {
    json!({"version": "0", "id": "evt-1", "detail-type": "Config Rules Compliance Change", "source": "aws.config", "account": ACCOUNT, "region": REGION,
           "detail": {"resourceId": bucket, "resourceType": "AWS::S3::Bucket", "awsAccountId": ACCOUNT, "awsRegion": REGION,
                      "configRuleName": "compliance-s3-rule-test", "newEvaluationResult": {"complianceType": "NON_COMPLIANT"}}})
}

fn alert(buckets: &[&str]) -> Value {
    let arns: Vec<String> = buckets.iter().map(|b| format!("arn:aws:s3:::{b}")).collect();
    let message = json!({"kind": "compliance-alert", "version": 1, "remediable_buckets": arns}).to_string();
    json!({"Records": [{"EventSource": "aws:sns", "Sns": {"MessageId": "msg-1", "Message": message}}]})
}

async fn set_encryption(moto: &Moto, bucket: &str, algorithm: ServerSideEncryption, key: Option<&str>) {
    let default = ServerSideEncryptionByDefault::builder().sse_algorithm(algorithm).set_kms_master_key_id(key.map(str::to_owned)).build().unwrap();
    let config = ServerSideEncryptionConfiguration::builder().rules(ServerSideEncryptionRule::builder().apply_server_side_encryption_by_default(default).build()).build().unwrap();
    moto.s3().put_bucket_encryption().bucket(bucket).server_side_encryption_configuration(config).send().await.unwrap();
}

async fn encryption(moto: &Moto, bucket: &str) -> Option<(String, Option<String>, Option<bool>)> {
    let out = moto.s3().get_bucket_encryption().bucket(bucket).send().await.ok()?;
    let rule = out.server_side_encryption_configuration()?.rules().first()?.clone();
    let default = rule.apply_server_side_encryption_by_default()?;
    Some((default.sse_algorithm().as_str().to_owned(), default.kms_master_key_id().map(str::to_owned), rule.bucket_key_enabled()))
}

async fn audits(moto: &Moto) -> Vec<(String, String)> {
    let mut found: Vec<(String, String)> = moto
        .scan_table(TABLE)
        .await
        .iter()
        .filter(|i| i["Kind"].as_s().unwrap() == "REMEDIATION")
        .map(|i| (i["ResourceId"].as_s().unwrap().clone(), i["Outcome"].as_s().unwrap().clone()))
        .collect();
    found.sort();
    found
}

#[tokio::test(flavor = "multi_thread")]
async fn unencrypted_and_sse_s3_buckets_get_kms_with_bucket_keys_and_an_audit_trail() {
    let moto = Moto::fresh().await;
    moto.history_table(TABLE).await;
    moto.bucket("plain-bucket").await;
    moto.bucket("sse-s3-bucket").await;
    set_encryption(&moto, "sse-s3-bucket", ServerSideEncryption::Aes256, None).await;
    let r = remediator(&moto, &[]);
    let outcome = r.handle(change("sse-s3-bucket")).await.unwrap();
    assert_eq!(outcome["attempts"][0]["outcome"], "REMEDIATED", "{outcome}");
    assert_eq!(outcome["attempts"][0]["before"], "AES256");
    r.handle(alert(&["plain-bucket"])).await.unwrap();
    for bucket in ["plain-bucket", "sse-s3-bucket"] {
        assert_eq!(encryption(&moto, bucket).await, Some(("aws:kms".to_owned(), None, Some(true))), "{bucket}");
    }
    // Idempotent: a repeated event finds KMS and changes nothing.
    let again = r.handle(change("sse-s3-bucket")).await.unwrap();
    assert_eq!(again["attempts"][0]["outcome"], "ALREADY_KMS");
    assert_eq!(
        audits(&moto).await,
        [("arn:aws:s3:::plain-bucket", "REMEDIATED"), ("arn:aws:s3:::sse-s3-bucket", "ALREADY_KMS"), ("arn:aws:s3:::sse-s3-bucket", "REMEDIATED")]
            .map(|(a, b)| (a.to_owned(), b.to_owned()))
    );
    let item = moto.scan_table(TABLE).await.into_iter().find(|i| i["Outcome"].as_s().unwrap() == "REMEDIATED").unwrap();
    for attribute in ["Timestamp", "Before", "After", "Trigger", "Mode"] {
        assert!(item.contains_key(attribute), "{attribute}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_customer_key_is_used_when_configured_and_existing_kms_is_never_replaced() {
    let moto = Moto::fresh().await;
    moto.history_table(TABLE).await;
    let kms = CUSTOMER_KEY.to_owned();
    moto.bucket("plain-bucket").await;
    moto.bucket("kms-bucket").await;
    set_encryption(&moto, "kms-bucket", ServerSideEncryption::AwsKms, Some("arn:aws:kms:us-east-1:123456789012:key/existing")).await;
    let r = remediator(&moto, &[("REMEDIATION_KMS_KEY_ID", kms.as_str())]);
    let outcome = r.handle(alert(&["plain-bucket", "kms-bucket"])).await.unwrap();
    assert_eq!(outcome["attempts"][0]["outcome"], "REMEDIATED", "{outcome}");
    assert_eq!(outcome["attempts"][1]["outcome"], "ALREADY_KMS");
    assert_eq!(encryption(&moto, "plain-bucket").await.unwrap().1.as_deref(), Some(kms.as_str()));
    assert_eq!(encryption(&moto, "kms-bucket").await.unwrap().1.as_deref(), Some("arn:aws:kms:us-east-1:123456789012:key/existing"));
}

/// The customer key of the customer-key case (S3 stores the id it is given).
const CUSTOMER_KEY: &str = "arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555";

#[tokio::test(flavor = "multi_thread")]
async fn opt_out_dry_run_cap_and_missing_buckets() {
    let moto = Moto::fresh().await;
    moto.history_table(TABLE).await;
    for b in ["opted-out", "dry-a", "cap-a", "cap-b", "cap-c"] {
        moto.bucket(b).await;
    }
    let tagging = Tagging::builder().tag_set(Tag::builder().key("compliance:remediation").value("skip").build().unwrap()).build().unwrap();
    moto.s3().put_bucket_tagging().bucket("opted-out").tagging(tagging).send().await.unwrap();
    let before = encryption(&moto, "opted-out").await;
    let outcome = remediator(&moto, &[]).handle(change("opted-out")).await.unwrap();
    assert_eq!(outcome["attempts"][0]["outcome"], "OPTED_OUT");
    assert_eq!(encryption(&moto, "opted-out").await, before);

    let dry = remediator(&moto, &[("REMEDIATION_MODE", "dry-run")]).handle(change("dry-a")).await.unwrap();
    assert_eq!(dry["attempts"][0]["outcome"], "DRY_RUN");
    assert!(dry["attempts"][0]["after"].as_str().unwrap().contains("aws:kms"));
    assert_ne!(encryption(&moto, "dry-a").await.map(|e| e.0).as_deref(), Some("aws:kms"));

    let capped = remediator(&moto, &[("MAX_REMEDIATIONS_PER_INVOCATION", "2")]).handle(alert(&["cap-a", "cap-b", "cap-c"])).await.unwrap();
    assert_eq!(capped["attempts"].as_array().unwrap().len(), 2);
    assert_eq!(capped["deferred"], json!(["cap-c"]));
    assert_ne!(encryption(&moto, "cap-c").await.map(|e| e.0).as_deref(), Some("aws:kms"));

    let gone = remediator(&moto, &[]).handle(change("no-such-bucket")).await.unwrap();
    assert_eq!(gone["attempts"][0]["outcome"], "NOT_FOUND");
    assert_eq!(audits(&moto).await.len(), 5);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_audit_write_failure_fails_the_invocation() {
    let moto = Moto::fresh().await; // no history table
    moto.bucket("plain-bucket").await;
    let error = format!("{:#}", remediator(&moto, &[]).handle(change("plain-bucket")).await.unwrap_err());
    assert!(error.contains(TABLE) && error.contains("plain-bucket"), "{error}");
}

#[tokio::test(flavor = "multi_thread")]
async fn fault_encryption_write_failure_is_audited_fails_the_invocation_and_the_retry_fixes_it() {
    let moto = Moto::fresh().await;
    moto.history_table(TABLE).await;
    moto.bucket("plain-bucket").await;
    // PutBucketEncryption answers 500 for good; the SDK's retries cannot help.
    moto.faults(json!([{"method": "PUT", "path_prefix": "/plain-bucket", "query": "encryption", "status": 500,
                        "body": "<Error><Code>InternalError</Code><Message>We encountered an internal error.</Message></Error>"}]));
    let r = remediator(&moto, &[]);
    let error = format!("{:#}", r.handle(change("plain-bucket")).await.unwrap_err());
    assert!(error.contains("1 of 1 remediations failed") && error.contains("InternalError"), "{error}");
    assert_eq!(moto.fault_hits(), vec![3], "the SDK's three attempts");
    assert_eq!(audits(&moto).await, [("arn:aws:s3:::plain-bucket".to_owned(), "FAILED".to_owned())]);
    assert_ne!(encryption(&moto, "plain-bucket").await.map(|e| e.0), Some("aws:kms".to_owned()));

    moto.faults(json!([]));
    let outcome = r.handle(change("plain-bucket")).await.unwrap();
    assert_eq!(outcome["attempts"][0]["outcome"], "REMEDIATED", "{outcome}");
    assert_eq!(encryption(&moto, "plain-bucket").await, Some(("aws:kms".to_owned(), None, Some(true))));
}
