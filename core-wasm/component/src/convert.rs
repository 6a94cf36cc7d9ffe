//! Conversions between WIT types and engine types.

use compliance_engine as engine;
use engine::report::{Finding as EngineFinding, ResourceResult as EngineResource, StatusCounts as EngineCounts};
use engine::render::TrendPoint as EngineTrend;
use engine::rules::{RuleDef, RuleParams};

use crate::compliance::engine::types::{
    Finding, InputProblem, Position, ReportMeta, ReportSummary, ResourceResult, RuleInfo, ScanError, ScanOptions, Severity, Status,
    StatusCounts, TrendPoint,
};

pub fn scan_options(options: ScanOptions) -> engine::ScanOptions {
    let params = if options.required_tags.is_empty() { RuleParams::default() } else { RuleParams { required_tags: options.required_tags } };
    engine::ScanOptions {
        threshold_bp: options.threshold_bp,
        criticality_tag: options.criticality_tag,
        params,
        max_item_bytes: usize::try_from(options.max_item_bytes).unwrap_or(usize::MAX),
    }
}

pub fn report_meta(meta: ReportMeta) -> engine::ReportMeta {
    engine::ReportMeta {
        generated_at: meta.generated_at,
        component_sha256: meta.component_sha256,
        input_sha256: meta.input_sha256,
        sources: meta.sources.into_iter().map(|s| engine::SourceDigest { name: s.name, sha256: s.sha256, bytes: s.bytes }).collect(),
    }
}

pub fn trend(points: Vec<TrendPoint>) -> Vec<EngineTrend> {
    points.into_iter().map(|p| EngineTrend { generated_at: p.generated_at, score_bp: p.score_bp }).collect()
}

fn problem(p: &engine::Position, message: String) -> InputProblem {
    InputProblem { position: Position { source: p.source.clone(), offset: p.offset, item_index: p.item_index }, message }
}

pub fn scan_error(e: engine::ScanError) -> ScanError {
    use engine::ScanError as E;
    match e {
        E::MalformedJson { position, message } => ScanError::MalformedJson(problem(&position, message)),
        E::UnsupportedShape { position, message } => ScanError::UnsupportedShape(problem(&position, message)),
        E::InvalidItem { position, message } => ScanError::InvalidItem(problem(&position, message)),
        E::LimitExceeded { position, message } => ScanError::LimitExceeded(problem(&position, message)),
        E::InvalidOption(m) => ScanError::InvalidOption(m),
        // The WIT variant is fixed since 1.0.0: the message carries the file, entry and field.
        e @ E::InvalidWaivers { .. } => ScanError::InvalidOption(e.to_string()),
        E::InvalidState(m) => ScanError::InvalidState(m),
    }
}

pub fn severity(s: engine::Severity) -> Severity {
    match s {
        engine::Severity::Critical => Severity::Critical,
        engine::Severity::High => Severity::High,
        engine::Severity::Medium => Severity::Medium,
        engine::Severity::Low => Severity::Low,
    }
}

pub fn status(s: engine::Status) -> Status {
    match s {
        engine::Status::Compliant => Status::Compliant,
        engine::Status::NonCompliant => Status::NonCompliant,
        engine::Status::NotApplicable => Status::NotApplicable,
        engine::Status::InsufficientData => Status::InsufficientData,
    }
}

pub fn status_from_wit(s: Status) -> engine::Status {
    match s {
        Status::Compliant => engine::Status::Compliant,
        Status::NonCompliant => engine::Status::NonCompliant,
        Status::NotApplicable => engine::Status::NotApplicable,
        Status::InsufficientData => engine::Status::InsufficientData,
    }
}

fn counts(c: &EngineCounts) -> StatusCounts {
    StatusCounts { compliant: c.compliant, non_compliant: c.non_compliant, not_applicable: c.not_applicable, insufficient_data: c.insufficient_data }
}

pub fn summary(report: &engine::ScoreReport) -> ReportSummary {
    let [critical, high, medium, low] = &report.by_severity;
    ReportSummary {
        score_bp: report.score_bp,
        threshold_bp: report.threshold_bp,
        below_threshold: report.below_threshold(),
        items: report.input.items,
        evaluated_resources: report.input.evaluated_resources,
        skipped_resources: report.input.skipped_resources,
        totals: counts(&report.totals),
        critical: counts(&critical.1),
        high: counts(&high.1),
        medium: counts(&medium.1),
        low: counts(&low.1),
    }
}

pub fn resource(r: &EngineResource) -> ResourceResult {
    ResourceResult {
        resource_type: r.resource_type.to_string(),
        resource_id: r.resource_id.clone(),
        arn: r.arn.clone(),
        account_id: r.account_id.clone(),
        region: r.region.clone(),
        criticality: r.criticality.as_str().to_owned(),
        score_bp: r.score_bp,
        failed_rules: r.failed_rules().map(str::to_owned).collect(),
    }
}

pub fn finding(r: &EngineResource, f: &EngineFinding) -> Finding {
    let def = engine::rules::rule(f.rule);
    Finding {
        id: r.finding_id(f),
        rule_id: def.id.to_owned(),
        resource_type: r.resource_type.to_string(),
        resource_id: r.resource_id.clone(),
        arn: r.arn.clone(),
        account_id: r.account_id.clone(),
        region: r.region.clone(),
        status: status(f.status),
        severity: severity(def.severity),
        message: f.message.to_string(),
        path: f.path.to_string(),
        remediable: def.remediable,
    }
}

pub fn rule_info(def: &RuleDef) -> RuleInfo {
    RuleInfo {
        id: def.id.to_owned(),
        title: def.title.to_owned(),
        resource_types: def.resource_types.iter().map(|t| (*t).to_owned()).collect(),
        severity: severity(def.severity),
        remediable: def.remediable,
        compliant_when: def.compliant_when.to_owned(),
        remediation: def.remediation.to_owned(),
    }
}
