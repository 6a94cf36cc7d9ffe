//! Reading consecutive groups of sources on several instances at once, taken into the first
//! instance strictly in group order (a component's `absorb-state` needs them in order).
//!
//! The first instance — the lead — reads group 0 and then, group after group, either reads the
//! next group itself (when no one has claimed it), takes in the next group a helper has read
//! and handed over, or, while that group is still being read, reads a later one as a helper
//! would. Helpers claim groups in order; each reads its groups one after another on one spare
//! instance of its own and hands each group's state over itself, so the lead only takes states
//! in. No group is claimed more than `window` groups past those the lead holds, so the states
//! waiting for their turn stay few and small: peak memory is about the lead's full state plus
//! `window` groups' states and one spare instance per thread, not the lead's plus every other
//! instance's share of the input.
//!
//! Errors are those one instance reading every group in order would meet: when a group fails,
//! the groups after it stop (nothing they read can matter), the groups before it are read to
//! the end, and the lead returns the first failure in group order.

use std::collections::{BTreeMap, VecDeque};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};

/// The groups after the first one that failed stop reading.
#[derive(Debug)]
pub(crate) struct StopAfter(AtomicUsize);

impl StopAfter {
    pub(crate) fn never() -> Self {
        Self(AtomicUsize::new(usize::MAX))
    }

    fn failed(&self, group: usize) {
        self.0.fetch_min(group, Ordering::Relaxed);
    }

    /// Whether group `group` should stop: a group before it failed.
    pub(crate) fn stops(&self, group: usize) -> bool {
        self.0.load(Ordering::Relaxed) < group
    }
}

/// What reads groups and hands readings over; one per parallel scan, shared by its threads.
pub(crate) trait GroupReader: Sync {
    type Group: Send;
    /// The lead's reading: every group so far, in order.
    type Reading: Send;
    /// A group read on its own and handed over, waiting to be taken in.
    type Handed: Send;
    /// What a thread keeps between the groups it reads on its own (its spare instance).
    type Spare: Default;
    type Error: Send;
    /// Reads group 0 on the lead's instance.
    fn read_first(&self, group: Self::Group, stop: &StopAfter) -> Result<Self::Reading, Self::Error>;
    /// Reads group `index` onto `reading`, which holds every group before it.
    fn read_into(&self, reading: &mut Self::Reading, index: usize, group: Self::Group, stop: &StopAfter) -> Result<(), Self::Error>;
    /// Reads group `index` on its own (on `spare`, which this thread keeps for its next one)
    /// and hands it over.
    fn read_alone(&self, spare: &mut Self::Spare, index: usize, group: Self::Group, stop: &StopAfter) -> Result<Self::Handed, Self::Error>;
    /// Takes in `other`, the group right after those `reading` holds.
    fn absorb(&self, reading: &mut Self::Reading, other: Self::Handed) -> Result<(), Self::Error>;
    /// The error a group read on its own and handed over failed with, as the lead reports it,
    /// holding every group before it.
    fn failed_after(&self, reading: &Self::Reading, error: Self::Error) -> Self::Error;
    /// The error for a thread that could not start or that panicked.
    fn lost(&self, what: String) -> Self::Error;
}

/// Reads `groups` on up to `workers` threads (this one and `workers - 1` helpers) and returns
/// the lead's reading, which then holds every group in order.
pub(crate) fn read_in_order<R: GroupReader>(reader: &R, groups: Vec<R::Group>, workers: usize, window: usize) -> Result<R::Reading, R::Error> {
    let count = groups.len();
    let mut unclaimed: VecDeque<R::Group> = groups.into();
    let Some(first) = unclaimed.pop_front() else {
        return Err(reader.lost("no sources to read".to_owned()));
    };
    let board = Board { unclaimed, next: 1, absorbed: 0, done: BTreeMap::new(), closed: false };
    let shared = Shared { board: Mutex::new(board), changed: Condvar::new(), stop: StopAfter::never(), window: window.max(1), count };
    std::thread::scope(|scope| {
        let closing = Closing(&shared); // on every way out, the helpers stop waiting
        let mut helpers = Vec::new();
        for helper in 1..workers.clamp(1, count) {
            match std::thread::Builder::new().name(format!("scan-helper-{helper}")).spawn_scoped(scope, || help(reader, &shared)) {
                Ok(handle) => helpers.push(handle),
                Err(e) => return Err(reader.lost(format!("cannot start a scan thread: {e}"))),
            }
        }
        let lead = lead(reader, &shared, first);
        drop(closing);
        for handle in helpers {
            // A helper that panicked has handed in an error for its group (see `Deposit`).
            let _ = handle.join();
        }
        lead
    })
}

struct Board<G, T> {
    /// The groups no one has claimed, in order; `next` is the index of the first.
    unclaimed: VecDeque<G>,
    next: usize,
    /// How many groups the lead holds (always the first ones).
    absorbed: usize,
    /// Groups read on their own and handed over, waiting for their turn.
    done: BTreeMap<usize, T>,
    /// The lead is done or has failed: helpers claim nothing more.
    closed: bool,
}

impl<G, T> Board<G, T> {
    fn claim(&mut self) -> Option<(usize, G)> {
        let group = self.unclaimed.pop_front()?;
        self.next += 1;
        Some((self.next - 1, group))
    }
}

type SharedOf<R> = Shared<<R as GroupReader>::Group, Result<<R as GroupReader>::Handed, <R as GroupReader>::Error>>;

struct Shared<G, T> {
    board: Mutex<Board<G, T>>,
    changed: Condvar,
    stop: StopAfter,
    window: usize,
    count: usize,
}

impl<G, T> Shared<G, T> {
    fn lock(&self) -> MutexGuard<'_, Board<G, T>> {
        self.board.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn wait<'a>(&self, board: MutexGuard<'a, Board<G, T>>) -> MutexGuard<'a, Board<G, T>> {
        self.changed.wait(board).unwrap_or_else(PoisonError::into_inner)
    }

    fn update(&self, change: impl FnOnce(&mut Board<G, T>)) {
        change(&mut self.lock());
        self.changed.notify_all();
    }
}

struct Closing<'a, G, T>(&'a Shared<G, T>);

impl<G, T> Drop for Closing<'_, G, T> {
    fn drop(&mut self) {
        self.0.update(|board| board.closed = true);
    }
}

/// Hands a group's state in when dropped; if the thread unwinds before the state is there,
/// hands in an error instead, so the lead never waits for a group no one will deliver.
struct Deposit<'a, R: GroupReader> {
    reader: &'a R,
    shared: &'a SharedOf<R>,
    index: usize,
    result: Option<Result<R::Handed, R::Error>>,
}

impl<R: GroupReader> Drop for Deposit<'_, R> {
    fn drop(&mut self) {
        let index = self.index;
        let result = self.result.take().unwrap_or_else(|| Err(self.reader.lost(format!("the thread reading group {index} panicked"))));
        if result.is_err() {
            self.shared.stop.failed(index);
        }
        self.shared.update(|board| {
            board.done.insert(index, result);
        });
    }
}

fn read_alone<R: GroupReader>(reader: &R, shared: &SharedOf<R>, spare: &mut R::Spare, index: usize, group: R::Group) {
    let mut deposit = Deposit { reader, shared, index, result: None };
    deposit.result = Some(reader.read_alone(spare, index, group, &shared.stop));
}

fn help<R: GroupReader>(reader: &R, shared: &SharedOf<R>) {
    let mut spare = R::Spare::default();
    loop {
        let claimed = {
            let mut board = shared.lock();
            loop {
                if board.closed || shared.stop.stops(board.next) {
                    return;
                }
                if board.next < board.absorbed + shared.window {
                    break board.claim();
                }
                board = shared.wait(board);
            }
        };
        let Some((index, group)) = claimed else { return };
        read_alone(reader, shared, &mut spare, index, group);
    }
}

enum Step<G, T> {
    Absorb(T),
    ReadInto(usize, G),
    ReadAlone(usize, G),
    Done,
}

fn lead<R: GroupReader>(reader: &R, shared: &SharedOf<R>, first: R::Group) -> Result<R::Reading, R::Error> {
    let failed = |index: usize| {
        move |error: R::Error| {
            shared.stop.failed(index);
            error
        }
    };
    let mut reading = reader.read_first(first, &shared.stop).map_err(failed(0))?;
    let mut spare = R::Spare::default();
    shared.update(|board| board.absorbed = 1);
    loop {
        let (index, step) = {
            let mut board = shared.lock();
            let index = board.absorbed;
            let step = loop {
                if board.absorbed == shared.count {
                    break Step::Done;
                }
                if let Some(result) = board.done.remove(&index) {
                    break Step::Absorb(result);
                }
                if board.next == index {
                    break board.claim().map_or(Step::Done, |(i, g)| Step::ReadInto(i, g));
                }
                if board.next < index + shared.window
                    && let Some((i, g)) = board.claim()
                {
                    break Step::ReadAlone(i, g);
                }
                board = shared.wait(board);
            };
            (index, step)
        };
        match step {
            Step::Done => return Ok(reading),
            Step::Absorb(Ok(other)) => reader.absorb(&mut reading, other).map_err(failed(index))?,
            Step::Absorb(Err(error)) => return Err(reader.failed_after(&reading, error)),
            Step::ReadInto(i, group) => reader.read_into(&mut reading, i, group, &shared.stop).map_err(failed(i))?,
            Step::ReadAlone(i, group) => {
                read_alone(reader, shared, &mut spare, i, group);
                continue;
            }
        }
        shared.update(|board| board.absorbed += 1);
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicUsize;
    use std::time::Duration;

    use super::*;

    /// Groups are numbers; a reading is the list of groups it holds, in the order it took them
    /// in. Group `n` fails when `fails(n)`, and takes `delay(n)` to read.
    struct Fake {
        fails: fn(usize) -> bool,
        delay: fn(usize) -> u64,
        /// Reading a group on a helper thread panics.
        helpers_panic: bool,
        /// Readings alive now (the lead's included), and the most there were at once.
        alive: AtomicUsize,
        most_alive: AtomicUsize,
        /// Spare instances started (a thread's first group read on its own starts its one).
        spares: AtomicUsize,
    }

    #[derive(Debug)]
    struct Held<'a>(Vec<usize>, &'a AtomicUsize);

    impl Drop for Held<'_> {
        fn drop(&mut self) {
            self.1.fetch_sub(1, Ordering::SeqCst);
        }
    }

    impl Fake {
        fn new(fails: fn(usize) -> bool, delay: fn(usize) -> u64) -> Self {
            Self { fails, delay, helpers_panic: false, alive: AtomicUsize::new(0), most_alive: AtomicUsize::new(0), spares: AtomicUsize::new(0) }
        }

        fn read(&self, group: usize, stop: &StopAfter) -> Result<(), String> {
            let on_helper = std::thread::current().name().is_some_and(|name| name.starts_with("scan-helper"));
            assert!(!(self.helpers_panic && on_helper), "reading group {group} panics");
            for _ in 0..(self.delay)(group) {
                if stop.stops(group) {
                    return Err(format!("group {group} stopped"));
                }
                std::thread::sleep(Duration::from_micros(200));
            }
            if (self.fails)(group) { Err(format!("group {group} is bad")) } else { Ok(()) }
        }

        fn hold(&self, group: usize) -> Held<'_> {
            let alive = self.alive.fetch_add(1, Ordering::SeqCst) + 1;
            self.most_alive.fetch_max(alive, Ordering::SeqCst);
            Held(vec![group], &self.alive)
        }
    }

    /// A thread's spare instance: which thread started it, and the groups read on it.
    #[derive(Default)]
    struct Spare(Option<(std::thread::ThreadId, usize)>);

    impl<'a> GroupReader for &'a Fake {
        type Group = usize;
        type Reading = Held<'a>;
        type Handed = Held<'a>;
        type Spare = Spare;
        type Error = String;

        fn read_first(&self, group: usize, stop: &StopAfter) -> Result<Held<'a>, String> {
            assert_eq!(group, 0);
            let held = self.hold(group);
            self.read(group, stop)?;
            Ok(held)
        }

        fn read_alone(&self, spare: &mut Spare, index: usize, group: usize, stop: &StopAfter) -> Result<Held<'a>, String> {
            assert_eq!(index, group);
            assert_ne!(group, 0, "the lead reads the first group");
            let thread = std::thread::current().id();
            match &mut spare.0 {
                Some((owner, groups)) => {
                    assert_eq!(*owner, thread, "a spare stays on its thread");
                    *groups += 1;
                }
                None => {
                    self.spares.fetch_add(1, Ordering::SeqCst);
                    spare.0 = Some((thread, 1));
                }
            }
            let held = self.hold(group);
            self.read(group, stop)?;
            Ok(held)
        }

        fn read_into(&self, reading: &mut Held<'a>, index: usize, group: usize, stop: &StopAfter) -> Result<(), String> {
            assert_eq!(index, group);
            assert_eq!(reading.0.last().map(|last| last + 1), Some(group), "read in order");
            self.read(group, stop)?;
            reading.0.push(group);
            Ok(())
        }

        fn absorb(&self, reading: &mut Held<'a>, mut other: Held<'a>) -> Result<(), String> {
            assert_eq!(reading.0.last().map(|last| last + 1), other.0.first().copied(), "absorbed in order");
            reading.0.append(&mut other.0);
            Ok(())
        }

        fn failed_after(&self, _: &Held<'a>, error: String) -> String {
            error
        }

        fn lost(&self, what: String) -> String {
            what
        }
    }

    fn uneven(group: usize) -> u64 {
        [3, 1, 9, 2, 0, 5, 1, 1, 7][group % 9]
    }

    #[test]
    fn the_lead_holds_every_group_in_order_whatever_the_workers() {
        for workers in [1, 2, 3, 7, 40] {
            for window in [1, 2, 4, 100] {
                let fake = Fake::new(|_| false, uneven);
                let reading = read_in_order(&&fake, (0..23).collect(), workers, window).expect("no group fails");
                assert_eq!(reading.0, (0..23).collect::<Vec<_>>(), "{workers} workers, window {window}");
                drop(reading);
                assert_eq!(fake.alive.load(Ordering::SeqCst), 0);
                // One spare instance per thread at most, whatever the number of groups.
                let spares = fake.spares.load(Ordering::SeqCst);
                assert!(spares <= workers.min(23), "{spares} spare instances for {workers} workers");
            }
        }
    }

    #[test]
    fn readings_waiting_for_their_turn_stay_within_the_window() {
        // The lead's first group is slow: the helpers run into the window and wait.
        let fake = Fake::new(|_| false, |group| if group == 0 { 40 } else { 1 });
        read_in_order(&&fake, (0..30).collect(), 4, 3).expect("no group fails");
        // The lead's own reading and at most `window` groups past it (claimed or waiting).
        assert!(fake.most_alive.load(Ordering::SeqCst) <= 4, "{} readings at once", fake.most_alive.load(Ordering::SeqCst));
    }

    #[test]
    fn the_first_failure_in_group_order_is_returned_even_when_a_later_one_fails_first() {
        // Group 3 fails slowly, group 9 at once: one instance reading in order meets 3 first.
        let fake = Fake::new(|group| group == 3 || group == 9, |group| if group == 3 { 30 } else { 0 });
        for workers in [1, 2, 5] {
            let error = read_in_order(&&fake, (0..12).collect(), workers, 12).expect_err("groups fail");
            assert_eq!(error, "group 3 is bad", "{workers} workers");
        }
        let fake = Fake::new(|group| group == 0, |_| 2);
        assert_eq!(read_in_order(&&fake, (0..5).collect(), 3, 2).expect_err("the lead's group fails"), "group 0 is bad");
        assert_eq!(fake.alive.load(Ordering::SeqCst), 0, "every reading is dropped");
    }

    #[test]
    fn a_helper_that_panics_is_an_error_not_a_hang() {
        // The lead's group is slow, so the helpers claim the next ones (and panic).
        let mut fake = Fake::new(|_| false, |group| if group == 0 { 20 } else { 1 });
        fake.helpers_panic = true;
        let error = read_in_order(&&fake, (0..10).collect(), 3, 10).expect_err("a helper panicked");
        assert!(error.contains("panicked"), "{error}");
    }
}
