//! The canonical JSON report (`compliance-report/v1`). Key order is fixed by the structs below
//! and finding order by the report, so identical inputs give identical bytes.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::value::RawValue;

use crate::report::{ResourceResult, ScoreReport, StatusCounts};
use crate::rules::{RULE_PACK_ID, RULE_PACK_VERSION, rule};
use crate::score::percent;
use crate::ENGINE_VERSION;

/// A score as a JSON number with exactly two decimals (`73.40`, not `73.4`).
struct Score(u32);

impl Serialize for Score {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let raw = RawValue::from_string(percent(self.0)).map_err(serde::ser::Error::custom)?;
        raw.serialize(serializer)
    }
}

#[derive(Serialize)]
struct Report<'a> {
    schema: &'static str,
    generated_at: &'a str,
    threshold: Score,
    threshold_bp: u32,
    score: Score,
    score_bp: u32,
    below_threshold: bool,
    engine: Engine<'a>,
    options: Options<'a>,
    input: Input<'a>,
    totals: Totals,
    by_severity: BySeverity,
    by_resource_type: BTreeMap<&'a str, TypeEntry>,
    resources: Vec<Resource<'a>>,
    findings: Vec<Finding<'a>>,
}

#[derive(Serialize)]
struct Engine<'a> {
    version: &'static str,
    component_sha256: &'a str,
    rule_pack: RulePack,
}

#[derive(Serialize)]
struct RulePack {
    id: &'static str,
    version: &'static str,
}

#[derive(Serialize)]
struct Options<'a> {
    criticality_tag: &'a str,
    required_tags: &'a [String],
}

#[derive(Serialize)]
struct Input<'a> {
    sha256: &'a str,
    items: u64,
    evaluated_resources: u64,
    skipped_resources: u64,
    superseded_items: u64,
    other_resources: &'a BTreeMap<String, u64>,
    notices: &'a [String],
    sources: Vec<Source<'a>>,
}

#[derive(Serialize)]
struct Source<'a> {
    name: &'a str,
    sha256: &'a str,
    bytes: u64,
    items: u64,
}

#[derive(Serialize)]
struct Totals {
    findings: u64,
    compliant: u64,
    non_compliant: u64,
    not_applicable: u64,
    insufficient_data: u64,
}

#[derive(Serialize)]
struct BySeverity {
    critical: SeverityCounts,
    high: SeverityCounts,
    medium: SeverityCounts,
    low: SeverityCounts,
}

#[derive(Serialize)]
struct SeverityCounts {
    compliant: u64,
    non_compliant: u64,
    not_applicable: u64,
    insufficient_data: u64,
}

#[derive(Serialize)]
struct TypeEntry {
    score: Score,
    score_bp: u32,
    resources: u64,
    non_compliant: u64,
}

#[derive(Serialize)]
struct Resource<'a> {
    resource_type: &'a str,
    resource_id: &'a str,
    resource_name: Option<&'a str>,
    arn: Option<&'a str>,
    account_id: &'a str,
    region: &'a str,
    criticality: &'static str,
    score: Score,
    score_bp: u32,
    failed_rules: Vec<&'static str>,
}

#[derive(Serialize)]
struct Finding<'a> {
    id: String,
    rule_id: &'static str,
    resource_type: &'a str,
    resource_id: &'a str,
    account_id: &'a str,
    region: &'a str,
    status: &'static str,
    severity: &'static str,
    message: &'a str,
    path: &'a str,
    remediable: bool,
}

fn resource(r: &ResourceResult) -> Resource<'_> {
    Resource {
        resource_type: &r.resource_type,
        resource_id: &r.resource_id,
        resource_name: r.resource_name.as_deref(),
        arn: r.arn.as_deref(),
        account_id: &r.account_id,
        region: &r.region,
        criticality: r.criticality.as_str(),
        score: Score(r.score_bp),
        score_bp: r.score_bp,
        failed_rules: r.failed_rules().collect(),
    }
}

fn counts(c: &StatusCounts) -> SeverityCounts {
    SeverityCounts { compliant: c.compliant, non_compliant: c.non_compliant, not_applicable: c.not_applicable, insufficient_data: c.insufficient_data }
}

/// Renders the report as pretty-printed JSON followed by a newline.
pub fn render(report: &ScoreReport) -> Result<Vec<u8>, serde_json::Error> {
    let meta = &report.meta;
    let sources = report
        .input
        .sources
        .iter()
        .map(|s| {
            let digest = meta.sources.iter().find(|d| d.name == s.name);
            Source { name: &s.name, sha256: digest.map_or("", |d| d.sha256.as_str()), bytes: digest.map_or(0, |d| d.bytes), items: s.items }
        })
        .collect();
    let view = Report {
        schema: crate::report::REPORT_SCHEMA,
        generated_at: &meta.generated_at,
        threshold: Score(report.threshold_bp),
        threshold_bp: report.threshold_bp,
        score: Score(report.score_bp),
        score_bp: report.score_bp,
        below_threshold: report.below_threshold(),
        engine: Engine { version: ENGINE_VERSION, component_sha256: &meta.component_sha256, rule_pack: RulePack { id: RULE_PACK_ID, version: RULE_PACK_VERSION } },
        options: Options { criticality_tag: &report.criticality_tag, required_tags: &report.required_tags },
        input: Input {
            sha256: &meta.input_sha256,
            items: report.input.items,
            evaluated_resources: report.input.evaluated_resources,
            skipped_resources: report.input.skipped_resources,
            superseded_items: report.input.superseded_items,
            other_resources: &report.input.other_resources,
            notices: &report.input.notices,
            sources,
        },
        totals: Totals {
            findings: report.totals.total(),
            compliant: report.totals.compliant,
            non_compliant: report.totals.non_compliant,
            not_applicable: report.totals.not_applicable,
            insufficient_data: report.totals.insufficient_data,
        },
        by_severity: {
            let [critical, high, medium, low] = &report.by_severity;
            BySeverity { critical: counts(&critical.1), high: counts(&high.1), medium: counts(&medium.1), low: counts(&low.1) }
        },
        by_resource_type: report
            .by_resource_type
            .iter()
            .map(|(t, s)| (t.as_str(), TypeEntry { score: Score(s.score_bp), score_bp: s.score_bp, resources: s.resources, non_compliant: s.non_compliant }))
            .collect(),
        resources: report.resources.iter().map(resource).collect(),
        findings: report
            .findings()
            .map(|(r, f)| {
                let def = rule(f.rule);
                Finding {
                    id: r.finding_id(f),
                    rule_id: def.id,
                    resource_type: &r.resource_type,
                    resource_id: &r.resource_id,
                    account_id: &r.account_id,
                    region: &r.region,
                    status: f.status.as_str(),
                    severity: def.severity.as_str(),
                    message: &f.message,
                    path: &f.path,
                    remediable: def.remediable,
                }
            })
            .collect(),
    };
    let mut out = serde_json::to_vec_pretty(&view)?;
    out.push(b'\n');
    Ok(out)
}
