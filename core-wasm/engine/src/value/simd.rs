//! The fast path of [`Value::parse`]: simdjson's algorithm (the `simd-json` crate: AVX2 or SSE4.2
//! natively, chosen at run time; wasm `simd128` in the component) finds the structure of an item
//! sixteen or thirty-two bytes at a time and writes a tape, which is copied into the arena as it
//! is: [`Value`] reads that tape, no value is built.
//!
//! `serde_json` stays the definition of what the engine reads: this path answers only where it
//! is known to agree with `serde_json`, and returns `None` — leaving the text to `serde_json` — for
//! everything else:
//! - text `simd-json` rejects (so every error, and its position, is `serde_json`'s; both reject
//!   unpaired surrogates in `\u` escapes and raw control characters in strings);
//! - floats (the two crates may round a long mantissa differently) and `-0` (an integer zero to
//!   `simd-json`, the float `-0.0` to `serde_json`);
//! - nesting deeper than [`MAX_DEPTH`] (`serde_json` stops at 128).
//!
//! A differential test and the `scan_bytes` fuzz target check that the two agree on whatever
//! this path accepts.

use std::cell::RefCell;

use bumpalo::Bump;
use bumpalo::collections::Vec as ArenaVec;
use simd_json::{Buffers, Node, StaticNode, Tape};

use super::{Value, extent, root};

/// Containers nested deeper than this are left to `serde_json`; Config items nest about ten deep.
const MAX_DEPTH: usize = 64;

thread_local! {
    /// The parser's buffers and tape, kept from item to item (the engine parses one at a time).
    static PARSER: RefCell<(Option<Buffers>, Tape<'static>)> = const { RefCell::new((None, Tape(Vec::new()))) };
}

/// The value of `bytes` with strings in `arena`, or `None` when `serde_json` must decide.
pub(super) fn parse<'a>(bytes: &[u8], arena: &'a Bump) -> Option<Value<'a>> {
    let len = bytes.len();
    // simd-json reads past the end in whole blocks and unescapes strings in place: the text is
    // copied, with the padding it asks for, into the arena the value's strings then borrow from.
    // Only the padding is zeroed: filling the whole copy first cost as much as the copy.
    let mut input = ArenaVec::with_capacity_in(len + simd_json::INPUT_PADDING, arena);
    input.extend_from_slice_copy(bytes);
    input.extend_from_slice_copy(&[0u8; simd_json::INPUT_PADDING]);
    let input = input.into_bump_slice_mut();
    PARSER.with(|parser| {
        let mut parser = parser.try_borrow_mut().ok()?;
        let (buffers, kept) = &mut *parser;
        let buffers = buffers.get_or_insert_with(|| Buffers::with_max_depth(len, MAX_DEPTH));
        let mut tape: Tape<'a> = std::mem::replace(kept, Tape(Vec::new())).reset();
        let value = simd_json::fill_tape_padded(input, len, buffers, &mut tape).ok().and_then(|()| {
            let (nodes, zero) = copy(&tape, arena)?;
            let whole = nodes.first().is_some_and(|first| extent(first) == nodes.len());
            (whole && !(zero && negative_zero(bytes, buffers.structural_indexes()))).then(|| root(nodes))
        });
        *kept = tape.reset();
        value
    })
}

/// Whether a number in `bytes` starts `-0` (the tape cannot tell `-0` from `0`).
fn negative_zero(bytes: &[u8], structurals: &[u32]) -> bool {
    structurals.iter().any(|&at| {
        let at = at as usize;
        bytes.get(at) == Some(&b'-') && bytes.get(at + 1) == Some(&b'0')
    })
}

/// Copies a tape into the arena, and says whether it holds an integer zero (then `-0` has to
/// be ruled out); `None` for a float, which is `serde_json`'s to read.
fn copy<'a>(tape: &Tape<'a>, arena: &'a Bump) -> Option<(&'a [Node<'a>], bool)> {
    let mut zero = false;
    for node in &tape.0 {
        match node {
            Node::Static(StaticNode::I64(0) | StaticNode::U64(0)) => zero = true,
            // Floats (and wider integers, were simd-json's 128-bit feature ever on) are
            // serde_json's to read.
            Node::Static(StaticNode::I64(_) | StaticNode::U64(_) | StaticNode::Bool(_) | StaticNode::Null) | Node::String(_) | Node::Array { .. } | Node::Object { .. } => {}
            Node::Static(_) => return None,
        }
    }
    Some((arena.alloc_slice_copy(&tape.0), zero))
}
