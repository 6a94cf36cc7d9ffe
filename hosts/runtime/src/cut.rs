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

/// The keys whose arrays hold items (the component's splitter streams the same ones).
const ITEM_ARRAYS: [&str; 3] = ["configurationItems", "baseConfigurationItems", "Results"];
/// Longer keys are none of those.
const LONGEST_KEY: usize = 22;

/// A streaming scanner of one source's bytes that finds cuts between items.
#[derive(Debug, Default)]
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
        let mut i = 0;
        while let Some(&byte) = bytes.get(i) {
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
        let mut finder = CutFinder::default();
        let mut found = Vec::new();
        for chunk in text.as_bytes().chunks(piece) {
            let mut rest = chunk;
            while let Some((scanned, array)) = finder.scan(rest, true) {
                found.push((finder.offset(), array));
                rest = rest.get(scanned..).unwrap_or_default();
            }
        }
        assert_eq!(finder.offset(), text.len() as u64);
        found
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
