//! The `rollup` interface (WIT 1.2.0): conversions around `compliance_engine::rollup`.

use compliance_engine as engine;
use engine::report::GroupSummary;
use engine::rollup::{AccountRegionPart, ExpectedPart, RollupInput, RollupRequest};
use engine::score::Tally;

use crate::exports::compliance::engine::rollup::{Expected, Outcome, Request, RollupError, RollupFormat, Summary};

fn expected_from_wit(e: Expected) -> ExpectedPart {
    ExpectedPart { account_id: e.account_id, region: e.region, last_seen: e.last_seen }
}

fn expected_to_wit(e: &ExpectedPart) -> Expected {
    Expected { account_id: e.account_id.clone(), region: e.region.clone(), last_seen: e.last_seen.clone() }
}

fn input(s: Summary) -> RollupInput {
    RollupInput {
        name: s.name,
        report_sha256: s.report_sha256,
        generated_at: s.generated_at,
        component_sha256: s.component_sha256,
        input_sha256: s.input_sha256,
        rule_pack_version: s.rule_pack_version,
        score_bp: s.score_bp,
        parts: s
            .parts
            .into_iter()
            .map(|p| AccountRegionPart {
                account_id: p.account_id,
                region: p.region,
                summary: GroupSummary { tally: Tally { compliant: p.weight_compliant, decided: p.weight_decided }, resources: p.resources, non_compliant: p.non_compliant },
            })
            .collect(),
    }
}

/// `rollup.roll-up`.
pub fn roll_up(request: Request, summaries: Vec<Summary>, formats: Vec<RollupFormat>) -> Result<Outcome, RollupError> {
    let request = RollupRequest {
        org_id: request.org_id,
        threshold_bp: request.threshold_bp,
        generated_at: request.generated_at,
        window_start: request.window_start,
        forget_after_hours: request.forget_after_hours,
        expected: request.expected.into_iter().map(expected_from_wit).collect(),
        component_sha256: request.component_sha256,
    };
    let report = engine::rollup::roll_up(request, summaries.into_iter().map(input).collect()).map_err(|e| match e {
        engine::rollup::RollupError::InvalidInput { .. } => RollupError::InvalidInput(e.to_string()),
        engine::rollup::RollupError::InvalidOption(m) => RollupError::InvalidOption(m),
    })?;
    let rendered = formats
        .into_iter()
        .map(|format| match format {
            RollupFormat::Json => engine::render::rollup::json(&report).map_err(|e| RollupError::RenderFailed(e.to_string())),
            RollupFormat::Html => Ok(engine::render::rollup::html(&report)),
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Outcome {
        score_bp: report.score_bp(),
        weight_compliant: report.total.tally.compliant,
        weight_decided: report.total.tally.decided,
        below_threshold: report.below_threshold(),
        alert: report.alert(),
        accounts_below_threshold: report.accounts_below_threshold().map(str::to_owned).collect(),
        missing: report.absent.iter().map(|a| expected_to_wit(&a.expected)).collect(),
        seen: report.seen().iter().map(expected_to_wit).collect(),
        rendered,
    })
}
