//! The bar loop: one thread, fed bars through a channel. For every strategy
//! subscribed to a bar's symbol it loads the slot's generation (wait-free),
//! hands state over at a bar boundary when a new one was published, fills
//! orders in the paper account, and calls `on-bar`. It never compiles, never
//! does I/O, never drops a store and never waits on the control plane.

use super::command::Command;
use super::events::{HandoffEvent, HandoffMethod, RefusalEvent, TrapEvent, now_rfc3339};
use super::generation::{Generation, Roster, RunState, Slot, latency_histogram};
use super::history::{LocalHistory, SharedHistory};
use super::journal::{FillRecord, JournalSender, OrderRecord, Record};
use super::reaper::Retiree;
use crate::broker::{Book, FillModel};
use crate::contract::{Bar, Fill, Order, OrderKind, Side};
use crate::instance::{CallError, StrategyInstance};
use crate::risk::{RiskRule, RiskRules};
use arc_swap::ArcSwap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, Sender};

/// The last snapshot a healthy instance produced, kept so a rebuild after a
/// trap can restore it instead of starting cold.
#[derive(Debug, Clone)]
pub struct GoodSnapshot {
    /// The last bar the state includes.
    pub seq: u64,
    pub bytes: Arc<[u8]>,
}

/// A healthy instance is snapshotted every this many of its bars.
pub const SNAPSHOT_EVERY_BARS: u32 = 64;

/// What the bar loop tells the control plane.
#[derive(Debug, Clone)]
pub enum LoopEvent {
    Trapped(TrapEvent, Option<GoodSnapshot>),
    HandedOver(HandoffEvent),
    /// Orders that failed validation and never reached the broker.
    Refused(RefusalEvent),
    /// The drawdown kill switch halted a strategy.
    Halted {
        strategy: String,
        reason: String,
    },
    /// The new generation trapped while taking over; the old one was put back.
    HandoffFailed {
        strategy: String,
        version: u64,
        error: String,
    },
}

/// Loop-wide counters readable from any thread.
#[derive(Debug, Default)]
pub struct LoopStats {
    pub bars: AtomicU64,
    pub last_seq: AtomicU64,
}

/// Final account of one strategy when the loop stops.
#[derive(Debug, Clone, PartialEq)]
pub struct StrategySummary {
    pub strategy: String,
    pub version: u64,
    pub sha256: String,
    pub bars: u64,
    pub orders: u64,
    pub fills: u64,
    pub equity: f64,
    pub realised_pnl: f64,
    pub unrealised_pnl: f64,
    pub commission: f64,
    /// Round-trip trades closed.
    pub trades: u64,
    /// Orders refused by validation or risk.
    pub refused: u64,
    pub state: RunState,
    pub retired: bool,
}

pub(crate) struct LoopContext {
    pub roster: Arc<ArcSwap<Roster>>,
    pub history: Arc<SharedHistory>,
    pub history_bars: usize,
    pub journal: JournalSender,
    pub reaper: Sender<Retiree>,
    pub events: Sender<Command>,
    pub fill_model: FillModel,
    pub starting_cash: f64,
    pub stats: Arc<LoopStats>,
}

struct Active {
    slot: Arc<Slot>,
    generation: Arc<Generation>,
    /// `None` once a trap poisoned it, until a new generation arrives.
    instance: Option<StrategyInstance>,
    book: Book,
    consecutive_traps: u32,
    last_good: Option<GoodSnapshot>,
    bars_since_snapshot: u32,
    /// The run state this loop last applied (the slot holds the wanted one).
    run_state: RunState,
    /// Last bar given to the guest; after a pause, the replay starts past it.
    last_fed_seq: Option<u64>,
    latency: hdrhistogram::Histogram<u64>,
    latency_published: std::time::Instant,
}

/// How often the loop publishes its latency histograms.
const LATENCY_PUBLISH_EVERY: std::time::Duration = std::time::Duration::from_secs(1);

struct BarLoop {
    ctx: LoopContext,
    roster: Arc<Roster>,
    active: Vec<Active>,
    local_history: LocalHistory,
    backlog: Vec<Bar>,
    summaries: Vec<StrategySummary>,
}

/// Runs until the bar channel closes; returns every strategy's summary.
pub(crate) fn run(ctx: LoopContext, bars: Receiver<Bar>) -> Vec<StrategySummary> {
    // wasmtime sets up per-thread state (signal stack, trap handler TLS) on
    // a thread's first call into Wasm; doing it now keeps that cost off the
    // first bar (measured in `cargo bench --bench bar_loop`).
    wasmtime::Engine::tls_eager_initialize();
    let roster = Arc::new(Roster::new());
    let local_history = LocalHistory::new(ctx.history_bars);
    let mut bar_loop = BarLoop {
        ctx,
        roster,
        active: Vec::new(),
        local_history,
        backlog: Vec::new(),
        summaries: Vec::new(),
    };
    for bar in bars {
        bar_loop.process(bar);
    }
    bar_loop.finish()
}

impl BarLoop {
    fn process(&mut self, bar: Bar) {
        self.reconcile_roster(bar.seq);
        for index in 0..self.active.len() {
            self.process_for(index, &bar);
        }
        self.local_history.push(bar);
        self.backlog.push(bar);
        self.ctx.history.try_append(&mut self.backlog);
        self.ctx.stats.last_seq.store(bar.seq, Ordering::Relaxed);
        self.ctx.stats.bars.fetch_add(1, Ordering::Release);
    }

    fn process_for(&mut self, index: usize, bar: &Bar) {
        let Some(Some(local_symbol)) = self.active[index]
            .slot
            .symbol_map
            .get(bar.symbol as usize)
            .copied()
        else {
            return;
        };
        let published = self.active[index].slot.current.load();
        if !Arc::ptr_eq(&published, &self.active[index].generation) {
            let next = Arc::clone(&published);
            drop(published);
            self.swap(index, next, bar.seq);
        }
        let wanted = self.active[index].slot.run_state();
        if wanted != self.active[index].run_state {
            self.apply_run_state(index, wanted, bar.seq);
        }
        let local_bar = Bar {
            symbol: local_symbol,
            ..*bar
        };
        let rules: RiskRules = **self.active[index].slot.risk.load();
        let active = &mut self.active[index];
        let counters = &active.slot.counters;
        let marked = active.book.on_bar(&rules, &local_bar);
        // Every fill changed the account: journal and count them all before
        // the guest hears of any (its `on-fill` may trap).
        for fill in &marked.fills {
            counters.fills.fetch_add(1, Ordering::Relaxed);
            self.ctx.journal.send(Record::Fill(fill_record(
                &active.slot,
                &active.generation,
                fill,
            )));
        }
        publish_account(active);
        if let Some(reason) = marked.halted {
            active.slot.set_run_state(RunState::Halted);
            active.run_state = RunState::Halted;
            let _ = self.ctx.events.send(Command::Loop(LoopEvent::Halted {
                strategy: active.slot.id.to_string(),
                reason,
            }));
        }
        if active.run_state == RunState::Paused {
            counters.paused_bars.fetch_add(1, Ordering::Relaxed);
            return;
        }
        let Some(instance) = active.instance.as_mut() else {
            counters.skipped.fetch_add(1, Ordering::Relaxed);
            return;
        };
        for fill in marked.fills {
            if let Err(error) = instance.on_fill(fill) {
                self.trapped(index, error, bar.seq);
                return;
            }
        }
        let position = active.book.position(local_symbol);
        let started = std::time::Instant::now();
        let result = instance.on_bar(local_bar, position);
        let elapsed = started.elapsed();
        active.generation.stats.record(bar.seq);
        counters.bars.fetch_add(1, Ordering::Relaxed);
        active.last_fed_seq = Some(bar.seq);
        let _ = active
            .latency
            .record(u64::try_from(elapsed.as_nanos()).unwrap_or(u64::MAX).max(1));
        if active.latency_published.elapsed() >= LATENCY_PUBLISH_EVERY {
            active.latency_published = std::time::Instant::now();
            // The replaced copy is a plain allocation, cheap to free here.
            active.slot.latency.store(Arc::new(active.latency.clone()));
        }
        match result {
            Ok(orders) => {
                active.consecutive_traps = 0;
                active.bars_since_snapshot += 1;
                if !orders.is_empty() {
                    self.route(index, orders, bar, &rules);
                }
                if self.active[index].bars_since_snapshot >= SNAPSHOT_EVERY_BARS {
                    self.keep_snapshot(index, bar.seq);
                }
            }
            Err(error) => self.trapped(index, error, bar.seq),
        }
    }

    /// Applies a run state the operator (or the kill switch) asked for, at a
    /// bar boundary.
    fn apply_run_state(&mut self, index: usize, wanted: RunState, next_seq: u64) {
        let active = &mut self.active[index];
        let was = std::mem::replace(&mut active.run_state, wanted);
        if was == RunState::Paused {
            // Catch up on the bars missed while paused, orders discarded.
            if let Some(instance) = active.instance.as_mut() {
                let bars = catch_up_bars(
                    &self.local_history,
                    &active.slot,
                    active.last_fed_seq,
                    next_seq,
                );
                if let Err(error) = replay(instance, &bars, &active.book) {
                    self.trapped(index, error, next_seq);
                }
            }
        }
        let active = &mut self.active[index];
        match wanted {
            RunState::Paused => active.book.cancel_pending(),
            RunState::Halted => {
                if active.book.halted().is_none() {
                    active.book.halt("halted by the operator".into());
                }
            }
            RunState::Running => {
                if active.book.halted().is_some() {
                    active.book.unhalt();
                }
            }
        }
    }

    fn route(&mut self, index: usize, orders: Vec<Order>, bar: &Bar, rules: &RiskRules) {
        let active = &mut self.active[index];
        let max_orders = active.generation.recipe.limits.max_orders_per_bar;
        let (accepted, refusals) = active
            .book
            .submit(rules, orders, max_orders, wall_clock_ms());
        active
            .slot
            .counters
            .orders
            .fetch_add(accepted.len() as u64, Ordering::Relaxed);
        for order in &accepted {
            self.ctx.journal.send(Record::Order(order_record(
                &active.slot,
                &active.generation,
                order,
                bar,
            )));
        }
        for refusal in refusals {
            self.refused(index, refusal.rule, refusal.reason, bar.seq);
        }
    }

    /// Counts a refusal; the first ten of a strategy and then every
    /// thousandth become events, so a guest cannot flood the journal.
    fn refused(&mut self, index: usize, rule: RiskRule, reason: String, seq: u64) {
        let active = &self.active[index];
        let refused = active.slot.counters.count_refusal(rule);
        if refused <= 10 || refused.is_multiple_of(1000) {
            let event = RefusalEvent {
                ts: now_rfc3339(),
                strategy: active.slot.id.to_string(),
                version: active.generation.version,
                seq,
                rule,
                reason,
                refused_total: refused,
            };
            let _ = self
                .ctx
                .events
                .send(Command::Loop(LoopEvent::Refused(event)));
        }
    }

    /// Remembers the instance's state as of bar `seq` (cheap for bounded
    /// state; an oversized one is simply not kept).
    fn keep_snapshot(&mut self, index: usize, seq: u64) {
        let active = &mut self.active[index];
        active.bars_since_snapshot = 0;
        let Some(instance) = active.instance.as_mut() else {
            return;
        };
        let max = active.generation.recipe.limits.max_snapshot_bytes;
        match instance.snapshot() {
            Ok(bytes) if !bytes.is_empty() && bytes.len() <= max => {
                let old = active.last_good.replace(GoodSnapshot {
                    seq,
                    bytes: Arc::from(bytes),
                });
                // The control plane may still hold it; the loop only drops its reference.
                drop(old);
            }
            Ok(_) => active.last_good = None,
            Err(error) => self.trapped(index, error, seq),
        }
    }

    fn trapped(&mut self, index: usize, error: CallError, seq: u64) {
        let active = &mut self.active[index];
        active.consecutive_traps += 1;
        active.slot.counters.traps.fetch_add(1, Ordering::Relaxed);
        // Orders of a poisoned instance must not fill later at whatever
        // price the market has when a fixed version arrives.
        active.book.cancel_pending();
        if let Some(poisoned) = active.instance.take() {
            let _ = self.ctx.reaper.send(Box::new(poisoned));
        }
        let event = TrapEvent {
            ts: now_rfc3339(),
            strategy: active.slot.id.to_string(),
            version: active.generation.version,
            sha256: active.generation.sha256().to_owned(),
            export: error.export.to_owned(),
            seq,
            kind: error.kind.clone(),
            message: error.message,
            consecutive: active.consecutive_traps,
        };
        let last_good = active.last_good.take();
        let _ = self
            .ctx
            .events
            .send(Command::Loop(LoopEvent::Trapped(event, last_good)));
    }

    /// Takes over a newly published generation at the bar `next_seq`.
    fn swap(&mut self, index: usize, next: Arc<Generation>, next_seq: u64) {
        let Some(mut instance) = next.take_instance() else {
            // Published twice or already used: nothing to run it with.
            tracing::error!(strategy = %next.strategy_id, version = next.version, "generation without an instance");
            return;
        };
        let active = &mut self.active[index];
        let mut restore_error = None;
        let max_snapshot = next.recipe.limits.max_snapshot_bytes;
        let snapshot = match active.instance.as_mut().map(|old| old.snapshot()) {
            Some(Ok(bytes)) if bytes.len() > max_snapshot => {
                restore_error = Some(format!(
                    "snapshot of {} bytes is over the {max_snapshot}-byte limit",
                    bytes.len()
                ));
                None
            }
            Some(Ok(bytes)) if !bytes.is_empty() => Some(bytes),
            Some(Err(error)) => {
                restore_error = Some(format!("the running version could not snapshot: {error}"));
                None
            }
            _ => None,
        };
        let handoff = handoff(
            &mut instance,
            snapshot.as_deref(),
            &mut restore_error,
            || {
                catch_up_bars(
                    &self.local_history,
                    &active.slot,
                    next.warmed_through,
                    next_seq,
                )
            },
            &active.book,
        );
        match handoff {
            Ok((method, replayed_bars)) => {
                // A new generation starts with no snapshot of its own.
                active.last_good = None;
                active.bars_since_snapshot = 0;
                let previous = std::mem::replace(&mut active.generation, Arc::clone(&next));
                let old_instance = active.instance.replace(instance);
                let event = HandoffEvent {
                    ts: now_rfc3339(),
                    strategy: active.slot.id.to_string(),
                    version: next.version,
                    previous_version: previous.version,
                    first_seq: next_seq,
                    method,
                    replayed_bars,
                    restore_error,
                };
                let _ = self.ctx.reaper.send(Box::new((previous, old_instance)));
                let _ = self
                    .ctx
                    .events
                    .send(Command::Loop(LoopEvent::HandedOver(event)));
            }
            Err(error) if active.instance.is_none() => {
                // Nothing healthy to go back to: the new generation takes the
                // slot and its failure counts as one more consecutive trap, so
                // the control plane rebuilds or rolls back.
                let previous = std::mem::replace(&mut active.generation, next);
                let _ = self.ctx.reaper.send(Box::new((previous, instance)));
                self.trapped(index, error, next_seq);
            }
            Err(error) => {
                // The old generation keeps running: put it back in the slot
                // unless the control plane already published yet another.
                let old = Arc::clone(&active.generation);
                drop(active.slot.current.compare_and_swap(&next, old));
                let version = next.version;
                // Moved, not cloned: the loop must not hold the last reference.
                let _ = self.ctx.reaper.send(Box::new((next, Some(instance))));
                let _ = self
                    .ctx
                    .events
                    .send(Command::Loop(LoopEvent::HandoffFailed {
                        strategy: active.slot.id.to_string(),
                        version,
                        error: error.to_string(),
                    }));
            }
        }
    }

    /// Adopts added strategies and retires removed ones, at a bar boundary.
    fn reconcile_roster(&mut self, next_seq: u64) {
        let published = self.ctx.roster.load();
        if Arc::ptr_eq(&published, &self.roster) {
            return;
        }
        let roster = Arc::clone(&published);
        drop(published);
        let (kept, retired): (Vec<Active>, Vec<Active>) = std::mem::take(&mut self.active)
            .into_iter()
            .partition(|a| roster.iter().any(|s| Arc::ptr_eq(s, &a.slot)));
        self.active = kept;
        for active in retired {
            self.summaries.push(summary(&active, true));
            let _ = self.ctx.reaper.send(Box::new(active));
        }
        for slot in roster.iter() {
            if self.active.iter().any(|a| Arc::ptr_eq(&a.slot, slot)) {
                continue;
            }
            let generation = slot.current.load_full();
            let mut instance = generation.take_instance();
            let book = Book::new(
                slot.symbols.clone(),
                self.ctx.starting_cash,
                self.ctx.fill_model,
            );
            let mut failed = None;
            if let Some(inst) = instance.as_mut() {
                let bars = catch_up_bars(
                    &self.local_history,
                    slot,
                    generation.warmed_through,
                    next_seq,
                );
                if let Err(error) = replay(inst, &bars, &book) {
                    failed = Some(error);
                }
            }
            if failed.is_some()
                && let Some(poisoned) = instance.take()
            {
                let _ = self.ctx.reaper.send(Box::new(poisoned));
            }
            self.active.push(Active {
                slot: Arc::clone(slot),
                generation,
                instance,
                book,
                consecutive_traps: 0,
                last_good: None,
                bars_since_snapshot: 0,
                run_state: RunState::Running,
                last_fed_seq: next_seq.checked_sub(1),
                latency: latency_histogram(),
                latency_published: std::time::Instant::now(),
            });
            if let Some(error) = failed {
                let index = self.active.len() - 1;
                self.trapped(index, error, next_seq);
            }
        }
        // The old roster may hold the last reference to a retired slot.
        let old = std::mem::replace(&mut self.roster, roster);
        let _ = self.ctx.reaper.send(Box::new(old));
    }

    fn finish(mut self) -> Vec<StrategySummary> {
        for active in std::mem::take(&mut self.active) {
            self.summaries.push(summary(&active, false));
            let _ = self.ctx.reaper.send(Box::new(active));
        }
        let roster = std::mem::take(&mut self.roster);
        let _ = self.ctx.reaper.send(Box::new(roster));
        self.summaries
    }
}

/// Restores the snapshot when there is one and the new version accepts it;
/// otherwise replays the bars it has not seen. Returns the method used.
fn handoff(
    instance: &mut StrategyInstance,
    snapshot: Option<&[u8]>,
    restore_error: &mut Option<String>,
    gap: impl FnOnce() -> Vec<Bar>,
    book: &Book,
) -> Result<(HandoffMethod, u64), CallError> {
    if let Some(bytes) = snapshot {
        match instance.restore(bytes)? {
            Ok(()) => return Ok((HandoffMethod::Snapshot, 0)),
            Err(reason) => *restore_error = Some(reason),
        }
    }
    let bars = gap();
    let replayed = replay(instance, &bars, book)?;
    Ok((HandoffMethod::Replay, replayed))
}

/// The bars a generation warmed up to `warmed_through` has not seen before
/// `next_seq`, mapped to the strategy's own symbol indices.
fn catch_up_bars(
    history: &LocalHistory,
    slot: &Slot,
    warmed_through: Option<u64>,
    next_seq: u64,
) -> Vec<Bar> {
    history
        .between(warmed_through, next_seq)
        .filter_map(|bar| {
            let local = slot
                .symbol_map
                .get(bar.symbol as usize)
                .copied()
                .flatten()?;
            Some(Bar {
                symbol: local,
                ..*bar
            })
        })
        .collect()
}

/// Feeds bars with orders discarded: state catches up, nothing trades.
fn replay(instance: &mut StrategyInstance, bars: &[Bar], book: &Book) -> Result<u64, CallError> {
    for bar in bars {
        instance.on_bar(*bar, book.position(bar.symbol))?;
    }
    Ok(bars.len() as u64)
}

fn summary(active: &Active, retired: bool) -> StrategySummary {
    let counters = &active.slot.counters;
    StrategySummary {
        strategy: active.slot.id.to_string(),
        version: active.generation.version,
        sha256: active.generation.sha256().to_owned(),
        bars: counters.bars.load(Ordering::Relaxed),
        orders: counters.orders.load(Ordering::Relaxed),
        fills: counters.fills.load(Ordering::Relaxed),
        equity: active.book.account().equity(),
        realised_pnl: active.book.account().realised_pnl(),
        unrealised_pnl: active.book.account().unrealised_pnl(),
        commission: active.book.account().commission_paid(),
        trades: active.book.ledger().closed().len() as u64,
        refused: counters.refused.load(Ordering::Relaxed),
        state: active.run_state,
        retired,
    }
}

/// Makes the account's figures readable from other threads.
fn publish_account(active: &Active) {
    let counters = &active.slot.counters;
    let account = active.book.account();
    counters
        .equity_bits
        .store(account.equity().to_bits(), Ordering::Relaxed);
    counters
        .realised_bits
        .store(account.realised_pnl().to_bits(), Ordering::Relaxed);
    counters
        .unrealised_bits
        .store(account.unrealised_pnl().to_bits(), Ordering::Relaxed);
    counters.trades.store(
        active.book.ledger().closed().len() as u64,
        Ordering::Relaxed,
    );
}

/// Milliseconds since the epoch: the clock live risk rate limits use.
fn wall_clock_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

fn side_name(side: Side) -> &'static str {
    match side {
        Side::Buy => "buy",
        Side::Sell => "sell",
    }
}

fn order_record(slot: &Slot, generation: &Generation, order: &Order, bar: &Bar) -> OrderRecord {
    let (kind, limit_price) = match order.kind {
        OrderKind::Market => ("market", None),
        OrderKind::Limit(price) => ("limit", Some(price)),
    };
    OrderRecord {
        ts_ms: bar.ts_ms,
        seq: bar.seq,
        strategy: Arc::clone(&slot.id),
        version: generation.version,
        sha256: Arc::from(generation.sha256()),
        symbol: symbol_name(slot, order.symbol),
        side: side_name(order.side),
        quantity: order.quantity,
        kind,
        limit_price,
    }
}

fn fill_record(slot: &Slot, generation: &Generation, fill: &Fill) -> FillRecord {
    FillRecord {
        ts_ms: fill.ts_ms,
        seq: fill.seq,
        strategy: Arc::clone(&slot.id),
        version: generation.version,
        sha256: Arc::from(generation.sha256()),
        symbol: symbol_name(slot, fill.symbol),
        side: side_name(fill.side),
        quantity: fill.quantity,
        price: fill.price,
        commission: fill.commission,
    }
}

fn symbol_name(slot: &Slot, index: u32) -> Arc<str> {
    slot.symbols
        .get(index as usize)
        .cloned()
        .unwrap_or_else(|| Arc::from("?"))
}
