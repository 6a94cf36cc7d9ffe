//! Sets KMS default encryption on S3 buckets that lack it (SPEC §7.2).
//!
//! Triggered by the EventBridge "Config Rules Compliance Change" event and by the alert topic.
//! Never trusts the event: the bucket's encryption and tags are re-read through the S3 API.
//! Safety: dry-run mode, the opt-out tag `compliance:remediation = skip`, a cap per invocation,
//! and a bucket that already uses KMS (any key, DSSE included) is only read, never written.
//! Every attempt leaves an audit item; idempotent, so a retried event is harmless.

use anyhow::{Context, bail};
use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_s3::error::ProvideErrorMetadata;
use aws_sdk_s3::types::{ServerSideEncryption, ServerSideEncryptionByDefault, ServerSideEncryptionConfiguration, ServerSideEncryptionRule};
use compliance_runtime::{now_millis, now_utc};
use serde_json::{Value, json};

use crate::emf::{self, Unit};
use crate::history::{self, Item};
use crate::settings::{RemediationMode, RemediatorSettings, is_bucket_name};

/// The tag that opts a bucket out, and its value.
pub const OPT_OUT_TAG: (&str, &str) = ("compliance:remediation", "skip");

/// What happened to one bucket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// KMS default encryption set and verified.
    Remediated,
    /// Would have been remediated (dry-run mode).
    DryRun,
    /// Already uses KMS: untouched.
    AlreadyKms,
    /// Carries the opt-out tag: untouched.
    OptedOut,
    /// The bucket does not exist (any more).
    NotFound,
    /// An S3 call failed or the change did not verify.
    Failed,
}

impl Outcome {
    /// The audit record's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Remediated => "REMEDIATED",
            Self::DryRun => "DRY_RUN",
            Self::AlreadyKms => "ALREADY_KMS",
            Self::OptedOut => "OPTED_OUT",
            Self::NotFound => "NOT_FOUND",
            Self::Failed => "FAILED",
        }
    }
}

/// One bucket's attempt.
#[derive(Debug, Clone)]
pub struct Attempt {
    /// Bucket name.
    pub bucket: String,
    /// Result.
    pub outcome: Outcome,
    /// Default encryption before (`none`, `AES256`, `aws:kms key=…`).
    pub before: String,
    /// Default encryption after (or planned, in dry-run).
    pub after: String,
    /// What went wrong, for `Failed`.
    pub error: Option<String>,
}

/// The buckets an event asks about, and what triggered it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// Bucket names, without repeats, in event order.
    pub buckets: Vec<String>,
    /// Names that are not valid bucket names (ignored, reported).
    pub rejected: Vec<String>,
    /// `eventbridge:<id>` or `sns:<message id>`.
    pub trigger: String,
}

fn bucket_of(arn_or_name: &str) -> &str {
    arn_or_name.strip_prefix("arn:aws:s3:::").or_else(|| arn_or_name.strip_prefix("arn:aws-us-gov:s3:::")).unwrap_or(arn_or_name)
}

/// Reads the buckets out of a compliance-change event or an SNS alert delivery.
pub fn parse_event(event: &Value) -> anyhow::Result<Request> {
    let mut names: Vec<String> = Vec::new();
    let trigger;
    if event.get("detail-type").and_then(Value::as_str) == Some("Config Rules Compliance Change") {
        let detail = event.get("detail").context("compliance-change event without detail")?;
        let resource_type = detail.get("resourceType").and_then(Value::as_str).unwrap_or("");
        let verdict = detail.pointer("/newEvaluationResult/complianceType").and_then(Value::as_str).unwrap_or("");
        if resource_type == "AWS::S3::Bucket" && verdict == "NON_COMPLIANT" {
            names.extend(detail.get("resourceId").and_then(Value::as_str).map(str::to_owned));
        }
        trigger = format!("eventbridge:{}", event.get("id").and_then(Value::as_str).unwrap_or("?"));
    } else if let Some(records) = event.get("Records").and_then(Value::as_array) {
        let mut ids = Vec::new();
        for record in records {
            let sns = record.get("Sns").context("an event record without Sns: only SNS deliveries are accepted")?;
            let message = sns.get("Message").and_then(Value::as_str).context("an SNS record without Message")?;
            ids.push(sns.get("MessageId").and_then(Value::as_str).unwrap_or("?").to_owned());
            let arns = crate::alert::buckets_in_lambda_message(message).context("the SNS message is not a compliance alert")?;
            names.extend(arns);
        }
        trigger = format!("sns:{}", ids.join(","));
    } else {
        bail!("unrecognised event: expected an EventBridge \"Config Rules Compliance Change\" event or an SNS delivery");
    }
    let mut request = Request { buckets: Vec::new(), rejected: Vec::new(), trigger };
    for name in names {
        let bucket = bucket_of(&name);
        if !is_bucket_name(bucket) {
            request.rejected.push(name.chars().take(100).collect());
        } else if !request.buckets.iter().any(|b| b == bucket) {
            request.buckets.push(bucket.to_owned());
        }
    }
    Ok(request)
}

/// The remediator, made once per cold start.
pub struct Remediator {
    s3: aws_sdk_s3::Client,
    dynamodb: aws_sdk_dynamodb::Client,
    settings: RemediatorSettings,
}

/// A bucket's default encryption as read back from S3.
enum Encryption {
    None,
    Rules(Vec<(String, Option<String>)>),
    Missing,
}

impl Encryption {
    fn uses_kms(&self) -> bool {
        matches!(self, Self::Rules(rules) if rules.iter().any(|(algorithm, _)| algorithm.starts_with("aws:kms")))
    }

    fn describe(&self) -> String {
        match self {
            Self::None => "none".to_owned(),
            Self::Missing => "bucket not found".to_owned(),
            Self::Rules(rules) => rules
                .iter()
                .map(|(algorithm, key)| match key {
                    Some(key) => format!("{algorithm} key={key}"),
                    None => algorithm.clone(),
                })
                .collect::<Vec<_>>()
                .join("; "),
        }
    }
}

impl Remediator {
    /// A new remediator.
    pub fn new(config: &aws_config::SdkConfig, settings: RemediatorSettings) -> Self {
        Self { s3: crate::s3_client(config), dynamodb: aws_sdk_dynamodb::Client::new(config), settings }
    }

    /// Handles one event: every bucket up to the cap is re-checked and, if needed, fixed; each
    /// attempt is audited. Fails (so the event is retried) when an attempt failed or an audit
    /// item could not be written.
    pub async fn handle(&self, event: Value) -> anyhow::Result<Value> {
        let request = parse_event(&event)?;
        for rejected in &request.rejected {
            tracing::warn!(name = rejected, "not a valid bucket name; ignored");
        }
        let cap = self.settings.max_per_invocation;
        let (now, deferred) = request.buckets.split_at(request.buckets.len().min(cap));
        if !deferred.is_empty() {
            tracing::warn!(cap, deferred = deferred.len(), "more buckets than MAX_REMEDIATIONS_PER_INVOCATION; the rest wait for the next alert");
        }
        let mut attempts = Vec::new();
        for bucket in now {
            let attempt = self.remediate(bucket).await;
            tracing::info!(bucket, outcome = attempt.outcome.as_str(), before = attempt.before, after = attempt.after, error = attempt.error, "remediation attempt");
            history::put(&self.dynamodb, &self.settings.history_table, self.audit_item(&attempt, &request.trigger)).await.with_context(|| format!("auditing the attempt on bucket {bucket}"))?;
            attempts.push(attempt);
        }
        let count = |o: Outcome| attempts.iter().filter(|a| a.outcome == o).count();
        emf::emit(
            now_millis(),
            &self.settings.environment,
            &[("RemediationSuccess", Unit::Count, count(Outcome::Remediated) as f64), ("RemediationFailure", Unit::Count, count(Outcome::Failed) as f64)],
        );
        let outcome = json!({
            "trigger": request.trigger,
            "mode": self.settings.mode.as_str(),
            "attempts": attempts.iter().map(|a| json!({"bucket": a.bucket, "outcome": a.outcome.as_str(), "before": a.before, "after": a.after, "error": a.error})).collect::<Vec<_>>(),
            "deferred": deferred,
            "rejected": request.rejected,
        });
        if count(Outcome::Failed) > 0 {
            bail!("{} of {} remediations failed: {outcome}", count(Outcome::Failed), attempts.len());
        }
        Ok(outcome)
    }

    async fn remediate(&self, bucket: &str) -> Attempt {
        let attempt = |outcome, before: &Encryption, after: String, error: Option<String>| Attempt { bucket: bucket.to_owned(), outcome, before: before.describe(), after, error };
        let before = match self.encryption(bucket).await {
            Ok(e) => e,
            Err(error) => return attempt(Outcome::Failed, &Encryption::None, "unchanged".to_owned(), Some(error)),
        };
        match &before {
            Encryption::Missing => return attempt(Outcome::NotFound, &before, "unchanged".to_owned(), None),
            e if e.uses_kms() => return attempt(Outcome::AlreadyKms, &before, before.describe(), None),
            _ => {}
        }
        match self.opted_out(bucket).await {
            Ok(true) => return attempt(Outcome::OptedOut, &before, before.describe(), None),
            Ok(false) => {}
            Err(error) => return attempt(Outcome::Failed, &before, "unchanged".to_owned(), Some(error)),
        }
        let key = self.settings.kms_key_id.clone();
        let planned = format!("aws:kms key={} bucket-key=on", key.as_deref().unwrap_or("aws/s3 (AWS managed)"));
        if self.settings.mode == RemediationMode::DryRun {
            return attempt(Outcome::DryRun, &before, planned, None);
        }
        let rule = ServerSideEncryptionRule::builder()
            .apply_server_side_encryption_by_default(
                match ServerSideEncryptionByDefault::builder().sse_algorithm(ServerSideEncryption::AwsKms).set_kms_master_key_id(key.clone()).build() {
                    Ok(default) => default,
                    Err(error) => return attempt(Outcome::Failed, &before, "unchanged".to_owned(), Some(error.to_string())),
                },
            )
            .bucket_key_enabled(true)
            .build();
        let configuration = match ServerSideEncryptionConfiguration::builder().rules(rule).build() {
            Ok(c) => c,
            Err(error) => return attempt(Outcome::Failed, &before, "unchanged".to_owned(), Some(error.to_string())),
        };
        if let Err(error) = self.s3.put_bucket_encryption().bucket(bucket).server_side_encryption_configuration(configuration).send().await {
            return attempt(Outcome::Failed, &before, "unchanged".to_owned(), Some(format!("PutBucketEncryption: {}", describe_error(&error))));
        }
        match self.encryption(bucket).await {
            Ok(after) if after.uses_kms() && key.as_ref().is_none_or(|k| matches!(&after, Encryption::Rules(r) if r.iter().any(|(_, id)| id.as_deref().is_some_and(|id| id == k || id.ends_with(&format!("/{k}")))))) => {
                attempt(Outcome::Remediated, &before, after.describe(), None)
            }
            Ok(after) => attempt(Outcome::Failed, &before, after.describe(), Some("verification: the bucket does not report the KMS configuration just set".to_owned())),
            Err(error) => attempt(Outcome::Failed, &before, "unknown".to_owned(), Some(format!("verification: {error}"))),
        }
    }

    async fn encryption(&self, bucket: &str) -> Result<Encryption, String> {
        match self.s3.get_bucket_encryption().bucket(bucket).send().await {
            Ok(out) => {
                let rules = out.server_side_encryption_configuration().map(|c| c.rules()).unwrap_or_default();
                let rules: Vec<(String, Option<String>)> = rules
                    .iter()
                    .filter_map(|r| r.apply_server_side_encryption_by_default())
                    .map(|d| (d.sse_algorithm().as_str().to_owned(), d.kms_master_key_id().map(str::to_owned)))
                    .collect();
                Ok(if rules.is_empty() { Encryption::None } else { Encryption::Rules(rules) })
            }
            Err(error) => match error.code() {
                Some("ServerSideEncryptionConfigurationNotFoundError") => Ok(Encryption::None),
                Some("NoSuchBucket") => Ok(Encryption::Missing),
                _ => Err(format!("GetBucketEncryption: {}", describe_error(&error))),
            },
        }
    }

    async fn opted_out(&self, bucket: &str) -> Result<bool, String> {
        match self.s3.get_bucket_tagging().bucket(bucket).send().await {
            Ok(out) => Ok(out.tag_set().iter().any(|t| t.key() == OPT_OUT_TAG.0 && t.value().trim().eq_ignore_ascii_case(OPT_OUT_TAG.1))),
            Err(error) if error.code() == Some("NoSuchTagSet") => Ok(false),
            Err(error) => Err(format!("GetBucketTagging: {}", describe_error(&error))),
        }
    }

    fn audit_item(&self, attempt: &Attempt, trigger: &str) -> Item {
        let s = |v: &str| AttributeValue::S(v.to_owned());
        let mut item = Item::from([
            ("ResourceId".to_owned(), s(&format!("arn:aws:s3:::{}", attempt.bucket))),
            ("Timestamp".to_owned(), s(&now_utc())),
            ("Kind".to_owned(), s("REMEDIATION")),
            ("Outcome".to_owned(), s(attempt.outcome.as_str())),
            ("Mode".to_owned(), s(self.settings.mode.as_str())),
            ("Before".to_owned(), s(&attempt.before)),
            ("After".to_owned(), s(&attempt.after)),
            ("Trigger".to_owned(), s(&trigger.chars().take(1024).collect::<String>())),
        ]);
        if let Some(error) = &attempt.error {
            item.insert("Error".to_owned(), s(&error.chars().take(2048).collect::<String>()));
        }
        item
    }
}

fn describe_error<E: ProvideErrorMetadata + std::error::Error + 'static, R: std::fmt::Debug>(error: &aws_sdk_s3::error::SdkError<E, R>) -> String {
    match (error.code(), error.message()) {
        (Some(code), Some(message)) => format!("{code}: {message}"),
        (Some(code), None) => code.to_owned(),
        _ => format!("{}", aws_sdk_s3::error::DisplayErrorContext(error)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_name_buckets_and_bad_names_are_rejected() {
        let change = json!({"id": "e1", "detail-type": "Config Rules Compliance Change",
            "detail": {"resourceType": "AWS::S3::Bucket", "resourceId": "my-bucket", "newEvaluationResult": {"complianceType": "NON_COMPLIANT"}}});
        assert_eq!(parse_event(&change).unwrap(), Request { buckets: vec!["my-bucket".into()], rejected: vec![], trigger: "eventbridge:e1".into() });
        let compliant = json!({"detail-type": "Config Rules Compliance Change",
            "detail": {"resourceType": "AWS::S3::Bucket", "resourceId": "b", "newEvaluationResult": {"complianceType": "COMPLIANT"}}});
        assert!(parse_event(&compliant).unwrap().buckets.is_empty());
        let message = json!({"kind": "compliance-alert", "remediable_buckets": ["arn:aws:s3:::a-bucket", "arn:aws:s3:::a-bucket", "arn:aws:s3:::../evil"]}).to_string();
        let sns = json!({"Records": [{"Sns": {"MessageId": "m1", "Message": message}}]});
        let request = parse_event(&sns).unwrap();
        assert_eq!((request.buckets, request.rejected.len(), request.trigger.as_str()), (vec!["a-bucket".to_owned()], 1, "sns:m1"));
        assert!(parse_event(&json!({"hello": 1})).unwrap_err().to_string().contains("unrecognised event"));
    }
}
