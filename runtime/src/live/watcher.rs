//! Watches the strategies directory and the config file's directory and turns
//! debounced file events into commands. Editors and deploy tools write in
//! many ways (temp file + rename, in-place writes in pieces, delete and
//! recreate); watching the directories rather than the files catches them
//! all, and the control plane's periodic rescan catches the rest (a watched
//! directory removed and recreated, a missed event).

use super::command::ControlCommand;
use notify_debouncer_full::notify::{EventKind, RecursiveMode};
use notify_debouncer_full::{DebounceEventResult, Debouncer, RecommendedCache, new_debouncer};
use std::path::{Path, PathBuf};
use std::sync::mpsc::Sender;
use std::time::Duration;

pub struct Watcher {
    debouncer: Debouncer<notify_debouncer_full::notify::RecommendedWatcher, RecommendedCache>,
    strategies_dir: PathBuf,
    watching_strategies_dir: bool,
}

impl Watcher {
    pub fn start(
        strategies_dir: &Path,
        config_path: Option<&Path>,
        debounce: Duration,
        commands: Sender<ControlCommand>,
    ) -> anyhow::Result<Self> {
        let strategies = absolute(strategies_dir);
        let config = config_path.map(absolute);
        let filter_strategies = strategies.clone();
        let filter_config = config.clone();
        let mut debouncer = new_debouncer(debounce, None, move |result: DebounceEventResult| {
            match result {
                Ok(events) => {
                    let mut wasm = Vec::new();
                    let mut config_changed = false;
                    for event in events {
                        if matches!(event.kind, EventKind::Access(_)) {
                            continue;
                        }
                        for path in &event.paths {
                            if filter_config.as_deref() == Some(path.as_path()) {
                                config_changed = true;
                            } else if is_strategy_file(&filter_strategies, path) && !wasm.contains(path) {
                                wasm.push(path.clone());
                            }
                        }
                    }
                    if config_changed {
                        let _ = commands.send(ControlCommand::ConfigFileChanged);
                    }
                    if !wasm.is_empty() {
                        let _ = commands.send(ControlCommand::FilesChanged(wasm));
                    }
                }
                Err(errors) => {
                    for error in errors {
                        tracing::warn!(error = %error, "file watcher error; still watching (a rescan runs every second)");
                    }
                }
            }
        })
        .map_err(|e| anyhow::anyhow!("cannot start the file watcher: {e}"))?;
        if let Some(config) = &config {
            let dir = config.parent().unwrap_or(Path::new("/"));
            debouncer
                .watch(dir, RecursiveMode::NonRecursive)
                .map_err(|e| anyhow::anyhow!("cannot watch {}: {e}", dir.display()))?;
        }
        let mut watcher = Self {
            debouncer,
            strategies_dir: strategies,
            watching_strategies_dir: false,
        };
        watcher.ensure_watching();
        Ok(watcher)
    }

    /// (Re-)watches the strategies directory if it exists; called on every
    /// rescan so a directory that was removed and recreated is watched again.
    pub fn ensure_watching(&mut self) {
        let exists = self.strategies_dir.is_dir();
        if !exists {
            self.watching_strategies_dir = false;
            return;
        }
        if self.watching_strategies_dir {
            return;
        }
        match self
            .debouncer
            .watch(&self.strategies_dir, RecursiveMode::NonRecursive)
        {
            Ok(()) => {
                self.watching_strategies_dir = true;
                tracing::info!(dir = %self.strategies_dir.display(), "watching for new strategy versions");
            }
            Err(e) => {
                tracing::warn!(dir = %self.strategies_dir.display(), error = %e, "cannot watch; will retry")
            }
        }
    }

    /// Forget the watch of a directory that disappeared.
    pub fn directory_gone(&mut self) {
        if self.watching_strategies_dir {
            let _ = self.debouncer.unwatch(&self.strategies_dir);
            self.watching_strategies_dir = false;
        }
    }
}

/// A `.wasm` file directly inside the strategies directory, not a hidden or
/// temporary file of an editor or deploy tool.
fn is_strategy_file(dir: &Path, path: &Path) -> bool {
    let in_dir = path.parent() == Some(dir);
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    in_dir && name.ends_with(".wasm") && !name.starts_with('.')
}

pub(crate) fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_visible_wasm_files_in_the_directory_count() {
        let dir = Path::new("/s/dist");
        assert!(is_strategy_file(dir, Path::new("/s/dist/a.wasm")));
        assert!(!is_strategy_file(dir, Path::new("/s/dist/.a.wasm.tmp-1")));
        assert!(!is_strategy_file(dir, Path::new("/s/dist/a.wasm~")));
        assert!(!is_strategy_file(dir, Path::new("/s/dist/events.jsonl")));
        assert!(!is_strategy_file(dir, Path::new("/s/dist/sub/a.wasm")));
    }
}
