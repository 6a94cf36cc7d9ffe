//! OCSF 1.5.0 Compliance Findings (class_uid 2003, category Findings, activity Create), one per
//! line (SPEC §12), with the cloud profile. `finding_info.uid` is the ASFF `Id`, so a SIEM that
//! ingests both joins them. The report's digests, the rule pack, the deciding path and a
//! waiver go under `unmapped`; a waived finding keeps its compliance status `Fail` and has the
//! finding status `Suppressed`.

use serde::Serialize;

use super::export::{Context, frameworks_of_rule, partition, related_requirements_of, resource_uid};
use crate::report::FindingWithId;
use crate::rules::{RULE_PACK_ID, RULE_PACK_VERSION, Severity, Status, rule};

/// The OCSF schema version written in `metadata.version`.
pub const OCSF_VERSION: &str = "1.5.0";
/// Compliance Finding.
pub const CLASS_UID: u32 = 2003;
/// Create: `class_uid * 100 + activity_id`.
pub const TYPE_UID: u32 = 200_301;

#[derive(Serialize)]
struct Record<'a> {
    activity_id: u8,
    activity_name: &'static str,
    category_uid: u8,
    category_name: &'static str,
    class_uid: u32,
    class_name: &'static str,
    type_uid: u32,
    type_name: &'static str,
    time: i64,
    severity_id: u8,
    severity: &'static str,
    status_id: u8,
    status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    status_detail: Option<String>,
    message: &'a str,
    metadata: Metadata,
    finding_info: FindingInfo<'a>,
    compliance: Compliance,
    remediation: Remediation,
    resources: [Resource<'a>; 1],
    cloud: Cloud<'a>,
    unmapped: Unmapped<'a>,
}

#[derive(Serialize)]
struct Metadata {
    version: &'static str,
    product: Product,
    profiles: [&'static str; 1],
}

#[derive(Serialize)]
struct Product {
    name: &'static str,
    vendor_name: &'static str,
    version: &'static str,
}

#[derive(Serialize)]
struct FindingInfo<'a> {
    uid: String,
    title: &'static str,
    desc: &'a str,
    types: [&'static str; 1],
    created_time: i64,
}

#[derive(Serialize)]
struct Compliance {
    control: &'static str,
    desc: &'static str,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    standards: Vec<&'static str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    requirements: Vec<String>,
    status_id: u8,
}

#[derive(Serialize)]
struct Remediation {
    desc: &'static str,
}

#[derive(Serialize)]
struct Resource<'a> {
    uid: String,
    #[serde(rename = "type")]
    resource_type: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<&'a str>,
    region: &'a str,
    cloud_partition: &'static str,
    criticality: &'static str,
}

#[derive(Serialize)]
struct Cloud<'a> {
    provider: &'static str,
    region: &'a str,
    account: Account<'a>,
}

#[derive(Serialize)]
struct Account<'a> {
    /// The account id again: Config data carries no account name, and OCSF requires one.
    name: &'a str,
    uid: &'a str,
    type_id: u8,
    #[serde(rename = "type")]
    account_type: &'static str,
}

#[derive(Serialize)]
struct Unmapped<'a> {
    finding_id: &'a str,
    config_status: &'static str,
    path: &'a str,
    generated_at: &'a str,
    rule_pack: String,
    #[serde(skip_serializing_if = "str::is_empty")]
    component_sha256: &'a str,
    input_sha256: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    waiver: Option<Waiver<'a>>,
}

#[derive(Serialize)]
struct Waiver<'a> {
    id: &'a str,
    owner: &'a str,
    expires: &'a str,
}

/// OCSF `severity_id` and caption: a passed check is Informational, as in ASFF.
fn severity(status: Status, severity: Severity) -> (u8, &'static str) {
    if status == Status::Compliant {
        return (1, "Informational");
    }
    match severity {
        Severity::Critical => (5, "Critical"),
        Severity::High => (4, "High"),
        Severity::Medium => (3, "Medium"),
        Severity::Low => (2, "Low"),
    }
}

/// OCSF compliance `status_id`: Pass 1, Warning 2, Fail 3.
fn compliance_status_id(status: Status) -> u8 {
    match status {
        Status::Compliant => 1,
        Status::NonCompliant => 3,
        Status::InsufficientData | Status::NotApplicable => 2,
    }
}

/// Writes one finding as one line of compact JSON (without the newline).
pub(crate) fn write(out: &mut Vec<u8>, context: &Context<'_>, found: &FindingWithId<'_>) -> Result<(), serde_json::Error> {
    let (resource, finding) = (found.resource, found.finding);
    let def = rule(finding.rule);
    let report = context.report;
    let region = context.region_of(resource);
    let (severity_id, severity_name) = severity(finding.status, def.severity);
    let waiver = report.waiver_of(finding);
    let (status_id, status) = if waiver.is_some() { (3, "Suppressed") } else { (1, "New") };
    let standards = frameworks_of_rule(finding.rule).iter().map(|f| f.name()).collect();
    let record = Record {
        activity_id: 1,
        activity_name: "Create",
        category_uid: 2,
        category_name: "Findings",
        class_uid: CLASS_UID,
        class_name: "Compliance Finding",
        type_uid: TYPE_UID,
        type_name: "Compliance Finding: Create",
        time: context.time_ms,
        severity_id,
        severity: severity_name,
        status_id,
        status,
        status_detail: waiver.map(|w| format!("waived by {} until {} (owner {})", w.id, w.expires, w.owner)),
        message: &finding.message,
        metadata: Metadata {
            version: OCSF_VERSION,
            product: Product { name: super::export::PRODUCT_NAME, vendor_name: super::export::PRODUCT_NAME, version: crate::ENGINE_VERSION },
            profiles: ["cloud"],
        },
        finding_info: FindingInfo {
            uid: super::asff::finding_id(finding, &found.id),
            title: def.title,
            desc: super::export::description(finding, def.title),
            types: [def.id],
            created_time: context.time_ms,
        },
        compliance: Compliance {
            control: def.id,
            desc: def.compliant_when,
            standards,
            requirements: related_requirements_of(finding.rule).to_vec(),
            status_id: compliance_status_id(finding.status),
        },
        remediation: Remediation { desc: def.remediation },
        resources: [Resource {
            uid: resource_uid(resource, region),
            resource_type: &resource.resource_type,
            name: resource.resource_name.as_deref(),
            region,
            cloud_partition: partition(region),
            criticality: resource.criticality.as_str(),
        }],
        cloud: Cloud { provider: "AWS", region, account: Account { name: &resource.account_id, uid: &resource.account_id, type_id: 10, account_type: "AWS Account" } },
        unmapped: Unmapped {
            finding_id: &found.id,
            config_status: finding.status.as_str(),
            path: &finding.path,
            generated_at: &report.meta.generated_at,
            rule_pack: format!("{RULE_PACK_ID} {RULE_PACK_VERSION}"),
            component_sha256: &report.meta.component_sha256,
            input_sha256: &report.meta.input_sha256,
            waiver: waiver.map(|w| Waiver { id: &w.id, owner: &w.owner, expires: &w.expires }),
        },
    };
    serde_json::to_writer(out, &record)
}
