//! History written on change (SPEC §10): the compact state of an account-region's last completed
//! scan, kept as one gzip JSON object in the reports bucket, and the difference that decides
//! which resources get a history item — those that appeared, changed (score, failed rules,
//! criticality) or disappeared. An unchanged re-scan writes none.
//!
//! The state object is written after the history and the summary, so a scan that fails part way
//! never advances it: its retry finds the same differences and rewrites the same items.

use std::collections::BTreeMap;
use std::io::{Read, Write};

use anyhow::Context;
use aws_sdk_dynamodb::types::AttributeValue;
use compliance_runtime::ResourceResult;
use serde::{Deserialize, Serialize};

use crate::history::{self, Item, ScanInfo};

const SCHEMA: &str = "compliance-state/v1";

/// What history remembers of one resource.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// Resource type.
    #[serde(rename = "t")]
    pub resource_type: String,
    /// Resource id.
    #[serde(rename = "i")]
    pub resource_id: String,
    /// Account of the resource.
    #[serde(rename = "a")]
    pub account_id: String,
    /// Region of the resource.
    #[serde(rename = "r")]
    pub region: String,
    /// Resource score.
    #[serde(rename = "s")]
    pub score_bp: u32,
    /// Criticality.
    #[serde(rename = "c")]
    pub criticality: String,
    /// Failed rules.
    #[serde(rename = "f", default, skip_serializing_if = "Vec::is_empty")]
    pub failed_rules: Vec<String>,
}

/// The state of an account-region after a completed scan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct State {
    schema: String,
    /// The scan that produced it.
    pub generated_at: String,
    /// Its scan id.
    pub scan_id: String,
    /// Resources by history key.
    pub resources: BTreeMap<String, Entry>,
}

impl State {
    /// The state of a scan's resources.
    pub fn of(resources: &[ResourceResult], scan: &ScanInfo) -> Self {
        let resources = resources
            .iter()
            .map(|r| {
                let entry = Entry {
                    resource_type: r.resource_type.clone(),
                    resource_id: r.resource_id.clone(),
                    account_id: r.account_id.clone(),
                    region: r.region.clone(),
                    score_bp: r.score_bp,
                    criticality: r.criticality.clone(),
                    failed_rules: r.failed_rules.clone(),
                };
                (history::resource_key(r), entry)
            })
            .collect();
        Self { schema: SCHEMA.to_owned(), generated_at: scan.timestamp.clone(), scan_id: scan.scan_id.clone(), resources }
    }
}

/// The object key of an account-region's state.
pub fn key(account: &str, region: &str) -> String {
    format!("state/{account}/{region}/state.json.gz")
}

/// How many history items of each kind a scan writes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Changes {
    /// Resources not in the previous state.
    pub appeared: usize,
    /// Resources whose score, failed rules or criticality changed.
    pub changed: usize,
    /// Resources in the previous state and not in this scan (`Kind` = `GONE`).
    pub gone: usize,
    /// Resources as they were.
    pub unchanged: usize,
}

/// The history items of a scan: every resource of `now` that is not exactly in `previous`
/// (all of them when there is no previous state), and a `GONE` item for every resource of
/// `previous` that is not in `now`.
pub fn changed_items(previous: Option<&State>, now: &State, resources: &[ResourceResult], scan: &ScanInfo) -> (Vec<Item>, Changes) {
    let mut changes = Changes::default();
    let mut items = Vec::new();
    for resource in resources {
        let key = history::resource_key(resource);
        match previous.and_then(|p| p.resources.get(&key)) {
            Some(before) if Some(before) == now.resources.get(&key) => changes.unchanged += 1,
            Some(_) => {
                changes.changed += 1;
                items.push(history::resource_item(resource, scan));
            }
            None => {
                changes.appeared += 1;
                items.push(history::resource_item(resource, scan));
            }
        }
    }
    for (key, entry) in previous.map(|p| &p.resources).into_iter().flatten() {
        if !now.resources.contains_key(key) {
            changes.gone += 1;
            items.push(gone_item(key, entry, scan));
        }
    }
    (items, changes)
}

fn gone_item(key: &str, entry: &Entry, scan: &ScanInfo) -> Item {
    let s = |v: &str| AttributeValue::S(v.to_owned());
    Item::from([
        ("ResourceId".to_owned(), s(key)),
        ("Timestamp".to_owned(), s(&scan.timestamp)),
        ("Kind".to_owned(), s("GONE")),
        ("ResourceType".to_owned(), s(&history::bounded(&entry.resource_type))),
        ("ResourceKey".to_owned(), s(&history::bounded(&entry.resource_id))),
        ("AccountId".to_owned(), s(&history::bounded(&entry.account_id))),
        ("Region".to_owned(), s(&history::bounded(&entry.region))),
        ("ScanId".to_owned(), s(&scan.scan_id)),
        ("ComponentSha256".to_owned(), s(&scan.component_sha256)),
        ("InputSha256".to_owned(), s(&scan.input_sha256)),
    ])
}

/// Reads an account-region's state; `None` when there is none yet.
pub async fn load(s3: &aws_sdk_s3::Client, bucket: &str, key: &str) -> anyhow::Result<Option<State>> {
    let Some(state) = get_gzip_json::<State>(s3, bucket, key, "history state").await? else { return Ok(None) };
    anyhow::ensure!(state.schema == SCHEMA, "s3://{bucket}/{key} has schema {:?}, not {SCHEMA}", state.schema);
    Ok(Some(state))
}

/// Writes an account-region's state (after its history).
pub async fn store(s3: &aws_sdk_s3::Client, bucket: &str, key: &str, state: &State) -> anyhow::Result<()> {
    put_gzip_json(s3, bucket, key, "history state", state).await
}

/// A gzip JSON object the analyzer keeps (`what` names it in errors); none when it does not
/// exist yet.
pub async fn get_gzip_json<T: serde::de::DeserializeOwned>(s3: &aws_sdk_s3::Client, bucket: &str, key: &str, what: &str) -> anyhow::Result<Option<T>> {
    let object = match s3.get_object().bucket(bucket).key(key).send().await {
        Ok(object) => object,
        Err(error) if error.as_service_error().is_some_and(|e| e.is_no_such_key()) => return Ok(None),
        Err(error) => return Err(anyhow::Error::new(error).context(format!("reading the {what} s3://{bucket}/{key}"))),
    };
    let bytes = object.body.collect().await.with_context(|| format!("reading the {what} s3://{bucket}/{key}"))?.into_bytes();
    let mut text = Vec::new();
    flate2::read::GzDecoder::new(&bytes[..]).read_to_end(&mut text).with_context(|| format!("s3://{bucket}/{key} is not gzip"))?;
    let value = serde_json::from_slice(&text).with_context(|| format!("s3://{bucket}/{key} is not a {what}"))?;
    Ok(Some(value))
}

/// Writes a gzip JSON object the analyzer keeps.
pub async fn put_gzip_json<T: Serialize>(s3: &aws_sdk_s3::Client, bucket: &str, key: &str, what: &str, value: &T) -> anyhow::Result<()> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    serde_json::to_writer(&mut gz, value)?;
    gz.flush()?;
    let body = gz.finish()?;
    s3.put_object()
        .bucket(bucket)
        .key(key)
        .content_type("application/json")
        .content_encoding("gzip")
        .body(body.into())
        .send()
        .await
        .with_context(|| format!("writing the {what} s3://{bucket}/{key}"))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resource(id: &str, score_bp: u32) -> ResourceResult {
        ResourceResult {
            resource_type: "AWS::S3::Bucket".to_owned(),
            resource_id: id.to_owned(),
            arn: Some(format!("arn:aws:s3:::{id}")),
            account_id: "111122223333".to_owned(),
            region: "us-east-1".to_owned(),
            criticality: "medium".to_owned(),
            score_bp,
            failed_rules: if score_bp < 10_000 { vec!["s3-bucket-kms-encryption".to_owned()] } else { Vec::new() },
        }
    }

    fn scan(at: &str) -> ScanInfo {
        ScanInfo { timestamp: at.into(), scan_id: at.into(), component_sha256: "c".into(), input_sha256: "i".into() }
    }

    #[test]
    fn only_appeared_changed_and_gone_resources_get_items() {
        let first = vec![resource("a", 10_000), resource("b", 0), resource("c", 10_000)];
        let at1 = scan("2026-12-01T01:00:00.000Z");
        let state1 = State::of(&first, &at1);
        let (items, changes) = changed_items(None, &state1, &first, &at1);
        assert_eq!((items.len(), changes), (3, Changes { appeared: 3, ..Changes::default() }));

        let (items, changes) = changed_items(Some(&state1), &state1, &first, &at1);
        assert_eq!((items.len(), changes.unchanged), (0, 3), "an identical re-scan writes nothing");

        let second = vec![resource("a", 10_000), resource("b", 10_000), resource("d", 0)];
        let at2 = scan("2026-12-01T02:00:00.000Z");
        let state2 = State::of(&second, &at2);
        let (items, changes) = changed_items(Some(&state1), &state2, &second, &at2);
        assert_eq!(changes, Changes { appeared: 1, changed: 1, gone: 1, unchanged: 1 });
        let kinds: Vec<(&str, &str)> = items.iter().map(|i| (i["ResourceId"].as_s().unwrap().as_str(), i["Kind"].as_s().unwrap().as_str())).collect();
        assert_eq!(kinds, vec![("arn:aws:s3:::b", "RESOURCE"), ("arn:aws:s3:::d", "RESOURCE"), ("arn:aws:s3:::c", "GONE")]);
        assert!(items.iter().all(|i| i["Timestamp"].as_s().unwrap() == "2026-12-01T02:00:00.000Z"));

        let json = serde_json::to_string(&state2).unwrap();
        assert_eq!(serde_json::from_str::<State>(&json).unwrap(), state2);
    }
}
