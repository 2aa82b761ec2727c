use super::warmup::{WarmUp, bars};
use super::{Cross, CrossDetector, Ema};
use serde::{Deserialize, Serialize};

/// One MACD reading.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct MacdValue {
    /// Fast EMA − slow EMA.
    pub macd: f64,
    /// EMA of the MACD line over `signal` values.
    pub signal: f64,
    /// `macd − signal`.
    pub histogram: f64,
}

/// Moving Average Convergence/Divergence, as TA-Lib's `MACD` (not
/// `MACDFIX`): the fast and slow [`Ema`]s of the input (`alpha = 2 / (n +
/// 1)`, each seeded with a simple average), their difference (the MACD
/// line), its [`Ema`] over `signal` values and the histogram between them.
/// The classic setting is `Macd::new(12, 26, 9)`.
///
/// Seeding, as TA-Lib: **both EMAs are seeded on the same bar**, the
/// `slow`-th. The fast EMA skips the first `slow − fast` values and is seeded
/// with the average of the `fast` values up to that bar (not of the first
/// `fast` values of the series, as a lone `Ema::new(fast)` would be), so the
/// two lines start together. The signal EMA is seeded with the average of the
/// first `signal` MACD values. The first reading comes on value
/// `slow + signal − 1` (34 for 12/26/9); [`Macd::line`] is available from
/// value `slow` on. A `fast` above `slow` is swapped, as TA-Lib does.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Macd {
    fast: Ema,
    slow: Ema,
    signal: Ema,
    /// Values the fast EMA still skips (see the type's docs).
    fast_skip: usize,
    line: Option<f64>,
    last: Option<MacdValue>,
    /// The MACD line against the signal line, fed each reading.
    crossing: CrossDetector,
    cross: Option<Cross>,
}

impl Macd {
    /// A MACD of `fast` and `slow` EMAs with a `signal` EMA; periods of `0`
    /// count as 1.
    pub fn new(fast: usize, slow: usize, signal: usize) -> Self {
        let (fast, slow) = (fast.max(1), slow.max(1));
        let (fast, slow) = if fast > slow {
            (slow, fast)
        } else {
            (fast, slow)
        };
        Self {
            fast: Ema::new(fast),
            slow: Ema::new(slow),
            signal: Ema::new(signal),
            fast_skip: slow - fast,
            line: None,
            last: None,
            crossing: CrossDetector::new(),
            cross: None,
        }
    }

    /// Adds a value (a close); returns the reading once the signal line
    /// exists (`None` for the first `slow + signal − 2` calls).
    pub fn update(&mut self, x: f64) -> Option<MacdValue> {
        let fast = if self.fast_skip > 0 {
            self.fast_skip -= 1;
            None
        } else {
            self.fast.update(x)
        };
        let slow = self.slow.update(x);
        let (Some(fast), Some(slow)) = (fast, slow) else {
            return None;
        };
        let macd = fast - slow;
        self.line = Some(macd);
        if let Some(signal) = self.signal.update(macd) {
            self.last = Some(MacdValue {
                macd,
                signal,
                histogram: macd - signal,
            });
            self.cross = self.crossing.update(macd, signal);
        }
        self.last
    }

    /// The current reading without adding a value; `None` during warm-up.
    pub fn value(&self) -> Option<MacdValue> {
        self.last
    }

    /// The MACD line alone, which exists `signal − 1` values before the
    /// first full reading; `None` before the `slow`-th value.
    pub fn line(&self) -> Option<f64> {
        self.line
    }

    /// The crossover the last reading completed: [`Cross::Above`] when the
    /// MACD line went from at-or-below the signal line to above it,
    /// [`Cross::Below`] for the opposite (as [`CrossDetector`] fed both
    /// lines). `None` on other readings, and on the first reading, since a
    /// cross needs two: the first cross can come on value `slow + signal`.
    pub fn cross(&self) -> Option<Cross> {
        self.cross
    }

    /// `true` once it gives full readings.
    pub fn is_ready(&self) -> bool {
        self.last.is_some()
    }

    /// `(fast, slow, signal)` periods, after the swap of a `fast` above `slow`.
    pub fn periods(&self) -> (usize, usize, usize) {
        (self.fast.period(), self.slow.period(), self.signal.period())
    }
}

impl WarmUp for Macd {
    fn warmup_bars(&self) -> u32 {
        let (_, slow, signal) = self.periods();
        bars(slow + signal - 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_emas_start_on_the_slow_th_value() {
        let mut m = Macd::new(2, 4, 2);
        let xs = [1.0, 2.0, 3.0, 4.0, 6.0, 8.0];
        let got: Vec<_> = xs.iter().map(|&x| m.update(x)).collect();
        assert!(got[..4].iter().all(Option::is_none));
        // Bar 4: fast = avg(3, 4) = 3.5 (not avg(1, 2) smoothed), slow = 2.5.
        // Bar 5: fast = 3.5 + 2/3·(6 − 3.5), slow = 2.5 + 0.4·(6 − 2.5) = 3.9.
        let fast5 = 3.5 + 2.0 / 3.0 * (6.0 - 3.5);
        let line5 = fast5 - 3.9;
        let v = got[4].unwrap();
        assert!((v.macd - line5).abs() < 1e-12, "{v:?}");
        assert!((v.signal - (1.0 + line5) / 2.0).abs() < 1e-12, "{v:?}");
        assert_eq!(v.histogram, v.macd - v.signal);
        assert!(got[5].is_some());
        // Rising prices keep the line above its signal: no cross after the first reading.
        assert_eq!(m.cross(), None);
        assert_eq!(m.warmup_bars(), 5);
        let mut m = Macd::new(2, 3, 2);
        let crosses: Vec<_> = [5.0, 5.0, 5.0, 5.0, 6.0, 7.0, 6.0, 5.0, 4.0]
            .iter()
            .map(|&x| {
                m.update(x);
                m.cross()
            })
            .collect();
        assert_eq!(crosses[..4], [None; 4]);
        assert_eq!(crosses[4], Some(Cross::Above));
        assert!(crosses.contains(&Some(Cross::Below)));
        assert_eq!(Macd::new(26, 12, 9).periods(), (12, 26, 9));
    }
}
