//! Rollback: a version kept in the history goes live again, from its cached
//! component (nothing read or compiled).

use super::super::events::{Outcome, ReloadEvent, Trigger};
use super::super::shared::lock;
use super::ControlPlane;
use super::publish::Publication;
use super::reload::Warmup;
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
        let target = lock(&self.shared.versions)
            .get(id)
            .map(|history| history.rollback_target(steps));
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
