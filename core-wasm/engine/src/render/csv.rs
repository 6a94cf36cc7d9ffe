//! Findings as CSV (RFC 4180), one row per finding. Cells that a spreadsheet would run as a
//! formula (leading `=`, `+`, `-`, `@`, tab or carriage return) are prefixed with `'`: resource
//! names and tags are chosen by whoever creates the resources.

use crate::report::{FindingWithId, ScoreReport};
use crate::rules::rule;

const HEADER: [&str; 19] = [
    "id",
    "rule_id",
    "severity",
    "status",
    "resource_type",
    "resource_id",
    "arn",
    "account_id",
    "region",
    "message",
    "path",
    "remediable",
    // Rule pack 1.2.0: the requirements each finding's rule evidences, space-separated.
    "security_hub_controls",
    "cis_aws_3_0_0",
    "pci_dss_4_0_1",
    "nist_800_53_r5",
    // Waivers (SPEC §11): set on waived NON_COMPLIANT findings only; the status stays.
    "waiver_id",
    "waiver_owner",
    "waiver_expires",
];

/// Per rule, per framework, the requirement ids joined by spaces (computed once per render).
fn requirement_cells() -> Vec<[String; 4]> {
    use crate::rules::frameworks::{FRAMEWORKS, of_rule};
    crate::rules::RULES
        .iter()
        .map(|r| FRAMEWORKS.map(|f| of_rule(r.id).filter(|m| m.framework == f).map(|m| m.requirement).collect::<Vec<_>>().join(" ")))
        .collect()
}

/// Renders every finding.
pub fn render(report: &ScoreReport) -> Vec<u8> {
    CsvPages::default().next_page(report, usize::MAX)
}

/// The CSV in pieces of about `max_bytes` (see [`CsvPages::next_page`]) that concatenate to
/// [`render`]'s bytes: a report of a million resources is nearly a gigabyte of CSV, which
/// rendered whole sat in the component's memory twice over while it grew.
#[derive(Default)]
pub struct CsvPages {
    stage: CsvStage,
    /// Per rule, the requirement cells, computed with the header.
    requirements: Vec<[String; 4]>,
}

#[derive(Default, Clone, Copy, PartialEq, Eq)]
enum CsvStage {
    #[default]
    Header,
    /// The next row's finding (resource index, finding index).
    Rows { resource: usize, finding: usize },
    Done,
}

impl CsvPages {
    /// Whether the last piece has been handed out.
    pub fn is_done(&self) -> bool {
        self.stage == CsvStage::Done
    }

    /// The next piece: at least `max_bytes` long unless it is the last one (one row more at
    /// most), empty once the CSV is complete.
    pub fn next_page(&mut self, report: &ScoreReport, max_bytes: usize) -> Vec<u8> {
        let (resource, finding) = match self.stage {
            CsvStage::Done => return Vec::new(),
            CsvStage::Header => (0, 0),
            CsvStage::Rows { resource, finding } => (resource, finding),
        };
        let mut out = String::with_capacity(if max_bytes == usize::MAX { 1 << 16 } else { max_bytes.saturating_add(1 << 12).min(64 << 20) });
        if self.stage == CsvStage::Header {
            push_row(&mut out, HEADER.iter().copied());
            self.requirements = requirement_cells();
            self.stage = CsvStage::Rows { resource, finding };
        }
        let none: [String; 4] = Default::default();
        let mut rows = report.findings_with_ids(resource, finding);
        while out.len() < max_bytes {
            let Some(FindingWithId { resource, finding, id, position }) = rows.next() else {
                self.stage = CsvStage::Done;
                break;
            };
            let def = rule(finding.rule);
            let row = [
                id.as_str(),
                def.id,
                def.severity.as_str(),
                finding.status.as_str(),
                &resource.resource_type,
                &resource.resource_id,
                resource.arn.as_deref().unwrap_or(""),
                &resource.account_id,
                &resource.region,
                &finding.message,
                &finding.path,
                if def.remediable { "true" } else { "false" },
            ];
            let [hub, cis, pci, nist] = self.requirements.get(usize::from(finding.rule)).unwrap_or(&none);
            let waiver = report.waiver_of(finding);
            let waiver = waiver.map_or(["", "", ""], |w| [w.id.as_str(), w.owner.as_str(), w.expires.as_str()]);
            let row = row.into_iter().chain([hub.as_str(), cis.as_str(), pci.as_str(), nist.as_str()]).chain(waiver);
            push_row(&mut out, row);
            self.stage = CsvStage::Rows { resource: position.0, finding: position.1 + 1 };
        }
        out.into_bytes()
    }
}

fn push_row<'a>(out: &mut String, cells: impl Iterator<Item = &'a str>) {
    for (i, cell) in cells.enumerate() {
        if i > 0 {
            out.push(',');
        }
        push_cell(out, cell);
    }
    out.push_str("\r\n");
}

fn push_cell(out: &mut String, cell: &str) {
    let neutralised = cell.starts_with(['=', '+', '-', '@', '\t', '\r']);
    // Every byte looked at, without stopping early, so the compiler checks many at a time (a
    // search for any of four characters went a character at a time).
    let quote = neutralised || cell.bytes().fold(false, |found, b| found | matches!(b, b',' | b'"' | b'\n' | b'\r'));
    if quote {
        out.push('"');
    }
    if neutralised {
        out.push('\'');
    }
    // Each quote doubled; the runs between them copied whole (most cells have none).
    for (i, run) in cell.split('"').enumerate() {
        if i > 0 {
            out.push_str("\"\"");
        }
        out.push_str(run);
    }
    if quote {
        out.push('"');
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_are_neutralised_and_quotes_doubled() {
        let mut out = String::new();
        push_row(&mut out, ["=HYPERLINK(\"x\")", "plain", "a,b", "-1"].into_iter());
        assert_eq!(out, "\"'=HYPERLINK(\"\"x\"\")\",plain,\"a,b\",\"'-1\"\r\n");
    }

    /// A cell as the CSV was first written: a character at a time.
    fn reference_cell(out: &mut String, cell: &str) {
        let neutralised = cell.starts_with(['=', '+', '-', '@', '\t', '\r']);
        let quote = neutralised || cell.contains([',', '"', '\n', '\r']);
        out.push_str(if quote { "\"" } else { "" });
        out.push_str(if neutralised { "'" } else { "" });
        for c in cell.chars() {
            if c == '"' {
                out.push('"');
            }
            out.push(c);
        }
        out.push_str(if quote { "\"" } else { "" });
    }

    /// The whole CSV the way it was rendered before it came in pages: every finding in report
    /// order, each id digested on its own.
    fn reference(report: &ScoreReport) -> String {
        let requirements = requirement_cells();
        let mut out = String::new();
        let row = |out: &mut String, cells: Vec<String>| {
            for (i, cell) in cells.iter().enumerate() {
                out.push_str(if i > 0 { "," } else { "" });
                reference_cell(out, cell);
            }
            out.push_str("\r\n");
        };
        row(&mut out, HEADER.iter().map(|h| h.to_string()).collect());
        for (r, f) in report.findings() {
            let def = rule(f.rule);
            let mut cells = vec![r.finding_id(f), def.id.to_owned(), def.severity.as_str().to_owned(), f.status.as_str().to_owned()];
            cells.extend([&*r.resource_type, &r.resource_id, r.arn.as_deref().unwrap_or(""), &r.account_id, &r.region, &f.message, &f.path].map(str::to_owned));
            cells.push(def.remediable.to_string());
            cells.extend(requirements[usize::from(f.rule)].iter().cloned());
            let waiver = report.waiver_of(f);
            cells.extend(waiver.map_or(["", "", ""], |w| [w.id.as_str(), w.owner.as_str(), w.expires.as_str()]).map(str::to_owned));
            row(&mut out, cells);
        }
        out
    }

    #[test]
    fn pages_of_any_size_concatenate_to_the_csv_as_it_was_rendered_whole() {
        use crate::{ReportMeta, Scan, ScanOptions};
        let items = [
            "",
            r#"{"resourceType": "AWS::Lambda::Function", "resourceId": "f"}"#,
            r#"{"resourceType": "AWS::EC2::Volume", "resourceId": "=vol,1", "configuration": {"encrypted": false}},
               {"resourceType": "AWS::S3::Bucket", "resourceId": "b\n\"x", "tags": {"Criticality": "high"}},
               {"resourceType": "AWS::EC2::Instance", "resourceId": "i-\u0001é/\t", "resourceName": "web \"1\"", "ARN": "arn:aws:ec2:eu-west-1:1:instance/i",
                "configuration": {"publicIpAddress": "203.0.113.7", "metadataOptions": {"httpTokens": "optional"}}}"#,
        ];
        for items in items {
            let mut scan = Scan::new(ScanOptions::default()).expect("options");
            scan.set_waivers("w.yaml", b"waivers:\n  - {id: \"W,1\", rule: ec2-volume-encrypted, resource: \"AWS::EC2::Volume/=vol,1\", reason: r, owner: \"o\\\"x\", approved_by: a, approved_on: 2026-06-01, ticket: T, expires: 2027-01-01}\n").expect("waivers");
            scan.begin_source("t.json").expect("begin");
            scan.feed(format!(r#"{{"configurationItems": [{items}]}}"#).as_bytes()).expect("feed");
            scan.end_source().expect("end");
            let report = scan.finish(ReportMeta { generated_at: "2026-12-01T00:00:00Z".to_owned(), ..Default::default() }).expect("finish");
            assert_eq!(report.waivers.waived_findings(), u64::from(items.contains("=vol,1")), "the waiver's cells are in the test");
            let expected = reference(&report);
            assert_eq!(String::from_utf8(render(&report)).expect("utf-8"), expected, "whole: {items}");
            for max in [1, 7, 100, 4096] {
                let mut pages = CsvPages::default();
                let mut joined = Vec::new();
                loop {
                    let page = pages.next_page(&report, max);
                    if page.is_empty() {
                        break;
                    }
                    joined.extend_from_slice(&page);
                }
                assert!(pages.is_done());
                assert_eq!(String::from_utf8(joined).expect("utf-8"), expected, "pages of {max}: {items}");
            }
        }
    }

    #[test]
    fn every_quote_is_doubled_wherever_it_is() {
        for (cell, expected) in [("\"", "\"\"\"\""), ("\"\"", "\"\"\"\"\"\""), ("a\"", "\"a\"\"\""), ("\"a", "\"\"\"a\""), ("a\"\"b\"c", "\"a\"\"\"\"b\"\"c\""), ("é\"日", "\"é\"\"日\"")] {
            let mut out = String::new();
            push_cell(&mut out, cell);
            assert_eq!(out, expected, "{cell:?}");
        }
    }
}
