//! The verified artefact cache on disk: compiled components kept across
//! restarts, so a restart or the first load after `runtime build` compiles
//! nothing.
//!
//! An entry is the compiled code of one `.wasm` (by SHA-256) at one tier for
//! one engine (by `Engine::precompile_compatibility_hash`), framed with an
//! keyed BLAKE3 MAC under a key that only this cache has (`entry.rs` has the
//! layout). Files: `key.rs` (names), `entry.rs` (format and MAC), `sealed.rs` (a hit: the artefact copied into
//! a sealed memfd, checked there and mapped by wasmtime), `store.rs`
//! (atomic writes, listing, LRU eviction), `trust.rs` (ownership and modes).
//!
//! # Trust model
//!
//! Loading compiled code means running it: wasmtime cannot check machine
//! code, so an entry must be exactly what this runtime compiled.
//! - The directory (`runtime.cache_dir`) and its `key` belong to this user;
//!   a directory writable by group or others, a key readable or writable by
//!   them, or either owned by another user is refused, with the `chmod` that
//!   fixes it, and the runtime compiles as if there were no cache. So only
//!   this user (or root) can put a file there, and they can run code as
//!   this user anyway.
//! - The MAC ties an entry to this cache's key and to its header (the
//!   component's SHA-256, the tier, the engine hash): an entry copied from
//!   another cache (another key), cut short, changed, renamed or made by
//!   another wasmtime or engine settings is never loaded. It is reported as
//!   a [`CacheWarning`] (a `cache` event), the component is compiled as
//!   usual and the entry replaced.
//! - An entry is looked up only by the SHA-256 of bytes that have already
//!   passed the pipeline's `verify` stage, so a cache hit runs the code of
//!   the bytes the config pins, never more trusted than a compile of them.
//! - Writing never blocks a load: a full disk, a read-only directory or an
//!   entry over the cap costs a warning and nothing else.
//!
//! What it does not defend against: a process of the same user, which can
//! read the key (as it could attach a debugger).

mod entry;
mod key;
mod sealed;
mod store;
mod trust;

pub use entry::Problem;
pub use key::{EntryKey, compatibility};

#[cfg(test)]
pub(crate) use store::faults;

use crate::load::Tier;
use entry::MacKey;
use sealed::OpenError;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::SystemTime;
use wasmtime::component::Component;

/// The cache cannot be used at all (its directory or key).
#[derive(Debug, thiserror::Error)]
pub enum CacheError {
    /// Not this user's, or writable by others.
    #[error("refusing the artefact cache at {path}: {reason}")]
    Untrusted {
        /// The directory or key file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
        /// The command that fixes it.
        hint: String,
    },
    /// The directory or key cannot be read or made.
    #[error("cannot use the artefact cache at {path}: {what}: {error}")]
    Io {
        /// The path that failed.
        path: PathBuf,
        /// What was being done.
        what: String,
        /// The OS error.
        error: String,
        /// What to check.
        hint: String,
    },
}

impl CacheError {
    fn io(path: &Path, what: &str, error: &std::io::Error) -> Self {
        CacheError::Io {
            path: path.to_owned(),
            what: what.to_owned(),
            error: error.to_string(),
            hint: "check the directory's permissions, or point `runtime.cache_dir` somewhere writable (`runtime.cache_max_mb = 0` turns the cache off)".to_owned(),
        }
    }

    /// How to fix it.
    pub fn hint(&self) -> Option<&str> {
        match self {
            CacheError::Untrusted { hint, .. } | CacheError::Io { hint, .. } => Some(hint),
        }
    }
}

/// What went wrong with one entry or one write: reported as a `cache` event;
/// the load itself goes on (it compiles).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("artefact cache entry {entry} ({tier} code of {sha256}): {}: {message}; {action}", self.kind())]
pub struct CacheWarning {
    /// The component's SHA-256.
    pub sha256: String,
    /// The tier looked up or stored.
    pub tier: Tier,
    /// The entry's file name.
    pub entry: String,
    /// What was wrong, or `None` for a write that failed.
    pub problem: Option<Problem>,
    /// The details.
    pub message: String,
    /// What the runtime did about it.
    pub action: &'static str,
}

impl CacheWarning {
    /// The problem's name (`not_stored` for a failed write).
    pub fn kind(&self) -> &'static str {
        self.problem.map_or("not_stored", Problem::as_str)
    }
}

/// What `verify` found of one entry: `None` when it would load, or the
/// problem that keeps it from loading and its details.
pub type Verdict = Option<(Problem, String)>;

/// One entry as `runtime cache ls` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryInfo {
    /// The file's name in the cache directory.
    pub file_name: String,
    /// SHA-256 of the component it holds code for (from its name).
    pub sha256: String,
    /// The tier of that code (from its name).
    pub tier: Tier,
    /// The file's size.
    pub size_bytes: u64,
    /// Last written or loaded.
    pub used: SystemTime,
    /// Made by the engine this process would use.
    pub current_engine: bool,
}

/// The artefact cache in one directory.
#[derive(Debug, Clone)]
pub struct ArtifactCache {
    dir: PathBuf,
    key: MacKey,
    max_bytes: u64,
}

/// Seconds since the Unix epoch, for entry headers.
fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

impl ArtifactCache {
    /// Opens (creating it and its key when missing) the cache in `dir`,
    /// holding at most `max_mb` MiB of entries.
    pub fn open(dir: &Path, max_mb: u64) -> Result<Self, CacheError> {
        trust::prepare_dir(dir)?;
        let key = trust::load_or_create_key(dir)?;
        Ok(Self {
            dir: dir.to_owned(),
            key,
            max_bytes: max_mb.saturating_mul(1 << 20),
        })
    }

    /// The cache a config asks for: `None` when `runtime.cache_max_mb` is 0
    /// or no directory is known (no `runtime.cache_dir` and no home).
    pub fn for_config(config: &crate::config::Config) -> Result<Option<Self>, CacheError> {
        if config.runtime.cache_max_mb == 0 {
            return Ok(None);
        }
        match config.cache_dir() {
            Some(dir) => Self::open(&dir, config.runtime.cache_max_mb).map(Some),
            None => Ok(None),
        }
    }

    /// `loader` with the cache `config` asks for attached, so what runs
    /// (`runtime live`, a backtest, a sweep) loads compiled code instead of
    /// compiling. A cache that cannot be used (untrusted, unwritable) is
    /// refused with a warning saying how to fix it, and every load compiles
    /// as without one.
    pub fn attach(loader: super::Loader, config: &crate::config::Config) -> super::Loader {
        match Self::for_config(config) {
            Ok(Some(cache)) => {
                tracing::info!(dir = %cache.dir().display(), "artefact cache");
                loader.with_artifact_cache(cache)
            }
            Ok(None) => loader,
            Err(error) => {
                tracing::warn!(
                    "{error}; compiling every strategy without the artefact cache (hint: {})",
                    error.hint().unwrap_or("")
                );
                loader
            }
        }
    }

    /// Where the entries are.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The size cap, in bytes.
    pub fn max_bytes(&self) -> u64 {
        self.max_bytes
    }

    /// Total bytes of the entries now.
    pub fn total_bytes(&self) -> u64 {
        store::total_bytes(&self.dir)
    }

    /// The compiled code of `sha256` at `tier` for `engine`: `Ok(None)` when
    /// there is none; `Err` names an entry that was there and is not loaded
    /// (it is removed, so the compile that follows replaces it).
    pub fn load(
        &self,
        engine: &wasmtime::Engine,
        sha256: &str,
        tier: Tier,
    ) -> Result<Option<Component>, CacheWarning> {
        let key = EntryKey::new(engine, sha256, tier);
        let name = key.file_name();
        let path = self.dir.join(&name);
        let sealed = match sealed::open_for(&self.key, &key, &path) {
            Ok(sealed) => sealed,
            Err(OpenError::Io(e)) if e.kind() == std::io::ErrorKind::NotFound => {
                return self.stale_entries(&key).map(|()| None);
            }
            Err(OpenError::Io(e)) => {
                return Err(self.warning(
                    &key,
                    Some(Problem::Unreadable),
                    e.to_string(),
                    "compiled instead",
                ));
            }
            Err(OpenError::Bad(problem, message)) => {
                let _ = std::fs::remove_file(&path);
                return Err(self.warning(
                    &key,
                    Some(problem),
                    message,
                    "removed; compiled instead",
                ));
            }
        };
        // SAFETY: deserialising runs whatever machine code it is given, so
        // the bytes must be wasmtime's own output for this engine. They are:
        // the MAC under this cache's private key (the directory and key pass
        // the trust checks of `trust.rs`) proves this cache wrote exactly
        // these bytes from `Component::serialize`, for a header that names
        // this component's SHA-256 (of bytes that passed `verify`), this
        // tier and this engine's compatibility hash. The bytes checked are
        // the bytes deserialised: the MAC was computed over a memfd sealed
        // against any change before the check (`sealed.rs`), never over the
        // entry file, which could change after it. wasmtime checks its own
        // header again.
        let component = unsafe { sealed.deserialize(engine) };
        match component {
            Ok((component, _)) => {
                store::touch(&path);
                Ok(Some(component))
            }
            Err(e) => {
                let _ = std::fs::remove_file(&path);
                Err(self.warning(
                    &key,
                    Some(Problem::Refused),
                    format!("{e:#}"),
                    "removed; compiled instead",
                ))
            }
        }
    }

    /// Entries of the same component and tier made by another engine (an
    /// upgrade of wasmtime or of the engine settings): removed and reported.
    fn stale_entries(&self, key: &EntryKey) -> Result<(), CacheWarning> {
        let stem = key.stem();
        let Ok(entries) = store::list(&self.dir) else {
            return Ok(());
        };
        let stale: Vec<_> = entries
            .into_iter()
            .filter(|e| {
                e.path
                    .file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with(&stem))
            })
            .collect();
        let Some(first) = stale.first() else {
            return Ok(());
        };
        for entry in &stale {
            let _ = std::fs::remove_file(&entry.path);
        }
        let name = first
            .path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        Err(CacheWarning {
            sha256: key.sha256.clone(),
            tier: key.tier,
            entry: name,
            problem: Some(Problem::Stale),
            message: "compiled by another wasmtime or with other engine settings".into(),
            action: "removed; compiled instead",
        })
    }

    /// Stores `artefact` (from `Component::serialize` on `engine`) as the code
    /// of `sha256` at `tier`, evicting least recently used entries first so
    /// the cache stays under its cap. Returns the entries evicted.
    pub fn store(
        &self,
        engine: &wasmtime::Engine,
        sha256: &str,
        tier: Tier,
        artefact: &[u8],
    ) -> Result<usize, CacheWarning> {
        let key = EntryKey::new(engine, sha256, tier);
        let name = key.file_name();
        let bytes = entry::encode(&self.key, &key, unix_now(), artefact);
        let size = bytes.len() as u64;
        if size > self.max_bytes {
            return Err(self.warning(
                &key,
                None,
                format!(
                    "{size} bytes is more than `runtime.cache_max_mb` ({} MiB) holds",
                    self.max_bytes >> 20
                ),
                "not stored; raise `runtime.cache_max_mb` to keep it",
            ));
        }
        let evicted = store::make_room(&self.dir, size, self.max_bytes, &name)
            .map_err(|e| self.warning(&key, None, format!("cannot evict: {e}"), "not stored"))?;
        for gone in &evicted {
            tracing::debug!(entry = %gone.path.display(), "evicted from the artefact cache");
        }
        store::write_atomically(&self.dir, &name, &bytes).map_err(|e| {
            self.warning(
                &key,
                None,
                format!("cannot write it: {e}"),
                "not stored; the load goes on",
            )
        })?;
        Ok(evicted.len())
    }

    fn warning(
        &self,
        key: &EntryKey,
        problem: Option<Problem>,
        message: String,
        action: &'static str,
    ) -> CacheWarning {
        CacheWarning {
            sha256: key.sha256.clone(),
            tier: key.tier,
            entry: key.file_name(),
            problem,
            message,
            action,
        }
    }

    /// Every entry, least recently used first, checked against one engine
    /// (tests and tools that compile with one engine).
    pub fn entries(&self, engine: &wasmtime::Engine) -> Result<Vec<EntryInfo>, CacheError> {
        self.entries_by_tier(|_| engine)
    }

    /// Every entry, least recently used first, each checked against the
    /// engine of its tier (`Loader::tier_engine`): baseline code is compiled
    /// by another engine than optimised code, with its own compatibility hash.
    pub fn entries_by_tier<'e>(
        &self,
        engine_of: impl Fn(Tier) -> &'e wasmtime::Engine,
    ) -> Result<Vec<EntryInfo>, CacheError> {
        let compat_of = |tier: Tier| compatibility(engine_of(tier));
        let compats: Vec<(Tier, String)> = Tier::ALL.iter().map(|&t| (t, compat_of(t))).collect();
        let files = store::list(&self.dir)
            .map_err(|e| CacheError::io(&self.dir, "cannot list the cache", &e))?;
        Ok(files
            .into_iter()
            .map(|f| {
                let current_engine = compats
                    .iter()
                    .any(|(t, compat)| *t == f.tier && compat.starts_with(&f.compat_prefix));
                EntryInfo {
                    file_name: f
                        .path
                        .file_name()
                        .map(|n| n.to_string_lossy().into_owned())
                        .unwrap_or_default(),
                    sha256: f.sha256,
                    tier: f.tier,
                    size_bytes: f.size_bytes,
                    used: f.used,
                    current_engine,
                }
            })
            .collect())
    }

    /// Checks every entry's frame, MAC and header against `engine` (without
    /// loading any code): each entry with `None` when it would load, or the
    /// problem that keeps it from loading.
    pub fn verify(
        &self,
        engine: &wasmtime::Engine,
    ) -> Result<Vec<(EntryInfo, Verdict)>, CacheError> {
        self.verify_by_tier(|_| engine)
    }

    /// [`ArtifactCache::verify`] with each entry against the engine of its
    /// tier.
    pub fn verify_by_tier<'e>(
        &self,
        engine_of: impl Fn(Tier) -> &'e wasmtime::Engine,
    ) -> Result<Vec<(EntryInfo, Verdict)>, CacheError> {
        let entries = self.entries_by_tier(&engine_of)?;
        Ok(entries
            .into_iter()
            .map(|info| {
                let key = EntryKey::new(engine_of(info.tier), &info.sha256, info.tier);
                let verdict = match std::fs::read(self.dir.join(&info.file_name)) {
                    Err(e) => Some((Problem::Unreadable, e.to_string())),
                    Ok(bytes) => entry::open_for(&self.key, &key, &bytes).err(),
                };
                (info, verdict)
            })
            .collect())
    }

    /// Removes every entry, or those of one component; returns how many.
    /// The key stays.
    pub fn clear(&self, sha256: Option<&str>) -> Result<usize, CacheError> {
        let files = store::list(&self.dir)
            .map_err(|e| CacheError::io(&self.dir, "cannot list the cache", &e))?;
        let mut removed = 0;
        for file in files {
            if sha256.is_some_and(|s| !s.eq_ignore_ascii_case(&file.sha256)) {
                continue;
            }
            match std::fs::remove_file(&file.path) {
                Ok(()) => removed += 1,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(CacheError::io(&file.path, "cannot remove the entry", &e)),
            }
        }
        Ok(removed)
    }
}

impl fmt::Display for EntryInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} {} bytes", self.sha256, self.tier, self.size_bytes)
    }
}

/// The default `runtime.cache_dir`: `$XDG_CACHE_HOME/sandbar`, else
/// `$HOME/.cache/sandbar`; `None` without either.
pub fn default_dir() -> Option<PathBuf> {
    let non_empty = |name: &str| {
        std::env::var_os(name)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    non_empty("XDG_CACHE_HOME")
        .filter(|p| p.is_absolute())
        .map(|p| p.join("sandbar"))
        .or_else(|| non_empty("HOME").map(|h| h.join(".cache").join("sandbar")))
}

#[cfg(test)]
mod tests;
