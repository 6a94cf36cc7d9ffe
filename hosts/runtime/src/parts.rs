//! One large source read in parts on several instances at once (WIT 1.7.0).
//!
//! A thread reads the source (decompressing it when it is gzip) and cuts it, between two items
//! of its item array ([`crate::cut`]), into consecutive parts of about equal size, each held in
//! memory until an instance takes it: the first part begins the source (`begin-source`), the
//! others go on from their cut (`resume-source`), every part but the last stops at its cut
//! (`suspend-source`) and the last ends the source. The reading thread stays at most `ahead`
//! parts ahead of those taken, so memory holds a few parts, not the source; the last part is
//! not held but streamed to whoever reads it, so a source larger than its size hint said
//! costs parallelism, not memory. When the source has fewer cuts than parts, the parts after
//! its end are absent (read as nothing).

use std::sync::atomic::AtomicU64;
use std::sync::mpsc::Receiver;
use std::thread::JoinHandle;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};

use crate::cut::CutFinder;
use crate::error::RuntimeError;
use crate::sources::{Chunk, ChunkPool, InputSource, spawn_reader};

/// The most bytes one part holds (a larger source is cut into more parts).
pub(crate) const MAX_PART_BYTES: u64 = 16 << 20;
/// The fewest bytes one part holds: below that a part's hand-over and instance cost more than
/// reading it on another instance saves.
pub(crate) const MIN_PART_BYTES: u64 = 256 << 10;

/// One part of a source, as read.
#[derive(Debug)]
pub(crate) struct Part {
    /// The offset of its first byte in the (decompressed) source.
    pub offset: u64,
    /// The item array its first byte is in (`None` for the first part, which begins the source).
    pub array: Option<&'static str>,
    pub bytes: Vec<u8>,
    pub end: PartEnd,
}

/// How a part ends.
#[derive(Debug)]
pub(crate) enum PartEnd {
    /// At a cut: the next part goes on from it.
    Cut,
    /// At the source's end, whose raw bytes had this sha256 and size.
    End { sha256: String, raw_bytes: u64 },
    /// Reading the source failed after the part's bytes.
    Failed(RuntimeError),
    /// The part is the last: the source's rest follows in `chunks`, from the thread `reader`
    /// that reads it, up to its end (or failure).
    Rest { chunks: Receiver<Chunk>, reader: JoinHandle<()> },
}

/// A source and how to read it: in chunks of `chunk_bytes` from `pool`, at most
/// `max_source_bytes` of them, counting raw bytes in `raw_progress`.
pub(crate) struct SourceReading {
    pub source: InputSource,
    pub chunk_bytes: usize,
    pub max_source_bytes: u64,
    pub raw_progress: Arc<AtomicU64>,
    pub pool: ChunkPool,
}

/// Part `index` of a source read in parts, to be taken once. Dropped untaken (its group stopped
/// before it), it is given up, so the reading thread does not wait for it to be taken.
pub(crate) struct PartOf {
    parted: Arc<Parted>,
    index: usize,
    taken: bool,
}

impl PartOf {
    pub(crate) fn new(parted: Arc<Parted>, index: usize) -> Self {
        Self { parted, index, taken: false }
    }

    pub(crate) fn parted(&self) -> &Arc<Parted> {
        &self.parted
    }

    pub(crate) fn index(&self) -> usize {
        self.index
    }

    /// The part (see [`Parted::take`]).
    pub(crate) fn take(mut self) -> Result<Option<Part>, RuntimeError> {
        self.taken = true;
        self.parted.take(self.index)
    }
}

impl Drop for PartOf {
    fn drop(&mut self) {
        if !self.taken {
            self.parted.forgo(self.index);
        }
    }
}

/// A source cut into `parts` parts as it is read.
pub(crate) struct Parted {
    pub name: String,
    parts: usize,
    /// About how many decompressed bytes each part holds.
    target: u64,
    ahead: usize,
    /// Where the chunks of the last part's rest go back to once fed.
    pub pool: ChunkPool,
    /// The source, until the first part is asked for and the reading thread starts.
    source: Mutex<Option<SourceReading>>,
    slots: Mutex<Slots>,
    changed: Condvar,
}

impl std::fmt::Debug for Parted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Parted").field("name", &self.name).field("parts", &self.parts).finish_non_exhaustive()
    }
}

#[derive(Default)]
struct Slots {
    /// Part `i`, once read and until taken; `None` in a delivered slot is an absent part.
    ready: Vec<Option<Option<Part>>>,
    /// Parts no one will take (their group stopped first): taken as soon as they are read.
    forgone: Vec<bool>,
    /// Parts delivered (in order) and taken (in any order).
    delivered: usize,
    taken: usize,
    /// The scan is over: the reading thread stops.
    closed: bool,
}

impl Parted {
    /// A source of about `size` decompressed bytes, to be cut into `parts` parts, read `ahead`
    /// parts ahead at most.
    pub(crate) fn new(reading: SourceReading, size: u64, parts: usize, ahead: usize) -> Self {
        let parts = parts.max(1);
        let slots = Slots { ready: (0..parts).map(|_| None).collect(), forgone: vec![false; parts], ..Slots::default() };
        Self {
            name: reading.source.name.clone(),
            parts,
            target: size.div_ceil(parts as u64).max(1),
            ahead: ahead.max(1),
            pool: reading.pool.clone(),
            source: Mutex::new(Some(reading)),
            slots: Mutex::new(slots),
            changed: Condvar::new(),
        }
    }

    pub(crate) fn parts(&self) -> usize {
        self.parts
    }

    fn lock(&self) -> MutexGuard<'_, Slots> {
        self.slots.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Part `index` (waiting until it is read; `None` when it is absent, given up, or when the
    /// scan was closed first). The first call starts the reading thread.
    pub(crate) fn take(self: &Arc<Self>, index: usize) -> Result<Option<Part>, RuntimeError> {
        let start = self.source.lock().unwrap_or_else(PoisonError::into_inner).take();
        if let Some(source) = start {
            let parted = Arc::clone(self);
            let started = std::thread::Builder::new().name("source-parts".to_owned()).spawn(move || parted.read(source));
            if let Err(e) = started {
                // No part will come: whoever waits for one stops waiting.
                self.close();
                return Err(RuntimeError::Engine(format!("cannot start the thread reading {}: {e}", self.name)));
            }
        }
        let mut slots = self.lock();
        loop {
            if let Some(slot) = slots.ready.get_mut(index).and_then(Option::take) {
                slots.taken += 1;
                self.changed.notify_all();
                return Ok(slot);
            }
            if slots.closed || slots.forgone.get(index).copied().unwrap_or(true) {
                return Ok(None);
            }
            slots = self.changed.wait(slots).unwrap_or_else(PoisonError::into_inner);
        }
    }

    /// Gives part `index` up: no one will take it, so it does not count against `ahead`.
    fn forgo(&self, index: usize) {
        let mut slots = self.lock();
        if let Some(forgone) = slots.forgone.get_mut(index) {
            *forgone = true;
        }
        if slots.ready.get_mut(index).and_then(Option::take).is_some() {
            slots.taken += 1;
        }
        drop(slots);
        self.changed.notify_all();
    }

    /// Ends the reading thread (the scan is done or stopped): parts not yet read never will be.
    pub(crate) fn close(&self) {
        self.lock().closed = true;
        self.changed.notify_all();
    }

    /// Hands part `index` over once fewer than `ahead` parts wait to be taken; false when the
    /// scan was closed.
    fn deliver(&self, index: usize, part: Option<Part>) -> bool {
        let mut slots = self.lock();
        let forgone = |slots: &Slots| slots.forgone.get(index).copied().unwrap_or(true);
        while !slots.closed && !forgone(&slots) && slots.delivered - slots.taken >= self.ahead {
            slots = self.changed.wait(slots).unwrap_or_else(PoisonError::into_inner);
        }
        if slots.closed {
            return false;
        }
        if forgone(&slots) {
            slots.taken += 1;
        } else if let Some(slot) = slots.ready.get_mut(index) {
            *slot = Some(part);
        }
        slots.delivered += 1;
        self.changed.notify_all();
        true
    }

    /// The reading thread: reads the source and delivers its parts in order.
    fn read(&self, SourceReading { source, chunk_bytes, max_source_bytes, raw_progress, pool }: SourceReading) {
        let (chunks, reader) = spawn_reader(source, chunk_bytes, max_source_bytes, raw_progress, pool.clone());
        let mut finder = CutFinder::default();
        let new_part = |offset: u64, array: Option<&'static str>| Part { offset, array, bytes: Vec::with_capacity(usize::try_from(self.target).unwrap_or(0).saturating_add(chunk_bytes)), end: PartEnd::Cut };
        let mut part = new_part(0, None);
        let mut index = 0;
        let ended = loop {
            let chunk = match chunks.recv() {
                Ok(Chunk::Data(chunk)) => chunk,
                Ok(Chunk::Done { sha256, raw_bytes }) => break PartEnd::End { sha256, raw_bytes },
                Ok(Chunk::Failed(error)) => break PartEnd::Failed(error),
                Err(_) => break PartEnd::Failed(RuntimeError::Protocol(format!("{}: the reader stopped without a result", self.name))),
            };
            let mut rest = chunk.as_slice();
            while !rest.is_empty() {
                let short = usize::try_from(self.target.saturating_sub(part.bytes.len() as u64)).unwrap_or(usize::MAX);
                if short > 0 {
                    // Below its size the part takes bytes without looking for a cut.
                    let (now, later) = rest.split_at(short.min(rest.len()));
                    finder.scan(now, false);
                    part.bytes.extend_from_slice(now);
                    rest = later;
                    continue;
                }
                match finder.scan(rest, true) {
                    Some((scanned, array)) => {
                        let (now, later) = rest.split_at(scanned);
                        part.bytes.extend_from_slice(now);
                        rest = later;
                        let next = new_part(finder.offset(), Some(array));
                        if !self.deliver(index, Some(std::mem::replace(&mut part, next))) {
                            return;
                        }
                        index += 1;
                        if index + 1 == self.parts {
                            // The last part: what is left of this chunk, then the rest as read.
                            part.bytes.extend_from_slice(later);
                            part.end = PartEnd::Rest { chunks, reader };
                            self.deliver(index, Some(part));
                            pool.give_back(chunk);
                            return;
                        }
                    }
                    None => {
                        part.bytes.extend_from_slice(rest);
                        rest = &[];
                    }
                }
            }
            pool.give_back(chunk);
        };
        drop(chunks);
        let _ = reader.join();
        part.end = ended;
        if !self.deliver(index, Some(part)) {
            return;
        }
        // The source had fewer cuts than parts: the rest are absent.
        for absent in index + 1..self.parts {
            if !self.deliver(absent, None) {
                return;
            }
        }
    }
}
