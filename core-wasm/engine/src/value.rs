//! The JSON value the engine reads items into, and small helpers for the loosely typed shapes
//! AWS Config produces: values that are sometimes JSON encoded inside strings (once or twice),
//! booleans written as strings, and fields that hold either one value or a list.
//!
//! [`Value`] borrows keys and strings from the input bytes whenever they need no unescaping, and
//! keeps objects as vectors instead of trees: parsing an item allocates a few vectors instead of
//! one string per key and value and one tree node per member. Objects behave like `serde_json`'s
//! default map (a later duplicate key replaces an earlier one, iteration is in key order), so
//! the rules see exactly what they saw with `serde_json::Value`.

use std::borrow::Cow;
use std::fmt;

use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
pub use serde_json::Number;

/// A JSON value whose strings may borrow from the bytes it was parsed from.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Value<'a> {
    /// `null`.
    #[default]
    Null,
    /// `true` / `false`.
    Bool(bool),
    /// A number, exactly as `serde_json` reads it.
    Number(Number),
    /// A string.
    String(Cow<'a, str>),
    /// An array.
    Array(Vec<Value<'a>>),
    /// An object.
    Object(Map<'a>),
}

/// A JSON object. Members stay in input order and lookups scan them (objects in Config items
/// are small, and comparing lengths first avoids most string comparisons); it behaves like
/// `serde_json`'s default map: a later duplicate key replaces an earlier one, and iteration is
/// in key order.
#[derive(Debug, Clone, Default)]
pub struct Map<'a> {
    members: Vec<(Cow<'a, str>, Value<'a>)>,
}

impl<'a> Map<'a> {
    fn position(&self, key: &str) -> Option<usize> {
        self.members.iter().rposition(|(k, _)| k.len() == key.len() && k == key)
    }

    /// The value of `key`.
    pub fn get(&self, key: &str) -> Option<&Value<'a>> {
        self.position(key).and_then(|i| self.members.get(i)).map(|(_, v)| v)
    }

    /// Takes the value of `key` out of the object.
    pub fn remove(&mut self, key: &str) -> Option<Value<'a>> {
        let value = self.position(key).map(|i| self.members.remove(i).1);
        if value.is_some() {
            self.members.retain(|(k, _)| k != key); // earlier duplicates
        }
        value
    }

    /// Whether the object has `key`.
    pub fn contains_key(&self, key: &str) -> bool {
        self.position(key).is_some()
    }

    /// Whether the object has no members.
    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }

    /// Members in key order, each key once (its last value).
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Value<'a>)> {
        let mut order: Vec<(&str, &Value<'a>)> = self.members.iter().map(|(k, v)| (k.as_ref(), v)).collect();
        // A stable sort keeps duplicates in input order; dedup then keeps the first of each
        // run, so the runs are reversed first to keep the last.
        order.reverse();
        order.sort_by(|a, b| a.0.cmp(b.0));
        order.dedup_by(|later, earlier| later.0 == earlier.0);
        order.into_iter()
    }

    /// Keys in order.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.iter().map(|(k, _)| k)
    }

    /// Values in key order.
    pub fn values(&self) -> impl Iterator<Item = &Value<'a>> {
        self.iter().map(|(_, v)| v)
    }

    /// Applies `f` to every value, keeping the keys.
    pub fn map_values(self, mut f: impl FnMut(Value<'a>) -> Value<'a>) -> Self {
        Self { members: self.members.into_iter().map(|(k, v)| (k, f(v))).collect() }
    }
}

impl PartialEq for Map<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.iter().eq(other.iter())
    }
}

impl<'a> Value<'a> {
    /// Parses JSON text; strings without escapes borrow from `bytes`.
    pub fn parse(bytes: &'a [u8]) -> Result<Value<'a>, serde_json::Error> {
        // Checking the UTF-8 of the whole text at once is much faster than the parser checking
        // every string; text that is not UTF-8 is parsed as bytes, for the parser's own error.
        match std::str::from_utf8(bytes) {
            Ok(text) => serde_json::from_str(text),
            Err(_) => serde_json::from_slice(bytes),
        }
    }

    /// Parses JSON text into a value that owns all its strings.
    pub fn parse_owned(text: &str) -> Result<Value<'static>, serde_json::Error> {
        serde_json::from_str::<Value<'_>>(text).map(Value::into_owned)
    }

    /// The same value, owning every string.
    pub fn into_owned(self) -> Value<'static> {
        match self {
            Value::Null => Value::Null,
            Value::Bool(b) => Value::Bool(b),
            Value::Number(n) => Value::Number(n),
            Value::String(s) => Value::String(Cow::Owned(s.into_owned())),
            Value::Array(a) => Value::Array(a.into_iter().map(Value::into_owned).collect()),
            Value::Object(m) => Value::Object(Map { members: m.members.into_iter().map(|(k, v)| (Cow::Owned(k.into_owned()), v.into_owned())).collect() }),
        }
    }

    /// The member `key` of an object.
    pub fn get(&self, key: &str) -> Option<&Value<'a>> {
        self.as_object()?.get(key)
    }

    /// The text of a string.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    /// The members of an object.
    pub fn as_object(&self) -> Option<&Map<'a>> {
        match self {
            Value::Object(map) => Some(map),
            _ => None,
        }
    }

    /// An integer that fits `i64`.
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Value::Number(n) => n.as_i64(),
            _ => None,
        }
    }

    /// Whether this is an object.
    pub fn is_object(&self) -> bool {
        matches!(self, Value::Object(_))
    }

    /// Whether this is `null`.
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }
}

impl From<serde_json::Value> for Value<'static> {
    fn from(value: serde_json::Value) -> Self {
        match value {
            serde_json::Value::Null => Value::Null,
            serde_json::Value::Bool(b) => Value::Bool(b),
            serde_json::Value::Number(n) => Value::Number(n),
            serde_json::Value::String(s) => Value::String(Cow::Owned(s)),
            serde_json::Value::Array(a) => Value::Array(a.into_iter().map(Value::from).collect()),
            serde_json::Value::Object(m) => Value::Object(Map { members: m.into_iter().map(|(k, v)| (Cow::Owned(k), Value::from(v))).collect() }),
        }
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Value<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(ValueVisitor)
    }
}

struct ValueVisitor;

impl<'de> Visitor<'de> for ValueVisitor {
    type Value = Value<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, b: bool) -> Result<Value<'de>, E> {
        Ok(Value::Bool(b))
    }

    fn visit_i64<E>(self, n: i64) -> Result<Value<'de>, E> {
        Ok(Value::Number(n.into()))
    }

    fn visit_u64<E>(self, n: u64) -> Result<Value<'de>, E> {
        Ok(Value::Number(n.into()))
    }

    fn visit_f64<E>(self, n: f64) -> Result<Value<'de>, E> {
        Ok(Number::from_f64(n).map_or(Value::Null, Value::Number))
    }

    fn visit_borrowed_str<E>(self, s: &'de str) -> Result<Value<'de>, E> {
        Ok(Value::String(Cow::Borrowed(s)))
    }

    fn visit_str<E>(self, s: &str) -> Result<Value<'de>, E> {
        Ok(Value::String(Cow::Owned(s.to_owned())))
    }

    fn visit_string<E>(self, s: String) -> Result<Value<'de>, E> {
        Ok(Value::String(Cow::Owned(s)))
    }

    fn visit_unit<E>(self) -> Result<Value<'de>, E> {
        Ok(Value::Null)
    }

    fn visit_none<E>(self) -> Result<Value<'de>, E> {
        Ok(Value::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value<'de>, D::Error> {
        Deserialize::deserialize(deserializer)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value<'de>, A::Error> {
        let mut elements = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(64));
        while let Some(element) = seq.next_element()? {
            elements.push(element);
        }
        Ok(Value::Array(elements))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value<'de>, A::Error> {
        // JSON gives no size hint; most objects of an item have a handful of members.
        let mut members = Vec::with_capacity(map.size_hint().unwrap_or(8).min(64));
        while let Some(Key(key)) = map.next_key()? {
            members.push((key, map.next_value()?));
        }
        Ok(Value::Object(Map { members }))
    }
}

/// An object key, borrowed when it has no escapes.
struct Key<'a>(Cow<'a, str>);

impl<'de: 'a, 'a> Deserialize<'de> for Key<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl<'de> Visitor<'de> for KeyVisitor {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object key")
            }
            fn visit_borrowed_str<E>(self, s: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Borrowed(s)))
            }
            fn visit_str<E>(self, s: &str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(s.to_owned())))
            }
            fn visit_string<E>(self, s: String) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(s)))
            }
        }
        deserializer.deserialize_str(KeyVisitor)
    }
}

/// `serde_json::json!`, as the engine's [`Value`]: for tests that write items inline.
#[cfg(test)]
macro_rules! json {
    ($($t:tt)+) => {
        $crate::value::Value::from(serde_json::json!($($t)+))
    };
}
#[cfg(test)]
pub(crate) use json;

/// How many times a string may hold another layer of encoded JSON before we stop decoding.
/// Real data has at most two layers (S3 `AccessControlList` in the API shape).
const MAX_EMBEDDED_LAYERS: usize = 4;

/// Decodes `value` while it is a string that holds JSON (an object, array, string or literal).
/// Plain strings such as `"Enabled"` or `"123"` are left alone.
pub fn decode_embedded(mut value: Value<'_>) -> Value<'_> {
    for _ in 0..MAX_EMBEDDED_LAYERS {
        let Value::String(text) = &value else { break };
        if !looks_like_json(text) {
            break;
        }
        match Value::parse_owned(text) {
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
pub fn path<'v, 'a>(value: &'v Value<'a>, keys: &[&str]) -> Option<&'v Value<'a>> {
    keys.iter().try_fold(value, |current, key| current.get(key))
}

/// A string, or a number rendered as text (ids sometimes arrive as numbers).
pub fn text(value: &Value<'_>) -> Option<String> {
    match value {
        Value::String(s) => Some(s.as_ref().to_owned()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// `true`/`false`, or the strings `"true"`/`"false"` in any case.
pub fn flag(value: &Value<'_>) -> Option<bool> {
    match value {
        Value::Bool(b) => Some(*b),
        Value::String(s) if s.eq_ignore_ascii_case("true") => Some(true),
        Value::String(s) if s.eq_ignore_ascii_case("false") => Some(false),
        _ => None,
    }
}

/// The elements of a list, a single non-null value as a one-element list, nothing for null.
pub fn one_or_many<'v, 'a>(value: Option<&'v Value<'a>>) -> Vec<&'v Value<'a>> {
    match value {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => items.iter().collect(),
        Some(other) => vec![other],
    }
}

/// Like [`one_or_many`], keeping only string elements.
pub fn strings<'v>(value: Option<&'v Value<'_>>) -> Vec<&'v str> {
    one_or_many(value).into_iter().filter_map(Value::as_str).collect()
}

/// A non-empty, non-blank string.
pub fn non_blank<'v>(value: Option<&'v Value<'_>>) -> Option<&'v str> {
    value.and_then(Value::as_str).filter(|s| !s.trim().is_empty())
}

/// Decodes an IAM policy document. Config delivers them RFC 3986 percent-encoded; some
/// producers give plain JSON text or an already-decoded object. `+` is kept as `+`.
pub fn policy_document<'a>(value: &Value<'a>) -> Result<Value<'a>, String> {
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
            match decode_embedded(Value::String(Cow::Owned(decoded))) {
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

    #[test]
    fn decodes_double_encoded_strings() {
        let inner = serde_json::json!({"grantList": []}).to_string();
        let twice = json!(serde_json::Value::String(inner).to_string());
        assert_eq!(decode_embedded(twice), json!({"grantList": []}));
        assert_eq!(decode_embedded(json!("Enabled")), json!("Enabled"));
        assert_eq!(decode_embedded(json!("123")), json!("123"));
        assert_eq!(decode_embedded(json!("null")), Value::Null);
    }

    #[test]
    fn objects_behave_like_serde_json_maps() {
        let text = br#"{"b": 1, "a": "x", "b": {"c\u0041": "y"}, "c": [true, null, 2.5]}"#;
        let ours = Value::parse(text).expect("valid JSON");
        let theirs: serde_json::Value = serde_json::from_slice(text).expect("valid JSON");
        assert_eq!(ours, Value::from(theirs.clone()));
        let keys: Vec<&str> = ours.as_object().map(|m| m.keys().collect()).unwrap_or_default();
        assert_eq!(keys, ["a", "b", "c"], "sorted, the duplicate once");
        assert_eq!(path(&ours, &["b", "cA"]).and_then(Value::as_str), Some("y"), "the last duplicate wins, escapes decoded");
        assert!(matches!(ours.get("a"), Some(Value::String(Cow::Borrowed("x")))), "plain strings borrow");
        let mut map = Value::parse(br#"{"k": 1, "z": 0, "k": 2, "k": 3}"#).ok().and_then(|v| v.as_object().cloned()).unwrap_or_default();
        assert_eq!(map.remove("z"), Some(Value::Number(0.into())));
        assert_eq!(map.get("k"), Some(&Value::Number(3.into())), "removing another key keeps the last duplicate last");
        assert_eq!(map.remove("k"), Some(Value::Number(3.into())));
        assert!(map.is_empty(), "removing a key removes its earlier duplicates too");
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
