use super::warmup::{WarmUp, bars};
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;

/// The last `period + 1` values: the newest and the one `period` back.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Lag {
    period: usize,
    window: VecDeque<f64>,
}

impl Lag {
    fn new(period: usize) -> Self {
        let period = period.max(1);
        Self {
            period,
            window: VecDeque::with_capacity(period + 2),
        }
    }

    /// Adds `x`; the value `period` values before it, once there is one.
    fn update(&mut self, x: f64) -> Option<f64> {
        self.window.push_back(x);
        if self.window.len() > self.period + 1 {
            self.window.pop_front();
        }
        (self.window.len() == self.period + 1)
            .then(|| self.window.front().copied())
            .flatten()
    }
}

/// Rate of change in percent, as TA-Lib's `ROC`: `(x / x[period back] − 1)
/// × 100`, and 0 when the old value is 0. The first value comes on value
/// `period + 1`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Roc {
    lag: Lag,
    last: Option<f64>,
}

impl Roc {
    /// The change over `period` values (10 is TA-Lib's default); `0` counts
    /// as 1.
    pub fn new(period: usize) -> Self {
        Self {
            lag: Lag::new(period),
            last: None,
        }
    }

    /// Adds a value; returns the rate of change once `period + 1` values
    /// were seen.
    pub fn update(&mut self, x: f64) -> Option<f64> {
        if let Some(old) = self.lag.update(x) {
            self.last = Some(if old != 0.0 {
                (x / old - 1.0) * 100.0
            } else {
                0.0
            });
        }
        self.last
    }

    reading!(last);

    /// How many values back it compares with (`new(0)` reports 1).
    pub fn period(&self) -> usize {
        self.lag.period
    }
}

impl WarmUp for Roc {
    fn warmup_bars(&self) -> u32 {
        bars(self.period() + 1)
    }
}

/// Momentum, as TA-Lib's `MOM`: `x − x[period back]`, in the values' own
/// unit. The first value comes on value `period + 1`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Momentum {
    lag: Lag,
    last: Option<f64>,
}

impl Momentum {
    /// The change over `period` values (10 is TA-Lib's default); `0` counts
    /// as 1.
    pub fn new(period: usize) -> Self {
        Self {
            lag: Lag::new(period),
            last: None,
        }
    }

    /// Adds a value; returns the momentum once `period + 1` values were seen.
    pub fn update(&mut self, x: f64) -> Option<f64> {
        if let Some(old) = self.lag.update(x) {
            self.last = Some(x - old);
        }
        self.last
    }

    reading!(last);

    /// How many values back it compares with (`new(0)` reports 1).
    pub fn period(&self) -> usize {
        self.lag.period
    }
}

impl WarmUp for Momentum {
    fn warmup_bars(&self) -> u32 {
        bars(self.period() + 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compares_with_the_value_period_back() {
        let mut roc = Roc::new(2);
        let mut mom = Momentum::new(2);
        for x in [50.0, 80.0] {
            assert_eq!((roc.update(x), mom.update(x)), (None, None));
        }
        assert_eq!(
            (roc.update(55.0), mom.update(55.0)),
            (Some(10.000000000000009), Some(5.0))
        );
        assert_eq!(
            (roc.update(40.0), mom.update(40.0)),
            (Some(-50.0), Some(-40.0))
        );
        let mut zero = Roc::new(1);
        zero.update(0.0);
        assert_eq!(zero.update(3.0), Some(0.0));
        assert_eq!((roc.warmup_bars(), mom.period()), (3, 2));
    }
}
