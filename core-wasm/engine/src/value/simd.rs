//! The fast path of [`Value::parse`]: simdjson's algorithm (the `simd-json` crate: AVX2 or SSE4.2
//! natively, chosen at run time; wasm `simd128` in the component) finds the structure of an item
//! sixteen or thirty-two bytes at a time and writes a tape, which is copied into the arena as a
//! [`Value`].
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

use super::{Map, Value};

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
    let input = arena.alloc_slice_fill_copy(len + simd_json::INPUT_PADDING, 0u8);
    input.get_mut(..len)?.copy_from_slice(bytes);
    PARSER.with(|parser| {
        let mut parser = parser.try_borrow_mut().ok()?;
        let (buffers, kept) = &mut *parser;
        let buffers = buffers.get_or_insert_with(|| Buffers::with_max_depth(len, MAX_DEPTH));
        let mut tape: Tape<'a> = std::mem::replace(kept, Tape(Vec::new())).reset();
        let value = simd_json::fill_tape_padded(input, len, buffers, &mut tape).ok().and_then(|()| {
            let mut builder = Builder { nodes: &tape.0, at: 0, arena, zero: false };
            let value = builder.value()?;
            let whole = builder.at == tape.0.len();
            (whole && !(builder.zero && negative_zero(bytes, buffers.structural_indexes()))).then_some(value)
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

/// Copies a tape into the arena as a [`Value`].
struct Builder<'t, 'a> {
    nodes: &'t [Node<'a>],
    at: usize,
    arena: &'a Bump,
    /// Whether an integer zero was read (then `-0` has to be ruled out).
    zero: bool,
}

impl<'a> Builder<'_, 'a> {
    fn value(&mut self) -> Option<Value<'a>> {
        let node = *self.nodes.get(self.at)?;
        self.at += 1;
        Some(match node {
            Node::String(s) => Value::String(s),
            Node::Static(StaticNode::Null) => Value::Null,
            Node::Static(StaticNode::Bool(b)) => Value::Bool(b),
            Node::Static(StaticNode::I64(n)) => {
                self.zero |= n == 0;
                Value::Number(n.into())
            }
            Node::Static(StaticNode::U64(n)) => {
                self.zero |= n == 0;
                Value::Number(n.into())
            }
            // Floats (and wider integers, were simd-json's 128-bit feature ever on) are
            // serde_json's to read.
            Node::Static(_) => return None,
            Node::Array { len, .. } => {
                let mut elements = ArenaVec::with_capacity_in(len, self.arena);
                for _ in 0..len {
                    elements.push(self.value()?);
                }
                Value::Array(elements.into_bump_slice())
            }
            Node::Object { len, .. } => {
                let mut members = ArenaVec::with_capacity_in(len, self.arena);
                for _ in 0..len {
                    let Node::String(key) = *self.nodes.get(self.at)? else { return None };
                    self.at += 1;
                    members.push((key, self.value()?));
                }
                Value::Object(Map { members: members.into_bump_slice() })
            }
        })
    }
}
