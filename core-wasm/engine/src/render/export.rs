//! Exports to the tools users already run (SPEC §12): AWS Security Hub's finding format (ASFF,
//! [`asff`](super::asff)) and OCSF 1.5.0 Compliance Findings ([`ocsf`](super::ocsf)). One
//! exported record per finding that has a verdict worth sending (COMPLIANT, NON_COMPLIANT,
//! INSUFFICIENT_DATA; NOT_APPLICABLE is not exported), in report order, each on one line, so a
//! host can split the output into batches without re-parsing the whole of it and a reader can
//! diff two exports line by line. Times come from `generated_at`, never from a clock.

use crate::report::{Finding, GLOBAL_REGION, ResourceResult, ScoreReport};
use crate::rules::Status;
use crate::rules::frameworks::{Framework, natural, of_rule};

/// An export format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    /// A JSON array of `AwsSecurityFinding` objects, ready for `BatchImportFindings`.
    Asff,
    /// JSON Lines of OCSF 1.5.0 Compliance Findings (class_uid 2003).
    Ocsf,
}

/// Product name the exports carry.
pub const PRODUCT_NAME: &str = "AWS compliance scanner";

/// What an export needs that the report does not say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportOptions {
    /// The region findings on global resources (IAM, reported under `global`) are filed in:
    /// Security Hub findings live in a region, and the one that imports them is the host's.
    pub global_region: String,
}

/// Why an export cannot be made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExportError {
    /// An option is unusable.
    InvalidOption(String),
    /// Serialising failed (should not happen).
    Render(String),
}

impl std::fmt::Display for ExportError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ExportError::InvalidOption(message) | ExportError::Render(message) => f.write_str(message),
        }
    }
}

impl From<serde_json::Error> for ExportError {
    fn from(error: serde_json::Error) -> Self {
        ExportError::Render(error.to_string())
    }
}

/// Whether a finding is exported.
pub fn exported(finding: &Finding) -> bool {
    finding.status != Status::NotApplicable
}

/// The exported findings of a report, in report order.
pub fn findings(report: &ScoreReport) -> impl Iterator<Item = (&ResourceResult, &Finding)> {
    report.findings().filter(|(_, f)| exported(f))
}

/// The fixed context of one export: checked options and values every record repeats.
pub(crate) struct Context<'a> {
    pub(crate) report: &'a ScoreReport,
    pub(crate) global_region: &'a str,
    /// `generated_at` in milliseconds since the epoch.
    pub(crate) time_ms: i64,
}

impl<'a> Context<'a> {
    pub(crate) fn new(report: &'a ScoreReport, options: &'a ExportOptions) -> Result<Self, ExportError> {
        if !is_region(&options.global_region) {
            return Err(ExportError::InvalidOption(format!(
                "the region for global resources `{}` is not an AWS region name (like us-east-1)",
                options.global_region
            )));
        }
        let generated_at = &report.meta.generated_at;
        let time_ms = crate::item::parse_iso8601_us(generated_at)
            .filter(|_| generated_at.trim() == generated_at.as_str() && !generated_at.is_empty())
            .map(|us| us.div_euclid(1000))
            .ok_or_else(|| ExportError::InvalidOption(format!("generated_at `{generated_at}` is not an ISO-8601 UTC timestamp")))?;
        Ok(Context { report, global_region: &options.global_region, time_ms })
    }

    /// The region a resource's findings are filed in.
    pub(crate) fn region_of(&self, resource: &'a ResourceResult) -> &'a str {
        if resource.region == GLOBAL_REGION { self.global_region } else { &resource.region }
    }
}

/// `us-east-1`, `ap-southeast-2`, `us-gov-west-1`, `cn-north-1`: lower-case words and digits
/// joined by dashes, ending in a number.
pub fn is_region(text: &str) -> bool {
    let parts: Vec<&str> = text.split('-').collect();
    parts.len() >= 3
        && parts.iter().all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()))
        && parts.last().is_some_and(|p| p.bytes().all(|b| b.is_ascii_digit()))
}

/// The AWS partition of a region.
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

/// The resource's ARN, or one built from its id where the type's ARN format needs only that;
/// otherwise (IAM resources without a recorded ARN) the Config resource id.
pub(crate) fn resource_uid(resource: &ResourceResult, region: &str) -> String {
    if let Some(arn) = resource.arn.as_ref().filter(|a| !a.trim().is_empty()) {
        return arn.clone();
    }
    let p = partition(region);
    let (account, id) = (&resource.account_id, &resource.resource_id);
    match &*resource.resource_type {
        "AWS::S3::Bucket" => format!("arn:{p}:s3:::{id}"),
        "AWS::EC2::Instance" => format!("arn:{p}:ec2:{region}:{account}:instance/{id}"),
        "AWS::EC2::Volume" => format!("arn:{p}:ec2:{region}:{account}:volume/{id}"),
        "AWS::EC2::SecurityGroup" => format!("arn:{p}:ec2:{region}:{account}:security-group/{id}"),
        _ if id.trim().is_empty() => format!("{}/{id}", resource.resource_type),
        _ => id.clone(),
    }
}

/// A finding's description: its message, or `None` when the message is blank and the rule's
/// title stands in for it (Security Hub refuses a blank `Description`).
pub(crate) fn description(finding: &Finding) -> Option<&str> {
    Some(&*finding.message).filter(|m| !m.trim().is_empty())
}

/// The requirements a rule evidences, framework by framework in report order and naturally
/// ordered within each, labelled the way Security Hub labels its own findings'
/// `RelatedRequirements` (`NIST.800-53.r5 AC-3`, `PCI DSS v4.0.1/1.2.1`).
pub(crate) fn related_requirements(rule: &str) -> Vec<String> {
    let mut mappings: Vec<_> = of_rule(rule).collect();
    mappings.sort_by(|a, b| a.framework.cmp(&b.framework).then_with(|| natural(a.requirement, b.requirement)));
    mappings
        .into_iter()
        .map(|m| match m.framework {
            Framework::SecurityHub => format!("AWS Security Hub control {}", m.requirement),
            Framework::Cis => format!("CIS AWS Foundations Benchmark v3.0.0/{}", m.requirement),
            Framework::PciDss => format!("PCI DSS v4.0.1/{}", m.requirement),
            Framework::Nist => format!("NIST.800-53.r5 {}", m.requirement),
        })
        .collect()
}

/// What every finding of a rule carries in an export: its related requirements and the
/// frameworks it evidences, worked out once per rule (they were sorted and formatted again for
/// each of a report's hundreds of thousands of findings).
struct RuleExport {
    related_requirements: Vec<String>,
    frameworks: Vec<Framework>,
}

static BY_RULE: std::sync::LazyLock<Vec<RuleExport>> = std::sync::LazyLock::new(|| {
    per_rule(|index| {
        let id = crate::rules::rule(index).id;
        RuleExport { related_requirements: related_requirements(id), frameworks: frameworks_of(id) }
    })
});

/// A table of one `T` per rule, made by `make` from the rule's index and looked up by it
/// (`table.get(usize::from(index))`): what an export repeats for every finding of a rule,
/// worked out once.
pub(crate) fn per_rule<T>(make: impl Fn(crate::rules::RuleIndex) -> T) -> Vec<T> {
    (0..crate::rules::RULES.len()).filter_map(|i| crate::rules::RuleIndex::try_from(i).ok()).map(make).collect()
}

/// `value` as compact JSON, for the parts of records written once (strings and lists of
/// them, which always serialise).
pub(crate) fn json<T: serde::Serialize + ?Sized>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_default()
}

/// [`related_requirements`] of rule `rule`, worked out once.
pub(crate) fn related_requirements_of(rule: crate::rules::RuleIndex) -> &'static [String] {
    BY_RULE.get(usize::from(rule)).map_or(&[], |r| r.related_requirements.as_slice())
}

/// [`frameworks_of`] rule `rule`, worked out once.
pub(crate) fn frameworks_of_rule(rule: crate::rules::RuleIndex) -> &'static [Framework] {
    BY_RULE.get(usize::from(rule)).map_or(&[], |r| r.frameworks.as_slice())
}

/// The frameworks a rule evidences, in report order.
pub(crate) fn frameworks_of(rule: &str) -> Vec<Framework> {
    let mut frameworks: Vec<Framework> = of_rule(rule).map(|m| m.framework).collect();
    frameworks.sort();
    frameworks.dedup();
    frameworks
}

/// `text` cut to at most `max` bytes at a character boundary, ending in `…` when cut: AWS counts
/// string limits in bytes of UTF-8.
pub(crate) fn truncate(text: &str, max: usize) -> std::borrow::Cow<'_, str> {
    if text.len() <= max {
        return text.into();
    }
    let mut end = max.saturating_sub('…'.len_utf8());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", text.get(..end).unwrap_or_default()).into()
}

/// One export rendered piece by piece, like [`JsonPages`](super::json::JsonPages): the pieces
/// concatenate to exactly [`render`]'s bytes, and the state holds positions, not borrows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportPages {
    format: ExportFormat,
    resource: usize,
    finding: usize,
    written: u64,
    started: bool,
    done: bool,
}

impl ExportPages {
    /// A render of `format` from its start.
    pub fn new(format: ExportFormat) -> Self {
        ExportPages { format, resource: 0, finding: 0, written: 0, started: false, done: false }
    }

    /// The format being rendered.
    pub fn format(&self) -> ExportFormat {
        self.format
    }

    /// The next piece: at least `max_bytes` long unless it is the last (one record more at
    /// most), empty once the export is complete.
    pub fn next_page(&mut self, report: &ScoreReport, options: &ExportOptions, max_bytes: usize) -> Result<Vec<u8>, ExportError> {
        let context = Context::new(report, options)?;
        let mut out = Vec::new();
        if self.done {
            return Ok(out);
        }
        if !self.started && self.format == ExportFormat::Asff {
            out.push(b'[');
        }
        self.started = true;
        let mut writer = Writer::new(self.format, &context);
        let mut findings = report.findings_with_ids(self.resource, self.finding);
        while out.len() < max_bytes {
            let Some(found) = findings.next() else {
                if self.format == ExportFormat::Asff {
                    out.extend_from_slice(if self.written == 0 { b"]\n" } else { b"\n]\n" });
                }
                self.done = true;
                break;
            };
            (self.resource, self.finding) = (found.position.0, found.position.1 + 1);
            if !exported(found.finding) {
                continue;
            }
            if self.format == ExportFormat::Asff {
                out.extend_from_slice(if self.written == 0 { b"\n" } else { b",\n" });
            }
            writer.write(&mut out, &found)?;
            if self.format == ExportFormat::Ocsf {
                out.push(b'\n');
            }
            self.written += 1;
        }
        Ok(out)
    }
}

/// The writer of one format, holding what its records repeat.
enum Writer<'c> {
    Asff(super::asff::Writer<'c>),
    Ocsf(super::ocsf::Writer<'c>),
}

impl<'c> Writer<'c> {
    fn new(format: ExportFormat, context: &'c Context<'c>) -> Self {
        match format {
            ExportFormat::Asff => Writer::Asff(super::asff::Writer::new(context)),
            ExportFormat::Ocsf => Writer::Ocsf(super::ocsf::Writer::new(context)),
        }
    }

    /// One record, without what separates it from the next.
    fn write(&mut self, out: &mut Vec<u8>, found: &crate::report::FindingWithId<'_>) -> Result<(), serde_json::Error> {
        match self {
            Writer::Asff(asff) => asff.write(out, found),
            Writer::Ocsf(ocsf) => ocsf.write(out, found),
        }
    }
}

/// The whole export.
pub fn render(report: &ScoreReport, format: ExportFormat, options: &ExportOptions) -> Result<Vec<u8>, ExportError> {
    ExportPages::new(format).next_page(report, options, usize::MAX)
}

/// Reports for comparing an export writer with the serialisation it replaced.
#[cfg(test)]
pub(crate) mod testing {
    use super::*;
    use crate::report::FindingWithId;
    use crate::{ReportMeta, Scan, ScanOptions};

    /// Every finding of [`varied_reports`] written in `format` by its writer and by `reference`,
    /// the `serde_json` serialisation that writer replaced: the same bytes, and among them each
    /// of `markers`.
    pub(crate) fn compare_with_reference(format: ExportFormat, reference: fn(&mut Vec<u8>, &Context<'_>, &FindingWithId<'_>) -> Result<(), serde_json::Error>, markers: &[&str]) {
        let (mut compared, mut all) = (0, String::new());
        for (report, options) in varied_reports() {
            let context = Context::new(&report, &options).expect("context");
            let mut writer = Writer::new(format, &context);
            for found in report.findings_with_ids(0, 0) {
                let (mut ours, mut theirs) = (Vec::new(), Vec::new());
                writer.write(&mut ours, &found).expect("writes");
                reference(&mut theirs, &context, &found).expect("serialises");
                assert_eq!(String::from_utf8_lossy(&ours), String::from_utf8_lossy(&theirs));
                all.push_str(&String::from_utf8_lossy(&ours));
                compared += 1;
            }
        }
        assert!(compared > 1000, "{compared} findings compared");
        for marker in markers {
            assert!(all.contains(marker), "no {marker} in the findings compared");
        }
    }

    /// The demo snapshot scanned with its waivers, and again with every other resource
    /// changed: names, ids and ARNs holding quotes, backslashes, control characters,
    /// multi-byte characters, or thousands of bytes (so that ASFF's limits cut them, some in
    /// the middle of a character); resources moved to the China and GovCloud partitions; a
    /// waiver whose texts need escapes. Each with and without a component digest, and with
    /// global findings filed in two partitions.
    pub(crate) fn varied_reports() -> Vec<(ScoreReport, ExportOptions)> {
        let demo = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../../hosts/cli/demo/config-snapshot-demo.json"));
        let waivers = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../../hosts/cli/demo/waivers.yaml"));
        let mut snapshot: serde_json::Value = serde_json::from_str(demo).expect("the demo snapshot");
        let mut changed = snapshot.clone();
        let oddities = ["q\"uote", "back\\slash", "tab\tline\nfeed\u{1}", "été 日本 🙂", &"é".repeat(1500), &format!("{}🙂", "x".repeat(1021))];
        let regions = ["cn-north-1", "us-gov-west-1", "eu-west-1"];
        if let Some(items) = changed.get_mut("configurationItems").and_then(|i| i.as_array_mut()) {
            for (n, item) in items.iter_mut().enumerate().filter(|(n, _)| n % 2 == 1) {
                let odd = oddities.get(n / 2 % oddities.len()).copied().unwrap_or_default();
                for key in ["resourceName", "resourceId", "ARN", "arn"] {
                    if let Some(value) = item.get_mut(key).filter(|v| v.is_string()) {
                        *value = format!("{}{odd}", value.as_str().unwrap_or_default()).into();
                    }
                }
                if n % 3 == 0 && item.get("awsRegion").is_some_and(|r| r != "global") {
                    item["awsRegion"] = regions.get(n / 3 % regions.len()).copied().unwrap_or_default().into();
                    if let Some(arn) = item.get_mut("ARN").filter(|v| v.is_string()) {
                        *arn = serde_json::Value::Null;
                    }
                }
            }
            let volume = r#"{"resourceType": "AWS::EC2::Volume", "resourceId": "vol-odd", "awsAccountId": "111122223333", "awsRegion": "eu-west-1", "configuration": {"encrypted": false}}"#;
            items.push(serde_json::from_str(volume).expect("an item"));
        }
        let odd_waiver = "  - id: W-\"odd\\\"\n    rule: ec2-volume-encrypted\n    resource: AWS::EC2::Volume/vol-odd\n    reason: r\n    owner: \"o\\\"w\\\\ner@example.com\"\n    approved_by: a\n    approved_on: 2026-06-01\n    ticket: T\n    expires: 2027-01-01\n";
        let mut reports = Vec::new();
        for (snapshot, waivers) in [(&mut snapshot, waivers.to_owned()), (&mut changed, format!("{waivers}{odd_waiver}"))] {
            let bytes = serde_json::to_vec(snapshot).expect("serialises");
            for component_sha256 in ["c".repeat(64), String::new()] {
                let mut scan = Scan::new(ScanOptions::default()).expect("options");
                scan.set_waivers("waivers.yaml", waivers.as_bytes()).expect("valid waivers");
                scan.begin_source("demo.json").expect("begin");
                scan.feed(&bytes).expect("feed");
                scan.end_source().expect("end");
                let meta = ReportMeta { generated_at: "2026-12-01T09:00:00.000Z".to_owned(), component_sha256, input_sha256: "d".repeat(64), sources: Vec::new() };
                let report = scan.finish(meta).expect("finish");
                for global_region in ["us-east-1", "cn-northwest-1"] {
                    reports.push((report.clone(), ExportOptions { global_region: global_region.to_owned() }));
                }
            }
        }
        reports
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::asff;

    use crate::{ReportMeta, Scan, ScanOptions};
    use serde_json::Value;

    fn report(items: &str, waivers: Option<&str>) -> ScoreReport {
        let mut scan = Scan::new(ScanOptions::default()).expect("options");
        if let Some(waivers) = waivers {
            scan.set_waivers("w.yaml", waivers.as_bytes()).expect("waivers");
        }
        scan.begin_source("t.json").expect("begin");
        scan.feed(format!(r#"{{"configurationItems": [{items}]}}"#).as_bytes()).expect("feed");
        scan.end_source().expect("end");
        let meta = ReportMeta {
            generated_at: "2026-12-01T09:00:00.000Z".to_owned(),
            component_sha256: "c".repeat(64),
            input_sha256: "d".repeat(64),
            sources: Vec::new(),
        };
        scan.finish(meta).expect("finish")
    }

    const ITEMS: &str = r#"{"resourceType": "AWS::EC2::Volume", "resourceId": "vol-1", "awsAccountId": "111122223333", "awsRegion": "eu-west-1", "configuration": {"encrypted": false}},
        {"resourceType": "AWS::EC2::Volume", "resourceId": "vol-2", "awsAccountId": "111122223333", "awsRegion": "eu-west-1", "configuration": {"encrypted": true}},
        {"resourceType": "AWS::IAM::User", "resourceId": "AIDAEXAMPLE", "resourceName": "alice", "awsAccountId": "111122223333", "awsRegion": "global",
         "configuration": {"attachedManagedPolicies": [], "userPolicyList": []}},
        {"resourceType": "AWS::EC2::Instance", "resourceId": "i-1", "awsAccountId": "111122223333", "awsRegion": "eu-west-1", "configurationItemStatus": "ResourceDeleted"}"#;

    fn options() -> ExportOptions {
        ExportOptions { global_region: "us-east-1".to_owned() }
    }

    fn asff(report: &ScoreReport) -> Vec<Value> {
        let bytes = render(report, ExportFormat::Asff, &options()).expect("renders");
        serde_json::from_slice::<Vec<Value>>(&bytes).expect("a JSON array")
    }

    #[test]
    fn asff_findings_carry_what_security_hub_requires() {
        let report = report(ITEMS, None);
        let exported = findings(&report).count();
        let findings = asff(&report);
        assert_eq!(findings.len(), exported);
        assert!(exported >= 3, "{exported}");
        for f in &findings {
            for key in ["SchemaVersion", "Id", "ProductArn", "GeneratorId", "AwsAccountId", "Types", "CreatedAt", "UpdatedAt", "Severity", "Title", "Description", "Resources"] {
                assert!(f.get(key).is_some(), "{key} missing in {f}");
            }
            assert_eq!(f["SchemaVersion"], "2018-10-08");
            assert_eq!(f["CreatedAt"], "2026-12-01T09:00:00.000Z");
            assert_eq!(f["RecordState"], "ACTIVE");
            assert_ne!(f["Region"], "global", "global resources are filed in the given region");
            let region = f["Region"].as_str().expect("region");
            assert_eq!(f["ProductArn"], format!("arn:aws:securityhub:{region}:111122223333:product/111122223333/default"));
            assert_eq!(f["ProductFields"]["compliance/component_sha256"], "c".repeat(64));
        }
        let volume = findings.iter().find(|f| f["Resources"][0]["Id"] == "arn:aws:ec2:eu-west-1:111122223333:volume/vol-1").expect("vol-1 exported");
        assert_eq!(volume["Compliance"]["Status"], "FAILED");
        assert_eq!(volume["Severity"]["Label"], "MEDIUM");
        assert_eq!(volume["Resources"][0]["Type"], "AwsEc2Volume");
        let passed = findings.iter().find(|f| f["Resources"][0]["Id"] == "arn:aws:ec2:eu-west-1:111122223333:volume/vol-2").expect("vol-2 exported");
        assert_eq!(passed["Compliance"]["Status"], "PASSED");
        assert_eq!(passed["Severity"]["Label"], "INFORMATIONAL");
        assert_eq!(passed["FindingProviderFields"]["Severity"]["Original"], "MEDIUM");
        let user = findings.iter().find(|f| f["Resources"][0]["Type"] == "AwsIamUser").expect("user exported");
        assert_eq!(user["Region"], "us-east-1");
        assert!(findings.iter().all(|f| f["Resources"][0]["Id"] != "arn:aws:ec2:eu-west-1:111122223333:instance/i-1"), "deleted resources are not scored");
    }

    #[test]
    fn ids_are_stable_across_scan_times_and_distinct_per_rule_and_resource() {
        let first = asff(&report(ITEMS, None));
        let mut later = report(ITEMS, None);
        later.meta.generated_at = "2027-03-01T00:00:00Z".to_owned();
        let later = asff(&later);
        let ids = |fs: &[Value]| fs.iter().map(|f| f["Id"].as_str().expect("id").to_owned()).collect::<Vec<_>>();
        assert_eq!(ids(&first), ids(&later));
        let mut unique = ids(&first);
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), first.len());
    }

    #[test]
    fn not_applicable_findings_are_not_exported_and_an_empty_export_is_valid() {
        let report = report(r#"{"resourceType": "AWS::Lambda::Function", "resourceId": "f"}"#, None);
        assert_eq!(render(&report, ExportFormat::Asff, &options()).expect("renders"), b"[]\n");
        assert_eq!(render(&report, ExportFormat::Ocsf, &options()).expect("renders"), b"");
    }

    #[test]
    fn ocsf_lines_are_compliance_findings() {
        let waivers = "waivers:\n  - {id: W-1, rule: ec2-volume-encrypted, resource: AWS::EC2::Volume/vol-1, reason: r, owner: o@example.com, approved_by: a, approved_on: 2026-06-01, ticket: T, expires: 2027-01-01}\n";
        let report = report(ITEMS, Some(waivers));
        let bytes = render(&report, ExportFormat::Ocsf, &options()).expect("renders");
        let text = String::from_utf8(bytes).expect("utf-8");
        let lines: Vec<Value> = text.lines().map(|l| serde_json::from_str(l).expect("one JSON object per line")).collect();
        assert_eq!(lines.len(), findings(&report).count());
        let asff_ids: Vec<Value> = asff(&report).iter().map(|f| f["Id"].clone()).collect();
        for (line, id) in lines.iter().zip(&asff_ids) {
            assert_eq!(line["class_uid"], 2003);
            assert_eq!(line["type_uid"], 200301);
            assert_eq!(line["metadata"]["version"], "1.5.0");
            assert_eq!(line["time"], 1_796_115_600_000_i64);
            assert_eq!(&line["finding_info"]["uid"], id, "OCSF and ASFF name a finding alike");
            assert_eq!(line["unmapped"]["input_sha256"], "d".repeat(64));
        }
        let waived = lines.iter().find(|l| l["unmapped"]["waiver"]["id"] == "W-1").expect("the waived finding");
        assert_eq!(waived["status"], "Suppressed");
        assert_eq!(waived["compliance"]["status_id"], 3, "a waived finding still fails");
        assert!(waived["compliance"]["standards"].as_array().is_some_and(|s| !s.is_empty()));
    }

    #[test]
    fn pages_of_any_size_concatenate_to_the_whole_export() {
        let report = report(ITEMS, None);
        for format in [ExportFormat::Asff, ExportFormat::Ocsf] {
            let whole = render(&report, format, &options()).expect("renders");
            for max in [1, 50, 700, 1 << 20] {
                let mut pages = ExportPages::new(format);
                let mut joined = Vec::new();
                loop {
                    let page = pages.next_page(&report, &options(), max).expect("renders");
                    if page.is_empty() {
                        break;
                    }
                    joined.extend_from_slice(&page);
                }
                assert_eq!(joined, whole, "{format:?} in pieces of {max}");
            }
        }
    }

    #[test]
    fn a_bad_global_region_or_timestamp_is_refused() {
        let report = report(ITEMS, None);
        let bad = ExportOptions { global_region: "global".to_owned() };
        assert!(matches!(render(&report, ExportFormat::Asff, &bad), Err(ExportError::InvalidOption(m)) if m.contains("global")));
        let mut undated = report.clone();
        undated.meta.generated_at = "yesterday".to_owned();
        assert!(matches!(render(&undated, ExportFormat::Ocsf, &options()), Err(ExportError::InvalidOption(m)) if m.contains("yesterday")));
    }

    #[test]
    fn long_messages_are_cut_to_asffs_limits() {
        let name = "n".repeat(3000);
        let items = format!(r#"{{"resourceType": "AWS::S3::Bucket", "resourceId": "{name}", "awsAccountId": "111122223333", "awsRegion": "eu-west-1", "configuration": {{}}}}"#);
        for f in asff(&report(&items, None)) {
            assert!(f["Description"].as_str().is_some_and(|d| d.len() <= asff::DESCRIPTION_MAX));
            assert!(f["Resources"][0]["Id"].as_str().is_some_and(|d| d.len() <= asff::ID_MAX));
            assert!(f["Compliance"]["RelatedRequirements"].as_array().is_none_or(|r| r.len() <= asff::RELATED_REQUIREMENTS_MAX));
        }
    }

    #[test]
    fn regions_and_partitions() {
        for region in ["us-east-1", "eu-central-2", "us-gov-west-1", "cn-north-1", "ap-southeast-5"] {
            assert!(is_region(region), "{region}");
        }
        for bad in ["", "global", "us-east", "US-EAST-1", "us--1", "us-east-1 ", "us-east-x"] {
            assert!(!is_region(bad), "{bad}");
        }
        assert_eq!(partition("us-east-1"), "aws");
        assert_eq!(partition("cn-northwest-1"), "aws-cn");
        assert_eq!(partition("us-gov-east-1"), "aws-us-gov");
        assert_eq!(partition("us-iso-east-1"), "aws-iso");
        assert_eq!(partition("us-isob-east-1"), "aws-iso-b");
    }

    #[test]
    fn truncation_counts_utf8_bytes_and_keeps_characters_whole() {
        assert_eq!(truncate("short", 10), "short");
        let cut = truncate("ééééé", 7);
        assert!(cut.len() <= 7, "{cut}");
        assert_eq!(cut, "éé…");
        let exact = "x".repeat(1024);
        assert_eq!(truncate(&exact, 1024).len(), 1024);
        let long = "y".repeat(5000);
        let cut = truncate(&long, 1024);
        assert_eq!(cut.len(), 1024);
        assert!(cut.ends_with('…'));
    }

    #[test]
    fn related_requirements_are_labelled_and_ordered() {
        for (index, r) in crate::rules::RULES.iter().enumerate() {
            let index = crate::rules::RuleIndex::try_from(index).expect("rule index");
            assert_eq!(crate::rules::rule(index).id, r.id);
            assert_eq!(related_requirements_of(index), related_requirements(r.id), "{}", r.id);
            assert_eq!(frameworks_of_rule(index), frameworks_of(r.id), "{}", r.id);
        }
        let related = related_requirements("s3-bucket-sse-kms");
        assert!(!related.is_empty());
        let first_nist = related.iter().position(|r| r.starts_with("NIST")).expect("NIST mapped");
        assert!(related.get(..first_nist).is_some_and(|head| head.iter().all(|r| !r.starts_with("NIST"))));
    }
}
