//! The fast path of [`Value::parse`]: one pass over the item that writes its tape straight into
//! the arena. Strings that need no unescaping (nearly all of a Config item's bytes) borrow from
//! the input and are searched sixteen bytes at a time for their closing quote (SSE2 natively,
//! simd128 in the component, NEON on arm64); the few structural bytes between them are read
//! one at a time, which costs less than finding them all with vectors first.
//!
//! `serde_json` stays the definition of what the engine reads: this path answers only where it
//! is known to agree with `serde_json`, and returns `None` — leaving the text to `serde_json` —
//! for everything else:
//! - text that is not valid JSON (so every error, and its position, is `serde_json`'s), or not
//!   UTF-8;
//! - floats and integers beyond 64 bits (`serde_json` reads both as floats), and `-0` (the float
//!   `-0.0` to `serde_json`);
//! - `\u` escapes of surrogates (`serde_json` pairs them or refuses them);
//! - nesting deeper than [`MAX_DEPTH`] (`serde_json` stops at 128).
//!
//! A differential test and the `scan_bytes` fuzz target check that the two agree on whatever
//! this path accepts.

use bumpalo::Bump;
use bumpalo::collections::Vec as ArenaVec;
use super::{NULL, Node, StaticNode, Value, root};

/// Containers nested deeper than this are left to `serde_json`; Config items nest about ten deep.
const MAX_DEPTH: usize = 64;

/// The value of `bytes`, with its strings in `bytes` or in `arena`, or `None` when `serde_json`
/// must decide.
pub(super) fn parse<'a>(bytes: &'a [u8], arena: &'a Bump) -> Option<Value<'a>> {
    parse_text(super::utf8(bytes)?, arena)
}

/// [`parse`] for text known to be UTF-8.
pub(super) fn parse_text<'a>(text: &'a str, arena: &'a Bump) -> Option<Value<'a>> {
    let (value, end) = parse_prefix(text, text.len(), arena)?;
    (end == text.len()).then_some(value)
}

/// The value at the start of `text` and where it ends (whitespace after it is skipped), or
/// `None` when `serde_json` must decide. Whatever follows is not looked at. `expected` is about
/// how long the value is (the tape is sized for it).
pub(super) fn parse_prefix<'a>(text: &'a str, expected: usize, arena: &'a Bump) -> Option<(Value<'a>, usize)> {
    let bytes = text.as_bytes();
    // About one node for every twelve bytes of a Config item.
    let mut reader = Reader { text, bytes, at: 0, arena, tape: ArenaVec::with_capacity_in(expected.min(bytes.len()) / 12 + 8, arena) };
    reader.value()?;
    reader.skip_whitespace();
    Some((root(reader.tape.into_bump_slice()), reader.at))
}

/// An open container: where its header is on the tape, how many elements (or members) it has
/// so far, and whether it is an object.
#[derive(Clone, Copy)]
struct Open {
    at: u32,
    len: u32,
    object: bool,
}

struct Reader<'a> {
    text: &'a str,
    bytes: &'a [u8],
    at: usize,
    arena: &'a Bump,
    tape: ArenaVec<'a, Node<'a>>,
}

impl<'a> Reader<'a> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.at).copied()
    }

    /// Steps over whitespace: none or one byte in compact text (inline), runs of indentation in
    /// pretty-printed text sixteen bytes at a time.
    #[inline(always)]
    fn skip_whitespace(&mut self) {
        if matches!(self.peek(), Some(b' ' | b'\n' | b'\r' | b'\t')) {
            self.at += 1;
            if matches!(self.peek(), Some(b' ' | b'\n' | b'\r' | b'\t')) {
                self.skip_run();
            }
        }
    }

    #[inline(never)]
    fn skip_run(&mut self) {
        use wide::u8x16;
        while let Some(chunk) = self.sixteen(self.at) {
            let v = u8x16::new(chunk);
            let space = v.simd_eq(u8x16::splat(b' ')) | v.simd_eq(u8x16::splat(b'\n')) | v.simd_eq(u8x16::splat(b'\r')) | v.simd_eq(u8x16::splat(b'\t'));
            let other = !space.to_bitmask() & 0xffff;
            if other != 0 {
                self.at += other.trailing_zeros() as usize;
                return;
            }
            self.at += 16;
        }
        while matches!(self.peek(), Some(b' ' | b'\n' | b'\r' | b'\t')) {
            self.at += 1;
        }
    }

    /// The next byte after any whitespace, consumed.
    #[inline(always)]
    fn next_token(&mut self) -> Option<u8> {
        self.skip_whitespace();
        let byte = self.peek()?;
        self.at += 1;
        Some(byte)
    }

    /// One whole value (containers iteratively, with their depth bounded).
    fn value(&mut self) -> Option<()> {
        let mut open = [Open { at: 0, len: 0, object: false }; MAX_DEPTH];
        let mut depth = 0;
        'value: loop {
            // A value starts here.
            match self.next_token()? {
                b'"' => {
                    let s = self.string()?;
                    self.tape.push(Node::String(s));
                }
                byte @ (b'{' | b'[') => {
                    let object = byte == b'{';
                    self.skip_whitespace();
                    if self.peek() == Some(if object { b'}' } else { b']' }) {
                        self.at += 1;
                        self.tape.push(if object { Node::Object { len: 0, count: 0 } } else { Node::Array { len: 0, count: 0 } });
                    } else {
                        // Its header is written when it closes.
                        let at = self.tape.len();
                        self.tape.push(NULL);
                        *open.get_mut(depth)? = Open { at: u32::try_from(at).ok()?, len: 0, object };
                        depth += 1;
                        if object {
                            self.key()?;
                        }
                        continue 'value;
                    }
                }
                b't' => self.literal(b"rue", StaticNode::Bool(true))?,
                b'f' => self.literal(b"alse", StaticNode::Bool(false))?,
                b'n' => self.literal(b"ull", StaticNode::Null)?,
                byte @ (b'-' | b'0'..=b'9') => {
                    let node = self.number(byte)?;
                    self.tape.push(node);
                }
                _ => return None,
            }
            // A value ended: what follows it in the containers it closes.
            loop {
                let Some(top) = depth.checked_sub(1) else { return Some(()) };
                let container = open.get_mut(top)?;
                container.len += 1;
                match (self.next_token()?, container.object) {
                    (b',', object) => {
                        if object {
                            self.key()?;
                        }
                        continue 'value;
                    }
                    (b'}', true) | (b']', false) => {
                        let Open { at, len, object } = *container;
                        let (at, len) = (at as usize, len as usize);
                        let count = self.tape.len() - at - 1;
                        *self.tape.get_mut(at)? = if object { Node::Object { len, count } } else { Node::Array { len, count } };
                        depth = top;
                    }
                    _ => return None,
                }
            }
        }
    }

    /// An object's key and the colon after it.
    #[inline(always)]
    fn key(&mut self) -> Option<()> {
        if self.next_token()? != b'"' {
            return None;
        }
        let key = self.string()?;
        self.tape.push(Node::String(key));
        (self.next_token()? == b':').then_some(())
    }

    /// The rest of a literal whose first byte was read.
    fn literal(&mut self, rest: &[u8], node: StaticNode) -> Option<()> {
        let end = self.at + rest.len();
        if self.bytes.get(self.at..end)? != rest {
            return None;
        }
        self.at = end;
        self.tape.push(Node::Static(node));
        Some(())
    }

    /// An integer whose first byte (`-` or a digit) was read; `None` for a float, `-0`, an
    /// integer beyond 64 bits or a malformed number.
    fn number(&mut self, first: u8) -> Option<Node<'a>> {
        let negative = first == b'-';
        let lead = if negative {
            let digit = self.peek()?;
            self.at += 1;
            digit
        } else {
            first
        };
        let mut magnitude = u64::from(lead.checked_sub(b'0').filter(|d| *d <= 9)?);
        // A digit after a leading zero is refused as what follows a value.
        if magnitude == 0 {
            if negative {
                return None; // `-0`
            }
        } else {
            // Beyond u64::MAX the number is a float to `serde_json`. (Compared with constants:
            // `checked_mul` is a 128-bit multiplication in the component.)
            const TENTH: u64 = u64::MAX / 10;
            while let Some(digit @ b'0'..=b'9') = self.peek() {
                let digit = u64::from(digit - b'0');
                if magnitude > TENTH || (magnitude == TENTH && digit > u64::MAX % 10) {
                    return None;
                }
                magnitude = magnitude * 10 + digit;
                self.at += 1;
            }
        }
        if matches!(self.peek(), Some(b'.' | b'e' | b'E')) {
            return None;
        }
        Some(Node::Static(if negative {
            // Down to i64::MIN, whose magnitude is one more than i64::MAX.
            StaticNode::I64(0_i64.checked_sub_unsigned(magnitude)?)
        } else {
            StaticNode::U64(magnitude)
        }))
    }

    /// A string whose opening quote was read, up to and past its closing quote: borrowed from
    /// the input when it has no escapes (inlined: most strings), else decoded into the arena.
    #[inline(always)]
    fn string(&mut self) -> Option<&'a str> {
        let start = self.at;
        let stop = self.stop(start)?;
        if self.bytes.get(stop) == Some(&b'"') {
            self.at = stop + 1;
            return self.text.get(start..stop);
        }
        self.decode(start, stop)
    }

    /// A string with escapes (or a control character, which is an error) from `start`, its
    /// first `\\` (or control character) at `stop`. The run after each escape is copied
    /// sixteen bytes at a time (a copy of a known size needs no call) and the copy cut back to
    /// where the run ends; one loop, so escapes close together cost no call each.
    #[cold]
    #[inline(never)]
    fn decode(&mut self, start: usize, stop: usize) -> Option<&'a str> {
        let mut decoded = ArenaVec::with_capacity_in(2 * (stop - start) + 32, self.arena);
        decoded.extend_from_slice_copy(self.bytes.get(start..stop)?);
        let mut at = stop;
        loop {
            // `at` is at a `"`, a `\\` or a control character.
            match *self.bytes.get(at)? {
                b'"' => {
                    self.at = at + 1;
                    // The runs are the input's text and the escapes whole characters: this only
                    // proves it to the compiler (with the engine's one UTF-8 check).
                    return super::utf8(decoded.into_bump_slice());
                }
                b'\\' => {
                    let escape = *self.bytes.get(at + 1)?;
                    at += 2;
                    if escape == b'u' {
                        let hex = self.text.get(at..at + 4)?;
                        at += 4;
                        // `from_str_radix` would take a sign; four hex digits only.
                        if !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
                            return None;
                        }
                        // Surrogates (paired or not) are `serde_json`'s to read.
                        let char = char::from_u32(u32::from_str_radix(hex, 16).ok()?)?;
                        decoded.extend_from_slice_copy(char.encode_utf8(&mut [0; 4]).as_bytes());
                    } else {
                        decoded.push(match escape {
                            b'"' => b'"',
                            b'\\' => b'\\',
                            b'/' => b'/',
                            b'b' => 0x08,
                            b'f' => 0x0c,
                            b'n' => b'\n',
                            b'r' => b'\r',
                            b't' => b'\t',
                            _ => return None,
                        });
                    }
                }
                _ => return None, // a control character
            }
            // The run from `at` up to the next `"`, `\\` or control character.
            loop {
                let Some(chunk) = self.sixteen(at) else {
                    let stop = self.stop(at)?;
                    decoded.extend_from_slice_copy(self.bytes.get(at..stop)?);
                    at = stop;
                    break;
                };
                decoded.extend_from_slice_copy(&chunk);
                let hits = stops(chunk);
                if hits != 0 {
                    let run = hits.trailing_zeros() as usize;
                    decoded.truncate(decoded.len() - 16 + run);
                    at += run;
                    break;
                }
                at += 16;
            }
        }
    }

    /// The sixteen bytes from `at`, when there are as many.
    #[inline(always)]
    fn sixteen(&self, at: usize) -> Option<[u8; 16]> {
        self.bytes.get(at..at + 16).and_then(|b| <[u8; 16]>::try_from(b).ok())
    }

    /// The index of the first `"`, `\` or control character at or after `from`. Most keys and
    /// values end within thirty-two bytes (ids and capture times are twenty-odd): those two
    /// blocks are searched inline, and inside the component the rest by a call (Cranelift
    /// otherwise keeps the search's constants on the stack in the functions it is inlined into,
    /// and reloads them for every block; natively inlining the whole search is cheaper).
    #[inline(always)]
    fn stop(&self, from: usize) -> Option<usize> {
        match self.sixteen(from).map(stops) {
            Some(0) => match self.sixteen(from + 16).map(stops) {
                Some(0) => self.stop_beyond(from + 32),
                Some(bits) => Some(from + 16 + bits.trailing_zeros() as usize),
                None => self.stop_beyond(from + 16),
            },
            Some(bits) => Some(from + bits.trailing_zeros() as usize),
            None => self.stop_beyond(from),
        }
    }

    /// [`Reader::stop`] past its first block.
    #[cfg_attr(target_arch = "wasm32", inline(never))]
    #[cfg_attr(not(target_arch = "wasm32"), inline(always))]
    fn stop_beyond(&self, from: usize) -> Option<usize> {
        let mut at = from;
        while let Some(chunk) = self.sixteen(at) {
            let bits = stops(chunk);
            if bits != 0 {
                return Some(at + bits.trailing_zeros() as usize);
            }
            at += 16;
        }
        self.bytes.get(at..)?.iter().position(|&b| b == b'"' || b == b'\\' || b < 0x20).map(|found| at + found)
    }
}

/// A bit for each of sixteen bytes that is a `"`, a `\\` or a control character.
#[inline(always)]
fn stops(chunk: [u8; 16]) -> u32 {
    use wide::u8x16;
    let v = u8x16::new(chunk);
    let hits = v.simd_eq(u8x16::splat(b'"')) | v.simd_eq(u8x16::splat(b'\\')) | v.min(u8x16::splat(0x1f)).simd_eq(v);
    hits.to_bitmask()
}
