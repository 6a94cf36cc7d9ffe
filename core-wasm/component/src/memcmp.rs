//! `memcmp` for the component, eight bytes at a time (and a text of eight bytes or more ends
//! with one overlapping word, not a byte loop).
//!
//! Every `==` and ordering of strings and byte slices in Rust ends in a call to `memcmp`, and
//! wasi-libc's compares one byte per loop iteration. The engine compares many strings that share
//! long prefixes (`AWS::EC2::…` types, `vol-0000…` ids, object keys), so in the component that
//! loop took 16 % of a scan's time, against 3 % for glibc's vectorised one in the native engine.
//! Defining the symbol here keeps the linker from taking wasi-libc's (an archive member is only
//! linked for symbols nothing else defines).
//!
//! The loops read through raw pointers and compare integers: a slice comparison in here would
//! itself be compiled to a call to `memcmp`.

/// Compares `n` bytes at `a` and `b` as unsigned bytes: negative, zero or positive as the first
/// differing byte of `a` is smaller or larger, as C requires.
///
/// # Safety
/// `a` and `b` must be valid for reads of `n` bytes.
#[cfg_attr(target_arch = "wasm32", unsafe(no_mangle))]
pub unsafe extern "C" fn memcmp(a: *const u8, b: *const u8, n: usize) -> i32 {
    let mut i = 0;
    while n - i >= 8 {
        // SAFETY: `i + 8 <= n`, and the caller guarantees `n` readable bytes at both pointers.
        let (x, y) = unsafe { (a.add(i).cast::<u64>().read_unaligned(), b.add(i).cast::<u64>().read_unaligned()) };
        if x != y {
            // Little-endian: the lowest differing bits belong to the first differing byte.
            return first_difference(x, y);
        }
        i += 8;
    }
    if i < n && n >= 8 {
        // The rest as the last word, overlapping bytes already found equal: no byte loop,
        // whose every step inside the component also checks the call's deadline.
        // SAFETY: `n - 8 + 8 <= n`.
        let (x, y) = unsafe { (a.add(n - 8).cast::<u64>().read_unaligned(), b.add(n - 8).cast::<u64>().read_unaligned()) };
        return first_difference(x, y);
    }
    while i < n {
        // SAFETY: `i < n`, as above.
        let (x, y) = unsafe { (*a.add(i), *b.add(i)) };
        if x != y {
            return i32::from(x) - i32::from(y);
        }
        i += 1;
    }
    0
}

/// The order of the first differing byte of two little-endian words (zero when equal).
#[inline(always)]
fn first_difference(x: u64, y: u64) -> i32 {
    if x == y {
        return 0;
    }
    let shift = (x ^ y).trailing_zeros() & !7;
    i32::from((x >> shift) as u8) - i32::from((y >> shift) as u8)
}

#[cfg(test)]
mod tests {
    use super::memcmp;
    use std::cmp::Ordering;

    fn ours(a: &[u8], b: &[u8]) -> Ordering {
        let n = a.len().min(b.len());
        // SAFETY: both slices have at least `n` bytes.
        let common = unsafe { memcmp(a.as_ptr(), b.as_ptr(), n) };
        common.cmp(&0).then(a.len().cmp(&b.len()))
    }

    #[test]
    fn orders_like_slices() {
        let words: [&[u8]; 12] = [
            b"",
            b"a",
            b"AWS::EC2::Volume",
            b"AWS::EC2::VolumE",
            b"AWS::EC2::Instance",
            b"vol-00000000000000001",
            b"vol-00000000000000010",
            b"vol-0000000000000001",
            b"\x00\xff\x80\x7f\x01\x02\x03\x04\x05",
            b"\x00\xff\x80\x7f\x01\x02\x03\x04\x06",
            b"\xff\xff\xff\xff\xff\xff\xff\xfe",
            b"\xff\xff\xff\xff\xff\xff\xff\xff",
        ];
        for a in words {
            for b in words {
                assert_eq!(ours(a, b), a.cmp(b), "{a:?} vs {b:?}");
            }
        }
        // A difference at every position of a 40-byte run, in both directions.
        let base = [0x5a_u8; 40];
        for at in 0..base.len() {
            let mut other = base;
            other[at] = 0xa5;
            assert_eq!(ours(&base, &other), Ordering::Less, "difference at {at}");
            assert_eq!(ours(&other, &base), Ordering::Greater, "difference at {at}");
            // SAFETY: both arrays have `at` bytes before the difference.
            assert_eq!(unsafe { memcmp(base.as_ptr(), other.as_ptr(), at) }, 0);
        }
        // Every length up to three words, a difference at every position within it: in the
        // words, in the overlapping last word, and in the bytes of texts shorter than a word.
        for n in 0..=24 {
            for at in 0..n {
                for (low, high) in [(0x00_u8, 0x01_u8), (0x7f, 0x80), (0x01, 0xff)] {
                    let (mut x, mut y) = ([0x5a_u8; 24], [0x5a_u8; 24]);
                    (x[at], y[at]) = (low, high);
                    // SAFETY: both arrays have 24 bytes, `n` at most.
                    let (less, greater) = unsafe { (memcmp(x.as_ptr(), y.as_ptr(), n), memcmp(y.as_ptr(), x.as_ptr(), n)) };
                    assert!(less < 0 && greater > 0, "length {n}, difference at {at}: {less} {greater}");
                }
            }
            // SAFETY: as above.
            assert_eq!(unsafe { memcmp([7u8; 24].as_ptr(), [7u8; 24].as_ptr(), n) }, 0, "length {n}");
        }
    }
}
