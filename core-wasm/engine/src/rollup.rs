//! The organization roll-up (SPEC §10): account-region summaries of one scan window in, the org
//! report out. The org score is ⌊10000 × Σ weight_compliant / Σ weight_decided⌋ over the
//! account-regions it counts — integer sums, never an average of percentages — so it is exact
//! and reproducible from the per-account reports alone.
//!
//! Which summaries count:
//! - a summary generated outside the window (`window_start ..= generated_at`) does not: its
//!   account-region is listed as stale;
//! - an account-region reported by several summaries counts once, from the newest (ties: the
//!   first by name). Global resource types come as region `global` in every region's report of
//!   an account, so this is also what keeps an IAM role from counting once per region;
//! - an expected account-region (seen by an earlier roll-up no longer ago than
//!   `forget_after_hours`) with no summary at all is listed as missing.

use std::collections::{BTreeMap, BTreeSet};

use crate::item::parse_iso8601_us;
use crate::report::GroupSummary;

/// Schema id written into org reports.
pub const ROLLUP_SCHEMA: &str = "compliance-rollup/v1";

/// One account-region part of a per-account report (its `by_account_region` entry).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AccountRegionPart {
    /// Account id.
    pub account_id: String,
    /// Region, or `global` for global resource types.
    pub region: String,
    /// Weights and counts.
    pub summary: GroupSummary,
}

/// A per-account(-region) report, as the roll-up needs it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RollupInput {
    /// The report's name: its S3 key, or its path relative to the directory rolled up.
    pub name: String,
    /// sha256 of the report's bytes.
    pub report_sha256: String,
    /// The report's `generated_at`.
    pub generated_at: String,
    /// The component that scored it.
    pub component_sha256: String,
    /// Its input digest (the Config snapshot it scored).
    pub input_sha256: String,
    /// Its rule pack version.
    pub rule_pack_version: String,
    /// Its overall score.
    pub score_bp: u32,
    /// Its account-region parts.
    pub parts: Vec<AccountRegionPart>,
}

/// An account-region an earlier roll-up saw, and when.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct ExpectedPart {
    /// Account id.
    pub account_id: String,
    /// Region.
    pub region: String,
    /// `generated_at` of the newest summary that reported it.
    pub last_seen: String,
}

/// What the host asks for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RollupRequest {
    /// The organization's id (`o-…`), or a name; shown, and part of the ORG# history key.
    pub org_id: String,
    /// Alert threshold in basis points.
    pub threshold_bp: u32,
    /// When the roll-up ran (ISO-8601 UTC): the end of the window.
    pub generated_at: String,
    /// Start of the window; `None`: every summary counts however old.
    pub window_start: Option<String>,
    /// Expected account-regions not seen for longer than this are forgotten, not listed missing.
    pub forget_after_hours: u32,
    /// Account-regions earlier roll-ups saw.
    pub expected: Vec<ExpectedPart>,
    /// sha256 of the component computing the roll-up (empty when native).
    pub component_sha256: String,
}

/// Why a roll-up was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RollupError {
    /// A summary is not usable (bad timestamp, duplicate name, no parts).
    #[error("roll-up input `{name}`: {message}")]
    InvalidInput {
        /// The summary's name.
        name: String,
        /// What is wrong.
        message: String,
    },
    /// An option is out of range.
    #[error("roll-up option: {0}")]
    InvalidOption(String),
}

/// Whether an account-region part counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum PartStatus {
    /// Counted in the org score.
    Counted,
    /// A newer summary of the same account-region counted instead.
    Superseded,
    /// Generated outside the window.
    OutsideWindow,
}

impl PartStatus {
    /// Name used in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            PartStatus::Counted => "counted",
            PartStatus::Superseded => "superseded",
            PartStatus::OutsideWindow => "outside-window",
        }
    }
}

/// One account-region part of one input, with its fate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RolledPart {
    /// Index into [`RollupReport::inputs`].
    pub input: usize,
    /// The part.
    pub part: AccountRegionPart,
    /// Counted or not, and why.
    pub status: PartStatus,
}

/// Why an expected account-region has no counted summary.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Absence {
    /// No summary at all.
    Missing,
    /// Only summaries from outside the window.
    Stale,
}

impl Absence {
    /// Name used in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Absence::Missing => "missing",
            Absence::Stale => "stale",
        }
    }
}

/// An account-region the roll-up could not count.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AbsentPart {
    /// Account id, region and when it was last seen.
    pub expected: ExpectedPart,
    /// Missing or stale.
    pub absence: Absence,
}

/// The org report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RollupReport {
    /// What was asked (inputs aside).
    pub request: RollupRequest,
    /// Org-wide sums over the counted parts.
    pub total: GroupSummary,
    /// Per account, over its counted parts; with its number of counted regions (`global` aside).
    pub by_account: BTreeMap<String, (GroupSummary, u64)>,
    /// Per region, over the counted parts.
    pub by_region: BTreeMap<String, GroupSummary>,
    /// Inputs, sorted by name.
    pub inputs: Vec<RollupInput>,
    /// Every part of every input, sorted by (account, region, status, input name).
    pub parts: Vec<RolledPart>,
    /// Account-regions not counted, sorted by (account, region).
    pub absent: Vec<AbsentPart>,
}

impl RollupReport {
    /// The org score.
    pub fn score_bp(&self) -> u32 {
        self.total.score_bp()
    }

    /// Whether the org score is strictly below the threshold.
    pub fn below_threshold(&self) -> bool {
        self.score_bp() < self.request.threshold_bp
    }

    /// Accounts whose own score is below the threshold.
    pub fn accounts_below_threshold(&self) -> impl Iterator<Item = &str> {
        self.by_account.iter().filter(|(_, (g, _))| g.score_bp() < self.request.threshold_bp).map(|(id, _)| id.as_str())
    }

    /// Whether to alert: the org, or any account, is below the threshold.
    pub fn alert(&self) -> bool {
        self.below_threshold() || self.accounts_below_threshold().next().is_some()
    }

    /// The account-regions counted, with the `generated_at` of their summary: what the next
    /// roll-up expects (together with those still absent).
    pub fn seen(&self) -> Vec<ExpectedPart> {
        let mut seen: Vec<ExpectedPart> = self
            .parts
            .iter()
            .filter(|p| p.status == PartStatus::Counted)
            .map(|p| ExpectedPart {
                account_id: p.part.account_id.clone(),
                region: p.part.region.clone(),
                last_seen: self.inputs.get(p.input).map(|i| i.generated_at.clone()).unwrap_or_default(),
            })
            .collect();
        seen.extend(self.absent.iter().map(|a| a.expected.clone()));
        seen.sort();
        seen
    }
}

fn timestamp(value: &str) -> Option<i64> {
    parse_iso8601_us(value).filter(|_| value.trim() == value && !value.is_empty())
}

/// Computes the org report. The order of `inputs` does not matter.
pub fn roll_up(request: RollupRequest, mut inputs: Vec<RollupInput>) -> Result<RollupReport, RollupError> {
    let end = timestamp(&request.generated_at).ok_or_else(|| RollupError::InvalidOption(format!("generated_at `{}` is not an ISO-8601 timestamp", request.generated_at)))?;
    let start = match &request.window_start {
        Some(s) => Some(timestamp(s).ok_or_else(|| RollupError::InvalidOption(format!("window start `{s}` is not an ISO-8601 timestamp")))?),
        None => None,
    };
    if start.is_some_and(|s| s > end) {
        return Err(RollupError::InvalidOption("the window starts after it ends".to_owned()));
    }
    if request.threshold_bp > 10_000 {
        return Err(RollupError::InvalidOption(format!("threshold {} bp is above 100 %", request.threshold_bp)));
    }
    let forget_before = end - i64::from(request.forget_after_hours) * 3_600_000_000;
    inputs.sort_by(|a, b| a.name.cmp(&b.name));
    let mut times = Vec::with_capacity(inputs.len());
    for (i, input) in inputs.iter().enumerate() {
        let invalid = |message: String| RollupError::InvalidInput { name: input.name.clone(), message };
        if i > 0 && inputs.get(i - 1).is_some_and(|previous| previous.name == input.name) {
            return Err(invalid("the same name is given twice".to_owned()));
        }
        let at = timestamp(&input.generated_at).ok_or_else(|| invalid(format!("generated_at `{}` is not an ISO-8601 timestamp", input.generated_at)))?;
        let mut names = BTreeSet::new();
        for part in &input.parts {
            if !names.insert((&part.account_id, &part.region)) {
                return Err(invalid(format!("account {} region {} appears twice", part.account_id, part.region)));
            }
            if part.summary.tally.compliant > part.summary.tally.decided || part.summary.non_compliant > part.summary.resources {
                return Err(invalid(format!("account {} region {}: the counts contradict each other", part.account_id, part.region)));
            }
        }
        times.push(at);
    }

    // Newest in-window summary of each account-region; ties keep the first by name.
    let in_window = |at: i64| start.is_none_or(|s| at >= s) && at <= end;
    let mut chosen: BTreeMap<(&str, &str), (usize, i64)> = BTreeMap::new();
    for (i, input) in inputs.iter().enumerate() {
        let at = times.get(i).copied().unwrap_or_default();
        if !in_window(at) {
            continue;
        }
        for part in &input.parts {
            let slot = chosen.entry((&part.account_id, &part.region)).or_insert((i, at));
            if at > slot.1 {
                *slot = (i, at);
            }
        }
    }
    let mut parts = Vec::new();
    let mut newest_stale: BTreeMap<(String, String), i64> = BTreeMap::new();
    for (i, input) in inputs.iter().enumerate() {
        let at = times.get(i).copied().unwrap_or_default();
        for part in &input.parts {
            let status = if !in_window(at) {
                let newest = newest_stale.entry((part.account_id.clone(), part.region.clone())).or_insert(at);
                *newest = (*newest).max(at);
                PartStatus::OutsideWindow
            } else if chosen.get(&(part.account_id.as_str(), part.region.as_str())).is_some_and(|(c, _)| *c == i) {
                PartStatus::Counted
            } else {
                PartStatus::Superseded
            };
            parts.push(RolledPart { input: i, part: part.clone(), status });
        }
    }
    parts.sort_by(|a, b| {
        (&a.part.account_id, &a.part.region, a.status, a.input).cmp(&(&b.part.account_id, &b.part.region, b.status, b.input))
    });

    let mut total = GroupSummary::default();
    let mut by_account: BTreeMap<String, (GroupSummary, u64)> = BTreeMap::new();
    let mut by_region: BTreeMap<String, GroupSummary> = BTreeMap::new();
    for rolled in parts.iter().filter(|p| p.status == PartStatus::Counted) {
        let part = &rolled.part;
        total.merge(&part.summary);
        let (account, regions) = by_account.entry(part.account_id.clone()).or_default();
        account.merge(&part.summary);
        *regions += u64::from(part.region != crate::report::GLOBAL_REGION);
        by_region.entry(part.region.clone()).or_default().merge(&part.summary);
    }

    // Absent: stale ones (only outside-window summaries), then expected ones nobody reported.
    let mut absent: BTreeMap<(String, String), AbsentPart> = BTreeMap::new();
    for ((account_id, region), at) in &newest_stale {
        if !chosen.contains_key(&(account_id.as_str(), region.as_str())) {
            let last_seen = inputs.iter().zip(&times).find(|(_, t)| **t == *at).map(|(i, _)| i.generated_at.clone()).unwrap_or_default();
            let expected = ExpectedPart { account_id: account_id.clone(), region: region.clone(), last_seen };
            absent.insert((account_id.clone(), region.clone()), AbsentPart { expected, absence: Absence::Stale });
        }
    }
    for expected in &request.expected {
        let Some(seen) = timestamp(&expected.last_seen) else {
            return Err(RollupError::InvalidOption(format!(
                "expected account {} region {}: last seen `{}` is not an ISO-8601 timestamp",
                expected.account_id, expected.region, expected.last_seen
            )));
        };
        let key = (expected.account_id.clone(), expected.region.clone());
        if seen < forget_before || chosen.contains_key(&(key.0.as_str(), key.1.as_str())) {
            continue;
        }
        match absent.get_mut(&key) {
            // Stale already; keep the later of the two sightings.
            Some(known) => {
                if timestamp(&known.expected.last_seen).is_none_or(|t| t < seen) {
                    known.expected.last_seen.clone_from(&expected.last_seen);
                }
            }
            None => {
                absent.insert(key, AbsentPart { expected: expected.clone(), absence: Absence::Missing });
            }
        }
    }
    let mut request = request;
    request.expected.sort();
    request.expected.dedup();
    Ok(RollupReport { request, total, by_account, by_region, inputs, parts, absent: absent.into_values().collect() })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::score::Tally;

    fn part(account: &str, region: &str, compliant: u64, decided: u64) -> AccountRegionPart {
        AccountRegionPart {
            account_id: account.into(),
            region: region.into(),
            summary: GroupSummary { tally: Tally { compliant, decided }, resources: 2, non_compliant: u64::from(compliant < decided) },
        }
    }

    fn input(name: &str, at: &str, parts: Vec<AccountRegionPart>) -> RollupInput {
        RollupInput { name: name.into(), generated_at: at.into(), parts, ..RollupInput::default() }
    }

    fn request() -> RollupRequest {
        RollupRequest { org_id: "o-1".into(), threshold_bp: 7000, generated_at: "2026-12-01T10:05:00.000Z".into(), forget_after_hours: 24, ..RollupRequest::default() }
    }

    #[test]
    fn the_org_score_is_the_ratio_of_sums_not_an_average() {
        // Account 1: 1/1 (100 %); account 2: 10/100 (10 %). Average 55 %, ratio of sums 11/101.
        let inputs = vec![input("a", "2026-12-01T10:00:00Z", vec![part("1", "us-east-1", 1, 1)]), input("b", "2026-12-01T10:00:00Z", vec![part("2", "eu-west-1", 10, 100)])];
        let report = roll_up(request(), inputs).expect("rolls up");
        assert_eq!((report.total.tally.compliant, report.total.tally.decided), (11, 101));
        assert_eq!(report.score_bp(), 1089); // ⌊10000 × 11 / 101⌋
        assert!(report.below_threshold() && report.alert());
        assert_eq!(report.accounts_below_threshold().collect::<Vec<_>>(), ["2"]);
    }

    #[test]
    fn global_parts_count_once_per_account_and_input_order_does_not_matter() {
        let us = input("us", "2026-12-01T10:00:00Z", vec![part("1", "us-east-1", 5, 10), part("1", "global", 3, 4)]);
        let eu = input("eu", "2026-12-01T10:01:00Z", vec![part("1", "eu-west-1", 7, 10), part("1", "global", 4, 4)]);
        let one = roll_up(request(), vec![us.clone(), eu.clone()]).expect("rolls up");
        let other = roll_up(request(), vec![eu, us]).expect("rolls up");
        assert_eq!(one, other);
        // us-east-1 + eu-west-1 + the newer global part (eu's).
        assert_eq!((one.total.tally.compliant, one.total.tally.decided), (16, 24));
        assert_eq!(one.by_account.get("1").map(|(_, regions)| *regions), Some(2));
        let superseded: Vec<_> = one.parts.iter().filter(|p| p.status == PartStatus::Superseded).collect();
        assert_eq!(superseded.len(), 1);
        assert_eq!(superseded.first().map(|p| p.part.region.as_str()), Some("global"));
    }

    #[test]
    fn stale_and_missing_account_regions_are_listed_not_counted() {
        let mut req = request();
        req.window_start = Some("2026-12-01T09:05:00.000Z".into());
        req.expected = vec![
            ExpectedPart { account_id: "3".into(), region: "us-east-1".into(), last_seen: "2026-12-01T08:00:00Z".into() },
            ExpectedPart { account_id: "4".into(), region: "us-east-1".into(), last_seen: "2026-11-20T08:00:00Z".into() },
            ExpectedPart { account_id: "1".into(), region: "us-east-1".into(), last_seen: "2026-12-01T08:00:00Z".into() },
        ];
        let inputs = vec![input("fresh", "2026-12-01T10:00:00Z", vec![part("1", "us-east-1", 1, 2)]), input("old", "2026-12-01T08:00:00Z", vec![part("2", "us-east-1", 1, 1)])];
        let report = roll_up(req, inputs).expect("rolls up");
        assert_eq!(report.score_bp(), 5000);
        let absent: Vec<_> = report.absent.iter().map(|a| (a.expected.account_id.as_str(), a.absence)).collect();
        // 4 was last seen more than 24 h ago: forgotten. 1 is present.
        assert_eq!(absent, [("2", Absence::Stale), ("3", Absence::Missing)]);
        assert_eq!(report.seen().len(), 3);
    }

    #[test]
    fn bad_inputs_are_refused_with_their_name() {
        let dup = vec![input("a", "2026-12-01T10:00:00Z", vec![]), input("a", "2026-12-01T10:00:00Z", vec![])];
        assert!(matches!(roll_up(request(), dup), Err(RollupError::InvalidInput { name, .. }) if name == "a"));
        let bad_time = vec![input("b", "yesterday", vec![])];
        assert!(matches!(roll_up(request(), bad_time), Err(RollupError::InvalidInput { name, .. }) if name == "b"));
        let contradiction = vec![input("c", "2026-12-01T10:00:00Z", vec![part("1", "r", 5, 4)])];
        assert!(roll_up(request(), contradiction).is_err());
        let mut req = request();
        req.window_start = Some("2026-12-02T00:00:00Z".into());
        assert!(matches!(roll_up(req, vec![]), Err(RollupError::InvalidOption(_))));
        // Nothing at all is a valid (empty) roll-up: 100 %, nothing decided.
        assert_eq!(roll_up(request(), vec![]).map(|r| r.score_bp()), Ok(10_000));
    }
}
