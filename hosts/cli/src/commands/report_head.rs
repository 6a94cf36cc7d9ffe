//! Reading the head of a stored report — every top-level member but the resource and finding
//! lists — as a stream: a report of a million resources is gigabytes, and neither `verify` nor
//! `rollup` needs its lists.

use std::io::Read;

use serde::de::{DeserializeSeed, Deserializer, Error as _, IgnoredAny, MapAccess, Visitor};
use serde_json::Value;

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
