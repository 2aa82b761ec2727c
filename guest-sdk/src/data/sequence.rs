//! Turns externally supplied OHLCV rows into the runtime's bars: checks the
//! prices make sense, that each symbol's time moves forward, and numbers the
//! bars in arrival order.

use crate::Bar;

/// One row as a file or a client gave it, before it is numbered.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RawBar {
    /// Index into the feed's symbols.
    pub symbol: u32,
    /// Open time, ms since the Unix epoch (UTC); must be after the symbol's
    /// previous bar.
    pub ts_ms: i64,
    /// Opening price; finite and above 0, between `low` and `high`.
    pub open: f64,
    /// Highest price; at least `open`, `close` and `low`.
    pub high: f64,
    /// Lowest price; at most `open`, `close` and `high`.
    pub low: f64,
    /// Closing price; finite and above 0, between `low` and `high`.
    pub close: f64,
    /// Traded volume; finite and not negative.
    pub volume: f64,
}

/// Numbers bars and keeps each symbol's last time.
#[derive(Debug, Clone)]
pub struct Sequencer {
    next_seq: u64,
    last_ts: Vec<Option<i64>>,
}

impl Sequencer {
    /// A sequencer for symbol indices `0..symbols` that numbers from 0 and
    /// has seen no bar of any symbol yet.
    pub fn new(symbols: usize) -> Self {
        Self {
            next_seq: 0,
            last_ts: vec![None; symbols],
        }
    }

    /// The bar, numbered, or why it is refused (nothing is consumed then).
    pub fn admit(&mut self, raw: RawBar, symbols: &[String]) -> Result<Bar, String> {
        check_prices(&raw)?;
        let name = symbols.get(raw.symbol as usize).map_or("?", String::as_str);
        let last = self
            .last_ts
            .get_mut(raw.symbol as usize)
            .ok_or_else(|| format!("symbol index {} is not in the feed", raw.symbol))?;
        if let Some(previous) = *last
            && raw.ts_ms <= previous
        {
            return Err(format!(
                "the time {} of {name} is not after its previous bar's {}; bars must be in time order without duplicates",
                super::time::format_timestamp(raw.ts_ms),
                super::time::format_timestamp(previous)
            ));
        }
        *last = Some(raw.ts_ms);
        let seq = self.next_seq;
        self.next_seq += 1;
        Ok(Bar {
            seq,
            ts_ms: raw.ts_ms,
            symbol: raw.symbol,
            open: raw.open,
            high: raw.high,
            low: raw.low,
            close: raw.close,
            volume: raw.volume,
        })
    }
}

/// Finite positive prices, a high at the top and a low at the bottom of the
/// bar, a volume that is not negative.
fn check_prices(raw: &RawBar) -> Result<(), String> {
    for (name, value) in [
        ("open", raw.open),
        ("high", raw.high),
        ("low", raw.low),
        ("close", raw.close),
    ] {
        if !value.is_finite() || value <= 0.0 {
            return Err(format!(
                "{name} is {value}; prices must be finite numbers above 0"
            ));
        }
    }
    if !raw.volume.is_finite() || raw.volume < 0.0 {
        return Err(format!(
            "volume is {}; it must be a finite number of at least 0",
            raw.volume
        ));
    }
    let top = raw.open.max(raw.close).max(raw.low);
    let bottom = raw.open.min(raw.close).min(raw.high);
    if raw.high < top || raw.low > bottom {
        return Err(format!(
            "high {} and low {} do not contain open {} and close {}",
            raw.high, raw.low, raw.open, raw.close
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(symbol: u32, ts_ms: i64) -> RawBar {
        RawBar {
            symbol,
            ts_ms,
            open: 10.0,
            high: 11.0,
            low: 9.0,
            close: 10.5,
            volume: 1.0,
        }
    }

    #[test]
    fn numbers_bars_and_keeps_time_per_symbol() {
        let symbols = ["A".to_owned(), "B".to_owned()];
        let mut seq = Sequencer::new(2);
        assert_eq!(seq.admit(raw(0, 1000), &symbols).unwrap().seq, 0);
        assert_eq!(seq.admit(raw(1, 1000), &symbols).unwrap().seq, 1);
        let error = seq.admit(raw(0, 1000), &symbols).unwrap_err();
        assert!(error.contains("not after its previous bar"), "{error}");
        assert_eq!(
            seq.admit(raw(0, 2000), &symbols).unwrap().seq,
            2,
            "a refused bar takes no number"
        );
        assert!(seq.admit(raw(2, 3000), &symbols).is_err());
    }

    #[test]
    fn refuses_impossible_prices() {
        let symbols = ["A".to_owned()];
        let mut seq = Sequencer::new(1);
        for (edit, expect) in [
            (
                RawBar {
                    open: f64::NAN,
                    ..raw(0, 1)
                },
                "open is NaN",
            ),
            (
                RawBar {
                    close: 0.0,
                    ..raw(0, 1)
                },
                "close is 0",
            ),
            (
                RawBar {
                    high: 10.2,
                    ..raw(0, 1)
                },
                "do not contain",
            ),
            (
                RawBar {
                    low: 10.2,
                    ..raw(0, 1)
                },
                "do not contain",
            ),
            (
                RawBar {
                    volume: -1.0,
                    ..raw(0, 1)
                },
                "volume is -1",
            ),
        ] {
            let error = seq.admit(edit, &symbols).unwrap_err();
            assert!(error.contains(expect), "{error}");
        }
    }
}
