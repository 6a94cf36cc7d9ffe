//! Output formats, one module each, all rendered from a [`ScoreReport`](crate::ScoreReport).
//! Every renderer is deterministic: the same report gives the same bytes.

pub mod asff;
pub mod csv;
pub mod export;
pub mod html;
pub mod json;
pub mod ocsf;
pub mod rollup;
pub mod table;

/// One point of the score trend (from the history of earlier scans).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrendPoint {
    /// When that scan ran.
    pub generated_at: String,
    /// Its score.
    pub score_bp: u32,
}

/// What the previous scan of the same scope failed, for the HTML report's "since the previous
/// scan" section (the host keeps it; the engine has no memory between scans).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Previous {
    /// When that scan ran.
    pub generated_at: String,
    /// (resource type, resource id, account, region, rule id) of each NON_COMPLIANT finding.
    pub failed: std::collections::BTreeSet<(String, String, String, String, String)>,
}

/// What a renderer writes once per resource and copies for each of its findings (the JSON
/// report's resource fields, an export's resource parts), kept for the resource it was last
/// written for: a report lists a resource's findings one after another.
pub(crate) struct PerResource<T> {
    /// The resource (its index in the report) `parts` were written for.
    resource: Option<usize>,
    parts: T,
}

impl<T: Default> Default for PerResource<T> {
    fn default() -> Self {
        PerResource { resource: None, parts: T::default() }
    }
}

impl<T> PerResource<T> {
    /// The parts of resource `index`: written by `write` (over the last resource's, whose
    /// memory they reuse) unless they are that resource's already.
    pub(crate) fn of<E>(&mut self, index: usize, write: impl FnOnce(&mut T) -> Result<(), E>) -> Result<&T, E> {
        if self.resource != Some(index) {
            self.resource = None;
            write(&mut self.parts)?;
            self.resource = Some(index);
        }
        Ok(&self.parts)
    }
}

/// A JSON string, byte for byte as `serde_json` writes it. Most strings of a report (ids, types,
/// regions, messages) need no escape: those are copied whole, after a check the compiler
/// vectorises; the others go through `serde_json`. Its byte-by-byte escaping was a fifth of the
/// JSON report's rendering.
pub(crate) fn write_string(out: &mut Vec<u8>, value: &str) -> Result<(), serde_json::Error> {
    if needs_escape(value.as_bytes()) {
        return serde_json::to_writer(out, value);
    }
    out.reserve(value.len() + 2);
    out.push(b'"');
    out.extend_from_slice(value.as_bytes());
    out.push(b'"');
    Ok(())
}

/// Whether JSON needs an escape in `bytes`: a quote, a backslash or a control character
/// (`serde_json` escapes nothing else).
pub(crate) fn needs_escape(bytes: &[u8]) -> bool {
    let mut chunks = bytes.chunks_exact(16);
    if chunks.by_ref().any(|chunk| special_in(chunk.try_into().unwrap_or(&[0; 16]))) {
        return true;
    }
    let tail = chunks.remainder();
    if tail.is_empty() {
        return false;
    }
    // The last 16 bytes of a longer string hold its tail (and bytes checked already).
    if let Some(last) = bytes.len().checked_sub(16).and_then(|at| bytes.get(at..)).and_then(|last| <&[u8; 16]>::try_from(last).ok()) {
        return special_in(last);
    }
    // A string shorter than 16 bytes (most of a report's): its first and last 8 (or 4) bytes,
    // overlapping where it is shorter, padded with a byte that needs no escape, are checked the
    // same way. Fixed-size copies are plain loads and stores; copying the tail whole was a wasm
    // `memory.copy` of a length known only at run time, which wasmtime makes a call out of the
    // component into the host's `memcpy` (about 30 instructions before a byte moves).
    let n = tail.len();
    let mut sample = [b'a'; 16];
    let (front, back) = sample.split_at_mut(8);
    let put = |to: &mut [u8], at: usize| {
        if let (Some(to), Some(from)) = (to.get_mut(..4), tail.get(at..at + 4)) {
            to.copy_from_slice(from);
        }
    };
    match n {
        0..4 => {
            // Positions 0, n / 2 and n - 1 are every byte of a run of 1 to 3 (stored one by one:
            // a loop would be made a `memory.copy`).
            for (to, at) in front.iter_mut().zip([0, n / 2, n - 1]) {
                if let Some(&from) = tail.get(at) {
                    *to = from;
                }
            }
        }
        4..8 => {
            put(front, 0);
            put(back, n - 4);
        }
        _ => {
            if let (Some(first), Some(last)) = (tail.get(..8), tail.get(n - 8..)) {
                front.copy_from_slice(first);
                back.copy_from_slice(last);
            }
        }
    }
    special_in(&sample)
}

/// 16 bytes checked at once, on wasm SIMD: six vector operations.
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
#[inline(always)]
fn special_in(chunk: &[u8; 16]) -> bool {
    use core::arch::wasm32::{u8x16, u8x16_eq, u8x16_lt, u8x16_splat, v128_any_true, v128_or};
    let [a, b, c, d, e, f, g, h, i, j, k, l, m, n, o, p] = *chunk;
    let bytes = u8x16(a, b, c, d, e, f, g, h, i, j, k, l, m, n, o, p);
    let control = u8x16_lt(bytes, u8x16_splat(0x20));
    let quote_or_backslash = v128_or(u8x16_eq(bytes, u8x16_splat(b'"')), u8x16_eq(bytes, u8x16_splat(b'\\')));
    v128_any_true(v128_or(control, quote_or_backslash))
}

/// 16 bytes checked without an early exit, so the compiler makes a few vector operations of it.
#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
#[inline(always)]
fn special_in(chunk: &[u8; 16]) -> bool {
    let mut hit = 0;
    for &b in chunk {
        hit |= u8::from(b < 0x20) | u8::from(b == b'"') | u8::from(b == b'\\');
    }
    hit != 0
}

#[cfg(test)]
mod tests {
    use super::write_string;

    #[test]
    fn strings_are_written_as_serde_json_writes_them() {
        let mut samples: Vec<String> = ["", "plain", "quote \" inside", "back\\slash", "tab\tnew\nline", "é ü 日本 🙂", "\u{7f}/<>&'"]
            .into_iter()
            .map(str::to_owned)
            .collect();
        // Every byte value below 0x80 at every position of a 16-byte chunk and in the tail.
        for byte in 0u8..0x80 {
            for at in [0, 7, 15, 16, 31, 33] {
                let mut s = "x".repeat(40);
                s.replace_range(at..at + 1, &char::from(byte).to_string());
                samples.push(s);
            }
        }
        // Strings of every length up to 70 with a byte to escape at every position: the short
        // ones are checked by their first and last pieces, the longer ones' tails by their last
        // 16 bytes.
        for length in 1..=70 {
            for at in 0..length {
                for special in ['"', '\\', '\u{0}', '\u{1f}'] {
                    let mut s = "y".repeat(length);
                    s.replace_range(at..at + 1, &special.to_string());
                    samples.push(s);
                }
            }
            samples.push("z".repeat(length));
        }
        for sample in samples {
            let mut ours = Vec::new();
            write_string(&mut ours, &sample).unwrap();
            assert_eq!(String::from_utf8(ours).unwrap(), serde_json::to_string(&sample).unwrap(), "{sample:?}");
        }
    }
}
