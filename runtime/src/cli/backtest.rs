//! `runtime backtest`: the config's strategies over a CSV, with the live
//! broker and risk rules.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use sandbar_runtime::backtest::{self, BacktestOptions, RankBy, SweepOptions, overrides};
use sandbar_runtime::config::Config;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

#[derive(Debug, clap::Args)]
pub struct BacktestArgs {
    /// The config: strategies, `[broker]`, `[risk]`, `[limits]`, `[feed] symbols` (and path).
    #[arg(long)]
    config: PathBuf,
    /// The CSV to replay [default: the config's `[feed] path`].
    #[arg(long)]
    data: Option<PathBuf>,
    /// Where to write the outputs.
    #[arg(long, default_value = "backtest-out")]
    out: PathBuf,
    /// Only this strategy id (repeatable) [default: every enabled one].
    #[arg(long = "strategy", value_name = "ID")]
    strategies: Vec<String>,
    /// Print summary.json instead of the table.
    #[arg(long)]
    json: bool,
    /// Set one parameter of one strategy, over its `[strategy.params]`
    /// (repeatable): `ID.KEY=VALUE`, the value read as TOML.
    #[arg(long = "param", value_name = "ID.KEY=VALUE")]
    params: Vec<String>,
    /// Sweep one parameter of one strategy (repeatable: the grid of every
    /// combination): `ID.KEY=A..B:STEP` (inclusive) or `ID.KEY=v1,v2,...`.
    /// Writes sweep.csv to --out, ranked by --rank-by.
    #[arg(long = "sweep", value_name = "ID.KEY=VALUES")]
    sweeps: Vec<String>,
    /// Threads running sweep combinations [default: one per core].
    #[arg(long)]
    jobs: Option<usize>,
    /// The metric a sweep is ranked by: sharpe, sortino, calmar, return,
    /// cagr, profit_factor, win_rate, drawdown (lowest first) or equity.
    #[arg(long, default_value = "sharpe")]
    rank_by: String,
    /// With --sweep: choose the best combination on each window of N
    /// training bars and run it on the M bars after (`train=N,test=M[,step=S]`;
    /// step defaults to M). Writes walk_forward.csv and walk_forward_equity.csv.
    #[arg(long, value_name = "train=N,test=M[,step=S]")]
    walk_forward: Option<String>,
    /// Also write one self-contained HTML report (charts embedded, works
    /// offline): equity, drawdown and trades on the price per strategy; for
    /// a sweep, the sortable table and a heatmap.
    #[arg(long, value_name = "FILE.html")]
    report: Option<PathBuf>,
    /// The sweep report's heatmap: two swept parameters `X,Y` [default:
    /// the first two --sweep axes].
    #[arg(long, value_name = "X,Y")]
    heatmap: Option<String>,
    /// Sweep rows shown in the terminal (sweep.csv has them all).
    #[arg(long, default_value_t = 10)]
    top: usize,
}

impl BacktestArgs {
    pub fn execute(self) -> anyhow::Result<ExitCode> {
        run(self)
    }
}

/// Runs at least this many bars before a progress bar is worth drawing.
const PROGRESS_MIN_BARS: u64 = 200_000;

fn run(args: BacktestArgs) -> anyhow::Result<ExitCode> {
    let mut config = Config::from_file(&args.config).map_err(|e| anyhow::anyhow!("{e}"))?;
    let overrides = args
        .params
        .iter()
        .map(|p| overrides::parse_override(p))
        .collect::<Result<Vec<_>, _>>()
        .map_err(anyhow::Error::msg)?;
    overrides::apply(&mut config, &overrides).map_err(anyhow::Error::msg)?;
    if !args.sweeps.is_empty() {
        return sweep(&config, args);
    }
    if args.walk_forward.is_some() {
        anyhow::bail!(
            "--walk-forward chooses among --sweep combinations: add at least one --sweep ID.KEY=VALUES"
        );
    }
    if args.heatmap.is_some() {
        anyhow::bail!(
            "--heatmap picks two swept parameters of a sweep's report: add --sweep ID.KEY=VALUES for each, and --report FILE.html"
        );
    }
    if let Some(report) = &args.report {
        check_report_path(report)?;
    }
    let bar = (std::io::stderr().is_terminal() && !args.json).then(|| {
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
        bar.set_style(
            ProgressStyle::with_template("{bar:40} {pos}/{len} bars, {per_sec}, eta {eta}")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        bar
    });
    let progress = bar.clone().map(|bar| {
        Arc::new(move |done: u64, total: u64| {
            if total >= PROGRESS_MIN_BARS {
                bar.set_length(total);
                bar.set_position(done);
            }
        }) as Arc<dyn Fn(u64, u64) + Send + Sync>
    });
    let options = BacktestOptions {
        data: args.data,
        only: args.strategies,
        progress,
    };
    let result = backtest::run(&config, &options)?;
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    let mut written = backtest::write_outputs(&result, &args.out)?;
    if let Some(path) = &args.report {
        let bars = backtest::bars_of(&config, &options)?;
        let html = backtest::backtest_report(&result, &bars, &config.feed.symbols)?;
        write_report(path, &html)?;
        written.push(path.clone());
    }
    if args.json {
        print!("{}", backtest::summary_json(&result)?);
    } else {
        print!("{}", backtest::render_table(&result));
        let names: Vec<String> = written.iter().map(|p| p.display().to_string()).collect();
        println!("wrote {}", names.join(", "));
    }
    let failed = result.strategies.iter().any(|s| s.error.is_some());
    Ok(if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// `--sweep`: the grid on every core, sweep.csv, the best rows.
fn sweep(config: &Config, args: BacktestArgs) -> anyhow::Result<ExitCode> {
    let axes = args
        .sweeps
        .iter()
        .map(|s| overrides::parse_sweep(s))
        .collect::<Result<Vec<_>, _>>()
        .map_err(anyhow::Error::msg)?;
    let rank_by = RankBy::parse(&args.rank_by).map_err(anyhow::Error::msg)?;
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let jobs = args.jobs.unwrap_or(cores);
    if jobs == 0 {
        anyhow::bail!("--jobs 0 runs nothing; give at least 1");
    }
    if jobs > MAX_JOBS {
        anyhow::bail!(
            "--jobs {jobs}: at most {MAX_JOBS} threads; this machine has {cores} cores, and the default (one per core) is the fastest"
        );
    }
    // Mistakes found now rather than after every combination has run.
    if let Some(swept) = axes.first().map(|a| a.strategy.as_str())
        && let Some(other) = args.strategies.iter().find(|s| s.as_str() != swept)
    {
        anyhow::bail!(
            "--strategy {other} with --sweep: a sweep runs the strategy its axes name (`{swept}`); drop --strategy, or sweep {other}.KEY=..."
        );
    }
    if args.json {
        anyhow::bail!(
            "--json prints a plain backtest's summary.json; a sweep writes sweep.csv (and walk_forward.csv with --walk-forward): drop --json"
        );
    }
    if args.walk_forward.is_some() && (args.report.is_some() || args.heatmap.is_some()) {
        let flag = if args.report.is_some() {
            "--report"
        } else {
            "--heatmap"
        };
        anyhow::bail!(
            "{flag}: a report draws a backtest or a sweep, not a walk-forward (its results are walk_forward.csv and walk_forward_equity.csv): drop {flag}, or drop --walk-forward for the sweep's report"
        );
    }
    if args.heatmap.is_some() && args.report.is_none() {
        anyhow::bail!(
            "--heatmap chooses the axes of the sweep report's heatmap: add --report FILE.html"
        );
    }
    let keys: Vec<String> = axes.iter().map(|a| a.key.clone()).collect();
    let heatmap = heatmap_axes(args.heatmap.as_deref(), &keys)?;
    if let Some(report) = &args.report {
        check_report_path(report)?;
    }
    // Ctrl-C stops starting combinations; the finished ones are kept and written.
    let stop = Arc::new(AtomicBool::new(false));
    signal_hook::flag::register(signal_hook::consts::SIGINT, Arc::clone(&stop))?;
    let bar = std::io::stderr().is_terminal().then(|| {
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
        bar.set_style(
            ProgressStyle::with_template("{bar:40} {pos}/{len} combinations, eta {eta}")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        bar
    });
    let progress = bar.clone().map(|bar| {
        Arc::new(move |done: u64, total: u64| {
            bar.set_length(total);
            bar.set_position(done);
        }) as Arc<dyn Fn(u64, u64) + Send + Sync>
    });
    let options = BacktestOptions {
        data: args.data,
        only: Vec::new(),
        progress: None,
    };
    let sweep = SweepOptions {
        axes,
        jobs,
        rank_by,
        stop,
        progress,
    };
    if let Some(spec) = &args.walk_forward {
        let spec = backtest::WalkForwardSpec::parse(spec).map_err(anyhow::Error::msg)?;
        let result = backtest::run_walk_forward(config, &options, &sweep, spec)?;
        if let Some(bar) = bar {
            bar.finish_and_clear();
        }
        let written = backtest::write_walk_forward(&result, &args.out)?;
        print!("{}", backtest::render_walk_forward(&result));
        let names: Vec<String> = written.iter().map(|p| p.display().to_string()).collect();
        println!("wrote {}", names.join(", "));
        return Ok(if result.stopped {
            interrupted()
        } else if result.out_of_sample.is_none() {
            ExitCode::FAILURE
        } else {
            ExitCode::SUCCESS
        });
    }
    let result = backtest::run_sweep(config, &options, &sweep)?;
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    let path = backtest::write_sweep(&result, &args.out)?;
    print!("{}", backtest::render_sweep(&result, args.top));
    println!("wrote {}", path.display());
    if let Some(report) = &args.report {
        write_report(report, &backtest::sweep_report(&result, heatmap)?)?;
        println!("wrote {}", report.display());
    }
    Ok(if result.stopped {
        interrupted()
    } else if result.rows.iter().all(|r| r.run.is_err()) {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// Most threads `--jobs` may ask for.
const MAX_JOBS: usize = 1024;

/// The exit status of a run Ctrl-C stopped (what it has is written): 128
/// plus SIGINT, as a shell reports a process the signal ended, so a script
/// does not take the partial results for a finished run.
fn interrupted() -> ExitCode {
    ExitCode::from(130)
}

/// Refuses a `--report` path that cannot be written, before anything runs.
fn check_report_path(path: &std::path::Path) -> anyhow::Result<()> {
    if path.is_dir() {
        anyhow::bail!(
            "--report {}: is a directory; give the file to write, e.g. --report {}",
            path.display(),
            path.join("report.html").display()
        );
    }
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty())
        && dir.exists()
        && !dir.is_dir()
    {
        anyhow::bail!(
            "--report {}: {} is a file, not a directory; give a path in a directory",
            path.display(),
            dir.display()
        );
    }
    Ok(())
}

/// The heatmap's two axes as indices into the swept keys: `X,Y` by name,
/// else the first two (none with a single axis).
fn heatmap_axes(spec: Option<&str>, keys: &[String]) -> anyhow::Result<Option<(usize, usize)>> {
    let Some(spec) = spec else {
        return Ok((keys.len() >= 2).then_some((0, 1)));
    };
    let index = |name: &str| {
        keys.iter().position(|k| k == name.trim()).ok_or_else(|| {
            anyhow::anyhow!(
                "--heatmap {spec}: `{}` is not a swept parameter (swept: {})",
                name.trim(),
                keys.join(", ")
            )
        })
    };
    let (x, y) = spec
        .split_once(',')
        .ok_or_else(|| anyhow::anyhow!("--heatmap {spec}: write two swept parameters, X,Y"))?;
    let (x, y) = (index(x)?, index(y)?);
    if x == y {
        anyhow::bail!("--heatmap {spec}: give two different parameters");
    }
    Ok(Some((x, y)))
}

/// Writes a report atomically (a reader never sees half of it), creating
/// its directory.
fn write_report(path: &std::path::Path, html: &str) -> anyhow::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .map_err(|e| anyhow::anyhow!("cannot create {}: {e}", dir.display()))?;
    }
    sandbar_runtime::build::write_atomically(path, html.as_bytes())
}
