//! Running window sums in TA-Lib's order of operations.
//!
//! TA-Lib adds the newest value, reads the total, then subtracts the oldest
//! (the existing [`super::Sma`] subtracts first): a running total's rounding
//! depends on that order, and with it the last bits of a variance computed as
//! `E[x²] − E[x]²`. Keeping TA-Lib's order makes those results equal to
//! TA-Lib's to the bit instead of to 1e-8.

use serde::{Deserialize, Serialize};
use std::collections::VecDeque;

/// The sum of the last `period` values and of their squares.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct RollingSums {
    period: usize,
    /// The values still to be subtracted: the last `period - 1` once full.
    window: VecDeque<f64>,
    total: f64,
    total_sq: f64,
}

/// Mean and mean square of one full window.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Moments {
    pub(crate) mean: f64,
    pub(crate) mean_sq: f64,
}

impl Moments {
    /// Population variance, `E[x²] − E[x]²`; a negative result of rounding
    /// (a flat window) reads 0.
    pub(crate) fn variance(self) -> f64 {
        let v = self.mean_sq - self.mean * self.mean;
        if v > 0.0 { v } else { 0.0 }
    }
}

impl RollingSums {
    pub(crate) fn new(period: usize) -> Self {
        let period = period.max(1);
        Self {
            period,
            window: VecDeque::with_capacity(period),
            total: 0.0,
            total_sq: 0.0,
        }
    }

    pub(crate) fn period(&self) -> usize {
        self.period
    }

    /// Adds `x`; the moments of the last `period` values once that many
    /// were seen.
    pub(crate) fn update(&mut self, x: f64) -> Option<Moments> {
        self.total += x;
        self.total_sq += x * x;
        self.window.push_back(x);
        if self.window.len() < self.period {
            return None;
        }
        let n = self.period as f64;
        let moments = Moments {
            mean: self.total / n,
            mean_sq: self.total_sq / n,
        };
        if let Some(old) = self.window.pop_front() {
            self.total -= old;
            self.total_sq -= old * old;
        }
        Some(moments)
    }
}

/// A simple moving average in TA-Lib's order (see the module docs), for
/// smoothing inside the indicators that TA-Lib smooths with its SMA.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct TaSma {
    sums: RollingSums,
    value: Option<f64>,
}

impl TaSma {
    pub(crate) fn new(period: usize) -> Self {
        Self {
            sums: RollingSums::new(period),
            value: None,
        }
    }

    pub(crate) fn period(&self) -> usize {
        self.sums.period()
    }

    pub(crate) fn update(&mut self, x: f64) -> Option<f64> {
        if let Some(m) = self.sums.update(x) {
            self.value = Some(m.mean);
        }
        self.value
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sums_the_window_and_clamps_a_flat_variance_to_zero() {
        let mut s = RollingSums::new(2);
        assert_eq!(s.update(1.0), None);
        let m = s.update(3.0).unwrap();
        assert_eq!((m.mean, m.mean_sq, m.variance()), (2.0, 5.0, 1.0));
        let m = s.update(3.0).unwrap();
        assert_eq!(m.variance(), 0.0);
        let mut avg = TaSma::new(3);
        let got: Vec<_> = [1.0, 2.0, 3.0, 4.0]
            .iter()
            .map(|&x| avg.update(x))
            .collect();
        assert_eq!(got, [None, None, Some(2.0), Some(3.0)]);
    }
}
