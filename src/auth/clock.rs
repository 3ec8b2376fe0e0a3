//! UTC timestamps as the signature schemes write them, without a date crate:
//! BCE's `2015-04-27T08:23:49Z` and SigV4's `20130524T000000Z`. Times are Unix
//! seconds (`i64`), read from the host's clock by the filter.

/// Seconds since 1970-01-01 of a civil UTC date and time, or `None` if a field
/// is out of range (month 1–12, day 1–31 within the month, hour 0–23,
/// minute/second 0–59).
fn unix_seconds(
    year: i64,
    month: u32,
    day: u32,
    hour: u32,
    minute: u32,
    second: u32,
) -> Option<i64> {
    let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    let month_days = [
        31,
        if leap { 29 } else { 28 },
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ];
    if !(1..=12).contains(&month)
        || day == 0
        || day > month_days[month as usize - 1]
        || hour > 23
        || minute > 59
        || second > 59
    {
        return None;
    }
    // Days from civil (Howard Hinnant's algorithm).
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(days * 86_400 + i64::from(hour) * 3600 + i64::from(minute) * 60 + i64::from(second))
}

/// The civil date and time of Unix seconds: (year, month, day, hour, minute, second).
fn civil(t: i64) -> (i64, u32, u32, u32, u32, u32) {
    let days = t.div_euclid(86_400);
    let secs = t.rem_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (
        year,
        month,
        day,
        (secs / 3600) as u32,
        (secs / 60 % 60) as u32,
        (secs % 60) as u32,
    )
}

fn digits(s: &str) -> Option<u32> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// Parses BCE's `yyyy-mm-ddThh:mm:ssZ`.
pub(crate) fn parse_bce(text: &str) -> Option<i64> {
    let b = text.as_bytes();
    if b.len() != 20
        || b[4] != b'-'
        || b[7] != b'-'
        || b[10] != b'T'
        || b[13] != b':'
        || b[16] != b':'
        || b[19] != b'Z'
    {
        return None;
    }
    unix_seconds(
        i64::from(digits(&text[0..4])?),
        digits(&text[5..7])?,
        digits(&text[8..10])?,
        digits(&text[11..13])?,
        digits(&text[14..16])?,
        digits(&text[17..19])?,
    )
}

/// Parses SigV4's `yyyymmddThhmmssZ`.
pub(crate) fn parse_amz(text: &str) -> Option<i64> {
    let b = text.as_bytes();
    if b.len() != 16 || b[8] != b'T' || b[15] != b'Z' {
        return None;
    }
    unix_seconds(
        i64::from(digits(&text[0..4])?),
        digits(&text[4..6])?,
        digits(&text[6..8])?,
        digits(&text[9..11])?,
        digits(&text[11..13])?,
        digits(&text[13..15])?,
    )
}

/// Formats as BCE's `yyyy-mm-ddThh:mm:ssZ`.
pub(crate) fn format_bce(t: i64) -> String {
    let (y, mo, d, h, mi, s) = civil(t);
    format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}Z")
}

/// Formats as SigV4's `yyyymmddThhmmssZ`.
pub fn format_amz(t: i64) -> String {
    let (y, mo, d, h, mi, s) = civil(t);
    format!("{y:04}{mo:02}{d:02}T{h:02}{mi:02}{s:02}Z")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_instants() {
        assert_eq!(parse_bce("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(parse_bce("2015-04-27T08:23:49Z"), Some(1_430_123_029));
        assert_eq!(parse_amz("20130524T000000Z"), Some(1_369_353_600));
        assert_eq!(parse_bce("2024-02-29T23:59:59Z"), Some(1_709_251_199));
    }

    #[test]
    fn round_trips() {
        for t in [0, 951_782_400, 1_430_123_029, 1_709_251_199, 4_102_444_800] {
            assert_eq!(parse_bce(&format_bce(t)), Some(t));
            assert_eq!(parse_amz(&format_amz(t)), Some(t));
        }
        assert_eq!(format_amz(1_369_353_600), "20130524T000000Z");
    }

    #[test]
    fn malformed_times_are_refused() {
        for bad in [
            "2015-04-27 08:23:49Z",
            "2015-02-30T00:00:00Z",
            "2015-13-01T00:00:00Z",
            "2015-04-27T24:00:00Z",
            "2015-04-27T08:23:49",
            "+015-04-27T08:23:49Z",
            "",
        ] {
            assert_eq!(parse_bce(bad), None, "{bad}");
        }
        assert_eq!(parse_amz("2013-05-24T000000Z"), None);
        assert_eq!(parse_amz("20130524T000060Z"), None);
    }
}
