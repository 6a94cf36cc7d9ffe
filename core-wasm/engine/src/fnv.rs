//! FNV-1a, 64 bits: the marks that tie the pieces of one hand-over together (a scan's state,
//! a report's finding keys and ids), so a piece of another one is refused. Not a digest of
//! anything a report shows.

/// An FNV-1a hash being computed.
pub(crate) struct Fnv1a(u64);

impl Fnv1a {
    pub(crate) fn new() -> Self {
        Fnv1a(0xcbf2_9ce4_8422_2325)
    }

    /// Mixes `bytes` in.
    pub(crate) fn mix(&mut self, bytes: &[u8]) {
        for byte in bytes {
            self.0 = (self.0 ^ u64::from(*byte)).wrapping_mul(0x100_0000_01b3);
        }
    }

    pub(crate) fn value(&self) -> u64 {
        self.0
    }
}
