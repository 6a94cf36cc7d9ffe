//! The scheduled org roll-up (`compliance-rollup-{env}`, SPEC §10): one Query per hour of the
//! window on the summaries' hour index returns every account-region scan the analyzers completed;
//! the component turns their integer sums into the org report; this host stores it (JSON and
//! HTML), writes the `ORG#{org-id}` item — which also carries the account-regions to expect next
//! time — and alerts when the org or any account is below the threshold.
//!
//! Every number, the choice of the newest scan per account-region and the list of missing ones
//! come out of the component; `compliance verify` reproduces the stored org report offline from a
//! copy of the reports bucket.

use std::sync::Arc;

use anyhow::Context;
use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_sns::types::MessageAttributeValue;
use compliance_runtime::report_head::{expected_from_json, parts_from_json};
use compliance_runtime::rollup::{Expected, Outcome, Request, RollupFormat, Summary};
use compliance_runtime::{Runtime, format_utc_millis, now_millis, now_utc, parse_utc_millis, sha256_hex};
use serde_json::{Value, json};

use crate::analyzer::scan_id;
use crate::emf::{self, Unit};
use crate::history::{self, Item, hour_bucket, percent};
use crate::settings::RollupSettings;

const HOUR_MS: i64 = 3_600_000;
/// Accounts and account-regions listed in an alert; the rest are counted.
const LISTED: usize = 50;

/// The clients the roll-up uses.
#[derive(Debug, Clone)]
pub struct Clients {
    /// S3 (the org report).
    pub s3: aws_sdk_s3::Client,
    /// DynamoDB (summaries in, the `ORG#` item out).
    pub dynamodb: aws_sdk_dynamodb::Client,
    /// SNS (the alert).
    pub sns: aws_sdk_sns::Client,
}

impl Clients {
    /// Clients from one SDK configuration.
    pub fn new(config: &aws_config::SdkConfig) -> Self {
        Self { s3: crate::s3_client(config), dynamodb: aws_sdk_dynamodb::Client::new(config), sns: aws_sdk_sns::Client::new(config) }
    }
}

/// The roll-up function, made once per cold start.
pub struct Rollup {
    runtime: Arc<Runtime>,
    clients: Clients,
    settings: RollupSettings,
}

/// The keys of an org report.
pub fn report_keys(org_id: &str, generated_at: &str) -> [String; 4] {
    let date = |r: std::ops::Range<usize>| generated_at.get(r).unwrap_or("0");
    let dated = format!("reports/org/{org_id}/{}/{}/{}/{}", date(0..4), date(5..7), date(8..10), scan_id(generated_at));
    let latest = format!("reports/org/{org_id}/latest");
    [format!("{dated}/rollup.json"), format!("{dated}/rollup.html"), format!("{latest}/rollup.json"), format!("{latest}/rollup.html")]
}

/// The hour buckets from `start` to `end`, both included.
pub fn hours_between(start: i64, end: i64) -> Vec<String> {
    let mut hours = Vec::new();
    let mut at = start - start.rem_euclid(HOUR_MS);
    while at <= end {
        hours.push(hour_bucket(&format_utc_millis(at)));
        at += HOUR_MS;
    }
    hours
}

/// A summary item as the roll-up needs it. `Err` names what is missing (an item written by an
/// analyzer older than the roll-up).
pub fn summary_from_item(item: &Item) -> Result<Summary, String> {
    let key = item.get("ResourceId").and_then(|v| v.as_s().ok()).cloned().unwrap_or_default();
    let text = |name: &str| item.get(name).and_then(|v| v.as_s().ok()).cloned().ok_or_else(|| format!("summary {key} has no {name}"));
    let number = |name: &str| item.get(name).and_then(|v| v.as_n().ok()).and_then(|n| n.parse::<u64>().ok()).ok_or_else(|| format!("summary {key} has no {name}"));
    let parts: Value = serde_json::from_str(&text("Parts")?).map_err(|e| format!("summary {key}: Parts is not JSON ({e})"))?;
    let parts = parts_from_json(parts.as_array().ok_or_else(|| format!("summary {key}: Parts is not a list"))?, &format!("summary {key}: Parts"))?;
    Ok(Summary {
        name: text("ReportJsonKey")?,
        report_sha256: text("ReportSha256")?,
        generated_at: text("Timestamp")?,
        component_sha256: text("ComponentSha256")?,
        input_sha256: text("InputSha256")?,
        rule_pack_version: text("RulePackVersion")?,
        score_bp: u32::try_from(number("ScoreBp")?).map_err(|_| format!("summary {key}: ScoreBp out of range"))?,
        parts,
    })
}

fn expected_json(list: &[Expected]) -> String {
    Value::from(list.iter().map(|e| json!({"account_id": e.account_id, "region": e.region, "last_seen": e.last_seen})).collect::<Vec<_>>()).to_string()
}

fn expected_from_text(text: &str, shown: &str) -> Result<Vec<Expected>, String> {
    let list: Value = serde_json::from_str(text).map_err(|e| format!("{shown} is not JSON ({e})"))?;
    expected_from_json(list.as_array().ok_or_else(|| format!("{shown} is not a list"))?, shown)
}

impl Rollup {
    /// A new roll-up.
    pub fn new(runtime: Arc<Runtime>, clients: Clients, settings: RollupSettings) -> Self {
        Self { runtime, clients, settings }
    }

    /// Handles the scheduled event (its `time` is the end of the window; now when absent).
    pub async fn handle(&self, event: Value) -> anyhow::Result<Value> {
        let started = std::time::Instant::now();
        let end = event.get("time").and_then(Value::as_str).and_then(parse_utc_millis).unwrap_or_else(|| parse_utc_millis(&now_utc()).unwrap_or_default());
        let generated_at = format_utc_millis(end);
        let start = end - i64::from(self.settings.window_hours) * HOUR_MS;
        let window_start = format_utc_millis(start);
        anyhow::ensure!(self.runtime.rolls_up(), "the embedded component does not provide the organization roll-up");

        let (summaries, unusable) = self.summaries(&hours_between(start, end), &window_start, &generated_at).await?;
        let expected = self.expected(&generated_at).await?;
        let request = Request {
            org_id: self.settings.org_id.clone(),
            threshold_bp: self.settings.threshold_bp,
            generated_at: generated_at.clone(),
            window_start: Some(window_start),
            forget_after_hours: self.settings.forget_after_hours,
            expected,
            component_sha256: self.runtime.sha256().to_owned(),
        };
        let runtime = Arc::clone(&self.runtime);
        let count = summaries.len();
        let outcome = tokio::task::spawn_blocking(move || runtime.roll_up(&request, &summaries, &[RollupFormat::Json, RollupFormat::Html]))
            .await
            .context("the roll-up task stopped")?
            .context("computing the org roll-up")?;
        let [json_report, html_report] = [0, 1].map(|i| outcome.rendered.get(i).cloned().unwrap_or_default());
        anyhow::ensure!(!json_report.is_empty() && !html_report.is_empty(), "the component rendered no org report");

        let keys = report_keys(&self.settings.org_id, &generated_at);
        for (key, body, content_type) in [
            (&keys[0], &json_report, "application/json"),
            (&keys[1], &html_report, "text/html; charset=utf-8"),
            (&keys[2], &json_report, "application/json"),
            (&keys[3], &html_report, "text/html; charset=utf-8"),
        ] {
            let bucket = &self.settings.reports_bucket;
            self.clients
                .s3
                .put_object()
                .bucket(bucket)
                .key(key)
                .content_type(content_type)
                .body(body.clone().into())
                .send()
                .await
                .with_context(|| format!("writing the org report s3://{bucket}/{key}"))?;
        }
        let report_sha256 = sha256_hex(&json_report);
        history::put(&self.clients.dynamodb, &self.settings.history_table, self.org_item(&generated_at, &outcome, count, &keys, &report_sha256)).await?;

        let alerted = outcome.alert;
        if alerted {
            self.alert(&generated_at, &outcome, &keys).await?;
        }
        emf::emit(
            now_millis(),
            &self.settings.environment,
            &[
                ("OrgComplianceScore", Unit::Percent, f64::from(outcome.score_bp) / 100.0),
                ("AccountRegionsScored", Unit::Count, count as f64),
                ("AccountRegionsMissing", Unit::Count, outcome.missing.len() as f64),
                ("AccountsBelowThreshold", Unit::Count, outcome.accounts_below_threshold.len() as f64),
            ],
        );
        let result = json!({
            "status": "rolled-up",
            "org_id": self.settings.org_id,
            "generated_at": generated_at,
            "score": percent(outcome.score_bp),
            "score_bp": outcome.score_bp,
            "weight_compliant": outcome.weight_compliant,
            "weight_decided": outcome.weight_decided,
            "summaries": count,
            "unusable_summaries": unusable,
            "missing": outcome.missing.iter().map(|m| format!("{}/{}", m.account_id, m.region)).collect::<Vec<_>>(),
            "accounts_below_threshold": outcome.accounts_below_threshold,
            "alert_sent": alerted,
            "reports": {"bucket": self.settings.reports_bucket, "json_key": keys[0], "html_key": keys[1], "json_sha256": report_sha256},
            "duration_ms": started.elapsed().as_millis() as u64,
        });
        tracing::info!(outcome = %result, "org roll-up complete");
        Ok(result)
    }

    /// Every summary item of the window's hours. Items the roll-up cannot read (written by an
    /// older analyzer) are counted and logged, never guessed at.
    async fn summaries(&self, hours: &[String], window_start: &str, generated_at: &str) -> anyhow::Result<(Vec<Summary>, usize)> {
        let (table, index) = (&self.settings.history_table, &self.settings.hour_index);
        let mut summaries = Vec::new();
        let mut unusable = 0;
        for hour in hours {
            let mut pages = self
                .clients
                .dynamodb
                .query()
                .table_name(table)
                .index_name(index)
                .key_condition_expression("HourBucket = :h")
                .expression_attribute_values(":h", AttributeValue::S(hour.clone()))
                .into_paginator()
                .items()
                .send();
            while let Some(item) = pages.next().await {
                let item = item.with_context(|| format!("querying index {index} of DynamoDB table {table} for hour {hour}"))?;
                let at = item.get("Timestamp").and_then(|v| v.as_s().ok()).map(String::as_str).unwrap_or_default();
                let is_summary = item.get("Kind").and_then(|v| v.as_s().ok()).is_some_and(|k| k == "SUMMARY");
                if !is_summary || at < window_start || at > generated_at {
                    continue;
                }
                match summary_from_item(&item) {
                    Ok(summary) => summaries.push(summary),
                    Err(reason) => {
                        unusable += 1;
                        tracing::warn!(reason, "summary item not usable by the roll-up; skipped");
                    }
                }
            }
        }
        Ok((summaries, unusable))
    }

    /// What the previous roll-up saw (`Seen` of the newest `ORG#` item before this one).
    async fn expected(&self, generated_at: &str) -> anyhow::Result<Vec<Expected>> {
        let table = &self.settings.history_table;
        let key = format!("ORG#{}", self.settings.org_id);
        let output = self
            .clients
            .dynamodb
            .query()
            .table_name(table)
            .key_condition_expression("ResourceId = :k AND #t < :now")
            .expression_attribute_names("#t", "Timestamp")
            .expression_attribute_values(":k", AttributeValue::S(key.clone()))
            .expression_attribute_values(":now", AttributeValue::S(generated_at.to_owned()))
            .scan_index_forward(false)
            .limit(1)
            .send()
            .await
            .with_context(|| format!("reading the previous org roll-up from DynamoDB table {table}"))?;
        let Some(previous) = output.items().first() else { return Ok(Vec::new()) };
        let seen = previous.get("Seen").and_then(|v| v.as_s().ok()).with_context(|| format!("the previous {key} item has no Seen"))?;
        expected_from_text(seen, &format!("the previous {key} item's Seen")).map_err(anyhow::Error::msg)
    }

    fn org_item(&self, generated_at: &str, outcome: &Outcome, summaries: usize, keys: &[String; 4], report_sha256: &str) -> Item {
        let s = |v: &str| AttributeValue::S(v.to_owned());
        let n = |v: u64| AttributeValue::N(v.to_string());
        Item::from([
            ("ResourceId".to_owned(), s(&format!("ORG#{}", self.settings.org_id))),
            ("Timestamp".to_owned(), s(generated_at)),
            ("Kind".to_owned(), s("ORG")),
            ("Score".to_owned(), AttributeValue::N(percent(outcome.score_bp))),
            ("ScoreBp".to_owned(), n(u64::from(outcome.score_bp))),
            ("ThresholdBp".to_owned(), n(u64::from(self.settings.threshold_bp))),
            ("BelowThreshold".to_owned(), AttributeValue::Bool(outcome.below_threshold)),
            ("WeightCompliant".to_owned(), n(outcome.weight_compliant)),
            ("WeightDecided".to_owned(), n(outcome.weight_decided)),
            ("Summaries".to_owned(), n(summaries as u64)),
            ("Missing".to_owned(), s(&expected_json(&outcome.missing))),
            ("Seen".to_owned(), s(&expected_json(&outcome.seen))),
            ("AccountsBelowThreshold".to_owned(), n(outcome.accounts_below_threshold.len() as u64)),
            ("ReportsBucket".to_owned(), s(&self.settings.reports_bucket)),
            ("ReportJsonKey".to_owned(), s(&keys[0])),
            ("ReportHtmlKey".to_owned(), s(&keys[1])),
            ("ReportSha256".to_owned(), s(report_sha256)),
            ("ComponentSha256".to_owned(), s(self.runtime.sha256())),
        ])
    }

    async fn alert(&self, generated_at: &str, outcome: &Outcome, keys: &[String; 4]) -> anyhow::Result<()> {
        let org = &self.settings.org_id;
        let (score, threshold) = (percent(outcome.score_bp), percent(self.settings.threshold_bp));
        let listed = |items: Vec<String>| {
            let more = items.len().saturating_sub(LISTED);
            let mut text: String = items.iter().take(LISTED).map(|i| format!("  - {i}\n")).collect();
            if more > 0 {
                text.push_str(&format!("  … and {more} more (see the report)\n"));
            }
            text
        };
        let mut text = if outcome.below_threshold {
            format!("Organization {org}: compliance score {score} % is below the threshold of {threshold} %.\n")
        } else {
            format!("Organization {org}: compliance score {score} % (threshold {threshold} %), but accounts are below the threshold.\n")
        };
        text.push_str(&format!("Roll-up at {generated_at}.\n\n"));
        if !outcome.accounts_below_threshold.is_empty() {
            text.push_str(&format!("Accounts below the threshold ({}):\n", outcome.accounts_below_threshold.len()));
            text.push_str(&listed(outcome.accounts_below_threshold.clone()));
        }
        if !outcome.missing.is_empty() {
            text.push_str(&format!("\nAccount-regions missing or stale ({}):\n", outcome.missing.len()));
            text.push_str(&listed(outcome.missing.iter().map(|m| format!("{}/{} (last seen {})", m.account_id, m.region, m.last_seen)).collect()));
        }
        text.push_str(&format!("\nReport: s3://{}/{}\n", self.settings.reports_bucket, keys[1]));
        let document = json!({
            "kind": "org-rollup",
            "org_id": org,
            "generated_at": generated_at,
            "score_bp": outcome.score_bp,
            "threshold_bp": self.settings.threshold_bp,
            "accounts_below_threshold": outcome.accounts_below_threshold.iter().take(LISTED).collect::<Vec<_>>(),
            "missing": outcome.missing.len(),
            "reports": {"bucket": self.settings.reports_bucket, "json_key": keys[0], "html_key": keys[1]},
        });
        let message = json!({"default": text, "email": text, "lambda": document.to_string()}).to_string();
        let subject = format!("Compliance org {org}: {score} %");
        let attribute = |kind: &str, value: &str| MessageAttributeValue::builder().data_type(kind).string_value(value).build();
        self.clients
            .sns
            .publish()
            .topic_arn(&self.settings.alert_topic_arn)
            .subject(subject)
            .message(message)
            .message_structure("json")
            .message_attributes("score", attribute("Number", &score)?)
            .send()
            .await
            .context("publishing the org alert to SNS")?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hours_and_keys() {
        let end = parse_utc_millis("2026-12-01T05:10:00Z").unwrap();
        assert_eq!(hours_between(end - 2 * HOUR_MS, end), vec!["2026-12-01T03", "2026-12-01T04", "2026-12-01T05"]);
        assert_eq!(report_keys("o-a1b2c3d4e5", "2026-12-01T05:10:00.000Z")[0], "reports/org/o-a1b2c3d4e5/2026/12/01/20261201T051000000Z/rollup.json");
    }

    #[test]
    fn summary_items_round_trip_and_old_items_are_named() {
        let parts = vec![compliance_runtime::rollup::Part { account_id: "111122223333".into(), region: "global".into(), weight_compliant: 3, weight_decided: 7, resources: 2, non_compliant: 1 }];
        let s = |v: &str| AttributeValue::S(v.to_owned());
        let mut item = Item::from([
            ("ResourceId".to_owned(), s("SUMMARY#111122223333#us-east-1")),
            ("Timestamp".to_owned(), s("2026-12-01T04:00:00.000Z")),
            ("ReportJsonKey".to_owned(), s("reports/x/report.json")),
            ("ReportSha256".to_owned(), s("ab")),
            ("ComponentSha256".to_owned(), s("cd")),
            ("InputSha256".to_owned(), s("ef")),
            ("RulePackVersion".to_owned(), s("1.1.0")),
            ("ScoreBp".to_owned(), AttributeValue::N("4285".into())),
            ("Parts".to_owned(), s(&history::parts_json(&parts))),
        ]);
        let summary = summary_from_item(&item).unwrap();
        assert_eq!((summary.parts, summary.score_bp, summary.name.as_str()), (parts, 4285, "reports/x/report.json"));
        item.remove("Parts");
        assert!(summary_from_item(&item).unwrap_err().contains("Parts"));
        let seen = vec![Expected { account_id: "1".into(), region: "r".into(), last_seen: "t".into() }];
        assert_eq!(expected_from_text(&expected_json(&seen), "Seen").unwrap(), seen);
    }
}
