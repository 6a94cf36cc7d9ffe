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
    /// Findings and bytes of the call being filled (kept apart from `current`, which
    /// [`Batcher::count`] leaves empty).
    current_findings: usize,
    current_bytes: usize,
    index: usize,
}

/// A call's size: its findings and the bytes of its request body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CallSize {
    /// Findings it carries.
    pub findings: usize,
    /// Bytes of its request body.
    pub body_bytes: usize,
}

impl Batcher {
    /// Checks the next finding of the export and adds it; returns the call it completed, if
    /// adding it would have broken a call limit.
    pub fn push(&mut self, finding: Box<RawValue>) -> Result<Option<Call>, Rejected> {
        let completed = self.admit(finding.get())?;
        let done = completed.map(|size| Call { findings: std::mem::take(&mut self.current), body_bytes: size.body_bytes });
        self.current.push(finding);
        Ok(done)
    }

    /// [`Batcher::push`] for a caller that only needs the calls' sizes: the finding is
    /// checked and counted, not kept.
    pub fn count(&mut self, finding: &str) -> Result<Option<CallSize>, Rejected> {
        self.admit(finding)
    }

    /// The last, partly filled call.
    pub fn finish(mut self) -> Option<Call> {
        let size = self.close()?;
        Some(Call { findings: std::mem::take(&mut self.current), body_bytes: size.body_bytes })
    }

    /// [`Batcher::finish`] after [`Batcher::count`].
    pub fn finish_count(mut self) -> Option<CallSize> {
        self.close()
    }

    /// Checks a finding and makes room for it: closes the call being filled when the finding
    /// would break one of its limits (returning that call's size), then counts the finding in.
    fn admit(&mut self, finding: &str) -> Result<Option<CallSize>, Rejected> {
        let index = self.index;
        self.index += 1;
        check(finding).map_err(|reason| Rejected { index, id: id_of(finding), reason })?;
        let bytes = finding.len();
        let separator = usize::from(self.current_findings > 0);
        let full = self.current_findings == MAX_FINDINGS_PER_CALL || ENVELOPE_BYTES + self.current_bytes + separator + bytes > MAX_CALL_BYTES;
        let done = if full { self.close() } else { None };
        self.current_bytes += usize::from(self.current_findings > 0) + bytes;
        self.current_findings += 1;
        Ok(done)
    }

    fn close(&mut self) -> Option<CallSize> {
        if self.current_findings == 0 {
            return None;
        }
        let size = CallSize { findings: self.current_findings, body_bytes: ENVELOPE_BYTES + self.current_bytes };
        self.current_findings = 0;
        self.current_bytes = 0;
        Some(size)
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
///
/// A finding the fast reading ([`passes`]) finds within every limit is accepted; any other is
/// judged by [`check_exactly`], which names what it breaks. The fast reading looks only at the
/// attributes checked and borrows their text, where building a `serde_json::Value` of the
/// whole finding (2 kB, a few dozen allocations) took most of the time of checking an export.
pub fn check(finding: &str) -> Result<(), String> {
    if passes(finding) {
        return Ok(());
    }
    check_exactly(finding)
}

/// The attributes of a finding [`check`] looks at, read in one pass: strings borrowed unless
/// escaped, objects and lists read into their parts as they come. An attribute of another
/// type than its check wants (`null` included) fails the reading, as does a duplicate, and
/// the finding goes to [`check_exactly`], which keeps the last. Attributes whose check is
/// lenient (`RecordState`, `Remediation`: another type is not checked) keep their raw text.
#[derive(serde::Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Attributes<'a> {
    #[serde(borrow, default)]
    schema_version: Given<Text<'a>>,
    #[serde(borrow, default)]
    id: Given<Text<'a>>,
    #[serde(borrow, default)]
    generator_id: Given<Text<'a>>,
    #[serde(borrow, default)]
    title: Given<Text<'a>>,
    #[serde(borrow, default)]
    description: Given<Text<'a>>,
    #[serde(borrow, default)]
    aws_account_id: Given<Text<'a>>,
    #[serde(borrow, default)]
    product_arn: Given<Text<'a>>,
    #[serde(borrow, default)]
    created_at: Given<Text<'a>>,
    #[serde(borrow, default)]
    updated_at: Given<Text<'a>>,
    #[serde(borrow, default)]
    types: Given<Vec<Text<'a>>>,
    #[serde(borrow, default)]
    severity: Given<Object<Severity<'a>>>,
    #[serde(borrow, default)]
    resources: Given<Vec<Object<Resource<'a>>>>,
    #[serde(borrow, default)]
    product_fields: Given<std::collections::BTreeMap<Text<'a>, Text<'a>>>,
    #[serde(borrow, default)]
    compliance: Given<Object<Compliance<'a>>>,
    #[serde(borrow, default)]
    remediation: Raw<'a>,
    #[serde(borrow, default)]
    record_state: Raw<'a>,
}

#[derive(serde::Deserialize)]
struct Severity<'a> {
    #[serde(rename = "Label", borrow, default)]
    label: Given<Text<'a>>,
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Resource<'a> {
    #[serde(borrow, default)]
    r#type: Given<Text<'a>>,
    #[serde(borrow, default)]
    id: Given<Text<'a>>,
    #[serde(borrow, default)]
    details: Raw<'a>,
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Compliance<'a> {
    #[serde(borrow, default)]
    status: Given<Text<'a>>,
    #[serde(borrow, default)]
    related_requirements: Raw<'a>,
}

/// An attribute when the object has it, read as `T` (`null` is not a `T`); `None` when not.
struct Given<T>(Option<T>);

impl<T> Default for Given<T> {
    fn default() -> Self {
        Given(None)
    }
}

impl<'de, T: serde::Deserialize<'de>> serde::Deserialize<'de> for Given<T> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        T::deserialize(deserializer).map(|value| Given(Some(value)))
    }
}

/// An object read as `T`. Only an object: a derived `Deserialize` also reads a list as a
/// struct's fields in order (`"Severity": ["MEDIUM"]` would have a label).
struct Object<T>(T);

impl<'de, T: serde::Deserialize<'de>> serde::Deserialize<'de> for Object<T> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor<T>(std::marker::PhantomData<T>);
        impl<'de, T: serde::Deserialize<'de>> serde::de::Visitor<'de> for Visitor<T> {
            type Value = Object<T>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<Object<T>, A::Error> {
                T::deserialize(serde::de::value::MapAccessDeserializer::new(map)).map(Object)
            }
        }
        deserializer.deserialize_map(Visitor(std::marker::PhantomData))
    }
}

impl Given<Text<'_>> {
    /// Its text, when it has one of 1 to `max` bytes.
    fn within(&self, max: usize) -> Option<&str> {
        self.0.as_ref().map(|t| &*t.0).filter(|t| !t.is_empty() && t.len() <= max)
    }
}

/// An attribute's JSON text when the object has it (`null` included), `None` when not.
#[derive(Default, Clone, Copy)]
struct Raw<'a>(Option<&'a RawValue>);

impl<'de: 'a, 'a> serde::Deserialize<'de> for Raw<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        <&'de RawValue as serde::Deserialize>::deserialize(deserializer).map(|raw| Raw(Some(raw)))
    }
}

impl<'a> Raw<'a> {
    /// Its members, when it is an object.
    fn object<T: serde::Deserialize<'a>>(self) -> Option<T> {
        self.0.filter(|raw| raw.get().starts_with('{')).and_then(|raw| serde_json::from_str(raw.get()).ok())
    }

    /// Its elements, when it is an array.
    fn array(self) -> Option<Vec<&'a RawValue>> {
        self.0.filter(|raw| raw.get().starts_with('[')).and_then(|raw| serde_json::from_str(raw.get()).ok())
    }

    /// Its text, when it is a string.
    fn text(self) -> Option<std::borrow::Cow<'a, str>> {
        text(self.0?)
    }
}

/// A JSON string, borrowed unless it has escapes (`Cow<str>` reads every one into a new
/// `String`, a few dozen allocations per finding); anything else is not one.
#[derive(PartialEq, Eq, PartialOrd, Ord)]
struct Text<'a>(std::borrow::Cow<'a, str>);

impl<'de: 'a, 'a> serde::Deserialize<'de> for Text<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = Text<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: serde::de::Error>(self, text: &'de str) -> Result<Text<'de>, E> {
                Ok(Text(std::borrow::Cow::Borrowed(text)))
            }
            fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<Text<'de>, E> {
                Ok(Text(std::borrow::Cow::Owned(text.to_owned())))
            }
        }
        deserializer.deserialize_str(Visitor)
    }
}

/// The text of a JSON string, borrowed unless it has escapes; `None` for anything else.
fn text(raw: &RawValue) -> Option<std::borrow::Cow<'_, str>> {
    let json = raw.get();
    if !json.starts_with('"') {
        return None;
    }
    match serde_json::from_str::<&str>(json) {
        Ok(text) => Some(std::borrow::Cow::Borrowed(text)),
        Err(_) => serde_json::from_str::<String>(json).ok().map(std::borrow::Cow::Owned),
    }
}

/// Whether `finding` is certainly within every limit [`check_exactly`] checks, reading only
/// those attributes. Anything it is unsure of (an attribute missing or of another type, a
/// duplicate, a limit broken) answers `false`, never a false `true`: the tests compare the
/// two on every attribute missing, null, of each other type, empty, too long and duplicated.
fn passes(finding: &str) -> bool {
    #[derive(serde::Deserialize)]
    struct Details<'a> {
        #[serde(rename = "Other", borrow, default)]
        other: Raw<'a>,
    }
    #[derive(serde::Deserialize)]
    struct Remediation<'a> {
        #[serde(rename = "Recommendation", borrow, default)]
        recommendation: Raw<'a>,
    }
    #[derive(serde::Deserialize)]
    struct Recommendation<'a> {
        #[serde(rename = "Text", borrow, default)]
        text: Raw<'a>,
    }
    type Members<'a> = std::collections::BTreeMap<Text<'a>, &'a RawValue>;

    if finding.len() > MAX_FINDING_BYTES || !finding.trim_start().starts_with('{') {
        return false;
    }
    let Ok(a) = serde_json::from_str::<Attributes<'_>>(finding) else { return false };
    let (Some(account), Some(product)) = (a.aws_account_id.within(usize::MAX), a.product_arn.within(2048)) else { return false };
    let timestamp = |t: &Given<Text<'_>>| t.within(64).is_some_and(crate::is_timestamp);
    let fine = a.schema_version.within(usize::MAX) == Some("2018-10-08")
        && a.id.within(512).is_some()
        && a.generator_id.within(512).is_some()
        && a.title.within(256).is_some()
        && a.description.within(1024).is_some()
        && account.len() == 12
        && account.bytes().all(|b| b.is_ascii_digit())
        && is_default_product_of(product, account)
        && timestamp(&a.created_at)
        && timestamp(&a.updated_at);
    if !fine {
        return false;
    }
    let Some(types) = a.types.0 else { return false };
    if types.is_empty() || types.len() > 50 || !types.iter().all(|t| !t.0.is_empty() && t.0.len() <= 128) {
        return false;
    }
    let label = a.severity.0.and_then(|s| s.0.label.0);
    if !label.is_some_and(|l| ["INFORMATIONAL", "LOW", "MEDIUM", "HIGH", "CRITICAL"].contains(&&*l.0)) {
        return false;
    }
    let Some(resources) = a.resources.0 else { return false };
    if resources.is_empty() || resources.len() > 32 {
        return false;
    }
    for Object(resource) in resources {
        if resource.r#type.within(512).is_none() || resource.id.within(512).is_none() {
            return false;
        }
        // Details that are not an object, or without an object `Other`, are not checked.
        if resource.details.0.is_some_and(|d| d.get().starts_with('{')) {
            let Some(details) = resource.details.object::<Details<'_>>() else { return false };
            if details.other.0.is_some_and(|o| o.get().starts_with('{')) {
                let Some(other) = details.other.object::<Members<'_>>() else { return false };
                if other.len() > 50 || !other.iter().all(|(k, v)| k.0.len() < 128 && text(v).is_some_and(|v| v.len() < 1024)) {
                    return false;
                }
            }
        }
    }
    if let Given(Some(fields)) = &a.product_fields
        && (fields.len() > 50 || !fields.iter().all(|(k, v)| !k.0.is_empty() && k.0.len() <= 128 && !v.0.is_empty() && v.0.len() <= 2048))
    {
        return false;
    }
    if let Given(Some(Object(compliance))) = &a.compliance {
        if !compliance.status.within(usize::MAX).is_some_and(|s| ["PASSED", "WARNING", "FAILED", "NOT_AVAILABLE"].contains(&s)) {
            return false;
        }
        // Related requirements that are not a list are not counted.
        if compliance.related_requirements.0.is_some_and(|r| r.get().starts_with('[')) && compliance.related_requirements.array().is_none_or(|r| r.len() > 32) {
            return false;
        }
    }
    if a.remediation.0.is_some_and(|r| r.get().starts_with('{')) {
        let Some(remediation) = a.remediation.object::<Remediation<'_>>() else { return false };
        if remediation.recommendation.0.is_some_and(|r| r.get().starts_with('{')) {
            let Some(recommendation) = remediation.recommendation.object::<Recommendation<'_>>() else { return false };
            if recommendation.text.text().is_some_and(|t| t.len() > 512) {
                return false;
            }
        }
    }
    a.record_state.text().is_none_or(|s| s == "ACTIVE" || s == "ARCHIVED")
}

/// Whether `arn` is an ARN that ends in `:product/{account}/default` and holds
/// `:{account}:product/`: the default product of `account`.
fn is_default_product_of(arn: &str, account: &str) -> bool {
    let ends = arn.strip_suffix("/default").and_then(|a| a.strip_suffix(account)).is_some_and(|a| a.ends_with(":product/"));
    let names = arn.match_indices(":product/").any(|(at, _)| arn.get(..at).and_then(|a| a.strip_suffix(account)).is_some_and(|a| a.ends_with(':')));
    arn.starts_with("arn:") && ends && names
}

/// [`check`], reading the whole finding: the reason a finding breaks a limit.
fn check_exactly(finding: &str) -> Result<(), String> {
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
    if !is_default_product_of(product, account) {
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
    fn counting_calls_gives_the_calls_that_keeping_the_findings_does() {
        let findings: Vec<Box<RawValue>> =
            (0..101).map(|n| finding(n, "d")).chain((0..30).map(|n| finding_of_size(n, 200_000))).chain([finding_of_size(99, MAX_FINDING_BYTES + 1), finding(7, "")]).collect();
        let plan = plan(findings.clone());
        let mut batcher = Batcher::default();
        let (mut sizes, mut rejected) = (Vec::new(), Vec::new());
        for finding in &findings {
            match batcher.count(finding.get()) {
                Ok(size) => sizes.extend(size),
                Err(r) => rejected.push(r),
            }
        }
        sizes.extend(batcher.finish_count());
        let planned: Vec<CallSize> = plan.calls.iter().map(|c| CallSize { findings: c.findings.len(), body_bytes: c.body_bytes }).collect();
        assert_eq!(sizes, planned);
        assert!(planned.len() >= 3, "{planned:?}");
        assert_eq!(rejected, plan.rejected);
        assert_eq!(rejected.len(), 2);
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

    /// A finding with every attribute `check` looks at, within every limit.
    fn full_finding() -> Value {
        let mut value: Value = serde_json::from_str(finding(9, "d").get()).expect("json");
        value["Resources"] = serde_json::json!([
            {"Type": "AwsEc2Volume", "Id": "vol-9", "Details": {"Other": {"size": "8", "k\\ey": "v\"alue"}}},
            {"Type": "AwsEc2Instance", "Id": "i-9", "Partition": "aws"}
        ]);
        value["ProductFields"] = serde_json::json!({"compliance/rule_id": "ec2-volume-encrypted", "x": "y"});
        value["Compliance"] = serde_json::json!({"Status": "FAILED", "RelatedRequirements": ["CIS 2.2.1", "NIST SC-28"]});
        value["Remediation"] = serde_json::json!({"Recommendation": {"Text": "Encrypt it.", "Url": "https://docs.aws.amazon.com/"}});
        value["RecordState"] = Value::String("ACTIVE".to_owned());
        value["Title"] = Value::String("EBS volume \"encrypted\" \\ é".to_owned());
        value
    }

    /// Every value an attribute is replaced with below.
    fn replacements(limit: usize) -> Vec<Value> {
        let mut values = vec![
            Value::Null,
            serde_json::json!(0),
            serde_json::json!(true),
            Value::String(String::new()),
            Value::String("x".repeat(limit)),
            Value::String("x".repeat(limit + 1)),
            Value::String(format!("\\{}", "x".repeat(limit.saturating_sub(1)))),
            serde_json::json!([]),
            serde_json::json!(["x"]),
            serde_json::json!({}),
            serde_json::json!({"x": "y"}),
        ];
        for label in ["MEDIUM", "URGENT", "ACTIVE", "ARCHIVED", "DELETED", "PASSED", "2018-10-08", "2026-12-01T09:00:00.000Z", "yesterday", "111122223333"] {
            values.push(Value::String(label.to_owned()));
        }
        values
    }

    /// The paths into [`full_finding`] that `check` reads, with their length limits.
    const PATHS: [(&[&str], usize); 26] = [
        (&["SchemaVersion"], 64),
        (&["Id"], 512),
        (&["GeneratorId"], 512),
        (&["Title"], 256),
        (&["Description"], 1024),
        (&["AwsAccountId"], 12),
        (&["ProductArn"], 2048),
        (&["CreatedAt"], 64),
        (&["UpdatedAt"], 64),
        (&["Types"], 128),
        (&["Types", "0"], 128),
        (&["Severity"], 8),
        (&["Severity", "Label"], 8),
        (&["Resources"], 512),
        (&["Resources", "0"], 512),
        (&["Resources", "0", "Type"], 512),
        (&["Resources", "1", "Id"], 512),
        (&["Resources", "0", "Details"], 1024),
        (&["Resources", "0", "Details", "Other"], 1024),
        (&["Resources", "0", "Details", "Other", "size"], 1023),
        (&["ProductFields"], 2048),
        (&["ProductFields", "x"], 2048),
        (&["Compliance"], 16),
        (&["Compliance", "Status"], 16),
        (&["Compliance", "RelatedRequirements"], 32),
        (&["Remediation", "Recommendation", "Text"], 512),
    ];

    fn at<'v>(value: &'v mut Value, path: &[&str]) -> &'v mut Value {
        path.iter().fold(value, |v, key| match key.parse::<usize>() {
            Ok(i) if v.is_array() => &mut v[i],
            _ => &mut v[*key],
        })
    }

    #[test]
    fn the_fast_reading_never_passes_a_finding_the_whole_reading_refuses() {
        let base = full_finding();
        assert!(passes(&base.to_string()), "the full finding passes the fast reading");
        assert!(check_exactly(&base.to_string()).is_ok());
        let mut variants: Vec<String> = Vec::new();
        let mut duplicates: Vec<String> = Vec::new();
        for (path, limit) in PATHS {
            let (parent, last) = path.split_at(path.len() - 1);
            let mut removed = base.clone();
            match at(&mut removed, parent) {
                Value::Object(members) => drop(members.remove(last[0])),
                Value::Array(items) => drop(items.remove(last[0].parse::<usize>().expect("index"))),
                _ => unreachable!("{path:?}"),
            }
            variants.push(removed.to_string());
            for replacement in replacements(limit) {
                let mut changed = base.clone();
                *at(&mut changed, path) = replacement;
                variants.push(changed.to_string());
            }
            // The attribute twice in its object: the whole reading keeps the last.
            if !last[0].chars().all(|c| c.is_ascii_digit()) {
                let mut twice = base.clone();
                *at(&mut twice, path) = Value::String("DUPLICATE".to_owned());
                let text = twice.to_string();
                let key = format!("\"{}\":\"DUPLICATE\"", last[0]);
                let original = serde_json::to_string(at(&mut base.clone(), path)).expect("json");
                duplicates.push(text.replacen(&key, &format!("{key},\"{}\":{original}", last[0]), 1));
                duplicates.push(text.replacen(&key, &format!("\"{}\":{original},{key}", last[0]), 1));
            }
        }
        variants.extend([String::from("[]"), String::from("null"), String::from(" { } "), format!("[{base}]"), format!(" {base} ")]);
        // Many lists as sequences of a struct's fields would read if the shape were not checked.
        variants.push(base.to_string().replacen("{\"Label\":\"MEDIUM\"}", "[\"MEDIUM\"]", 1));
        for variant in variants.iter().chain(&duplicates) {
            let exactly = check_exactly(variant);
            if passes(variant) {
                assert!(exactly.is_ok(), "the fast reading passed what the whole reading refuses ({exactly:?}): {variant}");
            }
            assert_eq!(check(variant), exactly, "{variant}");
        }
        // Every valid variant without a duplicate attribute passes the fast reading too: it is
        // the common path, not a rare one.
        let valid: Vec<&String> = variants.iter().filter(|v| check_exactly(v).is_ok()).collect();
        assert!(valid.len() > 50 && valid.len() < variants.len(), "{} of {} variants are valid", valid.len(), variants.len());
        for variant in valid {
            assert!(passes(variant), "valid but not passed by the fast reading: {variant}");
        }
    }

    #[test]
    fn the_default_product_is_recognised_as_by_its_two_texts() {
        let account = "111122223333";
        let by_texts = |arn: &str| arn.starts_with("arn:") && arn.ends_with(&format!(":product/{account}/default")) && arn.contains(&format!(":{account}:product/"));
        let arns = [
            "arn:aws:securityhub:us-east-1:111122223333:product/111122223333/default",
            "arn:aws-cn:securityhub:cn-north-1:111122223333:product/111122223333/default",
            "arn:aws:securityhub:us-east-1:999922223333:product/111122223333/default",
            "arn:aws:securityhub:us-east-1:111122223333:product/999922223333/default",
            "arn:x:111122223333:product/zz:product/111122223333/default",
            "arn:x:111122223333:product/111122223333/default/default",
            "arn::111122223333:product/111122223333/default",
            ":111122223333:product/111122223333/default",
            "arn:111122223333:product/111122223333/default",
            "arn:aws:securityhub:us-east-1:111122223333:product/111122223333/defaults",
            "arn:aws:securityhub:us-east-1:0111122223333:product/111122223333/default",
            "arn:aws:securityhub:us-east-1:111122223333:product//111122223333/default",
            "",
        ];
        for arn in arns {
            assert_eq!(is_default_product_of(arn, account), by_texts(arn), "{arn}");
        }
        assert!(arns.iter().filter(|a| by_texts(a)).count() >= 3);
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
