//! AWS Security Finding Format (ASFF, `SchemaVersion` 2018-10-08) for `BatchImportFindings`
//! (SPEC §12). The `Id` is a digest of (rule, resource type, resource id, account, region) — the
//! report's finding id — so a re-scan updates the same Security Hub finding instead of adding
//! one. String fields are cut to AWS's documented limits here (in bytes, at a character
//! boundary); the host's exporter checks every limit again before it sends anything.

use std::collections::BTreeMap;

use serde::Serialize;

use super::export::{Context, frameworks_of, partition, related_requirements_of, resource_uid, truncate};
use crate::report::{Finding, FindingWithId};
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

/// Per rule, its findings' `Types`: worked out once, not for each finding.
static TYPES: std::sync::LazyLock<Vec<Vec<String>>> = std::sync::LazyLock::new(|| crate::rules::RULES.iter().map(|r| types_of(r.id)).collect());

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

/// Writes one finding as one line of compact JSON.
pub(crate) fn write(out: &mut Vec<u8>, context: &Context<'_>, found: &FindingWithId<'_>) -> Result<(), serde_json::Error> {
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
        product_name: super::export::PRODUCT_NAME,
        generator_id: def.id,
        aws_account_id: account,
        region,
        types,
        created_at: &report.meta.generated_at,
        updated_at: &report.meta.generated_at,
        severity: severity.clone(),
        title: truncate(def.title, TITLE_MAX),
        description: truncate(super::export::description(finding, def.title), DESCRIPTION_MAX),
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

#[cfg(test)]
mod tests {
    use super::{types, types_of};
    use crate::rules::{RULES, RuleIndex, rule};

    #[test]
    fn each_rules_types_are_worked_out_once_as_they_were_per_finding() {
        for (index, r) in RULES.iter().enumerate() {
            let index = RuleIndex::try_from(index).expect("rule index");
            assert_eq!(rule(index).id, r.id);
            assert_eq!(types(index), types_of(r.id), "{}", r.id);
            assert!(!types(index).is_empty(), "{}", r.id);
        }
    }
}
