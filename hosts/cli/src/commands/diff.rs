//! `compliance diff OLD.json NEW.json` (SPEC §11): what changed between two scans, and why the
//! score moved — new non-compliant findings, resolved ones, other status changes, resources that
//! appeared or disappeared, waivers that started or ended, and the change of the integer sums
//! behind the score broken down by rule and by account, so the parts add up to the totals.
//!
//! It compares reports; it does not re-score. A finding's weight is read off the report itself
//! (its severity and its resource's criticality, SPEC §5), and the sums so obtained must equal
//! the report's own `weight_compliant`/`weight_decided` where the report has them, so a diff of
//! an edited report, or of a format this version misreads, is an error rather than a wrong answer.
//! Reports of different engine versions diff as long as both are `compliance-report/v1`.

use std::collections::{BTreeMap, BTreeSet};
use std::fs::File;
use std::io::{BufReader, Write};
use std::path::Path;

use anyhow::{Context, bail};
use compliance_runtime::report_head::{REPORT_SCHEMA, ROLLUP_SCHEMA, read_head};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::Outcome;
use crate::args::{DiffArgs, DiffFormat};

/// Schema of `--format json`.
pub const DIFF_SCHEMA: &str = "compliance-diff/v1";
/// Entries listed per section in the table and Markdown outputs (JSON lists all).
const LISTED: usize = 50;

#[derive(Debug, Deserialize)]
struct Report {
    generated_at: String,
    score_bp: u32,
    /// Since waivers (WIT 1.4.0); absent in older reports.
    #[serde(default)]
    score_with_waivers_bp: Option<u32>,
    #[serde(default)]
    weight_compliant: Option<u64>,
    #[serde(default)]
    weight_decided: Option<u64>,
    engine: Engine,
    input: Input,
    resources: Vec<Resource>,
    findings: Vec<Finding>,
}

#[derive(Debug, Deserialize)]
struct Engine {
    component_sha256: String,
    rule_pack: RulePack,
}

#[derive(Debug, Deserialize)]
struct RulePack {
    version: String,
}

#[derive(Debug, Deserialize)]
struct Input {
    sha256: String,
}

#[derive(Debug, Deserialize)]
struct Resource {
    resource_type: String,
    resource_id: String,
    account_id: String,
    region: String,
    criticality: String,
}

#[derive(Debug, Deserialize)]
struct Finding {
    rule_id: String,
    resource_type: String,
    resource_id: String,
    account_id: String,
    region: String,
    status: String,
    severity: String,
    #[serde(default)]
    message: String,
    #[serde(default)]
    waiver: Option<Waiver>,
}

#[derive(Debug, Deserialize)]
struct Waiver {
    id: String,
}

/// A resource: type, id, account, region.
type ResourceKey = (String, String, String, String);
/// A finding: its rule and its resource.
type FindingKey = (String, ResourceKey);

/// What the diff needs of one finding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seen {
    status: String,
    severity: String,
    weight: u64,
    message: String,
    waiver: Option<String>,
}

/// One report, indexed.
#[derive(Debug, Default)]
pub struct Indexed {
    label: String,
    generated_at: String,
    score_bp: u32,
    score_with_waivers_bp: Option<u32>,
    rule_pack_version: String,
    component_sha256: String,
    input_sha256: String,
    resources: BTreeSet<ResourceKey>,
    findings: BTreeMap<FindingKey, Seen>,
    weight_compliant: u64,
    weight_decided: u64,
}

fn severity_weight(severity: &str) -> Option<u64> {
    Some(match severity {
        "critical" => 10,
        "high" => 6,
        "medium" => 3,
        "low" => 1,
        _ => return None,
    })
}

fn criticality_multiplier(criticality: &str) -> Option<u64> {
    Some(match criticality {
        "critical" => 8,
        "high" => 4,
        "medium" => 2,
        "low" => 1,
        _ => return None,
    })
}

const COMPLIANT: &str = "COMPLIANT";
const NON_COMPLIANT: &str = "NON_COMPLIANT";

/// Weight a finding adds to (compliant, decided).
fn sums(seen: &Seen) -> (u64, u64) {
    match seen.status.as_str() {
        COMPLIANT => (seen.weight, seen.weight),
        NON_COMPLIANT => (0, seen.weight),
        _ => (0, 0),
    }
}

fn index(report: Report, label: &str) -> anyhow::Result<Indexed> {
    let mut criticality = BTreeMap::new();
    let mut resources = BTreeSet::new();
    for r in report.resources {
        let key = (r.resource_type, r.resource_id, r.account_id, r.region);
        let multiplier = criticality_multiplier(&r.criticality).with_context(|| format!("{label}: resource {} has criticality {:?}, which this version does not know", key.1, r.criticality))?;
        criticality.insert(key.clone(), multiplier);
        resources.insert(key);
    }
    let mut findings = BTreeMap::new();
    let (mut compliant, mut decided) = (0u64, 0u64);
    for f in report.findings {
        let resource = (f.resource_type, f.resource_id, f.account_id, f.region);
        let severity = severity_weight(&f.severity).with_context(|| format!("{label}: finding {} on {} has severity {:?}, which this version does not know", f.rule_id, resource.1, f.severity))?;
        let weighs = f.status == COMPLIANT || f.status == NON_COMPLIANT;
        let multiplier = match criticality.get(&resource) {
            Some(m) => *m,
            // Only decided findings weigh; their resources are always listed.
            None if !weighs => 0,
            None => bail!("{label}: finding {} names resource {} ({}), which the report does not list", f.rule_id, resource.1, resource.0),
        };
        let seen = Seen { status: f.status, severity: f.severity, weight: severity * multiplier, message: f.message, waiver: f.waiver.map(|w| w.id) };
        let (c, d) = sums(&seen);
        compliant += c;
        decided += d;
        if findings.insert((f.rule_id.clone(), resource.clone()), seen).is_some() {
            bail!("{label}: rule {} appears twice for resource {} ({})", f.rule_id, resource.1, resource.0);
        }
    }
    for (stated, computed, member) in [(report.weight_compliant, compliant, "weight_compliant"), (report.weight_decided, decided, "weight_decided")] {
        if let Some(stated) = stated
            && stated != computed
        {
            bail!("{label}: its findings add up to {member} {computed}, but the report says {stated} (was it edited?)");
        }
    }
    Ok(Indexed {
        label: label.to_owned(),
        generated_at: report.generated_at,
        score_bp: report.score_bp,
        score_with_waivers_bp: report.score_with_waivers_bp,
        rule_pack_version: report.engine.rule_pack.version,
        component_sha256: report.engine.component_sha256,
        input_sha256: report.input.sha256,
        resources,
        findings,
        weight_compliant: compliant,
        weight_decided: decided,
    })
}

/// Reads a per-account report; an org report or an unknown schema is an error naming it.
pub fn read(path: &Path) -> anyhow::Result<Indexed> {
    let shown = path.display().to_string();
    let head = read_head(BufReader::new(File::open(path).with_context(|| format!("reading {shown}"))?), &["schema"]).with_context(|| format!("{shown} is not JSON"))?;
    match head.get("schema").and_then(Value::as_str) {
        Some(REPORT_SCHEMA) => {}
        Some(ROLLUP_SCHEMA) => bail!("{shown} is an org report (compliance-rollup/v1); diff compares per-account reports (compliance-report/v1)"),
        Some(other) => bail!("{shown} has schema {other}, which this version does not know (diff compares {REPORT_SCHEMA} reports)"),
        None => bail!("{shown} has no schema: not a compliance report"),
    }
    let report: Report = serde_json::from_reader(BufReader::new(File::open(path).with_context(|| format!("reading {shown}"))?))
        .with_context(|| format!("{shown} is not a {REPORT_SCHEMA} report this version can read"))?;
    index(report, &shown)
}

/// A finding that changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Change {
    pub rule_id: String,
    pub resource_type: String,
    pub resource_id: String,
    pub account_id: String,
    pub region: String,
    pub severity: String,
    /// `None`: the finding was not in the old report (its resource appeared, or the rule newly applies).
    pub old_status: Option<String>,
    /// `None`: the finding is not in the new report.
    pub new_status: Option<String>,
    pub message: String,
}

/// Integer changes of one part of the score.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Delta {
    pub weight_compliant: i64,
    pub weight_decided: i64,
}

impl Delta {
    fn add(&mut self, old: (u64, u64), new: (u64, u64)) {
        self.weight_compliant += new.0 as i64 - old.0 as i64;
        self.weight_decided += new.1 as i64 - old.1 as i64;
    }
}

/// A waiver that started or ended on a finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WaiverChange {
    pub waiver_id: String,
    pub rule_id: String,
    pub resource_id: String,
    pub account_id: String,
}

/// The difference of two reports.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Diff {
    pub new_non_compliant: Vec<Change>,
    pub resolved: Vec<Change>,
    pub other_status_changes: Vec<Change>,
    pub resources_appeared: Vec<ResourceKey>,
    pub resources_gone: Vec<ResourceKey>,
    pub waivers_started: Vec<WaiverChange>,
    pub waivers_ended: Vec<WaiverChange>,
    pub total: Delta,
    pub by_rule: BTreeMap<String, Delta>,
    pub by_account: BTreeMap<String, Delta>,
}

impl Diff {
    /// Nothing changed.
    pub fn is_empty(&self) -> bool {
        self.new_non_compliant.is_empty()
            && self.resolved.is_empty()
            && self.other_status_changes.is_empty()
            && self.resources_appeared.is_empty()
            && self.resources_gone.is_empty()
            && self.waivers_started.is_empty()
            && self.waivers_ended.is_empty()
            && self.total == Delta::default()
    }
}

fn rank(severity: &str) -> u8 {
    match severity {
        "critical" => 0,
        "high" => 1,
        "medium" => 2,
        _ => 3,
    }
}

/// Compares two indexed reports.
pub fn diff(old: &Indexed, new: &Indexed) -> Diff {
    let mut out = Diff::default();
    let keys: BTreeSet<&FindingKey> = old.findings.keys().chain(new.findings.keys()).collect();
    for key in keys {
        let (was, now) = (old.findings.get(key), new.findings.get(key));
        let (rule, (resource_type, resource_id, account_id, region)) = key;
        let (old_sums, new_sums) = (was.map_or((0, 0), sums), now.map_or((0, 0), sums));
        if old_sums != new_sums {
            out.by_rule.entry(rule.clone()).or_default().add(old_sums, new_sums);
            out.by_account.entry(account_id.clone()).or_default().add(old_sums, new_sums);
            out.total.add(old_sums, new_sums);
        }
        let (old_status, new_status) = (was.map(|s| s.status.clone()), now.map(|s| s.status.clone()));
        let latest = now.or(was);
        let change = || Change {
            rule_id: rule.clone(),
            resource_type: resource_type.clone(),
            resource_id: resource_id.clone(),
            account_id: account_id.clone(),
            region: region.clone(),
            severity: latest.map(|s| s.severity.clone()).unwrap_or_default(),
            old_status: old_status.clone(),
            new_status: new_status.clone(),
            message: latest.map(|s| s.message.clone()).unwrap_or_default(),
        };
        let is_nc = |s: &Option<String>| s.as_deref() == Some(NON_COMPLIANT);
        if old_status != new_status {
            if is_nc(&new_status) {
                out.new_non_compliant.push(change());
            } else if is_nc(&old_status) {
                out.resolved.push(change());
            } else if old_status.is_some() && new_status.is_some() {
                out.other_status_changes.push(change());
            }
        }
        let waiver = |s: Option<&Seen>| s.and_then(|s| s.waiver.clone());
        let (old_waiver, new_waiver) = (waiver(was), waiver(now));
        if old_waiver != new_waiver {
            let entry = |id: String| WaiverChange { waiver_id: id, rule_id: rule.clone(), resource_id: resource_id.clone(), account_id: account_id.clone() };
            if let Some(id) = new_waiver {
                out.waivers_started.push(entry(id));
            }
            if let Some(id) = old_waiver {
                out.waivers_ended.push(entry(id));
            }
        }
    }
    out.resources_appeared = new.resources.difference(&old.resources).cloned().collect();
    out.resources_gone = old.resources.difference(&new.resources).cloned().collect();
    for list in [&mut out.new_non_compliant, &mut out.resolved, &mut out.other_status_changes] {
        list.sort_by(|a, b| (rank(&a.severity), &a.rule_id, &a.account_id, &a.resource_id).cmp(&(rank(&b.severity), &b.rule_id, &b.account_id, &b.resource_id)));
    }
    out
}

fn percent(bp: u32) -> String {
    format!("{}.{:02}", bp / 100, bp % 100)
}

fn points(old: u32, new: u32) -> String {
    let delta = i64::from(new) - i64::from(old);
    let sign = if delta < 0 { "−" } else { "+" };
    format!("{sign}{}.{:02}", delta.unsigned_abs() / 100, delta.unsigned_abs() % 100)
}

/// Both reports' scores with waivers, when both have one (reports before WIT 1.4.0 do not).
fn with_waivers(old: &Indexed, new: &Indexed) -> Option<(u32, u32)> {
    old.score_with_waivers_bp.zip(new.score_with_waivers_bp)
}

/// Whether the score with waivers says more than the score: a waiver counts in either report.
fn shows_waivers(old: &Indexed, new: &Indexed) -> Option<(u32, u32)> {
    with_waivers(old, new).filter(|(o, n)| *o != old.score_bp || *n != new.score_bp)
}

fn signed(n: i64) -> String {
    if n < 0 { format!("−{}", n.unsigned_abs()) } else { format!("+{n}") }
}

fn side(r: &Indexed) -> Value {
    json!({
        "report": r.label,
        "generated_at": r.generated_at,
        "score_bp": r.score_bp,
        "score_with_waivers_bp": r.score_with_waivers_bp,
        "weight_compliant": r.weight_compliant,
        "weight_decided": r.weight_decided,
        "rule_pack_version": r.rule_pack_version,
        "component_sha256": r.component_sha256,
        "input_sha256": r.input_sha256,
    })
}

/// `--format json`.
pub fn to_json(old: &Indexed, new: &Indexed, d: &Diff) -> Value {
    let resource = |(t, i, a, r): &ResourceKey| json!({"resource_type": t, "resource_id": i, "account_id": a, "region": r});
    let deltas = |m: &BTreeMap<String, Delta>, key: &str| -> Vec<Value> {
        m.iter().map(|(k, v)| json!({key: k, "weight_compliant": v.weight_compliant, "weight_decided": v.weight_decided})).collect()
    };
    json!({
        "schema": DIFF_SCHEMA,
        "old": side(old),
        "new": side(new),
        "score_bp_change": i64::from(new.score_bp) - i64::from(old.score_bp),
        "score_with_waivers_bp_change": with_waivers(old, new).map(|(o, n)| i64::from(n) - i64::from(o)),
        "weight_compliant_change": d.total.weight_compliant,
        "weight_decided_change": d.total.weight_decided,
        "by_rule": deltas(&d.by_rule, "rule_id"),
        "by_account": deltas(&d.by_account, "account_id"),
        "new_non_compliant": d.new_non_compliant,
        "resolved": d.resolved,
        "other_status_changes": d.other_status_changes,
        "resources_appeared": d.resources_appeared.iter().map(resource).collect::<Vec<_>>(),
        "resources_gone": d.resources_gone.iter().map(resource).collect::<Vec<_>>(),
        "waivers_started": d.waivers_started,
        "waivers_ended": d.waivers_ended,
    })
}

fn status(s: &Option<String>) -> &str {
    s.as_deref().unwrap_or("absent")
}

fn change_line(c: &Change) -> String {
    format!("{:<8} {:<36} {} {} ({} {})  {} → {}", c.severity.to_uppercase(), c.rule_id, c.resource_type, c.resource_id, c.account_id, c.region, status(&c.old_status), status(&c.new_status))
}

/// The default output: a summary for a terminal.
pub fn to_table(old: &Indexed, new: &Indexed, d: &Diff) -> String {
    let mut out = String::new();
    out.push_str(&format!(
        "Score {} % → {} % ({} points)   weight compliant {}, decided {}\n",
        percent(old.score_bp),
        percent(new.score_bp),
        points(old.score_bp, new.score_bp),
        signed(d.total.weight_compliant),
        signed(d.total.weight_decided)
    ));
    if let Some((o, n)) = shows_waivers(old, new) {
        out.push_str(&format!("Score with waivers {} % → {} % ({} points)\n", percent(o), percent(n), points(o, n)));
    }
    out.push_str(&format!("Old: {} ({}, rule pack {})\nNew: {} ({}, rule pack {})\n", old.label, old.generated_at, old.rule_pack_version, new.label, new.generated_at, new.rule_pack_version));
    if d.is_empty() {
        out.push_str("\nNo differences.\n");
        return out;
    }
    let section = |out: &mut String, title: &str, lines: Vec<String>| {
        if lines.is_empty() {
            return;
        }
        out.push_str(&format!("\n{title} ({}):\n", lines.len()));
        for line in lines.iter().take(LISTED) {
            out.push_str(&format!("  {line}\n"));
        }
        if lines.len() > LISTED {
            out.push_str(&format!("  … and {} more (--format json lists all)\n", lines.len() - LISTED));
        }
    };
    let resource_line = |(t, i, a, r): &ResourceKey| format!("{t} {i} ({a} {r})");
    section(&mut out, "New non-compliant", d.new_non_compliant.iter().map(change_line).collect());
    section(&mut out, "Resolved", d.resolved.iter().map(change_line).collect());
    section(&mut out, "Other status changes", d.other_status_changes.iter().map(change_line).collect());
    section(&mut out, "Resources appeared", d.resources_appeared.iter().map(resource_line).collect());
    section(&mut out, "Resources gone", d.resources_gone.iter().map(resource_line).collect());
    section(&mut out, "Waivers started", d.waivers_started.iter().map(|w| format!("{} on {} {} ({})", w.waiver_id, w.rule_id, w.resource_id, w.account_id)).collect());
    section(&mut out, "Waivers ended", d.waivers_ended.iter().map(|w| format!("{} on {} {} ({})", w.waiver_id, w.rule_id, w.resource_id, w.account_id)).collect());
    let deltas = |m: &BTreeMap<String, Delta>| m.iter().map(|(k, v)| format!("{k:<40} compliant {:>8}  decided {:>8}", signed(v.weight_compliant), signed(v.weight_decided))).collect::<Vec<_>>();
    section(&mut out, "Score change by rule", deltas(&d.by_rule));
    section(&mut out, "Score change by account", deltas(&d.by_account));
    out
}

/// Markdown for a ticket or a pull request: `|` and newlines in values cannot break the tables.
pub fn to_markdown(old: &Indexed, new: &Indexed, d: &Diff) -> String {
    let cell = |s: &str| s.replace('|', "\\|").replace(['\n', '\r'], " ");
    let mut out = format!(
        "## Compliance: {} % → {} % ({} points)\n\n| | old | new |\n|---|---|---|\n| report | {} | {} |\n| generated at | {} | {} |\n| rule pack | {} | {} |\n| weight compliant / decided | {} / {} | {} / {} |\n",
        percent(old.score_bp),
        percent(new.score_bp),
        points(old.score_bp, new.score_bp),
        cell(&old.label),
        cell(&new.label),
        old.generated_at,
        new.generated_at,
        cell(&old.rule_pack_version),
        cell(&new.rule_pack_version),
        old.weight_compliant,
        old.weight_decided,
        new.weight_compliant,
        new.weight_decided
    );
    if let Some((o, n)) = shows_waivers(old, new) {
        out.push_str(&format!("| score with waivers | {} % | {} % ({} points) |\n", percent(o), percent(n), points(o, n)));
    }
    if d.is_empty() {
        out.push_str("\nNo differences.\n");
        return out;
    }
    let changes = |out: &mut String, title: &str, list: &[Change]| {
        if list.is_empty() {
            return;
        }
        out.push_str(&format!("\n### {title} ({})\n\n| severity | rule | resource | account | region | was | now |\n|---|---|---|---|---|---|---|\n", list.len()));
        for c in list.iter().take(LISTED) {
            out.push_str(&format!(
                "| {} | `{}` | {} `{}` | {} | {} | {} | {} |\n",
                c.severity,
                cell(&c.rule_id),
                cell(&c.resource_type),
                cell(&c.resource_id),
                cell(&c.account_id),
                cell(&c.region),
                status(&c.old_status),
                status(&c.new_status)
            ));
        }
        if list.len() > LISTED {
            out.push_str(&format!("\n… and {} more (`compliance diff --format json` lists all).\n", list.len() - LISTED));
        }
    };
    changes(&mut out, "New non-compliant", &d.new_non_compliant);
    changes(&mut out, "Resolved", &d.resolved);
    changes(&mut out, "Other status changes", &d.other_status_changes);
    for (title, list) in [("Resources appeared", &d.resources_appeared), ("Resources gone", &d.resources_gone)] {
        if !list.is_empty() {
            out.push_str(&format!("\n### {title} ({})\n\n", list.len()));
            for (t, i, a, r) in list.iter().take(LISTED) {
                out.push_str(&format!("- {} `{}` ({} {})\n", cell(t), cell(i), cell(a), cell(r)));
            }
            if list.len() > LISTED {
                out.push_str(&format!("- … and {} more\n", list.len() - LISTED));
            }
        }
    }
    for (title, list) in [("Waivers started", &d.waivers_started), ("Waivers ended", &d.waivers_ended)] {
        if !list.is_empty() {
            out.push_str(&format!("\n### {title} ({})\n\n", list.len()));
            for w in list.iter().take(LISTED) {
                out.push_str(&format!("- `{}` on `{}` `{}` ({})\n", cell(&w.waiver_id), cell(&w.rule_id), cell(&w.resource_id), cell(&w.account_id)));
            }
        }
    }
    for (title, key, map) in [("by rule", "rule", &d.by_rule), ("by account", "account", &d.by_account)] {
        if !map.is_empty() {
            out.push_str(&format!("\n### Score change {title}\n\n| {key} | Δ weight compliant | Δ weight decided |\n|---|---|---|\n"));
            for (k, v) in map {
                out.push_str(&format!("| `{}` | {} | {} |\n", cell(k), signed(v.weight_compliant), signed(v.weight_decided)));
            }
            out.push_str(&format!("| **total** | **{}** | **{}** |\n", signed(d.total.weight_compliant), signed(d.total.weight_decided)));
        }
    }
    out
}

pub fn run(args: DiffArgs) -> anyhow::Result<Outcome> {
    let old = read(&args.old)?;
    let new = read(&args.new)?;
    let d = diff(&old, &new);
    let text = match args.format {
        DiffFormat::Table => to_table(&old, &new, &d),
        DiffFormat::Json => format!("{:#}\n", to_json(&old, &new, &d)),
        DiffFormat::Markdown => to_markdown(&old, &new, &d),
    };
    std::io::stdout().lock().write_all(text.as_bytes()).context("writing the diff")?;
    if args.fail_on_new && !d.new_non_compliant.is_empty() {
        eprintln!("{} finding(s) became NON_COMPLIANT (--fail-on-new)", d.new_non_compliant.len());
        return Ok(Outcome::Failed);
    }
    Ok(Outcome::Success)
}

#[cfg(test)]
mod tests {
    use super::*;

    const RULES: [&str; 4] = ["s3-bucket-sse-kms", "ec2-no-public-ip", "iam-no-admin-access", "s3-bucket-ssl-only"];
    const STATUSES: [&str; 4] = ["COMPLIANT", "NON_COMPLIANT", "INSUFFICIENT_DATA", "NOT_APPLICABLE"];
    const LEVELS: [&str; 4] = ["critical", "high", "medium", "low"];

    /// A small deterministic generator (xorshift), so every run checks the same pairs.
    struct Rng(u64);
    impl Rng {
        fn next(&mut self, n: usize) -> usize {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            (self.0 % n as u64) as usize
        }
    }

    /// A generated report: up to 12 resources over 3 accounts, each with some of the rules.
    fn report(rng: &mut Rng, label: &str) -> Indexed {
        let mut resources = Vec::new();
        let mut findings = Vec::new();
        for i in 0..12 {
            if rng.next(4) == 0 {
                continue; // this resource is absent from this report
            }
            let account = format!("{:012}", 100 + rng.next(3));
            let key = ("AWS::S3::Bucket".to_owned(), format!("b{i}"), account, "us-east-1".to_owned());
            let criticality = LEVELS[rng.next(4)].to_owned();
            for rule in RULES {
                if rng.next(3) == 0 {
                    continue;
                }
                findings.push(Finding {
                    rule_id: rule.to_owned(),
                    resource_type: key.0.clone(),
                    resource_id: key.1.clone(),
                    account_id: key.2.clone(),
                    region: key.3.clone(),
                    status: STATUSES[rng.next(4)].to_owned(),
                    severity: LEVELS[rng.next(4)].to_owned(),
                    message: String::new(),
                    waiver: (rng.next(5) == 0).then(|| Waiver { id: format!("W-{}", rng.next(3)) }),
                });
            }
            resources.push(Resource { resource_type: key.0, resource_id: key.1, account_id: key.2, region: key.3, criticality });
        }
        let r = Report {
            generated_at: "t".into(),
            score_bp: 0,
            score_with_waivers_bp: None,
            weight_compliant: None,
            weight_decided: None,
            engine: Engine { component_sha256: "c".into(), rule_pack: RulePack { version: "1.1.0".into() } },
            input: Input { sha256: "i".into() },
            resources,
            findings,
        };
        index(r, label).expect("a generated report indexes")
    }

    #[test]
    fn properties_hold_on_generated_report_pairs() {
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        for _ in 0..300 {
            let (a, b) = (report(&mut rng, "a"), report(&mut rng, "b"));
            assert!(diff(&a, &a).is_empty(), "diff(A, A) is empty");
            let d = diff(&a, &b);
            // The parts add up to the totals, and the totals are the reports' own sums.
            let sum = |m: &BTreeMap<String, Delta>| m.values().fold(Delta::default(), |mut t, v| {
                t.weight_compliant += v.weight_compliant;
                t.weight_decided += v.weight_decided;
                t
            });
            assert_eq!(sum(&d.by_rule), d.total);
            assert_eq!(sum(&d.by_account), d.total);
            assert_eq!(d.total.weight_compliant, b.weight_compliant as i64 - a.weight_compliant as i64);
            assert_eq!(d.total.weight_decided, b.weight_decided as i64 - a.weight_decided as i64);
            // Swapping OLD and NEW swaps new and resolved (and appeared and gone).
            let back = diff(&b, &a);
            let flip = |list: &[Change]| {
                let mut flipped: Vec<Change> = list.iter().map(|c| Change { old_status: c.new_status.clone(), new_status: c.old_status.clone(), ..c.clone() }).collect();
                flipped.sort_by(|x, y| (&x.rule_id, &x.resource_id).cmp(&(&y.rule_id, &y.resource_id)));
                flipped
            };
            let sorted = |list: &[Change]| {
                let mut l = list.to_vec();
                l.sort_by(|x, y| (&x.rule_id, &x.resource_id).cmp(&(&y.rule_id, &y.resource_id)));
                l
            };
            let strip = |l: Vec<Change>| l.into_iter().map(|c| (c.rule_id, c.resource_id, c.old_status, c.new_status)).collect::<Vec<_>>();
            assert_eq!(strip(flip(&d.new_non_compliant)), strip(sorted(&back.resolved)));
            assert_eq!(strip(flip(&d.resolved)), strip(sorted(&back.new_non_compliant)));
            assert_eq!((d.resources_appeared.clone(), d.resources_gone.clone()), (back.resources_gone.clone(), back.resources_appeared.clone()));
            assert_eq!((d.waivers_started.len(), d.waivers_ended.len()), (back.waivers_ended.len(), back.waivers_started.len()));
            assert_eq!(back.total, Delta { weight_compliant: -d.total.weight_compliant, weight_decided: -d.total.weight_decided });
        }
    }

    #[test]
    fn an_edited_sum_is_an_error() {
        let mut rng = Rng(7);
        let r = report(&mut rng, "x");
        let report = Report {
            generated_at: "t".into(),
            score_bp: 0,
            score_with_waivers_bp: None,
            weight_compliant: Some(r.weight_compliant + 1),
            weight_decided: None,
            engine: Engine { component_sha256: "c".into(), rule_pack: RulePack { version: "1".into() } },
            input: Input { sha256: "i".into() },
            resources: Vec::new(),
            findings: Vec::new(),
        };
        let error = index(report, "x.json").unwrap_err().to_string();
        assert!(error.contains("weight_compliant") && error.contains("edited"), "{error}");
        let cell_breaker = Indexed { label: "a|b".into(), ..Indexed::default() };
        assert!(to_markdown(&cell_breaker, &cell_breaker, &Diff::default()).contains("a\\|b"));
    }
}
