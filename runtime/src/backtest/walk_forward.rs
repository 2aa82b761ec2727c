//! `runtime backtest --sweep ... --walk-forward train=N,test=M[,step=S]`:
//! the data cut into windows of N training bars followed by M test bars
//! (the next window starts S bars later, M by default, so the test windows
//! tile the data). On each window the sweep's grid runs on the training
//! bars, the best combination by `--rank-by` is picked, and it runs on the
//! test bars that follow — data it was not chosen on. Each run starts flat
//! with `broker.starting_cash` and warms up inside its own window. The
//! out-of-sample equity is the test runs stitched end to end (each one's
//! returns applied to where the previous ended), with its own statistics.

use super::engine::{BacktestOptions, data_path, read_bars};
use super::stats::{EquityPoint, RunFigures, Stats};
use super::sweep::{Grid, RankBy, SweepOptions, assignments, csv_field, pool, rank, value_text};
use crate::config::Config;
use std::fmt::Write as _;

/// `train=N,test=M[,step=S]`, in bars of the data file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WalkForwardSpec {
    /// Bars each combination is chosen on.
    pub train: usize,
    /// Bars the chosen one then runs on.
    pub test: usize,
    /// Bars from one window's start to the next's.
    pub step: usize,
}

impl WalkForwardSpec {
    /// Parses `train=N,test=M[,step=S]`.
    pub fn parse(text: &str) -> Result<Self, String> {
        let (mut train, mut test, mut step) = (None, None, None);
        for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (key, value) = part.split_once('=').ok_or_else(|| {
                format!("--walk-forward {text}: `{part}` is not key=value; write train=N,test=M[,step=S]")
            })?;
            let n: usize = value.trim().parse().map_err(|_| {
                format!(
                    "--walk-forward {text}: `{}` is not a whole number of bars",
                    value.trim()
                )
            })?;
            if n == 0 {
                return Err(format!(
                    "--walk-forward {text}: `{}` must be at least 1 bar",
                    key.trim()
                ));
            }
            match key.trim() {
                "train" => train = Some(n),
                "test" => test = Some(n),
                "step" => step = Some(n),
                other => {
                    return Err(format!(
                        "--walk-forward {text}: unknown key `{other}`; the keys are train, test and step"
                    ));
                }
            }
        }
        let (train, test) = match (train, test) {
            (Some(train), Some(test)) => (train, test),
            _ => {
                return Err(format!(
                    "--walk-forward {text}: give both train=N and test=M (bars), e.g. train=500,test=100"
                ));
            }
        };
        Ok(Self {
            train,
            test,
            step: step.unwrap_or(test),
        })
    }

    /// The windows over `bars` bars: (train start, test start, test end),
    /// each complete (a last window without a full test part is left out).
    pub fn windows(&self, bars: usize) -> Vec<(usize, usize, usize)> {
        (0..)
            .map(|k| k * self.step)
            .map(|start| (start, start + self.train, start + self.train + self.test))
            .take_while(|(_, _, end)| *end <= bars)
            .collect()
    }
}

/// One window of a walk-forward run.
#[derive(Debug, Clone, PartialEq)]
pub struct Window {
    /// Row numbers (0-based, end exclusive) of the training bars.
    pub train: (usize, usize),
    /// Row numbers of the test bars.
    pub test: (usize, usize),
    /// The chosen combination's values, in axis order; `None` when no
    /// combination ran or had the ranking metric on the training bars.
    pub chosen: Option<Vec<toml::Value>>,
    /// The chosen combination's figures on the training bars (in sample).
    pub in_sample: Option<Stats>,
    /// Its figures on the test bars (out of sample), or why it did not run.
    pub out_of_sample: Option<Result<Stats, String>>,
    /// Why no combination was chosen (`chosen` is `None`): every one
    /// failed on the training bars (the first failure), or none had the
    /// ranking metric there.
    pub not_chosen: Option<String>,
}

/// A finished walk-forward run.
#[derive(Debug, Clone)]
pub struct WalkForwardResult {
    /// The swept strategy's id.
    pub strategy: String,
    /// The swept parameters, in axis order.
    pub keys: Vec<String>,
    /// The metric each window's combination was chosen by.
    pub rank_by: RankBy,
    /// The windows, in order.
    pub windows: Vec<Window>,
    /// The out-of-sample equity: the test runs stitched end to end.
    pub equity: Vec<EquityPoint>,
    /// Statistics of the stitched out-of-sample equity (trade figures are
    /// those of every test run's closed trades together).
    pub out_of_sample: Option<Stats>,
    /// A stop (Ctrl-C) ended the run: `windows` holds those that finished,
    /// none chosen from part of its grid.
    pub stopped: bool,
    /// Windows the data holds, run or not.
    pub window_count: usize,
}

/// Runs the walk-forward of `sweep`'s grid over the data of `options`.
pub fn run_walk_forward(
    config: &Config,
    options: &BacktestOptions,
    sweep: &SweepOptions,
    spec: WalkForwardSpec,
) -> anyhow::Result<WalkForwardResult> {
    let grid = Grid::new(config, &sweep.axes)?;
    let data = data_path(config, options)?;
    let (bars, _) = read_bars(config, &data)?;
    let windows = spec.windows(bars.len());
    if windows.is_empty() {
        anyhow::bail!(
            "--walk-forward needs train + test = {} bars, and {} has {}; use smaller windows",
            spec.train + spec.test,
            data.display(),
            bars.len()
        );
    }
    let pool = pool(sweep.jobs, grid.combos.len())?;
    let start_cash = config.broker.starting_cash;
    let mut result = WalkForwardResult {
        strategy: grid.strategy_with(&[]).id,
        keys: grid.keys.clone(),
        rank_by: sweep.rank_by,
        windows: Vec::new(),
        equity: Vec::new(),
        out_of_sample: None,
        stopped: false,
        window_count: windows.len(),
    };
    let mut closed = Vec::new();
    let mut level = start_cash;
    let (mut held_bars, mut run_bars) = (0u64, 0u64);
    let stopped = || sweep.stop.load(std::sync::atomic::Ordering::Relaxed);
    for (train_start, test_start, test_end) in windows {
        let (mut rows, _) = grid.run_all(&bars[train_start..test_start], &pool, &sweep.stop, None);
        // A choice among part of the grid is no choice: a window the stop
        // cut short is left out, not reported as if it had run.
        if stopped() {
            result.stopped = true;
            break;
        }
        rank(&mut rows, sweep.rank_by);
        let best = rows.iter().position(|row| {
            row.run
                .as_ref()
                .is_ok_and(|f| sweep.rank_by.value(&f.stats).is_some())
        });
        let not_chosen = best
            .is_none()
            .then(|| why_none_chosen(&rows, sweep.rank_by, test_start - train_start));
        let best = best.map(|index| rows.swap_remove(index));
        let mut window = Window {
            train: (train_start, test_start),
            test: (test_start, test_end),
            chosen: best.as_ref().map(|row| row.values.clone()),
            in_sample: best.and_then(|row| row.run.ok()).map(|f| f.stats),
            out_of_sample: None,
            not_chosen,
        };
        if let Some(values) = &window.chosen {
            let run = grid.run_one(values, &bars[test_start..test_end]);
            if let Ok(run) = &run {
                // Each test run starts from the starting cash: carry its
                // returns on from where the stitched curve stands.
                let scale = level / start_cash;
                result.equity.extend(run.equity.iter().map(|p| EquityPoint {
                    equity: p.equity * scale,
                    ..*p
                }));
                level = run.stats.final_equity * scale;
                closed.extend(
                    run.trades[..run.trades.len() - run.open_trades]
                        .iter()
                        .cloned(),
                );
                // exposure_pct is held bars over bars: this gives the count back.
                held_bars +=
                    (run.stats.exposure_pct / 100.0 * run.stats.bars as f64).round() as u64;
                run_bars += run.stats.bars;
            }
            window.out_of_sample = Some(run.map(|r| r.stats));
        }
        result.windows.push(window);
    }
    if !result.equity.is_empty() {
        result.out_of_sample = Some(Stats::compute(RunFigures {
            start_equity: start_cash,
            final_equity: level,
            curve: &result.equity,
            closed: &closed,
            held_bars,
            bars: run_bars,
            closes: &[],
        }));
    }
    Ok(result)
}

/// Why none of a window's training `rows` could be chosen: all failed (the
/// first failure, which a broken build or a refused parameter gives every
/// row alike), or none had the metric.
fn why_none_chosen(rows: &[super::sweep::SweepRow], rank_by: RankBy, bars: usize) -> String {
    let failures: Vec<&String> = rows.iter().filter_map(|r| r.run.as_ref().err()).collect();
    match failures.first() {
        Some(first) if failures.len() == rows.len() => {
            format!("every combination failed on the training bars; the first: {first}")
        }
        _ => format!(
            "no combination had `{}` on the {bars} training bars ({} ran, {} failed): it needs trades or a moving equity; use a longer train=N (longer than the strategy's warm-up) or another --rank-by",
            rank_by.as_str(),
            rows.len() - failures.len(),
            failures.len()
        ),
    }
}

/// `walk_forward.csv`: one row per window: its bars, the chosen values,
/// the ranking metric and return in sample, and the out-of-sample figures.
pub fn walk_forward_csv(result: &WalkForwardResult) -> String {
    let metric = result.rank_by.as_str();
    let mut out = format!(
        "window,train_start,train_end,test_start,test_end,{},in_sample_{metric},in_sample_return_pct,oos_return_pct,oos_sharpe_ratio,oos_max_drawdown_pct,oos_trades,error\n",
        result.keys.join(",")
    );
    let opt = |v: Option<f64>| v.map(|v| v.to_string()).unwrap_or_default();
    for (i, w) in result.windows.iter().enumerate() {
        let _ = write!(
            out,
            "{i},{},{},{},{}",
            w.train.0, w.train.1, w.test.0, w.test.1
        );
        let values: Vec<String> = match &w.chosen {
            Some(values) => values.iter().map(|v| csv_field(&value_text(v))).collect(),
            None => vec![String::new(); result.keys.len()],
        };
        let _ = write!(out, ",{}", values.join(","));
        let is = w.in_sample.as_ref();
        let _ = write!(
            out,
            ",{},{}",
            opt(is.and_then(|s| result.rank_by.value(s))),
            opt(is.map(|s| s.return_pct))
        );
        match &w.out_of_sample {
            Some(Ok(s)) => {
                let _ = write!(
                    out,
                    ",{},{},{},{},",
                    s.return_pct,
                    opt(s.sharpe_ratio),
                    s.max_drawdown_pct,
                    s.trades
                );
            }
            Some(Err(e)) => {
                let _ = write!(out, ",,,,,{}", csv_field(e));
            }
            None => {
                let why = w
                    .not_chosen
                    .as_deref()
                    .unwrap_or("no combination was chosen");
                let _ = write!(out, ",,,,,{}", csv_field(why));
            }
        }
        out.push('\n');
    }
    out
}

/// The windows and the stitched out-of-sample figures, for the terminal.
pub fn render_walk_forward(result: &WalkForwardResult) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "walk-forward of `{}` ({}), chosen by {} on each training window:",
        result.strategy,
        result.keys.join(" × "),
        result.rank_by.as_str()
    );
    let _ = writeln!(
        out,
        "{:>6}  {:>13}  {:>13}  {:<24} {:>10} {:>10} {:>9}",
        "window", "train bars", "test bars", "chosen", "IS ret%", "OOS ret%", "OOS DD%"
    );
    for (i, w) in result.windows.iter().enumerate() {
        let chosen = w
            .chosen
            .as_ref()
            .map_or("-".to_owned(), |v| assignments(&result.keys, v));
        let is = w
            .in_sample
            .as_ref()
            .map_or("-".to_owned(), |s| format!("{:+.2}", s.return_pct));
        let (oos, dd) = match &w.out_of_sample {
            Some(Ok(s)) => (
                format!("{:+.2}", s.return_pct),
                format!("{:.2}", s.max_drawdown_pct),
            ),
            Some(Err(_)) => ("failed".to_owned(), "-".to_owned()),
            None => ("-".to_owned(), "-".to_owned()),
        };
        let _ = writeln!(
            out,
            "{i:>6}  {:>13}  {:>13}  {chosen:<24} {is:>10} {oos:>10} {dd:>9}",
            format!("{}..{}", w.train.0, w.train.1),
            format!("{}..{}", w.test.0, w.test.1),
        );
    }
    for (i, w) in result.windows.iter().enumerate() {
        let why = match (&w.not_chosen, &w.out_of_sample) {
            (Some(why), _) => why,
            (None, Some(Err(error))) => error,
            _ => continue,
        };
        let _ = writeln!(out, "window {i}: {why}");
    }
    if result.stopped {
        let _ = writeln!(
            out,
            "(stopped: {} of {} windows ran; the rest did not)",
            result.windows.len(),
            result.window_count
        );
    }
    if let Some(s) = &result.out_of_sample {
        let _ = writeln!(
            out,
            "out of sample, stitched: return {:+.2} %, max drawdown {:.2} %, Sharpe {}, {} trades",
            s.return_pct,
            s.max_drawdown_pct,
            s.sharpe_ratio.map_or("-".to_owned(), |v| format!("{v:.2}")),
            s.trades
        );
    } else {
        let _ = writeln!(out, "no window ran out of sample: nothing to stitch");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_tile_the_test_bars_and_drop_an_incomplete_last_one() {
        let spec = WalkForwardSpec::parse("train=100,test=50").unwrap();
        assert_eq!(spec.step, 50);
        assert_eq!(
            spec.windows(260),
            [(0, 100, 150), (50, 150, 200), (100, 200, 250)]
        );
        let spec = WalkForwardSpec::parse("train=10, test=5, step=20").unwrap();
        assert_eq!(spec.windows(50), [(0, 10, 15), (20, 30, 35)]);
        assert!(spec.windows(14).is_empty());
    }

    #[test]
    fn malformed_specs_say_how_to_write_them() {
        for (text, expect) in [
            ("train=10", "give both"),
            ("train=10,test=0", "at least 1"),
            ("train=10,test=x", "whole number"),
            ("train=10,test=5,size=3", "unknown key `size`"),
            ("10,5", "not key=value"),
        ] {
            let error = WalkForwardSpec::parse(text).unwrap_err();
            assert!(error.contains(expect), "{text}: {error}");
        }
    }
}
