//! The analyzer's import into AWS Security Hub (SPEC §12; stack config, off by default).
//!
//! What it sends is the component's ASFF export of the scan, changed only by flipping
//! `RecordState`: the import sends only findings that are new or whose `Compliance.Status`
//! changed since the last import of the same account-region, and archives (`RecordState`
//! ARCHIVED) the findings of that last import that the scan no longer produces — a resource
//! that disappeared, or a verdict that became NOT_APPLICABLE. The last import is the *ledger*,
//! kept per account-region in the reports bucket: the only findings this product ever archives
//! are ones it imported itself for that same account, region and rule pack, so another scan's or
//! another product's findings are never touched (the prowler#1626/#5004 failure mode).
//!
//! AWS's limits are enforced before sending ([`compliance_runtime::asff`]); throttling is retried
//! with backoff; `FailedFindings` are retried, then reported. A finding that did not go through
//! keeps its old ledger entry (or none), so the next scan sends it again: nothing is dropped.
//!
//! Security Hub accepts a finding under the default product only from the account it names
//! (`AwsAccountId`): in organization mode the import assumes a role in each member account
//! (`infra/member-role.yaml`).

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use anyhow::Context;
use compliance_runtime::asff::{self, Rejected};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use serde_json::value::RawValue;

const LEDGER_SCHEMA: &str = "compliance-securityhub-ledger/v1";
/// Attempts of one call when Security Hub throttles (10 TPS per account and region, burst 30).
const THROTTLE_ATTEMPTS: u32 = 6;
/// Rounds of re-sending the findings a call reported as failed.
const FAILED_ROUNDS: u32 = 3;

/// Where an account-region's ledger is kept in the reports bucket.
pub fn ledger_key(account: &str, region: &str) -> String {
    format!("security-hub/{account}/{region}/ledger.json.gz")
}

/// The findings last imported for an account-region, by `Id`, as they were sent.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Ledger {
    schema: String,
    /// The scan that last changed it.
    pub generated_at: String,
    /// Active findings by `Id`.
    pub findings: BTreeMap<String, Box<RawValue>>,
}

/// One finding of an export: its id, account, status and text.
#[derive(Debug)]
struct Exported {
    id: String,
    account: String,
    status: String,
    text: Box<RawValue>,
}

/// The members of a finding the import compares, read without building the whole value.
#[derive(Deserialize)]
struct Head {
    #[serde(rename = "Id")]
    id: String,
    #[serde(rename = "AwsAccountId", default)]
    account: String,
    #[serde(rename = "Compliance")]
    compliance: Option<Status>,
}

#[derive(Deserialize)]
struct Status {
    #[serde(rename = "Status")]
    status: String,
}

fn exported(finding: Box<RawValue>) -> anyhow::Result<Exported> {
    let head: Head = serde_json::from_str(finding.get()).context("an ASFF finding without an Id")?;
    Ok(Exported { id: head.id, account: head.account, status: head.compliance.map(|c| c.status).unwrap_or_default(), text: finding })
}

fn status_of(finding: &RawValue) -> String {
    serde_json::from_str::<Head>(finding.get()).ok().and_then(|h| h.compliance).map(|c| c.status).unwrap_or_default()
}

/// What an import sends.
#[derive(Debug, Default)]
pub struct Changes {
    /// New findings and findings whose compliance status changed, in export order.
    pub import: Vec<(String, Box<RawValue>)>,
    /// Findings of the ledger the scan no longer produces, as ARCHIVED, in id order.
    pub archive: Vec<(String, Box<RawValue>)>,
    /// Findings as they were: not sent.
    pub unchanged: usize,
    /// Findings of another account than the one imported into, with why: never sent (Security
    /// Hub takes a finding only from its own account), reported at every scan.
    pub refused: Vec<(String, String)>,
    /// The export's findings by id (the next ledger, once sent).
    current: BTreeMap<String, Box<RawValue>>,
}

/// Compares the export with the ledger of `account`. `updated_at` (the scan's time) stamps
/// archived findings.
pub fn changes(ledger: Option<&Ledger>, export: &[u8], account: &str, updated_at: &str) -> anyhow::Result<Changes> {
    let findings = asff::parse_export(export).map_err(anyhow::Error::msg).context("the component's ASFF export")?;
    let mut changes = Changes::default();
    for finding in findings {
        let finding = exported(finding)?;
        if finding.account != account {
            let reason = format!("finding {} is of account {}, not {account}: Security Hub takes a finding only from its own account", finding.id, finding.account);
            changes.refused.push((finding.id, reason));
            continue;
        }
        let before = ledger.and_then(|l| l.findings.get(&finding.id));
        if before.is_some_and(|b| status_of(b) == finding.status) {
            changes.unchanged += 1;
        } else {
            changes.import.push((finding.id.clone(), finding.text.clone()));
        }
        anyhow::ensure!(changes.current.insert(finding.id.clone(), finding.text).is_none(), "the export has two findings with the Id {}", finding.id);
    }
    for (id, before) in ledger.map(|l| &l.findings).into_iter().flatten() {
        if !changes.current.contains_key(id) {
            let mut value: Value = serde_json::from_str(before.get()).with_context(|| format!("the ledger's finding {id}"))?;
            value["RecordState"] = Value::from("ARCHIVED");
            value["UpdatedAt"] = Value::from(updated_at);
            changes.archive.push((id.clone(), RawValue::from_string(value.to_string())?));
        }
    }
    Ok(changes)
}

/// A finding Security Hub did not take.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Failed {
    /// Its `Id`.
    pub id: String,
    /// Security Hub's error code (or ours, for a call that failed as a whole).
    pub code: String,
    /// Its message.
    pub message: String,
}

/// Why a whole call failed.
#[derive(Debug)]
pub enum CallError {
    /// Throttled: worth retrying after a pause.
    Throttled(String),
    /// Anything else (access denied, invalid input, unreachable after the SDK's retries).
    Other(String),
}

/// `BatchImportFindings` in one account and region: the edge tests replace.
pub trait SecurityHubApi {
    /// Sends one call's findings; returns those Security Hub reported as failed.
    fn batch_import(&self, call: &asff::Call) -> impl std::future::Future<Output = Result<Vec<Failed>, CallError>> + Send;
}

/// What an import did.
#[derive(Debug, Default, Serialize)]
pub struct Outcome {
    /// Findings sent as new or changed and accepted.
    pub imported: usize,
    /// Findings not sent: as the ledger has them.
    pub unchanged: usize,
    /// Findings archived.
    pub archived: usize,
    /// Calls made (retries included).
    pub calls: usize,
    /// Calls answered with throttling.
    pub throttled: usize,
    /// Findings Security Hub refused after every retry: sent again by the next scan.
    pub failed: Vec<Failed>,
    /// Findings that break AWS's limits: never sent, reported at every scan.
    pub rejected: Vec<String>,
}

/// Sends the changes and returns the outcome and the next ledger: the export, except that a
/// finding that did not go through keeps its ledger entry (or has none), so the next scan
/// sends it again.
pub async fn import<H: SecurityHubApi>(hub: &H, ledger: Option<Ledger>, changes: Changes, generated_at: &str, pause: Duration) -> (Outcome, Ledger) {
    let mut outcome = Outcome { unchanged: changes.unchanged, ..Outcome::default() };
    let mut not_through: BTreeMap<String, Failed> = BTreeMap::new();
    for (id, reason) in changes.refused {
        outcome.rejected.push(reason.clone());
        not_through.insert(id.clone(), Failed { id, code: "OtherAccount".to_owned(), message: reason });
    }
    let archive_ids: BTreeSet<String> = changes.archive.iter().map(|(id, _)| id.clone()).collect();
    let mut pending: Vec<(String, Box<RawValue>)> = changes.import.into_iter().chain(changes.archive).collect();
    for round in 0..=FAILED_ROUNDS {
        if pending.is_empty() {
            break;
        }
        if round > 0 {
            tokio::time::sleep(pause * 2u32.pow(round)).await;
        }
        let plan = asff::plan(pending.iter().map(|(_, f)| f.clone()));
        if round == 0 {
            outcome.rejected.extend(plan.rejected.iter().map(Rejected::to_string));
            for r in &plan.rejected {
                if let Some((id, _)) = pending.get(r.index) {
                    not_through.insert(id.clone(), Failed { id: id.clone(), code: "LimitExceeded".to_owned(), message: r.reason.clone() });
                }
            }
        }
        let rejected: BTreeSet<usize> = plan.rejected.iter().map(|r| r.index).collect();
        let by_id: BTreeMap<String, Box<RawValue>> = pending.iter().enumerate().filter(|(i, _)| !rejected.contains(i)).map(|(_, (id, f))| (id.clone(), f.clone())).collect();
        let mut again = Vec::new();
        for call in &plan.calls {
            let failed = send(hub, call, pause, &mut outcome).await;
            for f in failed {
                if let Some(finding) = by_id.get(&f.id) {
                    again.push((f.id.clone(), finding.clone()));
                }
                not_through.insert(f.id.clone(), f);
            }
        }
        for id in by_id.keys() {
            if !again.iter().any(|(a, _)| a == id) {
                not_through.remove(id);
                if archive_ids.contains(id) {
                    outcome.archived += 1;
                } else {
                    outcome.imported += 1;
                }
            }
        }
        pending = again;
    }
    outcome.failed = not_through.values().cloned().collect();
    let mut next = Ledger { schema: LEDGER_SCHEMA.to_owned(), generated_at: generated_at.to_owned(), findings: changes.current };
    let before = ledger.map(|l| l.findings).unwrap_or_default();
    for id in not_through.keys() {
        match before.get(id) {
            Some(previous) => next.findings.insert(id.clone(), previous.clone()),
            None => next.findings.remove(id),
        };
    }
    (outcome, next)
}

/// One call, retried while throttled; a call that fails as a whole fails all its findings.
async fn send<H: SecurityHubApi>(hub: &H, call: &asff::Call, pause: Duration, outcome: &mut Outcome) -> Vec<Failed> {
    let ids = || call.findings.iter().map(|f| exported(f.clone()).map(|e| e.id).unwrap_or_default());
    for attempt in 0..THROTTLE_ATTEMPTS {
        outcome.calls += 1;
        match hub.batch_import(call).await {
            Ok(failed) => return failed,
            Err(CallError::Throttled(message)) => {
                outcome.throttled += 1;
                if attempt + 1 == THROTTLE_ATTEMPTS {
                    return ids().map(|id| Failed { id, code: "Throttled".to_owned(), message: message.clone() }).collect();
                }
                tokio::time::sleep(pause * 2u32.pow(attempt)).await;
            }
            Err(CallError::Other(message)) => return ids().map(|id| Failed { id, code: "CallFailed".to_owned(), message: message.clone() }).collect(),
        }
    }
    Vec::new()
}

/// Reads an account-region's ledger (none before the first import).
pub async fn load_ledger(s3: &aws_sdk_s3::Client, bucket: &str, key: &str) -> anyhow::Result<Option<Ledger>> {
    let Some(ledger) = crate::state::get_gzip_json::<Ledger>(s3, bucket, key, "Security Hub ledger").await? else { return Ok(None) };
    anyhow::ensure!(ledger.schema == LEDGER_SCHEMA, "s3://{bucket}/{key} has schema {:?}, not {LEDGER_SCHEMA}", ledger.schema);
    Ok(Some(ledger))
}

/// Writes an account-region's ledger.
pub async fn store_ledger(s3: &aws_sdk_s3::Client, bucket: &str, key: &str, ledger: &Ledger) -> anyhow::Result<()> {
    crate::state::put_gzip_json(s3, bucket, key, "Security Hub ledger", ledger).await
}

/// Security Hub through the AWS SDK.
#[derive(Debug, Clone)]
pub struct SdkSecurityHub {
    client: aws_sdk_securityhub::Client,
}

impl SdkSecurityHub {
    /// Security Hub in `region` with the SDK configuration's own credentials. A finding is
    /// imported in the region of its product ARN, the scanned region, whichever region the
    /// analyzer runs in.
    pub fn new(config: &aws_config::SdkConfig, region: &str) -> Self {
        let config = aws_sdk_securityhub::config::Builder::from(config).region(aws_config::Region::new(region.to_owned())).build();
        Self { client: aws_sdk_securityhub::Client::from_conf(config) }
    }

    /// The SDK client.
    pub fn client(&self) -> &aws_sdk_securityhub::Client {
        &self.client
    }

    /// Security Hub of a member account in `region`, through `role_name` in that account.
    pub async fn assuming(config: &aws_config::SdkConfig, partition: &str, account: &str, role_name: &str, region: &str) -> Self {
        let role = format!("arn:{partition}:iam::{account}:role/{role_name}");
        let provider = aws_config::sts::AssumeRoleProvider::builder(role).session_name("compliance-securityhub-import").configure(config).build().await;
        let config = config.to_builder().credentials_provider(aws_sdk_securityhub::config::SharedCredentialsProvider::new(provider)).build();
        Self::new(&config, region)
    }
}

impl SecurityHubApi for SdkSecurityHub {
    async fn batch_import(&self, call: &asff::Call) -> Result<Vec<Failed>, CallError> {
        let mut findings = Vec::with_capacity(call.findings.len());
        for f in &call.findings {
            findings.push(to_sdk(f.get()).map_err(|e| CallError::Other(format!("{e:#}")))?);
        }
        match self.client.batch_import_findings().set_findings(Some(findings)).send().await {
            Ok(output) => Ok(output
                .failed_findings()
                .iter()
                .map(|f| Failed {
                    id: f.id().unwrap_or_default().to_owned(),
                    code: f.error_code().unwrap_or_default().to_owned(),
                    message: f.error_message().unwrap_or_default().to_owned(),
                })
                .collect()),
            Err(error) => {
                let code = error.as_service_error().and_then(aws_sdk_securityhub::error::ProvideErrorMetadata::code).unwrap_or_default().to_owned();
                let message = format!("BatchImportFindings: {}", aws_sdk_securityhub::error::DisplayErrorContext(&error));
                let throttled = matches!(code.as_str(), "TooManyRequestsException" | "ThrottlingException" | "LimitExceededException")
                    || error.raw_response().is_some_and(|r| r.status().as_u16() == 429);
                Err(if throttled { CallError::Throttled(message) } else { CallError::Other(message) })
            }
        }
    }
}

/// The SDK's typed finding from our ASFF JSON. Every member the component writes is carried
/// over; an unknown member is an error (it would otherwise be dropped without a word).
fn to_sdk(text: &str) -> anyhow::Result<aws_sdk_securityhub::types::AwsSecurityFinding> {
    use aws_sdk_securityhub::types::{
        AwsSecurityFinding, Compliance, ComplianceStatus, FindingProviderFields, FindingProviderSeverity, Recommendation, RecordState, Remediation, Resource, Severity,
        SeverityLabel,
    };
    let value: Value = serde_json::from_str(text)?;
    let object = value.as_object().context("an ASFF finding is not an object")?;
    let s = |v: &Value, key: &str| v.get(key).and_then(Value::as_str).map(str::to_owned);
    let strings = |v: Option<&Value>| v.and_then(Value::as_array).map(|a| a.iter().filter_map(|x| x.as_str().map(str::to_owned)).collect::<Vec<_>>());
    let mut b = AwsSecurityFinding::builder();
    for (key, v) in object {
        b = match key.as_str() {
            "SchemaVersion" => b.set_schema_version(s(&value, key)),
            "Id" => b.set_id(s(&value, key)),
            "ProductArn" => b.set_product_arn(s(&value, key)),
            "ProductName" => b.set_product_name(s(&value, key)),
            "GeneratorId" => b.set_generator_id(s(&value, key)),
            "AwsAccountId" => b.set_aws_account_id(s(&value, key)),
            "Region" => b.set_region(s(&value, key)),
            "Types" => b.set_types(strings(Some(v))),
            "CreatedAt" => b.set_created_at(s(&value, key)),
            "UpdatedAt" => b.set_updated_at(s(&value, key)),
            "Title" => b.set_title(s(&value, key)),
            "Description" => b.set_description(s(&value, key)),
            "RecordState" => b.record_state(RecordState::from(v.as_str().unwrap_or_default())),
            "Severity" => b.severity(Severity::builder().label(SeverityLabel::from(s(v, "Label").unwrap_or_default().as_str())).set_original(s(v, "Original")).build()),
            "Remediation" => b.remediation(Remediation::builder().recommendation(Recommendation::builder().set_text(v.get("Recommendation").and_then(|r| s(r, "Text"))).build()).build()),
            "ProductFields" => b.set_product_fields(v.as_object().map(|m| m.iter().filter_map(|(k, v)| v.as_str().map(|v| (k.clone(), v.to_owned()))).collect())),
            "Resources" => b.set_resources(v.as_array().map(|rs| {
                rs.iter().map(|r| Resource::builder().set_type(s(r, "Type")).set_id(s(r, "Id")).set_partition(s(r, "Partition").map(|p| p.as_str().into())).set_region(s(r, "Region")).build()).collect()
            })),
            "Compliance" => b.compliance(Compliance::builder().set_status(s(v, "Status").map(|c| ComplianceStatus::from(c.as_str()))).set_related_requirements(strings(v.get("RelatedRequirements"))).build()),
            "FindingProviderFields" => b.finding_provider_fields(
                FindingProviderFields::builder()
                    .set_severity(v.get("Severity").map(|sv| FindingProviderSeverity::builder().set_label(s(sv, "Label").map(|l| SeverityLabel::from(l.as_str()))).set_original(s(sv, "Original")).build()))
                    .set_types(strings(v.get("Types")))
                    .build(),
            ),
            other => anyhow::bail!("the ASFF member `{other}` is not carried to Security Hub by this host: update security_hub::to_sdk"),
        };
    }
    Ok(b.build())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    fn finding(n: usize, status: &str) -> String {
        serde_json::json!({
            "SchemaVersion": "2018-10-08",
            "Id": format!("compliance-scanner/ec2-volume-encrypted/{n:032x}"),
            "ProductArn": "arn:aws:securityhub:eu-west-1:111122223333:product/111122223333/default",
            "GeneratorId": "ec2-volume-encrypted",
            "AwsAccountId": "111122223333",
            "Types": ["Software and Configuration Checks/Industry and Regulatory Standards"],
            "CreatedAt": "2026-12-01T09:00:00.000Z",
            "UpdatedAt": "2026-12-01T09:00:00.000Z",
            "Severity": {"Label": "MEDIUM"},
            "Title": "EBS volume encrypted",
            "Description": "d",
            "Resources": [{"Type": "AwsEc2Volume", "Id": format!("vol-{n}")}],
            "Compliance": {"Status": status},
            "RecordState": "ACTIVE",
        })
        .to_string()
    }

    fn export(findings: &[(usize, &str)]) -> Vec<u8> {
        format!("[\n{}\n]\n", findings.iter().map(|(n, s)| finding(*n, s)).collect::<Vec<_>>().join(",\n")).into_bytes()
    }

    /// Records calls; answers from a script of results (then success).
    #[derive(Default)]
    struct Recorder {
        calls: Mutex<Vec<Vec<Value>>>,
        script: Mutex<Vec<Result<Vec<String>, bool>>>,
    }

    impl SecurityHubApi for Recorder {
        async fn batch_import(&self, call: &asff::Call) -> Result<Vec<Failed>, CallError> {
            let findings: Vec<Value> = call.findings.iter().map(|f| serde_json::from_str(f.get()).expect("json")).collect();
            self.calls.lock().expect("lock").push(findings.clone());
            let next = {
                let mut script = self.script.lock().expect("lock");
                if script.is_empty() { Ok(Vec::new()) } else { script.remove(0) }
            };
            match next {
                Ok(failed_suffixes) => Ok(findings
                    .iter()
                    .filter_map(|f| f["Id"].as_str())
                    .filter(|id| failed_suffixes.iter().any(|s| id.ends_with(s.as_str())))
                    .map(|id| Failed { id: id.to_owned(), code: "InvalidInput".to_owned(), message: "injected".to_owned() })
                    .collect()),
                Err(true) => Err(CallError::Throttled("slow down".to_owned())),
                Err(false) => Err(CallError::Other("denied".to_owned())),
            }
        }
    }

    async fn run(hub: &Recorder, ledger: Option<Ledger>, export: &[u8]) -> (Outcome, Ledger) {
        let changes = changes(ledger.as_ref(), export, "111122223333", "2026-12-01T10:00:00.000Z").expect("changes");
        import(hub, ledger, changes, "2026-12-01T10:00:00.000Z", Duration::ZERO).await
    }

    #[tokio::test]
    async fn only_changes_are_sent_and_gone_findings_archived() {
        let hub = Recorder::default();
        let (first, ledger) = run(&hub, None, &export(&[(1, "FAILED"), (2, "PASSED"), (3, "FAILED")])).await;
        assert_eq!((first.imported, first.unchanged, first.archived), (3, 0, 0));
        let (same, ledger) = run(&hub, Some(ledger), &export(&[(1, "FAILED"), (2, "PASSED"), (3, "FAILED")])).await;
        assert_eq!((same.imported, same.unchanged, same.archived, same.calls), (0, 3, 0, 0), "an unchanged re-scan sends nothing");
        let (next, ledger) = run(&hub, Some(ledger), &export(&[(1, "PASSED"), (2, "PASSED")])).await;
        assert_eq!((next.imported, next.unchanged, next.archived), (1, 1, 1));
        let calls = hub.calls.lock().expect("lock").clone();
        let last = calls.last().expect("a call");
        assert_eq!(last.len(), 2);
        assert_eq!(last[0]["Compliance"]["Status"], "PASSED", "the resolved finding is re-imported as PASSED");
        assert_eq!(last[1]["RecordState"], "ARCHIVED");
        assert_eq!(last[1]["UpdatedAt"], "2026-12-01T10:00:00.000Z");
        assert!(last[1]["Id"].as_str().is_some_and(|id| id.ends_with(&format!("{:032x}", 3))));
        assert_eq!(ledger.findings.len(), 2, "archived findings leave the ledger");
    }

    #[tokio::test]
    async fn throttling_is_retried_and_failed_findings_are_resent_then_reported() {
        let hub = Recorder::default();
        let id = format!("{:032x}", 2);
        hub.script.lock().expect("lock").extend([Err(true), Err(true), Ok(vec![id.clone()])]);
        let (outcome, ledger) = run(&hub, None, &export(&[(1, "FAILED"), (2, "FAILED")])).await;
        assert_eq!(outcome.throttled, 2);
        assert_eq!(outcome.imported, 2, "the failed finding went through when re-sent");
        assert!(outcome.failed.is_empty());
        assert_eq!(ledger.findings.len(), 2);

        let stubborn = Recorder::default();
        stubborn.script.lock().expect("lock").extend((0..=FAILED_ROUNDS).map(|_| Ok(vec![id.clone()])));
        let (outcome, ledger) = run(&stubborn, None, &export(&[(1, "FAILED"), (2, "FAILED")])).await;
        assert_eq!(outcome.imported, 1);
        assert_eq!(outcome.failed.len(), 1, "reported, not ignored");
        assert!(outcome.failed[0].id.ends_with(&id));
        assert_eq!(stubborn.calls.lock().expect("lock").len(), 1 + FAILED_ROUNDS as usize, "re-sent each round");
        assert_eq!(ledger.findings.len(), 1, "the failed finding stays out of the ledger, so the next scan sends it again");
        let (again, _) = run(&stubborn, Some(ledger), &export(&[(1, "FAILED"), (2, "FAILED")])).await;
        assert_eq!((again.imported, again.unchanged), (1, 1));
    }

    #[tokio::test]
    async fn findings_of_another_account_are_refused_and_reported() {
        let hub = Recorder::default();
        let text = String::from_utf8(export(&[(1, "FAILED"), (2, "FAILED")])).expect("utf-8");
        let other = text.replacen("\"AwsAccountId\":\"111122223333\"", "\"AwsAccountId\":\"444455556666\"", 1);
        let (outcome, ledger) = run(&hub, None, other.as_bytes()).await;
        assert_eq!(outcome.imported, 1);
        assert_eq!(outcome.rejected.len(), 1);
        assert!(outcome.rejected[0].contains("444455556666"), "{:?}", outcome.rejected);
        assert_eq!(ledger.findings.len(), 1);
    }

    #[tokio::test]
    async fn a_call_that_fails_whole_keeps_the_old_ledger_entries() {
        let hub = Recorder::default();
        let (_, ledger) = run(&hub, None, &export(&[(1, "FAILED")])).await;
        let denied = Recorder::default();
        denied.script.lock().expect("lock").extend((0..=FAILED_ROUNDS).map(|_| Err(false)));
        let (outcome, ledger) = run(&denied, Some(ledger), &export(&[(1, "PASSED")])).await;
        assert_eq!(outcome.failed.len(), 1);
        assert_eq!(outcome.failed[0].code, "CallFailed");
        assert_eq!(status_of(ledger.findings.values().next().expect("kept")), "FAILED", "the old entry stays: the change is sent again next time");
    }

    #[test]
    fn every_member_the_component_writes_reaches_the_sdk_and_unknown_ones_are_refused() {
        let finding = to_sdk(&finding(1, "FAILED")).expect("converts");
        assert_eq!(finding.id(), Some(format!("compliance-scanner/ec2-volume-encrypted/{:032x}", 1).as_str()));
        assert_eq!(finding.compliance().and_then(|c| c.status()).map(|s| s.as_str()), Some("FAILED"));
        let mut value: Value = serde_json::from_str(&finding_text()).expect("json");
        value["Remediaton"] = Value::from("typo");
        assert!(to_sdk(&value.to_string()).expect_err("refused").to_string().contains("Remediaton"));
    }

    fn finding_text() -> String {
        finding(1, "FAILED")
    }
}
