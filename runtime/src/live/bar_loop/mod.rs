//! The bar loop: one thread, fed bars through a channel. For every strategy
//! subscribed to a bar's symbol its [`runner::StrategyRunner`] loads the
//! slot's generation (wait-free), hands state over at a bar boundary when a
//! new one was published, fills orders in the paper account, and calls
//! `on-bar`. It never compiles, never does I/O, never drops a store and never
//! waits on the control plane: what it reports goes out through its
//! [`outbox::Outbox`].

mod catch_up;
mod outbox;
mod runner;

pub(crate) use outbox::Outbox;

use super::generation::{Roster, RunState};
use super::recent_bars::{LoopRecentBars, SharedRecentBars};
use crate::broker::FillModel;
use crate::contract::Bar;
use arc_swap::ArcSwap;
use runner::{LoopView, StrategyRunner};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::Receiver;

/// Loop-wide counters readable from any thread.
#[derive(Debug, Default)]
pub struct LoopStats {
    /// Bars processed (each counts once).
    pub bars: AtomicU64,
    /// Sequence number of the last bar processed.
    pub last_seq: AtomicU64,
}

/// Final account of one strategy when the loop stops.
#[derive(Debug, Clone, PartialEq)]
pub struct StrategySummary {
    /// The strategy's id.
    pub strategy: String,
    /// Version of its last generation.
    pub version: u64,
    /// SHA-256 of its last generation's component.
    pub sha256: String,
    /// Bars given to its guest (all generations).
    pub bars: u64,
    /// Orders accepted and sent to the broker.
    pub orders: u64,
    /// Fills of its orders.
    pub fills: u64,
    /// Final paper-account equity.
    pub equity: f64,
    /// Realised profit and loss, after commission.
    pub realised_pnl: f64,
    /// Unrealised profit and loss at the last close.
    pub unrealised_pnl: f64,
    /// Commission paid in total.
    pub commission: f64,
    /// Round-trip trades closed.
    pub trades: u64,
    /// Orders refused by validation or risk.
    pub refused: u64,
    /// Its run state when the loop stopped (or when it was retired).
    pub state: RunState,
    /// True when a config edit retired it before the loop stopped.
    pub retired: bool,
    /// Why it was quarantined (trapping, nothing to roll back to), if it was
    /// when the runtime stopped.
    pub quarantined: Option<String>,
}

impl StrategySummary {
    /// The state as status shows it: `quarantined` wins over the loop's
    /// run state, which a quarantined strategy still has.
    pub fn state_name(&self) -> &'static str {
        if self.quarantined.is_some() {
            "quarantined"
        } else {
            self.state.as_str()
        }
    }
}

pub(crate) struct LoopContext {
    pub roster: Arc<ArcSwap<Roster>>,
    pub recent_bars: Arc<SharedRecentBars>,
    pub history_bars: usize,
    pub outbox: Outbox,
    pub fill_model: FillModel,
    pub starting_cash: f64,
    pub stats: Arc<LoopStats>,
}

struct BarLoop {
    ctx: LoopContext,
    roster: Arc<Roster>,
    runners: Vec<StrategyRunner>,
    recent: LoopRecentBars,
    /// Bars not yet copied to the shared ring (its lock was busy).
    backlog: Vec<Bar>,
    summaries: Vec<StrategySummary>,
}

/// Runs until the bar channel closes; returns every strategy's summary.
pub(crate) fn run(ctx: LoopContext, bars: Receiver<Bar>) -> Vec<StrategySummary> {
    // wasmtime sets up per-thread state (signal stack, trap handler TLS) on
    // a thread's first call into Wasm; doing it now keeps that cost off the
    // first bar (measured in `cargo bench --bench bar_loop`).
    wasmtime::Engine::tls_eager_initialize();
    let recent = LoopRecentBars::new(ctx.history_bars);
    let mut bar_loop = BarLoop {
        ctx,
        roster: Arc::new(Roster::new()),
        runners: Vec::new(),
        recent,
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
        let view = LoopView {
            outbox: &self.ctx.outbox,
            recent: &self.recent,
        };
        for runner in &mut self.runners {
            runner.on_bar(&bar, &view);
        }
        self.recent.push(bar);
        self.backlog.push(bar);
        self.ctx.recent_bars.try_append(&mut self.backlog);
        self.ctx.stats.last_seq.store(bar.seq, Ordering::Relaxed);
        self.ctx.stats.bars.fetch_add(1, Ordering::Release);
    }

    /// Adopts added strategies and retires removed ones, at a bar boundary.
    fn reconcile_roster(&mut self, next_seq: u64) {
        let published = self.ctx.roster.load();
        if Arc::ptr_eq(&published, &self.roster) {
            return;
        }
        let roster = Arc::clone(&published);
        drop(published);
        let (kept, retired): (Vec<_>, Vec<_>) = std::mem::take(&mut self.runners)
            .into_iter()
            .partition(|r| roster.iter().any(|s| Arc::ptr_eq(s, &r.slot)));
        self.runners = kept;
        for runner in retired {
            self.summaries.push(runner.summary(true));
            self.ctx.outbox.retire(Box::new(runner));
        }
        let view = LoopView {
            outbox: &self.ctx.outbox,
            recent: &self.recent,
        };
        for slot in roster.iter() {
            if self.runners.iter().any(|r| Arc::ptr_eq(&r.slot, slot)) {
                continue;
            }
            self.runners.push(StrategyRunner::adopt(
                slot,
                self.ctx.starting_cash,
                self.ctx.fill_model,
                next_seq,
                &view,
            ));
        }
        // The old roster may hold the last reference to a retired slot.
        let old = std::mem::replace(&mut self.roster, roster);
        self.ctx.outbox.retire(Box::new(old));
    }

    fn finish(mut self) -> Vec<StrategySummary> {
        for runner in std::mem::take(&mut self.runners) {
            self.summaries.push(runner.summary(false));
            self.ctx.outbox.retire(Box::new(runner));
        }
        let roster = std::mem::take(&mut self.roster);
        self.ctx.outbox.retire(Box::new(roster));
        self.summaries
    }
}
