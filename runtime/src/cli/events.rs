//! `runtime events`: a running instance's events, one line each, as they happen.

use super::connect::OpsArgs;
use sandbar_runtime::ops::render_event_line;
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct EventsArgs {
    /// Only this strategy's events.
    #[arg(long)]
    strategy: Option<String>,
    /// Follow every node of the fleet (NATS, `[fleet]` of --config) instead of one instance.
    #[arg(long)]
    fleet: bool,
    #[command(flatten)]
    ops: OpsArgs,
}

impl EventsArgs {
    pub fn execute(self) -> anyhow::Result<ExitCode> {
        if self.fleet {
            return super::fleet::follow_events(
                self.strategy.as_deref(),
                self.ops.json,
                self.ops.config.as_deref(),
            );
        }
        run(self.strategy.as_deref(), &self.ops)
    }
}

fn run(strategy: Option<&str>, ops: &OpsArgs) -> anyhow::Result<ExitCode> {
    let client = ops.client()?;
    let stream = client.events(strategy)?;
    for message in stream {
        let message = message.map_err(|e| anyhow::anyhow!("the event stream broke off: {e}"))?;
        if message.is_comment {
            continue;
        }
        if message.event == "hello" {
            eprintln!("following {}/events (Ctrl-C stops)", client.base_url());
            let hello = serde_json::from_str::<serde_json::Value>(&message.data).ok();
            if let Some(note) = hello.as_ref().and_then(|h| h["note"].as_str()) {
                eprintln!("warning: {note}");
            }
            continue;
        }
        if ops.json {
            println!("{}", message.data);
            continue;
        }
        match serde_json::from_str::<serde_json::Value>(&message.data) {
            Ok(event) => println!("{}", render_event_line(&message.event, &event)),
            Err(_) => println!("{} {}", message.event, message.data),
        }
    }
    eprintln!("the runtime closed the event stream (stopped?)");
    Ok(ExitCode::SUCCESS)
}
