//! Finding where a large source can be cut so that several instances read it at once: between
//! two items of its item array (`configurationItems`, `baseConfigurationItems` or `Results` of a
//! top-level object), just after the `,` that separates them.
//!
//! The host only proposes cuts; the component checks each one (`scan.suspend-source` fails
//! anywhere else, and a scan refuses a state that does not go on from where it suspended), so a
//! wrong cut here can cost a failed scan but never a different report. This scanner follows
//! the same lexical rules as the component's splitter: strings (with backslash escapes) hide
//! everything in them, brackets nest, and an item array is the value of one of those keys in a
//! top-level object.

use compliance_engine::input::split::Masks;

/// The keys whose arrays hold items (the component's splitter streams the same ones).
const ITEM_ARRAYS: [&str; 3] = ["configurationItems", "baseConfigurationItems", "Results"];
/// Longer keys are none of those.
const LONGEST_KEY: usize = 22;

/// A streaming scanner of one source's bytes that finds cuts between items.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct CutFinder {
    /// Bytes scanned so far.
    offset: u64,
    depth: usize,
    in_string: bool,
    escaped: bool,
    /// The top-level value is an array (its elements are documents: no cuts there).
    top_array: bool,
    /// The last byte outside strings, not whitespace, at depth 1 of a top-level object.
    previous: u8,
    /// The string being read or last read at depth 1 of a top-level object, when it is in key
    /// position (after `{` or `,`) and no longer than any item array's name.
    key: Option<Vec<u8>>,
    /// Whether the string being read is such a key.
    in_key: bool,
    /// The item array the scanner is in (at depth 2), by name.
    array: Option<&'static str>,
}

impl CutFinder {
    /// Bytes scanned so far: the offset of the next byte.
    pub(crate) fn offset(&self) -> u64 {
        self.offset
    }

    /// Scans `bytes`, which follow those scanned before. With `want` set, stops just after the
    /// first cut it meets and returns how many bytes it scanned and the item array's name (the
    /// cut is at [`CutFinder::offset`] then); otherwise, or when there is none, scans them all.
    pub(crate) fn scan(&mut self, bytes: &[u8], want: bool) -> Option<(usize, &'static str)> {
        self.scan_with(bytes, want, true)
    }

    /// [`CutFinder::scan`], sixty-four bytes at a time where it can (`blocks`), or a byte at a
    /// time (for the tests, which compare the two).
    fn scan_with(&mut self, bytes: &[u8], want: bool, blocks: bool) -> Option<(usize, &'static str)> {
        let mut i = 0;
        // Below this offset the bytes are read one at a time: after a block the byte loop has
        // to read (a backslash it cannot place) or the byte a block stopped at.
        let mut bytewise_until = if blocks { 0 } else { usize::MAX };
        while let Some(&byte) = bytes.get(i) {
            // Below the top level (inside items, or a document of a top-level array) only the
            // depth and the item array's commas matter: whole blocks at once.
            if self.depth >= 2
                && i >= bytewise_until
                && let Some(chunk) = bytes.get(i..).and_then(<[u8]>::first_chunk::<64>)
            {
                match self.block(chunk, want) {
                    Block::Inside => i += 64,
                    Block::StopsAt(at) => {
                        i += at;
                        bytewise_until = i + 1;
                    }
                    Block::Bytewise => bytewise_until = i + 64,
                }
                continue;
            }
            if self.in_string {
                // Most of a source is inside strings: jump to the next quote or backslash.
                let rest = bytes.get(i..).unwrap_or_default();
                let skip = if self.escaped { 0 } else { plain_string_bytes(rest) };
                if self.in_key
                    && let Some(key) = &mut self.key
                {
                    key.extend_from_slice(rest.get(..skip).unwrap_or_default());
                    if key.len() > LONGEST_KEY {
                        self.key = None;
                    }
                }
                i += skip;
                let Some(&byte) = bytes.get(i) else { break };
                if self.in_key
                    && let Some(key) = &mut self.key
                    && (self.escaped || byte != b'"')
                {
                    key.push(byte);
                }
                if self.escaped {
                    self.escaped = false;
                } else if byte == b'\\' {
                    self.escaped = true;
                } else {
                    self.in_string = false;
                    self.in_key = false;
                }
                i += 1;
                continue;
            }
            i += 1;
            if let Some(array) = self.step(byte)
                && want
            {
                self.offset += i as u64;
                return Some((i, array));
            }
        }
        self.offset += i as u64;
        None
    }

    /// One byte outside strings; the item array's name when the byte is a `,` between two of
    /// its items.
    fn step(&mut self, byte: u8) -> Option<&'static str> {
        if matches!(byte, b' ' | b'\t' | b'\r' | b'\n') {
            return None;
        }
        let (depth, top_object) = (self.depth, !self.top_array);
        match byte {
            b'"' => {
                self.in_string = true;
                self.in_key = depth == 1 && top_object && matches!(self.previous, b'{' | b',');
                if self.in_key {
                    self.key = Some(Vec::new());
                }
            }
            b'{' | b'[' => {
                if depth == 0 {
                    self.top_array = byte == b'[';
                }
                if depth == 1 && top_object && byte == b'[' && self.previous == b':' {
                    let key = self.key.as_deref().unwrap_or_default();
                    self.array = ITEM_ARRAYS.into_iter().find(|name| name.as_bytes() == key);
                }
                self.depth += 1;
            }
            b'}' | b']' => {
                self.depth = depth.saturating_sub(1);
                if self.depth <= 1 {
                    self.array = None;
                }
            }
            b',' if depth == 2 => return self.array,
            _ => {}
        }
        if self.depth == 1 && top_object {
            self.previous = if depth == 0 { b'{' } else { byte };
        }
        None
    }

    /// Sixty-four bytes below the top level at once, as the component's splitter reads an
    /// item's inside (and simdjson finds structure): a bit per byte for quotes, backslashes,
    /// and brackets or commas; a backslash escapes the byte after it; the bytes inside strings
    /// are those after an odd number of unescaped quotes (a prefix XOR of the quote bits);
    /// brackets and commas outside strings are then visited in order. Stops before a bracket
    /// that closes the level-2 value and, with `want`, before a comma between two items of an
    /// item array: the byte loop reads those, as it reads everything at the top level.
    fn block(&mut self, chunk: &[u8; 64], want: bool) -> Block {
        // The component's splitter's masks: a bit per byte for quotes, backslashes, and
        // brackets or commas (SSE2 on x86-64, NEON on arm64).
        let m = Masks::of64(chunk);
        let escapes = m.backslash << 1 | u64::from(self.escaped);
        if m.backslash & escapes != 0 {
            return Block::Bytewise; // an escaped backslash: a run of them is left to the byte loop
        }
        // Bit k: byte k is inside a string (an opening quote counts as inside, a closing one not).
        let mut inside = m.quote & !escapes;
        for shift in [1, 2, 4, 8, 16, 32] {
            inside ^= inside << shift;
        }
        if self.in_string {
            inside = !inside;
        }
        if m.backslash & !inside != 0 {
            return Block::Bytewise; // a backslash outside strings is no escape: the byte loop's case
        }
        let mut structural = m.structural & !inside;
        let cuts = want && self.array.is_some();
        while structural != 0 {
            let at = structural.trailing_zeros() as usize;
            match chunk.get(at) {
                Some(b'{' | b'[') => self.depth += 1,
                Some(b'}' | b']') if self.depth > 2 => self.depth -= 1,
                Some(b',') if self.depth > 2 || !cuts => {}
                _ => {
                    // Outside strings, so neither in one nor escaped.
                    (self.in_string, self.escaped) = (false, false);
                    return Block::StopsAt(at);
                }
            }
            structural &= structural - 1;
        }
        (self.in_string, self.escaped) = (inside >> 63 == 1, m.backslash >> 63 == 1);
        Block::Inside
    }
}

/// What [`CutFinder::block`] made of sixty-four bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Block {
    /// It read them all.
    Inside,
    /// It read the bytes before this one, which the byte loop reads.
    StopsAt(usize),
    /// Backslashes it cannot place (two in a row, or one outside a string): it read nothing.
    Bytewise,
}

/// How many bytes at the start of `bytes` are neither `"` nor `\`: eight at a time (strings
/// are short, so this beats a call to `memchr2` per string).
fn plain_string_bytes(bytes: &[u8]) -> usize {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    // The high bit of each zero byte of `x` (and maybe of bytes above the first: only the
    // lowest one counts).
    let zeros = |x: u64| x.wrapping_sub(ONES) & !x & HIGHS;
    let mut words = bytes.chunks_exact(8);
    let mut at = 0;
    for word in words.by_ref() {
        let word = u64::from_le_bytes(<[u8; 8]>::try_from(word).unwrap_or([b'"'; 8]));
        let found = zeros(word ^ (ONES * u64::from(b'"'))) | zeros(word ^ (ONES * u64::from(b'\\')));
        if found != 0 {
            return at + (found.trailing_zeros() / 8) as usize;
        }
        at += 8;
    }
    let tail = words.remainder();
    at + tail.iter().position(|&b| b == b'"' || b == b'\\').unwrap_or(tail.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every cut of `text` fed in pieces of `piece` bytes: (offset, array).
    fn cuts(text: &str, piece: usize) -> Vec<(u64, &'static str)> {
        let (found, finder) = cuts_with(text.as_bytes(), piece, true);
        assert_eq!((found.clone(), finder), cuts_with(text.as_bytes(), piece, false), "blocks and bytes differ on {text}");
        found
    }

    /// [`cuts`] with or without blocks, and the finder's state at the end.
    fn cuts_with(text: &[u8], piece: usize, blocks: bool) -> (Vec<(u64, &'static str)>, CutFinder) {
        let mut finder = CutFinder::default();
        let mut found = Vec::new();
        for chunk in text.chunks(piece) {
            let mut rest = chunk;
            while let Some((scanned, array)) = finder.scan_with(rest, true, blocks) {
                found.push((finder.offset(), array));
                rest = rest.get(scanned..).unwrap_or_default();
            }
        }
        assert_eq!(finder.offset(), text.len() as u64);
        (found, finder)
    }

    #[test]
    fn blocks_find_what_the_byte_loop_finds() {
        // Item arrays of random items (nested values; strings holding quotes, backslashes,
        // brackets and commas, escaped or not), and random runs of the bytes that matter, fed
        // in pieces of many sizes: sixty-four bytes at a time must give the same cuts and leave
        // the same state as one byte at a time, with and without looking for cuts.
        let mut seed = 0x2545_F491_4F6C_DD1Du64;
        let mut next = move |below: u64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed % below
        };
        fn value(next: &mut dyn FnMut(u64) -> u64, depth: u32, out: &mut Vec<u8>) {
            match next(if depth > 4 { 3 } else { 6 }) {
                0 => out.extend_from_slice(b"12.5"),
                1 | 2 => {
                    out.push(b'"');
                    for _ in 0..next(90) {
                        let piece: &[u8] = [&b"a"[..], b"bc", b" ", b"\\\"", b"\\\\", b"{", b"}", b"[", b"]", b",", b"\\n", b"\\u0041"][next(12) as usize];
                        out.extend_from_slice(piece);
                    }
                    out.push(b'"');
                }
                3 | 4 => {
                    out.push(b'{');
                    for k in 0..next(5) {
                        out.extend_from_slice(if k == 0 { &b"\"k\": "[..] } else { b", \"key\":" });
                        value(next, depth + 1, out);
                    }
                    out.push(b'}');
                }
                _ => {
                    out.extend_from_slice(b"[ ");
                    for k in 0..next(5) {
                        if k > 0 {
                            out.extend_from_slice(b",\n  ");
                        }
                        value(next, depth + 1, out);
                    }
                    out.push(b']');
                }
            }
        }
        for round in 0..300 {
            let mut text = Vec::new();
            if round % 3 == 2 {
                const ALPHABET: &[u8] = b"\"\"\\{}[],:a  x";
                text.extend_from_slice(b"{\"configurationItems\": [[");
                text.extend((0..next(2000)).map(|_| ALPHABET[next(ALPHABET.len() as u64) as usize]));
            } else {
                text.extend_from_slice(if round % 2 == 0 { &b"{\"fileVersion\": \"1.0\", \"configurationItems\": ["[..] } else { b"{\"Results\": [" });
                for k in 0..next(30) {
                    if k > 0 {
                        text.extend_from_slice(b", ");
                    }
                    value(&mut next, 2, &mut text);
                }
                text.extend_from_slice(b"], \"nextToken\": \"a,b\"}");
            }
            for piece in [1, 5, 63, 64, 65, 200, 4096, text.len().max(1)] {
                let by_blocks = cuts_with(&text, piece, true);
                assert_eq!(by_blocks, cuts_with(&text, piece, false), "round {round}, pieces of {piece}: {}", String::from_utf8_lossy(&text));
                // Without looking for cuts, the same state at the end.
                let (mut blocks, mut bytes) = (CutFinder::default(), CutFinder::default());
                for chunk in text.chunks(piece) {
                    assert_eq!(blocks.scan_with(chunk, false, true), None);
                    assert_eq!(bytes.scan_with(chunk, false, false), None);
                }
                assert_eq!(blocks, bytes, "round {round}, pieces of {piece}, no cuts wanted");
            }
        }
    }

    #[test]
    fn plain_string_bytes_stop_at_the_first_quote_or_backslash() {
        for len in 0..40 {
            for stop in [b'"', b'\\'] {
                for at in 0..=len {
                    let mut bytes = vec![b'a'; len];
                    bytes.extend_from_slice(&[stop, b'"', 0xff]);
                    // Bytes just above and below the two, and zero, are plain.
                    for (i, byte) in bytes.iter_mut().enumerate().take(len) {
                        *byte = [b'!', b'#', b'[', b']', 0, 0xa2, 0xdc][(i + at) % 7];
                    }
                    assert_eq!(plain_string_bytes(&bytes), len, "{len} plain bytes before {stop}");
                }
            }
            assert_eq!(plain_string_bytes(&vec![b'x'; len]), len);
        }
    }

    #[test]
    fn cuts_fall_after_the_commas_between_items_only() {
        let text = r#"{"fileVersion": "1.0", "x": [1, 2], "configurationItems": [{"a": [1, 2], "b": "x,\"],"}, {"c": {"d": 1, "e": 2}} ,{}], "y": {"configurationItems": [3, 4]}}"#;
        let expected: Vec<u64> = [r#"{"c""#, r#"{}]"#].iter().map(|after| text.find(after).expect("in the text") as u64).collect();
        for piece in [1, 2, 3, 7, text.len()] {
            let found = cuts(text, piece);
            let offsets: Vec<u64> = found.iter().map(|(offset, _)| *offset).collect();
            // The cut is just after the comma: whitespace before the next item stays with it.
            assert_eq!(offsets, [expected[0] - 1, expected[1]], "pieces of {piece}");
            assert!(found.iter().all(|(_, array)| *array == "configurationItems"));
        }
    }

    #[test]
    fn every_item_array_is_found_and_nothing_else() {
        assert_eq!(cuts(r#"{"Results": ["{\"a\":1}", "{}"]}"#, 5), [(25, "Results")]);
        assert_eq!(cuts(r#"{"baseConfigurationItems": [{}, {}], "nextToken": "a,b"}"#, 4), [(31, "baseConfigurationItems")]);
        // An item array's name as a value, in a nested object, or escaped: not one.
        assert!(cuts(r#"{"k": "configurationItems", "v": [1, 2]}"#, 3).is_empty());
        assert!(cuts(r#"{"a": {"configurationItems": [1, 2]}}"#, 3).is_empty());
        assert!(cuts(r#"{"configuration\u0049tems": [1, 2]}"#, 3).is_empty());
        // A top-level array holds documents, whatever they hold.
        assert!(cuts(r#"[{"configurationItems": [1, 2]}, {"configurationItems": [3, 4]}]"#, 3).is_empty());
        // Several top-level objects in a row (NDJSON): each one's array.
        assert_eq!(cuts("{\"configurationItems\": [{}, {}]}\n{\"configurationItems\": [{}, {}]}", 6).len(), 2);
        // A byte order mark first changes nothing.
        assert_eq!(cuts("\u{feff}{\"configurationItems\": [{}, {}]}", 6), [(30, "configurationItems")]);
    }
}
