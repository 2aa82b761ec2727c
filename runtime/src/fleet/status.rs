//! [`FleetStatus`]: every node, what it runs, and where that differs from
//! what its deployments ask for (drift).

use super::deployment::Deployment;
use super::heartbeat::Heartbeat;
use serde::Serialize;

/// A node that does not run what a deployment asks of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Drift {
    /// The node.
    pub node: String,
    /// The deployment.
    pub strategy: String,
    /// The SHA-256 it should run (`None`: it should not run it).
    pub desired: Option<String>,
    /// The SHA-256 it runs (`None`: not running).
    pub running: Option<String>,
}

/// One line of `runtime fleet status`: a strategy on a node.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NodeRow {
    /// The node.
    pub node: String,
    /// The strategy.
    pub strategy: String,
    /// Its live version on the node.
    pub version: u64,
    /// Its state on the node.
    pub state: String,
    /// The SHA-256 it runs.
    pub sha256: String,
    /// From the fleet (or a local `[[strategy]]`).
    pub fleet: bool,
}

/// The whole fleet at one moment.
#[derive(Debug, Clone, Serialize)]
pub struct FleetStatus {
    /// The namespace.
    pub fleet: String,
    /// Every deployment with its revision.
    pub deployments: Vec<(u64, Deployment)>,
    /// Every node with a live heartbeat.
    pub nodes: Vec<Heartbeat>,
    /// What each node runs.
    pub rows: Vec<NodeRow>,
    /// Nodes not on their desired SHA-256.
    pub drift: Vec<Drift>,
}

impl FleetStatus {
    /// Compares each live node's heartbeat with the deployments it is selected by.
    pub fn new(fleet: &str, deployments: Vec<(u64, Deployment)>, nodes: Vec<Heartbeat>) -> Self {
        let mut rows = Vec::new();
        let mut drift = Vec::new();
        for beat in &nodes {
            for s in &beat.strategies {
                rows.push(NodeRow {
                    node: beat.node.clone(),
                    strategy: s.id.clone(),
                    version: s.version,
                    state: s.state.clone(),
                    sha256: s.sha256.clone(),
                    fleet: s.fleet,
                });
            }
            for (_, d) in &deployments {
                let wanted = d.enabled && d.nodes.selects(&beat.node, &beat.labels);
                let running = beat.strategies.iter().find(|s| s.id == d.id);
                let running_sha = running.map(|s| s.sha256.clone());
                let desired = wanted.then(|| d.sha256.clone());
                let ok = match (&desired, running) {
                    (Some(want), Some(s)) => &s.sha256 == want,
                    (None, None) => true,
                    // A local strategy of that name is not the fleet's to judge.
                    (None, Some(s)) => !s.fleet,
                    (Some(_), None) => false,
                };
                if !ok {
                    drift.push(Drift {
                        node: beat.node.clone(),
                        strategy: d.id.clone(),
                        desired,
                        running: running_sha,
                    });
                }
            }
            // Fleet strategies that no deployment asks for any more.
            for s in beat.strategies.iter().filter(|s| s.fleet) {
                if !deployments.iter().any(|(_, d)| d.id == s.id) {
                    drift.push(Drift {
                        node: beat.node.clone(),
                        strategy: s.id.clone(),
                        desired: None,
                        running: Some(s.sha256.clone()),
                    });
                }
            }
        }
        FleetStatus {
            fleet: fleet.to_owned(),
            deployments,
            nodes,
            rows,
            drift,
        }
    }

    /// The table `runtime fleet status` prints.
    pub fn render(&self) -> String {
        let short = |s: &str| s.get(..12).unwrap_or(s).to_owned();
        let mut out = format!(
            "fleet `{}`: {} node(s), {} deployment(s)\n",
            self.fleet,
            self.nodes.len(),
            self.deployments.len()
        );
        out.push_str("\ndeployments:\n");
        out.push_str(&format!(
            "  {:<20} {:>8}  {:<12}  nodes\n",
            "strategy", "revision", "sha256"
        ));
        for (revision, d) in &self.deployments {
            out.push_str(&format!(
                "  {:<20} {:>8}  {:<12}  {}{}\n",
                d.id,
                revision,
                short(&d.sha256),
                d.nodes,
                if d.enabled { "" } else { " (disabled)" }
            ));
        }
        out.push_str("\nnodes:\n");
        out.push_str(&format!(
            "  {:<12} {:<20} {:>4}  {:<11} {:<12}  source\n",
            "node", "strategy", "ver", "state", "sha256"
        ));
        for beat in &self.nodes {
            if beat.strategies.is_empty() {
                out.push_str(&format!(
                    "  {:<12} (nothing running; applied revision {})\n",
                    beat.node, beat.applied_revision
                ));
            }
        }
        for row in &self.rows {
            out.push_str(&format!(
                "  {:<12} {:<20} {:>4}  {:<11} {:<12}  {}\n",
                row.node,
                row.strategy,
                row.version,
                row.state,
                short(&row.sha256),
                if row.fleet { "fleet" } else { "local" }
            ));
        }
        if self.drift.is_empty() {
            out.push_str("\nno drift: every node runs what its deployments ask\n");
        } else {
            out.push_str("\ndrift:\n");
            for d in &self.drift {
                out.push_str(&format!(
                    "  {} {}: wants {}, runs {}\n",
                    d.node,
                    d.strategy,
                    d.desired
                        .as_deref()
                        .map(short)
                        .unwrap_or_else(|| "nothing".into()),
                    d.running
                        .as_deref()
                        .map(short)
                        .unwrap_or_else(|| "nothing".into()),
                ));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fleet::{NodeSelector, RunningStrategy};

    fn beat(node: &str, running: &[(&str, &str)]) -> Heartbeat {
        Heartbeat {
            node: node.into(),
            labels: Default::default(),
            at: String::new(),
            applied_revision: 1,
            bars: 0,
            strategies: running
                .iter()
                .map(|(id, sha)| RunningStrategy {
                    id: (*id).into(),
                    version: 1,
                    sha256: (*sha).into(),
                    state: "running".into(),
                    loaded_at: String::new(),
                    bars: 0,
                    fleet: true,
                })
                .collect(),
        }
    }

    #[test]
    fn issue_20_fleet_status_shows_drift_against_the_desired_sha256() {
        let a = "a".repeat(64);
        let b = "b".repeat(64);
        let mut only_n2 = Deployment::new("other", a.clone());
        only_n2.nodes = NodeSelector::Nodes(vec!["n2".into()]);
        let status = FleetStatus::new(
            "f",
            vec![(3, Deployment::new("sma", b.clone())), (4, only_n2)],
            vec![beat("n1", &[("sma", &b)]), beat("n2", &[("sma", &a)])],
        );
        assert_eq!(
            status.drift,
            vec![
                Drift {
                    node: "n2".into(),
                    strategy: "sma".into(),
                    desired: Some(b.clone()),
                    running: Some(a.clone())
                },
                Drift {
                    node: "n2".into(),
                    strategy: "other".into(),
                    desired: Some(a.clone()),
                    running: None
                },
            ]
        );
        assert!(
            status
                .render()
                .contains("n2 sma: wants bbbbbbbbbbbb, runs aaaaaaaaaaaa"),
            "{}",
            status.render()
        );
        let converged = FleetStatus::new(
            "f",
            vec![(3, Deployment::new("sma", b.clone()))],
            vec![beat("n1", &[("sma", &b)])],
        );
        assert!(converged.drift.is_empty());
        assert!(converged.render().contains("no drift"));
    }
}
