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
//! against the `sha2` crate; the native engine itself uses `sha2` (see [`digest_all`]).

/// The four lanes: wasm SIMD when the build has it.
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
mod lanes {
    use core::arch::wasm32::{
        u32x4, u32x4_add, u32x4_extract_lane, u32x4_shl, u32x4_shr, u32x4_splat, v128, v128_and, v128_bitselect, v128_or, v128_xor,
    };

    #[derive(Clone, Copy)]
    pub(super) struct X4(v128);

    impl X4 {
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

/// The number of 64-byte blocks a message fills once padded (`0x80`, zeros, its length in bits).
fn block_count(message: &[u8]) -> usize {
    (message.len() + 1 + 8).div_ceil(64)
}

/// Block `block` of a message of `blocks` blocks, padded, as sixteen big-endian words: the
/// message's bytes in it, the `0x80` after its last byte, the length in bits at the end of the
/// last block. Built on the stack, one block at a time, without a copy of the whole message.
fn block_words(message: &[u8], block: usize, blocks: usize) -> [u32; 16] {
    let mut bytes = [0u8; 64];
    let start = block * 64;
    if let Some(rest) = message.get(start..) {
        let n = rest.len().min(64);
        if let (Some(to), Some(from)) = (bytes.get_mut(..n), rest.get(..n)) {
            to.copy_from_slice(from);
        }
        if let Some(end) = bytes.get_mut(rest.len()) {
            *end = 0x80;
        }
    }
    if block + 1 == blocks
        && let Some(tail) = bytes.get_mut(56..)
    {
        tail.copy_from_slice(&((message.len() as u64) * 8).to_be_bytes());
    }
    let mut words = [0u32; 16];
    for (word, quad) in words.iter_mut().zip(bytes.chunks_exact(4)) {
        *word = u32::from_be_bytes(quad.try_into().unwrap_or_default());
    }
    words
}

/// The SHA-256 digests of four messages of any lengths, in their order.
pub fn digest4(messages: [&[u8]; 4]) -> [[u8; 32]; 4] {
    let blocks = messages.map(block_count);
    let most = blocks.iter().copied().max().unwrap_or(0);
    let mut state = H0.map(X4::splat);
    for block in 0..most {
        // A lane whose message has fewer blocks hashes a block of zeros and throws the result
        // away (`live` below).
        let [l0, l1, l2, l3] = [0, 1, 2, 3].map(|lane| match (messages.get(lane), blocks.get(lane)) {
            (Some(message), Some(&n)) if block < n => block_words(message, block, n),
            _ => [0; 16],
        });
        let mut w = [X4::splat(0); 64];
        for (index, slot) in w.iter_mut().take(16).enumerate() {
            let word = |lane: &[u32; 16]| lane.get(index).copied().unwrap_or(0);
            *slot = X4::new([word(&l0), word(&l1), word(&l2), word(&l3)]);
        }
        for t in 16..64 {
            // Always in bounds (t < 64): the optimiser drops the checks; nothing may panic here.
            let at = |i: usize| w.get(i).copied().unwrap_or(X4::splat(0));
            let (w15, w2) = (at(t - 15), at(t - 2));
            let s0 = w15.rotr(7).xor(w15.rotr(18)).xor(w15.shr(3));
            let s1 = w2.rotr(17).xor(w2.rotr(19)).xor(w2.shr(10));
            let next = at(t - 16).add(s0).add(at(t - 7)).add(s1);
            if let Some(slot) = w.get_mut(t) {
                *slot = next;
            }
        }
        let [mut a, mut b, mut c, mut d, mut e, mut f, mut g, mut h] = state;
        // Maj(a, b, c) = b ^ ((a ^ b) & (b ^ c)), and a round's a ^ b is the next one's b ^ c.
        let mut b_xor_c = b.xor(c);
        // One round, with the eight words named where they are: instead of moving seven words
        // along after each round, the next round is written with the names turned by one.
        // Eight rounds per pass of the loop bring the names back to where they started, and
        // leave the compiler straight-line code it keeps in registers (a loop of single rounds
        // kept the state on the stack: about a hundred instructions a round in the component).
        macro_rules! round {
            ($a:ident, $b:ident, $c:ident, $d:ident, $e:ident, $f:ident, $g:ident, $h:ident, $t:expr) => {
                let t = $t;
                let k = K.get(t).copied().unwrap_or(0);
                let wt = w.get(t).copied().unwrap_or(X4::splat(0));
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
        for t in (0..64).step_by(8) {
            round!(a, b, c, d, e, f, g, h, t);
            round!(h, a, b, c, d, e, f, g, t + 1);
            round!(g, h, a, b, c, d, e, f, t + 2);
            round!(f, g, h, a, b, c, d, e, t + 3);
            round!(e, f, g, h, a, b, c, d, t + 4);
            round!(d, e, f, g, h, a, b, c, t + 5);
            round!(c, d, e, f, g, h, a, b, t + 6);
            round!(b, c, d, e, f, g, h, a, t + 7);
        }
        let live = X4::new(blocks.map(|n| if block < n { u32::MAX } else { 0 }));
        for (word, round) in state.iter_mut().zip([a, b, c, d, e, f, g, h]) {
            *word = word.add(round).select(*word, live);
        }
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

/// The SHA-256 digests of any number of messages: four at a time in wasm with SIMD; one at a
/// time elsewhere, where the `sha2` crate uses the processor's SHA instructions when it has them
/// (and `[u32; 4]` lanes, which the compiler does not vectorise well, would be slower).
pub fn digest_all(messages: &[&[u8]]) -> Vec<[u8; 32]> {
    if cfg!(all(target_arch = "wasm32", target_feature = "simd128")) {
        let mut out = Vec::with_capacity(messages.len());
        for chunk in messages.chunks(4) {
            let lanes = [0, 1, 2, 3].map(|i| chunk.get(i).copied().unwrap_or_default());
            out.extend(digest4(lanes).into_iter().take(chunk.len()));
        }
        out
    } else {
        use sha2::{Digest, Sha256};
        messages.iter().map(|m| Sha256::digest(m).into()).collect()
    }
}

#[cfg(test)]
mod tests {
    use sha2::{Digest, Sha256};

    use super::{digest4, digest_all};

    fn reference(message: &[u8]) -> [u8; 32] {
        Sha256::digest(message).into()
    }

    #[test]
    fn matches_sha2_at_every_length_around_the_block_edges() {
        // 0..300 bytes crosses the padding edges (55/56, 119/120, ...) of up to five blocks;
        // the four lanes get different lengths, so lanes finish after different blocks.
        let data: Vec<u8> = (0..400u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
        for length in 0..300 {
            let messages = [&data[..length], &data[1..1 + (length * 7 + 3) % 300], &data[2..2 + (length * 13) % 190], &data[..(299 - length)]];
            let digests = digest4(messages);
            for (message, digest) in messages.iter().zip(digests) {
                assert_eq!(digest, reference(message), "length {}", message.len());
            }
        }
    }

    #[test]
    fn known_answers_and_any_count() {
        let [abc, empty, _, _] = digest4([b"abc", b"", b"", b""]);
        assert_eq!(crate::report::hex(&abc), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        assert_eq!(crate::report::hex(&empty), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
        let messages: Vec<Vec<u8>> = (0..11).map(|i| vec![b'x'; i * 17]).collect();
        let refs: Vec<&[u8]> = messages.iter().map(Vec::as_slice).collect();
        let digests = digest_all(&refs);
        assert_eq!(digests.len(), 11);
        for (message, digest) in messages.iter().zip(&digests) {
            assert_eq!(*digest, reference(message));
        }
        assert!(digest_all(&[]).is_empty());
    }
}
