//! The rule pack's framework mapping is exactly the table of `docs/FRAMEWORKS.md` (SPEC §11):
//! every id of every cell, with its source (AWS, Prowler, vendor-asserted), so the data cannot
//! drift from its documented sources silently. The component hands out the same mapping.

use std::collections::BTreeSet;
use std::path::Path;

use compliance_engine::rules::frameworks::{Framework, Source, mappings};
use compliance_runtime::frameworks::Basis;

/// (rule, framework, requirement, source)
type Row = (String, Framework, String, Source);

fn parse_table() -> BTreeSet<Row> {
    let text = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/FRAMEWORKS.md")).expect("docs/FRAMEWORKS.md");
    let rows: Vec<Vec<String>> = text
        .lines()
        .filter(|l| l.starts_with("| `"))
        .map(|l| l.trim().trim_matches('|').split('|').map(|c| c.trim().to_owned()).collect())
        .collect();
    assert_eq!(rows.len(), 17, "one row per rule");
    // "as S3.1" / "as IAM.1": the NIST cell of the row whose Security Hub cell lists that control.
    let nist_of = |control: &str| -> String {
        rows.iter()
            .find(|r| controls(&r[1]).contains(&control.to_owned()))
            .map(|r| r[4].clone())
            .unwrap_or_else(|| panic!("no row lists {control}"))
    };
    let mut out = BTreeSet::new();
    for row in &rows {
        let rule = row[0].trim_matches('`').to_owned();
        let vendor = row[5].contains("vendor-asserted");
        let mut add = |framework: Framework, cell: &str| {
            let cell = if let Some(control) = cell.strip_prefix("as ") { nist_of(control.trim()) } else { cell.to_owned() };
            for part in cell.split([',', ';']) {
                let part = part.trim();
                if part.is_empty() || part == "—" {
                    continue;
                }
                let source = if vendor {
                    Source::Vendor
                } else if part.contains("(Prowler)") {
                    Source::Prowler
                } else {
                    Source::Aws
                };
                // Drop notes: "*(Prowler)*", "(bucket)", "(IPv4)", "(22)", "(from EC2.13)", "also".
                let id = part.replace("*(Prowler)*", "").replace("also ", "");
                let id = match id.find(" (") {
                    Some(at) => id[..at].to_owned(),
                    None => id.trim().to_owned(),
                };
                out.insert((rule.clone(), framework, id.trim().to_owned(), source));
            }
        };
        add(Framework::SecurityHub, &row[1]);
        add(Framework::Cis, &row[2]);
        add(Framework::PciDss, &row[3]);
        add(Framework::Nist, &row[4]);
    }
    out
}

/// The Security Hub control ids of a cell (`S3.8`, `EC2.53`).
fn controls(cell: &str) -> Vec<String> {
    cell.split(|c: char| !(c.is_ascii_alphanumeric() || c == '.'))
        .filter(|w| w.contains('.') && w.split('.').all(|p| !p.is_empty()) && w.split('.').nth(1).is_some_and(|n| n.bytes().all(|b| b.is_ascii_digit())))
        .map(str::to_owned)
        .collect()
}

#[test]
fn the_rule_pack_carries_exactly_the_documented_mapping() {
    let documented = parse_table();
    let carried: BTreeSet<Row> = mappings().map(|m| (m.rule.to_owned(), m.framework, m.requirement.to_owned(), m.source)).collect();
    let missing: Vec<_> = documented.difference(&carried).collect();
    let extra: Vec<_> = carried.difference(&documented).collect();
    assert!(missing.is_empty() && extra.is_empty(), "documented but not carried: {missing:#?}\ncarried but not documented: {extra:#?}");
    assert!(documented.len() > 150, "the parser read the table ({} mappings)", documented.len());
    assert_eq!(mappings().count(), carried.len(), "no mapping twice");
}

#[test]
fn the_component_hands_out_the_same_mapping() {
    let runtime = compliance_tests::runtime();
    let from_component = runtime.framework_mappings().expect("call").expect("the embedded component has the mapping");
    let carried: BTreeSet<(String, String, String, &str)> = mappings().map(|m| (m.rule.to_owned(), m.framework.id().to_owned(), m.requirement.to_owned(), m.source.as_str())).collect();
    let handed: BTreeSet<(String, String, String, &str)> = from_component
        .iter()
        .map(|m| {
            let basis = match m.basis {
                Basis::Aws => "aws",
                Basis::Prowler => "prowler",
                Basis::VendorAsserted => "vendor-asserted",
            };
            (m.rule_id.clone(), m.framework_id.clone(), m.requirement.clone(), basis)
        })
        .collect();
    assert_eq!(handed, carried);
    assert_eq!(from_component.len(), carried.len());
    // Archived components predate the mapping: the host says so instead of failing to load them.
    let archive = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/archive/rule-pack-1.1.0-wit-1.2.0/component.wasm");
    let old = compliance_runtime::Runtime::from_file(&archive, compliance_runtime::Limits::default()).expect("loads");
    assert_eq!(old.framework_mappings().expect("call"), None);
}
