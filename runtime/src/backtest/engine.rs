//! The backtest loop: every bar in file order, every subscribed strategy,
//! book first (fills at this bar's prices), then the guest. No threads, no
//! channels, no journal: the batched call path.

use super::stats::{EquityPoint, RunFigures, Stats};
use crate::broker::{Book, FillModel, Trade};
use crate::config::{BadRowPolicy, Config, StrategyConfig};
use crate::contract::Bar;
use crate::instance::StrategyInstance;
use crate::load::{LoadSpec, Loader};
use crate::risk::{RiskRule, RiskRules};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The per-call wall-clock deadline in backtests (the most the config allows).
pub const BACKTEST_DEADLINE: Duration = Duration::from_secs(60);

/// What to run beyond the config.
#[derive(Clone, Default)]
pub struct BacktestOptions {
    /// The CSV to replay; `None` uses `[feed] path`.
    pub data: Option<PathBuf>,
    /// Only these strategy ids (all enabled ones when empty).
    pub only: Vec<String>,
    /// Called every few thousand bars with (bars done, bars in all).
    pub progress: Option<Arc<dyn Fn(u64, u64) + Send + Sync>>,
}

/// One strategy's run.
#[derive(Debug, Clone)]
pub struct StrategyRun {
    /// The `[[strategy]]`'s `id`.
    pub id: String,
    /// Lowercase hex SHA-256 of the component that ran.
    pub sha256: String,
    /// The strategy's symbols, in the order given to `init`; a
    /// [`Trade::symbol`] indexes this list.
    pub symbols: Vec<String>,
    /// Closed round trips, then the trades still open at the end (marked at the last close).
    pub trades: Vec<Trade>,
    /// How many of the last entries of `trades` are still open (0 when the
    /// strategy ended flat).
    pub open_trades: usize,
    /// Equity after each bar of the strategy's symbols.
    pub equity: Vec<EquityPoint>,
    /// Return, drawdown, trade and exposure figures over the whole run.
    pub stats: Stats,
    /// Orders the risk gate accepted (refused ones are in `refused`).
    pub orders: u64,
    /// Fills the paper broker made.
    pub fills: u64,
    /// Refused orders by [`RiskRule::as_str`]; every rule is present, zeros
    /// included, so the summary always has the same keys.
    pub refused: BTreeMap<&'static str, u64>,
    /// Set when the guest trapped: the run stopped at that bar.
    pub error: Option<String>,
    /// Set when the drawdown kill switch (`risk.max_drawdown_pct`) fired: the
    /// reason. A halted strategy still gets bars but sends no more orders.
    pub halted: Option<String>,
}

/// Everything a backtest produced, for [`write_outputs`](super::write_outputs)
/// and the summary table.
#[derive(Debug, Clone)]
pub struct BacktestResult {
    /// The CSV replayed (`--data`, or `[feed] path`).
    pub data: PathBuf,
    /// Bars in the file (after skipped rows), each given once to every
    /// strategy subscribed to its symbol.
    pub bars: u64,
    /// Bad rows skipped under `feed.on_bad_row = "skip"` (0 under `"stop"`,
    /// where a bad row stops the run instead).
    pub skipped_rows: u64,
    /// One run per selected strategy, in config order.
    pub strategies: Vec<StrategyRun>,
    /// Wall-clock time of the bar loop only (not loading or compiling).
    pub elapsed: Duration,
    /// Bars handed to a strategy, summed over the strategies: what the loop
    /// did (a bar of a symbol nobody trades costs nothing; a bar three
    /// strategies trade is three calls).
    pub strategy_bars: u64,
    /// Reading, compiling, checking and instantiating the strategies, before
    /// the loop (shown apart from the loop's time).
    pub load_time: Duration,
}

impl BacktestResult {
    /// Feed bars per second of loop time.
    pub fn bars_per_second(&self) -> f64 {
        self.bars as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    /// Strategy-bars ([`BacktestResult::strategy_bars`]) per second of loop
    /// time: the throughput figure, comparable between configs with
    /// different numbers of strategies and symbols.
    pub fn strategy_bars_per_second(&self) -> f64 {
        self.strategy_bars as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

/// One strategy in the loop.
pub(super) struct Runner {
    id: String,
    sha256: String,
    symbols: Vec<String>,
    /// Feed symbol index → the strategy's own index.
    symbol_map: Vec<Option<u32>>,
    instance: Option<StrategyInstance>,
    book: Book,
    rules: RiskRules,
    max_orders_per_bar: usize,
    equity: Vec<EquityPoint>,
    held_bars: u64,
    /// The first close of each of the strategy's symbols (buy-and-hold benchmark).
    first_closes: Vec<Option<f64>>,
    bars: u64,
    orders: u64,
    refused: BTreeMap<&'static str, u64>,
    error: Option<String>,
    halted: Option<String>,
}

/// The bars a backtest with these options replays (for a report drawn
/// after the run).
pub fn bars_of(config: &Config, options: &BacktestOptions) -> anyhow::Result<Vec<Bar>> {
    read_bars(config, &data_path(config, options)?).map(|(bars, _)| bars)
}

/// The CSV to replay: `--data`, else `[feed] path`.
pub(super) fn data_path(config: &Config, options: &BacktestOptions) -> anyhow::Result<PathBuf> {
    options
        .data
        .clone()
        .or_else(|| config.feed_path())
        .ok_or_else(|| {
            anyhow::anyhow!(
                "no data to backtest on: pass --data FILE.csv or set [feed] path in the config"
            )
        })
}

/// The bars of `data` under the config's `[feed]` (symbols, bad-row
/// policy), and how many bad rows were skipped.
pub(super) fn read_bars(
    config: &Config,
    data: &std::path::Path,
) -> anyhow::Result<(Vec<Bar>, u64)> {
    let skip = config.feed.on_bad_row == BadRowPolicy::Skip;
    let mut skipped_rows = 0u64;
    let bars = crate::feed::csv::read_all(data, &config.feed.symbols, skip, |bad| {
        skipped_rows += 1;
        tracing::warn!("{bad}; row skipped (feed.on_bad_row = \"skip\")");
    })
    .map_err(|bad| {
        // Skipping helps only with a data row, and only when it is not on
        // already; the file's and the header's errors say their own fix.
        if bad.is_data_row() && !skip {
            anyhow::anyhow!(
                "{bad}\n  hint: fix the row, or set [feed] on_bad_row = \"skip\" to skip bad rows"
            )
        } else {
            anyhow::anyhow!("{bad}")
        }
    })?;
    if bars.is_empty() {
        anyhow::bail!("{} has no bars", data.display());
    }
    Ok((bars, skipped_rows))
}

/// Loads every selected strategy, reads the data, runs, and returns the result.
pub fn run(config: &Config, options: &BacktestOptions) -> anyhow::Result<BacktestResult> {
    // The config's artefact cache: a second backtest of a build (a large
    // Python or JavaScript component above all) compiles nothing.
    let loader = crate::load::ArtifactCache::attach(Loader::foreground()?, config);
    run_with_loader(config, options, &loader)
}

/// [`run`] with a loader of the caller's (the benches pass one with an
/// artefact cache, so a large Python or JavaScript component is compiled
/// once, not per run).
pub fn run_with_loader(
    config: &Config,
    options: &BacktestOptions,
    loader: &Loader,
) -> anyhow::Result<BacktestResult> {
    let data = data_path(config, options)?;
    let selected: Vec<&StrategyConfig> = config
        .enabled_strategies()
        .filter(|s| options.only.is_empty() || options.only.contains(&s.id))
        .collect();
    if let Some(unknown) = options
        .only
        .iter()
        .find(|id| !config.enabled_strategies().any(|s| &s.id == *id))
    {
        anyhow::bail!(
            "no enabled strategy `{unknown}` in the config (enabled: {})",
            config
                .enabled_strategies()
                .map(|s| s.id.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    if selected.is_empty() {
        anyhow::bail!("the config has no enabled [[strategy]] to backtest");
    }

    let (bars, skipped_rows) = read_bars(config, &data)?;

    let load_started = Instant::now();
    let model = FillModel {
        commission: config.broker.commission,
        slippage_bps: config.broker.slippage_bps,
        tie: config.broker.bracket_tie.rule(),
    };
    let mut runners = selected
        .iter()
        .map(|s| load(loader, config, s, model))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let load_time = load_started.elapsed();

    let total = bars.len() as u64;
    let started = Instant::now();
    for (done, bar) in bars.iter().enumerate() {
        for runner in &mut runners {
            runner.step(bar);
        }
        if let Some(progress) = &options.progress
            && done % 4096 == 0
        {
            progress(done as u64, total);
        }
    }
    let elapsed = started.elapsed();
    if let Some(progress) = &options.progress {
        progress(total, total);
    }
    let last = bars.last().copied();
    let strategy_bars = runners.iter().map(|r| r.bars).sum();
    Ok(BacktestResult {
        data,
        bars: total,
        skipped_rows,
        strategies: runners.into_iter().map(|r| r.finish(last)).collect(),
        elapsed,
        strategy_bars,
        load_time,
    })
}

pub(super) fn load(
    loader: &Loader,
    config: &Config,
    strategy: &StrategyConfig,
    model: FillModel,
) -> anyhow::Result<Runner> {
    let checked = check(loader, config, strategy)?;
    runner_on(&checked, config, strategy, model)
}

/// A strategy's component through the whole load pipeline (read, verify,
/// compile or cache, type-check, describe, smoke test with its params).
pub(super) struct Checked {
    pub(super) pre: crate::contract::StrategyBindingsPre<crate::contract::HostState>,
    pub(super) sha256: String,
}

/// Loads `strategy`'s component as [`load`] does, without a runner.
pub(super) fn check(
    loader: &Loader,
    config: &Config,
    strategy: &StrategyConfig,
) -> anyhow::Result<Checked> {
    let id = strategy.id.as_str();
    let symbols = config.symbols_of(strategy).to_vec();
    let params = params_of(strategy)?;
    let limits = backtest_limits(config, strategy);
    let expected = config
        .verify_hashes()
        .then(|| strategy.sha256.clone())
        .flatten();
    let path = config.wasm_path(strategy);
    let outcome = loader.load_file(
        &path,
        LoadSpec {
            strategy_id: id,
            expected_sha256: expected.as_deref(),
            symbols: &symbols,
            params: &params,
            limits: &limits,
            recent_bars: &[],
            smoke: crate::load::SmokeSetup::new(
                config.broker.starting_cash,
                i64::try_from(config.feed.interval_ms).unwrap_or(i64::MAX),
            ),
        },
    );
    let candidate = outcome.result.map_err(|e| match e.stage {
        // A refused parameter is a config mistake: say where it is written.
        crate::Stage::Init => match config.param_error(id, &e.message) {
            Some(at) => anyhow::anyhow!("{at}"),
            None => anyhow::anyhow!("{e}"),
        },
        _ => anyhow::anyhow!("{e}"),
    })?;
    Ok(Checked {
        pre: candidate.pre,
        sha256: candidate.sha256,
    })
}

fn params_of(strategy: &StrategyConfig) -> anyhow::Result<Vec<crate::contract::Param>> {
    strategy
        .params()
        .map_err(|e| anyhow::anyhow!("strategy `{}`: {e}; fix [strategy.params]", strategy.id))
}

/// The strategy's limits in a backtest. Fuel is the deterministic CPU
/// bound; the wall-clock deadline is a live watchdog that a busy machine
/// could trip, which would make a backtest's results depend on the
/// machine's load.
fn backtest_limits(config: &Config, strategy: &StrategyConfig) -> crate::Limits {
    let mut limits = config.limits_of(strategy);
    limits.deadline = limits.deadline.max(BACKTEST_DEADLINE);
    limits
}

/// A runner of `strategy` (its params, symbols and limits) on a component
/// [`check`] passed: an instance, initialised, with its own book. A sweep
/// makes one per combination from one check: the params differ, the
/// component does not, and each skipped pipeline is instances not made and
/// unmapped (their TLB shootdowns kept two sweep jobs from scaling).
pub(super) fn runner_on(
    checked: &Checked,
    config: &Config,
    strategy: &StrategyConfig,
    model: FillModel,
) -> anyhow::Result<Runner> {
    let id = strategy.id.as_str();
    let symbols = config.symbols_of(strategy).to_vec();
    let params = params_of(strategy)?;
    let limits = backtest_limits(config, strategy);
    let mut instance = StrategyInstance::instantiate(&checked.pre, id, &limits)
        .map_err(|e| anyhow::anyhow!("strategy `{id}`: cannot instantiate: {e}"))?;
    instance.set_log_phase(crate::LogPhase::Live);
    instance
        .init(&symbols, &params)
        .map_err(|e| anyhow::anyhow!("strategy `{id}`: init trapped: {e}"))?
        .map_err(|e| match config.param_error(id, &e) {
            Some(at) => anyhow::anyhow!("{at}"),
            None => anyhow::anyhow!("strategy `{id}` refused its parameters: {e}"),
        })?;
    let symbol_map = crate::feed::subscription(&config.feed.symbols, &symbols);
    let names: Vec<Arc<str>> = symbols.iter().map(|s| Arc::from(s.as_str())).collect();
    let names_len = names.len();
    Ok(Runner {
        id: id.to_owned(),
        sha256: checked.sha256.clone(),
        symbols,
        symbol_map,
        instance: Some(instance),
        book: Book::new(names, config.broker.starting_cash, model),
        rules: config.risk_of(strategy),
        max_orders_per_bar: limits.max_orders_per_bar,
        equity: Vec::new(),
        held_bars: 0,
        first_closes: vec![None; names_len],
        bars: 0,
        orders: 0,
        refused: RiskRule::ALL.iter().map(|r| (r.as_str(), 0)).collect(),
        error: None,
        halted: None,
    })
}

impl Runner {
    pub(super) fn step(&mut self, bar: &Bar) {
        let Some(Some(local)) = self.symbol_map.get(bar.symbol as usize).copied() else {
            return;
        };
        let Some(instance) = self.instance.as_mut() else {
            return; // trapped earlier: the run stopped
        };
        let local_bar = Bar {
            symbol: local,
            ..*bar
        };
        let marked = self.book.on_bar(&self.rules, &local_bar);
        if let Some(reason) = marked.halted {
            tracing::warn!(strategy = %self.id, seq = bar.seq, "kill switch: {reason}");
            self.halted = Some(reason);
        }
        self.bars += 1;
        if let Some(first) = self.first_closes.get_mut(local as usize) {
            first.get_or_insert(bar.close);
        }
        let account = self.book.account();
        self.equity.push(EquityPoint {
            ts_ms: bar.ts_ms,
            bar: bar.seq,
            equity: account.equity(),
        });
        if self.book.position(local).quantity != 0.0 {
            self.held_bars += 1;
        }
        for fill in marked.fills {
            if let Err(error) = instance.on_fill(fill) {
                return self.trapped(bar, error);
            }
        }
        if let Err(error) = instance.on_order_updates(&marked.updates) {
            return self.trapped(bar, error);
        }
        let position = self.book.position(local);
        let orders = match instance.on_bar(local_bar, position) {
            Ok(orders) if orders.is_empty() => return,
            Ok(orders) => orders,
            Err(error) => return self.trapped(bar, error),
        };
        let (accepted, refusals) = self.book.route(
            &self.rules,
            orders,
            self.max_orders_per_bar,
            bar.ts_ms,
            bar.seq,
        );
        self.orders += accepted.len() as u64;
        for refusal in refusals {
            self.count_refusal(refusal.rule, bar, &refusal.reason);
        }
    }

    fn count_refusal(&mut self, rule: RiskRule, bar: &Bar, reason: &str) {
        let count = self.refused.entry(rule.as_str()).or_default();
        *count += 1;
        if *count <= 10 {
            tracing::warn!(strategy = %self.id, seq = bar.seq, rule = rule.as_str(), "order refused: {reason}");
        }
    }

    fn trapped(&mut self, bar: &Bar, error: crate::instance::CallError) {
        let message = format!(
            "trapped at bar {} ({}): {error}; hint: {}; results stop at that bar",
            bar.seq,
            crate::feed::format_timestamp(bar.ts_ms),
            error.hint()
        );
        tracing::error!(strategy = %self.id, "{message}");
        self.error = Some(message);
        self.book.cancel_pending();
        self.instance = None;
    }

    pub(super) fn finish(self, last: Option<Bar>) -> StrategyRun {
        let account = self.book.account();
        let mut trades = self.book.ledger().closed().to_vec();
        let (ts, bar) = last.map_or((0, 0), |b| (b.ts_ms, b.seq));
        let open = self
            .book
            .ledger()
            .open_marked(account.last_prices(), ts, bar);
        let open_trades = open.len();
        trades.extend(open);
        let closed = &trades[..trades.len() - open_trades];
        let closes: Vec<Option<(f64, f64)>> = self
            .first_closes
            .iter()
            .zip(account.last_prices())
            .map(|(first, last)| first.map(|first| (first, *last)))
            .collect();
        let stats = Stats::compute(RunFigures {
            start_equity: account.starting_cash(),
            final_equity: account.equity(),
            curve: &self.equity,
            closed,
            held_bars: self.held_bars,
            bars: self.bars,
            closes: &closes,
        });
        StrategyRun {
            id: self.id,
            sha256: self.sha256,
            symbols: self.symbols,
            orders: self.orders,
            fills: account.fill_count(),
            trades,
            open_trades,
            equity: self.equity,
            stats,
            refused: self.refused,
            error: self.error,
            halted: self.halted,
        }
    }
}
