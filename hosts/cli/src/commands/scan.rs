//! `compliance scan`.

use anyhow::Context;
use compliance_runtime::{ExportFormat, FinishedScan, ReportFormat, ScanRequest, WaiverInput, collect_sources, is_timestamp, now_utc};

use crate::Outcome;
use crate::args::{Format, ScanArgs};
use crate::demo;
use crate::output::write_atomically;
use crate::output::say;

pub fn run(args: ScanArgs) -> anyhow::Result<Outcome> {
    let formats = if args.format.is_empty() { vec![Format::Html, Format::Json, Format::Table] } else { args.format.clone() };
    let generated_at = args.generated_at.clone().unwrap_or_else(now_utc);
    anyhow::ensure!(is_timestamp(&generated_at), "--generated-at `{generated_at}` is not an ISO-8601 UTC timestamp like 2024-03-03T09:00:00.000Z");
    anyhow::ensure!(!args.criticality_tag.is_empty(), "--criticality-tag must not be empty");
    let runtime = super::load_runtime(&args.engine)?;
    let sources = if args.inputs.is_empty() {
        eprintln!("No input given: scanning the bundled demo snapshot ({}), a synthetic account.", demo::DEMO_NAME);
        vec![demo::source()]
    } else {
        let sources = collect_sources(&args.inputs)?;
        anyhow::ensure!(!sources.is_empty(), "no .json, .json.gz, .ndjson or .jsonl files found in the given inputs");
        sources
    };
    let request = ScanRequest {
        threshold_bp: args.threshold,
        criticality_tag: args.criticality_tag.clone(),
        required_tags: args.required_tag.clone(),
        generated_at,
        waivers: match &args.waivers {
            Some(path) => {
                let bytes = std::fs::read(path).with_context(|| format!("reading the waiver file {}", path.display()))?;
                Some(WaiverInput { name: path.display().to_string(), bytes })
            }
            None => None,
        },
    };
    let mut finished = super::scan_with_progress(&runtime, &request, sources, args.engine.jobs())?;
    let mut written = Vec::new();
    let mut refused = Vec::new();
    let mut found_region = None; // found once, for the first export that needs it
    for format in &formats {
        let (wit_format, file) = match format {
            Format::Json => (ReportFormat::Json, "report.json"),
            Format::Html => (ReportFormat::Html, "report.html"),
            Format::Csv => (ReportFormat::Csv, "findings.csv"),
            Format::Table => continue,
            Format::Asff | Format::Ocsf => {
                let export = if *format == Format::Asff { ExportFormat::Asff } else { ExportFormat::Ocsf };
                let region = match found_region.take() {
                    Some(region) => region,
                    None => global_region(&mut finished, args.global_region.as_deref())?,
                };
                let (path, rejected) = super::export::write(&mut finished, export, &region, &args.out_dir)?;
                found_region = Some(region);
                if !rejected.is_empty() {
                    refused.push((path.clone(), rejected));
                }
                written.push(path);
                continue;
            }
        };
        // Written as the component renders it: a large report never sits in memory whole.
        write_atomically(&args.out_dir, file, |out| Ok(finished.render_to(wit_format, &[], out, file).map(drop)?))?;
        written.push(args.out_dir.join(file));
    }
    if formats.contains(&Format::Table) {
        let table = finished.render(ReportFormat::Table, &[])?;
        crate::output::stdout(format_args!("{}", String::from_utf8_lossy(&table)))?;
        say!("\nComponent sha256 {}  ·  input sha256 {}", finished.meta.component_sha256, finished.meta.input_sha256);
    }
    for path in &written {
        eprintln!("wrote {}", path.display());
    }
    for (path, rejected) in &refused {
        super::export::report_rejected(path, rejected);
    }
    if !refused.is_empty() {
        return Ok(Outcome::Failed);
    }
    let score = finished.summary.score_bp;
    if let Some(minimum) = args.fail_under
        && score < minimum
    {
        eprintln!("score {}.{:02}% is below --fail-under {}.{:02}%", score / 100, score % 100, minimum / 100, minimum % 100);
        return Ok(Outcome::Failed);
    }
    Ok(Outcome::Success)
}

/// The region for findings on global resources: the one given, else the data's only region.
fn global_region(finished: &mut FinishedScan, given: Option<&str>) -> anyhow::Result<String> {
    if let Some(region) = given {
        return Ok(region.to_owned());
    }
    let resources = finished.resources()?;
    let mut regions: Vec<&str> = resources.iter().map(|r| r.region.as_str()).filter(|r| *r != "global").collect();
    regions.sort_unstable();
    regions.dedup();
    let has_global = resources.iter().any(|r| r.region == "global");
    match regions.as_slice() {
        [one] => Ok((*one).to_owned()),
        _ if !has_global => Ok("us-east-1".to_owned()), // files nothing: no finding is global
        [] => anyhow::bail!("the scan has only global (IAM) resources: say which region Security Hub should file their findings in with --global-region REGION"),
        several => anyhow::bail!(
            "the scan spans the regions {}: say which region Security Hub should file findings on global (IAM) resources in with --global-region REGION",
            several.join(", ")
        ),
    }
}
