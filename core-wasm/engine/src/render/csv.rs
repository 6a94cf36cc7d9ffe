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
    let mut out = String::new();
    push_row(&mut out, HEADER.iter().copied());
    let requirements = requirement_cells();
    let none: [String; 4] = Default::default();
    for FindingWithId { resource, finding, id, .. } in report.findings_with_ids(0, 0) {
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
        let [hub, cis, pci, nist] = requirements.get(usize::from(finding.rule)).unwrap_or(&none);
        let waiver = report.waiver_of(finding);
        let waiver = waiver.map_or(["", "", ""], |w| [w.id.as_str(), w.owner.as_str(), w.expires.as_str()]);
        let row = row.into_iter().chain([hub.as_str(), cis.as_str(), pci.as_str(), nist.as_str()]).chain(waiver);
        push_row(&mut out, row);
    }
    out.into_bytes()
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

    #[test]
    fn every_quote_is_doubled_wherever_it_is() {
        for (cell, expected) in [("\"", "\"\"\"\""), ("\"\"", "\"\"\"\"\"\""), ("a\"", "\"a\"\"\""), ("\"a", "\"\"\"a\""), ("a\"\"b\"c", "\"a\"\"\"\"b\"\"c\""), ("é\"日", "\"é\"\"日\"")] {
            let mut out = String::new();
            push_cell(&mut out, cell);
            assert_eq!(out, expected, "{cell:?}");
        }
    }
}
