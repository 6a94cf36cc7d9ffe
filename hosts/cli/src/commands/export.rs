//! The exports of `compliance scan --format asff,ocsf` (SPEC §12), written as the component
//! renders them; the ASFF file is then read back and checked against Security Hub's limits,
//! so a finding AWS would refuse is reported now, by id and reason, not at import time.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};

use anyhow::Context;
use compliance_runtime::asff::{self, Batcher};
use compliance_runtime::{ExportFormat, FinishedScan};

use crate::output::write_atomically;

/// The file an export is written to.
pub fn file_name(format: ExportFormat) -> &'static str {
    match format {
        ExportFormat::Asff => "findings.asff.json",
        ExportFormat::Ocsf => "findings.ocsf.jsonl",
    }
}

/// Writes one export into `out_dir` and returns its path with the findings of an ASFF export
/// that break a limit of Security Hub (the file keeps them all: nothing is dropped).
pub fn write(finished: &mut FinishedScan, format: ExportFormat, global_region: &str, out_dir: &Path) -> anyhow::Result<(PathBuf, Vec<asff::Rejected>)> {
    let name = file_name(format);
    write_atomically(out_dir, name, |out| Ok(finished.export_to(format, global_region, out, name).map(drop)?))?;
    let path = out_dir.join(name);
    if format == ExportFormat::Asff {
        let (findings, calls, rejected) = check_asff(&path)?;
        eprintln!("{}: {findings} findings for Security Hub in {calls} BatchImportFindings calls (at most {} findings and {} bytes each)", path.display(), asff::MAX_FINDINGS_PER_CALL, asff::MAX_CALL_BYTES);
        return Ok((path, rejected));
    }
    Ok((path, Vec::new()))
}

/// Says which findings Security Hub would refuse, and why.
pub fn report_rejected(path: &Path, rejected: &[asff::Rejected]) {
    eprintln!("{}: {} findings break Security Hub's limits and would be refused (they stay in the file):", path.display(), rejected.len());
    for r in rejected {
        eprintln!("  {r}");
    }
}

/// Reads an ASFF export back, one finding per line as the component writes them, and plans
/// its calls without holding more than one line: (findings, calls, rejected). Checking a
/// finding reads it as JSON whole, so a line that is not one finding is rejected with why.
fn check_asff(path: &Path) -> anyhow::Result<(u64, u64, Vec<asff::Rejected>)> {
    let file = std::fs::File::open(path).with_context(|| format!("reading back {}", path.display()))?;
    let mut reader = BufReader::with_capacity(1 << 20, file);
    let mut batcher = Batcher::default();
    let (mut findings, mut calls, mut rejected) = (0u64, 0u64, Vec::new());
    let mut count = |call: Option<asff::CallSize>| {
        if let Some(call) = call {
            calls += 1;
            findings += call.findings as u64;
        }
    };
    let mut line = String::new();
    loop {
        line.clear();
        if reader.read_line(&mut line).with_context(|| format!("reading back {}", path.display()))? == 0 {
            break;
        }
        let Some(record) = asff::finding_on_line(line.trim_end_matches('\n')) else { continue };
        match batcher.count(record) {
            Ok(call) => count(call),
            Err(r) => rejected.push(r),
        }
    }
    count(batcher.finish_count());
    Ok((findings, calls, rejected))
}
