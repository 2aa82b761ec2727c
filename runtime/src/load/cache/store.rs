//! Entries on disk: written atomically (a temporary file, fsync, rename,
//! fsync of the directory), listed, touched on use and evicted least recently
//! used first so the directory stays under `runtime.cache_max_mb`.

use super::key::parse_file_name;
use crate::load::Tier;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

/// Temporary files start with this; one left by a crash is removed after
/// [`STALE_TEMP`].
const TEMP_PREFIX: &str = ".tmp-";
const STALE_TEMP: Duration = Duration::from_secs(3600);

/// One entry file as listed (nothing read but its metadata).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryFile {
    pub path: PathBuf,
    pub sha256: String,
    pub tier: Tier,
    /// The first 16 hex digits of the engine compatibility hash.
    pub compat_prefix: String,
    pub size_bytes: u64,
    /// Last written or used (an entry's mtime is set on every hit).
    pub used: SystemTime,
}

/// Every entry in `dir`, least recently used first.
pub fn list(dir: &Path) -> std::io::Result<Vec<EntryFile>> {
    let mut entries = Vec::new();
    for item in std::fs::read_dir(dir)? {
        let item = item?;
        let name = item.file_name();
        let Some((sha256, tier, compat_prefix)) = name.to_str().and_then(parse_file_name) else {
            continue;
        };
        // Removed since the listing: not an entry any more.
        let Ok(meta) = item.metadata() else { continue };
        entries.push(EntryFile {
            path: item.path(),
            sha256,
            tier,
            compat_prefix,
            size_bytes: meta.len(),
            used: meta.modified().unwrap_or(SystemTime::UNIX_EPOCH),
        });
    }
    entries.sort_by(|a, b| a.used.cmp(&b.used).then_with(|| a.path.cmp(&b.path)));
    Ok(entries)
}

/// Marks an entry as just used (its mtime), for the LRU order.
pub fn touch(path: &Path) {
    let touched = std::fs::File::options()
        .append(true)
        .open(path)
        .and_then(|f| f.set_modified(SystemTime::now()));
    if let Err(e) = touched {
        tracing::debug!(path = %path.display(), "cannot mark the cache entry used: {e}");
    }
}

/// Writes `bytes` as `dir/name`: a reader sees the old entry, no entry, or
/// all of the new one, never part of it. Nothing is left behind on failure.
pub fn write_atomically(dir: &Path, name: &str, bytes: &[u8]) -> std::io::Result<PathBuf> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let tmp = dir.join(format!(
        "{TEMP_PREFIX}{}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    let target = dir.join(name);
    let result = (|| {
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&tmp)?;
        #[cfg(test)]
        faults::check(dir)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        drop(file);
        std::fs::rename(&tmp, &target)?;
        // The rename itself survives a crash only once the directory is synced.
        std::fs::File::open(dir)?.sync_all()
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result.map(|()| target)
}

/// Removes entries, least recently used first, until `incoming` more bytes
/// fit under `max_bytes`; also removes temporary files a crash left. Returns
/// the entries removed.
pub fn make_room(
    dir: &Path,
    incoming: u64,
    max_bytes: u64,
    keep: &str,
) -> std::io::Result<Vec<EntryFile>> {
    remove_stale_temps(dir);
    let entries = list(dir)?;
    let mut total: u64 = entries.iter().map(|e| e.size_bytes).sum();
    let mut removed = Vec::new();
    for entry in entries {
        if total.saturating_add(incoming) <= max_bytes {
            break;
        }
        // The entry being replaced goes with the rename, not here.
        if entry.path.file_name().and_then(|n| n.to_str()) == Some(keep) {
            total = total.saturating_sub(entry.size_bytes);
            continue;
        }
        match std::fs::remove_file(&entry.path) {
            Ok(()) => {
                total = total.saturating_sub(entry.size_bytes);
                removed.push(entry);
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                total = total.saturating_sub(entry.size_bytes);
            }
            Err(e) => return Err(e),
        }
    }
    Ok(removed)
}

fn remove_stale_temps(dir: &Path) {
    let Ok(items) = std::fs::read_dir(dir) else {
        return;
    };
    for item in items.flatten() {
        let name = item.file_name();
        let is_temp = name.to_str().is_some_and(|n| n.starts_with(TEMP_PREFIX));
        let old = item
            .metadata()
            .ok()
            .and_then(|m| m.modified().ok())
            .and_then(|t| t.elapsed().ok())
            .is_some_and(|age| age > STALE_TEMP);
        if is_temp && old {
            let _ = std::fs::remove_file(item.path());
        }
    }
}

/// Total bytes of the entries in `dir`.
pub fn total_bytes(dir: &Path) -> u64 {
    list(dir).map_or(0, |entries| entries.iter().map(|e| e.size_bytes).sum())
}

/// Write failures a test cannot cause honestly (a full disk), by directory.
#[cfg(test)]
pub(crate) mod faults {
    use std::collections::HashMap;
    use std::path::{Path, PathBuf};
    use std::sync::Mutex;

    static FAULTS: Mutex<Option<HashMap<PathBuf, i32>>> = Mutex::new(None);

    /// Every entry write into `dir` fails with OS error `errno` (ENOSPC: a full disk).
    pub(crate) fn fail_writes(dir: &Path, errno: i32) {
        let mut faults = FAULTS.lock().unwrap_or_else(|p| p.into_inner());
        faults
            .get_or_insert_with(HashMap::new)
            .insert(dir.to_owned(), errno);
    }

    pub(super) fn check(dir: &Path) -> std::io::Result<()> {
        let faults = FAULTS.lock().unwrap_or_else(|p| p.into_inner());
        match faults.as_ref().and_then(|f| f.get(dir)) {
            Some(errno) => Err(std::io::Error::from_raw_os_error(*errno)),
            None => Ok(()),
        }
    }
}
