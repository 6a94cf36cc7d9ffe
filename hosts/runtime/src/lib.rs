//! The wasmtime embedding of the compliance scoring component.
//!
//! Loads the component (the one embedded at build time, or an archived file), reports its
//! sha256, reads inputs (files, gzip, directories, stdin, any reader), digests their raw bytes,
//! and streams them into the component in chunks. This is the only crate that depends on
//! wasmtime; the CLI and the Lambda hosts call its typed API. It never evaluates rules or
//! computes scores itself: every number comes out of the component.

pub mod asff;
mod bindings;
mod error;
mod limits;
mod cut;
mod parallel;
mod parts;
mod percent;
pub mod report_head;
mod runtime;
mod sources;
mod time;

pub use bindings::types::{
    EngineInfo, Finding, ReportFormat, ReportSummary, ResourceResult, RuleInfo, Severity, Status, StatusCounts, TrendPoint,
};
pub use bindings::frameworks;
pub use bindings::org as rollup;
pub use error::{InputErrorKind, RuntimeError};
pub use limits::Limits;
pub use runtime::{ExportFormat, FailedBefore, FinishedScan, Runtime, ScanRequest, WIT_PACKAGE, WORLD_EXPORT, WaiverInput};
pub use sources::{InputSource, Progress, collect_sources, file_sha256, input_digest, sha256_hex};
pub use percent::parse_percent_bp;
pub use time::{format_utc_millis, is_timestamp, now_millis, now_utc, parse_utc_millis};

/// The component built from this checkout's `core-wasm/`, embedded at build time.
pub const EMBEDDED_COMPONENT: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/compliance_component.wasm"));

/// [`EMBEDDED_COMPONENT`] compiled to machine code for this target by build.rs (empty when that
/// was not possible). Its identity is still the sha256 of the component bytes.
const PRECOMPILED_COMPONENT: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/compliance_component.cwasm"));
