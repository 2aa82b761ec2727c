use super::warmup::{WarmUp, bars};
use serde::{Deserialize, Serialize};

/// One ADX reading, all in 0..=100.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct AdxValue {
    /// Average directional index: the trend's strength, either way.
    pub adx: f64,
    /// +DI: the smoothed upward movement as a share of the true range.
    pub plus_di: f64,
    /// −DI: the smoothed downward movement as a share of the true range.
    pub minus_di: f64,
}

/// Wilder's directional movement system, as TA-Lib's `ADX`, `PLUS_DI` and
/// `MINUS_DI` (which share this computation):
///
/// - +DM is `high − previous high` and −DM `previous low − low`; only the
///   larger counts, and only when above 0 (the other is 0).
/// - +DM, −DM and the true range are summed over the first `period − 1`
///   changes, then **Wilder-smoothed as sums**: `s = s − s / period + x`.
/// - `+DI = 100 × s(+DM) / s(TR)`, `−DI` likewise (0 when `s(TR)` is 0), from
///   bar `period + 1` on ([`Adx::plus_di`], [`Adx::minus_di`]).
/// - `DX = 100 × |+DI − −DI| / (+DI + −DI)`; the ADX is seeded with the mean
///   of the first `period` DX values (a DX whose DIs are both 0 counts as 0)
///   and then Wilder-averaged, `adx = (adx × (period − 1) + dx) / period`
///   (a bar with both DIs 0 leaves it as it is), from bar `2 × period` on.
///
/// TA-Lib calls a smoothed true range "zero" below 1e-8; here only an exact
/// 0 is, so symbols quoted in tiny units keep their values.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Adx {
    period: usize,
    prev: Option<(f64, f64, f64)>,
    changes: usize,
    plus_dm: f64,
    minus_dm: f64,
    tr: f64,
    di: Option<(f64, f64)>,
    dx_seen: usize,
    dx_sum: f64,
    adx: Option<f64>,
}

impl Adx {
    /// An ADX over `period` bars (14 is the classic choice); `0` counts as 1.
    pub fn new(period: usize) -> Self {
        Self {
            period: period.max(1),
            prev: None,
            changes: 0,
            plus_dm: 0.0,
            minus_dm: 0.0,
            tr: 0.0,
            di: None,
            dx_seen: 0,
            dx_sum: 0.0,
            adx: None,
        }
    }

    /// Adds a bar; returns the reading from bar `2 × period` on.
    pub fn update(&mut self, high: f64, low: f64, close: f64) -> Option<AdxValue> {
        let (prev_high, prev_low, prev_close) = self.prev.replace((high, low, close))?;
        let up = high - prev_high;
        let down = prev_low - low;
        let top = if prev_close > high { prev_close } else { high };
        let bottom = if prev_close < low { prev_close } else { low };
        let tr = top - bottom;
        let n = self.period as f64;
        self.changes += 1;
        if self.changes < self.period {
            if down > 0.0 && up < down {
                self.minus_dm += down;
            } else if up > 0.0 && up > down {
                self.plus_dm += up;
            }
            self.tr += tr;
            return None;
        }
        self.minus_dm -= self.minus_dm / n;
        self.plus_dm -= self.plus_dm / n;
        if down > 0.0 && up < down {
            self.minus_dm += down;
        } else if up > 0.0 && up > down {
            self.plus_dm += up;
        }
        self.tr = self.tr - self.tr / n + tr;
        let (plus_di, minus_di) = if self.tr != 0.0 {
            (
                100.0 * (self.plus_dm / self.tr),
                100.0 * (self.minus_dm / self.tr),
            )
        } else {
            (0.0, 0.0)
        };
        self.di = Some((plus_di, minus_di));
        let sum = minus_di + plus_di;
        let dx = (self.tr != 0.0 && sum != 0.0).then(|| 100.0 * ((minus_di - plus_di).abs() / sum));
        self.adx = match self.adx {
            Some(prev) => Some(match dx {
                Some(dx) => (prev * (n - 1.0) + dx) / n,
                None => prev,
            }),
            None => {
                self.dx_seen += 1;
                self.dx_sum += dx.unwrap_or(0.0);
                (self.dx_seen == self.period).then(|| self.dx_sum / n)
            }
        };
        self.value()
    }

    /// The current reading without adding a bar; `None` during warm-up.
    pub fn value(&self) -> Option<AdxValue> {
        let (plus_di, minus_di) = self.di?;
        Some(AdxValue {
            adx: self.adx?,
            plus_di,
            minus_di,
        })
    }

    /// The current +DI, available from bar `period + 1` (before the ADX).
    pub fn plus_di(&self) -> Option<f64> {
        self.di.map(|(p, _)| p)
    }

    /// The current −DI, available from bar `period + 1` (before the ADX).
    pub fn minus_di(&self) -> Option<f64> {
        self.di.map(|(_, m)| m)
    }

    /// `true` once the ADX exists.
    pub fn is_ready(&self) -> bool {
        self.adx.is_some()
    }

    /// The smoothing period in bars (`new(0)` reports 1).
    pub fn period(&self) -> usize {
        self.period
    }
}

impl WarmUp for Adx {
    fn warmup_bars(&self) -> u32 {
        bars(2 * self.period)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_steady_rise_is_all_plus_di_and_a_strong_trend() {
        let mut a = Adx::new(3);
        let mut got = Vec::new();
        for i in 0..10 {
            let x = i as f64;
            got.push(a.update(x + 1.0, x, x + 0.5));
            if i == 3 {
                assert!(a.plus_di().is_some() && !a.is_ready());
            }
        }
        assert!(got[..5].iter().all(Option::is_none));
        let v = got[9].unwrap();
        assert_eq!(v.minus_di, 0.0);
        assert!(v.plus_di > 0.0);
        assert_eq!(v.adx, 100.0);
        assert_eq!(a.warmup_bars(), 6);
    }
}
