//! The AWS Config calls the hosts make, behind a small trait: the moto emulator implements none
//! of them usefully (`DeliverConfigSnapshot` answers 500, `PutEvaluations` only in test mode,
//! its configuration items carry timestamps the SDK rejects), so handlers are tested with
//! [`Recording`] fed real invoking events and items, and the SDK adapter is kept thin.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Mutex;

use anyhow::Context;
use aws_sdk_config::Client;
use aws_sdk_config::primitives::{DateTime, DateTimeFormat};
use aws_sdk_config::types::{ComplianceType, ConfigurationItem, ResourceType};
use serde_json::{Map, Value, json};

/// Config's answer for one resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Compliance {
    /// Every applicable rule passed.
    Compliant,
    /// At least one rule failed.
    NonCompliant,
    /// No rule applies (or the resource was deleted or left the rule's scope).
    NotApplicable,
    /// The rules could not decide.
    InsufficientData,
}

impl Compliance {
    /// Config's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Compliant => "COMPLIANT",
            Self::NonCompliant => "NON_COMPLIANT",
            Self::NotApplicable => "NOT_APPLICABLE",
            Self::InsufficientData => "INSUFFICIENT_DATA",
        }
    }
}

/// One evaluation for `PutEvaluations`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Evaluation {
    /// `AWS::S3::Bucket`, …
    pub resource_type: String,
    /// The resource id.
    pub resource_id: String,
    /// The verdict.
    pub compliance: Compliance,
    /// At most 256 characters: the failing rule ids.
    pub annotation: Option<String>,
    /// ISO-8601 time of the configuration item (or notification) evaluated.
    pub ordering_timestamp: String,
}

/// The Config operations the Lambda hosts use.
pub trait ConfigApi: Send + Sync + 'static {
    /// Asks Config to deliver a snapshot through `channel`.
    fn deliver_snapshot(&self, channel: &str) -> impl Future<Output = anyhow::Result<()>> + Send;
    /// The newest configuration item of a resource in the API shape
    /// (`{"configurationItems": [item]}`), or `None` when Config does not know the resource.
    fn current_item(&self, resource_type: &str, resource_id: &str) -> impl Future<Output = anyhow::Result<Option<Value>>> + Send;
    /// Ids of the recorded resources of a type.
    fn list_resources(&self, resource_type: &str) -> impl Future<Output = anyhow::Result<Vec<String>>> + Send;
    /// Reports at most 100 evaluations; returns those Config refused. `test_mode` is Config's
    /// `TestMode` (used with the result token `TESTMODE`): checked but not recorded.
    fn put_evaluations(&self, result_token: &str, evaluations: &[Evaluation], test_mode: bool) -> impl Future<Output = anyhow::Result<Vec<Evaluation>>> + Send;
}

/// The real thing, through the AWS SDK.
#[derive(Debug, Clone)]
pub struct SdkConfig {
    client: Client,
}

impl SdkConfig {
    /// Wraps a Config client.
    pub fn new(client: Client) -> Self {
        Self { client }
    }
}

fn iso(time: Option<&DateTime>) -> Value {
    time.and_then(|t| t.fmt(DateTimeFormat::DateTime).ok()).map_or(Value::Null, Value::String)
}

fn text(value: Option<&str>) -> Value {
    value.map_or(Value::Null, Value::from)
}

/// An SDK configuration item as the API-shaped JSON the engine reads (`aws configservice
/// get-resource-config-history` prints the same fields).
pub fn item_json(item: &ConfigurationItem) -> Value {
    let relationships: Vec<Value> = item
        .relationships()
        .iter()
        .map(|r| {
            json!({
                "resourceType": r.resource_type().map(|t| t.as_str()),
                "resourceId": r.resource_id(),
                "resourceName": r.resource_name(),
                "relationshipName": r.relationship_name(),
            })
        })
        .collect();
    let mut out = Map::new();
    out.insert("version".into(), text(item.version()));
    out.insert("accountId".into(), text(item.account_id()));
    out.insert("configurationItemCaptureTime".into(), iso(item.configuration_item_capture_time()));
    out.insert("configurationItemStatus".into(), text(item.configuration_item_status().map(|s| s.as_str())));
    out.insert("configurationStateId".into(), text(item.configuration_state_id()));
    out.insert("arn".into(), text(item.arn()));
    out.insert("resourceType".into(), text(item.resource_type().map(|t| t.as_str())));
    out.insert("resourceId".into(), text(item.resource_id()));
    out.insert("resourceName".into(), text(item.resource_name()));
    out.insert("awsRegion".into(), text(item.aws_region()));
    out.insert("availabilityZone".into(), text(item.availability_zone()));
    out.insert("resourceCreationTime".into(), iso(item.resource_creation_time()));
    out.insert("tags".into(), json!(item.tags().cloned().unwrap_or_default()));
    out.insert("relationships".into(), Value::Array(relationships));
    out.insert("configuration".into(), text(item.configuration()));
    out.insert("supplementaryConfiguration".into(), json!(item.supplementary_configuration().cloned().unwrap_or_default()));
    json!({ "configurationItems": [Value::Object(out)] })
}

impl ConfigApi for SdkConfig {
    async fn deliver_snapshot(&self, channel: &str) -> anyhow::Result<()> {
        // Best effort, so one attempt: retrying with backoff would only delay the scan, and a
        // missed request means the next snapshot comes on Config's own delivery schedule.
        let out = self
            .client
            .deliver_config_snapshot()
            .delivery_channel_name(channel)
            .customize()
            .config_override(aws_sdk_config::config::Config::builder().retry_config(aws_sdk_config::config::retry::RetryConfig::disabled()))
            .send()
            .await?;
        tracing::info!(channel, config_snapshot_id = out.config_snapshot_id(), "asked Config for the next snapshot");
        Ok(())
    }

    async fn current_item(&self, resource_type: &str, resource_id: &str) -> anyhow::Result<Option<Value>> {
        let result = self.client.get_resource_config_history().resource_type(ResourceType::from(resource_type)).resource_id(resource_id).limit(1).send().await;
        match result {
            Ok(out) => Ok(out.configuration_items().first().map(item_json)),
            Err(error) if error.as_service_error().is_some_and(|e| e.is_resource_not_discovered_exception()) => Ok(None),
            Err(error) => Err(error).with_context(|| format!("GetResourceConfigHistory for {resource_type} {resource_id}")),
        }
    }

    async fn list_resources(&self, resource_type: &str) -> anyhow::Result<Vec<String>> {
        let mut ids = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let out = self
                .client
                .list_discovered_resources()
                .resource_type(ResourceType::from(resource_type))
                .set_next_token(token.take())
                .send()
                .await
                .with_context(|| format!("ListDiscoveredResources for {resource_type}"))?;
            ids.extend(out.resource_identifiers().iter().filter(|r| r.resource_deletion_time().is_none()).filter_map(|r| r.resource_id().map(str::to_owned)));
            match out.next_token() {
                Some(next) if !next.is_empty() => token = Some(next.to_owned()),
                _ => return Ok(ids),
            }
        }
    }

    async fn put_evaluations(&self, result_token: &str, evaluations: &[Evaluation], test_mode: bool) -> anyhow::Result<Vec<Evaluation>> {
        let mut request = self.client.put_evaluations().result_token(result_token).test_mode(test_mode);
        for e in evaluations {
            let ordering = DateTime::from_str(&e.ordering_timestamp, DateTimeFormat::DateTime)
                .with_context(|| format!("ordering timestamp {:?} of {}", e.ordering_timestamp, e.resource_id))?;
            request = request.evaluations(
                aws_sdk_config::types::Evaluation::builder()
                    .compliance_resource_type(&e.resource_type)
                    .compliance_resource_id(&e.resource_id)
                    .compliance_type(ComplianceType::from(e.compliance.as_str()))
                    .set_annotation(e.annotation.clone())
                    .ordering_timestamp(ordering)
                    .build()?,
            );
        }
        let out = request.send().await.context("PutEvaluations")?;
        Ok(out
            .failed_evaluations()
            .iter()
            .filter_map(|f| evaluations.iter().find(|e| Some(e.resource_id.as_str()) == Some(f.compliance_resource_id()) && e.resource_type == f.compliance_resource_type()).cloned())
            .collect())
    }
}

/// A call [`Recording`] saw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Call {
    /// `DeliverConfigSnapshot`.
    Deliver(String),
    /// `GetResourceConfigHistory`.
    CurrentItem(String, String),
    /// `ListDiscoveredResources`.
    List(String),
    /// `PutEvaluations`.
    Put {
        /// The result token.
        token: String,
        /// The batch.
        evaluations: Vec<Evaluation>,
        /// `TestMode`.
        test_mode: bool,
    },
}

/// A Config fake for tests: serves items given to it (real recorded items), records every
/// call, and fails the calls it is told to fail.
#[derive(Debug, Default)]
pub struct Recording {
    items: Mutex<HashMap<(String, String), Value>>,
    calls: Mutex<Vec<Call>>,
    failing: Mutex<Vec<&'static str>>,
}

impl Recording {
    /// Serves `item` (a single configuration item object) for its type and id.
    pub fn add_item(&self, item: Value) {
        let key = |k: &str| item.get(k).and_then(Value::as_str).unwrap_or_default().to_owned();
        let id = (key("resourceType"), key("resourceId"));
        self.items.lock().unwrap_or_else(|p| p.into_inner()).insert(id, item);
    }

    /// Makes an operation (`deliver`, `current_item`, `list`, `put`) fail from now on.
    pub fn fail(&self, operation: &'static str) {
        self.failing.lock().unwrap_or_else(|p| p.into_inner()).push(operation);
    }

    /// Every call so far.
    pub fn calls(&self) -> Vec<Call> {
        self.calls.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Every evaluation put so far.
    pub fn evaluations(&self) -> Vec<Evaluation> {
        self.calls().into_iter().filter_map(|c| if let Call::Put { evaluations, .. } = c { Some(evaluations) } else { None }).flatten().collect()
    }

    fn record(&self, call: Call, operation: &'static str) -> anyhow::Result<()> {
        self.calls.lock().unwrap_or_else(|p| p.into_inner()).push(call);
        if self.failing.lock().unwrap_or_else(|p| p.into_inner()).contains(&operation) {
            anyhow::bail!("{operation}: injected failure (HTTP 500)");
        }
        Ok(())
    }
}

impl ConfigApi for Recording {
    async fn deliver_snapshot(&self, channel: &str) -> anyhow::Result<()> {
        self.record(Call::Deliver(channel.to_owned()), "deliver")
    }

    async fn current_item(&self, resource_type: &str, resource_id: &str) -> anyhow::Result<Option<Value>> {
        self.record(Call::CurrentItem(resource_type.to_owned(), resource_id.to_owned()), "current_item")?;
        let items = self.items.lock().unwrap_or_else(|p| p.into_inner());
        Ok(items.get(&(resource_type.to_owned(), resource_id.to_owned())).map(|item| json!({ "configurationItems": [item] })))
    }

    async fn list_resources(&self, resource_type: &str) -> anyhow::Result<Vec<String>> {
        self.record(Call::List(resource_type.to_owned()), "list")?;
        let items = self.items.lock().unwrap_or_else(|p| p.into_inner());
        let mut ids: Vec<String> = items.keys().filter(|(t, _)| t == resource_type).map(|(_, id)| id.clone()).collect();
        ids.sort();
        Ok(ids)
    }

    async fn put_evaluations(&self, result_token: &str, evaluations: &[Evaluation], test_mode: bool) -> anyhow::Result<Vec<Evaluation>> {
        anyhow::ensure!(evaluations.len() <= 100, "PutEvaluations takes at most 100 evaluations, got {}", evaluations.len());
        anyhow::ensure!(evaluations.iter().all(|e| e.annotation.as_ref().is_none_or(|a| a.chars().count() <= 256)), "annotation longer than 256 characters");
        self.record(Call::Put { token: result_token.to_owned(), evaluations: evaluations.to_vec(), test_mode }, "put")?;
        Ok(Vec::new())
    }
}
