use super::warmup::{WarmUp, longest};
use super::{Atr, Bands, Ema};
use serde::{Deserialize, Serialize};

/// Keltner channels, the modern variant (Raschke's): the middle line is the
/// [`Ema`] of the close over `ema_period` (seeded with a simple average), the
/// bands are `middle ± k × ATR` with the Wilder [`Atr`] over `atr_period`.
/// Not Keltner's 1960 original (an SMA of the typical price ± an SMA of the
/// high–low range). A common setting is `Keltner::new(20, 10, 2.0)`. The
/// first value comes once both the EMA and the ATR exist.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Keltner {
    ema: Ema,
    atr: Atr,
    k: f64,
    last: Option<Bands>,
}

impl Keltner {
    /// An EMA over `ema_period` closes, bands `k` ATRs over `atr_period`
    /// away; periods of `0` count as 1.
    pub fn new(ema_period: usize, atr_period: usize, k: f64) -> Self {
        Self {
            ema: Ema::new(ema_period),
            atr: Atr::new(atr_period),
            k,
            last: None,
        }
    }

    /// Adds a bar; returns the channel once both the EMA and the ATR exist.
    pub fn update(&mut self, high: f64, low: f64, close: f64) -> Option<Bands> {
        let middle = self.ema.update(close);
        let atr = self.atr.update(high, low, close);
        if let (Some(middle), Some(atr)) = (middle, atr) {
            let width = self.k * atr;
            self.last = Some(Bands {
                upper: middle + width,
                middle,
                lower: middle - width,
            });
        }
        self.last
    }

    /// The current channel without adding a bar; `None` during warm-up.
    pub fn value(&self) -> Option<Bands> {
        self.last
    }

    /// `true` once it gives values.
    pub fn is_ready(&self) -> bool {
        self.last.is_some()
    }

    /// `(ema_period, atr_period)`.
    pub fn periods(&self) -> (usize, usize) {
        (self.ema.period(), self.atr.period())
    }

    /// The width of each band in ATRs.
    pub fn k(&self) -> f64 {
        self.k
    }
}

impl WarmUp for Keltner {
    fn warmup_bars(&self) -> u32 {
        longest(&[&self.ema, &self.atr])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ema_plus_minus_k_atr() {
        let mut kc = Keltner::new(2, 1, 2.0);
        assert_eq!(kc.update(11.0, 9.0, 10.0), None);
        let b = kc.update(13.0, 11.0, 12.0).unwrap();
        // EMA(2) seeded with avg(10, 12) = 11; TR = 13 − 10 = 3.
        assert_eq!((b.lower, b.middle, b.upper), (5.0, 11.0, 17.0));
        assert_eq!((kc.warmup_bars(), kc.periods(), kc.k()), (2, (2, 1), 2.0));
    }
}
