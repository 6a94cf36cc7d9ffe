//! The Lambda behind the three Config custom rules: parses the invoking event, fetches the item
//! for oversized notifications (and every in-scope item for scheduled ones), evaluates through
//! the component, and reports one evaluation per resource with `PutEvaluations`.

use std::sync::Arc;

use anyhow::{Context, bail};
use compliance_runtime::{Finding, InputSource, Runtime, ScanRequest, Status, now_utc};
use serde_json::{Value, json};

use crate::config_api::{Compliance, ConfigApi, Evaluation};
use crate::settings::EvaluatorSettings;

/// `PutEvaluations` takes at most this many evaluations per call.
pub const MAX_BATCH: usize = 100;
/// Config's limit on an annotation.
pub const MAX_ANNOTATION_CHARS: usize = 256;
/// Result token Config uses for test runs (`PutEvaluations` with `TestMode`).
pub const TEST_TOKEN: &str = "TESTMODE";

/// Configuration item statuses that mean the resource is gone or not recorded.
const GONE: [&str; 3] = ["ResourceDeleted", "ResourceDeletedNotRecorded", "ResourceNotRecorded"];

/// The resource types each of the stack's rules covers (`compliance-{family}-rule-{env}`), for
/// scheduled notifications, which name no resource.
pub fn scope_of_rule(rule_name: &str) -> Option<&'static [&'static str]> {
    const EC2: &[&str] = &["AWS::EC2::Instance", "AWS::EC2::Volume", "AWS::EC2::SecurityGroup"];
    const S3: &[&str] = &["AWS::S3::Bucket"];
    const IAM: &[&str] = &["AWS::IAM::Policy", "AWS::IAM::Role", "AWS::IAM::User", "AWS::IAM::Group"];
    [("-ec2-rule", EC2), ("-s3-rule", S3), ("-iam-rule", IAM)].into_iter().find(|(marker, _)| rule_name.contains(marker)).map(|(_, types)| types)
}

/// The evaluator: the component, the Config API and the settings, made once per cold start.
pub struct Evaluator<C> {
    runtime: Arc<Runtime>,
    config: C,
    settings: EvaluatorSettings,
}

/// A resource to report on and the time its evaluation is ordered by.
#[derive(Debug, Clone)]
struct Target {
    resource_type: String,
    resource_id: String,
    ordering: String,
}

impl<C: ConfigApi> Evaluator<C> {
    /// A new evaluator.
    pub fn new(runtime: Arc<Runtime>, config: C, settings: EvaluatorSettings) -> Self {
        Self { runtime, config, settings }
    }

    /// The Config API in use (tests read the recording from it).
    pub fn config(&self) -> &C {
        &self.config
    }

    /// Handles one rule invocation.
    pub async fn handle(&self, event: Value) -> anyhow::Result<Value> {
        let token = event.get("resultToken").and_then(Value::as_str).context("the event has no resultToken: not an AWS Config rule invocation")?.to_owned();
        let invoking_text = event.get("invokingEvent").and_then(Value::as_str).context("the event has no invokingEvent string")?;
        let invoking: Value = serde_json::from_str(invoking_text).context("invokingEvent is not valid JSON")?;
        let left_scope = event.get("eventLeftScope").and_then(Value::as_bool).unwrap_or(false);
        let message_type = invoking.get("messageType").and_then(Value::as_str).unwrap_or("");
        let notified_at = invoking.get("notificationCreationTime").and_then(Value::as_str).filter(|t| compliance_runtime::is_timestamp(t)).map_or_else(now_utc, str::to_owned);

        let evaluations = match message_type {
            "ConfigurationItemChangeNotification" | "OversizedConfigurationItemChangeNotification" => {
                let oversized = message_type.starts_with("Oversized");
                let item = invoking.get(if oversized { "configurationItemSummary" } else { "configurationItem" }).filter(|v| v.is_object());
                let item = item.with_context(|| format!("{message_type} without its configuration item"))?;
                let target = target_of(item, &notified_at).with_context(|| format!("{message_type}: the item names no resourceType and resourceId"))?;
                let status = item.get("configurationItemStatus").and_then(Value::as_str).unwrap_or("OK");
                if left_scope || GONE.contains(&status) {
                    vec![not_applicable(&target, if left_scope { "The resource left the rule's scope." } else { "The resource was deleted." })]
                } else if !oversized {
                    // The engine reads the whole rule event itself (it is one of its input shapes).
                    self.evaluate(event.to_string().into_bytes(), vec![target]).await?
                } else {
                    match self.config.current_item(&target.resource_type, &target.resource_id).await? {
                        Some(document) => {
                            let ordering = document.pointer("/configurationItems/0/configurationItemCaptureTime").and_then(Value::as_str).unwrap_or(&target.ordering).to_owned();
                            self.evaluate(document.to_string().into_bytes(), vec![Target { ordering, ..target }]).await?
                        }
                        None => vec![not_applicable(&target, "Config no longer records the resource.")],
                    }
                }
            }
            "ScheduledNotification" => {
                let rule = event.get("configRuleName").and_then(Value::as_str).unwrap_or("");
                let scope = scope_of_rule(rule).with_context(|| format!("scheduled notification for rule {rule:?}: not one of the stack's rules (compliance-ec2|s3|iam-rule-…), so its resource types are unknown"))?;
                let mut items = Vec::new();
                let mut targets = Vec::new();
                for resource_type in scope {
                    for id in self.config.list_resources(resource_type).await? {
                        if let Some(document) = self.config.current_item(resource_type, &id).await?
                            && let Some(item) = document.pointer("/configurationItems/0").cloned()
                        {
                            let ordering = item.get("configurationItemCaptureTime").and_then(Value::as_str).filter(|t| compliance_runtime::is_timestamp(t)).unwrap_or(&notified_at).to_owned();
                            targets.push(Target { resource_type: (*resource_type).to_owned(), resource_id: id, ordering });
                            items.push(item);
                        }
                    }
                }
                if targets.is_empty() {
                    Vec::new()
                } else {
                    self.evaluate(json!({ "configurationItems": items }).to_string().into_bytes(), targets).await?
                }
            }
            other => bail!("unsupported invokingEvent messageType {other:?}"),
        };

        let test_mode = token == TEST_TOKEN;
        for batch in evaluations.chunks(MAX_BATCH) {
            let failed = self.config.put_evaluations(&token, batch, test_mode).await?;
            if !failed.is_empty() {
                bail!("Config refused {} of {} evaluations (first: {} {})", failed.len(), batch.len(), failed[0].resource_type, failed[0].resource_id);
            }
        }
        let count = |c: Compliance| evaluations.iter().filter(|e| e.compliance == c).count();
        let outcome = json!({
            "message_type": message_type,
            "evaluations": evaluations.len(),
            "non_compliant": count(Compliance::NonCompliant),
            "compliant": count(Compliance::Compliant),
            "not_applicable": count(Compliance::NotApplicable),
            "test_mode": test_mode,
        });
        tracing::info!(outcome = %outcome, "evaluations reported");
        Ok(outcome)
    }

    /// Scores `document` and decides each target from its findings.
    async fn evaluate(&self, document: Vec<u8>, targets: Vec<Target>) -> anyhow::Result<Vec<Evaluation>> {
        let runtime = Arc::clone(&self.runtime);
        let request = ScanRequest { threshold_bp: 7000, criticality_tag: self.settings.criticality_tag.clone(), required_tags: Vec::new(), generated_at: now_utc(), waivers: None };
        let findings = tokio::task::spawn_blocking(move || -> anyhow::Result<Vec<Finding>> {
            let mut scan = runtime.scan(&request, vec![InputSource::bytes("invokingEvent", document)], &mut |_| {})?;
            Ok(scan.findings(&[Status::Compliant, Status::NonCompliant, Status::NotApplicable, Status::InsufficientData])?)
        })
        .await
        .context("the scoring task stopped")??;
        Ok(targets.iter().map(|t| decide(t, &findings)).collect())
    }
}

fn target_of(item: &Value, fallback_time: &str) -> Option<Target> {
    let field = |k: &str| item.get(k).and_then(Value::as_str).filter(|v| !v.is_empty());
    let ordering = field("configurationItemCaptureTime").filter(|t| compliance_runtime::is_timestamp(t)).unwrap_or(fallback_time);
    Some(Target { resource_type: field("resourceType")?.to_owned(), resource_id: field("resourceId")?.to_owned(), ordering: ordering.to_owned() })
}

fn not_applicable(target: &Target, why: &str) -> Evaluation {
    Evaluation {
        resource_type: target.resource_type.clone(),
        resource_id: target.resource_id.clone(),
        compliance: Compliance::NotApplicable,
        annotation: Some(why.to_owned()),
        ordering_timestamp: target.ordering.clone(),
    }
}

/// NON_COMPLIANT if any rule failed (annotation: the failing rule ids), else COMPLIANT if any
/// passed, else INSUFFICIENT_DATA if any could not decide, else NOT_APPLICABLE.
fn decide(target: &Target, findings: &[Finding]) -> Evaluation {
    let mine: Vec<&Finding> = findings.iter().filter(|f| f.resource_type == target.resource_type && f.resource_id == target.resource_id).collect();
    let has = |s: Status| mine.iter().any(|f| f.status == s);
    let mut failed: Vec<&str> = mine.iter().filter(|f| f.status == Status::NonCompliant).map(|f| f.rule_id.as_str()).collect();
    failed.dedup();
    let (compliance, annotation) = if !failed.is_empty() {
        (Compliance::NonCompliant, Some(annotation(&failed)))
    } else if has(Status::Compliant) {
        (Compliance::Compliant, None)
    } else if has(Status::InsufficientData) {
        (Compliance::InsufficientData, Some("The configuration item lacks data the rules need.".to_owned()))
    } else {
        (Compliance::NotApplicable, Some("No rule of the pack applies to this resource.".to_owned()))
    };
    Evaluation { resource_type: target.resource_type.clone(), resource_id: target.resource_id.clone(), compliance, annotation, ordering_timestamp: target.ordering.clone() }
}

/// `Failed: a, b, c` within [`MAX_ANNOTATION_CHARS`]; rule ids that do not fit are counted.
pub fn annotation(failed: &[&str]) -> String {
    let mut listed = failed.len();
    loop {
        let mut text = format!("Failed: {}", failed.get(..listed).unwrap_or_default().join(", "));
        if listed < failed.len() {
            text.push_str(&format!(" (+{} more)", failed.len() - listed));
        }
        if text.chars().count() <= MAX_ANNOTATION_CHARS || listed == 0 {
            return text.chars().take(MAX_ANNOTATION_CHARS).collect();
        }
        listed -= 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn annotations_fit_and_count_what_they_leave_out() {
        assert_eq!(annotation(&["a", "b"]), "Failed: a, b");
        let ids: Vec<String> = (0..40).map(|i| format!("s3-bucket-rule-number-{i:02}")).collect();
        let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
        let text = annotation(&refs);
        assert!(text.chars().count() <= MAX_ANNOTATION_CHARS, "{text}");
        assert!(text.starts_with("Failed: s3-bucket-rule-number-00,") && text.ends_with(" more)"), "{text}");
        let listed = text.matches("s3-bucket-rule-number-").count();
        assert!(text.ends_with(&format!("(+{} more)", 40 - listed)), "{text}");
    }

    #[test]
    fn rules_of_the_stack_have_a_scope() {
        assert_eq!(scope_of_rule("compliance-s3-rule-dev"), Some(&["AWS::S3::Bucket"][..]));
        assert_eq!(scope_of_rule("compliance-iam-rule-prod").map(<[_]>::len), Some(4));
        assert_eq!(scope_of_rule("someone-elses-rule"), None);
    }
}
