//! `runtime backtest`: the config's strategies over a CSV, with the live
//! broker and risk rules.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use sandbar_runtime::backtest::{self, BacktestOptions};
use sandbar_runtime::config::Config;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

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
}

impl BacktestArgs {
    pub fn execute(self) -> anyhow::Result<ExitCode> {
        run(self)
    }
}

/// Runs at least this many bars before a progress bar is worth drawing.
const PROGRESS_MIN_BARS: u64 = 200_000;

fn run(args: BacktestArgs) -> anyhow::Result<ExitCode> {
    let config = Config::from_file(&args.config).map_err(|e| anyhow::anyhow!("{e}"))?;
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
    let written = backtest::write_outputs(&result, &args.out)?;
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
