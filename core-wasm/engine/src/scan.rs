//! `Scan`: the batch-oriented driver. The host feeds each source's bytes in chunks; the scan
//! splits them into items, keeps the newest version of each resource as compact rule evidence,
//! and at `finish` decides every check and scores.

use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::collections::btree_map::Entry;

use bumpalo::Bump;

use crate::error::{Position, ScanError};
use crate::input::shape::{Found, items_in_document};
use crate::input::split::{Piece, Sink, Splitter, element_ends};
use crate::item::{ConfigItem, ItemStatus, Version};
use crate::report::{GLOBAL_REGION, TypeName, GroupSummary, InputSummary, ReportMeta, ResourceResult, ScoreReport, SourceStats, StatusCounts};
use crate::rules::{self, Check, Context, Contribution, PublicAccessFlags, RuleIndex, RuleParams, Severity, rule};
use crate::score::{Criticality, Tally, weight};

mod handover;
mod runs;

/// Notices kept verbatim in a report; further ones are only counted.
const MAX_NOTICES: usize = 50;

/// Options of one scan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScanOptions {
    /// Alert threshold in basis points (7000 = 70.00 %).
    pub threshold_bp: u32,
    /// Tag key that gives a resource's criticality (matched exactly).
    pub criticality_tag: String,
    /// Rule parameters.
    pub params: RuleParams,
    /// Largest single item or non-container document accepted, in bytes.
    pub max_item_bytes: usize,
}

impl Default for ScanOptions {
    fn default() -> Self {
        Self { threshold_bp: 7000, criticality_tag: "Criticality".to_owned(), params: RuleParams::default(), max_item_bytes: 64 << 20 }
    }
}

impl ScanOptions {
    /// Checks ranges; the engine refuses options that would make a report meaningless.
    pub fn validate(&self) -> Result<(), ScanError> {
        if self.threshold_bp > 10_000 {
            return Err(ScanError::InvalidOption(format!("threshold {} bp is above 100 %", self.threshold_bp)));
        }
        if self.criticality_tag.is_empty() {
            return Err(ScanError::InvalidOption("the criticality tag key is empty".to_owned()));
        }
        if self.params.required_tags.iter().any(|t| t.trim().is_empty()) {
            return Err(ScanError::InvalidOption("a required tag key is empty".to_owned()));
        }
        if self.max_item_bytes == 0 {
            return Err(ScanError::InvalidOption("the item size limit is zero".to_owned()));
        }
        Ok(())
    }
}

/// A resource's identity: type, id, account, region (global types: `global`), ordered as
/// those four texts are, byte by byte. A type the engine knows is its shared name, so keys
/// compare without reading a copy of it from elsewhere in memory.
#[derive(Debug, Clone, PartialEq, Eq)]
struct ResourceKey(TypeName, String, String, String);

impl Ord for ResourceKey {
    /// The same order as comparing the texts in turn, but cheaper where the cost is: the map
    /// of resources and the merges of taken-in runs compare keys of mostly the same type (the
    /// engine's own type names are one constant each, so equal ones are the same text) and ids
    /// that differ early or share long prefixes, compared a word at a time.
    fn cmp(&self, other: &Self) -> Ordering {
        let by_type = if same_text(&self.0, &other.0) { Ordering::Equal } else { text_order(&self.0, &other.0) };
        by_type.then_with(|| self.cmp_within_type(other))
    }
}

/// Whether `a` and `b` are the same text in memory (address and length): how the engine's own
/// type names, one shared text each, are told equal without reading them.
#[inline(always)]
fn same_text(a: &str, b: &str) -> bool {
    std::ptr::eq(a, b)
}

impl ResourceKey {
    /// The order of two keys of one type: by id, then account, then region.
    #[inline(always)]
    fn cmp_within_type(&self, other: &Self) -> Ordering {
        text_order(&self.1, &other.1).then_with(|| text_order(&self.2, &other.2)).then_with(|| text_order(&self.3, &other.3))
    }
}

impl PartialOrd for ResourceKey {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// `a.cmp(b)`, byte by byte, a word at a time and without a call (inside the component
/// `memcmp` is a call into a byte loop, and the engine's hot paths compare many keys; ids and
/// accounts often share long prefixes, and equal texts are compared whole).
#[inline(always)]
fn text_order(a: &str, b: &str) -> Ordering {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let (mut x, mut y) = (a, b);
    // Big-endian words order as their bytes do. Two words a step: inside the component every
    // step of a loop also checks the call's deadline (see BENCHMARKS.md, round 21).
    while let (Some((x_words, x_rest)), Some((y_words, y_rest))) = (x.split_first_chunk::<16>(), y.split_first_chunk::<16>()) {
        let (p, q) = (u128::from_be_bytes(*x_words), u128::from_be_bytes(*y_words));
        if p != q {
            return p.cmp(&q);
        }
        (x, y) = (x_rest, y_rest);
    }
    if let (Some((x_word, x_rest)), Some((y_word, y_rest))) = (x.split_first_chunk::<8>(), y.split_first_chunk::<8>()) {
        let (p, q) = (u64::from_be_bytes(*x_word), u64::from_be_bytes(*y_word));
        if p != q {
            return p.cmp(&q);
        }
        (x, y) = (x_rest, y_rest);
    }
    // Less than a word is left of the shorter text. When the two share a word or more, the
    // word that ends where the shorter ends overlaps bytes found equal, and finds the first
    // difference in the rest; shorter texts are compared whole. Then the lengths decide
    // between texts equal that far (a text is after its own prefix).
    let common = a.len().min(b.len());
    let last = |bytes: &[u8]| bytes.get(..common).and_then(<[u8]>::last_chunk::<8>).map(|word| u64::from_be_bytes(*word));
    let by_bytes = match (last(a), last(b)) {
        (Some(p), Some(q)) => p.cmp(&q),
        _ => x.cmp(y),
    };
    by_bytes.then(a.len().cmp(&b.len()))
}

#[derive(Debug)]
struct Recorded {
    version: Version,
    state: State,
}

#[derive(Debug)]
enum State {
    Gone,
    Live {
        arn: Option<String>,
        name: Option<String>,
        criticality: Criticality,
        checks: Vec<(RuleIndex, Check)>,
        contribution: Option<Contribution>,
    },
}

#[derive(Debug)]
struct OpenSource {
    splitter: Splitter,
    index: usize,
    items: u64,
}

/// The scan as the sink of its open source's splitter: source `source`, `items` read so far.
struct Reading<'s> {
    scan: &'s mut Scan,
    source: usize,
    items: &'s mut u64,
}

impl Sink for Reading<'_> {
    fn piece(&mut self, piece: Piece) -> Result<(), ScanError> {
        self.scan.accept_piece(self.source, self.items, piece)
    }

    fn item(&mut self, text: &str, offset: u64, expected: usize) -> Result<Option<usize>, ScanError> {
        self.scan.read_item_in_place(self.source, self.items, text, offset, expected)
    }
}

/// Resources recorded in arrival order before they are sorted into a run: large enough that
/// few runs are merged, small enough to sort in cache (an entry is about 200 bytes). The
/// engine's own tests use a handful, so that their scans sort and merge many runs.
const ARRIVALS: usize = if cfg!(test) { 5 } else { 4096 };

/// The most arena memory kept from one piece of input to the next (items are a few KB).
const KEPT_ARENA_BYTES: usize = 16 << 20;

/// An in-progress scan.
#[derive(Debug)]
pub struct Scan {
    options: ScanOptions,
    /// What this scan read last, in the order it came: sorted into a run every [`ARRIVALS`]
    /// resources (one sort costs about half the key comparisons of putting each resource
    /// into a map as it comes, and comparisons were most of the map's cost).
    arrivals: Vec<Option<(ResourceKey, Recorded)>>,
    /// Everything recorded or taken in before, as sorted runs, oldest first.
    runs: runs::Runs,
    /// Everything, in key order, once the scan hands its state over.
    resources: runs::Run,
    input: InputSummary,
    notices_seen: u64,
    open: Option<OpenSource>,
    /// Holds the parsed form of one piece of input at a time; emptied (keeping its memory) after
    /// each piece.
    arena: Bump,
    /// The waiver file, when the host gave one.
    waivers: Option<crate::waiver::WaiverFile>,
    /// Whether the state is being handed to another scan ([`Scan::take_state`]).
    handover: handover::Handover,
    /// How this scan's hand-overs, given or taken in, number their pieces and shared texts.
    numbering: handover::Numbering,
    /// This scan's first source is the rest of a source another scan began: it starts at this
    /// cut (offset, encoded items), and the scan's state goes to the scan that read what came
    /// before ([`Scan::resume_source`]).
    continues: Option<Cut>,
    /// This scan's last source is not ended: its reading stopped at this cut and goes on after
    /// it, here or in the scan that takes this one's state ([`Scan::suspend_source`]).
    suspended: Option<Cut>,
}

/// A place between two elements of a source's item array: its offset and whether the
/// elements are encoded items (see [`Splitter::cut`]).
type Cut = (u64, bool);

impl Scan {
    /// Starts a scan.
    pub fn new(options: ScanOptions) -> Result<Self, ScanError> {
        options.validate()?;
        Ok(Self {
            options,
            arrivals: Vec::new(),
            runs: runs::Runs::default(),
            resources: runs::Run::default(),
            input: InputSummary::default(),
            notices_seen: 0,
            open: None,
            arena: Bump::new(),
            waivers: None,
            handover: handover::Handover::None,
            numbering: handover::Numbering::default(),
            continues: None,
            suspended: None,
        })
    }

    /// Gives the scan a waiver file (YAML or JSON), validated now; at most once, before
    /// `finish`. Waivers mark findings and make `score_with_waivers_bp`; `score_bp` is unchanged.
    pub fn set_waivers(&mut self, name: &str, bytes: &[u8]) -> Result<(), ScanError> {
        if let Some(existing) = &self.waivers {
            return Err(ScanError::InvalidState(format!("the waiver file `{}` is already set", existing.name)));
        }
        self.waivers = Some(crate::waiver::parse(name, bytes)?);
        Ok(())
    }

    /// Starts reading the source named `name`.
    pub fn begin_source(&mut self, name: &str) -> Result<(), ScanError> {
        self.none_open()?;
        self.may_read()?;
        self.input.sources.push(SourceStats { name: name.to_owned(), items: 0 });
        self.open = Some(OpenSource { splitter: Splitter::new(name, self.options.max_item_bytes), index: self.input.sources.len() - 1, items: 0 });
        Ok(())
    }

    /// Whether the scan may open a source: it has not handed its state over, and no source of
    /// it waits to be resumed.
    fn may_read(&self) -> Result<(), ScanError> {
        if self.handover != handover::Handover::None {
            return Err(ScanError::InvalidState("this scan has handed its state to another scan and reads nothing more".to_owned()));
        }
        if self.suspended.is_some() {
            let name = self.input.sources.last().map(|s| s.name.as_str()).unwrap_or_default();
            return Err(ScanError::InvalidState(format!("source `{name}` was suspended: resume and end it first")));
        }
        Ok(())
    }

    /// Stops reading the open source at a cut between two elements of its item array (after
    /// the array's `[` or a `,`, before the next element) without ending it, so that another
    /// scan can read the rest at the same time ([`Scan::resume_source`]) and hand its state to
    /// this one, or this one resumes it. Returns the items read from the source so far.
    /// An error, changing nothing, when the source is not at such a cut.
    pub fn suspend_source(&mut self) -> Result<u64, ScanError> {
        let open = self.open.as_ref().ok_or_else(|| ScanError::InvalidState("suspending without an open source".to_owned()))?;
        let Some(cut) = open.splitter.cut() else {
            let name = self.input.sources.get(open.index).map(|s| s.name.as_str()).unwrap_or_default();
            return Err(ScanError::InvalidState(format!("source `{name}` cannot be suspended here: it is not between two items of an item array")));
        };
        let items = open.items;
        let index = open.index;
        self.open = None;
        if let Some(stats) = self.input.sources.get_mut(index) {
            stats.items = items;
        }
        self.suspended = Some(cut);
        Ok(items)
    }

    /// Goes on reading source `name` from byte `offset`, a cut between two elements of its item
    /// array named `item_array` (`configurationItems`, `baseConfigurationItems` or `Results`).
    /// Either this scan suspended that source at that cut and reads on, or this is a new scan
    /// that has read nothing: it then reads the source's rest from there on (counting items
    /// from 0, offsets from the source's start) and can only hand its state over, to the scan
    /// that read what came before, which checks that it suspended the source at that very cut.
    pub fn resume_source(&mut self, name: &str, offset: u64, item_array: &str) -> Result<(), ScanError> {
        self.none_open()?;
        if self.handover != handover::Handover::None {
            return Err(ScanError::InvalidState("this scan has handed its state to another scan and reads nothing more".to_owned()));
        }
        let splitter = Splitter::resume(name, self.options.max_item_bytes, offset, item_array)
            .ok_or_else(|| ScanError::InvalidOption(format!("`{item_array}` is not an array of configuration items")))?;
        // Byte 0 to 2 cannot be inside an array of a top-level object.
        let cut = splitter.cut().ok_or_else(|| ScanError::InvalidOption(format!("byte {offset} cannot be between two items of `{item_array}`")))?;
        let index = match (self.suspended, self.input.sources.last()) {
            (Some(suspended), Some(last)) if last.name == name && suspended == cut => self.input.sources.len() - 1,
            (Some(_), Some(last)) => {
                return Err(ScanError::InvalidState(format!("source `{}` was suspended elsewhere than where `{name}` resumes at byte {offset}", last.name)));
            }
            (None, None) if self.continues.is_none() => {
                self.continues = Some(cut);
                self.input.sources.push(SourceStats { name: name.to_owned(), items: 0 });
                0
            }
            _ => return Err(ScanError::InvalidState(format!("source `{name}` can only be resumed by the scan that suspended it, or by a scan that has read nothing"))),
        };
        let items = self.input.sources.get(index).map_or(0, |s| s.items);
        self.suspended = None;
        self.open = Some(OpenSource { splitter, index, items });
        Ok(())
    }

    /// Feeds the next chunk of the open source. Returns the number of items read so far from it.
    pub fn feed(&mut self, chunk: &[u8]) -> Result<u64, ScanError> {
        let mut open = self.open.take().ok_or_else(|| ScanError::InvalidState("feed without an open source".to_owned()))?;
        let OpenSource { splitter, index, items } = &mut open;
        let result = splitter.feed(chunk, &mut Reading { scan: self, source: *index, items });
        let items = open.items;
        self.open = Some(open);
        result.map(|()| items)
    }

    /// Ends the open source; an error when it was truncated or held no JSON at all.
    pub fn end_source(&mut self) -> Result<u64, ScanError> {
        let open = self.open.take().ok_or_else(|| ScanError::InvalidState("end of source without an open source".to_owned()))?;
        open.splitter.finish()?;
        let name = self.source_name(open.index);
        if open.splitter.top_level_values() == 0 {
            return Err(ScanError::UnsupportedShape { position: Position { source: name, offset: Some(0), item_index: None }, message: "the source holds no JSON value".to_owned() });
        }
        if let Some(stats) = self.input.sources.get_mut(open.index) {
            stats.items = open.items;
        }
        Ok(open.items)
    }

    /// Runs `read` with the scan's arena lent out (so the values it holds can live while the
    /// scan records them), and empties the arena after.
    fn in_arena<T>(&mut self, read: impl FnOnce(&mut Self, &Bump) -> T) -> T {
        let mut arena = std::mem::take(&mut self.arena);
        let result = read(self, &arena);
        // Reset keeps the arena's largest block for the next piece; after an exceptionally large
        // document that memory is given back instead.
        if arena.allocated_bytes() <= KEPT_ARENA_BYTES {
            arena.reset();
            self.arena = arena;
        }
        result
    }

    fn accept_piece(&mut self, source: usize, items: &mut u64, piece: Piece) -> Result<(), ScanError> {
        self.in_arena(|scan, arena| {
            let (bytes, offset, is_item) = match piece {
                Piece::Item { bytes, offset, .. } => (bytes, offset, true),
                Piece::Document { bytes, offset } => (bytes, offset, false),
            };
            let value = crate::value::Value::parse(&bytes, arena).map_err(|e| parse_error(&e, &bytes, scan.position(source, offset, None)))?;
            // An item is the piece itself (no list to allocate); a document lists what it holds.
            if is_item {
                return scan.accept_item(source, items, value, offset, arena);
            }
            let listed = items_in_document(value, arena).map_err(|message| ScanError::UnsupportedShape { position: scan.position(source, offset, None), message })?;
            for entry in listed {
                match entry {
                    Found::Item(raw) => scan.accept_item(source, items, raw, offset, arena)?,
                    Found::Notice(text) => {
                        scan.notices_seen += 1;
                        if scan.input.notices.len() < MAX_NOTICES {
                            let notice = format!("{}: {text}", scan.source_name(source));
                            scan.input.notices.push(notice);
                        }
                    }
                }
            }
            Ok(())
        })
    }

    /// Reads the item at the start of `text` in place (see [`Sink::item`]), when the fast
    /// reader reads it and it ends where the splitter would have ended it.
    fn read_item_in_place(&mut self, source: usize, items: &mut u64, text: &str, offset: u64, expected: usize) -> Result<Option<usize>, ScanError> {
        self.in_arena(|scan, arena| {
            let Some((value, end)) = crate::value::Value::parse_prefix(text, expected, arena) else { return Ok(None) };
            if !element_ends(text.as_bytes(), end) {
                return Ok(None);
            }
            scan.accept_item(source, items, value, offset, arena).map(|()| Some(end))
        })
    }

    /// One more item of source `source` (of the element at `offset`), recorded when it is a
    /// resource.
    fn accept_item<'a>(&mut self, source: usize, items: &mut u64, raw: crate::value::Value<'a>, offset: u64, arena: &'a Bump) -> Result<(), ScanError> {
        let index = *items;
        *items += 1;
        self.input.items += 1;
        let item = ConfigItem::from_value(raw, arena).map_err(|message| ScanError::InvalidItem { position: self.position(source, offset, Some(index)), message })?;
        match item {
            Some(item) => self.record(item),
            None => *self.input.other_resources.entry("(unrecognised item)".to_owned()).or_default() += 1,
        }
        Ok(())
    }

    /// A position in source `source` (the name is copied only into an error, not per piece).
    fn position(&self, source: usize, offset: u64, item_index: Option<u64>) -> Position {
        Position { source: self.source_name(source), offset: Some(offset), item_index }
    }

    /// An error when a source is open: another cannot begin or resume until it ends.
    fn none_open(&self) -> Result<(), ScanError> {
        match &self.open {
            Some(open) => Err(ScanError::InvalidState(format!("source `{}` is still open", self.source_name(open.index)))),
            None => Ok(()),
        }
    }

    /// The name of source `source`, copied.
    fn source_name(&self, source: usize) -> String {
        self.input.sources.get(source).map(|s| s.name.clone()).unwrap_or_default()
    }

    fn record(&mut self, item: ConfigItem<'_>) {
        // Global types are recorded by every region that records them: one resource of the
        // account, whose newest item wins whichever region delivered it.
        let region = if item.resource_type.starts_with("AWS::IAM::") { GLOBAL_REGION } else { item.region };
        let key = ResourceKey(type_name(item.resource_type), item.resource_id.to_owned(), item.account_id.to_owned(), region.to_owned());
        let recorded = recorded(&self.options, item);
        self.arrivals.push(Some((key, recorded)));
        if self.arrivals.len() >= ARRIVALS {
            self.settle();
        }
    }

    /// Sorts what arrived into a run after the others. Of several versions of a resource the
    /// newest is kept; on a tie the one recorded first stays, so the result depends on nothing
    /// but the input order, which the host fixes. (Resources taken in from other scans are
    /// kept the same way when runs merge.)
    fn settle(&mut self) {
        let run = runs::Run::from_arrivals(&mut self.arrivals, &mut self.input.superseded_items);
        self.runs.push(run, &mut self.input.superseded_items);
    }

    /// Decides every check and scores. The scan cannot be fed afterwards.
    pub fn finish(self, meta: ReportMeta) -> Result<ScoreReport, ScanError> {
        if let Some(open) = &self.open {
            let name = self.source_name(open.index);
            return Err(ScanError::InvalidState(format!("source `{name}` was not ended")));
        }
        if self.handover != handover::Handover::None {
            return Err(ScanError::InvalidState("this scan has handed its state to another scan: that scan finishes".to_owned()));
        }
        if self.suspended.is_some() {
            let name = self.input.sources.last().map(|s| s.name.clone()).unwrap_or_default();
            return Err(ScanError::InvalidState(format!("source `{name}` was suspended and never ended")));
        }
        if self.continues.is_some() {
            let name = self.input.sources.first().map(|s| s.name.clone()).unwrap_or_default();
            return Err(ScanError::InvalidState(format!("this scan read source `{name}` from the middle on: the scan that read its start finishes")));
        }
        let Scan { options, mut arrivals, mut runs, mut input, notices_seen, waivers, .. } = self;
        let mut waivers = crate::waiver::evaluate(waivers.as_ref(), &meta.generated_at)?;
        if notices_seen > input.notices.len() as u64 {
            input.notices.push(format!("… and {} more notices", notices_seen - input.notices.len() as u64));
        }
        // Every resource in order, once: what arrived last becomes a run, and the runs merge.
        runs.push(runs::Run::from_arrivals(&mut arrivals, &mut input.superseded_items), &mut input.superseded_items);
        let all = runs.into_one(&mut input.superseded_items);
        let (count, context) = (all.len(), context(all.iter().map(|(key, recorded)| (key, recorded))));

        let mut overall = Tally::default();
        let mut overall_with_waivers = Tally::default();
        let mut totals = StatusCounts::default();
        let mut by_severity = Severity::ALL.map(|s| (s, StatusCounts::default()));
        let mut by_resource_type: BTreeMap<String, GroupSummary> = BTreeMap::new();
        // Account → region → summary: looked up without copying the two texts per resource.
        let mut by_account_then_region: BTreeMap<String, BTreeMap<String, GroupSummary>> = BTreeMap::new();
        let mut results = Vec::with_capacity(count);
        for (ResourceKey(resource_type, resource_id, account_id, region), recorded) in all {
            let State::Live { arn, name, criticality, checks, .. } = recorded.state else {
                input.skipped_resources += 1;
                continue;
            };
            if checks.is_empty() {
                *input.other_resources.entry(resource_type.into_owned()).or_default() += 1;
                continue;
            }
            let mut tally = Tally::default();
            let mut findings: Vec<_> = checks
                .into_iter()
                .map(|(index, check)| {
                    let outcome = check.resolve(&context, &account_id);
                    let severity = rule(index).severity;
                    let non_compliant = outcome.status == crate::rules::Status::NonCompliant;
                    let waiver = waivers.waiver_for(index, non_compliant, arn.as_deref(), &resource_type, &resource_id, &account_id);
                    tally.add(outcome.status, weight(severity, criticality));
                    let counted = if waiver.is_some() { crate::rules::Status::Compliant } else { outcome.status };
                    overall_with_waivers.add(counted, weight(severity, criticality));
                    totals.add(outcome.status);
                    if let Some((_, counts)) = by_severity.iter_mut().find(|(s, _)| *s == severity) {
                        counts.add(outcome.status);
                    }
                    crate::report::Finding { rule: index, status: outcome.status, message: outcome.message, path: outcome.path, waiver }
                })
                .collect();
            findings.sort_by_key(|f| rules::id_rank(f.rule));
            overall.merge(tally);
            let failing = findings.iter().any(|f| f.status == crate::rules::Status::NonCompliant);
            // Resources come in type order: their type's summary is the last one, or a new one.
            match by_resource_type.last_entry() {
                Some(mut last) if *last.key() == *resource_type => last.get_mut().add(tally, failing),
                _ => by_resource_type.entry(resource_type.to_string()).or_default().add(tally, failing),
            }
            update(&mut by_account_then_region, &account_id, |regions| update(regions, &region, |summary| summary.add(tally, failing)));
            results.push(ResourceResult { resource_type, resource_id, resource_name: name, arn, account_id, region, criticality, score_bp: tally.score_bp(), findings });
        }
        input.evaluated_resources = results.len() as u64;
        let by_account_region: BTreeMap<(String, String), GroupSummary> = by_account_then_region
            .into_iter()
            .flat_map(|(account, regions)| regions.into_iter().map(move |(region, summary)| ((account.clone(), region), summary)))
            .collect();
        Ok(ScoreReport {
            meta,
            threshold_bp: options.threshold_bp,
            score_bp: overall.score_bp(),
            tally: overall,
            tally_with_waivers: overall_with_waivers,
            waivers,
            criticality_tag: options.criticality_tag,
            required_tags: options.params.required_tags,
            input,
            totals,
            by_severity,
            by_resource_type,
            by_account: merged(&by_account_region, |(account, _)| account),
            by_region: merged(&by_account_region, |(_, region)| region),
            by_account_region,
            resources: results,
            given_ids: crate::ids::GivenIds::default(),
        })
    }
}

/// A resource type's name: shared when the engine knows the type.
fn type_name(name: &str) -> TypeName {
    crate::item::known_type(name).map_or_else(|| TypeName::Owned(name.to_owned()), TypeName::Borrowed)
}

/// What phase two needs to know of other resources: the newest contribution of each volume
/// and of each account's public access block (several regions may record it). On a tie in
/// version the one later in resource order wins, as it always has. A volume's versions in
/// several accounts or regions are neighbours in resource order (type, then id), so the newest
/// of each is found without a map, and the volume lookup is built from ids already in order.
fn context<'r>(resources: impl Iterator<Item = (&'r ResourceKey, &'r Recorded)>) -> Context {
    let mut volumes: Vec<(&str, Version, bool)> = Vec::new();
    let mut accounts: BTreeMap<&str, (Version, PublicAccessFlags)> = BTreeMap::new();
    for (ResourceKey(_, id, account, _), recorded) in resources {
        let State::Live { contribution: Some(contribution), .. } = &recorded.state else { continue };
        let version = recorded.version;
        match *contribution {
            Contribution::VolumeEncrypted(encrypted) => match volumes.last_mut() {
                Some(last) if last.0 == id => {
                    if last.1 <= version {
                        *last = (id, version, encrypted);
                    }
                }
                _ => volumes.push((id, version, encrypted)),
            },
            Contribution::AccountPublicAccess(flags) => match accounts.entry(account) {
                Entry::Occupied(mut kept) if kept.get().0 <= version => {
                    kept.insert((version, flags));
                }
                Entry::Occupied(_) => {}
                Entry::Vacant(slot) => {
                    slot.insert((version, flags));
                }
            },
        }
    }
    Context {
        account_public_access: accounts.into_iter().map(|(account, (_, flags))| (account.to_owned(), flags)).collect(),
        volumes: volumes.into_iter().map(|(id, _, encrypted)| (id.to_owned(), encrypted)).collect(),
    }
}

/// Changes the value kept under `key`, made on first use: one search, and the key is copied
/// only when it is new.
fn update<V: Default>(map: &mut BTreeMap<String, V>, key: &str, change: impl FnOnce(&mut V)) {
    match map.get_mut(key) {
        Some(value) => change(value),
        None => change(map.entry(key.to_owned()).or_default()),
    }
}

/// Account-region parts added up by account or by region.
fn merged(parts: &BTreeMap<(String, String), GroupSummary>, key: impl Fn(&(String, String)) -> &String) -> BTreeMap<String, GroupSummary> {
    let mut out: BTreeMap<String, GroupSummary> = BTreeMap::new();
    for (part, summary) in parts {
        out.entry(key(part).clone()).or_default().merge(summary);
    }
    out
}

/// What the scan keeps of an item: its version, and for a live resource the rule evidence.
fn recorded(options: &ScanOptions, item: ConfigItem<'_>) -> Recorded {
    let state = match item.status {
        ItemStatus::Gone => State::Gone,
        ItemStatus::Live => State::Live {
            criticality: Criticality::from_tag(item.tags.get(options.criticality_tag.as_str())),
            checks: rules::extract(&item, &options.params),
            contribution: rules::contribution(&item),
            arn: item.arn.map(str::to_owned),
            name: item.resource_name.map(str::to_owned),
        },
    };
    Recorded { version: item.version, state }
}

/// Converts a parser error inside a piece into an error at an absolute byte offset.
fn parse_error(error: &serde_json::Error, bytes: &[u8], mut position: Position) -> ScanError {
    let mut line_start = 0usize;
    for _ in 1..error.line() {
        match bytes.get(line_start..).and_then(|rest| rest.iter().position(|b| *b == b'\n')) {
            Some(newline) => line_start += newline + 1,
            None => break,
        }
    }
    let within = line_start + error.column().saturating_sub(1);
    position.offset = position.offset.map(|start| start + within as u64);
    let message = error.to_string();
    let message = message.split(" at line ").next().unwrap_or(&message).to_owned();
    if message.contains("recursion limit") {
        return ScanError::LimitExceeded { position, message: "JSON nesting is deeper than 128 levels".to_owned() };
    }
    ScanError::MalformedJson { position, message }
}

/// A repeatable random number below `n` on each call (xorshift from `seed`), for the
/// randomized tests of the scan, its runs, the JSON reader and the capture times.
#[cfg(test)]
pub(crate) fn random_below(seed: u64) -> impl FnMut(u64) -> u64 {
    let mut rng = seed;
    move |n| {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng % n
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(configuration: &str) -> Vec<u8> {
        format!(r#"{{"configurationItems": [{{"resourceType": "AWS::EC2::Volume", "resourceId": "vol-1", "configuration": {configuration}}}]}}"#).into_bytes()
    }

    /// The word-first comparison orders texts exactly as comparing their bytes does: texts
    /// shorter and longer than a word, sharing prefixes, holding zero bytes and high bytes.
    #[test]
    fn keys_compare_as_their_texts_do() {
        let mut next = random_below(0x9e37_79b9_7f4a_7c15);
        let alphabet = ["\0", "a", "b", "z", "-", "é", "\u{7f}"];
        let text = |next: &mut dyn FnMut(u64) -> u64| {
            let mut t = String::from(["", "vol-0", "i-0a", "AWS::EC2::"][next(4) as usize]);
            for _ in 0..next(40) {
                t.push_str(alphabet[next(alphabet.len() as u64) as usize]);
            }
            t
        };
        for _ in 0..20_000 {
            let (a, b) = (text(&mut next), text(&mut next));
            assert_eq!(text_order(&a, &b), a.as_bytes().cmp(b.as_bytes()), "{a:?} {b:?}");
            assert_eq!(text_order(&a, &a), Ordering::Equal);
            let key = |t: &str, id: &str| ResourceKey(type_name(t), id.to_owned(), "1".to_owned(), "r".to_owned());
            let texts = |k: &ResourceKey| (k.0.to_string(), k.1.clone(), k.2.clone(), k.3.clone());
            // Another type (an unknown one, owned), and the same known type with other ids.
            for (x, y) in [(key("AWS::EC2::Volume", &a), key(&b, &a)), (key("AWS::EC2::Volume", &a), key("AWS::EC2::Volume", &b))] {
                assert_eq!(x.cmp(&y), texts(&x).cmp(&texts(&y)), "{x:?} {y:?}");
            }
        }
    }

    /// Items read in place (a chunk holds them whole) give the scan, or the error, that items
    /// the splitter delimits give (one byte a chunk: none is ever whole in its chunk): items
    /// with floats, escapes and whitespace around them; items encoded in strings; something
    /// after an item; an item exactly as large as the limit and one byte larger; text that is
    /// not UTF-8 after an item.
    #[test]
    fn items_read_in_place_read_as_delimited_items() {
        let volume = |id: &str, extra: &str| format!(r#"{{"resourceType": "AWS::EC2::Volume", "resourceId": "{id}", "awsRegion": "eu-west-1", "configuration": {{"encrypted": false{extra}}}}}"#);
        let (a, b) = (volume("vol-a", ""), volume("vol-b", r#", "size": 1.5, "note": "\u00e9\n""#));
        let limit = a.len();
        let encoded = |item: &str| serde_json::to_string(item).unwrap_or_default();
        let (encoded_a, encoded_b) = (encoded(&a), encoded(&b));
        let inputs: Vec<Vec<u8>> = [
            format!(r#"{{"configurationItems": [{a}, {b}]}}"#),
            format!("{{\"configurationItems\": [ {a} \n, \t{b}\r\n ] }}"),
            format!(r#"{{"configurationItems": [{a} x, {b}]}}"#),
            format!(r#"{{"configurationItems": [{a}{b}]}}"#),
            format!(r#"{{"configurationItems": [{a}, {b} ]"#),
            format!(r#"{{"configurationItems": [{a},]}}"#),
            format!(r#"{{"configurationItems": [{a}}}]}}"#),
            format!(r#"{{"configurationItems": [{a}, {a} ], "baseConfigurationItems": [{b}]}}"#),
            format!(r#"{{"configurationItems": [{a}, {a}  ]}}"#),
            format!(r#"{{"Results": [{encoded_a}, {encoded_b} ]}}"#),
            format!(r#"{{"Results": [{encoded_a}x, {encoded_b}]}}"#),
            format!(r#"{{"Results": [{encoded_a}, {a}, 7]}}"#),
        ]
        .into_iter()
        .map(String::into_bytes)
        .chain([{
            let mut bytes = format!(r#"{{"configurationItems": [{a}, "#).into_bytes();
            bytes.extend_from_slice(b"\"\xff\"]}");
            bytes
        }])
        .collect();
        let meta = || ReportMeta { generated_at: "2026-01-01T00:00:00Z".into(), ..ReportMeta::default() };
        let scan = |input: &[u8], chunk: usize, limit: usize| {
            let mut scan = Scan::new(ScanOptions { max_item_bytes: limit, ..ScanOptions::default() }).map_err(|e| e.to_string())?;
            scan.begin_source("in.json").map_err(|e| e.to_string())?;
            input.chunks(chunk).try_for_each(|piece| scan.feed(piece).map(drop)).map_err(|e| e.to_string())?;
            scan.end_source().map_err(|e| e.to_string())?;
            scan.finish(meta()).map_err(|e| e.to_string())
        };
        let mut scored = 0;
        for input in &inputs {
            for limit in [1 << 20, limit, limit + 1, limit + 2, limit - 1] {
                let shown = String::from_utf8_lossy(input);
                let whole = scan(input, input.len(), limit);
                assert_eq!(whole, scan(input, 1, limit), "{shown} (limit {limit})");
                assert_eq!(whole, scan(input, 97, limit), "{shown} (limit {limit})");
                scored += usize::from(whole.is_ok());
            }
        }
        assert!(scored >= 8, "{scored} inputs scored");
    }

    #[test]
    fn the_arena_keeps_its_memory_between_items_unless_one_was_huge() {
        let mut scan = Scan::new(ScanOptions::default()).expect("options");
        scan.begin_source("small.json").expect("begin");
        scan.feed(&item(r#"{"encrypted": true}"#)).expect("small item");
        let kept = scan.arena.allocated_bytes();
        assert!(kept > 0, "the arena is kept for the next item");
        // A million numbers: tens of MB of values in the arena, which are given back after.
        let huge = format!(r#"{{"encrypted": true, "list": [{}0]}}"#, "0,".repeat(1_000_000));
        scan.feed(&item(&huge)).expect("huge item");
        assert!(scan.arena.allocated_bytes() <= kept, "{} bytes kept", scan.arena.allocated_bytes());
        scan.end_source().expect("end");
        assert_eq!(scan.input.items, 2);
    }
}
