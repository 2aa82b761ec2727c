//! Counts that only events carry: how long each reload stage took (the
//! runtime keeps only the last reload's timings) and traps by kind. Fed by
//! the bridge thread from the runtime's backlog at start and every event
//! after, so nothing is missed or counted twice.

use crate::TrapKind;
use crate::error::Stage;
use crate::live::Event;
use std::collections::BTreeMap;

/// Upper bounds of the reload stage duration buckets, in seconds: from a
/// cache hit (~0.1 ms) to a slow cold compile (seconds).
pub const STAGE_BUCKETS: [f64; 13] = [
    0.0001, 0.0005, 0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
];

/// A fixed-bucket histogram in seconds.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Histogram {
    /// Per bucket of [`STAGE_BUCKETS`], not cumulative.
    pub buckets: [u64; STAGE_BUCKETS.len()],
    pub count: u64,
    pub sum: f64,
}

impl Histogram {
    pub fn observe(&mut self, seconds: f64) {
        if let Some(i) = STAGE_BUCKETS.iter().position(|le| seconds <= *le) {
            self.buckets[i] += 1;
        }
        self.count += 1;
        self.sum += seconds;
    }

    /// `(le, cumulative count)` pairs, without `+Inf` (that is `count`).
    pub fn cumulative(&self) -> Vec<(f64, u64)> {
        let mut total = 0;
        STAGE_BUCKETS
            .iter()
            .zip(self.buckets)
            .map(|(le, n)| {
                total += n;
                (*le, total)
            })
            .collect()
    }
}

#[derive(Debug, Default)]
pub struct EventMetrics {
    pub stage_seconds: BTreeMap<Stage, Histogram>,
    /// `(strategy, kind)` -> traps.
    pub traps: BTreeMap<(String, &'static str), u64>,
    /// Events seen, by kind (`reload`, `trap`, ...).
    pub events: BTreeMap<&'static str, u64>,
}

pub fn trap_kind(kind: &TrapKind) -> &'static str {
    match kind {
        TrapKind::OutOfFuel => "out_of_fuel",
        TrapKind::Deadline => "deadline",
        TrapKind::Trap => "trap",
        TrapKind::Oversized => "oversized",
        TrapKind::Other => "other",
    }
}

pub fn event_kind(event: &Event) -> &'static str {
    match event {
        Event::Reload(_) => "reload",
        Event::Trap(_) => "trap",
        Event::Handoff(_) => "handoff",
        Event::Stop(_) => "stop",
        Event::Refusal(_) => "refusal",
        Event::State(_) => "state",
        Event::Snapshot(_) => "snapshot",
        Event::Cache(_) => "cache",
        Event::Deploy(_) => "deploy",
    }
}

impl EventMetrics {
    pub fn observe(&mut self, event: &Event) {
        *self.events.entry(event_kind(event)).or_default() += 1;
        match event {
            Event::Reload(reload) => {
                for (stage, us) in &reload.duration_us {
                    self.stage_seconds
                        .entry(*stage)
                        .or_default()
                        .observe(*us as f64 / 1e6);
                }
            }
            Event::Trap(trap) => {
                *self
                    .traps
                    .entry((trap.strategy.clone(), trap_kind(&trap.kind)))
                    .or_default() += 1;
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_cumulative_and_overflow_only_counts() {
        let mut h = Histogram::default();
        for s in [0.00005, 0.0003, 0.0003, 0.07, 9.0] {
            h.observe(s);
        }
        let c = h.cumulative();
        assert_eq!(c[0], (0.0001, 1));
        assert_eq!(c[1], (0.0005, 3));
        assert_eq!(c[7], (0.1, 4));
        assert_eq!(c.last(), Some(&(5.0, 4)));
        assert_eq!(h.count, 5);
        assert!((h.sum - 9.07065).abs() < 1e-9);
    }
}
