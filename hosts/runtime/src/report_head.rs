//! Reading the head of a stored report — every top-level member but the resource and finding
//! lists — as a stream: a report of a million resources is gigabytes, and neither `verify` nor
//! `rollup` needs its lists.

use std::io::Read;

use serde::de::{DeserializeSeed, Deserializer, Error as _, IgnoredAny, MapAccess, Visitor};
use serde_json::Value;

use crate::rollup::{Expected, Part, Summary};

/// Schema of a per-account report.
pub const REPORT_SCHEMA: &str = "compliance-report/v1";
/// Schema of an org report.
pub const ROLLUP_SCHEMA: &str = "compliance-rollup/v1";

/// Top-level members `verify` reads from a stored report.
pub const VERIFY_MEMBERS: &[&str] = &["schema", "engine", "threshold_bp", "options", "generated_at", "input", "score_bp"];

/// Top-level members `rollup` reads from a per-account report.
pub const ROLLUP_MEMBERS: &[&str] = &["schema", "engine", "generated_at", "input", "score_bp", "by_account_region"];

/// A report's top-level members except `resources` and `findings`, which are skipped unread.
/// The engine writes those two lists last, so reading usually stops where they begin (once
/// every member in `needed` has been read): the rest of a report is nearly all of its bytes.
pub fn read_head(reader: impl Read, needed: &'static [&'static str]) -> serde_json::Result<Value> {
    let mut head = None;
    let mut deserializer = serde_json::Deserializer::from_reader(reader);
    let result = ReportHead { slot: &mut head, needed }.deserialize(&mut deserializer).and_then(|value| deserializer.end().map(|()| value));
    match (result, head) {
        // Stopped on purpose: everything needed was read before the lists.
        (Err(_), Some(head)) => Ok(head),
        (Err(e), None) => Err(e),
        (Ok(head), _) => Ok(head),
    }
}

/// Reads the head; when the lists begin after every needed member, it keeps the head in the
/// slot and stops the parser with an error that [`read_head`] recognises by the full slot.
struct ReportHead<'s> {
    slot: &'s mut Option<Value>,
    needed: &'static [&'static str],
}

impl<'de> DeserializeSeed<'de> for ReportHead<'_> {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for ReportHead<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut head = serde_json::Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if key == "resources" || key == "findings" {
                if self.needed.iter().all(|m| head.contains_key(*m)) {
                    *self.slot = Some(Value::Object(head));
                    return Err(A::Error::custom("the report's head is read"));
                }
                map.next_value::<IgnoredAny>()?;
            } else {
                head.insert(key, map.next_value()?);
            }
        }
        Ok(Value::Object(head))
    }
}

/// The roll-up's view of one per-account report, from its head (see [`ROLLUP_MEMBERS`]):
/// its integer sums per account-region and its provenance. `shown` names the report in errors.
/// The CLI (files) and the analyzer (the report it just rendered) share this reading, so a
/// roll-up in Lambda and one offline see the same numbers.
pub fn rollup_summary(name: &str, report_sha256: &str, head: &Value, shown: &str) -> Result<Summary, String> {
    match head.get("schema").and_then(Value::as_str) {
        Some(REPORT_SCHEMA) => {}
        Some(ROLLUP_SCHEMA) => return Err(format!("{shown} is an org report; roll up the per-account reports it was made from")),
        _ => return Err(format!("{shown} is not a {REPORT_SCHEMA} report")),
    }
    let text = |pointer: &str| head.pointer(pointer).and_then(Value::as_str).map(str::to_owned).ok_or_else(|| format!("{shown} has no `{pointer}` string"));
    let Some(parts) = head.get("by_account_region").and_then(Value::as_array) else {
        return Err(format!(
            "{shown} has no by_account_region: it was scored by rule pack {} before reports carried the sums a roll-up adds up; \
             re-score its inputs with this version (`compliance scan`) to roll it up",
            text("/engine/rule_pack/version").unwrap_or_else(|_| "?".to_owned())
        ));
    };
    let parts = parts_from_json(parts, &format!("{shown}: by_account_region"))?;
    Ok(Summary {
        name: name.to_owned(),
        report_sha256: report_sha256.to_owned(),
        generated_at: text("/generated_at")?,
        component_sha256: text("/engine/component_sha256")?,
        input_sha256: text("/input/sha256")?,
        rule_pack_version: text("/engine/rule_pack/version")?,
        score_bp: head.get("score_bp").and_then(Value::as_u64).and_then(|n| u32::try_from(n).ok()).ok_or_else(|| format!("{shown} has no score_bp"))?,
        parts,
    })
}

/// A report's `by_account_region` list (or a copy of it, as the analyzer's summary items keep
/// it) as roll-up parts; `shown` names the list in errors.
pub fn parts_from_json(parts: &[Value], shown: &str) -> Result<Vec<Part>, String> {
    parts
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let count = |key: &str| p.get(key).and_then(Value::as_u64).ok_or_else(|| format!("{shown}[{i}].{key} is not a whole number"));
            let name = |key: &str| p.get(key).and_then(Value::as_str).map(str::to_owned).ok_or_else(|| format!("{shown}[{i}].{key} is not a string"));
            Ok(Part {
                account_id: name("account_id")?,
                region: name("region")?,
                weight_compliant: count("weight_compliant")?,
                weight_decided: count("weight_decided")?,
                resources: count("resources")?,
                non_compliant: count("non_compliant")?,
            })
        })
        .collect()
}

/// A list of `{account_id, region, last_seen}` (an org report's `expected` or `missing`, the
/// roll-up Lambda's `Seen`); `shown` names the list in errors.
pub fn expected_from_json(list: &[Value], shown: &str) -> Result<Vec<Expected>, String> {
    list.iter()
        .enumerate()
        .map(|(i, e)| {
            let field = |key: &str| e.get(key).and_then(Value::as_str).map(str::to_owned).ok_or_else(|| format!("{shown}[{i}].{key} is not a string"));
            Ok(Expected { account_id: field("account_id")?, region: field("region")?, last_seen: field("last_seen")? })
        })
        .collect()
}

/// Roll-up parts in the shape of `by_account_region` (what [`parts_from_json`] reads back).
pub fn parts_to_json(parts: &[Part]) -> Value {
    Value::from(
        parts
            .iter()
            .map(|p| {
                serde_json::json!({"account_id": p.account_id, "region": p.region, "weight_compliant": p.weight_compliant,
                                   "weight_decided": p.weight_decided, "resources": p.resources, "non_compliant": p.non_compliant})
            })
            .collect::<Vec<_>>(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEAD: &str = r#""schema": "compliance-report/v1", "engine": {}, "threshold_bp": 7000, "options": {},
        "generated_at": "t", "input": {"sources": []}, "score_bp": 1"#;

    #[test]
    fn the_head_is_read_up_to_the_lists() {
        // Nothing after the start of the lists is read: here it is not even JSON.
        let report = format!(r#"{{{HEAD}, "resources": [ not read"#);
        let head = read_head(report.as_bytes(), VERIFY_MEMBERS).expect("head");
        assert_eq!(head.get("score_bp"), Some(&Value::from(1)));
        assert!(head.get("resources").is_none());
    }

    #[test]
    fn members_after_the_lists_are_read_when_the_head_is_not_complete() {
        let report = r#"{"schema": "compliance-report/v1", "resources": [{"a": 1}], "findings": [], "score_bp": 5}"#;
        let head = read_head(report.as_bytes(), VERIFY_MEMBERS).expect("head");
        assert_eq!(head.get("score_bp"), Some(&Value::from(5)));
        assert!(head.get("resources").is_none(), "the lists are skipped");
        assert!(read_head(&br#"{"schema": "x", "resources": [1, }"#[..], VERIFY_MEMBERS).is_err(), "a list is still parsed when skipped");
        assert!(read_head(&b"not json"[..], VERIFY_MEMBERS).is_err());
        assert!(read_head(format!("{{{HEAD}}} trailing").as_bytes(), VERIFY_MEMBERS).is_err());
    }
}
