//! `runtime status [ID]`: what a running instance is doing.

use super::connect::OpsArgs;
use sandbar_runtime::ops::render_status;
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct StatusArgs {
    /// Only this strategy.
    id: Option<String>,
    #[command(flatten)]
    ops: OpsArgs,
}

impl StatusArgs {
    pub fn execute(self) -> anyhow::Result<ExitCode> {
        run(self.id.as_deref(), &self.ops)
    }
}

fn run(id: Option<&str>, ops: &OpsArgs) -> anyhow::Result<ExitCode> {
    let client = ops.client()?;
    let mut status = client.get("/status")?;
    if let Some(id) = id {
        let strategies = status["strategies"].as_array().cloned().unwrap_or_default();
        let Some(one) = strategies.into_iter().find(|s| s["id"] == id) else {
            // The server's 404 names the running strategies.
            client.get(&format!(
                "/strategies/{}",
                sandbar_runtime::ops::path_segment(id)
            ))?;
            anyhow::bail!("no running strategy `{id}`");
        };
        if ops.json {
            println!("{}", serde_json::to_string_pretty(&one)?);
            return Ok(ExitCode::SUCCESS);
        }
        status["strategies"] = serde_json::Value::Array(vec![one]);
    }
    if ops.json {
        println!("{}", serde_json::to_string_pretty(&status)?);
    } else {
        print!("{}", render_status(&status));
    }
    Ok(ExitCode::SUCCESS)
}
