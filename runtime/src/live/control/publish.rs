//! Publish: build the live instance, make it a [`Generation`] of the
//! strategy's slot (a new slot and roster when the symbols change or the
//! strategy is new), record it in the version history and announce it.
//! Retire takes a strategy off the roster.

use super::super::events::{Outcome, ReloadEvent, Trigger, durations};
use super::super::generation::{Generation, Recipe, Roster, StrategySlot};
use super::super::shared::lock;
use super::reload::{Warmup, warm_instance};
use super::versions::VersionHistory;
use super::{ControlPlane, SlotState};
use crate::config::StrategyConfig;
use crate::error::Stage;
use crate::load::StageTimings;
use std::sync::Arc;
use std::time::Instant;

/// A recipe that passed the pipeline (or a known one: rollback), to go live.
pub(super) struct Publication<'a> {
    pub id: &'a str,
    pub strategy: &'a StrategyConfig,
    pub recipe: Recipe,
    pub trigger: Trigger,
    pub outcome: Outcome,
    pub cache_hit: bool,
    pub timings: StageTimings,
    pub warmup: Warmup<'a>,
}

impl ControlPlane {
    /// Builds the live instance (fresh store, init, warm-up replay) and
    /// publishes it: the bar loop picks it up at its next bar of the strategy.
    pub(super) fn publish(&mut self, publication: Publication<'_>) -> ReloadEvent {
        let Publication {
            id,
            strategy,
            recipe,
            trigger,
            mut outcome,
            cache_hit,
            mut timings,
            warmup,
        } = publication;
        // What was asked; `outcome` says `pending` when the swap waits.
        let asked = outcome;
        let symbols = self.symbols_of(strategy);
        let started = Instant::now();
        let instance = warm_instance(id, &recipe, &symbols, &warmup);
        timings
            .stages
            .push((Stage::StateHandoff, started.elapsed()));
        let previous_sha256 = self
            .slots
            .get(id)
            .map(|s| s.slot.current.load().sha256().to_owned());
        let instance = match instance {
            Ok(instance) => instance,
            Err(error) => {
                let error = error.for_strategy(id, &self.config.wasm_path(strategy));
                let mut event = ReloadEvent::rejected(id, trigger, &error);
                event.duration_us = durations(&timings);
                event.sha256 = Some(recipe.sha256.clone());
                event.previous_sha256 = previous_sha256;
                return self.emit_reload(event);
            }
        };
        let version = {
            let mut versions = lock(&self.shared.versions);
            let history = versions
                .entry(id.to_owned())
                .or_insert_with(VersionHistory::new);
            // A tier-up is the same version on other code: operators,
            // rollbacks and the history keep one number per build and params.
            match history.current() {
                Some((live, _)) if outcome == Outcome::TieredUp => *live,
                _ => history.take_version(),
            }
        };
        let generation = Arc::new(Generation::new(
            Arc::from(id),
            version,
            recipe.clone(),
            instance,
            warmup.warmed_through,
            trigger,
        ));
        let same_symbols = self.slots.get(id).is_some_and(|state| {
            state
                .slot
                .symbols
                .iter()
                .map(|s| &**s)
                .eq(symbols.iter().map(String::as_str))
        });
        if same_symbols && let Some(state) = self.slots.get_mut(id) {
            state.config = strategy.clone();
            let slot = Arc::clone(&state.slot);
            // By the swap policy: at once, or waiting (`swap_policy.rs`).
            if self.swap_in(&slot, strategy, generation, trigger, false) {
                outcome = Outcome::Pending;
            }
        } else {
            // A new strategy, or new symbols: a new slot (and a fresh paper
            // account); the roster swaps old for new in one store, so the
            // loop never runs a bar without the strategy.
            let slot = Arc::new(StrategySlot::new(
                id,
                &symbols,
                &self.feed_symbols,
                generation,
                self.config.risk_of(strategy),
            ));
            self.slots.insert(
                id.to_owned(),
                SlotState {
                    slot,
                    config: strategy.clone(),
                },
            );
            self.publish_roster();
        }
        {
            let mut versions = lock(&self.shared.versions);
            if let Some(history) = versions.get_mut(id) {
                history.record(version, &recipe);
                if asked != Outcome::RolledBack {
                    history.trim(self.config.hot_reload.keep_versions);
                }
            }
        }
        lock(&self.shared.quarantined).remove(id);
        let mut event = ReloadEvent::base(id, outcome, trigger);
        event.sha256 = Some(recipe.sha256.clone());
        event.previous_sha256 = previous_sha256;
        event.version = Some(version);
        event.duration_us = durations(&timings);
        event.cache_hit = cache_hit;
        event.tier = Some(recipe.tier);
        self.emit_reload(event)
    }

    pub(super) fn publish_roster(&self) {
        let roster: Roster = self.slots.values().map(|s| Arc::clone(&s.slot)).collect();
        self.roster.store(Arc::new(roster));
    }

    /// Takes a strategy off the roster (a config edit removed it); the loop
    /// stops calling it at its next bar.
    pub(super) fn retire(&mut self, id: &str, trigger: Trigger) -> ReloadEvent {
        self.slots.remove(id);
        self.publish_roster();
        let history = lock(&self.shared.versions).remove(id);
        lock(&self.shared.quarantined).remove(id);
        self.traps.forget(id);
        self.retries.reset(id);
        super::disk::forget(&self.shared, id);
        let mut event = ReloadEvent::base(id, Outcome::Retired, trigger);
        if let Some((version, recipe)) = history.as_ref().and_then(|h| h.current()) {
            event.version = Some(*version);
            event.previous_sha256 = Some(recipe.sha256.clone());
        }
        self.emit_reload(event)
    }
}
