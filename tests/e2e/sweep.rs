//! `runtime backtest --sweep` and `--param`: every combination of the grid
//! is its own instance and book (its figures equal a plain backtest with
//! those parameters set by `--param`), the ranking is by the chosen metric,
//! the output is the same byte for byte whatever the number of jobs, a
//! combination the strategy refuses is a row with its reason, and a stop
//! keeps what finished.

use crate::reference::reference_data;
use crate::support::csv_backtest;
use sandbar_runtime::backtest::{
    self, BacktestOptions, RankBy, SweepOptions, overrides, run_sweep, sweep_csv,
};
use sandbar_runtime::config::Config;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

fn goog_config() -> (tempfile::TempDir, Config) {
    csv_backtest(
        "sma-cross",
        "sma",
        &reference_data("GOOG"),
        "GOOG",
        "",
        "size = 10.0",
    )
}

fn options(jobs: usize, axes: &[&str]) -> SweepOptions {
    SweepOptions {
        axes: axes
            .iter()
            .map(|a| overrides::parse_sweep(a).unwrap())
            .collect(),
        jobs,
        rank_by: RankBy::Sharpe,
        stop: Arc::new(AtomicBool::new(false)),
        progress: None,
    }
}

#[test]
fn every_combination_is_a_backtest_of_its_own_and_the_ranking_is_deterministic() {
    let (_dir, config) = goog_config();
    let axes = ["sma.fast=5..20:5", "sma.slow=10,30,60"];
    let result = run_sweep(&config, &BacktestOptions::default(), &options(2, &axes)).unwrap();
    assert_eq!((result.combinations, result.rows.len()), (12, 12));
    assert!(!result.stopped);

    // Ranked by Sharpe, highest first, the refused ones last.
    let sharpe: Vec<Option<f64>> = result
        .rows
        .iter()
        .map(|r| r.run.as_ref().ok().and_then(|f| f.stats.sharpe_ratio))
        .collect();
    let ranked: Vec<f64> = sharpe.iter().map_while(|s| *s).collect();
    assert!(ranked.len() >= 8, "{sharpe:?}");
    assert!(ranked.windows(2).all(|w| w[0] >= w[1]), "{ranked:?}");

    // fast >= slow is refused by the strategy: a row saying why, not a failure.
    let refused: Vec<&str> = result
        .rows
        .iter()
        .filter_map(|r| r.run.as_ref().err().map(String::as_str))
        .collect();
    assert!(
        !refused.is_empty(),
        "fast=10..20 with slow=10 must be refused"
    );
    assert!(refused.iter().all(|e| e.contains("fast")), "{refused:?}");

    // Each row equals a plain backtest with its values set by --param.
    for row in result.rows.iter().filter(|r| r.run.is_ok()).take(3) {
        let mut plain = config.clone();
        let set: Vec<_> = result
            .keys
            .iter()
            .zip(&row.values)
            .map(|(k, v)| overrides::parse_override(&format!("sma.{k}={v}")).unwrap())
            .collect();
        overrides::apply(&mut plain, &set).unwrap();
        let run = backtest::run(&plain, &BacktestOptions::default()).unwrap();
        let figures = row.run.as_ref().unwrap();
        assert_eq!(figures.stats, run.strategies[0].stats, "{:?}", row.values);
        assert_eq!(figures.fills, run.strategies[0].fills);
    }

    // The same grid on one job writes the same sweep.csv, byte for byte.
    let serial = run_sweep(&config, &BacktestOptions::default(), &options(1, &axes)).unwrap();
    assert_eq!(sweep_csv(&result), sweep_csv(&serial));
    eprintln!(
        "12 combinations: {:.0} strategy-bars/s on 2 jobs, {:.0} on 1",
        result.strategy_bars_per_second(),
        serial.strategy_bars_per_second()
    );
}

#[test]
fn a_stopped_sweep_keeps_what_finished_and_says_so() {
    let (_dir, config) = goog_config();
    let sweep = options(1, &["sma.fast=2..9:1"]);
    sweep.stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let result = run_sweep(&config, &BacktestOptions::default(), &sweep).unwrap();
    assert!(result.stopped);
    assert_eq!((result.combinations, result.rows.len()), (8, 0));
    assert!(backtest::render_sweep(&result, 5).contains("stopped"));
}

#[test]
fn sweep_and_param_mistakes_name_the_fix() {
    let (_dir, mut config) = goog_config();
    let error = overrides::apply(
        &mut config,
        &[overrides::parse_override("smaa.fast=3").unwrap()],
    )
    .unwrap_err();
    assert!(error.contains("did you mean `sma`"), "{error}");
    let error = run_sweep(
        &config,
        &BacktestOptions::default(),
        &options(1, &["sma.fast=2,3", "other.slow=5,6"]),
    )
    .unwrap_err()
    .to_string();
    assert!(error.contains("one strategy"), "{error}");
}

#[test]
fn walk_forward_chooses_on_training_bars_and_stitches_the_test_runs() {
    let (dir, config) = goog_config();
    let axes = ["sma.fast=5..15:5", "sma.slow=20,40"];
    let spec = backtest::WalkForwardSpec::parse("train=600,test=300").unwrap();
    let result = backtest::run_walk_forward(
        &config,
        &BacktestOptions::default(),
        &options(2, &axes),
        spec,
    )
    .unwrap();
    // 2148 bars: windows start every 300 bars while 900 fit.
    assert_eq!(result.windows.len(), 5);
    assert_eq!(result.windows[1].train, (300, 900));
    assert_eq!(result.windows[1].test, (900, 1200));

    // Window 0's choice is the best of a plain sweep over its training bars.
    let csv = std::fs::read_to_string(reference_data("GOOG")).unwrap();
    let train: Vec<&str> = csv.lines().take(1 + 600).collect();
    let train_path = dir.path().join("train.csv");
    std::fs::write(&train_path, train.join("\n") + "\n").unwrap();
    let on_train = BacktestOptions {
        data: Some(train_path),
        ..BacktestOptions::default()
    };
    let sweep = run_sweep(&config, &on_train, &options(1, &axes)).unwrap();
    assert_eq!(
        result.windows[0].chosen.as_ref(),
        Some(&sweep.rows[0].values),
        "the walk-forward's first choice"
    );
    assert_eq!(
        result.windows[0].in_sample.as_ref(),
        sweep.rows[0].run.as_ref().ok().map(|f| &f.stats)
    );

    // The stitched equity compounds the test runs' returns.
    let compounded = result.windows.iter().fold(100_000.0, |equity, w| {
        let oos = w.out_of_sample.as_ref().unwrap().as_ref().unwrap();
        equity * (1.0 + oos.return_pct / 100.0)
    });
    let stitched = result.out_of_sample.as_ref().unwrap().final_equity;
    assert!(
        (stitched - compounded).abs() <= 1e-6 * compounded,
        "{stitched} vs {compounded}"
    );
    assert_eq!(result.equity.len(), 5 * 300, "one point per test bar");
    assert_eq!(result.equity[0].bar, 600);
    eprintln!("{}", backtest::render_walk_forward(&result));
}

/// Regression: a walk-forward where no window could choose printed every
/// window as `-`, wrote "no combination had the ranking metric" and exited
/// 0, hiding the cause.
#[test]
fn regression_33_a_walk_forward_that_chooses_nothing_says_why() {
    let (_dir, config) = goog_config();
    let run = |axes: &[&str], spec: &str| {
        backtest::run_walk_forward(
            &config,
            &BacktestOptions::default(),
            &options(2, axes),
            backtest::WalkForwardSpec::parse(spec).unwrap(),
        )
        .unwrap()
    };
    // The strategy refuses fast >= slow: every combination fails alike.
    let refused = run(&["sma.fast=50,60", "sma.slow=20,30"], "train=500,test=250");
    assert!(refused.out_of_sample.is_none());
    let why = refused.windows[0].not_chosen.as_deref().unwrap();
    assert!(why.starts_with("every combination failed"), "{why}");
    assert!(why.contains("fast"), "the strategy's own reason: {why}");
    let text = backtest::render_walk_forward(&refused);
    assert!(
        text.contains("window 0: every combination failed"),
        "{text}"
    );
    assert!(text.contains("no window ran out of sample"), "{text}");
    assert!(backtest::walk_forward_csv(&refused).contains("every combination failed"));

    // Ten training bars are less than the warm-up: nothing trades there.
    let short = run(
        &["sma.fast=2,3", "sma.slow=20"],
        "train=10,test=10,step=1000",
    );
    let why = short.windows[0].not_chosen.as_deref().unwrap();
    assert!(
        why.contains("no combination had `sharpe` on the 10 training bars")
            && why.contains("train=N"),
        "{why}"
    );
}

#[test]
fn regression_33_a_stopped_walk_forward_reports_no_window_from_part_of_its_grid() {
    let (_dir, config) = goog_config();
    let sweep = options(1, &["sma.fast=5..15:5", "sma.slow=20,40"]);
    sweep.stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let result = backtest::run_walk_forward(
        &config,
        &BacktestOptions::default(),
        &sweep,
        backtest::WalkForwardSpec::parse("train=600,test=300").unwrap(),
    )
    .unwrap();
    assert!(result.stopped);
    assert!(result.windows.is_empty(), "{:?}", result.windows);
    assert_eq!(result.window_count, 5);
    let text = backtest::render_walk_forward(&result);
    assert!(text.contains("(stopped: 0 of 5 windows ran"), "{text}");
}

#[test]
fn regression_33_a_parameter_swept_twice_is_refused() {
    let (_dir, config) = goog_config();
    let error = run_sweep(
        &config,
        &BacktestOptions::default(),
        &options(1, &["sma.fast=2,3", "sma.fast=4,5"]),
    )
    .unwrap_err()
    .to_string();
    assert!(error.contains("names `sma.fast` twice"), "{error}");
}

/// The JSON a report embeds for its charts.
fn report_data(html: &str) -> serde_json::Value {
    let start = html.find("id=\"report-data\">").unwrap() + "id=\"report-data\">".len();
    let end = start + html[start..].find("</script>").unwrap();
    serde_json::from_str(&html[start..end].replace("<\\/", "</")).unwrap()
}

/// Nothing in the page is fetched when it is viewed.
fn assert_offline(html: &str) {
    for needle in ["src=\"http", "href=\"http", "src=\"//", "@import", "fetch("] {
        assert!(!html.contains(needle), "the report loads `{needle}`");
    }
    assert!(html.contains("uPlot"), "the charting library is embedded");
}

#[test]
fn the_backtest_report_is_one_offline_file_with_every_strategy_charted() {
    let (_dir, config) = goog_config();
    let result = backtest::run(&config, &BacktestOptions::default()).unwrap();
    let bars = backtest::bars_of(&config, &BacktestOptions::default()).unwrap();
    let html = backtest::backtest_report(&result, &bars, &config.feed.symbols).unwrap();
    assert_offline(&html);
    let data = report_data(&html);
    let run = &result.strategies[0];
    let page = &data["strategies"][0];
    assert_eq!(page["id"], "sma");
    assert_eq!(
        page["equity"]["t"].as_array().unwrap().len(),
        run.equity.len()
    );
    let last = page["equity"]["v"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .as_f64()
        .unwrap();
    assert_eq!(last, run.stats.final_equity);
    let price = &page["prices"][0];
    assert_eq!(price["symbol"], "GOOG");
    let marked = |key: &str| {
        price[key]
            .as_array()
            .unwrap()
            .iter()
            .filter(|v| !v.is_null())
            .count()
    };
    assert_eq!(
        marked("entries"),
        run.trades.len(),
        "one entry marker per trade"
    );
    assert_eq!(marked("exits"), run.trades.len() - run.open_trades);
    let drawdown: Vec<f64> = page["drawdown"]["v"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    let deepest = drawdown.iter().cloned().fold(0.0, f64::min);
    assert!(
        (deepest + run.stats.max_drawdown_pct).abs() < 1e-9,
        "{deepest}"
    );
    assert!(
        html.contains("<td class=\"k\">sharpe_ratio</td>"),
        "the stats table"
    );
}

#[test]
fn the_sweep_report_has_every_row_and_a_heatmap_of_two_parameters() {
    let (_dir, config) = goog_config();
    let result = run_sweep(
        &config,
        &BacktestOptions::default(),
        &options(1, &["sma.fast=5..15:5", "sma.slow=20,40"]),
    )
    .unwrap();
    let html = backtest::sweep_report(&result, Some((0, 1))).unwrap();
    assert_offline(&html);
    let table = &html[html.find("id=\"sweep-table\"").unwrap()..];
    assert_eq!(
        table.matches("<tr><td>").count(),
        6,
        "one row per combination"
    );
    let heatmap =
        &html[html.find("class=\"heatmap\"").unwrap()..html.find("id=\"sweep-table\"").unwrap()];
    assert_eq!(heatmap.matches("<td").count(), 6, "3 × 2 cells");
    assert!(heatmap.contains("slow \\ fast"), "{heatmap}");
}
