//! The JSON value the engine reads items into, and small helpers for the loosely typed shapes
//! AWS Config produces: values that are sometimes JSON encoded inside strings (once or twice),
//! booleans written as strings, and fields that hold either one value or a list.
//!
//! An item is parsed into a flat tape of [`Node`]s in an arena ([`Bump`]) that the scan empties
//! after each item: one node per scalar, array, object and key, each container followed by the
//! nodes inside it. A [`Value`] is a view of that tape, and its arrays ([`List`]) and objects
//! ([`Map`]) are read where the rules read them: looking up a member walks the object's keys and
//! steps over the values it does not want without building them, so a rule that reads three
//! fields of a large `configuration` pays for three fields, and nothing is built per member that
//! no rule reads. Keys and strings borrow from the input bytes whenever they need no unescaping.
//! Objects behave like `serde_json`'s default map (a later duplicate key replaces an earlier one,
//! iteration is in key order), so the rules see exactly what they saw with `serde_json::Value`.

use std::borrow::Cow;
use std::fmt;

use bumpalo::Bump;
use bumpalo::collections::Vec as ArenaVec;
mod fast;

use serde::de::{DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};

/// A JSON number, as `serde_json` reads it: a non-negative integer, a negative integer, or a
/// finite float.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Number(N);

#[derive(Debug, Clone, Copy, PartialEq)]
enum N {
    PosInt(u64),
    NegInt(i64),
    Float(f64),
}

impl Number {
    /// A finite float; `None` for infinities and NaN (JSON has neither).
    pub fn from_f64(f: f64) -> Option<Number> {
        f.is_finite().then_some(Number(N::Float(f)))
    }

    /// The number when it is a non-negative integer: the only numbers whose text is digits
    /// alone (`serde_json` writes a float with a `.` or an exponent, a negative with a `-`).
    pub fn as_u64(self) -> Option<u64> {
        match self.0 {
            N::PosInt(n) => Some(n),
            N::NegInt(_) | N::Float(_) => None,
        }
    }

    /// The number when it is an integer that fits `i64`.
    pub fn as_i64(self) -> Option<i64> {
        match self.0 {
            N::PosInt(n) => i64::try_from(n).ok(),
            N::NegInt(n) => Some(n),
            N::Float(_) => None,
        }
    }

    /// The number as a float (integers beyond 2^53 lose precision, as in `serde_json`).
    #[allow(clippy::cast_precision_loss)]
    pub fn as_f64(self) -> f64 {
        match self.0 {
            N::PosInt(n) => n as f64,
            N::NegInt(n) => n as f64,
            N::Float(f) => f,
        }
    }

    /// The number as a tape node.
    fn node(self) -> Node<'static> {
        Node::Static(match self.0 {
            N::PosInt(n) => StaticNode::U64(n),
            N::NegInt(n) => StaticNode::I64(n),
            N::Float(f) => StaticNode::F64(f),
        })
    }
}

impl From<i64> for Number {
    fn from(n: i64) -> Self {
        match u64::try_from(n) {
            Ok(n) => Number(N::PosInt(n)),
            Err(_) => Number(N::NegInt(n)),
        }
    }
}

impl From<u64> for Number {
    fn from(n: u64) -> Self {
        Number(N::PosInt(n))
    }
}

/// Written exactly as `serde_json` writes the same number.
impl fmt::Display for Number {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let number = match self.0 {
            N::PosInt(n) => serde_json::Number::from(n),
            N::NegInt(n) => serde_json::Number::from(n),
            N::Float(x) => serde_json::Number::from_f64(x).ok_or(fmt::Error)?,
        };
        fmt::Display::fmt(&number, f)
    }
}

/// One node of a tape: a scalar, a string (also an object's key), or the header of an array or
/// object, which `count` nodes follow (its `len` elements, or its `len` keys each followed by
/// its value).
#[derive(Debug, Clone, Copy, PartialEq)]
enum Node<'a> {
    Static(StaticNode),
    String(&'a str),
    Array { len: usize, count: usize },
    Object { len: usize, count: usize },
}

/// A scalar on a tape.
#[derive(Debug, Clone, Copy, PartialEq)]
enum StaticNode {
    Null,
    Bool(bool),
    I64(i64),
    U64(u64),
    F64(f64),
}

/// How many nodes the value starting at `node` takes, itself included. The `fast` reader and
/// the `serde_json` path write the same nodes: a container is followed by the `count` nodes
/// inside it, an array's elements or an object's keys (as [`Node::String`]) each followed by
/// its value.
fn extent(node: &Node<'_>) -> usize {
    match *node {
        Node::Array { count, .. } | Node::Object { count, .. } => count.saturating_add(1),
        _ => 1,
    }
}

/// The value whose nodes start `nodes`, and the nodes after it; `None` when `nodes` is empty or
/// cut short (tapes the engine builds never are).
fn split<'a>(nodes: &'a [Node<'a>]) -> Option<(Value<'a>, &'a [Node<'a>])> {
    let (first, rest) = nodes.split_first()?;
    Some(match *first {
        Node::Static(StaticNode::Null) => (Value::Null, rest),
        Node::Static(StaticNode::Bool(b)) => (Value::Bool(b), rest),
        Node::Static(StaticNode::I64(n)) => (Value::Number(n.into()), rest),
        Node::Static(StaticNode::U64(n)) => (Value::Number(n.into()), rest),
        Node::Static(StaticNode::F64(f)) => (Value::Number(Number(N::Float(f))), rest),
        Node::String(s) => (Value::String(s), rest),
        Node::Array { len, count } => {
            let (inside, rest) = rest.split_at_checked(count)?;
            (Value::Array(List { len, nodes: inside }), rest)
        }
        Node::Object { len, count } => {
            let (inside, rest) = rest.split_at_checked(count)?;
            (Value::Object(Map { len, nodes: inside }), rest)
        }
    })
}

/// The value a whole tape holds (`Null` for an empty one).
fn root<'a>(nodes: &'a [Node<'a>]) -> Value<'a> {
    split(nodes).map(|(value, _)| value).unwrap_or_default()
}

/// A JSON value: scalars held, arrays and objects read from their tape where they are used.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub enum Value<'a> {
    /// `null`.
    #[default]
    Null,
    /// `true` / `false`.
    Bool(bool),
    /// A number, exactly as `serde_json` reads it.
    Number(Number),
    /// A string.
    String(&'a str),
    /// An array.
    Array(List<'a>),
    /// An object.
    Object(Map<'a>),
}

/// A JSON array: its elements are read one by one from the tape.
#[derive(Clone, Copy, Default)]
pub struct List<'a> {
    len: usize,
    nodes: &'a [Node<'a>],
}

impl<'a> List<'a> {
    /// The elements in order.
    pub fn iter(self) -> impl Iterator<Item = Value<'a>> {
        let mut rest = self.nodes;
        std::iter::from_fn(move || {
            let (value, after) = split(rest)?;
            rest = after;
            Some(value)
        })
    }

    /// How many elements there are.
    pub fn len(self) -> usize {
        self.len
    }

    /// Whether there are none.
    pub fn is_empty(self) -> bool {
        self.len == 0
    }
}

impl PartialEq for List<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.len == other.len && self.iter().eq(other.iter())
    }
}

impl fmt::Debug for List<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

/// A JSON object, read from its tape: lookups walk the keys in input order and step over the
/// values they pass (objects in Config items are small, and comparing lengths first avoids most
/// string comparisons). It behaves like `serde_json`'s default map: a later duplicate key
/// replaces an earlier one, and iteration is in key order.
#[derive(Clone, Copy, Default)]
pub struct Map<'a> {
    /// Members in input order, duplicates included.
    len: usize,
    nodes: &'a [Node<'a>],
}

impl<'a> Map<'a> {
    /// The value of `key` (its last, when the object repeats it).
    #[inline(always)]
    pub fn get(&self, key: &str) -> Option<Value<'a>> {
        let [value] = self.get_each([key]);
        value
    }

    /// The values of several keys in one walk over the object (each its last, as [`Map::get`]
    /// gives it): a rule that reads five members of a large `configuration` walks it once.
    /// Inlined in the component, where the call costs as much as the walk over a small object.
    #[cfg_attr(target_arch = "wasm32", inline(always))]
    pub fn get_each<const N: usize>(&self, keys: [&str; N]) -> [Option<Value<'a>>; N] {
        let mut found: [Option<&'a [Node<'a>]>; N] = [None; N];
        let mut rest = self.nodes;
        while let Some((&Node::String(name), after)) = rest.split_first() {
            for (key, slot) in keys.iter().zip(found.iter_mut()) {
                if name.len() == key.len() && name == *key {
                    *slot = Some(after);
                }
            }
            let Some(next) = after.first().and_then(|value| after.get(extent(value)..)) else { break };
            rest = next;
        }
        found.map(|at| at.and_then(split).map(|(value, _)| value))
    }

    /// Whether the object has `key`.
    pub fn contains_key(&self, key: &str) -> bool {
        self.get(key).is_some()
    }

    /// Whether the object has no members.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Members in input order, a repeated key as often as it appears.
    pub fn members(self) -> impl Iterator<Item = (&'a str, Value<'a>)> {
        let mut rest = self.nodes;
        std::iter::from_fn(move || {
            let (&Node::String(key), after) = rest.split_first()? else { return None };
            let (value, after) = split(after)?;
            rest = after;
            Some((key, value))
        })
    }

    /// Members in key order, each key once (its last value).
    pub fn iter(self) -> impl Iterator<Item = (&'a str, Value<'a>)> {
        let mut order: Vec<(&'a str, Value<'a>)> = self.members().collect();
        // A stable sort keeps duplicates in input order; dedup then keeps the first of each
        // run, so the runs are reversed first to keep the last.
        order.reverse();
        order.sort_by(|a, b| a.0.cmp(b.0));
        order.dedup_by(|later, earlier| later.0 == earlier.0);
        order.into_iter()
    }

    /// Keys in order.
    pub fn keys(self) -> impl Iterator<Item = &'a str> {
        self.iter().map(|(k, _)| k)
    }

    /// Values in key order.
    pub fn values(self) -> impl Iterator<Item = Value<'a>> {
        self.iter().map(|(_, v)| v)
    }

    /// The same keys with `f` applied to every value, on a new tape in `arena`.
    pub fn map_values(self, arena: &'a Bump, mut f: impl FnMut(Value<'a>) -> Value<'a>) -> Self {
        let mut tape = ArenaVec::with_capacity_in(self.nodes.len(), arena);
        for (key, value) in self.members() {
            tape.push(Node::String(key));
            push_value(&mut tape, f(value));
        }
        Map { len: self.len, nodes: tape.into_bump_slice() }
    }
}

/// Appends `value`'s nodes to a tape.
fn push_value<'a>(tape: &mut ArenaVec<'_, Node<'a>>, value: Value<'a>) {
    let (header, inside) = match value {
        Value::Null => (NULL, &[][..]),
        Value::Bool(b) => (Node::Static(StaticNode::Bool(b)), &[][..]),
        Value::Number(n) => (n.node(), &[][..]),
        Value::String(s) => (Node::String(s), &[][..]),
        Value::Array(list) => (Node::Array { len: list.len, count: list.nodes.len() }, list.nodes),
        Value::Object(map) => (Node::Object { len: map.len, count: map.nodes.len() }, map.nodes),
    };
    tape.push(header);
    tape.extend_from_slice(inside);
}

impl PartialEq for Map<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.iter().eq(other.iter())
    }
}

impl fmt::Debug for Map<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

impl<'a> Value<'a> {
    /// Parses JSON text exactly as [`Value::parse_with_serde_json`] does (same values, same
    /// errors), through the `fast` module's reader where that gives the same answer. Strings
    /// live in `arena` or in `bytes`.
    pub fn parse(bytes: &'a [u8], arena: &'a Bump) -> Result<Value<'a>, serde_json::Error> {
        match fast::parse(bytes, arena) {
            Some(value) => Ok(value),
            None => Value::parse_with_serde_json(bytes, arena),
        }
    }

    /// [`Value::parse`] for text known to be UTF-8.
    pub fn parse_str(text: &'a str, arena: &'a Bump) -> Result<Value<'a>, serde_json::Error> {
        match fast::parse_text(text, arena) {
            Some(value) => Ok(value),
            None => Value::parse_with_serde_json(text.as_bytes(), arena),
        }
    }

    /// The value at the start of `text` and where it ends (after any whitespace that follows
    /// it), where the fast reader gives the value `serde_json` would: `None` leaves the text to
    /// a caller that delimits it and calls [`Value::parse`]. `expected`: about how long the
    /// value is.
    pub(crate) fn parse_prefix(text: &'a str, expected: usize, arena: &'a Bump) -> Option<(Value<'a>, usize)> {
        fast::parse_prefix(text, expected, arena)
    }

    /// Parses JSON text with `serde_json`, the definition of what the engine reads; strings
    /// without escapes borrow from `bytes`, everything else is kept in `arena`.
    pub fn parse_with_serde_json(bytes: &'a [u8], arena: &'a Bump) -> Result<Value<'a>, serde_json::Error> {
        // Checking the UTF-8 of the whole text at once is much faster than the parser checking
        // every string; text that is not UTF-8 is parsed as bytes, for the parser's own error.
        match utf8(bytes) {
            Some(text) => finish_parse(&mut serde_json::Deserializer::from_str(text), arena),
            None => finish_parse(&mut serde_json::Deserializer::from_slice(bytes), arena),
        }
    }

    /// A copy of a `serde_json` value, kept in `arena`.
    pub fn from_json(value: &serde_json::Value, arena: &'a Bump) -> Value<'a> {
        fn push<'a>(tape: &mut ArenaVec<'a, Node<'a>>, value: &serde_json::Value, arena: &'a Bump) {
            match value {
                serde_json::Value::Null => tape.push(NULL),
                serde_json::Value::Bool(b) => tape.push(Node::Static(StaticNode::Bool(*b))),
                serde_json::Value::Number(n) => tape.push(number_node(n)),
                serde_json::Value::String(s) => tape.push(Node::String(arena.alloc_str(s))),
                serde_json::Value::Array(a) => {
                    let at = open(tape);
                    a.iter().for_each(|v| push(tape, v, arena));
                    close(tape, at, |count| Node::Array { len: a.len(), count });
                }
                serde_json::Value::Object(m) => {
                    let at = open(tape);
                    for (k, v) in m {
                        tape.push(Node::String(arena.alloc_str(k)));
                        push(tape, v, arena);
                    }
                    close(tape, at, |count| Node::Object { len: m.len(), count });
                }
            }
        }
        let mut tape = ArenaVec::new_in(arena);
        push(&mut tape, value, arena);
        root(tape.into_bump_slice())
    }

    /// The member `key` of an object.
    #[inline(always)]
    pub fn get(&self, key: &str) -> Option<Value<'a>> {
        self.as_object()?.get(key)
    }

    /// The members `keys` of an object, in one walk ([`Map::get_each`]); all `None` for any
    /// other value.
    pub fn get_each<const N: usize>(&self, keys: [&str; N]) -> [Option<Value<'a>>; N] {
        self.as_object().map_or([None; N], |map| map.get_each(keys))
    }

    /// The text of a string.
    pub fn as_str(self) -> Option<&'a str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    /// The members of an object.
    pub fn as_object(self) -> Option<Map<'a>> {
        match self {
            Value::Object(map) => Some(map),
            _ => None,
        }
    }

    /// An integer that fits `i64`.
    pub fn as_i64(self) -> Option<i64> {
        match self {
            Value::Number(n) => n.as_i64(),
            _ => None,
        }
    }

    /// Whether this is an object.
    pub fn is_object(&self) -> bool {
        matches!(self, Value::Object(_))
    }

    /// Whether this is `null`.
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }
}

/// The `null` node (also a container's place while its nodes are written).
const NULL: Node<'static> = Node::Static(StaticNode::Null);

/// `bytes` as text, when they are UTF-8 (checked sixteen or more bytes a step: see the
/// `simdutf8` dependency).
pub(crate) fn utf8(bytes: &[u8]) -> Option<&str> {
    simdutf8::basic::from_utf8(bytes).ok()
}

/// The longest start of `bytes` that is UTF-8 text. (`compat` says where valid text ends and
/// is as fast as `basic` on valid text; a chunk that ends inside a character is checked twice.)
pub(crate) fn utf8_prefix(bytes: &[u8]) -> &str {
    match simdutf8::compat::from_utf8(bytes) {
        Ok(text) => text,
        Err(e) => bytes.get(..e.valid_up_to()).and_then(utf8).unwrap_or_default(),
    }
}

/// A `serde_json` number as a node (a float `serde_json` holds is always finite).
fn number_node(n: &serde_json::Number) -> Node<'static> {
    n.as_u64()
        .map(Number::from)
        .or_else(|| n.as_i64().map(Number::from))
        .or_else(|| n.as_f64().and_then(Number::from_f64))
        .map_or(NULL, Number::node)
}

/// Starts a container on a tape: its place, kept by a `null` until [`close`] writes its header.
fn open(tape: &mut ArenaVec<'_, Node<'_>>) -> usize {
    tape.push(NULL);
    tape.len() - 1
}

/// Sets the header of the container that starts at `at`, now that its nodes follow it.
fn close<'a>(tape: &mut ArenaVec<'_, Node<'a>>, at: usize, header: impl FnOnce(usize) -> Node<'a>) {
    let count = tape.len().saturating_sub(at + 1);
    if let Some(slot) = tape.get_mut(at) {
        *slot = header(count);
    }
}

/// One value and the end of the text (only whitespace may follow), as `serde_json::from_str`.
fn finish_parse<'de: 'a, 'a, R: serde_json::de::Read<'de>>(deserializer: &mut serde_json::Deserializer<R>, arena: &'a Bump) -> Result<Value<'a>, serde_json::Error> {
    let mut tape = ArenaVec::with_capacity_in(64, arena);
    Tape { tape: &mut tape, arena }.deserialize(&mut *deserializer)?;
    deserializer.end()?;
    Ok(root(tape.into_bump_slice()))
}

/// Deserializes a value onto the end of a tape in an arena.
struct Tape<'t, 'a> {
    tape: &'t mut ArenaVec<'a, Node<'a>>,
    arena: &'a Bump,
}

impl<'a> Tape<'_, 'a> {
    /// The same tape, for the next value inside a container.
    fn again(&mut self) -> Tape<'_, 'a> {
        Tape { tape: &mut *self.tape, arena: self.arena }
    }
}

impl<'de: 'a, 'a> DeserializeSeed<'de> for Tape<'_, 'a> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de: 'a, 'a> Visitor<'de> for Tape<'_, 'a> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, b: bool) -> Result<(), E> {
        self.tape.push(Node::Static(StaticNode::Bool(b)));
        Ok(())
    }

    fn visit_i64<E>(self, n: i64) -> Result<(), E> {
        self.tape.push(Number::from(n).node());
        Ok(())
    }

    fn visit_u64<E>(self, n: u64) -> Result<(), E> {
        self.tape.push(Node::Static(StaticNode::U64(n)));
        Ok(())
    }

    fn visit_f64<E>(self, n: f64) -> Result<(), E> {
        self.tape.push(Number::from_f64(n).map_or(NULL, Number::node));
        Ok(())
    }

    fn visit_borrowed_str<E>(self, s: &'de str) -> Result<(), E> {
        self.tape.push(Node::String(s));
        Ok(())
    }

    fn visit_str<E>(self, s: &str) -> Result<(), E> {
        self.tape.push(Node::String(self.arena.alloc_str(s)));
        Ok(())
    }

    fn visit_unit<E>(self) -> Result<(), E> {
        self.tape.push(NULL);
        Ok(())
    }

    fn visit_none<E>(self) -> Result<(), E> {
        self.tape.push(NULL);
        Ok(())
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        self.deserialize(deserializer)
    }

    fn visit_seq<A: SeqAccess<'de>>(mut self, mut seq: A) -> Result<(), A::Error> {
        let at = open(self.tape);
        let mut len = 0;
        while seq.next_element_seed(self.again())?.is_some() {
            len += 1;
        }
        close(self.tape, at, |count| Node::Array { len, count });
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(mut self, mut map: A) -> Result<(), A::Error> {
        let at = open(self.tape);
        let mut len = 0;
        while let Some(key) = map.next_key_seed(Key(self.arena))? {
            self.tape.push(Node::String(key));
            map.next_value_seed(self.again())?;
            len += 1;
        }
        close(self.tape, at, |count| Node::Object { len, count });
        Ok(())
    }
}

/// Deserializes an object key: borrowed when it has no escapes, else kept in the arena.
struct Key<'a>(&'a Bump);

impl<'de: 'a, 'a> DeserializeSeed<'de> for Key<'a> {
    type Value = &'a str;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<&'a str, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl<'de: 'a, 'a> Visitor<'de> for Key<'a> {
    type Value = &'a str;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object key")
    }

    fn visit_borrowed_str<E>(self, s: &'de str) -> Result<&'a str, E> {
        Ok(s)
    }

    fn visit_str<E>(self, s: &str) -> Result<&'a str, E> {
        Ok(self.0.alloc_str(s))
    }
}

/// `serde_json::json!`, as the engine's [`Value`]: for tests that write items inline.
#[cfg(test)]
macro_rules! json {
    ($($t:tt)+) => {
        $crate::value::Value::from_json(&serde_json::json!($($t)+), $crate::value::test_arena())
    };
}
#[cfg(test)]
pub(crate) use json;

/// An arena that lives as long as the test: values from [`json!`] and items parsed in tests
/// are kept in one.
#[cfg(test)]
pub(crate) fn test_arena() -> &'static Bump {
    Box::leak(Box::default())
}

/// How many times a string may hold another layer of encoded JSON before we stop decoding.
/// Real data has at most two layers (S3 `AccessControlList` in the API shape).
const MAX_EMBEDDED_LAYERS: usize = 4;

/// Decodes `value` while it is a string that holds JSON (an object, array, string or literal).
/// Plain strings such as `"Enabled"` or `"123"` are left alone.
/// Decoded values borrow from the string they were decoded from, or live in `arena`.
pub fn decode_embedded<'a>(mut value: Value<'a>, arena: &'a Bump) -> Value<'a> {
    for _ in 0..MAX_EMBEDDED_LAYERS {
        let Value::String(text) = value else { break };
        if !looks_like_json(text) {
            break;
        }
        match Value::parse_str(text, arena) {
            Ok(decoded) => value = decoded,
            Err(_) => break,
        }
    }
    value
}

fn looks_like_json(text: &str) -> bool {
    // Most texts begin with a character no JSON text begins with, and no whitespace: they are
    // answered without trimming (a call into core's trimming in the component, for every text
    // of an item's configuration).
    match text.as_bytes().first() {
        None => return false,
        Some(&first) if plain(first) && !matches!(first, b'{' | b'[' | b'"' | b'n' | b't' | b'f') => return false,
        Some(_) => {}
    }
    let trimmed = trim(text);
    trimmed.starts_with(['{', '[', '"']) || matches!(trimmed, "null" | "true" | "false")
}

/// Whether `byte` is a whole ASCII character that `str::trim` keeps (not whitespace): a text
/// that begins (or ends) with one needs no trimming at that end.
#[inline(always)]
fn plain(byte: u8) -> bool {
    byte.is_ascii() && !char::from(byte).is_whitespace()
}

/// `text.trim()`, answered without a call when `text` begins and ends with an ASCII character
/// other than whitespace (most texts do: core's trimming decodes characters from both ends).
#[inline]
pub fn trim(text: &str) -> &str {
    let bytes = text.as_bytes();
    if bytes.first().is_some_and(|&b| plain(b)) && bytes.last().is_some_and(|&b| plain(b)) { text } else { text.trim() }
}

/// Whether `text` is empty or whitespace only (what `str::trim` removes), answered from its
/// first byte when that is an ASCII character other than whitespace.
#[inline]
pub fn is_blank(text: &str) -> bool {
    match text.as_bytes().first() {
        None => true,
        Some(&first) if plain(first) => false,
        Some(_) => text.trim().is_empty(),
    }
}

/// Follows object keys from `value`; `None` as soon as one is missing or not an object.
pub fn path<'a>(value: &Value<'a>, keys: &[&str]) -> Option<Value<'a>> {
    keys.iter().try_fold(*value, |current, key| current.get(key))
}

/// A string, or a number rendered as text (ids sometimes arrive as numbers).
pub fn text(value: Value<'_>) -> Option<Cow<'_, str>> {
    match value {
        Value::String(s) => Some(Cow::Borrowed(s)),
        Value::Number(n) => Some(Cow::Owned(n.to_string())),
        _ => None,
    }
}

/// [`text`] that lives as long as the value: a number's text is kept in `arena`. Inlined: an
/// item's identifying fields are read through it, and they are strings (a number's text is
/// written by a call).
#[inline(always)]
pub fn text_in<'a>(value: Value<'a>, arena: &'a Bump) -> Option<&'a str> {
    match value {
        Value::String(s) => Some(s),
        Value::Number(n) => Some(number_text_in(n, arena)),
        _ => None,
    }
}

/// A number's text, kept in `arena`.
#[cold]
#[inline(never)]
fn number_text_in(number: Number, arena: &Bump) -> &str {
    arena.alloc_str(&number.to_string())
}

/// `true`/`false`, or the strings `"true"`/`"false"` in any case.
pub fn flag(value: Value<'_>) -> Option<bool> {
    match value {
        Value::Bool(b) => Some(b),
        Value::String(s) if s.eq_ignore_ascii_case("true") => Some(true),
        Value::String(s) if s.eq_ignore_ascii_case("false") => Some(false),
        _ => None,
    }
}

/// The elements of a list, a single non-null value as a one-element list, nothing for null.
pub fn one_or_many(value: Option<Value<'_>>) -> Vec<Value<'_>> {
    match value {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => items.iter().collect(),
        Some(other) => vec![other],
    }
}

/// Like [`one_or_many`], keeping only string elements (read in place, nothing collected).
pub fn strings(value: Option<Value<'_>>) -> impl Iterator<Item = &str> {
    let (list, single) = match value {
        Some(Value::Array(items)) => (Some(items.iter()), None),
        other => (None, other),
    };
    list.into_iter().flatten().chain(single).filter_map(Value::as_str)
}

/// A non-empty, non-blank string.
pub fn non_blank(value: Option<Value<'_>>) -> Option<&str> {
    value.and_then(Value::as_str).filter(|s| !is_blank(s))
}

/// Decodes an IAM policy document. Config delivers them RFC 3986 percent-encoded; some
/// producers give plain JSON text or an already-decoded object. `+` is kept as `+`.
/// A decoded document is kept in `arena`.
pub fn policy_document<'a>(value: Value<'a>, arena: &'a Bump) -> Result<Value<'a>, String> {
    match value {
        Value::Object(_) | Value::Array(_) => Ok(value),
        Value::String(text) => {
            let trimmed = trim(text);
            let decoded: &'a str = if trimmed.starts_with(['{', '[']) {
                trimmed
            } else {
                match percent_decode(trimmed, arena) {
                    Ok(decoded) => decoded,
                    Err(e) => return Err(format!("percent-decoded document is not UTF-8: {e}")),
                }
            };
            match decode_embedded(Value::String(decoded), arena) {
                doc @ (Value::Object(_) | Value::Array(_)) => Ok(doc),
                _ => Err("policy document is not a JSON object".to_owned()),
            }
        }
        Value::Null => Err("policy document is null".to_owned()),
        _ => Err("policy document is neither text nor an object".to_owned()),
    }
}

/// Percent-decodes `text` exactly as `percent_encoding::percent_decode_str(text).decode_utf8()`
/// does (`%` and two hex digits is a byte, any other `%` stays as it is; the same error when the
/// bytes are not UTF-8), in one tight loop into a buffer of the text's length (decoding never
/// lengthens): a policy document is a few kilobytes of escapes, decoded once per item. The text
/// itself is the answer when it has no escape; else the decoded text is kept in `arena`.
fn percent_decode<'a>(text: &'a str, arena: &'a Bump) -> Result<&'a str, std::str::Utf8Error> {
    fn hex(digit: u8) -> Option<u8> {
        match digit {
            b'0'..=b'9' => Some(digit - b'0'),
            b'a'..=b'f' => Some(digit - b'a' + 10),
            b'A'..=b'F' => Some(digit - b'A' + 10),
            _ => None,
        }
    }
    let escape = |high: u8, low: u8| Some(hex(high)? << 4 | hex(low)?);
    let bytes = text.as_bytes();
    let first = bytes.windows(3).position(|w| matches!(*w, [b'%', high, low] if escape(high, low).is_some()));
    let Some(first) = first else { return Ok(text) };
    let out = arena.alloc_slice_fill_copy(bytes.len(), 0u8);
    let (plain, rest) = bytes.split_at(first);
    let (head, tail) = out.split_at_mut(first);
    head.copy_from_slice(plain);
    let mut slots = tail.iter_mut();
    let mut rest = rest;
    loop {
        let (byte, after) = match *rest {
            [b'%', high, low, ref after @ ..] => match escape(high, low) {
                Some(byte) => (byte, after),
                None => (b'%', rest.get(1..).unwrap_or_default()),
            },
            [byte, ref after @ ..] => (byte, after),
            [] => break,
        };
        if let Some(slot) = slots.next() {
            *slot = byte;
        }
        rest = after;
    }
    // The slots never written are the bytes the escapes saved.
    let written = bytes.len() - slots.len();
    std::str::from_utf8(out.get(..written).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The UTF-8 checks agree with core's: whole text, and where its valid start ends (a
    /// character cut at the end, a stray continuation byte, an overlong form, a surrogate),
    /// before, inside and after the first sixty-four bytes.
    #[test]
    fn utf8_checks_agree_with_core() {
        let damage: [&[u8]; 5] = [b"", b"\xe2\x82", b"\x80", b"\xc0\xaf", b"\xed\xa0\x80"];
        for lead in [0, 5, 63, 64, 100] {
            for bad in damage {
                for tail in [&b""[..], "é ok".as_bytes()] {
                    let bytes = ["a".repeat(lead).as_bytes(), "€".as_bytes(), bad, tail].concat();
                    let core = std::str::from_utf8(&bytes);
                    assert_eq!(utf8(&bytes), core.ok(), "{bytes:?}");
                    let valid = core.map_or_else(|e| e.valid_up_to(), str::len);
                    assert_eq!(utf8_prefix(&bytes).len(), valid, "{bytes:?}");
                }
            }
        }
    }

    /// The shortcuts of `is_blank`, `looks_like_json` and `trim` (from a text's first and last
    /// bytes) are what trimming says: every character before every ending, Unicode whitespace
    /// (vertical tab, U+0085, U+00A0, U+3000) on either side, and each text reversed.
    #[test]
    fn blank_and_json_looking_texts_are_what_trimming_says() {
        let trimmed_looks_like_json = |text: &str| {
            let trimmed = text.trim();
            trimmed.starts_with(['{', '[', '"']) || matches!(trimmed, "null" | "true" | "false")
        };
        let mut firsts: Vec<String> = (0u8..128).map(|b| char::from(b).to_string()).collect();
        firsts.extend(["", "\u{85}", "\u{a0}", "\u{3000}", "é", "\u{b}\u{c}"].map(str::to_owned));
        let rests = ["", "{}", "[1]", "\"x\"", "null", "true", "false", "nul", "truex", " ", "\u{3000}", "x", "\u{b}{\"a\":1}"];
        for first in &firsts {
            for rest in rests {
                for text in [format!("{first}{rest}"), format!("{first}{rest} \u{85}")] {
                    assert_eq!(is_blank(&text), text.trim().is_empty(), "{text:?}");
                    assert_eq!(trim(&text), text.trim(), "{text:?}");
                    let reversed: String = text.chars().rev().collect();
                    assert_eq!(trim(&reversed), reversed.trim(), "{reversed:?}");
                    assert_eq!(looks_like_json(&text), trimmed_looks_like_json(&text), "{text:?}");
                }
            }
        }
    }

    #[test]
    fn percent_decoding_is_percent_encodings() {
        let arena = Bump::new();
        let mut cases: Vec<String> = ["", "plain", "%", "%4", "%41", "%%41", "%4%41", "%zz%41", "a%2", "%e2%82%ac", "%E2%82", "%C3%28x", "%ff", "100%", "é%41é", "%7B%22a%22%3A1%7D", "%0a%0A%00"]
            .iter()
            .map(|case| (*case).to_owned())
            .collect();
        // Every two-character tail after a `%`, from bytes that are and are not hex digits.
        let alphabet = ["0", "9", "a", "f", "A", "F", "g", "G", "`", "%", "/", ":", "@", "é"];
        for first in alphabet {
            for second in alphabet {
                cases.push(format!("x%{first}{second}y%"));
            }
        }
        for case in &cases {
            let expected = percent_encoding::percent_decode_str(case).decode_utf8().map(|text| text.into_owned());
            assert_eq!(percent_decode(case, &arena).map(str::to_owned), expected, "{case:?}");
        }
        let encoded = percent_encoding::utf8_percent_encode("{\"Statement\": [\"s3:*\"], \"é\": 1}", percent_encoding::NON_ALPHANUMERIC).to_string();
        assert_eq!(percent_decode(&encoded, &arena), Ok("{\"Statement\": [\"s3:*\"], \"é\": 1}"));
        // Text without escapes is its own answer.
        let plain = "no escapes %zz";
        assert!(std::ptr::eq(percent_decode(plain, &arena).unwrap_or_default(), plain));
    }

    #[test]
    fn decodes_double_encoded_strings() {
        let inner = serde_json::json!({"grantList": []}).to_string();
        let twice = json!(serde_json::Value::String(inner).to_string());
        let arena = Bump::new();
        assert_eq!(decode_embedded(twice, &arena), json!({"grantList": []}));
        assert_eq!(decode_embedded(json!("Enabled"), &arena), json!("Enabled"));
        assert_eq!(decode_embedded(json!("123"), &arena), json!("123"));
        assert_eq!(decode_embedded(json!("null"), &arena), Value::Null);
    }

    #[test]
    fn objects_behave_like_serde_json_maps() {
        let text = br#"{"b": 1, "a": "x", "b": {"c\u0041": "y"}, "c": [true, null, 2.5]}"#;
        let arena = Bump::new();
        let ours = Value::parse(text, &arena).expect("valid JSON");
        let theirs: serde_json::Value = serde_json::from_slice(text).expect("valid JSON");
        assert_eq!(ours, Value::from_json(&theirs, &arena));
        let keys: Vec<&str> = ours.as_object().map(|m| m.keys().collect()).unwrap_or_default();
        assert_eq!(keys, ["a", "b", "c"], "sorted, the duplicate once");
        assert_eq!(path(&ours, &["b", "cA"]).and_then(Value::as_str), Some("y"), "the last duplicate wins, escapes decoded");
        assert_eq!(ours.get("k"), None);
        assert_eq!(Value::parse(b" [1, {}] ", &arena).ok(), Some(json!([1, {}])), "whitespace around a value is fine");
        assert!(Value::parse(b"[1] [2]", &arena).is_err(), "a second value is not");
        assert!(Value::parse(b"\"\xff\"", &arena).is_err(), "text that is not UTF-8 is an error");
    }

    /// Texts on which the two parsers could part: every one must give `serde_json`'s value, or
    /// an error wherever `serde_json` gives one.
    const EDGES: &[&[u8]] = &[
        b"0", b"-0", b"[-0]", b"{\"a\":-0}", b"[0, -0, 0]", b"-0.0", b"1.5", b"[1e3]", b"1E400", b"-1e-400", b"0.1e1",
        b"18446744073709551615", b"18446744073709551616", b"-9223372036854775808", b"-9223372036854775809",
        b"12345678901234567890123", b"01", b"-", b"1.", b".5", b"+1", b"[1,]", b"{\"a\":1,}", b"[", b"]", b"{}", b"[]", b"",
        b"   ", b"nul", b"null", b"nulll", b"truex", b"[true false]", b"[1] [2]", b"[1]x", b"{\"a\" 1}", b"{1:2}",
        b"\"\\ud800\"", b"\"\\udc00\"", b"\"\\ud800\\u0041\"", b"\"\\ud800x\"", b"\"\\uDBFF\\uDFFF\"", b"\"\\udc00\\ud800\"", b"\"\\ud83d\\ude00\"", b"\"\\u0000\"", b"\"\\x\"", b"\"a\tb\"",
        b"\"a\nb\"", b"\"a\rb\"", b"\"a\x01b\"", b"\"\x7f\"", b"[\"a\",\t\"b\"]\r\n", b"\"\xff\"", b"\"\xc3\xa9\"",
        b"\"\\/\\b\\f\\n\\r\\t\\\"\\\\\"", b"{\"a\":1,\"a\":2}", b"\x00", b"[1]\x00", b"\xef\xbb\xbf[1]", b"\x0c[1]", b"[1,\x0b2]", b"[1,\x0c2]", b"\"a\x00b\"", b"[1]\x0c", b"{\"a\":\"\xed\xa0\x80\"}", b"[1e]", b"[-]", b"[--1]", b"[1.e1]", b"[0x10]", b"[Infinity]", b"[NaN]", b"[tru]", b"[nulL]", b"\"\\u00e9\\u20AC\"", b"{\"\":0}", b"{\"a\":{}}",
    ];

    fn nested(depth: usize) -> Vec<u8> {
        let mut text = vec![b'['; depth];
        text.extend(std::iter::repeat_n(b']', depth));
        text
    }

    #[test]
    fn the_fast_reader_reads_what_serde_json_reads() {
        let deep: Vec<Vec<u8>> = [1, 63, 64, 65, 127, 128, 129, 2000].into_iter().map(nested).collect();
        for text in EDGES.iter().copied().chain(deep.iter().map(Vec::as_slice)) {
            let arena = Bump::new();
            let fast = fast::parse(text, &arena);
            let reference = Value::parse_with_serde_json(text, &arena);
            let shown = String::from_utf8_lossy(text);
            if let Some(fast) = &fast {
                assert_eq!(Some(fast), reference.as_ref().ok(), "{shown:?}");
            }
            let parsed = Value::parse(text, &arena);
            assert_eq!(parsed.as_ref().ok(), reference.as_ref().ok(), "{shown:?}");
            assert_eq!(parsed.map_err(|e| e.to_string()).err(), reference.map_err(|e| e.to_string()).err(), "{shown:?}");
        }
        // What the fast reader must read itself (not leave to serde_json): every kind of value,
        // escapes, the integer limits, whitespace, and the deepest nesting it takes.
        let deepest = nested(64);
        let own: &[&[u8]] = &[
            br#"{"a": [1, "x", {"b": null}], "c": true}"#, b"0", b"-1", b"[0, 7, -7]", b"18446744073709551615", b"-9223372036854775808", b"true", b"false", b"null",
            b"\"\"", b"{}", b"[]", b"{\"\":0}", b" \t\r\n[ 1 , { \"a\" : [ ] } ]\n ", b"\"\\/\\b\\f\\n\\r\\t\\\"\\\\\"", b"\"\\u0000\\u00e9\\u20AC\"", b"\"\xc3\xa9\xe2\x82\xac\"",
            b"{\"a\":1,\"a\":2}", b"\"0123456789abcdef0123456789abcdef\\n0123456789abcdef\"", &deepest,
        ];
        for text in own {
            let arena = Bump::new();
            let shown = String::from_utf8_lossy(text);
            assert_eq!(fast::parse(text, &arena).as_ref(), Value::parse_with_serde_json(text, &arena).ok().as_ref(), "{shown:?}");
            assert!(fast::parse(text, &arena).is_some(), "the fast reader reads {shown:?} itself");
        }
    }

    /// Random JSON, written with random whitespace and then damaged at random: the fast reader
    /// gives `serde_json`'s value or leaves the text to it, and `Value::parse` gives
    /// `serde_json`'s value or error.
    #[test]
    fn random_text_reads_as_serde_json_reads_it() {
        let mut next = crate::scan::random_below(0x9e37_79b9_7f4a_7c15);
        const PIECES: &[&str] = &["a", "\\\"", "\\\\", "\\n", "\\u00e9", "\\ud83d\\ude00", "\\ud800", "é", "€", "0123456789abcdef", "\\/", " ", "\\x", "\u{1}"];
        fn value(next: &mut impl FnMut(u64) -> u64, depth: u32, out: &mut String) {
            let space = |next: &mut dyn FnMut(u64) -> u64, out: &mut String| out.push_str([" ", "", "", "\n  ", "\t"][next(5) as usize]);
            match if depth > 4 { next(5) } else { next(7) } {
                0 => out.push_str(["0", "-0", "12", "-12", "1.5", "1e3", "18446744073709551616", "-9223372036854775809", "007"][next(9) as usize]),
                1 => out.push_str(["true", "false", "null"][next(3) as usize]),
                2..=4 => {
                    out.push('"');
                    for _ in 0..next(6) {
                        out.push_str(PIECES[next(PIECES.len() as u64) as usize]);
                    }
                    out.push('"');
                }
                5 => {
                    out.push('[');
                    for k in 0..next(4) {
                        if k > 0 {
                            out.push(',');
                        }
                        space(next, out);
                        value(next, depth + 1, out);
                    }
                    out.push(']');
                }
                _ => {
                    out.push('{');
                    for k in 0..next(4) {
                        if k > 0 {
                            out.push(',');
                        }
                        space(next, out);
                        out.push_str(["\"k\"", "\"a\"", "\"\\u006b\""][next(3) as usize]);
                        space(next, out);
                        out.push(':');
                        value(next, depth + 1, out);
                    }
                    out.push('}');
                }
            }
        }
        let mut read_itself = 0;
        for _ in 0..3000 {
            let mut text = String::new();
            value(&mut next, 0, &mut text);
            let mut bytes = text.into_bytes();
            if next(3) == 0 && !bytes.is_empty() {
                let at = next(bytes.len() as u64) as usize;
                let damage = b"\"{}[],:\\ 0x\xff";
                bytes[at] = damage[next(damage.len() as u64) as usize];
            }
            let arena = Bump::new();
            let reference = Value::parse_with_serde_json(&bytes, &arena);
            let shown = String::from_utf8_lossy(&bytes);
            if let Some(fast) = fast::parse(&bytes, &arena) {
                assert_eq!(Some(&fast), reference.as_ref().ok(), "{shown:?}");
                read_itself += 1;
            }
            let parsed = Value::parse(&bytes, &arena);
            assert_eq!(parsed.as_ref().ok(), reference.as_ref().ok(), "{shown:?}");
            assert_eq!(parsed.map_err(|e| e.to_string()).err(), reference.map_err(|e| e.to_string()).err(), "{shown:?}");
        }
        assert!(read_itself > 500, "the fast reader read {read_itself} of 3,000 texts itself");
    }

    /// Strings of every length up to eighty, with an escape, a control character or nothing at
    /// every position, alone (so ending where the text ends) and followed by more: where the
    /// string search's blocks begin, end and run past the text, the fast reader reads them as
    /// `serde_json` does.
    #[test]
    fn strings_of_every_length_end_where_serde_json_ends_them() {
        let mut read_itself = 0;
        for len in 0..=80usize {
            for at in 0..=len {
                for stop in ["", "\\\\", "\\\"", "\\u00e9", "\\n", "\u{1}"] {
                    let body = format!("{}{stop}{}", "a".repeat(at), "b".repeat(len - at));
                    for text in [format!("\"{body}\""), format!("[\"{body}\", \"{body}\"]"), format!("{{\"{body}\": \"{body}\"}}")] {
                        let arena = Bump::new();
                        let reference = Value::parse_with_serde_json(text.as_bytes(), &arena).ok();
                        if let Some(fast) = fast::parse(text.as_bytes(), &arena) {
                            assert_eq!(Some(fast), reference, "{text:?}");
                            read_itself += 1;
                        } else {
                            assert_eq!(stop, "\u{1}", "the fast reader reads {text:?} itself");
                        }
                    }
                }
            }
        }
        assert!(read_itself > 15_000, "{read_itself}");
    }

    #[test]
    fn a_prefix_ends_after_its_value_and_the_whitespace_after_it() {
        let arena = Bump::new();
        let text = "{\"a\": [1, \"x\"]} \n, {\"b\": 2}";
        let (value, end) = Value::parse_prefix(text, 0, &arena).expect("an object");
        assert_eq!((value, &text[end..]), (json!({"a": [1, "x"]}), ", {\"b\": 2}"));
        assert_eq!(Value::parse_prefix("{\"a\": 1", 0, &arena), None, "cut short");
        assert_eq!(Value::parse_prefix("{\"a\": 1.5}, 2", 0, &arena), None, "a float is serde_json's");
        assert_eq!(Value::parse_prefix("[1]x", 0, &arena).map(|(_, end)| end), Some(3), "what follows is not looked at");
    }

    #[test]
    fn lookups_step_over_the_values_they_pass() {
        let text = br#"{"a": {"x": [1, {"y": 2}], "z": {}}, "b": [[], [3, [4]]], "c": "last", "a": {"x": 5}}"#;
        let arena = Bump::new();
        let fast = fast::parse(text, &arena).expect("the fast path reads this");
        let reference = Value::parse_with_serde_json(text, &arena).expect("valid JSON");
        for value in [fast, reference] {
            assert_eq!(value.get("c"), Some(Value::String("last")));
            assert_eq!(path(&value, &["a", "x"]).and_then(Value::as_i64), Some(5), "the later `a` wins");
            assert_eq!(path(&value, &["a", "z"]), None);
            let Some(Value::Array(b)) = value.get("b") else { panic!("`b` is an array") };
            let lengths: Vec<Option<usize>> = b.iter().map(|e| if let Value::Array(l) = e { Some(l.len()) } else { None }).collect();
            assert_eq!((b.len(), lengths), (2, vec![Some(0), Some(2)]));
            let map = value.as_object().expect("an object");
            let mapped = map.map_values(&arena, |v| v.get("x").unwrap_or(v));
            assert_eq!(Value::Object(mapped), json!({"a": 5, "b": [[], [3, [4]]], "c": "last"}));
            assert_eq!(mapped.get("b"), value.get("b"), "containers keep their insides when copied");
            // One walk for several keys finds what a lookup each finds: the later `a`, a key
            // asked twice, a key that is absent, a key only a nested object has.
            let keys = ["a", "c", "missing", "a", "x", "b"];
            assert_eq!(value.get_each(keys), keys.map(|key| value.get(key)));
            assert_eq!(path(&value, &["a"]).map(|a| a.get_each(["x", "z"])), Some([Some(Value::Number(5_u64.into())), None]));
            assert_eq!(Value::String("a").get_each(["a"]), [None], "a string has no members");
        }
    }

    #[test]
    fn percent_decoding_keeps_plus() {
        let arena = Bump::new();
        let doc = policy_document(json!("%7B%22a%22%3A%22x+y%22%7D"), &arena).unwrap_or_default();
        assert_eq!(doc, json!({"a": "x+y"}));
        let plain = policy_document(json!("{\"a\":1}"), &arena).unwrap_or_default();
        assert_eq!(plain, json!({"a": 1}));
        assert!(policy_document(json!("%7Bnot json"), &arena).is_err());
    }

    #[test]
    fn flags_accept_strings() {
        assert_eq!(flag(json!("TRUE")), Some(true));
        assert_eq!(flag(json!(false)), Some(false));
        assert_eq!(flag(json!(1)), None);
    }
}
