//! The line feed's format: one JSON object per line,
//! `{"symbol":"BTCUSD","ts":"2024-01-31T15:00:00Z","open":1,"high":2,"low":0.5,"close":1.5,"volume":10}`.
//! `ts` is an ISO time or epoch milliseconds; `volume` is optional.

use super::sequence::RawBar;
use serde::Deserialize;

/// A bar as a client sends it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LineBar {
    /// The symbol's name; it must be one of `feed.symbols`.
    pub symbol: String,
    /// The bar's open time.
    pub ts: TimeValue,
    /// Opening price; like the others, finite and above 0 (checked by the
    /// [`Sequencer`](super::Sequencer), not here).
    pub open: f64,
    /// Highest price of the bar.
    pub high: f64,
    /// Lowest price of the bar.
    pub low: f64,
    /// Closing price.
    pub close: f64,
    /// Traded volume; 0 when left out.
    #[serde(default)]
    pub volume: f64,
}

/// `ts` as a string (any time [`super::parse_timestamp`] reads) or a number (epoch ms).
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum TimeValue {
    /// Milliseconds since the Unix epoch (UTC).
    Millis(i64),
    /// An ISO 8601 / RFC 3339 time or another layout `parse_timestamp` reads.
    Text(String),
}

/// Parses one line into a raw bar of one of `symbols`.
pub fn parse_line(line: &str, symbols: &[String]) -> Result<RawBar, String> {
    let bar: LineBar = serde_json::from_str(line).map_err(|e| {
        format!(
            "not a bar: {e}; send one JSON object per line like {{\"symbol\":\"{}\",\"ts\":\"2024-01-31T15:00:00Z\",\"open\":1,\"high\":2,\"low\":0.5,\"close\":1.5,\"volume\":10}}",
            symbols.first().map_or("BTCUSD", String::as_str)
        )
    })?;
    let symbol = symbols
        .iter()
        .position(|s| *s == bar.symbol)
        .ok_or_else(|| {
            format!(
                "symbol `{}` is not in the feed's symbols [{}]",
                bar.symbol,
                symbols.join(", ")
            )
        })? as u32;
    let ts_ms = match bar.ts {
        TimeValue::Millis(ms) => ms,
        TimeValue::Text(text) => super::parse_timestamp(&text)?,
    };
    Ok(RawBar {
        symbol,
        ts_ms,
        open: bar.open,
        high: bar.high,
        low: bar.low,
        close: bar.close,
        volume: bar.volume,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn symbols() -> Vec<String> {
        vec!["BTCUSD".into(), "ETHUSD".into()]
    }

    #[test]
    fn parses_iso_and_epoch_times() {
        let bar = parse_line(
            r#"{"symbol":"ETHUSD","ts":"2024-01-31T00:00:00Z","open":1,"high":2,"low":0.5,"close":1.5,"volume":3}"#,
            &symbols(),
        )
        .unwrap();
        assert_eq!(
            (bar.symbol, bar.ts_ms, bar.volume),
            (1, 1_706_659_200_000, 3.0)
        );
        let bar = parse_line(
            r#"{"symbol":"BTCUSD","ts":1706659200000,"open":1,"high":2,"low":0.5,"close":1.5}"#,
            &symbols(),
        )
        .unwrap();
        assert_eq!(
            (bar.symbol, bar.ts_ms, bar.volume),
            (0, 1_706_659_200_000, 0.0)
        );
    }

    #[test]
    fn bad_lines_say_what_is_wrong() {
        for (line, expect) in [
            ("hello", "not a bar"),
            (r#"{"symbol":"BTCUSD"}"#, "missing field"),
            (
                r#"{"symbol":"DOGE","ts":1,"open":1,"high":1,"low":1,"close":1}"#,
                "`DOGE` is not in",
            ),
            (
                r#"{"symbol":"BTCUSD","ts":"soon","open":1,"high":1,"low":1,"close":1}"#,
                "not a time",
            ),
            (
                r#"{"symbol":"BTCUSD","ts":1,"open":1,"high":1,"low":1,"close":1,"extra":2}"#,
                "unknown field",
            ),
        ] {
            let error = parse_line(line, &symbols()).unwrap_err();
            assert!(error.contains(expect), "{line}: {error}");
        }
    }
}
