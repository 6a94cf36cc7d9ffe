//! Incremental splitter: turns a byte stream (fed in chunks of any size) into the configuration
//! items and documents it contains, without holding more than one of them in memory.
//!
//! A delivery file is one huge object whose `configurationItems` array holds the items; the
//! splitter streams the elements of such arrays one by one. Any other top-level value (an API
//! response wrapper, an invoking event, a single item) is buffered whole and handed on as a
//! document for shape detection. Several top-level values in a row (NDJSON) are fine.
//! Syntax inside an element is checked later by the JSON parser; the splitter checks the
//! structure around the elements and reports truncation.

use crate::error::{Position, ScanError};

/// Keys whose array elements are streamed as items. `Results` elements are JSON strings.
const ITEM_ARRAYS: [(&[u8], bool); 3] = [(b"configurationItems", false), (b"baseConfigurationItems", false), (b"Results", true)];

/// One unit of input found by the splitter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece {
    /// An element of an item array: an item object, or (when `encoded`) a JSON string holding one.
    Item {
        /// The raw bytes of the element.
        bytes: Vec<u8>,
        /// Byte offset of the element in the source.
        offset: u64,
        /// Whether the element is a JSON string that encodes the item.
        encoded: bool,
    },
    /// A whole top-level value (or an element of a top-level array) to be recognised by shape.
    Document {
        /// The raw bytes.
        bytes: Vec<u8>,
        /// Byte offset in the source.
        offset: u64,
    },
}

/// Where the splitter hands what it finds.
pub trait Sink {
    /// A piece the splitter has delimited.
    fn piece(&mut self, piece: Piece) -> Result<(), ScanError>;

    /// An element of an item array (an item object, or a string that encodes one) that starts
    /// at the first byte of `text`, at `offset` in the source, offered before the splitter
    /// delimits it. A sink that can read one item from the start of `text`, and finds that
    /// [`element_ends`] there, takes it and returns how many bytes it read; `None` has the
    /// splitter delimit it and hand it over as a [`Piece`] as usual. Items are mostly wholly
    /// inside the chunk they start in: reading them in place saves delimiting and copying
    /// them. `expected`: about how long the item is.
    fn item(&mut self, text: &str, offset: u64, expected: usize) -> Result<Option<usize>, ScanError> {
        let _ = (text, offset, expected);
        Ok(None)
    }
}

impl<F: FnMut(Piece) -> Result<(), ScanError>> Sink for F {
    fn piece(&mut self, piece: Piece) -> Result<(), ScanError> {
        self(piece)
    }
}

/// Whether an item read in place as the first `end` bytes of `text` (whitespace after it
/// included), an offered [`Sink::item`] text, is what the splitter would have delimited: an
/// element followed by the `,` or `]` that ends an element of an item array. The offered text
/// stops one byte past the size limit, so an item that fits has its `,` or `]` in it. Anything
/// else (the item too large, something after it, the chunk ending first) is left to the
/// splitter, which then finds the same error or the same item as when it delimits every item.
pub fn element_ends(text: &[u8], end: usize) -> bool {
    matches!(text.get(end), Some(b',' | b']'))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Member {
    ExpectKey,
    InKey,
    ExpectColon,
    ExpectValue,
    InValue,
    /// After an item array's closing bracket: expects `,` or `}`.
    AfterValue,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Top {
    /// Between top-level values.
    Between,
    /// Inside a top-level array; its elements (depth 1) are documents.
    Array,
    /// Inside a top-level object; `items` is set while inside an item array (elements at depth 2).
    Object { member: Member, items: Option<bool> },
}

/// The splitter for one source.
#[derive(Debug)]
pub struct Splitter {
    source: String,
    max_piece: usize,
    offset: u64,
    depth: usize,
    in_string: bool,
    escaped: bool,
    top: Top,
    key: Vec<u8>,
    /// Whole-document buffer of a top-level object, dropped once it proves to be a container.
    document: Option<Vec<u8>>,
    document_offset: u64,
    saw_item_array: bool,
    /// The element being captured (its bytes, when kept), its offset and the depth at which it ends.
    element: Option<Element>,
    top_level_values: u64,
    /// Whether the source starts with a byte order mark.
    bom: bool,
    /// The length of the last element kept: the next one's buffer starts that large.
    last_length: usize,
    /// An item was just read in place (see [`Sink::item`]): the `,` or `]` after it is next.
    item_ended: bool,
}

/// An element in progress. Values of a top-level object are only delimited, not kept: the
/// whole-document buffer already holds them.
#[derive(Debug)]
struct Element {
    bytes: Vec<u8>,
    offset: u64,
    depth: usize,
    keep: bool,
}

impl Splitter {
    /// A splitter for the source named `source`; no piece may exceed `max_piece` bytes.
    pub fn new(source: &str, max_piece: usize) -> Self {
        Self {
            source: source.to_owned(),
            max_piece,
            offset: 0,
            depth: 0,
            in_string: false,
            escaped: false,
            top: Top::Between,
            key: Vec::new(),
            document: None,
            document_offset: 0,
            saw_item_array: false,
            element: None,
            top_level_values: 0,
            bom: false,
            last_length: 0,
            item_ended: false,
        }
    }

    /// A splitter for the source named `source` that goes on from byte `offset`, a cut between
    /// two elements of an item array named `item_array` (see [`Splitter::cut`]): it is in the
    /// state one reading the source from its start would be in there. `None` when `item_array`
    /// is not a key whose elements are items.
    pub fn resume(source: &str, max_piece: usize, offset: u64, item_array: &str) -> Option<Self> {
        let encoded = Self::encoded_items(item_array)?;
        let mut splitter = Self::new(source, max_piece);
        splitter.offset = offset;
        splitter.depth = 2;
        splitter.top = Top::Object { member: Member::InValue, items: Some(encoded) };
        // The array sits in a top-level object, which the part before the cut began.
        splitter.top_level_values = 1;
        Some(splitter)
    }

    /// Where the splitter is, when that is between two elements of an item array (after its
    /// `[` or a `,`, before the next element): the offset and whether the elements are encoded
    /// items. Reading can stop there and go on in another scan ([`Splitter::resume`]): nothing
    /// else about what came before matters to what comes after.
    pub fn cut(&self) -> Option<(u64, bool)> {
        self.between_items().map(|encoded| (self.offset, encoded))
    }

    /// Whether the splitter is between two elements of an item array (past the byte order
    /// mark check): then whether they are encoded items. Where a source can be cut, and where
    /// an element may be offered to be read in place.
    fn between_items(&self) -> Option<bool> {
        match self.top {
            Top::Object { member: Member::InValue, items: Some(encoded) } if self.element.is_none() && !self.item_ended && !self.in_string && self.depth == 2 && self.offset >= 3 => Some(encoded),
            _ => None,
        }
    }

    /// Whether the elements of the item array named `item_array` are encoded items; `None`
    /// when no item array has that name.
    pub fn encoded_items(item_array: &str) -> Option<bool> {
        ITEM_ARRAYS.iter().find(|(key, _)| *key == item_array.as_bytes()).map(|(_, encoded)| *encoded)
    }

    /// How many top-level JSON values have started so far.
    pub fn top_level_values(&self) -> u64 {
        self.top_level_values
    }

    fn position(&self) -> Position {
        Position { source: self.source.clone(), offset: Some(self.offset), item_index: None }
    }

    fn malformed(&self, message: impl Into<String>) -> ScanError {
        ScanError::MalformedJson { position: self.position(), message: message.into() }
    }

    /// Feeds the next chunk; every piece completed by it is passed to `sink`.
    pub fn feed(&mut self, chunk: &[u8], sink: &mut impl Sink) -> Result<(), ScanError> {
        let mut rest = chunk;
        // The chunk as text, as far as it is UTF-8: found when the first item is offered.
        let mut text: Option<&str> = None;
        while let Some((&byte, after)) = rest.split_first() {
            if matches!(byte, b'{' | b'"') && self.between_items().is_some() {
                let text = *text.get_or_insert_with(|| crate::value::utf8_prefix(chunk));
                // At most one byte past the size limit (when that falls inside a character, the
                // splitter delimits the item: it is too large anyway).
                let from = chunk.len() - rest.len();
                if let Some(item) = text.get(from..).and_then(|item| item.get(..item.len().min(self.max_piece.saturating_add(1))))
                    && let Some(read) = sink.item(item, self.offset, self.last_length)?
                {
                    self.offset += read as u64;
                    self.last_length = read;
                    self.item_ended = true;
                    rest = rest.get(read..).unwrap_or_default();
                    continue;
                }
            }
            let run = self.element_run(rest);
            if run > 0 {
                let (plain, after) = rest.split_at(run);
                self.capture_run(plain)?;
                self.offset += run as u64;
                rest = after;
                continue;
            }
            rest = after;
            // Tolerate a UTF-8 byte order mark (EF BB BF) at the very start.
            let bom_byte = match self.offset {
                0 => byte == 0xEF,
                1 | 2 => self.bom && byte == if self.offset == 1 { 0xBB } else { 0xBF },
                _ => false,
            };
            if self.offset == 0 {
                self.bom = bom_byte;
            } else if self.bom && self.offset <= 2 && !bom_byte {
                return Err(self.malformed("an incomplete UTF-8 byte order mark"));
            }
            if !bom_byte {
                self.step(byte, sink)?;
            }
            self.offset += 1;
        }
        Ok(())
    }

    /// Ends the source: an error if it stops in the middle of a value.
    pub fn finish(&self) -> Result<(), ScanError> {
        if self.in_string || self.depth > 0 || self.top != Top::Between {
            let inside = if self.in_string { "a string" } else { "an object or array" };
            return Err(ScanError::MalformedJson { position: self.position(), message: format!("input is truncated: it ends inside {inside}") });
        }
        Ok(())
    }

    /// Consumes the inside of the element being read, as far as it goes in `bytes`: strings,
    /// nested brackets and everything but the byte that ends the element (a `,` or closing
    /// bracket at the element's own depth), which is left to [`Self::step`]. Returns how many
    /// bytes it consumed. Nearly all of the input is inside elements, and scanning it in one
    /// tight loop, then capturing it in one copy, is most of the splitter's speed.
    fn element_run(&mut self, bytes: &[u8]) -> usize {
        let Some(base) = self.element.as_ref().map(|e| e.depth) else { return 0 };
        if self.offset < 3 {
            return 0; // the byte order mark check looks at single bytes
        }
        let (end, state) = run(bytes, base, Lexical { depth: self.depth, in_string: self.in_string, escaped: self.escaped }, true);
        (self.depth, self.in_string, self.escaped) = (state.depth, state.in_string, state.escaped);
        end
    }

    fn capture(&mut self, byte: u8) -> Result<(), ScanError> {
        self.capture_run(&[byte])
    }

    /// Appends `bytes` to the element and the document being kept, within the size limit.
    fn capture_run(&mut self, bytes: &[u8]) -> Result<(), ScanError> {
        let limit = self.max_piece;
        let too_big = |len: usize| len + bytes.len() > limit;
        if let Some(element) = self.element.as_mut().filter(|e| e.keep) {
            if too_big(element.bytes.len()) {
                return Err(ScanError::LimitExceeded {
                    position: Position { source: self.source.clone(), offset: Some(element.offset), item_index: None },
                    message: format!("a single item or document is larger than {limit} bytes"),
                });
            }
            element.bytes.extend_from_slice(bytes);
        }
        if let Some(doc) = &mut self.document {
            if too_big(doc.len()) {
                return Err(ScanError::LimitExceeded {
                    position: Position { source: self.source.clone(), offset: Some(self.document_offset), item_index: None },
                    message: format!("a top-level document without a configurationItems array is larger than {limit} bytes"),
                });
            }
            doc.extend_from_slice(bytes);
        }
        Ok(())
    }

    fn step(&mut self, byte: u8, sink: &mut impl Sink) -> Result<(), ScanError> {
        if self.in_string {
            self.capture(byte)?;
            if self.top_member() == Some(Member::InKey) && self.depth == 1 && (byte != b'"' || self.escaped) {
                self.key.push(byte);
            }
            if self.escaped {
                self.escaped = false;
            } else if byte == b'\\' {
                self.escaped = true;
            } else if byte == b'"' {
                self.in_string = false;
                if self.depth == 1 && self.top_member() == Some(Member::InKey) {
                    self.set_member(Member::ExpectColon);
                }
            }
            return Ok(());
        }
        if matches!(byte, b' ' | b'\t' | b'\r' | b'\n') {
            return self.capture(byte);
        }
        match self.top {
            Top::Between => self.start_document(byte),
            Top::Array => self.step_in_array(byte, sink),
            Top::Object { .. } => self.step_in_object(byte, sink),
        }
    }

    fn start_document(&mut self, byte: u8) -> Result<(), ScanError> {
        self.top_level_values += 1;
        match byte {
            b'{' => {
                self.top = Top::Object { member: Member::ExpectKey, items: None };
                self.document = Some(Vec::new());
                self.document_offset = self.offset;
                self.saw_item_array = false;
                self.depth = 1;
                self.capture(byte)
            }
            b'[' => {
                self.top = Top::Array;
                self.depth = 1;
                Ok(())
            }
            _ => Err(ScanError::UnsupportedShape {
                position: self.position(),
                message: format!("expected a JSON object or array, found {}", describe(byte)),
            }),
        }
    }

    /// Structural bytes (outside strings) of an element being captured; returns true when the
    /// byte ended the element (a `,` or closing bracket at the element's own depth).
    fn element_byte(&mut self, byte: u8) -> Result<bool, ScanError> {
        let Some(base) = self.element.as_ref().map(|e| e.depth) else { return Ok(false) };
        if self.depth == base && matches!(byte, b',' | b']' | b'}') {
            return Ok(true);
        }
        match byte {
            b'{' | b'[' => self.depth += 1,
            b'}' | b']' => self.depth = self.depth.saturating_sub(1),
            b'"' => self.in_string = true,
            _ => {}
        }
        self.capture(byte)?;
        Ok(false)
    }

    fn begin_element(&mut self, byte: u8, keep: bool) -> Result<(), ScanError> {
        if matches!(byte, b',' | b']' | b'}' | b':') {
            return Err(self.malformed(format!("expected a value, found {}", describe(byte))));
        }
        // Items of one source are of similar size: the buffer starts as large as the last one
        // and a quarter more (up to a MiB: a large document does not reserve as much for the
        // next), so most are copied once instead of grown from a few bytes.
        let capacity = if keep { (self.last_length + self.last_length / 4).min(self.max_piece).min(1 << 20) } else { 0 };
        self.element = Some(Element { bytes: Vec::with_capacity(capacity), offset: self.offset, depth: self.depth, keep });
        self.element_byte(byte).map(|_| ())
    }

    fn take_element(&mut self) -> Option<(Vec<u8>, u64)> {
        self.element.take().map(|Element { mut bytes, offset, .. }| {
            while bytes.last().is_some_and(u8::is_ascii_whitespace) {
                bytes.pop();
            }
            self.last_length = bytes.len();
            (bytes, offset)
        })
    }

    fn step_in_array(&mut self, byte: u8, sink: &mut impl Sink) -> Result<(), ScanError> {
        if self.element.is_some() {
            if !self.element_byte(byte)? {
                return Ok(());
            }
            if let Some((bytes, offset)) = self.take_element() {
                sink.piece(Piece::Document { bytes, offset })?;
            }
            return self.array_separator(byte);
        }
        match byte {
            b']' => self.array_separator(byte),
            _ => self.begin_element(byte, true),
        }
    }

    fn array_separator(&mut self, byte: u8) -> Result<(), ScanError> {
        match byte {
            b',' => Ok(()),
            b']' => {
                self.top = Top::Between;
                self.depth = 0;
                Ok(())
            }
            _ => Err(self.malformed(format!("expected `,` or `]`, found {}", describe(byte)))),
        }
    }

    fn top_member(&self) -> Option<Member> {
        match self.top {
            Top::Object { member, .. } => Some(member),
            _ => None,
        }
    }

    fn set_member(&mut self, member: Member) {
        if let Top::Object { member: m, .. } = &mut self.top {
            *m = member;
        }
    }

    fn step_in_object(&mut self, byte: u8, sink: &mut impl Sink) -> Result<(), ScanError> {
        let Top::Object { member, items } = self.top else { return Ok(()) };
        if let Some(encoded) = items {
            return self.step_in_item_array(byte, encoded, sink);
        }
        match member {
            Member::ExpectKey => match byte {
                b'"' => {
                    self.capture(byte)?;
                    self.key.clear();
                    self.in_string = true;
                    self.set_member(Member::InKey);
                    Ok(())
                }
                b'}' => self.end_object(byte, sink),
                _ => Err(self.malformed(format!("expected an object key, found {}", describe(byte)))),
            },
            Member::ExpectColon if byte == b':' => {
                self.set_member(Member::ExpectValue);
                self.capture(byte)
            }
            Member::ExpectColon | Member::InKey => Err(self.malformed(format!("expected `:`, found {}", describe(byte)))),
            Member::ExpectValue => {
                let item_array = ITEM_ARRAYS.iter().find(|(k, _)| *k == self.key.as_slice()).map(|(_, encoded)| *encoded);
                if let (Some(encoded), b'[') = (item_array, byte) {
                    // A container: stop buffering the whole document and stream its items.
                    self.document = None;
                    self.saw_item_array = true;
                    self.depth = 2;
                    self.top = Top::Object { member: Member::InValue, items: Some(encoded) };
                    return Ok(());
                }
                self.set_member(Member::InValue);
                self.begin_element(byte, false)
            }
            Member::InValue | Member::AfterValue => {
                if member == Member::InValue && !self.element_byte(byte)? {
                    return Ok(());
                }
                self.element = None;
                match byte {
                    b',' => {
                        self.set_member(Member::ExpectKey);
                        self.capture(byte)
                    }
                    b'}' => self.end_object(byte, sink),
                    _ => Err(self.malformed(format!("expected `,` or `}}`, found {}", describe(byte)))),
                }
            }
        }
    }

    fn step_in_item_array(&mut self, byte: u8, encoded: bool, sink: &mut impl Sink) -> Result<(), ScanError> {
        if self.element.is_some() {
            if !self.element_byte(byte)? {
                return Ok(());
            }
            if let Some((bytes, offset)) = self.take_element() {
                sink.piece(Piece::Item { bytes, offset, encoded })?;
            }
        } else if self.item_ended {
            self.item_ended = false; // the `,` or `]` after an item read in place
        } else if byte != b']' {
            return self.begin_element(byte, true);
        }
        match byte {
            b',' => Ok(()),
            b']' => {
                self.depth = 1;
                self.top = Top::Object { member: Member::AfterValue, items: None };
                Ok(())
            }
            _ => Err(self.malformed(format!("expected `,` or `]`, found {}", describe(byte)))),
        }
    }

    fn end_object(&mut self, byte: u8, sink: &mut impl Sink) -> Result<(), ScanError> {
        self.capture(byte)?;
        self.depth = 0;
        self.top = Top::Between;
        if let Some(bytes) = self.document.take() {
            sink.piece(Piece::Document { bytes, offset: self.document_offset })?;
        }
        Ok(())
    }
}

/// Where the splitter is inside an element: its bracket depth, and whether it is in a string
/// just after a backslash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Lexical {
    depth: usize,
    in_string: bool,
    escaped: bool,
}

/// The bytes of an element's inside from the start of `bytes` on, for an element that ends at
/// depth `base`: how many there are (up to the byte that ends the element, or all of them) and
/// the state after them. With `blocks`, sixteen or sixty-four bytes at a time where [`block`]
/// can; the byte loop is the reference it is tested against, and reads what a block cannot.
#[inline(always)]
fn run(bytes: &[u8], base: usize, mut state: Lexical, blocks: bool) -> (usize, Lexical) {
    let mut i = 0;
    // After a block the byte loop had to take, the next blocks start where it has passed it.
    let mut bytewise_until = if blocks { 0 } else { usize::MAX };
    loop {
        if i >= bytewise_until {
            // Sixty-four bytes where there are as many (most of an item), sixteen at its end.
            let found = match bytes.get(i..i + 64).and_then(|b| <&[u8; 64]>::try_from(b).ok()) {
                Some(wide) => Some((wide.as_slice(), Masks::of64(wide))),
                None => bytes.get(i..i + 16).and_then(|b| <&[u8; 16]>::try_from(b).ok()).map(|narrow| (narrow.as_slice(), Masks::of16(narrow))),
            };
            if let Some((chunk, masks)) = found {
                match block(chunk, &masks, base, &mut state) {
                    Block::Inside => {
                        i += chunk.len();
                        continue;
                    }
                    Block::EndsAt(at) => return (i + at, state),
                    Block::Bytewise => bytewise_until = i + chunk.len(),
                }
            }
        }
        let Some(&byte) = bytes.get(i) else { return (i, state) };
        if state.in_string {
            if state.escaped {
                state.escaped = false;
                i += 1;
                continue;
            }
            let Some(at) = string_stop(bytes, i) else { return (bytes.len(), state) };
            match bytes.get(at) {
                Some(b'\\') => state.escaped = true,
                _ => state.in_string = false,
            }
            i = at + 1;
            continue;
        }
        match byte {
            b'"' => state.in_string = true,
            b'{' | b'[' => state.depth += 1,
            b',' | b'}' | b']' if state.depth == base => return (i, state),
            b'}' | b']' => state.depth -= 1,
            _ => {}
        }
        i += 1;
    }
}

/// What [`block`] made of a block of bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Block {
    /// All of them are inside the element; the state is the one after them.
    Inside,
    /// The element ends at this byte of the block (left unread, as the byte loop leaves it).
    EndsAt(usize),
    /// Backslashes the block cannot place (two in a row, or one outside a string): the byte
    /// loop reads these bytes; the state is unchanged.
    Bytewise,
}

/// A block of an element's inside (16 or 64 bytes, `m` their masks) at once, as simdjson
/// finds structure: a bit per byte for quotes, backslashes and brackets or commas; a backslash
/// escapes the byte after it; the bytes inside strings are those after an odd number of
/// (unescaped) quotes, a prefix XOR of the quote bits; brackets and commas outside strings are
/// then visited in order. Config items are mostly strings and nested objects, so most blocks
/// hold a few structural bytes at most, and the work per block, not per byte, is most of the
/// cost: hence sixty-four bytes at a time where there are as many.
#[inline(always)]
fn block(chunk: &[u8], m: &Masks, base: usize, state: &mut Lexical) -> Block {
    let width = chunk.len();
    let all = u64::MAX >> (64 - width);
    let last = width - 1;
    let escaped_in = u64::from(state.escaped);
    let escapes = (m.backslash << 1 | escaped_in) & all;
    if m.backslash & escapes != 0 {
        return Block::Bytewise; // an escaped backslash: a run of them is left to the byte loop
    }
    let quotes = m.quote & !escapes;
    // Bit k: byte k is inside a string (an opening quote counts as inside, a closing one not).
    let mut inside = quotes;
    for shift in [1, 2, 4, 8, 16, 32] {
        inside ^= inside << shift;
    }
    let inside = (inside ^ if state.in_string { all } else { 0 }) & all;
    if m.backslash & !inside != 0 {
        return Block::Bytewise; // a backslash outside strings is no escape: the byte loop's case
    }
    let mut structural = m.structural & !inside;
    let mut depth = state.depth;
    // A few structural bytes a block: which bracket each is, is read from the byte itself.
    while structural != 0 {
        let at = structural.trailing_zeros() as usize;
        match chunk.get(at) {
            Some(b'{' | b'[') => depth += 1,
            _ if depth == base => {
                *state = Lexical { depth, in_string: false, escaped: false };
                return Block::EndsAt(at);
            }
            Some(b'}' | b']') => depth -= 1,
            _ => {}
        }
        structural &= structural - 1;
    }
    *state = Lexical { depth, in_string: inside >> last == 1, escaped: m.backslash >> last == 1 };
    Block::Inside
}

/// A bit per byte of a block: where the quotes, backslashes and structural bytes (brackets and
/// commas) are. Hosts find where a large source can be cut with the same masks.
pub struct Masks {
    /// `"`
    pub quote: u64,
    /// `\`
    pub backslash: u64,
    /// `{`, `[`, `}`, `]` and `,`
    pub structural: u64,
}

impl Masks {
    /// Eleven vector operations for sixteen bytes, three of them bitmasks (`{`/`[` and
    /// `}`/`]` differ only in bit 5): SSE2 natively, simd128 in the component, NEON on arm64, a
    /// loop elsewhere (the `wide` crate picks).
    #[inline(always)]
    pub fn of16(chunk: &[u8; 16]) -> Self {
        use wide::u8x16;
        let bytes = u8x16::new(*chunk);
        let folded = bytes | u8x16::splat(0x20);
        let eq = |v: u8x16, byte: u8| v.simd_eq(u8x16::splat(byte));
        let bits = |v: u8x16| u64::from(v.to_bitmask());
        let structural = eq(folded, b'{') | eq(folded, b'}') | eq(bytes, b',');
        Masks { quote: bits(eq(bytes, b'"')), backslash: bits(eq(bytes, b'\\')), structural: bits(structural) }
    }

    /// Four sixteen-byte masks side by side.
    #[inline(always)]
    pub fn of64(chunk: &[u8; 64]) -> Self {
        let none = Masks { quote: 0, backslash: 0, structural: 0 };
        chunk.as_chunks::<16>().0.iter().enumerate().fold(none, |word, (k, part)| {
            let (m, at) = (Masks::of16(part), 16 * k);
            Masks { quote: word.quote | m.quote << at, backslash: word.backslash | m.backslash << at, structural: word.structural | m.structural << at }
        })
    }
}

/// The index of the first `"` or `\\` at or after `from`: the end of a string or an escape.
/// Most strings in Config items (keys, ids, enum values) are short, so the first bytes are
/// looked at eight at a time without a call; longer strings go to `memchr`'s vector search.
fn string_stop(bytes: &[u8], from: usize) -> Option<usize> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    let mut at = from;
    for _ in 0..2 {
        let Some(word) = bytes.get(at..at + 8).and_then(|w| <[u8; 8]>::try_from(w).ok()) else { break };
        let word = u64::from_le_bytes(word);
        // A byte of `x` is zero where `word` holds the byte searched for; `(x - 1) & !x` sets the
        // high bit of the lowest zero byte (higher ones may be false positives, never lower).
        let (quote, backslash) = (word ^ (ONES * u64::from(b'"')), word ^ (ONES * u64::from(b'\\')));
        let found = (quote.wrapping_sub(ONES) & !quote | backslash.wrapping_sub(ONES) & !backslash) & HIGHS;
        if found != 0 {
            return Some(at + (found.trailing_zeros() / 8) as usize);
        }
        at += 8;
    }
    memchr::memchr2(b'"', b'\\', bytes.get(at..)?).map(|found| at + found)
}

fn describe(byte: u8) -> String {
    if byte.is_ascii_graphic() { format!("`{}`", char::from(byte)) } else { format!("byte 0x{byte:02x}") }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_a_block_reads_and_what_it_leaves() {
        let at = |depth, in_string, escaped| Lexical { depth, in_string, escaped };
        let read = |bytes: &[u8; 16], base, mut state| (block(bytes, &Masks::of16(bytes), base, &mut state), state);
        // Strings, an escaped quote and nested brackets, all inside the element.
        assert_eq!(read(br#"{"k":"a\"b,"},  "#, 1, at(1, false, false)), (Block::EndsAt(13), at(1, false, false)));
        assert_eq!(read(br#"{"k":"a\"b,"}x  "#, 1, at(1, false, false)), (Block::Inside, at(1, false, false)));
        // Ends in a string, just after a backslash; the next block starts escaped.
        assert_eq!(read(br#"[1, {"x": "abcd\"#, 1, at(1, false, false)), (Block::Inside, at(3, true, true)));
        assert_eq!(read(br#"a"],"x":[1]}],  "#, 1, at(3, true, true)), (Block::EndsAt(12), at(1, false, false)));
        // Two backslashes in a row, or one outside a string: left to the byte loop.
        assert_eq!(read(br#""a\\b", "c", "d""#, 1, at(1, false, false)), (Block::Bytewise, at(1, false, false)));
        assert_eq!(read(br#"\"a", "b", "c"  "#, 1, at(1, false, false)), (Block::Bytewise, at(1, false, false)));
        assert_eq!(read(br#"\a", "b", "c"   "#, 1, at(1, true, true)), (Block::Bytewise, at(1, true, true)));
        // Sixty-four bytes: strings and depth carry across the four sixteen-byte parts, and the
        // end is found in whichever holds it.
        let wide = |bytes: &[u8; 64], base, mut state| (block(bytes, &Masks::of64(bytes), base, &mut state), state);
        let long: &[u8; 64] = br#""k": "a \" [b], {c}", "x": [1, {"y": 2}]}, "z": [3, 4], "last": "#;
        assert_eq!(wide(long, 1, at(2, false, false)), (Block::EndsAt(41), at(1, false, false)));
        assert_eq!(wide(long, 1, at(3, false, false)), (Block::Inside, at(2, false, false)));
        assert_eq!(wide(long, 2, at(2, false, false)), (Block::EndsAt(20), at(2, false, false)));
        // A string still open after the last byte, which is a backslash: the next block starts
        // escaped; read from inside a string, the same backslash is outside one.
        let open: &[u8; 64] = br#"  "ends in a string that is still open at the end of the block \"#;
        assert_eq!(wide(open, 0, at(1, false, false)), (Block::Inside, at(1, true, true)));
        assert_eq!(wide(open, 0, at(1, true, false)), (Block::Bytewise, at(1, true, false)));
    }

    #[test]
    fn blocks_read_as_the_byte_loop_reads() {
        // Random runs over the bytes that matter (quotes, backslashes, brackets, commas) and
        // some that do not, from every kind of starting state: a block at a time must stop at the
        // same byte in the same state as one at a time, including where a block gives up.
        const ALPHABET: &[u8] = b"\"\"\\{}[],:a  x";
        let mut seed = 0x9E37_79B9_7F4A_7C15u64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let mut ended = 0;
        let mut long = 0;
        for case in 0..30_000 {
            let length = (next() % 240) as usize;
            // A third of the cases without backslashes, so that most of their blocks are read
            // whole, and a third with few brackets and commas and a deeper start, so that
            // sixty-four bytes at a time often stay inside.
            let alphabet: &[u8] = match case % 3 {
                0 => ALPHABET,
                1 => b"\"{}[],:a  x",
                _ => b"\"\"\\{}[],:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa  x",
            };
            let bytes: Vec<u8> = (0..length).map(|_| alphabet[(next() % alphabet.len() as u64) as usize]).collect();
            let base = (next() % 3) as usize;
            let in_string = next() % 2 == 0;
            let deeper = if case % 3 == 2 { 8 } else { 3 };
            let state = Lexical { depth: base + (next() % deeper) as usize, in_string, escaped: in_string && next() % 4 == 0 };
            let blocks = run(&bytes, base, state, true);
            assert_eq!(blocks, run(&bytes, base, state, false), "{:?} from {state:?} at depth {base}", String::from_utf8_lossy(&bytes));
            ended += usize::from(blocks.0 < bytes.len());
            long += usize::from(blocks.0 >= 128);
        }
        assert!(ended > 5_000, "the cases should often end inside the bytes: {ended}");
        assert!(long > 1_000, "the cases should often run past two blocks of sixty-four: {long}");
    }

    fn split(input: &[u8], chunk: usize) -> Result<Vec<Piece>, ScanError> {
        let mut splitter = Splitter::new("t.json", 1 << 20);
        let mut pieces = Vec::new();
        for part in input.chunks(chunk) {
            splitter.feed(part, &mut |p| {
                pieces.push(p);
                Ok(())
            })?;
        }
        splitter.finish()?;
        Ok(pieces)
    }

    fn texts(pieces: &[Piece]) -> Vec<String> {
        pieces
            .iter()
            .map(|p| match p {
                Piece::Item { bytes, .. } => format!("item:{}", String::from_utf8_lossy(bytes)),
                Piece::Document { bytes, .. } => format!("doc:{}", String::from_utf8_lossy(bytes)),
            })
            .collect()
    }

    #[test]
    fn string_stop_finds_the_first_quote_or_backslash() {
        // Every position of the stop in and beyond the first two words, with bytes around it
        // that are near `"` (0x22) and `\` (0x5c) or have the high bit set.
        for len in 0..40 {
            for stop in 0..=len {
                for (filler, found) in [(b'a', b'"'), (0x21, b'\\'), (0x5d, b'"'), (0xe2, b'\\'), (0x23, b'"')] {
                    let mut bytes = vec![filler; len];
                    if let Some(b) = bytes.get_mut(stop) {
                        *b = found;
                    }
                    for from in 0..=len.min(9) {
                        let expected = bytes.iter().skip(from).position(|&c| c == b'"' || c == b'\\').map(|p| p + from);
                        assert_eq!(string_stop(&bytes, from), expected, "len {len}, stop {stop}, filler {filler:#x}, from {from}");
                    }
                }
            }
        }
        assert_eq!(string_stop(br#"abc\"def""#, 0), Some(3));
        assert_eq!(string_stop(b"ab", 3), None);
    }

    #[test]
    fn streams_item_arrays_at_any_chunk_size() {
        let input = br#"{"fileVersion": "1.0", "configurationItems": [ {"a": "x,}]"}, {"b": [1, {"c": 2}]} ], "configSnapshotId": "s"}"#;
        for chunk in [1, 2, 3, 7, 1000] {
            let pieces = split(input, chunk).expect("valid input");
            assert_eq!(texts(&pieces), [r#"item:{"a": "x,}]"}"#, r#"item:{"b": [1, {"c": 2}]}"#], "chunk {chunk}");
        }
    }

    #[test]
    fn ndjson_arrays_and_a_byte_order_mark() {
        let input = b"\xEF\xBB\xBF{\"resourceId\": \"a\"}\n[{\"resourceId\": \"b\"}, \"s\"]\n";
        let pieces = split(input, 4).expect("valid input");
        assert_eq!(texts(&pieces), [r#"doc:{"resourceId": "a"}"#, r#"doc:{"resourceId": "b"}"#, r#"doc:"s""#]);
        assert!(split(b"\xEF\xBB{}", 10).is_err(), "an incomplete byte order mark is an error");
        assert!(split(b"\xBB{}", 10).is_err(), "a stray BOM byte is not skipped");
    }

    #[test]
    fn results_elements_are_marked_encoded_and_offsets_are_exact() {
        let input = br#"{"Results": ["{\"resourceId\":\"x\"}"]}"#;
        match split(input, 5).expect("valid").as_slice() {
            [Piece::Item { offset, encoded: true, .. }] => assert_eq!(*offset, 13),
            other => panic!("unexpected pieces {other:?}"),
        }
    }

    #[test]
    fn truncation_and_structure_errors() {
        assert!(matches!(split(br#"{"configurationItems": [{"a": 1}"#, 3), Err(ScanError::MalformedJson { .. })));
        assert!(matches!(split(br#"{"a" 1}"#, 3), Err(ScanError::MalformedJson { .. })));
        assert!(matches!(split(b"42", 3), Err(ScanError::UnsupportedShape { .. })));
        let mut small = Splitter::new("t.json", 8);
        let err = small.feed(br#"{"configurationItems": [{"long": "0123456789"}]}"#, &mut |_| Ok(()));
        assert!(matches!(err, Err(ScanError::LimitExceeded { .. })));
    }
}
