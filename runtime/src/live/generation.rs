//! A generation is one loaded version of a strategy with its parameters; a
//! slot holds the generation the bar loop uses, behind `ArcSwap`.

use crate::contract::{HostState, Param, StrategyBindingsPre, StrategyInfo};
use crate::instance::StrategyInstance;
use crate::limits::Limits;
use arc_swap::ArcSwap;
use std::sync::atomic::{AtomicU64, Ordering};
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
    pub sha256: String,
    pub pre: StrategyBindingsPre<HostState>,
    pub params: Vec<Param>,
    pub params_hash: String,
    pub limits: Limits,
    pub info: StrategyInfo,
}

/// One loaded version of a strategy, ready for (or used by) the bar loop.
pub struct Generation {
    pub strategy_id: Arc<str>,
    pub version: u64,
    pub recipe: Recipe,
    pub loaded_at: SystemTime,
    /// Last bar sequence the control plane replayed into the instance
    /// before publishing; the loop replays what came after when no
    /// snapshot can be handed over.
    pub(crate) warmed_through: Option<u64>,
    /// Taken by the bar loop when it first uses this generation.
    instance: Mutex<Option<StrategyInstance>>,
    pub stats: GenerationStats,
}

impl Generation {
    pub(crate) fn new(
        strategy_id: Arc<str>,
        version: u64,
        recipe: Recipe,
        instance: StrategyInstance,
        warmed_through: Option<u64>,
    ) -> Self {
        Self {
            strategy_id,
            version,
            recipe,
            loaded_at: SystemTime::now(),
            warmed_through,
            instance: Mutex::new(Some(instance)),
            stats: GenerationStats::default(),
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

    pub fn sha256(&self) -> &str {
        &self.recipe.sha256
    }
}

/// One strategy's place in the runtime: the generation the loop uses now.
pub struct Slot {
    pub id: Arc<str>,
    /// The strategy's symbols, in the order given to `init`.
    pub symbols: Vec<Arc<str>>,
    /// Feed symbol index → the strategy's own index, `None` if not subscribed.
    pub(crate) symbol_map: Vec<Option<u32>>,
    pub current: ArcSwap<Generation>,
    pub(crate) counters: SlotCounters,
}

/// Counters the bar loop keeps per slot (single writer, many readers).
#[derive(Debug, Default)]
pub struct SlotCounters {
    pub bars: AtomicU64,
    pub orders: AtomicU64,
    pub fills: AtomicU64,
    pub traps: AtomicU64,
    /// Bars not processed because the instance was poisoned by a trap.
    pub skipped: AtomicU64,
    /// `on-bar` results refused by validation (never sent to the broker).
    pub refused: AtomicU64,
    /// Equity in the paper account, as f64 bits.
    pub(crate) equity_bits: AtomicU64,
}

impl SlotCounters {
    pub fn equity(&self) -> f64 {
        f64::from_bits(self.equity_bits.load(Ordering::Relaxed))
    }
}

impl Slot {
    pub(crate) fn new(
        id: &str,
        symbols: &[String],
        feed_symbols: &[String],
        first: Arc<Generation>,
    ) -> Self {
        let symbol_map = feed_symbols
            .iter()
            .map(|feed| symbols.iter().position(|s| s == feed).map(|i| i as u32))
            .collect();
        Self {
            id: Arc::from(id),
            symbols: symbols.iter().map(|s| Arc::from(s.as_str())).collect(),
            symbol_map,
            current: ArcSwap::new(first),
            counters: SlotCounters::default(),
        }
    }
}

/// The set of running strategies; replaced as a whole when one is added or retired.
pub type Roster = Vec<Arc<Slot>>;
