use super::Ema;
use super::warmup::{WarmUp, bars};
use serde::{Deserialize, Serialize};

/// Double exponential moving average, as TA-Lib's `DEMA`: `2 × e1 − e2`
/// where `e1` is the [`Ema`] of the input and `e2` the [`Ema`] of `e1`, each
/// seeded with the simple average of its first `period` inputs. Less lag
/// than one EMA; the first value comes on value `2 × period − 1`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Dema {
    e1: Ema,
    e2: Ema,
    last: Option<f64>,
}

impl Dema {
    /// A DEMA over `period` values; `0` counts as 1.
    pub fn new(period: usize) -> Self {
        Self {
            e1: Ema::new(period),
            e2: Ema::new(period),
            last: None,
        }
    }

    /// Adds a value; returns the DEMA once both EMAs exist.
    pub fn update(&mut self, x: f64) -> Option<f64> {
        let e1 = self.e1.update(x)?;
        if let Some(e2) = self.e2.update(e1) {
            self.last = Some(2.0 * e1 - e2);
        }
        self.last
    }

    reading!(last);

    /// The period of each EMA.
    pub fn period(&self) -> usize {
        self.e1.period()
    }
}

impl WarmUp for Dema {
    fn warmup_bars(&self) -> u32 {
        bars(2 * self.period() - 1)
    }
}

/// Triple exponential moving average, as TA-Lib's `TEMA`: `3 × e1 − 3 × e2
/// + e3` with `e2` the [`Ema`] of `e1` and `e3` the [`Ema`] of `e2`, each
/// seeded with the simple average of its first `period` inputs. The first
/// value comes on value `3 × period − 2`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tema {
    e1: Ema,
    e2: Ema,
    e3: Ema,
    last: Option<f64>,
}

impl Tema {
    /// A TEMA over `period` values; `0` counts as 1.
    pub fn new(period: usize) -> Self {
        Self {
            e1: Ema::new(period),
            e2: Ema::new(period),
            e3: Ema::new(period),
            last: None,
        }
    }

    /// Adds a value; returns the TEMA once all three EMAs exist.
    pub fn update(&mut self, x: f64) -> Option<f64> {
        let e1 = self.e1.update(x)?;
        let e2 = self.e2.update(e1)?;
        if let Some(e3) = self.e3.update(e2) {
            self.last = Some(3.0 * e1 - 3.0 * e2 + e3);
        }
        self.last
    }

    reading!(last);

    /// The period of each EMA.
    pub fn period(&self) -> usize {
        self.e1.period()
    }
}

impl WarmUp for Tema {
    fn warmup_bars(&self) -> u32 {
        bars(3 * self.period() - 2)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn follow_a_straight_line_without_lag() {
        // On a line an EMA lags by a constant; DEMA and TEMA cancel it.
        let mut d = Dema::new(3);
        let mut t = Tema::new(3);
        let (mut dv, mut tv) = (None, None);
        for i in 0..20 {
            let x = i as f64;
            dv = d.update(x);
            tv = t.update(x);
            if i + 1 < 5 {
                assert_eq!(dv, None);
            }
            if i + 1 < 7 {
                assert_eq!(tv, None);
            }
        }
        assert!((dv.unwrap() - 19.0).abs() < 1e-9);
        assert!((tv.unwrap() - 19.0).abs() < 1e-9);
        assert_eq!((d.warmup_bars(), t.warmup_bars()), (5, 7));
    }
}
