//! `runtime status [ID]` and `runtime events`: reading a running instance.

use super::connect::OpsArgs;
use sandbar_runtime::ops::{render_event_line, render_status};
use std::process::ExitCode;

pub fn status(id: Option<&str>, ops: &OpsArgs) -> anyhow::Result<ExitCode> {
    let client = ops.client()?;
    let mut status = client.get("/status")?;
    if let Some(id) = id {
        let strategies = status["strategies"].as_array().cloned().unwrap_or_default();
        let Some(one) = strategies.into_iter().find(|s| s["id"] == id) else {
            // The server's 404 names the running strategies.
            client.get(&format!("/strategies/{id}"))?;
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

pub fn events(strategy: Option<&str>, ops: &OpsArgs) -> anyhow::Result<ExitCode> {
    let client = ops.client()?;
    let stream = client.events(strategy)?;
    for message in stream {
        let message = message.map_err(|e| anyhow::anyhow!("the event stream broke off: {e}"))?;
        if message.is_comment {
            continue;
        }
        if message.event == "hello" {
            eprintln!("following {}/events (Ctrl-C stops)", client.base_url());
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
