use serde::{Deserialize, Serialize};

/// Relative Strength Index with Wilder's smoothing, in 0..=100.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rsi {
    period: usize,
    prev: Option<f64>,
    seen: usize,
    avg_gain: f64,
    avg_loss: f64,
}

impl Rsi {
    pub fn new(period: usize) -> Self {
        Self {
            period: period.max(1),
            prev: None,
            seen: 0,
            avg_gain: 0.0,
            avg_loss: 0.0,
        }
    }

    /// Adds a close; returns the RSI once `period` changes were seen.
    pub fn update(&mut self, close: f64) -> Option<f64> {
        let prev = self.prev.replace(close)?;
        let change = close - prev;
        let (gain, loss) = if change > 0.0 {
            (change, 0.0)
        } else {
            (0.0, -change)
        };
        self.seen += 1;
        let n = self.period as f64;
        if self.seen <= self.period {
            // Seed: plain average of the first `period` changes.
            self.avg_gain += gain / n;
            self.avg_loss += loss / n;
        } else {
            self.avg_gain = (self.avg_gain * (n - 1.0) + gain) / n;
            self.avg_loss = (self.avg_loss * (n - 1.0) + loss) / n;
        }
        self.value()
    }

    pub fn value(&self) -> Option<f64> {
        if self.seen < self.period {
            return None;
        }
        if self.avg_loss == 0.0 {
            return Some(if self.avg_gain == 0.0 { 50.0 } else { 100.0 });
        }
        let rs = self.avg_gain / self.avg_loss;
        Some(100.0 - 100.0 / (1.0 + rs))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_gains_is_100_only_losses_is_0() {
        let mut up = Rsi::new(3);
        let mut down = Rsi::new(3);
        for i in 0..5 {
            up.update(i as f64);
            down.update(-(i as f64));
        }
        assert_eq!(up.value(), Some(100.0));
        assert_eq!(down.value(), Some(0.0));
    }

    #[test]
    fn balanced_moves_give_50_and_warmup_gives_none() {
        let mut rsi = Rsi::new(2);
        assert_eq!(rsi.update(10.0), None);
        assert_eq!(rsi.update(11.0), None);
        assert_eq!(rsi.update(10.0), Some(50.0));
    }
}
