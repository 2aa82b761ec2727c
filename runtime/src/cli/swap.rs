//! `runtime swap ID --now | --cancel`: a swap waiting for its policy
//! (`[strategy.deploy] swap = "when_flat"`, `swap_window`) happens at the
//! next bar, or is dropped (the running version keeps running).

use super::connect::OpsArgs;
use sandbar_runtime::Action;
use sandbar_runtime::ops::render_control;
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct SwapArgs {
    /// The strategy.
    id: String,
    /// Swap at the next bar, whatever the policy.
    #[arg(long, conflicts_with = "cancel", required_unless_present = "cancel")]
    now: bool,
    /// Drop the waiting swap.
    #[arg(long)]
    cancel: bool,
    #[command(flatten)]
    ops: OpsArgs,
}

impl SwapArgs {
    pub fn execute(self) -> anyhow::Result<ExitCode> {
        let action = if self.now {
            Action::SwapNow
        } else if self.cancel {
            Action::SwapCancel
        } else {
            anyhow::bail!("say --now (swap at the next bar) or --cancel (drop the waiting swap)");
        };
        let answer = self.ops.client()?.post(&action.path(&self.id))?;
        if self.ops.json {
            println!("{}", serde_json::to_string_pretty(&answer)?);
        } else {
            println!("{}", render_control(&answer));
        }
        Ok(ExitCode::SUCCESS)
    }
}
