//! Metrics as CloudWatch Embedded Metric Format log lines (no PutMetricData calls): namespace
//! `ComplianceScanner`, dimension `Environment`, as the dashboard in `infra/` expects.

use serde_json::{Map, Value, json};

/// The metrics namespace.
pub const NAMESPACE: &str = "ComplianceScanner";

/// A CloudWatch unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// Percent.
    Percent,
    /// Count.
    Count,
    /// Milliseconds.
    Milliseconds,
}

impl Unit {
    fn as_str(self) -> &'static str {
        match self {
            Self::Percent => "Percent",
            Self::Count => "Count",
            Self::Milliseconds => "Milliseconds",
        }
    }
}

/// One EMF document: the metrics, their values, and the `Environment` dimension.
pub fn document(timestamp_ms: i64, environment: &str, metrics: &[(&str, Unit, f64)]) -> Value {
    let definitions: Vec<Value> = metrics.iter().map(|(name, unit, _)| json!({"Name": name, "Unit": unit.as_str()})).collect();
    let mut root = Map::new();
    root.insert(
        "_aws".to_owned(),
        json!({
            "Timestamp": timestamp_ms,
            "CloudWatchMetrics": [{"Namespace": NAMESPACE, "Dimensions": [["Environment"]], "Metrics": definitions}],
        }),
    );
    root.insert("Environment".to_owned(), Value::from(environment));
    for (name, _, value) in metrics {
        root.insert((*name).to_owned(), json!(value));
    }
    Value::Object(root)
}

/// Writes one EMF line to stdout, where the Lambda log agent picks it up.
pub fn emit(timestamp_ms: i64, environment: &str, metrics: &[(&str, Unit, f64)]) {
    println!("{}", document(timestamp_ms, environment, metrics));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn document_follows_the_emf_specification() {
        let doc = document(1_700_000_000_000, "dev", &[("ComplianceScore", Unit::Percent, 77.3), ("ViolationsHigh", Unit::Count, 4.0)]);
        assert_eq!(doc["_aws"]["Timestamp"], 1_700_000_000_000_i64);
        let directive = &doc["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(directive["Namespace"], "ComplianceScanner");
        assert_eq!(directive["Dimensions"], json!([["Environment"]]));
        assert_eq!(directive["Metrics"][1], json!({"Name": "ViolationsHigh", "Unit": "Count"}));
        // Every metric and dimension named in the directive is a member of the root object.
        assert_eq!((doc["Environment"].as_str(), doc["ComplianceScore"].as_f64(), doc["ViolationsHigh"].as_f64()), (Some("dev"), Some(77.3), Some(4.0)));
    }
}
