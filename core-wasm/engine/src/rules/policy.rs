//! IAM policy language helpers shared by the IAM rules and the S3 bucket policy rule.

use crate::value::{Value, one_or_many, strings};

/// One statement of a policy document, with the JSON path it was found at.
pub struct Statement<'a> {
    /// The statement object.
    pub body: Value<'a>,
    /// JSON path of the statement, e.g. `configuration.rolePolicyList[0].policyDocument.Statement[1]`.
    pub path: String,
}

/// Every statement of a decoded document. `Statement` may be one object or a list, and a
/// document may itself be a list of documents (some producers wrap it).
pub fn statements<'a>(document: &Value<'a>, base: &str) -> Vec<Statement<'a>> {
    match *document {
        Value::Array(documents) => documents
            .iter()
            .enumerate()
            .flat_map(|(i, doc)| statements(&doc, &format!("{base}[{i}]")))
            .collect(),
        Value::Object(map) => match map.get("Statement") {
            Some(Value::Array(list)) => list
                .iter()
                .enumerate()
                .map(|(i, body)| Statement { body, path: format!("{base}.Statement[{i}]") })
                .collect(),
            Some(body @ Value::Object(_)) => vec![Statement { body, path: format!("{base}.Statement") }],
            _ => Vec::new(),
        },
        _ => Vec::new(),
    }
}

impl Statement<'_> {
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
    pub fn actions(&self) -> Vec<&str> {
        strings(self.body.get("Action"))
    }

    /// The `Resource` values (string or list).
    pub fn resources(&self) -> Vec<&str> {
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
            Some(Value::Object(map)) => strings(map.get("AWS")).contains(&"*"),
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
