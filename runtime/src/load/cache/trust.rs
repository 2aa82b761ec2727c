//! The trust checks: the cache directory and its key belong to this user and
//! nobody else can write them (like ssh with `~/.ssh`). The MAC key is made
//! on first use, 32 bytes from the OS, in a file of mode 0600.

use super::CacheError;
use super::entry::MacKey;
use std::io::{Read, Write};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::Path;

/// The key file inside the cache directory.
pub const KEY_FILE: &str = "key";

fn euid() -> u32 {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() }
}

/// Creates `dir` (mode 0700) when missing, then checks it.
pub fn prepare_dir(dir: &Path) -> Result<(), CacheError> {
    if !dir.exists() {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(|e| CacheError::io(dir, "cannot create the cache directory", &e))?;
    }
    check_owned(dir, 0o022, "directory", "chmod go-w")
}

/// Refuses `path` when another user owns it or when any bit of `forbidden`
/// (group/other permissions) is set.
fn check_owned(path: &Path, forbidden: u32, what: &str, fix: &str) -> Result<(), CacheError> {
    let meta = std::fs::metadata(path)
        .map_err(|e| CacheError::io(path, &format!("cannot read the cache {what}"), &e))?;
    let me = euid();
    if meta.uid() != me {
        return Err(CacheError::Untrusted {
            path: path.to_owned(),
            reason: format!(
                "it is owned by uid {}, not by this user (uid {me})",
                meta.uid()
            ),
            hint: format!(
                "use a cache of your own: set `runtime.cache_dir` to a directory you own, or `chown {me} {}`",
                path.display()
            ),
        });
    }
    let mode = meta.permissions().mode() & 0o777;
    if mode & forbidden != 0 {
        return Err(CacheError::Untrusted {
            path: path.to_owned(),
            reason: format!(
                "its mode is {mode:03o}: others could {} compiled code the runtime would execute",
                if what == "key" {
                    "read the key and forge"
                } else {
                    "plant"
                }
            ),
            hint: format!("`{fix} {}`", path.display()),
        });
    }
    Ok(())
}

/// The cache's MAC key: read and checked, or made now.
pub fn load_or_create_key(dir: &Path) -> Result<MacKey, CacheError> {
    let path = dir.join(KEY_FILE);
    if !path.exists() {
        create_key(dir, &path)?;
    }
    check_owned(&path, 0o077, "key", "chmod 600")?;
    let mut bytes = Vec::new();
    std::fs::File::open(&path)
        .and_then(|mut f| f.read_to_end(&mut bytes))
        .map_err(|e| CacheError::io(&path, "cannot read the cache key", &e))?;
    let bytes: [u8; 32] = bytes.try_into().map_err(|b: Vec<u8>| CacheError::Untrusted {
        path: path.clone(),
        reason: format!("it holds {} bytes, not 32", b.len()),
        hint: format!(
            "remove it and every entry with `runtime cache clear` (the key is made again on first use), or `rm {}`",
            path.display()
        ),
    })?;
    Ok(MacKey::from_bytes(bytes))
}

/// Writes a fresh key under a temporary name, then links it into place: a
/// second process making one at the same time loses the race cleanly and
/// reads the winner's.
fn create_key(dir: &Path, path: &Path) -> Result<(), CacheError> {
    let mut secret = [0u8; 32];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut secret))
        .map_err(|e| {
            CacheError::io(
                Path::new("/dev/urandom"),
                "cannot read random bytes for the cache key",
                &e,
            )
        })?;
    let tmp = dir.join(format!(".key-{}", std::process::id()));
    let written = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&tmp)
        .and_then(|mut f| {
            f.write_all(&secret)?;
            f.sync_all()
        });
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(CacheError::io(&tmp, "cannot write the cache key", &e));
    }
    let linked = std::fs::hard_link(&tmp, path);
    let _ = std::fs::remove_file(&tmp);
    match linked {
        Ok(()) => {
            tracing::info!(path = %path.display(), "made a new artefact cache key");
            Ok(())
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(CacheError::io(path, "cannot write the cache key", &e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issue_16_a_world_writable_cache_dir_is_refused_with_a_chmod() {
        let dir = tempfile::tempdir().unwrap();
        let cache = dir.path().join("cache");
        prepare_dir(&cache).unwrap();
        let mode = std::fs::metadata(&cache).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o700, "made private");
        for bad in [0o777, 0o770, 0o702] {
            std::fs::set_permissions(&cache, std::fs::Permissions::from_mode(bad)).unwrap();
            let error = prepare_dir(&cache).unwrap_err();
            let text = error.to_string();
            assert!(text.contains(&format!("{bad:03o}")), "{text}");
            assert_eq!(
                error.hint(),
                Some(format!("`chmod go-w {}`", cache.display()).as_str())
            );
        }
        // Readable by others is fine for the directory (like ~/.ssh's parent).
        std::fs::set_permissions(&cache, std::fs::Permissions::from_mode(0o755)).unwrap();
        prepare_dir(&cache).unwrap();
    }

    #[test]
    fn issue_16_the_key_is_private_made_once_and_refused_when_others_can_read_it() {
        let dir = tempfile::tempdir().unwrap();
        let first = load_or_create_key(dir.path()).unwrap();
        let path = dir.path().join(KEY_FILE);
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let again = load_or_create_key(dir.path()).unwrap();
        assert_eq!(first.id(), again.id(), "the same key next time");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let error = load_or_create_key(dir.path()).unwrap_err();
        assert!(error.to_string().contains("644"), "{error}");
        assert_eq!(
            error.hint(),
            Some(format!("`chmod 600 {}`", path.display()).as_str())
        );
    }

    #[test]
    fn issue_16_a_cache_dir_owned_by_another_user_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let cache = dir.path().join("cache");
        prepare_dir(&cache).unwrap();
        if euid() != 0 {
            eprintln!("not root: cannot give the directory away; checking ownership of / instead");
            let error = check_owned(Path::new("/"), 0o022, "directory", "chmod go-w").unwrap_err();
            assert!(error.to_string().contains("owned by uid 0"), "{error}");
            return;
        }
        std::os::unix::fs::chown(&cache, Some(65534), None).unwrap();
        let error = prepare_dir(&cache).unwrap_err();
        assert!(error.to_string().contains("owned by uid 65534"), "{error}");
        assert!(error.hint().unwrap().contains("runtime.cache_dir"));
    }
}
