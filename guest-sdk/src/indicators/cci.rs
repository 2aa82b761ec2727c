use super::warmup::{WarmUp, bars};
use serde::{Deserialize, Serialize};

/// Commodity Channel Index, as TA-Lib's `CCI`: with the typical price `tp =
/// (high + low + close) / 3`, `(tp − SMA(tp)) / (0.015 × mean absolute
/// deviation of tp from that SMA)` over the last `period` bars; 0 when either
/// the distance or the deviation is 0. The first value comes on bar `period`.
///
/// The mean deviation needs the whole window each bar: O(period) per bar.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cci {
    period: usize,
    /// A ring of typical prices; slot `i % period` holds the `i`-th, so sums
    /// run in TA-Lib's order (slot order, not age order).
    ring: Vec<f64>,
    seen: u64,
    last: Option<f64>,
}

impl Cci {
    /// A CCI over `period` bars (14 is TA-Lib's default, 20 Lambert's);
    /// `0` counts as 1.
    pub fn new(period: usize) -> Self {
        let period = period.max(1);
        Self {
            period,
            ring: Vec::with_capacity(period),
            seen: 0,
            last: None,
        }
    }

    /// Adds a bar; returns the CCI once `period` bars were seen.
    pub fn update(&mut self, high: f64, low: f64, close: f64) -> Option<f64> {
        let tp = (high + low + close) / 3.0;
        let slot = (self.seen % self.period as u64) as usize;
        if slot < self.ring.len() {
            self.ring[slot] = tp;
        } else {
            self.ring.push(tp);
        }
        self.seen += 1;
        if self.ring.len() < self.period {
            return None;
        }
        let n = self.period as f64;
        let mut avg = 0.0;
        for &v in &self.ring {
            avg += v;
        }
        avg /= n;
        let mut dev = 0.0;
        for &v in &self.ring {
            dev += (v - avg).abs();
        }
        let dist = tp - avg;
        self.last = Some(if dist != 0.0 && dev != 0.0 {
            dist / (0.015 * (dev / n))
        } else {
            0.0
        });
        self.last
    }

    reading!(last);

    /// The window length in bars (`new(0)` reports 1).
    pub fn period(&self) -> usize {
        self.period
    }
}

impl WarmUp for Cci {
    fn warmup_bars(&self) -> u32 {
        bars(self.period)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distance_from_the_mean_in_mean_deviations() {
        let mut c = Cci::new(3);
        assert_eq!(c.update(1.0, 1.0, 1.0), None);
        assert_eq!(c.update(2.0, 2.0, 2.0), None);
        // tp 1, 2, 3: mean 2, mean deviation 2/3, (3 − 2) / (0.015 × 2/3).
        let want = 1.0 / (0.015 * (2.0 / 3.0));
        assert!((c.update(3.0, 3.0, 3.0).unwrap() - want).abs() < 1e-9);
        let mut flat = Cci::new(2);
        flat.update(1.0, 1.0, 1.0);
        assert_eq!(flat.update(1.0, 1.0, 1.0), Some(0.0));
        assert_eq!(c.warmup_bars(), 3);
    }
}
