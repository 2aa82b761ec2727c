use anyhow::Context;
use sandbar_runtime::config::{Config, EMBEDDED_DEFAULT_TOML};
use sandbar_runtime::live::{FeedMode, LiveOptions, Runtime, StrategySummary};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// How often a status line per strategy is logged.
const STATUS_EVERY: Duration = Duration::from_secs(5);

pub struct LiveArgs {
    pub config: Option<PathBuf>,
    pub journal: Option<PathBuf>,
    pub bars: Option<u64>,
    pub print_default_config: bool,
}

pub fn run(args: LiveArgs) -> anyhow::Result<ExitCode> {
    if args.print_default_config {
        print!("{EMBEDDED_DEFAULT_TOML}");
        return Ok(ExitCode::SUCCESS);
    }
    let config = match &args.config {
        Some(path) => Config::from_file(path).map_err(|e| anyhow::anyhow!("{e}"))?,
        None => {
            tracing::info!(
                "no --config: using the embedded defaults (`runtime live --print-default-config` shows them)"
            );
            Config::embedded_default()
        }
    };
    tracing::info!(
        profile = %config.profile,
        strategies = config.strategies.len(),
        dir = %config.strategies_dir().display(),
        "starting"
    );
    let options = LiveOptions {
        config_path: args.config.clone(),
        journal_dir: args.journal.clone(),
        feed: FeedMode::Config {
            max_bars: args.bars,
        },
        watch: true,
    };
    let runtime = Runtime::start(config, options)?;
    let interrupted = Arc::new(AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register(signal, Arc::clone(&interrupted))
            .with_context(|| format!("cannot handle signal {signal}"))?;
    }
    let mut last_status = Instant::now();
    while !interrupted.load(Ordering::Relaxed) && !runtime.feed_finished() {
        std::thread::sleep(Duration::from_millis(50));
        if last_status.elapsed() >= STATUS_EVERY {
            log_status(&runtime);
            last_status = Instant::now();
        }
    }
    if args.bars.is_some() {
        // Let the loop finish the bars the feed already handed over.
        let fed = args.bars.unwrap_or(0);
        runtime.wait_for_bars(fed, Duration::from_secs(30));
    }
    tracing::info!("shutting down");
    let summaries = runtime.stop();
    print_summary(&summaries);
    Ok(ExitCode::SUCCESS)
}

fn log_status(runtime: &Runtime) {
    let status = runtime.status();
    for s in &status.strategies {
        tracing::info!(
            strategy = %s.id,
            state = s.state,
            version = s.version,
            bars = s.bars,
            orders = s.orders,
            fills = s.fills,
            equity = format!("{:.2}", s.equity),
            "status"
        );
    }
}

fn print_summary(summaries: &[StrategySummary]) {
    println!(
        "{:<20} {:>4} {:>10} {:>8} {:>7} {:>14} {:>12} {:>10}  sha256",
        "strategy", "ver", "bars", "orders", "fills", "equity", "realised", "fees"
    );
    for s in summaries {
        println!(
            "{:<20} {:>4} {:>10} {:>8} {:>7} {:>14.2} {:>12.2} {:>10.2}  {}{}",
            s.strategy,
            s.version,
            s.bars,
            s.orders,
            s.fills,
            s.equity,
            s.realised_pnl,
            s.commission,
            &s.sha256[..12.min(s.sha256.len())],
            if s.retired { "  (retired)" } else { "" }
        );
    }
}
