//! SHA-256 of four messages at once, one per lane of a 4 × 32-bit vector (FIPS 180-4, the
//! message schedule and rounds unchanged, only done for four messages side by side).
//!
//! Every finding of a report carries an id that is a SHA-256 digest of its rule, resource,
//! account and region (`ResourceResult::finding_ids`): 100,000 resources are about half a million
//! digests of two or three blocks each, which one at a time were the largest single cost of
//! rendering a report inside the component. WebAssembly has no SHA instructions, but its 128-bit
//! SIMD (`simd128`, which the component is built with and wasmtime compiles to SSE/NEON) adds,
//! shifts and combines four 32-bit words in one instruction, so a resource's findings are hashed
//! four at a time. Without `simd128` the same code runs on `[u32; 4]`, which the tests below check
//! against the `sha2` crate; the native engine itself uses `sha2` (see [`Messages::digests`]).

/// The four lanes: wasm SIMD when the build has it.
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
mod lanes {
    use core::arch::wasm32::{
        i8x16_shuffle, i32x4_shuffle, i64x2_shuffle, u8x16, u32x4, u32x4_add, u32x4_extract_lane, u32x4_shl, u32x4_shr, u32x4_splat, v128, v128_and,
        v128_bitselect, v128_or, v128_xor,
    };

    #[derive(Clone, Copy)]
    pub(super) struct X4(v128);

    impl X4 {
        /// The sixteen big-endian words of a block of each lane, word by word across the lanes:
        /// each lane's block read sixteen bytes at a time, its words' bytes turned by a shuffle
        /// (wasm has no byte swap), and four lanes' four words turned into four words' four
        /// lanes by shuffles. Word by word with scalar loads this was about 80 instructions a
        /// word, as many as a fifth of the rounds.
        #[inline(always)]
        pub(super) fn block(lanes: [&[u8; 64]; 4]) -> [Self; 16] {
            let quarter = |lane: &[u8; 64], at: usize| -> v128 {
                let mut bytes = [0u8; 16];
                if let Some(from) = lane.get(at * 16..at * 16 + 16) {
                    bytes.copy_from_slice(from);
                }
                let [a, b, c, d, e, f, g, h, i, j, k, l, m, n, o, p] = bytes;
                let v = u8x16(a, b, c, d, e, f, g, h, i, j, k, l, m, n, o, p);
                i8x16_shuffle::<3, 2, 1, 0, 7, 6, 5, 4, 11, 10, 9, 8, 15, 14, 13, 12>(v, v)
            };
            let mut words = [X4(u32x4_splat(0)); 16];
            for (at, out) in words.chunks_exact_mut(4).enumerate() {
                let [r0, r1, r2, r3] = lanes.map(|lane| quarter(lane, at));
                let (t0, t1) = (i32x4_shuffle::<0, 4, 1, 5>(r0, r1), i32x4_shuffle::<0, 4, 1, 5>(r2, r3));
                let (t2, t3) = (i32x4_shuffle::<2, 6, 3, 7>(r0, r1), i32x4_shuffle::<2, 6, 3, 7>(r2, r3));
                let columns = [i64x2_shuffle::<0, 2>(t0, t1), i64x2_shuffle::<1, 3>(t0, t1), i64x2_shuffle::<0, 2>(t2, t3), i64x2_shuffle::<1, 3>(t2, t3)];
                for (word, column) in out.iter_mut().zip(columns) {
                    *word = X4(column);
                }
            }
            words
        }
        #[inline(always)]
        pub(super) fn new(words: [u32; 4]) -> Self {
            X4(u32x4(words[0], words[1], words[2], words[3]))
        }
        #[inline(always)]
        pub(super) fn splat(word: u32) -> Self {
            X4(u32x4_splat(word))
        }
        #[inline(always)]
        pub(super) fn words(self) -> [u32; 4] {
            [u32x4_extract_lane::<0>(self.0), u32x4_extract_lane::<1>(self.0), u32x4_extract_lane::<2>(self.0), u32x4_extract_lane::<3>(self.0)]
        }
        #[inline(always)]
        pub(super) fn add(self, other: Self) -> Self {
            X4(u32x4_add(self.0, other.0))
        }
        #[inline(always)]
        pub(super) fn xor(self, other: Self) -> Self {
            X4(v128_xor(self.0, other.0))
        }
        #[inline(always)]
        pub(super) fn and(self, other: Self) -> Self {
            X4(v128_and(self.0, other.0))
        }
        #[inline(always)]
        pub(super) fn shr(self, n: u32) -> Self {
            X4(u32x4_shr(self.0, n))
        }
        #[inline(always)]
        pub(super) fn rotr(self, n: u32) -> Self {
            X4(v128_or(u32x4_shr(self.0, n), u32x4_shl(self.0, 32 - n)))
        }
        /// Each lane from `self` where `mask` has all ones, from `other` where it has zeros.
        #[inline(always)]
        pub(super) fn select(self, other: Self, mask: Self) -> Self {
            X4(v128_bitselect(self.0, other.0, mask.0))
        }
    }
}

/// The four lanes as plain words: the compiler vectorises what it can.
#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
mod lanes {
    #[derive(Clone, Copy)]
    pub(super) struct X4([u32; 4]);

    impl X4 {
        /// The sixteen big-endian words of a block of each lane, word by word across the lanes.
        #[inline(always)]
        pub(super) fn block(lanes: [&[u8; 64]; 4]) -> [Self; 16] {
            std::array::from_fn(|at| {
                X4(lanes.map(|lane| lane.get(at * 4..at * 4 + 4).and_then(|quad| <[u8; 4]>::try_from(quad).ok()).map_or(0, u32::from_be_bytes)))
            })
        }

        #[inline(always)]
        fn zip(self, other: Self, f: impl Fn(u32, u32) -> u32) -> Self {
            let (a, b) = (self.0, other.0);
            X4([f(a[0], b[0]), f(a[1], b[1]), f(a[2], b[2]), f(a[3], b[3])])
        }
        #[inline(always)]
        pub(super) fn new(words: [u32; 4]) -> Self {
            X4(words)
        }
        #[inline(always)]
        pub(super) fn splat(word: u32) -> Self {
            X4([word; 4])
        }
        #[inline(always)]
        pub(super) fn words(self) -> [u32; 4] {
            self.0
        }
        #[inline(always)]
        pub(super) fn add(self, other: Self) -> Self {
            self.zip(other, u32::wrapping_add)
        }
        #[inline(always)]
        pub(super) fn xor(self, other: Self) -> Self {
            self.zip(other, |a, b| a ^ b)
        }
        #[inline(always)]
        pub(super) fn and(self, other: Self) -> Self {
            self.zip(other, |a, b| a & b)
        }
        #[inline(always)]
        pub(super) fn shr(self, n: u32) -> Self {
            X4(self.0.map(|a| a >> n))
        }
        #[inline(always)]
        pub(super) fn rotr(self, n: u32) -> Self {
            X4(self.0.map(|a| a.rotate_right(n)))
        }
        /// Each lane from `self` where `mask` has all ones, from `other` where it has zeros.
        #[inline(always)]
        pub(super) fn select(self, other: Self, mask: Self) -> Self {
            let ([a0, a1, a2, a3], [b0, b1, b2, b3], [m0, m1, m2, m3]) = (self.0, other.0, mask.0);
            X4([(a0 & m0) | (b0 & !m0), (a1 & m1) | (b1 & !m1), (a2 & m2) | (b2 & !m2), (a3 & m3) | (b3 & !m3)])
        }
    }
}

use lanes::X4;

const K: [u32; 64] = [
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3,
    0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
    0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208,
    0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
];

const H0: [u32; 8] = [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19];

/// Messages kept padded as SHA-256 pads them (`0x80`, zeros, the length in bits at the end of
/// the last 64-byte block), end to end in one buffer: a batch of finding ids is written here and
/// digested together. The padding is written once with the message, so the rounds read every
/// block's words straight from it with loads of a fixed size — building each block on the stack
/// was a copy of a length known only at run time, a call out of the component (`memory.copy`)
/// per block and lane.
#[derive(Default)]
pub struct Messages {
    bytes: Vec<u8>,
    /// Where each message starts, how long it is, and how long it is padded.
    spans: Vec<(usize, usize, usize)>,
}

impl Messages {
    /// Empty, with the room kept.
    pub fn clear(&mut self) {
        self.bytes.clear();
        self.spans.clear();
    }

    /// How many messages there are.
    pub fn len(&self) -> usize {
        self.spans.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }

    /// Adds the message `write` appends to the buffer it is given.
    pub fn push(&mut self, write: impl FnOnce(&mut Vec<u8>)) {
        let start = self.bytes.len();
        write(&mut self.bytes);
        let length = self.bytes.len() - start;
        self.bytes.push(0x80);
        let padded = (length + 1 + 8).div_ceil(64) * 64;
        self.bytes.resize(start + padded - 8, 0);
        self.bytes.extend_from_slice(&((length as u64) * 8).to_be_bytes());
        self.spans.push((start, length, padded));
    }

    /// Message `index` as written, without its padding.
    pub fn get(&self, index: usize) -> Option<&[u8]> {
        let &(start, length, _) = self.spans.get(index)?;
        self.bytes.get(start..start + length)
    }

    /// Message `index` padded: a whole number of blocks.
    fn padded(&self, index: usize) -> &[u8] {
        self.spans.get(index).and_then(|&(start, _, padded)| self.bytes.get(start..start + padded)).unwrap_or_default()
    }

    /// The digests of every message, in their order, into `out` (emptied first): four at a
    /// time in wasm with SIMD; one at a time elsewhere, where the `sha2` crate uses the
    /// processor's SHA instructions when it has them (and `[u32; 4]` lanes, which the compiler
    /// does not vectorise well, would be slower).
    pub fn digests(&self, out: &mut Vec<[u8; 32]>) {
        out.clear();
        if cfg!(all(target_arch = "wasm32", target_feature = "simd128")) {
            self.digests_by_four(out);
        } else {
            use sha2::{Digest, Sha256};
            out.extend((0..self.len()).map(|i| <[u8; 32]>::from(Sha256::digest(self.get(i).unwrap_or_default()))));
        }
    }

    /// [`Self::digests`] four at a time, whatever the target (the tests run it natively).
    fn digests_by_four(&self, out: &mut Vec<[u8; 32]>) {
        for first in (0..self.len()).step_by(4) {
            let lanes = [0, 1, 2, 3].map(|lane| self.padded(first + lane));
            out.extend(digest4(lanes).into_iter().take(self.len() - first));
        }
    }
}

/// The SHA-256 digests of four padded messages (see [`Messages`]; an empty lane is unused).
fn digest4(lanes: [&[u8]; 4]) -> [[u8; 32]; 4] {
    let blocks = lanes.map(|lane| lane.len() / 64);
    let most = blocks.iter().copied().max().unwrap_or(0);
    let mut state = H0.map(X4::splat);
    for block in 0..most {
        // A lane whose message has fewer blocks hashes zeros and throws the result away.
        const ZEROS: [u8; 64] = [0; 64];
        let w = X4::block(lanes.map(|bytes| bytes.get(block * 64..block * 64 + 64).and_then(|b| <&[u8; 64]>::try_from(b).ok()).unwrap_or(&ZEROS)));
        let live = X4::new(blocks.map(|n| if block < n { u32::MAX } else { 0 }));
        compress(&mut state, w, live);
    }
    let words = state.map(X4::words);
    let mut digests = [[0u8; 32]; 4];
    for (lane, digest) in digests.iter_mut().enumerate() {
        for (bytes, word) in digest.chunks_exact_mut(4).zip(&words) {
            bytes.copy_from_slice(&word.get(lane).copied().unwrap_or(0).to_be_bytes());
        }
    }
    digests
}

/// One block of four lanes into `state` (where `live` has ones). The 64 rounds are written out,
/// and the message schedule is computed in them on a window of the last sixteen words: every
/// index is a constant, so the window lives in registers (and the compiler's own spill slots)
/// instead of a 64-word array in the component's memory, where each schedule word was a load
/// and a store with their bounds checks, in a loop (about 47 instructions a word, a third of
/// the digest).
// The last round's `a ^ b` has no next round to read it.
#[allow(unused_assignments)]
#[inline(never)]
fn compress(state: &mut [X4; 8], mut w: [X4; 16], live: X4) {
    let [mut a, mut b, mut c, mut d, mut e, mut f, mut g, mut h] = *state;
    // Maj(a, b, c) = b ^ ((a ^ b) & (b ^ c)), and a round's a ^ b is the next one's b ^ c.
    let mut b_xor_c = b.xor(c);
    // Word `t` of the schedule, computed into the window where word t - 16 was (indices mod
    // 16: t - 15 is t + 1, t - 7 is t + 9, t - 2 is t + 14).
    macro_rules! schedule {
        ($t:expr) => {{
            let t: usize = $t;
            let at = |i: usize| w.get(i % 16).copied().unwrap_or(X4::splat(0));
            if t >= 16 {
                let (w15, w2) = (at(t + 1), at(t + 14));
                let s0 = w15.rotr(7).xor(w15.rotr(18)).xor(w15.shr(3));
                let s1 = w2.rotr(17).xor(w2.rotr(19)).xor(w2.shr(10));
                let next = at(t).add(s0).add(at(t + 9)).add(s1);
                if let Some(slot) = w.get_mut(t % 16) {
                    *slot = next;
                }
            }
            w.get(t % 16).copied().unwrap_or(X4::splat(0))
        }};
    }
    // One round, with the eight words named where they are: instead of moving seven words along
    // after each round, the next round is written with the names turned by one.
    macro_rules! round {
        ($a:ident, $b:ident, $c:ident, $d:ident, $e:ident, $f:ident, $g:ident, $h:ident, $t:expr) => {
            let t: usize = $t;
            let wt = schedule!(t);
            let k = K.get(t).copied().unwrap_or(0);
            let big_s1 = $e.rotr(6).xor($e.rotr(11)).xor($e.rotr(25));
            // Ch(e, f, g): f where e has a one, g where it has a zero.
            let choose = $f.select($g, $e);
            let t1 = $h.add(big_s1).add(choose).add(X4::splat(k)).add(wt);
            let big_s0 = $a.rotr(2).xor($a.rotr(13)).xor($a.rotr(22));
            let a_xor_b = $a.xor($b);
            let majority = $b.xor(a_xor_b.and(b_xor_c));
            b_xor_c = a_xor_b;
            $d = $d.add(t1);
            $h = t1.add(big_s0.add(majority));
        };
    }
    // Eight rounds bring the names back to where they started.
    macro_rules! eight {
        ($t:expr) => {
            round!(a, b, c, d, e, f, g, h, $t);
            round!(h, a, b, c, d, e, f, g, $t + 1);
            round!(g, h, a, b, c, d, e, f, $t + 2);
            round!(f, g, h, a, b, c, d, e, $t + 3);
            round!(e, f, g, h, a, b, c, d, $t + 4);
            round!(d, e, f, g, h, a, b, c, $t + 5);
            round!(c, d, e, f, g, h, a, b, $t + 6);
            round!(b, c, d, e, f, g, h, a, $t + 7);
        };
    }
    eight!(0);
    eight!(8);
    eight!(16);
    eight!(24);
    eight!(32);
    eight!(40);
    eight!(48);
    eight!(56);
    for (word, round) in state.iter_mut().zip([a, b, c, d, e, f, g, h]) {
        *word = word.add(round).select(*word, live);
    }
}

#[cfg(test)]
mod tests {
    use sha2::{Digest, Sha256};

    use super::Messages;

    fn reference(message: &[u8]) -> [u8; 32] {
        Sha256::digest(message).into()
    }

    fn messages(texts: &[&[u8]]) -> Messages {
        let mut messages = Messages::default();
        for text in texts {
            messages.push(|out| out.extend_from_slice(text));
        }
        messages
    }

    /// The four lanes, natively on `[u32; 4]` (the same code as the component's SIMD lanes).
    fn by_four(messages: &Messages) -> Vec<[u8; 32]> {
        let mut out = Vec::new();
        messages.digests_by_four(&mut out);
        out
    }

    #[test]
    fn matches_sha2_at_every_length_around_the_block_edges() {
        // 0..300 bytes crosses the padding edges (55/56, 119/120, ...) of up to five blocks;
        // the four lanes get different lengths, so lanes finish after different blocks.
        let data: Vec<u8> = (0..400u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
        for length in 0..300 {
            let texts = [&data[..length], &data[1..1 + (length * 7 + 3) % 300], &data[2..2 + (length * 13) % 190], &data[..(299 - length)]];
            let batch = messages(&texts);
            for (index, (text, digest)) in texts.iter().zip(by_four(&batch)).enumerate() {
                assert_eq!(batch.get(index), Some(*text));
                assert_eq!(digest, reference(text), "length {}", text.len());
            }
        }
    }

    #[test]
    fn known_answers_and_any_count() {
        let [abc, empty] = by_four(&messages(&[b"abc", b""])).try_into().expect("two digests");
        assert_eq!(crate::report::hex(&abc), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        assert_eq!(crate::report::hex(&empty), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
        for count in [0, 1, 3, 4, 5, 11] {
            let texts: Vec<Vec<u8>> = (0..count).map(|i| vec![b'x'; i * 17]).collect();
            let refs: Vec<&[u8]> = texts.iter().map(Vec::as_slice).collect();
            let mut batch = messages(&refs);
            let mut digests = Vec::new();
            batch.digests(&mut digests);
            let expected: Vec<[u8; 32]> = texts.iter().map(|t| reference(t)).collect();
            assert_eq!(digests, expected);
            assert_eq!(by_four(&batch), expected);
            assert_eq!(batch.len(), count);
            batch.clear();
            assert!(batch.is_empty());
            batch.digests(&mut digests);
            assert!(digests.is_empty());
        }
    }
}
