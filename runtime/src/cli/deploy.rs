//! `runtime deploy ID FILE [--shadow]`: sends a build to a running instance.
//! With `--shadow` it becomes the strategy's candidate: it trades on the
//! live bars with a shadow paper account beside the live version until
//! `runtime promote` or `runtime discard` (or the auto-promotion rule).
//! Without, it goes live by the strategy's swap policy. Either way it runs
//! the whole pipeline first; the file is read here and its bytes sent
//! (`POST /strategies/{id}/candidate` or `/deploy`), so it may live anywhere.

use super::connect::OpsArgs;
use sandbar_runtime::Action;
use sandbar_runtime::ops::render_control;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct DeployArgs {
    /// The strategy's id in the running config.
    id: String,
    /// The component (`.wasm`) to deploy.
    file: PathBuf,
    /// Run it as the shadow candidate beside the live version instead of live.
    #[arg(long)]
    shadow: bool,
    /// The SHA-256 the file must have (`runtime hash FILE`); required in prod.
    #[arg(long, value_name = "HEX")]
    sha256: Option<String>,
    /// A parameter over the config's `[strategy.params]` for this build, as
    /// KEY=VALUE (a TOML value: 5, 0.5, true, "text"; bare words are text). Repeatable.
    #[arg(long = "param", value_name = "KEY=VALUE")]
    params: Vec<String>,
    #[command(flatten)]
    ops: OpsArgs,
}

impl DeployArgs {
    pub fn execute(self) -> anyhow::Result<ExitCode> {
        let bytes = std::fs::read(&self.file)
            .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", self.file.display()))?;
        let mut query = Vec::new();
        if let Some(sha) = &self.sha256 {
            query.push(format!("sha256={}", percent(sha)));
        }
        if !self.params.is_empty() {
            let params = params_json(&self.params)?;
            query.push(format!("params={}", percent(&params.to_string())));
        }
        let mut path = Action::Deploy {
            shadow: self.shadow,
        }
        .path(&self.id);
        if !query.is_empty() {
            path = format!("{path}?{}", query.join("&"));
        }
        let answer = self.ops.client()?.post_bytes(&path, &bytes)?;
        if self.ops.json {
            println!("{}", serde_json::to_string_pretty(&answer)?);
        } else {
            println!("{}", render_control(&answer));
        }
        Ok(ExitCode::SUCCESS)
    }
}

/// `KEY=VALUE` pairs as a JSON object; a value that is no TOML literal is text.
fn params_json(pairs: &[String]) -> anyhow::Result<serde_json::Value> {
    let mut object = serde_json::Map::new();
    for pair in pairs {
        let Some((key, value)) = pair.split_once('=') else {
            anyhow::bail!("`--param {pair}` is not KEY=VALUE (for example --param fast=5)");
        };
        let parsed = format!("v = {value}")
            .parse::<toml::Table>()
            .ok()
            .and_then(|mut t| t.remove("v"))
            .unwrap_or_else(|| toml::Value::String(value.to_owned()));
        object.insert(key.trim().to_owned(), serde_json::to_value(parsed)?);
    }
    Ok(serde_json::Value::Object(object))
}

/// Percent-encodes a query value.
fn percent(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issue_19_params_are_toml_values_or_text() {
        let json = params_json(&[
            "fast=5".into(),
            "label=b".into(),
            "x=0.5".into(),
            "on=true".into(),
        ])
        .unwrap();
        assert_eq!(
            json,
            serde_json::json!({"fast": 5, "label": "b", "x": 0.5, "on": true})
        );
        assert!(params_json(&["nope".into()]).is_err());
        assert_eq!(percent("{\"a\":1}"), "%7B%22a%22%3A1%7D");
    }
}
