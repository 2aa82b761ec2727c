//! Files: what the watcher and the rescan report. Stamps make sure one change
//! is handled once; a config edit is applied as a diff (retire, load,
//! reload, rebuild, new risk rules).

use super::super::events::{Outcome, ReloadEvent, Trigger};
use super::super::watcher::{Watcher, absolute};
use super::ControlPlane;
use crate::config::{self, Config};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::SystemTime;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct FileStamp {
    modified: Option<SystemTime>,
    len: u64,
    /// A deploy by rename makes a new inode even when size and mtime (whose
    /// clock ticks coarsely) match the old file's.
    inode: u64,
}

fn stamp(path: &Path) -> Option<FileStamp> {
    let meta = std::fs::metadata(path).ok()?;
    #[cfg(unix)]
    let inode = std::os::unix::fs::MetadataExt::ino(&meta);
    #[cfg(not(unix))]
    let inode = 0;
    Some(FileStamp {
        modified: meta.modified().ok(),
        len: meta.len(),
        inode,
    })
}

/// The files the control plane follows and what it last saw of each.
pub(super) struct Files {
    config_path: Option<PathBuf>,
    watcher: Option<Watcher>,
    stamps: HashMap<PathBuf, Option<FileStamp>>,
    /// Hot reload on: the periodic rescan runs.
    rescan: bool,
}

impl Files {
    pub(super) fn new(config_path: Option<PathBuf>, rescan: bool) -> Self {
        Self {
            config_path,
            watcher: None,
            stamps: HashMap::new(),
            rescan,
        }
    }

    pub(super) fn attach_watcher(&mut self, watcher: Watcher) {
        self.watcher = Some(watcher);
    }

    pub(super) fn rescans(&self) -> bool {
        self.rescan
    }

    /// Records `path`'s stamp; false when it is the one already handled.
    fn changed(&mut self, path: &Path) -> (bool, Option<FileStamp>) {
        let now = stamp(path);
        let key = absolute(path);
        if self.stamps.get(&key) == Some(&now) {
            return (false, now);
        }
        self.stamps.insert(key, now);
        (true, now)
    }

    /// Records the stamp of files seen for the first time. Known files keep
    /// theirs, so a change that lands during a long reload is still handled.
    fn remember(&mut self, paths: impl IntoIterator<Item = PathBuf>) {
        for path in paths {
            let key = absolute(&path);
            self.stamps.entry(key).or_insert_with(|| stamp(&path));
        }
    }
}

impl ControlPlane {
    /// Reloads the strategies whose file changed. A path whose size and
    /// modification time were already handled is skipped, so the watcher and
    /// the rescan never process one change twice.
    pub(super) fn files_changed(&mut self, paths: &[PathBuf]) {
        for path in paths {
            let (changed, now) = self.files.changed(path);
            if !changed {
                continue;
            }
            let ids: Vec<String> = self
                .enabled()
                .filter(|s| absolute(&self.config.wasm_path(s)) == absolute(path))
                .map(|s| s.id.clone())
                .collect();
            for id in ids {
                // A new stamp: a retry of the old one is superseded.
                let waiting = self.retries.reset(&id);
                if now.is_none() && waiting.is_empty() {
                    tracing::warn!(strategy = %id, path = %path.display(), "strategy file removed; the running version keeps running");
                    continue;
                }
                self.request_load(&id, Trigger::File, false, waiting);
            }
        }
    }

    pub(super) fn config_file_changed(&mut self) {
        let Some(path) = self.files.config_path.clone() else {
            return;
        };
        let (changed, now) = self.files.changed(&path);
        if !changed {
            return;
        }
        if now.is_none() {
            tracing::warn!(path = %path.display(), "config file removed; the running config stays");
            return;
        }
        // The fleet's entries stay beside the file's own (`control/fleet.rs`).
        #[allow(clippy::result_large_err)]
        match Config::from_file(&path).and_then(|new| super::fleet::merge(new, &self.fleet)) {
            Ok(new) if new == self.config => tracing::debug!("config unchanged"),
            Ok(new) => {
                self.apply_config(new, Trigger::Config);
            }
            Err(error) => {
                tracing::error!("config edit rejected; the running config stays:\n{error}");
                let mut event = ReloadEvent::base("config", Outcome::Rejected, Trigger::Config);
                event.error = Some(error.to_string());
                event.hint = error.hint.clone();
                self.emit_reload(event);
            }
        }
    }

    /// Applies a new config as a diff: retire removed strategies, load added
    /// ones, reload changed artifacts, rebuild for changed params or limits.
    pub(super) fn apply_config(&mut self, new: Config, trigger: Trigger) -> Vec<ReloadEvent> {
        self.loads_in_flight_are_stale();
        let diff = config::diff(&self.config, &new);
        for note in &diff.restart_required {
            tracing::warn!("{note}");
        }
        let old = std::mem::replace(&mut self.config, new);
        // New files are stamped before their first read, as at start-up.
        self.remember_stamps();
        // `hot_reload.tiering` applies to the next build compiled.
        self.loader.set_tiering(self.config.tiering());
        let mut events = Vec::new();
        for id in &diff.removed {
            events.push(self.retire(id, trigger));
        }
        for change in &diff.changed {
            let id = &change.id;
            if change.symbols || change.artifact || !self.slots.contains_key(id) {
                events.push(self.load_from_file(id, trigger, true));
            } else if change.params || change.limits || diff.limits_changed {
                events.push(self.rebuild_from_config(id, trigger));
            }
        }
        for id in &diff.added {
            events.push(self.load_from_file(id, trigger, true));
        }
        if diff.limits_changed {
            let untouched: Vec<String> = self
                .slots
                .keys()
                .filter(|id| !diff.changed.iter().any(|c| &c.id == *id) && !diff.added.contains(id))
                .cloned()
                .collect();
            for id in untouched {
                events.push(self.rebuild_from_config(&id, trigger));
            }
        }
        if let Some(watcher) = self.files.watcher.as_mut()
            && old.strategies_dir() != self.config.strategies_dir()
        {
            tracing::warn!("`runtime.strategies_dir` changed; restart to watch the new directory");
            watcher.ensure_watching();
        }
        self.apply_risk_rules();
        self.remember_stamps();
        events
    }

    /// Stores each running strategy's risk rules in its slot: a risk edit
    /// takes effect at the next bar, without a reload.
    fn apply_risk_rules(&self) {
        for (id, state) in &self.slots {
            if let Some(strategy) = self.config.strategy(id) {
                let rules = self.config.risk_of(strategy);
                if **state.slot.risk.load() != rules {
                    tracing::info!(strategy = %id, ?rules, "risk rules changed");
                    state.slot.risk.store(Arc::new(rules));
                }
            }
        }
    }

    pub(super) fn remember_stamps(&mut self) {
        let mut files: Vec<PathBuf> = self.enabled().map(|s| self.config.wasm_path(s)).collect();
        files.extend(self.files.config_path.clone());
        self.files.remember(files);
    }

    /// Issue 16 item 4, the start-up race: a build that landed between a
    /// strategy's first read and the watcher's start made no event the
    /// watcher saw. Once it watches, every file whose bytes now differ from
    /// the bytes its start-up load read (by SHA-256, so even an in-place
    /// write that kept size and mtime counts) is loaded again.
    pub(super) fn recheck_after_start(&mut self) {
        if self.files.watcher.is_none() && !self.files.rescan {
            return;
        }
        let files: Vec<(String, PathBuf, u64)> = self
            .enabled()
            .map(|s| {
                let max = self.config.limits_of(s).max_component_bytes;
                (s.id.clone(), self.config.wasm_path(s), max)
            })
            .collect();
        for (id, path, max_bytes) in files {
            let Ok(now) = crate::load::read_artifact(&path, max_bytes) else {
                continue;
            };
            let read = super::disk::seen_sha256(&self.shared, &id);
            if read.as_deref() == Some(now.sha256.as_str()) {
                continue;
            }
            tracing::info!(
                strategy = %id,
                loaded = read.as_deref().unwrap_or("nothing"),
                on_disk = %now.sha256,
                "the file changed while the runtime started; loading it"
            );
            self.request_load(&id, Trigger::File, false, Vec::new());
        }
    }

    /// Catches what events missed (a watched directory removed and
    /// recreated, a dropped event): any changed stamp is handled as an event.
    pub(super) fn rescan(&mut self) {
        if let Some(watcher) = self.files.watcher.as_mut() {
            if self.config.strategies_dir().is_dir() {
                watcher.ensure_watching();
            } else {
                watcher.directory_gone();
            }
        }
        self.config_file_changed();
        let files: Vec<PathBuf> = self.enabled().map(|s| self.config.wasm_path(s)).collect();
        self.files_changed(&files);
    }
}
