//! The scoring formula (SPEC §5): integer arithmetic only, so a score is bit-identical on every
//! platform and through the component.

use crate::rules::{Severity, Status};

/// Resource criticality from the `Criticality` tag; the multiplier is kept doubled so every
/// weight is an integer (×½ becomes 1, ×4 becomes 8).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Criticality {
    /// ×4.
    Critical,
    /// ×2.
    High,
    /// ×1, also the default for absent or unknown values.
    Medium,
    /// ×½.
    Low,
}

impl Criticality {
    /// Parses a tag value case-insensitively; absent or unknown values are medium.
    pub fn from_tag(value: Option<&str>) -> Self {
        let value = value.map_or("", str::trim);
        [Criticality::Critical, Criticality::High, Criticality::Medium, Criticality::Low]
            .into_iter()
            .find(|criticality| value.eq_ignore_ascii_case(criticality.as_str()))
            .unwrap_or(Criticality::Medium)
    }

    /// The doubled multiplier: 8, 4, 2, 1.
    pub fn doubled_multiplier(self) -> u64 {
        match self {
            Criticality::Critical => 8,
            Criticality::High => 4,
            Criticality::Medium => 2,
            Criticality::Low => 1,
        }
    }

    /// Lower-case name used in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Criticality::Critical => "critical",
            Criticality::High => "high",
            Criticality::Medium => "medium",
            Criticality::Low => "low",
        }
    }
}

/// A finding's weight: severity weight × doubled criticality multiplier.
pub fn weight(severity: Severity, criticality: Criticality) -> u64 {
    severity.weight() * criticality.doubled_multiplier()
}

/// Running sums of weights for one scope (the whole scan, one resource, one resource type).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    /// Σ weight of COMPLIANT findings.
    pub compliant: u64,
    /// Σ weight of COMPLIANT and NON_COMPLIANT findings.
    pub decided: u64,
}

impl Tally {
    /// Adds one finding; NOT_APPLICABLE and INSUFFICIENT_DATA do not count.
    pub fn add(&mut self, status: Status, weight: u64) {
        match status {
            Status::Compliant => {
                self.compliant = self.compliant.saturating_add(weight);
                self.decided = self.decided.saturating_add(weight);
            }
            Status::NonCompliant => self.decided = self.decided.saturating_add(weight),
            Status::NotApplicable | Status::InsufficientData => {}
        }
    }

    /// Adds another tally.
    pub fn merge(&mut self, other: Tally) {
        self.compliant = self.compliant.saturating_add(other.compliant);
        self.decided = self.decided.saturating_add(other.decided);
    }

    /// ⌊10000 × compliant / decided⌋, or 10000 when nothing was decided.
    pub fn score_bp(&self) -> u32 {
        if self.decided == 0 {
            return 10_000;
        }
        // In 64 bits when the product fits (always, but for weights summed past 2^50): inside
        // the component a 128-bit multiply and divide are calls into software routines.
        let bp = match self.compliant.checked_mul(10_000) {
            Some(product) => u128::from(product / self.decided),
            None => u128::from(self.compliant) * 10_000 / u128::from(self.decided),
        };
        u32::try_from(bp).unwrap_or(10_000)
    }
}

/// `7341` → `"73.41"`.
pub fn percent(score_bp: u32) -> String {
    format!("{}.{:02}", score_bp / 100, score_bp % 100)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hand_computed_scores() {
        // critical rule on a high resource passes (10×4=40), high rule on a low resource fails (6×1=6),
        // medium rule on a critical resource passes (3×8=24), low rule default criticality fails (1×2=2).
        let mut t = Tally::default();
        t.add(Status::Compliant, weight(Severity::Critical, Criticality::High));
        t.add(Status::NonCompliant, weight(Severity::High, Criticality::Low));
        t.add(Status::Compliant, weight(Severity::Medium, Criticality::Critical));
        t.add(Status::NonCompliant, weight(Severity::Low, Criticality::from_tag(Some("bogus"))));
        t.add(Status::InsufficientData, 1000);
        t.add(Status::NotApplicable, 1000);
        assert_eq!((t.compliant, t.decided), (64, 72));
        assert_eq!(t.score_bp(), 8888); // ⌊10000 × 64 / 72⌋ = ⌊8888.88…⌋
        assert_eq!(percent(t.score_bp()), "88.88");
    }

    #[test]
    fn scores_are_the_exact_floor_on_both_sides_of_64_bits() {
        let exact = |compliant: u64, decided: u64| u32::try_from(u128::from(compliant) * 10_000 / u128::from(decided)).unwrap_or(10_000);
        let edge = u64::MAX / 10_000;
        for (compliant, decided) in [(edge, edge), (edge, edge + 1), (edge + 1, edge + 1), (edge + 1, edge + 3), (u64::MAX - 1, u64::MAX), (u64::MAX, u64::MAX), (1, 3), (2, 3)] {
            assert_eq!(Tally { compliant, decided }.score_bp(), exact(compliant, decided), "{compliant} / {decided}");
        }
    }

    #[test]
    fn empty_scope_scores_full() {
        assert_eq!(Tally::default().score_bp(), 10_000);
        assert_eq!(percent(10_000), "100.00");
        assert_eq!(percent(7), "0.07");
    }

    #[test]
    fn criticality_tag_values_are_case_insensitive() {
        assert_eq!(Criticality::from_tag(Some("CRITICAL")), Criticality::Critical);
        assert_eq!(Criticality::from_tag(Some(" Low ")), Criticality::Low);
        assert_eq!(Criticality::from_tag(None), Criticality::Medium);
        assert_eq!(weight(Severity::Low, Criticality::Low), 1);
        assert_eq!(weight(Severity::Critical, Criticality::Critical), 80);
    }
}
