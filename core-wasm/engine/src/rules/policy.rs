//! IAM policy language helpers shared by the IAM rules and the S3 bucket policy rule.

use std::borrow::Cow;
use std::fmt;

use crate::value::{Value, one_or_many, strings};

/// One statement of a policy document, with the JSON path it was found at.
pub struct Statement<'a, 'p> {
    /// The statement object.
    pub body: Value<'a>,
    /// JSON path of the statement, e.g. `configuration.rolePolicyList[0].policyDocument.Statement[1]`.
    pub path: StatementPath<'p>,
}

/// Where a statement was found, written out (with `Display`) only when an outcome names it:
/// most statements are read and passed over, and a document's statements are read by several
/// rules.
#[derive(Clone)]
pub struct StatementPath<'p> {
    document: Cow<'p, str>,
    index: Option<usize>,
}

impl fmt::Display for StatementPath<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.Statement", self.document)?;
        match self.index {
            Some(i) => write!(f, "[{i}]"),
            None => Ok(()),
        }
    }
}

/// Every statement of a decoded document. `Statement` may be one object or a list, and a
/// document may itself be a list of documents (some producers wrap it).
pub fn statements<'a, 'p>(document: &Value<'a>, base: &'p str) -> Vec<Statement<'a, 'p>> {
    let mut found = Vec::new();
    collect(*document, Cow::Borrowed(base), &mut found);
    found
}

fn collect<'a, 'p>(document: Value<'a>, base: Cow<'p, str>, found: &mut Vec<Statement<'a, 'p>>) {
    match document {
        Value::Array(documents) => {
            for (i, doc) in documents.iter().enumerate() {
                collect(doc, Cow::Owned(format!("{base}[{i}]")), found);
            }
        }
        Value::Object(map) => match map.get("Statement") {
            Some(Value::Array(list)) => found.extend(
                list.iter()
                    .enumerate()
                    .map(|(i, body)| Statement { body, path: StatementPath { document: base.clone(), index: Some(i) } }),
            ),
            Some(body @ Value::Object(_)) => found.push(Statement { body, path: StatementPath { document: base, index: None } }),
            _ => {}
        },
        _ => {}
    }
}

impl<'a> Statement<'a, '_> {
    fn effect_is(&self, effect: &str) -> bool {
        self.body.get("Effect").and_then(Value::as_str).is_some_and(|e| e.eq_ignore_ascii_case(effect))
    }

    /// `Effect: Allow`.
    pub fn allows(&self) -> bool {
        self.effect_is("Allow")
    }

    /// `Effect: Deny`.
    pub fn denies(&self) -> bool {
        self.effect_is("Deny")
    }

    /// The `Action` values (string or list).
    pub fn actions(&self) -> impl Iterator<Item = &'a str> + use<'a> {
        strings(self.body.get("Action"))
    }

    /// The `Resource` values (string or list).
    pub fn resources(&self) -> impl Iterator<Item = &'a str> + use<'a> {
        strings(self.body.get("Resource"))
    }

    /// Whether the statement uses `NotResource`.
    pub fn has_not_resource(&self) -> bool {
        self.body.get("NotResource").is_some_and(|v| !v.is_null())
    }

    /// Whether the statement uses `NotAction`.
    pub fn has_not_action(&self) -> bool {
        self.body.get("NotAction").is_some_and(|v| !v.is_null())
    }

    /// Whether the statement has a non-empty `Condition` block.
    pub fn has_condition(&self) -> bool {
        match self.body.get("Condition") {
            None | Some(Value::Null) => false,
            Some(Value::Object(map)) => !map.is_empty(),
            Some(_) => true,
        }
    }

    /// Whether the principal is everyone: `"*"`, `{"AWS": "*"}` or `{"AWS": [..., "*", ...]}`.
    pub fn principal_is_public(&self) -> bool {
        match self.body.get("Principal") {
            Some(Value::String(p)) => p == "*",
            Some(Value::Object(map)) => strings(map.get("AWS")).any(|p| p == "*"),
            Some(Value::Array(list)) => list.iter().any(|p| p.as_str() == Some("*")),
            _ => false,
        }
    }

    /// The value of a condition key under an operator, both matched case-insensitively,
    /// e.g. (`Bool`, `aws:SecureTransport`) → `["false"]`.
    pub fn condition_values(&self, operator: &str, key: &str) -> Vec<String> {
        let Some(Value::Object(operators)) = self.body.get("Condition") else { return Vec::new() };
        operators
            .iter()
            .filter(|(op, _)| op.eq_ignore_ascii_case(operator))
            .filter_map(|(_, keys)| keys.as_object())
            .flat_map(|keys| keys.iter().filter(|(k, _)| k.eq_ignore_ascii_case(key)).map(|(_, v)| v))
            .flat_map(|v| one_or_many(Some(v)))
            .filter_map(|v| match v {
                Value::String(s) => Some(s.to_ascii_lowercase()),
                Value::Bool(b) => Some(b.to_string()),
                _ => None,
            })
            .collect()
    }
}
