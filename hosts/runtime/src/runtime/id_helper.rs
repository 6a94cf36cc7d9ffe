//! Finding ids digested on a second instance while the first renders (WIT 1.8.0).
//!
//! After a parallel scan, the first instance finishes alone and renders alone: for a large
//! report that was the serial tail of the run, and more than half of rendering the findings is
//! digesting their ids (SHA-256 of rule, type, id, account and region). The ids depend on no
//! verdict, so a finished scan of a parallel run keeps a second instance ([`IdHelper`]), and
//! its first rendering of a format with ids (JSON, CSV, the exports) goes like this:
//! - the first instance hands out its findings' keys (`take-finding-keys`), a few small pieces
//!   before each page until they are all out;
//! - the helper digests each piece (`digest-finding-ids`) on its own thread;
//! - before each page, the first instance takes in the digests that have come
//!   (`give-finding-ids`) and renders, digesting itself only the ids that have not come yet.
//!
//! The first pages hold the report's resources, which need no ids, so the helper starts ahead.
//! Nothing waits for the helper: should it be slow or fail, the first instance digests the
//! rest, and the bytes are the same either way (the component takes a given id only in order,
//! from the report's own keys; `ids_digested_on_a_second_instance_give_the_same_reports`).

use std::sync::mpsc::{Receiver, Sender, TryRecvError};
use std::sync::atomic::{AtomicBool, Ordering};

use super::{FinishedScan, HostState, RuntimeError, deadline_ticks};
use crate::bindings::types::ScanError;
use crate::limits::Limits;
use wasmtime::Store;
use wasmtime::component::{Instance, ResourceAny};

/// Size of a piece of keys: small, so the helper starts early and its digests come often.
const KEY_PIECE_BYTES: u32 = 256 << 10;

/// Pieces of keys handed out before each page, until there are no more: the first pages hold
/// the report's resources, so handing the keys out over them starts the first page sooner and
/// keeps the helper ahead (about 3,500 resources a piece, ~1 ms each for 100k resources).
const KEY_PIECES_PER_PAGE: usize = 4;

/// The fewest findings worth a helper: below, its thread and calls cost more than it saves.
pub(super) const MIN_FINDINGS: u64 = 4096;

/// `scan.take-finding-keys(max-bytes)`.
pub(super) type TakeFindingKeys = wasmtime::component::TypedFunc<(ResourceAny, u32), (Result<Vec<u8>, ScanError>,)>;

/// `scan.give-finding-ids(ids)`.
pub(super) type GiveFindingIds = wasmtime::component::TypedFunc<(ResourceAny, Vec<u8>), (Result<(), ScanError>,)>;

/// `digest-finding-ids(keys)`.
pub(super) type DigestFindingIds = wasmtime::component::TypedFunc<(Vec<u8>,), (Result<Vec<u8>, ScanError>,)>;

/// A second instance that digests finding ids.
pub(super) struct IdHelper {
    pub(super) store: Store<HostState>,
    pub(super) instance: Instance,
    pub(super) digest: DigestFindingIds,
}

impl IdHelper {
    /// Digests the pieces of keys that come, in order, and sends their ids on, until the keys
    /// end, the first instance stops wanting them, or a call fails (the instance is then let
    /// go: `None`).
    fn digest_all(mut self, keys: Receiver<Vec<u8>>, ids: Sender<Vec<u8>>, stop: &AtomicBool, limits: &Limits) -> Option<Self> {
        for piece in keys {
            if stop.load(Ordering::Relaxed) {
                break;
            }
            self.store.set_epoch_deadline(deadline_ticks(limits));
            match self.digest.call(&mut self.store, (piece,)) {
                Ok((Ok(digested),)) => {
                    if ids.send(digested).is_err() {
                        break;
                    }
                }
                _ => return None,
            }
        }
        Some(self)
    }
}

/// The first instance's side of a rendering with a helper.
pub(super) struct Exchange {
    keys: Option<Sender<Vec<u8>>>,
    ids: Receiver<Vec<u8>>,
    give: GiveFindingIds,
    take: TakeFindingKeys,
    /// The helper's digests are no longer taken (one was refused).
    refused: bool,
    /// Pieces of keys handed out, and of ids taken in.
    sent: u64,
    received: u64,
    /// Wait for the digests of every piece handed out before each page (for tests, which then
    /// know the ids given are used).
    patient: bool,
}

impl Exchange {
    /// Before each page: hands out the next pieces of keys, which the helper digests as they
    /// come, then takes in the digests that have come.
    pub(super) fn before_page(&mut self, scan: &mut FinishedScan) -> Result<(), RuntimeError> {
        for _ in 0..KEY_PIECES_PER_PAGE {
            let Some(keys) = &self.keys else { break };
            scan.store.set_epoch_deadline(deadline_ticks(&scan.limits));
            let (piece,) = self.take.call(&mut scan.store, (scan.scan, KEY_PIECE_BYTES)).map_err(|e| scan.map(e, "take-finding-keys"))?;
            let piece = piece?;
            if piece.is_empty() || keys.send(piece).is_err() {
                self.keys = None; // every key is out, or the helper has stopped
            } else {
                self.sent += 1;
            }
        }
        while !self.refused {
            let arrived = if self.patient && self.received < self.sent { self.ids.recv().map_err(|_| TryRecvError::Disconnected) } else { self.ids.try_recv() };
            let digested = match arrived {
                Ok(digested) => digested,
                Err(TryRecvError::Empty | TryRecvError::Disconnected) => break,
            };
            self.received += 1;
            scan.store.set_epoch_deadline(deadline_ticks(&scan.limits));
            let (given,) = self.give.call(&mut scan.store, (scan.scan, digested)).map_err(|e| scan.map(e, "give-finding-ids"))?;
            self.refused = given.is_err();
            scan.ids_given += u64::from(given.is_ok());
        }
        Ok(())
    }
}

impl FinishedScan {
    /// Runs `render` (the first instance's rendering, given an [`Exchange`] to call before each
    /// page) with the helper digesting ids on a thread of its own, when this scan has a helper,
    /// the rendering has ids (`uses_ids`) and there are enough of them; else with none. The helper is used once, by the first such
    /// rendering: the ids it digested stay given for the renderings after it.
    pub(super) fn with_id_helper<T>(&mut self, uses_ids: bool, render: impl FnOnce(&mut Self, Option<&mut Exchange>) -> T) -> T {
        let totals = &self.summary.totals;
        let findings = totals.compliant + totals.non_compliant + totals.not_applicable + totals.insufficient_data;
        let (Some(take), Some(give)) = (self.take_finding_keys, self.give_finding_ids) else {
            return render(self, None);
        };
        // The ids given take 16 bytes each in this instance, and its resources' first
        // ordinals 4 each: only with a quarter of its memory limit left beside them.
        let room = self.limits.memory_bytes.saturating_sub(self.store.data().limits.largest_memory).saturating_sub(self.limits.memory_bytes / 4) as u64;
        let needs = findings.saturating_mul(16).saturating_add(self.summary.evaluated_resources.saturating_mul(4));
        let helper = match self.id_helper.take() {
            Some(helper) if uses_ids && !self.ids_exchanged && findings >= MIN_FINDINGS && needs <= room => helper,
            idle => {
                self.id_helper = idle;
                return render(self, None);
            }
        };
        self.ids_exchanged = true;
        let limits = self.limits;
        let stop = AtomicBool::new(false);
        std::thread::scope(|scope| {
            let (keys, keys_arriving) = std::sync::mpsc::channel::<Vec<u8>>();
            let (ids, ids_arriving) = std::sync::mpsc::channel::<Vec<u8>>();
            let stop = &stop;
            let digesting = std::thread::Builder::new().name("id-helper".to_owned()).spawn_scoped(scope, move || helper.digest_all(keys_arriving, ids, stop, &limits));
            let mut exchange = Exchange { keys: Some(keys), ids: ids_arriving, give, take, refused: false, sent: 0, received: 0, patient: self.patient_ids };
            if digesting.is_err() {
                exchange.keys = None; // no helper: the first instance digests every id
            }
            let rendered = render(self, Some(&mut exchange));
            stop.store(true, Ordering::Relaxed);
            drop(exchange);
            if let Ok(thread) = digesting {
                self.id_helper = thread.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic));
            }
            rendered
        })
    }
}
