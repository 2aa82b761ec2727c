use super::warmup::{WarmUp, bars};
use serde::{Deserialize, Serialize};

/// True range, as TA-Lib's `TRANGE`: `max(high, previous close) −
/// min(low, previous close)`, so a gap counts. The first bar has no
/// previous close and gives no value (not `high − low`): the first value
/// comes on the second bar.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TrueRange {
    prev_close: Option<f64>,
    last: Option<f64>,
}

impl TrueRange {
    /// A true range that has seen no bar yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a bar; returns its true range from the second bar on.
    pub fn update(&mut self, high: f64, low: f64, close: f64) -> Option<f64> {
        if let Some(prev) = self.prev_close.replace(close) {
            let top = if prev > high { prev } else { high };
            let bottom = if prev < low { prev } else { low };
            self.last = Some(top - bottom);
        }
        self.last
    }

    reading!(last);
}

impl WarmUp for TrueRange {
    fn warmup_bars(&self) -> u32 {
        2
    }
}

/// Average true range with **Wilder's smoothing**, as TA-Lib's `ATR`: the
/// first value is the simple average of the first `period` true ranges (bars
/// 2 to `period + 1`, see [`TrueRange`]), then `atr = (atr × (period − 1) +
/// tr) / period` (an EMA with `alpha = 1 / period`, not `2 / (period + 1)`).
/// The first value comes on bar `period + 1`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Atr {
    period: usize,
    tr: TrueRange,
    seen: usize,
    seed_sum: f64,
    value: Option<f64>,
}

impl Atr {
    /// An ATR over `period` true ranges (14 is the classic choice); `0`
    /// counts as 1 (then it is the true range).
    pub fn new(period: usize) -> Self {
        Self {
            period: period.max(1),
            tr: TrueRange::new(),
            seen: 0,
            seed_sum: 0.0,
            value: None,
        }
    }

    /// Adds a bar; returns the ATR from bar `period + 1` on.
    pub fn update(&mut self, high: f64, low: f64, close: f64) -> Option<f64> {
        let tr = self.tr.update(high, low, close)?;
        let n = self.period as f64;
        self.value = match self.value {
            Some(prev) => Some((prev * (n - 1.0) + tr) / n),
            None => {
                self.seen += 1;
                self.seed_sum += tr;
                (self.seen == self.period).then(|| self.seed_sum / n)
            }
        };
        self.value
    }

    /// The current ATR without adding a bar; `None` during warm-up.
    pub fn value(&self) -> Option<f64> {
        self.value
    }

    /// The last bar's true range; `None` before the second bar.
    pub fn true_range(&self) -> Option<f64> {
        self.tr.value()
    }

    /// `true` once it gives values.
    pub fn is_ready(&self) -> bool {
        self.value.is_some()
    }

    /// The smoothing period in true ranges (`new(0)` reports 1).
    pub fn period(&self) -> usize {
        self.period
    }
}

impl WarmUp for Atr {
    fn warmup_bars(&self) -> u32 {
        bars(self.period + 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn true_range_counts_gaps_and_atr_smooths_like_wilder() {
        let mut tr = TrueRange::new();
        assert_eq!(tr.update(10.0, 9.0, 9.5), None);
        assert_eq!(tr.update(12.0, 11.0, 11.5), Some(12.0 - 9.5)); // gap up
        assert_eq!(tr.update(11.0, 8.0, 9.0), Some(11.5 - 8.0));
        let mut atr = Atr::new(2);
        let bars = [
            (10.0, 9.0, 9.5),
            (12.0, 11.0, 11.5),
            (11.0, 8.0, 9.0),
            (10.0, 9.0, 9.0),
        ];
        let got: Vec<_> = bars.iter().map(|&(h, l, c)| atr.update(h, l, c)).collect();
        assert_eq!(got[..2], [None, None]);
        assert_eq!(got[2], Some(3.0)); // (2.5 + 3.5) / 2
        assert_eq!(got[3], Some((3.0 + 1.0) / 2.0)); // tr = 10 − 9
        assert_eq!((atr.warmup_bars(), atr.true_range()), (3, Some(1.0)));
    }
}
