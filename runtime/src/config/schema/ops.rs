//! `[ops]` (the HTTP API) and `[fleet]` (NATS JetStream).

use crate::config::defaults as d;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::PathBuf;

/// `[ops]`: the HTTP API inside `runtime live` (status, metrics, events,
/// control). See config/README.md, section `[ops]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OpsSection {
    /// Serve the ops API. Default: on in `dev`, off in `prod` (where turning
    /// it on requires a token). Use [`Config::ops_enabled`] for the effective value.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// `host:port` to listen on. Default `"127.0.0.1:9190"`; a non-loopback
    /// address requires at least one token.
    pub listen: String,
    /// `[[ops.tokens]]`: who may call the API. With none, control is open to
    /// local callers (dev only).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tokens: Vec<OpsToken>,
    /// Connections served at once; one more is answered `503` and closed
    /// at once. Never more than the open-file limit leaves after a reserve
    /// for the runtime's own files (the log says the effective number).
    pub max_connections: usize,
    /// `/events` streams open at once (each holds a connection); fewer than
    /// `max_connections`, so control and status always find a connection.
    pub max_event_streams: usize,
    /// A connection must send a whole request head within this many ms of
    /// the server waiting for one (a new connection, or a kept-alive one
    /// after its last answer); slow or silent clients are closed.
    pub header_timeout_ms: u64,
    /// A connection on which no byte moves either way for this many ms is
    /// closed, even in the middle of an answer (a client that stopped
    /// reading). Above the event streams' 15 s keep-alive.
    pub idle_timeout_ms: u64,
    /// Control actions carried out per second, over every caller; more are
    /// answered `429` with `Retry-After` and not audited one by one.
    pub actions_per_second: u32,
    /// Control actions allowed in one burst above `actions_per_second`.
    pub action_burst: u32,
    /// With tokens configured, reads (`/status`, `/metrics`, `/events`) on a
    /// loopback `listen` need a token too. Off: anonymous loopback reads
    /// see no pid and no absolute paths.
    pub loopback_reads_need_token: bool,
}

impl Default for OpsSection {
    fn default() -> Self {
        Self {
            enabled: None,
            listen: d::OPS_LISTEN.to_owned(),
            tokens: Vec::new(),
            max_connections: d::OPS_MAX_CONNECTIONS,
            max_event_streams: d::OPS_MAX_EVENT_STREAMS,
            header_timeout_ms: d::OPS_HEADER_TIMEOUT_MS,
            idle_timeout_ms: d::OPS_IDLE_TIMEOUT_MS,
            actions_per_second: d::OPS_ACTIONS_PER_SECOND,
            action_burst: d::OPS_ACTION_BURST,
            loopback_reads_need_token: false,
        }
    }
}

/// One `[[ops.tokens]]` entry: a bearer token and the name the audit trail
/// records for it. The secret comes from the file (`token`) or, better, from
/// an environment variable (`token_env`).
#[derive(Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OpsToken {
    /// Who holds it, for the audit trail (`api:<name>`).
    pub name: String,
    /// The secret itself (at least 16 characters). Never serialized or printed.
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "redact")]
    pub token: Option<String>,
    /// The environment variable holding the secret, read at start.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token_env: Option<String>,
}

fn redact<S: serde::Serializer>(_: &Option<String>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str("<redacted>")
}

// Secrets stay out of logs and panics.
impl std::fmt::Debug for OpsToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpsToken")
            .field("name", &self.name)
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .field("token_env", &self.token_env)
            .finish()
    }
}

impl OpsToken {
    /// The secret: the literal `token`, or the value of `token_env` now.
    pub fn secret(&self) -> Result<String, String> {
        if let Some(token) = &self.token {
            return Ok(token.clone());
        }
        let Some(var) = &self.token_env else {
            return Err(format!(
                "ops token `{}` has neither `token` nor `token_env`",
                self.name
            ));
        };
        match std::env::var(var) {
            Ok(value) if value.len() >= d::OPS_MIN_TOKEN_LEN => Ok(value),
            Ok(value) if value.is_empty() => Err(format!(
                "ops token `{}`: the environment variable {var} is empty",
                self.name
            )),
            Ok(_) => Err(format!(
                "ops token `{}`: the environment variable {var} holds fewer than {} characters",
                self.name,
                d::OPS_MIN_TOKEN_LEN
            )),
            Err(_) => Err(format!(
                "ops token `{}`: the environment variable {var} is not set",
                self.name
            )),
        }
    }
}

/// `[fleet]`: this node's place in a fleet on NATS JetStream (a 2.9 server
/// or newer). See config/README.md, section `[fleet]`. Credentials come
/// from environment variables named here, read at start.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FleetSection {
    /// The NATS server, e.g. `"nats://127.0.0.1:4222"`. Default that.
    pub url: String,
    /// This node's name: lowercase letters, digits, `-` and `_`. Required.
    pub node: String,
    /// The fleet's namespace (the first part of every key and subject). Default `"default"`.
    pub fleet: String,
    /// Labels a deployment can select nodes by (`--nodes label:KEY=VALUE`).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    /// The environment variable holding the NATS user name (with `password_env`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_env: Option<String>,
    /// The environment variable holding the NATS password (with `user_env`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub password_env: Option<String>,
    /// The environment variable holding an nkey seed (`SU...`), instead of a user and password.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nkey_seed_env: Option<String>,
    /// How often the node writes its heartbeat to `sandbar-nodes`, in ms.
    /// Default 2000, 50..=60_000; a node silent for three intervals (at
    /// least 10 s) drops out of `sandbar-nodes`.
    pub heartbeat_ms: u64,
    /// Where the node keeps its last applied deployments and revision, so it
    /// starts from them when NATS is unreachable; relative to the config
    /// file. Default `"fleet-state.json"`.
    pub state_file: PathBuf,
}

impl Default for FleetSection {
    fn default() -> Self {
        Self {
            url: d::FLEET_URL.to_owned(),
            node: String::new(),
            fleet: d::FLEET_NAMESPACE.to_owned(),
            labels: BTreeMap::new(),
            user_env: None,
            password_env: None,
            nkey_seed_env: None,
            heartbeat_ms: d::FLEET_HEARTBEAT_MS,
            state_file: PathBuf::from(d::FLEET_STATE_FILE),
        }
    }
}

impl FleetSection {
    /// Whether the section names credentials (a user and password, or an nkey seed).
    pub fn has_credentials(&self) -> bool {
        self.nkey_seed_env.is_some() || (self.user_env.is_some() && self.password_env.is_some())
    }
}
