//! [`VersionHistory`]: the one record of a strategy's versions — it numbers
//! them, records each good one, lists them for status and picks rollback
//! targets. Nothing else keeps a copy.

use super::super::generation::Recipe;
use serde::Serialize;

/// One entry of a strategy's rollback history, as status shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VersionEntry {
    /// The version number the generation had when it went live.
    pub version: u64,
    /// SHA-256 of its component.
    pub sha256: String,
    /// Digest of its parameter set.
    pub params_hash: String,
    /// The compiler tier of its code (`baseline` / `optimized`).
    pub tier: crate::load::Tier,
}

/// Good versions of one strategy, oldest first; the last one is live.
#[derive(Clone)]
pub(crate) struct VersionHistory {
    entries: Vec<(u64, Recipe)>,
    next_version: u64,
}

/// A rollback target that is not kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct NotKept {
    /// Earlier versions kept (not counting the live one).
    pub kept: usize,
}

impl VersionHistory {
    pub(crate) fn new() -> Self {
        Self {
            entries: Vec::new(),
            next_version: 1,
        }
    }

    /// The live version and its recipe.
    pub(crate) fn current(&self) -> Option<&(u64, Recipe)> {
        self.entries.last()
    }

    /// The number the next published generation gets.
    pub(crate) fn take_version(&mut self) -> u64 {
        let version = self.next_version;
        self.next_version += 1;
        version
    }

    /// Records a generation that went live. A rebuild of the live recipe
    /// replaces its entry: the history lists distinct versions to roll back
    /// to. [`VersionHistory::trim`] then bounds it.
    pub(crate) fn record(&mut self, version: u64, recipe: &Recipe) {
        match self.entries.last_mut() {
            // The code may differ (a tier-up: same build, optimised code):
            // the entry keeps the newest, so a rollback to it uses that.
            Some(live) if same_recipe(&live.1, recipe) => *live = (version, recipe.clone()),
            _ => self.entries.push((version, recipe.clone())),
        }
    }

    /// Keeps the newest `keep` entries (`hot_reload.keep_versions`).
    pub(crate) fn trim(&mut self, keep: usize) {
        let keep = keep.max(1);
        if self.entries.len() > keep {
            let excess = self.entries.len() - keep;
            self.entries.drain(..excess);
        }
    }

    /// The recipe `steps` versions before the live one.
    pub(crate) fn rollback_target(&self, steps: usize) -> Result<Recipe, NotKept> {
        let kept = self.entries.len().saturating_sub(1);
        if steps == 0 || steps > kept {
            return Err(NotKept { kept });
        }
        Ok(self.entries[self.entries.len() - 1 - steps].1.clone())
    }

    /// After a rollback of `steps` went live (recorded as the newest entry),
    /// the target's old entry and the versions after it leave the history;
    /// their components stay in the compile cache, so redeploying any of
    /// them is instant.
    pub(crate) fn rolled_back(&mut self, steps: usize) {
        // Entries: [.., target, skipped..., previous live, new live (target again)].
        let newest = self.entries.len().saturating_sub(1);
        let Some(target_index) = newest.checked_sub(steps + 1) else {
            return;
        };
        self.entries.drain(target_index..newest);
    }

    /// The loop refused `version` at its handoff and put `live` back: make
    /// the newest entry describe `live` again. Returns the failed build's
    /// SHA-256 when the newest entry was that version.
    pub(crate) fn handoff_failed(
        &mut self,
        version: u64,
        live_version: u64,
        live: &Recipe,
    ) -> Option<String> {
        let newest = self.entries.last_mut()?;
        if newest.0 != version {
            return None;
        }
        let failed = newest.1.sha256.clone();
        if same_recipe(&newest.1, live) {
            *newest = (live_version, live.clone());
        } else {
            self.entries.pop();
        }
        Some(failed)
    }

    /// The versions, oldest first, as status lists them.
    pub(crate) fn entries(&self) -> Vec<VersionEntry> {
        self.entries
            .iter()
            .map(|(version, recipe)| VersionEntry {
                version: *version,
                sha256: recipe.sha256.clone(),
                params_hash: recipe.params_hash.clone(),
                tier: recipe.tier,
            })
            .collect()
    }
}

/// Same build, parameters and limits: a rebuild, not a new version.
pub(crate) fn same_recipe(a: &Recipe, b: &Recipe) -> bool {
    a.sha256 == b.sha256 && a.params_hash == b.params_hash && a.limits == b.limits
}
