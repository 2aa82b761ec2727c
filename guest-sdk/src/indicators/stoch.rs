use super::rolling::TaSma;
use super::warmup::{WarmUp, bars};
use super::{Highest, Lowest};
use serde::{Deserialize, Serialize};

/// One stochastic reading, both lines in 0..=100.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct StochValue {
    /// The (slow) %K line.
    pub k: f64,
    /// %D, the average of %K.
    pub d: f64,
}

/// The stochastic oscillator, as TA-Lib's `STOCH` with simple averages
/// (`slowk_matype = slowd_matype = SMA`): the raw ("fast") %K is `100 ×
/// (close − lowest low) / (highest high − lowest low)` over the last
/// `k_period` bars (0 when the range is 0), %K is its simple average over
/// `k_smooth` bars (1 gives the fast stochastic) and %D the simple average of
/// %K over `d_period`. TA-Lib's defaults are `Stochastic::new(5, 3, 3)`.
/// The first reading comes on bar `k_period + k_smooth + d_period − 2`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Stochastic {
    k_period: usize,
    highest: Highest,
    lowest: Lowest,
    k_avg: TaSma,
    d_avg: TaSma,
    last: Option<StochValue>,
}

impl Stochastic {
    /// %K over `k_period` bars smoothed over `k_smooth`, %D over `d_period`;
    /// periods of `0` count as 1.
    pub fn new(k_period: usize, k_smooth: usize, d_period: usize) -> Self {
        let k_period = k_period.max(1);
        Self {
            k_period,
            highest: Highest::new(k_period),
            lowest: Lowest::new(k_period),
            k_avg: TaSma::new(k_smooth),
            d_avg: TaSma::new(d_period),
            last: None,
        }
    }

    /// Adds a bar; returns %K and %D once both exist.
    pub fn update(&mut self, high: f64, low: f64, close: f64) -> Option<StochValue> {
        let hi = self.highest.update(high);
        let lo = self.lowest.update(low);
        let (Some(hi), Some(lo)) = (hi, lo) else {
            return None;
        };
        // TA-Lib's order of operations: divide the range by 100 first.
        let range = (hi - lo) / 100.0;
        let raw = if range != 0.0 {
            (close - lo) / range
        } else {
            0.0
        };
        let k = self.k_avg.update(raw)?;
        if let Some(d) = self.d_avg.update(k) {
            self.last = Some(StochValue { k, d });
        }
        self.last
    }

    /// The current reading without adding a bar; `None` during warm-up.
    pub fn value(&self) -> Option<StochValue> {
        self.last
    }

    /// `true` once it gives readings.
    pub fn is_ready(&self) -> bool {
        self.last.is_some()
    }

    /// `(k_period, k_smooth, d_period)`, each at least 1.
    pub fn periods(&self) -> (usize, usize, usize) {
        (self.k_period, self.k_avg.period(), self.d_avg.period())
    }
}

impl WarmUp for Stochastic {
    fn warmup_bars(&self) -> u32 {
        let (k, s, d) = self.periods();
        bars(k + s + d - 2)
    }
}

/// Williams %R, as TA-Lib's `WILLR`: `−100 × (highest high − close) /
/// (highest high − lowest low)` over the last `period` bars, in −100..=0
/// (0 at the top of the range; 0 also when the range is 0). The first value
/// comes on bar `period`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WilliamsR {
    period: usize,
    highest: Highest,
    lowest: Lowest,
    last: Option<f64>,
}

impl WilliamsR {
    /// %R over `period` bars (14 is the classic choice); `0` counts as 1.
    pub fn new(period: usize) -> Self {
        let period = period.max(1);
        Self {
            period,
            highest: Highest::new(period),
            lowest: Lowest::new(period),
            last: None,
        }
    }

    /// Adds a bar; returns %R once `period` bars were seen.
    pub fn update(&mut self, high: f64, low: f64, close: f64) -> Option<f64> {
        let hi = self.highest.update(high);
        let lo = self.lowest.update(low);
        if let (Some(hi), Some(lo)) = (hi, lo) {
            let range = (hi - lo) / -100.0;
            self.last = Some(if range != 0.0 {
                (hi - close) / range
            } else {
                0.0
            });
        }
        self.last
    }

    reading!(last);

    /// The window length in bars (`new(0)` reports 1).
    pub fn period(&self) -> usize {
        self.period
    }
}

impl WarmUp for WilliamsR {
    fn warmup_bars(&self) -> u32 {
        bars(self.period)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn position_in_the_range() {
        let mut w = WilliamsR::new(2);
        assert_eq!(w.update(10.0, 8.0, 9.0), None);
        assert_eq!(w.update(12.0, 9.0, 12.0), Some(0.0));
        let r = w.update(11.0, 10.0, 10.0).unwrap();
        assert!((r + 200.0 / 3.0).abs() < 1e-12, "{r}");
        let mut s = Stochastic::new(2, 1, 2);
        assert_eq!(s.update(10.0, 8.0, 9.0), None);
        assert_eq!(s.update(12.0, 8.0, 12.0), None); // raw %K 100, no %D yet
        let v = s.update(12.0, 10.0, 10.0).unwrap(); // raw %K 50
        assert_eq!((v.k, v.d), (50.0, 75.0));
        let mut flat = WilliamsR::new(1);
        assert_eq!(flat.update(5.0, 5.0, 5.0), Some(0.0));
        assert_eq!(
            (s.warmup_bars(), Stochastic::new(5, 3, 3).warmup_bars()),
            (3, 9)
        );
    }
}
