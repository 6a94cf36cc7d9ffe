//! The organization pipeline's input (SPEC §10): SQS messages, each carrying an S3 `Object
//! Created` event for one object of the central delivery bucket — as EventBridge delivers it to
//! a queue (`detail.bucket.name`, `detail.object.key`), or as an S3 event notification sent to the
//! queue directly (`Records[].s3`). Either way keys arrive URL-encoded.
//!
//! Each message is classified on its own: a Config snapshot of one account-region to score,
//! something to ignore (S3's `TestEvent`, Config history files, any other key), or a message that
//! cannot be read — which the analyzer reports in `batchItemFailures` so it is retried and ends in
//! the dead-letter queue instead of being lost.

use compliance_runtime::{format_utc_millis, parse_utc_millis};
use serde_json::Value;

/// One snapshot object named by an event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnapshotObject {
    /// The bucket the event names.
    pub bucket: String,
    /// The key, URL-decoded.
    pub key: String,
    /// The object version the event names, if the bucket is versioned.
    pub version_id: Option<String>,
    /// The account the key belongs to.
    pub account: String,
    /// The region the key belongs to.
    pub region: String,
    /// The scan time: the snapshot's own time from its file name (so every delivery of the same
    /// snapshot is the same scan), else the event's time.
    pub generated_at: String,
}

/// What one message asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Work {
    /// Score these snapshots (one, except for an S3 notification carrying several records).
    Snapshots(Vec<SnapshotObject>),
    /// Nothing to do, and why (logged).
    Ignore(String),
}

/// The messages of an SQS batch event: `(messageId, body)`. `None` when the event is not one.
pub fn sqs_messages(event: &Value) -> Option<Vec<(String, String)>> {
    let records = event.get("Records")?.as_array()?;
    if records.is_empty() || !records.iter().all(|r| r.get("eventSource").and_then(Value::as_str) == Some("aws:sqs")) {
        return None;
    }
    Some(
        records
            .iter()
            .map(|r| {
                let text = |k: &str| r.get(k).and_then(Value::as_str).unwrap_or_default().to_owned();
                (text("messageId"), text("body"))
            })
            .collect(),
    )
}

/// Classifies one message body. `Err` when it cannot be read: the message fails alone.
pub fn work(body: &str) -> Result<Work, String> {
    let event: Value = serde_json::from_str(body).map_err(|e| format!("the message body is not JSON ({e})"))?;
    if event.get("Event").and_then(Value::as_str) == Some("s3:TestEvent") {
        return Ok(Work::Ignore("S3 test event".to_owned()));
    }
    if let Some(records) = event.get("Records").and_then(Value::as_array) {
        let mut snapshots = Vec::new();
        let mut ignored = Vec::new();
        for (i, record) in records.iter().enumerate() {
            let name = record.get("eventName").and_then(Value::as_str).unwrap_or_default();
            if !name.starts_with("ObjectCreated:") {
                ignored.push(format!("Records[{i}] is {name:?}, not an object creation"));
                continue;
            }
            let text = |pointer: &str| record.pointer(pointer).and_then(Value::as_str);
            let bucket = text("/s3/bucket/name").ok_or_else(|| format!("Records[{i}] names no bucket (s3.bucket.name)"))?;
            let key = text("/s3/object/key").ok_or_else(|| format!("Records[{i}] names no key (s3.object.key)"))?;
            match object(bucket, key, text("/s3/object/versionId"), text("/eventTime"))? {
                Some(snapshot) => snapshots.push(snapshot),
                None => ignored.push(format!("{key} is not a Config snapshot")),
            }
        }
        return Ok(if snapshots.is_empty() { Work::Ignore(ignored.join("; ")) } else { Work::Snapshots(snapshots) });
    }
    if event.get("source").and_then(Value::as_str) == Some("aws.s3") {
        let kind = event.get("detail-type").and_then(Value::as_str).unwrap_or_default();
        if kind != "Object Created" {
            return Ok(Work::Ignore(format!("an S3 {kind:?} event")));
        }
        let text = |pointer: &str| event.pointer(pointer).and_then(Value::as_str);
        let bucket = text("/detail/bucket/name").ok_or("the event names no bucket (detail.bucket.name)")?;
        let key = text("/detail/object/key").ok_or("the event names no key (detail.object.key)")?;
        return Ok(match object(bucket, key, text("/detail/object/version-id"), text("/time"))? {
            Some(snapshot) => Work::Snapshots(vec![snapshot]),
            None => Work::Ignore(format!("{key} is not a Config snapshot")),
        });
    }
    Err("the message is neither an EventBridge S3 event nor an S3 event notification".to_owned())
}

/// The snapshot an object event names, or `None` for any other key.
fn object(bucket: &str, encoded_key: &str, version_id: Option<&str>, event_time: Option<&str>) -> Result<Option<SnapshotObject>, String> {
    let key = url_decode(encoded_key).ok_or_else(|| format!("the key {encoded_key:?} is not valid URL-encoded UTF-8"))?;
    let Some((account, region, stamp)) = snapshot_parts(&key) else { return Ok(None) };
    let generated_at = match stamp.and_then(snapshot_time).or_else(|| event_time.and_then(parse_utc_millis)) {
        Some(millis) => format_utc_millis(millis),
        None => return Err(format!("{key}: neither its file name nor the event gives a time")),
    };
    let (account, region) = (account.to_owned(), region.to_owned());
    Ok(Some(SnapshotObject {
        bucket: bucket.to_owned(),
        key,
        version_id: version_id.filter(|v| !v.is_empty() && *v != "null").map(str::to_owned),
        account,
        region,
        generated_at,
    }))
}

/// Account, region and the file name's time stamp of a Config snapshot key
/// (`[{org-id}/]AWSLogs/{account}/Config/{region}/{y}/{m}/{d}/ConfigSnapshot/{file}`).
pub fn snapshot_parts(key: &str) -> Option<(&str, &str, Option<&str>)> {
    let parts: Vec<&str> = key.split('/').collect();
    let start = parts.iter().position(|p| *p == "AWSLogs")?;
    // An org-id prefix at most (Control Tower), nothing else before AWSLogs.
    if start > 1 {
        return None;
    }
    let rest = parts.get(start + 1..)?;
    let [account, "Config", region, _, _, _, "ConfigSnapshot", file] = rest else { return None };
    let is_file = file.ends_with(".json.gz") || file.ends_with(".json");
    if !is_file || !crate::analyzer::is_account(account) || !crate::analyzer::is_region(region) {
        return None;
    }
    // {account}_Config_{region}_ConfigSnapshot_{yyyymmddThhmmssZ}_{uuid}.json.gz
    let stamp = file.split('_').nth(4);
    Some((account, region, stamp))
}

/// `20261128T160000Z` as milliseconds since the epoch.
fn snapshot_time(stamp: &str) -> Option<i64> {
    let b = stamp.as_bytes();
    if b.len() != 16 || b[8] != b'T' || b[15] != b'Z' {
        return None;
    }
    let iso = format!("{}-{}-{}T{}:{}:{}Z", &stamp[0..4], &stamp[4..6], &stamp[6..8], &stamp[9..11], &stamp[11..13], &stamp[13..15]);
    parse_utc_millis(&iso)
}

/// Decodes an S3 event key: `+` is a space, `%XX` a byte; the result must be UTF-8.
pub fn url_decode(text: &str) -> Option<String> {
    let mut bytes = Vec::with_capacity(text.len());
    let mut input = text.bytes();
    while let Some(b) = input.next() {
        match b {
            b'+' => bytes.push(b' '),
            b'%' => {
                let hex = |c: Option<u8>| char::from(c?).to_digit(16);
                let (high, low) = (hex(input.next())?, hex(input.next())?);
                bytes.push((high * 16 + low) as u8);
            }
            _ => bytes.push(b),
        }
    }
    String::from_utf8(bytes).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const KEY: &str = "o-abc123def4/AWSLogs/111122223333/Config/eu-west-1/2026/12/1/ConfigSnapshot/111122223333_Config_eu-west-1_ConfigSnapshot_20261201T040000Z_9a1b.json.gz";

    fn eventbridge(key: &str) -> String {
        json!({"version": "0", "id": "e1", "detail-type": "Object Created", "source": "aws.s3", "account": "999999999999",
               "time": "2026-12-01T04:00:07Z", "region": "eu-west-1", "resources": ["arn:aws:s3:::central"],
               "detail": {"version": "0", "bucket": {"name": "central"}, "object": {"key": key, "size": 10, "version-id": "v7"}, "reason": "PutObject"}})
        .to_string()
    }

    #[test]
    fn an_eventbridge_object_created_event_names_one_snapshot() {
        let Ok(Work::Snapshots(found)) = work(&eventbridge(KEY)) else { panic!() };
        assert_eq!(
            found,
            vec![SnapshotObject {
                bucket: "central".into(),
                key: KEY.into(),
                version_id: Some("v7".into()),
                account: "111122223333".into(),
                region: "eu-west-1".into(),
                generated_at: "2026-12-01T04:00:00.000Z".into(),
            }]
        );
    }

    #[test]
    fn s3_notifications_test_events_and_other_keys() {
        let encoded = "AWSLogs/111122223333/Config/us-east-1/2026/12/1/ConfigSnapshot/my+snap%3D.json";
        let body = json!({"Records": [{"eventName": "ObjectCreated:Put", "eventTime": "2026-12-01T04:05:06.789Z",
                                       "s3": {"bucket": {"name": "central"}, "object": {"key": encoded}}}]})
        .to_string();
        let Ok(Work::Snapshots(found)) = work(&body) else { panic!() };
        assert_eq!(found[0].key, "AWSLogs/111122223333/Config/us-east-1/2026/12/1/ConfigSnapshot/my snap=.json");
        assert_eq!(found[0].generated_at, "2026-12-01T04:05:06.789Z", "no stamp in the name: the event's time");
        assert_eq!(found[0].version_id, None);

        let test = r#"{"Service":"Amazon S3","Event":"s3:TestEvent","Time":"2026-12-01T04:00:00.000Z","Bucket":"central"}"#;
        assert!(matches!(work(test), Ok(Work::Ignore(_))));
        for other in [
            "AWSLogs/111122223333/Config/us-east-1/2026/12/1/ConfigHistory/x.json.gz",
            "AWSLogs/111122223333/Config/ConfigWritabilityCheckFile",
            "a/b/AWSLogs/111122223333/Config/us-east-1/2026/12/1/ConfigSnapshot/x.json.gz",
            "AWSLogs/12345/Config/us-east-1/2026/12/1/ConfigSnapshot/x.json.gz",
            "reports/111122223333/us-east-1/latest/report.json",
        ] {
            assert!(matches!(work(&eventbridge(other)), Ok(Work::Ignore(_))), "{other}");
        }
        assert!(matches!(work(&json!({"source": "aws.s3", "detail-type": "Object Deleted"}).to_string()), Ok(Work::Ignore(_))));
    }

    #[test]
    fn unreadable_messages_are_errors() {
        assert!(work("not json").unwrap_err().contains("not JSON"));
        assert!(work(r#"{"hello": 1}"#).is_err());
        assert!(work(&eventbridge("AWSLogs/111122223333/Config/us-east-1/2026/12/1/ConfigSnapshot/%ff%fe.json")).unwrap_err().contains("UTF-8"));
        assert!(work(&eventbridge("AWSLogs/111122223333/Config/us-east-1/2026/12/1/ConfigSnapshot/%4.json")).is_err());
        assert!(work(&json!({"source": "aws.s3", "detail-type": "Object Created", "detail": {}}).to_string()).unwrap_err().contains("bucket"));
        assert_eq!(url_decode("a%2Fb+c"), Some("a/b c".into()));
    }

    #[test]
    fn sqs_batches_are_recognised() {
        let event = json!({"Records": [{"messageId": "m1", "body": "x", "eventSource": "aws:sqs"}]});
        assert_eq!(sqs_messages(&event), Some(vec![("m1".into(), "x".into())]));
        assert_eq!(sqs_messages(&json!({"Records": [{"eventSource": "aws:s3"}]})), None);
        assert_eq!(sqs_messages(&json!({"source": "aws.events"})), None);
    }
}
