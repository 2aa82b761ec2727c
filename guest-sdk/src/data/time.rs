//! Bar timestamps as they appear in data files and feeds: ISO dates, ISO
//! datetimes (with or without `T`, fraction, `Z` or offset) and epoch seconds
//! or milliseconds. Times without an offset are UTC.

use chrono::{DateTime, NaiveDate, NaiveDateTime};

/// Epoch values at least this large are milliseconds (1e11 seconds is the
/// year 5138; 1e11 ms is 1973).
const MILLIS_THRESHOLD: f64 = 1e11;

/// Parses a timestamp into milliseconds since the Unix epoch (UTC).
pub fn parse_timestamp(text: &str) -> Result<i64, String> {
    let text = text.trim();
    if text.is_empty() {
        return Err("the time is empty".into());
    }
    // Eight digits are a compact date (20240131), not epoch seconds of 1970-73.
    if text.len() == 8
        && text.bytes().all(|b| b.is_ascii_digit())
        && let Ok(date) = NaiveDate::parse_from_str(text, "%Y%m%d")
        && let Some(dt) = date.and_hms_opt(0, 0, 0)
    {
        return Ok(dt.and_utc().timestamp_millis());
    }
    // The most common shape in daily data (2024-01-31) first: the general
    // path below tries nine formats before it reaches this one, and a
    // sweep or backtest reads every row of the file through here.
    let b = text.as_bytes();
    if b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && let Ok(date) = NaiveDate::parse_from_str(text, "%Y-%m-%d")
        && let Some(dt) = date.and_hms_opt(0, 0, 0)
    {
        return Ok(dt.and_utc().timestamp_millis());
    }
    if let Ok(number) = text.parse::<f64>() {
        if !number.is_finite() || number < 0.0 {
            return Err(format!("`{text}` is not a valid epoch time"));
        }
        let ms = if number >= MILLIS_THRESHOLD {
            number
        } else {
            number * 1000.0
        };
        return Ok(ms.round() as i64);
    }
    if let Ok(dt) = DateTime::parse_from_rfc3339(text) {
        return Ok(dt.timestamp_millis());
    }
    for format in ["%Y-%m-%d %H:%M:%S%.f%:z", "%Y-%m-%d %H:%M:%S%.f%z"] {
        if let Ok(dt) = DateTime::parse_from_str(text, format) {
            return Ok(dt.timestamp_millis());
        }
    }
    let naive = text.trim_end_matches('Z');
    for format in [
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M",
        "%Y-%m-%dT%H:%M",
        "%Y/%m/%d %H:%M:%S",
    ] {
        if let Ok(dt) = NaiveDateTime::parse_from_str(naive, format) {
            return Ok(dt.and_utc().timestamp_millis());
        }
    }
    for format in ["%Y-%m-%d", "%Y/%m/%d"] {
        if let Ok(date) = NaiveDate::parse_from_str(naive, format)
            && let Some(dt) = date.and_hms_opt(0, 0, 0)
        {
            return Ok(dt.and_utc().timestamp_millis());
        }
    }
    Err(format!(
        "`{text}` is not a time this runtime reads: use an ISO date (2024-01-31), an ISO datetime (2024-01-31 15:00:00 or 2024-01-31T15:00:00Z) or epoch seconds or milliseconds"
    ))
}

/// Milliseconds since the epoch as an ISO-8601 UTC datetime, for outputs.
pub fn format_timestamp(ms: i64) -> String {
    match DateTime::from_timestamp_millis(ms) {
        Some(dt) if ms % 1000 == 0 => dt.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        Some(dt) => dt.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string(),
        None => ms.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const JAN_31_2024: i64 = 1_706_659_200_000;

    #[test]
    fn reads_the_common_layouts() {
        for (text, ms) in [
            ("2024-01-31", JAN_31_2024),
            ("2024/01/31", JAN_31_2024),
            ("20240131", JAN_31_2024),
            ("2024-01-31 15:00:00", JAN_31_2024 + 15 * 3_600_000),
            ("2024-01-31T15:00:00", JAN_31_2024 + 15 * 3_600_000),
            ("2024-01-31T15:00:00Z", JAN_31_2024 + 15 * 3_600_000),
            ("2024-01-31 15:00", JAN_31_2024 + 15 * 3_600_000),
            (
                "2024-01-31T15:00:00.250Z",
                JAN_31_2024 + 15 * 3_600_000 + 250,
            ),
            ("2024-01-31T16:00:00+01:00", JAN_31_2024 + 15 * 3_600_000),
            ("2024-01-31 16:00:00+01:00", JAN_31_2024 + 15 * 3_600_000),
            ("1706659200", JAN_31_2024),
            ("1706659200000", JAN_31_2024),
            ("1706659200.5", JAN_31_2024 + 500),
            (" 2024-01-31 ", JAN_31_2024),
        ] {
            assert_eq!(parse_timestamp(text), Ok(ms), "{text}");
        }
    }

    #[test]
    fn says_what_it_reads_when_it_cannot() {
        for text in ["", "yesterday", "2024-13-01", "31/01/2024", "-5", "NaN"] {
            let error = parse_timestamp(text).unwrap_err();
            assert!(!error.is_empty(), "{text}");
        }
        assert!(parse_timestamp("soon").unwrap_err().contains("ISO date"));
    }

    #[test]
    fn formats_round_trip() {
        assert_eq!(format_timestamp(JAN_31_2024), "2024-01-31T00:00:00Z");
        assert_eq!(
            format_timestamp(JAN_31_2024 + 5),
            "2024-01-31T00:00:00.005Z"
        );
        let ms = JAN_31_2024 + 15 * 3_600_000;
        assert_eq!(parse_timestamp(&format_timestamp(ms)), Ok(ms));
    }
}
