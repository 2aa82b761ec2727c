//! `runtime check`: the whole load pipeline on one file, with a one-screen
//! report of what the strategy is and how it behaved.

use crate::contract::{Param, ParamValue};
use crate::error::LoadError;
use crate::limits::Limits;
use crate::load::guest_text::{shown, shown_max};
use crate::load::{Candidate, LoadSpec, Loader, SmokeSetup, StageTimings};
use std::fmt::Write as _;
use std::path::Path;
use std::time::Duration;

/// Symbols used by `runtime check` when none are given.
pub const CHECK_SYMBOLS: [&str; 2] = ["BTCUSD", "ETHUSD"];

/// The deadline `runtime check` runs calls under: the verdict rests on fuel
/// (deterministic) rather than on wall time (the machine's load), so a call
/// fails on time only past this much; how close calls came to the
/// configured `limits.deadline_us` is reported beside the verdict instead.
pub fn check_deadline(limits: &Limits) -> Duration {
    (limits.deadline * 10).max(Duration::from_secs(1))
}

/// Runs the pipeline on `path` as strategy `check` would see it, with calls
/// under [`check_deadline`] instead of the configured deadline (`limits.deadline_us`).
pub fn check_file(
    loader: &Loader,
    path: &Path,
    symbols: &[String],
    params: &[Param],
    limits: &Limits,
) -> (Result<Candidate, LoadError>, StageTimings) {
    let limits = &Limits {
        deadline: check_deadline(limits),
        ..limits.clone()
    };
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
            smoke: SmokeSetup::default(),
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
    let info_lines = render_info(info);
    let (strategy_line, rest) = info_lines.split_once('\n').unwrap_or((&info_lines, ""));
    let _ = writeln!(out, "{strategy_line}");
    let _ = writeln!(out, "  sha256       {}", candidate.sha256);
    let _ = writeln!(out, "  size         {} bytes", candidate.size_bytes);
    let _ = writeln!(out, "  contract     {}", candidate.pre.version());
    out.push_str(rest);
    let smoke = &candidate.smoke;
    let _ = writeln!(
        out,
        "  smoke test   {} bars over {} ({} orders), snapshot {} bytes",
        smoke.bars,
        symbols.join(", "),
        smoke.orders,
        smoke.snapshot_bytes
    );
    let _ = writeln!(
        out,
        "  fuel         max per call {} of {} (on-bar {}): the same on any machine",
        smoke.max_fuel_per_call, limits.fuel_per_call, smoke.max_fuel_per_bar
    );
    let _ = writeln!(out, "  wall time    {}", deadline_verdict(smoke, limits));
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
    let _ = writeln!(out, "  stages       {}", render_stages(timings));
    out
}

/// How the `on-bar` calls' wall time compares with `limits.deadline_us`:
/// the part of the verdict that depends on the machine's load, said so.
pub fn deadline_verdict(smoke: &crate::load::SmokeReport, limits: &Limits) -> String {
    let deadline = limits.deadline;
    let max_us = smoke.max_bar_time.as_micros();
    let over = smoke.bars_slower_than(deadline);
    let near = smoke.bars_slower_than(deadline / 2);
    let fuel = format!(
        "fuel used {} of {}",
        smoke.max_fuel_per_bar, limits.fuel_per_call
    );
    if over > 0 {
        format!(
            "warning: {over} on-bar call(s) took longer than `limits.deadline_us` ({max_us} µs at most, deadline {} µs): live would trap them on this machine now; depends on machine load; {fuel}",
            deadline.as_micros()
        )
    } else if near > 0 {
        format!(
            "warning: {near} on-bar call(s) took over half of `limits.deadline_us` ({max_us} µs at most, deadline {} µs): depends on machine load; {fuel}",
            deadline.as_micros()
        )
    } else {
        format!(
            "on-bar at most {max_us} µs, under half of the {} µs deadline",
            deadline.as_micros()
        )
    }
}

/// The stages that ran and their times, for a report or a refusal.
pub fn render_stages(timings: &StageTimings) -> String {
    let stages: Vec<String> = timings
        .stages
        .iter()
        .map(|(stage, d)| format!("{stage} {:.1}ms", d.as_secs_f64() * 1e3))
        .collect();
    stages.join(", ")
}

/// The `describe` part of the report: every guest string through
/// [`shown`], so the report is safe to print and at most a screen wide.
pub fn render_info(info: &crate::contract::StrategyInfo) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "  strategy     {} {} — {}",
        shown(&info.name),
        shown(&info.version),
        shown(&info.description)
    );
    let _ = writeln!(out, "  warm-up      {} bars", info.warmup_bars);
    let _ = writeln!(out, "  parameters");
    if info.params.is_empty() {
        let _ = writeln!(out, "    (none)");
    }
    for spec in &info.params {
        let _ = writeln!(
            out,
            "    {:<16} {:<7} default {:<10} {}",
            shown_max(&spec.name, 64),
            kind_name(&spec.default),
            render_value(&spec.default),
            shown(&spec.description)
        );
    }
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
        ParamValue::Text(v) => format!("\"{}\"", shown_max(v, 64).replace('"', "\\\"")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contract::{ParamKind, ParamSpec, StrategyInfo};

    #[test]
    fn regression_13_8_check_prints_guest_strings_escaped_and_cut() {
        let info = StrategyInfo {
            name: "\u{1b}[31mred".into(),
            version: "1.0\u{202e}".into(),
            description: "d".repeat(5_000),
            params: vec![ParamSpec {
                name: "p\u{0}".into(),
                kind: ParamKind::Text,
                default: ParamValue::Text("say \"\u{1b}]0;pwned\u{7}\"".into()),
                description: "bell\u{7}".into(),
            }],
            warmup_bars: 3,
        };
        let out = render_info(&info);
        assert!(!out.contains('\u{1b}') && !out.contains('\u{0}') && !out.contains('\u{7}'));
        assert!(!out.contains('\u{202e}'), "{out}");
        assert!(
            out.contains("  strategy     \\u{1b}[31mred 1.0\\u{202e} — ddd"),
            "{out}"
        );
        assert!(
            out.contains(&format!("… ({} more bytes)", 5_000 - 200)),
            "{out}"
        );
        assert!(
            out.contains("p\\u{0}") && out.contains("\"say \\\"\\u{1b}]0;pwned\\u{7}\\\"\""),
            "{out}"
        );
        assert!(out.len() < 1_000, "bounded: {} bytes", out.len());
    }

    fn report(times_us: &[u64]) -> crate::load::SmokeReport {
        crate::load::SmokeReport {
            bars: times_us.len(),
            max_fuel_per_bar: 12_345,
            max_fuel_per_call: 20_000,
            max_bar_time: Duration::from_micros(times_us.iter().copied().max().unwrap_or(0)),
            bar_times_us: times_us.to_vec(),
            ..Default::default()
        }
    }

    #[test]
    fn regression_13_10_a_result_near_the_deadline_says_it_depends_on_machine_load() {
        let limits = Limits {
            deadline: Duration::from_micros(10_000),
            ..Limits::default()
        };
        let fuel = format!("fuel used 12345 of {}", limits.fuel_per_call);
        assert_eq!(
            deadline_verdict(&report(&[100, 200]), &limits),
            "on-bar at most 200 µs, under half of the 10000 µs deadline"
        );
        assert_eq!(
            deadline_verdict(&report(&[100, 6_000, 7_000]), &limits),
            format!(
                "warning: 2 on-bar call(s) took over half of `limits.deadline_us` (7000 µs at most, deadline 10000 µs): depends on machine load; {fuel}"
            )
        );
        assert_eq!(
            deadline_verdict(&report(&[100, 12_000]), &limits),
            format!(
                "warning: 1 on-bar call(s) took longer than `limits.deadline_us` (12000 µs at most, deadline 10000 µs): live would trap them on this machine now; depends on machine load; {fuel}"
            )
        );
        assert!(
            check_deadline(&limits) >= Duration::from_secs(1),
            "the verdict rests on fuel"
        );
    }
}
