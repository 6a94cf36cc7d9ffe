//! Errors the engine reports. Each names the input source and, where known, the byte offset
//! and the index of the item, so an operator can find the offending bytes.

use std::fmt;

/// Where in the input a problem was found.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Position {
    /// Name of the input source (a file name, `stdin`, an S3 key).
    pub source: String,
    /// Byte offset from the start of the (decompressed) source.
    pub offset: Option<u64>,
    /// Zero-based index of the configuration item within the source.
    pub item_index: Option<u64>,
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.source.is_empty() { "<input>" } else { &self.source })?;
        if let Some(offset) = self.offset {
            write!(f, " at byte {offset}")?;
        }
        if let Some(index) = self.item_index {
            write!(f, " (item #{index})")?;
        }
        Ok(())
    }
}

/// Everything that can stop a scan. Missing optional fields are never errors: they become
/// `INSUFFICIENT_DATA` or `NON_COMPLIANT` findings as the rule pack says.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScanError {
    /// The bytes are not JSON (or end in the middle of a value).
    #[error("{position}: malformed JSON: {message}")]
    MalformedJson {
        /// Where.
        position: Position,
        /// What the parser said.
        message: String,
    },
    /// Valid JSON, but not any AWS Config shape the engine knows.
    #[error("{position}: unsupported input shape: {message}")]
    UnsupportedShape {
        /// Where.
        position: Position,
        /// Which shape was expected.
        message: String,
    },
    /// A configuration item whose identifying fields have the wrong type.
    #[error("{position}: invalid configuration item: {message}")]
    InvalidItem {
        /// Where.
        position: Position,
        /// What is wrong.
        message: String,
    },
    /// A configured bound (item size, nesting, count) was exceeded.
    #[error("{position}: limit exceeded: {message}")]
    LimitExceeded {
        /// Where.
        position: Position,
        /// Which limit.
        message: String,
    },
    /// A scan option is out of range.
    #[error("invalid option: {0}")]
    InvalidOption(String),
    /// A waiver file is unreadable or breaks a rule of SPEC §11; the message names the entry
    /// and the field.
    #[error("{file}: invalid waiver file: {message}")]
    InvalidWaivers {
        /// The file's name as the host gave it.
        file: String,
        /// What is wrong, and where.
        message: String,
    },
    /// The API was used out of order (e.g. feeding bytes after `finish`).
    #[error("invalid call sequence: {0}")]
    InvalidState(String),
}

impl ScanError {
    /// The position the error refers to, when it has one.
    pub fn position(&self) -> Option<&Position> {
        match self {
            Self::MalformedJson { position, .. }
            | Self::UnsupportedShape { position, .. }
            | Self::InvalidItem { position, .. }
            | Self::LimitExceeded { position, .. } => Some(position),
            Self::InvalidOption(_) | Self::InvalidWaivers { .. } | Self::InvalidState(_) => None,
        }
    }
}
