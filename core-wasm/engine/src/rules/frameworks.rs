//! The controls each rule evidences (SPEC §11, rule pack 1.2.0): the AWS Security Hub control,
//! and requirements of CIS AWS Foundations Benchmark v3.0.0, PCI DSS v4.0.1 and NIST SP 800-53
//! Rev. 5, as AWS's control reference pages list them ("Related requirements"). Where AWS lists
//! nothing, Prowler's framework files are the source, and mappings no authority lists are the
//! vendor's own assertion; every mapping says which. The data and its sources are
//! `docs/FRAMEWORKS.md`, which a test compares with this table entry by entry.

use std::cmp::Ordering;
use std::collections::BTreeMap;

use crate::report::ScoreReport;
use crate::rules::{RULES, Status};

/// A compliance framework.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Framework {
    /// AWS Security Hub (CSPM) controls.
    SecurityHub,
    /// CIS AWS Foundations Benchmark v3.0.0.
    Cis,
    /// PCI DSS v4.0.1.
    PciDss,
    /// NIST SP 800-53 Rev. 5.
    Nist,
}

/// Every framework, in the order reports show them.
pub const FRAMEWORKS: [Framework; 4] = [Framework::SecurityHub, Framework::Cis, Framework::PciDss, Framework::Nist];

impl Framework {
    /// Stable id (`--framework`, report keys).
    pub fn id(self) -> &'static str {
        match self {
            Framework::SecurityHub => "aws-security-hub",
            Framework::Cis => "cis-aws-3.0.0",
            Framework::PciDss => "pci-dss-4.0.1",
            Framework::Nist => "nist-800-53-r5",
        }
    }

    /// Full name with version.
    pub fn name(self) -> &'static str {
        match self {
            Framework::SecurityHub => "AWS Security Hub controls",
            Framework::Cis => "CIS AWS Foundations Benchmark v3.0.0",
            Framework::PciDss => "PCI DSS v4.0.1",
            Framework::Nist => "NIST SP 800-53 Rev. 5",
        }
    }

    /// The framework with this id.
    pub fn from_id(id: &str) -> Option<Framework> {
        FRAMEWORKS.into_iter().find(|f| f.id() == id)
    }
}

/// Who says a rule evidences a requirement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Source {
    /// AWS's Security Hub control reference ("Related requirements").
    Aws,
    /// Prowler's framework files, where AWS lists nothing.
    Prowler,
    /// No authority lists it: our own assertion.
    Vendor,
}

impl Source {
    /// Its spelling in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Aws => "aws",
            Source::Prowler => "prowler",
            Source::Vendor => "vendor-asserted",
        }
    }
}

/// One mapping: a rule evidences a requirement of a framework.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mapping {
    /// The rule id.
    pub rule: &'static str,
    /// The framework.
    pub framework: Framework,
    /// The requirement (or control) id.
    pub requirement: &'static str,
    /// Who says so.
    pub source: Source,
}

const fn m(rule: &'static str, framework: Framework, requirement: &'static str, source: Source) -> Mapping {
    Mapping { rule, framework, requirement, source }
}

use Framework::{Cis, Nist, PciDss, SecurityHub as Sh};
use Source::{Aws, Prowler, Vendor};

/// NIST controls of Security Hub S3.1 (public access), also cited for S3.2/S3.3.
macro_rules! nist_s3_1 {
    ($rule:expr, $source:expr) => {
        [
            m($rule, Nist, "AC-21", $source),
            m($rule, Nist, "AC-3", $source),
            m($rule, Nist, "AC-3(7)", $source),
            m($rule, Nist, "AC-4", $source),
            m($rule, Nist, "AC-4(21)", $source),
            m($rule, Nist, "AC-6", $source),
            m($rule, Nist, "SC-7", $source),
            m($rule, Nist, "SC-7(3)", $source),
            m($rule, Nist, "SC-7(4)", $source),
            m($rule, Nist, "SC-7(9)", $source),
            m($rule, Nist, "SC-7(11)", $source),
            m($rule, Nist, "SC-7(16)", $source),
            m($rule, Nist, "SC-7(20)", $source),
            m($rule, Nist, "SC-7(21)", $source),
        ]
    };
}

/// NIST controls of Security Hub IAM.1, also cited for IAM.21.
macro_rules! nist_iam_1 {
    ($rule:expr) => {
        [
            m($rule, Nist, "AC-2", Aws),
            m($rule, Nist, "AC-2(1)", Aws),
            m($rule, Nist, "AC-3", Aws),
            m($rule, Nist, "AC-3(15)", Aws),
            m($rule, Nist, "AC-3(7)", Aws),
            m($rule, Nist, "AC-5", Aws),
            m($rule, Nist, "AC-6", Aws),
            m($rule, Nist, "AC-6(2)", Aws),
            m($rule, Nist, "AC-6(3)", Aws),
            m($rule, Nist, "AC-6(10)", Aws),
        ]
    };
}

/// NIST controls of Security Hub EC2.3 (EBS encryption).
macro_rules! ebs {
    ($rule:expr) => {
        [
            m($rule, Sh, "EC2.3", Aws),
            m($rule, Cis, "2.2.1", Prowler),
            m($rule, PciDss, "3.5.1", Prowler),
            m($rule, Nist, "CA-9(1)", Aws),
            m($rule, Nist, "CM-3(6)", Aws),
            m($rule, Nist, "SC-13", Aws),
            m($rule, Nist, "SC-28", Aws),
            m($rule, Nist, "SC-28(1)", Aws),
            m($rule, Nist, "SC-7(10)", Aws),
            m($rule, Nist, "SI-7(6)", Aws),
        ]
    };
}

const S3_SSE_KMS: [Mapping; 11] = [
    m("s3-bucket-sse-kms", Sh, "S3.17", Aws),
    m("s3-bucket-sse-kms", PciDss, "3.5.1", Aws),
    m("s3-bucket-sse-kms", Nist, "SC-12(2)", Aws),
    m("s3-bucket-sse-kms", Nist, "SC-13", Aws),
    m("s3-bucket-sse-kms", Nist, "SC-28", Aws),
    m("s3-bucket-sse-kms", Nist, "SC-28(1)", Aws),
    m("s3-bucket-sse-kms", Nist, "CM-3(6)", Aws),
    m("s3-bucket-sse-kms", Nist, "SC-7(10)", Aws),
    m("s3-bucket-sse-kms", Nist, "CA-9(1)", Aws),
    m("s3-bucket-sse-kms", Nist, "SI-7(6)", Aws),
    m("s3-bucket-sse-kms", Nist, "AU-9", Aws),
];
const S3_PAB: [Mapping; 4] = [
    m("s3-bucket-public-access-blocked", Sh, "S3.8", Aws),
    m("s3-bucket-public-access-blocked", Sh, "S3.1", Aws),
    m("s3-bucket-public-access-blocked", Cis, "2.1.4", Aws),
    m("s3-bucket-public-access-blocked", PciDss, "1.4.4", Aws),
];
const S3_PAB_NIST: [Mapping; 14] = nist_s3_1!("s3-bucket-public-access-blocked", Aws);
const S3_ACL: [Mapping; 2] = [m("s3-bucket-no-public-acl", Sh, "S3.2", Aws), m("s3-bucket-no-public-acl", Sh, "S3.3", Aws)];
const S3_ACL_NIST: [Mapping; 14] = nist_s3_1!("s3-bucket-no-public-acl", Aws);
const S3_SSL: [Mapping; 15] = [
    m("s3-bucket-ssl-only", Sh, "S3.5", Aws),
    m("s3-bucket-ssl-only", Cis, "2.1.1", Aws),
    m("s3-bucket-ssl-only", PciDss, "4.2.1", Aws),
    m("s3-bucket-ssl-only", Nist, "AC-17(2)", Aws),
    m("s3-bucket-ssl-only", Nist, "AC-4", Aws),
    m("s3-bucket-ssl-only", Nist, "IA-5(1)", Aws),
    m("s3-bucket-ssl-only", Nist, "SC-12(3)", Aws),
    m("s3-bucket-ssl-only", Nist, "SC-13", Aws),
    m("s3-bucket-ssl-only", Nist, "SC-23", Aws),
    m("s3-bucket-ssl-only", Nist, "SC-23(3)", Aws),
    m("s3-bucket-ssl-only", Nist, "SC-7(4)", Aws),
    m("s3-bucket-ssl-only", Nist, "SC-8", Aws),
    m("s3-bucket-ssl-only", Nist, "SC-8(1)", Aws),
    m("s3-bucket-ssl-only", Nist, "SC-8(2)", Aws),
    m("s3-bucket-ssl-only", Nist, "SI-7(6)", Aws),
];
const S3_VERSIONING: [Mapping; 11] = [
    m("s3-bucket-versioning-enabled", Sh, "S3.14", Aws),
    m("s3-bucket-versioning-enabled", PciDss, "10.3.4", Prowler),
    m("s3-bucket-versioning-enabled", Nist, "AU-9(2)", Aws),
    m("s3-bucket-versioning-enabled", Nist, "CP-6", Aws),
    m("s3-bucket-versioning-enabled", Nist, "CP-6(1)", Aws),
    m("s3-bucket-versioning-enabled", Nist, "CP-6(2)", Aws),
    m("s3-bucket-versioning-enabled", Nist, "CP-9", Aws),
    m("s3-bucket-versioning-enabled", Nist, "CP-10", Aws),
    m("s3-bucket-versioning-enabled", Nist, "SC-5(2)", Aws),
    m("s3-bucket-versioning-enabled", Nist, "SI-12", Aws),
    m("s3-bucket-versioning-enabled", Nist, "SI-13(5)", Aws),
];
const S3_LOGGING: [Mapping; 16] = [
    m("s3-bucket-logging-enabled", Sh, "S3.9", Aws),
    m("s3-bucket-logging-enabled", PciDss, "10.2.1", Aws),
    m("s3-bucket-logging-enabled", Nist, "AC-2(4)", Aws),
    m("s3-bucket-logging-enabled", Nist, "AC-4(26)", Aws),
    m("s3-bucket-logging-enabled", Nist, "AC-6(9)", Aws),
    m("s3-bucket-logging-enabled", Nist, "AU-2", Aws),
    m("s3-bucket-logging-enabled", Nist, "AU-3", Aws),
    m("s3-bucket-logging-enabled", Nist, "AU-6(3)", Aws),
    m("s3-bucket-logging-enabled", Nist, "AU-6(4)", Aws),
    m("s3-bucket-logging-enabled", Nist, "AU-10", Aws),
    m("s3-bucket-logging-enabled", Nist, "AU-12", Aws),
    m("s3-bucket-logging-enabled", Nist, "CA-7", Aws),
    m("s3-bucket-logging-enabled", Nist, "SC-7(9)", Aws),
    m("s3-bucket-logging-enabled", Nist, "SI-3(8)", Aws),
    m("s3-bucket-logging-enabled", Nist, "SI-4(20)", Aws),
    m("s3-bucket-logging-enabled", Nist, "SI-7(8)", Aws),
];
const EC2_IMDS: [Mapping; 7] = [
    m("ec2-imdsv2-required", Sh, "EC2.8", Aws),
    m("ec2-imdsv2-required", Cis, "5.6", Aws),
    m("ec2-imdsv2-required", PciDss, "2.2.6", Aws),
    m("ec2-imdsv2-required", Nist, "AC-3", Aws),
    m("ec2-imdsv2-required", Nist, "AC-3(15)", Aws),
    m("ec2-imdsv2-required", Nist, "AC-3(7)", Aws),
    m("ec2-imdsv2-required", Nist, "AC-6", Aws),
];
const EC2_PUBLIC_IP: [Mapping; 8] = [
    m("ec2-no-public-ip", Sh, "EC2.9", Aws),
    m("ec2-no-public-ip", Nist, "AC-21", Aws),
    m("ec2-no-public-ip", Nist, "AC-3", Aws),
    m("ec2-no-public-ip", Nist, "AC-3(7)", Aws),
    m("ec2-no-public-ip", Nist, "AC-4", Aws),
    m("ec2-no-public-ip", Nist, "AC-4(21)", Aws),
    m("ec2-no-public-ip", Nist, "AC-6", Aws),
    m("ec2-no-public-ip", Nist, "SC-7", Aws),
];
const EC2_INSTANCE_EBS: [Mapping; 10] = ebs!("ec2-instance-ebs-encrypted");
const EC2_TAGS: [Mapping; 1] = [m("ec2-required-tags", Sh, "EC2.38", Aws)];
const EC2_VOLUME: [Mapping; 10] = ebs!("ec2-volume-encrypted");
const EC2_SG: [Mapping; 16] = [
    m("ec2-sg-no-public-admin-ports", Sh, "EC2.53", Aws),
    m("ec2-sg-no-public-admin-ports", Sh, "EC2.54", Aws),
    m("ec2-sg-no-public-admin-ports", Sh, "EC2.13", Aws),
    m("ec2-sg-no-public-admin-ports", Sh, "EC2.14", Aws),
    m("ec2-sg-no-public-admin-ports", Cis, "5.2", Aws),
    m("ec2-sg-no-public-admin-ports", Cis, "5.3", Aws),
    m("ec2-sg-no-public-admin-ports", PciDss, "1.3.1", Aws),
    m("ec2-sg-no-public-admin-ports", Nist, "AC-4", Aws),
    m("ec2-sg-no-public-admin-ports", Nist, "AC-4(21)", Aws),
    m("ec2-sg-no-public-admin-ports", Nist, "CM-7", Aws),
    m("ec2-sg-no-public-admin-ports", Nist, "SC-7", Aws),
    m("ec2-sg-no-public-admin-ports", Nist, "SC-7(4)", Aws),
    m("ec2-sg-no-public-admin-ports", Nist, "SC-7(5)", Aws),
    m("ec2-sg-no-public-admin-ports", Nist, "SC-7(11)", Aws),
    m("ec2-sg-no-public-admin-ports", Nist, "SC-7(16)", Aws),
    m("ec2-sg-no-public-admin-ports", Nist, "SC-7(21)", Aws),
];
const IAM_ADMIN: [Mapping; 2] = [m("iam-no-admin-access", Sh, "IAM.1", Aws), m("iam-no-admin-access", Cis, "1.16", Prowler)];
const IAM_ADMIN_NIST: [Mapping; 10] = nist_iam_1!("iam-no-admin-access");
const IAM_WILDCARD: [Mapping; 1] = [m("iam-no-wildcard-service-actions", Sh, "IAM.21", Aws)];
const IAM_WILDCARD_NIST: [Mapping; 10] = nist_iam_1!("iam-no-wildcard-service-actions");
const IAM_NOTACTION: [Mapping; 1] = [m("iam-no-allow-notaction", Nist, "AC-6", Vendor)];
const IAM_TRUST: [Mapping; 2] = [m("iam-role-trust-no-public-principal", Nist, "AC-3", Vendor), m("iam-role-trust-no-public-principal", Nist, "AC-6", Vendor)];
const IAM_USER: [Mapping; 9] = [
    m("iam-user-no-direct-policies", Sh, "IAM.2", Aws),
    m("iam-user-no-direct-policies", Cis, "1.15", Aws),
    m("iam-user-no-direct-policies", Nist, "AC-2", Aws),
    m("iam-user-no-direct-policies", Nist, "AC-2(1)", Aws),
    m("iam-user-no-direct-policies", Nist, "AC-3", Aws),
    m("iam-user-no-direct-policies", Nist, "AC-3(15)", Aws),
    m("iam-user-no-direct-policies", Nist, "AC-3(7)", Aws),
    m("iam-user-no-direct-policies", Nist, "AC-6", Aws),
    m("iam-user-no-direct-policies", Nist, "AC-6(3)", Aws),
];

/// Every mapping of the rule pack.
pub const MAPPINGS: [&[Mapping]; 21] = [
    &S3_SSE_KMS,
    &S3_PAB,
    &S3_PAB_NIST,
    &S3_ACL,
    &S3_ACL_NIST,
    &S3_SSL,
    &S3_VERSIONING,
    &S3_LOGGING,
    &EC2_IMDS,
    &EC2_PUBLIC_IP,
    &EC2_INSTANCE_EBS,
    &EC2_TAGS,
    &EC2_VOLUME,
    &EC2_SG,
    &IAM_ADMIN,
    &IAM_ADMIN_NIST,
    &IAM_WILDCARD,
    &IAM_WILDCARD_NIST,
    &IAM_NOTACTION,
    &IAM_TRUST,
    &IAM_USER,
];

/// Every mapping, in table order.
pub fn mappings() -> impl Iterator<Item = &'static Mapping> {
    MAPPINGS.iter().flat_map(|list| list.iter())
}

/// The mappings of one rule.
pub fn of_rule(rule: &str) -> impl Iterator<Item = &'static Mapping> + '_ {
    mappings().filter(move |mapping| mapping.rule == rule)
}

/// Orders requirement ids as people read them: digit runs by value (`AC-3(7)` before
/// `AC-3(15)`, `2.2.6` before `10.2.1`), the rest as text.
pub fn natural(a: &str, b: &str) -> Ordering {
    let (mut x, mut y) = (a.as_bytes(), b.as_bytes());
    loop {
        match (x.first(), y.first()) {
            (None, None) => return a.cmp(b),
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(p), Some(q)) if p.is_ascii_digit() && q.is_ascii_digit() => {
                let split = |s: &[u8]| s.iter().position(|c| !c.is_ascii_digit()).unwrap_or(s.len());
                let (i, j) = (split(x), split(y));
                let (dx, dy) = (x.get(..i).unwrap_or_default(), y.get(..j).unwrap_or_default());
                let (tx, ty) = (trim_zeros(dx), trim_zeros(dy));
                let by_value = tx.len().cmp(&ty.len()).then_with(|| tx.cmp(ty));
                if by_value != Ordering::Equal {
                    return by_value;
                }
                x = x.get(i..).unwrap_or_default();
                y = y.get(j..).unwrap_or_default();
            }
            (Some(p), Some(q)) => {
                if p != q {
                    return p.cmp(q);
                }
                x = x.get(1..).unwrap_or_default();
                y = y.get(1..).unwrap_or_default();
            }
        }
    }
}

fn trim_zeros(digits: &[u8]) -> &[u8] {
    let start = digits.iter().position(|d| *d != b'0').unwrap_or(digits.len());
    digits.get(start..).unwrap_or_default()
}

/// A requirement's status in a report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequirementStatus {
    /// A finding of one of its rules is NON_COMPLIANT.
    Failed,
    /// Its rules have compliant findings and none non-compliant.
    Passed,
    /// No finding of its rules was decided.
    NotAvailable,
}

impl RequirementStatus {
    /// Its spelling in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            RequirementStatus::Failed => "FAILED",
            RequirementStatus::Passed => "PASSED",
            RequirementStatus::NotAvailable => "NOT_AVAILABLE",
        }
    }
}

/// One requirement of a framework in a report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Requirement {
    /// Its id.
    pub id: &'static str,
    /// Its status.
    pub status: RequirementStatus,
    /// COMPLIANT findings of its rules.
    pub compliant: u64,
    /// NON_COMPLIANT findings of its rules.
    pub non_compliant: u64,
    /// Its rules, in id order.
    pub rules: Vec<&'static str>,
    /// Who says its rules evidence it (distinct, `aws` first).
    pub sources: Vec<Source>,
}

/// The requirements of every framework in a report, each framework's in natural order.
pub fn evaluate(report: &ScoreReport) -> Vec<(Framework, Vec<Requirement>)> {
    // (compliant, non-compliant) by rule index: a report has hundreds of thousands of findings
    // and a few dozen rules, so the counting is an array, and only the mappings look ids up.
    let mut by_index = [(0u64, 0u64); crate::rules::RULES.len()];
    for (_, finding) in report.findings() {
        if let Some(counts) = by_index.get_mut(usize::from(finding.rule)) {
            match finding.status {
                Status::Compliant => counts.0 += 1,
                Status::NonCompliant => counts.1 += 1,
                _ => {}
            }
        }
    }
    let by_rule: BTreeMap<&'static str, (u64, u64)> = crate::rules::RULES.iter().map(|r| r.id).zip(by_index).collect();
    FRAMEWORKS
        .into_iter()
        .map(|framework| {
            let mut requirements: Vec<Requirement> = Vec::new();
            for mapping in mappings().filter(|m| m.framework == framework) {
                let (compliant, non_compliant) = by_rule.get(mapping.rule).copied().unwrap_or_default();
                match requirements.iter_mut().find(|r| r.id == mapping.requirement) {
                    Some(r) => {
                        if !r.rules.contains(&mapping.rule) {
                            r.rules.push(mapping.rule);
                            r.compliant += compliant;
                            r.non_compliant += non_compliant;
                        }
                        if !r.sources.contains(&mapping.source) {
                            r.sources.push(mapping.source);
                        }
                    }
                    None => requirements.push(Requirement {
                        id: mapping.requirement,
                        status: RequirementStatus::NotAvailable,
                        compliant,
                        non_compliant,
                        rules: vec![mapping.rule],
                        sources: vec![mapping.source],
                    }),
                }
            }
            for r in &mut requirements {
                r.rules.sort_unstable();
                r.sources.sort_unstable();
                r.status = if r.non_compliant > 0 {
                    RequirementStatus::Failed
                } else if r.compliant > 0 {
                    RequirementStatus::Passed
                } else {
                    RequirementStatus::NotAvailable
                };
            }
            requirements.sort_by(|a, b| natural(a.id, b.id));
            (framework, requirements)
        })
        .collect()
}

/// Every rule of the pack is either mapped or known to be unmapped (none is forgotten).
pub fn unmapped_rules() -> impl Iterator<Item = &'static str> {
    RULES.iter().map(|r| r.id).filter(|id| of_rule(id).next().is_none())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_rule_is_mapped_and_every_mapping_names_a_rule() {
        assert_eq!(unmapped_rules().count(), 0);
        for mapping in mappings() {
            assert!(crate::rules::rule_index(mapping.rule).is_some(), "{mapping:?}");
        }
        for framework in FRAMEWORKS {
            assert_eq!(Framework::from_id(framework.id()), Some(framework));
        }
    }

    #[test]
    fn natural_order() {
        let mut ids = vec!["AC-3(15)", "AC-3(7)", "AC-3", "10.2.1", "2.2.6", "AC-21", "AC-2(1)", "AC-2", "S3.17", "S3.8"];
        ids.sort_by(|a, b| natural(a, b));
        assert_eq!(ids, ["2.2.6", "10.2.1", "AC-2", "AC-2(1)", "AC-3", "AC-3(7)", "AC-3(15)", "AC-21", "S3.8", "S3.17"]);
        assert_eq!(natural("1.01", "1.1"), Ordering::Less, "equal values fall back to the text");
    }
}
