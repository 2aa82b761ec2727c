//! The control plane: one thread that runs the reload pipeline for whatever
//! the watcher, the API or the bar loop (through the event thread) asks, and
//! publishes new generations. Nothing here ever blocks the bar loop:
//! publishing is an `ArcSwap::store`.
//!
//! One owner per concern:
//! - `reload.rs`: load from file, rebuild from the cached component, warm-up;
//! - `pipeline.rs`: a thread per file or API load runs its pipeline (compile,
//!   smoke test), so a load never blocks other commands;
//! - `versions.rs`: [`VersionHistory`], the one record of versions;
//! - `publish.rs`: generation, slot, roster; retire;
//! - `rollback.rs`: going back in the history;
//! - `traps.rs`: trap streaks, rebuild, rollback or quarantine; failed handoffs;
//! - `files.rs`: file stamps, the rescan, config edits applied as a diff;
//! - `retry.rs`: loads whose read failed for a transient reason, retried
//!   with backoff;
//! - `disk.rs`: each strategy's file as last read, beside the running version;
//! - `run_states.rs`: pause, resume, halt, un-halt (called from any thread);
//! - `candidate.rs`: shadow candidates (deploy, promote, discard, auto-promotion);
//! - `swap_policy.rs`: when a published generation takes over (next bar,
//!   when flat, in a window), waiting swaps, their timeout; the hook other
//!   reload kinds call (`request_swap`).
//! - `tier_up.rs`: a build live on baseline code, compiled by Cranelift and
//!   published again on the optimised code (`hot_reload.tiering = "auto"`).

mod candidate;
mod disk;
mod files;
mod fleet;
mod pipeline;
mod publish;
mod reload;
mod retry;
#[cfg(test)]
mod retry_live_test;
mod rollback;
mod run_states;
#[cfg(test)]
mod startup_race_test;
mod swap_policy;
mod tier_up;
mod traps;
mod versions;

pub(crate) use disk::DiskFile;
pub use disk::DiskStatus;
pub(crate) use fleet::merge as merge_fleet;
pub(crate) use pipeline::FinishedLoad;
pub(crate) use run_states::set_state;
pub(crate) use tier_up::TierUpDone;
pub use versions::VersionEntry;
pub(crate) use versions::VersionHistory;

use super::command::ControlCommand;
use super::event_sink::EventSink;
use super::events::{Outcome, ReloadEvent, Trigger};
use super::generation::{Recipe, Roster, StrategySlot};
use super::recent_bars::SharedRecentBars;
use super::shared::{Shared, lock};
use super::watcher::Watcher;
use crate::config::{self, Config, StrategyConfig};
use crate::contract::Bar;
use crate::load::Loader;
use crate::refusal::Refusal;
use arc_swap::ArcSwap;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

/// How often files are re-checked, in case an event was missed.
const RESCAN_INTERVAL: Duration = Duration::from_secs(1);

/// A running strategy as the control plane knows it.
struct SlotState {
    slot: Arc<StrategySlot>,
    config: StrategyConfig,
}

pub(crate) struct ControlPlane {
    loader: Arc<Loader>,
    config: Config,
    slots: BTreeMap<String, SlotState>,
    roster: Arc<ArcSwap<Roster>>,
    recent_bars: Arc<SharedRecentBars>,
    sink: Arc<EventSink>,
    shared: Arc<Shared>,
    files: files::Files,
    traps: traps::TrapStreaks,
    /// Where file and API loads run their pipeline (`None` until attached:
    /// start-up loads wait for theirs).
    pipeline: Option<pipeline::PipelineWorkers>,
    in_flight: pipeline::InFlight,
    /// Loads whose read failed for a transient reason, to be tried again.
    retries: retry::Retries,
    /// Tier-up compiles in flight and those waiting for the pipeline.
    tier_ups: tier_up::TierUps,
    /// The running feed's symbols: `[feed]` changes need a restart, so bar
    /// symbol indices keep meaning these.
    feed_symbols: Vec<String>,
    /// The fleet's `[[strategy]]` entries for this node, merged into every
    /// config applied (`control/fleet.rs`); empty without `[fleet]`.
    fleet: Vec<StrategyConfig>,
}

pub(crate) struct ControlParts {
    pub loader: Arc<Loader>,
    pub config: Config,
    pub config_path: Option<PathBuf>,
    pub roster: Arc<ArcSwap<Roster>>,
    pub recent_bars: Arc<SharedRecentBars>,
    pub sink: Arc<EventSink>,
    pub shared: Arc<Shared>,
    /// Hot reload on: the periodic rescan runs (the watcher is attached
    /// separately). Off: only explicit API calls reload.
    pub hot_reload: bool,
    /// The fleet's entries already merged into `config` (see `control/fleet.rs`).
    pub fleet: Vec<StrategyConfig>,
}

impl ControlPlane {
    pub(crate) fn new(parts: ControlParts) -> Self {
        let feed_symbols = parts.config.feed.symbols.clone();
        parts.loader.set_tiering(parts.config.tiering());
        Self {
            loader: parts.loader,
            config: parts.config,
            slots: BTreeMap::new(),
            roster: parts.roster,
            recent_bars: parts.recent_bars,
            sink: parts.sink,
            shared: parts.shared,
            files: files::Files::new(parts.config_path, parts.hot_reload),
            traps: traps::TrapStreaks::default(),
            pipeline: None,
            in_flight: pipeline::InFlight::default(),
            retries: retry::Retries::default(),
            tier_ups: tier_up::TierUps::default(),
            feed_symbols,
            fleet: parts.fleet,
        }
    }

    /// Loads every enabled strategy. In prod any failure refuses the start;
    /// in dev a failed strategy is reported and retried when its file changes.
    pub(crate) fn start_all(&mut self) -> Result<(), String> {
        let ids: Vec<String> = self.enabled().map(|s| s.id.clone()).collect();
        let mut failures = Vec::new();
        // Stamped before the reads (issue 16 item 4): a file replaced after
        // its read has another stamp, so the rescan sees the change; stamped
        // after, the new file's stamp passed for what was loaded.
        self.remember_stamps();
        for id in ids {
            let event = self.load_from_file(&id, Trigger::Startup, true);
            if event.outcome == Outcome::Rejected {
                failures.push(render_rejection(&event, &self.config, &id));
            }
        }
        if !failures.is_empty() && self.config.profile == config::Profile::Prod {
            return Err(format!(
                "refusing to start in prod: {} strategy(ies) failed to load\n{}",
                failures.len(),
                failures.join("\n")
            ));
        }
        Ok(())
    }

    pub(crate) fn attach_watcher(&mut self, watcher: Watcher) {
        self.files.attach_watcher(watcher);
    }

    /// From now on file and API loads run their pipeline on worker threads;
    /// the results come back as commands.
    pub(crate) fn attach_pipeline(&mut self, results: std::sync::mpsc::Sender<ControlCommand>) {
        self.pipeline = Some(pipeline::PipelineWorkers::new(
            Arc::clone(&self.loader),
            results,
        ));
        // Start-up loads went live on baseline code before there was a
        // pipeline to tier them up on.
        self.start_waiting_tier_ups();
    }

    pub(crate) fn run(mut self, commands: Receiver<ControlCommand>) {
        self.recheck_after_start();
        let mut last_rescan = Instant::now();
        loop {
            // Wake for the rescan tick or the next retry, whichever is first.
            let now = Instant::now();
            let mut wait = RESCAN_INTERVAL;
            if let Some(due) = self.retries.next_due() {
                wait = wait.min(due.saturating_duration_since(now));
            }
            match commands.recv_timeout(wait) {
                Ok(ControlCommand::Shutdown) | Err(RecvTimeoutError::Disconnected) => break,
                Ok(command) => self.handle(command),
                Err(RecvTimeoutError::Timeout) => {}
            }
            self.run_due_retries();
            self.swap_timeouts();
            self.auto_promotion();
            self.tier_up_live_baseline();
            if self.files.rescans() && last_rescan.elapsed() >= RESCAN_INTERVAL {
                self.rescan();
                last_rescan = Instant::now();
            }
        }
    }

    fn handle(&mut self, command: ControlCommand) {
        // A rollback or a trap's rebuild must not overtake a load of the
        // same strategy in flight (its result would land on top).
        let Some(command) = self.in_flight.defer(command) else {
            return;
        };
        match command {
            ControlCommand::FilesChanged(paths) => self.files_changed(&paths),
            ControlCommand::ConfigFileChanged => self.config_file_changed(),
            ControlCommand::ApplyConfig(config, reply) => {
                let result = match fleet::merge(*config, &self.fleet) {
                    Ok(config) => Ok(self.apply_config(config, Trigger::Api)),
                    Err(error) => Err(fleet::refusal(&error)),
                };
                let _ = reply.send(result);
            }
            ControlCommand::ApplyFleet(strategies, reply) => {
                let _ = reply.send(self.apply_fleet(strategies));
            }
            ControlCommand::Reload(id, reply) => {
                if self.config.strategy(&id).is_some_and(|s| s.enabled) {
                    self.request_load(&id, Trigger::Api, true, vec![reply]);
                } else {
                    let _ = reply.send(Err(Refusal::NotEnabled { strategy: id }));
                }
            }
            ControlCommand::Loaded(finished) => self.finished_load(*finished),
            ControlCommand::Rollback(id, steps, reply) => {
                let _ = reply.send(self.rollback(&id, steps, Trigger::Api));
            }
            ControlCommand::Trapped(trap, last_good) => self.trapped(trap, last_good),
            ControlCommand::HandoffFailed(failure) => self.handoff_failed(failure),
            ControlCommand::Deploy(id, request, reply) => self.deploy(&id, *request, reply),
            ControlCommand::Candidate(id, action, actor, reply) => {
                let _ = reply.send(self.candidate_action(&id, action, &actor));
            }
            ControlCommand::TierUpCompiled(done) => self.tier_up_compiled(*done),
            ControlCommand::Shutdown => {}
        }
    }

    fn enabled(&self) -> impl Iterator<Item = &StrategyConfig> {
        self.config.strategies.iter().filter(|s| s.enabled)
    }

    fn symbols_of(&self, strategy: &StrategyConfig) -> Vec<String> {
        if strategy.symbols.is_empty() {
            self.feed_symbols.clone()
        } else {
            strategy.symbols.clone()
        }
    }

    /// Recent bars of the strategy's symbols, mapped to its own indices.
    fn recent_bars(&self, symbols: &[String]) -> (Vec<Bar>, Option<u64>) {
        let recent = self.recent_bars.recent();
        let last_seq = recent.last().map(|b| b.seq);
        let feed = &self.feed_symbols;
        let bars = recent
            .into_iter()
            .filter_map(|bar| {
                let name = feed.get(bar.symbol as usize)?;
                let local = symbols.iter().position(|s| s == name)? as u32;
                Some(Bar {
                    symbol: local,
                    ..bar
                })
            })
            .collect();
        (bars, last_seq)
    }

    /// The live version of `id` and its recipe.
    fn current(&self, id: &str) -> Option<(u64, Recipe)> {
        lock(&self.shared.versions)
            .get(id)
            .and_then(|h| h.current().cloned())
    }

    fn current_sha(&self, id: &str) -> Option<String> {
        self.current(id).map(|(_, recipe)| recipe.sha256)
    }

    fn emit_reload(&self, event: ReloadEvent) -> ReloadEvent {
        disk::reload_ended(&self.shared, &event);
        self.sink.reload(event)
    }
}

fn render_rejection(event: &ReloadEvent, config: &Config, id: &str) -> String {
    let path = config
        .strategy(id)
        .map(|s| config.wasm_path(s).display().to_string())
        .unwrap_or_default();
    let mut text = format!(
        "  strategy `{id}` ({path}) failed at stage `{}`: {}",
        event.stage.map(|s| s.as_str()).unwrap_or("?"),
        event.error.as_deref().unwrap_or("")
    );
    if let Some(hint) = &event.hint {
        text.push_str(&format!("\n    hint: {hint}"));
    }
    text
}
