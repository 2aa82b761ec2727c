//! Traps: each strategy's streak of traps and the traps of its build within
//! `hot_reload.trap_window_bars`; after a trap a rebuild from the cached
//! component (restoring the last good snapshot, never feeding the bar that
//! trapped again), a rollback after `hot_reload.rollback_after_traps` traps in
//! a row or within the window, quarantine when neither is possible. Also the repair of the history when
//! the loop refused a generation at its handoff.

use super::super::events::{Outcome, ReloadEvent, TrapEvent, Trigger};
use super::super::loop_event::{GoodSnapshot, HandoffFailure};
use super::super::shared::lock;
use super::ControlPlane;
use super::reload::AfterTraps;
use crate::error::{LoadError, Stage};
use std::collections::{HashMap, VecDeque};

/// A run of consecutive traps of one strategy.
#[derive(Clone)]
struct TrapStreak {
    first_seq: u64,
    /// The last snapshot the strategy made while healthy.
    snapshot: Option<GoodSnapshot>,
}

/// The traps of one build (SHA-256 and params) within the window.
#[derive(Default)]
struct WindowedTraps {
    build: (String, String),
    /// Sequence numbers of its traps, oldest first.
    seqs: VecDeque<u64>,
}

/// Each strategy's current run of traps, and its build's traps in the window.
#[derive(Default)]
pub(super) struct TrapStreaks {
    streaks: HashMap<String, TrapStreak>,
    windows: HashMap<String, WindowedTraps>,
}

impl TrapStreaks {
    /// Counts a trap of `build` (SHA-256, params digest) at `seq` and returns
    /// how many traps that build had in the last `window` bars, this one
    /// included. Good bars between traps do not reset it; a new build does.
    fn count_in_window(
        &mut self,
        id: &str,
        build: (String, String),
        seq: u64,
        window: u64,
    ) -> usize {
        let traps = self.windows.entry(id.to_owned()).or_default();
        if traps.build != build {
            *traps = WindowedTraps {
                build,
                seqs: VecDeque::new(),
            };
        }
        traps.seqs.push_back(seq);
        while traps
            .seqs
            .front()
            .is_some_and(|first| seq.saturating_sub(*first) >= window)
        {
            traps.seqs.pop_front();
        }
        traps.seqs.len()
    }

    /// Adds a trap to its strategy's streak (a first trap starts a new one)
    /// and returns how to rebuild after it.
    fn record(&mut self, trap: &TrapEvent, last_good: Option<GoodSnapshot>) -> AfterTraps {
        let streak = self
            .streaks
            .entry(trap.strategy.clone())
            .or_insert(TrapStreak {
                first_seq: trap.seq,
                snapshot: None,
            });
        if trap.consecutive == 1 {
            *streak = TrapStreak {
                first_seq: trap.seq,
                snapshot: None,
            };
        }
        // A rebuilt instance that traps before its first snapshot leaves the
        // streak's earlier one in place.
        if last_good.is_some() {
            streak.snapshot = last_good;
        }
        AfterTraps {
            first_seq: streak.first_seq,
            last_seq: trap.seq,
            snapshot: streak.snapshot.clone(),
        }
    }

    pub(super) fn forget(&mut self, id: &str) {
        self.streaks.remove(id);
        self.windows.remove(id);
    }
}

impl ControlPlane {
    /// A trap the event thread has published already: rebuild, roll back or
    /// quarantine the strategy.
    pub(super) fn trapped(&mut self, trap: TrapEvent, last_good: Option<GoodSnapshot>) {
        let id = trap.strategy.clone();
        let version = trap.version;
        let consecutive = trap.consecutive;
        let after = self.traps.record(&trap, last_good);
        let Some((live_version, recipe)) = self.current(&id) else {
            return;
        };
        if live_version != version {
            return; // a newer generation is already on its way
        }
        let hot = &self.config.hot_reload;
        let limit = hot.rollback_after_traps.max(1);
        let build = (recipe.sha256.clone(), recipe.params_hash.clone());
        let in_window =
            self.traps
                .count_in_window(&id, build, trap.seq, hot.trap_window_bars.max(1));
        let escalate = consecutive >= limit || in_window >= limit as usize;
        if escalate && consecutive < limit {
            tracing::warn!(
                strategy = %id, traps = in_window, window_bars = hot.trap_window_bars,
                "trapped {in_window} times within `hot_reload.trap_window_bars`; rolling back"
            );
        }
        let rebuilt = !escalate && {
            let event = self.rebuild(
                &id,
                recipe.params,
                recipe.limits,
                Trigger::Trap,
                Some(after),
            );
            event.outcome == Outcome::Swapped
        };
        if !rebuilt && self.rollback(&id, 1, Trigger::Trap).is_err() {
            self.quarantine(&trap);
        }
    }

    fn quarantine(&mut self, trap: &TrapEvent) {
        let id = &trap.strategy;
        // The hint of the trap itself: a snapshot deadline names
        // `limits.state_deadline_us`, an on-bar one `limits.deadline_us`.
        let kind_hint =
            crate::instance::CallError::hint_for(&trap.export, &trap.kind, &trap.message);
        let reason = format!(
            "trapped {} time(s) in a row (or `hot_reload.rollback_after_traps` times within `hot_reload.trap_window_bars`) and cannot be rebuilt, with no earlier version to roll back to; a fixed file or config edit brings it back",
            trap.consecutive
        );
        let mut event = ReloadEvent::base(id, Outcome::Quarantined, Trigger::Trap);
        event.version = Some(trap.version);
        event.sha256 = self.current_sha(id);
        event.error = Some(reason.clone());
        event.hint = Some(kind_hint.to_owned());
        self.emit_reload(event);
        // After the event, so whoever sees the state can find why.
        lock(&self.shared.quarantined).insert(id.clone(), reason);
    }

    /// The loop put the old generation back after the new one trapped while
    /// taking over: make the history's newest entry describe it again and
    /// report the reload as rejected, with the trigger that published it.
    pub(super) fn handoff_failed(&mut self, failure: HandoffFailure) {
        let HandoffFailure {
            strategy,
            version,
            trigger,
            error,
        } = failure;
        let mut previous_sha256 = None;
        let mut failed_sha256 = None;
        if let Some(state) = self.slots.get(&strategy) {
            let live = state.slot.current.load_full();
            previous_sha256 = Some(live.sha256().to_owned());
            if let Some(history) = lock(&self.shared.versions).get_mut(&strategy) {
                failed_sha256 = history.handoff_failed(version, live.version, &live.recipe);
            }
        }
        let load_error = LoadError::new(Stage::StateHandoff, error).hint(
            "the new version trapped while taking over the running state; the old version keeps running",
        );
        let mut event = ReloadEvent::rejected(&strategy, trigger, &load_error);
        event.version = Some(version);
        event.sha256 = failed_sha256;
        event.previous_sha256 = previous_sha256;
        self.emit_reload(event);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn build(sha: &str) -> (String, String) {
        (sha.to_owned(), "params".to_owned())
    }

    #[test]
    fn traps_separated_by_good_bars_add_up_within_the_window() {
        let mut traps = TrapStreaks::default();
        let counts: Vec<usize> = [100, 105, 110, 1_099, 1_106]
            .iter()
            .map(|seq| traps.count_in_window("s", build("a"), *seq, 1000))
            .collect();
        // 1,099 still sees 100 (999 bars back); 1,106 no longer sees 100 or 105.
        assert_eq!(counts, [1, 2, 3, 4, 3]);
    }

    #[test]
    fn a_new_build_starts_a_new_count() {
        let mut traps = TrapStreaks::default();
        assert_eq!(traps.count_in_window("s", build("a"), 10, 1000), 1);
        assert_eq!(traps.count_in_window("s", build("a"), 20, 1000), 2);
        assert_eq!(traps.count_in_window("s", build("b"), 30, 1000), 1);
        assert_eq!(
            traps.count_in_window("t", build("b"), 30, 1000),
            1,
            "per strategy"
        );
        traps.forget("s");
        assert_eq!(traps.count_in_window("s", build("b"), 40, 1000), 1);
    }
}
