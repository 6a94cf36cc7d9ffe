//! Handing a scan's state to another scan (WIT 1.6.0 `take-state` / `absorb-state`), so a host
//! can read sources on several instances at once and finish on one.
//!
//! A host splits its sources, in their order, into consecutive groups, reads each group on its
//! own scan, and has the first group's scan absorb the others' states in group order. What the
//! absorbing scan then holds is exactly what one scan reading every source in order would have
//! held — the same newest version of each resource (on a tie the one read first), the same
//! counts, notices and source list — so the report is the same byte for byte whatever the
//! grouping. A group may also begin or end in the middle of a source, at a cut between two
//! items ([`Scan::suspend_source`], [`Scan::resume_source`]): the state names the cuts, and the
//! absorbing scan takes it in only if it goes on from the very cut it suspended that source at,
//! the source's items then counted as one. Evidence that spans resources (an account's public access block, the volumes of an
//! instance, a global IAM resource recorded in several regions) is decided at `finish`, after
//! every state is in.
//!
//! The state travels in pieces of a binary encoding private to one engine build: the host
//! passes them along without reading them, and both sides are instances of the same component.
//! A piece starts with [`MAGIC`]; the first carries the scan's options (checked on arrival: the
//! scans must have been created alike) and input counts, then resources in key order, each
//! piece from where the last one ended, so the taking scan keeps each hand-over as a sorted run
//! (`runs.rs`) and only one piece is ever held besides the two states. The records name each
//! text by its length only; the texts themselves follow the records, in order, as one UTF-8
//! section (its length in the piece's last 8 bytes) checked once per piece rather than once
//! per text (it was a tenth of a hand-over's instructions). Numbers are LEB128; a
//! text the findings share (a fixed message or path) is written once per hand-over and then
//! named by its number, so the pieces of one hand-over must be absorbed in the order they were
//! taken, without pieces of another hand-over between them: each piece carries its hand-over's
//! mark, its own number and how many shared texts came before it, and one that does not fit is
//! refused.

use std::collections::{BTreeMap, BTreeSet};

use super::runs::Run;
use super::{Cut, MAX_NOTICES, Recorded, ResourceKey, Scan, State};
use crate::error::ScanError;
use crate::item::Version;
use crate::report::SourceStats;
use crate::rules::{Check, Contribution, Outcome, PublicAccessFlags, RULES, RuleIndex, Status, Text};
use crate::score::Criticality;

/// Starts every piece: the format and its version.
const MAGIC: &[u8; 8] = b"CSSTATE4";
const TAG_END: u8 = 0;
const TAG_HEAD: u8 = 1;
const TAG_RESOURCE: u8 = 2;
const TEXT_OWN: u8 = 0;
const TEXT_NEW_SHARED: u8 = 1;
const TEXT_SHARED: u8 = 2;

/// Where a scan is in handing over its state.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(super) enum Handover {
    /// Not started: the scan reads and finishes as usual.
    #[default]
    None,
    /// Pieces are being taken, the next one from this resource on (its place in key order);
    /// the scan can do nothing else.
    Taking(usize),
    /// Everything is handed over.
    Done,
}

/// How hand-overs number their pieces and the texts findings share.
#[derive(Debug, Default)]
pub(super) struct Numbering {
    /// Handing over: the number given to each shared text.
    handed: SharedNumbers,
    /// Taking in: the current hand-over's texts by number.
    received: Vec<Text>,
    /// Handing over: this hand-over's mark and the pieces taken so far.
    handing: (u64, u64),
    /// Taking in: the mark of the hand-over being taken in and its pieces taken in so far.
    receiving: (u64, u64),
}

/// The numbers a hand-over gives the texts findings share, by address (the texts are the
/// engine's own constants), with a small cache in front of the map: a large hand-over looks
/// texts up millions of times, among a few hundred distinct ones (the map's search alone was a
/// tenth of a hand-over's instructions).
#[derive(Debug)]
pub(super) struct SharedNumbers {
    numbers: BTreeMap<(usize, usize), u64>,
    /// (address, length, number), at a slot chosen by the address.
    recent: Vec<(usize, usize, u64)>,
}

const RECENT_SLOTS: usize = 256;

impl Default for SharedNumbers {
    fn default() -> Self {
        // No text lives at address 0, so the empty slots match nothing.
        Self { numbers: BTreeMap::new(), recent: vec![(0, 0, 0); RECENT_SLOTS] }
    }
}

impl SharedNumbers {
    fn len(&self) -> usize {
        self.numbers.len()
    }

    /// `text`'s number, and whether this is its first.
    fn number(&mut self, text: &str) -> (u64, bool) {
        let key = (text.as_ptr() as usize, text.len());
        let slot = ((key.0 >> 3) ^ (key.0 >> 11)) % RECENT_SLOTS;
        if let Some(&(address, len, number)) = self.recent.get(slot)
            && (address, len) == key
        {
            return (number, false);
        }
        let next = self.numbers.len() as u64;
        let (number, new) = match self.numbers.entry(key) {
            std::collections::btree_map::Entry::Occupied(known) => (*known.get(), false),
            std::collections::btree_map::Entry::Vacant(slot) => (*slot.insert(next), true),
        };
        if let Some(recent) = self.recent.get_mut(slot) {
            *recent = (key.0, key.1, number);
        }
        (number, new)
    }
}

impl Scan {
    fn between_sources(&self, what: &str) -> Result<(), ScanError> {
        if let Some(open) = &self.open {
            let name = self.input.sources.get(open.index).map(|s| s.name.as_str()).unwrap_or_default();
            return Err(ScanError::InvalidState(format!("cannot {what} while source `{name}` is open")));
        }
        if self.handover != Handover::None {
            return Err(ScanError::InvalidState(format!("cannot {what}: this scan has handed its state over")));
        }
        Ok(())
    }

    /// The next piece of this scan's state, at least `max_bytes` long unless it is the last
    /// (one resource more at most); empty once everything has been handed over. From the first
    /// call on, the scan can only hand over; each piece goes on from where the last one ended,
    /// and the resources stay in the scan until it is dropped.
    pub fn take_state(&mut self, max_bytes: usize) -> Result<Vec<u8>, ScanError> {
        match self.handover {
            Handover::Done => return Ok(Vec::new()),
            Handover::Taking(_) => {}
            Handover::None => {
                self.between_sources("hand over the state")?;
                if self.waivers.is_some() {
                    return Err(ScanError::InvalidState("a scan with waivers finishes itself: give the waivers to the scan that absorbs the others".to_owned()));
                }
            }
        }
        let first = self.handover == Handover::None;
        if first {
            // Everything the scan holds, in order.
            self.settle();
            let runs = std::mem::take(&mut self.runs);
            self.resources = runs.into_one(&mut self.input.superseded_items);
            self.handover = Handover::Taking(0);
            self.numbering.handing = (self.hand_over_mark(), 0);
        }
        let mut out = Vec::with_capacity(max_bytes.saturating_add(4096).min(64 << 20));
        out.extend_from_slice(MAGIC);
        let (mark, piece) = self.numbering.handing;
        out.extend_from_slice(&mark.to_le_bytes());
        let texts_before = self.numbering.handed.len() as u64;
        let mut strings = Vec::new();
        let mut w = Writer { out: &mut out, strings: &mut strings, texts: &mut self.numbering.handed };
        w.u64(piece);
        w.u64(texts_before);
        if first {
            self.write_head(&mut out, &mut strings);
        }
        // At least one resource per piece, however small `max_bytes` is. The resources stay
        // where they are: freeing them one by one would cost a fifth of a hand-over and give
        // nothing back, an instance's memory never shrinking; they go with the scan.
        let start = out.len();
        let from = if let Handover::Taking(from) = self.handover { from } else { 0 };
        let mut rest = self.resources.iter_from(from).peekable();
        let mut w = Writer { out: &mut out, strings: &mut strings, texts: &mut self.numbering.handed };
        let mut written = 0;
        while let Some((key, recorded)) = rest.next_if(|_| w.out.len() == start || w.out.len() + w.strings.len() < max_bytes) {
            write_resource(&mut w, key, recorded);
            written += 1;
        }
        self.handover = if rest.peek().is_some() { Handover::Taking(from + written) } else { Handover::Done };
        out.push(TAG_END); // a piece cut short between two records is still seen as cut short
        out.extend_from_slice(&strings);
        out.extend_from_slice(&(strings.len() as u64).to_le_bytes());
        self.numbering.handing.1 += 1;
        Ok(out)
    }

    /// Marks every piece of this scan's hand-over, so a piece of another one is not taken for
    /// the next: FNV-1a of the sources read and the items counted.
    fn hand_over_mark(&self) -> u64 {
        let mut mark = crate::fnv::Fnv1a::new();
        for source in &self.input.sources {
            mark.mix(source.name.as_bytes());
            mark.mix(&source.items.to_le_bytes());
        }
        mark.mix(&self.input.items.to_le_bytes());
        mark.value()
    }

    fn write_head(&mut self, out: &mut Vec<u8>, strings: &mut Vec<u8>) {
        let mut w = Writer { out, strings, texts: &mut self.numbering.handed };
        w.u8(TAG_HEAD);
        w.str(&self.options.criticality_tag);
        w.strings(&self.options.params.required_tags);
        w.u64(self.options.max_item_bytes as u64);
        w.u64(self.input.items);
        w.u64(self.input.superseded_items);
        w.u64(self.notices_seen);
        w.len(self.input.other_resources.len());
        for (kind, count) in &self.input.other_resources {
            w.str(kind);
            w.u64(*count);
        }
        w.strings(&self.input.notices);
        w.len(self.input.sources.len());
        for source in &self.input.sources {
            w.str(&source.name);
            w.u64(source.items);
        }
        w.optional_cut(self.continues);
        w.optional_cut(self.suspended);
    }

    /// Takes in one piece of another scan's state (see the module documentation for the order
    /// pieces must come in). A piece that is not one, or from a scan created with other
    /// options, is refused whole: nothing of it is taken in.
    pub fn absorb_state(&mut self, piece: &[u8]) -> Result<(), ScanError> {
        self.between_sources("absorb another scan's state")?;
        let damaged = |message: String| ScanError::InvalidState(format!("the handed-over scan state is unusable: {message}"));
        let body = piece.strip_prefix(MAGIC.as_slice()).ok_or_else(|| damaged("it does not start as a piece of this engine's state".to_owned()))?;
        let (body, texts) = split_texts(body).ok_or_else(|| damaged("it is cut short: its texts are not where its end says".to_owned()))?;
        let texts = crate::value::utf8(texts).ok_or_else(|| damaged("its texts are not UTF-8".to_owned()))?;
        // Decoded whole before anything is taken in, so a damaged piece changes nothing: the
        // texts it numbers are kept only if it is taken in.
        let mut reader = Reader { bytes: body, at: 0, texts, text_at: 0, before: &[], received: Vec::new() };
        let mark = u64::from_le_bytes(reader.array()?);
        let (piece, texts_before) = (reader.u64()?, reader.u64()?);
        // A hand-over's first piece carries its head and starts the numbering of texts afresh;
        // every other piece must be the next of the hand-over being taken in.
        let first = piece == 0;
        if !first {
            reader.before = &self.numbering.received;
            if (mark, piece) != self.numbering.receiving || texts_before != reader.before.len() as u64 {
                return Err(damaged(format!("it is piece {piece} of a hand-over, not the next piece of the one being taken in: the pieces of a hand-over must come in the order they were taken, one hand-over after another")));
            }
        } else if texts_before != 0 || reader.bytes.get(reader.at) != Some(&TAG_HEAD) {
            return Err(damaged("its first piece does not start the hand-over".to_owned()));
        }
        let mut head = None;
        let mut resources = Vec::new();
        loop {
            match reader.u8()? {
                TAG_END if reader.is_empty() && reader.text_at == texts.len() => break,
                TAG_HEAD if first && head.is_none() => head = Some(read_head(&mut reader)?),
                TAG_RESOURCE => resources.push(read_resource(&mut reader)?),
                tag => return Err(damaged(format!("unexpected record {tag} at byte {}", reader.at + MAGIC.len() - 1))),
            }
        }
        // A scan hands its resources over in key order, each once: the runs depend on it.
        if !resources.is_sorted_by(|a, b| a.0 < b.0) {
            return Err(damaged("its resources are not in key order".to_owned()));
        }
        let new_texts = reader.received;
        if let Some(head) = &head
            && (head.criticality_tag != self.options.criticality_tag || head.required_tags != self.options.params.required_tags || head.max_item_bytes != self.options.max_item_bytes as u64)
        {
            return Err(ScanError::InvalidState("the handed-over scan state comes from a scan created with other options".to_owned()));
        }
        if let Some(head) = &head {
            self.check_continuation(head)?;
        }
        if first {
            self.numbering.received.clear();
            self.numbering.receiving = (mark, 0);
        }
        self.numbering.received.extend(new_texts);
        self.numbering.receiving.1 += 1;
        if let Some(head) = head {
            self.input.items += head.items;
            self.input.superseded_items += head.superseded_items;
            self.notices_seen += head.notices_seen;
            for (kind, count) in head.other_resources {
                *self.input.other_resources.entry(kind).or_default() += count;
            }
            for notice in head.notices {
                if self.input.notices.len() < MAX_NOTICES {
                    self.input.notices.push(notice);
                }
            }
            let mut sources = head.sources.into_iter();
            if head.continues.is_some()
                && let (Some(last), Some(rest)) = (self.input.sources.last_mut(), sources.next())
            {
                last.items += rest.items;
            }
            self.input.sources.extend(sources);
            self.suspended = head.suspended;
        }
        // What this scan read itself came before this piece: it becomes a run first.
        self.settle();
        self.runs.push(Run::from_sorted(resources), &mut self.input.superseded_items);
        Ok(())
    }
}

impl Scan {
    /// Whether a state whose head is `head` may follow what this scan holds: it goes on with
    /// the source this scan suspended, from the very cut, or this scan has none suspended and
    /// it begins with a source of its own.
    fn check_continuation(&self, head: &Head) -> Result<(), ScanError> {
        let refused = |message: String| Err(ScanError::InvalidState(format!("the handed-over scan state does not follow this one: {message}")));
        let ours = self.input.sources.last().map(|s| s.name.as_str()).unwrap_or_default();
        let theirs = head.sources.first().map(|s| s.name.as_str()).unwrap_or_default();
        match (self.suspended, head.continues) {
            (None, None) => Ok(()),
            (Some(_), None) => refused(format!("source `{ours}` was suspended here and the state does not go on with it")),
            (None, Some((offset, _))) => refused(format!("it goes on with source `{theirs}` from byte {offset}, which this scan did not suspend")),
            (Some(at), Some(from)) if at == from && ours == theirs => Ok(()),
            (Some((at, _)), Some((from, _))) => refused(format!("source `{ours}` was suspended at byte {at}; the state goes on with `{theirs}` from byte {from}")),
        }
    }
}

/// A piece's records and its text section (everything after [`MAGIC`]), or `None` when its
/// last 8 bytes do not give a text section's length that fits.
fn split_texts(body: &[u8]) -> Option<(&[u8], &[u8])> {
    let (rest, len) = body.split_at_checked(body.len().checked_sub(8)?)?;
    let len = usize::try_from(u64::from_le_bytes(len.try_into().ok()?)).ok()?;
    rest.split_at_checked(rest.len().checked_sub(len)?)
}

/// The instance's one copy of a text findings share. Absorbed findings share it as the
/// handing scan's findings did, whichever texts the taking scan met itself (findings taken in
/// before the taking scan had met a text used to get a copy each). A copy is made once per
/// distinct text for the instance's lifetime (a rule pack has a few hundred such texts);
/// pieces are meant only for an instance of the same component.
fn shared_copy(text: &str) -> &'static str {
    static COPIES: std::sync::Mutex<BTreeSet<&'static str>> = std::sync::Mutex::new(BTreeSet::new());
    let mut copies = COPIES.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some(&copy) = copies.get(text) {
        return copy;
    }
    let copy: &'static str = Box::leak(text.to_owned().into_boxed_str());
    copies.insert(copy);
    copy
}

struct Head {
    criticality_tag: String,
    required_tags: Vec<String>,
    max_item_bytes: u64,
    items: u64,
    superseded_items: u64,
    notices_seen: u64,
    other_resources: Vec<(String, u64)>,
    notices: Vec<String>,
    sources: Vec<SourceStats>,
    /// The state's first source goes on from this cut of a source the taking scan suspended.
    continues: Option<Cut>,
    /// The state's last source is suspended at this cut.
    suspended: Option<Cut>,
}

fn read_head(r: &mut Reader<'_>) -> Result<Head, ScanError> {
    Ok(Head {
        criticality_tag: r.string()?,
        required_tags: r.strings()?,
        max_item_bytes: r.u64()?,
        items: r.u64()?,
        superseded_items: r.u64()?,
        notices_seen: r.u64()?,
        other_resources: (0..r.len()?).map(|_| Ok((r.string()?, r.u64()?))).collect::<Result<_, ScanError>>()?,
        notices: r.strings()?,
        sources: (0..r.len()?).map(|_| Ok(SourceStats { name: r.string()?, items: r.u64()? })).collect::<Result<_, ScanError>>()?,
        continues: r.optional_cut()?,
        suspended: r.optional_cut()?,
    })
}

fn write_resource(w: &mut Writer<'_>, key: &ResourceKey, recorded: &Recorded) {
    w.u8(TAG_RESOURCE);
    let ResourceKey(resource_type, resource_id, account, region) = key;
    for part in [resource_type, resource_id.as_str(), account, region] {
        w.str(part);
    }
    // Fixed width: capture times and state ids are large numbers, which LEB128 would neither
    // shorten much nor read as fast.
    match recorded.version.captured_us {
        Some(us) => {
            w.u8(1);
            w.out.extend_from_slice(&us.to_le_bytes());
        }
        None => w.u8(0),
    }
    w.out.extend_from_slice(&recorded.version.state_id.to_le_bytes());
    match &recorded.state {
        State::Gone => w.u8(0),
        State::Live { arn, name, criticality, checks, contribution } => {
            w.u8(1);
            w.optional_str(arn.as_deref());
            w.optional_str(name.as_deref());
            w.u8(match criticality {
                Criticality::Critical => 0,
                Criticality::High => 1,
                Criticality::Medium => 2,
                Criticality::Low => 3,
            });
            w.len(checks.len());
            for (rule, check) in checks {
                w.u8(*rule);
                write_check(w, check);
            }
            match contribution {
                None => w.u8(0),
                Some(Contribution::AccountPublicAccess(flags)) => {
                    w.u8(1);
                    w.flags(flags);
                }
                Some(Contribution::VolumeEncrypted(encrypted)) => {
                    w.u8(2);
                    w.bool(*encrypted);
                }
            }
        }
    }
}

fn write_check(w: &mut Writer<'_>, check: &Check) {
    match check {
        Check::Done(outcome) => {
            w.u8(0);
            w.u8(match outcome.status {
                Status::Compliant => 0,
                Status::NonCompliant => 1,
                Status::NotApplicable => 2,
                Status::InsufficientData => 3,
            });
            w.text(&outcome.message);
            w.text(&outcome.path);
        }
        Check::BucketPublicAccess(flags) => {
            w.u8(1);
            w.flags(flags);
        }
        Check::BucketAcl { public_grant, bucket_ignore } => {
            w.u8(2);
            match public_grant {
                Some((path, grantee)) => {
                    w.u8(1);
                    w.str(path);
                    w.str(grantee);
                }
                None => w.u8(0),
            }
            w.optional_bool(*bucket_ignore);
        }
        Check::InstanceVolumes(volumes) => {
            w.u8(3);
            w.len(volumes.len());
            for (path, volume) in volumes {
                w.str(path);
                w.str(volume);
            }
        }
    }
}

fn read_resource(r: &mut Reader<'_>) -> Result<(ResourceKey, Recorded), ScanError> {
    let key = ResourceKey(super::type_name(r.str()?), r.string()?, r.string()?, r.string()?);
    let captured_us = match r.u8()? {
        0 => None,
        1 => Some(i64::from_le_bytes(r.array()?)),
        other => return Err(r.bad("capture time", other)),
    };
    let state_id = u128::from_le_bytes(r.array()?);
    let state = match r.u8()? {
        0 => State::Gone,
        1 => {
            let arn = r.optional_string()?;
            let name = r.optional_string()?;
            let criticality = match r.u8()? {
                0 => Criticality::Critical,
                1 => Criticality::High,
                2 => Criticality::Medium,
                3 => Criticality::Low,
                other => return Err(r.bad("criticality", other)),
            };
            let checks = (0..r.len()?)
                .map(|_| {
                    let rule: RuleIndex = r.u8()?;
                    if usize::from(rule) >= RULES.len() {
                        return Err(r.bad("rule", rule));
                    }
                    Ok((rule, read_check(r)?))
                })
                .collect::<Result<Vec<_>, ScanError>>()?;
            let contribution = match r.u8()? {
                0 => None,
                1 => Some(Contribution::AccountPublicAccess(r.flags()?)),
                2 => Some(Contribution::VolumeEncrypted(r.bool()?)),
                other => return Err(r.bad("contribution", other)),
            };
            State::Live { arn, name, criticality, checks, contribution }
        }
        other => return Err(r.bad("resource state", other)),
    };
    Ok((key, Recorded { version: Version { captured_us, state_id }, state }))
}

fn read_check(r: &mut Reader<'_>) -> Result<Check, ScanError> {
    Ok(match r.u8()? {
        0 => {
            let status = match r.u8()? {
                0 => Status::Compliant,
                1 => Status::NonCompliant,
                2 => Status::NotApplicable,
                3 => Status::InsufficientData,
                other => return Err(r.bad("status", other)),
            };
            Check::Done(Outcome { status, message: r.text()?, path: r.text()? })
        }
        1 => Check::BucketPublicAccess(r.flags()?),
        2 => {
            let public_grant = match r.u8()? {
                0 => None,
                1 => Some((r.string()?, r.string()?)),
                other => return Err(r.bad("public grant", other)),
            };
            Check::BucketAcl { public_grant, bucket_ignore: r.optional_bool()? }
        }
        3 => Check::InstanceVolumes((0..r.len()?).map(|_| Ok((r.string()?, r.string()?))).collect::<Result<_, ScanError>>()?),
        other => return Err(r.bad("check", other)),
    })
}

struct Writer<'o> {
    out: &'o mut Vec<u8>,
    /// The piece's text section: each text's bytes, in the order `out` gives their lengths.
    strings: &'o mut Vec<u8>,
    /// The numbers of the shared texts this hand-over has written so far.
    texts: &'o mut SharedNumbers,
}

impl Writer<'_> {
    fn u8(&mut self, value: u8) {
        self.out.push(value);
    }

    fn bool(&mut self, value: bool) {
        self.u8(u8::from(value));
    }

    fn optional_bool(&mut self, value: Option<bool>) {
        self.u8(match value {
            None => 0,
            Some(false) => 1,
            Some(true) => 2,
        });
    }

    fn optional_cut(&mut self, cut: Option<Cut>) {
        match cut {
            None => self.u8(0),
            Some((offset, encoded)) => {
                self.u8(1);
                self.u64(offset);
                self.bool(encoded);
            }
        }
    }

    fn flags(&mut self, flags: &PublicAccessFlags) {
        for flag in [flags.block_public_acls, flags.ignore_public_acls, flags.block_public_policy, flags.restrict_public_buckets] {
            self.optional_bool(flag);
        }
    }

    /// LEB128: seven bits a byte, low bits first, the top bit set on all but the last. (64
    /// bits, not 128: inside the component a 128-bit shift or comparison is several wasm
    /// instructions, and no number here needs more.)
    #[inline]
    fn u64(&mut self, mut value: u64) {
        while value >= 0x80 {
            self.out.push((value as u8) | 0x80);
            value >>= 7;
        }
        self.out.push(value as u8);
    }

    fn len(&mut self, len: usize) {
        self.u64(len as u64);
    }

    fn str(&mut self, text: &str) {
        self.len(text.len());
        self.strings.extend_from_slice(text.as_bytes());
    }

    fn optional_str(&mut self, text: Option<&str>) {
        match text {
            Some(text) => {
                self.u8(1);
                self.str(text);
            }
            None => self.u8(0),
        }
    }

    fn strings(&mut self, texts: &[String]) {
        self.len(texts.len());
        for text in texts {
            self.str(text);
        }
    }

    /// A finding's text: its own, or one the findings share — written out the first time,
    /// by number after that.
    fn text(&mut self, text: &Text) {
        match text {
            Text::Owned(own) => {
                self.u8(TEXT_OWN);
                self.str(own);
            }
            Text::Borrowed(shared) => match self.texts.number(shared) {
                (_, true) => {
                    self.u8(TEXT_NEW_SHARED);
                    self.str(shared);
                }
                (number, false) => {
                    self.u8(TEXT_SHARED);
                    self.u64(number);
                }
            },
        }
    }
}

struct Reader<'b> {
    /// The piece's records, and where in them the next one starts.
    bytes: &'b [u8],
    at: usize,
    /// The piece's text section, and where in it the next text starts.
    texts: &'b str,
    text_at: usize,
    /// The shared texts earlier pieces of this hand-over numbered.
    before: &'b [Text],
    /// The shared texts this piece numbers, after those.
    received: Vec<Text>,
}

impl<'b> Reader<'b> {
    fn is_empty(&self) -> bool {
        self.at >= self.bytes.len()
    }

    fn bad(&self, what: &str, value: impl std::fmt::Display) -> ScanError {
        ScanError::InvalidState(format!("the handed-over scan state is unusable: {what} {value} before byte {}", self.at + MAGIC.len()))
    }

    fn take(&mut self, n: usize) -> Result<&'b [u8], ScanError> {
        let end = self.at.checked_add(n).filter(|end| *end <= self.bytes.len()).ok_or_else(|| self.bad("a piece cut short, wanting bytes:", n))?;
        let taken = self.bytes.get(self.at..end).unwrap_or_default();
        self.at = end;
        Ok(taken)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], ScanError> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }

    #[inline]
    fn u8(&mut self) -> Result<u8, ScanError> {
        let byte = *self.bytes.get(self.at).ok_or_else(|| self.bad("a piece cut short, wanting bytes:", 1))?;
        self.at += 1;
        Ok(byte)
    }

    fn bool(&mut self) -> Result<bool, ScanError> {
        match self.u8()? {
            0 => Ok(false),
            1 => Ok(true),
            other => Err(self.bad("flag", other)),
        }
    }

    fn optional_bool(&mut self) -> Result<Option<bool>, ScanError> {
        match self.u8()? {
            0 => Ok(None),
            1 => Ok(Some(false)),
            2 => Ok(Some(true)),
            other => Err(self.bad("optional flag", other)),
        }
    }

    fn optional_cut(&mut self) -> Result<Option<Cut>, ScanError> {
        match self.u8()? {
            0 => Ok(None),
            1 => Ok(Some((self.u64()?, self.bool()?))),
            other => Err(self.bad("cut mark", other)),
        }
    }

    fn flags(&mut self) -> Result<PublicAccessFlags, ScanError> {
        Ok(PublicAccessFlags {
            block_public_acls: self.optional_bool()?,
            ignore_public_acls: self.optional_bool()?,
            block_public_policy: self.optional_bool()?,
            restrict_public_buckets: self.optional_bool()?,
        })
    }

    /// LEB128 of at most 64 bits, in its shortest form.
    #[inline]
    fn u64(&mut self) -> Result<u64, ScanError> {
        // Most numbers are lengths and counts below 128: one byte.
        if let Some(&byte) = self.bytes.get(self.at).filter(|byte| **byte < 0x80) {
            self.at += 1;
            return Ok(u64::from(byte));
        }
        self.long_u64()
    }

    #[inline(never)]
    fn long_u64(&mut self) -> Result<u64, ScanError> {
        let mut value = 0u64;
        for shift in (0..64).step_by(7) {
            let byte = self.u8()?;
            let bits = u64::from(byte & 0x7f);
            if (shift > 0 && byte == 0) || (bits << shift) >> shift != bits {
                return Err(self.bad("number out of range or not in its shortest form, byte", byte));
            }
            value |= bits << shift;
            if byte & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err(self.bad("number longer than 64 bits", ""))
    }

    /// A count of things that follow, each at least one byte long.
    fn len(&mut self) -> Result<usize, ScanError> {
        let len = self.u64()?;
        usize::try_from(len).ok().filter(|len| *len <= self.bytes.len() - self.at.min(self.bytes.len())).ok_or_else(|| self.bad("length", len))
    }

    /// The next text of the text section (checked as UTF-8 as a whole: a text must only end
    /// between two characters).
    fn str(&mut self) -> Result<&'b str, ScanError> {
        let len = self.u64()?;
        let text = usize::try_from(len)
            .ok()
            .and_then(|len| self.text_at.checked_add(len))
            .and_then(|end| Some((end, self.texts.get(self.text_at..end)?)));
        let (end, text) = text.ok_or_else(|| self.bad("text beyond the text section or not whole characters, of length", len))?;
        self.text_at = end;
        Ok(text)
    }

    fn string(&mut self) -> Result<String, ScanError> {
        self.str().map(str::to_owned)
    }

    fn optional_string(&mut self) -> Result<Option<String>, ScanError> {
        match self.u8()? {
            0 => Ok(None),
            1 => self.string().map(Some),
            other => Err(self.bad("optional text", other)),
        }
    }

    fn strings(&mut self) -> Result<Vec<String>, ScanError> {
        (0..self.len()?).map(|_| self.string()).collect()
    }

    /// A finding's text; a shared one is the instance's one copy of it (`shared_copy`).
    fn text(&mut self) -> Result<Text, ScanError> {
        match self.u8()? {
            TEXT_OWN => self.string().map(Text::Owned),
            TEXT_NEW_SHARED => {
                let text = self.str()?;
                let text = Text::Borrowed(shared_copy(text));
                self.received.push(text.clone());
                Ok(text)
            }
            TEXT_SHARED => {
                let number = self.u64()?;
                let index = usize::try_from(number).unwrap_or(usize::MAX);
                let text = match index.checked_sub(self.before.len()) {
                    None => self.before.get(index),
                    Some(after) => self.received.get(after),
                };
                text.cloned().ok_or_else(|| self.bad("shared text number", number))
            }
            other => Err(self.bad("text", other)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scan::ScanOptions;

    fn scan_of(sources: &[(&str, String)]) -> Scan {
        let mut scan = Scan::new(ScanOptions::default()).expect("options");
        for (name, text) in sources {
            scan.begin_source(name).expect("begin");
            scan.feed(text.as_bytes()).expect("feed");
            scan.end_source().expect("end");
        }
        scan
    }

    fn item(kind: &str, id: &str, region: &str, captured: &str, configuration: &str, supplementary: &str) -> String {
        format!(
            r#"{{"resourceType": "{kind}", "resourceId": "{id}", "awsAccountId": "123456789012", "awsRegion": "{region}", "configurationItemCaptureTime": "{captured}", "configurationItemStatus": "OK", "configuration": {configuration}, "supplementaryConfiguration": {supplementary}, "tags": {{"Criticality": "high"}}}}"#
        )
    }

    fn snapshot(items: &[String]) -> String {
        format!(r#"{{"configurationItems": [{}]}}"#, items.join(","))
    }

    /// Sources whose verdicts need each other: the account's public access block, buckets, an
    /// instance and its volume, one IAM role recorded in two regions (once in a newer and once
    /// in a tied version), a notice, and a resource of a type no rule evaluates.
    fn sources() -> Vec<(&'static str, String)> {
        let [a, b, d] = snapshot_items();
        let notice = r#"{"messageType": "ScheduledNotification", "notificationCreationTime": "2026-11-02T00:00:00.000Z"}"#.to_owned();
        vec![("a.json", snapshot(&a)), ("b.json", snapshot(&b)), ("c.json", notice), ("d.json", snapshot(&d))]
    }

    /// The items of `sources()`'s three snapshots.
    fn snapshot_items() -> [Vec<String>; 3] {
        let t1 = "2026-11-01T00:00:00.000Z";
        let t2 = "2026-11-02T00:00:00.000Z";
        let role = |region: &str, at: &str, path: &str| item("AWS::IAM::Role", "AROA1", region, at, &format!(r#"{{"roleName": "r", "path": "{path}", "assumeRolePolicyDocument": "%7B%7D"}}"#), "{}");
        [
            vec![
                item("AWS::S3::AccountPublicAccessBlock", "123456789012", "us-east-1", t1, r#"{"blockPublicAcls": true, "ignorePublicAcls": true, "blockPublicPolicy": true, "restrictPublicBuckets": true}"#, "{}"),
                item("AWS::EC2::Volume", "vol-1", "us-east-1", t1, r#"{"volumeId": "vol-1", "encrypted": false}"#, "{}"),
                role("us-east-1", t1, "/a/"),
            ],
            vec![
                item("AWS::S3::Bucket", "bucket-1", "us-east-1", t1, r#"{"name": "bucket-1"}"#, "{}"),
                item("AWS::EC2::Instance", "i-1", "us-east-1", t1, r#"{"instanceId": "i-1", "state": {"name": "running"}, "blockDeviceMappings": [{"deviceName": "/dev/xvda", "ebs": {"volumeId": "vol-1"}}]}"#, "{}"),
                role("eu-west-1", t2, "/b/"),
            ],
            vec![
                role("ap-southeast-2", t2, "/d/"),
                item("AWS::Lambda::Function", "f-1", "us-east-1", t1, r#"{"functionName": "f-1"}"#, "{}"),
                item("AWS::EC2::Volume", "vol-1", "us-east-1", t1, r#"{"volumeId": "vol-1", "encrypted": true}"#, "{}"),
            ],
        ]
    }

    /// One large source holding the items of `sources()`'s snapshots (and an item that is not
    /// one), with the offset of every cut between two of its items: after the `[` and after
    /// each `,`, whitespace or not.
    fn large_source() -> (String, Vec<u64>) {
        let mut items: Vec<String> = snapshot_items().into_iter().flatten().collect();
        items.insert(4, r#"{"note": "not an item"}"#.to_owned());
        let mut text = r#"{"fileVersion": "1.0", "configurationItems": ["#.to_owned();
        let mut cuts = vec![text.len() as u64];
        for (i, item) in items.iter().enumerate() {
            if i > 0 {
                text.push(',');
                cuts.push(text.len() as u64);
                if i % 2 == 0 {
                    text.push_str("\n  ");
                }
            }
            text.push_str(item);
        }
        text.push_str("\n], \"configSnapshotId\": \"x\"}");
        (text, cuts)
    }

    /// `large_source()` read in parts cut at `cuts` (a subset of its cuts, in order), between
    /// `a.json` before and `c.json` after: part by part, each part on a new scan handed over to
    /// the first (`handed` says which), or read on by the first.
    fn scan_in_parts(text: &str, cuts: &[u64], handed: impl Fn(usize) -> bool, piece: usize) -> Scan {
        let bounds: Vec<usize> = std::iter::once(0).chain(cuts.iter().map(|&c| c as usize)).chain(std::iter::once(text.len())).collect();
        let mut first = scan_of(&sources()[..1]);
        first.begin_source("big.json").expect("begin");
        for (part, range) in bounds.windows(2).enumerate() {
            let bytes = &text.as_bytes()[range[0]..range[1]];
            let last = part + 2 == bounds.len();
            let on_other = part > 0 && handed(part);
            let mut other = Scan::new(ScanOptions::default()).expect("options");
            let scan = if on_other { &mut other } else { &mut first };
            if part > 0 {
                scan.resume_source("big.json", range[0] as u64, "configurationItems").expect("resume");
            }
            scan.feed(bytes).expect("feed");
            if last {
                scan.end_source().expect("end");
                let (name, notice) = &sources()[2];
                scan.begin_source(name).expect("begin");
                scan.feed(notice.as_bytes()).expect("feed");
                scan.end_source().expect("end");
            } else {
                scan.suspend_source().expect("suspend at a cut");
            }
            if on_other {
                loop {
                    let bytes = other.take_state(piece).expect("take");
                    if bytes.is_empty() {
                        break;
                    }
                    first.absorb_state(&bytes).expect("absorb");
                }
            }
        }
        first
    }

    /// A source cut at any of its item boundaries, its parts read on the scan that began it or
    /// on others and handed over, gives the report one scan reading it whole gives.
    #[test]
    fn a_source_read_in_parts_gives_the_same_report_as_one_scan() {
        let (text, all_cuts) = large_source();
        let mut whole = sources()[..1].to_vec();
        whole.push(("big.json", text.clone()));
        whole.push(sources()[2].clone());
        let expected = report_json(scan_of(&whole));
        assert!(String::from_utf8_lossy(&expected).contains(r#""items": 10"#), "the large source's ten items are counted");
        for subset in 0u32..(1 << all_cuts.len()) {
            let cuts: Vec<u64> = all_cuts.iter().enumerate().filter(|(i, _)| subset & (1 << i) != 0).map(|(_, &c)| c).collect();
            for (mode, handed) in [(0, (|_| true) as fn(usize) -> bool), (1, |part| part % 2 == 1), (2, |_| false)] {
                let piece = if mode == 1 { 1 } else { usize::MAX };
                let report = report_json(scan_in_parts(&text, &cuts, handed, piece));
                assert_eq!(String::from_utf8_lossy(&report), String::from_utf8_lossy(&expected), "cuts {cuts:?}, mode {mode}");
            }
        }
    }

    /// Cuts that are not between two items, parts that do not follow each other, and scans
    /// left in the middle of a source are refused, and a refusal changes nothing.
    #[test]
    fn parts_that_do_not_fit_are_refused() {
        let (text, cuts) = large_source();
        let (cut, next) = (cuts[3] as usize, cuts[4] as usize);
        // Not at a cut: inside an item, or between the `,` and the whitespace before a cut.
        let mut scan = Scan::new(ScanOptions::default()).expect("options");
        scan.begin_source("big.json").expect("begin");
        scan.feed(&text.as_bytes()[..cut + 5]).expect("feed");
        let error = scan.suspend_source().expect_err("inside an item");
        assert!(error.to_string().contains("not between two items"), "{error}");
        scan.feed(&text.as_bytes()[cut + 5..]).expect("the refusal changed nothing");
        assert_eq!(scan.end_source().expect("end"), 10);
        // A state that goes on from another cut than the one suspended at, or with another source.
        let mut first = Scan::new(ScanOptions::default()).expect("options");
        first.begin_source("big.json").expect("begin");
        first.feed(&text.as_bytes()[..cut]).expect("feed");
        assert_eq!(first.suspend_source().expect("suspend"), 3);
        assert!(first.begin_source("other.json").expect_err("suspended").to_string().contains("was suspended"));
        for (name, from) in [("big.json", next), ("other.json", cut)] {
            let mut other = Scan::new(ScanOptions::default()).expect("options");
            other.resume_source(name, from as u64, "configurationItems").expect("resume");
            other.feed(&text.as_bytes()[from..]).expect("feed");
            other.end_source().expect("end");
            let piece = other.take_state(usize::MAX).expect("take");
            let error = first.absorb_state(&piece).expect_err("does not follow");
            assert!(error.to_string().contains("does not follow"), "{error}");
        }
        // A state that begins a source of its own while one is suspended, and a resume elsewhere.
        let piece = scan_of(&sources()[2..3]).take_state(usize::MAX).expect("take");
        assert!(first.absorb_state(&piece).expect_err("suspended").to_string().contains("does not go on"));
        assert!(first.resume_source("big.json", next as u64, "configurationItems").is_err());
        assert!(first.resume_source("big.json", cut as u64, "tags").expect_err("no item array").to_string().contains("not an array of configuration items"));
        let mut fresh = Scan::new(ScanOptions::default()).expect("options");
        assert!(fresh.resume_source("big.json", 2, "configurationItems").expect_err("too early").to_string().contains("cannot be between two items"));
        // Neither a scan with a suspended source nor one that began mid-source finishes.
        let mut continued = Scan::new(ScanOptions::default()).expect("options");
        continued.resume_source("big.json", cut as u64, "configurationItems").expect("resume");
        continued.feed(&text.as_bytes()[cut..]).expect("feed");
        continued.end_source().expect("end");
        assert!(continued.finish(crate::ReportMeta::default()).expect_err("mid-source").to_string().contains("from the middle on"));
        assert!(first.finish(crate::ReportMeta::default()).expect_err("suspended").to_string().contains("never ended"));
    }

    /// Errors in a part read on its own scan name the offset in the whole source and the
    /// item's index counted from the cut.
    #[test]
    fn errors_in_a_part_count_offsets_from_the_source_and_items_from_the_cut() {
        let (text, cuts) = large_source();
        let cut = cuts[3] as usize;
        let damaged = text.replacen(r#""resourceType": "AWS::EC2::Instance""#, r#""resourceType": [5]"#, 1);
        let at = damaged.find(r#""resourceType": [5]"#).expect("damaged") as u64;
        let mut scan = Scan::new(ScanOptions::default()).expect("options");
        scan.resume_source("big.json", cut as u64, "configurationItems").expect("resume");
        let error = scan.feed(&damaged.as_bytes()[cut..]).expect_err("a bad item");
        let ScanError::InvalidItem { position, .. } = error else { panic!("{error:?}") };
        assert_eq!((position.source.as_str(), position.item_index), ("big.json", Some(2)), "the instance is the third item after the cut");
        let offset = position.offset.expect("an offset");
        assert!(offset > cut as u64 && offset < at, "{offset} is the item's start, after the cut {cut}, before {at}");
    }

    fn report_json(scan: Scan) -> Vec<u8> {
        let report = scan.finish(crate::ReportMeta { generated_at: "2026-11-03T00:00:00.000Z".to_owned(), ..Default::default() }).expect("finish");
        crate::render::json::render(&report).expect("render")
    }

    /// Every way of cutting the sources into consecutive groups, handed over in pieces of
    /// every size from one resource to all at once, gives the report one scan gives.
    #[test]
    fn absorbing_consecutive_groups_gives_the_same_report_as_one_scan() {
        let sources = sources();
        let expected = report_json(scan_of(&sources));
        let n = sources.len();
        for cuts in 0u32..(1 << (n - 1)) {
            let mut groups: Vec<Vec<(&str, String)>> = vec![Vec::new()];
            for (i, source) in sources.iter().enumerate() {
                if i > 0 && cuts & (1 << (i - 1)) != 0 {
                    groups.push(Vec::new());
                }
                groups.last_mut().expect("a group").push(source.clone());
            }
            for piece in [1, 200, usize::MAX] {
                let mut first = scan_of(&groups[0]);
                for group in &groups[1..] {
                    let mut other = scan_of(group);
                    loop {
                        let bytes = other.take_state(piece).expect("take");
                        if bytes.is_empty() {
                            break;
                        }
                        first.absorb_state(&bytes).expect("absorb");
                    }
                    assert!(other.begin_source("late.json").is_err(), "a scan that handed its state over reads nothing more");
                }
                assert_eq!(String::from_utf8_lossy(&report_json(first)), String::from_utf8_lossy(&expected), "groups {cuts:b}, pieces of {piece} bytes");
            }
        }
    }

    /// A scan that took in others' states hands all it holds over in turn.
    #[test]
    fn a_scan_that_took_states_in_hands_them_on() {
        let sources = sources();
        let expected = report_json(scan_of(&sources));
        let hand = |from: &mut Scan, to: &mut Scan| loop {
            let piece = from.take_state(150).expect("take");
            if piece.is_empty() {
                break;
            }
            to.absorb_state(&piece).expect("absorb");
        };
        let mut middle = scan_of(&sources[1..2]);
        hand(&mut scan_of(&sources[2..3]), &mut middle);
        middle.begin_source(sources[3].0).expect("begin");
        middle.feed(sources[3].1.as_bytes()).expect("feed");
        middle.end_source().expect("end");
        let mut first = scan_of(&sources[..1]);
        hand(&mut middle, &mut first);
        assert!(String::from_utf8_lossy(&report_json(first)) == String::from_utf8_lossy(&expected));
    }

    /// Findings taken in share their fixed texts, also when the taking scan met none of them
    /// itself (here it read only a notice): one copy per text, not one per finding.
    #[test]
    fn absorbed_findings_share_their_fixed_texts() {
        let sources = sources();
        let t1 = "2026-11-01T00:00:00.000Z";
        let volume = |id: &str| item("AWS::EC2::Volume", id, "us-east-1", t1, &format!(r#"{{"volumeId": "{id}", "encrypted": false}}"#), "{}");
        let mut first = scan_of(&sources[2..3]);
        for group in [[volume("vol-2"), volume("vol-3")], [volume("vol-4"), volume("vol-5")]] {
            let bytes = scan_of(&[("e.json", snapshot(&group))]).take_state(usize::MAX).expect("take");
            first.absorb_state(&bytes).expect("absorb");
        }
        let messages: Vec<&'static str> = first
            .runs
            .iter()
            .flat_map(|(_, recorded)| match &recorded.state {
                State::Live { checks, .. } => checks.iter().collect(),
                State::Gone => Vec::new(),
            })
            .map(|(_, check)| match check {
                Check::Done(Outcome { message: Text::Borrowed(message), path: Text::Borrowed(_), .. }) => *message,
                other => panic!("not a shared text: {other:?}"),
            })
            .collect();
        assert_eq!(messages.len(), 4);
        assert!(messages.iter().all(|m| std::ptr::eq(*m, messages[0])), "one copy of the text: {messages:?}");
    }

    /// Pieces name shared texts by the numbers earlier pieces gave them, so a piece out of
    /// order, or one of another hand-over, is refused and changes nothing; the right one
    /// still goes in after.
    #[test]
    fn pieces_out_of_order_or_from_another_hand_over_are_refused() {
        let sources = sources();
        let pieces = |group: &[(&str, String)]| {
            let mut other = scan_of(group);
            std::iter::from_fn(|| Some(other.take_state(1).expect("take")).filter(|p| !p.is_empty())).collect::<Vec<_>>()
        };
        let (b, d) = (pieces(&sources[1..2]), pieces(&sources[3..4]));
        assert!(b.len() >= 3 && d.len() >= 3, "one resource a piece: {} and {}", b.len(), d.len());
        let expected = {
            let mut first = scan_of(&sources[..1]);
            for piece in b.iter().chain(&d) {
                first.absorb_state(piece).expect("in order");
            }
            report_json(first)
        };
        let mut first = scan_of(&sources[..1]);
        let before = report_json(scan_of(&sources[..1]));
        for piece in [&b[1], &b[2]] {
            let error = first.absorb_state(piece).expect_err("before its hand-over's first piece");
            assert!(matches!(error, ScanError::InvalidState(ref m) if m.contains("order")), "{error:?}");
        }
        first.absorb_state(&b[0]).expect("first piece");
        let error = first.absorb_state(&b[2]).expect_err("a piece skipped");
        assert!(matches!(error, ScanError::InvalidState(ref m) if m.contains("order")), "{error:?}");
        let error = first.absorb_state(&d[1]).expect_err("a piece of another hand-over");
        assert!(matches!(error, ScanError::InvalidState(ref m) if m.contains("order")), "{error:?}");
        for piece in b[1..].iter().chain(&d) {
            first.absorb_state(piece).expect("in order after the refusals");
        }
        assert_eq!(report_json(first), expected);
        assert_ne!(expected, before);
    }

    #[test]
    fn shared_texts_keep_their_first_numbers_whatever_the_cache_holds() {
        // More texts than the cache has slots, so slots are shared and overwritten.
        let texts: Vec<&'static str> = (0..3 * RECENT_SLOTS).map(|i| &*Box::leak(format!("text {i}").into_boxed_str())).collect();
        let mut numbers = SharedNumbers::default();
        for (i, text) in texts.iter().enumerate() {
            assert_eq!(numbers.number(text), (i as u64, true));
        }
        for round in 0..2 {
            for (i, text) in texts.iter().enumerate().rev() {
                assert_eq!(numbers.number(text), (i as u64, false), "round {round}");
            }
        }
        // Same address, another length: another text.
        assert_eq!(numbers.number(&texts[1][..4]), (texts.len() as u64, true));
    }

    #[test]
    fn numbers_round_trip_in_their_shortest_form_only() {
        let mut out = Vec::new();
        let (mut strings, mut texts) = (Vec::new(), SharedNumbers::default());
        let values = [0, 1, 0x7f, 0x80, 300, 1 << 63, u64::MAX];
        for value in values {
            Writer { out: &mut out, strings: &mut strings, texts: &mut texts }.u64(value);
        }
        let mut reader = Reader { bytes: &out, at: 0, texts: "", text_at: 0, before: &[], received: Vec::new() };
        for value in values {
            assert_eq!(reader.u64().expect("read"), value);
        }
        assert!(reader.is_empty());
        for bad in [&[0x80, 0x00][..], &[0xff; 11][..], &[0x80][..]] {
            let mut reader = Reader { bytes: bad, at: 0, texts: "", text_at: 0, before: &[], received: Vec::new() };
            assert!(reader.u64().is_err(), "{bad:?}");
        }
        let mut reader = Reader { bytes: &[0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x02], at: 0, texts: "", text_at: 0, before: &[], received: Vec::new() };
        assert!(reader.u64().is_err(), "2^64 is not a u64");
    }

    #[test]
    fn damaged_or_foreign_state_is_refused_and_changes_nothing() {
        let sources = sources();
        let mut other = scan_of(&sources[1..2]);
        let bytes = other.take_state(usize::MAX).expect("take");
        let before = report_json(scan_of(&sources[..1]));
        for cut in [0, 3, MAGIC.len(), MAGIC.len() + 1, bytes.len() / 2, bytes.len() - 1] {
            let mut first = scan_of(&sources[..1]);
            let error = first.absorb_state(&bytes[..cut]).expect_err("cut short");
            assert!(matches!(error, ScanError::InvalidState(ref m) if m.contains("unusable")), "{cut}: {error:?}");
            assert_eq!(report_json(first), before, "a refused piece leaves the scan as it was");
        }
        // The text section: not UTF-8, a length at the end that does not fit, texts left over.
        let (records, texts) = split_texts(&bytes[MAGIC.len()..]).expect("a whole piece");
        assert!(!texts.is_empty() && texts.is_ascii());
        let text_start = MAGIC.len() + records.len();
        let mut not_utf8 = bytes.clone();
        not_utf8[text_start] = 0xff;
        let mut too_long = bytes.clone();
        let at = too_long.len() - 8;
        too_long[at..].copy_from_slice(&(bytes.len() as u64).to_le_bytes());
        let mut left_over = bytes[..bytes.len() - 8].to_vec();
        left_over.push(b'x');
        left_over.extend_from_slice(&(texts.len() as u64 + 1).to_le_bytes());
        for (damage, piece) in [("not UTF-8", not_utf8), ("too long", too_long), ("left over", left_over)] {
            let mut first = scan_of(&sources[..1]);
            let error = first.absorb_state(&piece).expect_err(damage);
            assert!(matches!(error, ScanError::InvalidState(ref m) if m.contains("unusable")), "{damage}: {error:?}");
            assert_eq!(report_json(first), before, "{damage}: a refused piece leaves the scan as it was");
        }
        let mut tagged = Scan::new(ScanOptions { criticality_tag: "Tier".to_owned(), ..ScanOptions::default() }).expect("options");
        let error = tagged.absorb_state(&bytes).expect_err("other options");
        assert!(matches!(error, ScanError::InvalidState(ref m) if m.contains("other options")), "{error:?}");
        let mut open = scan_of(&sources[..1]);
        open.begin_source("open.json").expect("begin");
        assert!(open.absorb_state(&bytes).is_err(), "not while a source is open");
        assert!(open.take_state(10).is_err(), "not while a source is open");
    }
}
