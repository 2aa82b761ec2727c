//! A generation is one loaded version of a strategy with its parameters; a
//! [`StrategySlot`] holds the generation the bar loop uses, behind `ArcSwap`.

use super::events::Trigger;
use crate::contract::{HostState, Param, StrategyBindingsPre, StrategyInfo};
use crate::instance::StrategyInstance;
use crate::limits::Limits;
use crate::risk::{RiskRule, RiskRules};
use arc_swap::ArcSwap;
use serde::Serialize;
use std::sync::atomic::{AtomicU8, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

/// What the bar loop did with a generation, for status and for proving that
/// every bar was processed by exactly one generation.
#[derive(Debug, Default)]
pub struct GenerationStats {
    bars: AtomicU64,
    first_seq: AtomicU64,
    last_seq: AtomicU64,
}

impl GenerationStats {
    /// Called by the bar loop only (a single writer).
    pub(crate) fn record(&self, seq: u64) {
        if self.bars.load(Ordering::Relaxed) == 0 {
            self.first_seq.store(seq, Ordering::Relaxed);
        }
        self.last_seq.store(seq, Ordering::Relaxed);
        self.bars.fetch_add(1, Ordering::Release);
    }

    /// Bars this generation processed.
    pub fn bars(&self) -> u64 {
        self.bars.load(Ordering::Acquire)
    }

    /// First and last sequence number processed, when any bar was.
    pub fn seq_range(&self) -> Option<(u64, u64)> {
        (self.bars() > 0).then(|| {
            (
                self.first_seq.load(Ordering::Relaxed),
                self.last_seq.load(Ordering::Relaxed),
            )
        })
    }
}

/// The recipe of a generation: enough to build it again (rebuild after a
/// trap, rollback) without reading or compiling anything.
#[derive(Clone)]
pub struct Recipe {
    /// SHA-256 of the component's bytes.
    pub sha256: String,
    /// The type-checked, pre-linked component: instantiating it compiles nothing.
    pub pre: StrategyBindingsPre<HostState>,
    /// The parameters given to `init`.
    pub params: Vec<Param>,
    /// Digest of `params` (see [`StrategyStatus::params_hash`](super::StrategyStatus)).
    pub params_hash: String,
    /// Fuel, deadline, memory and output limits of its instances.
    pub limits: Limits,
    /// What the component's `describe()` reported.
    pub info: StrategyInfo,
    /// Which compiler produced `pre`'s code.
    pub tier: crate::load::Tier,
}

/// One loaded version of a strategy, ready for (or used by) the bar loop.
pub struct Generation {
    /// The strategy's id.
    pub strategy_id: Arc<str>,
    /// Version number (1 for the first, +1 for each generation published).
    pub version: u64,
    /// How to build it again.
    pub recipe: Recipe,
    /// When it was published.
    pub loaded_at: SystemTime,
    /// Last bar sequence the control plane replayed into the instance
    /// before publishing; the loop replays what came after when no
    /// snapshot can be handed over.
    pub(crate) warmed_through: Option<u64>,
    /// What published it (reported if the loop refuses it at the handoff).
    pub trigger: Trigger,
    /// Taken by the bar loop when it first uses this generation.
    instance: Mutex<Option<StrategyInstance>>,
    /// What the loop did with it.
    pub stats: GenerationStats,
    /// While it runs as a candidate: what the loop measured of it against
    /// the live generation (`live/shadow.rs`).
    pub shadow: super::shadow::ShadowStats,
}

impl Generation {
    pub(crate) fn new(
        strategy_id: Arc<str>,
        version: u64,
        recipe: Recipe,
        instance: StrategyInstance,
        warmed_through: Option<u64>,
        trigger: Trigger,
    ) -> Self {
        Self {
            strategy_id,
            version,
            recipe,
            loaded_at: SystemTime::now(),
            warmed_through,
            trigger,
            instance: Mutex::new(Some(instance)),
            stats: GenerationStats::default(),
            shadow: super::shadow::ShadowStats::default(),
        }
    }

    /// Hands the live instance to the bar loop; `None` if it was taken.
    /// Uncontended: only the loop calls this, once per generation.
    pub(crate) fn take_instance(&self) -> Option<StrategyInstance> {
        self.instance
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .take()
    }

    /// SHA-256 of its component.
    pub fn sha256(&self) -> &str {
        &self.recipe.sha256
    }
}

/// Whether a strategy trades. Set by the operator (pause, halt) or by the
/// drawdown kill switch (halt); the bar loop applies a change at the next bar.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
#[repr(u8)]
pub enum RunState {
    /// The guest is called on every bar.
    Running = 0,
    /// The guest is not called; on resume it replays the bars it missed
    /// (from the loop's history) before trading again.
    Paused = 1,
    /// Kill switch: the guest still gets bars, waiting orders were cancelled
    /// and every new order is refused with the reason.
    Halted = 2,
}

impl RunState {
    /// The state's name in status and events (`running`, `paused`, `halted`).
    pub fn as_str(self) -> &'static str {
        match self {
            RunState::Running => "running",
            RunState::Paused => "paused",
            RunState::Halted => "halted",
        }
    }

    fn from_u8(v: u8) -> Self {
        match v {
            1 => RunState::Paused,
            2 => RunState::Halted,
            _ => RunState::Running,
        }
    }
}

/// One strategy's place in the runtime: the generation the loop uses now.
pub struct StrategySlot {
    /// The strategy's id.
    pub id: Arc<str>,
    /// The strategy's symbols, in the order given to `init`.
    pub symbols: Vec<Arc<str>>,
    /// Feed symbol index → the strategy's own index, `None` if not subscribed.
    pub(crate) symbol_map: Vec<Option<u32>>,
    /// The generation the bar loop uses; the control plane stores a new one to swap.
    pub current: ArcSwap<Generation>,
    /// `[risk]` with `[strategy.risk]` over it; a config edit stores new rules
    /// without a reload.
    pub risk: ArcSwap<RiskRules>,
    run_state: AtomicU8,
    pub(crate) counters: SlotCounters,
    /// Per-bar latency of the guest call, in ns: the loop records into its
    /// own histogram and publishes a copy here about once a second.
    pub(crate) latency: ArcSwap<hdrhistogram::Histogram<u64>>,
    /// Feed to decision per bar, in ns (the feed delivered the bar → this
    /// strategy's orders routed): call time plus queueing. Published like
    /// `latency`.
    pub(crate) decision: ArcSwap<hdrhistogram::Histogram<u64>>,
    /// Fuel per `on-bar` call of the live generations, published like
    /// `latency`.
    pub(crate) fuel: ArcSwap<hdrhistogram::Histogram<u64>>,
    /// Positions, working orders and recent fills (`live/activity.rs`),
    /// published by the loop when a bar changed them and once a second.
    pub(crate) activity: ArcSwap<super::activity::Activity>,
    /// The candidate beside the live generation and a swap waiting for its
    /// policy (`live/shadow.rs`).
    pub shadow: super::shadow::ShadowSlot,
}

/// Counters the bar loop keeps per slot (single writer, many readers).
#[derive(Debug, Default)]
pub struct SlotCounters {
    /// Bars given to the guest.
    pub bars: AtomicU64,
    /// Orders sent to the broker.
    pub orders: AtomicU64,
    /// Fills of its orders.
    pub fills: AtomicU64,
    /// Traps of its guest.
    pub traps: AtomicU64,
    /// Bars not processed because the instance was poisoned by a trap.
    pub skipped: AtomicU64,
    /// Orders refused by validation or a risk rule (never sent to the broker).
    pub refused: AtomicU64,
    /// `refused` by rule, indexed like [`RiskRule::ALL`].
    pub refused_by_rule: [AtomicU64; RiskRule::ALL.len()],
    /// Bars not given to the guest because it was paused.
    pub paused_bars: AtomicU64,
    /// Round-trip trades closed.
    pub trades: AtomicU64,
    /// Realised PnL and unrealised PnL, as f64 bits.
    pub(crate) realised_bits: AtomicU64,
    pub(crate) unrealised_bits: AtomicU64,
    /// Equity in the paper account, as f64 bits.
    pub(crate) equity_bits: AtomicU64,
}

impl SlotCounters {
    /// Paper-account equity at the last bar.
    pub fn equity(&self) -> f64 {
        f64::from_bits(self.equity_bits.load(Ordering::Relaxed))
    }

    /// Realised profit and loss, after commission.
    pub fn realised_pnl(&self) -> f64 {
        f64::from_bits(self.realised_bits.load(Ordering::Relaxed))
    }

    /// Unrealised profit and loss at the last close.
    pub fn unrealised_pnl(&self) -> f64 {
        f64::from_bits(self.unrealised_bits.load(Ordering::Relaxed))
    }

    /// Orders refused by `rule` so far.
    pub fn refused(&self, rule: RiskRule) -> u64 {
        self.refused_by_rule[rule.index()].load(Ordering::Relaxed)
    }

    pub(crate) fn count_refusal(&self, rule: RiskRule) -> u64 {
        self.refused_by_rule[rule.index()].fetch_add(1, Ordering::Relaxed);
        self.refused.fetch_add(1, Ordering::Relaxed) + 1
    }
}

/// Latency histograms track 1 ns to 60 s at three significant digits.
pub(crate) fn latency_histogram() -> hdrhistogram::Histogram<u64> {
    hdrhistogram::Histogram::new_with_bounds(1, 60_000_000_000, 3)
        .unwrap_or_else(|_| hdrhistogram::Histogram::new(3).expect("3 significant digits is valid"))
}

impl StrategySlot {
    pub(crate) fn new(
        id: &str,
        symbols: &[String],
        feed_symbols: &[String],
        first: Arc<Generation>,
        risk: RiskRules,
    ) -> Self {
        let symbol_map = crate::feed::subscription(feed_symbols, symbols);
        Self {
            id: Arc::from(id),
            symbols: symbols.iter().map(|s| Arc::from(s.as_str())).collect(),
            symbol_map,
            current: ArcSwap::new(first),
            risk: ArcSwap::from_pointee(risk),
            run_state: AtomicU8::new(RunState::Running as u8),
            counters: SlotCounters::default(),
            latency: ArcSwap::from_pointee(latency_histogram()),
            decision: ArcSwap::from_pointee(latency_histogram()),
            fuel: ArcSwap::from_pointee(super::activity::fuel_histogram()),
            activity: ArcSwap::from_pointee(super::activity::Activity::default()),
            shadow: super::shadow::ShadowSlot::default(),
        }
    }

    /// The run state the operator or the kill switch wants (the loop applies it at the next bar).
    pub fn run_state(&self) -> RunState {
        RunState::from_u8(self.run_state.load(Ordering::Acquire))
    }

    pub(crate) fn set_run_state(&self, state: RunState) -> RunState {
        RunState::from_u8(self.run_state.swap(state as u8, Ordering::AcqRel))
    }

    /// Per-bar guest-call latency in ns, as of the loop's last publication
    /// (at most about a second old while bars flow).
    pub fn latency_ns(&self) -> Arc<hdrhistogram::Histogram<u64>> {
        self.latency.load_full()
    }

    /// Feed-to-decision latency per bar in ns, published like [`Self::latency_ns`].
    pub fn decision_ns(&self) -> Arc<hdrhistogram::Histogram<u64>> {
        self.decision.load_full()
    }
}

/// The set of running strategies; replaced as a whole when one is added or retired.
pub type Roster = Vec<Arc<StrategySlot>>;
