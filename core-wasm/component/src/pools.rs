//! The component's allocator: blocks of up to 256 bytes from free lists, one per multiple of
//! 16 bytes; larger blocks, and the 64 KiB slabs the small ones are cut from, from wasi-libc's
//! `dlmalloc` (`System`).
//!
//! Most of the engine's allocations are small and short-lived — a rule's vectors and texts,
//! a finding's message, a resource key's texts — and inside the component `dlmalloc` took
//! about 105 instructions per `malloc` and 30 per `free` (plus, for every loop step, the
//! call's deadline check). Here a small block is a pop from or a push onto its list. A freed
//! small block is kept on its list for the next allocation of its size, never given back to
//! `dlmalloc`: an instance scores one scan (or one helper's groups), whose small blocks are
//! reused item after item.
//!
//! The component has one thread (`wasm32-wasip2` has no threads), so the lists need no lock.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::UnsafeCell;
use std::ptr;

/// Block sizes are multiples of this, and every small block is aligned to it.
const GRAIN: usize = 16;
/// Number of small sizes: 16, 32, … 256 bytes.
const CLASSES: usize = 16;
/// The largest small block.
const LARGEST: usize = GRAIN * CLASSES;
/// What small blocks are cut from, taken from `System` whole.
const SLAB: usize = 64 << 10;

/// Free lists of small blocks, and the slab new ones are cut from.
pub struct Pools {
    state: UnsafeCell<State>,
}

struct State {
    /// For each size, the first free block; each free block holds the address of the next.
    free: [*mut u8; CLASSES],
    /// The uncut rest of the current slab: from `next` up to `end`.
    next: *mut u8,
    end: *mut u8,
}

// SAFETY: the lists are only used from one thread: the component has only one, and the native
// tests give each thread its own `Pools`.
unsafe impl Sync for Pools {}

impl Pools {
    pub const fn new() -> Self {
        Self { state: UnsafeCell::new(State { free: [ptr::null_mut(); CLASSES], next: ptr::null_mut(), end: ptr::null_mut() }) }
    }

    /// The list a layout's blocks are kept on, when it is small.
    #[inline(always)]
    fn class(layout: Layout) -> Option<usize> {
        (layout.size() <= LARGEST && layout.align() <= GRAIN).then(|| layout.size().max(1).div_ceil(GRAIN) - 1)
    }
}

impl Default for Pools {
    fn default() -> Self {
        Self::new()
    }
}

// SAFETY: a small block is `GRAIN`-aligned (slabs are, and blocks are cut from them in
// multiples of `GRAIN`) and at least as large as its layout; it is handed out once until it
// is freed. Everything else is `System`'s.
unsafe impl GlobalAlloc for Pools {
    #[inline]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let Some(class) = Self::class(layout) else {
            // SAFETY: the caller's layout, as `GlobalAlloc::alloc` requires.
            return unsafe { System.alloc(layout) };
        };
        // SAFETY: one thread (see `Sync`), and no reference to the state outlives this call.
        let state = unsafe { &mut *self.state.get() };
        let Some(head) = state.free.get_mut(class) else { return ptr::null_mut() };
        if !head.is_null() {
            let block = *head;
            // SAFETY: a free block's first bytes hold the next free block's address.
            *head = unsafe { block.cast::<*mut u8>().read() };
            return block;
        }
        let size = (class + 1) * GRAIN;
        if (state.end as usize) - (state.next as usize) < size {
            // The rest of the old slab (smaller than this block) is left unused.
            // SAFETY: a non-zero size and a power-of-two alignment.
            let slab = unsafe { System.alloc(Layout::from_size_align_unchecked(SLAB, GRAIN)) };
            if slab.is_null() {
                return ptr::null_mut();
            }
            state.next = slab;
            // SAFETY: one past the slab's end.
            state.end = unsafe { slab.add(SLAB) };
        }
        let block = state.next;
        // SAFETY: `size` bytes are left in the slab.
        state.next = unsafe { block.add(size) };
        block
    }

    #[inline]
    unsafe fn dealloc(&self, block: *mut u8, layout: Layout) {
        let Some(class) = Self::class(layout) else {
            // SAFETY: `System` allocated it, with this layout.
            return unsafe { System.dealloc(block, layout) };
        };
        // SAFETY: as in `alloc`.
        let state = unsafe { &mut *self.state.get() };
        if let Some(head) = state.free.get_mut(class) {
            // SAFETY: the block is ours, at least `GRAIN` bytes and aligned for an address.
            unsafe { block.cast::<*mut u8>().write(*head) };
            *head = block;
        }
    }

    #[inline]
    unsafe fn realloc(&self, block: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: the caller guarantees a non-zero size that does not overflow at this alignment.
        let new_layout = unsafe { Layout::from_size_align_unchecked(new_size, layout.align()) };
        match (Self::class(layout), Self::class(new_layout)) {
            // SAFETY: `System` allocated it, with this layout.
            (None, None) => unsafe { System.realloc(block, layout, new_size) },
            // The block already has room for the new size.
            (Some(old), Some(new)) if old == new => block,
            _ => {
                // SAFETY: as `alloc` and `dealloc`; the two blocks are distinct.
                unsafe {
                    let moved = self.alloc(new_layout);
                    if !moved.is_null() {
                        ptr::copy_nonoverlapping(block, moved, layout.size().min(new_size));
                        self.dealloc(block, layout);
                    }
                    moved
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Blocks of every size and alignment, allocated, grown, shrunk and freed in a scattered
    /// order: each is aligned, keeps what was written to it, and overlaps no other live block;
    /// freed small blocks are handed out again.
    #[test]
    fn blocks_keep_their_bytes_and_never_overlap() {
        let pools = Pools::new();
        let mut seed = 0x2545_f491_4f6c_dd1d_u64;
        let mut next = |below: u64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed % below
        };
        let mut live: Vec<(*mut u8, Layout, u8)> = Vec::new();
        let check = |(block, layout, mark): &(*mut u8, Layout, u8)| {
            assert_eq!(*block as usize % layout.align(), 0, "aligned to {}", layout.align());
            // SAFETY: a live block of `layout.size()` bytes.
            let bytes = unsafe { std::slice::from_raw_parts(*block, layout.size()) };
            assert!(bytes.iter().all(|b| b == mark), "a block kept its bytes");
        };
        let mut reused = 0;
        let mut freed = std::collections::HashSet::new();
        for round in 0..20_000u32 {
            match next(4) {
                0 | 1 => {
                    let size = 1 + next(600) as usize;
                    let align = 1 << next(6);
                    let layout = Layout::from_size_align(size, align).expect("layout");
                    // SAFETY: a non-zero size.
                    let block = unsafe { pools.alloc(layout) };
                    assert!(!block.is_null());
                    if freed.contains(&block) {
                        reused += 1;
                    }
                    let mark = round as u8;
                    // SAFETY: `size` bytes were allocated.
                    unsafe { block.write_bytes(mark, size) };
                    live.push((block, layout, mark));
                }
                2 if !live.is_empty() => {
                    let entry = live.swap_remove(next(live.len() as u64) as usize);
                    check(&entry);
                    // SAFETY: allocated by `pools` with this layout.
                    unsafe { pools.dealloc(entry.0, entry.1) };
                    freed.insert(entry.0);
                }
                3 if !live.is_empty() => {
                    let at = next(live.len() as u64) as usize;
                    let (block, layout, mark) = live[at];
                    check(&live[at]);
                    let new_size = 1 + next(600) as usize;
                    // SAFETY: allocated by `pools` with this layout; a non-zero new size.
                    let moved = unsafe { pools.realloc(block, layout, new_size) };
                    assert!(!moved.is_null());
                    let kept = layout.size().min(new_size);
                    // SAFETY: `new_size` bytes are allocated; the first `kept` were copied.
                    let bytes = unsafe { std::slice::from_raw_parts(moved, kept) };
                    assert!(bytes.iter().all(|b| *b == mark), "realloc kept the bytes");
                    // SAFETY: as above.
                    unsafe { moved.write_bytes(mark, new_size) };
                    live[at] = (moved, Layout::from_size_align(new_size, layout.align()).expect("layout"), mark);
                }
                _ => {}
            }
            if round % 1000 == 0 {
                let mut spans: Vec<(usize, usize)> = live.iter().map(|(b, l, _)| (*b as usize, *b as usize + l.size())).collect();
                spans.sort_unstable();
                assert!(spans.windows(2).all(|w| w[0].1 <= w[1].0), "live blocks overlap");
                live.iter().for_each(check);
            }
        }
        assert!(reused > 1000, "freed small blocks are handed out again ({reused})");
        for (block, layout, _) in live {
            // SAFETY: allocated by `pools` with this layout.
            unsafe { pools.dealloc(block, layout) };
        }
    }
}
