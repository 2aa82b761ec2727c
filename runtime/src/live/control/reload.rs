//! Reload: run the pipeline for a strategy from its file, or rebuild it from
//! the already type-checked component with new params or limits (nothing
//! read or compiled), and warm the new live instance up before publishing.

use super::super::events::{CacheEvent, Event, Outcome, ReloadEvent, Trigger, durations};
use super::super::generation::Recipe;
use super::super::loop_event::GoodSnapshot;
use super::super::shared::lock;
use super::ControlPlane;
use super::publish::Publication;
use crate::config::StrategyConfig;
use crate::contract::{Bar, Param, ParamValue};
use crate::error::{LoadError, Stage};
use crate::instance::StrategyInstance;
use crate::limits::Limits;
use crate::load::{LoadOutcome, LoadSpec, Loader, ReadStage, SmokeSetup};
use std::sync::atomic::Ordering;

/// How a new live instance is brought up to date before it is published.
pub(super) struct Warmup<'a> {
    /// Recent bars in the strategy's own symbol indices, oldest first.
    pub recent: &'a [Bar],
    /// The last bar the instance will have seen; the loop replays later ones.
    pub warmed_through: Option<u64>,
    /// A snapshot to restore first; then only bars after it are replayed.
    pub restore_from: Option<GoodSnapshot>,
    /// Cash and equity shown with every replayed bar (a flat position): the
    /// account the strategy trades with, as in its smoke test, not 0.0.
    pub equity: f64,
}

/// How to bring a rebuild after traps up to date.
pub(super) struct AfterTraps {
    /// No bar from this one on is fed again...
    pub first_seq: u64,
    /// ...and the new instance starts after this one.
    pub last_seq: u64,
    /// Restored first when there is one; then only later bars are replayed.
    pub snapshot: Option<GoodSnapshot>,
}

/// A load from file, prepared on the control plane; its pipeline can run on
/// any thread ([`PreparedLoad::run`]), then [`ControlPlane::conclude_load`].
pub(super) struct PreparedLoad {
    pub id: String,
    pub trigger: Trigger,
    /// Loaded even if the file matches the running version.
    pub force: bool,
    /// The config entry it was prepared from (a load that finishes after the
    /// entry changed is not published).
    pub strategy: StrategyConfig,
    /// Goes to the strategy's candidate place, not live (`candidate.rs`).
    pub candidate: bool,
    /// The bytes came with the request (not the config's file): not retried
    /// and not loaded again from the file after a config edit.
    pub from_request: bool,
    path: std::path::PathBuf,
    read: Option<ReadStage>,
    expected_sha256: Option<String>,
    symbols: Vec<String>,
    params: Vec<Param>,
    limits: Limits,
    recent: Vec<Bar>,
    warmed_through: Option<u64>,
    smoke: SmokeSetup,
}

impl PreparedLoad {
    /// The pipeline after stage `read`: verify, compile (or the cache),
    /// type-check, smoke test. Runs once; the bytes read are consumed.
    pub(super) fn run(&mut self, loader: &Loader) -> LoadOutcome {
        let read = self
            .read
            .take()
            .unwrap_or_else(|| Loader::read_stage(&self.path, self.limits.max_component_bytes));
        loader.load_read(
            &self.path,
            read,
            LoadSpec {
                strategy_id: &self.id,
                expected_sha256: self.expected_sha256.as_deref(),
                symbols: &self.symbols,
                params: &self.params,
                limits: &self.limits,
                recent_bars: &self.recent,
                smoke: self.smoke,
            },
        )
    }
}

/// A build that came with a request, read (`candidate.rs`).
pub(super) struct RequestedBuild {
    /// Where it came from (a file, or a name for the bytes).
    pub path: std::path::PathBuf,
    /// Stage `read`, done.
    pub read: ReadStage,
    /// The SHA-256 it must have.
    pub expected_sha256: Option<String>,
    /// As the candidate (shadow), not live.
    pub candidate: bool,
    /// Parameters over `[strategy.params]`.
    pub params_over: toml::Table,
}

/// What one pass of the pipeline was for, to conclude it.
struct Attempt<'a> {
    /// Published as the candidate (shadow), not live.
    candidate: bool,
    strategy: &'a StrategyConfig,
    trigger: Trigger,
    params: Vec<Param>,
    limits: Limits,
    warmup: Warmup<'a>,
}

impl ControlPlane {
    /// Reads the strategy's file and runs the whole pipeline here, waiting
    /// for the compile (start-up and config edits, which answer with every
    /// event at once). With `force` unset, an unchanged file of a healthy
    /// strategy is left alone.
    pub(super) fn load_from_file(
        &mut self,
        id: &str,
        trigger: Trigger,
        force: bool,
    ) -> ReloadEvent {
        match self.prepare_load(id, trigger, force) {
            Ok(mut prepared) => {
                let mut outcome = prepared.run(&self.loader);
                // Whoever waits here (start-up, a config edit) gets its answer
                // now: the rejection says a retry follows, which reports again.
                if self.retry_if_transient(&prepared, &mut outcome, &mut Vec::new())
                    && let Err(error) = &mut outcome.result
                {
                    error
                        .message
                        .push_str("; retried with backoff, see the log");
                }
                self.conclude_load(prepared, outcome)
            }
            Err(event) => *event,
        }
    }

    /// Everything a load needs from the control plane, taken now: the config
    /// entry, params, limits, the bytes read and the recent bars. `Err` is the
    /// event that ends the attempt already (bad params, unchanged file).
    pub(super) fn prepare_load(
        &self,
        id: &str,
        trigger: Trigger,
        force: bool,
    ) -> Result<PreparedLoad, Box<ReloadEvent>> {
        let Some(strategy) = self.config.strategy(id).cloned() else {
            let error = LoadError::new(Stage::Read, format!("no strategy `{id}` in the config"));
            return Err(Box::new(
                self.emit_reload(ReloadEvent::rejected(id, trigger, &error)),
            ));
        };
        let path = self.config.wasm_path(&strategy);
        let symbols = self.symbols_of(&strategy);
        let params = match strategy.params() {
            Ok(p) => p,
            Err(message) => return Err(Box::new(self.params_rejected(id, trigger, message))),
        };
        let limits = self.config.limits_of(&strategy);
        let expected_sha256 = if self.config.verify_hashes() {
            strategy.sha256.clone()
        } else {
            None
        };
        let read = Loader::read_stage(&path, limits.max_component_bytes);
        super::disk::observe(&self.shared, id, &read.artifact);
        if !force
            && let Ok(artifact) = &read.artifact
            && self.unchanged(id, &artifact.sha256, &params)
        {
            tracing::info!(
                strategy = id,
                "the file matches the running version; nothing to reload"
            );
            return Err(Box::new(ReloadEvent::base(id, Outcome::Swapped, trigger)));
        }
        let (recent, warmed_through) = self.recent_bars(&symbols);
        Ok(PreparedLoad {
            id: id.to_owned(),
            trigger,
            force,
            strategy,
            candidate: false,
            from_request: false,
            path,
            read: Some(read),
            expected_sha256,
            symbols,
            params,
            limits,
            recent,
            warmed_through,
            smoke: self.smoke_setup(id),
        })
    }

    /// A load of a build that came with a request (`candidate.rs` resolved
    /// and read it): the strategy's config entry, params and limits, the
    /// request's bytes and expected hash.
    pub(super) fn prepare_request(
        &self,
        id: &str,
        strategy: StrategyConfig,
        build: RequestedBuild,
    ) -> Result<PreparedLoad, Box<ReloadEvent>> {
        let RequestedBuild {
            path,
            read,
            expected_sha256,
            candidate,
            params_over,
        } = build;
        let symbols = self.symbols_of(&strategy);
        let mut with_params = strategy.clone();
        with_params.params.extend(params_over);
        let params = match with_params.params() {
            Ok(p) => p,
            Err(message) => return Err(Box::new(self.params_rejected(id, Trigger::Api, message))),
        };
        let limits = self.config.limits_of(&strategy);
        let (recent, warmed_through) = self.recent_bars(&symbols);
        Ok(PreparedLoad {
            id: id.to_owned(),
            trigger: Trigger::Api,
            force: true,
            strategy,
            candidate,
            from_request: true,
            path,
            read: Some(read),
            expected_sha256,
            symbols,
            params,
            limits,
            recent,
            warmed_through,
            smoke: self.smoke_setup(id),
        })
    }

    /// What the smoke test of a new load for `id` shows the strategy: the
    /// equity its running generation last published (its account continues
    /// into the new version), `broker.starting_cash` before its first bar,
    /// and the feed's bar spacing.
    pub(super) fn smoke_setup(&self, id: &str) -> SmokeSetup {
        let starting = self.config.broker.starting_cash;
        let equity = self
            .slots
            .get(id)
            .filter(|state| state.slot.counters.bars.load(Ordering::Relaxed) > 0)
            .map(|state| state.slot.counters.equity())
            .filter(|equity| equity.is_finite() && *equity > 0.0)
            .unwrap_or(starting);
        SmokeSetup::new(
            equity,
            i64::try_from(self.config.feed.interval_ms).unwrap_or(i64::MAX),
        )
    }

    /// Publishes what a load's pipeline produced, or reports why not.
    pub(super) fn conclude_load(
        &mut self,
        prepared: PreparedLoad,
        outcome: LoadOutcome,
    ) -> ReloadEvent {
        // `[strategy.deploy] mode = "shadow"`: a new file of a running
        // strategy becomes its candidate, not its live version.
        let candidate = prepared.candidate
            || (prepared.trigger == Trigger::File
                && prepared.strategy.deploy.mode == crate::config::DeployMode::Shadow
                && self.slots.contains_key(&prepared.id));
        let attempt = Attempt {
            candidate,
            strategy: &prepared.strategy,
            trigger: prepared.trigger,
            params: prepared.params,
            limits: prepared.limits,
            warmup: Warmup {
                recent: &prepared.recent,
                warmed_through: prepared.warmed_through,
                restore_from: None,
                equity: prepared.smoke.equity,
            },
        };
        self.conclude(&prepared.id, attempt, outcome)
    }

    /// A new generation from an already type-checked recipe with new params
    /// or limits: nothing is read or compiled. With `after_traps` (the first
    /// and last bar of a run of traps), no bar that trapped is fed again and
    /// the new generation starts after the last one.
    pub(super) fn rebuild(
        &mut self,
        id: &str,
        params: Vec<Param>,
        limits: Limits,
        trigger: Trigger,
        after_traps: Option<AfterTraps>,
    ) -> ReloadEvent {
        let (Some(state), Some((_, current))) = (self.slots.get(id), self.current(id)) else {
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
        let smoke = self.smoke_setup(id);
        // The build's optimised code once there is some (a tier-up, or a
        // rebuild after it finished), else the code it runs on.
        let current = self.with_best_code(current);
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
                smoke,
            },
            &path,
        );
        let attempt = Attempt {
            candidate: false,
            strategy: &strategy,
            trigger,
            params,
            limits,
            warmup: Warmup {
                recent: &recent,
                warmed_through,
                restore_from,
                equity: smoke.equity,
            },
        };
        self.conclude(id, attempt, outcome)
    }

    /// A rebuild with the params and limits the config now gives.
    pub(super) fn rebuild_from_config(&mut self, id: &str, trigger: Trigger) -> ReloadEvent {
        let Some(strategy) = self.config.strategy(id).cloned() else {
            return self.retire(id, trigger);
        };
        match strategy.params() {
            Ok(params) => {
                let limits = self.config.limits_of(&strategy);
                self.rebuild(id, params, limits, trigger, None)
            }
            Err(message) => self.params_rejected(id, trigger, message),
        }
    }

    fn params_rejected(&self, id: &str, trigger: Trigger, message: String) -> ReloadEvent {
        let error =
            LoadError::new(Stage::Init, message).hint("fix `[strategy.params]` in the config");
        self.emit_reload(ReloadEvent::rejected(id, trigger, &error))
    }

    /// Publishes a candidate that passed the pipeline, or reports why not.
    fn conclude(&mut self, id: &str, attempt: Attempt<'_>, outcome: LoadOutcome) -> ReloadEvent {
        for warning in &outcome.cache_warnings {
            self.sink.emit(Event::Cache(CacheEvent::new(id, warning)));
        }
        let candidate = match outcome.result {
            Ok(c) => c,
            Err(error) => {
                let error = located_param_error(&self.config, id, error);
                let mut event = ReloadEvent::rejected(id, attempt.trigger, &error);
                event.duration_us = durations(&outcome.timings);
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
            tier: candidate.tier,
        };
        let publish = if attempt.candidate {
            Self::publish_candidate
        } else {
            Self::publish
        };
        let event = publish(
            self,
            Publication {
                id,
                strategy: attempt.strategy,
                recipe,
                trigger: attempt.trigger,
                outcome: if attempt.trigger == Trigger::TierUp {
                    Outcome::TieredUp
                } else {
                    Outcome::Swapped
                },
                cache_hit: candidate.cache_hit,
                timings: outcome.timings,
                warmup: attempt.warmup,
            },
        );
        // A candidate stays on the code it was loaded with; a live build on
        // baseline code gets its optimised code.
        if !attempt.candidate {
            self.tier_up_if_baseline(&event);
        }
        event
    }

    /// True when the file's hash and the params are what is live already.
    fn unchanged(&self, id: &str, sha256: &str, params: &[Param]) -> bool {
        let Some((_, current)) = self.current(id) else {
            return false;
        };
        if lock(&self.shared.quarantined).contains_key(id) {
            return false;
        }
        // A file that is the running candidate's build is loaded already.
        let candidate = self
            .slots
            .get(id)
            .and_then(|state| state.slot.shadow.candidate())
            .is_some_and(|c| {
                c.recipe.sha256 == sha256 && c.recipe.params_hash == params_hash(params)
            });
        candidate || (sha256 == current.sha256 && current.params_hash == params_hash(params))
    }
}

/// A fresh store for the live generation: instantiate, init, then replay
/// recent bars (orders discarded) so it is warm before the loop sees it.
pub(super) fn warm_instance(
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
    instance.set_log_phase(crate::guest_log::LogPhase::Warmup);
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
        cash: warmup.equity,
        equity: warmup.equity,
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
            .replay_bar(*bar, flat)
            .map_err(|e| trapped(Stage::StateHandoff, e))?;
    }
    instance.set_log_phase(crate::guest_log::LogPhase::Live);
    Ok(instance)
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

/// A parameter the strategy refused at `init`, pointed at where the config
/// sets it (file:line:column and a hint, as every other config error is);
/// any other error as it is.
fn located_param_error(config: &crate::config::Config, id: &str, error: LoadError) -> LoadError {
    if error.stage != Stage::Init {
        return error;
    }
    match config.param_error(id, &error.message) {
        Some(at) => {
            let place = match (at.line, at.column) {
                (Some(line), Some(column)) => format!("{}:{line}:{column}", at.path.display()),
                (Some(line), None) => format!("{}:{line}", at.path.display()),
                _ => at.path.display().to_string(),
            };
            let located = LoadError::new(Stage::Init, format!("{place}: {}", at.message));
            match at.hint {
                Some(hint) => located.hint(hint),
                None => located,
            }
        }
        None => error,
    }
}
