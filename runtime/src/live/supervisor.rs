//! The control plane: one thread that runs the reload pipeline for whatever
//! the watcher, the API or the bar loop asks, and publishes new generations.
//! Nothing here ever blocks the bar loop: publishing is an `ArcSwap::store`.

use super::bar_loop::{GoodSnapshot, LoopEvent};
use super::command::{Command, Reply, StateAction, StateRequest};
use super::events::{Event, Outcome, ReloadEvent, StateEvent, Trigger, durations, now_rfc3339};
use super::generation::{Generation, Recipe, Roster, RunState, Slot};
use super::history::SharedHistory;
use super::journal::{JournalSender, Record};
use super::metrics::ReloadMetrics;
use super::watcher::Watcher;
use crate::config::{self, Config, StrategyConfig};
use crate::contract::{Bar, Param, ParamValue};
use crate::error::{LoadError, Stage};
use crate::instance::StrategyInstance;
use crate::limits::Limits;
use crate::load::{LoadSpec, Loader, StageTimings};
use arc_swap::ArcSwap;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

/// How often files are re-checked, in case an event was missed.
const RESCAN_INTERVAL: Duration = Duration::from_secs(1);
/// Events kept in memory for `Runtime::recent_events`.
const RECENT_EVENTS: usize = 1000;

/// One entry of a strategy's rollback history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VersionEntry {
    pub version: u64,
    pub sha256: String,
    pub params_hash: String,
}

/// State shared between the control plane and the `Runtime` handle. Locks
/// here are never taken by the bar loop.
#[derive(Default)]
pub(crate) struct Shared {
    pub metrics: Mutex<BTreeMap<String, ReloadMetrics>>,
    pub subscribers: Mutex<Vec<Sender<Event>>>,
    pub recent: Mutex<VecDeque<Event>>,
    pub versions: Mutex<BTreeMap<String, Vec<VersionEntry>>>,
    pub quarantined: Mutex<BTreeMap<String, String>>,
    /// Why each halted strategy was halted.
    pub halt_reasons: Mutex<BTreeMap<String, String>>,
}

pub(crate) fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// A run of consecutive traps of one strategy.
#[derive(Clone)]
struct TrapStreak {
    first_seq: u64,
    /// The last snapshot the strategy made while healthy.
    snapshot: Option<GoodSnapshot>,
}

/// How to bring a rebuild after traps up to date.
struct AfterTraps {
    /// No bar from this one on is fed again...
    first_seq: u64,
    /// ...and the new instance starts after this one.
    last_seq: u64,
    /// Restored first when there is one; then only later bars are replayed.
    snapshot: Option<GoodSnapshot>,
}

/// What one pass of the pipeline was for, to conclude it.
struct Attempt<'a> {
    strategy: &'a StrategyConfig,
    trigger: Trigger,
    params: Vec<Param>,
    limits: Limits,
    warmup: Warmup<'a>,
}

/// How a new live instance is brought up to date before it is published.
struct Warmup<'a> {
    /// Recent bars in the strategy's own symbol indices, oldest first.
    recent: &'a [Bar],
    /// The last bar the instance will have seen; the loop replays later ones.
    warmed_through: Option<u64>,
    /// A snapshot to restore first; then only bars after it are replayed.
    restore_from: Option<GoodSnapshot>,
}

struct SlotState {
    slot: Arc<Slot>,
    config: StrategyConfig,
    /// Good versions, oldest first; the last one is live.
    history: Vec<(u64, Recipe)>,
    next_version: u64,
}

impl SlotState {
    fn current(&self) -> Option<&(u64, Recipe)> {
        self.history.last()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct FileStamp {
    modified: Option<SystemTime>,
    len: u64,
    /// A deploy by rename makes a new inode even when size and mtime (whose
    /// clock ticks coarsely) match the old file's.
    inode: u64,
}

fn stamp(path: &Path) -> Option<FileStamp> {
    let meta = std::fs::metadata(path).ok()?;
    #[cfg(unix)]
    let inode = std::os::unix::fs::MetadataExt::ino(&meta);
    #[cfg(not(unix))]
    let inode = 0;
    Some(FileStamp {
        modified: meta.modified().ok(),
        len: meta.len(),
        inode,
    })
}

pub(crate) struct Supervisor {
    loader: Arc<Loader>,
    config: Config,
    config_path: Option<PathBuf>,
    slots: BTreeMap<String, SlotState>,
    roster: Arc<ArcSwap<Roster>>,
    history: Arc<SharedHistory>,
    journal: JournalSender,
    shared: Arc<Shared>,
    watcher: Option<Watcher>,
    stamps: HashMap<PathBuf, Option<FileStamp>>,
    /// Each strategy's current run of traps.
    trap_streaks: HashMap<String, TrapStreak>,
    /// The running feed's symbols: `[feed]` changes need a restart, so bar
    /// symbol indices keep meaning these.
    feed_symbols: Vec<String>,
    /// Hot reload on: the periodic rescan runs (the watcher is attached
    /// separately). Off: only explicit API calls reload.
    rescan: bool,
}

pub(crate) struct SupervisorParts {
    pub loader: Arc<Loader>,
    pub config: Config,
    pub config_path: Option<PathBuf>,
    pub roster: Arc<ArcSwap<Roster>>,
    pub history: Arc<SharedHistory>,
    pub journal: JournalSender,
    pub shared: Arc<Shared>,
    pub hot_reload: bool,
}

impl Supervisor {
    pub(crate) fn new(parts: SupervisorParts) -> Self {
        let feed_symbols = parts.config.feed.symbols.clone();
        Self {
            loader: parts.loader,
            config: parts.config,
            config_path: parts.config_path,
            slots: BTreeMap::new(),
            roster: parts.roster,
            history: parts.history,
            journal: parts.journal,
            shared: parts.shared,
            watcher: None,
            stamps: HashMap::new(),
            trap_streaks: HashMap::new(),
            feed_symbols,
            rescan: parts.hot_reload,
        }
    }

    /// Loads every enabled strategy. In prod any failure refuses the start;
    /// in dev a failed strategy is reported and retried when its file changes.
    pub(crate) fn start_all(&mut self) -> Result<(), String> {
        let ids: Vec<String> = self.enabled().map(|s| s.id.clone()).collect();
        let mut failures = Vec::new();
        for id in ids {
            let event = self.load_from_file(&id, Trigger::Startup, true);
            if event.outcome == Outcome::Rejected {
                failures.push(render_rejection(&event, &self.config, &id));
            }
        }
        self.remember_stamps();
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
        self.watcher = Some(watcher);
    }

    pub(crate) fn run(mut self, commands: Receiver<Command>) {
        let mut last_rescan = Instant::now();
        loop {
            match commands.recv_timeout(RESCAN_INTERVAL) {
                Ok(Command::Shutdown) | Err(RecvTimeoutError::Disconnected) => break,
                Ok(command) => self.handle(command),
                Err(RecvTimeoutError::Timeout) => {}
            }
            if self.rescan && last_rescan.elapsed() >= RESCAN_INTERVAL {
                self.rescan();
                last_rescan = Instant::now();
            }
        }
    }

    fn handle(&mut self, command: Command) {
        match command {
            Command::FilesChanged(paths) => self.files_changed(&paths),
            Command::ConfigFileChanged => self.config_file_changed(),
            Command::ApplyConfig(config, reply) => {
                let result = Ok(self.apply_config(*config, Trigger::Api));
                let _ = reply.send(result);
            }
            Command::Reload(id, reply) => {
                let result = if self.config.strategy(&id).is_some_and(|s| s.enabled) {
                    Ok(self.load_from_file(&id, Trigger::Api, true))
                } else {
                    Err(format!("no enabled strategy `{id}` in the config"))
                };
                let _ = reply.send(result);
            }
            Command::Rollback(id, steps, reply) => {
                let _ = reply.send(self.rollback(&id, steps, Trigger::Api));
            }
            Command::SetState(request, reply) => {
                let _ = reply.send(self.set_state(request));
            }
            Command::Loop(event) => self.loop_event(event),
            Command::Audit(record) => self.journal.send(Record::Audit(record)),
            Command::Shutdown => {}
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
        let recent = self.history.recent();
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

    // ---- the pipeline ------------------------------------------------------

    /// Reads the strategy's file and runs the whole pipeline. With `force`
    /// unset, an unchanged file of a healthy strategy is left alone.
    fn load_from_file(&mut self, id: &str, trigger: Trigger, force: bool) -> ReloadEvent {
        let Some(strategy) = self.config.strategy(id).cloned() else {
            let error = LoadError::new(Stage::Read, format!("no strategy `{id}` in the config"));
            return self.emit_reload(ReloadEvent::rejected(id, trigger, &error));
        };
        let path = self.config.wasm_path(&strategy);
        let symbols = self.symbols_of(&strategy);
        let params = match strategy.params() {
            Ok(p) => p,
            Err(message) => {
                let error = LoadError::new(Stage::Init, message)
                    .hint("fix `[strategy.params]` in the config");
                return self.emit_reload(ReloadEvent::rejected(id, trigger, &error));
            }
        };
        let limits = self.config.limits_of(&strategy);
        let expected = if self.config.verify_hashes() {
            strategy.sha256.clone()
        } else {
            None
        };
        let read = Loader::read_stage(&path, limits.max_component_bytes);
        if !force
            && let Ok(artifact) = &read.artifact
            && self.unchanged(id, &artifact.sha256, &params)
        {
            tracing::info!(
                strategy = id,
                "the file matches the running version; nothing to reload"
            );
            return ReloadEvent::base(id, Outcome::Swapped, trigger);
        }
        let (recent, warmed_through) = self.recent_bars(&symbols);
        let outcome = self.loader.load_read(
            &path,
            read,
            LoadSpec {
                strategy_id: id,
                expected_sha256: expected.as_deref(),
                symbols: &symbols,
                params: &params,
                limits: &limits,
                recent_bars: &recent,
            },
        );
        let attempt = Attempt {
            strategy: &strategy,
            trigger,
            params,
            limits,
            warmup: Warmup {
                recent: &recent,
                warmed_through,
                restore_from: None,
            },
        };
        self.conclude(id, attempt, outcome)
    }

    /// Publishes a candidate that passed the pipeline, or reports why not.
    fn conclude(
        &mut self,
        id: &str,
        attempt: Attempt<'_>,
        outcome: crate::load::LoadOutcome,
    ) -> ReloadEvent {
        let mut timings = outcome.timings;
        let candidate = match outcome.result {
            Ok(c) => c,
            Err(error) => {
                let mut event = ReloadEvent::rejected(id, attempt.trigger, &error);
                event.duration_us = durations(&timings);
                event.sha256 = outcome.sha256;
                event.previous_sha256 = self.current_sha(id);
                return self.emit_reload(event);
            }
        };
        let recipe = Recipe {
            sha256: candidate.sha256,
            pre: candidate.pre,
            params_hash: params_hash(&attempt.params),
            params: attempt.params,
            limits: attempt.limits,
            info: candidate.info,
        };
        self.publish(
            id,
            attempt.strategy,
            recipe,
            attempt.trigger,
            Outcome::Swapped,
            candidate.cache_hit,
            &mut timings,
            attempt.warmup,
        )
    }

    /// True when the file's hash and the params are what is live already.
    /// The bytes just read are the running version's, with the same params.
    fn unchanged(&self, id: &str, sha256: &str, params: &[Param]) -> bool {
        let Some((_, current)) = self.slots.get(id).and_then(|s| s.current()) else {
            return false;
        };
        if lock(&self.shared.quarantined).contains_key(id) {
            return false;
        }
        sha256 == current.sha256 && current.params_hash == params_hash(params)
    }

    /// A new generation from an already type-checked recipe with new params
    /// or limits: nothing is read or compiled. With `after_traps` (the first
    /// and last bar of a run of traps), no bar that trapped is fed again and
    /// the new generation starts after the last one.
    fn rebuild(
        &mut self,
        id: &str,
        params: Vec<Param>,
        limits: Limits,
        trigger: Trigger,
        after_traps: Option<AfterTraps>,
    ) -> ReloadEvent {
        let Some(state) = self.slots.get(id) else {
            return self.load_from_file(id, trigger, true);
        };
        let Some((_, current)) = state.current().cloned() else {
            return self.load_from_file(id, trigger, true);
        };
        let strategy = state.config.clone();
        let symbols = self.symbols_of(&strategy);
        let (mut recent, mut warmed_through) = self.recent_bars(&symbols);
        let mut restore_from = None;
        if let Some(after) = after_traps {
            recent.retain(|bar| bar.seq < after.first_seq);
            warmed_through = Some(after.last_seq);
            restore_from = after.snapshot;
        }
        let path = self.config.wasm_path(&strategy);
        let outcome = self.loader.load_pre(
            &current.sha256,
            current.pre.clone(),
            LoadSpec {
                strategy_id: id,
                expected_sha256: None,
                symbols: &symbols,
                params: &params,
                limits: &limits,
                recent_bars: &recent,
            },
            &path,
        );
        let attempt = Attempt {
            strategy: &strategy,
            trigger,
            params,
            limits,
            warmup: Warmup {
                recent: &recent,
                warmed_through,
                restore_from,
            },
        };
        self.conclude(id, attempt, outcome)
    }

    /// Builds the live instance (fresh store, init, warm-up replay) and
    /// publishes it: the bar loop picks it up at its next bar of the strategy.
    #[allow(clippy::too_many_arguments)]
    fn publish(
        &mut self,
        id: &str,
        strategy: &StrategyConfig,
        recipe: Recipe,
        trigger: Trigger,
        outcome: Outcome,
        cache_hit: bool,
        timings: &mut StageTimings,
        warmup: Warmup<'_>,
    ) -> ReloadEvent {
        let symbols = self.symbols_of(strategy);
        let started = Instant::now();
        let instance = warm_instance(id, &recipe, &symbols, &warmup);
        let warmed_through = warmup.warmed_through;
        timings
            .stages
            .push((Stage::StateHandoff, started.elapsed()));
        let previous_sha256 = self
            .slots
            .get(id)
            .map(|s| s.slot.current.load().sha256().to_owned());
        let instance = match instance {
            Ok(instance) => instance,
            Err(error) => {
                let mut event = ReloadEvent::rejected(
                    id,
                    trigger,
                    &error.for_strategy(id, &self.config.wasm_path(strategy)),
                );
                event.duration_us = durations(timings);
                event.sha256 = Some(recipe.sha256.clone());
                event.previous_sha256 = previous_sha256;
                return self.emit_reload(event);
            }
        };
        let keep = self.config.hot_reload.keep_versions.max(1);
        let feed_symbols = self.feed_symbols.clone();
        let strategy_id: Arc<str> = Arc::from(id);
        let mut replaced_slot = false;
        let (version, published_new_slot) = match self.slots.get_mut(id) {
            Some(state) => {
                let version = state.next_version;
                state.next_version += 1;
                let generation = Generation::new(
                    strategy_id,
                    version,
                    recipe.clone(),
                    instance,
                    warmed_through,
                );
                let same_symbols = state
                    .slot
                    .symbols
                    .iter()
                    .map(|s| &**s)
                    .eq(symbols.iter().map(String::as_str));
                if same_symbols {
                    state.slot.current.store(Arc::new(generation));
                } else {
                    // New symbols mean a new slot (and a fresh paper account);
                    // the roster swaps old for new in one store, so the loop
                    // never runs a bar without the strategy.
                    state.slot = Arc::new(Slot::new(
                        id,
                        &symbols,
                        &feed_symbols,
                        Arc::new(generation),
                        self.config.risk_of(strategy),
                    ));
                    replaced_slot = true;
                }
                // A rebuild of the live recipe replaces its entry: the
                // history lists distinct versions to roll back to.
                match state.history.last_mut() {
                    Some(live) if same_recipe(&live.1, &recipe) => live.0 = version,
                    _ => state.history.push((version, recipe.clone())),
                }
                while state.history.len() > keep {
                    state.history.remove(0);
                }
                state.config = strategy.clone();
                (version, false)
            }
            None => {
                let version = 1;
                let generation = Generation::new(
                    strategy_id,
                    version,
                    recipe.clone(),
                    instance,
                    warmed_through,
                );
                let slot = Arc::new(Slot::new(
                    id,
                    &symbols,
                    &feed_symbols,
                    Arc::new(generation),
                    self.config.risk_of(strategy),
                ));
                self.slots.insert(
                    id.to_owned(),
                    SlotState {
                        slot,
                        config: strategy.clone(),
                        history: vec![(version, recipe.clone())],
                        next_version: version + 1,
                    },
                );
                (version, true)
            }
        };
        if published_new_slot || replaced_slot {
            self.publish_roster();
        }
        lock(&self.shared.quarantined).remove(id);
        self.sync_versions(id);
        let mut event = ReloadEvent::base(id, outcome, trigger);
        event.sha256 = Some(recipe.sha256.clone());
        event.previous_sha256 = previous_sha256;
        event.version = Some(version);
        event.duration_us = durations(timings);
        event.cache_hit = cache_hit;
        self.emit_reload(event)
    }

    fn publish_roster(&self) {
        let roster: Roster = self.slots.values().map(|s| Arc::clone(&s.slot)).collect();
        self.roster.store(Arc::new(roster));
    }

    fn current_sha(&self, id: &str) -> Option<String> {
        self.slots
            .get(id)
            .and_then(|s| s.current())
            .map(|(_, r)| r.sha256.clone())
    }

    fn sync_versions(&self, id: &str) {
        let entries = self
            .slots
            .get(id)
            .map(|s| {
                s.history
                    .iter()
                    .map(|(version, r)| VersionEntry {
                        version: *version,
                        sha256: r.sha256.clone(),
                        params_hash: r.params_hash.clone(),
                    })
                    .collect()
            })
            .unwrap_or_default();
        let mut versions = lock(&self.shared.versions);
        if self.slots.contains_key(id) {
            versions.insert(id.to_owned(), entries);
        } else {
            versions.remove(id);
        }
    }

    // ---- rollback, retire, traps ------------------------------------------

    fn rollback(
        &mut self,
        id: &str,
        steps: usize,
        trigger: Trigger,
    ) -> Result<ReloadEvent, String> {
        let state = self
            .slots
            .get(id)
            .ok_or_else(|| format!("no running strategy `{id}`"))?;
        let kept = state.history.len().saturating_sub(1);
        if steps == 0 || steps > kept {
            return Err(format!(
                "cannot roll `{id}` back {steps} step(s): {kept} earlier version(s) kept (`hot_reload.keep_versions` = {})",
                self.config.hot_reload.keep_versions
            ));
        }
        let target_index = state.history.len() - 1 - steps;
        let (_, target) = state.history[target_index].clone();
        let strategy = state.config.clone();
        let symbols = self.symbols_of(&strategy);
        let (recent, warmed_through) = self.recent_bars(&symbols);
        let mut timings = StageTimings::default();
        let event = self.publish(
            id,
            &strategy,
            target,
            trigger,
            Outcome::RolledBack,
            true,
            &mut timings,
            Warmup {
                recent: &recent,
                warmed_through,
                restore_from: None,
            },
        );
        if event.outcome == Outcome::Rejected {
            return Err(event.error.unwrap_or_else(|| "rollback failed".into()));
        }
        if let Some(state) = self.slots.get_mut(id) {
            // The target and the versions after it leave the history (the
            // target is back as the newest entry); their components stay in
            // the compile cache, so redeploying any of them is instant.
            let newest = state.history.len().saturating_sub(1);
            if target_index < newest {
                state.history.drain(target_index..newest);
            }
        }
        self.sync_versions(id);
        Ok(event)
    }

    fn retire(&mut self, id: &str, trigger: Trigger) -> ReloadEvent {
        let state = self.slots.remove(id);
        self.publish_roster();
        self.sync_versions(id);
        lock(&self.shared.quarantined).remove(id);
        let mut event = ReloadEvent::base(id, Outcome::Retired, trigger);
        if let Some((version, recipe)) = state.as_ref().and_then(|s| s.current()) {
            event.version = Some(*version);
            event.previous_sha256 = Some(recipe.sha256.clone());
        }
        self.emit_reload(event)
    }

    fn loop_event(&mut self, event: LoopEvent) {
        match event {
            LoopEvent::Trapped(trap, last_good) => {
                let id = trap.strategy.clone();
                let version = trap.version;
                let consecutive = trap.consecutive;
                let seq = trap.seq;
                let kind_hint = crate::instance::CallError {
                    export: "on-bar",
                    kind: trap.kind.clone(),
                    message: String::new(),
                    backtrace: None,
                }
                .hint();
                let streak = self.trap_streaks.entry(id.clone()).or_insert(TrapStreak {
                    first_seq: seq,
                    snapshot: None,
                });
                if consecutive == 1 {
                    *streak = TrapStreak {
                        first_seq: seq,
                        snapshot: None,
                    };
                }
                // A rebuilt instance that traps before its first snapshot
                // leaves the streak's earlier one in place.
                if last_good.is_some() {
                    streak.snapshot = last_good;
                }
                tracing::warn!(
                    strategy = %id, version, seq = trap.seq, export = %trap.export, kind = ?trap.kind,
                    "strategy trapped: {}", trap.message
                );
                self.emit(Event::Trap(trap));
                let live_version = self
                    .slots
                    .get(&id)
                    .and_then(|s| s.current())
                    .map(|(v, _)| *v);
                if live_version != Some(version) {
                    return; // a newer generation is already on its way
                }
                let limit = self.config.hot_reload.rollback_after_traps.max(1);
                let rebuilt = consecutive < limit
                    && self
                        .slots
                        .get(&id)
                        .and_then(|s| s.current())
                        .cloned()
                        .is_some_and(|(_, recipe)| {
                            let streak = self.trap_streaks.get(&id).cloned();
                            let after = streak.map(|s| AfterTraps {
                                first_seq: s.first_seq,
                                last_seq: seq,
                                snapshot: s.snapshot,
                            });
                            let event = self.rebuild(
                                &id,
                                recipe.params,
                                recipe.limits,
                                Trigger::Trap,
                                after,
                            );
                            event.outcome == Outcome::Swapped
                        });
                if !rebuilt && self.rollback(&id, 1, Trigger::Trap).is_err() {
                    let reason = format!(
                        "trapped {consecutive} time(s) in a row and cannot be rebuilt, with no earlier version to roll back to; a fixed file or config edit brings it back"
                    );
                    let mut event = ReloadEvent::base(&id, Outcome::Quarantined, Trigger::Trap);
                    event.version = Some(version);
                    event.sha256 = self.current_sha(&id);
                    event.error = Some(reason.clone());
                    event.hint = Some(kind_hint.to_owned());
                    self.emit_reload(event);
                    // After the event, so whoever sees the state can find why.
                    lock(&self.shared.quarantined).insert(id.clone(), reason);
                }
            }
            LoopEvent::HandedOver(handoff) => self.emit(Event::Handoff(handoff)),
            LoopEvent::Halted { strategy, reason } => {
                tracing::error!(strategy = %strategy, "kill switch: strategy halted: {reason}");
                lock(&self.shared.halt_reasons).insert(strategy.clone(), reason.clone());
                self.emit(Event::State(StateEvent {
                    ts: now_rfc3339(),
                    strategy,
                    state: RunState::Halted,
                    previous: RunState::Running,
                    actor: "risk".into(),
                    reason: Some(reason),
                }));
            }
            LoopEvent::Refused(refusal) => {
                tracing::warn!(
                    strategy = %refusal.strategy, seq = refusal.seq, total = refusal.refused_total,
                    "orders refused, not sent to the broker: {}", refusal.reason
                );
                self.emit(Event::Refusal(refusal));
            }
            LoopEvent::HandoffFailed {
                strategy,
                version,
                error,
            } => {
                // The loop put the old generation back; make the history's
                // newest entry describe it again.
                let mut previous_sha256 = None;
                let mut failed_sha256 = None;
                if let Some(state) = self.slots.get_mut(&strategy) {
                    let live = state.slot.current.load_full();
                    previous_sha256 = Some(live.sha256().to_owned());
                    if let Some(newest) = state.history.last_mut()
                        && newest.0 == version
                    {
                        failed_sha256 = Some(newest.1.sha256.clone());
                        if same_recipe(&newest.1, &live.recipe) {
                            newest.0 = live.version;
                        } else {
                            state.history.pop();
                        }
                    }
                }
                self.sync_versions(&strategy);
                let load_error = LoadError::new(Stage::StateHandoff, error)
                    .hint("the new version trapped while taking over the running state; the old version keeps running");
                let mut event = ReloadEvent::rejected(&strategy, Trigger::File, &load_error);
                event.version = Some(version);
                event.sha256 = failed_sha256;
                event.previous_sha256 = previous_sha256;
                self.emit_reload(event);
            }
        }
    }

    // ---- files and config ---------------------------------------------------

    /// Reloads the strategies whose file changed. A path whose size and
    /// modification time were already handled is skipped, so the watcher and
    /// the rescan never process one change twice.
    fn files_changed(&mut self, paths: &[PathBuf]) {
        for path in paths {
            let now = stamp(path);
            let key = super::watcher::absolute(path);
            if self.stamps.get(&key) == Some(&now) {
                continue;
            }
            self.stamps.insert(key, now);
            let ids: Vec<String> = self
                .enabled()
                .filter(|s| {
                    super::watcher::absolute(&self.config.wasm_path(s))
                        == super::watcher::absolute(path)
                })
                .map(|s| s.id.clone())
                .collect();
            for id in ids {
                if now.is_none() {
                    tracing::warn!(strategy = %id, path = %path.display(), "strategy file removed; the running version keeps running");
                    continue;
                }
                self.load_from_file(&id, Trigger::File, false);
            }
        }
    }

    fn config_file_changed(&mut self) {
        let Some(path) = self.config_path.clone() else {
            return;
        };
        let now = stamp(&path);
        let key = super::watcher::absolute(&path);
        if self.stamps.get(&key) == Some(&now) {
            return;
        }
        self.stamps.insert(key, now);
        if now.is_none() {
            tracing::warn!(path = %path.display(), "config file removed; the running config stays");
            return;
        }
        match Config::from_file(&path) {
            Ok(new) if new == self.config => tracing::debug!("config unchanged"),
            Ok(new) => {
                self.apply_config(new, Trigger::Config);
            }
            Err(error) => {
                tracing::error!("config edit rejected; the running config stays:\n{error}");
                let mut event = ReloadEvent::base("config", Outcome::Rejected, Trigger::Config);
                event.error = Some(error.to_string());
                event.hint = error.hint.clone();
                self.emit_reload(event);
            }
        }
    }

    /// Applies a new config as a diff: retire removed strategies, load added
    /// ones, reload changed artifacts, rebuild for changed params or limits.
    fn apply_config(&mut self, new: Config, trigger: Trigger) -> Vec<ReloadEvent> {
        let diff = config::diff(&self.config, &new);
        for note in &diff.restart_required {
            tracing::warn!("{note}");
        }
        let old = std::mem::replace(&mut self.config, new);
        let mut events = Vec::new();
        for id in &diff.removed {
            events.push(self.retire(id, trigger));
        }
        for change in &diff.changed {
            let id = &change.id;
            if change.symbols || change.artifact || !self.slots.contains_key(id) {
                events.push(self.load_from_file(id, trigger, true));
            } else if change.params || change.limits || diff.limits_changed {
                events.push(self.rebuild_from_config(id, trigger));
            }
        }
        for id in &diff.added {
            events.push(self.load_from_file(id, trigger, true));
        }
        if diff.limits_changed {
            let untouched: Vec<String> = self
                .slots
                .keys()
                .filter(|id| !diff.changed.iter().any(|c| &c.id == *id) && !diff.added.contains(id))
                .cloned()
                .collect();
            for id in untouched {
                events.push(self.rebuild_from_config(&id, trigger));
            }
        }
        if let Some(watcher) = self.watcher.as_mut()
            && old.strategies_dir() != self.config.strategies_dir()
        {
            tracing::warn!("`runtime.strategies_dir` changed; restart to watch the new directory");
            watcher.ensure_watching();
        }
        self.apply_risk_rules();
        self.remember_stamps();
        events
    }

    /// Stores each running strategy's risk rules in its slot: a risk edit
    /// takes effect at the next bar, without a reload.
    fn apply_risk_rules(&self) {
        for (id, state) in &self.slots {
            if let Some(strategy) = self.config.strategy(id) {
                let rules = self.config.risk_of(strategy);
                if **state.slot.risk.load() != rules {
                    tracing::info!(strategy = %id, ?rules, "risk rules changed");
                    state.slot.risk.store(Arc::new(rules));
                }
            }
        }
    }

    /// Pauses, resumes, halts or un-halts a strategy; the loop applies it at
    /// the next bar. Returns the state now wanted.
    fn set_state(&mut self, request: StateRequest) -> Result<RunState, String> {
        let Some(state) = self.slots.get(&request.strategy) else {
            return Err(format!(
                "no running strategy `{}`; `runtime status` lists them",
                request.strategy
            ));
        };
        let slot = Arc::clone(&state.slot);
        let previous = slot.run_state();
        let next = match (request.action, previous) {
            (StateAction::Pause, RunState::Halted) => {
                return Err(format!(
                    "`{}` is halted; un-halt it first (a halted strategy already sends no orders)",
                    request.strategy
                ));
            }
            (StateAction::Pause, _) => RunState::Paused,
            (StateAction::Resume, RunState::Halted) => {
                return Err(format!(
                    "`{}` is halted, not paused; use unhalt to lift the kill switch",
                    request.strategy
                ));
            }
            (StateAction::Resume, _) | (StateAction::Unhalt, _) => RunState::Running,
            (StateAction::Halt, _) => RunState::Halted,
        };
        if request.action == StateAction::Unhalt && previous != RunState::Halted {
            return Err(format!(
                "`{}` is {}, not halted",
                request.strategy,
                previous.as_str()
            ));
        }
        if next == previous {
            return Ok(next);
        }
        slot.set_run_state(next);
        let reason = match next {
            RunState::Halted => {
                let reason = format!("halted by {}", request.actor);
                lock(&self.shared.halt_reasons).insert(request.strategy.clone(), reason.clone());
                Some(reason)
            }
            _ => {
                lock(&self.shared.halt_reasons).remove(&request.strategy);
                None
            }
        };
        tracing::warn!(strategy = %request.strategy, actor = %request.actor, "{} -> {}", previous.as_str(), next.as_str());
        self.emit(Event::State(StateEvent {
            ts: now_rfc3339(),
            strategy: request.strategy,
            state: next,
            previous,
            actor: request.actor,
            reason,
        }));
        Ok(next)
    }

    fn rebuild_from_config(&mut self, id: &str, trigger: Trigger) -> ReloadEvent {
        let Some(strategy) = self.config.strategy(id).cloned() else {
            return self.retire(id, trigger);
        };
        match strategy.params() {
            Ok(params) => {
                let limits = self.config.limits_of(&strategy);
                self.rebuild(id, params, limits, trigger, None)
            }
            Err(message) => {
                let error = LoadError::new(Stage::Init, message)
                    .hint("fix `[strategy.params]` in the config");
                self.emit_reload(ReloadEvent::rejected(id, trigger, &error))
            }
        }
    }

    fn watched_files(&self) -> Vec<PathBuf> {
        let mut files: Vec<PathBuf> = self.enabled().map(|s| self.config.wasm_path(s)).collect();
        files.extend(self.config_path.clone());
        files
    }

    /// Records the stamp of files seen for the first time. Known files keep
    /// theirs, so a change that lands during a long reload is still handled.
    fn remember_stamps(&mut self) {
        for path in self.watched_files() {
            let key = super::watcher::absolute(&path);
            self.stamps.entry(key).or_insert_with(|| stamp(&path));
        }
    }

    /// Catches what events missed (a watched directory removed and
    /// recreated, a dropped event): any changed stamp is handled as an event.
    fn rescan(&mut self) {
        if let Some(watcher) = self.watcher.as_mut() {
            if self.config.strategies_dir().is_dir() {
                watcher.ensure_watching();
            } else {
                watcher.directory_gone();
            }
        }
        self.config_file_changed();
        let files: Vec<PathBuf> = self.enabled().map(|s| self.config.wasm_path(s)).collect();
        self.files_changed(&files);
    }

    // ---- events ------------------------------------------------------------

    fn emit_reload(&self, event: ReloadEvent) -> ReloadEvent {
        match event.outcome {
            Outcome::Quarantined => tracing::error!(
                strategy = %event.strategy, version = event.version.unwrap_or(0),
                "quarantined: {} (hint: {})",
                event.error.as_deref().unwrap_or(""),
                event.hint.as_deref().unwrap_or("")
            ),
            Outcome::Rejected => tracing::error!(
                strategy = %event.strategy, stage = ?event.stage, trigger = ?event.trigger,
                "reload rejected; the running version keeps running: {}{}",
                event.error.as_deref().unwrap_or(""),
                event.hint.as_deref().map(|h| format!(" (hint: {h})")).unwrap_or_default()
            ),
            outcome => tracing::info!(
                strategy = %event.strategy, ?outcome, version = event.version.unwrap_or(0), trigger = ?event.trigger,
                sha256 = event.sha256.as_deref().unwrap_or(""), cache_hit = event.cache_hit,
                total_us = event.duration_us.values().sum::<u64>(),
                "reload"
            ),
        }
        lock(&self.shared.metrics)
            .entry(event.strategy.clone())
            .or_default()
            .record(&event);
        self.emit(Event::Reload(event.clone()));
        event
    }

    fn emit(&self, event: Event) {
        self.journal.send(Record::Event(event.clone()));
        {
            let mut recent = lock(&self.shared.recent);
            if recent.len() == RECENT_EVENTS {
                recent.pop_front();
            }
            recent.push_back(event.clone());
        }
        lock(&self.shared.subscribers).retain(|s| s.send(event.clone()).is_ok());
    }
}

/// A fresh store for the live generation: instantiate, init, then replay
/// recent bars (orders discarded) so it is warm before the loop sees it.
fn warm_instance(
    id: &str,
    recipe: &Recipe,
    symbols: &[String],
    warmup: &Warmup<'_>,
) -> Result<StrategyInstance, LoadError> {
    let trapped = |stage: Stage, e: crate::instance::CallError| {
        LoadError::new(stage, e.to_string()).hint(e.hint())
    };
    let mut instance = StrategyInstance::instantiate(&recipe.pre, id, &recipe.limits)
        .map_err(|e| trapped(Stage::Instantiate, e))?;
    instance
        .init(symbols, &recipe.params)
        .map_err(|e| trapped(Stage::Init, e))?
        .map_err(|reason| {
            LoadError::new(
                Stage::Init,
                format!("the strategy refused its parameters: {reason}"),
            )
            .hint("fix `[strategy.params]` in the config")
        })?;
    let flat = crate::contract::Position {
        quantity: 0.0,
        avg_price: 0.0,
        cash: 0.0,
        equity: 0.0,
    };
    // With a snapshot the strategy accepts, only the bars after it are
    // replayed; otherwise all recent bars are.
    let mut replay_after = None;
    if let Some(snapshot) = &warmup.restore_from {
        let restored = instance
            .restore(&snapshot.bytes)
            .map_err(|e| trapped(Stage::StateHandoff, e))?;
        match restored {
            Ok(()) => replay_after = Some(snapshot.seq),
            Err(reason) => tracing::warn!(
                strategy = id,
                "last good snapshot refused, replaying instead: {reason}"
            ),
        }
    }
    for bar in warmup
        .recent
        .iter()
        .filter(|b| replay_after.is_none_or(|after| b.seq > after))
    {
        instance
            .on_bar(*bar, flat)
            .map_err(|e| trapped(Stage::StateHandoff, e))?;
    }
    Ok(instance)
}

/// Same build, parameters and limits: a rebuild, not a new version.
fn same_recipe(a: &Recipe, b: &Recipe) -> bool {
    a.sha256 == b.sha256 && a.params_hash == b.params_hash && a.limits == b.limits
}

/// A short stable digest of a parameter set, to tell generations apart.
pub(crate) fn params_hash(params: &[Param]) -> String {
    let mut sorted: Vec<String> = params
        .iter()
        .map(|p| {
            let value = match &p.value {
                ParamValue::Int(v) => format!("i:{v}"),
                ParamValue::Float(v) => format!("f:{:016x}", v.to_bits()),
                ParamValue::Boolean(v) => format!("b:{v}"),
                ParamValue::Text(v) => format!("t:{v:?}"),
            };
            format!("{}={value}", p.name)
        })
        .collect();
    sorted.sort();
    crate::hash::sha256_hex(sorted.join("\n").as_bytes())[..16].to_owned()
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

/// Sends a command and waits for its reply.
pub(crate) fn ask<T>(
    commands: &Sender<Command>,
    make: impl FnOnce(Reply<T>) -> Command,
) -> Result<T, String> {
    let (tx, rx) = std::sync::mpsc::channel();
    commands
        .send(make(tx))
        .map_err(|_| "the runtime is shutting down".to_owned())?;
    rx.recv()
        .map_err(|_| "the runtime is shutting down".to_owned())?
}
