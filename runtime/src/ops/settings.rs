//! What the server needs to know, built from `[ops]` (tokens resolved from
//! the environment here, at start) or directly in code (tests).

use super::error::OpsError;
use crate::config::{Config, OpsSection};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// A resolved bearer token and the name the audit trail records.
#[derive(Clone, PartialEq, Eq)]
pub struct TokenSecret {
    /// The `name` of the `[[ops.tokens]]` entry; the audit trail records
    /// `api:<name>` as the actor.
    pub name: String,
    /// The bearer token itself, from `token` or the variable `token_env`
    /// names. Never logged: `Debug` redacts it.
    pub secret: String,
}

// Secrets stay out of logs.
impl std::fmt::Debug for TokenSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "TokenSecret({}, <redacted>)", self.name)
    }
}

/// Everything [`super::OpsServer::start`] needs: where to listen, who may
/// call, and what `/status` shows about the config and hot reload.
#[derive(Debug, Clone)]
pub struct OpsSettings {
    /// Where to listen; port 0 picks a free port ([`super::OpsServer::local_addr`] tells which).
    pub listen: SocketAddr,
    /// Accepted bearer tokens (`[[ops.tokens]]`). Empty: everything is open,
    /// which config validation allows only on a loopback `listen`.
    pub tokens: Vec<TokenSecret>,
    /// Shown in `/status`.
    pub config_path: Option<PathBuf>,
    /// Paths hot reload watches, shown in `/status` (empty when it is off).
    pub watching: Vec<PathBuf>,
    /// How often an idle event stream gets a `: keep-alive` comment.
    pub keep_alive: Duration,
    /// `ops.max_connections`: connections served at once (the server may
    /// use fewer, to keep file descriptors for the runtime).
    pub max_connections: usize,
    /// `ops.max_event_streams`: `/events` streams open at once.
    pub max_event_streams: usize,
    /// `ops.header_timeout_ms`: time a connection has to send a request head.
    pub header_timeout: Duration,
    /// `ops.idle_timeout_ms`: a connection with no traffic for this long is closed.
    pub idle_timeout: Duration,
    /// `ops.actions_per_second`: control actions a second, over all callers.
    pub actions_per_second: u32,
    /// `ops.action_burst`: control actions allowed at once.
    pub action_burst: u32,
    /// `ops.loopback_reads_need_token`: reads need a token on loopback too
    /// (beyond loopback they always do, when tokens are configured).
    pub loopback_reads_need_token: bool,
}

/// Default keep-alive of `/events`: well under the idle timeouts of common proxies.
pub const KEEP_ALIVE: Duration = Duration::from_secs(15);

impl OpsSettings {
    /// Loopback on `listen`, no tokens: what tests and embedding start from.
    pub fn local(listen: SocketAddr) -> Self {
        Self::with_limits(listen, &OpsSection::default())
    }

    /// `listen` with the connection, timeout, rate and read limits of `ops`.
    fn with_limits(listen: SocketAddr, ops: &OpsSection) -> Self {
        Self {
            listen,
            tokens: Vec::new(),
            config_path: None,
            watching: Vec::new(),
            keep_alive: KEEP_ALIVE,
            max_connections: ops.max_connections,
            max_event_streams: ops.max_event_streams,
            header_timeout: Duration::from_millis(ops.header_timeout_ms),
            idle_timeout: Duration::from_millis(ops.idle_timeout_ms),
            actions_per_second: ops.actions_per_second,
            action_burst: ops.action_burst,
            loopback_reads_need_token: ops.loopback_reads_need_token,
        }
    }

    /// From a validated config: the listen address, each token's secret
    /// (from the file or its environment variable, read now) and the paths
    /// hot reload watches when `hot_reload` is on.
    pub fn from_config(
        config: &Config,
        config_path: Option<&Path>,
        hot_reload: bool,
    ) -> Result<Self, OpsError> {
        let listen = config.ops.listen.parse::<SocketAddr>().map_err(|e| {
            OpsError::new(
                format!(
                    "`listen` in [ops] is not an address: {:?} ({e})",
                    config.ops.listen
                ),
                Some("for example: listen = \"127.0.0.1:9190\"".into()),
            )
        })?;
        let tokens = config
            .ops
            .tokens
            .iter()
            .map(|t| {
                t.secret()
                    .map(|secret| TokenSecret {
                        name: t.name.clone(),
                        secret,
                    })
                    .map_err(|message| {
                        let hint = match &t.token_env {
                            Some(var) => format!(
                                "export {var}=\"$(openssl rand -hex 16)\" before starting, and give the same value to `runtime status --token` (or export it there too)"
                            ),
                            None => "set `token` or `token_env` in [[ops.tokens]]".into(),
                        };
                        OpsError::new(message, Some(hint))
                    })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let mut watching = Vec::new();
        if hot_reload {
            watching.push(config.strategies_dir());
            if let Some(path) = config_path {
                watching.push(path.to_path_buf());
            }
        }
        Ok(Self {
            tokens,
            config_path: config_path.map(Path::to_path_buf),
            watching,
            ..Self::with_limits(listen, &config.ops)
        })
    }
}
