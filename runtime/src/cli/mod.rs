//! Subcommands of `runtime`. Each module is one subcommand.

mod backtest;
mod build;
mod check;
mod connect;
mod control;
mod hash;
mod live;
mod pin;
mod seal;
mod status;

use clap::{Parser, Subcommand};
use sandbar_runtime::logging::LogFormat;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, Parser)]
#[command(
    name = "runtime",
    version,
    about = "Sandbar: a WebAssembly-sandboxed strategy runtime"
)]
pub struct Cli {
    /// Log format on stderr.
    #[arg(long, global = true, value_enum, default_value = "pretty")]
    pub log_format: LogFormat,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Build strategy crates into Wasm components.
    Build {
        /// Strategy crate directories (for example strategies/sma-cross).
        dirs: Vec<PathBuf>,
        /// Build every crate under strategies/.
        #[arg(long, conflicts_with = "dirs")]
        all: bool,
        /// Where to write the components.
        #[arg(long, default_value = "strategies/dist")]
        out: PathBuf,
    },
    /// Print the SHA-256 of files, ready to paste into the config.
    Hash {
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Run strategies on a live feed with hot reload, until Ctrl-C or SIGTERM.
    Live {
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
    },
    /// Run the config's strategies over a CSV file with the live broker and risk rules; write trades.csv, equity.csv, summary.json.
    Backtest {
        /// The config: strategies, [broker], [risk], [limits], [feed] symbols (and path).
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
    },
    /// Set each strategy's `sha256` in a config to the hash of its file (after a rebuild).
    Pin {
        #[arg(long)]
        config: PathBuf,
        /// Only this strategy id.
        #[arg(long)]
        strategy: Option<String>,
    },
    /// Show what a running `runtime live` is doing: strategies, versions, state, PnL, latency.
    Status {
        /// Only this strategy.
        id: Option<String>,
        #[command(flatten)]
        ops: connect::OpsArgs,
    },
    /// Follow a running instance's events (reloads, rollbacks, traps, state changes), one line each.
    Events {
        /// Only this strategy's events.
        #[arg(long)]
        strategy: Option<String>,
        #[command(flatten)]
        ops: connect::OpsArgs,
    },
    /// Reload a strategy of a running instance from its file now.
    Reload {
        id: String,
        #[command(flatten)]
        ops: connect::OpsArgs,
    },
    /// Roll a strategy of a running instance back to an earlier version.
    Rollback {
        id: String,
        /// Versions to go back [default: 1].
        #[arg(long, conflicts_with = "to_version")]
        steps: Option<usize>,
        /// The version to go back to (`runtime status` lists those kept).
        #[arg(long)]
        to_version: Option<u64>,
        #[command(flatten)]
        ops: connect::OpsArgs,
    },
    /// Pause a strategy: it gets no bars until resumed (then catches up on the ones it missed).
    Pause {
        id: String,
        #[command(flatten)]
        ops: connect::OpsArgs,
    },
    /// Resume a paused strategy.
    Resume {
        id: String,
        #[command(flatten)]
        ops: connect::OpsArgs,
    },
    /// Kill switch: cancel a strategy's waiting orders and refuse new ones (it still gets bars).
    Halt {
        id: String,
        #[command(flatten)]
        ops: connect::OpsArgs,
    },
    /// Lift the kill switch of a halted strategy.
    Unhalt {
        id: String,
        #[command(flatten)]
        ops: connect::OpsArgs,
    },
    /// Seal components built by another tool so partial copies of them are refused.
    Seal(seal::SealArgs),
    /// Validate, type-check, instantiate and smoke-test a component.
    Check {
        file: PathBuf,
        /// A parameter for init, as key=value (repeatable).
        #[arg(long = "param", value_name = "KEY=VALUE")]
        params: Vec<String>,
        /// Symbols to initialise the strategy with.
        #[arg(long = "symbol", value_name = "SYMBOL")]
        symbols: Vec<String>,
    },
}

pub fn run(command: Command) -> anyhow::Result<ExitCode> {
    match command {
        Command::Build { dirs, all, out } => build::run(dirs, all, out),
        Command::Hash { files } => hash::run(&files),
        Command::Live {
            config,
            journal,
            bars,
            print_default_config,
        } => live::run(live::LiveArgs {
            config,
            journal,
            bars,
            print_default_config,
        }),
        Command::Backtest {
            config,
            data,
            out,
            strategies,
            json,
        } => backtest::run(backtest::BacktestArgs {
            config,
            data,
            out,
            strategies,
            json,
        }),
        Command::Seal(args) => seal::run(&args),
        Command::Pin { config, strategy } => pin::run(&config, strategy.as_deref()),
        Command::Check {
            file,
            params,
            symbols,
        } => check::run(&file, &params, symbols),
        Command::Status { id, ops } => status::status(id.as_deref(), &ops),
        Command::Events { strategy, ops } => status::events(strategy.as_deref(), &ops),
        Command::Reload { id, ops } => control::run(&id, control::Action::Reload, &ops),
        Command::Rollback {
            id,
            steps,
            to_version,
            ops,
        } => control::run(&id, control::Action::Rollback { steps, to_version }, &ops),
        Command::Pause { id, ops } => control::run(&id, control::Action::Pause, &ops),
        Command::Resume { id, ops } => control::run(&id, control::Action::Resume, &ops),
        Command::Halt { id, ops } => control::run(&id, control::Action::Halt, &ops),
        Command::Unhalt { id, ops } => control::run(&id, control::Action::Unhalt, &ops),
    }
}
