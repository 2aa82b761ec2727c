//! `runtime backtest` end to end with the real sma-cross component: trades
//! computed by hand on a CSV written here, risk rules, the kill switch, bad
//! rows, and byte-for-byte determinism.

use crate::support::component;
use sandbar_runtime::backtest::{self, BacktestOptions, BacktestResult};
use sandbar_runtime::config::Config;
use std::path::{Path, PathBuf};

/// Closes 10, 10, 10, 13, 14, 9, 8 (opens equal the previous close but at
/// bars 4 and 6, where they gap). With fast = 2, slow = 3: bar 2 is the
/// first warmed-up bar (a tie: down, flat); bar 3 crosses up (buy 1, filled
/// at bar 4's open, 14); bar 5 crosses down (sell 1, filled at bar 6's
/// open, 8).
const PATH_CSV: &str = "\
Date,Open,High,Low,Close,Volume
2024-01-01,10,10,10,10,100
2024-01-02,10,10,10,10,100
2024-01-03,10,10,10,10,100
2024-01-04,10,13,10,13,100
2024-01-05,14,14,14,14,100
2024-01-06,12,12,9,9,100
2024-01-07,8,8,8,8,100
";

pub struct Backtest {
    pub dir: tempfile::TempDir,
}

impl Backtest {
    /// A directory with `dist/sma_cross.wasm`, `bars.csv` and a config with
    /// `[strategy.params]` and extra top-level TOML (e.g. a `[risk]` table).
    pub fn new(csv: &str, params: &str, extra: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("dist")).unwrap();
        std::fs::copy(
            component("sma-cross"),
            dir.path().join("dist/sma_cross.wasm"),
        )
        .unwrap();
        std::fs::write(dir.path().join("bars.csv"), csv).unwrap();
        let config = format!(
            r#"[runtime]
strategies_dir = "dist"
[hot_reload]
skip_hash_verification = true
[feed]
kind = "csv"
symbols = ["X"]
path = "bars.csv"
{extra}
[broker]
starting_cash = 1000.0
commission = 0.01
slippage_bps = 0.0
[[strategy]]
id = "sma"
wasm = "sma_cross.wasm"
[strategy.params]
{params}
"#
        );
        std::fs::write(dir.path().join("bt.toml"), config).unwrap();
        Self { dir }
    }

    pub fn config(&self) -> Config {
        Config::from_file(&self.dir.path().join("bt.toml")).unwrap()
    }

    pub fn run(&self) -> anyhow::Result<BacktestResult> {
        backtest::run(&self.config(), &BacktestOptions::default())
    }

    pub fn out(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-9
}

/// A backtest writes the compiled code to the config's artefact cache and
/// the next backtest of the same build loads it: the same trades either way.
#[test]
fn a_backtest_uses_the_artefact_cache_of_its_config() {
    let cache = tempfile::tempdir().unwrap();
    let dir = cache.path().join("sandbar");
    let extra = format!("[runtime]\ncache_dir = {:?}\ncache_max_mb = 64", dir);
    // `[runtime]` is in the template already: put the keys there.
    let bt = Backtest::new(PATH_CSV, "fast = 2\nslow = 3\nsize = 1.0", "");
    let config_path = bt.dir.path().join("bt.toml");
    let text = std::fs::read_to_string(&config_path)
        .unwrap()
        .replace("[runtime]\n", &format!("{}\n", extra));
    std::fs::write(&config_path, text).unwrap();
    let first = bt.run().unwrap();
    let cache = sandbar_runtime::ArtifactCache::open(&dir, 64).unwrap();
    let stored = cache.total_bytes();
    assert!(
        stored > 0,
        "the backtest stored its compiled code in {}",
        dir.display()
    );
    let second = bt.run().unwrap();
    assert_eq!(
        cache.total_bytes(),
        stored,
        "nothing new compiled and stored"
    );
    let trades = |r: &BacktestResult| {
        r.strategies[0]
            .trades
            .iter()
            .map(|t| (t.entry_bar, t.exit_bar, t.pnl.to_bits()))
            .collect::<Vec<_>>()
    };
    assert_eq!(trades(&first), trades(&second));
    assert_eq!(trades(&first).len(), 1);
}

#[test]
fn hand_computed_round_trip() {
    let bt = Backtest::new(PATH_CSV, "fast = 2\nslow = 3\nsize = 1.0", "");
    let result = bt.run().unwrap();
    assert_eq!(result.bars, 7);
    let run = &result.strategies[0];
    assert_eq!((run.trades.len(), run.open_trades), (1, 0));
    let t = &run.trades[0];
    assert_eq!(
        (t.side, t.size, t.entry_bar, t.exit_bar),
        ("long", 1.0, 4, 6)
    );
    assert_eq!((t.entry_price, t.exit_price), (14.0, 8.0));
    assert!(close(t.fees, 0.14 + 0.08), "{}", t.fees);
    assert!(close(t.pnl, -6.0 - 0.22), "{}", t.pnl);
    let s = &run.stats;
    assert!(
        close(s.final_equity, 1000.0 - 14.0 - 0.14 + 8.0 - 0.08),
        "{}",
        s.final_equity
    );
    assert!(close(s.return_pct, (s.final_equity / 1000.0 - 1.0) * 100.0));
    assert_eq!((s.trades, s.win_rate_pct), (1, Some(0.0)));
    // Held at the close of bars 4 and 5: 2 of 7 bars.
    assert!(close(s.exposure_pct, 2.0 / 7.0 * 100.0));
    // Peak 1000 (start); the worst close is bar 6: 993.78.
    assert!(
        close(s.max_drawdown_pct, (1000.0 - 993.78) / 1000.0 * 100.0),
        "{}",
        s.max_drawdown_pct
    );
    assert_eq!((run.orders, run.fills), (2, 2));

    let written = backtest::write_outputs(&result, &bt.out("out")).unwrap();
    assert_eq!(written.len(), 3);
    let trades = std::fs::read_to_string(bt.out("out/trades.csv")).unwrap();
    assert_eq!(
        trades,
        "strategy,symbol,side,size,entry_time,entry_bar,entry_price,exit_time,exit_bar,exit_price,pnl,fees,status\n\
         sma,X,long,1,2024-01-05T00:00:00Z,4,14,2024-01-07T00:00:00Z,6,8,-6.22,0.22000000000000003,closed\n"
    );
    let equity = std::fs::read_to_string(bt.out("out/equity.csv")).unwrap();
    let lines: Vec<&str> = equity.lines().collect();
    assert_eq!(lines[0], "strategy,time,bar,equity");
    assert_eq!(lines.len(), 8);
    assert_eq!(lines[5], "sma,2024-01-05T00:00:00Z,4,999.86");
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(bt.out("out/summary.json")).unwrap())
            .unwrap();
    let s0 = &summary["strategies"][0];
    assert_eq!(s0["id"], "sma");
    assert_eq!(s0["trades"], 1);
    assert_eq!(summary["bars"], 7);
    assert!(summary["performance"]["bars_per_second"].as_f64().unwrap() > 0.0);
    for key in [
        "start_equity",
        "final_equity",
        "return_pct",
        "win_rate_pct",
        "max_drawdown_pct",
        "sharpe_ratio",
        "exposure_pct",
        "bars",
        "cagr_pct",
        "avg_trade_pnl",
        "median_trade_pnl",
        "max_consecutive_losses",
        "avg_holding_hours",
        "avg_holding_bars",
        "buy_and_hold_return_pct",
    ] {
        assert!(!s0[key].is_null(), "summary.json lacks {key}");
    }
    let table = backtest::render_table(&result);
    assert!(table.contains("sma") && table.contains("993.78"), "{table}");
}

#[test]
fn max_position_refuses_the_entry_and_says_so() {
    let bt = Backtest::new(
        PATH_CSV,
        "fast = 2\nslow = 3\nsize = 1.0",
        "[risk]\nmax_position = 0.5",
    );
    let run = &bt.run().unwrap().strategies[0];
    assert!(run.trades.is_empty());
    // Bars 3 and 4 each want +1 while flat; bar 5 wants flat again.
    assert_eq!(run.refused["max_position"], 2);
    assert_eq!((run.orders, run.fills), (0, 0));
    assert!(close(run.stats.final_equity, 1000.0));
}

/// Regression (issue 15 item 5): an oversized order (a sizing bug: 100
/// units at 13 on 1000 of equity) is refused by `max_leverage = 1`, named
/// in the summary's `refused` map next to every other rule, and the run goes
/// on to the last bar; within the cash the same strategy trades.
#[test]
fn regression_15_5_an_oversized_order_is_refused_by_max_leverage_and_the_run_goes_on() {
    let risk = "[risk]\nmax_leverage = 1.0";
    let bt = Backtest::new(PATH_CSV, "fast = 2\nslow = 3\nsize = 100.0", risk);
    let result = bt.run().unwrap();
    let run = &result.strategies[0];
    assert!(run.error.is_none() && run.halted.is_none());
    // Bars 3 and 4 each want +100 while flat (1300 and 1400 of exposure).
    assert_eq!(run.refused["max_leverage"], 2);
    for rule in ["max_gross_exposure", "allow_short", "lot_size", "tick_size"] {
        assert_eq!(run.refused[rule], 0, "{rule} is in the refused map");
    }
    assert_eq!((run.orders, run.fills), (0, 0));
    assert!(close(run.stats.final_equity, 1000.0));

    // 50 units (650 at the close of bar 3) are within buying power.
    let within = Backtest::new(PATH_CSV, "fast = 2\nslow = 3\nsize = 50.0", risk);
    let run = &within.run().unwrap().strategies[0];
    assert_eq!(run.refused["max_leverage"], 0);
    assert_eq!((run.orders, run.fills, run.trades.len()), (2, 2, 1));
}

/// `[symbols.X] lot` refuses sizes off the lot in a backtest, by name.
#[test]
fn regression_15_5_a_size_off_the_lot_is_refused_as_lot_size() {
    let bt = Backtest::new(
        PATH_CSV,
        "fast = 2\nslow = 3\nsize = 1.5",
        "[symbols.X]\nlot = 1.0",
    );
    let run = &bt.run().unwrap().strategies[0];
    assert_eq!(run.refused["lot_size"], 2);
    assert_eq!(run.orders, 0);
}

#[test]
fn the_drawdown_kill_switch_halts_and_refuses_the_exit() {
    let bt = Backtest::new(
        PATH_CSV,
        "fast = 2\nslow = 3\nsize = 1.0",
        "[risk]\nmax_drawdown_pct = 0.5",
    );
    let run = &bt.run().unwrap().strategies[0];
    // Bar 5 closes at 9: equity 994.86, 0.5014 % under the 999.86 peak.
    let reason = run.halted.as_deref().expect("halted");
    assert!(reason.contains("max_drawdown_pct 0.5"), "{reason}");
    // The sells of bars 5 and 6 are refused; the long stays open.
    assert_eq!(run.refused["halted"], 2);
    assert_eq!((run.trades.len(), run.open_trades), (1, 1));
    assert!(close(run.stats.final_equity, 1000.0 - 14.14 + 8.0));
}

#[test]
fn bad_rows_stop_with_file_and_line_or_are_skipped() {
    let broken = PATH_CSV.replace("2024-01-04,10,13,10,13,100", "2024-01-04,10,13,ten,13,100");
    let bt = Backtest::new(&broken, "fast = 2\nslow = 3\nsize = 1.0", "");
    let error = bt.run().unwrap_err().to_string();
    assert!(
        error.contains("bars.csv:5: low `ten` is not a number"),
        "{error}"
    );
    assert!(error.contains("on_bad_row = \"skip\""), "{error}");

    let bt = Backtest::new(
        &broken,
        "fast = 2\nslow = 3\nsize = 1.0",
        "on_bad_row = \"skip\"",
    );
    let result = bt.run().unwrap();
    assert_eq!((result.bars, result.skipped_rows), (6, 1));
}

fn without_performance(path: &Path) -> serde_json::Value {
    let mut summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    summary.as_object_mut().unwrap().remove("performance");
    summary
}

#[test]
fn identical_inputs_give_identical_outputs() {
    let csv = sandbar_runtime_csv(3000);
    let bt = Backtest::new(
        &csv,
        "fast = 5\nslow = 20\nsize = 2.0\nallow_short = true",
        "",
    );
    for out in ["a", "b"] {
        let result = bt.run().unwrap();
        assert!(
            result.strategies[0].stats.trades > 20,
            "the strategy trades"
        );
        backtest::write_outputs(&result, &bt.out(out)).unwrap();
    }
    for file in [backtest::TRADES_FILE, backtest::EQUITY_FILE] {
        let a = std::fs::read(bt.out("a").join(file)).unwrap();
        let b = std::fs::read(bt.out("b").join(file)).unwrap();
        assert!(a == b, "{file} differs between identical runs");
    }
    assert_eq!(
        without_performance(&bt.out("a").join(backtest::SUMMARY_FILE)),
        without_performance(&bt.out("b").join(backtest::SUMMARY_FILE))
    );
}

/// `n` hourly bars of the synthetic market as CSV (epoch-millisecond times).
pub fn sandbar_runtime_csv(n: usize) -> String {
    use sandbar_runtime::feed::{MarketStyle, SyntheticFeed};
    let mut csv = String::from("timestamp,open,high,low,close,volume\n");
    let feed = SyntheticFeed::new(1, 5, MarketStyle::Regimes, 3_600_000);
    for bar in feed.take(n) {
        csv.push_str(&format!(
            "{},{},{},{},{},{}\n",
            bar.ts_ms + 1_700_000_000_000,
            bar.open,
            bar.high,
            bar.low,
            bar.close,
            bar.volume
        ));
    }
    csv
}
