//! UTC timestamps without a date-time dependency: the report's `generated_at` and history keys.

use std::time::{SystemTime, UNIX_EPOCH};

/// Now, as `YYYY-MM-DDTHH:MM:SS.mmmZ`.
pub fn now_utc() -> String {
    format_utc_millis(now_millis())
}

/// Milliseconds since the Unix epoch, now.
pub fn now_millis() -> i64 {
    let since = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
    i64::try_from(since.as_millis()).unwrap_or(i64::MAX)
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

/// Parses `YYYY-MM-DDTHH:MM:SS[.fff…]Z` (what [`is_timestamp`] accepts) into milliseconds since
/// the epoch; digits past milliseconds are dropped.
pub fn parse_utc_millis(text: &str) -> Option<i64> {
    if !is_timestamp(text) {
        return None;
    }
    let num = |r: std::ops::Range<usize>| text.get(r)?.parse::<i64>().ok();
    let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (hour, minute, second) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    let fraction = text.get(20..text.len() - 1).unwrap_or("");
    let millis = fraction.bytes().chain(std::iter::repeat(b'0')).take(3).fold(0, |acc, d| acc * 10 + i64::from(d - b'0'));
    let days = days_from_civil(year, month as u32, day as u32);
    Some(((days * 86_400 + hour * 3600 + minute * 60 + second) * 1000) + millis)
}

fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = i64::from((month + 9) % 12);
    let doy = (153 * mp + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
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
        assert_eq!(parse_utc_millis("2024-03-03T00:00:00.123Z"), Some(1_709_424_000_123));
        assert_eq!(parse_utc_millis("2024-03-03T00:00:00Z"), Some(1_709_424_000_000));
        assert_eq!(parse_utc_millis("2024-03-03T00:00:00.1234567Z"), Some(1_709_424_000_123));
        assert_eq!(parse_utc_millis("2024-13-03T00:00:00Z"), None);
        for millis in [0, 951_782_400_000, 1_709_424_000_123, 4_102_444_799_999] {
            assert_eq!(parse_utc_millis(&format_utc_millis(millis)), Some(millis));
        }
    }
}
