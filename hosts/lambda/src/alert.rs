//! The SNS alert (SPEC §7.4): one publish with `MessageStructure: json` — readable text for
//! email, a JSON document for Lambda subscribers (the remediator) — and message attributes
//! carrying severity and score. The message always stays under SNS's 256 KB limit: the lists in
//! it are cut and the message says how many entries were left out.

use compliance_runtime::{Finding, ReportSummary, Severity};
use serde_json::{Value, json};

use crate::history::percent;

/// Budget for the whole publish (message + subject + attributes) below SNS's 262,144 bytes.
pub const MAX_MESSAGE_BYTES: usize = 240 * 1024;
/// Findings listed in the email at most.
const TOP_FINDINGS: usize = 20;

/// Where the scan's reports are.
#[derive(Debug, Clone)]
pub struct ReportLocation {
    /// Reports bucket.
    pub bucket: String,
    /// Key of the JSON report.
    pub json_key: String,
    /// Key of the HTML report.
    pub html_key: String,
}

/// What the alert is about.
#[derive(Debug)]
pub struct AlertInput<'a> {
    /// Headline numbers.
    pub summary: &'a ReportSummary,
    /// Scan id.
    pub scan_id: &'a str,
    /// Scan time.
    pub generated_at: &'a str,
    /// Account scanned.
    pub account: &'a str,
    /// Region scanned.
    pub region: &'a str,
    /// Reports.
    pub report: &'a ReportLocation,
    /// Non-compliant findings, in report order.
    pub failing: &'a [Finding],
    /// What the scan's waiver file did, when it had one.
    pub waivers: Option<&'a WaiverNotes>,
}

/// The waivers as the alert tells them (SPEC §11).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WaiverNotes {
    /// `score_with_waivers_bp`.
    pub score_with_waivers_bp: u32,
    /// Whether the alert was decided on `score_with_waivers_bp` (`ALERT_SCORE`).
    pub alert_on_score_with_waivers: bool,
    /// Waived findings: finding id → waiver id. They are never sent to the remediator.
    pub waived: std::collections::BTreeMap<String, String>,
    /// Active waivers ending within 30 days: (id, owner, expires).
    pub expiring_soon: Vec<(String, String, String)>,
    /// Expired waivers still in the file.
    pub expired: Vec<String>,
}

impl WaiverNotes {
    /// Reads them from the JSON report's head (`score_with_waivers_bp` and `waivers`); none when
    /// the report names no waiver file.
    pub fn from_report_head(head: &Value, alert_on_score_with_waivers: bool, waived: Vec<(String, String)>) -> Option<Self> {
        head.pointer("/input/waivers").filter(|w| !w.is_null())?;
        let text = |v: &Value, key: &str| v.get(key).and_then(Value::as_str).unwrap_or_default().to_owned();
        let entries = head.pointer("/waivers/entries").and_then(Value::as_array).cloned().unwrap_or_default();
        let ids = |list: &str| -> Vec<String> {
            head.pointer(&format!("/waivers/{list}")).and_then(Value::as_array).into_iter().flatten().filter_map(|v| v.as_str().map(str::to_owned)).collect()
        };
        let expiring_soon = ids("expiring_soon")
            .into_iter()
            .map(|id| {
                let entry = entries.iter().find(|e| e.get("id").and_then(Value::as_str) == Some(id.as_str()));
                let field = |key: &str| entry.map(|e| text(e, key)).unwrap_or_default();
                (id.clone(), field("owner"), field("expires"))
            })
            .collect();
        Some(Self {
            score_with_waivers_bp: head.get("score_with_waivers_bp").and_then(Value::as_u64).and_then(|v| u32::try_from(v).ok()).unwrap_or_default(),
            alert_on_score_with_waivers,
            waived: waived.into_iter().collect(),
            expiring_soon,
            expired: ids("expired"),
        })
    }
}

/// A ready-to-publish alert.
#[derive(Debug, Clone, PartialEq)]
pub struct Alert {
    /// Subject (ASCII, under 100 characters, as SNS requires for email).
    pub subject: String,
    /// The `MessageStructure: json` message.
    pub message: String,
    /// Highest severity with a non-compliant finding (`CRITICAL`, `HIGH`, `MEDIUM`, `LOW`, `NONE`).
    pub severity: &'static str,
    /// Score as a decimal percentage.
    pub score: String,
    /// Findings left out of the email listing.
    pub findings_omitted: usize,
    /// Bucket ARNs left out of the Lambda document.
    pub buckets_omitted: usize,
}

fn severity_name(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical => "CRITICAL",
        Severity::High => "HIGH",
        Severity::Medium => "MEDIUM",
        Severity::Low => "LOW",
    }
}

fn rank(severity: Severity) -> u8 {
    match severity {
        Severity::Critical => 0,
        Severity::High => 1,
        Severity::Medium => 2,
        Severity::Low => 3,
    }
}

/// ARNs of S3 buckets with a non-compliant remediable finding (what the remediator can fix),
/// without repeats, in report order.
/// Waived findings are accepted risks: never remediated automatically.
pub fn remediable_buckets(failing: &[Finding], waivers: Option<&WaiverNotes>) -> Vec<String> {
    let waived = |f: &Finding| waivers.is_some_and(|w| w.waived.contains_key(&f.id));
    let mut arns: Vec<String> = Vec::new();
    for finding in failing.iter().filter(|f| f.remediable && f.resource_type == "AWS::S3::Bucket" && !waived(f)) {
        let arn = finding.arn.clone().unwrap_or_else(|| format!("arn:aws:s3:::{}", finding.resource_id));
        if !arns.contains(&arn) {
            arns.push(arn);
        }
    }
    arns
}

/// Cuts text taken from the input (resource ids, messages) for a one-line listing.
fn clip(text: &str, max_chars: usize) -> String {
    let mut chars = text.chars().filter(|c| !c.is_control());
    let head: String = chars.by_ref().take(max_chars).collect();
    if chars.next().is_some() { format!("{head}…") } else { head }
}

/// Builds the alert, listing as many findings and buckets as fit [`MAX_MESSAGE_BYTES`].
pub fn build(input: &AlertInput<'_>) -> Alert {
    let mut ordered: Vec<&Finding> = input.failing.iter().collect();
    ordered.sort_by_key(|f| rank(f.severity)); // stable: report order within a severity
    let severity = ordered.first().map_or("NONE", |f| severity_name(f.severity));
    let buckets = remediable_buckets(input.failing, input.waivers);
    let (mut listed, mut listed_buckets) = (ordered.len().min(TOP_FINDINGS), buckets.len());
    loop {
        let alert = render(input, &ordered, listed, &buckets, listed_buckets, severity);
        if alert.message.len() + alert.subject.len() + 256 <= MAX_MESSAGE_BYTES || (listed == 0 && listed_buckets == 0) {
            return alert;
        }
        if listed_buckets > 0 && (listed_buckets >= listed || listed == 0) {
            listed_buckets /= 2;
        } else {
            listed /= 2;
        }
    }
}

fn render(input: &AlertInput<'_>, ordered: &[&Finding], listed: usize, buckets: &[String], listed_buckets: usize, severity: &'static str) -> Alert {
    let summary = input.summary;
    let (score, threshold) = (percent(summary.score_bp), percent(summary.threshold_bp));
    let nc = |c: &compliance_runtime::StatusCounts| c.non_compliant;
    let headline = match input.waivers {
        Some(w) if w.alert_on_score_with_waivers => {
            format!("Compliance score with waivers {} % is below the threshold of {threshold} % (score without waivers {score} %).", percent(w.score_with_waivers_bp))
        }
        Some(w) => format!("Compliance score {score} % is below the threshold of {threshold} % (with waivers {} %).", percent(w.score_with_waivers_bp)),
        None => format!("Compliance score {score} % is below the threshold of {threshold} %."),
    };
    let mut text = format!(
        "{headline}\n\n\
         Account {account}, region {region}, scan {scan} at {at}.\n\
         Non-compliant findings: {total} (critical {c}, high {h}, medium {m}, low {l}) over {resources} resources.\n\n",
        account = input.account,
        region = input.region,
        scan = input.scan_id,
        at = input.generated_at,
        total = summary.totals.non_compliant,
        c = nc(&summary.critical),
        h = nc(&summary.high),
        m = nc(&summary.medium),
        l = nc(&summary.low),
        resources = summary.evaluated_resources,
    );
    if !ordered.is_empty() {
        text.push_str("Top failing findings:\n");
        for f in ordered.iter().take(listed) {
            let waived = input.waivers.and_then(|w| w.waived.get(&f.id)).map(|id| format!(" (waived: {})", clip(id, 100))).unwrap_or_default();
            text.push_str(&format!(
                "- [{}] {} on {} {}: {}{waived}\n",
                severity_name(f.severity),
                f.rule_id,
                f.resource_type,
                clip(&f.resource_id, 200),
                clip(&f.message, 300)
            ));
        }
        let omitted = ordered.len() - listed.min(ordered.len());
        if omitted > 0 {
            text.push_str(&format!("… and {omitted} more in the report.\n"));
        }
        text.push('\n');
    }
    if let Some(w) = input.waivers {
        if !w.expiring_soon.is_empty() {
            text.push_str("Waivers expiring within 30 days (renew or fix):\n");
            for (id, owner, expires) in w.expiring_soon.iter().take(listed.max(1)) {
                text.push_str(&format!("- {} ({}), expires {}\n", clip(id, 100), clip(owner, 100), clip(expires, 10)));
            }
            let omitted = w.expiring_soon.len().saturating_sub(listed.max(1));
            if omitted > 0 {
                text.push_str(&format!("… and {omitted} more in the report.\n"));
            }
            text.push('\n');
        }
        if !w.expired.is_empty() {
            text.push_str(&format!("Expired waivers still in the waiver file: {}.\n\n", w.expired.len()));
        }
    }
    text.push_str(&format!(
        "HTML report: s3://{b}/{h}\nJSON report: s3://{b}/{j}\n",
        b = input.report.bucket,
        h = input.report.html_key,
        j = input.report.json_key
    ));
    let lambda = json!({
        "kind": "compliance-alert",
        "version": 1,
        "scan_id": input.scan_id,
        "generated_at": input.generated_at,
        "account": input.account,
        "region": input.region,
        "score_bp": summary.score_bp,
        "threshold_bp": summary.threshold_bp,
        "score": score,
        "threshold": threshold,
        "severity": severity,
        "report": {"bucket": input.report.bucket, "json_key": input.report.json_key, "html_key": input.report.html_key},
        "remediable_buckets": &buckets[..listed_buckets.min(buckets.len())],
        "remediable_buckets_omitted": buckets.len() - listed_buckets.min(buckets.len()),
        "score_with_waivers_bp": input.waivers.map(|w| w.score_with_waivers_bp),
        "waivers_expiring_soon": input.waivers.map_or(0, |w| w.expiring_soon.len()),
    });
    let lambda = lambda.to_string();
    let message = json!({"default": text, "email": text, "lambda": lambda}).to_string();
    let subject = format!("Compliance score {score}% below {threshold}% ({}, {})", input.account, input.region);
    let subject: String = subject.chars().filter(|c| c.is_ascii_graphic() || *c == ' ').take(99).collect();
    Alert {
        subject,
        message,
        severity,
        score,
        findings_omitted: ordered.len() - listed.min(ordered.len()),
        buckets_omitted: buckets.len() - listed_buckets.min(buckets.len()),
    }
}

/// The remediable bucket ARNs in an alert's Lambda document (what the remediator reads).
pub fn buckets_in_lambda_message(message: &str) -> Option<Vec<String>> {
    let doc: Value = serde_json::from_str(message).ok()?;
    if doc.get("kind")?.as_str()? != "compliance-alert" {
        return None;
    }
    Some(doc.get("remediable_buckets")?.as_array()?.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect())
}

#[cfg(test)]
mod tests {
    use compliance_runtime::{Status, StatusCounts};

    use super::*;

    fn counts(non_compliant: u64) -> StatusCounts {
        StatusCounts { compliant: 0, non_compliant, not_applicable: 0, insufficient_data: 0 }
    }

    fn finding(i: usize, severity: Severity, long: usize) -> Finding {
        Finding {
            id: format!("{i:032x}"),
            rule_id: "s3-bucket-kms-encryption".to_owned(),
            resource_type: "AWS::S3::Bucket".to_owned(),
            resource_id: format!("bucket-{i}{}", "x".repeat(long)),
            arn: None,
            account_id: "123456789012".to_owned(),
            region: "us-east-1".to_owned(),
            status: Status::NonCompliant,
            severity,
            message: "m".repeat(long),
            path: "configuration".to_owned(),
            remediable: true,
        }
    }

    fn summary() -> ReportSummary {
        ReportSummary {
            score_bp: 6240,
            threshold_bp: 7000,
            below_threshold: true,
            items: 10,
            evaluated_resources: 10,
            skipped_resources: 0,
            totals: counts(3),
            critical: counts(1),
            high: counts(2),
            medium: counts(0),
            low: counts(0),
        }
    }

    fn alert(failing: &[Finding]) -> Alert {
        let report = ReportLocation { bucket: "r".into(), json_key: "k.json".into(), html_key: "k.html".into() };
        let summary = summary();
        build(&AlertInput { summary: &summary, scan_id: "s", generated_at: "t", account: "123456789012", region: "us-east-1", report: &report, failing, waivers: None })
    }

    #[test]
    fn waived_buckets_are_not_remediated_and_expiring_waivers_are_listed() {
        let report = ReportLocation { bucket: "r".into(), json_key: "k.json".into(), html_key: "k.html".into() };
        let summary = summary();
        let failing = [finding(1, Severity::High, 0), finding(2, Severity::High, 0)];
        let head = json!({
            "score_with_waivers_bp": 8125,
            "input": {"waivers": {"name": "s3://c/waivers.yaml", "sha256": "ab", "bytes": 10}},
            "waivers": {"expired": ["OLD"], "expiring_soon": ["W-1"], "unmatched": [],
                        "entries": [{"id": "W-1", "owner": "storage@example.com", "expires": "2026-12-20"}, {"id": "OLD", "owner": "x", "expires": "2026-01-01"}]}
        });
        let notes = WaiverNotes::from_report_head(&head, false, vec![(failing[0].id.clone(), "W-1".to_owned())]).expect("the report names a waiver file");
        let a = build(&AlertInput { summary: &summary, scan_id: "s", generated_at: "t", account: "123456789012", region: "us-east-1", report: &report, failing: &failing, waivers: Some(&notes) });
        let doc: Value = serde_json::from_str(&a.message).unwrap();
        let email = doc["email"].as_str().unwrap();
        assert!(email.contains("62.40 % is below the threshold of 70.00 % (with waivers 81.25 %)"), "{email}");
        assert!(email.lines().any(|l| l.contains("bucket-1") && l.ends_with("(waived: W-1)")), "{email}");
        assert!(email.contains("- W-1 (storage@example.com), expires 2026-12-20") && email.contains("Expired waivers still in the waiver file: 1."), "{email}");
        let buckets = buckets_in_lambda_message(doc["lambda"].as_str().unwrap()).unwrap();
        assert_eq!(buckets, ["arn:aws:s3:::bucket-2"], "the waived bucket is an accepted risk, not a remediation");
        assert!(WaiverNotes::from_report_head(&json!({"input": {"waivers": null}}), false, Vec::new()).is_none());
        let on_waived = WaiverNotes { alert_on_score_with_waivers: true, ..notes };
        let a = build(&AlertInput { summary: &summary, scan_id: "s", generated_at: "t", account: "123456789012", region: "us-east-1", report: &report, failing: &failing, waivers: Some(&on_waived) });
        assert!(a.message.contains("Compliance score with waivers 81.25 % is below the threshold of 70.00 % (score without waivers 62.40 %)"));
    }

    #[test]
    fn message_has_one_entry_per_protocol_and_sorts_by_severity() {
        let a = alert(&[finding(1, Severity::High, 0), finding(2, Severity::Critical, 0)]);
        let doc: Value = serde_json::from_str(&a.message).unwrap();
        let email = doc["email"].as_str().unwrap();
        assert!(email.contains("62.40 % is below the threshold of 70.00 %"));
        assert!(email.find("[CRITICAL]").unwrap() < email.find("[HIGH]").unwrap());
        assert_eq!(doc["default"], doc["email"]);
        let buckets = buckets_in_lambda_message(doc["lambda"].as_str().unwrap()).unwrap();
        assert_eq!(buckets, ["arn:aws:s3:::bucket-1", "arn:aws:s3:::bucket-2"]);
        assert_eq!((a.severity, a.score.as_str()), ("CRITICAL", "62.40"));
        assert!(a.subject.len() < 100 && a.subject.is_ascii());
    }

    #[test]
    fn huge_alerts_are_cut_to_fit_and_say_so() {
        let failing: Vec<Finding> = (0..20_000).map(|i| finding(i, Severity::Low, 40)).collect();
        let a = alert(&failing);
        assert!(a.message.len() <= MAX_MESSAGE_BYTES, "{}", a.message.len());
        assert!(a.buckets_omitted > 0 && a.findings_omitted > 0);
        let doc: Value = serde_json::from_str(&a.message).unwrap();
        let lambda: Value = serde_json::from_str(doc["lambda"].as_str().unwrap()).unwrap();
        assert_eq!(lambda["remediable_buckets_omitted"].as_u64().unwrap() as usize, a.buckets_omitted);
        assert!(doc["email"].as_str().unwrap().contains(&format!("and {} more in the report", a.findings_omitted)));
    }
}
