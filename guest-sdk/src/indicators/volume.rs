use super::warmup::WarmUp;
use serde::{Deserialize, Serialize};

/// On-balance volume, as TA-Lib's `OBV`: starts at the first bar's volume,
/// then adds a bar's volume when its close is above the previous close,
/// subtracts it when below and keeps the total when equal. It has a value
/// from the first bar; its level depends on where it started, so compare its
/// moves, not its values across instances that started apart.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Obv {
    prev_close: Option<f64>,
    total: f64,
}

impl Obv {
    /// An OBV that has seen no bar yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a bar; returns the running total.
    pub fn update(&mut self, close: f64, volume: f64) -> f64 {
        match self.prev_close.replace(close) {
            None => self.total = volume,
            Some(prev) if close > prev => self.total += volume,
            Some(prev) if close < prev => self.total -= volume,
            Some(_) => {}
        }
        self.total
    }

    /// The running total; `None` before the first bar.
    pub fn value(&self) -> Option<f64> {
        self.prev_close.map(|_| self.total)
    }

    /// `true` once it has seen a bar.
    pub fn is_ready(&self) -> bool {
        self.prev_close.is_some()
    }
}

impl WarmUp for Obv {
    fn warmup_bars(&self) -> u32 {
        1
    }
}

/// Milliseconds in a day: [`SessionVwap::daily`]'s session length.
pub const DAY_MS: i64 = 86_400_000;

/// Volume-weighted average price since the session began: `Σ(tp × volume)
/// / Σ volume` over the session's bars so far, with the typical price `tp =
/// (high + low + close) / 3`.
///
/// Sessions are fixed windows of `session_ms` milliseconds of the bar
/// timestamp ([`crate::Bar::ts_ms`]), starting at `offset_ms` past the Unix
/// epoch: a bar whose `(ts_ms − offset_ms).div_euclid(session_ms)` differs
/// from the previous bar's starts a new session. [`SessionVwap::daily`] is
/// the UTC day. While the session has traded no volume, the VWAP is the last
/// bar's typical price. TA-Lib has no VWAP; the reference test checks this
/// rule against a plain Python version of it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionVwap {
    session_ms: i64,
    offset_ms: i64,
    session: Option<i64>,
    pv: f64,
    volume: f64,
    last: Option<f64>,
}

impl SessionVwap {
    /// Sessions of `session_ms` milliseconds (at least 1) starting at
    /// `offset_ms` past the epoch: `new(DAY_MS, -5 * 3_600_000)` resets at
    /// 19:00 UTC.
    pub fn new(session_ms: i64, offset_ms: i64) -> Self {
        Self {
            session_ms: session_ms.max(1),
            offset_ms,
            session: None,
            pv: 0.0,
            volume: 0.0,
            last: None,
        }
    }

    /// Sessions of one UTC day.
    pub fn daily() -> Self {
        Self::new(DAY_MS, 0)
    }

    /// Adds a bar; returns the session's VWAP so far, this bar included.
    pub fn update(&mut self, ts_ms: i64, high: f64, low: f64, close: f64, volume: f64) -> f64 {
        let session = ts_ms
            .wrapping_sub(self.offset_ms)
            .div_euclid(self.session_ms);
        if self.session != Some(session) {
            self.session = Some(session);
            self.pv = 0.0;
            self.volume = 0.0;
        }
        let tp = (high + low + close) / 3.0;
        self.pv += tp * volume;
        self.volume += volume;
        let vwap = if self.volume != 0.0 {
            self.pv / self.volume
        } else {
            tp
        };
        self.last = Some(vwap);
        vwap
    }

    /// The current VWAP; `None` before the first bar.
    pub fn value(&self) -> Option<f64> {
        self.last
    }

    /// `true` once it has seen a bar.
    pub fn is_ready(&self) -> bool {
        self.last.is_some()
    }

    /// `(session_ms, offset_ms)`.
    pub fn session(&self) -> (i64, i64) {
        (self.session_ms, self.offset_ms)
    }
}

impl WarmUp for SessionVwap {
    fn warmup_bars(&self) -> u32 {
        1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn obv_follows_the_close_direction() {
        let mut o = Obv::new();
        assert_eq!(o.value(), None);
        let got: Vec<_> = [(10.0, 5.0), (11.0, 2.0), (11.0, 7.0), (9.0, 3.0)]
            .iter()
            .map(|&(c, v)| o.update(c, v))
            .collect();
        assert_eq!(got, [5.0, 7.0, 7.0, 4.0]);
    }

    #[test]
    fn vwap_resets_at_each_session() {
        let mut v = SessionVwap::daily();
        assert_eq!(v.update(0, 3.0, 3.0, 3.0, 1.0), 3.0);
        assert_eq!(v.update(3_600_000, 6.0, 6.0, 6.0, 2.0), 5.0);
        assert_eq!(v.update(DAY_MS, 9.0, 9.0, 9.0, 0.0), 9.0); // new day, no volume
        assert_eq!(v.update(DAY_MS + 1, 3.0, 3.0, 3.0, 1.0), 3.0);
        // Before the epoch, sessions still split at midnight.
        let mut early = SessionVwap::daily();
        early.update(-1, 1.0, 1.0, 1.0, 1.0);
        assert_eq!(early.update(0, 2.0, 2.0, 2.0, 1.0), 2.0);
    }
}
