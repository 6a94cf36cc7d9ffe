//! The terminal summary: score against threshold, counts, the worst resources. Plain text,
//! no colours (the CLI decides about terminals); resource strings are stripped of control
//! characters so a hostile tag cannot rewrite the terminal.

use std::fmt::Write;

use crate::report::ScoreReport;
use crate::score::percent;

/// How many failing resources the summary lists.
const WORST: usize = 10;

/// Renders the summary.
pub fn render(report: &ScoreReport) -> Vec<u8> {
    let mut out = String::new();
    let verdict = if report.below_threshold() { "BELOW THRESHOLD" } else { "ok" };
    let _ = writeln!(out, "Compliance score: {}% (threshold {}%) — {verdict}", percent(report.score_bp), percent(report.threshold_bp));
    write_waivers(&mut out, report);
    let i = &report.input;
    let _ = writeln!(
        out,
        "Resources: {} evaluated, {} skipped (deleted or not recorded), {} of other types; {} items read, {} superseded",
        i.evaluated_resources,
        i.skipped_resources,
        i.other_resources.values().sum::<u64>(),
        i.items,
        i.superseded_items
    );
    let t = &report.totals;
    let _ = writeln!(
        out,
        "Findings: {} compliant, {} non-compliant, {} not applicable, {} insufficient data\n",
        t.compliant, t.non_compliant, t.not_applicable, t.insufficient_data
    );
    let _ = writeln!(out, "{:<10} {:>9} {:>13} {:>14} {:>17}", "SEVERITY", "COMPLIANT", "NON_COMPLIANT", "NOT_APPLICABLE", "INSUFFICIENT_DATA");
    for (severity, c) in &report.by_severity {
        let _ = writeln!(out, "{:<10} {:>9} {:>13} {:>14} {:>17}", severity.as_str(), c.compliant, c.non_compliant, c.not_applicable, c.insufficient_data);
    }
    let _ = writeln!(out, "\n{:<36} {:>8} {:>9} {:>13}", "RESOURCE TYPE", "SCORE", "RESOURCES", "NON_COMPLIANT");
    for (resource_type, s) in &report.by_resource_type {
        let _ = writeln!(out, "{:<36} {:>7}% {:>9} {:>13}", clean(resource_type, 36), percent(s.score_bp()), s.resources, s.non_compliant);
    }
    if report.by_account.len() > 1 {
        let mut accounts: Vec<_> = report.by_account.iter().collect();
        accounts.sort_by(|(a_id, a), (b_id, b)| a.score_bp().cmp(&b.score_bp()).then_with(|| a_id.cmp(b_id)));
        let _ = writeln!(out, "\n{:<36} {:>8} {:>9} {:>13}", "ACCOUNT (worst first)", "SCORE", "RESOURCES", "NON_COMPLIANT");
        for (account, g) in accounts.iter().take(WORST) {
            let _ = writeln!(out, "{:<36} {:>7}% {:>9} {:>13}", clean(account, 36), percent(g.score_bp()), g.resources, g.non_compliant);
        }
        if accounts.len() > WORST {
            let _ = writeln!(out, "… and {} more accounts (see the HTML or JSON report)", accounts.len() - WORST);
        }
    }
    let mut worst: Vec<_> = report.resources.iter().filter(|r| r.failed_rules().next().is_some()).collect();
    worst.sort_by(|a, b| a.score_bp.cmp(&b.score_bp).then_with(|| a.criticality.cmp(&b.criticality)));
    if !worst.is_empty() {
        let _ = writeln!(out, "\nWorst resources:");
        let _ = writeln!(out, "{:>7}  {:<9} {:<24} {:<40} FAILED RULES", "SCORE", "CRIT.", "TYPE", "RESOURCE");
        for r in worst.iter().take(WORST) {
            let failed: Vec<_> = r.failed_rules().collect();
            let _ = writeln!(
                out,
                "{:>6}%  {:<9} {:<24} {:<40} {}",
                percent(r.score_bp),
                r.criticality.as_str(),
                clean(&r.resource_type, 24),
                clean(r.resource_name.as_deref().unwrap_or(&r.resource_id), 40),
                failed.join(", ")
            );
        }
        if worst.len() > WORST {
            let _ = writeln!(out, "… and {} more failing resources (see the HTML or JSON report)", worst.len() - WORST);
        }
    }
    out.into_bytes()
}

/// The waiver lines, when the scan had a waiver file.
fn write_waivers(out: &mut String, report: &ScoreReport) {
    let w = &report.waivers;
    let Some((name, _, _)) = &w.file else { return };
    let _ = writeln!(
        out,
        "Score with waivers: {}% ({} non-compliant findings waived by {} active waivers of {})",
        percent(report.score_with_waivers_bp()),
        w.waived_findings(),
        w.active().count(),
        clean(name, 60)
    );
    let list = |uses: &mut dyn Iterator<Item = &crate::waiver::WaiverUse>| -> String {
        uses.map(|u| format!("{} ({}, {})", clean(&u.waiver.id, 40), clean(&u.waiver.owner, 40), u.waiver.expires)).collect::<Vec<_>>().join(", ")
    };
    for (label, text) in [
        ("Waivers expired", list(&mut w.expired())),
        ("Waivers expiring within 30 days", list(&mut w.expiring_soon())),
        ("Waivers that matched no finding", list(&mut w.unmatched())),
    ] {
        if !text.is_empty() {
            let _ = writeln!(out, "{label}: {text}");
        }
    }
}

/// Strips control characters and truncates to `width` characters.
fn clean(text: &str, width: usize) -> String {
    let printable: String = text.chars().filter(|c| !c.is_control()).collect();
    if printable.chars().count() <= width {
        return printable;
    }
    let mut cut: String = printable.chars().take(width.saturating_sub(1)).collect();
    cut.push('…');
    cut
}
