//! OCSF 1.5.0 Compliance Findings (class_uid 2003, category Findings, activity Create), one per
//! line (SPEC §12), with the cloud profile. `finding_info.uid` is the ASFF `Id`, so a SIEM that
//! ingests both joins them. The report's digests, the rule pack, the deciding path and a
//! waiver go under `unmapped`; a waived finding keeps its compliance status `Fail` and has the
//! finding status `Suppressed`.

use serde::Serialize;

use super::export::{Context, description, frameworks_of_rule, json, partition, per_rule, related_requirements_of, resource_uid};
use super::{PerResource, write_string};
use crate::report::{FindingWithId, ResourceResult};
use crate::rules::{RULE_PACK_ID, RULE_PACK_VERSION, RuleIndex, Severity, Status, rule};

/// The OCSF schema version written in `metadata.version`.
pub const OCSF_VERSION: &str = "1.5.0";
/// Compliance Finding.
pub const CLASS_UID: u32 = 2003;
/// Create: `class_uid * 100 + activity_id`.
pub const TYPE_UID: u32 = 200_301;

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

/// What every finding of a rule repeats, as JSON, worked out once per rule.
struct RuleParts {
    /// `severity_id` and `severity` of a passed finding and of any other, from the id's value on.
    severity_passed: Vec<u8>,
    severity: Vec<u8>,
    /// `,"title":…,"desc":` of `finding_info`, and the `desc` of a finding whose message is blank.
    title: Vec<u8>,
    blank_description: Vec<u8>,
    /// `,"types":[…],"created_time":` of `finding_info`.
    types: Vec<u8>,
    /// `,"compliance":{…,"status_id":`.
    compliance: Vec<u8>,
    /// `,"remediation":{…}`.
    remediation: Vec<u8>,
}

static RULE_PARTS: std::sync::LazyLock<Vec<RuleParts>> = std::sync::LazyLock::new(|| per_rule(rule_parts));

fn rule_parts(index: RuleIndex) -> RuleParts {
    let def = rule(index);
    let severity = |status| {
        let (id, name) = severity(status, def.severity);
        format!("{id},\"severity\":{}", json(name)).into_bytes()
    };
    let standards: Vec<&str> = frameworks_of_rule(index).iter().map(|f| f.name()).collect();
    let requirements = related_requirements_of(index);
    let mut compliance = format!(",\"compliance\":{{\"control\":{},\"desc\":{}", json(def.id), json(def.compliant_when));
    if !standards.is_empty() {
        compliance.push_str(&format!(",\"standards\":{}", json(&standards)));
    }
    if !requirements.is_empty() {
        compliance.push_str(&format!(",\"requirements\":{}", json(requirements)));
    }
    compliance.push_str(",\"status_id\":");
    RuleParts {
        severity_passed: severity(Status::Compliant),
        severity: severity(Status::NonCompliant),
        title: format!(",\"title\":{},\"desc\":", json(def.title)).into_bytes(),
        blank_description: json(def.title).into_bytes(),
        types: format!(",\"types\":[{}],\"created_time\":", json(def.id)).into_bytes(),
        compliance: compliance.into_bytes(),
        remediation: format!(",\"remediation\":{{\"desc\":{}}}", json(def.remediation)).into_bytes(),
    }
}

/// `,"resources":[…],"cloud":{…}` of a resource, which all its findings repeat ([`PerResource`]).
fn write_resource_parts(bytes: &mut Vec<u8>, context: &Context<'_>, resource: &ResourceResult) -> Result<(), serde_json::Error> {
    bytes.clear();
    let region = context.region_of(resource);
    let account = resource.account_id.as_str();
    bytes.extend_from_slice(b",\"resources\":");
    serde_json::to_writer(
        &mut *bytes,
        &[Resource {
            uid: resource_uid(resource, region),
            resource_type: &resource.resource_type,
            name: resource.resource_name.as_deref(),
            region,
            cloud_partition: partition(region),
            criticality: resource.criticality.as_str(),
        }],
    )?;
    bytes.extend_from_slice(b",\"cloud\":");
    serde_json::to_writer(bytes, &Cloud { provider: "AWS", region, account: Account { name: account, uid: account, type_id: 10, account_type: "AWS Account" } })
}

/// Writes an export's findings as OCSF Compliance Findings, each as one line of compact JSON,
/// byte for byte as `serde_json` writes the record (the tests compare the two), from parts
/// worked out once per export, rule and resource where the record repeats them.
pub(crate) struct Writer<'c> {
    context: &'c Context<'c>,
    /// Everything before the first field that differs between findings (`severity_id`'s value).
    head: Vec<u8>,
    /// `,"metadata":{…}`.
    metadata: Vec<u8>,
    /// `time` as a number, for `created_time`.
    time: Vec<u8>,
    /// `,"generated_at":…,"rule_pack":…` and the digests, of `unmapped`.
    unmapped: Vec<u8>,
    resource: PerResource<Vec<u8>>,
}

impl<'c> Writer<'c> {
    pub(crate) fn new(context: &'c Context<'c>) -> Self {
        let meta = &context.report.meta;
        let time = context.time_ms.to_string();
        let head = format!(
            "{{\"activity_id\":1,\"activity_name\":\"Create\",\"category_uid\":2,\"category_name\":\"Findings\",\"class_uid\":{CLASS_UID},\"class_name\":\"Compliance Finding\",\"type_uid\":{TYPE_UID},\"type_name\":\"Compliance Finding: Create\",\"time\":{time},\"severity_id\":"
        );
        let product = json(crate::render::export::PRODUCT_NAME);
        let metadata = format!(",\"metadata\":{{\"version\":{},\"product\":{{\"name\":{product},\"vendor_name\":{product},\"version\":{}}},\"profiles\":[\"cloud\"]}}", json(OCSF_VERSION), json(crate::ENGINE_VERSION));
        let mut unmapped = format!(",\"generated_at\":{},\"rule_pack\":{}", json(&meta.generated_at), json(&format!("{RULE_PACK_ID} {RULE_PACK_VERSION}")));
        if !meta.component_sha256.is_empty() {
            unmapped.push_str(&format!(",\"component_sha256\":{}", json(&meta.component_sha256)));
        }
        unmapped.push_str(&format!(",\"input_sha256\":{}", json(&meta.input_sha256)));
        Writer { context, head: head.into_bytes(), metadata: metadata.into_bytes(), time: time.into_bytes(), unmapped: unmapped.into_bytes(), resource: PerResource::default() }
    }

    /// Writes one finding as one line of compact JSON (without the newline).
    pub(crate) fn write(&mut self, out: &mut Vec<u8>, found: &FindingWithId<'_>) -> Result<(), serde_json::Error> {
        let (resource, finding) = (found.resource, found.finding);
        let Some(parts) = RULE_PARTS.get(usize::from(finding.rule)) else {
            return Err(serde::ser::Error::custom(format!("no rule {}", finding.rule)));
        };
        let waiver = self.context.report.waiver_of(finding);
        out.extend_from_slice(&self.head);
        out.extend_from_slice(if finding.status == Status::Compliant { &parts.severity_passed } else { &parts.severity });
        match waiver {
            Some(w) => {
                out.extend_from_slice(b",\"status_id\":3,\"status\":\"Suppressed\",\"status_detail\":");
                write_string(out, &format!("waived by {} until {} (owner {})", w.id, w.expires, w.owner))?;
            }
            None => out.extend_from_slice(b",\"status_id\":1,\"status\":\"New\""),
        }
        out.extend_from_slice(b",\"message\":");
        write_string(out, &finding.message)?;
        out.extend_from_slice(&self.metadata);
        out.extend_from_slice(b",\"finding_info\":{\"uid\":");
        super::asff::write_finding_id(out, finding, &found.id);
        out.extend_from_slice(&parts.title);
        match description(finding) {
            Some(message) => write_string(out, message)?,
            None => out.extend_from_slice(&parts.blank_description),
        }
        out.extend_from_slice(&parts.types);
        out.extend_from_slice(&self.time);
        out.push(b'}');
        out.extend_from_slice(&parts.compliance);
        out.push(b'0' + compliance_status_id(finding.status));
        out.push(b'}');
        out.extend_from_slice(&parts.remediation);
        out.extend_from_slice(self.resource.of(found.position.0, |bytes| write_resource_parts(bytes, self.context, resource))?);
        out.extend_from_slice(b",\"unmapped\":{\"finding_id\":");
        write_string(out, &found.id)?;
        out.extend_from_slice(b",\"config_status\":\"");
        out.extend_from_slice(finding.status.as_str().as_bytes());
        out.extend_from_slice(b"\",\"path\":");
        write_string(out, &finding.path)?;
        out.extend_from_slice(&self.unmapped);
        if let Some(w) = waiver {
            out.extend_from_slice(b",\"waiver\":{\"id\":");
            write_string(out, &w.id)?;
            out.extend_from_slice(b",\"owner\":");
            write_string(out, &w.owner)?;
            out.extend_from_slice(b",\"expires\":");
            write_string(out, &w.expires)?;
            out.push(b'}');
        }
        out.extend_from_slice(b"}}");
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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

    /// The serialisation [`Writer`] replaced: each finding through `serde_json`.
    fn reference(out: &mut Vec<u8>, context: &Context<'_>, found: &FindingWithId<'_>) -> Result<(), serde_json::Error> {
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
                product: Product { name: crate::render::export::PRODUCT_NAME, vendor_name: crate::render::export::PRODUCT_NAME, version: crate::ENGINE_VERSION },
                profiles: ["cloud"],
            },
            finding_info: FindingInfo {
                uid: crate::render::asff::finding_id(finding, &found.id),
                title: def.title,
                desc: crate::render::export::description(finding).unwrap_or(def.title),
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

    #[test]
    fn the_writer_writes_what_serde_json_wrote() {
        // What the varied reports are for: escapes, partitions, cut texts and waivers.
        let markers = ["aws-cn", "aws-us-gov", "W-\\\"odd", "\\\\slash", "\\u0001", "\"Suppressed\"", "\"Informational\""];
        crate::render::export::testing::compare_with_reference(crate::render::export::ExportFormat::Ocsf, reference, &markers);
    }
}
