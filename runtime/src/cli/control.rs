//! `runtime reload|rollback|pause|resume|halt|unhalt <ID>`: control actions
//! on a running instance, each printing the strategy's state afterwards.

use super::connect::OpsArgs;
use sandbar_runtime::ops::render_control;
use sandbar_runtime::{Action, Rollback};
use std::process::ExitCode;

/// The arguments of the actions that take only a strategy: reload, pause,
/// resume, halt and unhalt.
#[derive(Debug, clap::Args)]
pub struct ControlArgs {
    id: String,
    #[command(flatten)]
    ops: OpsArgs,
}

impl ControlArgs {
    pub fn execute(self, action: Action) -> anyhow::Result<ExitCode> {
        run(&self.id, action, &self.ops)
    }
}

#[derive(Debug, clap::Args)]
pub struct RollbackArgs {
    id: String,
    /// Versions to go back [default: 1].
    #[arg(long, conflicts_with = "to_version")]
    steps: Option<usize>,
    /// The version to go back to (`runtime status` lists those kept).
    #[arg(long)]
    to_version: Option<u64>,
    /// Roll the fleet's deployment back in its key's history instead (NATS, `[fleet]` of --config).
    #[arg(long, conflicts_with = "to_version")]
    fleet: bool,
    #[command(flatten)]
    ops: OpsArgs,
}

impl RollbackArgs {
    pub fn execute(self) -> anyhow::Result<ExitCode> {
        if self.fleet {
            let steps = self.steps.unwrap_or(1);
            return super::fleet::rollback(&self.id, steps, self.ops.config.as_deref());
        }
        let target = match (self.to_version, self.steps) {
            (Some(version), _) => Rollback::ToVersion(version),
            (None, Some(steps)) => Rollback::Steps(steps),
            (None, None) => Rollback::default(),
        };
        run(&self.id, Action::Rollback(target), &self.ops)
    }
}

fn run(id: &str, action: Action, ops: &OpsArgs) -> anyhow::Result<ExitCode> {
    let client = ops.client()?;
    let answer = client.post(&action.path(id))?;
    if ops.json {
        println!("{}", serde_json::to_string_pretty(&answer)?);
    } else {
        println!("{}", render_control(&answer));
    }
    Ok(ExitCode::SUCCESS)
}
