//! `/status`: the runtime's own status plus what only the process knows
//! (its config file, watched paths, pid, how the API is guarded).

use crate::live::RuntimeStatus;
use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
pub struct OpsStatus {
    /// `profile`, `uptime_ms`, `hot_reload`, `bars`, `last_seq`,
    /// `strategies` (every [`crate::live::StrategyStatus`] field) and
    /// `reload_total`.
    #[serde(flatten)]
    pub runtime: RuntimeStatus,
    pub uptime_seconds: f64,
    /// The `sandbar-runtime` version serving this.
    pub version: &'static str,
    pub pid: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub config_path: Option<String>,
    /// Paths hot reload watches (strategies dir, config file); empty when off.
    pub watching: Vec<String>,
    pub ops: OpsInfo,
}

#[derive(Debug, Clone, Serialize)]
pub struct OpsInfo {
    pub listen: String,
    /// `token` when control needs a bearer token, `none` otherwise.
    pub auth: &'static str,
}
