//! Swap policies for every reload that publishes a new live generation —
//! a file, a config edit, an API reload or rollback, a promotion, a tier-up
//! (`request_swap`): `[strategy.deploy] swap = "next_bar"` stores it in the
//! slot at once (the loop swaps at the next bar); `"when_flat"` and
//! `swap_window` store it as a [`PendingSwap`] the loop takes at the first
//! bar boundary its policy allows (`bar_loop/runner/candidate.rs`).
//!
//! A pending swap is in `/status`; `runtime swap ID --now` forces it at the
//! next bar, `--cancel` drops it; a newer build replaces it; after
//! `swap_timeout_s` it is cancelled (the running version keeps running, an
//! event says so). A trap's rebuild or rollback does not wait: it cancels a
//! pending swap and goes live at once, since the running instance is
//! poisoned. Cancelling takes the waiting version out of the history again.

use super::super::events::{DeployEvent, DeployWhat, Trigger};
use super::super::generation::{Generation, StrategySlot};
use super::super::shadow::{PendingSwap, SwapPolicy};
use super::super::shared::lock;
use super::ControlPlane;
use crate::config::StrategyConfig;
use crate::refusal::Refusal;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant, SystemTime};

/// Reloads that wait for the policy; a trap's rebuild and start-up do not.
fn governed(trigger: Trigger) -> bool {
    matches!(
        trigger,
        Trigger::File | Trigger::Config | Trigger::Api | Trigger::Promote | Trigger::Fleet
    )
}

impl ControlPlane {
    /// Makes `generation` the slot's live one by `strategy`'s swap policy:
    /// stored at once, or as a waiting swap (true) that replaces an older one.
    pub(super) fn swap_in(
        &mut self,
        slot: &Arc<StrategySlot>,
        strategy: &StrategyConfig,
        generation: Arc<Generation>,
        trigger: Trigger,
        promotion: bool,
    ) -> bool {
        let policy = SwapPolicy::of(&strategy.deploy);
        // A tier-up is the live build on faster code: it never waits for a
        // policy and leaves a waiting swap of another build waiting.
        if trigger == Trigger::TierUp {
            slot.current.store(generation);
            return false;
        }
        if !governed(trigger) || !policy.waits() {
            if slot.shadow.pending().is_some() {
                let why = if governed(trigger) {
                    "a newer build went live at once"
                } else {
                    "the running version trapped; its rebuild goes live at once"
                };
                self.cancel_pending(slot, DeployWhat::SwapReplaced, trigger_name(trigger), why);
            }
            slot.current.store(generation);
            return false;
        }
        if slot.shadow.pending().is_some() {
            self.cancel_pending(
                slot,
                DeployWhat::SwapReplaced,
                trigger_name(trigger),
                &format!("replaced by version {}", generation.version),
            );
        }
        let pending = Arc::new(PendingSwap {
            generation: Arc::clone(&generation),
            policy,
            since: Instant::now(),
            since_wall: SystemTime::now(),
            timeout: Duration::from_secs(strategy.deploy.swap_timeout_s),
            promotion,
            forced: Default::default(),
        });
        slot.shadow.pending.store(Some(pending));
        self.deploy_event(
            &generation,
            DeployWhat::SwapPending,
            trigger_name(trigger),
            Some(format!(
                "waits for {} (cancelled after {} s if it never comes)",
                policy.describe(),
                strategy.deploy.swap_timeout_s
            )),
        );
        true
    }

    /// The hook of other reload kinds (a tier-up of the same build,
    /// `tier_up.rs`): publish `generation` as `id`'s live one under its swap
    /// policy. False when `id` is not running; true when it was published
    /// (at once or waiting).
    #[allow(dead_code)] // called by the tier-up work (issue in flight)
    pub(crate) fn request_swap(&mut self, id: &str, generation: Arc<Generation>) -> bool {
        let Some(state) = self.slots.get(id) else {
            return false;
        };
        let slot = Arc::clone(&state.slot);
        let Some(strategy) = self.config.strategy(id).cloned() else {
            return false;
        };
        self.swap_in(&slot, &strategy, generation, Trigger::Config, false);
        true
    }

    /// Drops the slot's waiting swap, if any (the loop may just have taken
    /// it: then nothing is cancelled), repairs the history and says so.
    pub(super) fn cancel_pending(
        &self,
        slot: &Arc<StrategySlot>,
        what: DeployWhat,
        actor: &str,
        reason: &str,
    ) -> Option<DeployEvent> {
        let pending = slot.shadow.pending.swap(None)?;
        let live = slot.current.load_full();
        if let Some(history) = lock(&self.shared.versions).get_mut(&*slot.id) {
            history.handoff_failed(pending.generation.version, live.version, &live.recipe);
        }
        let reason = format!("{reason}; version {} keeps running", live.version);
        Some(self.deploy_event(&pending.generation, what, actor, Some(reason)))
    }

    /// The waiting swap happens at the next bar, whatever its policy.
    pub(super) fn force_swap(
        &self,
        slot: &Arc<StrategySlot>,
        actor: &str,
    ) -> Result<DeployEvent, Refusal> {
        let pending = slot
            .shadow
            .pending()
            .ok_or_else(|| Refusal::NoPendingSwap {
                strategy: slot.id.to_string(),
            })?;
        pending.forced.store(true, Ordering::Release);
        Ok(self.deploy_event(
            &pending.generation,
            DeployWhat::SwapForced,
            actor,
            Some("swaps at the next bar, whatever its policy".into()),
        ))
    }

    /// Cancels waiting swaps older than their `swap_timeout_s`.
    pub(super) fn swap_timeouts(&self) {
        for state in self.slots.values() {
            if let Some(pending) = state.slot.shadow.pending()
                && pending.since.elapsed() >= pending.timeout
                && !pending.forced()
            {
                drop(pending);
                self.cancel_pending(
                    &state.slot,
                    DeployWhat::SwapTimedOut,
                    "timeout",
                    &format!(
                        "its policy did not allow the swap within `swap_timeout_s` = {}",
                        state.config.deploy.swap_timeout_s
                    ),
                );
            }
        }
    }
}

/// Who did it, for events without an operator.
pub(super) fn trigger_name(trigger: Trigger) -> &'static str {
    match trigger {
        Trigger::File => "file",
        Trigger::Config => "config",
        Trigger::Api => "api",
        Trigger::Startup => "startup",
        Trigger::Trap => "trap",
        Trigger::Promote => "promote",
        Trigger::TierUp => "tier_up",
        Trigger::Fleet => "fleet",
    }
}
