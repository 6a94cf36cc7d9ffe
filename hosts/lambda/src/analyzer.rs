//! The hourly analyzer: scores the newest Config snapshot in the delivery bucket and writes
//! history, reports, the alert and metrics.
//!
//! Order matters for what a failure leaves behind: per-resource history, then the reports, then
//! the summary item — so a scan whose summary exists is complete — then the alert and metrics.
//! Everything is keyed by the scan time taken from the triggering event, so a retried event
//! overwrites its own items and reports instead of adding a second scan.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_sns::types::MessageAttributeValue;
use bytes::Bytes;
use compliance_runtime::{
    ExportFormat, FailedBefore, Finding, InputSource, ReportFormat, ReportSummary, ResourceResult, Runtime, ScanRequest, Status, TrendPoint, WaiverInput, format_utc_millis, now_millis, now_utc,
    parse_utc_millis,
};
use compliance_runtime::report_head::{read_head, rollup_summary};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::alert::{self, AlertInput, ReportLocation, WaiverNotes};
use crate::config_api::ConfigApi;
use crate::emf::{self, Unit};
use crate::history::{self, Item, ScanInfo, percent};
use crate::report_upload::{self, PartWriter, Pending, Target, UploadError};
use crate::s3_event::{self, SnapshotObject, Work};
use crate::settings::AnalyzerSettings;
use crate::security_hub::{self, SdkSecurityHub};
use crate::state::{self, State};

const DAY_MS: i64 = 86_400_000;

/// Members of the JSON report's head the analyzer keeps: the roll-up's, and the waivers'.
const HEAD_MEMBERS: &[&str] = &["schema", "engine", "generated_at", "input", "score_bp", "by_account_region", "score_with_waivers_bp", "waivers"];

/// Largest waiver file read (the engine refuses larger ones too).
const MAX_WAIVER_BYTES: i64 = 4 << 20;

/// The AWS clients the analyzer uses.
#[derive(Debug, Clone)]
pub struct Clients {
    /// S3 (snapshots in, reports out).
    pub s3: aws_sdk_s3::Client,
    /// DynamoDB (history).
    pub dynamodb: aws_sdk_dynamodb::Client,
    /// SNS (alerts).
    pub sns: aws_sdk_sns::Client,
    /// STS (the account, when the event does not name it).
    pub sts: aws_sdk_sts::Client,
    /// The configuration they were made from: Security Hub clients are made per account.
    pub aws: aws_config::SdkConfig,
}

impl Clients {
    /// Clients from one SDK configuration.
    pub fn new(config: &aws_config::SdkConfig) -> Self {
        Self {
            s3: crate::s3_client(config),
            dynamodb: aws_sdk_dynamodb::Client::new(config),
            sns: aws_sdk_sns::Client::new(config),
            sts: aws_sdk_sts::Client::new(config),
            aws: config.clone(),
        }
    }
}

/// The analyzer, made once per cold start.
pub struct Analyzer<C> {
    runtime: Arc<Runtime>,
    clients: Clients,
    config: C,
    settings: AnalyzerSettings,
    region: String,
}

/// What a batch of messages came to.
#[derive(Debug, Default)]
pub struct BatchOutcome {
    /// The outcome of every snapshot scored (or found superseded).
    pub scans: Vec<Value>,
    /// Messages with nothing to score.
    pub ignored: Vec<String>,
    /// Messages that can never succeed, with why: logged, not retried.
    pub rejected: Vec<(String, String)>,
    /// Messages that failed, with why: SQS redelivers them.
    pub failures: Vec<(String, String)>,
}

/// Where a scan's time goes (milliseconds per phase, in the outcome and the log).
struct Phases {
    at: Instant,
    done: serde_json::Map<String, Value>,
}

impl Phases {
    fn start() -> Self {
        Self { at: Instant::now(), done: serde_json::Map::new() }
    }

    fn mark(&mut self, phase: &str) {
        let now = Instant::now();
        self.done.insert(phase.to_owned(), Value::from(now.duration_since(self.at).as_millis() as u64));
        self.at = now;
    }

    fn done(self) -> Value {
        Value::Object(self.done)
    }
}

/// Who delivered a snapshot: the scheduled scan reads this account's own prefix; in
/// organization mode a member account's Config wrote it, and its items must be that account's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Delivery {
    Own,
    Member,
}

/// Accounts other than `account` that a report's account-region sums name.
fn foreign_accounts(head: &Value, account: &str) -> Vec<String> {
    let mut foreign: Vec<String> = head
        .get("by_account_region")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|p| p.get("account_id").and_then(Value::as_str))
        .filter(|a| *a != account)
        .map(str::to_owned)
        .collect();
    foreign.dedup();
    foreign
}

/// The snapshot object a scan read.
#[derive(Debug, Clone)]
struct Snapshot {
    key: String,
    version_id: Option<String>,
}

/// What the component produced for one scan.
struct Scored {
    summary: ReportSummary,
    component_sha256: String,
    input_sha256: String,
    resources: Vec<ResourceResult>,
    failing: Vec<Finding>,
    /// Waived findings: (finding id, waiver id).
    waived: Vec<(String, String)>,
    /// The ASFF export, when the scan is imported into Security Hub.
    asff: Option<Vec<u8>>,
    /// The HTML report (a shared buffer: it is stored under two keys without being copied).
    html: Bytes,
    /// sha256 of the JSON report's bytes, and its head (every member but the lists): what an
    /// org roll-up needs of it.
    report_sha256: String,
    report_head: Value,
}

/// Passes the JSON report on while hashing it and keeping its head: the members the engine
/// writes before the resource and finding lists, a few kilobytes for one account-region.
struct HeadAndDigest<W> {
    inner: W,
    sha256: Sha256,
    head: Vec<u8>,
}

/// More head than this is not a report of one account-region.
const MAX_HEAD_BYTES: usize = 16 << 20;

impl<W: std::io::Write> std::io::Write for HeadAndDigest<W> {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(bytes)?;
        let written = bytes.get(..n).unwrap_or_default();
        self.sha256.update(written);
        let room = MAX_HEAD_BYTES.saturating_sub(self.head.len());
        self.head.extend_from_slice(written.get(..room.min(n)).unwrap_or_default());
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// Whether `text` is an AWS account id (12 digits).
pub fn is_account(text: &str) -> bool {
    text.len() == 12 && text.bytes().all(|b| b.is_ascii_digit())
}

/// Whether `text` can be a region name (and so a safe key segment).
pub fn is_region(text: &str) -> bool {
    (1..=32).contains(&text.len()) && text.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// The scan id: the scan time without separators (`20261128T170000000Z`).
pub fn scan_id(generated_at: &str) -> String {
    generated_at.chars().filter(char::is_ascii_alphanumeric).collect()
}

/// Report keys of a scan: dated, plus the `latest` copies. Built only from the validated
/// account, region and scan time, never from anything in the snapshot.
pub fn report_keys(account: &str, region: &str, generated_at: &str) -> [(String, &'static str); 4] {
    let date = |r: std::ops::Range<usize>| generated_at.get(r).unwrap_or("0");
    let dated = format!("reports/{account}/{region}/{}/{}/{}/{}", date(0..4), date(5..7), date(8..10), scan_id(generated_at));
    let latest = format!("reports/{account}/{region}/latest");
    [
        (format!("{dated}/report.json"), "application/json"),
        (format!("{dated}/report.html"), "text/html; charset=utf-8"),
        (format!("{latest}/report.json"), "application/json"),
        (format!("{latest}/report.html"), "text/html; charset=utf-8"),
    ]
}

impl<C: ConfigApi> Analyzer<C> {
    /// A new analyzer; `region` is the function's own (used when the event names none).
    pub fn new(runtime: Arc<Runtime>, clients: Clients, config: C, settings: AnalyzerSettings, region: String) -> Self {
        Self { runtime, clients, config, settings, region }
    }

    /// The Config API in use (tests read the recording from it).
    pub fn config(&self) -> &C {
        &self.config
    }

    /// Handles one invocation: an SQS batch of S3 object events (organization mode), or a
    /// scheduled event (single-account mode: `account`, `region` and `time` are used when
    /// present). A batch answers with the messages that failed (`batchItemFailures`).
    pub async fn handle(&self, event: Value) -> anyhow::Result<Value> {
        if let Some(messages) = s3_event::sqs_messages(&event) {
            let outcome = self.handle_messages(messages).await;
            let failures: Vec<Value> = outcome.failures.iter().map(|(id, _)| json!({"itemIdentifier": id})).collect();
            return Ok(json!({"batchItemFailures": failures}));
        }
        self.handle_scheduled(event).await
    }

    /// Scores the snapshot each message names, one after the other. A message whose scan fails
    /// (a snapshot that does not parse, a write that does not go through) is a failure of its
    /// own, retried by SQS and then dead-lettered; the rest of the batch still counts. A message
    /// that can never succeed — unreadable, or naming an object outside the delivery bucket — is
    /// logged with the reason and not retried.
    pub async fn handle_messages(&self, messages: Vec<(String, String)>) -> BatchOutcome {
        let mut outcome = BatchOutcome::default();
        for (id, body) in messages {
            let work = s3_event::work(&body).and_then(|work| match work {
                Work::Snapshots(snapshots) => match snapshots.iter().find(|s| s.bucket != self.settings.config_bucket) {
                    Some(other) => Err(format!("s3://{}/{} is not in the delivery bucket {}", other.bucket, other.key, self.settings.config_bucket)),
                    None => Ok(Work::Snapshots(snapshots)),
                },
                ignored => Ok(ignored),
            });
            let scanned = match work {
                Ok(Work::Ignore(reason)) => {
                    tracing::info!(message_id = id, reason, "message ignored");
                    outcome.ignored.push(id);
                    continue;
                }
                Ok(Work::Snapshots(snapshots)) => self.scan_objects(snapshots).await,
                Err(reason) => {
                    tracing::error!(message_id = id, reason, "message rejected: it can never succeed, so it is not retried");
                    outcome.rejected.push((id, reason));
                    continue;
                }
            };
            match scanned {
                Ok(results) => outcome.scans.extend(results),
                Err(error) => {
                    let error = format!("{error:#}");
                    tracing::error!(message_id = id, error, "message failed; SQS redelivers it, then moves it to the dead-letter queue");
                    outcome.failures.push((id, error));
                }
            }
        }
        outcome
    }

    async fn scan_objects(&self, snapshots: Vec<SnapshotObject>) -> anyhow::Result<Vec<Value>> {
        let mut results = Vec::with_capacity(snapshots.len());
        for object in snapshots {
            let snapshot = Snapshot { key: object.key, version_id: object.version_id };
            // Boxed: the scan is a deep future, and a batch holds one at a time.
            results.push(Box::pin(self.scan(snapshot, &object.account, &object.region, &object.generated_at, Instant::now(), Delivery::Member)).await?);
        }
        Ok(results)
    }

    async fn handle_scheduled(&self, event: Value) -> anyhow::Result<Value> {
        let started = Instant::now();
        let field = |k: &str| event.get(k).and_then(Value::as_str).map(str::to_owned);
        let account = match field("account").filter(|a| is_account(a)) {
            Some(account) => account,
            None => {
                let identity = self.clients.sts.get_caller_identity().send().await.context("finding the account (STS GetCallerIdentity)")?;
                identity.account().filter(|a| is_account(a)).context("STS returned no account id")?.to_owned()
            }
        };
        let region = field("region").filter(|r| is_region(r)).unwrap_or_else(|| self.region.clone());
        if !is_region(&region) {
            bail!("no valid region: the event names none and AWS_REGION is {region:?}");
        }
        let generated_at = field("time").and_then(|t| parse_utc_millis(&t)).map_or_else(now_utc, format_utc_millis);

        // Best effort: the next run gets a fresh snapshot; this run never fails over it.
        if let Err(error) = self.config.deliver_snapshot(&self.settings.delivery_channel).await {
            tracing::warn!(channel = self.settings.delivery_channel, error = format!("{error:#}"), "could not ask Config to deliver a snapshot; continuing");
        }

        let Some(snapshot) = self.newest_snapshot(&account, &region).await? else {
            tracing::info!(bucket = self.settings.config_bucket, account, region, "no Config snapshot delivered yet; nothing to score");
            return Ok(json!({"status": "no-snapshot", "account": account, "region": region}));
        };
        Box::pin(self.scan(snapshot, &account, &region, &generated_at, started, Delivery::Own)).await
    }

    /// Scores one snapshot of one account-region as of `generated_at`, and writes what changed
    /// in history, the reports, the summary item, the state, the alert and the metrics.
    async fn scan(&self, snapshot: Snapshot, account: &str, region: &str, generated_at: &str, started: Instant, delivery: Delivery) -> anyhow::Result<Value> {
        let bucket = &self.settings.reports_bucket;
        let state_key = state::key(account, region);
        let mut phases = Phases::start();
        let previous = state::load(&self.clients.s3, bucket, &state_key).await?;
        if let Some(previous) = previous.as_ref().filter(|p| p.generated_at.as_str() > generated_at) {
            // A late redelivery of an older snapshot: history and reports have moved on.
            tracing::info!(account, region, generated_at, newer = previous.generated_at, key = snapshot.key, "snapshot older than the last completed scan; not scored");
            return Ok(json!({"status": "superseded", "account": account, "region": region, "generated_at": generated_at, "newer": previous.generated_at}));
        }
        let summary_key = history::summary_key(account, region);
        let since = format_utc_millis(parse_utc_millis(generated_at).unwrap_or_default() - 7 * DAY_MS);
        let trend = history::trend(&self.clients.dynamodb, &self.settings.history_table, &summary_key, &since, generated_at).await?;

        let id = scan_id(generated_at);
        let keys = report_keys(account, region, generated_at);
        let target = |(key, content_type): &(String, &'static str)| Target {
            s3: self.clients.s3.clone(),
            bucket: bucket.clone(),
            key: key.clone(),
            content_type,
            scan_id: id.clone(),
        };
        let (json_target, html_target) = (target(&keys[0]), target(&keys[1]));
        phases.mark("state_and_trend");
        // The HTML report's "since the previous scan": what the last completed scan failed.
        let since = previous.as_ref().map(|p| {
            let failed = p
                .resources
                .values()
                .flat_map(|e| {
                    e.failed_rules.iter().map(|rule| FailedBefore {
                        resource_type: e.resource_type.clone(),
                        resource_id: e.resource_id.clone(),
                        account_id: e.account_id.clone(),
                        region: e.region.clone(),
                        rule_id: rule.clone(),
                    })
                })
                .collect();
            (p.generated_at.clone(), failed)
        });
        let (scored, json_report, snapshot) = self.score(snapshot, generated_at, region, trend, since, &json_target).await?;
        phases.mark("read_and_score");
        if delivery == Delivery::Member {
            let foreign = foreign_accounts(&scored.report_head, account);
            if !foreign.is_empty() {
                json_report.discard(&json_target).await;
                bail!(
                    "s3://{}/{} is delivered under account {account} but holds items of account(s) {}: not scored, as the roll-up would count them for an account that did not deliver them",
                    self.settings.config_bucket,
                    snapshot.key,
                    foreign.join(", ")
                );
            }
        }
        let scan = ScanInfo {
            timestamp: generated_at.to_owned(),
            scan_id: id,
            component_sha256: scored.component_sha256.clone(),
            input_sha256: scored.input_sha256.clone(),
        };
        let now = State::of(&scored.resources, &scan);
        let (items, changes) = state::changed_items(previous.as_ref(), &now, &scored.resources, &scan);
        let written = match history::write_all(&self.clients.dynamodb, &self.settings.history_table, items).await {
            Ok(written) => written,
            Err(error) => {
                json_report.discard(&json_target).await; // no report for a scan without history
                return Err(error);
            }
        };

        phases.mark("history");
        json_report.store(&json_target, &keys[2].0).await?;
        html_target.put(&keys[1].0, scored.html.clone()).await?;
        html_target.put(&keys[3].0, scored.html.clone()).await?;
        let location = ReportLocation { bucket: bucket.clone(), json_key: keys[0].0.clone(), html_key: keys[1].0.clone() };

        let summary_item = self.summary_item(&summary_key, &scan, &scored, &location, &snapshot, started.elapsed().as_millis() as u64)?;
        phases.mark("reports");
        history::put(&self.clients.dynamodb, &self.settings.history_table, summary_item).await?;
        // Last: only a scan whose history and summary are written advances the state.
        state::store(&self.clients.s3, bucket, &state_key, &now).await?;
        phases.mark("summary_and_state");
        let security_hub = match &scored.asff {
            Some(export) => {
                let result = self.import_to_security_hub(export, account, region, generated_at, delivery).await;
                phases.mark("security_hub");
                Some(result)
            }
            None => None,
        };

        let waivers = WaiverNotes::from_report_head(&scored.report_head, self.settings.alert_on_score_with_waivers, scored.waived.clone());
        let alert_score_bp = waivers.as_ref().filter(|w| w.alert_on_score_with_waivers).map_or(scored.summary.score_bp, |w| w.score_with_waivers_bp);
        let alerted = if alert_score_bp < scored.summary.threshold_bp {
            let built = alert::build(&AlertInput {
                summary: &scored.summary,
                scan_id: &scan.scan_id,
                generated_at,
                account,
                region,
                report: &location,
                failing: &scored.failing,
                waivers: waivers.as_ref(),
            });
            self.publish(&built).await?;
            true
        } else {
            false
        };

        let duration_ms = started.elapsed().as_millis() as u64;
        let s = &scored.summary;
        emf::emit(
            now_millis(),
            &self.settings.environment,
            &[
                ("ComplianceScore", Unit::Percent, f64::from(s.score_bp) / 100.0),
                ("ViolationsCritical", Unit::Count, s.critical.non_compliant as f64),
                ("ViolationsHigh", Unit::Count, s.high.non_compliant as f64),
                ("ViolationsMedium", Unit::Count, s.medium.non_compliant as f64),
                ("ViolationsLow", Unit::Count, s.low.non_compliant as f64),
                ("ResourcesEvaluated", Unit::Count, s.evaluated_resources as f64),
                ("HistoryItemsWritten", Unit::Count, written as f64),
                ("ComplianceScoreWithWaivers", Unit::Percent, f64::from(waivers.as_ref().map_or(s.score_bp, |w| w.score_with_waivers_bp)) / 100.0),
                ("WaiversExpiringSoon", Unit::Count, waivers.as_ref().map_or(0, |w| w.expiring_soon.len()) as f64),
                ("SecurityHubImportFailures", Unit::Count, security_hub.as_ref().map_or(0.0, |r| r.get("not_imported").and_then(Value::as_u64).unwrap_or(0) as f64)),
                ("ScanDurationMs", Unit::Milliseconds, duration_ms as f64),
            ],
        );
        let outcome = json!({
            "status": "scored",
            "scan_id": scan.scan_id,
            "generated_at": generated_at,
            "account": account,
            "region": region,
            "snapshot": {"bucket": self.settings.config_bucket, "key": snapshot.key, "version_id": snapshot.version_id},
            "score": percent(s.score_bp),
            "score_bp": s.score_bp,
            "threshold_bp": s.threshold_bp,
            "below_threshold": s.below_threshold,
            "waivers": waivers.as_ref().map(|w| json!({
                "score_with_waivers_bp": w.score_with_waivers_bp,
                "waived_findings": w.waived.len(),
                "expiring_soon": w.expiring_soon.iter().map(|(id, _, _)| id).collect::<Vec<_>>(),
                "expired": w.expired,
            })),
            "resources_evaluated": s.evaluated_resources,
            "history_items": written + 1,
            "changes": changes,
            "reports": {"bucket": location.bucket, "json_key": location.json_key, "html_key": location.html_key},
            "alert_sent": alerted,
            "security_hub": security_hub,
            "duration_ms": duration_ms,
            "phases_ms": phases.done(),
        });
        tracing::info!(outcome = %outcome, "scan complete");
        Ok(outcome)
    }

    /// Imports the scan's changes into the Security Hub of the scanned account (SPEC §12). Its
    /// trouble never fails the scan, whose reports and alert are out: it is logged, counted in
    /// the outcome and the `SecurityHubImportFailures` metric, and what did not go through is
    /// sent again by the next scan (the ledger keeps it as not sent).
    async fn import_to_security_hub(&self, export: &[u8], account: &str, region: &str, generated_at: &str, delivery: Delivery) -> Value {
        let bucket = &self.settings.reports_bucket;
        let key = security_hub::ledger_key(account, region);
        let result = async {
            let hub = match (delivery, self.settings.security_hub.as_ref().and_then(|s| s.member_role.as_deref())) {
                (Delivery::Own, _) => SdkSecurityHub::new(&self.clients.aws, region),
                (Delivery::Member, Some(role)) => SdkSecurityHub::assuming(&self.clients.aws, compliance_runtime::asff::partition(region), account, role, region).await,
                (Delivery::Member, None) => bail!("SECURITY_HUB_MEMBER_ROLE is not set: findings of member account {account} can only be imported from inside it"),
            };
            let ledger = security_hub::load_ledger(&self.clients.s3, bucket, &key).await?;
            let changes = security_hub::changes(ledger.as_ref(), export, account, generated_at)?;
            let (outcome, next) = security_hub::import(&hub, ledger, changes, generated_at, Duration::from_millis(200)).await;
            security_hub::store_ledger(&self.clients.s3, bucket, &key, &next).await?;
            anyhow::Ok(outcome)
        }
        .await;
        match result {
            Ok(outcome) => {
                let not_imported = outcome.failed.len();
                if not_imported > 0 {
                    tracing::error!(account, region, failed = ?outcome.failed, rejected = ?outcome.rejected, "Security Hub did not take every finding; the next scan sends them again");
                }
                let mut value = json!(outcome);
                value["not_imported"] = Value::from(not_imported);
                value
            }
            Err(error) => {
                let error = format!("{error:#}");
                tracing::error!(account, region, error, "the Security Hub import failed; the next scan sends its changes again");
                json!({"error": error, "not_imported": compliance_runtime::asff::count_findings(export)})
            }
        }
    }

    async fn publish(&self, built: &alert::Alert) -> anyhow::Result<()> {
        let attribute = |kind: &str, value: &str| MessageAttributeValue::builder().data_type(kind).string_value(value).build();
        self.clients
            .sns
            .publish()
            .topic_arn(&self.settings.alert_topic_arn)
            .subject(&built.subject)
            .message(&built.message)
            .message_structure("json")
            .message_attributes("severity", attribute("String", built.severity)?)
            .message_attributes("score", attribute("Number", &built.score)?)
            .send()
            .await
            .context("publishing the alert to SNS")?;
        Ok(())
    }

    /// The newest `ConfigSnapshot` object for the account and region (by time written, then key).
    async fn newest_snapshot(&self, account: &str, region: &str) -> anyhow::Result<Option<Snapshot>> {
        let prefix = format!("AWSLogs/{account}/Config/{region}/");
        let bucket = &self.settings.config_bucket;
        let mut pages = self.clients.s3.list_objects_v2().bucket(bucket).prefix(&prefix).into_paginator().send();
        let mut newest: Option<(aws_sdk_s3::primitives::DateTime, String)> = None;
        while let Some(page) = pages.next().await {
            let page = page.with_context(|| format!("listing s3://{bucket}/{prefix}"))?;
            for object in page.contents() {
                let (Some(key), Some(modified)) = (object.key(), object.last_modified()) else { continue };
                let is_snapshot = key.contains("/ConfigSnapshot/") && (key.ends_with(".json.gz") || key.ends_with(".json"));
                if is_snapshot && newest.as_ref().is_none_or(|(m, k)| (modified, key) > (m, k.as_str())) {
                    newest = Some((*modified, key.to_owned()));
                }
            }
        }
        Ok(newest.map(|(_, key)| Snapshot { key, version_id: None }))
    }

    /// Streams the snapshot (gunzip and sha256 on the runtime's reader thread) through the
    /// component and collects what the rest of the scan needs.
    /// The JSON report is uploaded to `json_target` as it is rendered, and left pending.
    async fn score(
        &self,
        snapshot: Snapshot,
        generated_at: &str,
        region: &str,
        mut trend: Vec<TrendPoint>,
        since: Option<(String, Vec<FailedBefore>)>,
        json_target: &Target,
    ) -> anyhow::Result<(Scored, Pending, Snapshot)> {
        let bucket = &self.settings.config_bucket;
        let object = self
            .clients
            .s3
            .get_object()
            .bucket(bucket)
            .key(&snapshot.key)
            .send()
            .await
            .with_context(|| format!("reading snapshot s3://{bucket}/{}", snapshot.key))?;
        let snapshot = Snapshot { version_id: object.version_id().filter(|v| *v != "null").map(str::to_owned), ..snapshot };
        let name = source_name(bucket, &snapshot.key, snapshot.version_id.as_deref());
        let source = InputSource::reader(name.clone(), crate::body::stream(object.body));
        let runtime = Arc::clone(&self.runtime);
        let request = ScanRequest {
            threshold_bp: self.settings.threshold_bp,
            criticality_tag: self.settings.criticality_tag.clone(),
            required_tags: Vec::new(),
            generated_at: generated_at.to_owned(),
            waivers: self.waiver_file().await?,
        };
        let (tx, rx) = report_upload::channel();
        // Findings on global (IAM) resources are filed in the region scanned.
        let export_region = self.settings.security_hub.as_ref().map(|_| region.to_owned());
        let scoring = tokio::task::spawn_blocking(move || -> anyhow::Result<Scored> {
            let mut scan = runtime.scan(&request, vec![source], &mut |_| {}).with_context(|| format!("scoring {name}"))?;
            let resources = scan.resources()?;
            let failing = scan.findings(&[Status::NonCompliant])?;
            let waived = scan.waived_findings()?;
            let mut out = HeadAndDigest { inner: PartWriter::new(tx), sha256: Sha256::new(), head: Vec::new() };
            scan.render_to(ReportFormat::Json, &[], &mut out, "the JSON report")?;
            out.inner.finish().context("rendering the JSON report")?;
            let report_head = read_head(&out.head[..], HEAD_MEMBERS).context("reading back the head of the JSON report")?;
            trend.push(TrendPoint { generated_at: request.generated_at.clone(), score_bp: scan.summary.score_bp });
            let html = match since {
                Some((previous_at, failed)) => scan.render_html_since(&trend, &previous_at, failed)?,
                None => scan.render(ReportFormat::Html, &trend)?,
            };
            let asff = match export_region {
                Some(region) => {
                    let mut export = Vec::new();
                    scan.export_to(ExportFormat::Asff, &region, &mut export, "the ASFF export")?;
                    Some(export)
                }
                None => None,
            };
            Ok(Scored {
                summary: scan.summary,
                component_sha256: scan.meta.component_sha256.clone(),
                input_sha256: scan.meta.input_sha256.clone(),
                resources,
                failing,
                waived,
                asff,
                html: Bytes::from(html),
                report_sha256: format!("{:x}", out.sha256.finalize()),
                report_head,
            })
        });
        let (scoring, uploaded) = tokio::join!(scoring, report_upload::upload(json_target, rx));
        let scoring = scoring.context("the scoring task stopped").and_then(|scored| scored);
        match (scoring, uploaded) {
            (Ok(scored), Ok(json)) => Ok((scored, json, snapshot)),
            (Err(error), Ok(json)) => {
                json.discard(json_target).await;
                Err(error)
            }
            // S3 failed: rendering then stopped for want of a reader, which says less.
            (_, Err(UploadError::Failed(error))) => Err(error),
            (Err(error), Err(UploadError::Abandoned)) => Err(error),
            (Ok(_), Err(UploadError::Abandoned)) => Err(anyhow::anyhow!("the JSON report ended without its end marker")),
        }
    }

    /// The configured waiver file, read afresh for every scan (it is part of the scan's input,
    /// named in the report with its version). A configured file that is missing or invalid
    /// fails the scan with a message naming it: scoring silently without the accepted risks
    /// would page people for them.
    async fn waiver_file(&self) -> anyhow::Result<Option<WaiverInput>> {
        let Some(file) = &self.settings.waivers else { return Ok(None) };
        let object = self
            .clients
            .s3
            .get_object()
            .bucket(&file.bucket)
            .key(&file.key)
            .send()
            .await
            .with_context(|| format!("reading the waiver file s3://{}/{} (WAIVERS_BUCKET, WAIVERS_KEY)", file.bucket, file.key))?;
        if object.content_length().is_some_and(|length| length > MAX_WAIVER_BYTES) {
            bail!("the waiver file s3://{}/{} is larger than {MAX_WAIVER_BYTES} bytes", file.bucket, file.key);
        }
        let name = source_name(&file.bucket, &file.key, object.version_id().filter(|v| *v != "null"));
        let bytes = object.body.collect().await.with_context(|| format!("reading {name}"))?.into_bytes().to_vec();
        Ok(Some(WaiverInput { name, bytes }))
    }

    /// The scan's summary item. It carries what the org roll-up needs of the scan (the integer
    /// sums per account-region, the report's key and sha256) and the hour bucket the roll-up's
    /// index is keyed by.
    fn summary_item(&self, key: &str, scan: &ScanInfo, scored: &Scored, report: &ReportLocation, snapshot: &Snapshot, duration_ms: u64) -> anyhow::Result<Item> {
        let s = &scored.summary;
        let rollup = rollup_summary(&report.json_key, &scored.report_sha256, &scored.report_head, &report.json_key).map_err(anyhow::Error::msg)?;
        let weight = |member: &str| scored.report_head.get(member).and_then(Value::as_u64).with_context(|| format!("the JSON report has no {member}"));
        let n = |v: u64| AttributeValue::N(v.to_string());
        let text = |v: &str| AttributeValue::S(v.to_owned());
        let mut item = Item::from([
            ("ResourceId".to_owned(), text(key)),
            ("Timestamp".to_owned(), text(&scan.timestamp)),
            ("Kind".to_owned(), text("SUMMARY")),
            ("ScanId".to_owned(), text(&scan.scan_id)),
            ("Score".to_owned(), AttributeValue::N(percent(s.score_bp))),
            ("ScoreBp".to_owned(), n(u64::from(s.score_bp))),
            ("ThresholdBp".to_owned(), n(u64::from(s.threshold_bp))),
            ("BelowThreshold".to_owned(), AttributeValue::Bool(s.below_threshold)),
            ("ItemsRead".to_owned(), n(s.items)),
            ("EvaluatedResources".to_owned(), n(s.evaluated_resources)),
            ("SkippedResources".to_owned(), n(s.skipped_resources)),
            ("NonCompliant".to_owned(), n(s.totals.non_compliant)),
            ("NonCompliantCritical".to_owned(), n(s.critical.non_compliant)),
            ("NonCompliantHigh".to_owned(), n(s.high.non_compliant)),
            ("NonCompliantMedium".to_owned(), n(s.medium.non_compliant)),
            ("NonCompliantLow".to_owned(), n(s.low.non_compliant)),
            ("Compliant".to_owned(), n(s.totals.compliant)),
            ("ReportsBucket".to_owned(), text(&report.bucket)),
            ("ReportJsonKey".to_owned(), text(&report.json_key)),
            ("ReportHtmlKey".to_owned(), text(&report.html_key)),
            ("SnapshotBucket".to_owned(), text(&self.settings.config_bucket)),
            ("SnapshotKey".to_owned(), text(&snapshot.key)),
            ("ComponentSha256".to_owned(), text(&scan.component_sha256)),
            ("InputSha256".to_owned(), text(&scan.input_sha256)),
            ("DurationMs".to_owned(), n(duration_ms)),
            ("HourBucket".to_owned(), text(&history::hour_bucket(&scan.timestamp))),
            ("WeightCompliant".to_owned(), n(weight("weight_compliant")?)),
            ("WeightDecided".to_owned(), n(weight("weight_decided")?)),
            ("ReportSha256".to_owned(), text(&rollup.report_sha256)),
            ("RulePackVersion".to_owned(), text(&rollup.rule_pack_version)),
            ("Parts".to_owned(), text(&history::parts_json(&rollup.parts))),
        ]);
        if let Some(version) = &snapshot.version_id {
            item.insert("SnapshotVersionId".to_owned(), text(version));
        }
        Ok(item)
    }
}

/// The source name of a snapshot in the report: the exact object scored.
pub fn source_name(bucket: &str, key: &str, version_id: Option<&str>) -> String {
    match version_id {
        Some(version) => format!("s3://{bucket}/{key}?versionId={version}"),
        None => format!("s3://{bucket}/{key}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_come_from_validated_parts_only() {
        let keys = report_keys("123456789012", "us-east-1", "2026-11-28T17:00:00.000Z");
        assert_eq!(keys[0].0, "reports/123456789012/us-east-1/2026/11/28/20261128T170000000Z/report.json");
        assert_eq!(keys[3].0, "reports/123456789012/us-east-1/latest/report.html");
        assert!(is_account("123456789012") && !is_account("12345678901x") && !is_account("../../etc"));
        assert!(is_region("eu-west-1") && !is_region("us-east-1/../x") && !is_region(""));
        assert_eq!(source_name("b", "k.json.gz", Some("v1")), "s3://b/k.json.gz?versionId=v1");
    }
}
