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

/// [`EMBEDDED_COMPONENT`] compiled to machine code for this target by build.rs, widest first,
/// each with the CPU level it needs: the runtime loads the first this CPU can run (an artifact
/// is empty when it could not be made). Their identity is still the sha256 of the component
/// bytes: every artifact scores and renders the same bytes.
const PRECOMPILED_COMPONENTS: [(&str, &[u8]); 2] = [
    ("x86-64-v3", include_bytes!(concat!(env!("OUT_DIR"), "/compliance_component-wide.cwasm"))),
    (BASELINE_LEVEL, include_bytes!(concat!(env!("OUT_DIR"), "/compliance_component.cwasm"))),
];

/// The CPU level the narrower artifact is compiled for.
const BASELINE_LEVEL: &str = if cfg!(target_arch = "x86_64") { "x86-64-v2" } else { std::env::consts::ARCH };
