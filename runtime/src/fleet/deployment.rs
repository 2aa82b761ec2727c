//! [`Deployment`]: what one key of `sandbar-deployments` holds — what a
//! `[[strategy]]` holds, by SHA-256 instead of by file — and which nodes run it.

use super::error::FleetError;
use crate::config::{LimitsOverride, RiskSection, StrategyConfig};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::PathBuf;

/// Which nodes run a deployment.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NodeSelector {
    /// Every node of the fleet.
    #[default]
    All,
    /// These nodes, by `fleet.node`.
    Nodes(Vec<String>),
    /// Nodes whose `fleet.labels` has this `key=value`.
    Label(String),
}

impl NodeSelector {
    /// `all`, `label:KEY=VALUE`, or `NODE[,NODE...]` (the `--nodes` flag).
    pub fn parse(text: &str) -> Result<NodeSelector, FleetError> {
        let text = text.trim();
        let invalid = |message: String| FleetError::Invalid {
            message,
            hint: "--nodes all, --nodes ny-1,ny-2, or --nodes label:region=eu".into(),
        };
        if text == "all" {
            return Ok(NodeSelector::All);
        }
        if let Some(label) = text.strip_prefix("label:") {
            let ok = label
                .split_once('=')
                .is_some_and(|(k, v)| !k.is_empty() && !v.is_empty());
            return if ok {
                Ok(NodeSelector::Label(label.to_owned()))
            } else {
                Err(invalid(format!("`{text}` is not label:KEY=VALUE")))
            };
        }
        let nodes: Vec<String> = text.split(',').map(|n| n.trim().to_owned()).collect();
        if nodes.iter().any(|n| n.is_empty()) {
            return Err(invalid(format!("`{text}` has an empty node name")));
        }
        Ok(NodeSelector::Nodes(nodes))
    }

    /// Whether the node with this name and these labels runs it.
    pub fn selects(&self, node: &str, labels: &BTreeMap<String, String>) -> bool {
        match self {
            NodeSelector::All => true,
            NodeSelector::Nodes(nodes) => nodes.iter().any(|n| n == node),
            NodeSelector::Label(label) => label
                .split_once('=')
                .is_some_and(|(k, v)| labels.get(k).is_some_and(|have| have == v)),
        }
    }
}

impl std::fmt::Display for NodeSelector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            NodeSelector::All => f.write_str("all"),
            NodeSelector::Nodes(nodes) => f.write_str(&nodes.join(",")),
            NodeSelector::Label(label) => write!(f, "label:{label}"),
        }
    }
}

/// One deployment, as JSON in `sandbar-deployments` under `<fleet>.<id>`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Deployment {
    /// The strategy id (also the key's last part).
    pub id: String,
    /// SHA-256 of the component in `sandbar-artifacts`.
    pub sha256: String,
    /// `[strategy.params]`.
    #[serde(default, skip_serializing_if = "toml::Table::is_empty")]
    pub params: toml::Table,
    /// `symbols`; empty: every feed symbol of the node.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub symbols: Vec<String>,
    /// `[strategy.limits]`.
    #[serde(default, skip_serializing_if = "LimitsOverride::is_empty")]
    pub limits: LimitsOverride,
    /// `[strategy.risk]`.
    #[serde(default, skip_serializing_if = "RiskSection::is_empty")]
    pub risk: RiskSection,
    /// `enabled`.
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Which nodes run it.
    #[serde(default)]
    pub nodes: NodeSelector,
}

fn yes() -> bool {
    true
}

/// What `runtime deploy` asks for (a [`Deployment`] before it is written).
#[derive(Debug, Clone, PartialEq)]
pub struct DeployRequest {
    /// The deployment.
    pub deployment: Deployment,
    /// The revision the writer saw: `None` writes only a new key, `Some(r)`
    /// only over revision `r`; see [`super::Fleet::deploy`].
    pub expect: Expect,
}

/// Which revision a write is made against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    /// Whatever is there now (read, then written against that revision:
    /// a concurrent write between the two still loses).
    Current,
    /// Exactly this revision (0: the key must not exist).
    Revision(u64),
}

/// Where a node keeps the artefact `sha256`, relative to `runtime.strategies_dir`.
pub fn artifact_wasm_path(sha256: &str) -> PathBuf {
    PathBuf::from(super::ARTIFACT_DIR).join(format!("{sha256}.wasm"))
}

impl Deployment {
    /// A deployment of `sha256` as `id` on every node, with nothing else set.
    pub fn new(id: impl Into<String>, sha256: impl Into<String>) -> Deployment {
        Deployment {
            id: id.into(),
            sha256: sha256.into(),
            params: toml::Table::new(),
            symbols: Vec::new(),
            limits: LimitsOverride::default(),
            risk: RiskSection::default(),
            enabled: true,
            nodes: NodeSelector::All,
        }
    }

    /// The key in `sandbar-deployments`.
    pub fn key(fleet: &str, id: &str) -> String {
        format!("{fleet}.{id}")
    }

    /// Checks what a bucket value or the command line gave: an id like a
    /// `[[strategy]]` id and a SHA-256 of 64 lowercase hex digits.
    pub fn check(&self) -> Result<(), FleetError> {
        let id_ok = !self.id.is_empty()
            && self
                .id
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
        if !id_ok {
            return Err(FleetError::Invalid {
                message: format!(
                    "deployment id {:?} must be lowercase letters, digits, `-` and `_`",
                    self.id
                ),
                hint: "use the id a [[strategy]] would have, for example sma-fast".into(),
            });
        }
        let sha_ok = self.sha256.len() == 64
            && self
                .sha256
                .chars()
                .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c));
        if !sha_ok {
            return Err(FleetError::Invalid {
                message: format!(
                    "`{}` is not a SHA-256 (64 lowercase hex digits)",
                    self.sha256
                ),
                hint: "`runtime publish FILE` prints the SHA-256 to deploy".into(),
            });
        }
        Ok(())
    }

    /// The `[[strategy]]` entry a node runs for it: the downloaded file,
    /// pinned by its SHA-256, so the pipeline verifies the bytes again.
    pub fn to_strategy(&self) -> StrategyConfig {
        StrategyConfig {
            id: self.id.clone(),
            wasm: artifact_wasm_path(&self.sha256),
            sha256: Some(self.sha256.clone()),
            symbols: self.symbols.clone(),
            enabled: self.enabled,
            params: self.params.clone(),
            limits: self.limits.clone(),
            risk: self.risk.clone(),
            // Shadow deploys and swap policies are local settings for now:
            // a fleet deployment swaps at the next bar, on the Rust limits
            // unless its `limits` say otherwise.
            deploy: Default::default(),
            language: Default::default(),
        }
    }

    /// Sets `--param KEY=VALUE` (the value read as TOML, else text).
    pub fn set_param(&mut self, assignment: &str) -> Result<(), FleetError> {
        let (name, raw) = assignment
            .split_once('=')
            .ok_or_else(|| FleetError::Invalid {
                message: format!("`{assignment}` is not KEY=VALUE"),
                hint: "for example --param fast=10".into(),
            })?;
        let name = name.trim();
        if name.is_empty() {
            return Err(FleetError::Invalid {
                message: format!("`{assignment}` has no parameter name before `=`"),
                hint: "for example --param fast=10".into(),
            });
        }
        let raw = raw.trim();
        let value = format!("v = {raw}")
            .parse::<toml::Table>()
            .ok()
            .and_then(|mut t| t.remove("v"))
            .unwrap_or_else(|| toml::Value::String(raw.to_owned()));
        crate::param_from_toml(name, &value).map_err(|message| FleetError::Invalid {
            message,
            hint: "a parameter is an integer, a float, a boolean or a string".into(),
        })?;
        self.params.insert(name.to_owned(), value);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHA: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    #[test]
    fn issue_20_node_selector_parses_all_lists_and_labels() {
        let labels: BTreeMap<String, String> = [("region".into(), "eu".into())].into();
        let all = NodeSelector::parse("all").unwrap();
        assert!(all.selects("a", &BTreeMap::new()));
        let list = NodeSelector::parse("a, b").unwrap();
        assert_eq!(list, NodeSelector::Nodes(vec!["a".into(), "b".into()]));
        assert!(list.selects("b", &labels) && !list.selects("c", &labels));
        let label = NodeSelector::parse("label:region=eu").unwrap();
        assert!(label.selects("x", &labels));
        assert!(!label.selects("x", &BTreeMap::new()));
        assert!(NodeSelector::parse("label:region").is_err());
        assert!(NodeSelector::parse("a,,b").is_err());
        assert_eq!(label.to_string(), "label:region=eu");
    }

    #[test]
    fn issue_20_deployment_round_trips_through_json_and_becomes_a_pinned_strategy() {
        let mut d = Deployment::new("sma-fast", SHA);
        d.set_param("fast=10").unwrap();
        d.set_param("mode=quick").unwrap();
        d.symbols = vec!["BTCUSD".into()];
        d.risk.max_position = Some(2.0);
        d.nodes = NodeSelector::Label("venue=paper".into());
        let json = serde_json::to_string(&d).unwrap();
        let back: Deployment = serde_json::from_str(&json).unwrap();
        assert_eq!(back, d);
        let s = back.to_strategy();
        assert_eq!(s.sha256.as_deref(), Some(SHA));
        assert_eq!(s.wasm, PathBuf::from(format!("fleet/{SHA}.wasm")));
        assert_eq!(s.params["fast"], toml::Value::Integer(10));
        assert_eq!(s.params["mode"], toml::Value::String("quick".into()));
        assert_eq!(s.risk.max_position, Some(2.0));
    }

    #[test]
    fn issue_20_deployment_check_refuses_bad_ids_and_digests() {
        assert!(Deployment::new("ok-1", SHA).check().is_ok());
        assert!(Deployment::new("Bad Id", SHA).check().is_err());
        let err = Deployment::new("ok", "abc")
            .check()
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("not a SHA-256") && err.contains("runtime publish"),
            "{err}"
        );
        assert!(Deployment::new("ok", SHA.to_uppercase()).check().is_err());
    }
}
