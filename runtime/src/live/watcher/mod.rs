//! Watches the strategies directory and the config file and turns file
//! events into commands once each changed path has been quiet for
//! `hot_reload.debounce_ms`.
//!
//! Editors and deploy tools write in many ways: temp file + rename, in-place
//! writes in pieces, delete and recreate, the whole directory replaced, a
//! symlink flipped (Kubernetes ConfigMaps, `dist -> releases/<stamp>`). So
//! the watcher watches directories, not files: the strategies directory as
//! it resolves now, and the directory holding each link on the way to it and
//! to the config file (`chain.rs`). An event on any of those links, or on a
//! directory above one, re-resolves the paths and moves the watches at once;
//! the strategies directory is then listed, since files copied in before the
//! new watch existed raised no event. The control plane's 1 s rescan still
//! catches what no event shows (an inotify queue overflow, a change far up
//! the path).
//!
//! One thread owns the OS watcher: raw events and requests from the control
//! plane arrive on one channel, and the per-path quiet time (`quiet.rs`)
//! decides when a change is reported.

mod chain;
mod quiet;

use super::command::ControlCommand;
use chain::Chain;
use notify::event::{AccessKind, AccessMode};
use notify::{Event, EventKind, RecommendedWatcher, RecursiveMode, Watcher as _};
use quiet::Quiet;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// The watcher thread, as the control plane holds it.
pub struct Watcher {
    requests: Sender<Message>,
    thread: Option<JoinHandle<()>>,
}

enum Message {
    Raw(notify::Result<Event>),
    /// Check that every watch is on the directory its path names now.
    Resync,
    Stop,
}

/// What a quiet path is reported as.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Change {
    Config,
    /// A strategy file, as the config names it (under the unresolved
    /// `strategies_dir`), which is how the control plane matches it.
    Strategy(PathBuf),
}

impl Watcher {
    pub fn start(
        strategies_dir: &Path,
        config_path: Option<&Path>,
        debounce: Duration,
        commands: Sender<ControlCommand>,
    ) -> anyhow::Result<Self> {
        let (requests, inbox) = std::sync::mpsc::channel();
        let raw = requests.clone();
        let os_watcher = notify::recommended_watcher(move |event: notify::Result<Event>| {
            let _ = raw.send(Message::Raw(event));
        })
        .map_err(|e| anyhow::anyhow!("cannot start the file watcher: {e}"))?;
        let mut state = WatchLoop {
            os_watcher,
            strategies_dir: absolute(strategies_dir),
            config: config_path.map(absolute),
            strategies: Chain::resolve(&absolute(strategies_dir)),
            config_chain: config_path.map(|p| Chain::resolve(&absolute(p))),
            watched: BTreeMap::new(),
            quiet: Quiet::new(debounce),
            commands,
        };
        // The control plane has just loaded every file: nothing to report yet.
        state.resync(&[]);
        let thread = crate::threads::spawn("sandbar-watcher", move || state.run(inbox))
            .map_err(|e| anyhow::anyhow!("cannot start the file watcher thread: {e}"))?;
        Ok(Self {
            requests,
            thread: Some(thread),
        })
    }

    /// Re-checks the watches (the control plane's rescan calls this every
    /// second): a directory replaced without an event seen is watched again.
    pub fn ensure_watching(&mut self) {
        let _ = self.requests.send(Message::Resync);
    }

    /// The strategies directory is gone: drop its watch (the watcher also
    /// sees this itself, through the watch on the directory above it).
    pub fn directory_gone(&mut self) {
        let _ = self.requests.send(Message::Resync);
    }
}

impl Drop for Watcher {
    fn drop(&mut self) {
        let _ = self.requests.send(Message::Stop);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

struct WatchLoop {
    os_watcher: RecommendedWatcher,
    /// As configured, made absolute: what the control plane calls it.
    strategies_dir: PathBuf,
    config: Option<PathBuf>,
    strategies: Chain,
    config_chain: Option<Chain>,
    /// Watched directories and the identity of the directory each was
    /// watched on, to notice one replaced under the same name.
    watched: BTreeMap<PathBuf, Option<DirId>>,
    quiet: Quiet<Change>,
    commands: Sender<ControlCommand>,
}

impl WatchLoop {
    fn run(mut self, inbox: Receiver<Message>) {
        loop {
            let message = match self.quiet.deadline() {
                Some(deadline) => {
                    match inbox.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
                        Ok(message) => Some(message),
                        Err(RecvTimeoutError::Timeout) => None,
                        Err(RecvTimeoutError::Disconnected) => return,
                    }
                }
                None => match inbox.recv() {
                    Ok(message) => Some(message),
                    Err(_) => return,
                },
            };
            match message {
                Some(Message::Raw(Ok(event))) => self.on_event(&event),
                Some(Message::Raw(Err(error))) => {
                    tracing::warn!(error = %error, "file watcher error; still watching (a rescan runs every second)")
                }
                Some(Message::Resync) => self.resync_and_touch(&[], Instant::now()),
                Some(Message::Stop) => return,
                None => {}
            }
            self.report_quiet();
        }
    }

    fn on_event(&mut self, event: &Event) {
        let now = Instant::now();
        if event.need_rescan() {
            // The kernel dropped events: assume anything may have changed.
            tracing::warn!("file events were dropped; re-watching and re-reading everything");
            let all: Vec<PathBuf> = self.watched.keys().cloned().collect();
            self.resync(&all);
            self.touch_all_strategies(now);
            if self.config.is_some() {
                self.quiet.touch(Change::Config, now);
            }
            return;
        }
        match event.kind {
            // Our own reads open and close files; a close after writing is
            // the last event of a write, though.
            EventKind::Access(AccessKind::Close(AccessMode::Write)) => {}
            EventKind::Access(_) => return,
            _ => {}
        }
        let mut structural = Vec::new();
        for path in &event.paths {
            if self
                .config_chain
                .as_ref()
                .is_some_and(|c| c.affected_by(path))
            {
                self.quiet.touch(Change::Config, now);
                structural.push(path.clone());
            }
            if self.strategies.affected_by(path)
                || self.watched.keys().any(|dir| dir.starts_with(path))
            {
                structural.push(path.clone());
            } else if is_strategy_file(&self.strategies.resolved, path)
                && let Some(name) = path.file_name()
            {
                let logical = self.strategies_dir.join(name);
                self.quiet.touch(Change::Strategy(logical), now);
            }
        }
        if !structural.is_empty() {
            tracing::debug!(paths = ?structural, kind = ?event.kind, "a watched path changed; re-resolving");
            self.resync_and_touch(&structural, now);
        }
    }

    /// [`WatchLoop::resync`], then whatever moved counts as changed: files
    /// that arrived before a new watch did raised no event.
    fn resync_and_touch(&mut self, changed: &[PathBuf], now: Instant) {
        let moved = self.resync(changed);
        if moved.strategies {
            self.touch_all_strategies(now);
        }
        if moved.config {
            self.quiet.touch(Change::Config, now);
        }
    }

    /// Re-resolves both paths and moves the watches to where they lead now.
    /// A watched directory at or under one of `changed` is watched again
    /// even if it looks the same: the OS watcher drops a watch when its
    /// directory is renamed or removed, even if it comes back.
    fn resync(&mut self, changed: &[PathBuf]) -> Moved {
        let strategies = Chain::resolve(&self.strategies_dir);
        let config_chain = self.config.as_deref().map(Chain::resolve);
        let mut wanted: Vec<PathBuf> = strategies.dirs();
        wanted.push(strategies.resolved.clone());
        if let Some(chain) = &config_chain {
            wanted.extend(chain.dirs());
        }
        wanted.sort();
        wanted.dedup();
        let wanted: BTreeMap<PathBuf, Option<DirId>> = wanted
            .into_iter()
            .filter_map(|dir| dir_id(&dir).map(|id| (dir, Some(id))))
            .collect();

        let stale: Vec<PathBuf> = self
            .watched
            .iter()
            .filter(|(dir, id)| {
                wanted.get(*dir) != Some(id) || changed.iter().any(|c| dir.starts_with(c))
            })
            .map(|(dir, _)| dir.clone())
            .collect();
        for dir in stale {
            // Already gone from the OS watcher when its directory went.
            let _ = self.os_watcher.unwatch(&dir);
            self.watched.remove(&dir);
        }
        let mut strategies_rewatched = false;
        for (dir, id) in wanted {
            if self.watched.contains_key(&dir) {
                continue;
            }
            match self.os_watcher.watch(&dir, RecursiveMode::NonRecursive) {
                Ok(()) => {
                    if dir == strategies.resolved {
                        strategies_rewatched = true;
                        tracing::info!(dir = %self.strategies_dir.display(), resolved = %dir.display(), "watching for new strategy versions");
                    } else {
                        tracing::debug!(dir = %dir.display(), "watching");
                    }
                    self.watched.insert(dir, id);
                }
                // Gone again already (a deploy still moving things): its
                // parent's watch reports when it is back.
                Err(e) if !dir.is_dir() => {
                    tracing::debug!(dir = %dir.display(), error = %e, "not watched: gone")
                }
                Err(e) => {
                    tracing::warn!(dir = %dir.display(), error = %e, "cannot watch; will retry (a rescan runs every second)")
                }
            }
        }
        let moved = Moved {
            strategies: strategies_rewatched,
            config: config_chain != self.config_chain,
        };
        self.strategies = strategies;
        self.config_chain = config_chain;
        moved
    }

    fn touch_all_strategies(&mut self, now: Instant) {
        let Ok(entries) = std::fs::read_dir(&self.strategies.resolved) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if is_strategy_file(&self.strategies.resolved, &path)
                && let Some(name) = path.file_name()
            {
                let logical = self.strategies_dir.join(name);
                self.quiet.touch(Change::Strategy(logical), now);
            }
        }
    }

    /// Sends a command for every path quiet long enough; the control plane
    /// skips a file whose stamp it has already handled.
    fn report_quiet(&mut self) {
        let due = self.quiet.take_due(Instant::now());
        if due.is_empty() {
            return;
        }
        let mut files = Vec::new();
        for change in due {
            match change {
                Change::Config => {
                    let _ = self.commands.send(ControlCommand::ConfigFileChanged);
                }
                Change::Strategy(path) => files.push(path),
            }
        }
        if !files.is_empty() {
            let _ = self.commands.send(ControlCommand::FilesChanged(files));
        }
    }
}

/// What a resync moved.
struct Moved {
    /// The strategies directory is watched anew (it is another directory now).
    strategies: bool,
    /// The config path resolves through other links or to another file.
    config: bool,
}

/// The identity of a directory, to tell one replaced under the same name.
type DirId = (u64, u64);

fn dir_id(path: &Path) -> Option<DirId> {
    let meta = std::fs::metadata(path).ok().filter(|m| m.is_dir())?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        Some((meta.dev(), meta.ino()))
    }
    #[cfg(not(unix))]
    {
        let _ = meta;
        Some((0, 0))
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
