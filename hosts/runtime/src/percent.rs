//! Percentages as integer basis points (the CLI's `--threshold`, the Lambdas' `SCORE_THRESHOLD`).

/// `72.5` → 7250 basis points; at most two decimals, 0–100, no floating point involved.
pub fn parse_percent_bp(text: &str) -> Result<u32, String> {
    let text = text.trim().trim_end_matches('%');
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    let valid = !whole.is_empty() && whole.bytes().all(|b| b.is_ascii_digit()) && fraction.len() <= 2 && fraction.bytes().all(|b| b.is_ascii_digit());
    if !valid {
        return Err(format!("`{text}` is not a percentage with at most two decimals (e.g. 70 or 72.5)"));
    }
    let whole: u32 = whole.parse().map_err(|_| format!("`{text}` is out of range"))?;
    let fraction: u32 = format!("{fraction:0<2}").parse().unwrap_or(0);
    let bp = whole.checked_mul(100).and_then(|w| w.checked_add(fraction)).filter(|bp| *bp <= 10_000);
    bp.ok_or_else(|| format!("`{text}` is not between 0 and 100"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentages_parse_exactly() {
        assert_eq!(parse_percent_bp("70"), Ok(7000));
        assert_eq!(parse_percent_bp("72.5"), Ok(7250));
        assert_eq!(parse_percent_bp("73.41%"), Ok(7341));
        assert_eq!(parse_percent_bp("100"), Ok(10_000));
        assert!(parse_percent_bp("100.01").is_err());
        assert!(parse_percent_bp("7.123").is_err());
        assert!(parse_percent_bp("-1").is_err());
        assert!(parse_percent_bp("abc").is_err());
    }
}
