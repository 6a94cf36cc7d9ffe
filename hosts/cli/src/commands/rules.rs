//! `compliance rules`: the rule pack, as the component reports it, with the controls each rule
//! evidences (rule pack 1.2.0, WIT 1.3.0).

use std::collections::BTreeMap;

use anyhow::bail;
use compliance_runtime::Severity;
use compliance_runtime::frameworks::{Basis, Mapping};

use crate::Outcome;
use crate::args::{RulesArgs, RulesFormat};
use crate::output::say;

fn severity(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "critical",
        Severity::High => "high",
        Severity::Medium => "medium",
        Severity::Low => "low",
    }
}

fn basis(b: Basis) -> &'static str {
    match b {
        Basis::Aws => "aws",
        Basis::Prowler => "prowler",
        Basis::VendorAsserted => "vendor-asserted",
    }
}

pub fn run(args: RulesArgs) -> anyhow::Result<Outcome> {
    let runtime = super::load_runtime(&args.engine)?;
    let about = runtime.about()?;
    let mut rules = runtime.rules()?;
    let mappings = runtime.framework_mappings()?;
    let mappings = match (mappings, &args.framework) {
        (None, Some(_)) => bail!("this component (rule pack {} {}) carries no framework mapping: it came with rule pack 1.2.0 (WIT 1.3.0)", about.rule_pack_id, about.rule_pack_version),
        (None, None) => None,
        (Some(all), None) => Some(all),
        (Some(all), Some(wanted)) => {
            let known: Vec<String> = all.iter().map(|m| m.framework_id.clone()).fold(Vec::new(), |mut ids, id| {
                if !ids.contains(&id) {
                    ids.push(id);
                }
                ids
            });
            if !known.contains(wanted) {
                bail!("unknown framework `{wanted}` (this rule pack maps {})", known.join(", "));
            }
            let only: Vec<Mapping> = all.into_iter().filter(|m| &m.framework_id == wanted).collect();
            rules.retain(|r| only.iter().any(|m| m.rule_id == r.id));
            Some(only)
        }
    };
    let of_rule = |id: &str| -> Vec<&Mapping> { mappings.iter().flatten().filter(|m| m.rule_id == id).collect() };
    match args.format {
        RulesFormat::Json => {
            let list: Vec<_> = rules
                .iter()
                .map(|r| {
                    let mut frameworks: BTreeMap<&str, Vec<serde_json::Value>> = BTreeMap::new();
                    for m in of_rule(&r.id) {
                        frameworks.entry(&m.framework_id).or_default().push(serde_json::json!({"requirement": m.requirement, "basis": basis(m.basis)}));
                    }
                    let mut rule = serde_json::json!({
                        "id": r.id, "title": r.title, "resource_types": r.resource_types, "severity": severity(r.severity),
                        "remediable": r.remediable, "compliant_when": r.compliant_when, "remediation": r.remediation,
                    });
                    if mappings.is_some()
                        && let Some(object) = rule.as_object_mut()
                    {
                        object.insert("frameworks".to_owned(), serde_json::json!(frameworks));
                    }
                    rule
                })
                .collect();
            let doc = serde_json::json!({"rule_pack": {"id": about.rule_pack_id, "version": about.rule_pack_version}, "rules": list});
            say!("{}", serde_json::to_string_pretty(&doc)?);
        }
        RulesFormat::Table => {
            say!("Rule pack {} {} ({} rules)\n", about.rule_pack_id, about.rule_pack_version, rules.len());
            say!("{:<36} {:<9} {:<10} {:<28} COMPLIANT WHEN", "RULE", "SEVERITY", "REMEDIABLE", "RESOURCE TYPES");
            for r in &rules {
                let types = r.resource_types.iter().map(|t| t.trim_start_matches("AWS::")).collect::<Vec<_>>().join(", ");
                say!("{:<36} {:<9} {:<10} {:<28} {}", r.id, severity(r.severity), if r.remediable { "yes" } else { "no" }, types, r.compliant_when);
            }
            match &mappings {
                None => say!("\nThis component carries no framework mapping (it came with rule pack 1.2.0)."),
                Some(list) => {
                    // Requirement-centric: what an auditor of one framework reads.
                    let mut frameworks: Vec<(&str, &str)> = Vec::new();
                    for m in list {
                        if !frameworks.iter().any(|(id, _)| *id == m.framework_id) {
                            frameworks.push((&m.framework_id, &m.framework_name));
                        }
                    }
                    for (id, name) in frameworks {
                        say!("\n{name} ({id})");
                        let mut requirements: Vec<(&str, Vec<String>)> = Vec::new();
                        for m in list.iter().filter(|m| m.framework_id == id) {
                            let rule = match m.basis {
                                Basis::Aws => m.rule_id.clone(),
                                other => format!("{} ({})", m.rule_id, basis(other)),
                            };
                            match requirements.iter_mut().find(|(r, _)| *r == m.requirement) {
                                Some((_, rules)) => rules.push(rule),
                                None => requirements.push((&m.requirement, vec![rule])),
                            }
                        }
                        for (requirement, rules) in requirements {
                            say!("  {requirement:<12} {}", rules.join(", "));
                        }
                    }
                    say!("\n(prowler) = Prowler's framework files, where AWS lists nothing; (vendor-asserted) = no authority lists it.");
                }
            }
        }
    }
    Ok(Outcome::Success)
}
