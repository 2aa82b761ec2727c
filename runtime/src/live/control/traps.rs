//! Traps: each strategy's streak of traps; after a trap a rebuild from the
//! cached component (restoring the last good snapshot, never feeding the bar
//! that trapped again), a rollback after `hot_reload.rollback_after_traps`,
//! quarantine when neither is possible. Also the repair of the history when
//! the loop refused a generation at its handoff.

use super::super::events::{Outcome, ReloadEvent, TrapEvent, Trigger};
use super::super::loop_event::{GoodSnapshot, HandoffFailure};
use super::super::shared::lock;
use super::ControlPlane;
use super::reload::AfterTraps;
use crate::error::{LoadError, Stage};
use std::collections::HashMap;

/// A run of consecutive traps of one strategy.
#[derive(Clone)]
struct TrapStreak {
    first_seq: u64,
    /// The last snapshot the strategy made while healthy.
    snapshot: Option<GoodSnapshot>,
}

/// Each strategy's current run of traps.
#[derive(Default)]
pub(super) struct TrapStreaks {
    streaks: HashMap<String, TrapStreak>,
}

impl TrapStreaks {
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
        let limit = self.config.hot_reload.rollback_after_traps.max(1);
        let rebuilt = consecutive < limit && {
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
        let kind_hint = crate::instance::CallError {
            export: "on-bar",
            kind: trap.kind.clone(),
            message: String::new(),
            backtrace: None,
        }
        .hint();
        let reason = format!(
            "trapped {} time(s) in a row and cannot be rebuilt, with no earlier version to roll back to; a fixed file or config edit brings it back",
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
