use super::rolling::{Moments, RollingSums};
use super::warmup::{WarmUp, bars};
use serde::{Deserialize, Serialize};

/// Rolling standard deviation of the last `period` values: the
/// **population** σ (divided by `period`, not `period − 1`), as TA-Lib's
/// `STDDEV` (with `nbdev = 1`) and most charting tools.
///
/// It keeps running sums of the values and of their squares and returns
/// `sqrt(E[x²] − E[x]²)`, in TA-Lib's order of operations, so its values
/// equal TA-Lib's. One difference: TA-Lib reports 0 for any variance below
/// 1e-8 (σ below 1e-4, which on a quote near 1.0 is a real one-pip σ); here
/// only a variance that rounds to 0 or below does.
///
/// Like [`super::Sma`], a NaN or infinite value poisons the running sums for
/// good: skip such bars first (see [`crate::checks::finite_prices`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StdDev {
    sums: RollingSums,
    last: Option<(f64, f64)>,
}

impl StdDev {
    /// σ over `period` values; `0` counts as 1 (σ is then always 0).
    pub fn new(period: usize) -> Self {
        Self {
            sums: RollingSums::new(period),
            last: None,
        }
    }

    /// Adds a value; returns σ once `period` values were seen (`None` for
    /// the first `period - 1` calls, the warm-up).
    pub fn update(&mut self, x: f64) -> Option<f64> {
        self.update_moments(x).map(|(_, sd)| sd)
    }

    /// Adds a value; returns `(mean, σ)` of the window once it is full.
    fn update_moments(&mut self, x: f64) -> Option<(f64, f64)> {
        if let Some(m) = self.sums.update(x) {
            self.last = Some(mean_and_sd(m));
        }
        self.last
    }

    /// The current σ without adding a value; `None` during warm-up.
    pub fn value(&self) -> Option<f64> {
        self.last.map(|(_, sd)| sd)
    }

    /// The mean of the current window (the SMA); `None` during warm-up.
    pub fn mean(&self) -> Option<f64> {
        self.last.map(|(mean, _)| mean)
    }

    /// `true` once it gives values.
    pub fn is_ready(&self) -> bool {
        self.last.is_some()
    }

    /// The window length in values (`new(0)` reports 1).
    pub fn period(&self) -> usize {
        self.sums.period()
    }
}

fn mean_and_sd(m: Moments) -> (f64, f64) {
    (m.mean, m.variance().sqrt())
}

impl WarmUp for StdDev {
    fn warmup_bars(&self) -> u32 {
        bars(self.period())
    }
}

/// Three lines around a price: Bollinger or Keltner bands.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Bands {
    /// `middle + k × width`.
    pub upper: f64,
    /// The average the bands are centred on.
    pub middle: f64,
    /// `middle − k × width`.
    pub lower: f64,
}

/// Bollinger bands: the simple moving average of the last `period` values
/// ± `k` population standard deviations of the same window ([`StdDev`]), as
/// TA-Lib's `BBANDS` with `matype = SMA` and `nbdevup = nbdevdn = k`.
/// The classic setting is `Bollinger::new(20, 2.0)`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Bollinger {
    sd: StdDev,
    k: f64,
    last: Option<Bands>,
}

impl Bollinger {
    /// Bands over `period` values (`0` counts as 1), `k` σ wide on each side.
    pub fn new(period: usize, k: f64) -> Self {
        Self {
            sd: StdDev::new(period),
            k,
            last: None,
        }
    }

    /// Adds a value (a close); returns the bands once `period` values were
    /// seen (`None` for the first `period - 1` calls).
    pub fn update(&mut self, x: f64) -> Option<Bands> {
        if let Some((middle, sd)) = self.sd.update_moments(x) {
            let width = sd * self.k;
            self.last = Some(Bands {
                upper: middle + width,
                middle,
                lower: middle - width,
            });
        }
        self.last
    }

    /// The current bands without adding a value; `None` during warm-up.
    pub fn value(&self) -> Option<Bands> {
        self.last
    }

    /// The current σ of the window; `None` during warm-up.
    pub fn std_dev(&self) -> Option<f64> {
        self.sd.value()
    }

    /// `true` once it gives values.
    pub fn is_ready(&self) -> bool {
        self.last.is_some()
    }

    /// The window length in values.
    pub fn period(&self) -> usize {
        self.sd.period()
    }

    /// The width of each band in σ.
    pub fn k(&self) -> f64 {
        self.k
    }
}

impl WarmUp for Bollinger {
    fn warmup_bars(&self) -> u32 {
        self.sd.warmup_bars()
    }
}

/// Rolling z-score: how many population standard deviations the newest
/// value is from the mean of the last `period` values, the newest included:
/// `(x − SMA) / σ` with the [`StdDev`] of the same window. It is 0 when σ is
/// 0 (a flat window), so a flat market reads "at the mean" instead of NaN.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ZScore {
    sd: StdDev,
    last: Option<f64>,
}

impl ZScore {
    /// A z-score over `period` values; `0` counts as 1 (always 0).
    pub fn new(period: usize) -> Self {
        Self {
            sd: StdDev::new(period),
            last: None,
        }
    }

    /// Adds a value; returns its z-score once `period` values were seen.
    pub fn update(&mut self, x: f64) -> Option<f64> {
        if let Some((mean, sd)) = self.sd.update_moments(x) {
            self.last = Some(if sd > 0.0 { (x - mean) / sd } else { 0.0 });
        }
        self.last
    }

    reading!(last);

    /// The window length in values.
    pub fn period(&self) -> usize {
        self.sd.period()
    }
}

impl WarmUp for ZScore {
    fn warmup_bars(&self) -> u32 {
        self.sd.warmup_bars()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn population_sigma_bands_and_z_score() {
        let xs = [2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0];
        let mut sd = StdDev::new(8);
        let mut bb = Bollinger::new(8, 2.0);
        let mut z = ZScore::new(8);
        for (i, &x) in xs.iter().enumerate() {
            let ready = i == 7;
            assert_eq!(sd.update(x).is_some(), ready);
            assert_eq!(bb.update(x).is_some(), ready);
            assert_eq!(z.update(x).is_some(), ready);
        }
        // The textbook example: mean 5, population σ 2 (sample σ would be 2.14).
        assert_eq!((sd.mean(), sd.value()), (Some(5.0), Some(2.0)));
        let b = bb.value().unwrap();
        assert_eq!((b.lower, b.middle, b.upper), (1.0, 5.0, 9.0));
        assert_eq!(z.value(), Some(2.0));
        assert_eq!((sd.warmup_bars(), bb.period(), bb.k()), (8, 8, 2.0));
    }

    #[test]
    fn a_flat_window_has_zero_sigma_and_z_score() {
        let mut sd = StdDev::new(3);
        let mut z = ZScore::new(3);
        for _ in 0..5 {
            sd.update(0.1);
            z.update(0.1);
        }
        assert_eq!((sd.value(), z.value()), (Some(0.0), Some(0.0)));
    }
}
