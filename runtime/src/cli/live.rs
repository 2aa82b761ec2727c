//! `runtime live`: strategies on a live feed with hot reload and the ops API.

use anyhow::Context;
use sandbar_runtime::config::{Config, EMBEDDED_DEFAULT_TOML, Profile};
use sandbar_runtime::fleet::NodeAgent;
use sandbar_runtime::live::{FeedMode, LiveOptions, LoopLag, Runtime, StrategySummary};
use sandbar_runtime::ops::{OpsServer, OpsSettings};
use sandbar_runtime::{ArtifactCache, Loader};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// How often a status line per strategy is logged.
const STATUS_EVERY: Duration = Duration::from_secs(5);

#[derive(Debug, clap::Args)]
pub struct LiveArgs {
    /// The config file (watched for edits); without it, the embedded demo defaults.
    #[arg(long)]
    config: Option<PathBuf>,
    /// Write orders, fills and events as JSON lines into this directory.
    #[arg(long)]
    journal: Option<PathBuf>,
    /// Stop after this many bars (all symbols).
    #[arg(long)]
    bars: Option<u64>,
    /// Print the embedded default config and exit.
    #[arg(long)]
    print_default_config: bool,
}

impl LiveArgs {
    pub fn execute(self) -> anyhow::Result<ExitCode> {
        run(self)
    }
}

fn run(args: LiveArgs) -> anyhow::Result<ExitCode> {
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
        rescan: true,
    };
    // Resolve the ops settings (token variables) before loading anything,
    // so a missing token fails fast.
    let ops_settings = if config.ops_enabled() {
        let hot_reload = config.hot_reload.enabled && options.watch;
        Some(OpsSettings::from_config(
            &config,
            args.config.as_deref(),
            hot_reload,
        )?)
    } else {
        None
    };
    let prod = config.profile == Profile::Prod;
    let loader = Arc::new(loader_for(&config)?);
    // With `[fleet]`, the fleet's deployments run beside the local ones.
    let (runtime, fleet) = if config.fleet.is_some() {
        let (runtime, agent) = NodeAgent::start_runtime(config.clone(), options, loader)?;
        (runtime, Some(agent))
    } else {
        (
            Runtime::start_with_loader(config.clone(), options, loader)?,
            None,
        )
    };
    let ops = match ops_settings.map(|s| OpsServer::start(runtime.handle(), s)) {
        None => None,
        Some(Ok(server)) => Some(server),
        // In dev a second instance on the same port keeps trading without
        // the API; prod refuses to run unobservable.
        Some(Err(e)) if e.in_use && !prod => {
            tracing::warn!("{e}\n  (running without the ops API)");
            None
        }
        Some(Err(e)) => {
            drop(fleet);
            runtime.stop();
            return Err(e.into());
        }
    };
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
    if let Some(ops) = ops {
        ops.stop();
    }
    if let Some(fleet) = fleet {
        fleet.stop();
    }
    let feed_error = runtime.feed_error();
    let report = runtime.stop_with_report();
    print_summary(&report.strategies);
    print_loop_lag(&report.loop_lag);
    if let Some(error) = feed_error {
        eprintln!("error: the feed stopped early: {error}");
        return Ok(ExitCode::FAILURE);
    }
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
            trades = s.trades,
            equity = format!("{:.2}", s.equity),
            pnl = format!("{:+.2}", s.realised_pnl + s.unrealised_pnl),
            refused = s.refused.values().sum::<u64>(),
            "status"
        );
    }
}

/// How far the loop fell behind its feed over the run. On stderr: stdout is
/// the table, one row per strategy.
fn print_loop_lag(lag: &LoopLag) {
    eprintln!(
        "bar loop lag (feed delivery to processing): p50 {:.1} us, p99 {:.1} us, max {:.1} us over {} bars; {} bar(s) left queued",
        lag.age_us.p50, lag.age_us.p99, lag.age_us.max, lag.age_us.samples, lag.bars_queued
    );
}

fn print_summary(summaries: &[StrategySummary]) {
    println!(
        "{:<18} {:>4} {:>8} {:>7} {:>6} {:>6} {:>13} {:>11} {:>11} {:>9} {:>7} {:>12} {:>12}  {:<11} sha256",
        "strategy",
        "ver",
        "bars",
        "orders",
        "fills",
        "trades",
        "equity",
        "realised",
        "unrealised",
        "fees",
        "refused",
        "call_p99_us",
        "decide_p99us",
        "state"
    );
    for s in summaries {
        println!(
            "{:<18} {:>4} {:>8} {:>7} {:>6} {:>6} {:>13.2} {:>+11.2} {:>+11.2} {:>9.2} {:>7} {:>12.1} {:>12.1}  {:<11} {}{}",
            s.strategy,
            s.version,
            s.bars,
            s.orders,
            s.fills,
            s.trades,
            s.equity,
            s.realised_pnl,
            s.unrealised_pnl,
            s.commission,
            s.refused,
            s.call_us.p99,
            s.decision_us.p99,
            s.state_name(),
            &s.sha256[..12.min(s.sha256.len())],
            if s.retired { "  (retired)" } else { "" }
        );
    }
}

/// The loader with the config's artefact cache (`runtime.cache_dir`): a
/// restart loads compiled code instead of compiling.
fn loader_for(config: &sandbar_runtime::config::Config) -> anyhow::Result<Loader> {
    Ok(ArtifactCache::attach(Loader::new()?, config))
}
