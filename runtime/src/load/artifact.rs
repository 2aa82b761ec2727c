//! Stage `read`: the file is read once, size-capped; the bytes hashed are the
//! bytes compiled. A failed read carries its io cause, classified transient
//! (worth retrying without the file changing: out of descriptors,
//! interrupted, an io error, a file still being written) or not.

use crate::error::{LoadError, Stage};
use crate::hash::sha256_hex;
use sha2::{Digest, Sha256};
use std::io::{ErrorKind, Read};
use std::path::{Path, PathBuf};

/// The hint of a read that failed for want of file descriptors.
pub const TOO_MANY_OPEN_FILES_HINT: &str =
    "too many open files: raise the process's `ulimit -n`, or lower `ops.max_connections`";

/// The io error behind a failed read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IoCause {
    /// What kind of io error it was.
    pub kind: ErrorKind,
    /// The OS error number, when the OS gave one (24 is EMFILE on Linux).
    pub raw_os_error: Option<i32>,
    /// It may clear without the file changing (out of file descriptors,
    /// interrupted, would block, an io error, a file shorter than its size
    /// at open, permissions fixed by a `chmod`, which leaves the modification
    /// time alone): the control plane retries it with backoff.
    pub transient: bool,
}

impl IoCause {
    /// Classifies an io error.
    pub fn of(error: &std::io::Error) -> Self {
        let raw = error.raw_os_error();
        let transient = raw.is_some_and(|code| {
            [
                libc::EMFILE,
                libc::ENFILE,
                libc::EAGAIN,
                libc::EINTR,
                libc::EIO,
                libc::ENOMEM,
                libc::EBUSY,
                libc::ETXTBSY,
                libc::ESTALE,
            ]
            .contains(&code)
        }) || matches!(
            error.kind(),
            ErrorKind::Interrupted
                | ErrorKind::WouldBlock
                | ErrorKind::TimedOut
                | ErrorKind::UnexpectedEof
                | ErrorKind::PermissionDenied
                | ErrorKind::ResourceBusy
                | ErrorKind::OutOfMemory
        );
        Self {
            kind: error.kind(),
            raw_os_error: raw,
            transient,
        }
    }

    /// Out of file descriptors (the process's or the system's).
    pub fn too_many_open_files(&self) -> bool {
        self.raw_os_error
            .is_some_and(|code| code == libc::EMFILE || code == libc::ENFILE)
    }
}

/// A read-stage error with its io cause and the hint that fits it.
fn io_error(what: &str, error: &std::io::Error, hint: &str) -> LoadError {
    let cause = IoCause::of(error);
    let hint = if cause.too_many_open_files() {
        TOO_MANY_OPEN_FILES_HINT
    } else {
        hint
    };
    LoadError::new(Stage::Read, format!("{what}: {error}"))
        .hint(hint)
        .io(cause)
}

/// A strategy file's exact bytes and their digest.
#[derive(Debug, Clone)]
pub struct Artifact {
    /// Where the bytes came from, for messages; nothing reads it again.
    pub path: PathBuf,
    /// The whole file, seal included: what gets hashed is what gets compiled.
    pub bytes: Vec<u8>,
    /// SHA-256 of `bytes`, lowercase hex (64 digits), the form `sha256` pins
    /// take in the config.
    pub sha256: String,
}

impl Artifact {
    /// Wraps bytes that did not come from [`read_artifact`] (tests, benches,
    /// bytes already in memory), hashing them. No size cap is applied here.
    pub fn from_bytes(path: impl Into<PathBuf>, bytes: Vec<u8>) -> Self {
        let sha256 = sha256_hex(&bytes);
        Self {
            path: path.into(),
            bytes,
            sha256,
        }
    }
}

/// Reads `path` in one go, refusing files over `max_bytes`.
pub fn read_artifact(path: &Path, max_bytes: u64) -> Result<Artifact, LoadError> {
    let file = open(path).map_err(|e| {
        io_error(
            "cannot open",
            &e,
            "check the path; strategy files live in `runtime.strategies_dir`, built by `runtime build`",
        )
    })?;
    // Sized from the file's length so a large component is read without
    // regrowing the buffer; capped, so a huge file allocates no more than
    // the cap. The read still stops at the cap if the file grew since.
    let length_hint = file.metadata().map_or(0, |m| m.len());
    let capacity = length_hint.min(max_bytes).saturating_add(1);
    let mut bytes = Vec::with_capacity(usize::try_from(capacity).unwrap_or(0));
    // Hashed while it is read (`overlapped.rs`): each chunk is kept here and
    // hashed on a helper thread, so what is hashed is what is kept.
    let mut digest = Sha256::new();
    // One byte over the cap tells "too big" apart from "exactly at the cap".
    super::overlapped::read_overlapped(
        file.take(max_bytes.saturating_add(1)),
        length_hint,
        |chunk| {
            bytes.extend_from_slice(chunk);
            Ok(())
        },
        |chunk| {
            digest.update(chunk);
            Ok(())
        },
    )
    .map_err(|e| io_error("cannot read", &e, "check the file's permissions"))?;
    if bytes.len() as u64 > max_bytes {
        return Err(LoadError::new(
            Stage::Read,
            format!("file is larger than the {max_bytes}-byte cap"),
        )
        .hint(
            "raise `limits.max_component_mb`, or check that this is really a strategy component",
        ));
    }
    #[cfg(test)]
    faults::after_read(path);
    if (bytes.len() as u64) < length_hint {
        // Truncated and rewritten in place while we read: the rest is
        // probably on its way, and its own change event will come too.
        return Err(LoadError::new(
            Stage::Read,
            format!(
                "the file is shorter than its size at open ({} of {length_hint} bytes): it is probably still being written",
                bytes.len()
            ),
        )
        .hint("deploy by writing a temporary file and renaming it over the old one")
        .io(IoCause {
            kind: ErrorKind::UnexpectedEof,
            raw_os_error: None,
            transient: true,
        }));
    }
    Ok(Artifact {
        path: path.to_owned(),
        bytes,
        sha256: hex::encode(digest.finalize()),
    })
}

/// Opens the file, or fails as a test injected (tests only: the errors a
/// test cannot cause honestly in a shared process, like EMFILE).
fn open(path: &Path) -> std::io::Result<std::fs::File> {
    #[cfg(test)]
    if let Some(error) = faults::take(path) {
        return Err(error);
    }
    std::fs::File::open(path)
}

/// Injected open errors, keyed by path so parallel tests do not meet.
#[cfg(test)]
pub(crate) mod faults {
    use std::collections::HashMap;
    use std::path::{Path, PathBuf};
    use std::sync::Mutex;

    static FAULTS: Mutex<Option<HashMap<PathBuf, (i32, u32)>>> = Mutex::new(None);

    fn key(path: &Path) -> PathBuf {
        std::fs::canonicalize(path).unwrap_or_else(|_| path.to_owned())
    }

    /// The next `times` opens of `path` fail with OS error `errno`.
    pub(crate) fn inject(path: &Path, errno: i32, times: u32) {
        let mut faults = FAULTS.lock().unwrap_or_else(|p| p.into_inner());
        faults
            .get_or_insert_with(HashMap::new)
            .insert(key(path), (errno, times));
    }

    type Hook = Box<dyn FnOnce() + Send>;
    static AFTER_READ: Mutex<Option<HashMap<PathBuf, Hook>>> = Mutex::new(None);

    /// Runs `hook` once, right after the next read of `path` (a file
    /// replaced between a load's read and whatever comes next).
    pub(crate) fn on_next_read(path: &Path, hook: impl FnOnce() + Send + 'static) {
        let mut hooks = AFTER_READ.lock().unwrap_or_else(|p| p.into_inner());
        hooks
            .get_or_insert_with(HashMap::new)
            .insert(key(path), Box::new(hook));
    }

    pub(super) fn after_read(path: &Path) {
        let hook = {
            let mut hooks = AFTER_READ.lock().unwrap_or_else(|p| p.into_inner());
            hooks.as_mut().and_then(|h| h.remove(&key(path)))
        };
        if let Some(hook) = hook {
            hook();
        }
    }

    pub(super) fn take(path: &Path) -> Option<std::io::Error> {
        let mut faults = FAULTS.lock().unwrap_or_else(|p| p.into_inner());
        let entry = faults.as_mut()?.get_mut(&key(path))?;
        if entry.1 == 0 {
            return None;
        }
        entry.1 -= 1;
        Some(std::io::Error::from_raw_os_error(entry.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regression_13_15_read_errors_carry_their_io_cause_and_emfile_gets_an_accurate_hint() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.wasm");
        std::fs::write(&path, b"\0asm").unwrap();
        faults::inject(&path, libc::EMFILE, 1);
        let error = read_artifact(&path, 1 << 20).unwrap_err();
        let cause = error.io.expect("an io cause");
        assert_eq!(cause.raw_os_error, Some(libc::EMFILE));
        assert!(cause.transient && cause.too_many_open_files());
        assert_eq!(error.hint.as_deref(), Some(TOO_MANY_OPEN_FILES_HINT));
        // The fault was used up: the file reads now.
        assert!(read_artifact(&path, 1 << 20).is_ok());

        // A directory where the file should be: a real error, not transient.
        let error = read_artifact(dir.path(), 1 << 20).unwrap_err();
        let cause = error.io.expect("an io cause");
        assert!(!cause.transient, "{cause:?}");
        // A missing file is not transient either (its return is a change).
        let error = read_artifact(&dir.path().join("missing.wasm"), 1 << 20).unwrap_err();
        assert_eq!(
            error.io.map(|c| (c.kind, c.transient)),
            Some((ErrorKind::NotFound, false))
        );
        for errno in [libc::ENFILE, libc::EAGAIN, libc::EINTR, libc::EIO] {
            let cause = IoCause::of(&std::io::Error::from_raw_os_error(errno));
            assert!(cause.transient, "errno {errno}");
        }
    }
}
