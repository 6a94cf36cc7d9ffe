//! The HTML report: one self-contained file (inline CSS and SVG, no script, no external
//! fetches) for compliance officers. Every string that came from a resource is escaped.

use std::fmt::Write;

use super::{Previous, TrendPoint};
use crate::report::{GroupSummary, ResourceResult, ScoreReport};
use crate::rules::{RULE_PACK_ID, RULE_PACK_VERSION, Status, rule};
use crate::score::percent;
use crate::ENGINE_VERSION;

/// Resources listed in the "worst resources" table.
const WORST: usize = 15;

pub(crate) const STYLE: &str = "
:root{--ok:#1a7f37;--bad:#c4320a;--warn:#9a6700;--ink:#1f2328;--muted:#59636e;--line:#d1d9e0}
*{box-sizing:border-box}body{font:15px/1.45 system-ui,-apple-system,'Segoe UI',sans-serif;color:var(--ink);margin:0 auto;max-width:1100px;padding:24px}
h1{font-size:24px;margin:0 0 4px}h3{font-size:16px;margin:18px 0 4px}h2{font-size:18px;margin:28px 0 8px;border-bottom:1px solid var(--line);padding-bottom:4px}
.muted{color:var(--muted)}.summary{display:flex;gap:32px;align-items:center;flex-wrap:wrap}
.verdict{font-size:18px;font-weight:600}.below{color:var(--bad)}.above{color:var(--ok)}
table{border-collapse:collapse;width:100%;margin:6px 0}th,td{border-bottom:1px solid var(--line);padding:5px 8px;text-align:left;vertical-align:top}
th{background:#f6f8fa;font-weight:600}td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
.sev-critical{color:#fff;background:#8c1d18}.sev-high{color:#fff;background:var(--bad)}.sev-medium{background:#f2cc60}.sev-low{background:#d8dee4}
.badge{display:inline-block;padding:0 6px;border-radius:8px;font-size:12px;font-weight:600}
code{font:12px ui-monospace,SFMono-Regular,Menlo,monospace;word-break:break-all}
.waived{color:var(--ink);background:#ddf4ff;border:1px solid #54aeff}.st-FAILED{color:#fff;background:var(--bad)}.st-PASSED{color:#fff;background:var(--ok)}.st-NOT_AVAILABLE{background:#d8dee4}
.finding td{font-size:14px}dl{display:grid;grid-template-columns:max-content 1fr;gap:2px 16px}dt{font-weight:600}dd{margin:0}
@media print{body{max-width:none;padding:0;font-size:11px}h2{break-after:avoid}tr{break-inside:avoid}.noprint{display:none}}
";

/// Escapes text for HTML element content and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if c.is_control() && c != '\n' => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

/// Renders the report; `trend` is the score history (oldest first), possibly empty.
pub fn render(report: &ScoreReport, trend: &[TrendPoint]) -> Vec<u8> {
    render_since(report, trend, None)
}

/// Renders the report with, when `previous` is given, what changed since that scan.
pub fn render_since(report: &ScoreReport, trend: &[TrendPoint], previous: Option<&Previous>) -> Vec<u8> {
    let mut pages = HtmlPages::default();
    let mut out = Vec::new();
    loop {
        let page = pages.next_page_since(report, trend, previous, usize::MAX);
        if page.is_empty() {
            return out;
        }
        if out.is_empty() {
            out = page;
        } else {
            out.extend_from_slice(&page);
        }
    }
}

/// The HTML report in pieces of about `max_bytes` (see [`HtmlPages::next_page`]) that
/// concatenate to [`render`]'s bytes. Nearly all of a large report is its failing findings'
/// rows (about 200 MB for a million resources): the sections before them make the first piece,
/// the rows the pieces after it, and the sections after them the last.
#[derive(Default)]
pub struct HtmlPages {
    stage: HtmlStage,
}

#[derive(Default, Clone, Copy, PartialEq, Eq)]
enum HtmlStage {
    #[default]
    Head,
    /// The next finding to look at (resource index, finding index): a row if it fails.
    Rows { resource: usize, finding: usize },
    Tail,
    Done,
}

impl HtmlPages {
    /// Whether the last piece has been handed out.
    pub fn is_done(&self) -> bool {
        self.stage == HtmlStage::Done
    }

    /// The next piece: at least `max_bytes` long unless it is the last one (one row more at
    /// most), empty once the report is complete. `trend` must be the same on every call.
    pub fn next_page(&mut self, report: &ScoreReport, trend: &[TrendPoint], max_bytes: usize) -> Vec<u8> {
        self.next_page_since(report, trend, None, max_bytes)
    }

    /// [`Self::next_page`] of [`render_since`].
    fn next_page_since(&mut self, report: &ScoreReport, trend: &[TrendPoint], previous: Option<&Previous>, max_bytes: usize) -> Vec<u8> {
        if self.stage == HtmlStage::Done {
            return Vec::new();
        }
        let mut h = String::with_capacity(if max_bytes == usize::MAX { 64 * 1024 } else { max_bytes.saturating_add(1 << 12).min(64 << 20) });
        while h.len() < max_bytes {
            match self.stage {
                HtmlStage::Head => {
                    head(&mut h, report, trend, previous);
                    self.stage = HtmlStage::Rows { resource: 0, finding: 0 };
                }
                HtmlStage::Rows { resource, finding } => {
                    let Some(r) = report.resources.get(resource) else {
                        self.stage = HtmlStage::Tail;
                        continue;
                    };
                    let Some(f) = r.findings.get(finding) else {
                        self.stage = HtmlStage::Rows { resource: resource + 1, finding: 0 };
                        continue;
                    };
                    if f.status == Status::NonCompliant {
                        finding_row(&mut h, report, r, f);
                    }
                    self.stage = HtmlStage::Rows { resource, finding: finding + 1 };
                }
                HtmlStage::Tail => {
                    tail(&mut h, report);
                    self.stage = HtmlStage::Done;
                }
                HtmlStage::Done => break,
            }
        }
        h.into_bytes()
    }
}

/// Everything before the failing findings' rows: the sections, the findings' heading, and the
/// table's header row (or "Nothing to fix.").
fn head(h: &mut String, report: &ScoreReport, trend: &[TrendPoint], previous: Option<&Previous>) {
    document_start(h, report);
    header(h, report);
    trend_section(h, report, trend);
    if let Some(previous) = previous {
        since_section(h, report, previous);
    }
    severity_section(h, report);
    type_section(h, report);
    account_section(h, report);
    frameworks_section(h, report);
    waivers_section(h, report);
    worst_section(h, report);
    let failing = failing_findings(report);
    let _ = write!(h, "<h2>Failing findings ({failing})</h2>");
    if failing == 0 {
        h.push_str("<p>Nothing to fix.</p>\n");
    } else {
        h.push_str("<table><tr><th>Severity</th><th>Rule</th><th>Resource</th><th>What is wrong</th><th>What to do</th></tr>");
    }
}

/// The document up to its body: the title with the score, the style, the content policy.
fn document_start(h: &mut String, report: &ScoreReport) {
    let score = percent(report.score_bp);
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\">\
         <title>Compliance report — {score}%</title><style>{STYLE}</style></head><body>\n"
    );
}

/// Everything after the failing findings' rows.
fn tail(h: &mut String, report: &ScoreReport) {
    if failing_findings(report) > 0 {
        h.push_str("</table>\n");
    }
    let insufficient = report.totals.insufficient_data;
    if insufficient > 0 {
        let _ = writeln!(h, "<p class=\"muted\">{insufficient} findings could not be decided because evidence was missing from the input (INSUFFICIENT_DATA); they count neither for nor against the score. See the JSON report for each.</p>");
    }
    provenance_section(h, report);
    h.push_str("</body></html>\n");
}

/// How many findings are NON_COMPLIANT (waived or not): the rows of the findings table.
fn failing_findings(report: &ScoreReport) -> usize {
    report.findings().filter(|(_, f)| f.status == Status::NonCompliant).count()
}

fn header(h: &mut String, report: &ScoreReport) {
    let below = report.below_threshold();
    let (class, verdict) = if below { ("below", "Below threshold") } else { ("above", "At or above threshold") };
    let _ = writeln!(
        h,
        "<h1>AWS compliance report</h1><p class=\"muted\">Generated {} · rule pack {RULE_PACK_ID} {RULE_PACK_VERSION}</p>\
         <div class=\"summary\">{}<div><div class=\"verdict {class}\">{verdict}</div>\
         <div>Score <strong>{}%</strong> against a threshold of {}%</div>\
         <div class=\"muted\">{} resources evaluated · {} skipped (deleted or not recorded) · {} of other types · {} findings, {} non-compliant, {} with insufficient data</div></div></div>",
        escape(&report.meta.generated_at),
        gauge(report.score_bp, report.threshold_bp),
        percent(report.score_bp),
        percent(report.threshold_bp),
        report.input.evaluated_resources,
        report.input.skipped_resources,
        report.input.other_resources.values().sum::<u64>(),
        report.totals.total(),
        report.totals.non_compliant,
        report.totals.insufficient_data,
    );
    if report.waivers.file.is_some() {
        let _ = writeln!(
            h,
            "<p>Score with waivers <strong>{}%</strong>: {} non-compliant findings are waived by {} active waivers (accepted risks, <a href=\"#waivers\">listed below</a>). \
             The score above counts them as non-compliant; waivers never change it.</p>",
            percent(report.score_with_waivers_bp()),
            report.waivers.waived_findings(),
            report.waivers.active().count(),
        );
    }
}

/// Rows listed per table of the "since the previous scan" section.
const SINCE_LISTED: usize = 200;

/// Findings that became NON_COMPLIANT, and those resolved, since the previous scan.
fn since_section(h: &mut String, report: &ScoreReport, previous: &Previous) {
    let mut failing_now = std::collections::BTreeSet::new();
    let mut newly = Vec::new();
    for (r, f) in report.findings().filter(|(_, f)| f.status == Status::NonCompliant) {
        let key = (r.resource_type.to_string(), r.resource_id.clone(), r.account_id.clone(), r.region.clone(), rule(f.rule).id.to_owned());
        if !previous.failed.contains(&key) {
            newly.push((r, f));
        }
        failing_now.insert(key);
    }
    let present: std::collections::BTreeSet<(&str, &str, &str, &str)> =
        report.resources.iter().map(|r| (&*r.resource_type, r.resource_id.as_str(), r.account_id.as_str(), r.region.as_str())).collect();
    let resolved: Vec<_> = previous.failed.iter().filter(|k| !failing_now.contains(*k)).collect();
    let _ = write!(
        h,
        "<h2 id=\"since\">Since the previous scan</h2><p class=\"muted\">Compared with the scan of {}: {} findings newly failing, {} resolved.</p>",
        escape(&previous.generated_at),
        newly.len(),
        resolved.len()
    );
    let _ = write!(h, "<h3>Newly failing ({})</h3>", newly.len());
    if !newly.is_empty() {
        h.push_str("<table><tr><th>Severity</th><th>Rule</th><th>Resource</th><th>What is wrong</th></tr>");
        for (r, f) in newly.iter().take(SINCE_LISTED) {
            let s = rule(f.rule).severity.as_str();
            let _ = write!(
                h,
                "<tr class=\"finding\"><td><span class=\"badge sev-{s}\">{s}</span></td><td><code>{}</code></td><td>{}<br><span class=\"muted\">{} · {} · {}</span></td><td>{}</td></tr>",
                rule(f.rule).id,
                display_name(r),
                escape(&r.resource_type),
                escape(&r.account_id),
                escape(&r.region),
                escape(&f.message)
            );
        }
        h.push_str("</table>");
        if newly.len() > SINCE_LISTED {
            let _ = write!(h, "<p class=\"muted\">… and {} more; every failing finding is listed below.</p>", newly.len() - SINCE_LISTED);
        }
    }
    let _ = write!(h, "<h3>Resolved ({})</h3>", resolved.len());
    if !resolved.is_empty() {
        h.push_str("<table><tr><th>Rule</th><th>Resource</th><th>Now</th></tr>");
        for (resource_type, resource_id, account, region, rule_id) in resolved.iter().take(SINCE_LISTED) {
            let now = if present.contains(&(resource_type.as_str(), resource_id.as_str(), account.as_str(), region.as_str())) { "no longer failing" } else { "resource gone" };
            let _ = write!(
                h,
                "<tr><td><code>{}</code></td><td>{}<br><span class=\"muted\">{} · {} · {}</span></td><td>{now}</td></tr>",
                escape(rule_id),
                escape(resource_id),
                escape(resource_type),
                escape(account),
                escape(region)
            );
        }
        h.push_str("</table>");
        if resolved.len() > SINCE_LISTED {
            let _ = write!(h, "<p class=\"muted\">… and {} more.</p>", resolved.len() - SINCE_LISTED);
        }
    }
    h.push('\n');
}

/// The waivers (SPEC §11): what needs attention first, then every waiver of the file.
fn waivers_section(h: &mut String, report: &ScoreReport) {
    let w = &report.waivers;
    let Some((name, _, _)) = &w.file else { return };
    let _ = write!(h, "<h2 id=\"waivers\">Waivers ({} in <code>{}</code>)</h2>", w.waivers.len(), escape(name));
    let lists: [(&str, Vec<&crate::waiver::WaiverUse>); 3] = [
        ("Expired — the findings they covered count against the score with waivers again", w.expired().collect()),
        ("Expiring within 30 days — renew or fix", w.expiring_soon().collect()),
        ("Matched no finding — a typo, or the resource is gone", w.unmatched().collect()),
    ];
    for (title, uses) in lists {
        let _ = write!(h, "<h3>{title}: {}</h3>", uses.len());
        if !uses.is_empty() {
            h.push_str("<ul>");
            for u in uses {
                let _ = write!(h, "<li><code>{}</code> — {}, expires {} (ticket {})</li>", escape(&u.waiver.id), escape(&u.waiver.owner), escape(&u.waiver.expires), escape(&u.waiver.ticket));
            }
            h.push_str("</ul>");
        }
    }
    h.push_str(
        "<table><tr><th>Waiver</th><th>Rule</th><th>Covers</th><th>Owner / approved</th><th>Expires</th><th>State</th><th class=\"num\">Waived findings</th><th>Reason</th></tr>",
    );
    for u in &w.waivers {
        let covers = match &u.waiver.scope {
            crate::waiver::Scope::Resource(r) => format!("<code>{}</code>", escape(r)),
            crate::waiver::Scope::Account(a) => format!("every resource of account <code>{}</code>", escape(a)),
        };
        let state = match (u.state, u.expiring_soon) {
            (crate::waiver::WaiverState::Expired, _) => "<span class=\"badge st-FAILED\">expired</span>",
            (_, true) => "<span class=\"badge sev-medium\">expiring soon</span>",
            _ => "<span class=\"badge st-PASSED\">active</span>",
        };
        let _ = write!(
            h,
            "<tr><td><code>{}</code><br><span class=\"muted\">{}</span></td><td><code>{}</code></td><td>{covers}</td><td>{}<br><span class=\"muted\">by {} on {}</span></td>\
             <td>{}</td><td>{state}</td><td class=\"num\">{} of {}</td><td>{}</td></tr>",
            escape(&u.waiver.id),
            escape(&u.waiver.ticket),
            rule(u.waiver.rule).id,
            escape(&u.waiver.owner),
            escape(&u.waiver.approved_by),
            escape(&u.waiver.approved_on),
            escape(&u.waiver.expires),
            u.waived_findings,
            u.matched_findings,
            escape(&u.waiver.reason),
        );
    }
    h.push_str("</table>\n");
}

/// A ring gauge: the score as an arc, the threshold as a tick.
pub(crate) fn gauge(score_bp: u32, threshold_bp: u32) -> String {
    let circumference = 301.59_f64; // 2π × 48
    let filled = circumference * f64::from(score_bp) / 10_000.0;
    let angle = 360.0 * f64::from(threshold_bp) / 10_000.0 - 90.0;
    let (sin, cos) = angle.to_radians().sin_cos();
    let colour = if score_bp < threshold_bp { "#c4320a" } else { "#1a7f37" };
    format!(
        "<svg width=\"140\" height=\"140\" viewBox=\"0 0 120 120\" role=\"img\" aria-label=\"score {score}%\">\
         <circle cx=\"60\" cy=\"60\" r=\"48\" fill=\"none\" stroke=\"#d1d9e0\" stroke-width=\"14\"/>\
         <circle cx=\"60\" cy=\"60\" r=\"48\" fill=\"none\" stroke=\"{colour}\" stroke-width=\"14\" stroke-dasharray=\"{filled:.2} {circumference:.2}\" transform=\"rotate(-90 60 60)\"/>\
         <line x1=\"{:.2}\" y1=\"{:.2}\" x2=\"{:.2}\" y2=\"{:.2}\" stroke=\"#1f2328\" stroke-width=\"2\"/>\
         <text x=\"60\" y=\"66\" text-anchor=\"middle\" font-size=\"18\" font-weight=\"700\">{score}%</text></svg>",
        60.0 + 38.0 * cos,
        60.0 + 38.0 * sin,
        60.0 + 58.0 * cos,
        60.0 + 58.0 * sin,
        score = percent(score_bp),
    )
}

fn trend_section(h: &mut String, report: &ScoreReport, trend: &[TrendPoint]) {
    h.push_str("<h2>7-day trend</h2>");
    if trend.is_empty() {
        h.push_str("<p class=\"muted\">No history was supplied to this report (offline scans have none; the hourly analyzer adds it).</p>\n");
        return;
    }
    let (width, height, pad) = (720.0_f64, 160.0_f64, 24.0_f64);
    let n = trend.len().max(2) as f64 - 1.0;
    let x = |i: usize| pad + (width - 2.0 * pad) * i as f64 / n;
    let y = |bp: u32| height - pad - (height - 2.0 * pad) * f64::from(bp) / 10_000.0;
    let points: Vec<String> = trend.iter().enumerate().map(|(i, p)| format!("{:.1},{:.1}", x(i), y(p.score_bp))).collect();
    let _ = write!(
        h,
        "<svg width=\"100%\" viewBox=\"0 0 {width} {height}\" role=\"img\" aria-label=\"score trend\">\
         <line x1=\"{pad}\" x2=\"{}\" y1=\"{:.1}\" y2=\"{:.1}\" stroke=\"#c4320a\" stroke-dasharray=\"4 3\"/>\
         <polyline fill=\"none\" stroke=\"#0969da\" stroke-width=\"2\" points=\"{}\"/>",
        width - pad,
        y(report.threshold_bp),
        y(report.threshold_bp),
        points.join(" ")
    );
    for (i, p) in trend.iter().enumerate() {
        let _ = write!(h, "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"3\" fill=\"#0969da\"><title>{} — {}%</title></circle>", x(i), y(p.score_bp), escape(&p.generated_at), percent(p.score_bp));
    }
    let first = trend.first().map_or("", |p| p.generated_at.as_str());
    let last = trend.last().map_or("", |p| p.generated_at.as_str());
    let _ = writeln!(h, "</svg><p class=\"muted\">{} scans from {} to {}; dashed line: threshold.</p>", trend.len(), escape(first), escape(last));
}

fn severity_section(h: &mut String, report: &ScoreReport) {
    h.push_str("<h2>Findings by severity</h2><table><tr><th>Severity</th><th class=\"num\">Compliant</th><th class=\"num\">Non-compliant</th><th class=\"num\">Not applicable</th><th class=\"num\">Insufficient data</th></tr>");
    for (severity, c) in &report.by_severity {
        let s = severity.as_str();
        let _ = write!(
            h,
            "<tr><td><span class=\"badge sev-{s}\">{s}</span></td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
            c.compliant, c.non_compliant, c.not_applicable, c.insufficient_data
        );
    }
    h.push_str("</table>\n");
}

fn type_section(h: &mut String, report: &ScoreReport) {
    h.push_str("<h2>By resource type</h2><table><tr><th>Resource type</th><th class=\"num\">Score</th><th class=\"num\">Resources</th><th class=\"num\">Non-compliant resources</th></tr>");
    for (resource_type, s) in &report.by_resource_type {
        let _ = write!(h, "<tr><td>{}</td><td class=\"num\">{}%</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>", escape(resource_type), percent(s.score_bp()), s.resources, s.non_compliant);
    }
    h.push_str("</table>\n");
}

/// Accounts, worst first, when the report spans more than one (an organization export).
fn account_section(h: &mut String, report: &ScoreReport) {
    if report.by_account.len() < 2 {
        return;
    }
    let mut accounts: Vec<_> = report.by_account.iter().collect();
    accounts.sort_by(|(a_id, a), (b_id, b)| a.score_bp().cmp(&b.score_bp()).then_with(|| a_id.cmp(b_id)));
    let _ = write!(
        h,
        "<h2>By account ({})</h2><table><tr><th>Account</th><th class=\"num\">Score</th><th class=\"num\">Weight compliant / decided</th><th class=\"num\">Resources</th><th class=\"num\">Non-compliant resources</th></tr>",
        accounts.len()
    );
    for (account, g) in accounts {
        group_row(h, &format!("<code>{}</code>", escape(account)), g, report.threshold_bp, None);
    }
    h.push_str("</table>\n");
}

/// A table row of one part of a breakdown: `name_cell` (already HTML), the score (marked when
/// below the threshold), the weights behind it, `extra` (a count) when given, resources and
/// non-compliant resources.
pub(crate) fn group_row(h: &mut String, name_cell: &str, g: &GroupSummary, threshold_bp: u32, extra: Option<u64>) {
    let class = if g.score_bp() < threshold_bp { " class=\"below\"" } else { "" };
    let extra = extra.map_or_else(String::new, |n| format!("<td class=\"num\">{n}</td>"));
    let _ = write!(
        h,
        "<tr><td>{name_cell}</td><td class=\"num\"><span{class}>{}%</span></td><td class=\"num\">{} / {}</td>{extra}<td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
        percent(g.score_bp()),
        g.tally.compliant,
        g.tally.decided,
        g.resources,
        g.non_compliant
    );
}

/// One section per framework: every requirement the rule pack evidences, its status in this
/// scan, the findings behind it and who says the rules evidence it — a page a compliance officer
/// can forward as it is.
fn frameworks_section(h: &mut String, report: &ScoreReport) {
    use crate::rules::frameworks::{RequirementStatus, evaluate};
    h.push_str(
        "<h2 id=\"frameworks\">Compliance frameworks</h2><p class=\"muted\">A requirement is <b>FAILED</b> when a finding of any rule that evidences it is \
         non-compliant, <b>PASSED</b> when its rules have compliant findings and none non-compliant, and <b>NOT_AVAILABLE</b> when this scan decided \
         nothing for it. This is the evidence of this scan's rules only: a requirement asks for more than these checks. Basis: <i>aws</i> = listed \
         in AWS Security Hub's control reference; <i>prowler</i> = Prowler's framework files, where AWS lists nothing; <i>vendor-asserted</i> = no \
         authority lists it.</p>\n",
    );
    for (framework, requirements) in evaluate(report) {
        let count = |status| requirements.iter().filter(|r| r.status == status).count();
        let _ = write!(
            h,
            "<h3 id=\"fw-{}\">{}</h3><p>{} requirements: <b>{} failed</b>, {} passed, {} not available.</p>\
             <table><tr><th>Requirement</th><th>Status</th><th class=\"num\">Compliant findings</th><th class=\"num\">Non-compliant findings</th><th>Rules</th><th>Basis</th></tr>",
            framework.id(),
            framework.name(),
            requirements.len(),
            count(RequirementStatus::Failed),
            count(RequirementStatus::Passed),
            count(RequirementStatus::NotAvailable)
        );
        for r in &requirements {
            let status = r.status.as_str();
            let rules: Vec<String> = r.rules.iter().map(|id| format!("<code>{id}</code>")).collect();
            let basis: Vec<&str> = r.sources.iter().map(|s| s.as_str()).collect();
            let _ = write!(
                h,
                "<tr><td><b>{}</b></td><td><span class=\"badge st-{status}\">{status}</span></td><td class=\"num\">{}</td><td class=\"num\">{}</td><td>{}</td><td>{}</td></tr>",
                r.id,
                r.compliant,
                r.non_compliant,
                rules.join(" "),
                basis.join(", ")
            );
        }
        h.push_str("</table>\n");
    }
}

fn display_name(r: &ResourceResult) -> String {
    match &r.resource_name {
        Some(name) if name != &r.resource_id => format!("{} <span class=\"muted\">({})</span>", escape(name), escape(&r.resource_id)),
        _ => escape(&r.resource_id),
    }
}

fn worst_section(h: &mut String, report: &ScoreReport) {
    let mut worst: Vec<&ResourceResult> = report.resources.iter().filter(|r| r.failed_rules().next().is_some()).collect();
    worst.sort_by(|a, b| a.score_bp.cmp(&b.score_bp).then_with(|| a.criticality.cmp(&b.criticality)));
    h.push_str("<h2>Worst resources</h2>");
    if worst.is_empty() {
        h.push_str("<p>No resource fails any rule.</p>\n");
        return;
    }
    h.push_str("<table><tr><th>Resource</th><th>Type</th><th>Criticality</th><th class=\"num\">Score</th><th>Failed rules</th></tr>");
    for r in worst.iter().take(WORST) {
        let failed: Vec<&str> = r.failed_rules().collect();
        let _ = write!(
            h,
            "<tr><td>{}<br><code>{}</code></td><td>{}</td><td>{}</td><td class=\"num\">{}%</td><td>{}</td></tr>",
            display_name(r),
            escape(r.arn.as_deref().unwrap_or("")),
            escape(&r.resource_type),
            r.criticality.as_str(),
            percent(r.score_bp),
            failed.join(", ")
        );
    }
    h.push_str("</table>\n");
    if worst.len() > WORST {
        let _ = writeln!(h, "<p class=\"muted\">… and {} more failing resources; every failing finding is listed below.</p>", worst.len() - WORST);
    }
}

/// One failing finding's row of the findings table.
fn finding_row(h: &mut String, report: &ScoreReport, r: &ResourceResult, f: &crate::report::Finding) {
    let def = rule(f.rule);
    let s = def.severity.as_str();
    let auto = if def.remediable { " <em>(fixed automatically by the remediator)</em>" } else { "" };
    let waived = report.waiver_of(f).map_or(String::new(), |w| {
        format!("<br><span class=\"badge waived\">waived: {} · {} · until {}</span>", escape(&w.id), escape(&w.owner), escape(&w.expires))
    });
    let _ = write!(
        h,
        "<tr class=\"finding\"><td><span class=\"badge sev-{s}\">{s}</span></td><td><code>{}</code></td><td>{}<br><span class=\"muted\">{} · {} · {}</span></td>\
         <td>{}<br><code>{}</code>{waived}</td><td>{}{auto}</td></tr>",
        def.id,
        display_name(r),
        escape(&r.resource_type),
        escape(&r.account_id),
        escape(&r.region),
        escape(&f.message),
        escape(&f.path),
        escape(def.remediation),
    );
}

fn provenance_section(h: &mut String, report: &ScoreReport) {
    let meta = &report.meta;
    let _ = write!(
        h,
        "<h2>Provenance</h2><p>To reproduce this score: <code>compliance verify report.json INPUT…</code> with the inputs below.</p><dl>\
         <dt>Engine</dt><dd>{ENGINE_VERSION}</dd><dt>Component sha256</dt><dd><code>{}</code></dd>\
         <dt>Rule pack</dt><dd>{RULE_PACK_ID} {RULE_PACK_VERSION}</dd><dt>Input sha256</dt><dd><code>{}</code></dd>\
         <dt>Criticality tag</dt><dd><code>{}</code></dd><dt>Items read</dt><dd>{} ({} superseded by newer versions)</dd></dl>",
        escape(if meta.component_sha256.is_empty() { "(native engine, no component)" } else { &meta.component_sha256 }),
        escape(&meta.input_sha256),
        escape(&report.criticality_tag),
        report.input.items,
        report.input.superseded_items,
    );
    h.push_str("<table><tr><th>Source</th><th class=\"num\">Bytes</th><th class=\"num\">Items</th><th>sha256</th></tr>");
    for source in &report.input.sources {
        let digest = meta.sources.iter().find(|d| d.name == source.name);
        let _ = write!(
            h,
            "<tr><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td><code>{}</code></td></tr>",
            escape(&source.name),
            digest.map_or(0, |d| d.bytes),
            source.items,
            escape(digest.map_or("", |d| d.sha256.as_str()))
        );
    }
    h.push_str("</table>\n");
    if let Some((name, sha256, bytes)) = &report.waivers.file {
        let _ = writeln!(
            h,
            "<p>Waiver file <code>{}</code> ({bytes} bytes, sha256 <code>{}</code>): part of the input; <code>verify</code> needs it (<code>--waivers</code>).</p>",
            escape(name),
            escape(sha256)
        );
    }
    if !report.input.notices.is_empty() {
        h.push_str("<p>Notices:</p><ul>");
        for notice in &report.input.notices {
            let _ = write!(h, "<li>{}</li>", escape(notice));
        }
        h.push_str("</ul>\n");
    }
}

#[cfg(test)]
mod tests {
    use super::escape;

    #[test]
    fn since_the_previous_scan_lists_newly_failing_and_resolved_findings() {
        let mut scan = crate::Scan::new(crate::ScanOptions::default()).expect("options");
        scan.begin_source("s.json").expect("begin");
        scan.feed(br#"{"configurationItems": [
            {"resourceType": "AWS::EC2::Volume", "resourceId": "vol-new", "awsAccountId": "1", "awsRegion": "r", "configuration": {"encrypted": false}},
            {"resourceType": "AWS::EC2::Volume", "resourceId": "vol-old", "awsAccountId": "1", "awsRegion": "r", "configuration": {"encrypted": false}},
            {"resourceType": "AWS::EC2::Volume", "resourceId": "vol-fixed", "awsAccountId": "1", "awsRegion": "r", "configuration": {"encrypted": true}}]}"#)
            .expect("feed");
        scan.end_source().expect("end");
        let report = scan.finish(crate::ReportMeta::default()).expect("finish");
        let key = |id: &str| ("AWS::EC2::Volume".to_owned(), id.to_owned(), "1".to_owned(), "r".to_owned(), "ec2-volume-encrypted".to_owned());
        let previous = super::Previous { generated_at: "2026-12-01T08:00:00Z".to_owned(), failed: [key("vol-old"), key("vol-fixed"), key("vol-gone")].into_iter().collect() };
        let html = String::from_utf8(super::render_since(&report, &[], Some(&previous))).expect("utf-8");
        let section = html.split("id=\"since\"").nth(1).and_then(|s| s.split("<h2>").next()).expect("section");
        assert!(section.contains("Compared with the scan of 2026-12-01T08:00:00Z: 1 findings newly failing, 2 resolved."), "{section}");
        assert!(section.contains("vol-new") && !section.contains("vol-old"), "{section}");
        assert!(section.contains("vol-fixed<br>") && section.contains("no longer failing") && section.contains("vol-gone<br>") && section.contains("resource gone"), "{section}");
        assert_eq!(super::render_since(&report, &[], None), super::render(&report, &[]), "without a previous scan, the plain report");
        assert!(!String::from_utf8_lossy(&super::render(&report, &[])).contains("id=\"since\""));
    }

    /// The report as it was rendered before it came in pages: the sections in turn (the same
    /// functions), the failing findings collected first and written in one go.
    fn reference(report: &super::ScoreReport, trend: &[super::TrendPoint], previous: Option<&super::Previous>) -> String {
        use super::*;
        let mut h = String::new();
        document_start(&mut h, report);
        header(&mut h, report);
        trend_section(&mut h, report, trend);
        if let Some(previous) = previous {
            since_section(&mut h, report, previous);
        }
        severity_section(&mut h, report);
        type_section(&mut h, report);
        account_section(&mut h, report);
        frameworks_section(&mut h, report);
        waivers_section(&mut h, report);
        worst_section(&mut h, report);
        let failing: Vec<_> = report.findings().filter(|(_, f)| f.status == Status::NonCompliant).collect();
        let _ = write!(h, "<h2>Failing findings ({})</h2>", failing.len());
        if failing.is_empty() {
            h.push_str("<p>Nothing to fix.</p>\n");
        } else {
            h.push_str("<table><tr><th>Severity</th><th>Rule</th><th>Resource</th><th>What is wrong</th><th>What to do</th></tr>");
            for (r, f) in failing {
                finding_row(&mut h, report, r, f);
            }
            h.push_str("</table>\n");
        }
        let insufficient = report.totals.insufficient_data;
        if insufficient > 0 {
            let _ = writeln!(h, "<p class=\"muted\">{insufficient} findings could not be decided because evidence was missing from the input (INSUFFICIENT_DATA); they count neither for nor against the score. See the JSON report for each.</p>");
        }
        provenance_section(&mut h, report);
        h.push_str("</body></html>\n");
        h
    }

    #[test]
    fn pages_of_any_size_concatenate_to_the_report_as_it_was_rendered_whole() {
        let sets = [
            "",
            r#"{"resourceType": "AWS::EC2::Volume", "resourceId": "vol-ok", "configuration": {"encrypted": true}}"#,
            r#"{"resourceType": "AWS::EC2::Volume", "resourceId": "vol-<1>", "awsAccountId": "1", "awsRegion": "r", "configuration": {"encrypted": false}},
               {"resourceType": "AWS::EC2::Volume", "resourceId": "vol-ok", "awsAccountId": "1", "awsRegion": "r", "configuration": {"encrypted": true}},
               {"resourceType": "AWS::S3::Bucket", "resourceId": "b&\"x", "awsAccountId": "1", "awsRegion": "r", "tags": {"Criticality": "high"}},
               {"resourceType": "AWS::EC2::Instance", "resourceId": "i-1", "resourceName": "web <1>", "awsAccountId": "1", "awsRegion": "r",
                "configuration": {"publicIpAddress": "203.0.113.7", "metadataOptions": {"httpTokens": "optional"}}}"#,
        ];
        let trend = [super::TrendPoint { generated_at: "2026-11-30T00:00:00Z".to_owned(), score_bp: 5000 }];
        for items in sets {
            let mut scan = crate::Scan::new(crate::ScanOptions::default()).expect("options");
            scan.set_waivers("w.yaml", b"waivers:\n  - {id: W<1>, rule: ec2-volume-encrypted, resource: \"AWS::EC2::Volume/vol-<1>\", reason: r, owner: o&o, approved_by: a, approved_on: 2026-06-01, ticket: T, expires: 2027-01-01}\n").expect("waivers");
            scan.begin_source("s.json").expect("begin");
            scan.feed(format!(r#"{{"configurationItems": [{items}]}}"#).as_bytes()).expect("feed");
            scan.end_source().expect("end");
            let report = scan.finish(crate::ReportMeta { generated_at: "2026-12-01T00:00:00Z".to_owned(), ..Default::default() }).expect("finish");
            let failing = report.findings().filter(|(_, f)| f.status == super::Status::NonCompliant).count();
            assert_eq!(failing > 0, items.contains("vol-<1>"), "both kinds of findings table are in the test");
            let previous = super::Previous { generated_at: "2026-11-30T00:00:00Z".to_owned(), failed: Default::default() };
            assert_eq!(String::from_utf8(super::render_since(&report, &trend, Some(&previous))).expect("utf-8"), reference(&report, &trend, Some(&previous)));
            let expected = reference(&report, &trend, None);
            assert_eq!(expected.contains("waived: W&lt;1&gt; · o&amp;o"), failing > 0, "a waived row is in the test");
            assert_eq!(String::from_utf8(super::render(&report, &trend)).expect("utf-8"), expected, "whole: {items}");
            for max in [1, 7, 100, 4096] {
                let mut pages = super::HtmlPages::default();
                let mut joined = Vec::new();
                let mut count = 0;
                loop {
                    let page = pages.next_page(&report, &trend, max);
                    if page.is_empty() {
                        break;
                    }
                    joined.extend_from_slice(&page);
                    count += 1;
                }
                assert!(pages.is_done());
                assert!(max > 100 || count >= 2 + failing, "{count} pages of {max} bytes");
                assert_eq!(String::from_utf8(joined).expect("utf-8"), expected, "pages of {max}: {items}");
            }
        }
    }

    #[test]
    fn escapes_markup_and_quotes() {
        assert_eq!(escape("<script>alert('x')</script>&\""), "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;&quot;");
    }
}
