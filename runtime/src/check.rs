//! `runtime check`: the whole load pipeline on one file, with a one-screen
//! report of what the strategy is and how it behaved.

use crate::contract::{Param, ParamValue};
use crate::error::LoadError;
use crate::limits::Limits;
use crate::load::{Candidate, LoadSpec, Loader, StageTimings};
use std::fmt::Write as _;
use std::path::Path;

/// Symbols used by `runtime check` when none are given.
pub const CHECK_SYMBOLS: [&str; 2] = ["BTCUSD", "ETHUSD"];

/// Runs the pipeline on `path` as strategy `check` would see it.
pub fn check_file(
    loader: &Loader,
    path: &Path,
    symbols: &[String],
    params: &[Param],
    limits: &Limits,
) -> (Result<Candidate, LoadError>, StageTimings) {
    let id = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string());
    let outcome = loader.load_file(
        path,
        LoadSpec {
            strategy_id: &id,
            expected_sha256: None,
            symbols,
            params,
            limits,
            recent_bars: &[],
        },
    );
    (outcome.result, outcome.timings)
}

/// The one-screen report of a passed check.
pub fn render_report(
    path: &Path,
    candidate: &Candidate,
    timings: &StageTimings,
    symbols: &[String],
    limits: &Limits,
) -> String {
    let info = &candidate.info;
    let mut out = String::new();
    let _ = writeln!(out, "ok: {} passed every stage", path.display());
    let _ = writeln!(
        out,
        "  strategy     {} {} — {}",
        info.name, info.version, info.description
    );
    let _ = writeln!(out, "  sha256       {}", candidate.sha256);
    let _ = writeln!(out, "  size         {} bytes", candidate.size_bytes);
    let _ = writeln!(out, "  warm-up      {} bars", info.warmup_bars);
    let _ = writeln!(out, "  parameters");
    if info.params.is_empty() {
        let _ = writeln!(out, "    (none)");
    }
    for spec in &info.params {
        let _ = writeln!(
            out,
            "    {:<16} {:<7} default {:<10} {}",
            spec.name,
            kind_name(&spec.default),
            render_value(&spec.default),
            spec.description
        );
    }
    let smoke = &candidate.smoke;
    let _ = writeln!(
        out,
        "  smoke test   {} bars over {} ({} orders), max fuel per bar {}, snapshot {} bytes",
        smoke.bars,
        symbols.join(", "),
        smoke.orders,
        smoke.max_fuel_per_bar,
        smoke.snapshot_bytes
    );
    let _ = writeln!(
        out,
        "  limits       fuel/call {}, deadline {} µs, memory {} MiB, wasm stack {} KiB, orders/bar {}, snapshot {} KiB",
        limits.fuel_per_call,
        limits.deadline.as_micros(),
        limits.memory_bytes >> 20,
        crate::engine::MAX_WASM_STACK_BYTES >> 10,
        limits.max_orders_per_bar,
        limits.max_snapshot_bytes >> 10
    );
    let stages: Vec<String> = timings
        .stages
        .iter()
        .map(|(stage, d)| format!("{stage} {:.1}ms", d.as_secs_f64() * 1e3))
        .collect();
    let _ = writeln!(out, "  stages       {}", stages.join(", "));
    out
}

fn kind_name(value: &ParamValue) -> &'static str {
    match value {
        ParamValue::Int(_) => "int",
        ParamValue::Float(_) => "float",
        ParamValue::Boolean(_) => "bool",
        ParamValue::Text(_) => "text",
    }
}

fn render_value(value: &ParamValue) -> String {
    match value {
        ParamValue::Int(v) => v.to_string(),
        ParamValue::Float(v) => format!("{v:?}"),
        ParamValue::Boolean(v) => v.to_string(),
        ParamValue::Text(v) => format!("{v:?}"),
    }
}
