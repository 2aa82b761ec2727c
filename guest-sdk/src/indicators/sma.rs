use super::warmup::{WarmUp, bars};
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;

/// Simple moving average over the last `period` values, in the values' own
/// unit (feed closes, get a price).
///
/// It keeps a running sum, so a NaN or infinite value poisons it: every later
/// average is NaN (infinite while an infinity is in the window), even after
/// that value has left the window. Skip such bars first (see
/// [`crate::checks::finite_prices`]). The runtime's feeds never send one, so
/// this concerns values the strategy computes itself.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Sma {
    period: usize,
    window: VecDeque<f64>,
    sum: f64,
}

impl Sma {
    /// An average over `period` values; `0` counts as 1.
    pub fn new(period: usize) -> Self {
        let period = period.max(1);
        Self {
            period,
            window: VecDeque::with_capacity(period + 1),
            sum: 0.0,
        }
    }

    /// Adds a value; returns the average once `period` values were seen
    /// (`None` for the first `period - 1` calls, the warm-up).
    pub fn update(&mut self, value: f64) -> Option<f64> {
        self.window.push_back(value);
        self.sum += value;
        if self.window.len() > self.period
            && let Some(old) = self.window.pop_front()
        {
            self.sum -= old;
        }
        self.value()
    }

    /// The current average without adding a value; `None` during warm-up.
    pub fn value(&self) -> Option<f64> {
        (self.window.len() == self.period).then(|| self.sum / self.period as f64)
    }

    /// The window length in values (`new(0)` reports 1).
    pub fn period(&self) -> usize {
        self.period
    }

    /// The window length in values; the same as [`Sma::period`].
    pub fn window(&self) -> usize {
        self.period
    }

    /// `true` once it gives values (`period` values were seen).
    pub fn is_ready(&self) -> bool {
        self.window.len() == self.period
    }
}

impl WarmUp for Sma {
    fn warmup_bars(&self) -> u32 {
        bars(self.period)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn averages_the_last_period_values() {
        let mut sma = Sma::new(3);
        assert_eq!(sma.update(1.0), None);
        assert_eq!(sma.update(2.0), None);
        assert_eq!(sma.update(3.0), Some(2.0));
        assert_eq!(sma.update(7.0), Some(4.0));
    }

    // The type's docs promise this; a fix that recovers must update them.
    #[test]
    fn a_nan_or_infinity_poisons_every_later_average() {
        let mut nan = Sma::new(2);
        let mut inf = Sma::new(2);
        nan.update(f64::NAN);
        assert_eq!(inf.update(f64::INFINITY), None);
        assert_eq!(inf.update(1.0), Some(f64::INFINITY));
        for x in [1.0, 2.0, 3.0] {
            assert!(nan.update(x).is_some_and(f64::is_nan));
            assert!(inf.update(x).is_some_and(f64::is_nan));
        }
        assert_eq!(Sma::new(0).period(), 1);
        assert_eq!(
            (nan.window(), nan.is_ready(), nan.warmup_bars()),
            (2, true, 2)
        );
    }
}
