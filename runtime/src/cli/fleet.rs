//! The fleet's commands: `runtime deploy ID --sha256 H`, `runtime undeploy
//! ID`, `runtime fleet status`, and the fleet forms of `rollback --fleet`
//! and `events --fleet` (their arguments live with the local forms). Each
//! finds the fleet from `--url`/`--fleet`, `$SANDBAR_NATS_URL`/
//! `$SANDBAR_FLEET`, or the `[fleet]` of `--config` (whose credential
//! variables it reads).

use sandbar_runtime::config::Config;
use sandbar_runtime::fleet::{DeployRequest, Deployment, FleetClient, FleetSettings, NodeSelector};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

pub const URL_ENV: &str = "SANDBAR_NATS_URL";
pub const FLEET_ENV: &str = "SANDBAR_FLEET";

/// Where the fleet is.
#[derive(Debug, clap::Args)]
pub struct FleetArgs {
    /// A config whose `[fleet]` names the server, the fleet and the credentials.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// The NATS server [default: $SANDBAR_NATS_URL, the config's `fleet.url`, or nats://127.0.0.1:4222].
    #[arg(long)]
    pub url: Option<String>,
    /// The fleet's namespace [default: $SANDBAR_FLEET, the config's `fleet.fleet`, or "default"].
    #[arg(long)]
    pub fleet: Option<String>,
}

impl FleetArgs {
    pub fn connect(&self) -> anyhow::Result<FleetClient> {
        connect(
            self.config.as_deref(),
            self.url.as_deref(),
            self.fleet.as_deref(),
        )
    }
}

/// A client for the fleet these arguments name.
pub fn connect(
    config: Option<&Path>,
    url: Option<&str>,
    fleet: Option<&str>,
) -> anyhow::Result<FleetClient> {
    let env = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    let section = match config {
        Some(path) => Config::from_file(path)
            .map_err(|e| anyhow::anyhow!("{e}"))?
            .fleet
            .unwrap_or_default(),
        None => Default::default(),
    };
    let mut settings = FleetSettings::from_section(&section)?;
    settings.node.clear();
    if let Some(url) = url.map(str::to_owned).or_else(|| env(URL_ENV)) {
        settings.url = url;
    }
    if let Some(fleet) = fleet.map(str::to_owned).or_else(|| env(FLEET_ENV)) {
        settings.fleet = fleet;
    }
    Ok(FleetClient::connect(&settings)?)
}

/// A fleet deploy (`runtime deploy ID --sha256 H`, see `cli/deploy.rs`).
#[derive(Debug)]
pub struct FleetDeployArgs {
    /// The strategy id (the key `<fleet>.<id>` in `sandbar-deployments`).
    pub id: String,
    /// SHA-256 of a component in `sandbar-artifacts` (`runtime publish` prints it).
    pub sha256: String,
    /// Parameters, KEY=VALUE (the value read as TOML, else text).
    pub params: Vec<String>,
    /// Which nodes run it: `all`, `NODE[,NODE...]`, or `label:KEY=VALUE`.
    pub nodes: String,
    /// The symbols it trades [empty: every feed symbol of each node].
    pub symbols: Vec<String>,
    /// Written disabled (nodes check it but do not run it).
    pub disabled: bool,
    /// Write only over this revision of the key (0: only if it does not
    /// exist) [`None`: the revision read just before writing].
    pub revision: Option<u64>,
    pub fleet: FleetArgs,
}

impl FleetDeployArgs {
    pub fn execute(self) -> anyhow::Result<ExitCode> {
        let mut deployment = Deployment::new(&self.id, self.sha256.to_ascii_lowercase());
        for param in &self.params {
            deployment.set_param(param)?;
        }
        deployment.nodes = NodeSelector::parse(&self.nodes)?;
        deployment.symbols = self.symbols;
        deployment.enabled = !self.disabled;
        deployment.check()?;
        let client = self.fleet.connect()?;
        let expect = match self.revision {
            Some(r) => sandbar_runtime::fleet::Expect::Revision(r),
            None => sandbar_runtime::fleet::Expect::Current,
        };
        let revision = client.deploy(&DeployRequest { deployment, expect })?;
        println!(
            "deployed {} = {} to {} (revision {revision})",
            self.id, self.sha256, self.nodes
        );
        Ok(ExitCode::SUCCESS)
    }
}

#[derive(Debug, clap::Args)]
pub struct UndeployArgs {
    /// The strategy id.
    id: String,
    #[command(flatten)]
    fleet: FleetArgs,
}

impl UndeployArgs {
    pub fn execute(self) -> anyhow::Result<ExitCode> {
        self.fleet.connect()?.undeploy(&self.id)?;
        println!("undeployed {}: every node retires it", self.id);
        Ok(ExitCode::SUCCESS)
    }
}

#[derive(Debug, clap::Args)]
pub struct FleetCommandArgs {
    #[command(subcommand)]
    command: FleetCommand,
}

#[derive(Debug, clap::Subcommand)]
enum FleetCommand {
    /// Every node, what it runs, and drift against the desired SHA-256.
    Status {
        /// Print JSON instead of tables.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        fleet: FleetArgs,
    },
}

impl FleetCommandArgs {
    pub fn execute(self) -> anyhow::Result<ExitCode> {
        match self.command {
            FleetCommand::Status { json, fleet } => {
                let status = fleet.connect()?.status()?;
                if json {
                    println!("{}", serde_json::to_string_pretty(&status)?);
                } else {
                    print!("{}", status.render());
                }
                Ok(ExitCode::SUCCESS)
            }
        }
    }
}

/// `runtime rollback ID --fleet --steps N`: the key's history, written
/// again as a new revision (compare-and-swap like a deploy).
pub fn rollback(id: &str, steps: usize, config: Option<&Path>) -> anyhow::Result<ExitCode> {
    let client = connect(config, None, None)?;
    let (revision, deployment) = client.rollback(id, steps)?;
    println!(
        "rolled {id} back {steps} step(s) to {} (revision {revision})",
        deployment.sha256
    );
    Ok(ExitCode::SUCCESS)
}

/// `runtime events --fleet`: every node's events as they happen.
pub fn follow_events(
    strategy: Option<&str>,
    json: bool,
    config: Option<&Path>,
) -> anyhow::Result<ExitCode> {
    let client = connect(config, None, None)?;
    eprintln!("following the fleet's events (Ctrl-C stops)");
    client.follow_events(|subject, payload| {
        // sandbar.events.<fleet>.<node>.<strategy>
        let mut parts = subject.splitn(5, '.').skip(3);
        let node = parts.next().unwrap_or("?");
        let id = parts.next().unwrap_or("?");
        if strategy.is_some_and(|s| s != id) {
            return true;
        }
        let text = String::from_utf8_lossy(payload);
        if json {
            println!("{text}");
            return true;
        }
        match serde_json::from_str::<serde_json::Value>(&text) {
            Ok(event) => {
                let kind = event["event"].as_str().unwrap_or("event").to_owned();
                println!(
                    "{node:<12} {}",
                    sandbar_runtime::ops::render_event_line(&kind, &event)
                );
            }
            Err(_) => println!("{node:<12} {text}"),
        }
        true
    })?;
    Ok(ExitCode::SUCCESS)
}
