use super::warmup::{WarmUp, bars};
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;

/// Linearly weighted moving average, as TA-Lib's `WMA`: the newest of the
/// last `period` values weighs `period`, the oldest 1, divided by the sum of
/// the weights `period × (period + 1) / 2`. O(1) per value: it keeps the
/// weighted sum and the plain sum and shifts one by the other, in TA-Lib's
/// order of operations.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Wma {
    period: usize,
    window: VecDeque<f64>,
    /// Σ weight × value over the window, weights 1..=period.
    weighted: f64,
    /// Σ value over the window.
    plain: f64,
    last: Option<f64>,
}

impl Wma {
    /// A weighted average over `period` values; `0` counts as 1.
    pub fn new(period: usize) -> Self {
        let period = period.max(1);
        Self {
            period,
            window: VecDeque::with_capacity(period + 1),
            weighted: 0.0,
            plain: 0.0,
            last: None,
        }
    }

    /// Adds a value; returns the average once `period` values were seen.
    pub fn update(&mut self, x: f64) -> Option<f64> {
        self.window.push_back(x);
        let n = self.period as f64;
        if self.window.len() < self.period {
            self.plain += x;
            self.weighted += x * self.window.len() as f64;
            return None;
        }
        self.plain += x;
        if self.window.len() > self.period
            && let Some(old) = self.window.pop_front()
        {
            self.plain -= old;
        }
        self.weighted += x * n;
        let divider = (self.period * (self.period + 1) / 2) as f64;
        self.last = Some(self.weighted / divider);
        // Every weight drops by one for the next value; the oldest falls to 0.
        self.weighted -= self.plain;
        self.last
    }

    reading!(last);

    /// The window length in values (`new(0)` reports 1).
    pub fn period(&self) -> usize {
        self.period
    }
}

impl WarmUp for Wma {
    fn warmup_bars(&self) -> u32 {
        bars(self.period)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weighs_the_newest_most() {
        let mut w = Wma::new(3);
        assert_eq!(w.update(1.0), None);
        assert_eq!(w.update(2.0), None);
        assert_eq!(w.update(3.0), Some((1.0 + 4.0 + 9.0) / 6.0));
        assert_eq!(w.update(6.0), Some((2.0 + 6.0 + 18.0) / 6.0));
        assert_eq!(w.update(0.0), Some((3.0 + 12.0 + 0.0) / 6.0));
        assert_eq!(w.warmup_bars(), 3);
    }
}
