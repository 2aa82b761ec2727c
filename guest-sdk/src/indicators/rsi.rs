use super::warmup::{WarmUp, bars};
use serde::{Deserialize, Serialize};

/// Relative Strength Index with Wilder's smoothing, in 0..=100: 100 when the
/// period only rose, 0 when it only fell, 50 when it did not move at all.
///
/// Fed closes, it needs `period + 1` of them (`period` changes) before the
/// first value. A NaN or infinite close poisons its averages: from the close
/// after it at the latest, every value is NaN (an infinite close itself may
/// read 100 or 0). Skip such bars first (see
/// [`crate::checks::finite_prices`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rsi {
    period: usize,
    prev: Option<f64>,
    seen: usize,
    avg_gain: f64,
    avg_loss: f64,
}

impl Rsi {
    /// An RSI over `period` changes (14 is the classic choice); `0` counts
    /// as 1.
    pub fn new(period: usize) -> Self {
        Self {
            period: period.max(1),
            prev: None,
            seen: 0,
            avg_gain: 0.0,
            avg_loss: 0.0,
        }
    }

    /// Adds a close; returns the RSI once `period` changes were seen
    /// (`None` for the first `period` calls, the warm-up).
    pub fn update(&mut self, close: f64) -> Option<f64> {
        let prev = self.prev.replace(close)?;
        let change = close - prev;
        let (gain, loss) = if change > 0.0 {
            (change, 0.0)
        } else {
            (0.0, -change)
        };
        self.seen += 1;
        let n = self.period as f64;
        if self.seen <= self.period {
            // Seed: plain average of the first `period` changes.
            self.avg_gain += gain / n;
            self.avg_loss += loss / n;
        } else {
            self.avg_gain = (self.avg_gain * (n - 1.0) + gain) / n;
            self.avg_loss = (self.avg_loss * (n - 1.0) + loss) / n;
        }
        self.value()
    }

    /// The current RSI without adding a close; `None` during warm-up.
    pub fn value(&self) -> Option<f64> {
        if self.seen < self.period {
            return None;
        }
        if self.avg_loss == 0.0 {
            return Some(if self.avg_gain == 0.0 { 50.0 } else { 100.0 });
        }
        let rs = self.avg_gain / self.avg_loss;
        Some(100.0 - 100.0 / (1.0 + rs))
    }

    /// `true` once it gives values (`period + 1` closes were seen).
    pub fn is_ready(&self) -> bool {
        self.seen >= self.period
    }

    /// The period in price changes (`new(0)` reports 1).
    pub fn period(&self) -> usize {
        self.period
    }
}

impl WarmUp for Rsi {
    fn warmup_bars(&self) -> u32 {
        bars(self.period + 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_gains_is_100_only_losses_is_0() {
        let mut up = Rsi::new(3);
        let mut down = Rsi::new(3);
        for i in 0..5 {
            up.update(i as f64);
            down.update(-(i as f64));
        }
        assert_eq!(up.value(), Some(100.0));
        assert_eq!(down.value(), Some(0.0));
    }

    #[test]
    fn balanced_moves_give_50_and_warmup_gives_none() {
        let mut rsi = Rsi::new(2);
        assert_eq!(rsi.update(10.0), None);
        assert_eq!(rsi.update(11.0), None);
        assert!(!rsi.is_ready());
        assert_eq!(rsi.update(10.0), Some(50.0));
        assert_eq!(
            (rsi.period(), rsi.is_ready(), rsi.warmup_bars()),
            (2, true, 3)
        );
    }

    // The type's docs promise this; a fix that recovers must update them.
    #[test]
    fn a_non_finite_close_poisons_every_value_from_the_next_close_on() {
        for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
            let mut rsi = Rsi::new(2);
            for x in [10.0, 11.0, 10.0] {
                rsi.update(x);
            }
            rsi.update(bad);
            for x in [10.0, 11.0, 12.0, 11.0] {
                assert!(rsi.update(x).is_some_and(f64::is_nan), "after {bad}");
            }
        }
    }
}
