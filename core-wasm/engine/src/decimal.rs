//! Integers written in decimal as `Display` writes them, without the formatting machinery,
//! which costs several times the copy inside the component: the JSON report writes a score for
//! every resource, and the rules an index into most paths they build.

use std::ops::{Div, Rem};

/// `n`'s digits, written into the end of `buffer` (twenty bytes hold any `u64`): the digits.
/// Generic so that each caller divides in its own width: inside the component a 64-bit
/// division by ten is a call (wasm has no 64-bit multiply-high), a 32-bit one is not.
#[inline]
pub(crate) fn digits<T>(mut n: T, buffer: &mut [u8; 20]) -> &[u8]
where
    T: Copy + PartialEq + From<u8> + Div<Output = T> + Rem<Output = T>,
    u8: TryFrom<T>,
{
    let (zero, ten) = (T::from(0), T::from(10));
    let mut start = buffer.len();
    for digit in buffer.iter_mut().rev() {
        *digit = b'0' + u8::try_from(n % ten).unwrap_or_default();
        start -= 1;
        n = n / ten;
        if n == zero {
            break;
        }
    }
    buffer.get(start..).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What `Display` writes: every number up to 999, each power of ten and its neighbours,
    /// and the largest of each width the engine writes.
    #[test]
    fn digits_are_what_display_writes() {
        let powers = (0..20).filter_map(|p| 10u64.checked_pow(p));
        let numbers: Vec<u64> = (0..1000).chain(powers.flat_map(|p| [p - 1, p, p + 1])).chain([u64::from(u32::MAX), u64::MAX]).collect();
        let mut buffer = [0; 20];
        for n in numbers {
            assert_eq!(digits(n, &mut buffer), n.to_string().as_bytes());
            if let Ok(small) = u32::try_from(n) {
                assert_eq!(digits(small, &mut buffer), small.to_string().as_bytes());
            }
            if let Ok(index) = usize::try_from(n) {
                assert_eq!(digits(index, &mut buffer), index.to_string().as_bytes());
            }
        }
    }
}
