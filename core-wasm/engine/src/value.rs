//! Small helpers over `serde_json::Value` for the loosely typed shapes AWS Config produces:
//! values that are sometimes JSON encoded inside strings (once or twice), booleans written as
//! strings, and fields that hold either one value or a list.

use serde_json::Value;

/// How many times a string may hold another layer of encoded JSON before we stop decoding.
/// Real data has at most two layers (S3 `AccessControlList` in the API shape).
const MAX_EMBEDDED_LAYERS: usize = 4;

/// Decodes `value` while it is a string that holds JSON (an object, array, string or literal).
/// Plain strings such as `"Enabled"` or `"123"` are left alone.
pub fn decode_embedded(mut value: Value) -> Value {
    for _ in 0..MAX_EMBEDDED_LAYERS {
        let Value::String(text) = &value else { break };
        if !looks_like_json(text) {
            break;
        }
        match serde_json::from_str::<Value>(text) {
            Ok(decoded) => value = decoded,
            Err(_) => break,
        }
    }
    value
}

fn looks_like_json(text: &str) -> bool {
    let trimmed = text.trim();
    trimmed.starts_with(['{', '[', '"']) || matches!(trimmed, "null" | "true" | "false")
}

/// Follows object keys from `value`; `None` as soon as one is missing or not an object.
pub fn path<'a>(value: &'a Value, keys: &[&str]) -> Option<&'a Value> {
    keys.iter().try_fold(value, |current, key| current.as_object()?.get(*key))
}

/// A string, or a number rendered as text (ids sometimes arrive as numbers).
pub fn text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// `true`/`false`, or the strings `"true"`/`"false"` in any case.
pub fn flag(value: &Value) -> Option<bool> {
    match value {
        Value::Bool(b) => Some(*b),
        Value::String(s) if s.eq_ignore_ascii_case("true") => Some(true),
        Value::String(s) if s.eq_ignore_ascii_case("false") => Some(false),
        _ => None,
    }
}

/// The elements of a list, a single non-null value as a one-element list, nothing for null.
pub fn one_or_many(value: Option<&Value>) -> Vec<&Value> {
    match value {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => items.iter().collect(),
        Some(other) => vec![other],
    }
}

/// Like [`one_or_many`], keeping only string elements.
pub fn strings(value: Option<&Value>) -> Vec<&str> {
    one_or_many(value).into_iter().filter_map(Value::as_str).collect()
}

/// A non-empty, non-blank string.
pub fn non_blank(value: Option<&Value>) -> Option<&str> {
    value.and_then(Value::as_str).filter(|s| !s.trim().is_empty())
}

/// Decodes an IAM policy document. Config delivers them RFC 3986 percent-encoded; some
/// producers give plain JSON text or an already-decoded object. `+` is kept as `+`.
pub fn policy_document(value: &Value) -> Result<Value, String> {
    match value {
        Value::Object(_) | Value::Array(_) => Ok(value.clone()),
        Value::String(text) => {
            let trimmed = text.trim();
            let decoded = if trimmed.starts_with(['{', '[']) {
                trimmed.to_owned()
            } else {
                percent_encoding::percent_decode_str(trimmed)
                    .decode_utf8()
                    .map_err(|e| format!("percent-decoded document is not UTF-8: {e}"))?
                    .into_owned()
            };
            match decode_embedded(Value::String(decoded)) {
                doc @ (Value::Object(_) | Value::Array(_)) => Ok(doc),
                _ => Err("policy document is not a JSON object".to_owned()),
            }
        }
        Value::Null => Err("policy document is null".to_owned()),
        _ => Err("policy document is neither text nor an object".to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn decodes_double_encoded_strings() {
        let inner = json!({"grantList": []}).to_string();
        let twice = Value::String(Value::String(inner).to_string());
        assert_eq!(decode_embedded(twice), json!({"grantList": []}));
        assert_eq!(decode_embedded(json!("Enabled")), json!("Enabled"));
        assert_eq!(decode_embedded(json!("123")), json!("123"));
        assert_eq!(decode_embedded(json!("null")), Value::Null);
    }

    #[test]
    fn percent_decoding_keeps_plus() {
        let doc = policy_document(&json!("%7B%22a%22%3A%22x+y%22%7D")).unwrap_or_default();
        assert_eq!(doc, json!({"a": "x+y"}));
        let plain = policy_document(&json!("{\"a\":1}")).unwrap_or_default();
        assert_eq!(plain, json!({"a": 1}));
        assert!(policy_document(&json!("%7Bnot json")).is_err());
    }

    #[test]
    fn flags_accept_strings() {
        assert_eq!(flag(&json!("TRUE")), Some(true));
        assert_eq!(flag(&json!(false)), Some(false));
        assert_eq!(flag(&json!(1)), None);
    }
}
