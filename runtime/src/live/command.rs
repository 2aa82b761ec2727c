//! What the control plane is asked to do: by the watcher, the API, or the
//! event thread on behalf of the bar loop. Only pipeline work comes here;
//! run-state changes and audit records are handled where they are asked
//! (`run_states.rs`, the event sink), so they never wait for a compile.

use super::events::{DeployEvent, ReloadEvent, TrapEvent};
use super::loop_event::{GoodSnapshot, HandoffFailure};
use crate::action::StateAction;
use crate::config::Config;
use crate::refusal::Refusal;
use std::path::PathBuf;
use std::sync::mpsc::Sender;

pub type Reply<T> = Sender<Result<T, Refusal>>;

pub enum ControlCommand {
    /// Files under the strategies directory changed.
    FilesChanged(Vec<PathBuf>),
    /// The config file changed on disk.
    ConfigFileChanged,
    /// Apply this config (as if the file had changed to it).
    ApplyConfig(Box<Config>, Reply<Vec<ReloadEvent>>),
    /// The fleet's strategies for this node changed: apply the local config
    /// with these `[[strategy]]` entries beside its own, as a diff.
    ApplyFleet(Vec<crate::config::StrategyConfig>, Reply<Vec<ReloadEvent>>),
    /// Run the pipeline again for a strategy, now.
    Reload(String, Reply<ReloadEvent>),
    /// The pipeline worker finished a load.
    Loaded(Box<super::control::FinishedLoad>),
    /// Go back `steps` versions in the strategy's history.
    Rollback(String, usize, Reply<ReloadEvent>),
    /// A strategy trapped (already published as an event): rebuild, roll
    /// back or quarantine it.
    Trapped(TrapEvent, Option<GoodSnapshot>),
    /// The loop put the old generation back: the history's newest entry
    /// must describe it again.
    HandoffFailed(HandoffFailure),
    /// Load a build from the request (a path or bytes) as the strategy's
    /// candidate (`shadow`) or as its live version, through the pipeline.
    Deploy(String, Box<DeployRequest>, Reply<ReloadEvent>),
    /// Promote, discard, or force or cancel a waiting swap.
    Candidate(String, CandidateAction, String, Reply<DeployEvent>),
    /// Cranelift finished (or failed) the optimised code of a build live on
    /// baseline code (`control/tier_up.rs`).
    TierUpCompiled(Box<super::control::TierUpDone>),
    Shutdown,
}

/// Where a deployed build comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeploySource {
    /// A file inside `runtime.strategies_dir` (relative to it, or absolute).
    Path(PathBuf),
    /// The component's bytes (the ops API's request body).
    Bytes(Vec<u8>),
}

/// A build to deploy ([`ControlCommand::Deploy`]).
#[derive(Debug, Clone)]
pub struct DeployRequest {
    /// The build: a path inside `runtime.strategies_dir`, or its bytes.
    pub source: DeploySource,
    /// The SHA-256 the bytes must have (required in prod).
    pub sha256: Option<String>,
    /// True: as the candidate (shadow); false: live, by the swap policy.
    pub shadow: bool,
    /// Parameters set over the config's `[strategy.params]` for this build
    /// (a candidate tried with other values, say).
    pub params: toml::Table,
    /// Who asked.
    pub actor: String,
}

/// What to do with a strategy's candidate or waiting swap.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CandidateAction {
    /// The candidate goes live (by the swap policy).
    Promote,
    /// The candidate is dropped.
    Discard,
    /// The waiting swap happens at the next bar.
    SwapNow,
    /// The waiting swap is cancelled.
    SwapCancel,
}

pub struct StateRequest {
    pub strategy: String,
    pub action: StateAction,
    /// Who asked, for the event and the audit trail.
    pub actor: String,
}

/// Sends a command and waits for its reply.
pub(crate) fn ask<T>(
    commands: &Sender<ControlCommand>,
    make: impl FnOnce(Reply<T>) -> ControlCommand,
) -> Result<T, Refusal> {
    let (tx, rx) = std::sync::mpsc::channel();
    commands.send(make(tx)).map_err(|_| Refusal::ShuttingDown)?;
    rx.recv().map_err(|_| Refusal::ShuttingDown)?
}
