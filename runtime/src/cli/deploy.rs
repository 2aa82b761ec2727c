//! `runtime deploy`, two forms.
//!
//! `runtime deploy ID FILE [--shadow]`: sends a build to a running instance.
//! With `--shadow` it becomes the strategy's candidate: it trades on the
//! live bars with a shadow paper account beside the live version until
//! `runtime promote` or `runtime discard` (or the auto-promotion rule).
//! Without, it goes live by the strategy's swap policy. Either way it runs
//! the whole pipeline first; the file is read here and its bytes sent
//! (`POST /strategies/{id}/candidate` or `/deploy`), so it may live anywhere.
//!
//! `runtime deploy ID --sha256 H [--nodes ...]` (no FILE): writes the
//! fleet's desired deployment to NATS (`cli/fleet.rs`); every node it names
//! loads the published artefact through its own pipeline.

use super::connect::OpsArgs;
use sandbar_runtime::Action;
use sandbar_runtime::ops::render_control;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct DeployArgs {
    /// The strategy's id in the running config.
    id: String,
    /// The component (`.wasm`) to deploy to the running instance; leave it
    /// out (and give --sha256) to deploy a published component to the fleet.
    file: Option<PathBuf>,
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
    /// Fleet form: which nodes run it: `all`, `NODE[,NODE...]`, or `label:KEY=VALUE` [default: all].
    #[arg(long)]
    nodes: Option<String>,
    /// Fleet form: the symbols it trades, comma-separated [default: every feed symbol of each node].
    #[arg(long, value_delimiter = ',')]
    symbols: Vec<String>,
    /// Fleet form: write it disabled (nodes check it but do not run it).
    #[arg(long)]
    disabled: bool,
    /// Fleet form: write only over this revision of the key (0: only if it
    /// does not exist) [default: the revision read just before writing].
    #[arg(long)]
    revision: Option<u64>,
    /// Fleet form: the NATS server [default: $SANDBAR_NATS_URL, the config's `fleet.url`, or nats://127.0.0.1:4222].
    #[arg(long)]
    url: Option<String>,
    /// Fleet form: the fleet's namespace [default: $SANDBAR_FLEET, the config's `fleet.fleet`, or "default"].
    #[arg(long, value_name = "NAME")]
    fleet: Option<String>,
    #[command(flatten)]
    ops: OpsArgs,
}

impl DeployArgs {
    pub fn execute(self) -> anyhow::Result<ExitCode> {
        let Some(file) = self.file.clone() else {
            return self.deploy_to_fleet();
        };
        let fleet_only = [
            (self.nodes.is_some(), "--nodes"),
            (!self.symbols.is_empty(), "--symbols"),
            (self.disabled, "--disabled"),
            (self.revision.is_some(), "--revision"),
            (self.url.is_some(), "--url"),
            (self.fleet.is_some(), "--fleet"),
        ];
        if let Some((_, flag)) = fleet_only.iter().find(|(given, _)| *given) {
            anyhow::bail!(
                "`{flag}` belongs to the fleet form of `runtime deploy` (ID --sha256 H, no FILE); \
                 with FILE the build goes to the running instance at --addr"
            );
        }
        let bytes = std::fs::read(&file)
            .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", file.display()))?;
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

impl DeployArgs {
    /// The fleet form: the deployment written to NATS with compare-and-swap.
    fn deploy_to_fleet(self) -> anyhow::Result<ExitCode> {
        let Some(sha256) = self.sha256 else {
            anyhow::bail!(
                "`runtime deploy {id}` needs a FILE (a build for the running instance: \
                 `runtime deploy {id} FILE [--shadow]`) or `--sha256 H` (a published build for \
                 the fleet: `runtime publish FILE` prints H)",
                id = self.id
            );
        };
        if self.shadow {
            anyhow::bail!(
                "`--shadow` deploys a FILE to a running instance (`runtime deploy {} FILE --shadow`); \
                 the fleet form has no shadow yet",
                self.id
            );
        }
        super::fleet::FleetDeployArgs {
            id: self.id,
            sha256,
            params: self.params,
            nodes: self.nodes.unwrap_or_else(|| "all".to_owned()),
            symbols: self.symbols,
            disabled: self.disabled,
            revision: self.revision,
            fleet: super::fleet::FleetArgs {
                config: self.ops.config,
                url: self.url,
                fleet: self.fleet,
            },
        }
        .execute()
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
