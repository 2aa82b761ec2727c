use serde::{Deserialize, Serialize};
use std::collections::VecDeque;

/// Simple moving average over the last `period` values.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Sma {
    period: usize,
    window: VecDeque<f64>,
    sum: f64,
}

impl Sma {
    /// `period` is at least 1.
    pub fn new(period: usize) -> Self {
        let period = period.max(1);
        Self {
            period,
            window: VecDeque::with_capacity(period + 1),
            sum: 0.0,
        }
    }

    /// Adds a value; returns the average once `period` values were seen.
    pub fn update(&mut self, value: f64) -> Option<f64> {
        self.window.push_back(value);
        self.sum += value;
        if self.window.len() > self.period
            && let Some(old) = self.window.pop_front()
        {
            self.sum -= old;
        }
        self.value()
    }

    pub fn value(&self) -> Option<f64> {
        (self.window.len() == self.period).then(|| self.sum / self.period as f64)
    }

    pub fn period(&self) -> usize {
        self.period
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn averages_the_last_period_values() {
        let mut sma = Sma::new(3);
        assert_eq!(sma.update(1.0), None);
        assert_eq!(sma.update(2.0), None);
        assert_eq!(sma.update(3.0), Some(2.0));
        assert_eq!(sma.update(7.0), Some(4.0));
    }
}
