//! AWS Security Hub's limits, enforced by us before anything is sent (SPEC §12): emulators do
//! not enforce them and AWS answers a violation by rejecting the call or the finding. Every
//! finding of an ASFF export is checked ([`check`]) and packed into `BatchImportFindings`
//! calls of at most [`MAX_FINDINGS_PER_CALL`] findings and [`MAX_CALL_BYTES`] bytes of request
//! body ([`Batcher`]); a finding that breaks a limit is returned as [`Rejected`], with the
//! reason, never dropped silently.
//!
//! Limits as AWS documents them ("Guidelines for using the BatchImportFindings API", the ASFF
//! reference): 100 findings, 6 MB per call and 240 KB per finding — counted here in decimal
//! units, the stricter reading — and the attribute limits listed in [`check`].

use serde_json::Value;
use serde_json::value::RawValue;

/// Findings per `BatchImportFindings` call.
pub const MAX_FINDINGS_PER_CALL: usize = 100;
/// Bytes of one call's request body (`{"Findings":[…]}`).
pub const MAX_CALL_BYTES: usize = 6_000_000;
/// Bytes of one finding.
pub const MAX_FINDING_BYTES: usize = 240_000;

/// `{"Findings":[` and `]}` around a call's findings.
const ENVELOPE_BYTES: usize = r#"{"Findings":[]}"#.len();

/// A finding that cannot be sent as it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejected {
    /// Its position in the export (0-based).
    pub index: usize,
    /// Its `Id`, when it has a readable one.
    pub id: Option<String>,
    /// Which limit or requirement it breaks.
    pub reason: String,
}

impl std::fmt::Display for Rejected {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.id {
            Some(id) => write!(f, "finding {} (`{id}`): {}", self.index + 1, self.reason),
            None => write!(f, "finding {}: {}", self.index + 1, self.reason),
        }
    }
}

/// One `BatchImportFindings` call's findings.
#[derive(Debug, Clone)]
pub struct Call {
    /// The findings, in export order.
    pub findings: Vec<Box<RawValue>>,
    /// Bytes of the request body they make.
    pub body_bytes: usize,
}

impl Call {
    /// The request body, `{"Findings":[…]}`.
    pub fn body(&self) -> Vec<u8> {
        let mut body = Vec::with_capacity(self.body_bytes);
        body.extend_from_slice(br#"{"Findings":["#);
        for (i, finding) in self.findings.iter().enumerate() {
            if i > 0 {
                body.push(b',');
            }
            body.extend_from_slice(finding.get().as_bytes());
        }
        body.extend_from_slice(b"]}");
        body
    }
}

/// Packs checked findings into calls, in order.
#[derive(Debug, Default)]
pub struct Batcher {
    current: Vec<Box<RawValue>>,
    current_bytes: usize,
    index: usize,
}

impl Batcher {
    /// Checks the next finding of the export and adds it; returns the call it completed, if
    /// adding it would have broken a call limit.
    pub fn push(&mut self, finding: Box<RawValue>) -> Result<Option<Call>, Rejected> {
        let index = self.index;
        self.index += 1;
        check(finding.get()).map_err(|reason| Rejected { index, id: id_of(finding.get()), reason })?;
        let bytes = finding.get().len();
        let separator = usize::from(!self.current.is_empty());
        let full = self.current.len() == MAX_FINDINGS_PER_CALL || ENVELOPE_BYTES + self.current_bytes + separator + bytes > MAX_CALL_BYTES;
        let done = if full { self.take() } else { None };
        self.current_bytes += usize::from(!self.current.is_empty()) + bytes;
        self.current.push(finding);
        Ok(done)
    }

    /// The last, partly filled call.
    pub fn finish(mut self) -> Option<Call> {
        self.take()
    }

    fn take(&mut self) -> Option<Call> {
        if self.current.is_empty() {
            return None;
        }
        let body_bytes = ENVELOPE_BYTES + self.current_bytes;
        self.current_bytes = 0;
        Some(Call { findings: std::mem::take(&mut self.current), body_bytes })
    }
}

/// Every call an export needs, and the findings it cannot send.
#[derive(Debug, Default)]
pub struct Plan {
    /// The calls, in export order.
    pub calls: Vec<Call>,
    /// Findings that break a limit.
    pub rejected: Vec<Rejected>,
}

impl Plan {
    /// Findings the calls carry.
    pub fn findings(&self) -> usize {
        self.calls.iter().map(|c| c.findings.len()).sum()
    }
}

/// Plans the calls for findings in export order.
pub fn plan(findings: impl IntoIterator<Item = Box<RawValue>>) -> Plan {
    let mut batcher = Batcher::default();
    let mut plan = Plan::default();
    for finding in findings {
        match batcher.push(finding) {
            Ok(Some(call)) => plan.calls.push(call),
            Ok(None) => {}
            Err(rejected) => plan.rejected.push(rejected),
        }
    }
    plan.calls.extend(batcher.finish());
    plan
}

/// The findings of an ASFF export (a JSON array), each kept as its own text.
pub fn parse_export(bytes: &[u8]) -> Result<Vec<Box<RawValue>>, String> {
    serde_json::from_slice(bytes).map_err(|e| format!("not a JSON array of findings: {e}"))
}

/// The finding on one line of an export as the component writes it — `[`, then one finding
/// per line, each but the last followed by `,`, then `]` — or `None` for the brackets.
pub fn finding_on_line(line: &str) -> Option<&str> {
    let record = line.trim_end_matches('\r').trim_end_matches(',');
    (!matches!(record, "[" | "]" | "[]" | "")).then_some(record)
}

/// The findings in an export, counted by line without parsing them.
pub fn count_findings(export: &[u8]) -> usize {
    export.split(|b| *b == b'\n').filter(|line| std::str::from_utf8(line).is_ok_and(|l| finding_on_line(l).is_some())).count()
}

/// The AWS partition of a region (`aws`, `aws-cn`, `aws-us-gov`, `aws-iso`, `aws-iso-b`), as
/// the component reads it for the `ProductArn` it writes.
pub fn partition(region: &str) -> &'static str {
    if region.starts_with("cn-") {
        "aws-cn"
    } else if region.starts_with("us-gov-") {
        "aws-us-gov"
    } else if region.starts_with("us-isob-") {
        "aws-iso-b"
    } else if region.starts_with("us-iso-") {
        "aws-iso"
    } else {
        "aws"
    }
}

fn id_of(finding: &str) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct Id {
        #[serde(rename = "Id")]
        id: String,
    }
    serde_json::from_str::<Id>(finding).ok().map(|i| i.id)
}

/// Checks one finding against AWS's limits and `BatchImportFindings`'s required attributes.
pub fn check(finding: &str) -> Result<(), String> {
    if finding.len() > MAX_FINDING_BYTES {
        return Err(format!("{} bytes, over Security Hub's limit of {MAX_FINDING_BYTES} bytes per finding", finding.len()));
    }
    let value: Value = serde_json::from_str(finding).map_err(|e| format!("not JSON: {e}"))?;
    let object = value.as_object().ok_or("not a JSON object")?;
    let text = |key: &str, max: usize| -> Result<&str, String> {
        let v = object.get(key).and_then(Value::as_str).ok_or_else(|| format!("`{key}` is missing or not a string"))?;
        if v.is_empty() || v.len() > max {
            return Err(format!("`{key}` is {} bytes long; it must have 1 to {max}", v.len()));
        }
        Ok(v)
    };
    let schema = text("SchemaVersion", 64)?;
    if schema != "2018-10-08" {
        return Err(format!("`SchemaVersion` is `{schema}`, not 2018-10-08"));
    }
    text("Id", 512)?;
    text("GeneratorId", 512)?;
    text("Title", 256)?;
    text("Description", 1024)?;
    let account = text("AwsAccountId", 12)?;
    if account.len() != 12 || !account.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("`AwsAccountId` `{account}` is not a 12-digit account id"));
    }
    let product = text("ProductArn", 2048)?;
    if !product.starts_with("arn:") || !product.ends_with(&format!(":product/{account}/default")) || !product.contains(&format!(":{account}:product/")) {
        return Err(format!("`ProductArn` `{product}` is not the default product of account {account}: Security Hub takes a finding only from its own account"));
    }
    for key in ["CreatedAt", "UpdatedAt"] {
        let at = text(key, 64)?;
        if !crate::is_timestamp(at) {
            return Err(format!("`{key}` `{at}` is not an ISO-8601 UTC timestamp"));
        }
    }
    let types = object.get("Types").and_then(Value::as_array).ok_or("`Types` is missing or not a list")?;
    if types.is_empty() || types.len() > 50 || !types.iter().all(|t| t.as_str().is_some_and(|t| !t.is_empty() && t.len() <= 128)) {
        return Err(format!("`Types` has {} entries; it needs 1 to 50 strings of 1 to 128 bytes", types.len()));
    }
    let label = object.get("Severity").and_then(|s| s.get("Label")).and_then(Value::as_str).ok_or("`Severity.Label` is missing")?;
    if !["INFORMATIONAL", "LOW", "MEDIUM", "HIGH", "CRITICAL"].contains(&label) {
        return Err(format!("`Severity.Label` `{label}` is not one of INFORMATIONAL, LOW, MEDIUM, HIGH, CRITICAL"));
    }
    let resources = object.get("Resources").and_then(Value::as_array).ok_or("`Resources` is missing or not a list")?;
    if resources.is_empty() || resources.len() > 32 {
        return Err(format!("`Resources` has {} entries; it needs 1 to 32", resources.len()));
    }
    for (i, resource) in resources.iter().enumerate() {
        for key in ["Type", "Id"] {
            let v = resource.get(key).and_then(Value::as_str).unwrap_or_default();
            if v.is_empty() || v.len() > 512 {
                return Err(format!("`Resources[{i}].{key}` is {} bytes long; it must have 1 to 512", v.len()));
            }
        }
        if let Some(other) = resource.get("Details").and_then(|d| d.get("Other")).and_then(Value::as_object)
            && (other.len() > 50 || other.iter().any(|(k, v)| k.len() >= 128 || v.as_str().is_none_or(|v| v.len() >= 1024)))
        {
            return Err(format!("`Resources[{i}].Details.Other` needs at most 50 string entries, keys under 128 and values under 1024 bytes"));
        }
    }
    if let Some(fields) = object.get("ProductFields") {
        let fields = fields.as_object().ok_or("`ProductFields` is not an object")?;
        if fields.len() > 50 {
            return Err(format!("`ProductFields` has {} entries, over the limit of 50", fields.len()));
        }
        for (key, value) in fields {
            let value = value.as_str().ok_or_else(|| format!("`ProductFields.{key}` is not a string"))?;
            if key.is_empty() || key.len() > 128 || value.is_empty() || value.len() > 2048 {
                return Err(format!("`ProductFields.{key}`: keys need 1 to 128 bytes and values 1 to 2048 ({} and {})", key.len(), value.len()));
            }
        }
    }
    if let Some(compliance) = object.get("Compliance") {
        let status = compliance.get("Status").and_then(Value::as_str).unwrap_or_default();
        if !["PASSED", "WARNING", "FAILED", "NOT_AVAILABLE"].contains(&status) {
            return Err(format!("`Compliance.Status` `{status}` is not one of PASSED, WARNING, FAILED, NOT_AVAILABLE"));
        }
        let related = compliance.get("RelatedRequirements").and_then(Value::as_array).map_or(0, Vec::len);
        if related > 32 {
            return Err(format!("`Compliance.RelatedRequirements` has {related} entries, over the limit of 32"));
        }
    }
    if let Some(text) = object.get("Remediation").and_then(|r| r.get("Recommendation")).and_then(|r| r.get("Text")).and_then(Value::as_str)
        && text.len() > 512
    {
        return Err(format!("`Remediation.Recommendation.Text` is {} bytes long, over the limit of 512", text.len()));
    }
    let state = object.get("RecordState").and_then(Value::as_str).unwrap_or("ACTIVE");
    if !["ACTIVE", "ARCHIVED"].contains(&state) {
        return Err(format!("`RecordState` `{state}` is not ACTIVE or ARCHIVED"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finding(n: usize, description: &str) -> Box<RawValue> {
        let value = serde_json::json!({
            "SchemaVersion": "2018-10-08",
            "Id": format!("compliance-scanner/ec2-volume-encrypted/{n:032x}"),
            "ProductArn": "arn:aws:securityhub:eu-west-1:111122223333:product/111122223333/default",
            "GeneratorId": "ec2-volume-encrypted",
            "AwsAccountId": "111122223333",
            "Types": ["Software and Configuration Checks/Industry and Regulatory Standards"],
            "CreatedAt": "2026-12-01T09:00:00.000Z",
            "UpdatedAt": "2026-12-01T09:00:00.000Z",
            "Severity": {"Label": "MEDIUM"},
            "Title": "EBS volume encrypted",
            "Description": description,
            "Resources": [{"Type": "AwsEc2Volume", "Id": format!("arn:aws:ec2:eu-west-1:111122223333:volume/vol-{n}")}],
            "Compliance": {"Status": "FAILED"},
        });
        RawValue::from_string(value.to_string()).expect("json")
    }

    /// A valid finding of exactly `bytes` bytes, padded with `Details.Other` entries of its
    /// resources (at most 50 entries of under 1024 bytes each per resource, 32 resources).
    fn finding_of_size(n: usize, bytes: usize) -> Box<RawValue> {
        let base: Value = serde_json::from_str(finding(n, "x").get()).expect("json");
        let build = |entries: usize, last_len: usize| {
            let mut value = base.clone();
            let resources: Vec<Value> = (0..entries.div_ceil(50).max(1))
                .map(|r| {
                    let other: serde_json::Map<String, Value> = (r * 50..((r + 1) * 50).min(entries))
                        .map(|e| (format!("k{e:04}"), Value::String("v".repeat(if e + 1 == entries { last_len } else { 1000 }))))
                        .collect();
                    serde_json::json!({"Type": "AwsEc2Volume", "Id": format!("vol-{n}-{r}"), "Details": {"Other": other}})
                })
                .collect();
            value["Resources"] = Value::Array(resources);
            value.to_string()
        };
        let mut entries = 1;
        while build(entries, 1000).len() < bytes {
            entries += 1;
        }
        let over = build(entries, 1000).len() - bytes;
        let text = build(entries, 1000 - over);
        assert_eq!(text.len(), bytes);
        RawValue::from_string(text).expect("json")
    }

    #[test]
    fn a_hundred_findings_make_one_call_and_a_hundred_and_one_make_two() {
        let hundred = plan((0..100).map(|n| finding(n, "d")));
        assert_eq!(hundred.calls.len(), 1);
        assert_eq!(hundred.findings(), 100);
        let more = plan((0..101).map(|n| finding(n, "d")));
        assert_eq!(more.calls.iter().map(|c| c.findings.len()).collect::<Vec<_>>(), [100, 1]);
        assert!(more.rejected.is_empty());
        for call in &more.calls {
            let body = call.body();
            assert_eq!(body.len(), call.body_bytes);
            let parsed: Value = serde_json::from_slice(&body).expect("the body is JSON");
            assert_eq!(parsed["Findings"].as_array().map(Vec::len), Some(call.findings.len()));
        }
    }

    #[test]
    fn a_finding_over_240_kb_is_rejected_by_name_and_its_neighbours_still_go() {
        let at_limit = finding_of_size(1, MAX_FINDING_BYTES);
        assert_eq!(at_limit.get().len(), MAX_FINDING_BYTES);
        let over = finding_of_size(2, MAX_FINDING_BYTES + 1);
        assert_eq!(over.get().len(), MAX_FINDING_BYTES + 1);
        let plan = plan([finding(0, "d"), at_limit, over, finding(3, "d")]);
        assert_eq!(plan.findings(), 3);
        assert_eq!(plan.rejected.len(), 1);
        let rejected = &plan.rejected[0];
        assert_eq!(rejected.index, 2);
        assert!(rejected.to_string().contains(&format!("{:032x}", 2)) && rejected.reason.contains("240000"), "{rejected}");
    }

    #[test]
    fn calls_stay_under_6_mb() {
        // 30 findings of 200 kB are 6 MB of findings alone: they cannot go in one call.
        let plan = plan((0..30).map(|n| finding_of_size(n, 200_000)));
        assert!(plan.rejected.is_empty());
        assert_eq!(plan.findings(), 30);
        assert!(plan.calls.len() >= 2);
        for call in &plan.calls {
            assert!(call.body_bytes <= MAX_CALL_BYTES, "{}", call.body_bytes);
            assert_eq!(call.body().len(), call.body_bytes);
        }
        assert_eq!(plan.calls[0].findings.len(), 29, "as many as fit");
    }

    #[test]
    fn broken_findings_name_the_attribute() {
        let cases: [(&str, Value, &str); 7] = [
            ("Title", Value::String("t".repeat(257)), "`Title`"),
            ("Description", Value::String(String::new()), "`Description`"),
            ("AwsAccountId", Value::String("12345".to_owned()), "`AwsAccountId`"),
            ("ProductArn", Value::String("arn:aws:securityhub:eu-west-1:444455556666:product/444455556666/default".to_owned()), "own account"),
            ("Severity", serde_json::json!({"Label": "URGENT"}), "`Severity.Label`"),
            ("Resources", serde_json::json!([]), "`Resources`"),
            ("Compliance", serde_json::json!({"Status": "COMPLIANT"}), "`Compliance.Status`"),
        ];
        for (key, bad, expected) in cases {
            let mut value: Value = serde_json::from_str(finding(7, "d").get()).expect("json");
            value[key] = bad;
            let reason = check(&value.to_string()).expect_err(key);
            assert!(reason.contains(expected), "{key}: {reason}");
        }
        assert!(check(finding(7, "d").get()).is_ok());
    }

    #[test]
    fn export_lines_and_partitions() {
        let export = format!("[\n{},\n{}\n]", finding(1, "a").get(), finding(2, "b").get());
        assert_eq!(count_findings(export.as_bytes()), 2);
        assert_eq!(count_findings(b"[]"), 0);
        let lines: Vec<&str> = export.lines().filter_map(finding_on_line).collect();
        assert_eq!(lines, [finding(1, "a").get(), finding(2, "b").get()], "the trailing comma is not the finding's");
        for (region, partition_name) in [("eu-west-1", "aws"), ("cn-north-1", "aws-cn"), ("us-gov-west-1", "aws-us-gov"), ("us-iso-east-1", "aws-iso"), ("us-isob-east-1", "aws-iso-b")] {
            assert_eq!(partition(region), partition_name, "{region}");
        }
    }
}
