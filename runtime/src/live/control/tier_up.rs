//! Tier-up (`hot_reload.tiering = "auto"`): a build that went live on
//! Winch's baseline code is compiled again by Cranelift on the compile pool,
//! off the control plane; when its optimised code is ready and the build is
//! still the live one, the same recipe is rebuilt on that code — smoke test,
//! warm-up, publish — and the bar loop hands over at a bar boundary with the
//! usual snapshot/restore, as at any swap. The reload event says
//! `outcome = "tiered_up"`, `trigger = "tier_up"`, `tier = "optimized"`.
//!
//! Nothing here waits: a tier-up whose build was replaced meanwhile (a new
//! file, a rollback) is dropped, and its optimised code stays in the compile
//! cache for a later redeploy or rollback.

use super::super::command::ControlCommand;
use super::super::events::{Outcome, ReloadEvent, Trigger};
use super::super::generation::StrategySlot;
use super::super::shared::lock;
use super::ControlPlane;
use crate::error::LoadError;
use crate::load::{Tier, TierUpCompile, Tiering};
use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A tier-up compile that ended, back on the control plane.
pub(crate) struct TierUpDone {
    /// The strategy it was for.
    pub(crate) id: String,
    /// The build it compiled.
    sha256: String,
    /// `None`: the build's bytes were no longer kept (nothing compiled);
    /// else whether Cranelift compiled and type-checked it (the code is in
    /// the loader's cache under (SHA-256, optimized)).
    result: Option<Result<(), LoadError>>,
    /// The build was no longer the strategy's (live, candidate or waiting
    /// swap) when the compile pool took the job: nothing compiled, and a
    /// later sweep may tier it up if it comes back.
    superseded: bool,
    /// How long the compile took, waiting for the idle CPU included.
    took: Duration,
}

/// Tier-ups in flight (one per strategy and build) and those that wait for
/// the pipeline to be attached (start-up loads).
#[derive(Default)]
pub(super) struct TierUps {
    running: HashSet<(String, String)>,
    waiting: Vec<(String, String)>,
    /// Builds whose tier-up was tried while they were live (done, refused
    /// by Cranelift, or without bytes): the sweep does not try them again.
    settled: HashSet<(String, String)>,
}

impl ControlPlane {
    /// After a generation went live: if its code is baseline code, start
    /// compiling the optimised code of its build.
    pub(super) fn tier_up_if_baseline(&mut self, event: &ReloadEvent) {
        if !matches!(event.outcome, Outcome::Swapped | Outcome::RolledBack) {
            return;
        }
        if let (Some(sha256), Some(tier)) = (&event.sha256, event.tier) {
            self.tier_up_build(&event.strategy, sha256, tier);
        }
    }

    /// Starts the optimising compile of `id`'s build `sha256` when it was
    /// loaded on baseline code under `tiering = "auto"`: a build that went
    /// live tiers up when it is done; a shadow candidate's optimised code
    /// waits in the compile cache, and its promotion tiers it up at once.
    pub(super) fn tier_up_build(&mut self, id: &str, sha256: &str, tier: Tier) {
        if tier == Tier::Baseline && self.config.tiering() == Tiering::Auto {
            self.start_tier_up(id.to_owned(), sha256.to_owned());
        }
    }

    /// Every live generation still on baseline code that the loop has
    /// taken (it served a bar) and whose tier-up was never tried: a
    /// promoted candidate, a swap that waited for its policy. Called on
    /// the control plane's tick.
    pub(super) fn tier_up_live_baseline(&mut self) {
        if self.config.tiering() != Tiering::Auto || self.pipeline.is_none() {
            return;
        }
        let due: Vec<(String, String)> = self
            .slots
            .iter()
            .filter_map(|(id, state)| {
                let live = state.slot.current.load();
                let key = (id.clone(), live.sha256().to_owned());
                let due = live.recipe.tier == Tier::Baseline
                    && live.stats.bars() > 0
                    && !self.tier_ups.settled.contains(&key)
                    && !self.tier_ups.running.contains(&key);
                due.then_some(key)
            })
            .collect();
        for (id, sha256) in due {
            self.start_tier_up(id, sha256);
        }
    }

    /// The pipeline is attached: start the tier-ups of start-up loads.
    pub(super) fn start_waiting_tier_ups(&mut self) {
        for (id, sha256) in std::mem::take(&mut self.tier_ups.waiting) {
            self.start_tier_up(id, sha256);
        }
    }

    fn start_tier_up(&mut self, id: String, sha256: String) {
        let Some(pipeline) = &self.pipeline else {
            self.tier_ups.waiting.push((id, sha256));
            return;
        };
        if !self.tier_ups.running.insert((id.clone(), sha256.clone())) {
            return;
        }
        let loader = Arc::clone(&pipeline.loader);
        let results = pipeline.results.clone();
        let slot = self.slots.get(&id).map(|state| Arc::clone(&state.slot));
        let (thread_id, thread_sha) = (id.clone(), sha256.clone());
        let spawned = crate::threads::spawn(format!("sandbar-tier-up-{id}"), move || {
            let started = Instant::now();
            let wanted = || {
                slot.as_deref()
                    .is_none_or(|slot| slot_has_build(slot, &thread_sha))
            };
            let compiled = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    loader.optimize(&thread_sha, &wanted)
                }))
                .unwrap_or_else(|_| {
                    TierUpCompile::Compiled(Err(LoadError::new(
                        crate::error::Stage::Compile,
                        "the tier-up compile panicked",
                    )
                    .hint("this is a runtime bug: report it with the component; the build keeps running on its baseline code")))
                });
            let (result, superseded) = match compiled {
                TierUpCompile::Compiled(result) => (Some(result.map(drop)), false),
                TierUpCompile::NoBytes => (None, false),
                TierUpCompile::Superseded => (None, true),
            };
            let done = TierUpDone {
                id: thread_id,
                sha256: thread_sha,
                result,
                superseded,
                took: started.elapsed(),
            };
            // Fails only when the control plane has stopped.
            let _ = results.send(ControlCommand::TierUpCompiled(Box::new(done)));
        });
        if let Err(error) = spawned {
            self.tier_ups.running.remove(&(id.clone(), sha256));
            tracing::warn!(strategy = %id, %error, "cannot start the tier-up compile; the build keeps running on its baseline code");
        }
    }

    /// A tier-up compile ended: if its build is still live on baseline
    /// code, rebuild it on the optimised code (published at the next bar).
    pub(super) fn tier_up_compiled(&mut self, done: TierUpDone) {
        let TierUpDone {
            id,
            sha256,
            result,
            superseded,
            took,
        } = done;
        let key = (id.clone(), sha256.clone());
        self.tier_ups.running.remove(&key);
        if superseded {
            tracing::debug!(strategy = %id, sha256, "a newer build replaced this one before its tier-up compile started; nothing compiled");
            return;
        }
        if !matches!(result, Some(Ok(()))) {
            self.tier_ups.settled.insert(key.clone());
        }
        match result {
            None => {
                tracing::debug!(strategy = %id, sha256, "no bytes kept for a tier-up; staying on baseline code");
                return;
            }
            Some(Err(error)) => {
                // Cranelift refused what Winch compiled: the build keeps
                // running on baseline code; say so once.
                let mut event = ReloadEvent::rejected(&id, Trigger::TierUp, &error);
                event.sha256 = Some(sha256);
                event.tier = Some(Tier::Optimized);
                self.emit_reload(event);
                return;
            }
            Some(Ok(())) => {}
        }
        let Some((_, current)) = self.current(&id) else {
            return;
        };
        // The build must be the published live one: a candidate's, or a
        // promotion still waiting for its swap policy, stays as it is (a
        // tier-up never waits for a policy, so it must not jump one).
        let published = self
            .slots
            .get(&id)
            .is_some_and(|state| state.slot.current.load().sha256() == sha256);
        let live_on_it = published && current.sha256 == sha256 && current.tier == Tier::Baseline;
        if !live_on_it || lock(&self.shared.quarantined).contains_key(&id) {
            tracing::debug!(strategy = %id, sha256, "the build tiered up is no longer live on baseline code; its optimised code stays cached");
            return;
        }
        self.tier_ups.settled.insert(key);
        tracing::info!(
            strategy = %id,
            sha256,
            compile_ms = took.as_secs_f64() * 1e3,
            "optimised code ready; tiering up"
        );
        self.rebuild(&id, current.params, current.limits, Trigger::TierUp, None);
    }

    /// `recipe` on its build's optimised code when the compile cache has it
    /// (unless `hot_reload.tiering = "baseline"`).
    pub(super) fn with_best_code(
        &self,
        mut recipe: super::super::generation::Recipe,
    ) -> super::super::generation::Recipe {
        if recipe.tier == Tier::Baseline
            && self.config.tiering() != Tiering::Baseline
            && let Some(pre) = self.loader.cached_tier(&recipe.sha256, Tier::Optimized)
        {
            recipe.pre = pre;
            recipe.tier = Tier::Optimized;
        }
        recipe
    }
}

/// Whether `sha256` is still one of the slot's builds: the live
/// generation's, the shadow candidate's or a swap waiting for its policy.
fn slot_has_build(slot: &StrategySlot, sha256: &str) -> bool {
    slot.current.load().sha256() == sha256
        || slot
            .shadow
            .candidate()
            .is_some_and(|c| c.sha256() == sha256)
        || slot
            .shadow
            .pending()
            .is_some_and(|p| p.generation.sha256() == sha256)
}
