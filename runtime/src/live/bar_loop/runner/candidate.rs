//! The candidate's steps of a bar on [`StrategyRunner`]: adopt or drop the
//! slot's candidate at a bar boundary, run it after the live generation,
//! take a waiting swap once its policy allows, and promote the candidate
//! (its instance, with the state it built on live bars, becomes the live
//! one; the live account stays).

use super::super::super::events::{HandoffEvent, HandoffMethod, now_rfc3339};
use super::super::super::generation::{Generation, RunState};
use super::super::super::loop_event::{HandoffFailure, LoopEvent};
use super::super::LoopView;
use super::super::shadow::{ShadowRunner, clear_candidate};
use super::{StrategyRunner, discard_trapped};
use crate::contract::Bar;
use std::sync::Arc;

impl StrategyRunner {
    /// Publishes a waiting swap's generation as the live one when its policy
    /// allows at this bar (or it was forced); the usual swap then hands over.
    pub(super) fn take_pending_swap(&mut self, bar: &Bar, view: &LoopView<'_>) {
        let pending = self.slot.shadow.pending.load();
        let Some(waiting) = pending.as_ref() else {
            return;
        };
        if !(waiting.forced() || waiting.policy.allows(self.book.is_flat(), bar.ts_ms)) {
            return;
        }
        drop(pending);
        let current = self.slot.shadow.pending.load_full();
        let Some(waiting) = current.as_ref() else {
            return;
        };
        let taken = self.slot.shadow.pending.compare_and_swap(&current, None);
        if taken.as_ref().is_some_and(|t| Arc::ptr_eq(t, waiting)) {
            self.slot.current.store(Arc::clone(&waiting.generation));
        }
        view.outbox
            .retire(Box::new(arc_swap::Guard::into_inner(taken)));
        view.outbox.retire(Box::new(current));
    }

    /// The candidate's part of a bar, after the live generation's.
    pub(super) fn shadow_on_bar(&mut self, bar: &Bar, local_symbol: u32, view: &LoopView<'_>) {
        self.reconcile_candidate(bar.seq, view);
        if self.run_state == RunState::Paused {
            // The live generation got no bar: neither does the candidate.
            return;
        }
        let Some(shadow) = self.shadow.as_mut() else {
            return;
        };
        let local_bar = Bar {
            symbol: local_symbol,
            ..*bar
        };
        let rules = self.slot.risk.load_full();
        let live_equity = self.book.account().equity();
        let result = shadow.on_bar(
            &self.slot,
            &local_bar,
            &self.live_bar,
            live_equity,
            &rules,
            view.outbox,
        );
        if let Err(error) = result
            && let Some(mut shadow) = self.shadow.take()
        {
            shadow.publish_latency();
            discard_trapped(&self.slot, &shadow.generation, &error, bar.seq, view.outbox);
            view.outbox.retire(Box::new(shadow));
        }
    }

    /// Adopts the slot's candidate, or drops the one running when the slot
    /// no longer names it (discarded, replaced).
    fn reconcile_candidate(&mut self, next_seq: u64, view: &LoopView<'_>) {
        // Most bars: nothing changed, compared without taking a reference.
        {
            let wanted = self.slot.shadow.candidate.load();
            let running = self.shadow.as_ref().map(|s| &s.generation);
            let same = match (wanted.as_ref(), running) {
                (None, None) => true,
                (Some(w), Some(r)) => Arc::ptr_eq(w, r),
                _ => false,
            };
            if same {
                return;
            }
        }
        let wanted = self.slot.shadow.candidate.load_full();
        match &wanted {
            Some(w) if Arc::ptr_eq(w, &self.generation) => {
                // Promoted before the loop ever ran it as a candidate.
                clear_candidate(&self.slot, w, view.outbox);
                self.drop_shadow(view);
            }
            _ => {
                self.drop_shadow(view);
                if let Some(candidate) = wanted.clone() {
                    self.shadow = ShadowRunner::adopt(
                        &self.slot,
                        candidate,
                        &self.book,
                        self.fill_model,
                        next_seq,
                        view,
                    );
                }
            }
        }
        // The control plane may have replaced it meanwhile: not dropped here.
        view.outbox.retire(Box::new(wanted));
    }

    fn drop_shadow(&mut self, view: &LoopView<'_>) {
        if let Some(mut old) = self.shadow.take() {
            old.publish_latency();
            view.outbox.retire(Box::new(old));
        }
    }

    /// True when `next` is the candidate running beside the live generation.
    pub(super) fn runs_as_candidate(&self, next: &Arc<Generation>) -> bool {
        self.shadow
            .as_ref()
            .is_some_and(|s| Arc::ptr_eq(&s.generation, next))
    }

    /// The candidate becomes the live generation at the bar `next_seq`: its
    /// instance moves over with its state (it saw exactly the bars the live
    /// one saw), the live account, its positions and cash stay. From this
    /// bar on the strategy sees the live position (as after any swap).
    pub(super) fn promote(&mut self, next: Arc<Generation>, next_seq: u64, view: &LoopView<'_>) {
        let mut shadow = self.shadow.take();
        let instance = shadow.as_mut().and_then(ShadowRunner::take_instance);
        clear_candidate(&self.slot, &next, view.outbox);
        view.outbox.retire(Box::new(shadow));
        let Some(instance) = instance else {
            // Nothing to run it with: the old generation stays in the slot.
            let old = Arc::clone(&self.generation);
            drop(self.slot.current.compare_and_swap(&next, old));
            let failure = HandoffFailure {
                strategy: self.slot.id.to_string(),
                version: next.version,
                trigger: next.trigger,
                error:
                    "the promoted candidate has no running instance (it trapped or was discarded)"
                        .into(),
            };
            view.outbox.retire(Box::new(next));
            view.outbox.event(LoopEvent::HandoffFailed(failure));
            return;
        };
        self.last_good = None;
        self.snapshots.reset();
        self.oversized_reported = false;
        self.consecutive_traps = 0;
        let previous = std::mem::replace(&mut self.generation, Arc::clone(&next));
        let old_instance = self.instance.replace(instance);
        let event = HandoffEvent {
            ts: now_rfc3339(),
            strategy: self.slot.id.to_string(),
            version: next.version,
            previous_version: previous.version,
            previous_seq_range: previous.stats.seq_range(),
            first_seq: next_seq,
            method: HandoffMethod::Shadow,
            replayed_bars: 0,
            restore_error: None,
        };
        view.outbox.retire(Box::new((previous, old_instance)));
        view.outbox.event(LoopEvent::HandedOver(event));
    }
}
