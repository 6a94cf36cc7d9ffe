//! `compliance rollup`: per-account reports in, one organization report out (SPEC §10), computed
//! by the component from the reports' integer sums; and the `verify` of such an org report.
//! This host only reads the reports' heads and moves their numbers: every sum, score, choice of
//! summary and list of missing account-regions comes out of the component.

use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use compliance_runtime::rollup::{Expected, Outcome as RollupOutcome, Request, RollupFormat as WitFormat, Summary};
use compliance_runtime::{file_sha256, format_utc_millis, is_timestamp, now_utc, parse_utc_millis};
use serde_json::Value;

use compliance_runtime::report_head::{ROLLUP_MEMBERS, ROLLUP_SCHEMA, expected_from_json, read_head, rollup_summary};
use crate::Outcome;
use crate::args::{RollupArgs, RollupFormat, VerifyArgs};
use crate::output::write_atomically;
use crate::output::say;

pub fn run(args: RollupArgs) -> anyhow::Result<Outcome> {
    let formats = if args.format.is_empty() { vec![RollupFormat::Json, RollupFormat::Html, RollupFormat::Table] } else { args.format.clone() };
    let generated_at = args.generated_at.clone().unwrap_or_else(now_utc);
    anyhow::ensure!(is_timestamp(&generated_at), "--generated-at `{generated_at}` is not an ISO-8601 UTC timestamp like 2024-03-03T09:00:00.000Z");
    let window_start = match args.window_hours {
        Some(hours) => {
            let end = parse_utc_millis(&generated_at).context("--generated-at cannot be read as a time")?;
            Some(format_utc_millis(end - i64::from(hours) * 3_600_000))
        }
        None => None,
    };
    let expected = match &args.expect_from {
        Some(path) => expected_from(path)?,
        None => Vec::new(),
    };
    let runtime = super::load_runtime(&args.engine)?;
    let reports = collect_reports(&args.reports)?;
    anyhow::ensure!(!reports.is_empty(), "no report.json found in the given inputs");
    let summaries = reports.iter().map(|(name, path)| summary(name, path)).collect::<anyhow::Result<Vec<_>>>()?;
    let request = Request {
        org_id: args.org_id.clone(),
        threshold_bp: args.threshold,
        generated_at,
        window_start,
        forget_after_hours: args.forget_after_hours,
        expected,
        component_sha256: runtime.sha256().to_owned(),
    };
    let files: Vec<(WitFormat, &str)> = formats
        .iter()
        .filter_map(|f| match f {
            RollupFormat::Json => Some((WitFormat::Json, "rollup.json")),
            RollupFormat::Html => Some((WitFormat::Html, "rollup.html")),
            RollupFormat::Table => None,
        })
        .collect();
    let wit_formats: Vec<WitFormat> = files.iter().map(|(f, _)| *f).collect();
    let outcome = runtime.roll_up(&request, &summaries, &wit_formats)?;
    let mut written = Vec::new();
    for ((_, name), bytes) in files.iter().zip(&outcome.rendered) {
        write_atomically(&args.out_dir, name, |out| Ok(out.write_all(bytes)?))?;
        written.push(args.out_dir.join(name));
    }
    if formats.contains(&RollupFormat::Table) {
        crate::output::stdout(format_args!("{}", summary_text(&request, &outcome, summaries.len())))?;
        say!("\nComponent sha256 {}", runtime.sha256());
    }
    for path in &written {
        eprintln!("wrote {}", path.display());
    }
    if let Some(minimum) = args.fail_under
        && outcome.score_bp < minimum
    {
        eprintln!("org score {} is below --fail-under {}", percent(outcome.score_bp), percent(minimum));
        return Ok(Outcome::Failed);
    }
    Ok(Outcome::Success)
}

/// `compliance verify rollup.json REPORT.json...`: re-computes the org report from the
/// per-account reports with the options it records, and compares byte for byte.
pub fn verify(args: &VerifyArgs, head: Value) -> anyhow::Result<Outcome> {
    let shown = args.report.display();
    let stored = std::fs::read(&args.report).with_context(|| format!("reading {shown}"))?;
    let text = |pointer: &str| head.pointer(pointer).and_then(Value::as_str).map(str::to_owned).with_context(|| format!("{shown} has no `{pointer}` string"));
    let number = |pointer: &str| head.pointer(pointer).and_then(Value::as_u64).and_then(|n| u32::try_from(n).ok()).with_context(|| format!("{shown} has no `{pointer}` number"));
    let wanted_component = text("/engine/component_sha256")?;
    let runtime = super::verify::runtime_for(&args.engine, &wanted_component)?;
    let request = Request {
        org_id: text("/org_id")?,
        threshold_bp: number("/threshold_bp")?,
        generated_at: text("/generated_at")?,
        window_start: head.pointer("/window/start").and_then(Value::as_str).map(str::to_owned),
        forget_after_hours: number("/window/forget_after_hours")?,
        expected: expected_list(head.get("expected"), "expected", &shown.to_string())?,
        component_sha256: wanted_component.clone(),
    };
    let recorded: Vec<(String, String)> = head
        .get("inputs")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|i| Some((i.get("name")?.as_str()?.to_owned(), i.get("report_sha256")?.as_str()?.to_owned())))
        .collect();
    anyhow::ensure!(!args.inputs.is_empty(), "give the per-account reports the org report was computed from ({} of them)", recorded.len());
    let mut reports = collect_reports(&args.inputs)?;
    name_by_content(&mut reports, &recorded)?;
    let summaries = reports.iter().map(|(name, path)| summary(name, path)).collect::<anyhow::Result<Vec<_>>>()?;
    let outcome = runtime.roll_up(&request, &summaries, &[WitFormat::Json])?;
    let fresh = outcome.rendered.first().context("the component rendered nothing")?;
    if *fresh == stored {
        say!("verified: {shown} reproduced bit for bit (org score {}, {} reports, component {wanted_component})", percent(outcome.score_bp), summaries.len());
        return Ok(Outcome::Success);
    }
    say!("MISMATCH: re-computing the roll-up from the reports does not reproduce {shown}");
    let fresh_head: Value = serde_json::from_slice(fresh).context("the component rendered invalid JSON")?;
    for line in differences(&head, &fresh_head) {
        say!("  {line}");
    }
    Ok(Outcome::Failed)
}

/// What differs between the stored and the re-computed org report.
fn differences(stored: &Value, fresh: &Value) -> Vec<String> {
    let mut lines = Vec::new();
    for (pointer, label) in [("/score_bp", "org score_bp"), ("/weight_compliant", "weight_compliant"), ("/weight_decided", "weight_decided")] {
        let (a, b) = (stored.pointer(pointer), fresh.pointer(pointer));
        if a != b {
            lines.push(format!("{label}: report says {}, reports give {}", a.unwrap_or(&Value::Null), b.unwrap_or(&Value::Null)));
        }
    }
    let inputs = |v: &Value| -> Vec<(String, String)> {
        v.get("inputs").and_then(Value::as_array).into_iter().flatten()
            .filter_map(|i| Some((i.get("name")?.as_str()?.to_owned(), i.get("report_sha256")?.as_str()?.to_owned())))
            .collect()
    };
    let (was, now) = (inputs(stored), inputs(fresh));
    for (name, sha) in &was {
        match now.iter().find(|(n, _)| n == name) {
            None => lines.push(format!("report {name} is in the org report but was not given")),
            Some((_, other)) if other != sha => lines.push(format!("report {name}: org report records sha256 {sha}, the given file has {other}")),
            Some(_) => {}
        }
    }
    lines.extend(now.iter().filter(|(n, _)| !was.iter().any(|(w, _)| w == n)).map(|(n, _)| format!("report {n} was given but is not in the org report")));
    if lines.is_empty() {
        lines.push("the numbers agree but the bytes differ (was the file edited?)".to_owned());
    }
    lines
}

/// Per-account reports: files as given, and every `report.json` below a directory except the
/// analyzer's `latest/` copies (each is also stored under its dated key). Names are the path
/// as given, or relative to the directory: a synced copy of the reports bucket gives S3 keys.
/// Reports of two directories that would get the same name (`reports/A` and `reports/B` both
/// hold `us-east-1/…/report.json`) are named with their directory as given instead.
fn collect_reports(inputs: &[PathBuf]) -> anyhow::Result<Vec<(String, PathBuf)>> {
    let mut found: Vec<(String, PathBuf, Option<String>)> = Vec::new();
    for input in inputs {
        let meta = std::fs::metadata(input).with_context(|| format!("reading {}", input.display()))?;
        if !meta.is_dir() {
            found.push((input.to_string_lossy().replace('\\', "/"), input.clone(), None));
            continue;
        }
        let given = input.to_string_lossy().replace('\\', "/").trim_end_matches('/').to_owned();
        for entry in walkdir(input)? {
            let relative = entry.strip_prefix(input).unwrap_or(&entry);
            let parts: Vec<String> = relative.components().map(|c| c.as_os_str().to_string_lossy().into_owned()).collect();
            if parts.last().is_some_and(|n| n == "report.json") && !parts.iter().any(|p| p == "latest") {
                found.push((parts.join("/"), entry.clone(), Some(given.clone())));
            }
        }
    }
    let mut counts: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    for (name, _, _) in &found {
        *counts.entry(name.clone()).or_default() += 1;
    }
    let mut named: Vec<(String, PathBuf)> = found
        .into_iter()
        .map(|(name, path, dir)| match dir {
            Some(dir) if counts.get(&name).is_some_and(|n| *n > 1) => (format!("{dir}/{name}"), path),
            _ => (name, path),
        })
        .collect();
    named.sort();
    if let Some(pair) = named.windows(2).find(|w| w.first().map(|a| &a.0) == w.get(1).map(|b| &b.0)) {
        bail!("two reports would both be named `{}`", pair.first().map(|p| p.0.as_str()).unwrap_or_default());
    }
    Ok(named)
}

/// Every file below `root`. Symlinked directories are not entered (`file_type` does not
/// follow links), so a link loop cannot make the walk endless; symlinked files are read.
fn walkdir(root: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    let mut pending = vec![root.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).with_context(|| format!("reading {}", dir.display()))? {
            let entry = entry.with_context(|| format!("reading {}", dir.display()))?;
            let kind = entry.file_type().with_context(|| format!("reading {}", entry.path().display()))?;
            if kind.is_dir() {
                pending.push(entry.path());
            } else {
                files.push(entry.path());
            }
        }
    }
    Ok(files)
}

/// Gives the reports the names the org report knows their bytes by (as `verify` does for
/// Config data): an auditor's copies may live anywhere.
fn name_by_content(reports: &mut [(String, PathBuf)], recorded: &[(String, String)]) -> anyhow::Result<()> {
    for (name, path) in reports.iter_mut() {
        if recorded.iter().any(|(n, _)| n == name) {
            continue;
        }
        let sha256 = file_sha256(path).with_context(|| format!("reading {}", path.display()))?;
        if let Some((known, _)) = recorded.iter().find(|(_, s)| *s == sha256) {
            eprintln!("note: {name} has the bytes of the org report's input {known}; verifying it under that name");
            name.clone_from(known);
        }
    }
    Ok(())
}

/// The roll-up's view of one per-account report: its head's numbers and provenance.
fn summary(name: &str, path: &Path) -> anyhow::Result<Summary> {
    let file = File::open(path).with_context(|| format!("reading {}", path.display()))?;
    let head = read_head(BufReader::new(file), ROLLUP_MEMBERS).with_context(|| format!("{} is not JSON", path.display()))?;
    let sha256 = file_sha256(path).with_context(|| format!("reading {}", path.display()))?;
    rollup_summary(name, &sha256, &head, &path.display().to_string()).map_err(anyhow::Error::msg)
}

/// The account-regions a previous org report counted or listed as absent.
fn expected_from(path: &Path) -> anyhow::Result<Vec<Expected>> {
    let shown = path.display().to_string();
    let bytes = std::fs::read(path).with_context(|| format!("reading {shown}"))?;
    let previous: Value = serde_json::from_slice(&bytes).with_context(|| format!("{shown} is not JSON"))?;
    anyhow::ensure!(previous.get("schema").and_then(Value::as_str) == Some(ROLLUP_SCHEMA), "{shown} is not a {ROLLUP_SCHEMA} org report");
    let counted: Vec<Value> = previous
        .get("account_regions")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|p| p.get("status").and_then(Value::as_str) == Some("counted"))
        .map(|p| serde_json::json!({"account_id": p.get("account_id"), "region": p.get("region"), "last_seen": p.get("generated_at")}))
        .collect();
    let mut expected = expected_list(Some(&Value::Array(counted)), "account_regions", &shown)?;
    expected.extend(expected_list(previous.get("missing"), "missing", &shown)?);
    Ok(expected)
}

/// A list of `{account_id, region, last_seen}`.
fn expected_list(list: Option<&Value>, what: &str, file: &str) -> anyhow::Result<Vec<Expected>> {
    let Some(list) = list.and_then(Value::as_array) else { bail!("{file} has no `{what}` list") };
    expected_from_json(list, &format!("{file}: {what}")).map_err(anyhow::Error::msg)
}

fn percent(bp: u32) -> String {
    format!("{}.{:02}%", bp / 100, bp % 100)
}

/// The terminal summary of an org report (numbers from the component's outcome).
fn summary_text(request: &Request, outcome: &RollupOutcome, reports: usize) -> String {
    let verdict = if outcome.below_threshold { "BELOW THRESHOLD" } else { "ok" };
    let mut out = format!(
        "Organization {}: {} (threshold {}) — {verdict}\nΣ weight compliant {} / Σ weight decided {}, from {reports} reports\n",
        request.org_id.chars().filter(|c| !c.is_control()).collect::<String>(),
        percent(outcome.score_bp),
        percent(request.threshold_bp),
        outcome.weight_compliant,
        outcome.weight_decided,
    );
    if !outcome.accounts_below_threshold.is_empty() {
        out.push_str(&format!("Accounts below the threshold: {}\n", outcome.accounts_below_threshold.join(", ")));
    }
    if !outcome.missing.is_empty() {
        out.push_str("Missing or stale account-regions (last seen):\n");
        for m in &outcome.missing {
            out.push_str(&format!("  {} {} ({})\n", m.account_id, m.region, m.last_seen));
        }
    }
    out
}
