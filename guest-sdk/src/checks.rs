//! Checks most strategies make, with messages that say what to do: on their
//! parameters (in [`crate::Strategy::new`]), on each bar before it reaches
//! the indicators (in [`crate::Strategy::on_bar`]), and on a snapshot's state
//! before taking it over (in [`crate::Strategy::restore_state`]; a
//! [`crate::Carried`] state makes the three snapshot checks itself).
//!
//! They compare and format only, so they behave the same in Wasm and natively.
//!
//! ```
//! use sandbar_guest::{ParamError, checks};
//!
//! fn validate(period: u32, size: f64) -> Result<(), ParamError> {
//!     checks::min_period("period", period, 1, "the default is 20")?;
//!     checks::max_period("period", period, 10_000, "use a coarser bar size")?;
//!     checks::positive("size", size, "this strategy only goes long")
//! }
//! assert!(validate(20, 1.0).is_ok());
//! assert_eq!(
//!     validate(0, 1.0).unwrap_err().to_string(),
//!     "parameter `period`: must be at least 1 (got 0); the default is 20"
//! );
//! ```

use crate::{Bar, ParamError, PerSymbol, log};
use std::fmt::Display;

/// `message`, then `; hint` unless `hint` is empty.
fn with_hint(message: String, hint: &str) -> String {
    if hint.is_empty() {
        message
    } else {
        format!("{message}; {hint}")
    }
}

/// Refuses a lookback `value` below `min` bars:
/// "must be at least {min} (got {value}); {hint}" (an empty `hint` adds nothing).
pub fn min_period(name: &str, value: u32, min: u32, hint: &str) -> Result<(), ParamError> {
    if value < min {
        return Err(ParamError::invalid(
            name,
            with_hint(format!("must be at least {min} (got {value})"), hint),
        ));
    }
    Ok(())
}

/// Refuses a lookback `value` above `max` bars (windows live in the guest's
/// capped memory): "must be at most {max} bars (got {value}); {hint}" (an
/// empty `hint` adds nothing).
pub fn max_period(name: &str, value: u32, max: u32, hint: &str) -> Result<(), ParamError> {
    if value > max {
        return Err(ParamError::invalid(
            name,
            with_hint(format!("must be at most {max} bars (got {value})"), hint),
        ));
    }
    Ok(())
}

/// [`min_period`] then [`max_period`], with the same `hint`: a lookback of
/// `min..=max` bars.
///
/// ```
/// let err = sandbar_guest::checks::period_between("period", 1, 2, 500, "the default is 20");
/// assert_eq!(
///     err.unwrap_err().to_string(),
///     "parameter `period`: must be at least 2 (got 1); the default is 20"
/// );
/// ```
pub fn period_between(
    name: &str,
    value: u32,
    min: u32,
    max: u32,
    hint: &str,
) -> Result<(), ParamError> {
    min_period(name, value, min, hint)?;
    max_period(name, value, max, hint)
}

/// Refuses a `value` that is not a finite number above 0 (an order size):
/// "must be a number greater than 0 (got {value}); {hint}" (an empty `hint`
/// adds nothing).
pub fn positive(name: &str, value: f64, hint: &str) -> Result<(), ParamError> {
    if value <= 0.0 || !value.is_finite() {
        return Err(ParamError::invalid(
            name,
            with_hint(
                format!("must be a number greater than 0 (got {value})"),
                hint,
            ),
        ));
    }
    Ok(())
}

/// `true` when every one of `prices` (read from `bar`) is finite. Otherwise
/// logs the warning "bar {seq} has a non-finite {what}; ignored" and returns
/// `false`: skip the bar, so a NaN or infinity never reaches (and poisons) an
/// indicator.
///
/// ```
/// # use sandbar_guest::{Bar, checks};
/// fn on_bar(bar: &Bar) -> Option<f64> {
///     if !checks::finite_prices(bar, "close", &[bar.close]) {
///         return None; // logged "bar 3 has a non-finite close; ignored"
///     }
///     Some(bar.close) // feed the indicators
/// }
/// let bar = Bar { seq: 3, ts_ms: 0, symbol: 0, open: 1.0, high: 1.0, low: 1.0, close: f64::NAN, volume: 1.0 };
/// assert_eq!(on_bar(&bar), None);
/// ```
pub fn finite_prices(bar: &Bar, what: &str, prices: &[f64]) -> bool {
    if prices.iter().all(|p| p.is_finite()) {
        return true;
    }
    log::warn(&format!("bar {} has a non-finite {what}; ignored", bar.seq));
    false
}

/// Refuses a snapshot taken for other `symbols` than this instance trades
/// (`current`): per-symbol state is kept by index, so it would land on the
/// wrong symbols.
pub fn snapshot_symbols(symbols: &[String], current: &[String]) -> Result<(), String> {
    if symbols != current {
        return Err(format!(
            "snapshot was taken for symbols {symbols:?}, this instance trades {current:?}; \
             warm up from history instead"
        ));
    }
    Ok(())
}

/// Refuses a snapshot taken with other values of the parameters that shape
/// the state (lookbacks): each entry is `(name, in the snapshot, in this
/// instance)`. `lost` says what does not carry over, for example
/// `"its averages do not carry over"`.
///
/// ```
/// let err = sandbar_guest::checks::snapshot_params(
///     &[("fast", 2, 2), ("slow", 4, 5)],
///     "its averages do not carry over",
/// )
/// .unwrap_err();
/// assert_eq!(
///     err,
///     "snapshot was taken with fast=2, slow=4, this instance runs fast=2, slow=5; \
///      its averages do not carry over, warm up from history instead"
/// );
/// ```
pub fn snapshot_params<T: PartialEq + Display>(
    params: &[(&str, T, T)],
    lost: &str,
) -> Result<(), String> {
    if params.iter().all(|(_, taken, current)| taken == current) {
        return Ok(());
    }
    let taken: Vec<String> = params.iter().map(|(n, t, _)| format!("{n}={t}")).collect();
    let current: Vec<String> = params.iter().map(|(n, _, c)| format!("{n}={c}")).collect();
    Err(format!(
        "snapshot was taken with {}, this instance runs {}; {lost}, warm up from history instead",
        taken.join(", "),
        current.join(", ")
    ))
}

/// Refuses a snapshot whose per-symbol state does not hold one entry for
/// each of its `symbols` (a corrupt or hand-made snapshot).
pub fn snapshot_per_symbol<T>(per_symbol: &PerSymbol<T>, symbols: &[String]) -> Result<(), String> {
    if per_symbol.len() != symbols.len() {
        return Err(format!(
            "snapshot is inconsistent: {} symbol states for {} symbols",
            per_symbol.len(),
            symbols.len()
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::LogLevel;

    fn reason(result: Result<(), ParamError>) -> String {
        result.unwrap_err().to_string()
    }

    #[test]
    fn periods_are_refused_outside_their_range_with_the_hint() {
        assert_eq!(min_period("p", 1, 1, "h"), Ok(()));
        assert_eq!(max_period("p", 10, 10, "h"), Ok(()));
        assert_eq!(
            reason(min_period("fast", 0, 1, "the default is 10")),
            "parameter `fast`: must be at least 1 (got 0); the default is 10"
        );
        assert_eq!(
            reason(min_period("period", 1, 2, "")),
            "parameter `period`: must be at least 2 (got 1)"
        );
        assert_eq!(
            reason(max_period("slow", 11, 10, "use a coarser bar size")),
            "parameter `slow`: must be at most 10 bars (got 11); use a coarser bar size"
        );
        assert_eq!(
            reason(max_period("period", u32::MAX, 10, "")),
            "parameter `period`: must be at most 10 bars (got 4294967295)"
        );
    }

    #[test]
    fn sizes_must_be_finite_and_above_zero() {
        assert_eq!(positive("size", 0.5, "h"), Ok(()));
        assert_eq!(
            reason(positive("size", 0.0, "go short instead")),
            "parameter `size`: must be a number greater than 0 (got 0); go short instead"
        );
        assert!(reason(positive("size", -1.5, "")).ends_with("(got -1.5)"));
        assert!(positive("size", f64::INFINITY, "").is_err());
        assert!(positive("size", f64::NAN, "").is_err());
    }

    #[test]
    fn non_finite_prices_are_reported_once_per_bar() {
        crate::log::native::take();
        let bar = Bar {
            seq: 7,
            ts_ms: 0,
            symbol: 0,
            open: 1.0,
            high: f64::INFINITY,
            low: f64::NAN,
            close: 1.0,
            volume: 1.0,
        };
        assert!(finite_prices(&bar, "close", &[bar.close, bar.open]));
        assert!(finite_prices(&bar, "nothing", &[]));
        assert!(!finite_prices(&bar, "price", &[bar.high, bar.low]));
        assert_eq!(
            crate::log::native::take(),
            [(
                LogLevel::Warn,
                "bar 7 has a non-finite price; ignored".to_owned()
            )]
        );
    }

    #[test]
    fn snapshots_must_match_symbols_params_and_hold_every_symbol() {
        let a = vec!["A".to_owned()];
        let ab = vec!["A".to_owned(), "B".to_owned()];
        assert_eq!(snapshot_symbols(&ab, &ab), Ok(()));
        assert_eq!(
            snapshot_symbols(&a, &ab).unwrap_err(),
            "snapshot was taken for symbols [\"A\"], this instance trades [\"A\", \"B\"]; \
             warm up from history instead"
        );

        assert_eq!(snapshot_params(&[("period", 3, 3)], "x"), Ok(()));
        assert_eq!(
            snapshot_params(&[("period", 3u32, 4)], "its RSI does not carry over").unwrap_err(),
            "snapshot was taken with period=3, this instance runs period=4; \
             its RSI does not carry over, warm up from history instead"
        );

        let two = PerSymbol::new(2, || 0u8);
        assert_eq!(snapshot_per_symbol(&two, &ab), Ok(()));
        assert_eq!(
            snapshot_per_symbol(&two, &a).unwrap_err(),
            "snapshot is inconsistent: 2 symbol states for 1 symbols"
        );
    }
}
