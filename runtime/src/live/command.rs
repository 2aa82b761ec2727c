//! What the control plane is asked to do, by the watcher, the API or the
//! bar loop.

use super::bar_loop::LoopEvent;
use super::events::ReloadEvent;
use crate::config::Config;
use std::path::PathBuf;
use std::sync::mpsc::Sender;

pub type Reply<T> = Sender<Result<T, String>>;

pub enum Command {
    /// Files under the strategies directory changed.
    FilesChanged(Vec<PathBuf>),
    /// The config file changed on disk.
    ConfigFileChanged,
    /// Apply this config (as if the file had changed to it).
    ApplyConfig(Box<Config>, Reply<Vec<ReloadEvent>>),
    /// Run the pipeline again for a strategy, now.
    Reload(String, Reply<ReloadEvent>),
    /// Go back `steps` versions in the strategy's history.
    Rollback(String, usize, Reply<ReloadEvent>),
    /// Pause, resume, halt or un-halt a strategy.
    SetState(StateRequest, Reply<super::RunState>),
    Loop(LoopEvent),
    /// Journal a control action (`audit.jsonl`).
    Audit(super::journal::AuditRecord),
    Shutdown,
}

/// What an operator asks of a strategy's run state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StateAction {
    Pause,
    Resume,
    Halt,
    Unhalt,
}

pub struct StateRequest {
    pub strategy: String,
    pub action: StateAction,
    /// Who asked, for the event and the audit trail.
    pub actor: String,
}
