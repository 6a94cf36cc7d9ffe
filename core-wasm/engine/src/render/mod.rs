//! Output formats, one module each, all rendered from a [`ScoreReport`](crate::ScoreReport).
//! Every renderer is deterministic: the same report gives the same bytes.

pub mod asff;
pub mod csv;
pub mod export;
pub mod html;
pub mod json;
pub mod ocsf;
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

/// What the previous scan of the same scope failed, for the HTML report's "since the previous
/// scan" section (the host keeps it; the engine has no memory between scans).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Previous {
    /// When that scan ran.
    pub generated_at: String,
    /// (resource type, resource id, account, region, rule id) of each NON_COMPLIANT finding.
    pub failed: std::collections::BTreeSet<(String, String, String, String, String)>,
}
