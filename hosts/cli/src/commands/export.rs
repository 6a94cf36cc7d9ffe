//! The exports of `compliance scan --format asff,ocsf` (SPEC §12), written as the component
//! renders them; the ASFF findings are checked against Security Hub's limits as they are
//! written, so a finding AWS would refuse is reported now, by id and reason, not at import time.

use std::io::Write;
use std::path::{Path, PathBuf};

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
    let path = out_dir.join(name);
    if format == ExportFormat::Asff {
        let mut checked = None;
        write_atomically(out_dir, name, |out| {
            let mut checking = Checking::new(out);
            finished.export_to(format, global_region, &mut checking, name)?;
            checked = Some(checking.finish()?);
            Ok(())
        })?;
        let (findings, calls, rejected) = checked.unwrap_or_default();
        eprintln!("{}: {findings} findings for Security Hub in {calls} BatchImportFindings calls (at most {} findings and {} bytes each)", path.display(), asff::MAX_FINDINGS_PER_CALL, asff::MAX_CALL_BYTES);
        return Ok((path, rejected));
    }
    write_atomically(out_dir, name, |out| Ok(finished.export_to(format, global_region, out, name).map(drop)?))?;
    Ok((path, Vec::new()))
}

/// Says which findings Security Hub would refuse, and why.
pub fn report_rejected(path: &Path, rejected: &[asff::Rejected]) {
    eprintln!("{}: {} findings break Security Hub's limits and would be refused (they stay in the file):", path.display(), rejected.len());
    for r in rejected {
        eprintln!("  {r}");
    }
}

/// Writes an ASFF export through to `out` and checks its findings as they go by, one line at a
/// time as the component writes them (`[`, then one finding per line, each but the last
/// followed by `,`, then `]`), planning their calls without holding more than one line. The
/// runtime writes on one thread while the component renders the next piece on another, so the
/// checking, which takes longer than the rendering, overlaps it (the file was read back and
/// checked after it was written). A line that is not one finding is rejected with why.
struct Checking<'w> {
    out: &'w mut dyn Write,
    batcher: Batcher,
    /// The start of a line whose end has not come yet.
    partial: Vec<u8>,
    findings: u64,
    calls: u64,
    rejected: Vec<asff::Rejected>,
}

impl<'w> Checking<'w> {
    fn new(out: &'w mut dyn Write) -> Self {
        Checking { out, batcher: Batcher::default(), partial: Vec::new(), findings: 0, calls: 0, rejected: Vec::new() }
    }

    fn line(&mut self, line: &[u8]) -> std::io::Result<()> {
        let line = std::str::from_utf8(line).map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, format!("the export is not UTF-8: {e}")))?;
        let Some(record) = asff::finding_on_line(line) else { return Ok(()) };
        match self.batcher.count(record) {
            Ok(call) => self.count(call),
            Err(r) => self.rejected.push(r),
        }
        Ok(())
    }

    fn count(&mut self, call: Option<asff::CallSize>) {
        if let Some(call) = call {
            self.calls += 1;
            self.findings += call.findings as u64;
        }
    }

    /// (findings, calls, rejected), once everything is written.
    fn finish(mut self) -> std::io::Result<(u64, u64, Vec<asff::Rejected>)> {
        let last = std::mem::take(&mut self.partial);
        self.line(&last)?;
        let call = std::mem::take(&mut self.batcher).finish_count();
        self.count(call);
        Ok((self.findings, self.calls, self.rejected))
    }
}

impl Write for Checking<'_> {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        let written = self.out.write(bytes)?;
        let mut rest = bytes.get(..written).unwrap_or_default();
        while let Some(end) = memchr::memchr(b'\n', rest) {
            let (line, after) = rest.split_at(end);
            if self.partial.is_empty() {
                self.line(line)?;
            } else {
                let mut whole = std::mem::take(&mut self.partial);
                whole.extend_from_slice(line);
                self.line(&whole)?;
                whole.clear();
                self.partial = whole;
            }
            rest = after.get(1..).unwrap_or_default();
        }
        self.partial.extend_from_slice(rest);
        Ok(written)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.out.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finding(n: usize, account: &str, description: &str) -> String {
        serde_json::json!({
            "SchemaVersion": "2018-10-08",
            "Id": format!("compliance-scanner/ec2-volume-encrypted/{n:032x}"),
            "ProductArn": format!("arn:aws:securityhub:eu-west-1:{account}:product/{account}/default"),
            "GeneratorId": "ec2-volume-encrypted",
            "AwsAccountId": account,
            "Types": ["Software and Configuration Checks/Industry and Regulatory Standards"],
            "CreatedAt": "2026-12-01T09:00:00.000Z",
            "UpdatedAt": "2026-12-01T09:00:00.000Z",
            "Severity": {"Label": "MEDIUM"},
            "Title": "EBS volume encrypted",
            "Description": description,
            "Resources": [{"Type": "AwsEc2Volume", "Id": format!("arn:aws:ec2:eu-west-1:{account}:volume/vol-{n}")}],
        })
        .to_string()
    }

    /// An export written in pieces of any size, lines cut anywhere, is checked as its lines
    /// are one by one: the same calls, and the same findings refused for the same reasons.
    #[test]
    fn findings_are_checked_as_written_whatever_the_pieces() {
        let mut lines = vec!["[".to_owned()];
        for n in 0..250 {
            let record = match n {
                17 => finding(n, "12345678910", "d"),
                42 => "not json".to_owned(),
                99 => finding(n, "111122223333", &"é".repeat(700)),
                _ => finding(n, "111122223333", &"x".repeat(n * 37 % 900)),
            };
            lines.push(if n < 249 { format!("{record},") } else { record });
        }
        lines.push("]".to_owned());
        let export = format!("{}\n", lines.join("\n"));

        let mut batcher = Batcher::default();
        let (mut calls, mut refused) = (Vec::new(), Vec::new());
        for line in export.lines() {
            if let Some(record) = asff::finding_on_line(line) {
                match batcher.count(record) {
                    Ok(call) => calls.extend(call.map(|c| c.findings)),
                    Err(r) => refused.push(r.to_string()),
                }
            }
        }
        calls.extend(batcher.finish_count().map(|c| c.findings));
        assert_eq!(refused.len(), 4, "{refused:?}"); // findings 0 (empty description), 17, 42 and 99
        assert!(calls.len() >= 3, "{calls:?}");

        for piece in [1, 2, 7, 100, 4096, export.len()] {
            let mut written = Vec::new();
            let mut checking = Checking::new(&mut written);
            for chunk in export.as_bytes().chunks(piece) {
                checking.write_all(chunk).expect("writes");
            }
            let (findings, call_count, rejected) = checking.finish().expect("finishes");
            assert_eq!(written, export.as_bytes(), "written through unchanged");
            assert_eq!((findings, call_count), (calls.iter().sum::<usize>() as u64, calls.len() as u64), "pieces of {piece}");
            assert_eq!(rejected.iter().map(ToString::to_string).collect::<Vec<_>>(), refused, "pieces of {piece}");
        }
    }
}
