//! What the control plane is asked to do: by the watcher, the API, or the
//! event thread on behalf of the bar loop. Only pipeline work comes here;
//! run-state changes and audit records are handled where they are asked
//! (`run_states.rs`, the event sink), so they never wait for a compile.

use super::events::{ReloadEvent, TrapEvent};
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
    Shutdown,
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
