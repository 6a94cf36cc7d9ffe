//! The compliance scoring engine: AWS Config data in, a scored compliance report out.
//!
//! This crate is pure: no I/O, no clock, no environment, no AWS SDK. Hosts pass in bytes, the
//! time and provenance; the engine returns typed results and rendered reports. The same code is
//! compiled natively (tests, benchmarks) and to the WASI component every host scores with, so
//! nothing here may panic: a panic in the guest is a trap that aborts a whole scan.
#![forbid(unsafe_code)]
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing))]

mod decimal;
mod fnv;
pub mod error;
pub mod ids;
pub mod input;
pub mod item;
pub mod render;
pub mod report;
pub mod rollup;
pub mod rules;
pub mod scan;
pub mod score;
pub mod sha256x4;
pub mod value;
pub mod waiver;

pub use error::{Position, ScanError};
pub use report::{ReportMeta, ScoreReport, SourceDigest};
pub use rules::{RULE_PACK_ID, RULE_PACK_VERSION, RULES, RuleDef, Severity, Status};
pub use scan::{Scan, ScanOptions};

/// Version of the engine (the crate version), part of every report's provenance.
pub const ENGINE_VERSION: &str = env!("CARGO_PKG_VERSION");

/// Evaluates a single document (an item, or an event carrying one) with no other resources as
/// context: what the Config rule evaluator needs. Returns the report of that one document.
pub fn evaluate_document(options: ScanOptions, source: &str, bytes: &[u8], meta: ReportMeta) -> Result<ScoreReport, ScanError> {
    let mut scan = Scan::new(options)?;
    scan.begin_source(source)?;
    scan.feed(bytes)?;
    scan.end_source()?;
    scan.finish(meta)
}
