//! Stages `describe`, `init` and `smoke_test`, in a store that is thrown away
//! afterwards: a version proves it works before it may go live.

use crate::contract::{Bar, Param, ParamValue, Position, StrategyInfo};
use crate::error::{LoadError, Stage};
use crate::feed::{MarketStyle, SyntheticFeed};
use crate::instance::{CallError, StrategyInstance};
use crate::limits::Limits;
use crate::validate::validate_orders;

/// Bars per symbol in the smoke burst.
pub const SMOKE_BARS_PER_SYMBOL: usize = 200;
const SMOKE_SEED: u64 = 0x5eed_5a4d;

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
    /// Size of the snapshot taken after the burst, in bytes (0 for a
    /// stateless strategy; then no restore is tried).
    pub snapshot_bytes: usize,
}

pub(crate) fn trapped(stage: Stage, error: CallError) -> LoadError {
    LoadError::new(stage, error.to_string()).hint(error.hint())
}

/// Checks what `describe` returned.
pub fn check_info(info: &StrategyInfo) -> Result<(), LoadError> {
    if info.name.trim().is_empty() {
        return Err(
            LoadError::new(Stage::Describe, "describe() returned an empty name")
                .hint("set `Strategy::NAME`"),
        );
    }
    for spec in &info.params {
        let matches = matches!(
            (&spec.default, spec.kind),
            (ParamValue::Int(_), crate::contract::ParamKind::Int)
                | (ParamValue::Float(_), crate::contract::ParamKind::Float)
                | (ParamValue::Boolean(_), crate::contract::ParamKind::Boolean)
                | (ParamValue::Text(_), crate::contract::ParamKind::Text)
        );
        if !matches {
            return Err(LoadError::new(
                Stage::Describe,
                format!(
                    "parameter `{}` has a default of another kind than it declares",
                    spec.name
                ),
            )
            .hint("fix the strategy's parameter declaration"));
        }
    }
    Ok(())
}

/// Runs `init`, a deterministic burst of synthetic bars followed by `recent`
/// real bars, and a snapshot/restore round trip, validating every output.
pub fn smoke_test(
    instance: &mut StrategyInstance,
    symbols: &[String],
    params: &[Param],
    recent: &[Bar],
    limits: &Limits,
) -> Result<SmokeReport, LoadError> {
    match instance
        .init(symbols, params)
        .map_err(|e| trapped(Stage::Init, e))?
    {
        Ok(()) => {}
        Err(reason) => {
            return Err(LoadError::new(Stage::Init, format!("the strategy refused its parameters: {reason}"))
                .hint("fix `[strategy.params]` in the config; `runtime check <file>` lists the parameters and defaults"));
        }
    }
    let mut report = SmokeReport::default();
    let flat = Position {
        quantity: 0.0,
        avg_price: 0.0,
        cash: 100_000.0,
        equity: 100_000.0,
    };
    let synthetic = SyntheticFeed::new(symbols.len(), SMOKE_SEED, MarketStyle::Regimes, 60_000)
        .take(SMOKE_BARS_PER_SYMBOL * symbols.len());
    for bar in synthetic.chain(recent.iter().copied()) {
        let orders = instance
            .on_bar(bar, flat)
            .map_err(|e| trapped(Stage::SmokeTest, e))?;
        report.max_fuel_per_bar = report.max_fuel_per_bar.max(instance.fuel_used_last_call());
        validate_orders(&orders, symbols.len(), limits.max_orders_per_bar).map_err(|reason| {
            LoadError::new(Stage::SmokeTest, format!("bar #{}: {reason}", bar.seq))
                .hint("fix the strategy's order logic; its native tests with `sandbar_guest::Harness` can reproduce it")
        })?;
        report.bars += 1;
        report.orders += orders.len();
    }
    let snapshot = instance
        .snapshot()
        .map_err(|e| trapped(Stage::SmokeTest, e))?;
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
        instance
            .restore(&snapshot)
            .map_err(|e| trapped(Stage::SmokeTest, e))?
    };
    if let Err(reason) = restored {
        return Err(LoadError::new(
            Stage::SmokeTest,
            format!("restore() refused the strategy's own snapshot: {reason}"),
        )
        .hint(
            "snapshot and restore must round-trip; check `Strategy::state` and `restore_state`",
        ));
    }
    Ok(report)
}
