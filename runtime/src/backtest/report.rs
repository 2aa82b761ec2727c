//! A backtest's outputs: `trades.csv`, `equity.csv` and `summary.json` in
//! the output directory, and the summary table printed at the end. Every
//! byte of them depends only on the inputs, except `summary.json`'s
//! `performance` object (wall-clock speed).

use super::engine::BacktestResult;
use crate::feed::format_timestamp;
use serde::Serialize;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// One row per round trip of every strategy (closed ones, then those still
/// open at the end), with entry and exit time, bar, price, P&L and fees.
pub const TRADES_FILE: &str = "trades.csv";
/// One row per strategy per bar of its symbols: time, bar number, equity.
pub const EQUITY_FILE: &str = "equity.csv";
/// Per-strategy stats, order and refusal counts, plus the run's
/// `performance` (the only part that depends on the machine).
pub const SUMMARY_FILE: &str = "summary.json";

/// Writes the three files; returns their paths.
pub fn write_outputs(result: &BacktestResult, out: &Path) -> anyhow::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(out).map_err(|e| {
        anyhow::anyhow!("cannot create the output directory {}: {e}", out.display())
    })?;
    let files = [
        (TRADES_FILE, trades_csv(result)),
        (EQUITY_FILE, equity_csv(result)),
        (SUMMARY_FILE, summary_json(result)?),
    ];
    let mut written = Vec::new();
    for (name, text) in files {
        let path = out.join(name);
        std::fs::write(&path, text)
            .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))?;
        written.push(path);
    }
    Ok(written)
}

/// Writes `text` to `out/name`, creating `out`.
fn write_file(out: &Path, name: &str, text: &str) -> anyhow::Result<PathBuf> {
    std::fs::create_dir_all(out).map_err(|e| {
        anyhow::anyhow!("cannot create the output directory {}: {e}", out.display())
    })?;
    let path = out.join(name);
    std::fs::write(&path, text)
        .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))?;
    Ok(path)
}

/// Writes `sweep.csv` to `out`.
pub fn write_sweep(result: &super::SweepResult, out: &Path) -> anyhow::Result<PathBuf> {
    write_file(out, super::SWEEP_FILE, &super::sweep_csv(result))
}

/// Writes `walk_forward.csv` and `walk_forward_equity.csv` (the stitched
/// out-of-sample equity: time, bar, equity) to `out`.
pub fn write_walk_forward(
    result: &super::WalkForwardResult,
    out: &Path,
) -> anyhow::Result<Vec<PathBuf>> {
    let mut equity = String::from("time,bar,equity\n");
    for p in &result.equity {
        equity.push_str(&format!(
            "{},{},{}\n",
            format_timestamp(p.ts_ms),
            p.bar,
            p.equity
        ));
    }
    Ok(vec![
        write_file(out, "walk_forward.csv", &super::walk_forward_csv(result))?,
        write_file(out, "walk_forward_equity.csv", &equity)?,
    ])
}

fn trades_csv(result: &BacktestResult) -> String {
    let mut out = String::from(
        "strategy,symbol,side,size,entry_time,entry_bar,entry_price,exit_time,exit_bar,exit_price,pnl,fees,status\n",
    );
    for run in &result.strategies {
        let closed = run.trades.len() - run.open_trades;
        for (i, t) in run.trades.iter().enumerate() {
            let symbol = run
                .symbols
                .get(t.symbol as usize)
                .map_or("?", String::as_str);
            let _ = writeln!(
                out,
                "{},{},{},{},{},{},{},{},{},{},{},{},{}",
                run.id,
                symbol,
                t.side,
                t.size,
                format_timestamp(t.entry_ts_ms),
                t.entry_bar,
                t.entry_price,
                format_timestamp(t.exit_ts_ms),
                t.exit_bar,
                t.exit_price,
                t.pnl,
                t.fees,
                if i < closed { "closed" } else { "open" }
            );
        }
    }
    out
}

fn equity_csv(result: &BacktestResult) -> String {
    let mut out = String::from("strategy,time,bar,equity\n");
    for run in &result.strategies {
        for p in &run.equity {
            let _ = writeln!(
                out,
                "{},{},{},{}",
                run.id,
                format_timestamp(p.ts_ms),
                p.bar,
                p.equity
            );
        }
    }
    out
}

#[derive(Serialize)]
struct Summary<'a> {
    data: String,
    bars: u64,
    skipped_rows: u64,
    strategies: Vec<StrategySummary<'a>>,
    /// Wall-clock figures: the only part that differs between identical runs.
    performance: Performance,
}

#[derive(Serialize)]
struct StrategySummary<'a> {
    id: &'a str,
    sha256: &'a str,
    symbols: &'a [String],
    #[serde(flatten)]
    stats: &'a super::Stats,
    open_trades: usize,
    orders: u64,
    fills: u64,
    refused: &'a std::collections::BTreeMap<&'static str, u64>,
    halted: Option<&'a str>,
    error: Option<&'a str>,
}

#[derive(Serialize)]
struct Performance {
    /// The bar loop only.
    elapsed_ms: f64,
    /// Feed bars per second of the loop.
    bars_per_second: f64,
    /// Bars handed to strategies (summed over them).
    strategy_bars: u64,
    /// Strategy-bars per second of the loop: the throughput figure.
    strategy_bars_per_second: f64,
    /// Loading the strategies, before the loop.
    load_ms: f64,
}

/// `summary.json`'s text.
pub fn summary_json(result: &BacktestResult) -> anyhow::Result<String> {
    let summary = Summary {
        data: result.data.display().to_string(),
        bars: result.bars,
        skipped_rows: result.skipped_rows,
        strategies: result
            .strategies
            .iter()
            .map(|run| StrategySummary {
                id: &run.id,
                sha256: &run.sha256,
                symbols: &run.symbols,
                stats: &run.stats,
                open_trades: run.open_trades,
                orders: run.orders,
                fills: run.fills,
                refused: &run.refused,
                halted: run.halted.as_deref(),
                error: run.error.as_deref(),
            })
            .collect(),
        performance: Performance {
            elapsed_ms: result.elapsed.as_secs_f64() * 1000.0,
            bars_per_second: result.bars_per_second(),
            strategy_bars: result.strategy_bars,
            strategy_bars_per_second: result.strategy_bars_per_second(),
            load_ms: result.load_time.as_secs_f64() * 1000.0,
        },
    };
    let mut text = serde_json::to_string_pretty(&summary)?;
    text.push('\n');
    Ok(text)
}

/// The table printed after a backtest.
pub fn render_table(result: &BacktestResult) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} bars from {}{}: run loop {:.3} s, {} strategy-bars ({:.0} strategy-bars/s); loading {:.3} s",
        result.bars,
        result.data.display(),
        if result.skipped_rows > 0 {
            format!(" ({} bad rows skipped)", result.skipped_rows)
        } else {
            String::new()
        },
        result.elapsed.as_secs_f64(),
        result.strategy_bars,
        result.strategy_bars_per_second(),
        result.load_time.as_secs_f64()
    );
    let _ = writeln!(
        out,
        "{:<20} {:>13} {:>13} {:>9} {:>8} {:>7} {:>8} {:>9} {:>7} {:>8} {:>6} {:>9} {:>8}",
        "strategy",
        "start",
        "final",
        "return%",
        "cagr%",
        "trades",
        "win%",
        "maxDD%",
        "sharpe",
        "sortino",
        "PF",
        "exposure%",
        "b&hold%"
    );
    let optional = |v: Option<f64>| v.map_or("-".to_owned(), |v| format!("{v:.2}"));
    for run in &result.strategies {
        let s = &run.stats;
        let _ = writeln!(
            out,
            "{:<20} {:>13.2} {:>13.2} {:>+9.2} {:>8} {:>7} {:>8} {:>9.2} {:>7} {:>8} {:>6} {:>9.1} {:>8}",
            run.id,
            s.start_equity,
            s.final_equity,
            s.return_pct,
            optional(s.cagr_pct),
            s.trades,
            optional(s.win_rate_pct),
            s.max_drawdown_pct,
            optional(s.sharpe_ratio),
            optional(s.sortino_ratio),
            optional(s.profit_factor),
            s.exposure_pct,
            optional(s.buy_and_hold_return_pct)
        );
        let refused: u64 = run.refused.values().sum();
        if refused > 0 {
            let by_rule: Vec<String> = run
                .refused
                .iter()
                .filter(|(_, n)| **n > 0)
                .map(|(rule, n)| format!("{rule} {n}"))
                .collect();
            let _ = writeln!(out, "  {refused} orders refused: {}", by_rule.join(", "));
        }
        if let Some(reason) = &run.halted {
            let _ = writeln!(out, "  halted: {reason}");
        }
        if let Some(error) = &run.error {
            let _ = writeln!(out, "  error: {error}");
        }
    }
    out
}
