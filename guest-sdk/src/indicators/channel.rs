use super::warmup::{WarmUp, bars};
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;

/// Highest value over the last `period` values (a Donchian channel's top),
/// in amortised O(1) with a monotonic queue.
///
/// A NaN breaks the queue's order: while one is in the window the result may
/// be NaN or miss the true highest; once `period` more values have been
/// added it is exact again. Infinities compare as usual. Skip non-finite bars
/// first (see [`crate::checks::finite_prices`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Highest {
    extreme: Extreme,
}

/// Lowest value over the last `period` values (a Donchian channel's bottom),
/// in amortised O(1) with a monotonic queue.
///
/// NaN behaves as for [`Highest`]: results are unreliable while one is in
/// the window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Lowest {
    extreme: Extreme,
}

impl WarmUp for Highest {
    fn warmup_bars(&self) -> u32 {
        bars(self.extreme.period)
    }
}

impl Highest {
    /// The highest of the last `period` values; `0` counts as 1.
    pub fn new(period: usize) -> Self {
        Self {
            extreme: Extreme::new(period),
        }
    }

    /// The current highest value without adding one; `None` during warm-up.
    pub fn value(&self) -> Option<f64> {
        self.extreme.value()
    }

    /// `true` once it gives values (`period` values were seen).
    pub fn is_ready(&self) -> bool {
        self.extreme.value().is_some()
    }

    /// The window length in values (`new(0)` reports 1).
    pub fn period(&self) -> usize {
        self.extreme.period
    }

    /// Adds a value (a high, say); returns the highest of the last `period`
    /// values, the new one included, once `period` values were seen (`None`
    /// for the first `period - 1` calls, the warm-up). For a breakout test,
    /// compare a bar with the channel before adding it.
    pub fn update(&mut self, value: f64) -> Option<f64> {
        self.extreme.update(value, |kept, new| kept <= new)
    }
}

impl WarmUp for Lowest {
    fn warmup_bars(&self) -> u32 {
        bars(self.extreme.period)
    }
}

impl Lowest {
    /// The lowest of the last `period` values; `0` counts as 1.
    pub fn new(period: usize) -> Self {
        Self {
            extreme: Extreme::new(period),
        }
    }

    /// The current lowest value without adding one; `None` during warm-up.
    pub fn value(&self) -> Option<f64> {
        self.extreme.value()
    }

    /// `true` once it gives values (`period` values were seen).
    pub fn is_ready(&self) -> bool {
        self.extreme.value().is_some()
    }

    /// The window length in values (`new(0)` reports 1).
    pub fn period(&self) -> usize {
        self.extreme.period
    }

    /// Adds a value (a low, say); returns the lowest of the last `period`
    /// values, the new one included, once `period` values were seen (`None`
    /// for the first `period - 1` calls, the warm-up).
    pub fn update(&mut self, value: f64) -> Option<f64> {
        self.extreme.update(value, |kept, new| kept >= new)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Extreme {
    period: usize,
    index: u64,
    /// (index, value), values monotonic so the front is the extreme.
    queue: VecDeque<(u64, f64)>,
}

impl Extreme {
    fn new(period: usize) -> Self {
        Self {
            period: period.max(1),
            index: 0,
            queue: VecDeque::new(),
        }
    }

    fn update(&mut self, value: f64, dominated: impl Fn(f64, f64) -> bool) -> Option<f64> {
        while self
            .queue
            .back()
            .is_some_and(|&(_, kept)| dominated(kept, value))
        {
            self.queue.pop_back();
        }
        self.queue.push_back((self.index, value));
        self.index += 1;
        let oldest_kept = self.index.saturating_sub(self.period as u64);
        while self.queue.front().is_some_and(|&(i, _)| i < oldest_kept) {
            self.queue.pop_front();
        }
        self.value()
    }

    fn value(&self) -> Option<f64> {
        (self.index >= self.period as u64)
            .then(|| self.queue.front().map(|&(_, v)| v))
            .flatten()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tracks_the_window_extremes() {
        let mut hi = Highest::new(3);
        let mut lo = Lowest::new(3);
        let xs = [5.0, 1.0, 3.0, 2.0, 0.5, 4.0];
        let his: Vec<_> = xs.iter().map(|&x| hi.update(x)).collect();
        let los: Vec<_> = xs.iter().map(|&x| lo.update(x)).collect();
        assert_eq!(
            his,
            [None, None, Some(5.0), Some(3.0), Some(3.0), Some(4.0)]
        );
        assert_eq!(
            los,
            [None, None, Some(1.0), Some(1.0), Some(0.5), Some(0.5)]
        );
        assert_eq!((hi.value(), lo.value()), (Some(4.0), Some(0.5)));
        assert_eq!((hi.period(), lo.is_ready(), hi.warmup_bars()), (3, true, 3));
    }

    // The types' docs promise this: wrong while a NaN is in the window,
    // exact again `period` values later.
    #[test]
    fn a_nan_misleads_only_while_in_the_window() {
        let mut hi = Highest::new(3);
        let got: Vec<_> = [5.0, f64::NAN, 10.0, 1.0, 2.0, 0.5]
            .iter()
            .map(|&x| hi.update(x))
            .collect();
        // With the NaN in the window, 5 hides the 10 that came after it.
        assert_eq!(got[2], Some(5.0));
        assert!(got[3].is_some_and(f64::is_nan));
        assert_eq!(&got[4..], [Some(10.0), Some(2.0)]);
    }
}
