//! `runtime backtest --sweep`: one strategy over a grid of parameter
//! values, every combination its own instance and book over the same bars,
//! the combinations spread over a pool of threads (`--jobs`), ranked by one
//! metric (`--rank-by`). The component is compiled once (the loader caches
//! it by hash); the data is read once and shared. Same inputs give the same
//! ranking and the same `sweep.csv`, byte for byte, whatever the number of
//! jobs: nothing in it depends on timing.

use super::engine::{
    BacktestOptions, Checked, StrategyRun, check, data_path, load, read_bars, runner_on,
};
use super::overrides::{SweepAxis, known_strategy};
use super::stats::Stats;
use crate::broker::FillModel;
use crate::config::{Config, StrategyConfig};
use crate::contract::Bar;
use crate::load::Loader;
use rayon::prelude::*;
use std::fmt::Write as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// The metric a sweep is ranked by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RankBy {
    /// `sharpe_ratio`, highest first.
    Sharpe,
    /// `sortino_ratio`, highest first.
    Sortino,
    /// `calmar_ratio`, highest first.
    Calmar,
    /// `return_pct`, highest first.
    Return,
    /// `cagr_pct`, highest first.
    Cagr,
    /// `profit_factor`, highest first.
    ProfitFactor,
    /// `win_rate_pct`, highest first.
    WinRate,
    /// `max_drawdown_pct`, lowest first.
    Drawdown,
    /// `final_equity`, highest first.
    Equity,
}

impl RankBy {
    /// Every metric, as `--rank-by` spells them.
    pub const ALL: [RankBy; 9] = [
        RankBy::Sharpe,
        RankBy::Sortino,
        RankBy::Calmar,
        RankBy::Return,
        RankBy::Cagr,
        RankBy::ProfitFactor,
        RankBy::WinRate,
        RankBy::Drawdown,
        RankBy::Equity,
    ];

    /// The name `--rank-by` takes.
    pub fn as_str(&self) -> &'static str {
        match self {
            RankBy::Sharpe => "sharpe",
            RankBy::Sortino => "sortino",
            RankBy::Calmar => "calmar",
            RankBy::Return => "return",
            RankBy::Cagr => "cagr",
            RankBy::ProfitFactor => "profit_factor",
            RankBy::WinRate => "win_rate",
            RankBy::Drawdown => "drawdown",
            RankBy::Equity => "equity",
        }
    }

    /// Parses a `--rank-by` value, with a "did you mean" on a typo.
    pub fn parse(text: &str) -> Result<Self, String> {
        let names: Vec<&str> = Self::ALL.iter().map(RankBy::as_str).collect();
        Self::ALL
            .into_iter()
            .find(|r| r.as_str() == text.trim())
            .ok_or_else(|| {
                let hint = crate::config::suggest_closest(text, &names)
                    .map(|s| format!("did you mean `{s}`? "))
                    .unwrap_or_default();
                format!(
                    "--rank-by {text}: no such metric; {hint}choose one of {}",
                    names.join(", ")
                )
            })
    }

    /// The metric of `stats`, larger is better (a drawdown counts negated).
    pub fn value(&self, stats: &Stats) -> Option<f64> {
        match self {
            RankBy::Sharpe => stats.sharpe_ratio,
            RankBy::Sortino => stats.sortino_ratio,
            RankBy::Calmar => stats.calmar_ratio,
            RankBy::Return => Some(stats.return_pct),
            RankBy::Cagr => stats.cagr_pct,
            RankBy::ProfitFactor => stats.profit_factor,
            RankBy::WinRate => stats.win_rate_pct,
            RankBy::Drawdown => Some(-stats.max_drawdown_pct),
            RankBy::Equity => Some(stats.final_equity),
        }
        .filter(|v| v.is_finite())
    }
}

/// What to sweep, and how.
#[derive(Clone)]
pub struct SweepOptions {
    /// The grid's axes; all of one strategy.
    pub axes: Vec<SweepAxis>,
    /// Threads running combinations (at least 1).
    pub jobs: usize,
    /// The ranking metric.
    pub rank_by: RankBy,
    /// Set (by Ctrl-C) to stop starting combinations; finished ones are kept.
    pub stop: Arc<AtomicBool>,
    /// Called as combinations finish, with (finished, all).
    pub progress: Option<Arc<dyn Fn(u64, u64) + Send + Sync>>,
}

/// One combination's figures.
#[derive(Debug, Clone, PartialEq)]
pub struct SweepFigures {
    /// The run's statistics (up to the bar it trapped on, if it did).
    pub stats: Stats,
    /// Orders the risk gate accepted.
    pub orders: u64,
    /// Fills made.
    pub fills: u64,
    /// Set when the guest trapped: the run stopped at that bar.
    pub trapped: Option<String>,
}

/// One combination of the grid.
#[derive(Debug, Clone, PartialEq)]
pub struct SweepRow {
    /// Its place in the grid (0-based, first axis slowest).
    pub combination: usize,
    /// Its value of each axis, in axis order.
    pub values: Vec<toml::Value>,
    /// The run, or why it could not run (typically a parameter the
    /// strategy refused).
    pub run: Result<SweepFigures, String>,
}

/// A finished (or stopped) sweep, ranked.
#[derive(Debug, Clone)]
pub struct SweepResult {
    /// The swept strategy's id.
    pub strategy: String,
    /// The swept parameters, in axis order.
    pub keys: Vec<String>,
    /// The metric the rows are ranked by.
    pub rank_by: RankBy,
    /// Finished combinations, best first; ties keep grid order; runs
    /// without the metric (and failed ones) come last.
    pub rows: Vec<SweepRow>,
    /// Combinations in the grid.
    pub combinations: usize,
    /// True when stopped before every combination ran.
    pub stopped: bool,
    /// Bars in the data.
    pub bars: u64,
    /// Bars handed to the strategy over all finished combinations.
    pub strategy_bars: u64,
    /// Wall-clock time of the runs (after the one compile).
    pub elapsed: Duration,
    /// Threads used.
    pub jobs: usize,
}

impl SweepResult {
    /// Strategy-bars per second of wall-clock time over all jobs.
    pub fn strategy_bars_per_second(&self) -> f64 {
        self.strategy_bars as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

/// Every combination of the axes' values, first axis slowest.
fn grid(axes: &[SweepAxis]) -> Vec<Vec<toml::Value>> {
    axes.iter().fold(vec![Vec::new()], |combos, axis| {
        combos
            .iter()
            .flat_map(|combo| {
                axis.values.iter().map(move |v| {
                    let mut next = combo.clone();
                    next.push(v.clone());
                    next
                })
            })
            .collect()
    })
}

/// The most combinations one sweep runs.
pub const MAX_COMBINATIONS: usize = 100_000;

/// A sweep's fixed parts: its strategy, the grid of values, the loader
/// that compiled the component once, the fill model.
pub(super) struct Grid<'a> {
    config: &'a Config,
    strategy: &'a StrategyConfig,
    pub keys: Vec<String>,
    pub combos: Vec<Vec<toml::Value>>,
    loader: Loader,
    model: FillModel,
    /// The component as the first combination loaded it (every stage, its
    /// smoke test included); `None` if that load failed, and then each
    /// combination loads on its own and reports its own error.
    checked: Option<Checked>,
}

impl<'a> Grid<'a> {
    /// The grid of `axes` (all of one strategy of `config`), compiled once.
    pub fn new(config: &'a Config, axes: &[SweepAxis]) -> anyhow::Result<Self> {
        let first = axes
            .first()
            .ok_or_else(|| anyhow::anyhow!("a sweep needs at least one --sweep ID.KEY=..."))?;
        let id = first.strategy.as_str();
        if let Some(other) = axes.iter().find(|a| a.strategy != id) {
            anyhow::bail!(
                "--sweep names strategies `{id}` and `{}`; a sweep varies one strategy (run one sweep per strategy)",
                other.strategy
            );
        }
        for (i, axis) in axes.iter().enumerate() {
            if axes[..i].iter().any(|a| a.key == axis.key) {
                anyhow::bail!(
                    "--sweep names `{id}.{}` twice; give all its values in one --sweep (e.g. {id}.{}=2,3,4,5)",
                    axis.key,
                    axis.key
                );
            }
        }
        let strategy = known_strategy(config, id, "--sweep").map_err(anyhow::Error::msg)?;
        let combos = grid(axes);
        if combos.len() > MAX_COMBINATIONS {
            anyhow::bail!(
                "the sweep has {} combinations, more than {MAX_COMBINATIONS}; use fewer values or larger steps",
                combos.len()
            );
        }
        let mut grid = Self {
            config,
            strategy,
            keys: axes.iter().map(|a| a.key.clone()).collect(),
            combos,
            loader: crate::load::ArtifactCache::attach(Loader::foreground()?, config),
            model: FillModel {
                commission: config.broker.commission,
                slippage_bps: config.broker.slippage_bps,
                tie: config.broker.bracket_tie.rule(),
            },
            checked: None,
        };
        // Load once, before any job starts: every combination then starts
        // from the checked component (an instance, init with its params)
        // instead of running the whole pipeline again.
        grid.checked = check(&grid.loader, config, &grid.strategy_with(&grid.combos[0])).ok();
        Ok(grid)
    }

    /// The strategy's config with these values of the swept parameters.
    pub fn strategy_with(&self, values: &[toml::Value]) -> StrategyConfig {
        let mut s = self.strategy.clone();
        for (key, value) in self.keys.iter().zip(values) {
            s.params.insert(key.clone(), value.clone());
        }
        s
    }

    /// One backtest of the strategy with `values` over `bars`.
    pub fn run_one(&self, values: &[toml::Value], bars: &[Bar]) -> Result<StrategyRun, String> {
        let strategy = self.strategy_with(values);
        let runner = match &self.checked {
            Some(checked) => runner_on(checked, self.config, &strategy, self.model),
            None => load(&self.loader, self.config, &strategy, self.model),
        };
        let mut runner = runner.map_err(|e| format!("{e:#}"))?;
        for bar in bars {
            runner.step(bar);
        }
        Ok(runner.finish(bars.last().copied()))
    }

    /// Every combination over `bars` on `pool`, in grid order (`None` for
    /// those a stop kept from starting), and the strategy-bars they ran.
    pub fn run_all(
        &self,
        bars: &[Bar],
        pool: &rayon::ThreadPool,
        stop: &AtomicBool,
        progress: Option<&(dyn Fn(u64, u64) + Send + Sync)>,
    ) -> (Vec<SweepRow>, u64) {
        let finished = AtomicU64::new(0);
        let strategy_bars = AtomicU64::new(0);
        let total = self.combos.len() as u64;
        let rows = each_on(pool, &self.combos, |combination, values| {
            if stop.load(Ordering::Relaxed) {
                return None;
            }
            let run = self.run_one(values, bars).map(|run| {
                strategy_bars.fetch_add(run.stats.bars, Ordering::Relaxed);
                SweepFigures {
                    stats: run.stats,
                    orders: run.orders,
                    fills: run.fills,
                    trapped: run.error,
                }
            });
            let done = finished.fetch_add(1, Ordering::Relaxed) + 1;
            if let Some(progress) = progress {
                progress(done, total);
            }
            Some(SweepRow {
                combination,
                values: values.clone(),
                run,
            })
        });
        (
            rows.into_iter().flatten().collect(),
            strategy_bars.into_inner(),
        )
    }
}

/// `run` of every item (with its index) on `pool`, results in item order.
///
/// Each item is a job of its own (`with_max_len(1)`): a combination is a
/// whole backtest, milliseconds long, and rayon's default splitting of an
/// indexed iterator hands each thread runs of up to a quarter of the items
/// that it works through in one go, where no idle thread can steal them.
/// A thread that finished its runs then sat idle while the other worked
/// through its own: measured on a 100-combination sweep with 2 jobs, the
/// last 35-135 ms of 125-180 ms runs went on one core.
pub(super) fn each_on<T: Sync, R: Send>(
    pool: &rayon::ThreadPool,
    items: &[T],
    run: impl Fn(usize, &T) -> R + Sync,
) -> Vec<R> {
    pool.install(|| {
        items
            .par_iter()
            .with_max_len(1)
            .enumerate()
            .map(|(index, item)| run(index, item))
            .collect()
    })
}

/// A pool for sweep combinations: `jobs` threads, but never more than
/// there are `combinations` to run (a thread without one would only be
/// started and stopped: `--jobs 1000000` on an 8-combination grid started
/// threads for a minute before the first result).
pub(super) fn pool(jobs: usize, combinations: usize) -> anyhow::Result<rayon::ThreadPool> {
    Ok(rayon::ThreadPoolBuilder::new()
        .num_threads(threads_for(jobs, combinations))
        .thread_name(|i| format!("sandbar-sweep-{i}"))
        .build()?)
}

/// The threads [`pool`] starts: `jobs`, at most one per combination, at
/// least one.
pub(super) fn threads_for(jobs: usize, combinations: usize) -> usize {
    jobs.min(combinations).max(1)
}

/// Runs the grid of `sweep` for its strategy over the data of `options`.
pub fn run_sweep(
    config: &Config,
    options: &BacktestOptions,
    sweep: &SweepOptions,
) -> anyhow::Result<SweepResult> {
    let grid = Grid::new(config, &sweep.axes)?;
    let data = data_path(config, options)?;
    let (bars, _) = read_bars(config, &data)?;
    let pool = pool(sweep.jobs, grid.combos.len())?;
    let jobs = pool.current_num_threads();
    let started = Instant::now();
    let (mut rows, strategy_bars) =
        grid.run_all(&bars, &pool, &sweep.stop, sweep.progress.as_deref());
    let elapsed = started.elapsed();
    let stopped = rows.len() < grid.combos.len();
    rank(&mut rows, sweep.rank_by);
    Ok(SweepResult {
        strategy: grid.strategy.id.clone(),
        keys: grid.keys.clone(),
        rank_by: sweep.rank_by,
        rows,
        combinations: grid.combos.len(),
        stopped,
        bars: bars.len() as u64,
        strategy_bars,
        elapsed,
        jobs,
    })
}

/// Best first by `rank_by`; rows without the metric last; ties in grid order.
pub(super) fn rank(rows: &mut [SweepRow], rank_by: RankBy) {
    let key = |row: &SweepRow| {
        row.run
            .as_ref()
            .ok()
            .and_then(|figures| rank_by.value(&figures.stats))
    };
    rows.sort_by(|a, b| match (key(a), key(b)) {
        (Some(x), Some(y)) => y.total_cmp(&x).then(a.combination.cmp(&b.combination)),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => a.combination.cmp(&b.combination),
    });
}

/// `sweep.csv`'s name in `--out`.
pub const SWEEP_FILE: &str = "sweep.csv";

const METRIC_COLUMNS: &str = "return_pct,cagr_pct,sharpe_ratio,sortino_ratio,calmar_ratio,max_drawdown_pct,profit_factor,win_rate_pct,trades,avg_trade_pnl,max_consecutive_losses,exposure_pct,final_equity,buy_and_hold_return_pct,orders,fills,error";

/// `text` as one CSV field (quoted when it holds a comma, quote or newline).
pub(super) fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_owned()
    }
}

/// A parameter value as written on the command line (text unquoted).
pub(super) fn value_text(value: &toml::Value) -> String {
    match value {
        toml::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// `key=value key=value`: a combination's values named by their keys.
pub(super) fn assignments(keys: &[String], values: &[toml::Value]) -> String {
    keys.iter()
        .zip(values)
        .map(|(k, v)| format!("{k}={}", value_text(v)))
        .collect::<Vec<_>>()
        .join(" ")
}

fn optional(value: Option<f64>) -> String {
    value.map(|v| v.to_string()).unwrap_or_default()
}

/// `sweep.csv`: a header, then one row per finished combination in rank
/// order: its rank, its place in the grid, its value of each swept
/// parameter, and every summary metric (empty where a metric does not
/// exist; `error` says why a combination did not run or where it trapped).
pub fn sweep_csv(result: &SweepResult) -> String {
    let mut out = String::from("rank,combination");
    for key in &result.keys {
        out.push(',');
        out.push_str(&csv_field(key));
    }
    out.push(',');
    out.push_str(METRIC_COLUMNS);
    out.push('\n');
    for (rank, row) in result.rows.iter().enumerate() {
        let _ = write!(out, "{},{}", rank + 1, row.combination);
        for value in &row.values {
            out.push(',');
            out.push_str(&csv_field(&value_text(value)));
        }
        match &row.run {
            Ok(f) => {
                let s = &f.stats;
                let _ = write!(
                    out,
                    ",{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{}",
                    s.return_pct,
                    optional(s.cagr_pct),
                    optional(s.sharpe_ratio),
                    optional(s.sortino_ratio),
                    optional(s.calmar_ratio),
                    s.max_drawdown_pct,
                    optional(s.profit_factor),
                    optional(s.win_rate_pct),
                    s.trades,
                    optional(s.avg_trade_pnl),
                    s.max_consecutive_losses,
                    s.exposure_pct,
                    s.final_equity,
                    optional(s.buy_and_hold_return_pct),
                    f.orders,
                    f.fills,
                    csv_field(f.trapped.as_deref().unwrap_or("")),
                );
            }
            Err(error) => {
                out.push_str(&",".repeat(16));
                out.push(',');
                out.push_str(&csv_field(error));
            }
        }
        out.push('\n');
    }
    out
}

/// The sweep's summary and its `top` best rows, for the terminal.
pub fn render_sweep(result: &SweepResult, top: usize) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} of {} combinations of `{}` ({}) over {} bars in {:.3} s on {} job(s): {:.0} strategy-bars/s{}",
        result.rows.len(),
        result.combinations,
        result.strategy,
        result.keys.join(" × "),
        result.bars,
        result.elapsed.as_secs_f64(),
        result.jobs,
        result.strategy_bars_per_second(),
        if result.stopped {
            " (stopped: the rest did not run)"
        } else {
            ""
        }
    );
    let _ = writeln!(out, "ranked by {}:", result.rank_by.as_str());
    let _ = writeln!(
        out,
        "{:>5}  {:<32} {:>9} {:>7} {:>8} {:>7} {:>7}",
        "rank", "parameters", "return%", "sharpe", "maxDD%", "PF", "trades"
    );
    let num = |v: Option<f64>| v.map_or("-".to_owned(), |v| format!("{v:.2}"));
    for (rank, row) in result.rows.iter().take(top).enumerate() {
        let params = assignments(&result.keys, &row.values);
        match &row.run {
            Ok(f) => {
                let s = &f.stats;
                let _ = writeln!(
                    out,
                    "{:>5}  {:<32} {:>+9.2} {:>7} {:>8.2} {:>7} {:>7}",
                    rank + 1,
                    params,
                    s.return_pct,
                    num(s.sharpe_ratio),
                    s.max_drawdown_pct,
                    num(s.profit_factor),
                    s.trades
                );
            }
            Err(error) => {
                let _ = writeln!(out, "{:>5}  {:<32} not run: {error}", rank + 1, params);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use toml::Value::Integer;

    #[test]
    fn the_grid_is_every_combination_first_axis_slowest() {
        let axis = |key: &str, values: &[i64]| SweepAxis {
            strategy: "s".into(),
            key: key.into(),
            values: values.iter().map(|v| Integer(*v)).collect(),
        };
        let combos = grid(&[axis("a", &[1, 2]), axis("b", &[10, 20, 30])]);
        assert_eq!(combos.len(), 6);
        assert_eq!(combos[0], [Integer(1), Integer(10)]);
        assert_eq!(combos[2], [Integer(1), Integer(30)]);
        assert_eq!(combos[3], [Integer(2), Integer(10)]);
    }

    /// Regression: `--jobs 1000000` on an 8-combination grid started a
    /// thread per job (1,471 of them after 18 s) before running anything.
    #[test]
    fn regression_33_a_sweep_starts_no_more_threads_than_combinations() {
        assert_eq!(threads_for(1_000_000, 8), 8);
        assert_eq!(threads_for(2, 100), 2);
        assert_eq!(threads_for(4, 0), 1, "at least one thread");
        let pool = pool(1_000_000, 3).unwrap();
        assert_eq!(pool.current_num_threads(), 3);
    }

    /// Regression: rayon ran the combinations in runs of up to a quarter
    /// of the grid, so a thread that finished early could not take any of
    /// the rest and one core did the tail alone. Here the first item waits
    /// for every other one: only a pool that hands each item out on its
    /// own finishes them while it waits.
    #[test]
    fn sweep_threads_never_queue_a_combination_behind_a_running_one() {
        use std::sync::{Condvar, Mutex};
        let pool = pool(2, 100).unwrap();
        let items: Vec<usize> = (0..100).collect();
        let others_done = (Mutex::new(0usize), Condvar::new());
        let results = each_on(&pool, &items, |index, item| {
            let (count, changed) = &others_done;
            if index == 0 {
                let (done, _) = changed
                    .wait_timeout_while(
                        count.lock().unwrap(),
                        std::time::Duration::from_secs(60),
                        |done| *done < items.len() - 1,
                    )
                    .unwrap();
                assert_eq!(
                    *done,
                    items.len() - 1,
                    "the other thread must run every other item while the first one waits"
                );
            } else {
                *count.lock().unwrap() += 1;
                changed.notify_all();
            }
            item * 2
        });
        assert_eq!(results, items.iter().map(|i| i * 2).collect::<Vec<_>>());
    }

    #[test]
    fn rank_by_names_parse_with_a_suggestion() {
        assert_eq!(RankBy::parse("calmar"), Ok(RankBy::Calmar));
        let error = RankBy::parse("sharp").unwrap_err();
        assert!(error.contains("did you mean `sharpe`"), "{error}");
    }
}
