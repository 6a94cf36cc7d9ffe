//! A scan's resources as sorted runs: what it read, a few thousand resources at a time, and
//! what it took in from other scans.
//!
//! A scan that takes in the states of many others (the first instance of a parallel scan takes
//! in every other group) used to search its whole map for each resource it took in: at 100k
//! resources that search, comparing keys whose texts lie all over memory, was the largest part
//! of a hand-over. A hand-over arrives in key order, so it is kept as a run as it comes; runs
//! of about the same length are merged (one comparison per resource, in order), so each
//! resource is moved a logarithmic number of times and `finish` merges a few runs at most.
//! Runs are stored in chunks that a merge gives back as it consumes them, so merging never
//! holds a run twice. What a scan reads itself is sorted into a run every few thousand items
//! ([`Run::from_arrivals`]): about half the key comparisons of a map searched per item.
//!
//! Runs keep arrival order: a merge of an earlier and a later run keeps, for a key in both,
//! the newer version (on a tie the earlier one) and counts the other as superseded — what one
//! map fed everything in the same order would keep.

use std::cmp::Ordering;

use super::{Recorded, ResourceKey, same_text};

type Entry = (ResourceKey, Recorded);

/// Resources per chunk (a chunk is about 200 KB).
const CHUNK: usize = 1024;

/// Resources in key order, each key once.
#[derive(Debug, Default)]
pub(super) struct Run {
    /// Full chunks of [`CHUNK`] entries but for the last.
    chunks: Vec<Vec<Entry>>,
}

impl Run {
    pub(super) fn len(&self) -> usize {
        self.chunks.last().map_or(0, |last| (self.chunks.len() - 1) * CHUNK + last.len())
    }

    fn push(&mut self, entry: Entry) {
        match self.chunks.last_mut() {
            Some(chunk) if chunk.len() < CHUNK => chunk.push(entry),
            _ => {
                let mut chunk = Vec::with_capacity(CHUNK);
                chunk.push(entry);
                self.chunks.push(chunk);
            }
        }
    }

    pub(super) fn iter(&self) -> impl Iterator<Item = &Entry> {
        self.chunks.iter().flatten()
    }

    /// The entries from the `at`th on (none when there are fewer).
    pub(super) fn iter_from(&self, at: usize) -> impl Iterator<Item = &Entry> {
        let first = self.chunks.get(at / CHUNK).and_then(|chunk| chunk.get(at % CHUNK..)).unwrap_or_default();
        first.iter().chain(self.chunks.iter().skip(at / CHUNK + 1).flatten())
    }

    /// The first entry, if any.
    fn first(&self) -> Option<&Entry> {
        self.chunks.first().and_then(|chunk| chunk.first())
    }

    /// The last entry, if any.
    fn last(&self) -> Option<&Entry> {
        self.chunks.last().and_then(|chunk| chunk.last())
    }

    /// Entries in the order they arrived, any key any number of times, taken from `arrivals`
    /// (which keeps its memory for the next ones): sorted by key, and of each key's entries
    /// the newest version kept (on a tie the earliest), the others counted as superseded.
    /// Positions are sorted rather than the entries, so each entry is moved once.
    pub(super) fn from_arrivals(arrivals: &mut Vec<Option<Entry>>, superseded: &mut u64) -> Self {
        let order = by_type(arrivals).unwrap_or_else(|| {
            let key = |at: u32| arrivals.get(at as usize).and_then(Option::as_ref).map(|entry| &entry.0);
            let mut order: Vec<u32> = (0..arrivals.len() as u32).collect();
            order.sort_unstable_by(|&a, &b| key(a).cmp(&key(b)).then(a.cmp(&b)));
            order
        });
        let mut run = Self::default();
        for at in order {
            let Some(entry) = arrivals.get_mut(at as usize).and_then(Option::take) else { continue };
            match run.chunks.last_mut().and_then(|chunk| chunk.last_mut()) {
                Some(kept) if kept.0 == entry.0 => keep_newer(kept, entry, superseded),
                _ => run.push(entry),
            }
        }
        arrivals.clear();
        run
    }

    /// Entries already in key order, each key once (a map's, or a piece's checked by
    /// [`Runs::push`]).
    pub(super) fn from_sorted(entries: impl IntoIterator<Item = Entry>) -> Self {
        let mut run = Self::default();
        for entry in entries {
            run.push(entry);
        }
        run
    }
}

/// Most types [`by_type`] groups arrivals by; with more, one sort by the whole key is cheaper
/// than finding each arrival's group.
const MOST_GROUPS: usize = if cfg!(test) { 4 } else { 16 };

/// The positions of `arrivals` in key order (on equal keys, in arrival order), found by
/// grouping them by type and sorting each group by the rest of the key: fewer and cheaper
/// comparisons than one sort by the whole key (inside the component a key comparison was a
/// call that cost more than it compared). The engine's own types are one shared text each, so
/// most arrivals find their group by its address. `None` when they are of more than
/// [`MOST_GROUPS`] types.
fn by_type(arrivals: &[Option<Entry>]) -> Option<Vec<u32>> {
    let mut groups: Vec<(&str, Vec<(u32, &ResourceKey)>)> = Vec::new();
    for (at, entry) in arrivals.iter().enumerate() {
        let Some((key, _)) = entry else { continue };
        let resource_type = &*key.0;
        let found = groups
            .iter()
            .position(|(t, _)| same_text(t, resource_type))
            .or_else(|| groups.iter().position(|(t, _)| *t == resource_type));
        let index = match found {
            Some(index) => index,
            None if groups.len() == MOST_GROUPS => return None,
            None => {
                groups.push((resource_type, Vec::new()));
                groups.len() - 1
            }
        };
        if let Some((_, group)) = groups.get_mut(index) {
            group.push((at as u32, key));
        }
    }
    groups.sort_unstable_by_key(|(resource_type, _)| *resource_type);
    let mut order = Vec::with_capacity(arrivals.len());
    for (_, mut group) in groups {
        group.sort_unstable_by(|(a, x), (b, y)| x.cmp_within_type(y).then(a.cmp(b)));
        order.extend(group.into_iter().map(|(at, _)| at));
    }
    Some(order)
}

impl IntoIterator for Run {
    type Item = Entry;
    type IntoIter = std::iter::Flatten<std::vec::IntoIter<Vec<Entry>>>;

    /// Consumes the run chunk by chunk: each chunk is given back once it has been read.
    fn into_iter(self) -> Self::IntoIter {
        self.chunks.into_iter().flatten()
    }
}

/// Reads a run chunk by chunk, giving each chunk back once it is read; the next entry can be
/// looked at in place, so a merge moves each entry once, from its chunk to the merged run.
struct Cursor {
    chunks: std::vec::IntoIter<Vec<Entry>>,
    current: std::vec::IntoIter<Entry>,
}

impl Cursor {
    fn new(run: Run) -> Self {
        Self { chunks: run.chunks.into_iter(), current: Vec::new().into_iter() }
    }

    /// The next entry, read in place.
    fn peek(&mut self) -> Option<&Entry> {
        while self.current.as_slice().is_empty() {
            self.current = self.chunks.next()?.into_iter();
        }
        self.current.as_slice().first()
    }

    /// Takes the entry [`Cursor::peek`] showed.
    fn take(&mut self) -> Option<Entry> {
        self.current.next()
    }
}

/// Two versions of one resource, `kept` recorded or taken in before `later`: the newer one
/// stays in `kept` (on a tie the earlier), and the other is counted as superseded. The one
/// rule both for what a scan reads and for merging runs.
fn keep_newer(kept: &mut Entry, later: Entry, superseded: &mut u64) {
    *superseded += 1;
    if kept.1.version < later.1.version {
        *kept = later;
    }
}

/// Merges an earlier run with a later one (see the module documentation).
fn merge(earlier: Run, later: Run, superseded: &mut u64) -> Run {
    let mut out = Run::default();
    let (mut a, mut b) = (Cursor::new(earlier), Cursor::new(later));
    loop {
        let order = match (a.peek(), b.peek()) {
            (Some(x), Some(y)) => x.0.cmp(&y.0),
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (None, None) => return out,
        };
        let next = match order {
            Ordering::Less => a.take(),
            Ordering::Greater => b.take(),
            Ordering::Equal => match (a.take(), b.take()) {
                (Some(mut kept), Some(later)) => {
                    keep_newer(&mut kept, later, superseded);
                    Some(kept)
                }
                (kept, later) => kept.or(later),
            },
        };
        if let Some(entry) = next {
            out.push(entry);
        }
    }
}

/// A scan's taken-in runs, oldest first, each at least twice as long as the next.
#[derive(Debug, Default)]
pub(super) struct Runs {
    runs: Vec<Run>,
}

impl Runs {
    #[cfg(test)]
    pub(super) fn iter(&self) -> impl Iterator<Item = &Entry> {
        self.runs.iter().flat_map(Run::iter)
    }

    /// Adds the run that came after all the others. Pieces of one hand-over come in key order,
    /// so a piece that continues the last run is appended to it without a merge.
    pub(super) fn push(&mut self, run: Run, superseded: &mut u64) {
        if run.len() == 0 {
            return;
        }
        let continues = match (self.runs.last().and_then(Run::last), run.first()) {
            (Some(last), Some(first)) => last.0 < first.0,
            _ => false,
        };
        match self.runs.last_mut() {
            Some(last) if continues => {
                for entry in run {
                    last.push(entry);
                }
            }
            _ => self.runs.push(run),
        }
        // Merge while the run below is less than twice as long as the top one.
        while let [.., below, top] = self.runs.as_slice() {
            if below.len() >= 2 * top.len() {
                break;
            }
            let (Some(top), Some(below)) = (self.runs.pop(), self.runs.pop()) else { break };
            self.runs.push(merge(below, top, superseded));
        }
    }

    /// Everything in one run.
    pub(super) fn into_one(mut self, superseded: &mut u64) -> Run {
        let mut all = self.runs.pop().unwrap_or_default();
        while let Some(earlier) = self.runs.pop() {
            all = merge(earlier, all, superseded);
        }
        all
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::item::Version;
    use crate::scan::State;
    use crate::score::Criticality;

    /// A volume `id` at capture time `at`, marked with where it came from.
    fn entry(id: u64, at: u64, mark: &str) -> Entry {
        let key = ResourceKey(std::borrow::Cow::Borrowed("AWS::EC2::Volume"), format!("vol-{id:05}"), "1".to_owned(), "r".to_owned());
        let state = State::Live { arn: Some(mark.to_owned()), name: None, criticality: Criticality::Low, checks: Vec::new(), contribution: None };
        (key, Recorded { version: Version { captured_us: Some(at as i64), state_id: 0 }, state })
    }

    /// As [`entry`], of one of five types by `id`: two the engine knows (shared texts), three
    /// it does not, and for a quarter of the ids a known type's text in a copy of its own
    /// (equal texts at other addresses). A piece of more than [`MOST_GROUPS`] types (four in
    /// tests) is sorted without grouping, a smaller one grouped.
    fn typed(id: u64, at: u64, mark: &str) -> Entry {
        let (mut key, recorded) = entry(id, at, mark);
        key.0 = match id % 4 {
            0 => std::borrow::Cow::Borrowed("AWS::EC2::Volume"),
            1 => std::borrow::Cow::Borrowed("AWS::EC2::Instance"),
            2 => std::borrow::Cow::Owned(format!("Custom::Thing{}", id % 3)),
            _ => std::borrow::Cow::Owned("AWS::EC2::Volume".to_owned()),
        };
        (key, recorded)
    }

    #[test]
    fn a_run_is_read_from_any_entry_on() {
        let run = Run::from_sorted((0..2 * CHUNK as u64 + 500).map(|id| entry(id, 1, "x")));
        let ids = |entries: Vec<&Entry>| entries.into_iter().map(|(key, _)| key.1.clone()).collect::<Vec<_>>();
        for at in [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 2 * CHUNK, 2 * CHUNK + 499, 2 * CHUNK + 500, 3 * CHUNK + 7] {
            assert_eq!(ids(run.iter_from(at).collect()), ids(run.iter().skip(at).collect()), "from {at}");
        }
        assert_eq!(Run::default().iter_from(0).count(), 0);
    }

    fn summary(entries: impl IntoIterator<Item = Entry>) -> Vec<(ResourceKey, Version, Option<String>)> {
        entries
            .into_iter()
            .map(|(key, recorded)| {
                let piece = match recorded.state {
                    State::Live { arn, .. } => arn,
                    State::Gone => None,
                };
                (key, recorded.version, piece)
            })
            .collect()
    }

    #[test]
    fn a_run_longer_than_a_chunk_counts_and_keeps_every_entry() {
        for n in [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 2 * CHUNK + 5] {
            let run = Run::from_sorted((0..n as u64).map(|id| entry(id, 0, "0")));
            assert_eq!(run.len(), n);
            assert_eq!(run.iter().count(), n);
            assert_eq!(summary(run).len(), n);
        }
    }

    /// Pieces of any lengths, merged however their lengths fall, keep what one map fed the
    /// same resources in the same order keeps (newest version, on a tie the first), and count
    /// the same superseded versions.
    #[test]
    fn runs_keep_what_one_map_keeps() {
        let mut next = crate::scan::random_below(0x2545_f491_4f6c_dd1d);
        for _ in 0..300 {
            let mut runs = Runs::default();
            let mut map: std::collections::BTreeMap<ResourceKey, Recorded> = std::collections::BTreeMap::new();
            let (mut superseded, mut expected_superseded) = (0, 0);
            for piece in 0..next(14) as u8 {
                // Few ids and capture times, so keys repeat and versions tie. Half the pieces are
                // a scan's own reading: ids in any order, repeated within the piece.
                let arrivals = next(2) == 0;
                let mut ids: Vec<u64> = (0..next(40)).map(|_| next(30)).collect();
                if !arrivals {
                    ids.sort_unstable();
                    ids.dedup();
                    ids.sort_by_cached_key(|&id| typed(id, 0, "").0);
                }
                // Each entry marked by its piece and place, so that which of two tied versions
                // is kept shows.
                let marks: Vec<String> = (0..ids.len()).map(|at| format!("{piece}.{at}")).collect();
                let entries: Vec<Entry> = ids.into_iter().zip(&marks).map(|(id, mark)| typed(id, next(3), mark)).collect();
                for ((key, recorded), mark) in entries.iter().zip(&marks) {
                    let (_, copy) = entry(0, 0, mark);
                    let copy = Recorded { version: recorded.version, ..copy };
                    match map.get(key) {
                        Some(kept) if kept.version < copy.version => {
                            expected_superseded += 1;
                            map.insert(key.clone(), copy);
                        }
                        Some(_) => expected_superseded += 1,
                        None => {
                            map.insert(key.clone(), copy);
                        }
                    }
                }
                let run = if arrivals {
                    let mut slots: Vec<Option<Entry>> = entries.into_iter().map(Some).collect();
                    let run = Run::from_arrivals(&mut slots, &mut superseded);
                    assert!(slots.is_empty(), "the arrivals are taken");
                    assert!(run.iter().is_sorted_by(|a, b| a.0 < b.0), "a run is in key order, each key once");
                    run
                } else {
                    Run::from_sorted(entries)
                };
                runs.push(run, &mut superseded);
                assert!(runs.runs.iter().all(|run| run.len() == run.iter().count()), "a run's length is what it holds");
                for pair in runs.runs.windows(2) {
                    if let [below, top] = pair {
                        assert!(below.len() >= 2 * top.len(), "{} {}", below.len(), top.len());
                    }
                }
            }
            assert_eq!(summary(runs.into_one(&mut superseded)), summary(map));
            assert_eq!(superseded, expected_superseded);
        }
    }
}
