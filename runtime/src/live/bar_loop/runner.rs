//! [`StrategyRunner`]: one strategy on the bar loop — its generation and
//! instance, its paper account, its trap count and last good snapshot — and
//! the steps of one bar for it: take over a new generation, apply a run
//! state, fill, call `on-bar`, route orders, snapshot, report traps.

use super::super::activity::{RecentFills, fuel_histogram};
use super::super::events::{HandoffEvent, RefusalEvent, SnapshotEvent, TrapEvent, now_rfc3339};
use super::super::generation::{Generation, RunState, StrategySlot, latency_histogram};
use super::super::loop_event::{GoodSnapshot, HandoffFailure, LoopEvent};
use super::super::recent_bars::LoopRecentBars;
use super::StrategySummary;
use super::catch_up::{catch_up_bars, handoff, replay};
use super::outbox::Outbox;
use crate::broker::{Book, FillModel};
use crate::contract::{Bar, Request};
use crate::instance::{CallError, StrategyInstance};
use crate::risk::{RiskRule, RiskRules};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

mod candidate;
mod snapshot_budget;

use super::shadow::{LiveBar, ShadowRunner, discard_trapped};
use snapshot_budget::SnapshotBudget;

/// How often the loop publishes its latency histograms.
const LATENCY_PUBLISH_EVERY: Duration = Duration::from_secs(1);

/// What every step of a bar needs from the loop besides the runner itself.
pub(super) struct LoopView<'a> {
    pub outbox: &'a Outbox,
    pub recent: &'a LoopRecentBars,
}

pub(super) struct StrategyRunner {
    pub slot: Arc<StrategySlot>,
    generation: Arc<Generation>,
    /// `None` once a trap poisoned it, until a new generation arrives.
    instance: Option<StrategyInstance>,
    book: Book,
    consecutive_traps: u32,
    last_good: Option<GoodSnapshot>,
    /// When the next periodic snapshot is due (bars, and its cost so far).
    snapshots: SnapshotBudget,
    /// An oversized periodic snapshot was reported; no more periodic
    /// snapshots of this generation.
    oversized_reported: bool,
    /// The run state this loop last applied (the slot holds the wanted one).
    run_state: RunState,
    /// Last bar given to the guest; after a pause, the replay starts past it.
    last_fed_seq: Option<u64>,
    /// Time in `on-bar` per call (ns).
    latency: hdrhistogram::Histogram<u64>,
    /// Feed delivery to orders routed per bar (ns): what queueing adds.
    decision: hdrhistogram::Histogram<u64>,
    latency_published: Instant,
    /// Fuel per `on-bar` call of the live generations.
    fuel: hdrhistogram::Histogram<u64>,
    /// The last fills, for the status's activity.
    recent_fills: RecentFills,
    /// This bar changed what the strategy holds (a fill, an order routed,
    /// an update): the slot's activity is published at the end of the bar.
    activity_changed: bool,
    /// Order updates not yet given to the guest (paused, or no instance
    /// since a trap): delivered before its next `on-bar`.
    undelivered: Vec<sandbar_guest::paper::OrderUpdate>,
    /// The candidate beside the live generation (`bar_loop/shadow.rs`).
    shadow: Option<ShadowRunner>,
    /// What the live generation did on this bar, for the candidate's comparison.
    live_bar: LiveBar,
    /// For a candidate's shadow account.
    fill_model: FillModel,
}

impl StrategyRunner {
    /// Adopts a slot that joined the roster, at the bar `next_seq`: its first
    /// generation catches up on the bars it has not seen.
    pub fn adopt(
        slot: &Arc<StrategySlot>,
        starting_cash: f64,
        fill_model: FillModel,
        next_seq: u64,
        view: &LoopView<'_>,
    ) -> Self {
        let generation = slot.current.load_full();
        let mut instance = generation.take_instance();
        let book = Book::new(slot.symbols.clone(), starting_cash, fill_model);
        let mut failed = None;
        if let Some(inst) = instance.as_mut() {
            let bars = catch_up_bars(view.recent, slot, generation.warmed_through, next_seq);
            if let Err(error) = replay(inst, &bars, &book) {
                failed = Some(error);
            }
        }
        if failed.is_some()
            && let Some(poisoned) = instance.take()
        {
            view.outbox.retire(Box::new(poisoned));
        }
        let mut runner = Self {
            slot: Arc::clone(slot),
            generation,
            instance,
            book,
            consecutive_traps: 0,
            last_good: None,
            snapshots: SnapshotBudget::default(),
            oversized_reported: false,
            run_state: RunState::Running,
            last_fed_seq: next_seq.checked_sub(1),
            latency: latency_histogram(),
            decision: latency_histogram(),
            latency_published: Instant::now(),
            fuel: fuel_histogram(),
            recent_fills: RecentFills::default(),
            activity_changed: false,
            undelivered: Vec::new(),
            shadow: None,
            live_bar: LiveBar::default(),
            fill_model,
        };
        if let Some(error) = failed {
            runner.trapped(error, next_seq, view.outbox);
        }
        runner
    }

    /// The generation it runs now.
    pub fn generation(&self) -> &Generation {
        &self.generation
    }

    /// One bar for this strategy (skipped when it does not subscribe to the
    /// bar's symbol). `arrived`: when the feed delivered the bar.
    pub fn on_bar(&mut self, bar: &Bar, arrived: Instant, view: &LoopView<'_>) {
        let Some(Some(local_symbol)) = self.slot.symbol_map.get(bar.symbol as usize).copied()
        else {
            return;
        };
        self.live_bar.reset();
        self.take_pending_swap(bar, view);
        self.live_on_bar(bar, local_symbol, arrived, view);
        // Whatever the live part did (called, paused, poisoned), its figures.
        self.publish_latency(bar.seq);
        self.shadow_on_bar(bar, local_symbol, view);
    }

    /// The live generation's part of a bar.
    fn live_on_bar(&mut self, bar: &Bar, local_symbol: u32, arrived: Instant, view: &LoopView<'_>) {
        let published = self.slot.current.load();
        if !Arc::ptr_eq(&published, &self.generation) {
            let next = Arc::clone(&published);
            drop(published);
            self.swap(next, bar.seq, view);
        }
        let wanted = self.slot.run_state();
        if wanted != self.run_state {
            self.apply_run_state(wanted, bar.seq, view);
        }
        let local_bar = Bar {
            symbol: local_symbol,
            ..*bar
        };
        let rules = self.slot.risk.load_full();
        let Some((fills, mut updates)) = self.fill(&rules, &local_bar, view.outbox) else {
            return;
        };
        if !self.undelivered.is_empty() {
            let later = std::mem::replace(&mut updates, std::mem::take(&mut self.undelivered));
            updates.extend(later);
        }
        let Some(instance) = self.instance.as_mut() else {
            self.undelivered.extend(updates);
            self.slot.counters.skipped.fetch_add(1, Ordering::Relaxed);
            return;
        };
        for fill in fills {
            if let Err(error) = instance.on_fill(fill) {
                self.trapped(error, bar.seq, view.outbox);
                return;
            }
        }
        // Contract 0.2.0: what became of the orders with ids, before on-bar.
        if let Err(error) = instance.on_order_updates(&updates) {
            self.trapped(error, bar.seq, view.outbox);
            return;
        }
        let position = self.book.position(local_symbol);
        let started = Instant::now();
        let result = instance.on_bar(local_bar, position);
        let elapsed = started.elapsed();
        let _ = self.fuel.record(instance.fuel_used_last_call().max(1));
        if self.shadow.is_some() {
            self.live_bar.called = true;
            self.live_bar.fuel = instance.fuel_used_last_call();
            self.live_bar.call_ns = u64::try_from(elapsed.as_nanos()).unwrap_or(u64::MAX);
        }
        self.record_call(bar.seq, elapsed);
        match result {
            Ok(orders) => {
                self.consecutive_traps = 0;
                self.snapshots.record_call(elapsed);
                if !orders.is_empty() {
                    if self.shadow.is_some() {
                        self.live_bar.orders.extend_from_slice(&orders);
                    }
                    self.route(orders, bar, &rules, view.outbox);
                }
                // The decision is out (orders routed, or none to route).
                record_ns(&mut self.decision, arrived.elapsed());
                if self.snapshots.due() {
                    self.keep_snapshot(bar.seq, view.outbox);
                }
            }
            Err(error) => self.trapped(error, bar.seq, view.outbox),
        }
    }

    /// Fills pending orders at this bar and journals every fill before the
    /// guest hears of any (its `on-fill` may trap); applies the drawdown
    /// kill switch. `None` when the strategy is paused (not called).
    fn fill(
        &mut self,
        rules: &RiskRules,
        bar: &Bar,
        outbox: &Outbox,
    ) -> Option<(
        Vec<crate::contract::Fill>,
        Vec<sandbar_guest::paper::OrderUpdate>,
    )> {
        let counters = &self.slot.counters;
        let marked = self.book.on_bar(rules, bar);
        self.live_bar.fills = marked.fills.len() as u64;
        for fill in &marked.fills {
            counters.fills.fetch_add(1, Ordering::Relaxed);
            outbox.fill(&self.slot, &self.generation, fill);
            self.recent_fills.push(&self.slot.symbols, fill);
        }
        self.activity_changed |= !marked.fills.is_empty() || !marked.updates.is_empty();
        for update in &marked.updates {
            outbox.order_update(&self.slot, &self.generation, update);
        }
        self.publish_account();
        if let Some(reason) = marked.halted {
            self.slot.set_run_state(RunState::Halted);
            self.run_state = RunState::Halted;
            outbox.event(LoopEvent::Halted {
                strategy: self.slot.id.to_string(),
                reason,
            });
        }
        if self.run_state == RunState::Paused {
            counters.paused_bars.fetch_add(1, Ordering::Relaxed);
            self.undelivered.extend(marked.updates);
            return None;
        }
        Some((marked.fills, marked.updates))
    }

    /// Counts a call and times it into the latency histogram.
    fn record_call(&mut self, seq: u64, elapsed: Duration) {
        self.generation.stats.record(seq);
        self.slot.counters.bars.fetch_add(1, Ordering::Relaxed);
        self.last_fed_seq = Some(seq);
        record_ns(&mut self.latency, elapsed);
    }

    /// Publishes the call, fuel and feed-to-decision histograms and the
    /// activity (marks move every bar) to the slot about once a second; the
    /// activity also at the end of a bar that changed it.
    fn publish_latency(&mut self, seq: u64) {
        let due = self.latency_published.elapsed() >= LATENCY_PUBLISH_EVERY;
        if due || std::mem::take(&mut self.activity_changed) {
            let activity = self.recent_fills.activity(&self.book, seq);
            self.slot.activity.store(Arc::new(activity));
        }
        if due {
            self.latency_published = Instant::now();
            // The replaced copies are plain allocations, cheap to free here.
            self.slot.latency.store(Arc::new(self.latency.clone()));
            self.slot.decision.store(Arc::new(self.decision.clone()));
            self.slot.fuel.store(Arc::new(self.fuel.clone()));
        }
    }

    /// Applies a run state the operator (or the kill switch) asked for, at a
    /// bar boundary.
    fn apply_run_state(&mut self, wanted: RunState, next_seq: u64, view: &LoopView<'_>) {
        let was = std::mem::replace(&mut self.run_state, wanted);
        if was == RunState::Paused
            && let Some(instance) = self.instance.as_mut()
        {
            // Catch up on the bars missed while paused, orders discarded.
            let bars = catch_up_bars(view.recent, &self.slot, self.last_fed_seq, next_seq);
            if let Err(error) = replay(instance, &bars, &self.book) {
                self.trapped(error, next_seq, view.outbox);
            }
        }
        match wanted {
            RunState::Paused => self.book.cancel_pending(),
            RunState::Halted => {
                if self.book.halted().is_none() {
                    self.book.halt("halted by the operator".into());
                }
            }
            RunState::Running => {
                if self.book.halted().is_some() {
                    self.book.unhalt();
                }
            }
        }
    }

    fn route(&mut self, orders: Vec<Request>, bar: &Bar, rules: &RiskRules, outbox: &Outbox) {
        let max_orders = self.generation.recipe.limits.max_orders_per_bar;
        let (accepted, refusals) =
            self.book
                .route(rules, orders, max_orders, wall_clock_ms(), bar.seq);
        self.live_bar.accepted = accepted.len() as u64;
        self.activity_changed |= !accepted.is_empty();
        self.live_bar.refused = refusals.len() as u64;
        self.slot
            .counters
            .orders
            .fetch_add(accepted.len() as u64, Ordering::Relaxed);
        for order in &accepted {
            outbox.order(&self.slot, &self.generation, order, bar);
        }
        for refusal in refusals {
            self.refused(refusal.rule, refusal.reason, bar.seq, outbox);
        }
    }

    /// Counts a refusal; the first ten of a strategy and then every
    /// thousandth become events, so a guest cannot flood the journal.
    fn refused(&self, rule: RiskRule, reason: String, seq: u64, outbox: &Outbox) {
        let refused = self.slot.counters.count_refusal(rule);
        if refused <= 10 || refused.is_multiple_of(1000) {
            outbox.event(LoopEvent::Refused(RefusalEvent {
                ts: now_rfc3339(),
                strategy: self.slot.id.to_string(),
                version: self.generation.version,
                seq,
                rule,
                reason,
                refused_total: refused,
            }));
        }
    }

    /// Remembers the instance's state as of bar `seq`, under
    /// `limits.state_deadline_us`; its cost sets when the next one is due.
    /// One over `limits.max_snapshot_kb` is refused before the copy: an
    /// event says so, and this generation is not snapshotted again.
    fn keep_snapshot(&mut self, seq: u64, outbox: &Outbox) {
        let Some(instance) = self.instance.as_mut() else {
            return;
        };
        if self.oversized_reported {
            // Not retried for this generation: every refused snapshot leaks
            // its buffer in the guest (its post-return never runs).
            return;
        }
        let max = self.generation.recipe.limits.max_snapshot_bytes;
        let started = Instant::now();
        let taken = instance.snapshot_on_loop(max);
        self.snapshots.taken(started.elapsed());
        match taken {
            Ok(Ok(bytes)) if !bytes.is_empty() => {
                self.oversized_reported = false;
                let old = self.last_good.replace(GoodSnapshot {
                    seq,
                    bytes: Arc::from(bytes),
                });
                // The control plane may still hold it; the loop only drops its reference.
                drop(old);
            }
            Ok(Ok(_)) => self.last_good = None,
            Ok(Err(())) => {
                self.last_good = None;
                self.oversized_reported = true;
                outbox.event(LoopEvent::SnapshotOversized(SnapshotEvent {
                    ts: now_rfc3339(),
                    strategy: self.slot.id.to_string(),
                    version: self.generation.version,
                    seq,
                    limit_bytes: max as u64,
                    message: format!(
                        "snapshot is over the {max}-byte limit (`limits.max_snapshot_kb`): refused before it was copied; no more periodic snapshots of this version, so a rebuild after a trap replays bars instead of restoring state"
                    ),
                }));
            }
            Err(error) => self.trapped(error, seq, outbox),
        }
    }

    fn trapped(&mut self, error: CallError, seq: u64, outbox: &Outbox) {
        self.live_bar.trapped = true;
        self.consecutive_traps += 1;
        self.slot.counters.traps.fetch_add(1, Ordering::Relaxed);
        // Orders of a poisoned instance must not fill later at whatever
        // price the market has when a fixed version arrives.
        self.book.cancel_pending();
        if let Some(poisoned) = self.instance.take() {
            outbox.retire(Box::new(poisoned));
        }
        let event = TrapEvent {
            ts: now_rfc3339(),
            strategy: self.slot.id.to_string(),
            version: self.generation.version,
            sha256: self.generation.sha256().to_owned(),
            export: error.export.to_owned(),
            seq,
            kind: error.kind.clone(),
            message: error.message,
            consecutive: self.consecutive_traps,
        };
        outbox.event(LoopEvent::Trapped(event, self.last_good.take()));
    }

    /// Takes over a newly published generation at the bar `next_seq`.
    fn swap(&mut self, next: Arc<Generation>, next_seq: u64, view: &LoopView<'_>) {
        if self.runs_as_candidate(&next) {
            self.promote(next, next_seq, view);
            return;
        }
        let Some(mut instance) = next.take_instance() else {
            // Published twice or already used: nothing to run it with.
            tracing::error!(strategy = %next.strategy_id, version = next.version, "generation without an instance");
            return;
        };
        let mut restore_error = None;
        let snapshot = self.outgoing_snapshot(&next, &mut restore_error);
        let handed = handoff(
            &mut instance,
            snapshot.as_deref(),
            &mut restore_error,
            || catch_up_bars(view.recent, &self.slot, next.warmed_through, next_seq),
            &self.book,
        );
        match handed {
            Ok((method, replayed_bars)) => {
                // A new generation starts with no snapshot of its own.
                self.last_good = None;
                self.snapshots.reset();
                self.oversized_reported = false;
                let previous = std::mem::replace(&mut self.generation, Arc::clone(&next));
                let old_instance = self.instance.replace(instance);
                let event = HandoffEvent {
                    ts: now_rfc3339(),
                    strategy: self.slot.id.to_string(),
                    version: next.version,
                    previous_version: previous.version,
                    previous_seq_range: previous.stats.seq_range(),
                    first_seq: next_seq,
                    method,
                    replayed_bars,
                    restore_error,
                };
                view.outbox.retire(Box::new((previous, old_instance)));
                view.outbox.event(LoopEvent::HandedOver(event));
            }
            Err(error) if self.instance.is_none() => {
                // Nothing healthy to go back to: the new generation takes the
                // slot and its failure counts as one more consecutive trap, so
                // the control plane rebuilds or rolls back.
                let previous = std::mem::replace(&mut self.generation, next);
                view.outbox.retire(Box::new((previous, instance)));
                self.trapped(error, next_seq, view.outbox);
            }
            Err(error) => {
                // The old generation keeps running: put it back in the slot
                // unless the control plane already published yet another.
                let old = Arc::clone(&self.generation);
                drop(self.slot.current.compare_and_swap(&next, old));
                let failure = HandoffFailure {
                    strategy: self.slot.id.to_string(),
                    version: next.version,
                    trigger: next.trigger,
                    error: error.to_string(),
                };
                // Moved, not cloned: the loop must not hold the last reference.
                view.outbox.retire(Box::new((next, Some(instance))));
                view.outbox.event(LoopEvent::HandoffFailed(failure));
            }
        }
    }

    /// The running instance's state for the next generation, within its
    /// snapshot limit (checked before anything is copied) and under
    /// `limits.state_deadline_us`; why not, in `restore_error`.
    fn outgoing_snapshot(
        &mut self,
        next: &Generation,
        restore_error: &mut Option<String>,
    ) -> Option<Vec<u8>> {
        let max_snapshot = next.recipe.limits.max_snapshot_bytes;
        match self
            .instance
            .as_mut()
            .map(|old| old.snapshot_on_loop(max_snapshot))
        {
            Some(Ok(Err(()))) => {
                *restore_error = Some(format!(
                    "snapshot is over the {max_snapshot}-byte limit (`limits.max_snapshot_kb`); it was refused before it was copied"
                ));
                None
            }
            Some(Ok(Ok(bytes))) if !bytes.is_empty() => Some(bytes),
            Some(Err(error)) => {
                *restore_error = Some(format!("the running version could not snapshot: {error}"));
                None
            }
            _ => None,
        }
    }

    pub fn summary(&self, retired: bool) -> StrategySummary {
        let counters = &self.slot.counters;
        let account = self.book.account();
        StrategySummary {
            strategy: self.slot.id.to_string(),
            version: self.generation.version,
            sha256: self.generation.sha256().to_owned(),
            bars: counters.bars.load(Ordering::Relaxed),
            orders: counters.orders.load(Ordering::Relaxed),
            fills: counters.fills.load(Ordering::Relaxed),
            equity: account.equity(),
            realised_pnl: account.realised_pnl(),
            unrealised_pnl: account.unrealised_pnl(),
            commission: account.commission_paid(),
            trades: self.book.ledger().closed().len() as u64,
            refused: counters.refused.load(Ordering::Relaxed),
            state: self.run_state,
            retired,
            quarantined: None,
            call_us: super::super::LatencySummary::of(&self.latency),
            decision_us: super::super::LatencySummary::of(&self.decision),
        }
    }

    /// Makes the account's figures readable from other threads.
    fn publish_account(&self) {
        let counters = &self.slot.counters;
        let account = self.book.account();
        counters
            .equity_bits
            .store(account.equity().to_bits(), Ordering::Relaxed);
        counters
            .realised_bits
            .store(account.realised_pnl().to_bits(), Ordering::Relaxed);
        counters
            .unrealised_bits
            .store(account.unrealised_pnl().to_bits(), Ordering::Relaxed);
        counters
            .trades
            .store(self.book.ledger().closed().len() as u64, Ordering::Relaxed);
    }
}

/// Records a duration in ns (at least 1: the histogram's lowest value).
fn record_ns(histogram: &mut hdrhistogram::Histogram<u64>, elapsed: Duration) {
    let _ = histogram.record(u64::try_from(elapsed.as_nanos()).unwrap_or(u64::MAX).max(1));
}

/// Milliseconds since the epoch: the clock live risk rate limits use.
pub(super) fn wall_clock_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}
