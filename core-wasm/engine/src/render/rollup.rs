//! The org report (`compliance-rollup/v1`) as JSON and as a self-contained HTML page. Like the
//! scan report, identical inputs give identical bytes: every list is sorted by the roll-up.

use std::collections::BTreeMap;
use std::fmt::Write;

use serde::Serialize;

use super::html::{STYLE, escape, gauge, group_row};
use super::json::{Engine, GroupEntry, Score};
use crate::rollup::{PartStatus, ROLLUP_SCHEMA, RollupReport};
use crate::rules::{RULE_PACK_ID, RULE_PACK_VERSION};
use crate::score::percent;
use crate::ENGINE_VERSION;

/// Accounts listed under "worst accounts".
const WORST: usize = 10;

#[derive(Serialize)]
struct Rollup<'a> {
    schema: &'static str,
    org_id: &'a str,
    generated_at: &'a str,
    threshold: Score,
    threshold_bp: u32,
    score: Score,
    score_bp: u32,
    below_threshold: bool,
    alert: bool,
    weight_compliant: u64,
    weight_decided: u64,
    engine: Engine<'a>,
    window: Window<'a>,
    totals: Totals,
    accounts_below_threshold: Vec<&'a str>,
    worst_accounts: Vec<Worst<'a>>,
    by_account: BTreeMap<&'a str, AccountEntry>,
    by_region: BTreeMap<&'a str, GroupEntry>,
    missing: Vec<Absent<'a>>,
    inputs: Vec<Input<'a>>,
    account_regions: Vec<Part<'a>>,
    expected: Vec<Expected<'a>>,
}

#[derive(Serialize)]
struct Window<'a> {
    start: Option<&'a str>,
    end: &'a str,
    forget_after_hours: u32,
}

#[derive(Serialize)]
struct Totals {
    inputs: u64,
    accounts: u64,
    account_regions: u64,
    resources: u64,
    non_compliant: u64,
    missing: u64,
    stale: u64,
}

#[derive(Serialize)]
struct Worst<'a> {
    account_id: &'a str,
    score: Score,
    score_bp: u32,
}

#[derive(Serialize)]
struct AccountEntry {
    #[serde(flatten)]
    summary: GroupEntry,
    regions: u64,
}

#[derive(Serialize)]
struct Absent<'a> {
    account_id: &'a str,
    region: &'a str,
    last_seen: &'a str,
    reason: &'static str,
}

#[derive(Serialize)]
struct Input<'a> {
    name: &'a str,
    report_sha256: &'a str,
    generated_at: &'a str,
    component_sha256: &'a str,
    input_sha256: &'a str,
    rule_pack_version: &'a str,
    score: Score,
    score_bp: u32,
}

#[derive(Serialize)]
struct Part<'a> {
    account_id: &'a str,
    region: &'a str,
    status: &'static str,
    input: &'a str,
    generated_at: &'a str,
    #[serde(flatten)]
    summary: GroupEntry,
}

#[derive(Serialize)]
struct Expected<'a> {
    account_id: &'a str,
    region: &'a str,
    last_seen: &'a str,
}

/// Accounts, worst first (ties by id).
fn worst_accounts(report: &RollupReport) -> Vec<(&str, u32)> {
    let mut accounts: Vec<(&str, u32)> = report.by_account.iter().map(|(id, (g, _))| (id.as_str(), g.score_bp())).collect();
    accounts.sort_by(|a, b| a.1.cmp(&b.1).then_with(|| a.0.cmp(b.0)));
    accounts
}

/// Renders the org report as pretty-printed JSON followed by a newline.
pub fn json(report: &RollupReport) -> Result<Vec<u8>, serde_json::Error> {
    let r = &report.request;
    let count = |n: usize| n as u64;
    let stale = report.absent.iter().filter(|a| a.absence == crate::rollup::Absence::Stale).count();
    let view = Rollup {
        schema: ROLLUP_SCHEMA,
        org_id: &r.org_id,
        generated_at: &r.generated_at,
        threshold: Score(r.threshold_bp),
        threshold_bp: r.threshold_bp,
        score: Score(report.score_bp()),
        score_bp: report.score_bp(),
        below_threshold: report.below_threshold(),
        alert: report.alert(),
        weight_compliant: report.total.tally.compliant,
        weight_decided: report.total.tally.decided,
        engine: Engine::new(&r.component_sha256),
        window: Window { start: r.window_start.as_deref(), end: &r.generated_at, forget_after_hours: r.forget_after_hours },
        totals: Totals {
            inputs: count(report.inputs.len()),
            accounts: count(report.by_account.len()),
            account_regions: count(report.parts.iter().filter(|p| p.status == PartStatus::Counted).count()),
            resources: report.total.resources,
            non_compliant: report.total.non_compliant,
            missing: count(report.absent.len() - stale),
            stale: count(stale),
        },
        accounts_below_threshold: report.accounts_below_threshold().collect(),
        worst_accounts: worst_accounts(report).into_iter().take(WORST).map(|(account_id, bp)| Worst { account_id, score: Score(bp), score_bp: bp }).collect(),
        by_account: report.by_account.iter().map(|(id, (g, regions))| (id.as_str(), AccountEntry { summary: GroupEntry::new(g), regions: *regions })).collect(),
        by_region: report.by_region.iter().map(|(id, g)| (id.as_str(), GroupEntry::new(g))).collect(),
        missing: report
            .absent
            .iter()
            .map(|a| Absent { account_id: &a.expected.account_id, region: &a.expected.region, last_seen: &a.expected.last_seen, reason: a.absence.as_str() })
            .collect(),
        inputs: report
            .inputs
            .iter()
            .map(|i| Input {
                name: &i.name,
                report_sha256: &i.report_sha256,
                generated_at: &i.generated_at,
                component_sha256: &i.component_sha256,
                input_sha256: &i.input_sha256,
                rule_pack_version: &i.rule_pack_version,
                score: Score(i.score_bp),
                score_bp: i.score_bp,
            })
            .collect(),
        account_regions: report
            .parts
            .iter()
            .map(|p| {
                let input = report.inputs.get(p.input);
                Part {
                    account_id: &p.part.account_id,
                    region: &p.part.region,
                    status: p.status.as_str(),
                    input: input.map_or("", |i| i.name.as_str()),
                    generated_at: input.map_or("", |i| i.generated_at.as_str()),
                    summary: GroupEntry::new(&p.part.summary),
                }
            })
            .collect(),
        expected: r.expected.iter().map(|e| Expected { account_id: &e.account_id, region: &e.region, last_seen: &e.last_seen }).collect(),
    };
    let mut out = serde_json::to_vec_pretty(&view)?;
    out.push(b'\n');
    Ok(out)
}

/// Renders the org report as one self-contained HTML page.
pub fn html(report: &RollupReport) -> Vec<u8> {
    let r = &report.request;
    let mut h = String::with_capacity(32 * 1024);
    let score = percent(report.score_bp());
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\">\
         <title>Organization compliance — {score}%</title><style>{STYLE}</style></head><body>\n"
    );
    let (class, verdict) = if report.below_threshold() { ("below", "Below threshold") } else { ("above", "At or above threshold") };
    let below: Vec<&str> = report.accounts_below_threshold().collect();
    let window = r.window_start.as_deref().map_or_else(|| "every summary given".to_owned(), |s| format!("{} to {}", escape(s), escape(&r.generated_at)));
    let _ = writeln!(
        h,
        "<h1>Organization compliance — {}</h1><p class=\"muted\">Generated {} · window {window} · rule pack {RULE_PACK_ID} {RULE_PACK_VERSION}</p>\
         <div class=\"summary\">{}<div><div class=\"verdict {class}\">{verdict}</div>\
         <div>Org score <strong>{score}%</strong> against a threshold of {}% — Σ weight compliant {} / Σ weight decided {} over {} account-regions</div>\
         <div class=\"muted\">{} accounts · {} resources · {} non-compliant · {} accounts below the threshold · {} account-regions missing or stale</div></div></div>",
        escape(&r.org_id),
        escape(&r.generated_at),
        gauge(report.score_bp(), r.threshold_bp),
        percent(r.threshold_bp),
        report.total.tally.compliant,
        report.total.tally.decided,
        report.parts.iter().filter(|p| p.status == PartStatus::Counted).count(),
        report.by_account.len(),
        report.total.resources,
        report.total.non_compliant,
        below.len(),
        report.absent.len(),
    );
    h.push_str("<h2>Accounts, worst first</h2><table><tr><th>Account</th><th class=\"num\">Score</th><th class=\"num\">Weight compliant / decided</th><th class=\"num\">Regions</th><th class=\"num\">Resources</th><th class=\"num\">Non-compliant</th></tr>");
    for (account, _) in worst_accounts(report) {
        if let Some((g, regions)) = report.by_account.get(account) {
            group_row(&mut h, &format!("<code>{}</code>", escape(account)), g, r.threshold_bp, Some(*regions));
        }
    }
    h.push_str("</table>\n<h2>Regions</h2><table><tr><th>Region</th><th class=\"num\">Score</th><th class=\"num\">Weight compliant / decided</th><th class=\"num\">Resources</th><th class=\"num\">Non-compliant</th></tr>");
    for (region, g) in &report.by_region {
        group_row(&mut h, &escape(region), g, r.threshold_bp, None);
    }
    h.push_str("</table>\n<h2>Missing or stale account-regions</h2>");
    if report.absent.is_empty() {
        h.push_str("<p>Every expected account-region delivered a summary in the window.</p>\n");
    } else {
        h.push_str("<table><tr><th>Account</th><th>Region</th><th>Last seen</th><th>Why</th></tr>");
        for a in &report.absent {
            let _ = write!(
                h,
                "<tr><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td></tr>",
                escape(&a.expected.account_id),
                escape(&a.expected.region),
                escape(&a.expected.last_seen),
                a.absence.as_str()
            );
        }
        h.push_str("</table>\n");
    }
    let _ = write!(
        h,
        "<h2>Provenance</h2><p>To reproduce this score: <code>compliance verify rollup.json REPORT.json…</code> with the reports below; \
         each report verifies against its own inputs with <code>compliance verify</code>.</p><dl><dt>Engine</dt><dd>{ENGINE_VERSION}</dd>\
         <dt>Component sha256</dt><dd><code>{}</code></dd></dl><table><tr><th>Report</th><th>Generated</th><th class=\"num\">Score</th><th>Report sha256</th><th>Input sha256</th><th>Component sha256</th></tr>",
        escape(if r.component_sha256.is_empty() { "(native engine, no component)" } else { &r.component_sha256 })
    );
    for i in &report.inputs {
        let _ = write!(
            h,
            "<tr><td>{}</td><td>{}</td><td class=\"num\">{}%</td><td><code>{}</code></td><td><code>{}</code></td><td><code>{}</code></td></tr>",
            escape(&i.name),
            escape(&i.generated_at),
            percent(i.score_bp),
            escape(&i.report_sha256),
            escape(&i.input_sha256),
            escape(&i.component_sha256)
        );
    }
    h.push_str("</table>\n</body></html>\n");
    h.into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::GroupSummary;
    use crate::rollup::{AccountRegionPart, RollupInput, RollupRequest, roll_up};
    use crate::score::Tally;

    #[test]
    fn org_reports_render_deterministically_and_escape_names() {
        let part = |account: &str| AccountRegionPart {
            account_id: account.into(),
            region: "us-east-1".into(),
            summary: GroupSummary { tally: Tally { compliant: 3, decided: 4 }, resources: 1, non_compliant: 1 },
        };
        let inputs = vec![
            RollupInput { name: "<b>x</b>".into(), generated_at: "2026-12-01T10:00:00Z".into(), parts: vec![part("111")], ..RollupInput::default() },
            RollupInput { name: "y".into(), generated_at: "2026-12-01T10:00:00Z".into(), parts: vec![part("222")], ..RollupInput::default() },
        ];
        let request = RollupRequest { org_id: "o-<script>".into(), threshold_bp: 8000, generated_at: "2026-12-01T10:05:00Z".into(), ..RollupRequest::default() };
        let report = roll_up(request.clone(), inputs.clone()).expect("rolls up");
        let mut reversed = inputs;
        reversed.reverse();
        let again = roll_up(request, reversed).expect("rolls up");
        assert_eq!(json(&report).expect("json"), json(&again).expect("json"));
        let text = String::from_utf8(json(&report).expect("json")).expect("utf-8");
        let value: serde_json::Value = serde_json::from_str(&text).expect("valid JSON");
        assert_eq!(value["score_bp"], 7500);
        assert_eq!(value["weight_decided"], 8);
        assert_eq!(value["alert"], true);
        assert_eq!(value["by_account"]["111"]["regions"], 1);
        let page = String::from_utf8(html(&report)).expect("utf-8");
        assert!(!page.contains("<script>") && !page.contains("<b>x"), "resource strings are escaped");
        assert!(page.contains("75.00%"));
    }
}
