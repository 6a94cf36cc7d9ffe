//! Finding ids digested on another instance (WIT 1.8.0 `take-finding-keys`,
//! `digest-finding-ids`, `give-finding-ids`).
//!
//! Every finding of a report carries an id, a SHA-256 digest of its rule, resource type, id,
//! account and region ([`ResourceResult::finding_id`]). Digesting them is more than half of
//! rendering a report's findings, and after a scan read on several instances it was serial:
//! the instance that finished renders alone. The ids do not depend on any verdict, so another
//! instance can digest them while the first renders:
//! - the finished report hands out its findings' keys in pieces ([`IdKeysHandOut`]): each
//!   resource's id suffix (type, id, account, region, each followed by a unit separator) and
//!   the rules of its findings;
//! - any instance digests a piece ([`digest_finding_ids`]), a pure function of the piece;
//! - the report takes the digests back in order ([`ScoreReport::give_finding_ids`]), and its renderers use
//!   them where they have them and digest the rest themselves
//!   ([`ScoreReport::findings_with_ids`]).
//!
//! The bytes of every report are the same whether its ids were given or not: the digests are
//! those the report would compute (the tests compare them). A piece carries the mark of the
//! report it came from and the ordinal of its first finding, and one that does not follow the
//! ids given so far, or comes from another report, is refused whole.

use crate::error::ScanError;
use crate::report::{ResourceResult, ScoreReport, write_rule_part};
use crate::rules::{RULES, RuleIndex};
use crate::sha256x4::Messages;

/// Starts every piece of keys.
const KEYS_MAGIC: &[u8; 8] = b"CSIDKEY1";
/// Starts every piece of digests.
const IDS_MAGIC: &[u8; 8] = b"CSIDDIG1";
/// Magic, mark, first ordinal, count.
const HEAD_BYTES: usize = 32;
/// Bytes of a digest kept: the id is its first 16 bytes in hex.
const KEPT: usize = 16;
/// Findings digested at a time.
const BATCH: usize = 64;

/// The ids given to a report, by finding ordinal (its place among all the report's findings):
/// the first 16 bytes of each digest, for the report's first findings on.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GivenIds {
    digests: Vec<[u8; KEPT]>,
    /// The ordinal of each resource's first finding, and after them the count of all
    /// (built when the first ids are given).
    first_of: Vec<usize>,
}

impl GivenIds {
    /// Whether no id has been given.
    pub fn is_empty(&self) -> bool {
        self.digests.is_empty()
    }

    /// How many ids have been given (those of the report's first findings).
    pub fn len(&self) -> usize {
        self.digests.len()
    }

    /// The ordinal of finding `finding` of resource `resource`, when ids have been given (a
    /// position past a resource's last finding is its next resource's first).
    pub(crate) fn ordinal(&self, resource: usize, finding: usize) -> Option<usize> {
        if self.digests.is_empty() {
            return None;
        }
        self.first_of.get(resource).map(|first| first + finding)
    }

    /// The digest given for finding `ordinal`.
    pub(crate) fn digest(&self, ordinal: usize) -> Option<&[u8; KEPT]> {
        self.digests.get(ordinal)
    }

    /// Takes in a piece of digests that [`digest_finding_ids`] made of a piece of this report's
    /// keys. Pieces must come in the order of their findings, from the first; a piece that does
    /// not follow the ids given so far, is not one, or comes from another report, is refused
    /// whole and changes nothing.
    pub(crate) fn give(&mut self, resources: &[ResourceResult], piece: &[u8]) -> Result<(), ScanError> {
        let refused = |message: String| ScanError::InvalidState(format!("the finding ids given are unusable: {message}"));
        let (mark, first, count, body) = head(piece, IDS_MAGIC).ok_or_else(|| refused("it is not a piece of digested finding ids".to_owned()))?;
        if self.first_of.is_empty() {
            self.first_of = first_ordinals(resources);
        }
        let total = self.first_of.last().copied().unwrap_or(0);
        if mark != report_mark(resources, total) {
            return Err(refused("they were digested from another report's keys".to_owned()));
        }
        if first != self.digests.len() as u64 {
            return Err(refused(format!("they start at finding {first}, and {} ids are given so far", self.digests.len())));
        }
        let fits = usize::try_from(count).is_ok_and(|count| body.len() == count.saturating_mul(KEPT) && self.digests.len() + count <= total);
        if !fits {
            return Err(refused("its length does not match its count of ids, or they are more than the report's findings".to_owned()));
        }
        // Room for every id at once: growing by doubling would hold up to twice as much.
        self.digests.reserve_exact(total - self.digests.len());
        self.digests.extend(body.chunks_exact(KEPT).filter_map(|digest| <[u8; KEPT]>::try_from(digest).ok()));
        Ok(())
    }
}

/// The ordinal of each resource's first finding, then the count of all findings.
fn first_ordinals(resources: &[ResourceResult]) -> Vec<usize> {
    let mut firsts = Vec::with_capacity(resources.len() + 1);
    let mut ordinal = 0;
    for resource in resources {
        firsts.push(ordinal);
        ordinal += resource.findings.len();
    }
    firsts.push(ordinal);
    firsts
}

/// Marks the pieces of one report: FNV-1a of its resources' count and its findings' count and
/// of the first and last resource's id suffix.
fn report_mark(resources: &[ResourceResult], findings: usize) -> u64 {
    let mut mark = crate::fnv::Fnv1a::new();
    mark.mix(&(resources.len() as u64).to_le_bytes());
    mark.mix(&(findings as u64).to_le_bytes());
    let mut suffix = Vec::new();
    for resource in [resources.first(), resources.last()].into_iter().flatten() {
        suffix.clear();
        resource.write_id_suffix(&mut suffix);
        mark.mix(&suffix);
    }
    mark.value()
}

/// A piece's magic, mark, first ordinal and count, and its body; `None` when it has none.
fn head<'p>(piece: &'p [u8], magic: &[u8; 8]) -> Option<(u64, u64, u64, &'p [u8])> {
    let (head, body) = piece.split_at_checked(HEAD_BYTES)?;
    let word = |at: usize| head.get(at..at + 8).and_then(|bytes| <[u8; 8]>::try_from(bytes).ok()).map(u64::from_le_bytes);
    (head.get(..8)? == magic).then_some(())?;
    Some((word(8)?, word(16)?, word(24)?, body))
}

fn start_piece(magic: &[u8; 8], mark: u64, first: u64, capacity: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(capacity);
    out.extend_from_slice(magic);
    out.extend_from_slice(&mark.to_le_bytes());
    out.extend_from_slice(&first.to_le_bytes());
    out.extend_from_slice(&0u64.to_le_bytes()); // the count, written when the piece is done
    out
}

fn set_count(out: &mut [u8], count: u64) {
    if let Some(slot) = out.get_mut(24..32) {
        slot.copy_from_slice(&count.to_le_bytes());
    }
}

/// A finished report's finding keys being handed out, piece by piece: lives beside the report.
#[derive(Debug, Default)]
pub struct IdKeysHandOut {
    /// The next resource, and the ordinal of its first finding.
    next: usize,
    ordinal: u64,
    done: bool,
    /// The report's mark, once the first piece has it.
    mark: Option<u64>,
}

impl IdKeysHandOut {
    /// The next piece of `report`'s finding keys: about `max_bytes` (one resource more at
    /// most), each resource's id suffix and the rules of its findings; empty once every key
    /// has been handed out.
    pub fn next_piece(&mut self, report: &ScoreReport, max_bytes: usize) -> Vec<u8> {
        if self.done {
            return Vec::new();
        }
        let resources = &report.resources;
        let mark = *self.mark.get_or_insert_with(|| report_mark(resources, resources.iter().map(|r| r.findings.len()).sum()));
        let mut out = start_piece(KEYS_MAGIC, mark, self.ordinal, max_bytes.saturating_add(4096).min(16 << 20));
        let first = self.ordinal;
        let mut suffix = Vec::new();
        for resource in resources.get(self.next..).unwrap_or_default() {
            if out.len() >= max_bytes && self.ordinal > first {
                break;
            }
            self.next += 1;
            if resource.findings.is_empty() {
                continue;
            }
            suffix.clear();
            resource.write_id_suffix(&mut suffix);
            out.extend_from_slice(&(suffix.len() as u32).to_le_bytes());
            out.extend_from_slice(&suffix);
            out.extend_from_slice(&(resource.findings.len() as u32).to_le_bytes());
            out.extend(resource.findings.iter().map(|f| f.rule));
            self.ordinal += resource.findings.len() as u64;
        }
        self.done = self.next >= resources.len();
        if self.ordinal == first {
            self.done = true;
            return Vec::new();
        }
        set_count(&mut out, self.ordinal - first);
        out
    }
}

/// The digests of a piece of finding keys ([`IdKeysHandOut`]), as a piece for
/// [`ScoreReport::give_finding_ids`]: a pure function of the piece, run on any instance of the same
/// component. A piece that is not one is refused.
pub fn digest_finding_ids(keys: &[u8]) -> Result<Vec<u8>, ScanError> {
    let refused = |message: &str| ScanError::InvalidState(format!("the finding keys are unusable: {message}"));
    let (mark, first, count, mut body) = head(keys, KEYS_MAGIC).ok_or_else(|| refused("it is not a piece of finding keys"))?;
    let capacity = usize::try_from(count).ok().filter(|count| *count <= keys.len()).ok_or_else(|| refused("it counts more findings than it holds"))?;
    let mut out = start_piece(IDS_MAGIC, mark, first, HEAD_BYTES + capacity * KEPT);
    let mut messages = Messages::default();
    let mut digests = Vec::with_capacity(BATCH);
    let mut digest = |messages: &mut Messages, out: &mut Vec<u8>| {
        messages.digests(&mut digests);
        for digest in &digests {
            out.extend_from_slice(digest.get(..KEPT).unwrap_or_default());
        }
        messages.clear();
    };
    let mut written = 0u64;
    while !body.is_empty() {
        let (suffix, rules, rest) = record(body).ok_or_else(|| refused("a resource's record is cut short"))?;
        body = rest;
        for &index in rules {
            let index: RuleIndex = index;
            if usize::from(index) >= RULES.len() {
                return Err(refused("a finding names a rule the pack does not have"));
            }
            messages.push(|out| {
                write_rule_part(index, out);
                out.extend_from_slice(suffix);
            });
            if messages.len() == BATCH {
                digest(&mut messages, &mut out);
            }
            written += 1;
        }
    }
    if !messages.is_empty() {
        digest(&mut messages, &mut out);
    }
    if written != count {
        return Err(refused("it counts other findings than it holds"));
    }
    set_count(&mut out, written);
    Ok(out)
}

/// One resource's record of a piece of keys: its id suffix, its findings' rules, and the rest.
fn record(body: &[u8]) -> Option<(&[u8], &[u8], &[u8])> {
    let len = |bytes: &[u8]| -> Option<usize> { usize::try_from(u32::from_le_bytes(bytes.get(..4)?.try_into().ok()?)).ok() };
    let suffix_len = len(body)?;
    let (suffix, rest) = body.get(4..)?.split_at_checked(suffix_len)?;
    let rules_len = len(rest)?;
    let (rules, rest) = rest.get(4..)?.split_at_checked(rules_len)?;
    Some((suffix, rules, rest))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::json::render;
    use crate::{ReportMeta, Scan, ScanOptions};

    fn report(resources: usize) -> ScoreReport {
        let mut scan = Scan::new(ScanOptions::default()).expect("options");
        scan.begin_source("t.json").expect("begin");
        let items: Vec<String> = (0..resources)
            .map(|i| match i % 4 {
                0 => format!(r#"{{"resourceType": "AWS::EC2::Volume", "resourceId": "vol-{i}", "configuration": {{"encrypted": {}}}}}"#, i % 3 == 0),
                1 => format!(r#"{{"resourceType": "AWS::S3::Bucket", "resourceId": "b-{i}\n\"x", "tags": {{"Criticality": "high"}}}}"#),
                2 => format!(r#"{{"resourceType": "AWS::EC2::Instance", "resourceId": "i-{i}é", "awsRegion": "eu-west-1", "configuration": {{"publicIpAddress": "203.0.113.7"}}}}"#),
                _ => format!(r#"{{"resourceType": "AWS::Lambda::Function", "resourceId": "f-{i}"}}"#),
            })
            .collect();
        scan.feed(format!(r#"{{"configurationItems": [{}]}}"#, items.join(",")).as_bytes()).expect("feed");
        scan.end_source().expect("end");
        scan.finish(ReportMeta { generated_at: "2026-12-01T00:00:00Z".to_owned(), ..Default::default() }).expect("finish")
    }

    fn keys(report: &ScoreReport, max_bytes: usize) -> Vec<Vec<u8>> {
        let mut out = IdKeysHandOut::default();
        std::iter::from_fn(|| Some(out.next_piece(report, max_bytes)).filter(|piece| !piece.is_empty())).collect()
    }

    #[test]
    fn ids_digested_elsewhere_are_the_ones_the_report_digests() {
        let plain = report(60);
        let whole = render(&plain).expect("renders");
        let findings: usize = plain.resources.iter().map(|r| r.findings.len()).sum();
        assert!(findings > 2 * BATCH, "{findings} findings");
        for max_bytes in [1, 300, 1 << 20] {
            let pieces = keys(&plain, max_bytes);
            assert_eq!(pieces.len() == 1, max_bytes == 1 << 20, "{max_bytes}: {} pieces", pieces.len());
            let digested: Vec<Vec<u8>> = pieces.iter().map(|piece| digest_finding_ids(piece).expect("digests")).collect();
            // Given all, some, or none of them, the report renders the same bytes.
            for given in [0, 1, digested.len() / 2, digested.len()] {
                let mut report = plain.clone();
                for piece in digested.iter().take(given) {
                    report.give_finding_ids(piece).expect("given");
                }
                if given == digested.len() {
                    assert_eq!(report.given_ids.len(), findings);
                    let ids: Vec<String> = report.findings_with_ids(0, 0).map(|f| f.id.to_string()).collect();
                    let expected: Vec<String> = report.findings().map(|(r, f)| r.finding_id(f)).collect();
                    assert_eq!(ids, expected);
                }
                assert!(render(&report).expect("renders") == whole, "{given} of {} pieces given, {max_bytes} bytes a piece", digested.len());
                // And from any position on.
                for (resource, finding) in [(0, 1), (7, 0), (13, 2), (39, 0)] {
                    let ours: Vec<String> = report.findings_with_ids(resource, finding).map(|f| f.id.to_string()).collect();
                    let theirs: Vec<String> = plain.findings_with_ids(resource, finding).map(|f| f.id.to_string()).collect();
                    assert_eq!(ours, theirs, "from ({resource}, {finding})");
                }
            }
        }
    }

    #[test]
    fn pieces_out_of_order_damaged_or_of_another_report_are_refused_whole() {
        let mut report = report(40);
        let digested: Vec<Vec<u8>> = keys(&report, 300).iter().map(|piece| digest_finding_ids(piece).expect("digests")).collect();
        assert!(digested.len() >= 3);
        let refused = |report: &mut ScoreReport, piece: &[u8]| {
            let before = report.given_ids.len();
            let error = report.give_finding_ids(piece).expect_err("refused");
            assert!(matches!(&error, ScanError::InvalidState(m) if m.starts_with("the finding ids given")), "{error:?}");
            assert_eq!(report.given_ids.len(), before);
        };
        refused(&mut report, &digested[1]);
        refused(&mut report, b"not a piece");
        let other = self::report(41);
        let theirs = digest_finding_ids(&keys(&other, 300)[0]).expect("digests");
        refused(&mut report, &theirs);
        let mut cut = digested[0].clone();
        cut.truncate(cut.len() - 1);
        refused(&mut report, &cut);
        report.give_finding_ids(&digested[0]).expect("the first");
        refused(&mut report, &digested[0]);
        refused(&mut report, &digested[2]);
        // Damaged keys are refused, not digested into something.
        let keys = keys(&report, 300);
        for at in [0, 8, 24, 31, 32, 33] {
            let mut damaged = keys[0].clone();
            damaged[at] ^= 0x7f;
            if (8..24).contains(&at) {
                // The mark and the first ordinal travel on: `give` refuses the digests.
                let digests = digest_finding_ids(&damaged).expect("digests");
                refused(&mut report, &digests);
            } else {
                assert!(digest_finding_ids(&damaged).is_err(), "byte {at}");
            }
        }
        for cut in 0..keys[0].len() {
            assert!(digest_finding_ids(&keys[0][..cut]).is_err(), "cut at {cut}");
        }
    }
}
