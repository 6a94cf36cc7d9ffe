//! AWS Security Finding Format (ASFF, `SchemaVersion` 2018-10-08) for `BatchImportFindings`
//! (SPEC §12). The `Id` is a digest of (rule, resource type, resource id, account, region) — the
//! report's finding id — so a re-scan updates the same Security Hub finding instead of adding
//! one. String fields are cut to AWS's documented limits here (in bytes, at a character
//! boundary); the host's exporter checks every limit again before it sends anything.

use serde::Serialize;

use super::export::{Context, description, frameworks_of, json, partition, per_rule, related_requirements_of, resource_uid, truncate};
use super::{PerResource, write_string};
use crate::report::{Finding, FindingId, FindingWithId, ResourceResult};
use crate::rules::frameworks::Framework;
use crate::rules::{RULE_PACK_ID, RULE_PACK_VERSION, Severity as RuleSeverity, Status, rule};

/// ASFF schema version.
pub const SCHEMA_VERSION: &str = "2018-10-08";
/// `Title` limit (bytes).
pub const TITLE_MAX: usize = 256;
/// `Description` limit (bytes).
pub const DESCRIPTION_MAX: usize = 1024;
/// `Remediation.Recommendation.Text` limit (bytes).
pub const RECOMMENDATION_MAX: usize = 512;
/// `Compliance.RelatedRequirements` limit (entries).
pub const RELATED_REQUIREMENTS_MAX: usize = 32;
/// `ProductFields` value limit (bytes).
pub const PRODUCT_FIELD_VALUE_MAX: usize = 2048;
/// `Resources[].Id` and `Id` limit (bytes).
pub const ID_MAX: usize = 512;

const TYPE_NAMESPACE: &str = "Software and Configuration Checks/Industry and Regulatory Standards";

#[derive(Serialize, Clone)]
#[serde(rename_all = "PascalCase")]
struct Severity {
    label: &'static str,
    original: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Remediation {
    recommendation: Recommendation,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Recommendation {
    text: std::borrow::Cow<'static, str>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Resource<'a> {
    r#type: &'static str,
    id: String,
    partition: &'static str,
    region: &'a str,
}

/// The ASFF resource type of a Config resource type.
pub fn resource_type(config_type: &str) -> &'static str {
    match config_type {
        "AWS::S3::Bucket" => "AwsS3Bucket",
        "AWS::EC2::Instance" => "AwsEc2Instance",
        "AWS::EC2::Volume" => "AwsEc2Volume",
        "AWS::EC2::SecurityGroup" => "AwsEc2SecurityGroup",
        "AWS::IAM::Policy" => "AwsIamPolicy",
        "AWS::IAM::Role" => "AwsIamRole",
        "AWS::IAM::User" => "AwsIamUser",
        "AWS::IAM::Group" => "AwsIamGroup",
        _ => "Other",
    }
}

/// ASFF's severity label of a rule's severity.
pub fn severity_label(severity: RuleSeverity) -> &'static str {
    match severity {
        RuleSeverity::Critical => "CRITICAL",
        RuleSeverity::High => "HIGH",
        RuleSeverity::Medium => "MEDIUM",
        RuleSeverity::Low => "LOW",
    }
}

/// `Compliance.Status` of a finding's status (NOT_APPLICABLE is not exported).
pub fn compliance_status(status: Status) -> &'static str {
    match status {
        Status::Compliant => "PASSED",
        Status::NonCompliant => "FAILED",
        Status::InsufficientData | Status::NotApplicable => "WARNING",
    }
}

/// The `Id` of a finding whose report id is `id`: stable across scans, free of scan times.
pub fn finding_id(finding: &Finding, id: &str) -> String {
    format!("compliance-scanner/{}/{id}", rule(finding.rule).id)
}

/// [`finding_id`] as a JSON string, without an allocation: rule ids and finding ids are
/// letters, digits and dashes, which need no escape.
pub(crate) fn write_finding_id(out: &mut Vec<u8>, finding: &Finding, id: &FindingId) {
    out.extend_from_slice(b"\"compliance-scanner/");
    out.extend_from_slice(rule(finding.rule).id.as_bytes());
    out.push(b'/');
    out.extend_from_slice(id.digits());
    out.push(b'"');
}

/// Per rule, its findings' `Types`: worked out once, not for each finding.
static TYPES: std::sync::LazyLock<Vec<Vec<String>>> = std::sync::LazyLock::new(|| per_rule(|index| types_of(rule(index).id)));

/// The `Types` of rule `rule`'s findings.
fn types(rule: crate::rules::RuleIndex) -> &'static [String] {
    TYPES.get(usize::from(rule)).map_or(&[], Vec::as_slice)
}

fn types_of(rule_id: &str) -> Vec<String> {
    let frameworks = frameworks_of(rule_id);
    if frameworks.is_empty() {
        return vec![TYPE_NAMESPACE.to_owned()];
    }
    frameworks
        .iter()
        .map(|f| {
            let classifier = match f {
                Framework::SecurityHub => "AWS-Foundational-Security-Best-Practices",
                Framework::Cis => "CIS AWS Foundations Benchmark",
                Framework::PciDss => "PCI-DSS",
                Framework::Nist => "NIST-800-53",
            };
            format!("{TYPE_NAMESPACE}/{classifier}")
        })
        .collect()
}

/// What every finding of a rule repeats, as JSON, worked out once per rule: its strings are
/// escaped and cut to their limits once, not for each of hundreds of thousands of findings.
struct RuleParts {
    /// `"<rule id>"`.
    generator_id: Vec<u8>,
    /// The `Types` array.
    types: Vec<u8>,
    /// `{"Label":…,"Original":…}` of a passed finding and of any other.
    severity_passed: Vec<u8>,
    severity: Vec<u8>,
    title: Vec<u8>,
    /// The `Description` of a finding whose message is blank: the title, cut to its limit.
    blank_description: Vec<u8>,
    /// The `Remediation` object.
    remediation: Vec<u8>,
    /// `,"RelatedRequirements":[…]`, or nothing when there are none.
    related_requirements: Vec<u8>,
    /// The product fields `compliance/related_requirements_omitted` (when any are) and
    /// `compliance/rule_id`.
    omitted_field: Vec<u8>,
    rule_id_field: Vec<u8>,
}

static RULE_PARTS: std::sync::LazyLock<Vec<RuleParts>> = std::sync::LazyLock::new(|| per_rule(rule_parts));

fn rule_parts(index: crate::rules::RuleIndex) -> RuleParts {
    let def = rule(index);
    let original = severity_label(def.severity);
    let all_related = related_requirements_of(index);
    let omitted = all_related.len().saturating_sub(RELATED_REQUIREMENTS_MAX);
    let related: Vec<&String> = all_related.iter().take(RELATED_REQUIREMENTS_MAX).collect();
    RuleParts {
        generator_id: json(def.id).into_bytes(),
        types: json(types(index)).into_bytes(),
        severity_passed: json(&Severity { label: "INFORMATIONAL", original }).into_bytes(),
        severity: json(&Severity { label: original, original }).into_bytes(),
        title: json(&truncate(def.title, TITLE_MAX)).into_bytes(),
        blank_description: json(&truncate(def.title, DESCRIPTION_MAX)).into_bytes(),
        remediation: json(&Remediation { recommendation: Recommendation { text: truncate(def.remediation, RECOMMENDATION_MAX) } }).into_bytes(),
        related_requirements: if related.is_empty() { Vec::new() } else { format!(",\"RelatedRequirements\":{}", json(&related)).into_bytes() },
        omitted_field: if omitted > 0 { product_field("compliance/related_requirements_omitted", &omitted.to_string()) } else { Vec::new() },
        rule_id_field: product_field("compliance/rule_id", def.id),
    }
}

/// A product field as `"key":"value"` (see [`Fields::text`]), written once for every finding.
fn product_field(key: &'static str, value: &str) -> Vec<u8> {
    let mut out = Vec::new();
    let mut fields = Fields { out: &mut out, any: false };
    // A string always writes (an error would leave the field out, as an empty value does).
    if fields.text(key, value).is_err() {
        out.clear();
    }
    out
}

/// What every finding of a resource repeats, as JSON ([`PerResource`]).
#[derive(Default)]
struct ResourceParts {
    /// The `ProductArn` string.
    product_arn: Vec<u8>,
    /// `,"AwsAccountId":…,"Region":…`.
    account_and_region: Vec<u8>,
    /// `,"Resources":[…]`.
    resources: Vec<u8>,
}

impl ResourceParts {
    fn write(&mut self, context: &Context<'_>, resource: &ResourceResult) -> Result<(), serde_json::Error> {
        let region = context.region_of(resource);
        let account = resource.account_id.as_str();
        self.product_arn.clear();
        write_string(&mut self.product_arn, &format!("arn:{}:securityhub:{region}:{account}:product/{account}/default", partition(region)))?;
        self.account_and_region.clear();
        self.account_and_region.extend_from_slice(b",\"AwsAccountId\":");
        write_string(&mut self.account_and_region, account)?;
        self.account_and_region.extend_from_slice(b",\"Region\":");
        write_string(&mut self.account_and_region, region)?;
        self.resources.clear();
        self.resources.extend_from_slice(b",\"Resources\":");
        let id = truncate(&resource_uid(resource, region), ID_MAX).into_owned();
        serde_json::to_writer(&mut self.resources, &[Resource { r#type: resource_type(&resource.resource_type), id, partition: partition(region), region }])
    }
}

/// Writes an export's findings as ASFF, each as one line of compact JSON, byte for byte as
/// `serde_json` wrote them from a struct of the finding (kept in the tests, which compare the
/// two on every rule, escapes, long texts, waivers and partitions). Serialising each finding through
/// `serde_json` took nearly all of an ASFF export's rendering: a map of product fields, a
/// dozen strings formatted and escaped byte by byte, for texts that are mostly the same for
/// every finding of a rule, of a resource or of the whole export.
pub(crate) struct Writer<'c> {
    context: &'c Context<'c>,
    /// `"…"` of `generated_at` (`CreatedAt` and `UpdatedAt`).
    generated_at: Vec<u8>,
    /// Product fields from the report: `component_sha256`, `generated_at` and `input_sha256`
    /// (each nothing when empty), and `rule_pack`.
    component_field: Vec<u8>,
    generated_at_field: Vec<u8>,
    input_field: Vec<u8>,
    rule_pack_field: Vec<u8>,
    resource: PerResource<ResourceParts>,
}

impl<'c> Writer<'c> {
    pub(crate) fn new(context: &'c Context<'c>) -> Self {
        let meta = &context.report.meta;
        Writer {
            context,
            generated_at: json(&meta.generated_at).into_bytes(),
            component_field: product_field("compliance/component_sha256", &meta.component_sha256),
            generated_at_field: product_field("compliance/generated_at", &meta.generated_at),
            input_field: product_field("compliance/input_sha256", &meta.input_sha256),
            rule_pack_field: product_field("compliance/rule_pack", &format!("{RULE_PACK_ID} {RULE_PACK_VERSION}")),
            resource: PerResource::default(),
        }
    }

    /// Writes one finding as one line of compact JSON.
    pub(crate) fn write(&mut self, out: &mut Vec<u8>, found: &FindingWithId<'_>) -> Result<(), serde_json::Error> {
        let (resource, finding) = (found.resource, found.finding);
        let Some(parts) = RULE_PARTS.get(usize::from(finding.rule)) else {
            return Err(serde::ser::Error::custom(format!("no rule {}", finding.rule)));
        };
        let r = self.resource.of(found.position.0, |parts| parts.write(self.context, resource))?;
        let severity = if finding.status == Status::Compliant { &parts.severity_passed } else { &parts.severity };
        out.extend_from_slice(b"{\"SchemaVersion\":\"2018-10-08\",\"Id\":");
        write_finding_id(out, finding, &found.id);
        out.extend_from_slice(b",\"ProductArn\":");
        out.extend_from_slice(&r.product_arn);
        out.extend_from_slice(b",\"ProductName\":\"AWS compliance scanner\",\"GeneratorId\":");
        out.extend_from_slice(&parts.generator_id);
        out.extend_from_slice(&r.account_and_region);
        out.extend_from_slice(b",\"Types\":");
        out.extend_from_slice(&parts.types);
        out.extend_from_slice(b",\"CreatedAt\":");
        out.extend_from_slice(&self.generated_at);
        out.extend_from_slice(b",\"UpdatedAt\":");
        out.extend_from_slice(&self.generated_at);
        out.extend_from_slice(b",\"Severity\":");
        out.extend_from_slice(severity);
        out.extend_from_slice(b",\"Title\":");
        out.extend_from_slice(&parts.title);
        out.extend_from_slice(b",\"Description\":");
        match description(finding) {
            Some(message) => write_string(out, &truncate(message, DESCRIPTION_MAX))?,
            None => out.extend_from_slice(&parts.blank_description),
        }
        out.extend_from_slice(b",\"Remediation\":");
        out.extend_from_slice(&parts.remediation);
        // The product fields, in the order of their keys.
        out.extend_from_slice(b",\"ProductFields\":{");
        let mut fields = Fields { out, any: false };
        fields.written(&self.component_field);
        fields.text("compliance/criticality", resource.criticality.as_str())?;
        fields.text("compliance/finding_id", &found.id)?;
        fields.written(&self.generated_at_field);
        fields.written(&self.input_field);
        fields.text("compliance/path", &finding.path)?;
        fields.written(&parts.omitted_field);
        fields.written(&parts.rule_id_field);
        fields.written(&self.rule_pack_field);
        fields.text("compliance/status", finding.status.as_str())?;
        if let Some(w) = self.context.report.waiver_of(finding) {
            fields.text("compliance/waiver_expires", &w.expires)?;
            fields.text("compliance/waiver_id", &w.id)?;
            fields.text("compliance/waiver_owner", &w.owner)?;
        }
        out.push(b'}');
        out.extend_from_slice(&r.resources);
        out.extend_from_slice(b",\"Compliance\":{\"Status\":\"");
        out.extend_from_slice(compliance_status(finding.status).as_bytes());
        out.push(b'"');
        out.extend_from_slice(&parts.related_requirements);
        out.extend_from_slice(b"},\"FindingProviderFields\":{\"Severity\":");
        out.extend_from_slice(severity);
        out.extend_from_slice(b",\"Types\":");
        out.extend_from_slice(&parts.types);
        out.extend_from_slice(b"},\"RecordState\":\"ACTIVE\"}");
        Ok(())
    }
}

/// The entries of a `ProductFields` object, separated by commas.
struct Fields<'o> {
    out: &'o mut Vec<u8>,
    any: bool,
}

impl Fields<'_> {
    /// An entry written already (see [`product_field`]); nothing when it is empty.
    fn written(&mut self, field: &[u8]) {
        if !field.is_empty() {
            if self.any {
                self.out.push(b',');
            }
            self.out.extend_from_slice(field);
            self.any = true;
        }
    }

    /// An entry of a key that needs no escape; nothing when `value` is empty.
    fn text(&mut self, key: &'static str, value: &str) -> Result<(), serde_json::Error> {
        if value.is_empty() {
            return Ok(());
        }
        self.out.extend_from_slice(if self.any { b",\"" } else { b"\"" });
        self.out.extend_from_slice(key.as_bytes());
        self.out.extend_from_slice(b"\":");
        self.any = true;
        write_string(self.out, &truncate(value, PRODUCT_FIELD_VALUE_MAX))
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use serde::Serialize;

    use super::*;
    use crate::rules::{RULES, RuleIndex};

    #[derive(Serialize)]
    #[serde(rename_all = "PascalCase")]
    struct AsffFinding<'a> {
        schema_version: &'static str,
        id: String,
        product_arn: String,
        product_name: &'static str,
        generator_id: &'static str,
        aws_account_id: &'a str,
        region: &'a str,
        types: &'static [String],
        created_at: &'a str,
        updated_at: &'a str,
        severity: Severity,
        title: std::borrow::Cow<'static, str>,
        description: std::borrow::Cow<'a, str>,
        remediation: Remediation,
        product_fields: BTreeMap<&'static str, std::borrow::Cow<'a, str>>,
        resources: [Resource<'a>; 1],
        compliance: Compliance,
        finding_provider_fields: FindingProviderFields,
        record_state: &'static str,
    }

    #[derive(Serialize)]
    #[serde(rename_all = "PascalCase")]
    struct Compliance {
        status: &'static str,
        #[serde(skip_serializing_if = "Vec::is_empty")]
        related_requirements: Vec<String>,
    }

    #[derive(Serialize)]
    #[serde(rename_all = "PascalCase")]
    struct FindingProviderFields {
        severity: Severity,
        types: &'static [String],
    }

    /// The serialisation [`Writer`] replaced: each finding through `serde_json`.
    fn reference(out: &mut Vec<u8>, context: &Context<'_>, found: &FindingWithId<'_>) -> Result<(), serde_json::Error> {
        let (resource, finding) = (found.resource, found.finding);
        let def = rule(finding.rule);
        let report = context.report;
        let region = context.region_of(resource);
        let account = resource.account_id.as_str();
        let original = severity_label(def.severity);
        let severity = Severity { label: if finding.status == Status::Compliant { "INFORMATIONAL" } else { original }, original };
        let all_related = related_requirements_of(finding.rule);
        let omitted = all_related.len().saturating_sub(RELATED_REQUIREMENTS_MAX);
        let related = all_related.iter().take(RELATED_REQUIREMENTS_MAX).cloned().collect();
        let mut fields: BTreeMap<&'static str, std::borrow::Cow<'_, str>> = BTreeMap::new();
        let mut field = |key: &'static str, value: &str| {
            if !value.is_empty() {
                fields.insert(key, truncate(value, PRODUCT_FIELD_VALUE_MAX).into_owned().into());
            }
        };
        field("compliance/finding_id", &found.id);
        field("compliance/rule_id", def.id);
        field("compliance/rule_pack", &format!("{RULE_PACK_ID} {RULE_PACK_VERSION}"));
        field("compliance/status", finding.status.as_str());
        field("compliance/criticality", resource.criticality.as_str());
        field("compliance/path", &finding.path);
        field("compliance/generated_at", &report.meta.generated_at);
        field("compliance/component_sha256", &report.meta.component_sha256);
        field("compliance/input_sha256", &report.meta.input_sha256);
        if omitted > 0 {
            field("compliance/related_requirements_omitted", &omitted.to_string());
        }
        if let Some(w) = report.waiver_of(finding) {
            field("compliance/waiver_id", &w.id);
            field("compliance/waiver_owner", &w.owner);
            field("compliance/waiver_expires", &w.expires);
        }
        let types = types(finding.rule);
        let record = AsffFinding {
            schema_version: SCHEMA_VERSION,
            id: finding_id(finding, &found.id),
            product_arn: format!("arn:{}:securityhub:{region}:{account}:product/{account}/default", partition(region)),
            product_name: crate::render::export::PRODUCT_NAME,
            generator_id: def.id,
            aws_account_id: account,
            region,
            types,
            created_at: &report.meta.generated_at,
            updated_at: &report.meta.generated_at,
            severity: severity.clone(),
            title: truncate(def.title, TITLE_MAX),
            description: truncate(crate::render::export::description(finding).unwrap_or(def.title), DESCRIPTION_MAX),
            remediation: Remediation { recommendation: Recommendation { text: truncate(def.remediation, RECOMMENDATION_MAX) } },
            product_fields: fields,
            resources: [Resource {
                r#type: resource_type(&resource.resource_type),
                id: truncate(&resource_uid(resource, region), ID_MAX).into_owned(),
                partition: partition(region),
                region,
            }],
            compliance: Compliance { status: compliance_status(finding.status), related_requirements: related },
            finding_provider_fields: FindingProviderFields { severity, types },
            record_state: "ACTIVE",
        };
        serde_json::to_writer(out, &record)
    }

    #[test]
    fn each_rules_types_are_worked_out_once_as_they_were_per_finding() {
        for (index, r) in RULES.iter().enumerate() {
            let index = RuleIndex::try_from(index).expect("rule index");
            assert_eq!(rule(index).id, r.id);
            assert_eq!(types(index), types_of(r.id), "{}", r.id);
            assert!(!types(index).is_empty(), "{}", r.id);
            assert!(r.id.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'), "{} is written unescaped", r.id);
        }
    }

    #[test]
    fn the_writer_writes_what_serde_json_wrote() {
        // What the varied reports are for: escapes, partitions, cut texts and waivers.
        let markers = ["aws-cn", "aws-us-gov", "W-\\\"odd", "\\\\slash", "\\u0001", "…\"", "compliance/waiver_owner", "\"INFORMATIONAL\""];
        crate::render::export::testing::compare_with_reference(crate::render::export::ExportFormat::Asff, reference, &markers);
    }
}
