//! UTC timestamps without a date-time dependency: the report's `generated_at` and history keys.

use std::time::{SystemTime, UNIX_EPOCH};

/// Now, as `YYYY-MM-DDTHH:MM:SS.mmmZ`.
pub fn now_utc() -> String {
    let since = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
    format_utc_millis(since.as_millis() as i64)
}

/// Formats milliseconds since the epoch as ISO-8601 UTC with milliseconds.
pub fn format_utc_millis(millis: i64) -> String {
    let secs = millis.div_euclid(1000);
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (year, month, day) = civil_from_days(days);
    format!("{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z", rem / 3600, rem % 3600 / 60, rem % 60, millis.rem_euclid(1000))
}

/// Whether `text` is an ISO-8601 UTC timestamp as this crate writes them (milliseconds optional).
pub fn is_timestamp(text: &str) -> bool {
    let b = text.as_bytes();
    let digits = |r: std::ops::Range<usize>| b.get(r).is_some_and(|s| s.iter().all(u8::is_ascii_digit));
    let shape = b.len() >= 20
        && digits(0..4)
        && b.get(4) == Some(&b'-')
        && digits(5..7)
        && b.get(7) == Some(&b'-')
        && digits(8..10)
        && b.get(10) == Some(&b'T')
        && digits(11..13)
        && b.get(13) == Some(&b':')
        && digits(14..16)
        && b.get(16) == Some(&b':')
        && digits(17..19)
        && text.ends_with('Z');
    let fraction = text.get(19..text.len() - 1).unwrap_or("");
    shape && (fraction.is_empty() || (fraction.starts_with('.') && fraction.len() > 1 && fraction[1..].bytes().all(|c| c.is_ascii_digit())))
}

fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(month <= 2), month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_and_recognises_timestamps() {
        assert_eq!(format_utc_millis(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(format_utc_millis(1_709_424_000_123), "2024-03-03T00:00:00.123Z");
        assert!(is_timestamp("2024-03-03T00:00:00.123Z"));
        assert!(is_timestamp("2024-03-03T00:00:00Z"));
        assert!(!is_timestamp("2024-03-03 00:00:00"));
        assert!(!is_timestamp("yesterday"));
        assert!(is_timestamp(&now_utc()));
    }
}
