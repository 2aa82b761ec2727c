//! Subcommands of `runtime`. Each module is one subcommand (the control
//! actions share `control`): its arguments, each flag declared once with
//! clap derive, and its `execute`. This file only lists them and dispatches.

mod backtest;
mod build;
mod cache;
mod check;
mod connect;
mod control;
mod deploy;
mod diff;
mod events;
mod fleet;
mod hash;
mod live;
mod new;
mod pin;
mod publish;
mod seal;
mod status;
mod swap;

use clap::{Parser, Subcommand};
use sandbar_runtime::Action;
use sandbar_runtime::logging::LogFormat;
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
    /// Start a strategy crate anywhere on disk (its own workspace, the SDK, tests, a config snippet).
    New(new::NewArgs),
    /// Build strategy crates into Wasm components (checked before they are written).
    Build(build::BuildArgs),
    /// Print the SHA-256 of files, ready to paste into the config.
    Hash(hash::HashArgs),
    /// Run strategies on a live feed with hot reload, until Ctrl-C or SIGTERM.
    Live(live::LiveArgs),
    /// Run the config's strategies over a CSV file with the live broker and risk rules; write trades.csv, equity.csv, summary.json.
    Backtest(backtest::BacktestArgs),
    /// Set each strategy's `sha256` in a config to the hash of its file (after a rebuild).
    Pin(pin::PinArgs),
    /// Show what a running `runtime live` is doing: strategies, versions, state, PnL, latency.
    Status(status::StatusArgs),
    /// Follow a running instance's events (reloads, rollbacks, traps, state changes), one line each.
    Events(events::EventsArgs),
    /// Reload a strategy of a running instance from its file now.
    Reload(control::ControlArgs),
    /// Roll a strategy of a running instance back to an earlier version.
    Rollback(control::RollbackArgs),
    /// Pause a strategy: it gets no bars until resumed (then catches up on the ones it missed).
    Pause(control::ControlArgs),
    /// Resume a paused strategy.
    Resume(control::ControlArgs),
    /// Kill switch: cancel a strategy's waiting orders and refuse new ones (it still gets bars).
    Halt(control::ControlArgs),
    /// Lift the kill switch of a halted strategy.
    Unhalt(control::ControlArgs),
    /// Seal components built by another tool so partial copies of them are refused.
    Seal(seal::SealArgs),
    /// Validate, type-check, instantiate and smoke-test a component.
    Check(check::CheckArgs),
    /// Inspect the artefact cache of compiled components: ls, verify, clear.
    Cache(cache::CacheArgs),
    /// Deploy a build: `deploy ID FILE [--shadow]` to a running instance (live by its swap policy, or as the shadow candidate), `deploy ID --sha256 H [--nodes ...]` to the fleet.
    Deploy(deploy::DeployArgs),
    /// Compare a strategy's live version with its shadow candidate (orders, agreement, PnL, latency, fuel).
    Diff(diff::DiffArgs),
    /// Make a strategy's shadow candidate its live version (it keeps its state; the live account stays).
    Promote(control::ControlArgs),
    /// Drop a strategy's shadow candidate; the live version keeps running.
    Discard(control::ControlArgs),
    /// Force (--now) or cancel (--cancel) a swap waiting for its policy.
    Swap(swap::SwapArgs),
    /// Put components into the fleet's artefact store (NATS Object Store), each under its SHA-256.
    Publish(publish::PublishArgs),
    /// Remove a deployment from the fleet: every node retires it.
    Undeploy(fleet::UndeployArgs),
    /// The fleet on NATS: `runtime fleet status`.
    Fleet(fleet::FleetCommandArgs),
}

impl Command {
    pub fn execute(self) -> anyhow::Result<ExitCode> {
        match self {
            Command::New(args) => args.execute(),
            Command::Build(args) => args.execute(),
            Command::Hash(args) => args.execute(),
            Command::Live(args) => args.execute(),
            Command::Backtest(args) => args.execute(),
            Command::Pin(args) => args.execute(),
            Command::Status(args) => args.execute(),
            Command::Events(args) => args.execute(),
            Command::Reload(args) => args.execute(Action::Reload),
            Command::Rollback(args) => args.execute(),
            Command::Pause(args) => args.execute(Action::Pause),
            Command::Resume(args) => args.execute(Action::Resume),
            Command::Halt(args) => args.execute(Action::Halt),
            Command::Unhalt(args) => args.execute(Action::Unhalt),
            Command::Seal(args) => seal::run(&args),
            Command::Check(args) => args.execute(),
            Command::Cache(args) => args.execute(),
            Command::Deploy(args) => args.execute(),
            Command::Diff(args) => args.execute(),
            Command::Promote(args) => args.execute(Action::Promote),
            Command::Discard(args) => args.execute(Action::Discard),
            Command::Swap(args) => args.execute(),
            Command::Publish(args) => args.execute(),
            Command::Undeploy(args) => args.execute(),
            Command::Fleet(args) => args.execute(),
        }
    }
}
