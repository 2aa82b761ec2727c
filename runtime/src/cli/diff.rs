//! `runtime diff ID`: the live version against its shadow candidate — orders
//! per bar that differ, signal agreement, each side's PnL, drawdown, fills,
//! refusals, traps, per-bar latency and fuel — as a table (`--json`: the
//! strategy's status as the API gives it).

use super::connect::OpsArgs;
use sandbar_runtime::ops::render_diff;
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct DiffArgs {
    /// The strategy.
    id: String,
    #[command(flatten)]
    ops: OpsArgs,
}

impl DiffArgs {
    pub fn execute(self) -> anyhow::Result<ExitCode> {
        let strategy = self.ops.client()?.get(&format!(
            "/strategies/{}",
            sandbar_runtime::ops::path_segment(&self.id)
        ))?;
        if self.ops.json {
            let view = serde_json::json!({
                "id": strategy["id"],
                "version": strategy["version"],
                "sha256": strategy["sha256"],
                "candidate": strategy["candidate"],
                "pending_swap": strategy["pending_swap"],
            });
            println!("{}", serde_json::to_string_pretty(&view)?);
        } else {
            print!("{}", render_diff(&strategy));
        }
        Ok(ExitCode::SUCCESS)
    }
}
