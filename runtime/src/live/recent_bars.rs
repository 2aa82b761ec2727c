//! Recent bars (not versions: see `control/versions.rs`), shared with the control plane for smoke tests and warm-up.
//! The bar loop never waits for it: it appends with `try_lock` and keeps a
//! backlog when the control plane happens to be copying.

use crate::contract::Bar;
use std::collections::VecDeque;
use std::sync::Mutex;

pub struct SharedRecentBars {
    bars: Mutex<VecDeque<Bar>>,
    capacity: usize,
}

impl SharedRecentBars {
    pub fn new(capacity: usize) -> Self {
        Self {
            bars: Mutex::new(VecDeque::with_capacity(capacity)),
            capacity: capacity.max(1),
        }
    }

    /// The control plane's copy of the recent bars, oldest first.
    pub fn recent(&self) -> Vec<Bar> {
        let bars = self.bars.lock().unwrap_or_else(|p| p.into_inner());
        bars.iter().copied().collect()
    }

    /// Bar-loop side: moves `backlog` in unless the lock is busy.
    pub(crate) fn try_append(&self, backlog: &mut Vec<Bar>) {
        if let Ok(mut bars) = self.bars.try_lock() {
            for bar in backlog.drain(..) {
                if bars.len() == self.capacity {
                    bars.pop_front();
                }
                bars.push_back(bar);
            }
        }
    }
}

/// The loop's own ring of recent bars, for catching a new generation up.
pub(crate) struct LoopRecentBars {
    bars: VecDeque<Bar>,
    capacity: usize,
}

impl LoopRecentBars {
    pub(crate) fn new(capacity: usize) -> Self {
        Self {
            bars: VecDeque::with_capacity(capacity.max(1)),
            capacity: capacity.max(1),
        }
    }

    pub(crate) fn push(&mut self, bar: Bar) {
        if self.bars.len() == self.capacity {
            self.bars.pop_front();
        }
        self.bars.push_back(bar);
    }

    /// Bars with `after < seq < before`, oldest first.
    pub(crate) fn between(&self, after: Option<u64>, before: u64) -> impl Iterator<Item = &Bar> {
        self.bars
            .iter()
            .filter(move |b| after.is_none_or(|a| b.seq > a) && b.seq < before)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bar(seq: u64) -> Bar {
        Bar {
            seq,
            ts_ms: 0,
            symbol: 0,
            open: 1.0,
            high: 1.0,
            low: 1.0,
            close: 1.0,
            volume: 1.0,
        }
    }

    #[test]
    fn shared_history_keeps_the_newest_and_survives_a_busy_lock() {
        let history = SharedRecentBars::new(3);
        let mut backlog = vec![bar(0), bar(1)];
        {
            let _held = history.bars.lock().unwrap();
            history.try_append(&mut backlog);
        }
        assert_eq!(backlog.len(), 2, "kept while the lock was busy");
        backlog.extend([bar(2), bar(3)]);
        history.try_append(&mut backlog);
        assert!(backlog.is_empty());
        let seqs: Vec<u64> = history.recent().iter().map(|b| b.seq).collect();
        assert_eq!(seqs, [1, 2, 3]);
    }

    #[test]
    fn local_history_selects_the_gap() {
        let mut local = LoopRecentBars::new(10);
        (0..6).for_each(|s| local.push(bar(s)));
        let seqs: Vec<u64> = local.between(Some(2), 5).map(|b| b.seq).collect();
        assert_eq!(seqs, [3, 4]);
        assert_eq!(local.between(None, 2).count(), 2);
    }
}
