use super::warmup::{WarmUp, bars};
use serde::{Deserialize, Serialize};

/// Exponential moving average with `alpha = 2 / (period + 1)`, seeded with the
/// simple average of the first `period` values (the usual charting convention),
/// in the values' own unit.
///
/// Each value is built from the one before, so a NaN or infinite input makes
/// every later value NaN (or infinite): skip such bars first (see
/// [`crate::checks::finite_prices`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Ema {
    period: usize,
    alpha: f64,
    seen: usize,
    seed_sum: f64,
    value: Option<f64>,
}

impl Ema {
    /// An average over about `period` values; `0` counts as 1 (then it just
    /// follows the input).
    pub fn new(period: usize) -> Self {
        let period = period.max(1);
        Self {
            period,
            alpha: 2.0 / (period as f64 + 1.0),
            seen: 0,
            seed_sum: 0.0,
            value: None,
        }
    }

    /// Adds a value; returns the average once `period` values were seen
    /// (`None` for the first `period - 1` calls, the warm-up).
    pub fn update(&mut self, x: f64) -> Option<f64> {
        self.seen += 1;
        self.value = match self.value {
            Some(prev) => Some(prev + self.alpha * (x - prev)),
            None => {
                self.seed_sum += x;
                (self.seen == self.period).then(|| self.seed_sum / self.period as f64)
            }
        };
        self.value
    }

    /// The current average without adding a value; `None` during warm-up.
    pub fn value(&self) -> Option<f64> {
        self.value
    }

    /// `true` once it gives values (`period` values were seen).
    pub fn is_ready(&self) -> bool {
        self.value.is_some()
    }

    /// The period (`new(0)` reports 1); `alpha` is `2 / (period + 1)`.
    pub fn period(&self) -> usize {
        self.period
    }
}

impl WarmUp for Ema {
    fn warmup_bars(&self) -> u32 {
        bars(self.period)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeds_with_sma_then_smooths() {
        let mut ema = Ema::new(3);
        assert_eq!(ema.update(2.0), None);
        assert_eq!(ema.update(4.0), None);
        assert_eq!(ema.update(6.0), Some(4.0));
        // alpha = 0.5: 4 + 0.5 * (8 - 4)
        assert_eq!(ema.update(8.0), Some(6.0));
        assert_eq!(
            (ema.period(), ema.is_ready(), ema.warmup_bars()),
            (3, true, 3)
        );
    }

    // The type's docs promise this; a fix that recovers must update them.
    #[test]
    fn a_nan_poisons_every_later_value() {
        let mut ema = Ema::new(2);
        ema.update(1.0);
        ema.update(f64::NAN);
        for x in [1.0, 2.0, 3.0] {
            assert!(ema.update(x).is_some_and(f64::is_nan));
        }
    }
}
