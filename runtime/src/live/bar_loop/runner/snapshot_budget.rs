//! When the bar loop takes the periodic snapshot kept for trap rebuilds:
//! every [`SNAPSHOT_EVERY_BARS`] healthy bars while snapshots are cheap, and
//! less often when they are not, so snapshot time stays a small share of
//! the strategy's own call time (each one is bounded by
//! `limits.state_deadline_us` anyway).

use std::time::Duration;

/// A healthy instance is snapshotted at most every this many of its bars.
pub const SNAPSHOT_EVERY_BARS: u32 = 64;

/// A snapshot that cost at most this is always taken on schedule: under a
/// microsecond per bar, amortised over [`SNAPSHOT_EVERY_BARS`].
pub const FREE_SNAPSHOT_COST: Duration = Duration::from_micros(50);

/// Above [`FREE_SNAPSHOT_COST`], the next snapshot waits until the strategy's
/// calls since the last one took at least this many times its cost: snapshot
/// time stays under 2% of call time.
pub const CALL_TIME_PER_SNAPSHOT_TIME: u32 = 50;

/// Bars and call time since the last snapshot, and what that one cost.
#[derive(Debug, Default, Clone)]
pub(crate) struct SnapshotBudget {
    bars: u32,
    call_time: Duration,
    last_cost: Duration,
}

impl SnapshotBudget {
    /// One healthy `on-bar` call that took `elapsed`.
    pub fn record_call(&mut self, elapsed: Duration) {
        self.bars = self.bars.saturating_add(1);
        self.call_time = self.call_time.saturating_add(elapsed);
    }

    /// Whether the next snapshot is due.
    pub fn due(&self) -> bool {
        self.bars >= SNAPSHOT_EVERY_BARS
            && (self.last_cost <= FREE_SNAPSHOT_COST
                || self.call_time >= self.last_cost.saturating_mul(CALL_TIME_PER_SNAPSHOT_TIME))
    }

    /// A snapshot was taken (or attempted) and cost `cost`.
    pub fn taken(&mut self, cost: Duration) {
        *self = Self {
            last_cost: cost,
            ..Self::default()
        };
    }

    /// A new generation: nothing known about its snapshots yet.
    pub fn reset(&mut self) {
        *self = Self::default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bars_until_due(budget: &mut SnapshotBudget, per_call: Duration) -> u32 {
        let mut bars = 0;
        while !budget.due() {
            budget.record_call(per_call);
            bars += 1;
            assert!(bars < 10_000_000, "never due");
        }
        bars
    }

    /// Regression (hardening issue, item 3): the periodic snapshot for trap
    /// rebuilds ran every 64 bars whatever it cost. Cheap ones still do;
    /// expensive ones wait until they are under 2% of the call time.
    #[test]
    fn regression_13_3_expensive_snapshots_are_taken_less_often() {
        let call = Duration::from_micros(10);
        let mut budget = SnapshotBudget::default();
        assert_eq!(bars_until_due(&mut budget, call), 64);
        budget.taken(Duration::from_micros(20));
        assert_eq!(bars_until_due(&mut budget, call), 64, "cheap: on schedule");
        budget.taken(Duration::from_millis(10));
        // 10 ms × 50 = 500 ms of calls of 10 µs.
        assert_eq!(bars_until_due(&mut budget, call), 50_000);
        budget.reset();
        assert_eq!(bars_until_due(&mut budget, call), 64);
    }
}
