//! The history table (SPEC §7.3): per-resource items, one summary item per scan (written last),
//! remediation audit items, and the 7-day trend read back from the summary items.
//!
//! Writes are idempotent: a scan's items are keyed by the scan time, which comes from the
//! triggering event, so a retried invocation overwrites the same items instead of adding more.

use std::collections::HashMap;
use std::time::Duration;

use anyhow::{Context, bail};
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{AttributeValue, PutRequest, WriteRequest};
use compliance_runtime::rollup::Part;
use compliance_runtime::{ResourceResult, TrendPoint, sha256_hex};

/// A DynamoDB item.
pub type Item = HashMap<String, AttributeValue>;

/// DynamoDB's limit on a partition key value, in bytes.
pub const MAX_KEY_BYTES: usize = 2048;
/// Items per BatchWriteItem call (DynamoDB's limit).
const BATCH: usize = 25;
/// Attempts for a batch whose items keep coming back unprocessed.
const ATTEMPTS: u32 = 8;
/// Longest string attribute we store from untrusted input (resource names, ids); far under the
/// 400 KB item limit even with every attribute at this size.
const MAX_TEXT_BYTES: usize = 4096;

/// The partition key of a resource's items: its ARN, else `type/id`. Keys longer than DynamoDB
/// allows (a hostile resource id) become `sha256:<hex of the key>`; the original is kept,
/// shortened, in `ResourceKey`.
pub fn resource_key(resource: &ResourceResult) -> String {
    let key = resource.arn.clone().unwrap_or_else(|| format!("{}/{}", resource.resource_type, resource.resource_id));
    if key.len() <= MAX_KEY_BYTES { key } else { format!("sha256:{}", sha256_hex(key.as_bytes())) }
}

/// The summary items' partition key.
pub fn summary_key(account: &str, region: &str) -> String {
    format!("SUMMARY#{account}#{region}")
}

fn s(text: impl Into<String>) -> AttributeValue {
    AttributeValue::S(text.into())
}

fn n(number: impl ToString) -> AttributeValue {
    AttributeValue::N(number.to_string())
}

/// Cuts untrusted text to [`MAX_TEXT_BYTES`] on a character boundary.
pub(crate) fn bounded(text: &str) -> String {
    if text.len() <= MAX_TEXT_BYTES {
        return text.to_owned();
    }
    let mut end = MAX_TEXT_BYTES;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &text[..end])
}

/// The hour a scan belongs to (`2026-12-01T04`): the partition key of the summaries' index, so
/// one Query per hour returns every account-region's summary of that hour.
pub fn hour_bucket(timestamp: &str) -> String {
    timestamp.get(..13).unwrap_or(timestamp).to_owned()
}

/// The name of the index over the summaries' hour buckets.
pub const HOUR_INDEX: &str = "ByHour";

/// An account-region's integer sums, as the summary item's `Parts` attribute stores them.
pub fn parts_json(parts: &[Part]) -> String {
    compliance_runtime::report_head::parts_to_json(parts).to_string()
}

/// `73.41` from 7341 basis points, exactly.
pub fn percent(bp: u32) -> String {
    format!("{}.{:02}", bp / 100, bp % 100)
}

/// What every item of one scan shares.
#[derive(Debug, Clone)]
pub struct ScanInfo {
    /// ISO-8601 UTC with milliseconds: the sort key of every item of the scan.
    pub timestamp: String,
    /// Scan id (also in the report keys).
    pub scan_id: String,
    /// sha256 of the component that scored.
    pub component_sha256: String,
    /// sha256 of the input manifest.
    pub input_sha256: String,
}

/// One item per evaluated resource.
pub fn resource_item(resource: &ResourceResult, scan: &ScanInfo) -> Item {
    let key = resource_key(resource);
    let mut item = Item::from([
        ("Timestamp".to_owned(), s(&scan.timestamp)),
        ("Kind".to_owned(), s("RESOURCE")),
        ("ResourceType".to_owned(), s(bounded(&resource.resource_type))),
        ("ResourceKey".to_owned(), s(bounded(&resource.resource_id))),
        ("AccountId".to_owned(), s(bounded(&resource.account_id))),
        ("Region".to_owned(), s(bounded(&resource.region))),
        ("Score".to_owned(), n(percent(resource.score_bp))),
        ("ScoreBp".to_owned(), n(resource.score_bp)),
        ("Criticality".to_owned(), s(bounded(&resource.criticality))),
        ("ScanId".to_owned(), s(&scan.scan_id)),
        ("ComponentSha256".to_owned(), s(&scan.component_sha256)),
        ("InputSha256".to_owned(), s(&scan.input_sha256)),
    ]);
    if !resource.failed_rules.is_empty() {
        // Rule ids come from the component's rule pack, not from the input.
        item.insert("FailedRules".to_owned(), AttributeValue::Ss(resource.failed_rules.clone()));
    }
    item.insert("ResourceId".to_owned(), s(key));
    item
}

/// Writes items in batches of 25, retrying unprocessed items with exponential backoff. Any
/// item still unwritten after the last attempt, or any error the SDK did not recover from, is
/// an error: history is never dropped silently.
pub async fn write_all(client: &Client, table: &str, items: Vec<Item>) -> anyhow::Result<usize> {
    let total = items.len();
    let mut pending: Vec<WriteRequest> = Vec::with_capacity(total);
    for item in items {
        pending.push(WriteRequest::builder().put_request(PutRequest::builder().set_item(Some(item)).build()?).build());
    }
    while !pending.is_empty() {
        let rest = pending.split_off(pending.len().min(BATCH));
        write_batch(client, table, std::mem::replace(&mut pending, rest)).await?;
    }
    Ok(total)
}

async fn write_batch(client: &Client, table: &str, mut batch: Vec<WriteRequest>) -> anyhow::Result<()> {
    for attempt in 0..ATTEMPTS {
        if attempt > 0 {
            tokio::time::sleep(backoff(attempt)).await;
        }
        let output = client
            .batch_write_item()
            .request_items(table, batch)
            .send()
            .await
            .with_context(|| format!("writing history to DynamoDB table {table}"))?;
        batch = output.unprocessed_items.and_then(|mut u| u.remove(table)).unwrap_or_default();
        if batch.is_empty() {
            return Ok(());
        }
        tracing::warn!(table, unprocessed = batch.len(), attempt, "DynamoDB left items unprocessed; retrying");
    }
    bail!("DynamoDB table {table}: {} history items still unprocessed after {ATTEMPTS} attempts", batch.len())
}

fn backoff(attempt: u32) -> Duration {
    Duration::from_millis((50u64 << attempt.min(7)).min(5_000))
}

/// Writes one item (the summary, an audit record).
pub async fn put(client: &Client, table: &str, item: Item) -> anyhow::Result<()> {
    client.put_item().table_name(table).set_item(Some(item)).send().await.with_context(|| format!("writing to DynamoDB table {table}"))?;
    Ok(())
}

/// Score history of one account and region from `since` (inclusive) to `until` (exclusive),
/// oldest first.
pub async fn trend(client: &Client, table: &str, key: &str, since: &str, until: &str) -> anyhow::Result<Vec<TrendPoint>> {
    let mut points = Vec::new();
    let mut pages = client
        .query()
        .table_name(table)
        .key_condition_expression("ResourceId = :k AND #t BETWEEN :since AND :until")
        .expression_attribute_names("#t", "Timestamp")
        .expression_attribute_values(":k", s(key))
        .expression_attribute_values(":since", s(since))
        .expression_attribute_values(":until", s(until))
        .projection_expression("#t, ScoreBp")
        .into_paginator()
        .items()
        .send();
    while let Some(item) = pages.next().await {
        let item = item.with_context(|| format!("reading the score history from DynamoDB table {table}"))?;
        let timestamp = item.get("Timestamp").and_then(|v| v.as_s().ok()).cloned();
        let score = item.get("ScoreBp").and_then(|v| v.as_n().ok()).and_then(|v| v.parse::<u32>().ok());
        if let (Some(generated_at), Some(score_bp)) = (timestamp, score)
            && generated_at.as_str() < until
        {
            points.push(TrendPoint { generated_at, score_bp });
        }
    }
    Ok(points)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resource(id: &str, arn: Option<&str>) -> ResourceResult {
        ResourceResult {
            resource_type: "AWS::S3::Bucket".to_owned(),
            resource_id: id.to_owned(),
            arn: arn.map(str::to_owned),
            account_id: "123456789012".to_owned(),
            region: "us-east-1".to_owned(),
            criticality: "high".to_owned(),
            score_bp: 5000,
            failed_rules: vec!["s3-bucket-kms-encryption".to_owned()],
        }
    }

    #[test]
    fn keys_are_arns_or_type_and_id_and_never_too_long() {
        assert_eq!(resource_key(&resource("b", Some("arn:aws:s3:::b"))), "arn:aws:s3:::b");
        assert_eq!(resource_key(&resource("b", None)), "AWS::S3::Bucket/b");
        let hostile = "x".repeat(100_000);
        let key = resource_key(&resource(&hostile, None));
        assert!(key.starts_with("sha256:") && key.len() <= MAX_KEY_BYTES);
        let item = resource_item(&resource(&hostile, None), &ScanInfo { timestamp: "t".into(), scan_id: "s".into(), component_sha256: "c".into(), input_sha256: "i".into() });
        let size: usize = item.iter().map(|(k, v)| k.len() + v.as_s().map_or(64, String::len)).sum();
        assert!(size < 16 * 1024, "item of {size} bytes");
        assert_eq!(item["Score"], AttributeValue::N("50.00".into()));
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        assert_eq!(backoff(1), Duration::from_millis(100));
        assert!(backoff(3) > backoff(2));
        assert_eq!(backoff(30), Duration::from_millis(5_000));
        assert_eq!(percent(7341), "73.41");
        assert_eq!(percent(5), "0.05");
    }
}
