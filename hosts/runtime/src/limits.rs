//! Resource limits for every call into the component: a hostile or pathological input must end
//! in a clear error, never in a host that runs out of memory or hangs.

use std::time::Duration;

/// Limits applied to one scan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Linear memory the component may grow to.
    pub memory_bytes: usize,
    /// Wall time one call into the component may take (feeding one chunk, finishing, rendering).
    pub call_timeout: Duration,
    /// Largest single configuration item or non-container document.
    pub max_item_bytes: u64,
    /// Largest decompressed size of one source (a gzip bomb stops here).
    pub max_source_bytes: u64,
    /// Size of the chunks fed to the component.
    pub chunk_bytes: usize,
    /// Largest result one call may hand back to the host (a rendered report). wasmtime's own
    /// default is 128 MiB, less than the JSON report of ~80,000 resources.
    pub max_result_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            memory_bytes: 3 << 30,
            call_timeout: Duration::from_secs(60),
            max_item_bytes: 64 << 20,
            max_source_bytes: 64 << 30,
            chunk_bytes: 1 << 20,
            max_result_bytes: 3 << 30,
        }
    }
}
