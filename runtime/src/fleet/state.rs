//! [`LocalState`]: what a node last applied, on its own disk
//! (`fleet.state_file`), so it starts from it when NATS is unreachable and
//! resumes the watch after that revision.

use super::deployment::Deployment;
use super::error::FleetError;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;

/// The fleet as this node last saw and applied it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LocalState {
    /// The last `sandbar-deployments` revision taken into account.
    pub revision: u64,
    /// Every deployment of the fleet at that revision, by id (for every
    /// node: the selector is applied when the state is used).
    pub desired: BTreeMap<String, Deployment>,
    /// What this node handed its control plane, by id: the desired ones
    /// selecting it, except those whose artefact could not be had (their
    /// previous entry stays).
    pub applied: BTreeMap<String, Deployment>,
}

impl LocalState {
    /// Reads the state file; a missing file is an empty state (a new node).
    pub fn load(path: &Path) -> Result<LocalState, FleetError> {
        match std::fs::read(path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| FleetError::Invalid {
                message: format!("the fleet state {} is not valid: {e}", path.display()),
                hint: "remove the file: the node then starts without fleet strategies and catches up from NATS (`fleet.state_file`)".into(),
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(LocalState::default()),
            Err(e) => Err(FleetError::other(format!("cannot read {}", path.display()), e)),
        }
    }

    /// Writes the state file atomically (a crash leaves the old or the new one).
    pub fn save(&self, path: &Path) -> Result<(), FleetError> {
        let bytes = serde_json::to_vec_pretty(self)
            .map_err(|e| FleetError::other("cannot encode the fleet state", e))?;
        if let Some(dir) = path.parent()
            && !dir.as_os_str().is_empty()
        {
            std::fs::create_dir_all(dir)
                .map_err(|e| FleetError::other(format!("cannot create {}", dir.display()), e))?;
        }
        crate::build::write_atomically(path, &bytes)
            .map_err(|e| FleetError::other(format!("cannot write {}", path.display()), e))
    }

    /// The `[[strategy]]` entries of what was applied, by id.
    pub fn strategies(&self) -> Vec<crate::config::StrategyConfig> {
        self.applied.values().map(Deployment::to_strategy).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issue_20_local_state_survives_a_restart_and_a_missing_file_is_empty() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/fleet-state.json");
        assert_eq!(LocalState::load(&path).unwrap(), LocalState::default());
        let mut state = LocalState {
            revision: 7,
            ..Default::default()
        };
        let d = Deployment::new("sma", "c".repeat(64));
        state.desired.insert("sma".into(), d.clone());
        state.applied.insert("sma".into(), d);
        state.save(&path).unwrap();
        let back = LocalState::load(&path).unwrap();
        assert_eq!(back, state);
        assert_eq!(
            back.strategies()[0].sha256.as_deref(),
            Some("c".repeat(64).as_str())
        );
        std::fs::write(&path, b"{").unwrap();
        let err = LocalState::load(&path).unwrap_err().to_string();
        assert!(err.contains("fleet.state_file"), "{err}");
    }
}
