//! `runtime live`: the bar loop on its own thread, the control plane that
//! hot-reloads strategies, the feed, the journal and the reaper, behind one
//! [`Runtime`] handle.

mod activity;
mod bar_loop;
mod command;
mod control;
mod event_sink;
mod events;
mod feed_thread;
mod generation;
mod handle;
mod journal;
mod loop_event;
mod loop_events;
mod metrics;
mod reaper;
mod recent_bars;
mod shadow;
mod shared;
mod subscribers;
mod watcher;

pub use crate::action::StateAction;
pub use activity::{Activity, FuelSummary, PositionView, RecentFill, WorkingOrder};
pub use bar_loop::LoopLag;
pub use bar_loop::{LoopStats, StrategySummary};
pub use command::{CandidateAction, DeployRequest, DeploySource};
pub use control::DiskStatus;
pub use control::VersionEntry;
pub use events::{CacheEvent, DeployEvent, DeployWhat, StopEvent, StopReason};
pub use events::{
    Event, HandoffEvent, HandoffMethod, Outcome, RefusalEvent, ReloadEvent, SnapshotEvent,
    StateEvent, TrapEvent, Trigger,
};
pub use generation::{
    Generation, GenerationStats, Recipe, Roster, RunState, SlotCounters, StrategySlot,
};
pub use handle::{RuntimeHandle, StrategyBrief};
pub use subscribers::EventSubscription;

/// Raises the calling thread to the market-data path's priority (nice −5,
/// what the runtime's feed threads and its bar loop run at), so a compile on
/// the control plane never holds a bar up on its way in; for a thread that
/// feeds bars through [`Runtime::push_bar`]. Best effort: it needs
/// `CAP_SYS_NICE` or an `RLIMIT_NICE` that allows it; true when it took.
pub fn raise_feed_priority() -> bool {
    bar_loop::priority::raise_this_thread()
}
pub use journal::{
    AUDIT_FILE, AuditRecord, EVENTS_FILE, FILLS_FILE, ORDERS_FILE, SHADOW_FILLS_FILE,
    SHADOW_ORDERS_FILE,
};
pub use metrics::ReloadMetrics;
pub use shadow::{
    CandidateStatus, Comparison, PendingSwap, PendingSwapStatus, ShadowSlot, ShadowStats,
    SideFigures, SwapPolicy,
};

use crate::broker::FillModel;
use crate::config::Config;
use crate::contract::Bar;
use crate::load::Loader;
use crate::refusal::Refusal;
use arc_swap::ArcSwap;
use command::{ControlCommand, ask};
use control::{ControlParts, ControlPlane};
use event_sink::EventSink;
use recent_bars::SharedRecentBars;
use serde::Serialize;
use shared::{Shared, lock};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::Sender;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Where bars come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FeedMode {
    /// The feed `[feed]` describes (paced synthetic, CSV, TCP or stdin).
    Config {
        /// Stop after this many bars (`None`: until stopped).
        max_bars: Option<u64>,
    },
    /// Bars are pushed with [`Runtime::push_bar`] (tests, embedding).
    Manual,
}

/// How to run, besides the config.
#[derive(Debug, Clone)]
pub struct LiveOptions {
    /// The config file, watched for edits; `None` for a config built in code.
    pub config_path: Option<PathBuf>,
    /// Overrides `runtime.journal_dir`.
    pub journal_dir: Option<PathBuf>,
    /// Where bars come from.
    pub feed: FeedMode,
    /// Watch files for changes (when `hot_reload.enabled`).
    pub watch: bool,
    /// With `watch`, also re-check every file each second in case an event
    /// was missed. On by default; tests turn it off to show that events
    /// alone see a deploy.
    pub rescan: bool,
}

impl Default for LiveOptions {
    fn default() -> Self {
        Self {
            config_path: None,
            journal_dir: None,
            feed: FeedMode::Config { max_bars: None },
            watch: true,
            rescan: true,
        }
    }
}

/// One strategy as seen from outside.
#[derive(Debug, Clone, Serialize)]
pub struct StrategyStatus {
    /// The strategy's `id` in the config.
    pub id: String,
    /// `running`, `paused`, `halted`, or `quarantined` after repeated traps
    /// with nothing to roll back to.
    pub state: &'static str,
    /// Why it is halted or quarantined.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state_reason: Option<String>,
    /// The live generation's version (1 for the first load, +1 for every published generation).
    pub version: u64,
    /// SHA-256 (hex) of the live component's bytes.
    pub sha256: String,
    /// A 16-hex-digit digest of the live parameter set (tells params edits apart).
    pub params_hash: String,
    /// When the live generation was published (RFC 3339, seconds).
    pub loaded_at: String,
    /// The strategy's symbols, in the order its `init` got them.
    pub symbols: Vec<String>,
    /// Bars given to the guest's `on-bar` so far (all generations).
    pub bars: u64,
    /// Orders accepted by validation and risk, sent to the paper broker.
    pub orders: u64,
    /// Fills of this strategy's orders.
    pub fills: u64,
    /// Traps (out of fuel, deadline, memory, panics) of any generation.
    pub traps: u64,
    /// Bars not processed because a trap had poisoned the instance.
    pub skipped_bars: u64,
    /// Bars not given to the guest while it was paused.
    pub paused_bars: u64,
    /// Round-trip trades closed.
    pub trades: u64,
    /// Paper-account equity (cash plus marked positions), in the feed's currency.
    pub equity: f64,
    /// Realised profit and loss of closed trades, after commission.
    pub realised_pnl: f64,
    /// Unrealised profit and loss of open positions at the last close.
    pub unrealised_pnl: f64,
    /// Orders refused, by rule (`validation`, `max_position`, ...).
    pub refused: BTreeMap<&'static str, u64>,
    /// The risk rules in force.
    pub risk: crate::risk::RiskRules,
    /// Per-bar guest-call latency percentiles, in microseconds.
    pub latency_us: LatencySummary,
    /// Feed-to-decision percentiles per bar (the feed delivered the bar →
    /// this strategy's orders routed), in microseconds: call time plus the
    /// wait in the loop's queue and behind the strategies called before it.
    pub feed_to_decision_us: LatencySummary,
    /// The strategy's file as last read from disk (a load reads it).
    pub disk: DiskStatus,
    /// True when the file on disk is not the running version (a newer file
    /// rejected or not yet loaded, an unreadable file, a rollback).
    pub disk_differs: bool,
    /// Versions available for rollback, oldest first; the last one is live.
    pub versions: Vec<VersionEntry>,
    /// Reload attempts and outcomes of this strategy.
    pub reload: ReloadMetrics,
    /// The shadow candidate beside the live version and how the two
    /// compare, when there is one (`runtime diff`).
    pub candidate: Option<CandidateStatus>,
    /// A published version waiting for its swap policy, when there is one.
    pub pending_swap: Option<PendingSwapStatus>,
    /// The compiler tier of the live generation's code (`baseline` /
    /// `optimized`, `hot_reload.tiering`).
    pub tier: crate::load::Tier,
    /// Fuel per `on-bar` call against the live budget.
    pub fuel_per_bar: FuelSummary,
    /// Open positions, working orders and the last fills.
    pub activity: Activity,
}

/// Percentiles of a latency histogram, in microseconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct LatencySummary {
    /// Calls measured.
    pub samples: u64,
    /// Median, in microseconds.
    pub p50: f64,
    /// 99th percentile, in microseconds.
    pub p99: f64,
    /// 99.9th percentile, in microseconds.
    pub p999: f64,
    /// Slowest call, in microseconds.
    pub max: f64,
}

impl LatencySummary {
    /// The percentiles of a histogram recorded in nanoseconds.
    pub fn of(histogram: &hdrhistogram::Histogram<u64>) -> Self {
        let us = |ns: u64| ns as f64 / 1000.0;
        Self {
            samples: histogram.len(),
            p50: us(histogram.value_at_quantile(0.5)),
            p99: us(histogram.value_at_quantile(0.99)),
            p999: us(histogram.value_at_quantile(0.999)),
            max: us(histogram.max()),
        }
    }
}

/// The whole runtime at one moment: what `/status` and `runtime status` show.
#[derive(Debug, Clone, Serialize)]
pub struct RuntimeStatus {
    /// This run's id, the `run` field of every journal record.
    pub run_id: String,
    /// `dev` or `prod`.
    pub profile: String,
    /// Milliseconds since the runtime started.
    pub uptime_ms: u64,
    /// True when files are watched (`hot_reload.enabled` and watching on).
    pub hot_reload: bool,
    /// Bars the loop has processed (each bar counts once, whatever the number of strategies).
    pub bars: u64,
    /// Sequence number of the last bar processed.
    pub last_seq: u64,
    /// How far the bar loop is behind its feed.
    pub loop_lag: LoopLag,
    /// Every running strategy, in id order.
    pub strategies: Vec<StrategyStatus>,
    /// Reload attempts and outcomes of all strategies together.
    pub reload_total: ReloadMetrics,
}

/// What a stopped runtime reports ([`Runtime::stop_with_report`]).
#[derive(Debug, Clone)]
pub struct StopReport {
    /// Every strategy's final account, retired ones included.
    pub strategies: Vec<StrategySummary>,
    /// How far the loop fell behind its feed, over the whole run.
    pub loop_lag: LoopLag,
}

/// A running runtime. Dropping it without [`Runtime::stop`] stops it too.
pub struct Runtime {
    commands: Sender<ControlCommand>,
    roster: Arc<ArcSwap<Roster>>,
    shared: Arc<Shared>,
    /// Dropped before the journal is joined: it holds a journal sender.
    sink: Option<Arc<EventSink>>,
    loop_stats: Arc<LoopStats>,
    stop: Arc<AtomicBool>,
    manual_feed: Mutex<Option<feed_thread::BarSender>>,
    feed_thread: Option<JoinHandle<()>>,
    feed_addr: Option<std::net::SocketAddr>,
    feed_error: Arc<Mutex<Option<String>>>,
    loop_thread: Option<JoinHandle<Vec<StrategySummary>>>,
    events_thread: Option<JoinHandle<()>>,
    control_thread: Option<JoinHandle<()>>,
    journal_thread: Option<JoinHandle<()>>,
    reaper_thread: Option<JoinHandle<u64>>,
    profile: String,
    run_id: String,
    hot_reload: bool,
    started: Instant,
    loader: Arc<Loader>,
}

impl Runtime {
    /// Loads every enabled strategy, then starts the loop, the feed and (if
    /// enabled) the watcher. In prod, any strategy that fails to load — a
    /// pinned hash that does not match, say — refuses the start.
    pub fn start(config: Config, options: LiveOptions) -> anyhow::Result<Runtime> {
        let loader = Arc::new(Loader::new()?);
        Self::start_with_loader(config, options, loader)
    }

    /// Like [`Runtime::start`], sharing a loader (and its compile cache).
    pub fn start_with_loader(
        config: Config,
        options: LiveOptions,
        loader: Arc<Loader>,
    ) -> anyhow::Result<Runtime> {
        Self::start_with_fleet(config, Vec::new(), options, loader)
    }

    /// Like [`Runtime::start_with_loader`], with a fleet's `[[strategy]]`
    /// entries for this node beside the config's own (`crate::fleet`: the
    /// deployments last applied). An id in both is a start-up error; later
    /// fleet changes come through [`RuntimeHandle::apply_fleet`].
    pub fn start_with_fleet(
        config: Config,
        fleet: Vec<crate::config::StrategyConfig>,
        options: LiveOptions,
        loader: Arc<Loader>,
    ) -> anyhow::Result<Runtime> {
        let config = control::merge_fleet(config, &fleet).map_err(|e| anyhow::anyhow!("{e}"))?;
        let journal_dir = options.journal_dir.clone().or_else(|| config.journal_dir());
        let (journal_tx, journal_rx) = std::sync::mpsc::channel();
        let run_id = journal::new_run_id();
        tracing::info!(run = %run_id, "starting; every journal record carries this run id");
        let journal_thread = journal::start(journal_dir, run_id.clone(), journal_rx)?;
        let journal = journal::JournalSender(journal_tx);
        let (reaper_tx, reaper_thread) = reaper::start()?;
        let roster = Arc::new(ArcSwap::from_pointee(Roster::new()));
        let symbols = config.feed.symbols.len().max(1);
        let history_capacity = config.runtime.history_bars.saturating_mul(symbols);
        let recent_bars = Arc::new(SharedRecentBars::new(history_capacity));
        let shared = Arc::new(Shared::default());
        let sink = Arc::new(EventSink::new(journal.clone(), Arc::clone(&shared)));
        let hot_reload = config.hot_reload.enabled && options.watch;
        let profile = config.profile.to_string();

        let mut control = ControlPlane::new(ControlParts {
            loader: Arc::clone(&loader),
            config: config.clone(),
            config_path: options.config_path.clone(),
            roster: Arc::clone(&roster),
            recent_bars: Arc::clone(&recent_bars),
            sink: Arc::clone(&sink),
            shared: Arc::clone(&shared),
            // The supervisor's `hot_reload` only switches its rescan on.
            hot_reload: hot_reload && options.rescan,
            fleet,
        });
        control.start_all().map_err(anyhow::Error::msg)?;

        let (commands_tx, commands_rx) = std::sync::mpsc::channel();
        control.attach_pipeline(commands_tx.clone());
        if hot_reload {
            let debounce = Duration::from_millis(config.hot_reload.debounce_ms);
            let watcher = watcher::Watcher::start(
                &config.strategies_dir(),
                options.config_path.as_deref(),
                debounce,
                commands_tx.clone(),
            )?;
            control.attach_watcher(watcher);
        }

        let loop_stats = Arc::new(LoopStats::default());
        let (loop_events_tx, loop_events_rx) = std::sync::mpsc::channel();
        let events_thread =
            loop_events::start(loop_events_rx, Arc::clone(&sink), commands_tx.clone())?;
        let (bars_tx, bars_rx) = std::sync::mpsc::sync_channel(feed_thread::FEED_QUEUE);
        let bars_tx = feed_thread::BarSender::new(bars_tx, Arc::clone(&loop_stats.delivered));
        let context = bar_loop::LoopContext {
            roster: Arc::clone(&roster),
            recent_bars,
            history_bars: history_capacity,
            spin: Duration::from_micros(config.runtime.loop_spin_us),
            outbox: bar_loop::Outbox {
                journal,
                reaper: reaper_tx,
                events: loop_events_tx,
            },
            fill_model: FillModel {
                commission: config.broker.commission,
                slippage_bps: config.broker.slippage_bps,
                tie: config.broker.bracket_tie.rule(),
            },
            starting_cash: config.broker.starting_cash,
            stats: Arc::clone(&loop_stats),
        };
        let loop_thread = std::thread::Builder::new()
            .name("sandbar-bar-loop".into())
            .spawn(move || bar_loop::run(context, bars_rx))
            .map_err(|e| anyhow::anyhow!("cannot start the bar loop: {e}"))?;
        let control_thread =
            crate::threads::spawn("sandbar-control", move || control.run(commands_rx))
                .map_err(|e| anyhow::anyhow!("cannot start the control plane: {e}"))?;

        let stop = Arc::new(AtomicBool::new(false));
        let feed_control = feed_thread::FeedControl {
            stop: Arc::clone(&stop),
            error: Arc::new(Mutex::new(None)),
        };
        let (manual_feed, feed_thread, feed_addr) = match options.feed {
            FeedMode::Manual => (Some(bars_tx), None, None),
            FeedMode::Config { max_bars } => {
                let started = feed_thread::start(&config, max_bars, bars_tx, feed_control.clone())?;
                (None, Some(started.thread), started.listening)
            }
        };
        Ok(Runtime {
            commands: commands_tx,
            roster,
            shared,
            sink: Some(sink),
            loop_stats,
            stop,
            manual_feed: Mutex::new(manual_feed),
            feed_thread,
            feed_addr,
            feed_error: feed_control.error,
            loop_thread: Some(loop_thread),
            events_thread: Some(events_thread),
            control_thread: Some(control_thread),
            journal_thread: Some(journal_thread),
            reaper_thread: Some(reaper_thread),
            profile,
            run_id,
            hot_reload,
            started: Instant::now(),
            loader,
        })
    }

    /// Feeds one bar (with [`FeedMode::Manual`]). Blocks when the loop is
    /// `FEED_QUEUE` (4096) bars behind. The runtime's own feed threads run
    /// at the bar loop's priority; a thread that feeds bars this way should
    /// too ([`raise_feed_priority`]).
    pub fn push_bar(&self, bar: Bar) -> Result<(), String> {
        let feed = lock(&self.manual_feed);
        let sender = feed.as_ref().ok_or("this runtime's feed is not manual")?;
        sender
            .send(bar)
            .map_err(|_| "the bar loop has stopped".to_owned())
    }

    /// Bars the loop has processed so far.
    pub fn bars_processed(&self) -> u64 {
        self.loop_stats.bars.load(Ordering::Acquire)
    }

    /// Waits until the loop has processed `bars` bars; false on timeout.
    pub fn wait_for_bars(&self, bars: u64, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        while self.bars_processed() < bars {
            if Instant::now() > deadline {
                return false;
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        true
    }

    /// The generation currently published for `id`.
    pub fn generation(&self, id: &str) -> Option<Arc<Generation>> {
        self.roster
            .load()
            .iter()
            .find(|s| &*s.id == id)
            .map(|s| s.current.load_full())
    }

    /// Runs the pipeline for `id` now, from its file.
    pub fn reload(&self, id: &str) -> Result<ReloadEvent, Refusal> {
        self.handle().reload(id)
    }

    /// Goes back `steps` versions in `id`'s history (1 = the previous one).
    pub fn rollback(&self, id: &str, steps: usize) -> Result<ReloadEvent, Refusal> {
        self.handle().rollback(id, steps)
    }

    /// Loads a build through the pipeline as `id`'s candidate or live; see
    /// [`RuntimeHandle::deploy`].
    pub fn deploy(&self, id: &str, request: DeployRequest) -> Result<ReloadEvent, Refusal> {
        self.handle().deploy(id, request)
    }

    /// Promotes or discards `id`'s candidate, or forces or cancels a
    /// waiting swap; see [`RuntimeHandle::candidate`].
    pub fn candidate(
        &self,
        id: &str,
        action: CandidateAction,
        actor: &str,
    ) -> Result<DeployEvent, Refusal> {
        self.handle().candidate(id, action, actor)
    }

    /// Applies `config` as a diff against the running one.
    pub fn apply_config(&self, config: Config) -> Result<Vec<ReloadEvent>, Refusal> {
        ask(&self.commands, |reply| {
            ControlCommand::ApplyConfig(Box::new(config), reply)
        })
    }

    /// Pauses, resumes, halts or un-halts a strategy (applied by the loop at
    /// the next bar); `actor` names who asked, for the event. Returns the
    /// state now in force.
    pub fn set_state(
        &self,
        id: &str,
        action: StateAction,
        actor: &str,
    ) -> Result<RunState, Refusal> {
        self.handle().set_state(id, action, actor)
    }

    /// The slot of a running strategy (its counters, risk rules, latency).
    pub fn slot(&self, id: &str) -> Option<Arc<StrategySlot>> {
        self.roster.load().iter().find(|s| &*s.id == id).cloned()
    }

    /// Every event from now on.
    pub fn subscribe(&self) -> EventSubscription {
        self.handle().subscribe()
    }

    /// The last events (up to 1000), oldest first.
    pub fn recent_events(&self) -> Vec<Event> {
        lock(&self.shared.recent).iter().cloned().collect()
    }

    /// Reload metrics of every strategy that had a reload attempt.
    pub fn reload_metrics(&self) -> BTreeMap<String, ReloadMetrics> {
        lock(&self.shared.metrics).clone()
    }

    /// Compiled components in the cache.
    pub fn compile_cache_entries(&self) -> usize {
        self.loader.cached_entries()
    }

    /// The runtime's status now (see [`RuntimeStatus`]).
    pub fn status(&self) -> RuntimeStatus {
        self.handle().status()
    }

    /// A cloneable, thread-safe view of this runtime for the ops API: status,
    /// events and control, without keeping the runtime alive.
    pub fn handle(&self) -> RuntimeHandle {
        RuntimeHandle {
            commands: self.commands.clone(),
            roster: Arc::clone(&self.roster),
            shared: Arc::clone(&self.shared),
            sink: self.sink.as_ref().map(Arc::downgrade).unwrap_or_default(),
            loop_stats: Arc::clone(&self.loop_stats),
            profile: self.profile.clone(),
            run_id: self.run_id.clone(),
            hot_reload: self.hot_reload,
            started: self.started,
        }
    }

    /// A flag that stops the feed when set (for signal handlers).
    pub fn stop_flag(&self) -> Arc<AtomicBool> {
        Arc::clone(&self.stop)
    }

    /// Where the TCP line feed listens (`feed.kind = "tcp"`).
    pub fn feed_addr(&self) -> Option<std::net::SocketAddr> {
        self.feed_addr
    }

    /// Why the feed stopped early, if it did (a bad row with `on_bad_row = "stop"`).
    pub fn feed_error(&self) -> Option<String> {
        lock(&self.feed_error).clone()
    }

    /// True once a feed with `max_bars` has delivered all of them.
    pub fn feed_finished(&self) -> bool {
        self.feed_thread.as_ref().is_some_and(|t| t.is_finished())
    }

    /// Stops the feed, lets the loop finish the bars it was given, stops the
    /// control plane and the watcher, flushes the journal; returns the final
    /// per-strategy summary.
    pub fn stop(self) -> Vec<StrategySummary> {
        self.stop_with_report().strategies
    }

    /// Like [`Runtime::stop`], with the loop's lag over the whole run too.
    pub fn stop_with_report(mut self) -> StopReport {
        let strategies = self.shutdown();
        StopReport {
            strategies,
            loop_lag: self.loop_stats.lag(),
        }
    }

    fn shutdown(&mut self) -> Vec<StrategySummary> {
        self.stop.store(true, Ordering::Relaxed);
        lock(&self.manual_feed).take();
        if let Some(feed) = self.feed_thread.take() {
            let _ = feed.join();
        }
        let mut summaries: Vec<StrategySummary> = self
            .loop_thread
            .take()
            .and_then(|t| t.join().ok())
            .unwrap_or_default();
        {
            let quarantined = lock(&self.shared.quarantined);
            for summary in summaries.iter_mut().filter(|s| !s.retired) {
                summary.quarantined = quarantined.get(&summary.strategy).cloned();
            }
        }
        // The loop is gone, so the event thread drains what it reported and
        // ends; then the control plane handles what that forwarded.
        if let Some(events) = self.events_thread.take() {
            let _ = events.join();
        }
        let _ = self.commands.send(ControlCommand::Shutdown);
        if let Some(control) = self.control_thread.take() {
            let _ = control.join();
        }
        self.sink.take();
        // Every sender to the journal and the reaper is gone now.
        if let Some(journal) = self.journal_thread.take() {
            let _ = journal.join();
        }
        if let Some(reaper) = self.reaper_thread.take() {
            let _ = reaper.join();
        }
        summaries
    }
}

impl Drop for Runtime {
    fn drop(&mut self) {
        if self.loop_thread.is_some() {
            self.shutdown();
        }
    }
}
