//! `ScoreReport`: the typed result of a scan, from which every output format is rendered.

use std::collections::BTreeMap;

use sha2::{Digest, Sha256};

use crate::rules::{RuleIndex, Severity, Status, rule};
use crate::score::{Criticality, Tally};

/// Schema id written into JSON reports.
pub const REPORT_SCHEMA: &str = "compliance-report/v1";

/// What the host tells the engine about the scan it cannot know itself.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReportMeta {
    /// When the scan ran (ISO-8601 UTC), given by the host: the engine has no clock.
    pub generated_at: String,
    /// sha256 of the component that scored (empty when scored natively).
    pub component_sha256: String,
    /// Digest of all input sources (see the runtime for its definition).
    pub input_sha256: String,
    /// Each source's name, digest and size.
    pub sources: Vec<SourceDigest>,
}

/// One input source as the host read it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SourceDigest {
    /// File name relative to the scanned root, `stdin`, or an S3 key.
    pub name: String,
    /// sha256 of the raw bytes as stored (compressed, if the source is gzipped).
    pub sha256: String,
    /// Size of the raw bytes.
    pub bytes: u64,
}

/// Per-source counts the engine keeps.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SourceStats {
    /// Source name.
    pub name: String,
    /// Configuration items found in it.
    pub items: u64,
}

/// What the input held.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InputSummary {
    /// Configuration items read, in all versions.
    pub items: u64,
    /// Resources scored (newest version live, type covered by the rule pack).
    pub evaluated_resources: u64,
    /// Resources whose newest version says deleted or not recorded.
    pub skipped_resources: u64,
    /// Older versions of resources that a newer item replaced.
    pub superseded_items: u64,
    /// Live resources of types no rule evaluates, by type (context such as account public
    /// access blocks is counted here too).
    pub other_resources: BTreeMap<String, u64>,
    /// Documents that carried no item (scheduled or oversized notifications), in input order.
    pub notices: Vec<String>,
    /// Per-source counts, in input order.
    pub sources: Vec<SourceStats>,
}

/// One finding of one rule on one resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// Which rule.
    pub rule: RuleIndex,
    /// Verdict.
    pub status: Status,
    /// Explanation.
    pub message: crate::rules::Text,
    /// JSON path of the deciding value.
    pub path: crate::rules::Text,
    /// The waiver that waives it (an index into the report's waivers): only NON_COMPLIANT
    /// findings are waived, and they stay NON_COMPLIANT.
    pub waiver: Option<usize>,
}

impl Finding {
    /// The rule's severity.
    pub fn severity(&self) -> Severity {
        rule(self.rule).severity
    }
}

/// One evaluated resource with its findings (sorted by rule id).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceResult {
    /// Canonical resource type.
    pub resource_type: TypeName,
    /// Config resource id.
    pub resource_id: String,
    /// `resourceName`, when known.
    pub resource_name: Option<String>,
    /// ARN, when known.
    pub arn: Option<String>,
    /// Account id.
    pub account_id: String,
    /// Region.
    pub region: String,
    /// Criticality from the criticality tag.
    pub criticality: Criticality,
    /// The resource's own score.
    pub score_bp: u32,
    /// Findings, by rule id.
    pub findings: Vec<Finding>,
}

impl ResourceResult {
    /// Stable id of a finding on this resource: a digest of (rule, type, id, account, region),
    /// so the same problem keeps its id across scans.
    /// A report's renderers take the ids from [`ScoreReport::findings_with_ids`], which hashes
    /// four at a time; this is for one finding.
    pub fn finding_id(&self, finding: &Finding) -> String {
        id_of_digest(&Sha256::digest(self.id_message(finding)))
    }

    /// What a finding's id digests: each part followed by a unit separator (0x1f).
    fn id_message(&self, finding: &Finding) -> Vec<u8> {
        let mut message = Vec::new();
        self.write_id_message(finding, &mut message);
        message
    }

    /// Appends [`Self::id_message`] to `out`.
    fn write_id_message(&self, finding: &Finding, out: &mut Vec<u8>) {
        write_rule_part(finding.rule, out);
        self.write_id_suffix(out);
    }

    /// Appends the resource's part of its findings' id messages (all but the rule) to `out`.
    pub(crate) fn write_id_suffix(&self, out: &mut Vec<u8>) {
        let parts: [&str; 4] = [&self.resource_type, &self.resource_id, &self.account_id, &self.region];
        out.reserve(parts.iter().map(|p| p.len() + 1).sum());
        for part in parts {
            out.extend_from_slice(part.as_bytes());
            out.push(0x1f);
        }
    }

    /// Ids of the rules this resource fails.
    pub fn failed_rules(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.findings.iter().filter(|f| f.status == Status::NonCompliant).map(|f| rule(f.rule).id)
    }

    /// The ARN, or `type/id` when there is none (the history table's key).
    pub fn key(&self) -> String {
        self.arn.clone().unwrap_or_else(|| format!("{}/{}", self.resource_type, self.resource_id))
    }
}

/// Counts of findings by status.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StatusCounts {
    /// COMPLIANT.
    pub compliant: u64,
    /// NON_COMPLIANT.
    pub non_compliant: u64,
    /// NOT_APPLICABLE.
    pub not_applicable: u64,
    /// INSUFFICIENT_DATA.
    pub insufficient_data: u64,
}

impl StatusCounts {
    /// Counts one more finding.
    pub fn add(&mut self, status: Status) {
        let slot = match status {
            Status::Compliant => &mut self.compliant,
            Status::NonCompliant => &mut self.non_compliant,
            Status::NotApplicable => &mut self.not_applicable,
            Status::InsufficientData => &mut self.insufficient_data,
        };
        *slot += 1;
    }

    /// All findings counted.
    pub fn total(&self) -> u64 {
        self.compliant + self.non_compliant + self.not_applicable + self.insufficient_data
    }
}

/// Score, weights and counts of one part of a report: a resource type, an account, a region,
/// or an account-region. The weights are the integer sums behind the score, so parts (and
/// reports) can be added up exactly: never average percentages.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct GroupSummary {
    /// Σ weight of the part's COMPLIANT findings, and of its COMPLIANT or NON_COMPLIANT ones.
    pub tally: Tally,
    /// Resources in the part.
    pub resources: u64,
    /// Resources in the part failing at least one rule.
    pub non_compliant: u64,
}

impl GroupSummary {
    /// The part's score.
    pub fn score_bp(&self) -> u32 {
        self.tally.score_bp()
    }

    /// Adds another part.
    pub fn merge(&mut self, other: &GroupSummary) {
        self.tally.merge(other.tally);
        self.resources = self.resources.saturating_add(other.resources);
        self.non_compliant = self.non_compliant.saturating_add(other.non_compliant);
    }

    /// Counts one more resource with its tally.
    pub fn add(&mut self, tally: Tally, failing: bool) {
        self.tally.merge(tally);
        self.resources += 1;
        self.non_compliant += u64::from(failing);
    }
}

/// Region that global resource types (`AWS::IAM::*`) are reported in, whichever regions
/// recorded them: one IAM role is one resource of its account, scored once.
pub const GLOBAL_REGION: &str = "global";

/// A resource type's name: the engine's own copy for the types it knows (one for every
/// resource of the type), a copy of the input's otherwise.
pub type TypeName = std::borrow::Cow<'static, str>;

/// The complete result of a scan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScoreReport {
    /// Host-supplied provenance.
    pub meta: ReportMeta,
    /// Alert threshold in basis points.
    pub threshold_bp: u32,
    /// Overall score in basis points.
    pub score_bp: u32,
    /// The weight sums behind the overall score.
    pub tally: Tally,
    /// The weight sums with waived NON_COMPLIANT findings counted as COMPLIANT.
    pub tally_with_waivers: Tally,
    /// The waiver file and what each of its waivers did.
    pub waivers: crate::waiver::WaiverReport,
    /// Criticality tag key used.
    pub criticality_tag: String,
    /// Tag keys `ec2-required-tags` demanded.
    pub required_tags: Vec<String>,
    /// What the input held.
    pub input: InputSummary,
    /// Findings by status.
    pub totals: StatusCounts,
    /// Findings by severity, most severe first.
    pub by_severity: [(Severity, StatusCounts); 4],
    /// Per resource type.
    pub by_resource_type: BTreeMap<String, GroupSummary>,
    /// Per account.
    pub by_account: BTreeMap<String, GroupSummary>,
    /// Per region (global resource types under [`GLOBAL_REGION`]).
    pub by_region: BTreeMap<String, GroupSummary>,
    /// Per (account, region): the unit an organization roll-up adds up.
    pub by_account_region: BTreeMap<(String, String), GroupSummary>,
    /// Evaluated resources sorted by (type, id, account, region).
    pub resources: Vec<ResourceResult>,
    /// Finding ids digested on another instance, which the renderers take instead of
    /// digesting them again (`crate::ids`); none unless a host gives them.
    pub given_ids: crate::ids::GivenIds,
}

impl ScoreReport {
    /// Whether the score is strictly below the threshold.
    pub fn below_threshold(&self) -> bool {
        self.score_bp < self.threshold_bp
    }

    /// Score with waived NON_COMPLIANT findings counted as COMPLIANT (never below `score_bp`).
    pub fn score_with_waivers_bp(&self) -> u32 {
        self.tally_with_waivers.score_bp()
    }

    /// The waiver of a finding, when it is waived.
    pub fn waiver_of(&self, finding: &Finding) -> Option<&crate::waiver::Waiver> {
        finding.waiver.and_then(|i| self.waivers.waivers.get(i)).map(|w| &w.waiver)
    }

    /// Every finding with its resource, in report order.
    pub fn findings(&self) -> impl Iterator<Item = (&ResourceResult, &Finding)> {
        self.resources.iter().flat_map(|r| r.findings.iter().map(move |f| (r, f)))
    }

    /// Takes in a piece of ids digested apart from this report's finding keys
    /// ([`crate::ids`]); refused whole, changing nothing, unless it follows the ids given so
    /// far.
    pub fn give_finding_ids(&mut self, piece: &[u8]) -> Result<(), crate::ScanError> {
        self.given_ids.give(&self.resources, piece)
    }

    /// Every finding with its resource and id, in report order, from finding `finding` of
    /// resource `resource` on (a position past a resource's last finding starts at the next
    /// resource). The ids are digested in batches, four at a time.
    pub fn findings_with_ids(&self, resource: usize, finding: usize) -> FindingsWithIds<'_> {
        FindingsWithIds::new(&self.resources, &self.given_ids, resource, finding)
    }
}

/// See [`ScoreReport::findings_with_ids`].
pub struct FindingsWithIds<'a> {
    resources: &'a [ResourceResult],
    /// Ids digested elsewhere, taken where they are given.
    given: &'a crate::ids::GivenIds,
    /// Which findings of the batch wait for a digest of their own.
    waiting: Vec<bool>,
    /// Where the next batch starts.
    resource: usize,
    finding: usize,
    ready: std::collections::VecDeque<FindingWithId<'a>>,
    /// The batch's id messages and their digests: kept from batch to batch, so a report's half
    /// a million ids are digested without an allocation each.
    messages: crate::sha256x4::Messages,
    digests: Vec<[u8; 32]>,
    /// The resource (its index) whose id-message suffix is in `suffix`: written once for all
    /// of its findings.
    suffix_of: Option<usize>,
    suffix: Vec<u8>,
}

/// A finding, its resource, where it is in the report (resource index, finding index) and its id.
pub struct FindingWithId<'a> {
    /// Its resource.
    pub resource: &'a ResourceResult,
    /// The finding.
    pub finding: &'a Finding,
    /// Its position: the resource's index in the report, the finding's in the resource.
    pub position: (usize, usize),
    /// [`ResourceResult::finding_id`].
    pub id: FindingId,
}

/// A finding id (see [`ResourceResult::finding_id`]) without an allocation: the first 16 bytes
/// of its digest as 32 lower-case hex digits. Reads as a `&str`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FindingId([u8; 32]);

impl FindingId {
    fn of_digest(digest: &[u8; 32]) -> Self {
        Self::of_prefix(digest.first_chunk().unwrap_or(&[0; 16]))
    }

    /// The id of a digest whose first 16 bytes are `prefix`.
    fn of_prefix(prefix: &[u8; 16]) -> Self {
        const DIGITS: &[u8; 16] = b"0123456789abcdef";
        let mut hex = [0u8; 32];
        for (pair, byte) in hex.chunks_exact_mut(2).zip(prefix) {
            let digit = |nibble: u8| DIGITS.get(usize::from(nibble)).copied().unwrap_or(b'0');
            pair.copy_from_slice(&[digit(byte >> 4), digit(byte & 0x0f)]);
        }
        FindingId(hex)
    }

    /// The id's 32 hex digits.
    pub fn digits(&self) -> &[u8; 32] {
        &self.0
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).unwrap_or_default() // hex digits only
    }
}

impl std::ops::Deref for FindingId {
    type Target = str;

    fn deref(&self) -> &str {
        self.as_str()
    }
}

/// Findings digested at a time: enough to keep the four lanes full across resources with
/// one or two findings, few enough that a page of a paged render wastes little when it ends.
const ID_BATCH: usize = 64;

impl<'a> FindingsWithIds<'a> {
    fn new(resources: &'a [ResourceResult], given: &'a crate::ids::GivenIds, resource: usize, finding: usize) -> Self {
        FindingsWithIds { resources, given, waiting: Vec::with_capacity(ID_BATCH), resource, finding, ready: std::collections::VecDeque::with_capacity(ID_BATCH), messages: Default::default(), digests: Vec::with_capacity(ID_BATCH), suffix_of: None, suffix: Vec::new() }
    }
}

impl<'a> Iterator for FindingsWithIds<'a> {
    type Item = FindingWithId<'a>;

    fn next(&mut self) -> Option<FindingWithId<'a>> {
        if self.ready.is_empty() {
            self.messages.clear();
            self.waiting.clear();
            // Ids given from here on are taken as they are; the others are digested below.
            let mut ordinal = self.given.ordinal(self.resource, self.finding);
            while self.ready.len() < ID_BATCH {
                let Some(resource) = self.resources.get(self.resource) else { break };
                match resource.findings.get(self.finding) {
                    Some(finding) => {
                        let given = ordinal.and_then(|at| self.given.digest(at));
                        ordinal = ordinal.map(|at| at + 1);
                        if given.is_none() {
                            if self.suffix_of != Some(self.resource) {
                                self.suffix.clear();
                                resource.write_id_suffix(&mut self.suffix);
                                self.suffix_of = Some(self.resource);
                            }
                            let suffix = &self.suffix;
                            self.messages.push(|out| {
                                write_rule_part(finding.rule, out);
                                out.extend_from_slice(suffix);
                            });
                        }
                        self.waiting.push(given.is_none());
                        // A digested id is filled in below, once the batch is digested.
                        let id = given.map_or(FindingId([0; 32]), FindingId::of_prefix);
                        self.ready.push_back(FindingWithId { resource, finding, position: (self.resource, self.finding), id });
                        self.finding += 1;
                    }
                    None => {
                        self.resource += 1;
                        self.finding = 0;
                    }
                }
            }
            if !self.messages.is_empty() {
                self.messages.digests(&mut self.digests);
                let waiting = self.ready.iter_mut().zip(&self.waiting).filter_map(|(found, waits)| waits.then_some(found));
                for (found, digest) in waiting.zip(&self.digests) {
                    found.id = FindingId::of_digest(digest);
                }
            }
        }
        self.ready.pop_front()
    }
}

/// Appends a finding's part of its id message (its rule, `rule_index`) to `out`; the resource's
/// part follows it ([`ResourceResult::write_id_suffix`]).
pub(crate) fn write_rule_part(rule_index: RuleIndex, out: &mut Vec<u8>) {
    out.extend_from_slice(rule(rule_index).id.as_bytes());
    out.push(0x1f);
}

/// A finding id: the first 16 bytes of the digest, in hex.
fn id_of_digest(digest: &[u8]) -> String {
    hex(digest.get(..16).unwrap_or_default())
}

/// Lower-case hex.
pub fn hex(bytes: &[u8]) -> String {
    // Every finding id goes through here.
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = vec![0; bytes.len() * 2];
    for (pair, byte) in out.chunks_exact_mut(2).zip(bytes) {
        let digit = |nibble: u8| DIGITS.get(usize::from(nibble)).copied().unwrap_or(b'0');
        pair.copy_from_slice(&[digit(byte >> 4), digit(byte & 0x0f)]);
    }
    String::from_utf8(out).unwrap_or_default() // ASCII digits only
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batched_ids_are_the_single_ids_from_any_position() {
        let resource = |id: &str, rules: &[RuleIndex]| ResourceResult {
            resource_type: "AWS::S3::Bucket".into(),
            resource_id: id.to_owned(),
            resource_name: None,
            arn: None,
            account_id: "123456789012".to_owned(),
            region: "eu-west-1".to_owned(),
            criticality: Criticality::Medium,
            score_bp: 0,
            findings: rules
                .iter()
                .map(|&rule| Finding { rule, status: Status::Compliant, message: "m".into(), path: "p".into(), waiver: None })
                .collect(),
        };
        // Resources with no, one and many findings, one id long enough for three blocks, more
        // findings than one batch.
        let long = "b".repeat(150);
        let mut resources = vec![resource("a", &[0, 1]), resource("empty", &[]), resource(&long, &[2]), resource("c", &[0, 1, 2, 3, 4])];
        for n in 0..30 {
            resources.push(resource(&format!("bucket-{n}"), &[0, 1, 2, 3]));
        }
        let single: Vec<(usize, usize, String)> = resources
            .iter()
            .enumerate()
            .flat_map(|(ri, r)| r.findings.iter().enumerate().map(move |(fi, f)| (ri, fi, r.finding_id(f))))
            .collect();
        assert!(single.len() > ID_BATCH);
        for start in [(0, 0), (0, 1), (0, 2), (1, 0), (2, 1), (3, 4), (20, 3), (34, 0)] {
            let batched: Vec<(usize, usize, String)> = FindingsWithIds::new(&resources, &Default::default(), start.0, start.1).map(|f| (f.position.0, f.position.1, f.id.as_str().to_owned())).collect();
            let expected: Vec<_> = single.iter().filter(|(ri, fi, _)| (*ri, *fi) >= start).cloned().collect();
            assert_eq!(batched, expected, "from {start:?}");
        }
    }

    #[test]
    fn hex_is_lower_case_two_digits_per_byte() {
        assert_eq!(super::hex(&[0x00, 0x0f, 0xa5, 0xff]), "000fa5ff");
        assert_eq!(super::hex(&[]), "");
    }
}
