//! Subcommands of `runtime`. Each module is one subcommand.

mod build;
mod check;
mod hash;
mod live;
mod pin;

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
    /// Set each strategy's `sha256` in a config to the hash of its file (after a rebuild).
    Pin {
        #[arg(long)]
        config: PathBuf,
        /// Only this strategy id.
        #[arg(long)]
        strategy: Option<String>,
    },
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
        Command::Pin { config, strategy } => pin::run(&config, strategy.as_deref()),
        Command::Check {
            file,
            params,
            symbols,
        } => check::run(&file, &params, symbols),
    }
}
