//! Stages `init` and `smoke_test` (after `describe.rs` checked `describe`),
//! in a store that is thrown away afterwards: a version proves it works
//! before it may go live.

use super::guest_text;
use crate::contract::{Bar, Param, Position};
use crate::error::{LoadError, Stage};
use crate::feed::{MarketStyle, SyntheticFeed};
use crate::instance::{CallError, StrategyInstance};
use crate::limits::Limits;
use crate::validate::validate_requests;
use std::time::{Duration, Instant};

/// Bars per symbol in the smoke burst.
pub const SMOKE_BARS_PER_SYMBOL: usize = 200;
const SMOKE_SEED: u64 = 0x5eed_5a4d;

/// What the smoke burst looks like to the strategy, so that it sees what a
/// live call would: the account it would trade with and the bar spacing of
/// the feed it would read.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SmokeSetup {
    /// Cash and equity passed with every smoke bar (the position is flat):
    /// the strategy's current equity on a live reload, `broker.starting_cash`
    /// otherwise.
    pub equity: f64,
    /// Milliseconds between two bars of one symbol when there are no recent
    /// bars to measure it from (`feed.interval_ms` for a configured feed).
    pub interval_ms: i64,
    /// Where the synthetic bars end when there are no recent bars: the
    /// last one is stamped with this time (ms since the Unix epoch), the
    /// others before it at `interval_ms` spacing.
    pub end_ms: i64,
}

impl SmokeSetup {
    /// A flat account of `equity` and bars `interval_ms` apart ending now.
    pub fn new(equity: f64, interval_ms: i64) -> Self {
        Self {
            equity,
            interval_ms,
            end_ms: now_ms(),
        }
    }
}

impl Default for SmokeSetup {
    /// `broker.starting_cash` and a one-minute feed at their defaults.
    fn default() -> Self {
        Self::new(
            crate::config::BrokerSection::default().starting_cash,
            60_000,
        )
    }
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// What the smoke test saw.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SmokeReport {
    /// Bars fed to `on-bar`: [`SMOKE_BARS_PER_SYMBOL`] per symbol of
    /// synthetic bars, plus the recent real bars given.
    pub bars: usize,
    /// Orders returned over the whole burst, all of which passed validation.
    pub orders: usize,
    /// The most fuel one `on-bar` call used: against `limits.fuel_per_bar`
    /// it shows the headroom a version leaves.
    pub max_fuel_per_bar: u64,
    /// The most fuel any call used (`init`, `on-bar`, `snapshot`,
    /// `restore`): fuel is deterministic, so this is the same on any machine.
    pub max_fuel_per_call: u64,
    /// The longest wall-clock time of one `on-bar` call: unlike fuel, it
    /// depends on the machine and its load.
    pub max_bar_time: Duration,
    /// Wall-clock time of every `on-bar` call, in µs, in call order (what
    /// `runtime check` compares against `limits.deadline_us`).
    pub bar_times_us: Vec<u64>,
    /// Size of the snapshot taken after the burst, in bytes (0 for a
    /// stateless strategy; then no restore is tried).
    pub snapshot_bytes: usize,
}

impl SmokeReport {
    /// `on-bar` calls that took at least `threshold` of wall-clock time.
    pub fn bars_slower_than(&self, threshold: Duration) -> usize {
        let threshold = u64::try_from(threshold.as_micros()).unwrap_or(u64::MAX);
        self.bar_times_us
            .iter()
            .filter(|t| **t >= threshold)
            .count()
    }
}

pub(crate) fn trapped(stage: Stage, error: CallError) -> LoadError {
    LoadError::new(stage, error.to_string()).hint(error.hint())
}

/// [`trapped`] for a call of the smoke store: a deadline overrun depends on
/// the machine's load, and says so with the fuel the call had used (the
/// deterministic measure of its work).
fn trapped_in(
    stage: Stage,
    error: CallError,
    instance: &StrategyInstance,
    limits: &Limits,
) -> LoadError {
    let deadline = error.kind == crate::instance::TrapKind::Deadline;
    let mut refusal = trapped(stage, error);
    if deadline {
        refusal.message = format!(
            "{} (depends on machine load; fuel used {} of {})",
            refusal.message,
            instance.fuel_used_last_call(),
            limits.fuel_per_call
        );
    }
    refusal
}

/// Runs `init`, a deterministic burst of synthetic bars followed by `recent`
/// real bars, and a snapshot/restore round trip, validating every output.
///
/// The synthetic bars are made to pass for live ones: they end one bar
/// before the first recent bar (its spacing, prices scaled to meet it), or at `setup.end_ms` with `setup.interval_ms` spacing
/// when there are none; every bar comes with the account of `setup`.
pub fn smoke_test(
    instance: &mut StrategyInstance,
    symbols: &[String],
    params: &[Param],
    recent: &[Bar],
    limits: &Limits,
    setup: SmokeSetup,
) -> Result<SmokeReport, LoadError> {
    let mut report = SmokeReport::default();
    let init = instance.init(symbols, params);
    report.max_fuel_per_call = instance.fuel_used_last_call();
    match init.map_err(|e| trapped_in(Stage::Init, e, instance, limits))? {
        Ok(()) => {}
        Err(reason) => {
            return Err(LoadError::new(
                Stage::Init,
                format!(
                    "the strategy refused its parameters: {}",
                    guest_text::shown(&reason)
                ),
            )
            .hint("fix `[strategy.params]` in the config; `runtime check <file>` lists the parameters and defaults"));
        }
    }
    let account = Position {
        quantity: 0.0,
        avg_price: 0.0,
        cash: setup.equity,
        equity: setup.equity,
    };
    let synthetic = synthetic_bars(symbols.len(), recent, setup);
    for bar in synthetic.into_iter().chain(recent.iter().copied()) {
        let started = Instant::now();
        let orders = instance.on_bar(bar, account);
        let took = started.elapsed();
        let fuel = instance.fuel_used_last_call();
        report.max_fuel_per_bar = report.max_fuel_per_bar.max(fuel);
        report.max_fuel_per_call = report.max_fuel_per_call.max(fuel);
        report.max_bar_time = report.max_bar_time.max(took);
        report
            .bar_times_us
            .push(u64::try_from(took.as_micros()).unwrap_or(u64::MAX));
        let orders = orders.map_err(|e| trapped_in(Stage::SmokeTest, e, instance, limits))?;
        validate_requests(&orders, symbols.len(), limits.max_orders_per_bar).map_err(|reason| {
            LoadError::new(Stage::SmokeTest, format!("bar #{}: {reason}", bar.seq))
                .hint("fix the strategy's order logic; its native tests with `sandbar_guest::Harness` can reproduce it")
        })?;
        report.bars += 1;
        report.orders += orders.len();
    }
    let snapshot = instance.snapshot();
    report.max_fuel_per_call = report.max_fuel_per_call.max(instance.fuel_used_last_call());
    let snapshot = snapshot.map_err(|e| trapped_in(Stage::SmokeTest, e, instance, limits))?;
    if snapshot.len() > limits.max_snapshot_bytes {
        return Err(LoadError::new(
            Stage::SmokeTest,
            format!(
                "snapshot is {} bytes, over the {}-byte limit",
                snapshot.len(),
                limits.max_snapshot_bytes
            ),
        )
        .hint("keep less state (bounded windows), or raise `limits.max_snapshot_kb`"));
    }
    report.snapshot_bytes = snapshot.len();
    let restored = if snapshot.is_empty() {
        Ok(())
    } else {
        let restored = instance.restore(&snapshot);
        report.max_fuel_per_call = report.max_fuel_per_call.max(instance.fuel_used_last_call());
        restored.map_err(|e| trapped_in(Stage::SmokeTest, e, instance, limits))?
    };
    if let Err(reason) = restored {
        return Err(LoadError::new(
            Stage::SmokeTest,
            format!(
                "restore() refused the strategy's own snapshot: {}",
                guest_text::shown(&reason)
            ),
        )
        .hint(
            "snapshot and restore must round-trip; check `Strategy::state` and `restore_state`",
        ));
    }
    Ok(report)
}

/// [`SMOKE_BARS_PER_SYMBOL`] synthetic bars per symbol that lead into
/// `recent` (or end at `setup.end_ms`) without a seam in time or price: the
/// same spacing, each symbol's prices scaled so its last synthetic close is
/// its first recent open.
fn synthetic_bars(symbols: usize, recent: &[Bar], setup: SmokeSetup) -> Vec<Bar> {
    let count = SMOKE_BARS_PER_SYMBOL * symbols;
    let steps = SMOKE_BARS_PER_SYMBOL as i64;
    let interval = spacing(recent).unwrap_or(setup.interval_ms).max(1);
    // Sequence numbers still start at 0, as a fresh feed's do: continuing
    // them into the recent bars' would also be more realistic, but a build
    // that misbehaves only from some bar number on (the hostile `leak` mode
    // of the trap-window tests) would then fail its smoke test instead of
    // showing what trap escalation does with it.
    let end_ms = match recent.first() {
        Some(first) => first.ts_ms.saturating_sub(interval),
        None => setup.end_ms - setup.end_ms.rem_euclid(interval),
    };
    let start_ms = end_ms.saturating_sub((steps - 1) * interval);
    let mut bars: Vec<Bar> =
        SyntheticFeed::new(symbols, SMOKE_SEED, MarketStyle::Regimes, interval)
            .take(count)
            .enumerate()
            .map(|(i, bar)| Bar {
                ts_ms: start_ms + (i / symbols.max(1)) as i64 * interval,
                ..bar
            })
            .collect();
    for symbol in 0..symbols as u32 {
        let Some(target) = recent.iter().find(|b| b.symbol == symbol).map(|b| b.open) else {
            continue;
        };
        let Some(last) = bars
            .iter()
            .rev()
            .find(|b| b.symbol == symbol)
            .map(|b| b.close)
        else {
            continue;
        };
        let scale = target / last;
        if !(scale.is_finite() && scale > 0.0) {
            continue;
        }
        for bar in bars.iter_mut().filter(|b| b.symbol == symbol) {
            bar.open *= scale;
            bar.high *= scale;
            bar.low *= scale;
            bar.close *= scale;
        }
    }
    bars
}

/// The feed's spacing as the recent bars show it: the smallest positive gap
/// between two bars of one symbol.
fn spacing(recent: &[Bar]) -> Option<i64> {
    let mut last_ts: std::collections::HashMap<u32, i64> = std::collections::HashMap::new();
    let mut best: Option<i64> = None;
    for bar in recent {
        if let Some(prev) = last_ts.insert(bar.symbol, bar.ts_ms) {
            let gap = bar.ts_ms - prev;
            if gap > 0 {
                best = Some(best.map_or(gap, |b| b.min(gap)));
            }
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bar(seq: u64, ts_ms: i64, symbol: u32, price: f64) -> Bar {
        Bar {
            seq,
            ts_ms,
            symbol,
            open: price,
            high: price,
            low: price,
            close: price,
            volume: 1.0,
        }
    }

    #[test]
    fn regression_13_9_smoke_bars_lead_into_the_recent_bars_without_a_seam() {
        let recent = [
            bar(5_000, 1_764_000_000_000, 0, 61_000.0),
            bar(5_001, 1_764_000_000_000, 1, 3_100.0),
            bar(5_002, 1_764_000_005_000, 0, 61_010.0),
            bar(5_003, 1_764_000_005_000, 1, 3_101.0),
        ];
        let bars = synthetic_bars(2, &recent, SmokeSetup::default());
        assert_eq!(bars.len(), 2 * SMOKE_BARS_PER_SYMBOL);
        let last = bars[bars.len() - 1];
        assert_eq!(bars[0].seq, 0, "sequence numbers start at 0 as before");
        assert_eq!(
            last.ts_ms,
            1_764_000_000_000 - 5_000,
            "the feed's 5 s spacing"
        );
        assert_eq!(bars[0].ts_ms, last.ts_ms - 199 * 5_000);
        let last_close = |symbol: u32| {
            bars.iter()
                .rev()
                .find(|b| b.symbol == symbol)
                .unwrap()
                .close
        };
        assert!((last_close(0) - 61_000.0).abs() < 1e-6, "{}", last_close(0));
        assert!((last_close(1) - 3_100.0).abs() < 1e-6, "{}", last_close(1));
        for pair in bars.windows(2) {
            assert_eq!(pair[1].seq, pair[0].seq + 1);
            assert!(pair[1].ts_ms >= pair[0].ts_ms);
        }
    }

    #[test]
    fn regression_13_9_without_recent_bars_the_smoke_bars_end_now_at_the_feeds_spacing() {
        let setup = SmokeSetup {
            equity: 250_000.0,
            interval_ms: 1_000,
            end_ms: 1_764_000_000_500,
        };
        let bars = synthetic_bars(1, &[], setup);
        assert_eq!(bars.last().unwrap().ts_ms, 1_764_000_000_000);
        assert_eq!(bars[1].ts_ms - bars[0].ts_ms, 1_000);
        assert_eq!(bars[0].seq, 0);
    }
}
