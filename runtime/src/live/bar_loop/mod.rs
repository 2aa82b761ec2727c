//! The bar loop: one thread, fed bars through a channel. For every strategy
//! subscribed to a bar's symbol its [`runner::StrategyRunner`] loads the
//! slot's generation (wait-free), hands state over at a bar boundary when a
//! new one was published, fills orders in the paper account, and calls
//! `on-bar`. It never compiles, never does I/O, never drops a store and never
//! waits on the control plane: what it reports goes out through its
//! [`outbox::Outbox`].

mod catch_up;
mod outbox;
pub(crate) mod priority;
mod receive;
mod runner;
mod shadow;

pub(crate) use outbox::Outbox;

use super::LatencySummary;
use super::events::{StopEvent, StopReason, now_rfc3339};
use super::feed_thread::FedBar;
use super::generation::{Roster, RunState, latency_histogram};
use super::loop_event::LoopEvent;
use super::recent_bars::{LoopRecentBars, SharedRecentBars};
use crate::broker::FillModel;
use crate::contract::Bar;
use arc_swap::ArcSwap;
use runner::{LoopView, StrategyRunner};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::Receiver;
use std::time::{Duration, Instant};

/// How often the loop publishes its lag histogram.
const LAG_PUBLISH_EVERY: Duration = Duration::from_secs(1);

/// Loop-wide counters readable from any thread.
#[derive(Debug)]
pub struct LoopStats {
    /// Bars processed (each counts once).
    pub bars: AtomicU64,
    /// Sequence number of the last bar processed.
    pub last_seq: AtomicU64,
    /// Bars the feed has put in the loop's queue (each counts once).
    pub(crate) delivered: Arc<AtomicU64>,
    /// How long the last bar processed had waited since the feed delivered
    /// it, in ns.
    last_lag_ns: AtomicU64,
    /// The age of every bar when the loop took it, in ns: a copy published
    /// about once a second (and when the loop stops).
    lag: ArcSwap<hdrhistogram::Histogram<u64>>,
}

impl Default for LoopStats {
    fn default() -> Self {
        Self {
            bars: AtomicU64::new(0),
            last_seq: AtomicU64::new(0),
            delivered: Arc::new(AtomicU64::new(0)),
            last_lag_ns: AtomicU64::new(0),
            lag: ArcSwap::from_pointee(latency_histogram()),
        }
    }
}

impl LoopStats {
    /// How far behind the feed the loop is now: bars waiting in its queue,
    /// the age of the last bar it took, and the ages of all of them.
    pub fn lag(&self) -> LoopLag {
        let processed = self.bars.load(Ordering::Acquire);
        LoopLag {
            bars_queued: self
                .delivered
                .load(Ordering::Relaxed)
                .saturating_sub(processed),
            last_age_us: self.last_lag_ns.load(Ordering::Relaxed) as f64 / 1000.0,
            age_us: LatencySummary::of(&self.lag.load()),
        }
    }
}

/// How far the bar loop is behind its feed (`/status`, `/metrics`, the final
/// summary). Call times alone hide queueing: a neighbour that stalls the
/// loop makes every other strategy's decisions late without slowing its
/// calls.
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize)]
pub struct LoopLag {
    /// Bars delivered by the feed and not yet processed.
    pub bars_queued: u64,
    /// Age of the last bar the loop took (feed delivery to the start of its
    /// processing), in microseconds.
    pub last_age_us: f64,
    /// The ages of every bar when the loop took it, in microseconds.
    pub age_us: LatencySummary,
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
    /// Time in the guest's `on-bar` per call, in microseconds.
    pub call_us: LatencySummary,
    /// Feed to decision per bar (the feed delivered the bar → this
    /// strategy's orders routed), in microseconds: call time plus every wait
    /// in the loop's queue and behind the strategies before it.
    pub decision_us: LatencySummary,
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
    /// How long the loop polls for the next bar before it sleeps
    /// (`runtime.loop_spin_us`).
    pub spin: Duration,
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
    /// Ages of the bars when the loop took them (ns), published to `ctx.stats`.
    lag: hdrhistogram::Histogram<u64>,
    lag_published: Instant,
}

/// Runs until the bar channel closes; returns every strategy's summary.
pub(crate) fn run(ctx: LoopContext, bars: Receiver<FedBar>) -> Vec<StrategySummary> {
    // wasmtime sets up per-thread state (signal stack, trap handler TLS) on
    // a thread's first call into Wasm; doing it now keeps that cost off the
    // first bar (measured in `cargo bench --bench bar_loop`).
    wasmtime::Engine::tls_eager_initialize();
    priority::raise_this_thread();
    let recent = LoopRecentBars::new(ctx.history_bars);
    let mut bar_loop = BarLoop {
        ctx,
        roster: Arc::new(Roster::new()),
        runners: Vec::new(),
        recent,
        backlog: Vec::new(),
        summaries: Vec::new(),
        lag: latency_histogram(),
        lag_published: Instant::now(),
    };
    let spin = bar_loop.ctx.spin;
    while let Some(fed) = receive::next_bar(&bars, spin) {
        bar_loop.process(fed);
    }
    bar_loop.finish()
}

impl BarLoop {
    fn process(&mut self, fed: FedBar) {
        let FedBar { bar, arrived } = fed;
        self.record_lag(arrived.elapsed());
        self.reconcile_roster(bar.seq);
        let view = LoopView {
            outbox: &self.ctx.outbox,
            recent: &self.recent,
        };
        for runner in &mut self.runners {
            runner.on_bar(&bar, arrived, &view);
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
            self.stopped(&runner, StopReason::Retired);
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

    /// Counts how long a bar waited between the feed and the loop; the
    /// histogram is published about once a second (a plain allocation,
    /// cheap to free here).
    fn record_lag(&mut self, age: Duration) {
        let ns = u64::try_from(age.as_nanos()).unwrap_or(u64::MAX);
        self.ctx.stats.last_lag_ns.store(ns, Ordering::Relaxed);
        let _ = self.lag.record(ns.max(1));
        if self.lag_published.elapsed() >= LAG_PUBLISH_EVERY {
            self.publish_lag();
        }
    }

    fn publish_lag(&mut self) {
        self.lag_published = Instant::now();
        self.ctx.stats.lag.store(Arc::new(self.lag.clone()));
    }

    /// Journals the bar range of a strategy's last generation (the handoffs
    /// carry every earlier one), so the journal alone shows the generations
    /// tiling the bars.
    fn stopped(&self, runner: &StrategyRunner, reason: StopReason) {
        let generation = runner.generation();
        self.ctx.outbox.event(LoopEvent::Stopped(StopEvent {
            ts: now_rfc3339(),
            strategy: runner.slot.id.to_string(),
            version: generation.version,
            sha256: generation.sha256().to_owned(),
            seq_range: generation.stats.seq_range(),
            reason,
        }));
    }

    fn finish(mut self) -> Vec<StrategySummary> {
        self.publish_lag();
        for runner in std::mem::take(&mut self.runners) {
            self.stopped(&runner, StopReason::Shutdown);
            self.summaries.push(runner.summary(false));
            self.ctx.outbox.retire(Box::new(runner));
        }
        let roster = std::mem::take(&mut self.roster);
        self.ctx.outbox.retire(Box::new(roster));
        self.summaries
    }
}
