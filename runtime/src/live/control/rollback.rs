//! Rollback: a version kept in the history goes live again, from its cached
//! component (nothing read or compiled).

use super::super::events::{Outcome, ReloadEvent, Trigger};
use super::super::shared::lock;
use super::ControlPlane;
use super::publish::Publication;
use super::reload::Warmup;
use crate::load::StageTimings;

impl ControlPlane {
    pub(super) fn rollback(
        &mut self,
        id: &str,
        steps: usize,
        trigger: Trigger,
    ) -> Result<ReloadEvent, String> {
        let Some(state) = self.slots.get(id) else {
            return Err(format!("no running strategy `{id}`"));
        };
        let strategy = state.config.clone();
        let target = lock(&self.shared.versions)
            .get(id)
            .map(|history| history.rollback_target(steps));
        let target = match target {
            Some(Ok(recipe)) => recipe,
            Some(Err(not_kept)) => {
                return Err(format!(
                    "cannot roll `{id}` back {steps} step(s): {} earlier version(s) kept (`hot_reload.keep_versions` = {})",
                    not_kept.kept, self.config.hot_reload.keep_versions
                ));
            }
            None => return Err(format!("no running strategy `{id}`")),
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
            },
        });
        if event.outcome == Outcome::Rejected {
            return Err(event.error.unwrap_or_else(|| "rollback failed".into()));
        }
        if let Some(history) = lock(&self.shared.versions).get_mut(id) {
            history.rolled_back(steps);
            history.trim(self.config.hot_reload.keep_versions);
        }
        Ok(event)
    }
}
