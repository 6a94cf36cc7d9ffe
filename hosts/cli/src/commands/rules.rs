//! `compliance rules`: the rule pack, as the component reports it.

use compliance_runtime::Severity;

use crate::Outcome;
use crate::args::{RulesArgs, RulesFormat};

fn severity(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "critical",
        Severity::High => "high",
        Severity::Medium => "medium",
        Severity::Low => "low",
    }
}

pub fn run(args: RulesArgs) -> anyhow::Result<Outcome> {
    let runtime = super::load_runtime(&args.engine)?;
    let about = runtime.about()?;
    let rules = runtime.rules()?;
    match args.format {
        RulesFormat::Json => {
            let list: Vec<_> = rules
                .iter()
                .map(|r| {
                    serde_json::json!({
                        "id": r.id, "title": r.title, "resource_types": r.resource_types, "severity": severity(r.severity),
                        "remediable": r.remediable, "compliant_when": r.compliant_when, "remediation": r.remediation,
                    })
                })
                .collect();
            let doc = serde_json::json!({"rule_pack": {"id": about.rule_pack_id, "version": about.rule_pack_version}, "rules": list});
            println!("{}", serde_json::to_string_pretty(&doc)?);
        }
        RulesFormat::Table => {
            println!("Rule pack {} {} ({} rules)\n", about.rule_pack_id, about.rule_pack_version, rules.len());
            println!("{:<36} {:<9} {:<10} {:<28} COMPLIANT WHEN", "RULE", "SEVERITY", "REMEDIABLE", "RESOURCE TYPES");
            for r in &rules {
                let types = r.resource_types.iter().map(|t| t.trim_start_matches("AWS::")).collect::<Vec<_>>().join(", ");
                println!("{:<36} {:<9} {:<10} {:<28} {}", r.id, severity(r.severity), if r.remediable { "yes" } else { "no" }, types, r.compliant_when);
            }
        }
    }
    Ok(Outcome::Success)
}
