//! [`Heartbeat`]: what a node writes to `sandbar-nodes` under
//! `<fleet>.<node>` every `fleet.heartbeat_ms`; the bucket's max age drops
//! a node that stopped writing.

use crate::live::StrategyBrief;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One strategy as a node runs it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunningStrategy {
    /// The strategy id.
    pub id: String,
    /// The live version (1 for the first load).
    pub version: u64,
    /// SHA-256 of the live component.
    pub sha256: String,
    /// `running`, `paused`, `halted` or `quarantined`.
    pub state: String,
    /// When the live version was published.
    pub loaded_at: String,
    /// Bars it has processed.
    pub bars: u64,
    /// True when it came from a fleet deployment (not a local `[[strategy]]`).
    pub fleet: bool,
}

/// A node's heartbeat.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Heartbeat {
    /// `fleet.node`.
    pub node: String,
    /// `fleet.labels`.
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    /// When it was written (RFC 3339).
    pub at: String,
    /// The last `sandbar-deployments` revision the node applied.
    pub applied_revision: u64,
    /// Bars the node's loop has processed.
    pub bars: u64,
    /// Every strategy it runs.
    pub strategies: Vec<RunningStrategy>,
}

impl Heartbeat {
    /// The heartbeat of a node whose loop has processed `bars` and runs
    /// `strategies` ([`crate::live::RuntimeHandle::briefs`]); `fleet_ids`
    /// are the strategies that came from the fleet.
    pub fn of(
        node: &str,
        labels: &BTreeMap<String, String>,
        applied_revision: u64,
        (bars, strategies): &(u64, Vec<StrategyBrief>),
        fleet_ids: &[String],
    ) -> Heartbeat {
        Heartbeat {
            node: node.to_owned(),
            labels: labels.clone(),
            at: humantime::format_rfc3339_millis(std::time::SystemTime::now()).to_string(),
            applied_revision,
            bars: *bars,
            strategies: strategies
                .iter()
                .map(|s| RunningStrategy {
                    id: s.id.clone(),
                    version: s.version,
                    sha256: s.sha256.clone(),
                    state: s.state.to_owned(),
                    loaded_at: humantime::format_rfc3339_seconds(s.loaded_at).to_string(),
                    bars: s.bars,
                    fleet: fleet_ids.contains(&s.id),
                })
                .collect(),
        }
    }
}
