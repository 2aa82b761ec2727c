//! Reload metrics per strategy and in total, updated from every event.

use super::events::{Outcome, ReloadEvent};
use crate::error::Stage;
use serde::Serialize;
use std::collections::BTreeMap;

/// Reload attempts and outcomes of one strategy (or all of them).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ReloadMetrics {
    /// Reload attempts of any outcome.
    pub attempts: u64,
    /// Attempts that published a new generation.
    pub swapped: u64,
    /// Attempts that failed; the running version kept running.
    pub rejected: u64,
    /// Rejections by the stage that failed.
    pub rejected_by_stage: BTreeMap<Stage, u64>,
    /// Rollbacks (by the API or after traps).
    pub rolled_back: u64,
    /// Retirements by a config edit.
    pub retired: u64,
    /// Quarantines after repeated traps.
    pub quarantined: u64,
    /// Builds that went live again on their optimised code (tier-ups).
    pub tiered_up: u64,
    /// When the last attempt ended (RFC 3339).
    pub last_reload_at: Option<String>,
    /// The last rejection's error.
    pub last_error: Option<String>,
    /// Stage durations of the last attempt that timed any, in microseconds.
    pub last_durations_us: BTreeMap<Stage, u64>,
}

impl ReloadMetrics {
    pub(crate) fn record(&mut self, event: &ReloadEvent) {
        self.attempts += 1;
        self.last_reload_at = Some(event.ts.clone());
        if !event.duration_us.is_empty() {
            self.last_durations_us = event.duration_us.clone();
        }
        match event.outcome {
            Outcome::Swapped => self.swapped += 1,
            Outcome::RolledBack => self.rolled_back += 1,
            Outcome::Retired => self.retired += 1,
            // A candidate or a waiting swap: nothing went live yet.
            Outcome::Candidate | Outcome::Pending => {}
            Outcome::TieredUp => self.tiered_up += 1,
            Outcome::Quarantined => {
                self.quarantined += 1;
                self.last_error = event.error.clone();
            }
            Outcome::Rejected => {
                self.rejected += 1;
                if let Some(stage) = event.stage {
                    *self.rejected_by_stage.entry(stage).or_default() += 1;
                }
                self.last_error = event.error.clone();
            }
        }
    }

    /// Sums counters over strategies (the last-* fields are the newest).
    pub fn total<'a>(all: impl IntoIterator<Item = &'a ReloadMetrics>) -> ReloadMetrics {
        let mut total = ReloadMetrics::default();
        for m in all {
            total.attempts += m.attempts;
            total.swapped += m.swapped;
            total.rejected += m.rejected;
            total.rolled_back += m.rolled_back;
            total.retired += m.retired;
            total.quarantined += m.quarantined;
            total.tiered_up += m.tiered_up;
            for (stage, n) in &m.rejected_by_stage {
                *total.rejected_by_stage.entry(*stage).or_default() += n;
            }
            if m.last_reload_at > total.last_reload_at {
                total.last_reload_at = m.last_reload_at.clone();
                total.last_error = m.last_error.clone();
                total.last_durations_us = m.last_durations_us.clone();
            }
        }
        total
    }
}

#[cfg(test)]
mod tests {
    use super::super::events::Trigger;
    use super::*;

    #[test]
    fn counts_outcomes_and_rejections_by_stage() {
        let mut m = ReloadMetrics::default();
        m.record(&ReloadEvent::base("a", Outcome::Swapped, Trigger::File));
        let mut rejected = ReloadEvent::base("a", Outcome::Rejected, Trigger::File);
        rejected.stage = Some(Stage::Verify);
        rejected.error = Some("bad hash".into());
        m.record(&rejected);
        m.record(&rejected);
        assert_eq!((m.attempts, m.swapped, m.rejected), (3, 1, 2));
        assert_eq!(m.rejected_by_stage.get(&Stage::Verify), Some(&2));
        assert_eq!(m.last_error.as_deref(), Some("bad hash"));
        let total = ReloadMetrics::total([&m, &m]);
        assert_eq!((total.attempts, total.rejected), (6, 4));
    }
}
