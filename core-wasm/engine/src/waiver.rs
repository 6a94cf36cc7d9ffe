//! Waivers — accepted risks (SPEC §11). A waiver file is written by people, versioned with the
//! product's configuration, and is an input of the scan like the Config data: it is parsed and
//! validated here, inside the component, so that `verify` replays exactly what the scan did.
//!
//! A waiver never hides a finding and never changes `score_bp`: a waived NON_COMPLIANT finding
//! keeps its status, is marked, and counts as COMPLIANT in `score_with_waivers_bp` only.
//! Whether a waiver is in force is decided at the report's `generated_at`, never on a clock.

use sha2::{Digest, Sha256};
use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::Marker;

use crate::error::ScanError;
use crate::item::{epoch_days, parse_iso8601_us};
use crate::report::hex;
use crate::rules::{RuleIndex, rule_index};
#[cfg(test)]
use crate::rules::rule;

/// Largest waiver file accepted.
pub const MAX_FILE_BYTES: usize = 4 << 20;
/// Most waivers in one file.
pub const MAX_WAIVERS: usize = 10_000;
/// A waiver may be approved for at most this many days.
pub const MAX_VALIDITY_DAYS: i64 = 366;
/// Waivers expiring within this many days of the scan are listed as expiring soon.
pub const EXPIRING_SOON_DAYS: i64 = 30;

/// What a waiver covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// One resource: its ARN, or `type/id` for resources without one.
    Resource(String),
    /// Every resource of an account.
    Account(String),
}

/// One validated waiver.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Waiver {
    /// Unique within the file.
    pub id: String,
    /// The rule it waives.
    pub rule: RuleIndex,
    /// What it covers.
    pub scope: Scope,
    /// Why the risk is accepted.
    pub reason: String,
    /// Who owns the risk.
    pub owner: String,
    /// Who approved it.
    pub approved_by: String,
    /// `YYYY-MM-DD`.
    pub approved_on: String,
    /// The change or risk ticket.
    pub ticket: String,
    /// `YYYY-MM-DD`: the waiver ends at 00:00 UTC of this date.
    pub expires: String,
    /// Days since 1970-01-01 of `expires`.
    expires_day: i64,
}

impl Waiver {
    /// Whether the waiver covers this finding's resource.
    pub fn covers(&self, arn: Option<&str>, resource_type: &str, resource_id: &str, account_id: &str) -> bool {
        match &self.scope {
            Scope::Account(account) => account == account_id,
            Scope::Resource(key) => {
                arn == Some(key.as_str())
                    || key.strip_prefix(resource_type).and_then(|rest| rest.strip_prefix('/')).is_some_and(|id| id == resource_id)
            }
        }
    }

    /// Microseconds since the epoch at which the waiver ends.
    fn end_us(&self) -> i64 {
        self.expires_day * 86_400_000_000
    }
}

/// A validated waiver file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WaiverFile {
    /// The name the host gave (a path or an S3 key).
    pub name: String,
    /// sha256 (hex) of the file's bytes.
    pub sha256: String,
    /// Size of the file.
    pub bytes: u64,
    /// The waivers, in file order.
    pub waivers: Vec<Waiver>,
}

/// Where a waiver stands at the scan's `generated_at`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WaiverState {
    /// In force.
    Active,
    /// Its `expires` date has begun.
    Expired,
}

impl WaiverState {
    /// Lower-case name used in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            WaiverState::Active => "active",
            WaiverState::Expired => "expired",
        }
    }
}

/// A waiver as the scan found it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WaiverUse {
    /// The waiver.
    pub waiver: Waiver,
    /// Active or expired at `generated_at`.
    pub state: WaiverState,
    /// Active, and ends within [`EXPIRING_SOON_DAYS`] of `generated_at`.
    pub expiring_soon: bool,
    /// Findings of its rule on the resources it covers, of any status.
    pub matched_findings: u64,
    /// NON_COMPLIANT findings it waives (it is active and the first waiver covering them).
    pub waived_findings: u64,
}

/// The waivers of a finished scan.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WaiverReport {
    /// The file, when the scan had one.
    pub file: Option<(String, String, u64)>,
    /// Every waiver of the file, in file order.
    pub waivers: Vec<WaiverUse>,
    /// Indices into `waivers` by rule index, so a finding is matched against its rule's only.
    by_rule: Vec<Vec<usize>>,
}

impl WaiverReport {
    /// Active waivers.
    pub fn active(&self) -> impl Iterator<Item = &WaiverUse> {
        self.waivers.iter().filter(|w| w.state == WaiverState::Active)
    }

    /// Expired waivers.
    pub fn expired(&self) -> impl Iterator<Item = &WaiverUse> {
        self.waivers.iter().filter(|w| w.state == WaiverState::Expired)
    }

    /// Active waivers ending within 30 days.
    pub fn expiring_soon(&self) -> impl Iterator<Item = &WaiverUse> {
        self.waivers.iter().filter(|w| w.expiring_soon)
    }

    /// Waivers that matched no finding at all: a typo, or a resource that is gone.
    pub fn unmatched(&self) -> impl Iterator<Item = &WaiverUse> {
        self.waivers.iter().filter(|w| w.matched_findings == 0)
    }

    /// NON_COMPLIANT findings waived.
    pub fn waived_findings(&self) -> u64 {
        self.waivers.iter().map(|w| w.waived_findings).sum()
    }
}

/// Decides which waivers are in force at `generated_at`. Matching against findings happens
/// while the scan resolves them ([`WaiverReport::waiver_for`]).
pub fn evaluate(file: Option<&WaiverFile>, generated_at: &str) -> Result<WaiverReport, ScanError> {
    let Some(file) = file else {
        return Ok(WaiverReport::default());
    };
    let now = parse_iso8601_us(generated_at)
        .filter(|_| !generated_at.is_empty())
        .ok_or_else(|| ScanError::InvalidOption(format!("generated_at `{generated_at}` is not an ISO-8601 timestamp; waivers are judged at it")))?;
    let waivers = file
        .waivers
        .iter()
        .map(|w| {
            let active = now < w.end_us();
            WaiverUse {
                waiver: w.clone(),
                state: if active { WaiverState::Active } else { WaiverState::Expired },
                expiring_soon: active && w.end_us() - now <= EXPIRING_SOON_DAYS * 86_400_000_000,
                matched_findings: 0,
                waived_findings: 0,
            }
        })
        .collect();
    let mut by_rule: Vec<Vec<usize>> = vec![Vec::new(); crate::rules::RULES.len()];
    for (i, w) in file.waivers.iter().enumerate() {
        if let Some(list) = by_rule.get_mut(usize::from(w.rule)) {
            list.push(i);
        }
    }
    Ok(WaiverReport { file: Some((file.name.clone(), file.sha256.clone(), file.bytes)), waivers, by_rule })
}

impl WaiverReport {
    /// Records a finding against the waivers; returns the index of the waiver that waives it:
    /// the finding is NON_COMPLIANT and an active waiver covers it (a resource waiver before an
    /// account-wide one, then file order).
    #[inline]
    pub fn waiver_for(&mut self, rule_index: RuleIndex, non_compliant: bool, arn: Option<&str>, resource_type: &str, resource_id: &str, account_id: &str) -> Option<usize> {
        // Most scans have no waivers: decided here, without a call per finding.
        if self.waivers.is_empty() {
            return None;
        }
        self.matching_waiver(rule_index, non_compliant, arn, resource_type, resource_id, account_id)
    }

    fn matching_waiver(&mut self, rule_index: RuleIndex, non_compliant: bool, arn: Option<&str>, resource_type: &str, resource_id: &str, account_id: &str) -> Option<usize> {
        let mut chosen: Option<(bool, usize)> = None;
        for &i in self.by_rule.get(usize::from(rule_index))? {
            let Some(w) = self.waivers.get_mut(i) else { continue };
            if !w.waiver.covers(arn, resource_type, resource_id, account_id) {
                continue;
            }
            w.matched_findings += 1;
            if non_compliant && w.state == WaiverState::Active {
                let account_wide = matches!(w.waiver.scope, Scope::Account(_));
                if chosen.is_none_or(|(wide, _)| wide && !account_wide) {
                    chosen = Some((account_wide, i));
                }
            }
        }
        let (_, index) = chosen?;
        if let Some(w) = self.waivers.get_mut(index) {
            w.waived_findings += 1;
        }
        Some(index)
    }
}

/// Parses and validates a waiver file (YAML, or JSON — which YAML 1.2 reads as well).
pub fn parse(name: &str, bytes: &[u8]) -> Result<WaiverFile, ScanError> {
    let fail = |message: String| ScanError::InvalidWaivers { file: name.to_owned(), message };
    if bytes.len() > MAX_FILE_BYTES {
        return Err(fail(format!("the file is {} bytes; at most {MAX_FILE_BYTES} are accepted", bytes.len())));
    }
    let text = std::str::from_utf8(bytes).map_err(|e| fail(format!("not UTF-8 text (byte {})", e.valid_up_to())))?;
    let root = read_yaml(text).map_err(fail)?;
    let Node::Map(top, _) = root else {
        return Err(fail(format!("{}: expected a mapping with a `waivers` list", root.describe())));
    };
    let mut list = None;
    for (key, value, line) in top {
        match key.as_str() {
            "waivers" => list = Some(value),
            other => return Err(fail(format!("line {line}: unknown top-level key `{other}` (the file holds a `waivers` list)"))),
        }
    }
    let entries = match list {
        Some(Node::Seq(entries, _)) => entries,
        Some(Node::Scalar(ref s, _)) if s.is_empty() => Vec::new(),
        Some(other) => return Err(fail(format!("`waivers` must be a list, not {}", other.describe()))),
        None => return Err(fail("no `waivers` list (an empty file of waivers is `waivers: []`)".to_owned())),
    };
    if entries.len() > MAX_WAIVERS {
        return Err(fail(format!("{} waivers; at most {MAX_WAIVERS} are accepted", entries.len())));
    }
    let mut waivers: Vec<Waiver> = Vec::with_capacity(entries.len());
    // id → (entry number, line) of its first use.
    let mut seen: std::collections::BTreeMap<String, (usize, usize)> = std::collections::BTreeMap::new();
    for (index, entry) in entries.into_iter().enumerate() {
        let line = entry.line();
        let waiver = waiver(entry).map_err(|(id, field, message)| {
            let id = id.map(|id| format!(" (id `{id}`)")).unwrap_or_default();
            let field = field.map(|f| format!(", field `{f}`")).unwrap_or_default();
            fail(format!("entry {}{id} at line {line}{field}: {message}", index + 1))
        })?;
        if let Some((earlier, earlier_line)) = seen.get(&waiver.id) {
            return Err(fail(format!(
                "entry {} (id `{}`) at line {line}, field `id`: the id is already used by entry {earlier} at line {earlier_line}; ids must be unique",
                index + 1,
                waiver.id
            )));
        }
        seen.insert(waiver.id.clone(), (index + 1, line));
        waivers.push(waiver);
    }
    Ok(WaiverFile { name: name.to_owned(), sha256: hex(&Sha256::digest(bytes)), bytes: bytes.len() as u64, waivers })
}

const FIELDS: [&str; 10] = ["id", "rule", "resource", "account", "reason", "owner", "approved_by", "approved_on", "ticket", "expires"];

/// (the entry's id when known, the field, the message).
type EntryError = (Option<String>, Option<&'static str>, String);

fn waiver(entry: Node) -> Result<Waiver, EntryError> {
    let Node::Map(fields, _) = entry else {
        return Err((None, None, format!("{}: each waiver is a mapping of {}", entry.describe(), FIELDS.join(", "))));
    };
    let mut values: [Option<String>; 10] = Default::default();
    for (key, value, line) in fields {
        let Some(slot) = FIELDS.iter().position(|f| *f == key) else {
            return Err((None, None, format!("line {line}: unknown field `{key}` (the fields are {})", FIELDS.join(", "))));
        };
        let Node::Scalar(text, _) = value else {
            return Err((None, FIELDS.get(slot).copied(), format!("{}: expected text", value.describe())));
        };
        if let Some(v) = values.get_mut(slot) {
            *v = Some(text);
        }
    }
    let [id, rule_id, resource, account, reason, owner, approved_by, approved_on, ticket, expires] = values;
    let id = required(id, "id", None)?;
    let known = Some(id.clone());
    let text = |value: Option<String>, field: &'static str| required(value, field, known.clone());
    let rule_id = text(rule_id, "rule")?;
    let rule = rule_index(&rule_id).ok_or_else(|| (known.clone(), Some("rule"), format!("`{rule_id}` is not a rule of the pack (`compliance rules` lists them)")))?;
    let scope = match (resource, account) {
        (Some(_), Some(_)) => return Err((known, Some("account"), "give `resource` or `account`, not both".to_owned())),
        (None, None) => return Err((known, Some("resource"), "missing: give `resource` (an ARN, or type/id) or `account` (every resource of it)".to_owned())),
        (Some(resource), None) => {
            let resource = text(Some(resource), "resource")?;
            let is_type_id = resource.starts_with("AWS::") && resource.split_once('/').is_some_and(|(t, id)| t.matches("::").count() == 2 && !id.is_empty());
            if !resource.starts_with("arn:") && !is_type_id {
                return Err((known, Some("resource"), format!("`{resource}` is neither an ARN (`arn:…`) nor `AWS::Service::Type/resource-id`")));
            }
            Scope::Resource(resource)
        }
        (None, Some(account)) => {
            let account = text(Some(account), "account")?;
            if account.len() != 12 || !account.bytes().all(|b| b.is_ascii_digit()) {
                return Err((known, Some("account"), format!("`{account}` is not a 12-digit AWS account id")));
            }
            Scope::Account(account)
        }
    };
    let reason = text(reason, "reason")?;
    let owner = text(owner, "owner")?;
    let approved_by = text(approved_by, "approved_by")?;
    let ticket = text(ticket, "ticket")?;
    let approved_on = text(approved_on, "approved_on")?;
    let approved_day = date(&approved_on).ok_or_else(|| (known.clone(), Some("approved_on"), format!("`{approved_on}` is not a date (YYYY-MM-DD)")))?;
    let expires = text(expires, "expires")?;
    let expires_day = date(&expires).ok_or_else(|| (known.clone(), Some("expires"), format!("`{expires}` is not a date (YYYY-MM-DD)")))?;
    if expires_day <= approved_day {
        return Err((known, Some("expires"), format!("{expires} is not after approved_on {approved_on}")));
    }
    if expires_day - approved_day > MAX_VALIDITY_DAYS {
        return Err((
            known,
            Some("expires"),
            format!("{expires} is {} days after approved_on {approved_on}; a waiver lasts at most {MAX_VALIDITY_DAYS} days", expires_day - approved_day),
        ));
    }
    Ok(Waiver { id, rule, scope, reason, owner, approved_by, approved_on, ticket, expires, expires_day })
}

fn required(value: Option<String>, field: &'static str, id: Option<String>) -> Result<String, EntryError> {
    match value {
        Some(v) if !v.trim().is_empty() => Ok(v.trim().to_owned()),
        Some(_) => Err((id, Some(field), "empty".to_owned())),
        None => Err((id, Some(field), "missing (every field is required)".to_owned())),
    }
}

/// `YYYY-MM-DD` as days since 1970-01-01; `None` unless it is a real calendar date.
fn date(text: &str) -> Option<i64> {
    let bytes = text.as_bytes();
    if bytes.len() != 10 || bytes.get(4) != Some(&b'-') || bytes.get(7) != Some(&b'-') {
        return None;
    }
    let number = |range: std::ops::Range<usize>| text.get(range).filter(|s| s.bytes().all(|b| b.is_ascii_digit())).and_then(|s| s.parse::<i64>().ok());
    let (year, month, day) = (number(0..4)?, number(5..7)?, number(8..10)?);
    let days = epoch_days(year, month, day)?;
    // epoch_days accepts 31 for every month: a real date comes back unchanged from the next day.
    let next_month = if month == 12 { epoch_days(year + 1, 1, 1)? } else { epoch_days(year, month + 1, 1)? };
    (days < next_month).then_some(days)
}

/// A parsed YAML node: every scalar is text (all waiver fields are), with its line.
#[derive(Debug)]
enum Node {
    Scalar(String, usize),
    Seq(Vec<Node>, usize),
    Map(Vec<(String, Node, usize)>, usize),
}

impl Node {
    fn line(&self) -> usize {
        match self {
            Node::Scalar(_, line) | Node::Seq(_, line) | Node::Map(_, line) => *line,
        }
    }

    fn describe(&self) -> String {
        match self {
            Node::Scalar(text, line) if text.is_empty() => format!("line {line}: an empty value"),
            Node::Scalar(text, line) => format!("line {line}: the text `{}`", text.chars().take(40).collect::<String>()),
            Node::Seq(_, line) => format!("line {line}: a list"),
            Node::Map(_, line) => format!("line {line}: a mapping"),
        }
    }
}

/// Builds [`Node`]s from the parser's events; refuses what a waiver file never needs (aliases,
/// several documents, duplicate keys, keys that are not text).
#[derive(Default)]
struct Builder {
    /// Open lists and mappings; a mapping also holds the key waiting for its value.
    stack: Vec<(Node, Option<(String, usize)>)>,
    documents: Vec<Node>,
    error: Option<String>,
}

impl Builder {
    fn push_value(&mut self, node: Node) {
        let Some((parent, pending_key)) = self.stack.last_mut() else {
            self.documents.push(node);
            return;
        };
        match parent {
            Node::Seq(items, _) => items.push(node),
            Node::Map(entries, _) => match pending_key.take() {
                Some((key, line)) => {
                    if entries.iter().any(|(k, _, _)| *k == key) {
                        self.error.get_or_insert(format!("line {line}: the key `{key}` appears twice in one mapping"));
                    }
                    entries.push((key, node, line));
                }
                None => match node {
                    Node::Scalar(key, line) => *pending_key = Some((key, line)),
                    other => {
                        self.error.get_or_insert(format!("{}: used as a key; keys are field names", other.describe()));
                    }
                },
            },
            Node::Scalar(..) => {}
        }
    }
}

impl MarkedEventReceiver for Builder {
    fn on_event(&mut self, event: Event, mark: Marker) {
        if self.error.is_some() {
            return;
        }
        let line = mark.line();
        match event {
            Event::Scalar(text, style, _, _) => {
                // Plain `~` and `null` are YAML's null: a value that is not there.
                let null = matches!(style, yaml_rust2::scanner::TScalarStyle::Plain) && matches!(text.as_str(), "~" | "null" | "Null" | "NULL");
                self.push_value(Node::Scalar(if null { String::new() } else { text }, line));
            }
            Event::SequenceStart(..) => self.stack.push((Node::Seq(Vec::new(), line), None)),
            Event::MappingStart(..) => self.stack.push((Node::Map(Vec::new(), line), None)),
            Event::SequenceEnd | Event::MappingEnd => {
                if let Some((node, _)) = self.stack.pop() {
                    self.push_value(node);
                }
            }
            Event::Alias(_) => self.error = Some(format!("line {line}: anchors and aliases are not supported in waiver files; write each waiver out")),
            Event::Nothing | Event::StreamStart | Event::StreamEnd | Event::DocumentStart | Event::DocumentEnd => {}
        }
    }
}

fn read_yaml(text: &str) -> Result<Node, String> {
    let mut builder = Builder::default();
    let mut parser = Parser::new_from_str(text);
    parser
        .load(&mut builder, true)
        .map_err(|e| format!("not YAML or JSON: line {}, column {}: {}", e.marker().line(), e.marker().col(), e.info()))?;
    if let Some(error) = builder.error {
        return Err(error);
    }
    let mut documents = builder.documents.into_iter();
    match (documents.next(), documents.next()) {
        (Some(root), None) => Ok(root),
        (None, _) => Err("the file is empty (an empty file of waivers is `waivers: []`)".to_owned()),
        (Some(_), Some(second)) => Err(format!("line {}: a second YAML document; the file holds one", second.line())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ONE: &str = "waivers:
  - id: W-1
    rule: s3-bucket-sse-kms
    resource: arn:aws:s3:::legacy-bucket
    reason: Legacy archive, migration in PRJ-12
    owner: storage-team@example.com
    approved_by: ciso@example.com
    approved_on: 2026-06-01
    ticket: RISK-101
    expires: 2027-01-01
";

    fn message(bytes: &str) -> String {
        parse("waivers.yaml", bytes.as_bytes()).expect_err("invalid").to_string()
    }

    #[test]
    fn a_valid_file_in_yaml_and_in_json() {
        let yaml = parse("waivers.yaml", ONE.as_bytes()).expect("valid");
        assert_eq!(yaml.waivers.len(), 1);
        let w = yaml.waivers.first().expect("one");
        assert_eq!((w.id.as_str(), rule(w.rule).id, w.expires.as_str()), ("W-1", "s3-bucket-sse-kms", "2027-01-01"));
        assert_eq!(w.scope, Scope::Resource("arn:aws:s3:::legacy-bucket".to_owned()));
        let json = r#"{"waivers": [{"id": "W-1", "rule": "s3-bucket-sse-kms", "resource": "arn:aws:s3:::legacy-bucket",
            "reason": "Legacy archive, migration in PRJ-12", "owner": "storage-team@example.com", "approved_by": "ciso@example.com",
            "approved_on": "2026-06-01", "ticket": "RISK-101", "expires": "2027-01-01"}]}"#;
        assert_eq!(parse("waivers.json", json.as_bytes()).expect("valid").waivers, yaml.waivers);
        assert_eq!(yaml.sha256, hex(&Sha256::digest(ONE.as_bytes())));
        assert!(parse("w.yaml", b"waivers: []\n").expect("empty list").waivers.is_empty());
    }

    #[test]
    fn every_mistake_names_the_file_the_entry_and_the_field() {
        let cases = [
            (ONE.replace("    owner: storage-team@example.com\n", ""), "entry 1 (id `W-1`) at line 2, field `owner`: missing"),
            (ONE.replace("s3-bucket-sse-kms", "s3-kms"), "field `rule`: `s3-kms` is not a rule of the pack"),
            (ONE.replace("2027-01-01", "2027-02-30"), "field `expires`: `2027-02-30` is not a date (YYYY-MM-DD)"),
            (ONE.replace("2027-01-01", "01/01/2027"), "field `expires`: `01/01/2027` is not a date"),
            (ONE.replace("2027-01-01", "2027-06-03"), "field `expires`: 2027-06-03 is 367 days after approved_on 2026-06-01"),
            (ONE.replace("2027-01-01", "2026-06-01"), "field `expires`: 2026-06-01 is not after approved_on"),
            (ONE.replace("resource: arn:aws:s3:::legacy-bucket", "account: '12345'"), "field `account`: `12345` is not a 12-digit"),
            (ONE.replace("resource: arn:aws:s3:::legacy-bucket", "resource: legacy-bucket"), "field `resource`: `legacy-bucket` is neither an ARN"),
            (ONE.replace("    resource: arn:aws:s3:::legacy-bucket\n", ""), "field `resource`: missing"),
            (ONE.replace("    ticket: RISK-101\n", "    ticket: RISK-101\n    account: '123456789012'\n"), "field `account`: give `resource` or `account`, not both"),
            (ONE.replace("ticket:", "tikcet:"), "entry 1 at line 2: line 9: unknown field `tikcet`"),
            (ONE.replace("ticket: RISK-101", "ticket: ~"), "field `ticket`: empty"),
            (format!("{ONE}{}", ONE.replace("waivers:\n", "")), "entry 2 (id `W-1`) at line 11, field `id`: the id is already used by entry 1 at line 2"),
            (ONE.replace("    ticket: RISK-101\n", "    ticket: RISK-101\n    ticket: RISK-102\n"), "line 10: the key `ticket` appears twice"),
            ("waivers: [\n  {id: W-1,\n".to_owned(), "not YAML or JSON: line"),
            ("- just a list\n".to_owned(), "expected a mapping with a `waivers` list"),
            ("exceptions: []\n".to_owned(), "unknown top-level key `exceptions`"),
            ("waivers: all\n".to_owned(), "`waivers` must be a list"),
            ("".to_owned(), "the file is empty"),
            ("waivers: []\n---\nwaivers: []\n".to_owned(), "a second YAML document"),
            ("waivers:\n  - &a {id: W}\n  - *a\n".to_owned(), "aliases are not supported"),
        ];
        for (file, expected) in cases {
            let got = message(&file);
            assert!(got.starts_with("waivers.yaml: invalid waiver file: "), "{got}");
            assert!(got.contains(expected), "expected `{expected}` in `{got}`");
        }
        assert!(parse("w.yaml", &[0xff, 0xfe]).expect_err("binary").to_string().contains("not UTF-8"));
    }

    #[test]
    fn a_waiver_ends_at_midnight_utc_of_its_expiry_date() {
        let file = parse("waivers.yaml", ONE.as_bytes()).expect("valid");
        let state = |at: &str| {
            let report = evaluate(Some(&file), at).expect("evaluates");
            let w = report.waivers.first().expect("one").clone();
            (w.state, w.expiring_soon)
        };
        assert_eq!(state("2026-12-31T23:59:59Z"), (WaiverState::Active, true));
        assert_eq!(state("2027-01-01T00:00:00Z"), (WaiverState::Expired, false));
        assert_eq!(state("2026-12-02T00:00:00Z"), (WaiverState::Active, true), "exactly 30 days before");
        assert_eq!(state("2026-12-01T23:59:59Z"), (WaiverState::Active, false), "a second more than 30 days");
        assert!(evaluate(Some(&file), "yesterday").is_err());
        assert_eq!(evaluate(None, "").expect("no file"), WaiverReport::default());
    }

    #[test]
    fn resource_and_account_scopes_cover_what_they_say() {
        let file = parse("waivers.yaml", ONE.as_bytes()).expect("valid");
        let w = file.waivers.first().expect("one");
        assert!(w.covers(Some("arn:aws:s3:::legacy-bucket"), "AWS::S3::Bucket", "legacy-bucket", "111122223333"));
        assert!(!w.covers(Some("arn:aws:s3:::legacy-bucket-2"), "AWS::S3::Bucket", "legacy-bucket-2", "111122223333"));
        let by_id = Waiver { scope: Scope::Resource("AWS::EC2::SecurityGroup/sg-1".to_owned()), ..w.clone() };
        assert!(by_id.covers(None, "AWS::EC2::SecurityGroup", "sg-1", "1"));
        assert!(!by_id.covers(None, "AWS::EC2::SecurityGroup", "sg-10", "1"));
        assert!(!by_id.covers(None, "AWS::EC2::SecurityGroupX", "sg-1", "1"));
        let account = Waiver { scope: Scope::Account("111122223333".to_owned()), ..w.clone() };
        assert!(account.covers(None, "AWS::S3::Bucket", "anything", "111122223333"));
        assert!(!account.covers(None, "AWS::S3::Bucket", "anything", "444455556666"));
    }

    /// A snapshot of `n` volumes and buckets in two accounts, encrypted or not, of mixed
    /// criticality, from a seed.
    fn snapshot(seed: &mut u64, n: usize) -> String {
        let mut items = Vec::new();
        for i in 0..n {
            let r = next(seed);
            let account = if r & 1 == 0 { "111122223333" } else { "444455556666" };
            let criticality = ["low", "medium", "high", "critical"][(r >> 1) as usize % 4];
            let encrypted = (r >> 3) & 1 == 0;
            items.push(if (r >> 4) & 1 == 0 {
                format!(r#"{{"resourceType": "AWS::EC2::Volume", "resourceId": "vol-{i}", "awsAccountId": "{account}", "awsRegion": "eu-west-1",
                    "tags": {{"Criticality": "{criticality}"}}, "configuration": {{"encrypted": {encrypted}}}}}"#)
            } else {
                format!(r#"{{"resourceType": "AWS::S3::Bucket", "resourceId": "b-{i}", "ARN": "arn:aws:s3:::b-{i}", "awsAccountId": "{account}",
                    "awsRegion": "eu-west-1", "tags": {{"Criticality": "{criticality}"}}, "configuration": {{}}, "supplementaryConfiguration": {{}}}}"#)
            });
        }
        format!(r#"{{"configurationItems": [{}]}}"#, items.join(","))
    }

    fn next(seed: &mut u64) -> u64 {
        *seed ^= *seed << 13;
        *seed ^= *seed >> 7;
        *seed ^= *seed << 17;
        *seed
    }

    /// Random waivers on those resources (some on resources that do not exist, some account-wide,
    /// some expired at the scan's time).
    fn waiver_file(seed: &mut u64, n: usize, resources: usize) -> String {
        let rules = ["ec2-volume-encrypted", "s3-bucket-sse-kms", "s3-bucket-versioning-enabled", "s3-bucket-logging-enabled"];
        let mut out = String::from("waivers:\n");
        for i in 0..n {
            let r = next(seed);
            let rule = rules[r as usize % rules.len()];
            let target = (r >> 8) as usize % (resources + 2);
            let scope = match (r >> 20) % 5 {
                0 => "account: '111122223333'".to_owned(),
                _ if rule.starts_with("ec2") => format!("resource: AWS::EC2::Volume/vol-{target}"),
                _ => format!("resource: arn:aws:s3:::b-{target}"),
            };
            let expires = if (r >> 30).is_multiple_of(3) { "2026-11-30" } else { "2027-03-01" };
            out.push_str(&format!(
                "  - {{id: W-{i}, rule: {rule}, {scope}, reason: r, owner: o, approved_by: a, approved_on: 2026-06-01, ticket: T-{i}, expires: {expires}}}\n"
            ));
        }
        out
    }

    fn scan(snapshot: &str, waivers: Option<&str>) -> crate::ScoreReport {
        let mut scan = crate::Scan::new(crate::ScanOptions::default()).expect("options");
        if let Some(waivers) = waivers {
            scan.set_waivers("waivers.yaml", waivers.as_bytes()).expect("valid waivers");
        }
        scan.begin_source("s.json").expect("begin");
        scan.feed(snapshot.as_bytes()).expect("feed");
        scan.end_source().expect("end");
        scan.finish(crate::ReportMeta { generated_at: "2026-12-01T10:00:00Z".to_owned(), ..Default::default() }).expect("finish")
    }

    #[test]
    fn waivers_never_change_score_bp_or_a_status_and_only_raise_the_score_with_waivers() {
        use crate::Status;
        let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
        for round in 0..60 {
            let resources = 1 + (next(&mut seed) % 40) as usize;
            let snapshot = snapshot(&mut seed, resources);
            let count = (next(&mut seed) % 12) as usize;
            let waivers = waiver_file(&mut seed, count, resources);
            let plain = scan(&snapshot, None);
            let waived = scan(&snapshot, Some(&waivers));
            assert_eq!(plain.score_with_waivers_bp(), plain.score_bp, "round {round}: no waivers, one score");
            assert_eq!((waived.score_bp, waived.tally), (plain.score_bp, plain.tally), "round {round}: score_bp unchanged");
            assert!(waived.score_with_waivers_bp() >= waived.score_bp, "round {round}");
            let statuses = |r: &crate::ScoreReport| r.findings().map(|(_, f)| f.status).collect::<Vec<_>>();
            assert_eq!(statuses(&waived), statuses(&plain), "round {round}: no finding hidden or changed");
            // The sums recomputed from the marked findings.
            let mut expected = crate::score::Tally::default();
            for (r, f) in waived.findings() {
                assert!(f.waiver.is_none() || f.status == Status::NonCompliant, "round {round}: only NON_COMPLIANT is waived");
                let w = crate::score::weight(f.severity(), r.criticality);
                expected.add(if f.waiver.is_some() { Status::Compliant } else { f.status }, w);
            }
            assert_eq!(expected, waived.tally_with_waivers, "round {round}");
            let marked = waived.findings().filter(|(_, f)| f.waiver.is_some()).count() as u64;
            assert_eq!(marked, waived.waivers.waived_findings(), "round {round}");
            if waived.waivers.active().all(|w| w.waived_findings == 0) {
                assert_eq!(waived.score_with_waivers_bp(), waived.score_bp, "round {round}: nothing waived, equal scores");
            }
            assert!(waived.waivers.expired().all(|w| w.waived_findings == 0), "round {round}: an expired waiver waives nothing");
        }
    }

    #[test]
    fn a_resource_waiver_wins_over_an_account_wide_one_and_lists_are_exact() {
        let snapshot = r#"{"configurationItems": [
            {"resourceType": "AWS::EC2::Volume", "resourceId": "vol-1", "awsAccountId": "111122223333", "awsRegion": "eu-west-1", "configuration": {"encrypted": false}},
            {"resourceType": "AWS::EC2::Volume", "resourceId": "vol-2", "awsAccountId": "111122223333", "awsRegion": "eu-west-1", "configuration": {"encrypted": false}},
            {"resourceType": "AWS::EC2::Volume", "resourceId": "vol-3", "awsAccountId": "111122223333", "awsRegion": "eu-west-1", "configuration": {"encrypted": true}}]}"#;
        let common = "rule: ec2-volume-encrypted, reason: r, owner: o, approved_by: a, approved_on: 2026-06-01, ticket: T";
        let file = format!(
            "waivers:
  - {{id: ACCOUNT, account: '111122223333', {common}, expires: 2026-12-31}}
  - {{id: ONE, resource: AWS::EC2::Volume/vol-1, {common}, expires: 2027-03-01}}
  - {{id: OLD, resource: AWS::EC2::Volume/vol-2, {common}, expires: 2026-12-01}}
  - {{id: GONE, resource: AWS::EC2::Volume/vol-9, {common}, expires: 2027-03-01}}
"
        );
        let report = scan(snapshot, Some(&file));
        let by_id = |id: &str| report.waivers.waivers.iter().find(|w| w.waiver.id == id).expect("listed").clone();
        assert_eq!((by_id("ONE").waived_findings, by_id("ACCOUNT").waived_findings), (1, 1), "vol-1 by ONE, vol-2 by ACCOUNT");
        assert_eq!(by_id("ACCOUNT").matched_findings, 3, "the compliant vol-3 matches too");
        assert_eq!((by_id("OLD").state, by_id("OLD").waived_findings), (WaiverState::Expired, 0));
        let ids = |list: &mut dyn Iterator<Item = &WaiverUse>| list.map(|w| w.waiver.id.clone()).collect::<Vec<_>>();
        assert_eq!(ids(&mut report.waivers.expired()), ["OLD"]);
        assert_eq!(ids(&mut report.waivers.expiring_soon()), ["ACCOUNT"]);
        assert_eq!(ids(&mut report.waivers.unmatched()), ["GONE"]);
        assert_eq!((report.score_bp, report.score_with_waivers_bp()), (3333, 10_000));
        let json = String::from_utf8(crate::render::json::render(&report).expect("renders")).expect("utf-8");
        let parsed: serde_json::Value = serde_json::from_str(&json).expect("json");
        assert_eq!(parsed["score_with_waivers_bp"], 10_000);
        assert_eq!(parsed["input"]["waivers"]["sha256"], hex(&Sha256::digest(file.as_bytes())));
        assert_eq!(parsed["waivers"]["unmatched"], serde_json::json!(["GONE"]));
        assert_eq!(parsed["findings"][0]["waiver"], serde_json::json!({"id": "ONE", "owner": "o", "expires": "2027-03-01"}));
        assert_eq!(parsed["findings"][0]["status"], "NON_COMPLIANT");
        let csv = String::from_utf8(crate::render::csv::render(&report)).expect("utf-8");
        assert!(csv.lines().nth(1).is_some_and(|row| row.ends_with(",ONE,o,2027-03-01")), "{csv}");
        let table = String::from_utf8(crate::render::table::render(&report)).expect("utf-8");
        assert!(table.contains("Score with waivers: 100.00% (2 non-compliant findings waived by 3 active waivers of waivers.yaml)"), "{table}");
        assert!(table.contains("Waivers expired: OLD (o, 2026-12-01)") && table.contains("Waivers that matched no finding: GONE"), "{table}");
        let html = String::from_utf8(crate::render::html::render(&report, &[])).expect("utf-8");
        assert!(html.contains("id=\"waivers\"") && html.contains("waived: ONE · o · until 2027-03-01"), "HTML marks the finding");
    }

    #[test]
    fn calendar_dates_only() {
        assert_eq!(date("1970-01-01"), Some(0));
        assert_eq!(date("2028-02-29"), epoch_days(2028, 2, 29));
        for bad in ["2027-02-29", "2026-04-31", "2026-13-01", "2026-00-10", "2026-1-01", "+026-01-01", "2026-01-01T00:00:00Z"] {
            assert_eq!(date(bad), None, "{bad}");
        }
    }
}
