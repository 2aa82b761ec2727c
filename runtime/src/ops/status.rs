//! `/status`: the runtime's own status plus what only the process knows
//! (its config file, watched paths, pid, how the API is guarded).

use crate::live::RuntimeStatus;
use serde::Serialize;

/// The body of `GET /status`: what the runtime reports about itself
/// ([`RuntimeStatus`], flattened) plus what only the serving process knows.
#[derive(Debug, Clone, Serialize)]
pub struct OpsStatus {
    /// `profile`, `uptime_ms`, `hot_reload`, `bars`, `last_seq`,
    /// `strategies` (every [`crate::live::StrategyStatus`] field) and
    /// `reload_total`.
    #[serde(flatten)]
    pub runtime: RuntimeStatus,
    /// `uptime_ms` in seconds, for people and for Prometheus-style tools.
    pub uptime_seconds: f64,
    /// The `sandbar-runtime` version serving this.
    pub version: &'static str,
    /// The process id of `runtime live`; left out for an anonymous read
    /// while tokens are configured (see `ops.loopback_reads_need_token`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pid: Option<u32>,
    /// The config file the runtime was started with; left out of the JSON
    /// when it was built in code. Only the file name for an anonymous read
    /// while tokens are configured.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub config_path: Option<String>,
    /// Paths hot reload watches (strategies dir, config file); empty when
    /// off. Only the last component of each for an anonymous read while
    /// tokens are configured.
    pub watching: Vec<String>,
    /// How the API itself is reached and guarded.
    pub ops: OpsInfo,
}

/// The `ops` object of `/status`.
#[derive(Debug, Clone, Serialize)]
pub struct OpsInfo {
    /// The address actually bound (with the real port when `[ops] listen`
    /// asked for port 0).
    pub listen: String,
    /// `token` when control needs a bearer token, `none` otherwise.
    pub auth: &'static str,
    /// Connections now and the limits they are served under.
    pub connections: ConnectionsInfo,
}

/// The `connections` object in the `ops` object of `/status`.
#[derive(Debug, Clone, Serialize)]
pub struct ConnectionsInfo {
    /// Open now, this request's included.
    pub open: u64,
    /// The effective maximum: `ops.max_connections`, or fewer when the
    /// open-file limit leaves less after the runtime's reserve.
    pub max: usize,
    /// Refused since start because the maximum was open.
    pub refused: u64,
    /// Closed since start for a request head not sent within
    /// `ops.header_timeout_ms`, or no traffic within `ops.idle_timeout_ms`.
    pub timed_out: u64,
    /// `/events` streams open now.
    pub event_streams: usize,
    /// `ops.max_event_streams`.
    pub max_event_streams: usize,
}
