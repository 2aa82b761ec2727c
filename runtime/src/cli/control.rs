//! `runtime reload|rollback|pause|resume|halt|unhalt <ID>`: control actions
//! on a running instance, each printing the strategy's state afterwards.

use super::connect::OpsArgs;
use sandbar_runtime::ops::render_control;
use std::process::ExitCode;

/// What to ask the API for.
pub enum Action {
    Reload,
    Rollback {
        steps: Option<usize>,
        to_version: Option<u64>,
    },
    Pause,
    Resume,
    Halt,
    Unhalt,
}

pub fn run(id: &str, action: Action, ops: &OpsArgs) -> anyhow::Result<ExitCode> {
    let client = ops.client()?;
    let path = match action {
        Action::Reload => format!("/strategies/{id}/reload"),
        Action::Rollback {
            to_version: Some(v),
            ..
        } => {
            format!("/strategies/{id}/rollback?to_version={v}")
        }
        Action::Rollback { steps, .. } => {
            format!("/strategies/{id}/rollback?steps={}", steps.unwrap_or(1))
        }
        Action::Pause => format!("/strategies/{id}/pause"),
        Action::Resume => format!("/strategies/{id}/resume"),
        Action::Halt => format!("/strategies/{id}/halt"),
        Action::Unhalt => format!("/strategies/{id}/unhalt"),
    };
    let answer = client.post(&path)?;
    if ops.json {
        println!("{}", serde_json::to_string_pretty(&answer)?);
    } else {
        println!("{}", render_control(&answer));
    }
    Ok(ExitCode::SUCCESS)
}
