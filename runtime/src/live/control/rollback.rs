//! Rollback: a version kept in the history goes live again, from its cached
//! component (nothing read or compiled).

use super::super::events::{DeployWhat, Outcome, ReloadEvent, Trigger};
use super::super::shared::lock;
use super::ControlPlane;
use super::publish::Publication;
use super::reload::Warmup;
use super::swap_policy::trigger_name;
use crate::action::{Action, Rollback};
use crate::load::StageTimings;
use crate::refusal::Refusal;

impl ControlPlane {
    pub(super) fn rollback(
        &mut self,
        id: &str,
        steps: usize,
        trigger: Trigger,
    ) -> Result<ReloadEvent, Refusal> {
        let unknown = || Refusal::UnknownStrategy {
            strategy: id.to_owned(),
            running: self.slots.keys().cloned().collect(),
        };
        let Some(state) = self.slots.get(id) else {
            return Err(unknown());
        };
        let strategy = state.config.clone();
        // A rollback steps back from the version that runs: a version
        // waiting for its swap policy is the history's newest entry, so the
        // steps count past it, and it is dropped once the target is known.
        let slot = std::sync::Arc::clone(&state.slot);
        let target_past = |waiting: usize| {
            lock(&self.shared.versions).get(id).map(|history| {
                history
                    .rollback_target(steps + waiting)
                    .map_err(|not_kept| super::versions::NotKept {
                        kept: not_kept.kept.saturating_sub(waiting),
                    })
            })
        };
        let waiting = slot.shadow.pending().is_some();
        let mut target = target_past(usize::from(waiting));
        if waiting && matches!(target, Some(Ok(_))) {
            let cancelled = self.cancel_pending(
                &slot,
                DeployWhat::SwapCancelled,
                trigger_name(trigger),
                "a rollback was asked for",
            );
            if cancelled.is_none() {
                // The loop took the waiting swap meanwhile: it is live now.
                target = target_past(0);
            }
        }
        let target = match target {
            // A known build goes back on its optimised code when the
            // compile cache has it, whatever code it ran on before.
            Some(Ok(recipe)) => self.with_best_code(recipe),
            Some(Err(not_kept)) => {
                return Err(Refusal::NoEarlierVersion {
                    strategy: id.to_owned(),
                    steps,
                    kept: not_kept.kept,
                    keep_versions: self.config.hot_reload.keep_versions,
                });
            }
            None => return Err(unknown()),
        };
        let symbols = self.symbols_of(&strategy);
        let (recent, warmed_through) = self.recent_bars(&symbols);
        let event = self.publish(Publication {
            id,
            strategy: &strategy,
            recipe: target,
            trigger,
            outcome: Outcome::RolledBack,
            cache_hit: true,
            timings: StageTimings::default(),
            warmup: Warmup {
                recent: &recent,
                warmed_through,
                restore_from: None,
                equity: self.smoke_setup(id).equity,
            },
        });
        if event.outcome == Outcome::Rejected {
            return Err(Refusal::ReloadRejected {
                action: Action::Rollback(Rollback::Steps(steps)),
                event: Box::new(event),
            });
        }
        if let Some(history) = lock(&self.shared.versions).get_mut(id) {
            history.rolled_back(steps);
            history.trim(self.config.hot_reload.keep_versions);
        }
        self.tier_up_if_baseline(&event);
        Ok(event)
    }
}
