//! Shadow deployments and swap policies, the part every thread shares: a
//! strategy's candidate generation (run by the bar loop after the live one,
//! with a paper account of its own, see `bar_loop/shadow.rs`), what the loop
//! measured of it against the live generation ([`ShadowStats`]), and a swap
//! waiting for its policy ([`PendingSwap`]).
//!
//! Writers: the control plane stores a candidate or a pending swap; the loop
//! takes them (at a bar boundary) and is the only writer of the stats. The
//! loop never drops a generation's last reference here: the slot or the
//! control plane holds one.

use super::LatencySummary;
use super::generation::{Generation, latency_histogram};
use crate::config::{DeploySection, SwapWhen, SwapWindow};
use arc_swap::{ArcSwap, ArcSwapOption};
use serde::Serialize;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime};

/// The shadow side of a [`super::StrategySlot`].
#[derive(Default)]
pub struct ShadowSlot {
    /// The candidate the loop runs beside the live generation (`None`: no
    /// shadow). The control plane stores and discards; the loop clears it
    /// when the candidate traps or once it has been promoted.
    pub(crate) candidate: ArcSwapOption<Generation>,
    /// A published generation waiting for its swap policy (flat, a window).
    pub(crate) pending: ArcSwapOption<PendingSwap>,
}

impl ShadowSlot {
    /// The candidate now, if any.
    pub fn candidate(&self) -> Option<Arc<Generation>> {
        self.candidate.load_full()
    }

    /// The swap waiting now, if any.
    pub fn pending(&self) -> Option<Arc<PendingSwap>> {
        self.pending.load_full()
    }
}

/// When a waiting swap may happen: all conditions must hold at a bar boundary.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SwapPolicy {
    /// Wait until the strategy holds no position in any symbol.
    pub when_flat: bool,
    /// Wait until the bar's time (shifted by `offset_min`) is in this window.
    pub window: Option<SwapWindow>,
    /// Feed time's offset from UTC, in minutes.
    pub offset_min: i32,
}

impl SwapPolicy {
    /// The policy `[strategy.deploy]` sets.
    pub fn of(deploy: &DeploySection) -> Self {
        Self {
            when_flat: deploy.swap == SwapWhen::WhenFlat,
            window: deploy.window(),
            offset_min: deploy.swap_window_offset_min,
        }
    }

    /// True when a swap must wait for anything at all.
    pub fn waits(&self) -> bool {
        self.when_flat || self.window.is_some()
    }

    /// May the swap happen at a bar with time `ts_ms`, the strategy `flat` or not?
    pub fn allows(&self, flat: bool, ts_ms: i64) -> bool {
        (!self.when_flat || flat)
            && self
                .window
                .is_none_or(|w| w.contains(ts_ms, self.offset_min))
    }

    /// How status names it: `when_flat`, `window 21:00-22:00`, or both.
    pub fn describe(&self) -> String {
        let window = self.window.map(|w| {
            format!(
                "window {:02}:{:02}-{:02}:{:02}",
                w.start_min / 60,
                w.start_min % 60,
                w.end_min / 60,
                w.end_min % 60
            )
        });
        match (self.when_flat, window) {
            (true, Some(w)) => format!("when_flat, {w}"),
            (true, None) => "when_flat".into(),
            (false, Some(w)) => w,
            (false, None) => "next_bar".into(),
        }
    }
}

/// A published generation the loop swaps in once its policy allows (or
/// when forced); the control plane cancels it after its timeout.
pub struct PendingSwap {
    /// What goes live.
    pub generation: Arc<Generation>,
    /// What it waits for.
    pub policy: SwapPolicy,
    /// When it started waiting.
    pub since: Instant,
    /// The same, as wall time for status.
    pub since_wall: SystemTime,
    /// Cancelled after this long (`[strategy.deploy] swap_timeout_s`).
    pub timeout: Duration,
    /// A promotion of the candidate (its instance keeps its state).
    pub promotion: bool,
    /// Set by `runtime swap ID --now`: swap at the next bar whatever the policy.
    pub(crate) forced: AtomicBool,
}

impl PendingSwap {
    /// Forced by the operator.
    pub fn forced(&self) -> bool {
        self.forced.load(Ordering::Acquire)
    }

    /// What status shows of it.
    pub fn status(&self) -> PendingSwapStatus {
        PendingSwapStatus {
            version: self.generation.version,
            sha256: self.generation.sha256().to_owned(),
            policy: self.policy.describe(),
            since: humantime::format_rfc3339_seconds(self.since_wall).to_string(),
            waiting_ms: self.since.elapsed().as_millis() as u64,
            timeout_s: self.timeout.as_secs(),
            promotion: self.promotion,
            forced: self.forced(),
        }
    }
}

/// A waiting swap, in `/status` and `runtime status`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PendingSwapStatus {
    /// The version that will go live.
    pub version: u64,
    /// Its SHA-256.
    pub sha256: String,
    /// What it waits for (`when_flat`, `window 21:00-22:00`).
    pub policy: String,
    /// When it started waiting (RFC 3339).
    pub since: String,
    /// How long it has waited, in ms.
    pub waiting_ms: u64,
    /// It is cancelled after this many seconds (the running version stays).
    pub timeout_s: u64,
    /// True for a promotion of the candidate.
    pub promotion: bool,
    /// True once forced: it swaps at the next bar.
    pub forced: bool,
}

/// What the loop measured of a candidate and of the live generation over
/// the same bars (single writer: the loop).
#[derive(Debug)]
pub struct ShadowStats {
    bars: AtomicU64,
    first_seq: AtomicU64,
    last_seq: AtomicU64,
    /// Bars whose orders differed between the two.
    differing: AtomicU64,
    pub(crate) live: SideCounters,
    pub(crate) shadow: SideCounters,
    /// Call-time histograms (ns), published about once a second.
    pub(crate) live_latency: ArcSwap<hdrhistogram::Histogram<u64>>,
    pub(crate) shadow_latency: ArcSwap<hdrhistogram::Histogram<u64>>,
}

impl Default for ShadowStats {
    fn default() -> Self {
        Self {
            bars: AtomicU64::new(0),
            first_seq: AtomicU64::new(0),
            last_seq: AtomicU64::new(0),
            differing: AtomicU64::new(0),
            live: SideCounters::default(),
            shadow: SideCounters::default(),
            live_latency: ArcSwap::from_pointee(latency_histogram()),
            shadow_latency: ArcSwap::from_pointee(latency_histogram()),
        }
    }
}

/// One side's figures since the candidate started.
#[derive(Debug, Default)]
pub(crate) struct SideCounters {
    pub orders: AtomicU64,
    pub fills: AtomicU64,
    pub refused: AtomicU64,
    pub traps: AtomicU64,
    pub fuel: AtomicU64,
    pub calls: AtomicU64,
    pub pnl_bits: AtomicU64,
    pub drawdown_bits: AtomicU64,
}

impl SideCounters {
    pub(crate) fn set_money(&self, pnl: f64, drawdown: f64) {
        self.pnl_bits.store(pnl.to_bits(), Ordering::Relaxed);
        self.drawdown_bits
            .store(drawdown.to_bits(), Ordering::Relaxed);
    }

    fn figures(&self, latency: &hdrhistogram::Histogram<u64>) -> SideFigures {
        let load = |c: &AtomicU64| c.load(Ordering::Relaxed);
        let calls = load(&self.calls);
        SideFigures {
            orders: load(&self.orders),
            fills: load(&self.fills),
            refused: load(&self.refused),
            traps: load(&self.traps),
            pnl: f64::from_bits(load(&self.pnl_bits)),
            max_drawdown: f64::from_bits(load(&self.drawdown_bits)),
            fuel_per_bar: if calls == 0 {
                0.0
            } else {
                load(&self.fuel) as f64 / calls as f64
            },
            latency_us: LatencySummary::of(latency),
        }
    }
}

impl ShadowStats {
    /// Counts one bar both sides saw; `differ`: their orders were not the same.
    pub(crate) fn record_bar(&self, seq: u64, differ: bool) {
        if self.bars.load(Ordering::Relaxed) == 0 {
            self.first_seq.store(seq, Ordering::Relaxed);
        }
        self.last_seq.store(seq, Ordering::Relaxed);
        if differ {
            self.differing.fetch_add(1, Ordering::Relaxed);
        }
        self.bars.fetch_add(1, Ordering::Release);
    }

    /// Bars the candidate processed on the loop.
    pub fn bars(&self) -> u64 {
        self.bars.load(Ordering::Acquire)
    }

    /// First and last sequence number the candidate processed on the loop.
    pub fn seq_range(&self) -> Option<(u64, u64)> {
        (self.bars() > 0).then(|| {
            (
                self.first_seq.load(Ordering::Relaxed),
                self.last_seq.load(Ordering::Relaxed),
            )
        })
    }

    /// The comparison as status, `/metrics` and `runtime diff` show it.
    pub fn comparison(&self) -> Comparison {
        let bars = self.bars();
        let differing = self.differing.load(Ordering::Relaxed);
        Comparison {
            bars,
            seq_range: self.seq_range(),
            bars_differing: differing,
            agreement_pct: agreement_pct(bars, differing),
            live: self.live.figures(&self.live_latency.load()),
            shadow: self.shadow.figures(&self.shadow_latency.load()),
        }
    }
}

/// Percent of bars whose orders agreed (100 before any bar).
pub(crate) fn agreement_pct(bars: u64, differing: u64) -> f64 {
    if bars == 0 {
        100.0
    } else {
        100.0 * (bars - differing.min(bars)) as f64 / bars as f64
    }
}

/// Live against candidate over the bars the candidate ran.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Comparison {
    /// Bars both processed.
    pub bars: u64,
    /// First and last of them.
    pub seq_range: Option<(u64, u64)>,
    /// Bars on which their orders were not the same (symbol, side, size, kind).
    pub bars_differing: u64,
    /// Percent of bars whose orders agreed (signal agreement).
    pub agreement_pct: f64,
    /// The live generation over those bars.
    pub live: SideFigures,
    /// The candidate over those bars, on its shadow account.
    pub shadow: SideFigures,
}

/// One side of a [`Comparison`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SideFigures {
    /// Orders accepted by validation and risk.
    pub orders: u64,
    /// Fills.
    pub fills: u64,
    /// Orders refused.
    pub refused: u64,
    /// Traps.
    pub traps: u64,
    /// Equity change since the candidate started.
    pub pnl: f64,
    /// Largest fall of equity from its peak since then.
    pub max_drawdown: f64,
    /// Mean fuel per `on-bar` call.
    pub fuel_per_bar: f64,
    /// `on-bar` call time, in microseconds.
    pub latency_us: LatencySummary,
}

/// A candidate in `/status`, `runtime status` and `runtime diff`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CandidateStatus {
    /// Its version number (taken when it was deployed).
    pub version: u64,
    /// SHA-256 of its component.
    pub sha256: String,
    /// Digest of its parameters.
    pub params_hash: String,
    /// When it was deployed (RFC 3339).
    pub deployed_at: String,
    /// Live against candidate so far.
    pub comparison: Comparison,
}

impl CandidateStatus {
    pub(crate) fn of(generation: &Generation) -> Self {
        Self {
            version: generation.version,
            sha256: generation.sha256().to_owned(),
            params_hash: generation.recipe.params_hash.clone(),
            deployed_at: humantime::format_rfc3339_seconds(generation.loaded_at).to_string(),
            comparison: generation.shadow.comparison(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issue_19_swap_policies_allow_what_they_say() {
        let next = SwapPolicy::of(&DeploySection::default());
        assert!(!next.waits());
        assert!(next.allows(false, 0));
        let flat = SwapPolicy::of(&DeploySection {
            swap: SwapWhen::WhenFlat,
            ..DeploySection::default()
        });
        assert!(flat.waits());
        assert!(!flat.allows(false, 0));
        assert!(flat.allows(true, 0));
        let window = SwapPolicy::of(&DeploySection {
            swap_window: Some("21:00-22:00".into()),
            ..DeploySection::default()
        });
        let at = |h: i64| h * 3_600_000;
        assert!(!window.allows(true, at(20)));
        assert!(window.allows(false, at(21)));
        assert_eq!(window.describe(), "window 21:00-22:00");
    }

    #[test]
    fn issue_19_agreement_counts_bars_whose_orders_matched() {
        let stats = ShadowStats::default();
        assert_eq!(stats.comparison().agreement_pct, 100.0);
        for seq in 10..20 {
            stats.record_bar(seq, seq % 5 == 0);
        }
        let c = stats.comparison();
        assert_eq!((c.bars, c.bars_differing), (10, 2));
        assert_eq!(c.agreement_pct, 80.0);
        assert_eq!(c.seq_range, Some((10, 19)));
    }
}
