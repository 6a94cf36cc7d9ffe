//! Errors of the runtime. Input errors name the source and, where known, the byte offset and
//! item index, exactly as the component reported them.

use std::fmt;

use crate::bindings::types::{InputProblem, ScanError};

/// The class of a problem with the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputErrorKind {
    /// Not JSON, or truncated.
    MalformedJson,
    /// JSON of no AWS Config shape.
    UnsupportedShape,
    /// An item with wrongly typed identifying fields.
    InvalidItem,
    /// A size or nesting limit.
    LimitExceeded,
}

impl fmt::Display for InputErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::MalformedJson => "malformed JSON",
            Self::UnsupportedShape => "unsupported input shape",
            Self::InvalidItem => "invalid configuration item",
            Self::LimitExceeded => "limit exceeded",
        })
    }
}

/// Where an input problem is.
fn locate(source: &str, offset: Option<u64>, item_index: Option<u64>) -> String {
    let mut text = source.to_owned();
    if let Some(offset) = offset {
        text.push_str(&format!(" at byte {offset}"));
    }
    if let Some(index) = item_index {
        text.push_str(&format!(" (item #{index})"));
    }
    text
}

/// Everything that can go wrong loading the component or scanning.
#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    /// Reading an input or component file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file (or `stdin`).
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The input is wrong; the component says where and why.
    #[error("{}: {kind}: {message}", locate(source_name, *offset, *item_index))]
    Input {
        /// Class of problem.
        kind: InputErrorKind,
        /// Source name.
        source_name: String,
        /// Byte offset in the decompressed source.
        offset: Option<u64>,
        /// Item index in the source.
        item_index: Option<u64>,
        /// What is wrong.
        message: String,
    },
    /// A gzip source decompresses past the limit.
    #[error("{source_name}: decompressed size exceeds the limit of {limit} bytes (possible gzip bomb); raise it with --max-source-bytes if the input is genuine")]
    InputTooLarge {
        /// Source name.
        source_name: String,
        /// The limit.
        limit: u64,
    },
    /// An option the component refused.
    #[error("invalid option: {0}")]
    InvalidOption(String),
    /// A waiver file the component refused; the message names the file, entry and field.
    #[error("{0}")]
    InvalidWaivers(String),
    /// The file is not a component exporting our world.
    #[error("not a usable scoring component: {0}")]
    InvalidComponent(String),
    /// The component trapped (a bug, or a memory limit).
    #[error("{context}: the scoring component failed: {message}")]
    Trap {
        /// What was being processed.
        context: String,
        /// The trap.
        message: String,
    },
    /// A call into the component exceeded its deadline.
    #[error("{context}: a call into the scoring component ran longer than {seconds} s and was stopped")]
    Timeout {
        /// What was being processed.
        context: String,
        /// The deadline.
        seconds: u64,
    },
    /// The component answered out of protocol (a bug in host or component).
    #[error("scoring component protocol error: {0}")]
    Protocol(String),
    /// The component predates a function the host asked for.
    #[error("the scoring component {sha256} does not provide {what} (it needs WIT {since} or later)")]
    Unsupported {
        /// The component's sha256.
        sha256: String,
        /// The missing function.
        what: &'static str,
        /// The WIT version that added it.
        since: &'static str,
    },
    /// The roll-up refused its summaries or options.
    #[error("roll-up: {0}")]
    Rollup(String),
    /// wasmtime could not be set up.
    #[error("wasmtime: {0}")]
    Engine(String),
}

impl RuntimeError {
    /// Whether the error is the input's fault (exit code 2 in the CLI, no retry in Lambda).
    pub fn is_input_error(&self) -> bool {
        matches!(
            self,
            Self::Input { .. } | Self::InputTooLarge { .. } | Self::Io { .. } | Self::InvalidOption(_) | Self::InvalidWaivers(_) | Self::Timeout { .. } | Self::Rollup(_)
        )
    }
}

impl From<ScanError> for RuntimeError {
    fn from(error: ScanError) -> Self {
        let input = |kind: InputErrorKind, p: InputProblem| RuntimeError::Input {
            kind,
            source_name: p.position.source,
            offset: p.position.offset,
            item_index: p.position.item_index,
            message: p.message,
        };
        match error {
            ScanError::MalformedJson(p) => input(InputErrorKind::MalformedJson, p),
            ScanError::UnsupportedShape(p) => input(InputErrorKind::UnsupportedShape, p),
            ScanError::InvalidItem(p) => input(InputErrorKind::InvalidItem, p),
            ScanError::LimitExceeded(p) => input(InputErrorKind::LimitExceeded, p),
            ScanError::InvalidOption(m) => RuntimeError::InvalidOption(m),
            ScanError::InvalidState(m) | ScanError::RenderFailed(m) => RuntimeError::Protocol(m),
        }
    }
}

impl From<crate::bindings::org::RollupError> for RuntimeError {
    fn from(error: crate::bindings::org::RollupError) -> Self {
        use crate::bindings::org::RollupError as E;
        match error {
            E::InvalidInput(m) | E::InvalidOption(m) => RuntimeError::Rollup(m),
            E::RenderFailed(m) => RuntimeError::Protocol(m),
        }
    }
}
