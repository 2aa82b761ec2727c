//! Shadow candidates on the control plane: a build from a request (a path
//! inside `runtime.strategies_dir`, or the bytes) or a new file of a strategy
//! with `[strategy.deploy] mode = "shadow"` runs the whole pipeline, is warmed
//! up like a live generation, and goes to the slot's candidate place, where
//! the bar loop runs it beside the live one (`bar_loop/shadow.rs`). Promote
//! (by the swap policy, `swap_policy.rs`), discard, and the auto-promotion
//! rule of `[strategy.deploy]`.

use super::super::command::{CandidateAction, DeployRequest, DeploySource, Reply};
use super::super::events::{
    DeployEvent, DeployWhat, Outcome, ReloadEvent, Trigger, durations, now_rfc3339,
};
use super::super::generation::{Generation, StrategySlot};
use super::super::shared::lock;
use super::ControlPlane;
use super::publish::Publication;
use super::reload::{PreparedLoad, RequestedBuild, warm_instance};
use crate::action::Action;
use crate::error::{LoadError, Stage};
use crate::load::Loader;
use crate::refusal::Refusal;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

impl ControlPlane {
    /// Runs a requested build's pipeline (on a worker thread); the reply
    /// gets its reload event (`candidate`, `pending`, `swapped` or `rejected`).
    pub(super) fn deploy(&mut self, id: &str, request: DeployRequest, reply: Reply<ReloadEvent>) {
        match self.prepare_deploy(id, request) {
            Ok(prepared) => self.start_pipeline(prepared, vec![reply]),
            Err(refusal) => {
                let _ = reply.send(Err(refusal));
            }
        }
    }

    fn prepare_deploy(&self, id: &str, request: DeployRequest) -> Result<PreparedLoad, Refusal> {
        let Some(strategy) = self.config.strategy(id).filter(|s| s.enabled).cloned() else {
            return Err(Refusal::NotEnabled {
                strategy: id.to_owned(),
            });
        };
        if request.shadow && !self.slots.contains_key(id) {
            return Err(Refusal::UnknownStrategy {
                strategy: id.to_owned(),
                running: self.slots.keys().cloned().collect(),
            });
        }
        let expected = request.sha256.map(|s| s.to_ascii_lowercase());
        match &expected {
            None if self.config.profile == crate::config::Profile::Prod => {
                return Err(Refusal::BadArguments {
                    message: "prod verifies every build: give the deployed build's sha256".into(),
                    hint: "`runtime hash FILE` prints it; pass it with `runtime deploy ID FILE --sha256 H` (or `sha256` in the request)",
                });
            }
            Some(sha) if sha.len() != 64 || !sha.chars().all(|c| c.is_ascii_hexdigit()) => {
                return Err(Refusal::BadArguments {
                    message: format!("`{sha}` is not a SHA-256 (64 hex digits)"),
                    hint: "`runtime hash FILE` prints the SHA-256 of a component",
                });
            }
            _ => {}
        }
        let max = self.config.limits_of(&strategy).max_component_bytes;
        let (path, read) = match request.source {
            DeploySource::Path(path) => {
                let path = self.inside_strategies_dir(&path)?;
                let read = Loader::read_stage(&path, max);
                (path, read)
            }
            DeploySource::Bytes(bytes) => {
                let path = PathBuf::from(format!("<{} bytes sent to the ops API>", bytes.len()));
                let read = Loader::read_bytes_stage(&path, bytes, max);
                (path, read)
            }
        };
        let build = RequestedBuild {
            path,
            read,
            expected_sha256: expected,
            candidate: request.shadow,
            params_over: request.params,
        };
        self.prepare_request(id, strategy, build)
            .map_err(|event| Refusal::ReloadRejected {
                action: Action::Deploy {
                    shadow: self.slots.contains_key(id),
                },
                event,
            })
    }

    /// `path` (relative to `runtime.strategies_dir`, or absolute) when it is
    /// a file inside that directory: the only place builds load from.
    fn inside_strategies_dir(&self, path: &Path) -> Result<PathBuf, Refusal> {
        let dir = self.config.strategies_dir();
        let joined = if path.is_absolute() {
            path.to_owned()
        } else {
            dir.join(path)
        };
        let outside = || Refusal::BadArguments {
            message: format!(
                "`{}` is not a file inside runtime.strategies_dir ({})",
                path.display(),
                dir.display()
            ),
            hint: "copy the build into `runtime.strategies_dir`, or send its bytes (`runtime deploy` does)",
        };
        let (Ok(file), Ok(dir)) = (std::fs::canonicalize(&joined), std::fs::canonicalize(&dir))
        else {
            return Err(outside());
        };
        if file.starts_with(&dir) && file.is_file() {
            Ok(joined)
        } else {
            Err(outside())
        }
    }

    /// A build that passed the pipeline becomes the strategy's candidate:
    /// warmed up like a live generation, then stored in the slot's candidate
    /// place, replacing (discarding) an older one. The live generation is
    /// not touched.
    pub(super) fn publish_candidate(&mut self, publication: Publication<'_>) -> ReloadEvent {
        let Publication {
            id,
            strategy,
            recipe,
            trigger,
            cache_hit,
            mut timings,
            warmup,
            ..
        } = publication;
        let symbols = self.symbols_of(strategy);
        let reject = |this: &Self, error: LoadError, sha256: &str| {
            let error = error.for_strategy(id, &this.config.wasm_path(strategy));
            let mut event = ReloadEvent::rejected(id, trigger, &error);
            event.sha256 = Some(sha256.to_owned());
            event.previous_sha256 = this.current_sha(id);
            this.emit_reload(event)
        };
        let Some(slot) = self.slots.get(id).map(|s| Arc::clone(&s.slot)) else {
            let error = LoadError::new(
                Stage::StateHandoff,
                "no live version to run a candidate beside",
            )
            .hint("a candidate runs beside a live version: start the strategy first");
            return reject(self, error, &recipe.sha256);
        };
        if !slot
            .symbols
            .iter()
            .map(|s| &**s)
            .eq(symbols.iter().map(String::as_str))
        {
            let error = LoadError::new(
                Stage::StateHandoff,
                "the candidate would trade other symbols than the live version",
            )
            .hint("a symbols change goes live by a config edit; deploy the candidate after it");
            return reject(self, error, &recipe.sha256);
        }
        let started = Instant::now();
        let instance = warm_instance(id, &recipe, &symbols, &warmup);
        timings
            .stages
            .push((Stage::StateHandoff, started.elapsed()));
        let instance = match instance {
            Ok(instance) => instance,
            Err(error) => return reject(self, error, &recipe.sha256),
        };
        let version = lock(&self.shared.versions)
            .entry(id.to_owned())
            .or_insert_with(super::VersionHistory::new)
            .take_version();
        let sha256 = recipe.sha256.clone();
        let generation = Arc::new(Generation::new(
            Arc::from(id),
            version,
            recipe,
            instance,
            warmup.warmed_through,
            trigger,
        ));
        let actor = super::swap_policy::trigger_name(trigger);
        // A promotion of the older candidate that waits for its swap goes with it.
        if let Some(pending) = slot.shadow.pending()
            && pending.promotion
        {
            self.cancel_pending(
                &slot,
                DeployWhat::SwapCancelled,
                actor,
                "replaced by a newer candidate",
            );
        }
        if let Some(old) = slot.shadow.candidate.swap(Some(Arc::clone(&generation))) {
            self.deploy_event(
                &old,
                DeployWhat::Discarded,
                actor,
                Some(format!("replaced by candidate version {version}")),
            );
        }
        // Its optimised code compiles meanwhile, for its promotion.
        self.tier_up_build(id, &sha256, generation.recipe.tier);
        let mut event = ReloadEvent::base(id, Outcome::Candidate, trigger);
        event.sha256 = Some(sha256);
        event.previous_sha256 = Some(slot.current.load().sha256().to_owned());
        event.version = Some(version);
        event.duration_us = durations(&timings);
        event.cache_hit = cache_hit;
        let event = self.emit_reload(event);
        self.deploy_event(
            &generation,
            DeployWhat::Candidate,
            actor,
            Some(
                "runs in the shadow from the next bar; its orders go to its own paper account"
                    .into(),
            ),
        );
        event
    }

    /// Promote, discard, force or cancel, for the ops API and the CLI.
    pub(super) fn candidate_action(
        &mut self,
        id: &str,
        action: CandidateAction,
        actor: &str,
    ) -> Result<DeployEvent, Refusal> {
        let slot = self.slot_of(id)?;
        match action {
            CandidateAction::Promote => self.promote(id, &slot, actor, None),
            CandidateAction::Discard => self.discard(&slot, actor, None),
            CandidateAction::SwapNow => self.force_swap(&slot, actor),
            CandidateAction::SwapCancel => self
                .cancel_pending(
                    &slot,
                    DeployWhat::SwapCancelled,
                    actor,
                    "cancelled by the operator",
                )
                .ok_or_else(|| Refusal::NoPendingSwap {
                    strategy: id.to_owned(),
                }),
        }
    }

    pub(super) fn slot_of(&self, id: &str) -> Result<Arc<StrategySlot>, Refusal> {
        self.slots
            .get(id)
            .map(|s| Arc::clone(&s.slot))
            .ok_or_else(|| Refusal::UnknownStrategy {
                strategy: id.to_owned(),
                running: self.slots.keys().cloned().collect(),
            })
    }

    /// The candidate goes live at the swap policy's next chance; until then
    /// it keeps running in the shadow. It enters the version history now.
    fn promote(
        &mut self,
        id: &str,
        slot: &Arc<StrategySlot>,
        actor: &str,
        reason: Option<String>,
    ) -> Result<DeployEvent, Refusal> {
        let candidate = slot
            .shadow
            .candidate()
            .ok_or_else(|| Refusal::NoCandidate {
                strategy: id.to_owned(),
            })?;
        if slot
            .shadow
            .pending()
            .is_some_and(|p| Arc::ptr_eq(&p.generation, &candidate))
        {
            // Promoted already, waiting for its swap: nothing more to do.
            return Ok(self.deploy_event(
                &candidate,
                DeployWhat::Promoted,
                actor,
                Some("promoted already; its swap is waiting".into()),
            ));
        }
        // The config now (an edit of `[strategy.deploy]` alone publishes nothing).
        let Some(strategy) = self.config.strategy(id).cloned() else {
            return Err(Refusal::NoCandidate {
                strategy: id.to_owned(),
            });
        };
        let previous_sha256 = slot.current.load().sha256().to_owned();
        let waits = self.swap_in(
            slot,
            &strategy,
            Arc::clone(&candidate),
            Trigger::Promote,
            true,
        );
        {
            let mut versions = lock(&self.shared.versions);
            if let Some(history) = versions.get_mut(id) {
                history.record(candidate.version, &candidate.recipe);
                history.trim(self.config.hot_reload.keep_versions);
            }
        }
        let outcome = if waits {
            Outcome::Pending
        } else {
            Outcome::Swapped
        };
        // Live on the code it ran in the shadow: baseline code tiers up
        // once the loop has taken it (`tier_up_live_baseline`).
        let mut event = ReloadEvent::base(id, outcome, Trigger::Promote);
        event.sha256 = Some(candidate.sha256().to_owned());
        event.previous_sha256 = Some(previous_sha256);
        event.version = Some(candidate.version);
        self.emit_reload(event);
        let reason = reason.unwrap_or_else(|| {
            if waits {
                "waits for its swap policy; it keeps running in the shadow until then".into()
            } else {
                "goes live at the next bar with the state it built in the shadow".into()
            }
        });
        Ok(self.deploy_event(&candidate, DeployWhat::Promoted, actor, Some(reason)))
    }

    fn discard(
        &mut self,
        slot: &Arc<StrategySlot>,
        actor: &str,
        reason: Option<String>,
    ) -> Result<DeployEvent, Refusal> {
        let Some(candidate) = slot.shadow.candidate.swap(None) else {
            return Err(Refusal::NoCandidate {
                strategy: slot.id.to_string(),
            });
        };
        if slot
            .shadow
            .pending()
            .is_some_and(|p| Arc::ptr_eq(&p.generation, &candidate))
        {
            self.cancel_pending(
                slot,
                DeployWhat::SwapCancelled,
                actor,
                "its candidate was discarded",
            );
        }
        Ok(self.deploy_event(
            &candidate,
            DeployWhat::Discarded,
            actor,
            Some(reason.unwrap_or_else(|| "discarded; the live version keeps running".into())),
        ))
    }

    /// `[strategy.deploy] auto_promote`: after `promote_after_bars` shadow
    /// bars without a trap, promote when the orders agreed on at least
    /// `min_agreement_pct` of the bars or the shadow PnL is within
    /// `pnl_tolerance_pct` of `broker.starting_cash` of the live PnL;
    /// discard one that has not qualified by `discard_after_bars`.
    pub(super) fn auto_promotion(&mut self) {
        let due: Vec<(String, Arc<StrategySlot>, crate::config::DeploySection)> = self
            .slots
            .iter()
            .filter_map(|(id, s)| {
                let deploy = &self.config.strategy(id)?.deploy;
                deploy
                    .auto_promote
                    .then(|| (id.clone(), Arc::clone(&s.slot), deploy.clone()))
            })
            .collect();
        for (id, slot, deploy) in due {
            let Some(candidate) = slot.shadow.candidate() else {
                continue;
            };
            if slot
                .shadow
                .pending()
                .is_some_and(|p| Arc::ptr_eq(&p.generation, &candidate))
            {
                continue;
            }
            let c = candidate.shadow.comparison();
            if c.bars < deploy.promote_after_bars || c.shadow.traps > 0 {
                continue;
            }
            let tolerance = deploy.pnl_tolerance_pct / 100.0 * self.config.broker.starting_cash;
            let pnl_gap = (c.shadow.pnl - c.live.pnl).abs();
            let figures = format!(
                "after {} bars: orders agreed on {:.2}% (at least {}% asked), shadow PnL {:.2} against live {:.2} (within {:.2} asked)",
                c.bars,
                c.agreement_pct,
                deploy.min_agreement_pct,
                c.shadow.pnl,
                c.live.pnl,
                tolerance
            );
            if c.agreement_pct >= deploy.min_agreement_pct || pnl_gap <= tolerance {
                let _ = self.promote(&id, &slot, "auto", Some(format!("auto-promoted {figures}")));
            } else if c.bars >= deploy.discard_after_bars {
                let _ = self.discard(
                    &slot,
                    "auto",
                    Some(format!(
                        "auto-discarded at `discard_after_bars` = {} {figures}",
                        deploy.discard_after_bars
                    )),
                );
            }
        }
    }

    /// Emits (and returns) a `deploy` event about `generation`.
    pub(super) fn deploy_event(
        &self,
        generation: &Generation,
        what: DeployWhat,
        actor: &str,
        reason: Option<String>,
    ) -> DeployEvent {
        let event = DeployEvent {
            ts: now_rfc3339(),
            strategy: generation.strategy_id.to_string(),
            what,
            version: generation.version,
            sha256: generation.sha256().to_owned(),
            actor: actor.to_owned(),
            reason,
            comparison: matches!(what, DeployWhat::Promoted | DeployWhat::Discarded)
                .then(|| generation.shadow.comparison()),
        };
        tracing::info!(strategy = %event.strategy, version = event.version, what = ?what, actor, "{}", event.reason.as_deref().unwrap_or(""));
        self.sink
            .emit(super::super::events::Event::Deploy(event.clone()));
        event
    }
}
