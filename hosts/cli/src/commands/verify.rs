//! `compliance verify`: reproduce a stored report from its inputs, bit for bit, with the
//! component it names, and explain any difference.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufRead, BufReader, Read, Write};

use anyhow::{Context, bail};
use compliance_runtime::{InputSource, ReportFormat, ScanRequest, WaiverInput, collect_sources, file_sha256, sha256_hex};
use serde_json::Value;

use compliance_runtime::report_head::{VERIFY_MEMBERS, read_head};

use crate::Outcome;
use crate::args::VerifyArgs;
use crate::demo;
use crate::output::say;

/// Differences listed per category before eliding the rest.
const MAX_LISTED: usize = 20;

pub fn run(args: VerifyArgs) -> anyhow::Result<Outcome> {
    let open = || File::open(&args.report).with_context(|| format!("reading {}", args.report.display()));
    // Everything but the resource and finding lists, read as a stream: a report of a million
    // resources is gigabytes, and verifying it must not need that much memory.
    let report = read_head(BufReader::new(open()?), VERIFY_MEMBERS).with_context(|| format!("{} is not JSON", args.report.display()))?;
    let field = |pointer: &str| report.pointer(pointer).with_context(|| format!("{} has no `{pointer}`: not a compliance report", args.report.display()));
    match field("/schema")?.as_str() {
        Some("compliance-report/v1") => {}
        Some("compliance-rollup/v1") => return super::rollup::verify(&args, report),
        other => bail!(
            "{} has schema {}, which this version does not know (it verifies compliance-report/v1 and compliance-rollup/v1)",
            args.report.display(),
            other.map_or_else(|| "(not a string)".to_owned(), |s| format!("`{s}`"))
        ),
    }
    let wanted_component = field("/engine/component_sha256")?.as_str().unwrap_or_default().to_owned();
    let mut request = ScanRequest {
        threshold_bp: field("/threshold_bp")?.as_u64().and_then(|t| u32::try_from(t).ok()).context("threshold_bp is not a number")?,
        criticality_tag: field("/options/criticality_tag")?.as_str().context("criticality_tag is not a string")?.to_owned(),
        required_tags: field("/options/required_tags")?.as_array().into_iter().flatten().filter_map(|t| t.as_str().map(str::to_owned)).collect(),
        generated_at: field("/generated_at")?.as_str().context("generated_at is not a string")?.to_owned(),
        waivers: None,
    };
    match waiver_input(&report, args.waivers.as_deref())? {
        WaiverCheck::Given(input) => request.waivers = input,
        WaiverCheck::Differs(message) => {
            say!("MISMATCH: {message}");
            return Ok(Outcome::Failed);
        }
    }

    let runtime = runtime_for(&args.engine, &wanted_component)?;

    let report_sources = reported_sources(&report);
    let sources = if args.inputs.is_empty() {
        let names: Vec<&str> = report_sources.iter().map(|(name, _)| name.as_str()).collect();
        if names != [demo::DEMO_NAME] {
            bail!("give the inputs the report was computed from: {}", names.join(", "));
        }
        vec![demo::source()]
    } else {
        let mut sources = collect_sources(&args.inputs)?;
        name_by_content(&mut sources, &report_sources)?;
        sources
    };
    let mut finished = super::scan_with_progress(&runtime, &request, sources, args.engine.jobs())?;
    // Compared piece by piece as the component renders it; only a report that differs is then
    // loaded whole, to say how.
    let mut compare = Compare { stored: BufReader::new(open()?), buffer: Vec::new(), same: true };
    finished.render_to(ReportFormat::Json, &[], &mut compare, "the re-rendered report")?;
    if compare.same && compare.stored.fill_buf().context("reading the report")?.is_empty() {
        say!(
            "verified: {} reproduced bit for bit (score {}, component {}, input {})",
            args.report.display(),
            percent(&report["score_bp"]),
            wanted_component,
            finished.meta.input_sha256
        );
        return Ok(Outcome::Success);
    }
    let stored = std::fs::read(&args.report).with_context(|| format!("reading {}", args.report.display()))?;
    let report: Value = serde_json::from_slice(&stored).with_context(|| format!("{} is not JSON", args.report.display()))?;
    let fresh = finished.render(ReportFormat::Json, &[])?;
    let fresh_report: Value = serde_json::from_slice(&fresh).context("the component rendered invalid JSON")?;
    say!("MISMATCH: re-scoring the inputs does not reproduce {}", args.report.display());
    for line in differences(&report, &fresh_report, &stored, &fresh) {
        say!("  {line}");
    }
    Ok(Outcome::Failed)
}

enum WaiverCheck {
    /// The waiver file to scan with (none when the report had none).
    Given(Option<WaiverInput>),
    /// The given file is not the one the report was scored with.
    Differs(String),
}

/// The waiver file is part of the input (SPEC §11): a report that names one is verified only
/// with that very file, under the name the report gives it.
fn waiver_input(report: &Value, given: Option<&std::path::Path>) -> anyhow::Result<WaiverCheck> {
    let named = report.pointer("/input/waivers").filter(|w| !w.is_null());
    let text = |w: &Value, key: &str| w.get(key).and_then(Value::as_str).unwrap_or_default().to_owned();
    match (named, given) {
        (None, None) => Ok(WaiverCheck::Given(None)),
        (None, Some(path)) => bail!("the report was scored without waivers; run verify without --waivers {}", path.display()),
        (Some(w), None) => bail!(
            "the report was scored with the waiver file `{}` (sha256 {}): it is part of the input; give it with --waivers FILE",
            text(w, "name"),
            text(w, "sha256")
        ),
        (Some(w), Some(path)) => {
            let bytes = std::fs::read(path).with_context(|| format!("reading the waiver file {}", path.display()))?;
            let (name, wanted, got) = (text(w, "name"), text(w, "sha256"), sha256_hex(&bytes));
            if wanted != got {
                return Ok(WaiverCheck::Differs(format!(
                    "waiver input: the report was scored with the waiver file `{name}` of sha256 {wanted}; {} has sha256 {got} (edited since?)",
                    path.display()
                )));
            }
            Ok(WaiverCheck::Given(Some(WaiverInput { name, bytes })))
        }
    }
}

/// The component a stored report names: the embedded one, or the archived file given, which
/// must be exactly that component.
pub fn runtime_for(engine: &crate::args::EngineArgs, wanted_component: &str) -> anyhow::Result<compliance_runtime::Runtime> {
    let runtime = super::load_runtime(engine)?;
    if runtime.sha256() != wanted_component {
        match &engine.component {
            Some(path) => bail!("{} has sha256 {}, but the report was scored by component {wanted_component}", path.display(), runtime.sha256()),
            None => bail!(
                "the report was scored by component {wanted_component}; this binary embeds {}. \
                 Supply the archived component with --component FILE.wasm (its sha256 must be {wanted_component})",
                runtime.sha256()
            ),
        }
    }
    Ok(runtime)
}

/// The report's sources as (name, sha256 of the raw bytes), in report order.
pub fn reported_sources(report: &Value) -> Vec<(String, String)> {
    report
        .pointer("/input/sources")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|s| Some((s.get("name")?.as_str()?.to_owned(), s.get("sha256")?.as_str()?.to_owned())))
        .collect()
}

/// Gives local files the names the report knows their bytes by, and puts them in report order.
/// Source names are part of the input digest, and the analyzer Lambda names its snapshot
/// `s3://bucket/key`: an auditor who downloads that object verifies the local copy, matched to
/// the report's source by sha256. Files whose names the report already uses are left alone.
pub fn name_by_content(sources: &mut [InputSource], reported: &[(String, String)]) -> anyhow::Result<()> {
    let given: Vec<String> = sources.iter().map(|s| s.name.clone()).collect();
    let mut unmatched: Vec<&(String, String)> = reported.iter().filter(|(name, _)| !given.contains(name)).collect();
    for source in sources.iter_mut() {
        if unmatched.is_empty() {
            break;
        }
        let Some(path) = source.path().filter(|_| !reported.iter().any(|(name, _)| *name == source.name)) else { continue };
        let sha256 = file_sha256(path).with_context(|| format!("reading {}", path.display()))?;
        if let Some(at) = unmatched.iter().position(|(_, reported)| *reported == sha256) {
            let (name, _) = unmatched.remove(at);
            eprintln!("note: {} has the bytes of the report's source {name}; verifying it under that name", source.name);
            source.name.clone_from(name);
        }
    }
    let position = |name: &str| reported.iter().position(|(n, _)| n == name).unwrap_or(usize::MAX);
    sources.sort_by(|a, b| (position(&a.name), &a.name).cmp(&(position(&b.name), &b.name)));
    Ok(())
}

/// A writer that compares what is written with the stored report, reading it as it goes.
struct Compare {
    stored: BufReader<File>,
    buffer: Vec<u8>,
    same: bool,
}

impl Write for Compare {
    fn write(&mut self, fresh: &[u8]) -> std::io::Result<usize> {
        if self.same {
            self.buffer.resize(fresh.len(), 0);
            let read = read_up_to(&mut self.stored, &mut self.buffer)?;
            self.same = read == fresh.len() && self.buffer == fresh;
        }
        Ok(fresh.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Fills `buffer` as far as the reader goes; returns how much it read.
fn read_up_to(reader: &mut impl Read, buffer: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buffer.len() {
        match reader.read(buffer.get_mut(filled..).unwrap_or_default())? {
            0 => break,
            n => filled += n,
        }
    }
    Ok(filled)
}

/// A `score_bp` value as a percentage with two decimals.
fn percent(score_bp: &Value) -> String {
    score_bp.as_u64().map_or_else(|| score_bp.to_string(), |bp| format!("{}.{:02}", bp / 100, bp % 100))
}

/// Readable differences between the stored and the re-computed report.
fn differences(stored: &Value, fresh: &Value, stored_bytes: &[u8], fresh_bytes: &[u8]) -> Vec<String> {
    let mut lines = Vec::new();
    let get = |v: &Value, p: &str| v.pointer(p).cloned().unwrap_or(Value::Null);
    let score = |v: &Value| v.get("score").and_then(Value::as_f64).map_or_else(|| "(missing)".to_owned(), |f| format!("{f:.2}"));
    if score(stored) != score(fresh) {
        lines.push(format!("score: report says {}, inputs give {}", score(stored), score(fresh)));
    }
    for (pointer, label) in [("/score_bp", "score_bp"), ("/score_with_waivers_bp", "score_with_waivers_bp"), ("/input/waivers", "waiver file"), ("/input/sha256", "input sha256"), ("/input/items", "items read"), ("/input/evaluated_resources", "evaluated resources")] {
        let (a, b) = (get(stored, pointer), get(fresh, pointer));
        if a != b {
            lines.push(format!("{label}: report says {a}, inputs give {b}"));
        }
    }
    let sources = |v: &Value| -> BTreeMap<String, String> { reported_sources(v).into_iter().collect() };
    let (was, now) = (sources(stored), sources(fresh));
    for (name, sha) in &was {
        match now.get(name) {
            None => lines.push(format!("source {name} is in the report but was not given")),
            Some(other) if other != sha => lines.push(format!("source {name}: report sha256 {sha}, given file {other}")),
            Some(_) => {}
        }
    }
    lines.extend(now.keys().filter(|n| !was.contains_key(*n)).map(|n| format!("source {n} was given but is not in the report")));
    let findings = |v: &Value| -> BTreeMap<String, (String, String)> {
        v.get("findings").and_then(Value::as_array).into_iter().flatten()
            .filter_map(|f| {
                let id = f.get("id")?.as_str()?.to_owned();
                let what = format!("{} on {} {}", f.get("rule_id")?.as_str()?, f.get("resource_type")?.as_str()?, f.get("resource_id")?.as_str()?);
                Some((id, (what, f.get("status")?.as_str()?.to_owned())))
            })
            .collect()
    };
    let (was, now) = (findings(stored), findings(fresh));
    let mut changed = Vec::new();
    for (id, (what, status)) in &was {
        match now.get(id) {
            None => changed.push(format!("finding {id} ({what}, {status}) is in the report but not produced by the inputs")),
            Some((_, other)) if other != status => changed.push(format!("finding {id} ({what}): report says {status}, inputs give {other}")),
            Some(_) => {}
        }
    }
    changed.extend(now.iter().filter(|(id, _)| !was.contains_key(*id)).map(|(id, (what, status))| format!("finding {id} ({what}, {status}) is produced by the inputs but missing from the report")));
    let elided = changed.len().saturating_sub(MAX_LISTED);
    lines.extend(changed.into_iter().take(MAX_LISTED));
    if elided > 0 {
        lines.push(format!("… and {elided} more finding differences"));
    }
    if lines.is_empty() {
        let at = stored_bytes.iter().zip(fresh_bytes).position(|(a, b)| a != b).unwrap_or(stored_bytes.len().min(fresh_bytes.len()));
        let line = stored_bytes.get(..at).map_or(0, |b| b.iter().filter(|c| **c == b'\n').count()) + 1;
        let excerpt = |bytes: &[u8]| String::from_utf8_lossy(bytes.split(|c| *c == b'\n').nth(line - 1).unwrap_or_default()).trim().to_owned();
        lines.push(format!("the report differs from the re-rendered one at byte {at} (line {line})"));
        lines.push(format!("report: {}", excerpt(stored_bytes)));
        lines.push(format!("inputs: {}", excerpt(fresh_bytes)));
    }
    lines
}

