//! Reading consecutive groups of sources on several instances at once, taken into the first
//! instance strictly in group order (a component's `absorb-state` needs them in order).
//!
//! The first instance — the lead — reads group 0 and then, group after group, either reads the
//! next group itself (when no one has claimed it), takes in the next group a helper has read
//! and handed over, or, while that group is still being read, reads a later one as a helper
//! would. Each helper reads its groups one after another on one spare instance of its own and
//! hands each group's state over itself, so the lead only takes states in. No group is claimed
//! more than `window` groups past those the lead holds, so the states waiting for their turn
//! stay few and small: peak memory is about the lead's full state plus `window` groups' states
//! and one spare instance per thread, not the lead's plus every other instance's share of the
//! input.
//!
//! Helpers leave the lead the group it will need next. A group the lead reads onto its own
//! state costs nothing more; one a helper reads costs a hand-over and its taking in, together
//! about a third of reading it. Had helpers claimed in order, the lead's next group would
//! nearly always be a helper's, still being read: the lead would read ahead on a spare
//! instance, and every group but the first would be handed over. When the group the lead needs
//! is a helper's all the same, the lead waits for it as long as reading another group
//! meanwhile would cost more than reading it onto its state, then reads ahead.
//!
//! Errors are those one instance reading every group in order would meet: when a group fails,
//! the groups after it stop (nothing they read can matter), the groups before it are read to
//! the end, and the lead returns the first failure in group order.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

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
    let mut board = Board { groups: groups.into_iter().map(Some).collect(), absorbed: 0, done: BTreeMap::new(), closed: false };
    let Some((_, first)) = board.claim(0) else {
        return Err(reader.lost("no sources to read".to_owned()));
    };
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
    /// Every group by index; `None` once claimed.
    groups: Vec<Option<G>>,
    /// How many groups the lead holds (always the first ones).
    absorbed: usize,
    /// Groups read on their own and handed over, waiting for their turn.
    done: BTreeMap<usize, T>,
    /// The lead is done or has failed: helpers claim nothing more.
    closed: bool,
}

impl<G, T> Board<G, T> {
    /// Claims group `index` if no one has.
    fn claim(&mut self, index: usize) -> Option<(usize, G)> {
        Some((index, self.groups.get_mut(index)?.take()?))
    }

    /// The group a helper claims next: of the unclaimed groups in the window (`window` groups
    /// from the first the lead does not hold) that no failed group before them stops, the
    /// second, or the first when it is the only one. Every group before the first unclaimed one
    /// is being read or is read: that one is the lead's next to read, and left to it, the lead
    /// reads it onto its own state and the helpers' groups alternate with the lead's.
    fn helpers_next(&self, window: usize, stop: &StopAfter) -> Option<usize> {
        let mut open = self.unclaimed(self.absorbed, self.absorbed + window).filter(|&index| !stop.stops(index));
        let first = open.next();
        open.next().or(first)
    }

    /// The unclaimed groups in `from..to` (clamped to those there are), nearest first.
    fn unclaimed(&self, from: usize, to: usize) -> impl Iterator<Item = usize> + '_ {
        let to = to.min(self.groups.len());
        let from = from.min(to);
        self.groups.get(from..to).unwrap_or_default().iter().enumerate().filter(|(_, group)| group.is_some()).map(move |(at, _)| from + at)
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

    fn wait_until<'a>(&self, board: MutexGuard<'a, Board<G, T>>, until: Instant) -> MutexGuard<'a, Board<G, T>> {
        let timeout = until.saturating_duration_since(Instant::now());
        self.changed.wait_timeout(board, timeout).map_or_else(|e| e.into_inner().0, |(board, _)| board)
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
        let (index, group) = {
            let mut board = shared.lock();
            loop {
                if board.closed {
                    return;
                }
                if let Some(claimed) = board.helpers_next(shared.window, &shared.stop).and_then(|index| board.claim(index)) {
                    break claimed;
                }
                // Nothing left to claim, past the window either, that may still be read.
                if board.unclaimed(board.absorbed, shared.count).next().is_none_or(|index| shared.stop.stops(index)) {
                    return;
                }
                board = shared.wait(board);
            }
        };
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
    let started = Instant::now();
    let mut reading = reader.read_first(first, &shared.stop).map_err(failed(0))?;
    let mut own = Own { groups: 1, time: started.elapsed() };
    let mut spare = R::Spare::default();
    shared.update(|board| board.absorbed = 1);
    loop {
        let (index, step) = {
            let mut board = shared.lock();
            let index = board.absorbed;
            let mut patience: Option<Instant> = None;
            let step = loop {
                if board.absorbed == shared.count {
                    break Step::Done;
                }
                if let Some(result) = board.done.remove(&index) {
                    break Step::Absorb(result);
                }
                if let Some((i, g)) = board.claim(index) {
                    break Step::ReadInto(i, g);
                }
                // The next group is a helper's, still being read. Wait for it as long as reading
                // a later one meanwhile would cost more (its hand-over and taking in), then read
                // the nearest one after it that no one has claimed, as a helper would.
                let until = *patience.get_or_insert_with(|| Instant::now() + own.patience());
                if Instant::now() >= until {
                    let ahead = board.unclaimed(index + 1, index + shared.window).next();
                    if let Some((i, g)) = ahead.and_then(|i| board.claim(i)) {
                        break Step::ReadAlone(i, g);
                    }
                    board = shared.wait(board);
                } else {
                    board = shared.wait_until(board, until);
                }
            };
            (index, step)
        };
        let stepped = Instant::now();
        match step {
            Step::Done => return Ok(reading),
            Step::Absorb(Ok(other)) => reader.absorb(&mut reading, other).map_err(failed(index))?,
            Step::Absorb(Err(error)) => return Err(reader.failed_after(&reading, error)),
            Step::ReadInto(i, group) => {
                reader.read_into(&mut reading, i, group, &shared.stop).map_err(failed(i))?;
                own.groups += 1;
                own.time += stepped.elapsed();
            }
            Step::ReadAlone(i, group) => {
                read_alone(reader, shared, &mut spare, i, group);
                continue;
            }
        }
        shared.update(|board| board.absorbed += 1);
    }
}

/// The groups the lead read onto its own state, and the time that took.
struct Own {
    groups: u32,
    time: Duration,
}

impl Own {
    /// How long the lead waits for a helper's group before reading a later one on its own:
    /// what that would cost more than reading it onto its state, a hand-over and a taking in
    /// (together about a third of reading a group; see BENCHMARKS.md, round 16).
    fn patience(&self) -> Duration {
        self.time / self.groups.max(1) / 3
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
        /// Groups the lead read onto its own reading.
        into: AtomicUsize,
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
            Self { fails, delay, helpers_panic: false, alive: AtomicUsize::new(0), most_alive: AtomicUsize::new(0), spares: AtomicUsize::new(0), into: AtomicUsize::new(0) }
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
            self.into.fetch_add(1, Ordering::SeqCst);
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
    fn helpers_leave_the_lead_the_group_it_needs_next() {
        let never = StopAfter::never();
        let mut board: Board<(), ()> = Board { groups: vec![Some(()); 12], absorbed: 0, done: BTreeMap::new(), closed: false };
        board.claim(0);
        // The lead reads group 0: group 1 is its next, the helpers take 2 and 3.
        assert_eq!(board.helpers_next(8, &never), Some(2));
        board.claim(2);
        assert_eq!(board.helpers_next(8, &never), Some(3));
        board.claim(3);
        // The lead holds 0 and 1 and takes 2 in (or waits for it), 3 is handed over: its next
        // to read is 4.
        board.absorbed = 2;
        board.done.insert(3, ());
        assert_eq!(board.helpers_next(8, &never), Some(5));
        // Reading 4 ahead on its own, the lead will next need 5.
        board.claim(4);
        assert_eq!(board.helpers_next(8, &never), Some(6));
        // When the lead's next group is the only one left in the window, a helper takes it.
        for index in [6, 7, 8] {
            board.claim(index);
        }
        assert_eq!(board.helpers_next(8, &never), Some(9), "window 2..10");
        assert_eq!(board.helpers_next(4, &never), Some(5), "window 2..6");
        board.claim(9);
        assert_eq!(board.helpers_next(8, &never), Some(5));
        // Nothing a failure stops.
        let stop = StopAfter::never();
        stop.failed(4);
        assert_eq!(board.helpers_next(8, &stop), None);
    }

    #[test]
    fn with_equal_groups_the_lead_reads_about_every_other_group_onto_its_state() {
        let fake = Fake::new(|_| false, |_| 5);
        read_in_order(&&fake, (0..24).collect(), 2, 8).expect("no group fails");
        let into = fake.into.load(Ordering::SeqCst);
        // One in two, give or take a scheduler's hiccups; claiming in order gave none.
        assert!((4..=20).contains(&into), "the lead read {into} of 24 groups onto its state");
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
