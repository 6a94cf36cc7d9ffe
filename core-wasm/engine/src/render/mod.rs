//! Output formats, one module each, all rendered from a [`ScoreReport`](crate::ScoreReport).
//! Every renderer is deterministic: the same report gives the same bytes.

pub mod csv;
pub mod html;
pub mod json;
pub mod rollup;
pub mod table;

/// One point of the score trend (from the history of earlier scans).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrendPoint {
    /// When that scan ran.
    pub generated_at: String,
    /// Its score.
    pub score_bp: u32,
}
