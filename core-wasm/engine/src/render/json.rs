//! The canonical JSON report (`compliance-report/v1`). Key order is fixed by the structs below
//! and finding order by the report, so identical inputs give identical bytes.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::value::RawValue;

use super::{PerResource, needs_escape, write_string};
use crate::report::{FindingWithId, GroupSummary, ResourceResult, ScoreReport, StatusCounts};
use crate::rules::{RULE_PACK_ID, RULE_PACK_VERSION, rule};
use crate::score::percent;
use crate::ENGINE_VERSION;

/// A score as a JSON number with exactly two decimals (`73.40`, not `73.4`).
pub(crate) struct Score(pub(crate) u32);

impl Serialize for Score {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let raw = RawValue::from_string(percent(self.0)).map_err(serde::ser::Error::custom)?;
        raw.serialize(serializer)
    }
}

#[derive(Serialize)]
struct Report<'a> {
    schema: &'static str,
    generated_at: &'a str,
    threshold: Score,
    threshold_bp: u32,
    score: Score,
    score_bp: u32,
    below_threshold: bool,
    weight_compliant: u64,
    weight_decided: u64,
    score_with_waivers: Score,
    score_with_waivers_bp: u32,
    weight_compliant_with_waivers: u64,
    engine: Engine<'a>,
    options: Options<'a>,
    input: Input<'a>,
    totals: Totals,
    by_severity: BySeverity,
    by_resource_type: BTreeMap<&'a str, GroupEntry>,
    by_account: BTreeMap<&'a str, GroupEntry>,
    by_region: BTreeMap<&'a str, GroupEntry>,
    by_account_region: Vec<AccountRegionEntry<'a>>,
    frameworks: Ordered<Ordered<RequirementEntry>>,
    waivers: Waivers<'a>,
    resources: Vec<Resource<'a>>,
    findings: Vec<Finding<'a>>,
}

/// The `engine` member of every report: this engine's identity and the component's digest.
#[derive(Serialize)]
pub(crate) struct Engine<'a> {
    version: &'static str,
    component_sha256: &'a str,
    rule_pack: RulePack,
}

impl<'a> Engine<'a> {
    pub(crate) fn new(component_sha256: &'a str) -> Self {
        Engine { version: ENGINE_VERSION, component_sha256, rule_pack: RulePack { id: RULE_PACK_ID, version: RULE_PACK_VERSION } }
    }
}

#[derive(Serialize)]
struct RulePack {
    id: &'static str,
    version: &'static str,
}

#[derive(Serialize)]
struct Options<'a> {
    criticality_tag: &'a str,
    required_tags: &'a [String],
}

#[derive(Serialize)]
struct Input<'a> {
    sha256: &'a str,
    items: u64,
    evaluated_resources: u64,
    skipped_resources: u64,
    superseded_items: u64,
    other_resources: &'a BTreeMap<String, u64>,
    notices: &'a [String],
    sources: Vec<Source<'a>>,
    /// The waiver file: part of the input, so `verify` needs the same one.
    waivers: Option<WaiverFileEntry<'a>>,
}

#[derive(Serialize)]
struct WaiverFileEntry<'a> {
    name: &'a str,
    sha256: &'a str,
    bytes: u64,
}

/// What the waivers did (SPEC §11): the lists a compliance officer acts on, then every waiver.
#[derive(Serialize)]
struct Waivers<'a> {
    active: u64,
    waived_findings: u64,
    expired: Vec<&'a str>,
    expiring_soon: Vec<&'a str>,
    unmatched: Vec<&'a str>,
    entries: Vec<WaiverEntry<'a>>,
}

#[derive(Serialize)]
struct WaiverEntry<'a> {
    id: &'a str,
    rule_id: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    resource: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    account: Option<&'a str>,
    reason: &'a str,
    owner: &'a str,
    approved_by: &'a str,
    approved_on: &'a str,
    ticket: &'a str,
    expires: &'a str,
    state: &'static str,
    expiring_soon: bool,
    matched_findings: u64,
    waived_findings: u64,
}

fn waivers(report: &ScoreReport) -> Waivers<'_> {
    let w = &report.waivers;
    Waivers {
        active: w.active().count() as u64,
        waived_findings: w.waived_findings(),
        expired: w.expired().map(|u| u.waiver.id.as_str()).collect(),
        expiring_soon: w.expiring_soon().map(|u| u.waiver.id.as_str()).collect(),
        unmatched: w.unmatched().map(|u| u.waiver.id.as_str()).collect(),
        entries: w
            .waivers
            .iter()
            .map(|u| {
                let (resource, account) = match &u.waiver.scope {
                    crate::waiver::Scope::Resource(r) => (Some(r.as_str()), None),
                    crate::waiver::Scope::Account(a) => (None, Some(a.as_str())),
                };
                WaiverEntry {
                    id: &u.waiver.id,
                    rule_id: rule(u.waiver.rule).id,
                    resource,
                    account,
                    reason: &u.waiver.reason,
                    owner: &u.waiver.owner,
                    approved_by: &u.waiver.approved_by,
                    approved_on: &u.waiver.approved_on,
                    ticket: &u.waiver.ticket,
                    expires: &u.waiver.expires,
                    state: u.state.as_str(),
                    expiring_soon: u.expiring_soon,
                    matched_findings: u.matched_findings,
                    waived_findings: u.waived_findings,
                }
            })
            .collect(),
    }
}

#[derive(Serialize)]
struct Source<'a> {
    name: &'a str,
    sha256: &'a str,
    bytes: u64,
    items: u64,
}

#[derive(Serialize)]
struct Totals {
    findings: u64,
    compliant: u64,
    non_compliant: u64,
    not_applicable: u64,
    insufficient_data: u64,
}

#[derive(Serialize)]
struct BySeverity {
    critical: SeverityCounts,
    high: SeverityCounts,
    medium: SeverityCounts,
    low: SeverityCounts,
}

#[derive(Serialize)]
struct SeverityCounts {
    compliant: u64,
    non_compliant: u64,
    not_applicable: u64,
    insufficient_data: u64,
}

/// One part of a breakdown, with the integer sums behind its score.
#[derive(Serialize)]
pub(crate) struct GroupEntry {
    score: Score,
    score_bp: u32,
    weight_compliant: u64,
    weight_decided: u64,
    resources: u64,
    non_compliant: u64,
}

impl GroupEntry {
    pub(crate) fn new(g: &GroupSummary) -> Self {
        GroupEntry {
            score: Score(g.score_bp()),
            score_bp: g.score_bp(),
            weight_compliant: g.tally.compliant,
            weight_decided: g.tally.decided,
            resources: g.resources,
            non_compliant: g.non_compliant,
        }
    }
}

/// A JSON object whose members keep the given order (requirements in natural order).
struct Ordered<T>(Vec<(&'static str, T)>);

impl<T: Serialize> Serialize for Ordered<T> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (key, value) in &self.0 {
            map.serialize_entry(key, value)?;
        }
        map.end()
    }
}

/// One requirement of a framework (SPEC §11).
#[derive(Serialize)]
struct RequirementEntry {
    status: &'static str,
    compliant: u64,
    non_compliant: u64,
    rules: Vec<&'static str>,
    /// Who says the rules evidence it: `aws`, `prowler`, `vendor-asserted`.
    basis: Vec<&'static str>,
}

fn frameworks(report: &ScoreReport) -> Ordered<Ordered<RequirementEntry>> {
    Ordered(
        crate::rules::frameworks::evaluate(report)
            .into_iter()
            .map(|(framework, requirements)| {
                let entries = requirements
                    .into_iter()
                    .map(|r| {
                        let entry = RequirementEntry {
                            status: r.status.as_str(),
                            compliant: r.compliant,
                            non_compliant: r.non_compliant,
                            rules: r.rules,
                            basis: r.sources.iter().map(|s| s.as_str()).collect(),
                        };
                        (r.id, entry)
                    })
                    .collect();
                (framework.id(), Ordered(entries))
            })
            .collect(),
    )
}

#[derive(Serialize)]
struct AccountRegionEntry<'a> {
    account_id: &'a str,
    region: &'a str,
    #[serde(flatten)]
    summary: GroupEntry,
}

/// A breakdown keyed by name.
fn groups(parts: &BTreeMap<String, GroupSummary>) -> BTreeMap<&str, GroupEntry> {
    parts.iter().map(|(name, g)| (name.as_str(), GroupEntry::new(g))).collect()
}

#[derive(Serialize)]
struct Resource<'a> {
    resource_type: &'a str,
    resource_id: &'a str,
    resource_name: Option<&'a str>,
    arn: Option<&'a str>,
    account_id: &'a str,
    region: &'a str,
    criticality: &'static str,
    score: Score,
    score_bp: u32,
    failed_rules: Vec<&'static str>,
}

#[derive(Serialize)]
struct Finding<'a> {
    id: String,
    rule_id: &'static str,
    resource_type: &'a str,
    resource_id: &'a str,
    account_id: &'a str,
    region: &'a str,
    status: &'static str,
    severity: &'static str,
    message: &'a str,
    path: &'a str,
    remediable: bool,
    /// Only on waived findings.
    #[serde(skip_serializing_if = "Option::is_none")]
    waiver: Option<FindingWaiver<'a>>,
}

#[derive(Serialize)]
struct FindingWaiver<'a> {
    id: &'a str,
    owner: &'a str,
    expires: &'a str,
}

#[cfg(test)]
fn resource(r: &ResourceResult) -> Resource<'_> {
    Resource {
        resource_type: &r.resource_type,
        resource_id: &r.resource_id,
        resource_name: r.resource_name.as_deref(),
        arn: r.arn.as_deref(),
        account_id: &r.account_id,
        region: &r.region,
        criticality: r.criticality.as_str(),
        score: Score(r.score_bp),
        score_bp: r.score_bp,
        failed_rules: r.failed_rules().collect(),
    }
}

fn counts(c: &StatusCounts) -> SeverityCounts {
    SeverityCounts { compliant: c.compliant, non_compliant: c.non_compliant, not_applicable: c.not_applicable, insufficient_data: c.insufficient_data }
}

/// Renders the report as pretty-printed JSON followed by a newline.
pub fn render(report: &ScoreReport) -> Result<Vec<u8>, serde_json::Error> {
    JsonPages::default().next_page(report, usize::MAX)
}

/// The JSON report rendered piece by piece, so that neither the engine nor a host ever holds the
/// whole text: a report of a million resources is gigabytes. The pieces concatenate to exactly
/// the bytes of [`render`] (which is one piece). The state holds positions, not borrows, so it
/// can live beside the report it renders.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JsonPages {
    stage: Stage,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
enum Stage {
    /// Everything before the first resource.
    #[default]
    Head,
    /// The next resource to render.
    Resources(usize),
    /// The next finding to render: resource index, finding index within it, findings so far.
    Findings { resource: usize, finding: usize, written: u64 },
    /// The closing brace.
    Tail,
    Done,
}

/// How the pretty printer ends a report whose resource and finding lists are empty; the head
/// of every report is its rendering with both lists empty, minus this.
const EMPTY_LISTS: &[u8] = b"\n  \"resources\": [],\n  \"findings\": []\n}";

impl JsonPages {
    /// Whether the last piece has been handed out.
    pub fn is_done(&self) -> bool {
        self.stage == Stage::Done
    }

    /// The next piece: at least `max_bytes` long unless it is the last one (one resource or
    /// finding more at most), empty once the report is complete.
    pub fn next_page(&mut self, report: &ScoreReport, max_bytes: usize) -> Result<Vec<u8>, serde_json::Error> {
        // A piece ends one element past `max_bytes`: room for that up front saves the piece
        // from being copied while it grows. A whole report starts small and grows.
        let capacity = if max_bytes == usize::MAX { 1 << 16 } else { max_bytes.saturating_add(1 << 16).min(64 << 20) };
        let mut out = Vec::with_capacity(capacity);
        // The findings of this page with their ids, digested in batches as the page goes.
        let mut ids = None;
        let mut fields = PerResource::default();
        while out.len() < max_bytes {
            match self.stage {
                Stage::Head => {
                    let head = serde_json::to_vec_pretty(&head_view(report))?;
                    let prefix = head.strip_suffix(EMPTY_LISTS).ok_or_else(|| serde::ser::Error::custom("the report head does not end with its lists"))?;
                    out.extend_from_slice(prefix);
                    out.extend_from_slice(b"\n  \"resources\": [");
                    self.stage = Stage::Resources(0);
                }
                Stage::Resources(index) => match report.resources.get(index) {
                    Some(r) => {
                        write_resource(&mut out, index == 0, r)?;
                        self.stage = Stage::Resources(index + 1);
                    }
                    None => {
                        out.extend_from_slice(if index == 0 { b"],\n  \"findings\": [" } else { b"\n  ],\n  \"findings\": [" });
                        self.stage = Stage::Findings { resource: 0, finding: 0, written: 0 };
                    }
                },
                Stage::Findings { resource, finding, written } => match ids.get_or_insert_with(|| report.findings_with_ids(resource, finding)).next() {
                    Some(f) => {
                        write_finding(&mut out, written == 0, report, &f, &mut fields)?;
                        self.stage = Stage::Findings { resource: f.position.0, finding: f.position.1 + 1, written: written + 1 };
                    }
                    None => {
                        out.extend_from_slice(if written == 0 { b"]" } else { b"\n  ]" });
                        self.stage = Stage::Tail;
                    }
                },
                Stage::Tail => {
                    out.extend_from_slice(b"\n}\n");
                    self.stage = Stage::Done;
                }
                Stage::Done => break,
            }
        }
        Ok(out)
    }
}

/// The separator before a field of an element of a top-level list, with its key: the comma
/// (unless it is the element's first field), the indentation, the quoted key and the colon, as
/// one constant. `quoted` adds the opening quote of a value that needs no escape.
macro_rules! field {
    (first $key:literal) => {
        concat!("\n      \"", $key, "\": ")
    };
    (first quoted $key:literal) => {
        concat!("\n      \"", $key, "\": \"")
    };
    (quoted $key:literal) => {
        concat!(",\n      \"", $key, "\": \"")
    };
    ($key:literal) => {
        concat!(",\n      \"", $key, "\": ")
    };
}

/// Writes one element of a top-level list — an object two levels deep — byte for byte as
/// serde_json's pretty printer places it there. Resources and findings are nearly all of a
/// report, and writing their fields directly is several times cheaper than the generic
/// serializer; strings still go through serde_json, so escaping is its own. The engine's tests
/// compare every element with the pretty printer's output.
struct Element<'o> {
    out: &'o mut Vec<u8>,
}

impl<'o> Element<'o> {
    // Every separator is a constant (see `field!`) and these are inlined, so the compiler knows
    // its length and copies it with plain loads and stores, one copy per field (a comma, the
    // indentation, the key and the colon were four, each with its own check of the room left).
    // A copy whose length is known only at run time is a wasm `memory.copy`, which wasmtime
    // makes a call out of the component into the host's `memcpy` (2 million of them in a report
    // of 10,000 resources, 15 % of its rendering, before the keys were constants).
    #[inline(always)]
    fn start(out: &'o mut Vec<u8>, first_in_list: bool) -> Self {
        out.extend_from_slice(if first_in_list { b"\n    {" } else { b",\n    {" });
        Self { out }
    }

    /// A separator from `field!`.
    #[inline(always)]
    fn key(&mut self, separator: &'static str) {
        self.out.extend_from_slice(separator.as_bytes());
    }

    #[inline(always)]
    fn text(&mut self, separator: &'static str, value: &str) -> Result<(), serde_json::Error> {
        self.key(separator);
        write_string(self.out, value)
    }

    /// A text of this engine's own (a rule id, a status, a hex id) that never needs an escape,
    /// after a `field!(quoted ...)` separator.
    #[inline(always)]
    fn plain(&mut self, separator: &'static str, value: &[u8]) {
        debug_assert!(!needs_escape(value), "{value:?} needs escaping");
        debug_assert!(value.is_ascii(), "{value:?} is not ASCII");
        debug_assert!(separator.ends_with('"'), "{separator:?} does not open the value's quote");
        self.key(separator);
        self.out.extend_from_slice(value);
        self.out.push(b'"');
    }

    #[inline(always)]
    fn optional_text(&mut self, separator: &'static str, value: Option<&str>) -> Result<(), serde_json::Error> {
        match value {
            Some(value) => self.text(separator, value),
            None => {
                self.raw(separator, "null");
                Ok(())
            }
        }
    }

    /// A number, boolean or preformatted score.
    #[inline(always)]
    fn raw(&mut self, separator: &'static str, value: &str) {
        self.key(separator);
        self.out.extend_from_slice(value.as_bytes());
    }

    fn texts(&mut self, separator: &'static str, values: impl Iterator<Item = &'static str>) -> Result<(), serde_json::Error> {
        self.key(separator);
        self.out.push(b'[');
        let mut any = false;
        for value in values {
            if any {
                self.out.push(b',');
            }
            self.out.extend_from_slice(b"\n        ");
            write_string(self.out, value)?;
            any = true;
        }
        self.out.extend_from_slice(if any { b"\n      ]" } else { b"]" });
        Ok(())
    }

    /// Every element has fields, so its closing brace goes on a line of its own.
    #[inline(always)]
    fn end(self) {
        self.out.extend_from_slice(b"\n    }");
    }
}

/// `n` in decimal, as `Display` writes it, without the formatting machinery's allocation.
fn write_number(out: &mut Vec<u8>, n: u32) {
    out.extend_from_slice(crate::decimal::digits(n, &mut [0; 20]));
}

/// `n` (below 100) as two digits, the hundredths of a [`percent`].
fn two_digits(n: u32) -> [u8; 2] {
    [b'0' + (n / 10 % 10) as u8, b'0' + (n % 10) as u8]
}

/// A resource, with the fields of [`Resource`] in its order.
fn write_resource(out: &mut Vec<u8>, first: bool, r: &ResourceResult) -> Result<(), serde_json::Error> {
    let mut e = Element::start(out, first);
    e.text(field!(first "resource_type"), &r.resource_type)?;
    e.text(field!("resource_id"), &r.resource_id)?;
    e.optional_text(field!("resource_name"), r.resource_name.as_deref())?;
    e.optional_text(field!("arn"), r.arn.as_deref())?;
    e.text(field!("account_id"), &r.account_id)?;
    e.text(field!("region"), &r.region)?;
    e.plain(field!(quoted "criticality"), r.criticality.as_str().as_bytes());
    e.key(field!("score"));
    write_number(e.out, r.score_bp / 100);
    e.out.push(b'.');
    e.out.extend_from_slice(&two_digits(r.score_bp % 100));
    e.key(field!("score_bp"));
    write_number(e.out, r.score_bp);
    e.texts(field!("failed_rules"), r.failed_rules())?;
    e.end();
    Ok(())
}

/// A finding's resource fields (type, id, account and region, with their keys), which every
/// finding of a resource repeats: written once for the resource ([`PerResource`]) and copied
/// for each of its findings, instead of four keys and four strings checked for escapes each
/// time. They follow the finding's id and rule, so each starts with its separator.
fn write_resource_fields(bytes: &mut Vec<u8>, r: &ResourceResult) -> Result<(), serde_json::Error> {
    bytes.clear();
    let mut e = Element { out: bytes };
    e.text(field!("resource_type"), &r.resource_type)?;
    e.text(field!("resource_id"), &r.resource_id)?;
    e.text(field!("account_id"), &r.account_id)?;
    e.text(field!("region"), &r.region)
}

/// A finding, with the fields of [`Finding`] in its order.
fn write_finding(out: &mut Vec<u8>, first: bool, report: &ScoreReport, found: &FindingWithId<'_>, fields: &mut PerResource<Vec<u8>>) -> Result<(), serde_json::Error> {
    let (r, f) = (found.resource, found.finding);
    let def = rule(f.rule);
    let mut e = Element::start(out, first);
    // The id as its digits: a copy of a known size, and no UTF-8 check.
    e.plain(field!(first quoted "id"), found.id.digits());
    e.plain(field!(quoted "rule_id"), def.id.as_bytes());
    e.out.extend_from_slice(fields.of(found.position.0, |bytes| write_resource_fields(bytes, r))?);
    e.plain(field!(quoted "status"), f.status.as_str().as_bytes());
    e.plain(field!(quoted "severity"), def.severity.as_str().as_bytes());
    e.text(field!("message"), &f.message)?;
    e.text(field!("path"), &f.path)?;
    e.raw(field!("remediable"), if def.remediable { "true" } else { "false" });
    if let Some(w) = report.waiver_of(f) {
        e.key(field!("waiver"));
        for (i, (key, value)) in [("id", &w.id), ("owner", &w.owner), ("expires", &w.expires)].into_iter().enumerate() {
            e.out.extend_from_slice(if i == 0 { b"{\n        \"" } else { b",\n        \"" });
            e.out.extend_from_slice(key.as_bytes());
            e.out.extend_from_slice(b"\": ");
            write_string(e.out, value)?;
        }
        e.out.extend_from_slice(b"\n      }");
    }
    e.end();
    Ok(())
}

#[cfg(test)]
fn finding_view<'a>(report: &'a ScoreReport, r: &'a ResourceResult, f: &'a crate::report::Finding) -> Finding<'a> {
    let def = rule(f.rule);
    Finding {
        id: r.finding_id(f),
        rule_id: def.id,
        resource_type: &r.resource_type,
        resource_id: &r.resource_id,
        account_id: &r.account_id,
        region: &r.region,
        status: f.status.as_str(),
        severity: def.severity.as_str(),
        message: &f.message,
        path: &f.path,
        remediable: def.remediable,
        waiver: report.waiver_of(f).map(|w| FindingWaiver { id: &w.id, owner: &w.owner, expires: &w.expires }),
    }
}

/// The report with empty resource and finding lists.
fn head_view(report: &ScoreReport) -> Report<'_> {
    let meta = &report.meta;
    let sources = report
        .input
        .sources
        .iter()
        .map(|s| {
            let digest = meta.sources.iter().find(|d| d.name == s.name);
            Source { name: &s.name, sha256: digest.map_or("", |d| d.sha256.as_str()), bytes: digest.map_or(0, |d| d.bytes), items: s.items }
        })
        .collect();
    Report {
        schema: crate::report::REPORT_SCHEMA,
        generated_at: &meta.generated_at,
        threshold: Score(report.threshold_bp),
        threshold_bp: report.threshold_bp,
        score: Score(report.score_bp),
        score_bp: report.score_bp,
        below_threshold: report.below_threshold(),
        weight_compliant: report.tally.compliant,
        weight_decided: report.tally.decided,
        score_with_waivers: Score(report.score_with_waivers_bp()),
        score_with_waivers_bp: report.score_with_waivers_bp(),
        weight_compliant_with_waivers: report.tally_with_waivers.compliant,
        engine: Engine::new(&meta.component_sha256),
        options: Options { criticality_tag: &report.criticality_tag, required_tags: &report.required_tags },
        input: Input {
            sha256: &meta.input_sha256,
            items: report.input.items,
            evaluated_resources: report.input.evaluated_resources,
            skipped_resources: report.input.skipped_resources,
            superseded_items: report.input.superseded_items,
            other_resources: &report.input.other_resources,
            notices: &report.input.notices,
            sources,
            waivers: report.waivers.file.as_ref().map(|(name, sha256, bytes)| WaiverFileEntry { name, sha256, bytes: *bytes }),
        },
        totals: Totals {
            findings: report.totals.total(),
            compliant: report.totals.compliant,
            non_compliant: report.totals.non_compliant,
            not_applicable: report.totals.not_applicable,
            insufficient_data: report.totals.insufficient_data,
        },
        by_severity: {
            let [critical, high, medium, low] = &report.by_severity;
            BySeverity { critical: counts(&critical.1), high: counts(&high.1), medium: counts(&medium.1), low: counts(&low.1) }
        },
        by_resource_type: groups(&report.by_resource_type),
        by_account: groups(&report.by_account),
        by_region: groups(&report.by_region),
        by_account_region: report
            .by_account_region
            .iter()
            .map(|((account_id, region), g)| AccountRegionEntry { account_id, region, summary: GroupEntry::new(g) })
            .collect(),
        frameworks: frameworks(report),
        waivers: waivers(report),
        resources: Vec::new(),
        findings: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ReportMeta, Scan, ScanOptions};

    #[test]
    fn numbers_are_written_as_display_and_percent_write_them() {
        for n in [0, 1, 9, 10, 99, 100, 101, 999, 1000, 5_050, 9_999, 10_000, 65_536, 1_000_000_007, u32::MAX] {
            let mut ours = Vec::new();
            write_number(&mut ours, n);
            assert_eq!(String::from_utf8(ours).unwrap(), n.to_string());
            let mut score = Vec::new();
            write_number(&mut score, n / 100);
            score.push(b'.');
            score.extend_from_slice(&two_digits(n % 100));
            assert_eq!(String::from_utf8(score).unwrap(), percent(n));
        }
    }

    fn report(items: &str) -> ScoreReport {
        let mut scan = Scan::new(ScanOptions::default()).expect("options");
        scan.begin_source("t.json").expect("begin");
        scan.feed(format!(r#"{{"configurationItems": [{items}]}}"#).as_bytes()).expect("feed");
        scan.end_source().expect("end");
        scan.finish(ReportMeta::default()).expect("finish")
    }

    /// The report as one document, the way it was rendered before it came in pages.
    fn whole(report: &ScoreReport) -> Vec<u8> {
        let mut view = head_view(report);
        view.resources = report.resources.iter().map(resource).collect();
        view.findings = report.findings().map(|(r, f)| finding_view(report, r, f)).collect();
        let mut out = serde_json::to_vec_pretty(&view).expect("serialises");
        out.push(b'\n');
        out
    }

    #[test]
    fn a_waived_finding_is_written_as_the_pretty_printer_writes_it() {
        let mut scan = Scan::new(ScanOptions::default()).expect("options");
        scan.set_waivers(
            "w.yaml",
            b"waivers:\n  - {id: \"W \\\"1\\\"\", rule: ec2-volume-encrypted, resource: AWS::EC2::Volume/vol-1, reason: r, owner: \"o\\n<x>\", approved_by: a, approved_on: 2026-06-01, ticket: T, expires: 2027-01-01}\n",
        )
        .expect("waivers");
        scan.begin_source("t.json").expect("begin");
        scan.feed(br#"{"configurationItems": [{"resourceType": "AWS::EC2::Volume", "resourceId": "vol-1", "configuration": {"encrypted": false}}]}"#).expect("feed");
        scan.end_source().expect("end");
        let report = scan.finish(ReportMeta { generated_at: "2026-12-01T00:00:00Z".to_owned(), ..Default::default() }).expect("finish");
        assert_eq!(report.waivers.waived_findings(), 1);
        assert_eq!(String::from_utf8_lossy(&render(&report).expect("renders")), String::from_utf8_lossy(&whole(&report)));
    }

    #[test]
    fn pages_of_any_size_concatenate_to_the_whole_document() {
        let items = [
            "",
            r#"{"resourceType": "AWS::Lambda::Function", "resourceId": "f"}"#,
            r#"{"resourceType": "AWS::EC2::Volume", "resourceId": "vol-1", "configuration": {"encrypted": false}},
               {"resourceType": "AWS::S3::Bucket", "resourceId": "b\n\"x", "tags": {"Criticality": "high"}}"#,
            r#"{"resourceType": "AWS::EC2::Instance", "resourceId": "i-\u0001é/\t", "resourceName": "web \"1\"", "ARN": "arn:aws:ec2:eu-west-1:1:instance/i",
                "configuration": {"publicIpAddress": "203.0.113.7", "metadataOptions": {"httpTokens": "optional"}}}"#,
        ];
        for items in items {
            let report = report(items);
            let expected = whole(&report);
            assert_eq!(render(&report).expect("renders"), expected, "one piece: {items}");
            for max in [1, 7, 100, 4096] {
                let mut pages = JsonPages::default();
                let mut joined = Vec::new();
                loop {
                    let page = pages.next_page(&report, max).expect("renders");
                    if page.is_empty() {
                        break;
                    }
                    joined.extend_from_slice(&page);
                }
                assert!(pages.is_done());
                assert_eq!(String::from_utf8_lossy(&joined), String::from_utf8_lossy(&expected), "pages of {max}: {items}");
            }
        }
    }
}
